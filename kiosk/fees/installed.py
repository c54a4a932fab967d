"""The tariffs in use: the shipped ones (``assets/tarifs``) and those installed from the national
service into the kiosk's data directory (``<données>/tarifs``), which may be the only writable one.

An update is checked before it is written: its size, its SHA-256 against what the service
announced, then the same strict loader as the shipped files (kiosk/fees/loader.py), then its fit
with the tariffs already in use (no day covered twice). Only then is it written, atomically
(a temporary file in the same folder, renamed): a kiosk stopped halfway never sees half a file,
and a refused file never replaces anything.

A version is never changed once known: the figures a filed dossier was estimated with stay
those of its version. A version already present may only be *closed* (given its
``en_vigueur_jusqu_au``, the day before the next one), which the service does when it publishes
a new period; the closed copy then replaces the open one. Anything else under a known version
is refused.

:meth:`TariffFiles.book` is read at every estimate: it looks at the installed folder (one small
listing) and reloads only when the folder changed, so a tariff installed by the sync worker, on
its thread or in another process (``kiosk sync --watch``), is used by the next live estimate.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

from kiosk.fees.loader import FILE_NAME_RE, TariffBook, TariffError, load_tariff, load_tariffs
from kiosk.fees.model import Tariff

__all__ = ["MAX_TARIFF_BYTES", "TariffFiles", "TariffRefused", "sha256_of"]

log = logging.getLogger(__name__)

#: A tariff file is ~14 kB; 256 kB leaves room for many more sources and regions, and stops a
#: hostile or broken service from filling the kiosk's disk or memory.
MAX_TARIFF_BYTES = 256_000


class TariffRefused(Exception):
    """An update that is not installed; ``str()`` says why, in French, for the log."""


def sha256_of(content: bytes) -> str:
    """The hex SHA-256 the service announces for a file."""
    return hashlib.sha256(content).hexdigest()


def _same_figures(a: Tariff, b: Tariff) -> bool:
    """Whether ``b`` is ``a``, at most closed (an end date added): nothing else differs."""
    if a.valid_until is not None and a.valid_until != b.valid_until:
        return False
    return dataclasses.replace(b, valid_until=a.valid_until, file=a.file) == a


class TariffFiles:
    """The shipped tariffs and the installed ones, as one :class:`TariffBook`.

    Thread-safe: the UI's worker thread estimates while the sync thread installs.
    """

    def __init__(self, shipped: Path, installed: Path | None = None) -> None:
        """``installed``: the writable folder of the updates (None: the shipped ones only)."""
        self.shipped = shipped
        self.installed = installed
        self._lock = threading.Lock()
        self._book: TariffBook | None = None
        self._seen: object = None

    # ------------------------------------------------------------------ reading

    def _listing(self) -> object:
        if self.installed is None:
            return ()
        try:
            with os.scandir(self.installed) as entries:
                return sorted(
                    (e.name, e.stat().st_size, e.stat().st_mtime_ns)
                    for e in entries
                    if FILE_NAME_RE.match(e.name)
                )
        except OSError:
            return ()

    def book(self) -> TariffBook:
        """Every tariff in use (reloaded when the installed folder changed)."""
        with self._lock:
            listing = self._listing()
            if self._book is None or listing != self._seen:
                self._book = self._load()
                self._seen = listing
                for error in self._book.errors:
                    log.warning("tarif ignoré : %s", error)
            return self._book

    def _load(self) -> TariffBook:
        shipped = load_tariffs(self.shipped)
        tariffs = {t.version: t for t in shipped.all()}
        errors = list(shipped.errors)
        if self.installed is not None and self.installed.is_dir():
            extra = load_tariffs(self.installed)
            errors.extend(extra.errors)
            for tariff in extra.all():
                known = tariffs.get(tariff.version)
                if known is not None and not _same_figures(known, tariff):
                    errors.append(
                        TariffError(
                            tariff.file,
                            "version",
                            f"la version {tariff.version} livrée avec la borne a d'autres"
                            " montants : celle de la borne est gardée",
                        )
                    )
                    continue
                tariffs[tariff.version] = tariff
        return TariffBook(tariffs.values(), errors)

    def versions(self) -> dict[str, str]:
        """The SHA-256 of the file in use for each version (what need not be downloaded)."""
        return {t.version: sha256_of(t.file.read_bytes()) for t in self.book().all()}

    # ------------------------------------------------------------------ installing

    def install(self, version: str, content: bytes, sha256: str) -> Tariff:
        """Check an update and install it atomically; returns the tariff now in use.

        Raises:
            TariffRefused: too large, not the announced SHA-256, invalid (the loader's French
                message), a change to a version already known, or a period already covered.
        """
        name = f"tarif.{version}.toml"
        if self.installed is None:
            raise TariffRefused("aucun dossier où installer les tarifs sur cette borne")
        if not FILE_NAME_RE.match(name) or "/" in version:
            raise TariffRefused(f"version « {version[:40]} » invalide (AAAA-MM-JJ attendu)")
        if len(content) > MAX_TARIFF_BYTES:
            raise TariffRefused(
                f"tarif {version} trop volumineux ({len(content)} octets, au plus"
                f" {MAX_TARIFF_BYTES})"
            )
        if sha256_of(content) != sha256.lower():
            raise TariffRefused(
                f"tarif {version} : empreinte SHA-256 différente de celle annoncée par le"
                " service national (fichier altéré ou incomplet)"
            )
        self.installed.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".tarif-", suffix=".part", dir=self.installed)
        staging = Path(temp)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            # The loader reads the version from the file's name: check a copy under that name,
            # in a folder of its own (never listed by the book).
            checked = self._check(staging, name, version)
            staging.replace(self.installed / name)  # atomic on one file system
        finally:
            staging.unlink(missing_ok=True)
        log.info("tarif %s installé (en vigueur du %s)", version, checked.valid_from)
        return self.book().get(version)

    def _check(self, staging: Path, name: str, version: str) -> Tariff:
        with tempfile.TemporaryDirectory(dir=staging.parent, prefix=".verif-") as folder:
            probe = Path(folder) / name
            probe.write_bytes(staging.read_bytes())
            try:
                tariff = load_tariff(probe)
            except TariffError as error:
                raise TariffRefused(
                    f"tarif {version} invalide : {error.place}: {error.reason}"
                ) from None
            book = self.book()
            try:
                known: Tariff | None = book.get(version)
            except KeyError:
                known = None
            if known is not None:
                if not _same_figures(known, tariff):
                    raise TariffRefused(
                        f"tarif {version} : cette version est déjà en usage avec d'autres"
                        " montants ; une version publiée ne change pas (seule sa date de fin"
                        " peut être donnée)"
                    )
                others = [t for t in book.all() if t.version != version]
            else:
                others = book.all()
            trial = TariffBook([*others, tariff])
            if trial.errors:
                raise TariffRefused(f"tarif {version} : {trial.errors[0].reason}")
            return tariff
