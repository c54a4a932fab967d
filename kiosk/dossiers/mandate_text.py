"""The words of a mandate: its versioned templates, its scope and duration, and filling them in.

The text is versioned (``assets/mandat/mandat.v<N>.txt``). What the person signs is the French
text filled with the dossier's values; a person who reads English or Arabic is also shown a
translation *for information* (``mandat.v<N>.<lang>.txt``), never signed, hashed or stored. A
version once used is never edited: a change of wording is a new version.

Version 2 (the current one) names what the mandate covers (this démarche, or every démarche of
its theme: carte grise, permis) and how long it lasts, with its end date in words
(« 9 juillet 2025 »). Those phrases are part of the signed text; they live beside the template,
in ``mandat.v2.mots.json``, in the three languages. Version 1 (one démarche, 180 days, the end
date as ``08/07/2025``) stays readable: a dossier signed under it keeps its proof, and its copy
is printed from its own template.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from kiosk.dossiers.errors import DossierError
from kiosk.messages import SOURCE_LANGUAGE, Message, format_date, left_to_right
from kiosk.receipt.text import format_day
from kiosk.settings.paths import assets_dir

TEXT_VERSION = "v2"
#: The durations offered to the person, in days: one day, one week, one month, three months,
#: six months, one year. Any number of days from 1 to :data:`MAX_DAYS` is allowed.
DURATIONS: tuple[int, ...] = (1, 7, 30, 90, 180, 365)
DEFAULT_DAYS = 180
#: Aidants Connect allows one day to one year.
MIN_DAYS, MAX_DAYS = 1, 365
DEFAULT_DURATION = timedelta(days=DEFAULT_DAYS)
#: The themes a mandate may cover as a whole (``portee = "theme:<theme>"``); « autre » gathers
#: unrelated démarches, so a mandate there covers its own démarche only.
SCOPED_THEMES: tuple[str, ...] = ("carte_grise", "permis")
#: Who signs, when the dossier does not name the person yet.
UNNAMED = Message("la personne désignée au dossier")


class InvalidMandate(DossierError):
    """A mandate that cannot be signed as asked (a duration or a scope out of bounds)."""


@dataclass(frozen=True)
class MandateParties:
    """The values the template is filled with (besides the scope and the dates)."""

    usager: str
    agent: str
    guichet: str
    demarche: str
    reference: str


@dataclass(frozen=True)
class MandateText:
    """The text as shown to the person, and what identifies it.

    ``parties`` are the values it was filled with, to fill its translations the same way; they
    are not part of what is signed (the text and its hash are). ``portee`` is None for this
    dossier's démarche, ``"theme:<theme>"`` for every démarche of the theme.
    """

    version: str
    text: str
    sha256: str
    valid_until: date
    parties: MandateParties | None = None
    portee: str | None = None
    duree_jours: int = DEFAULT_DAYS


@dataclass(frozen=True)
class MandateTranslation:
    """A mandate text in the person's language, shown beside the French one for information."""

    lang: str
    version: str  # the version of the French text it translates
    text: str


def check_duration(days: int) -> None:
    """Refuse a duration outside one day to one year.

    Raises:
        InvalidMandate: in words for the agent and the person.
    """
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidMandate(
            Message(
                "Un mandat dure d'un jour à un an (365 jours) : {jours} jours n'est pas possible.",
                jours=str(days),
            )
        )


def check_scope(portee: str | None, theme: str | None = None) -> None:
    """Refuse a scope that is not this démarche or a theme a mandate may cover as a whole.

    Args:
        portee: None (this démarche) or ``"theme:<theme>"``.
        theme: the dossier's démarche's theme, when known: a theme scope must be that one.

    Raises:
        InvalidMandate: in words for the agent and the person.
    """
    if portee is None:
        return
    kind, _, name = portee.partition(":")
    if kind != "theme" or name not in SCOPED_THEMES or (theme is not None and name != theme):
        raise InvalidMandate(
            Message(
                "Ce mandat ne peut couvrir que cette démarche, ou toutes les démarches de carte"
                " grise, ou toutes celles de permis de conduire, selon la démarche du dossier."
            )
        )


def scopes_for(theme: str) -> tuple[str | None, ...]:
    """The scopes offered for a démarche of ``theme``: itself, and its theme when it has one."""
    return (None, f"theme:{theme}") if theme in SCOPED_THEMES else (None,)


def end_date(signed_at: datetime, days: int) -> date:
    """The last day a mandate signed at ``signed_at`` for ``days`` days allows filing."""
    return (signed_at + timedelta(days=days)).date()


