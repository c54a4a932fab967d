"""Reading eMRTD chips (ICAO Doc 9303): transport, secure messaging, BAC, PACE, CA, PA.

The protocol code takes any ``Transport`` (``transmit(apdu) -> response``) and an injectable
source of randomness, so it runs the same against pyscard, the card simulator and the ICAO
worked examples. Only ``devices.nfc.pcsc`` imports pyscard.
"""
