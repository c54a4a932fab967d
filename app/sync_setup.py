"""Wiring of the sync worker for one kiosk process (CLI and, later, the touchscreen app).

The values come from the settings (``[service_national]``, app/settings/options.py), resolved at
start; the secret is handed to the HTTP client, never printed nor logged.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.container import Container
from app.settings import BY_NAME, Settings
from kiosk.demarches.installed import KIND as DEMARCHES
from kiosk.demarches.installed import LiveCatalog, demarche_kind
from kiosk.dossiers.base import utc_now
from kiosk.fees import default_tariffs_dir
from kiosk.fees.installed import tariff_kind
from kiosk.ports.national import ReceiptStatus
from kiosk.sync.bundles import BundleUpdates
from kiosk.sync.fleet import SiteKiosksService
from kiosk.sync.followup import NationalFollowUp
from kiosk.sync.issued import IssuedDocuments
from kiosk.sync.notifications import NotificationQueue
from kiosk.sync.outbox import Outbox
from kiosk.sync.payments import PaymentQueue
from kiosk.sync.report import Reporter
from kiosk.updates import parse_keys
from sync.client import HttpNationalApi
from sync.clock import Clock, Sleeper, SystemClock, ThreadSleeper, as_datetime
from sync.policy import SyncPolicy
from sync.tls import TlsConfigError, TlsPolicy
from sync.worker import Listener, SyncThread, SyncWorker


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
    #: The pinned keys of the démarches' and tariffs' bundles (base64); none: none installed.
    bundle_keys: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never show the secret, even in a debugger or a log line
        return f"SyncSettings(url={self.url!r}, client_id={self.client_id!r}, secret=***)"

    @classmethod
    def from_settings(cls, settings: Settings, *, training_url: str | None = None) -> SyncSettings:
        """The sync's settings, checked now rather than at the first send.

        With ``training_url`` (training mode's own reference server on loopback) the demo
        credentials the reference server knows are used, and the TLS settings meant for the
        real service are not: nothing of the real configuration goes to a practice server;
        its bundles are signed with the TEST key, the only one pinned then.

        Raises:
            SyncConfigError: no credentials, or TLS settings that cannot work (in French).
        """
        policy = SyncPolicy(
            backoff_base=settings.sync_backoff_base, backoff_cap=settings.sync_backoff_cap
        )
        if training_url is not None:
            from sync.server.demo import DEMO_CLIENTS, training_bundle_key

            client_id, secret = next(iter(DEMO_CLIENTS.items()))
            return cls(
                training_url, client_id, secret, policy, bundle_keys=(training_bundle_key(),)
            )
        if not settings.api_client_id or not settings.api_client_secret:
            raise SyncConfigError(
                "Identifiants de la borne absents : définissez"
                f" {BY_NAME['api_client_id'].names} et {BY_NAME['api_client_secret'].names}"
                " (fournis par la préfecture ; pour le simulateur : borne-demo / secret-demo)."
            )
        tls = TlsPolicy(ca_file=settings.api_ca_file, pins=settings.api_pins)
        try:
            tls.check_url(settings.api_url)
            tls.context()  # a missing or unreadable CA file is said now, not at the first send
        except TlsConfigError as exc:
            raise SyncConfigError(str(exc)) from exc
        return cls(
            url=settings.api_url,
            client_id=settings.api_client_id,
            client_secret=settings.api_client_secret,
            policy=policy,
            tls=tls,
            bundle_keys=settings.bundle_keys,
        )


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

    def now() -> datetime:
        return as_datetime(real_clock)

    def installed(kind: str) -> None:  # sync thread: the catalogue reloads here, not on the UI's
        if kind == DEMARCHES and isinstance(container.catalog, LiveCatalog):
            container.catalog.refresh()

    api = HttpNationalApi(
        settings.url, settings.client_id, settings.client_secret, tls=settings.tls.context()
    )
    worker = SyncWorker(
        outbox=Outbox(
            container.store,
            container.catalog,
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
        payments=PaymentQueue(container.store, clock=lambda: as_datetime(real_clock)),
        payment_api=api,
        # Installed in the data folder, read by the catalogue and the estimates
        # (kiosk/demarches/installed.py, kiosk/fees/installed.py).
        bundles=BundleUpdates(
            container.store,
            [demarche_kind(container.paths.demarches_dir), tariff_kind(default_tariffs_dir())],
            container.paths.bundles_dir,
            keys=parse_keys(settings.bundle_keys),
            clock=now,
            on_installed=installed,
        ),
        bundle_api=api,
        notifications=NotificationQueue(container.store, clock=now),
        # Kept encrypted beside the pieces, through the same document store.
        issued=IssuedDocuments(container.store, container.documents, clock=now),
        followup_api=api,
        # This kiosk's report on itself, and its withdrawal if the service says it is revoked.
        reporter=Reporter(container.store, kiosk_version()),
        fleet_api=api,
        on_revoked=container.withdrawal.carry_out if container.withdrawal else None,
    )
    api.set_throttle(worker.throttle)
    api.set_queue_length(worker.queue_length)
    return worker, api


def kiosk_version() -> str:
    """This kiosk's version, as its report says it (the installed distribution's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pn-kiosk")
    except PackageNotFoundError:  # run from a source tree never installed
        return "0.0.0+source"


def site_kiosks_service(
    container: Container,
    settings: SyncSettings,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> SiteKiosksService:
    """The site's kiosks for the supervisor (its own HTTP client: the worker's is its thread's;
    closed with the container); ``clock``: what « now » is for the flags."""
    api = HttpNationalApi(
        settings.url, settings.client_id, settings.client_secret, tls=settings.tls.context()
    )
    container.closers.append(api.close)
    return SiteKiosksService(
        container.store,
        api,
        own_id=settings.client_id,
        clock=clock,
        withdrawal=container.withdrawal,
    )


class ReceiptLookup:
    """The national service's receipt lookup (``POST /v1/suivi``) for the touchscreen, on a
    client of its own made at first use (off the UI thread: in training mode the reference
    server may still be starting), never the worker's: the two run on different threads."""

    def __init__(self, settings: Callable[[], SyncSettings]) -> None:
        self._settings = settings
        self._api: HttpNationalApi | None = None
        self._lock = threading.Lock()

    def follow_receipt(self, reference: str, code: str) -> ReceiptStatus:
        """See :class:`~kiosk.ports.national.ReceiptApi`."""
        with self._lock:
            if self._api is None:
                settings = self._settings()
                self._api = HttpNationalApi(
                    settings.url,
                    settings.client_id,
                    settings.client_secret,
                    tls=settings.tls.context(),
                )
            api = self._api
        return api.follow_receipt(reference, code)

    def close(self) -> None:
        """Close its client, if one was made."""
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None


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
