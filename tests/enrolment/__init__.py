"""Enrolling a kiosk: the code, the seal, the settings file, the whole path on loopback."""
