"""Wiring the enrolment of a kiosk (kiosk/enrolment/) to the settings, the national service and
the settings file, for the command line and the touchscreen alike.

- The supervisor's kiosk issues codes as itself: its own credentials, address, CA file and pins
  (those of its sync), one HTTP client kept for the process and closed with it.
- The new kiosk has no credentials: it redeems its code at the address and with the pins the
  QR code carries (its very first request is pinned), or, for a code typed alone, at those of
  its own settings; a fresh client per try, closed after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings
from app.settings.write import SettingsFile
from kiosk.enrolment.code import Ticket
from kiosk.enrolment.service import (
    EnrolmentDesk,
    EnrolmentFailed,
    KioskEnrolment,
)
from kiosk.enrolment.site import SiteSettings
from kiosk.ports.national import EnrolmentApi, Redeemed, RedeemsEnrolment
from kiosk.site.counter import CounterSettings
from kiosk.store import Store
from kiosk.store.keys import KeyFileError, read_key
from sync.client import HttpNationalApi
from sync.tls import TlsConfigError, TlsPolicy

if TYPE_CHECKING:
    from app.sync_setup import SyncSettings


def site_settings(settings: Settings) -> SiteSettings:
    """What this kiosk's settings give a new kiosk of its site (the counter's details are
    added from the store by the use case)."""
    return SiteSettings(
        api_url=settings.api_url,
        api_pins=settings.api_pins,
        printer=settings.printer,
        scan_dir=str(settings.scan_dir) if settings.scan_dir is not None else None,
        camera=settings.camera,
        reader=settings.reader,
        print_server=settings.print_server,
        scanner=settings.scanner,
        documents_key=_site_documents_key(settings),
    )


def _site_documents_key(settings: Settings) -> str | None:
    """The site's documents key, when this kiosk is a counter of a site store and has it (a
    lone kiosk's key is its own: never given away)."""
    if settings.database_url is None:
        return None
    try:
        return read_key(settings.paths.documents_key_file).hex()
    except KeyFileError:
        return None  # not created yet: the first counter to seal a document makes it


class _OwnClient:
    """The national service as this (enrolled) kiosk, one client made at the first use."""

    def __init__(self, make: Callable[[], HttpNationalApi]) -> None:
        self._make = make
        self._api: HttpNationalApi | None = None
        self._lock = threading.Lock()

    def __call__(self) -> EnrolmentApi:
        with self._lock:
            if self._api is None:
                self._api = self._make()
            return self._api

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None


def enrolment_desk(
    settings: Settings,
    counter: CounterSettings,
    store: Store,
    *,
    sync: Callable[[], SyncSettings],
    closers: list[Callable[[], None]],
) -> EnrolmentDesk:
    """The supervisor's desk, talking to the national service as this kiosk (``sync``: the
    address, credentials and TLS of its sync, asked at the first code); its client is closed
    by ``closers``."""

    def make() -> HttpNationalApi:
        own = sync()
        return HttpNationalApi(own.url, own.client_id, own.client_secret, tls=own.tls.context())

    def site() -> SiteSettings:
        # The national service a new kiosk is given is the one this kiosk's sync talks to
        # (training mode's own server, in training), with the pins this kiosk checks.
        own = sync()
        return replace(site_settings(settings), api_url=own.url, api_pins=own.tls.pins)

    client = _OwnClient(make)
    closers.append(client.close)
    return EnrolmentDesk(client, site, counter, store)


class _OneTry:
    """The national service at a ticket's address, for one redemption, closed after it."""

    def __init__(self, url: str, tls: TlsPolicy) -> None:
        self._url = url
        self._tls = tls

    def redeem_enrolment(self, enrolment_id: str, verifier: bytes) -> Redeemed:
        api = HttpNationalApi(self._url, "", "", tls=self._tls.context())
        try:
            return api.redeem_enrolment(enrolment_id, verifier)
        finally:
            api.close()


def connector(settings: Settings) -> Callable[[Ticket], RedeemsEnrolment]:
    """Where a new kiosk redeems a ticket: the QR code's address and pins, or its own."""

    def connect(ticket: Ticket) -> RedeemsEnrolment:
        url = ticket.api_url or settings.api_url
        pins = ticket.pins if ticket.api_url else settings.api_pins
        tls = TlsPolicy(ca_file=settings.api_ca_file, pins=pins)
        try:
            tls.check_url(url)
            tls.context()
        except TlsConfigError as exc:
            raise EnrolmentFailed(f"{exc} Rien n'a été envoyé.") from exc
        return _OneTry(url, tls)

    return connect


def kiosk_enrolment(
    settings: Settings, settings_file: Path, counter: CounterSettings | None
) -> KioskEnrolment:
    """The new kiosk's side: redeem, then write ``settings_file`` and the counter's details."""
    return KioskEnrolment(
        connector(settings),
        SettingsFile(settings_file),
        counter,
        documents_key_file=settings.paths.documents_key_file,
    )
