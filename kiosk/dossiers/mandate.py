"""The mandate: the person authorises the agent to file for them, for a time and a scope they
choose, and may revoke it at any counter.

What the person signed is kept as the version of the text, the SHA-256 of the exact French text
shown, the signature image and the time, with the scope (``portee``: this démarche, or every
démarche of its theme) and the duration chosen (one day to one year); so that the consent can
be proved later even if the template changes (the words: :mod:`kiosk.dossiers.mandate_text`).
The journal entry of a signature also keeps the values the text was filled with, the person's
name aside (the journal outlives the retention purge; the name is read from the dossier): the
copy printed for the person is the same text filled again, and its hash is checked against the
one stored before it is printed as the text signed.

A mandate allows filing, and filing again a dossier sent back « à compléter », only while it is
signed on the current version of the text, not revoked, not past its end date and naming the
person as the dossier does (:func:`mandate_issue`). A dossier signed under an earlier version
keeps that version, its hash and its signature as they were: filed, it needs nothing more; sent
back « à compléter », it is filed again only after the person signs the current text (the new
signature then replaces the old one in the dossier, the journal keeping both versions and
hashes).

Revoking (:meth:`MandateService.revoke`) records who revoked it and when; the person is given a
printed attestation (:mod:`kiosk.dossiers.mandate_pdf`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche
from kiosk.dossiers.errors import DossierNotFound, NotEditable
from kiosk.dossiers.mandate_copy import (
    ON_PAPER,
    ON_SCREEN,
    REVOKED,
    SIGNED,
    MandateCopy,
    read_copy,
)
from kiosk.dossiers.mandate_text import (
    DEFAULT_DAYS,
    DEFAULT_DURATION,
    DURATIONS,
    MAX_DAYS,
    MIN_DAYS,
    TEXT_VERSION,
    InvalidMandate,
    MandateParties,
    MandateText,
    MandateTranslation,
    check_duration,
    check_scope,
    prepare,
    scopes_for,
    template,
    template_path,
    translate_mandate,
)
from kiosk.dossiers.states import DossierState
from kiosk.messages import Message
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.engine import Store
from kiosk.store.models import Answer, Dossier, Event, Mandat

if TYPE_CHECKING:
    from kiosk.demarches import Catalog

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_DURATION",
    "DURATIONS",
    "MAX_DAYS",
    "MIN_DAYS",
    "TEXT_VERSION",
    "InvalidMandate",
    "MandateCopy",
    "MandateParties",
    "MandateService",
    "MandateStatus",
    "MandateText",
    "MandateTranslation",
    "Revocation",
    "mandate_issue",
    "scopes_for",
    "template",
    "template_path",
    "translate_mandate",
]


@dataclass(frozen=True)
class MandateStatus:
    """Whether and when the mandate of a dossier was signed, what it covers, and whether it was
    revoked (``revoked_by``: the agent's id, None from the command line)."""

    signed: bool
    version: str | None
    signed_at: datetime | None
    valid_until: date | None
    portee: str | None = None
    duree_jours: int | None = None
    revoked_at: datetime | None = None
    revoked_by: int | None = None
    #: Whether its end date had passed when it was read (on the service's clock).
    expired: bool = False
    #: How the person consented: on the printed mandate (its scan kept), or on the screen.
    on_paper: bool = False

    @property
    def revoked(self) -> bool:
        """Whether the person revoked it."""
        return self.revoked_at is not None


@dataclass(frozen=True)
class Revocation:
    """What came of a revocation: ``already`` when it had been revoked before (nothing changed)."""

    reference: str
    revoked_at: datetime
    already: bool

    @property
    def message(self) -> Message:
        """What the agent and the person read."""
        if self.already:
            return Message(
                "Le mandat du dossier {reference} était déjà révoqué, depuis le {date}.",
                reference=self.reference,
                date=self.revoked_at,
            )
        return Message(
            "Le mandat du dossier {reference} est révoqué depuis le {date}.",
            reference=self.reference,
            date=self.revoked_at,
        )


#: The answers a mandate names the person by: changed after the signature, it must be signed again.
_NAMED_BY = ("usager.nom", "usager.prenoms")


def mandate_issue(s: Session, dossier_id: str, demarche: Demarche, today: date) -> Message | None:
    """Why the dossier's mandate does not allow filing today, or None when it does.

    A mandate allows filing (and filing again a dossier sent back « à compléter ») once signed,
    on the current version of the text, until its end date, unless the person revoked it, and
    as long as the name it gives the person has not changed since (an answer saved again with
    the same value does not count as a change). This is the rule filing applies, and the one
    the counter uses to skip a signature already given.
    """
    mandat = s.get(Mandat, dossier_id)
    if mandat is None or mandat.signed_at is None:
        return Message("Le mandat n'est pas signé : la personne doit le signer avant le dépôt.")
    if mandat.revoked_at is not None:
        return Message(
            "La personne a révoqué son mandat le {date} : il ne permet plus de déposer ce"
            " dossier. Pour le déposer, elle doit signer un nouveau mandat.",
            date=mandat.revoked_at,
        )
    if mandat.texte_version != TEXT_VERSION:
        return Message(
            "Le texte du mandat a changé depuis la signature : la personne doit signer le nouveau"
            " texte."
        )
    if mandat.valid_until is not None and mandat.valid_until < today:
        return Message(
            "Le mandat a pris fin le {date} : la personne doit le signer à nouveau.",
            date=mandat.valid_until,
        )
    paths = [
        field.id for step in demarche.steps for field in step.fields if field.bind in _NAMED_BY
    ]
    changed = s.scalar(
        select(func.max(Answer.updated_at)).where(
            Answer.dossier_id == dossier_id, Answer.path.in_(paths)
        )
    )
    if changed is not None and changed > mandat.signed_at:
        return Message(
            "Le nom de la personne a changé depuis la signature du mandat : elle doit le signer"
            " à nouveau."
        )
    return None


def _not_signed(reference: str) -> InvalidMandate:
    return InvalidMandate(
        Message("Le dossier {reference} n'a pas de mandat signé.", reference=reference)
    )


class MandateService:
    """Prepares the text of a dossier's mandate, records the signature and the revocation, and
    gives the copy and the attestation printed for the person.

    Args:
        store: the kiosk's store.
        catalog: the démarches, to check that a theme scope is the dossier's démarche's theme
            and to name the démarche on a copy (without it, neither).
        clock: the time (UTC).
    """

    def __init__(
        self,
        store: Store,
        *,
        catalog: Catalog | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._now = clock or (lambda: datetime.now(UTC))

    def text_for(
        self,
        *,
        reference: str,
        usager: str,
        agent: str,
        guichet: str,
        demarche: str,
        days: int = DEFAULT_DAYS,
        portee: str | None = None,
    ) -> MandateText:
        """The exact text the person reads before signing (in French: the text signed).

        Args:
            days: how long the mandate lasts, chosen with the person (1 to 365).
            portee: None for this démarche, ``"theme:<theme>"`` for every démarche of the theme.

        Raises:
            InvalidMandate: a duration or a scope out of bounds.
        """
        parties = MandateParties(usager, agent, guichet, demarche, reference)
        return prepare(parties, now=self._now(), portee=portee, days=days)

    def translation(
        self, text: MandateText, lang: str, *, demarche: str | None = None
    ) -> MandateTranslation | None:
        """``text`` in ``lang`` for information (see :func:`translate_mandate`); None in French."""
        return translate_mandate(text, lang, demarche=demarche)

    def sign(
        self,
        reference: str,
        text: MandateText,
        signature_png: bytes,
        *,
        agent_id: int | None = None,
    ) -> MandateStatus:
        """Record the signature (one transaction, with a journal entry).

        A new signature replaces an earlier one, revoked or not (the journal keeps both).

        Raises:
            ValueError: no signature.
            InvalidMandate: a duration or a scope out of bounds.
            NotEditable: the dossier has left the counter.
        """
        if not signature_png:
            raise ValueError("La signature est vide : demandez à la personne de signer.")
        return self._record(reference, text, signature_png, {"mode": ON_SCREEN}, agent_id)

    def sign_on_paper(
        self,
        reference: str,
        text: MandateText,
        scan: bytes,
        mime_type: str,
        *,
        agent_id: int | None = None,
    ) -> MandateStatus:
        """Record that the person signed the printed mandate, with its scan: the way to consent
        for someone who cannot sign on the screen (keyboard alone, a hand that cannot draw).

        The scan is kept where a signature drawn on the screen would be (encrypted with the
        store), and the journal says which way the consent was given (``mode``: ``papier``),
        with the scan's type and SHA-256; the rest is as :meth:`sign`.

        Raises:
            ValueError: no scan.
            InvalidMandate: a duration or a scope out of bounds.
            NotEditable: the dossier has left the counter.
        """
        if not scan:
            raise ValueError(
                "La numérisation du mandat signé est vide : numérisez à nouveau le mandat signé."
            )
        detail = {
            "mode": ON_PAPER,
            "scan_type": mime_type,
            "scan_sha256": hashlib.sha256(scan).hexdigest(),
        }
        return self._record(reference, text, scan, detail, agent_id)

    def _record(
        self,
        reference: str,
        text: MandateText,
        proof: bytes,
        how: dict[str, str],
        agent_id: int | None,
    ) -> MandateStatus:
        check_duration(text.duree_jours)
        now = self._now()
        # The dossier's mandate only: beside the other counters' writes on a site store, its
        # row locked first (kiosk/store/site.py).
        with self._store.write(narrow=True) as s:
            dossier = s.scalars(
                select(Dossier).where(Dossier.reference == reference).with_for_update()
            ).first()
            if dossier is None:
                raise DossierNotFound(reference)
            if not DossierState(dossier.state).editable:
                raise NotEditable(
                    Message("Le dossier {reference} est déjà déposé.", reference=reference)
                )
            check_scope(text.portee, self._theme(dossier))
            mandat = s.get(Mandat, dossier.id)
            if mandat is None:
                mandat = Mandat(dossier_id=dossier.id)
                s.add(mandat)
            mandat.texte_version = text.version
            mandat.texte_sha256 = text.sha256
            mandat.signed_at = now
            mandat.valid_until = text.valid_until
            mandat.signature_png = proof  # the drawn signature, or the signed paper's scan
            mandat.portee = text.portee
            mandat.duree_jours = text.duree_jours
            mandat.revoked_at = None
            mandat.revoked_by = None
            detail: dict[str, Any] = {"version": text.version, "sha256": text.sha256}
            if text.parties is not None:
                # What fills the text again for the copy; the person's name is not kept here
                # (the journal outlives the purge): it is read from the dossier.
                detail |= {
                    "agent": text.parties.agent,
                    "guichet": text.parties.guichet,
                    "demarche": text.parties.demarche,
                }
            detail |= {"portee": text.portee, "duree_jours": text.duree_jours} | how
            s.add(
                Event(dossier_id=dossier.id, at=now, kind=SIGNED, agent_id=agent_id, detail=detail)
            )
            audit(
                s,
                AuditAction.MANDATE_SIGNED,
                at=now,
                agent_id=agent_id,
                dossier_ref=dossier.reference,
                detail={"version": text.version},
            )
        return MandateStatus(
            True,
            text.version,
            now,
            text.valid_until,
            text.portee,
            text.duree_jours,
            on_paper=how["mode"] == ON_PAPER,
        )

    def status(self, reference: str) -> MandateStatus:
        """Whether the dossier's mandate is signed, until when, and whether it was revoked."""
        with self._store.read() as s:
            mandat = s.scalars(
                select(Mandat)
                .join(Dossier, Dossier.id == Mandat.dossier_id)
                .where(Dossier.reference == reference)
            ).first()
            if mandat is None or mandat.signed_at is None:
                return MandateStatus(False, None, None, None)
            return _status(mandat, self._now().date(), on_paper=signed_on_paper(s, mandat))

    def revoke(self, reference: str, *, agent_id: int | None = None) -> Revocation:
        """The person revokes their mandate at a counter: from now on it allows no filing.

        Revoking a mandate already revoked changes nothing and says since when.

        Raises:
            DossierNotFound: no such dossier.
            InvalidMandate: the dossier has no signed mandate.
        """
        from kiosk.site.counter import CounterSettings

        guichet = CounterSettings(self._store).get().name
        now = self._now()
        with self._store.write() as s:
            dossier, mandat = self._signed(s, reference)
            if mandat.revoked_at is not None:
                return Revocation(dossier.reference, mandat.revoked_at, already=True)
            mandat.revoked_at = now
            mandat.revoked_by = agent_id
            s.add(
                Event(
                    dossier_id=dossier.id,
                    at=now,
                    kind=REVOKED,
                    agent_id=agent_id,
                    detail={
                        "version": mandat.texte_version,
                        "sha256": mandat.texte_sha256,
                        "guichet": guichet,
                    },
                )
            )
            audit(
                s,
                AuditAction.MANDATE_REVOKED,
                at=now,
                agent_id=agent_id,
                dossier_ref=dossier.reference,
                detail={"version": mandat.texte_version},
            )
            return Revocation(dossier.reference, now, already=False)

    def copy(self, reference: str) -> MandateCopy:
        """What the person's copy (and, once revoked, the attestation) prints.

        Raises:
            DossierNotFound: no such dossier.
            InvalidMandate: the dossier has no signed mandate.
        """
        from kiosk.site.counter import CounterSettings

        with self._store.read() as s:
            dossier, mandat = self._signed(s, reference)
            return read_copy(
                s,
                dossier,
                mandat,
                title=self._title(dossier),
                counter=lambda: CounterSettings(self._store).get().name,
            )

    def copy_pdf(self, reference: str, *, training: bool = False) -> bytes:
        """The person's printed copy of the mandate (A4 PDF). Worker thread."""
        from kiosk.dossiers.mandate_pdf import render_mandate_copy
        from kiosk.site.counter import CounterSettings

        data = self.copy(reference)
        return render_mandate_copy(data, CounterSettings(self._store).get(), training=training)

    def to_sign_pdf(
        self, text: MandateText, *, reference: str, demarche: str, training: bool = False
    ) -> bytes:
        """``text`` printed to be signed by hand (A4 PDF): the alternative to the pad, whose
        scan :meth:`sign_on_paper` then records. Worker thread."""
        from kiosk.dossiers.mandate_pdf import render_mandate_to_sign
        from kiosk.site.counter import CounterSettings

        return render_mandate_to_sign(
            text,
            reference=reference,
            demarche=demarche,
            counter=CounterSettings(self._store).get(),
            training=training,
        )

    def attestation_pdf(self, reference: str, *, training: bool = False) -> bytes:
        """The printed attestation that the mandate was revoked (A4 PDF). Worker thread.

        Raises:
            InvalidMandate: the mandate is not revoked.
        """
        from kiosk.dossiers.mandate_pdf import render_revocation
        from kiosk.site.counter import CounterSettings

        data = self.copy(reference)
        if data.revoked_at is None:
            raise InvalidMandate(
                Message(
                    "Le mandat du dossier {reference} n'est pas révoqué.",
                    reference=data.reference,
                )
            )
        return render_revocation(data, CounterSettings(self._store).get(), training=training)

    def _signed(self, s: Session, reference: str) -> tuple[Dossier, Mandat]:
        from kiosk.dossiers.reference import InvalidReference, parse_reference

        try:
            ref = parse_reference(reference)
        except InvalidReference as exc:
            raise DossierNotFound(reference.strip()) from exc
        dossier = s.scalars(select(Dossier).where(Dossier.reference == ref)).first()
        if dossier is None:
            raise DossierNotFound(ref)
        mandat = s.get(Mandat, dossier.id)
        if mandat is None or mandat.signed_at is None:
            raise _not_signed(ref)
        return dossier, mandat

    def _theme(self, dossier: Dossier) -> str | None:
        if self._catalog is None:
            return None
        try:
            return self._catalog.get(dossier.demarche_id, dossier.demarche_version).theme
        except KeyError:
            return None

    def _title(self, dossier: Dossier) -> str:
        if self._catalog is not None:
            try:
                return self._catalog.get(dossier.demarche_id, dossier.demarche_version).title
            except KeyError:
                pass  # a version no longer installed: the copy names the démarche by its id
        return dossier.demarche_id


def signed_on_paper(s: Session, mandat: Mandat) -> bool:
    """Whether the mandate's last signature was given on the printed mandate (the journal says
    so; a signature from before the mode was written down was drawn on the screen)."""
    event = s.scalars(
        select(Event)
        .where(Event.dossier_id == mandat.dossier_id, Event.kind == SIGNED)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    return event is not None and (event.detail or {}).get("mode") == ON_PAPER


def _status(mandat: Mandat, today: date, *, on_paper: bool = False) -> MandateStatus:
    return MandateStatus(
        True,
        mandat.texte_version,
        mandat.signed_at,
        mandat.valid_until,
        mandat.portee,
        mandat.duree_jours,
        mandat.revoked_at,
        mandat.revoked_by,
        expired=mandat.valid_until is not None and mandat.valid_until < today,
        on_paper=on_paper,
    )
