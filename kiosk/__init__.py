"""Domain and application services of the point-numérique kiosk.

Nothing here imports Qt, an HTTP client or a smart-card library: the UI (``ui``), the national-API
client (``sync``) and the card readers (``devices``) depend on this package, never the reverse.
"""
