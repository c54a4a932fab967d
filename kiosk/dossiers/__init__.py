"""Dossiers: their life cycle, their reference, and the application service that changes them."""
