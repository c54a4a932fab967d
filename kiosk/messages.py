"""Messages the domain gives the person, written in French, shown in the person's language.

The kiosk's domain speaks plain French: the command line, the logs and the agents read
``str(message)``. The person at the counter may read English or Arabic, so a message keeps its
French *template* (gettext's msgid: ``"Le code postal {code} ne correspond à aucun département."``)
and its parameters apart, and :meth:`Message.localized` looks the template up in
``assets/messages/<lang>.json`` (French template → translated template, same placeholders).

- A template is a literal in the code (``FieldError("…", code=code)``, ``Message("…")``, or
  :func:`translatable` for a fixed label), so a test can find them all by parsing the source and
  fail when one has no translation (``tests/test_messages.py``).
- A template or a catalogue that is missing falls back to French: the person always gets a message.
- Parameters are formatted for the language: dates (``15/03/2024``, ``15 March 2024``,
  ``15 مارس 2024``), large numbers, and amounts of money (:class:`Euros`: ``1 234,56 €`` in
  French and Arabic, ``€1,234.56`` in English). Digits stay the Western ones in Arabic too:
  they are the ones printed on French documents and on the kiosk's keyboard, and the ones the
  person types.
- A parameter may itself be a :class:`Message` (an answer's error inside "« Nom » : …"); it is
  localized in the same language.
- Right to left: in an Arabic sentence, Latin data that starts with a digit or ``+`` is laid out
  backwards by the bidirectional algorithm (``+33`` shows as ``33+``, ``1234 AB 56`` as
  ``AB 56 1234``). The Arabic catalogue wraps such literals in the invisible marks U+202A … U+202C
  (left-to-right embedding), and a text parameter with no Arabic letter in it (a plate, a list of
  ids, a French label not yet translated) is wrapped the same way here.
"""

from __future__ import annotations

import functools
import json
import re
import string
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TypeAlias

from kiosk.settings.paths import assets_dir

__all__ = [
    "RTL_LANGUAGES",
    "SOURCE_LANGUAGE",
    "Euros",
    "Message",
    "Param",
    "format_date",
    "format_money",
    "format_number",
    "format_time",
    "left_to_right",
    "load_catalog",
    "placeholders",
    "translatable",
    "translate",
]

SOURCE_LANGUAGE = "fr"
#: Languages written right to left.
RTL_LANGUAGES = frozenset({"ar"})
_RTL_LETTERS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")

Param: TypeAlias = "str | int | date | Message"

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    # The names used across the Arab world's press and administrations (Egypt, Gulf, Maghreb
    # newspapers), rather than the Levantine or Maghrebi local ones.
    "ar": (
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ),
}
# Thousands separators, used from 10 000 up (French typography leaves 4-digit numbers whole).
_GROUPING = {"fr": "\u202f", "en": ",", "ar": ","}


def translatable(text: str) -> str:
    """Mark a fixed French label for translation without translating it (gettext's ``N_``).

    The label stays French where it is used; :func:`translate` gives it in another language.
    """
    return text


def placeholders(template: str) -> frozenset[str]:
    """The names of the ``{placeholders}`` of a template (``{{`` and ``}}`` are literal braces)."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )


def format_date(day: date, lang: str) -> str:
    """A day as the person reads it: ``15/03/2024`` in French, the month's name elsewhere.

    A moment (an aware ``datetime``, stored in UTC) gives its day at the counter: 23:30 UTC on
    the 14th is already the 15th in Paris.
    """
    if isinstance(day, datetime):
        # Imported on first use: zoneinfo costs ~2 ms on the path to the first screen.
        from kiosk.settings.timezone import counter_time

        day = counter_time(day).date()
    months = _MONTHS.get(lang)
    if months is None:
        return day.strftime("%d/%m/%Y")
    return f"{day.day} {months[day.month - 1]} {day.year}"


def format_time(at: datetime) -> str:
    """The hour of an aware moment on the counter's clock, ``14:05`` in every language (``14:05
    UTC`` on a system without time-zone data, so that it is never taken for the local hour)."""
    from kiosk.settings.timezone import counter_time, counter_zone  # (see format_date)

    _zone, found = counter_zone()
    local = counter_time(at)
    return f"{local:%H:%M}" if found else f"{local:%H:%M} UTC"


def format_number(number: int, lang: str) -> str:
    """An integer with the language's thousands separator from 10 000 up."""
    text = str(abs(number))
    if abs(number) >= 10_000:
        separator = _GROUPING.get(lang, _GROUPING[SOURCE_LANGUAGE])
        head = len(text) % 3 or 3
        text = separator.join([text[:head]] + [text[i : i + 3] for i in range(head, len(text), 3)])
    return ("-" if number < 0 else "") + text


