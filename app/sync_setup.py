"""Wiring of the sync worker for one kiosk process (CLI and, later, the touchscreen app).

Settings come from the environment so that a préfecture provisions kiosks with a plain unit
file; the secret is read here and handed to the HTTP client, never printed nor logged.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from app.container import Container
from kiosk.sync.followup import NationalFollowUp
from kiosk.sync.outbox import Outbox
from sync.client import HttpNationalApi
from sync.clock import Clock, Sleeper, SystemClock, ThreadSleeper, as_datetime
from sync.policy import SyncPolicy
from sync.tls import TlsConfigError, TlsPolicy, parse_pins
from sync.worker import Listener, SyncThread, SyncWorker

ENV_URL = "PN_KIOSK_API_URL"
ENV_CLIENT_ID = "PN_KIOSK_API_CLIENT_ID"
ENV_CLIENT_SECRET = "PN_KIOSK_API_CLIENT_SECRET"  # noqa: S105 - the variable's name, not a secret
ENV_BACKOFF_BASE = "PN_KIOSK_SYNC_BACKOFF_BASE"
ENV_BACKOFF_CAP = "PN_KIOSK_SYNC_BACKOFF_CAP"
ENV_CA_FILE = "PN_KIOSK_API_CA"
ENV_PINS = "PN_KIOSK_API_PINS"
DEFAULT_URL = "http://127.0.0.1:8750"


class SyncConfigError(Exception):
    """The sync settings are missing or invalid; the message is for support staff, in French."""


@dataclass(frozen=True)
class SyncSettings:
    """Where the national service is and how this kiosk authenticates."""

    url: str
    client_id: str
    client_secret: str
    policy: SyncPolicy
    tls: TlsPolicy = field(default_factory=TlsPolicy)

    def __repr__(self) -> str:  # never show the secret, even in a debugger or a log line
        return f"SyncSettings(url={self.url!r}, client_id={self.client_id!r}, secret=***)"

    @classmethod
    def from_env(cls, url: str | None = None) -> SyncSettings:
        """Read the settings from the environment (``url`` overrides ``PN_KIOSK_API_URL``)."""
        client_id = os.environ.get(ENV_CLIENT_ID, "").strip()
        secret = os.environ.get(ENV_CLIENT_SECRET, "")
        if not client_id or not secret:
            raise SyncConfigError(
                f"Identifiants de la borne absents : définissez {ENV_CLIENT_ID} et"
                f" {ENV_CLIENT_SECRET} (fournis par la préfecture ; pour le simulateur :"
                " borne-demo / secret-demo)."
            )
        try:
            policy = SyncPolicy(
                backoff_base=float(os.environ.get(ENV_BACKOFF_BASE, SyncPolicy.backoff_base)),
                backoff_cap=float(os.environ.get(ENV_BACKOFF_CAP, SyncPolicy.backoff_cap)),
            )
        except ValueError as exc:
            raise SyncConfigError(
                f"{ENV_BACKOFF_BASE} et {ENV_BACKOFF_CAP} sont des durées en secondes."
            ) from exc
        ca_file = os.environ.get(ENV_CA_FILE, "").strip()
        try:
            tls = TlsPolicy(
                ca_file=Path(ca_file) if ca_file else None,
                pins=parse_pins(os.environ.get(ENV_PINS, "")),
            )
            settings = cls(
                url=url or os.environ.get(ENV_URL, DEFAULT_URL),
                client_id=client_id,
                client_secret=secret,
                policy=policy,
                tls=tls,
            )
            tls.check_url(settings.url)
            tls.context()  # a missing or unreadable CA file is said now, not at the first send
        except TlsConfigError as exc:
            raise SyncConfigError(str(exc)) from exc
        return settings


def build_worker(
    container: Container,
    settings: SyncSettings,
    *,
    listener: Listener | None = None,
    clock: Clock | None = None,
    sleeper: Sleeper | None = None,
    rng: random.Random | None = None,
) -> tuple[SyncWorker, HttpNationalApi]:
    """A worker on the container's store, talking HTTP to ``settings.url``.

    Close the returned client when the worker is done.
    """
    real_clock = clock or SystemClock()
    api = HttpNationalApi(
        settings.url, settings.client_id, settings.client_secret, tls=settings.tls.context()
    )
    worker = SyncWorker(
        outbox=Outbox(
            container.store,
            clock=lambda: as_datetime(real_clock),
            read_document=container.documents.read,
        ),
        followup=NationalFollowUp(
            container.store, container.dossiers, clock=lambda: as_datetime(real_clock)
        ),
        dossiers=container.dossiers,
        api=api,
        clock=real_clock,
        sleeper=sleeper or ThreadSleeper(),
        rng=rng or random.SystemRandom(),
        policy=settings.policy,
        listener=listener,
    )
    api.set_throttle(worker.throttle)
    return worker, api


def start_background_sync(
    container: Container, settings: SyncSettings, listener: Listener | None = None
) -> SyncThread:
    """Start the worker on its own thread (the app calls this once, at start-up).

    ``listener`` is called *on the worker thread* with each new :class:`~sync.worker.SyncStatus`.
    Call ``thread.worker.wake()`` after queuing a dossier, ``thread.worker.link_up()`` when the
    OS reports the network back, and ``thread.stop()`` at exit.
    """
    sleeper = ThreadSleeper()
    worker, _api = build_worker(container, settings, listener=listener, sleeper=sleeper)
    thread = SyncThread(worker, sleeper)
    thread.start()
    return thread
