"""Sync with the national service: HTTP client, worker, scheduler, and the reference server."""
