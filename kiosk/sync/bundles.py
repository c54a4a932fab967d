"""Signed updates of the démarches and the tariffs, the use case the sync worker calls: which
published bundle to fetch, verifying and installing one, and reporting a refusal.

A refused bundle is reported where someone will read it, in plain French and with why: an entry
in the audit journal (« mise à jour refusée », its kind, serial, key and reason) and the list
``kiosk sync status`` shows, written in one transaction; and it is not fetched again, neither
in this run nor after a restart, until the pinned keys change (a key pinned since may make it
acceptable) or the service publishes a newer one. A bundle installed is journalled too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kiosk.security.audit import AuditAction, record
from kiosk.store.engine import Store
from kiosk.store.models import Setting
from kiosk.updates import (
    BundleFolder,
    BundleKind,
    BundleRefused,
    Installed,
    PinnedKey,
    PublishedBundle,
    SignedBundle,
    keys_fingerprint,
    verify,
)
from kiosk.updates.bundle import MAX_BUNDLE_BYTES

__all__ = ["REFUSED_KEY", "BundleUpdates", "Channel"]

log = logging.getLogger(__name__)

#: The bundles refused, with why (JSON, by « <type> <série> »), for ``kiosk sync status``.
REFUSED_KEY = "sync.paquets_refuses"
#: The longest reason the audit journal keeps (its detail's limit).
_AUDIT_REASON = 200


@dataclass(frozen=True)
class Channel:
    """One kind of bundle and the folder it is installed in."""

    kind: BundleKind
    folder: BundleFolder


class BundleUpdates:
    """The bundles this kiosk takes from the network, all of them signed by a pinned key.

    Called from the sync worker's thread only.
    """

    def __init__(
        self,
        store: Store,
        kinds: Sequence[BundleKind],
        root: Path,
        *,
        keys: Sequence[PinnedKey],
        clock: Callable[[], datetime],
        on_installed: Callable[[str], object] | None = None,
    ) -> None:
        """``root``: ``<données>/paquets`` (a folder per kind); ``keys``: the pinned ones;
        ``on_installed``: called with the kind once a bundle is in use, on the worker's thread
        (the catalogue reloads there, not on the UI thread at its next lookup)."""
        self._store = store
        self.channels = tuple(Channel(k, BundleFolder(root / k.name)) for k in kinds)
        self.keys = tuple(keys)
        self._pins = keys_fingerprint(self.keys)
        self._now = clock
        self._refused: set[tuple[str, int]] = set()  # this run's, whatever the pins
        self._on_installed = on_installed

    @property
    def enabled(self) -> bool:
        """Whether a bundle could be accepted at all: without a pinned key, none is fetched."""
        return bool(self.keys)

    def installed(self) -> dict[str, Installed | None]:
        """The bundle in use of each kind."""
        return {c.kind.name: c.folder.installed() for c in self.channels}

    def wanted(self, published: Sequence[PublishedBundle]) -> list[PublishedBundle]:
        """Of the published bundles, the newest of each kind above the one installed, unless it
        was refused under the same pins (by kind, in the order the kinds were given)."""
        if not self.enabled:
            return []
        refused = self._saved_refusals()
        found = []
        for channel in self.channels:
            have = channel.folder.serial()
            newer = [p for p in published if p.kind == channel.kind.name and p.serial > have]
            if not newer:
                continue
            best = max(newer, key=lambda p: p.serial)
            entry = refused.get(_key(best.kind, best.serial))
            if (best.kind, best.serial) in self._refused or (
                isinstance(entry, dict) and entry.get("cles") == self._pins
            ):
                continue
            found.append(best)
        return found

    def too_large(self, published: PublishedBundle) -> bool:
        """Whether the list announces it larger than a kiosk downloads; then it is refused
        (and reported) without being fetched."""
        if published.size <= MAX_BUNDLE_BYTES:
            return False
        self.refuse(
            published.kind,
            published.serial,
            f"paquet {published.kind} n° {published.serial} trop volumineux ({published.size}"
            f" octets annoncés, au plus {MAX_BUNDLE_BYTES}) : pas téléchargé",
        )
        return True

    def install(self, bundle: SignedBundle) -> Installed:
        """Verify the bundle, then install it all or nothing.

        Raises:
            BundleRefused: refused (already reported); the files in use are unchanged.
            OSError: the disk failed; nothing is reported as refused (tried again later).
        """
        channel = next((c for c in self.channels if c.kind.name == bundle.kind), None)
        try:
            if channel is None:
                raise BundleRefused(f"paquet {bundle.kind[:20]} : type inconnu de cette borne")
            manifest = verify(
                bundle,
                keys=self.keys,
                installed=channel.folder.serial(),
                accepts=channel.kind.accepts,
            )
            installed = channel.folder.install(
                channel.kind, manifest, dict(bundle.files), now=self._now()
            )
        except BundleRefused as exc:
            self.refuse(bundle.kind, bundle.serial, str(exc), key_id=bundle.key_id)
            raise
        self._installed(bundle.kind, installed)
        if self._on_installed is not None:
            self._on_installed(bundle.kind)
        return installed

    def refuse(self, kind: str, serial: int, reason: str, *, key_id: str | None = None) -> None:
        """Report a refused bundle: the log, the audit journal and ``kiosk sync status``."""
        log.warning("mise à jour refusée, rien n'est installé : %s", reason)
        self._refused.add((kind, serial))
        now = self._now()
        with self._store.write() as s:
            refused = _marker(s)
            refused[_key(kind, serial)] = {
                "type": kind,
                "serie": serial,
                "motif": reason[:500],
                "le": now.isoformat(),
                "cles": self._pins,
            }
            _set_marker(s, refused)
            detail: dict[str, Any] = {
                "paquet": kind[:20],
                "serie": serial,
                "motif": _short(reason),
            }
            if key_id is not None:
                detail["cle"] = key_id[:20]
            record(s, AuditAction.UPDATE_REFUSED, at=now, detail=detail)

    def _installed(self, kind: str, installed: Installed) -> None:
        with self._store.write() as s:
            refused = _marker(s)
            # An older one refused is superseded: no longer a problem to show.
            kept = {
                k: v
                for k, v in refused.items()
                if not (
                    isinstance(v, dict)
                    and v.get("type") == kind
                    and isinstance(v.get("serie"), int)
                    and v["serie"] <= installed.serial
                )
            }
            if kept != refused:
                _set_marker(s, kept)
            record(
                s,
                AuditAction.UPDATE_INSTALLED,
                at=self._now(),
                detail={"paquet": kind, "serie": installed.serial, "cle": installed.key_id},
            )

    def _saved_refusals(self) -> dict[str, Any]:
        with self._store.read() as s:
            return _marker(s)


def _key(kind: str, serial: int) -> str:
    return f"{kind} {serial}"


def _short(reason: str) -> str:
    return reason if len(reason) <= _AUDIT_REASON else reason[: _AUDIT_REASON - 1] + "…"


def _marker(s: Session) -> dict[str, Any]:
    row = s.get(Setting, REFUSED_KEY)
    value = None if row is None else json.loads(row.value)
    return value if isinstance(value, dict) else {}


def _set_marker(s: Session, value: dict[str, Any]) -> None:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    row = s.get(Setting, REFUSED_KEY)
    if row is None:
        s.add(Setting(key=REFUSED_KEY, value=text))
    else:
        row.value = text
