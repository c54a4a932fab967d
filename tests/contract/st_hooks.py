"""Schemathesis hooks for the contract check (loaded by ``SCHEMATHESIS_HOOKS``): strategies for
the payload media types it cannot generate by itself."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

# A chunk of a resumable upload: any bytes (small: the server's uploads are a few bytes to MBs).
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=256))
