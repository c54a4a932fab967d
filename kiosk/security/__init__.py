"""Security: agents and their PINs, the chained audit journal, encryption keys, retention."""
