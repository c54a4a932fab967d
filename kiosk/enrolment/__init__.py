"""Enrolling a new kiosk of a site with a one-time code from a supervisor's kiosk: the code and
its QR code (``code``), the settings sealed under it (``seal``, ``site``), and the two use cases
(``service``). docs/sites.md, « Enrolling a kiosk »."""
