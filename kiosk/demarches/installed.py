"""The démarches in use: those the kiosk ships (``stockage.demarches``) and those installed from
the national service's signed bundles (``<données>/paquets/demarches/``, kiosk/updates/).

A version never changes once known: a dossier keeps the version it was started with, so its
questions and answers must stay those of that version. A bundle carrying a version the kiosk
already has, shipped or installed, with other content is refused; should one be found on disk
all the same, the shipped file wins and the other is listed among the errors. Installed
translations replace the shipped ones of the same version (a corrected wording changes no
answer). Installed versions are never removed: the newest serves new dossiers, the older ones
the dossiers pinned to them.

:class:`LiveCatalog` is the catalogue the kiosk's services share: it notices a bundle put in use
by the sync worker (its thread, or another process) at the next lookup of a new dossier's
version (one ``stat``) and reloads then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from kiosk.demarches.loader import (
    FILE_NAME_RE,
    I18N_DIR,
    Catalog,
    DefinitionError,
    load_definitions,
    load_translations,
)
from kiosk.demarches.model import Demarche
from kiosk.demarches.translation import SOURCE_LANGUAGE, TRANSLATION_NAME_RE, Translation
from kiosk.updates import BundleFolder, BundleKind, BundleRefused

__all__ = ["KIND", "LiveCatalog", "demarche_kind", "load_with_installed"]

log = logging.getLogger(__name__)

KIND = "demarches"


def _accepts(name: str) -> bool:
    return bool(FILE_NAME_RE.match(name) or TRANSLATION_NAME_RE.match(name))


def _place(name: str) -> str:
    return f"{I18N_DIR}/{name}" if TRANSLATION_NAME_RE.match(name) else name


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def load_with_installed(shipped: Path, installed: Path | None) -> Catalog:
    """The shipped démarches and the installed ones as one catalogue (errors of both listed)."""
    if not shipped.is_dir():
        demarches: list[Demarche] = []
        errors = [DefinitionError(shipped, "dossier", "dossier des démarches introuvable")]
    else:
        demarches, errors = load_definitions(shipped)
    known: dict[tuple[str, int], Demarche] = {}
    for demarche in demarches:
        known.setdefault((demarche.id, demarche.version), demarche)
    extra: list[Demarche] = []
    if installed is not None:
        more, more_errors = load_definitions(installed)
        errors.extend(more_errors)
        for demarche in more:
            key = (demarche.id, demarche.version)
            same = known.get(key)
            if same is None:
                known[key] = demarche
                extra.append(demarche)
            elif not _same_file(same.source, demarche.source):
                errors.append(
                    DefinitionError(
                        demarche.source,
                        "version",
                        f"{demarche.id} v{demarche.version} existe déjà sur la borne avec un"
                        " autre contenu : une version publiée ne change pas (celle de la borne"
                        " est gardée)",
                    )
                )
    translations: dict[tuple[str, int, str], Translation] = {}
    for folder in (shipped, installed):
        if folder is None or not folder.is_dir():
            continue
        found, more_errors = load_translations(folder, known)
        errors.extend(more_errors)
        for translation in found:  # installed after shipped: a corrected wording wins
            translations[(translation.demarche_id, translation.version, translation.lang)] = (
                translation
            )
    return Catalog([*demarches, *extra], errors, translations.values())


def _checker(shipped: Path) -> Callable[[Path, Path | None], None]:
    def check(new: Path, previous: Path | None) -> None:
        catalog = load_with_installed(shipped, new)
        for error in catalog.errors:
            if error.file.is_relative_to(new):
                raise BundleRefused(
                    f"démarche refusée : {error.file.name} : {error.place} : {error.reason}"
                )
        if previous is None:
            return
        for path in sorted(new.glob("*.toml")):
            before = previous / path.name
            if before.is_file() and not _same_file(before, path):
                raise BundleRefused(
                    f"démarche refusée : {path.name} est déjà installée avec un autre contenu :"
                    " une version publiée ne change pas (les dossiers commencés avec elle la"
                    " gardent)"
                )

    return check


def demarche_kind(shipped: Path) -> BundleKind:
    """The démarches' bundles: definitions and their translations, checked by the same strict
    loader as the shipped files, with the shipped ones (``shipped``)."""
    return BundleKind(
        name=KIND,
        label="démarches",
        accepts=_accepts,
        place=_place,
        check=_checker(shipped),
        shipped=shipped,
    )


class LiveCatalog(Catalog):
    """The shipped démarches and the installed ones, reloaded once another bundle is in use."""

    def __init__(self, shipped: Path, installed: BundleFolder | None = None) -> None:
        super().__init__()
        self.shipped = shipped
        self.installed = installed
        self._lock = threading.Lock()
        self._stamp = installed.stamp() if installed is not None else None
        self._adopt(self._load())

    def _load(self) -> Catalog:
        folder = self.installed.current() if self.installed is not None else None
        return load_with_installed(self.shipped, folder)

    def refresh(self) -> bool:
        """Reload if another bundle came into use since; whether it did."""
        if self.installed is None:
            return False
        with self._lock:
            stamp = self.installed.stamp()
            if stamp == self._stamp:
                return False
            fresh = self._load()
            self._stamp = stamp
            self._adopt(fresh)
        for error in fresh.errors:
            log.warning("démarche ignorée : %s", error)
        return True

    def get(self, demarche_id: str, version: int, lang: str = SOURCE_LANGUAGE) -> Demarche:
        """The exact version a dossier was started with (one installed since, too)."""
        try:
            return super().get(demarche_id, version, lang)
        except KeyError:
            if not self.refresh():
                raise
        return super().get(demarche_id, version, lang)

    def latest(self, demarche_id: str, lang: str = SOURCE_LANGUAGE) -> Demarche:
        """The newest version, installed ones included, for a new dossier."""
        self.refresh()
        return super().latest(demarche_id, lang)

    def current(self, lang: str = SOURCE_LANGUAGE) -> list[Demarche]:
        """The latest version of each démarche (the menu of new dossiers)."""
        self.refresh()
        return super().current(lang)

    def all(self, lang: str = SOURCE_LANGUAGE) -> list[Demarche]:
        """Every version of every démarche, installed ones included."""
        self.refresh()
        return super().all(lang)
