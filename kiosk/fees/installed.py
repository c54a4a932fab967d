"""The tariffs in use: the shipped ones (``assets/tarifs``) and those installed from the national
service's signed bundles into the kiosk's data directory (``<données>/paquets/tarifs/``,
kiosk/updates/), which may be the only writable one.

A bundle's tariff files are checked before they are put in use (:func:`tariff_kind`, run by
kiosk/updates/folder.py on the bundle written apart): the same strict loader as the shipped
files (kiosk/fees/loader.py), then their fit with the tariffs already in use (no day covered
twice). Nothing unsigned is read from the network: the tariffs a previous release installed
from the unsigned list (``<données>/tarifs/``) are no longer read.

A version is never changed once known: the figures a filed dossier was estimated with stay
those of its version. A version already present may only be *closed* (given its
``en_vigueur_jusqu_au``, the day before the next one), which the service does when it publishes
a new period; the closed copy then replaces the open one. Anything else under a known version
is refused.

:meth:`TariffFiles.book` is read at every estimate: it looks at which bundle is in use (one
``stat``) and reloads only when it changed, so a tariff installed by the sync worker, on its
thread or in another process (``kiosk sync --watch``), is used by the next live estimate.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from kiosk.fees.loader import FILE_NAME_RE, TariffBook, TariffError, load_tariffs
from kiosk.fees.model import Tariff
from kiosk.updates import BundleFolder, BundleKind, BundleRefused

__all__ = ["KIND", "TariffFiles", "tariff_kind"]

log = logging.getLogger(__name__)

KIND = "tarifs"


def _same_figures(a: Tariff, b: Tariff) -> bool:
    """Whether ``b`` is ``a``, at most closed (an end date added): nothing else differs."""
    if a.valid_until is not None and a.valid_until != b.valid_until:
        return False
    return dataclasses.replace(b, valid_until=a.valid_until, file=a.file) == a


def _merged(shipped: TariffBook, installed: TariffBook) -> TariffBook:
    """The shipped tariffs with the installed ones: new versions added, closed copies in place
    of the open ones; an installed copy with other figures is left out, said in the errors."""
    tariffs = {t.version: t for t in shipped.all()}
    errors = [*shipped.errors, *installed.errors]
    for tariff in installed.all():
        known = tariffs.get(tariff.version)
        if known is not None and not _same_figures(known, tariff):
            errors.append(
                TariffError(
                    tariff.file,
                    "version",
                    f"la version {tariff.version} livrée avec la borne a d'autres montants :"
                    " celle de la borne est gardée",
                )
            )
            continue
        tariffs[tariff.version] = tariff
    return TariffBook(tariffs.values(), errors)


class TariffFiles:
    """The shipped tariffs and the installed ones, as one :class:`TariffBook`.

    Thread-safe: the UI's worker thread estimates while the sync thread installs.
    """

    def __init__(self, shipped: Path, installed: BundleFolder | None = None) -> None:
        """``installed``: the tariffs' bundles (None: the shipped ones only)."""
        self.shipped = shipped
        self.installed = installed
        self._lock = threading.Lock()
        self._book: TariffBook | None = None
        self._seen: object = None

    def book(self) -> TariffBook:
        """Every tariff in use (reloaded when another bundle came into use)."""
        with self._lock:
            stamp = self.installed.stamp() if self.installed is not None else None
            if self._book is None or stamp != self._seen:
                self._book = self._load()
                self._seen = stamp
                for error in self._book.errors:
                    log.warning("tarif ignoré : %s", error)
            return self._book

    def _load(self) -> TariffBook:
        shipped = load_tariffs(self.shipped)
        folder = self.installed.current() if self.installed is not None else None
        if folder is None:
            return shipped
        return _merged(shipped, load_tariffs(folder))


def _checker(shipped: Path) -> Callable[[Path, Path | None], None]:
    def check(new: Path, previous: Path | None) -> None:
        book = load_tariffs(new)
        for error in book.errors:
            raise BundleRefused(
                f"tarif refusé : {error.file.name} : {error.place} : {error.reason}"
            )
        in_use = load_tariffs(shipped)
        if previous is not None:
            in_use = _merged(in_use, load_tariffs(previous))
        for tariff in book.all():
            try:
                known = in_use.get(tariff.version)
            except KeyError:
                continue
            if not _same_figures(known, tariff):
                raise BundleRefused(
                    f"tarif refusé : {tariff.file.name} : la version {tariff.version} est déjà"
                    " en usage avec d'autres montants ; une version publiée ne change pas"
                    " (seule sa date de fin peut être donnée)"
                )
        # No day covered twice, the shipped periods included: any error the shipped files do
        # not have on their own is the bundle's.
        alone = load_tariffs(shipped)
        trial = _merged(alone, book)
        for error in trial.errors[len(alone.errors) :]:
            raise BundleRefused(
                f"tarif refusé : {error.file.name} : {error.place} : {error.reason}"
            )

    return check


def tariff_kind(shipped: Path) -> BundleKind:
    """The tariffs' bundles: ``tarif.<AAAA-MM-JJ>.toml`` files, checked by the strict loader
    and against the tariffs in use (the shipped ones: ``shipped``)."""
    return BundleKind(
        name=KIND,
        label="tarifs",
        accepts=lambda name: FILE_NAME_RE.match(name) is not None,
        place=lambda name: name,
        check=_checker(shipped),
        shipped=shipped,
    )
