"""Security: audit journal, agent lockout, retention."""
