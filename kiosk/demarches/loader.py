"""Loading definition files and keeping every version of every démarche.

A broken file must not stop the kiosk: `load_catalog` loads what it can and returns the errors
beside the démarches, each naming the file, the place and the reason in French. A dossier pins the
version it was started with, so the catalog keeps all versions, not only the latest. Translations
(`i18n/<id>.v<version>.<lang>.toml`) are checked against the definition they translate; a broken one
is reported the same way and leaves that démarche in French for that language.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kiosk.demarches.model import Demarche
from kiosk.demarches.reader import read_definition
from kiosk.demarches.schema import SchemaError
from kiosk.demarches.translation import (
    LANGUAGES,
    SOURCE_LANGUAGE,
    TRANSLATION_NAME_RE,
    Translation,
    localize,
    read_translation,
)

__all__ = [
    "FILE_NAME_RE",
    "I18N_DIR",
    "Catalog",
    "DefinitionError",
    "default_demarches_dir",
    "load_catalog",
    "load_definitions",
    "load_file",
    "load_translation",
    "load_translations",
    "read_toml",
]

# `<id>.v<version>.toml`: the version is in the name so that two versions sit side by side.
FILE_NAME_RE = re.compile(r"^([a-z][a-z0-9_]*)\.v([1-9]\d*)\.toml$")

# Translations sit beside the definitions, in their own folder so `*.toml` stays definitions only.
I18N_DIR = "i18n"

_TOML_POSITION_RE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
# Every tomllib message (Python 3.11), for authors who do not read English; matched by prefix, in
# order (the bare "Expected" last). A message of a later Python passes through as it is.
_TOML_MESSAGES = {
    "Invalid value": "valeur invalide (un texte s'écrit entre guillemets)",
    "Expected '=' after a key in a key/value pair": "« = » attendu après la clé",
    "Cannot overwrite a value": "clé définie deux fois",
    "Cannot declare": "table déclarée deux fois",
    "Unclosed array": "liste non fermée (« ] » manquant)",
    "Unterminated string": "texte non fermé (guillemet manquant)",
    "Expected newline or end of document after a statement": "un seul « clé = valeur » par ligne",
    "Illegal character": "caractère interdit dans un texte (retour à la ligne ou caractère de "
    'contrôle ; un texte sur plusieurs lignes s\'écrit entre """ et """)',
    "Found invalid character": "caractère inattendu à cet endroit",
    "Invalid statement": "ligne incompréhensible (ni « clé = valeur », ni [table], "
    "ni # commentaire)",
    "Invalid initial character for a key part": "nom de clé invalide (lettres, chiffres, _ et -)",
    "Unclosed inline table": "table en ligne non fermée (« } » manquant)",
    "Duplicate inline table key": "clé en double dans une table en ligne { … }",
    "Expected ']' at the end of a table declaration": "« ] » manquant après le nom de la table",
    "Expected ']]' at the end of an array declaration": "« ]] » manquant après le nom de la liste",
    "Cannot mutate immutable namespace": "table ou liste écrite en ligne : elle ne peut pas être "
    "complétée ailleurs",
    "Cannot redefine namespace": "table déjà définie autrement plus haut",
    "Unescaped '\\' in a string": "« \\ » seul dans un texte : écrivez « \\\\ »",
    "Invalid hex value": "code \\u ou \\U invalide dans un texte",
    "Escaped character is not a Unicode scalar value": "code \\u ou \\U hors d'Unicode",
    "Invalid date or datetime": "date ou heure invalide (AAAA-MM-JJ)",
    "Expected": "fin de texte, de liste ou de table manquante (guillemet ou crochet non fermé)",
}


class DefinitionError(Exception):
    """A definition file that cannot be used: `str()` gives `fichier: endroit: raison`."""

    def __init__(self, file: Path, place: str, reason: str, line: int | None = None) -> None:
        super().__init__(f"{file}: {place}: {reason}")
        self.file = file
        self.place = place
        self.reason = reason
        self.line = line  # only known for TOML syntax errors


def default_demarches_dir() -> Path:
    """The definitions shipped with the kiosk (`assets/demarches` at the repository root)."""
    return Path(__file__).resolve().parents[2] / "assets" / "demarches"


def _syntax_error(path: Path, error: tomllib.TOMLDecodeError) -> DefinitionError:
    message = str(error)
    position = _TOML_POSITION_RE.search(message)
    line: int | None = None
    place = "fin du fichier"
    if position is not None:
        message = message[: position.start()]
        if position.group(1) is not None:
            line = int(position.group(1))
            place = f"ligne {line}, colonne {position.group(2)}"
    translated = next(
        (french for english, french in _TOML_MESSAGES.items() if message.startswith(english)),
        message,
    )
    return DefinitionError(path, place, f"syntaxe TOML invalide : {translated}", line)


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file of the kiosk's data (a définition, a tariff), every failure in French.

    Raises:
        DefinitionError: unreadable, not UTF-8, or invalid TOML (with the line and column).
    """
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(path, error) from error
    except UnicodeDecodeError as error:
        raise DefinitionError(
            path, "fichier", "le fichier doit être enregistré en UTF-8"
        ) from error
    except RecursionError:  # tomllib reads nested lists and tables recursively
        raise DefinitionError(
            path, "fichier", "listes ou tables imbriquées trop profondément"
        ) from None
    except ValueError as error:  # tomllib's other limits: an integer of more than 4,300 digits
        raise DefinitionError(
            path, "fichier", "valeur impossible à lire (un nombre de plus de 4 300 chiffres ?)"
        ) from error
    except OSError as error:
        raise DefinitionError(path, "fichier", f"lecture impossible ({error.strerror})") from error


