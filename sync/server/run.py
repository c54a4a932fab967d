"""Running the reference server: in the foreground (``kiosk national-sim``) or on a background
thread bound to a free loopback port (tests and benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from sync.server.app import NationalSimulator
from sync.server.demo import free_port


def _config(app: ASGIApp, **kwargs: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        **kwargs,
    )


def _tls_options(tls: tuple[Path, Path] | None) -> dict[str, Any]:
    if tls is None:
        return {}
    return {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}


def serve(
    sim: NationalSimulator, host: str, port: int, *, tls: tuple[Path, Path] | None = None
) -> None:
    """Serve until interrupted (Ctrl-C); over HTTPS with ``tls`` = (certificate, key) PEM files."""
    uvicorn.Server(_config(sim.app, host=host, port=port, **_tls_options(tls))).run()


class ServerThread:
    """The simulator on ``127.0.0.1`` in a daemon thread; use as a context manager."""

    def __init__(
        self,
        sim: NationalSimulator,
        port: int = 0,
        *,
        app: ASGIApp | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """Serve ``sim`` (or any other ASGI ``app``, e.g. a fake captive portal, with it).

        ``tls``: (certificate, key) PEM files to serve HTTPS instead of HTTP.
        """
        self.sim = sim
        self._app = app or sim.app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(_config(self._app, **_tls_options(tls)))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> ServerThread:
        """Start serving and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("le simulateur national n'a pas démarré")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and the database."""
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()
        self.sim.db.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["NationalSimulator", "ServerThread", "free_port", "serve"]