def template_path(
    version: str = TEXT_VERSION, lang: str = SOURCE_LANGUAGE, folder: Path | None = None
) -> Path:
    """The file of a mandate template: ``mandat.v2.txt`` (French), ``mandat.v2.en.txt``…"""
    suffix = "" if lang == SOURCE_LANGUAGE else f".{lang}"
    return (folder or assets_dir() / "mandat") / f"mandat.{version}{suffix}.txt"


def template(
    version: str = TEXT_VERSION, folder: Path | None = None, lang: str = SOURCE_LANGUAGE
) -> str:
    """The template of the mandate text (French, the signed one, unless ``lang`` says otherwise)."""
    return template_path(version, lang, folder).read_text(encoding="utf-8")


@functools.cache
def _words(version: str, folder: Path) -> dict[str, dict[str, object]]:
    path = folder / f"mandat.{version}.mots.json"
    if not path.is_file():
        return {}  # v1 names neither a scope nor a duration
    data: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def scope_words(
    portee: str | None,
    version: str = TEXT_VERSION,
    lang: str = SOURCE_LANGUAGE,
    folder: Path | None = None,
) -> str:
    """What a mandate covers, as its text says it (« cette seule démarche »…)."""
    words = _words(version, folder or assets_dir() / "mandat").get(lang, {})
    scopes = words.get("portee", {})
    assert isinstance(scopes, dict)
    return str(scopes.get(portee or "demarche", ""))


def duration_words(
    days: int, version: str = TEXT_VERSION, lang: str = SOURCE_LANGUAGE, folder: Path | None = None
) -> str:
    """How long a mandate lasts, as its text says it (« un mois (30 jours) », « 45 jours »)."""
    words = _words(version, folder or assets_dir() / "mandat").get(lang, {})
    named = words.get("duree", {})
    assert isinstance(named, dict)
    if str(days) in named:
        return str(named[str(days)])
    return str(words.get("jours", "{n}")).format(n=days)


def french_date(day: date) -> str:
    """« 9 juillet 2025 », « 1er mars 2026 »: a date as the person says it (the receipt's and
    the letter's own words)."""
    return format_day(day)


def fill(
    version: str,
    parties: MandateParties,
    *,
    valid_until: date,
    portee: str | None,
    days: int,
    lang: str = SOURCE_LANGUAGE,
    folder: Path | None = None,
) -> str:
    """The text of ``version`` filled with a dossier's values, in ``lang`` (French: the signed
    one). Filling the same values again gives the same characters, hence the same hash."""
    if lang == SOURCE_LANGUAGE:
        fin = french_date(valid_until) if version != "v1" else valid_until.strftime("%d/%m/%Y")
        usager = parties.usager or str(UNNAMED)
        values = {
            "usager": usager,
            "agent": parties.agent,
            "guichet": parties.guichet,
            "demarche": parties.demarche,
            "reference": parties.reference,
        }
    else:
        fin = format_date(valid_until, lang)
        # Names and numbers keep their own direction inside an Arabic sentence.
        values = {
            name: left_to_right(value, lang)
            for name, value in {
                "usager": parties.usager or UNNAMED.localized(lang),
                "agent": parties.agent,
                "guichet": parties.guichet,
                "demarche": parties.demarche,
                "reference": parties.reference,
            }.items()
        }
    return template(version, folder, lang).format(
        **values,
        fin=fin,
        portee=scope_words(portee, version, lang, folder),
        duree=duration_words(days, version, lang, folder),
    )


def prepare(
    parties: MandateParties, *, now: datetime, portee: str | None = None, days: int = DEFAULT_DAYS
) -> MandateText:
    """The current version's French text for these values, its hash and end date.

    Raises:
        InvalidMandate: a duration or a scope out of bounds.
    """
    check_duration(days)
    check_scope(portee)
    valid_until = end_date(now, days)
    text = fill(TEXT_VERSION, parties, valid_until=valid_until, portee=portee, days=days)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return MandateText(TEXT_VERSION, text, digest, valid_until, parties, portee, days)


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
    if demarche is not None:
        parties = MandateParties(
            parties.usager, parties.agent, parties.guichet, demarche, parties.reference
        )
    translated = fill(
        text.version,
        parties,
        valid_until=text.valid_until,
        portee=text.portee,
        days=text.duree_jours,
        lang=lang,
        folder=folder,
    )
    return MandateTranslation(lang, text.version, translated)
