"""The mandate: the person authorises the agent to file this démarche for them.

The text is versioned (``assets/mandat/mandat.v<N>.txt``); what the person signed is kept as the
version, the SHA-256 of the exact text shown, the signature image and the time, so that the
consent can be proved later even if the template changes.

The signed text is always the French one. A person who reads English or Arabic is also shown a
translation *for information* (``mandat.v<N>.<lang>.txt``, filled with the same values): it is
never signed, hashed or stored, and a new version of the French text comes with its own
translations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche
from kiosk.dossiers.errors import DossierNotFound, NotEditable
from kiosk.dossiers.states import DossierState
from kiosk.messages import SOURCE_LANGUAGE, Message, format_date, left_to_right
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.settings.paths import assets_dir
from kiosk.store.engine import Store
from kiosk.store.models import Answer, Dossier, Event, Mandat

TEXT_VERSION = "v1"
#: How long a mandate lasts at most (Aidants Connect allows one day to one year).
DEFAULT_DURATION = timedelta(days=180)
#: Who signs, when the dossier does not name the person yet.
_UNNAMED = Message("la personne désignée au dossier")


@dataclass(frozen=True)
class MandateParties:
    """The values the template is filled with (besides the end date)."""

    usager: str
    agent: str
    guichet: str
    demarche: str
    reference: str


@dataclass(frozen=True)
class MandateText:
    """The text as shown to the person, and what identifies it.

    ``parties`` are the values it was filled with, to fill its translations the same way; they are
    not part of what is signed (the text and its hash are).
    """

    version: str
    text: str
    sha256: str
    valid_until: date
    parties: MandateParties | None = None


@dataclass(frozen=True)
class MandateTranslation:
    """A mandate text in the person's language, shown beside the French one for information."""

    lang: str
    version: str  # the version of the French text it translates
    text: str


@dataclass(frozen=True)
class MandateStatus:
    """Whether and when the mandate of a dossier was signed."""

    signed: bool
    version: str | None
    signed_at: datetime | None
    valid_until: date | None


#: The answers a mandate names the person by: changed after the signature, it must be signed again.
_NAMED_BY = ("usager.nom", "usager.prenoms")


def mandate_issue(s: Session, dossier_id: str, demarche: Demarche, today: date) -> Message | None:
    """Why the dossier's mandate does not allow filing today, or None when it does.

    A mandate allows filing once signed, on the current version of the text, until its end date,
    as long as the name it gives the person has not changed since (an answer saved again with
    the same value does not count as a change). This is the rule filing applies, and the one the
    counter uses to skip a signature already given.
    """
    mandat = s.get(Mandat, dossier_id)
    if mandat is None or mandat.signed_at is None:
        return Message("Le mandat n'est pas signé : la personne doit le signer avant le dépôt.")
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


def template_path(
    version: str = TEXT_VERSION, lang: str = SOURCE_LANGUAGE, folder: Path | None = None
) -> Path:
    """The file of a mandate template: ``mandat.v1.txt`` (French), ``mandat.v1.en.txt``…"""
    suffix = "" if lang == SOURCE_LANGUAGE else f".{lang}"
    return (folder or assets_dir() / "mandat") / f"mandat.{version}{suffix}.txt"


def template(
    version: str = TEXT_VERSION, folder: Path | None = None, lang: str = SOURCE_LANGUAGE
) -> str:
    """The template of the mandate text (French, the signed one, unless ``lang`` says otherwise)."""
    return template_path(version, lang, folder).read_text(encoding="utf-8")


def translate_mandate(
    text: MandateText,
    lang: str,
    *,
    demarche: str | None = None,
    folder: Path | None = None,
) -> MandateTranslation | None:
    """The translation of a prepared mandate text into ``lang``, for information.

    Args:
        text: the French text the person signs (from ``MandateService.text_for``).
        lang: the person's language.
        demarche: the démarche's title in ``lang`` (the French title if not given).
        folder: where the templates are (``assets/mandat``).

    Returns:
        None for French, or when this version of the text has no translation in ``lang``.
    """
    parties = text.parties
    path = template_path(text.version, lang, folder)
    if lang == SOURCE_LANGUAGE or parties is None or not path.is_file():
        return None
    # Names and numbers keep their own direction inside an Arabic sentence.
    values = {
        "usager": parties.usager or _UNNAMED.localized(lang),
        "agent": parties.agent,
        "guichet": parties.guichet,
        "demarche": demarche or parties.demarche,
        "reference": parties.reference,
    }
    translated = path.read_text(encoding="utf-8").format(
        **{name: left_to_right(value, lang) for name, value in values.items()},
        fin=format_date(text.valid_until, lang),
    )
    return MandateTranslation(lang, text.version, translated)


class MandateService:
    """Prepares the text of a dossier's mandate and records the signature."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._now = clock or (lambda: datetime.now(UTC))

    def text_for(
        self,
        *,
        reference: str,
        usager: str,
        agent: str,
        guichet: str,
        demarche: str,
        duration: timedelta = DEFAULT_DURATION,
    ) -> MandateText:
        """The exact text the person reads before signing (in French: the text signed)."""
        valid_until = (self._now() + duration).date()
        text = template().format(
            usager=usager or str(_UNNAMED),
            agent=agent,
            guichet=guichet,
            demarche=demarche,
            reference=reference,
            fin=valid_until.strftime("%d/%m/%Y"),
        )
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        parties = MandateParties(usager, agent, guichet, demarche, reference)
        return MandateText(TEXT_VERSION, text, digest, valid_until, parties)

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
        """Record the signature (one transaction, with a journal entry)."""
        if not signature_png:
            raise ValueError("La signature est vide : demandez à la personne de signer.")
        now = self._now()
        with self._store.write() as s:
            dossier = s.scalars(select(Dossier).where(Dossier.reference == reference)).first()
            if dossier is None:
                raise DossierNotFound(reference)
            if not DossierState(dossier.state).editable:
                raise NotEditable(
                    Message("Le dossier {reference} est déjà déposé.", reference=reference)
                )
            mandat = s.get(Mandat, dossier.id)
            if mandat is None:
                mandat = Mandat(dossier_id=dossier.id)
                s.add(mandat)
            mandat.texte_version = text.version
            mandat.texte_sha256 = text.sha256
            mandat.signed_at = now
            mandat.valid_until = text.valid_until
            mandat.signature_png = signature_png
            s.add(
                Event(
                    dossier_id=dossier.id,
                    at=now,
                    kind="mandat_signe",
                    agent_id=agent_id,
                    detail={"version": text.version, "sha256": text.sha256},
                )
            )
            audit(
                s,
                AuditAction.MANDATE_SIGNED,
                at=now,
                agent_id=agent_id,
                dossier_ref=dossier.reference,
                detail={"version": text.version},
            )
        return MandateStatus(True, text.version, now, text.valid_until)

    def status(self, reference: str) -> MandateStatus:
        """Whether the dossier's mandate is signed."""
        with self._store.read() as s:
            row = s.execute(
                select(Mandat.texte_version, Mandat.signed_at, Mandat.valid_until)
                .join(Dossier, Dossier.id == Mandat.dossier_id)
                .where(Dossier.reference == reference)
            ).first()
        if row is None or row[1] is None:
            return MandateStatus(False, None, None, None)
        return MandateStatus(True, row[0], row[1], row[2])
