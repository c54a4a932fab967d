"""After the counter: the national answer, the agent's worklist, corrections, letters and text
messages (docs/followup.md)."""
