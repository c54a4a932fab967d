"""Where the kiosk keeps its files and assets (``paths``), and the counter's time zone
(``timezone``)."""
