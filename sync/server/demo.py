"""What a kiosk in training mode needs to know of its reference server, without importing the
server (Starlette and uvicorn cost ~100 ms to import; the server runs in a process of its own)."""

from __future__ import annotations

import socket

from kiosk.settings.paths import assets_dir

#: The training kiosk's credentials, known to the reference server.
DEMO_CLIENTS = {"borne-demo": "secret-demo"}


def training_bundle_key() -> str:
    """The public half of the key the reference server signs its bundles with
    (``assets/test-keys/paquets.pub``, base64): the one key a training kiosk pins. Its private
    half is published: it must never be pinned by a kiosk that serves the public."""
    return (assets_dir() / "test-keys" / "paquets.pub").read_text(encoding="ascii").strip()


def free_port() -> int:
    """A loopback port free right now (for a server started in another process)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
