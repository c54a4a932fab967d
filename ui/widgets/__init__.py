"""Reusable widgets: field editors, the signature pad, the connection badge."""
