"""Identity at the counter: what a read of an ID document's chip yields, and how it is judged.

Pure domain: the typed reading and its verdict, MRZ parsing and checking, the errors shown to the
agent, and the ``IdentityReader`` protocol the UI calls. The chip protocols themselves (PC/SC,
secure messaging, PACE, BAC) live in ``devices/nfc``; this package imports no PC/SC library.
"""
