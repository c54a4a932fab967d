"""A software eMRTD chip (CNIe, passport) on a virtual PC/SC reader, for training, demos, tests.

It speaks the vsmartcard ``vpcd`` protocol, so pcscd and pyscard see a real reader with a card
in it. Its data are fictional and signed with the TEST ONLY keys of ``assets/test-keys``.
"""
