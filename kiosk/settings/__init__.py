"""Where the kiosk keeps its files and assets (``paths``)."""
