"""A lost tablet: what the kiosk destroys when the national service says it was revoked, and the
refusal to start that follows, said in French.

Revoked at the national API by a supervisor of its site, the kiosk learns it at its next contact
(any call answers 403 ``borne_revoquee``: sync/client.py raises ``KioskRevoked``). It then, in
this order (:meth:`Withdrawal.carry_out`):

1. writes the marker ``borne-retiree.json`` in its data folder (and ``<base>.retiree`` beside a
   local database, found by a command given ``--db`` alone), fsync'd. Written *first*: a power
   cut in the middle still leaves a kiosk that knows it was revoked, and every start finishes
   the destruction (:func:`refuse_if_withdrawn`) before refusing to go on;
2. overwrites each of its own key files with random bytes, fsyncs, unlinks it and fsyncs the
   folder: the SQLCipher database key and the documents key. Without them the database and the
   document files are random bytes to anyone, the kiosk included;
3. removes its national secret (``service_national.secret``) from the settings file it was read
   from, overwriting the file in place;
4. refuses every unit of work of the open store (``Store.withdraw``) and tells its subscribers
   (the touchscreen shows « Cette borne a été retirée du service… », the command line says it).

What is the kiosk's own (:func:`plan_for`): on its own encrypted SQLite store, both keys. On a
site's shared PostgreSQL store (docs/sites.md) the database is the site's: it has no key file
here and is never touched; the documents key, of which every counter holds its own copy
(docs/sites.md, « Documents shared by the counters »), is destroyed only when it is in the
kiosk's own data folder; a key configured elsewhere could be a place the site shares, and is
left. The site's server credentials named in ``stockage.url`` (a client
certificate's key, a passfile) are left too: the site's administrator revokes the counter's
certificate or role on the server (docs/sites.md).

Overwriting a file is no guarantee on flash storage or a copy-on-write file system (the old
blocks may survive): the protection is that the keys were never anywhere else (docs/security.md).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kiosk.settings.paths import Paths
from kiosk.settings.timezone import counter_time
from kiosk.store.engine import Store, StoreError
from kiosk.store.keys import fsync_dir

log = logging.getLogger(__name__)

#: The marker's name in the data folder.
MARKER = "borne-retiree.json"
#: The marker's suffix beside a local database file.
DATABASE_MARKER_SUFFIX = ".retiree"

_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\s]+?)\s*\]\s*(?:#.*)?$")
_SECRET_IN_SECTION = re.compile(r"^\s*secret\s*=")
_SECRET_DOTTED = re.compile(r"^\s*service_national\s*\.\s*secret\s*=")


class KioskWithdrawn(StoreError):
    """This kiosk was withdrawn from service: its keys are destroyed, nothing opens any more.

    A :class:`StoreError`: every command says it in one French sentence, without a traceback.
    """

    transient = False

    def __init__(self, since: datetime | None) -> None:
        when = f" le {counter_time(since):%d/%m/%Y à %H:%M}" if since is not None else ""
        super().__init__(
            f"Cette borne a été retirée du service{when} (révoquée auprès du service national) :"
            " ses clés de chiffrement ont été détruites, ses dossiers ne peuvent plus être lus"
            " ni envoyés depuis elle. Contactez votre superviseur."
        )
        self.since = since


@dataclass(frozen=True)
class WithdrawalPlan:
    """What this kiosk destroys when revoked, and where it says so."""

    key_files: tuple[Path, ...]
    #: The settings file the national secret was read from (``None``: none, or the
    #: environment's, which the kiosk cannot change).
    credentials_file: Path | None
    markers: tuple[Path, ...]


def plan_for(paths: Paths, *, credentials_file: Path | None = None) -> WithdrawalPlan:
    """What is this kiosk's own, given where its files are (see the module's docstring)."""
    site = paths.database_url is not None
    keys: list[Path] = []
    markers = [paths.data_dir / MARKER]
    if not site:
        keys.append(paths.db_key_file)
        markers.append(paths.database.with_name(paths.database.name + DATABASE_MARKER_SUFFIX))
    if not site or _inside(paths.documents_key_file, paths.data_dir):
        keys.append(paths.documents_key_file)
    return WithdrawalPlan(tuple(keys), credentials_file, tuple(markers))


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def withdrawn_since(plan: WithdrawalPlan) -> tuple[bool, datetime | None]:
    """Whether the kiosk was withdrawn, and when (``None``: the marker does not say)."""
    for marker in plan.markers:
        if not marker.is_file():  # none, or a data folder that is no folder (said elsewhere)
            continue
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return True, None  # a marker is there: whatever else it says, it was revoked
        try:
            return True, datetime.fromisoformat(str(data["retiree_le"])).astimezone(UTC)
        except (KeyError, TypeError, ValueError):
            return True, None
    return False, None


def refuse_if_withdrawn(plan: WithdrawalPlan) -> None:
    """At every start, before the store is opened: a revoked kiosk finishes destroying what was
    left (a power cut in the middle) and refuses to go on.

    Raises:
        KioskWithdrawn: the kiosk was revoked.
    """
    withdrawn, since = withdrawn_since(plan)
    if not withdrawn:
        return
    _destroy(plan)
    raise KioskWithdrawn(since)


class Withdrawal:
    """Carries out the withdrawal once, from whichever thread learns of the revocation first (the
    sync worker, or a supervisor's screen asking the national service)."""

    def __init__(
        self,
        plan: WithdrawalPlan,
        *,
        store: Store | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.plan = plan
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._done: KioskWithdrawn | None = None
        self._subscribers: list[Callable[[KioskWithdrawn], None]] = []

    @property
    def done(self) -> KioskWithdrawn | None:
        """The withdrawal, once carried out in this process."""
        return self._done

    def subscribe(self, callback: Callable[[KioskWithdrawn], None]) -> None:
        """Call ``callback`` (on the thread that learnt it) once the kiosk is withdrawn; at once
        if it already is."""
        self._subscribers.append(callback)
        if self._done is not None:
            callback(self._done)

    def carry_out(self) -> KioskWithdrawn:
        """Mark, destroy, stop (see the module's docstring); returns the error every later use
        of the kiosk gets. Safe to call again: the second call only returns it."""
        with self._lock:
            if self._done is not None:
                return self._done
            now = self._clock()
            _write_markers(self.plan, now)
            _destroy(self.plan)
            self._done = KioskWithdrawn(now)
            if self._store is not None:
                self._store.withdraw(self._done)
            log.warning("borne révoquée par le service national : clés détruites, arrêt")
        for callback in list(self._subscribers):
            callback(self._done)
        return self._done


def _write_markers(plan: WithdrawalPlan, now: datetime) -> None:
    text = json.dumps({"retiree_le": now.astimezone(UTC).isoformat()}) + "\n"
    for marker in plan.markers:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = marker.with_name(f".{marker.name}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, text.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            tmp.replace(marker)
            fsync_dir(marker.parent)
        except OSError as exc:  # the other marker, or the keys destroyed, still stop it
            log.error("marque de borne retirée non écrite : %s (%s)", marker, exc.strerror)


def _destroy(plan: WithdrawalPlan) -> None:
    for path in plan.key_files:
        shred(path)
    if plan.credentials_file is not None:
        forget_secret(plan.credentials_file)


def shred(path: Path) -> bool:
    """Overwrite ``path`` with random bytes, fsync, unlink it, fsync its folder; ``False`` when
    there was nothing to destroy. A failure is logged, never raised: the marker stops the kiosk
    whatever happens here."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.error("clé non écrasée : %s (%s)", path, exc.strerror)
    else:
        try:
            size = max(os.fstat(fd).st_size, 1)
            noise = secrets.token_bytes(size)
            written = 0
            while written < size:
                written += os.write(fd, noise[written:])
            os.fsync(fd)
        except OSError as exc:
            log.error("clé non écrasée : %s (%s)", path, exc.strerror)
        finally:
            os.close(fd)
    try:
        path.unlink()
        fsync_dir(path.parent)
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.error("clé non supprimée : %s (%s)", path, exc.strerror)
        return False
    return True


def forget_secret(settings_file: Path) -> bool:
    """Remove ``service_national.secret`` from the settings file, overwriting it in place (the
    old bytes, the secret's included, are written over before the file is cut to its new
    length); ``False`` when it held none."""
    try:
        raw = settings_file.read_bytes()
    except OSError:
        return False
    kept: list[str] = []
    section = ""
    removed = False
    for line in raw.decode("utf-8", errors="surrogateescape").splitlines(keepends=True):
        header = _SECTION.match(line)
        if header:
            section = re.sub(r"\s+", "", header.group(1))
        elif (section == "service_national" and _SECRET_IN_SECTION.match(line)) or (
            section == "" and _SECRET_DOTTED.match(line)
        ):
            removed = True
            continue
        kept.append(line)
    if not removed:
        return False
    new = "".join(kept).encode("utf-8", errors="surrogateescape")
    try:
        fd = os.open(settings_file, os.O_WRONLY)
        try:
            # The new text, then spaces over what is left of the old one, then cut.
            padded = new + b" " * (len(raw) - len(new))
            written = 0
            while written < len(padded):
                written += os.write(fd, padded[written:])
            os.fsync(fd)
            os.ftruncate(fd, len(new))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        log.error("secret non effacé de %s (%s)", settings_file, exc.strerror)
        return False
    return True
