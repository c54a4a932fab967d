"""Enrolling a kiosk: the supervisor's kiosk issues a one-time code, the new kiosk redeems it.

Two use cases, the same for the touchscreen and the command line:

- :meth:`EnrolmentDesk.issue` (a signed-in supervisor only): draw a code, seal the site's
  settings under it, file them at the national service for 30 minutes, write it in the audit
  journal; the code and its QR code's text come back to be shown and printed.
- :meth:`KioskEnrolment.redeem` (a kiosk with no credentials yet): read the code (typed, or the
  QR code's text), check first that the settings file can be written, redeem the code once at
  the national service, open the sealed settings, write them and the kiosk's new credentials
  into the settings file, and the counter's details into the store.

The national service issues the kiosk's credentials (it is the one that authenticates kiosks)
and enforces single use, expiry and the few wrong tries; it never reads the settings
(kiosk/enrolment/seal.py). A redemption is final at the service: if the file cannot be written
after it, the code is spent, which is why the file is checked before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.enrolment.code import EnrolmentCode, Ticket, new_code, read_ticket
from kiosk.enrolment.seal import SealBroken, open_sealed, seal, verifier, verifier_digest
from kiosk.enrolment.site import InvalidSettings, SiteSettings
from kiosk.ports.national import (
    EnrolmentApi,
    EnrolmentRefused,
    KioskCredentials,
    RedeemsEnrolment,
    ServiceUnavailable,
)
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.keys import KeyFileError, install_key

if TYPE_CHECKING:
    from kiosk.security.agents import AgentInfo
    from kiosk.site.counter import CounterSettings
    from kiosk.store import Store

#: How long the national service keeps a code's settings: enough to walk to the new kiosk,
#: short enough that a photographed sheet is of little use later.
LIFETIME_S = 30 * 60
#: Codes drawn before giving up when the service says each id is taken (1 in 2⁴⁰ each).
_DRAWS = 3


class EnrolmentFailed(Exception):
    """The enrolment could not be completed; the message says why and what to do, in French."""


@dataclass(frozen=True)
class Issued:
    """A code filed at the national service: show it, print it, until ``expires_at`` (UTC)."""

    ticket: Ticket
    expires_at: datetime

    @property
    def code(self) -> EnrolmentCode:
        """The code itself (typed on the new kiosk when it has no camera)."""
        return self.ticket.code


class EnrolmentDesk:
    """The supervisor's side: issuing codes for new kiosks of the site."""

    def __init__(
        self,
        api: Callable[[], EnrolmentApi],
        site: Callable[[], SiteSettings],
        counter: CounterSettings,
        store: Store,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        draw: Callable[[], EnrolmentCode] = new_code,
        lifetime_s: int = LIFETIME_S,
    ) -> None:
        """Args:
        api: the national service as this kiosk (its credentials), asked at each issue.
        site: the site's settings as in force on this kiosk (the counter's details are added
            from the store).
        """
        self._api = api
        self._site = site
        self._counter = counter
        self._store = store
        self._clock = clock
        self._draw = draw
        self._lifetime = lifetime_s

    def issue(self, *, by: AgentInfo | None) -> Issued:
        """A new code for a kiosk of this site (worker thread: one request to the service).

        Raises:
            PermissionError: ``by`` is not a supervisor (in French).
            ServiceUnavailable: the service could not be reached, or refused this kiosk.
        """
        if by is None or not by.supervisor:
            raise PermissionError("Seul un superviseur peut enrôler une nouvelle borne.")
        site = self._site()
        details = self._counter.get()
        if details.configured:
            site = replace(site, counter=details)
        plain = site.to_json()
        api = self._api()
        for _ in range(_DRAWS):
            code = self._draw()
            try:
                expires = api.file_enrolment(
                    code.id, verifier_digest(code), seal(code, plain), self._lifetime
                )
            except EnrolmentRefused as exc:
                if exc.reason == "code_existant":
                    continue
                raise ServiceUnavailable(str(exc)) from exc
            with self._store.write() as s:
                audit(
                    s,
                    AuditAction.OTHER,
                    at=self._clock(),
                    agent_id=by.id,
                    detail={
                        "par": by.identifiant,
                        "evenement": "enrolement_emis",
                        "enrolement": code.id,
                    },
                )
            return Issued(Ticket(code, site.api_url, site.api_pins), expires)
        raise ServiceUnavailable(
            "Le service national refuse chaque code tiré : réessayez dans un moment."
        )