class Euros(int):
    """An amount in integer cents, given to a :class:`Message` so that each language writes it
    its own way (:func:`format_money`); ``Euros(1100)`` is still the number 1100."""

    __slots__ = ()


_THIN = "\u202f"  # narrow no-break space between thousands, as French typography wants
_NBSP = "\u00a0"  # no-break space before the euro sign: « 13,76 € » never splits on a line


def format_money(cents: int, lang: str = SOURCE_LANGUAGE) -> str:
    """``123456`` → ``1 234,56 €`` (French), ``€1,234.56`` (English).

    Arabic keeps the French writing: the person reads these amounts next to the French ones of
    the receipt, the préfecture's letters and the tobacconist's till, and « 433,76 € » must be
    recognisably the same figure there (the digits stay Western, see above). Always two decimals;
    no-break spaces, so an amount never splits across lines.
    """
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    digits = str(euros)
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    if lang == "en":
        return f"{sign}€{','.join(groups)}.{rest:02d}"
    return f"{sign}{_THIN.join(groups)},{rest:02d}{_NBSP}€"


def left_to_right(text: str, lang: str) -> str:
    """``text`` kept in its own left-to-right order inside a ``lang`` sentence, if that is needed.

    Only in a right-to-left language, and only for text without letters of its own direction.
    """
    if lang in RTL_LANGUAGES and text and not _RTL_LETTERS.search(text):
        return f"\u202a{text}\u202c"
    return text


def _format(value: Param, lang: str) -> str:
    if isinstance(value, Message):
        return value.localized(lang)
    if isinstance(value, bool):  # a bool is an int: never print it as 0 or 1
        return str(value)
    if isinstance(value, Euros):
        return left_to_right(format_money(value, lang), lang)
    if isinstance(value, int):
        return format_number(value, lang)
    if isinstance(value, date):
        return format_date(value, lang)
    return left_to_right(value, lang)


@functools.cache
def _cached_catalog(lang: str, folder: Path) -> Mapping[str, str]:
    path = folder / f"{lang}.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in data.items()}


def load_catalog(lang: str, folder: Path | None = None) -> Mapping[str, str]:
    """French template → template in ``lang``, read once per language (empty for French).

    Args:
        lang: a language code (``en``, ``ar``); a language without a file gives an empty catalogue.
        folder: where the catalogues are; ``assets/messages`` by default.
    """
    if lang == SOURCE_LANGUAGE:
        return {}
    return _cached_catalog(lang, folder or assets_dir() / "messages")


def translate(text: str, lang: str) -> str:
    """A fixed label (see :func:`translatable`) in ``lang``, the French one when not translated."""
    return load_catalog(lang).get(text) or text


class Message:
    """A French template and its parameters; ``str()`` is the French text."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Param) -> None:
        self.template = template
        self.params: Mapping[str, Param] = params

    def localized(self, lang: str) -> str:
        """The text in ``lang``, falling back to French for a template not translated."""
        translated = load_catalog(lang).get(self.template)
        if translated:
            try:
                return translated.format(**self._values(lang))
            except (KeyError, IndexError, ValueError):
                pass  # placeholders drifted (the tests catch it): French rather than nothing
        try:
            return self.template.format(**self._values(SOURCE_LANGUAGE))
        except (KeyError, IndexError, ValueError):
            return self.template  # a stray brace: the sentence as written, never a crash

    def _values(self, lang: str) -> dict[str, str]:
        return {name: _format(value, lang) for name, value in self.params.items()}

    def __str__(self) -> str:
        return self.localized(SOURCE_LANGUAGE)

    def __repr__(self) -> str:
        params = "".join(f", {name}={value!r}" for name, value in self.params.items())
        return f"Message({self.template!r}{params})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.template == other.template and dict(self.params) == dict(other.params)

    def __hash__(self) -> int:
        return hash((self.template, tuple(sorted(self.params.items()))))


class LocalizedError(Exception):
    """An error whose message is French text for the agent and, when given as a
    :class:`Message`, translatable for the person (:meth:`localized`).

    Args:
        message: a translatable :class:`Message`, or French text shown as is in every language.
    """

    #: Whether the same action may work later unchanged (a store out of reach, a full disk):
    #: a screen keeps what was typed and tries again; otherwise the input or the state is at
    #: fault and trying again would fail the same way.
    transient = False

    def __init__(self, message: str | Message) -> None:
        self.reason = message if isinstance(message, Message) else None
        self.message = str(message)
        super().__init__(self.message)

    def localized(self, lang: str) -> str:
        """The message in ``lang`` (``fr``, ``en``, ``ar``); French when it is not translated."""
        return self.message if self.reason is None else self.reason.localized(lang)