def load_file(path: Path) -> Demarche:
    """Load and check one definition file.

    Raises:
        DefinitionError: the file is unreadable, is not valid TOML, or breaks the schema.
    """
    match = FILE_NAME_RE.match(path.name)
    if match is None:
        raise DefinitionError(
            path, "nom du fichier", "le nom doit être <id>.v<version>.toml (ex. succession.v1.toml)"
        )
    data = read_toml(path)
    try:
        demarche = read_definition(data, path)
    except SchemaError as error:
        raise DefinitionError(path, error.place, error.reason) from error
    # The name and the content must agree, or a copied file would shadow another version.
    if demarche.id != match.group(1):
        raise DefinitionError(
            path, "id", f"l'id « {demarche.id} » ne correspond pas au nom du fichier"
        )
    if demarche.version != int(match.group(2)):
        raise DefinitionError(
            path, "version", f"la version {demarche.version} ne correspond pas au nom du fichier"
        )
    return demarche


def load_translation(path: Path, demarches: Mapping[tuple[str, int], Demarche]) -> Translation:
    """Load and check one translation file against the démarche it names.

    Args:
        path: `<id>.v<version>.<lang>.toml`.
        demarches: the loaded French definitions, by `(id, version)`.

    Raises:
        DefinitionError: a bad name, an unknown démarche or language, invalid TOML, or an id or
            key the French definition does not have.
    """
    match = TRANSLATION_NAME_RE.match(path.name)
    if match is None:
        raise DefinitionError(
            path,
            "nom du fichier",
            "le nom doit être <id>.v<version>.<langue>.toml (ex. succession.v1.en.toml)",
        )
    demarche_id, version, lang = match.group(1), int(match.group(2)), match.group(3)
    if lang not in LANGUAGES or lang == SOURCE_LANGUAGE:
        others = ", ".join(code for code in LANGUAGES if code != SOURCE_LANGUAGE)
        raise DefinitionError(path, "nom du fichier", f"langue « {lang} » inconnue ({others})")
    demarche = demarches.get((demarche_id, version))
    if demarche is None:
        raise DefinitionError(
            path,
            "nom du fichier",
            f"démarche « {demarche_id} » v{version} introuvable (absente ou en erreur)",
        )
    data = read_toml(path)
    try:
        return read_translation(data, demarche, lang, path)
    except SchemaError as error:
        raise DefinitionError(path, error.place, error.reason) from error