class SettingsWriter(Protocol):
    """Where a kiosk's settings file is written (app/settings/write.py)."""

    @property
    def path(self) -> Path:
        """The settings file written."""
        ...

    def check(self) -> None:
        """Whether the file can be written, before the code is spent.

        Raises:
            EnrolmentFailed: it cannot, and why (in French).
        """
        ...

    def write(self, credentials: KioskCredentials, site: SiteSettings) -> None:
        """Write the credentials and the site's settings into the file, atomically, readable
        by the kiosk's account only (it holds a secret).

        Raises:
            EnrolmentFailed: it could not be written (in French).
        """
        ...


@dataclass(frozen=True)
class Enrolled:
    """A kiosk enrolled: its id at the national service, the file written, what it received."""

    client_id: str
    settings_file: Path
    site: SiteSettings


class KioskEnrolment:
    """The new kiosk's side: redeeming a code."""

    def _install_documents_key(self, key: bytes) -> None:
        """Keep the site's documents key as this kiosk's (written whole, mode 600). A key this
        kiosk already has is never replaced: documents sealed under it would become unreadable;
        if it is not the site's, the first document says so (kiosk/store/documents.py)."""
        assert self._documents_key_file is not None
        try:
            install_key(self._documents_key_file, key)
        except KeyFileError as exc:
            raise EnrolmentFailed(
                f"{exc} La borne est enrôlée, mais sans la clé des pièces du site : copiez-la"
                " depuis une autre borne du site."
            ) from exc

    def __init__(
        self,
        connect: Callable[[Ticket], RedeemsEnrolment],
        writer: SettingsWriter,
        counter: CounterSettings | None = None,
        *,
        documents_key_file: Path | None = None,
    ) -> None:
        """Args:
        connect: the national service at the ticket's address, trusting its pins (or, for a
            code typed alone, at this kiosk's own settings), with no credentials.
        counter: where the counter's details go (None: not written, e.g. no store yet).
        documents_key_file: where the site's documents key goes, when the site sends one (a
            counter of a site store; None: not written).
        """
        self._connect = connect
        self._writer = writer
        self._counter = counter
        self._documents_key_file = documents_key_file

    @property
    def settings_file(self) -> Path:
        """The settings file an enrolment writes."""
        return self._writer.path

    def redeem(self, text: str) -> Enrolled:
        """Enrol this kiosk with the code typed or the QR code read (worker thread).

        Raises:
            InvalidCode: a typo, told before anything is sent.
            EnrolmentRefused: the service refused the code (unknown, wrong, expired, used).
            ServiceUnavailable: the service could not be reached (the code is not spent).
            EnrolmentFailed: the settings could not be opened or written.
        """
        ticket = read_ticket(text)
        self._writer.check()
        redeemed = self._connect(ticket).redeem_enrolment(ticket.code.id, verifier(ticket.code))
        try:
            site = SiteSettings.from_json(open_sealed(ticket.code, redeemed.sealed))
        except SealBroken as exc:
            raise EnrolmentFailed(
                "Les réglages reçus ne s'ouvrent pas avec ce code (modifiés en chemin) : rien"
                " n'a été écrit. Demandez un nouveau code au superviseur."
            ) from exc
        except InvalidSettings as exc:
            raise EnrolmentFailed(f"{exc} Rien n'a été écrit.") from exc
        self._writer.write(redeemed.credentials, site)
        if self._counter is not None and site.counter is not None:
            self._counter.set(site.counter)
        if self._documents_key_file is not None and site.documents_key is not None:
            self._install_documents_key(bytes.fromhex(site.documents_key))
        return Enrolled(redeemed.credentials.client_id, self._writer.path, site)
