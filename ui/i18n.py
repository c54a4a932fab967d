"""Translations of the screens' own text (French, English, Arabic) and the layout direction.

Messages live in ``assets/translations/<lang>.json`` as whole sentences with named placeholders,
never assembled from pieces. Arabic switches the whole window to right-to-left.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from kiosk.messages import RTL_LANGUAGES, left_to_right
from kiosk.settings.paths import assets_dir

LANGUAGES: dict[str, str] = {"fr": "Français", "en": "English", "ar": "العربية"}
#: The languages' names on their buttons when the text is large (« ع », the Arabic letter ʿayn,
#: is how Arabic is offered in a short space).
SHORT_LANGUAGES: dict[str, str] = {"fr": "FR", "en": "EN", "ar": "ع"}
#: The locale of each language (Qt's names), for the widgets and a screen reader.
LOCALES: dict[str, str] = {"fr": "fr_FR", "en": "en_GB", "ar": "ar"}


def _load(lang: str, folder: Path) -> dict[str, str]:
    data = json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


class Translator(QObject):
    """The current language; emits ``changed`` when the person picks another one."""

    changed = Signal(str)

    def __init__(self, lang: str = "fr", folder: Path | None = None) -> None:
        super().__init__()
        self._folder = folder or assets_dir() / "translations"
        self._catalogs = {code: _load(code, self._folder) for code in LANGUAGES}
        self._lang = lang

    @property
    def lang(self) -> str:
        """The current language code."""
        return self._lang

    @property
    def right_to_left(self) -> bool:
        """Whether the current language reads right to left (Arabic)."""
        return self._lang in RTL_LANGUAGES

    def set_language(self, lang: str) -> None:
        """Switch language (a no-op if unchanged)."""
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        if lang != self._lang:
            self._lang = lang
            self.changed.emit(lang)

    def line(self, text: str) -> str:
        """``text`` set to read in the current direction even if it starts with Latin letters.

        A line such as "PN-7K3M-Q9TX · <Arabic title>" would otherwise be laid out left to right
        (its first letter decides); a right-to-left mark in front keeps it aligned with the screen.
        """
        return ("\u200f" + text) if self._lang in RTL_LANGUAGES else text

    def data(self, text: str) -> str:
        """A value typed or read (a plate, an address, a phone number) kept left to right inside
        an Arabic line, where ``+33…`` would otherwise show as ``…33+``."""
        return left_to_right(text, self._lang)

    def error(self, exc: BaseException) -> str:
        """The message of an error from the domain or a device, in the current language.

        Errors that carry their French template (``FieldError``, ``IdentityError``,
        ``DossierError``…) have a ``localized(lang)``; any other is shown as written (French).
        """
        localized = getattr(exc, "localized", None)
        if callable(localized):
            text = localized(self._lang)
            if isinstance(text, str):
                return text
        return str(exc)

    def t(self, key: str, **values: object) -> str:
        """The message ``key`` in the current language, falling back to French."""
        template = self._catalogs[self._lang].get(key) or self._catalogs["fr"][key]
        return template.format(**values) if values else template