class Catalog:
    """Every loaded version of every démarche, plus the files that could not be loaded.

    Each lookup takes the person's language (`lang`, "fr" by default): the démarche comes back with
    its texts in that language where a translation exists, in French elsewhere.
    """

    def __init__(
        self,
        demarches: Iterable[Demarche] = (),
        errors: Iterable[DefinitionError] = (),
        translations: Iterable[Translation] = (),
    ) -> None:
        self._by_key: dict[tuple[str, int], Demarche] = {}
        self.errors: list[DefinitionError] = list(errors)
        for demarche in demarches:
            key = (demarche.id, demarche.version)
            if key in self._by_key:
                self.errors.append(
                    DefinitionError(
                        demarche.source,
                        "version",
                        f"{demarche.id} v{demarche.version} est déjà défini par "
                        f"{self._by_key[key].source.name}",
                    )
                )
                continue
            self._by_key[key] = demarche
        self._translations: dict[tuple[str, int, str], Translation] = {
            (t.demarche_id, t.version, t.lang): t for t in translations
        }
        # Localized démarches are immutable and shared, so each is built once. Two threads may
        # both build one on first use; they are equal and the last one kept is as good.
        self._localized: dict[tuple[str, int, str], Demarche] = {}

    def localized(self, demarche: Demarche, lang: str) -> Demarche:
        """`demarche` with its texts in `lang`; "fr", or no translation file: the French original.

        Raises:
            ValueError: `lang` is not one of `LANGUAGES`.
        """
        if lang not in LANGUAGES:
            raise ValueError(f"langue inconnue : {lang!r} (langues : {', '.join(LANGUAGES)})")
        original = self._by_key.get((demarche.id, demarche.version), demarche)
        key = (demarche.id, demarche.version, lang)
        translation = self._translations.get(key)
        if translation is None:
            return original
        cached = self._localized.get(key)
        if cached is None:
            cached = self._localized[key] = localize(original, translation)
        return cached

    def get(self, demarche_id: str, version: int, lang: str = SOURCE_LANGUAGE) -> Demarche:
        """The exact version a dossier was started with; KeyError if it is not installed."""
        return self.localized(self._by_key[(demarche_id, version)], lang)

    def latest(self, demarche_id: str, lang: str = SOURCE_LANGUAGE) -> Demarche:
        """The newest version, for new dossiers; KeyError if the démarche is unknown."""
        versions = [d for (i, _), d in self._by_key.items() if i == demarche_id]
        if not versions:
            raise KeyError(demarche_id)
        return self.localized(max(versions, key=lambda d: d.version), lang)

    def versions(self, demarche_id: str) -> list[int]:
        return sorted(v for (i, v) in self._by_key if i == demarche_id)

    def languages(self, demarche_id: str, version: int) -> list[str]:
        """French, then each language with a translation file for this version."""
        return [
            lang
            for lang in LANGUAGES
            if lang == SOURCE_LANGUAGE or (demarche_id, version, lang) in self._translations
        ]

    def all(self, lang: str = SOURCE_LANGUAGE) -> list[Demarche]:
        """Every version of every démarche, sorted by id then version."""
        return [self.localized(self._by_key[key], lang) for key in sorted(self._by_key)]

    def current(self, lang: str = SOURCE_LANGUAGE) -> list[Demarche]:
        """The latest version of each démarche, sorted by title (the menu of new dossiers)."""
        ids = sorted({i for i, _ in self._by_key})
        return sorted((self.latest(i, lang) for i in ids), key=lambda d: d.title.casefold())

    def __len__(self) -> int:
        return len(self._by_key)

    def _adopt(self, other: Catalog) -> None:
        """Take ``other``'s contents (a newer set was installed). Each attribute is replaced
        whole, never changed in place: a reader on another thread sees the old mapping or the
        new one, and the new one holds every version the old one did."""
        self._translations = other._translations
        self._localized = {}
        self.errors = other.errors
        self._by_key = other._by_key


def load_definitions(directory: Path) -> tuple[list[Demarche], list[DefinitionError]]:
    """Every definition (``*.toml``) of a directory, and the files that could not be loaded."""
    demarches: list[Demarche] = []
    errors: list[DefinitionError] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            demarches.append(load_file(path))
        except DefinitionError as error:
            errors.append(error)
    return demarches, errors


def load_translations(
    directory: Path, known: Mapping[tuple[str, int], Demarche]
) -> tuple[list[Translation], list[DefinitionError]]:
    """Every translation of a directory's ``i18n/`` folder, checked against ``known``."""
    translations: list[Translation] = []
    errors: list[DefinitionError] = []
    for path in sorted((directory / I18N_DIR).glob("*.toml")):
        try:
            translations.append(load_translation(path, known))
        except DefinitionError as error:
            errors.append(error)
    return translations, errors


def load_catalog(directory: Path) -> Catalog:
    """Load every `*.toml` file of a directory, then the translations in its `i18n/` folder.

    Broken files end up in `Catalog.errors`; a broken translation leaves its démarche in French.
    """
    if not directory.is_dir():
        error = DefinitionError(directory, "dossier", "dossier des démarches introuvable")
        return Catalog((), [error])
    demarches, errors = load_definitions(directory)
    known: dict[tuple[str, int], Demarche] = {}
    for demarche in demarches:
        known.setdefault((demarche.id, demarche.version), demarche)  # the first wins, as in Catalog
    translations, more = load_translations(directory, known)
    return Catalog(demarches, [*errors, *more], translations)
