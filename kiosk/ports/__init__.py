"""The ports: small ``Protocol``s the adapters implement (``devices`` for hardware, ``sync`` for
the national service) and the plain values that cross them. The domain never knows which
implementation it has: a real device, a simulator or a test fake."""
