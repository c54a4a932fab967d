"""The reference server's kiosks: the site each belongs to, their last report, their revocation.

A kiosk is known by its credentials (``clients``: client id → secret) and belongs to one site
(``sites``: client id → site; a kiosk not named there is in :data:`DEFAULT_SITE`, so that the
demo and test kiosks share one). A kiosk reads the kiosks of its own site only; a supervisor at
one of them revokes another (never itself). From then on every call of the revoked kiosk, its
token request included, is answered 403 with the code ``borne_revoquee`` (app.py): its last
report stays, with the references of the dossiers it had not sent.

Reports and revocations are kept in the server's SQLite file, so a training server restarted
still knows them. The report's body is checked as the contract states it, no field more:
a report cannot carry personal data by mistake.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sync import answers
from sync.server.db import SimDatabase

#: The site of the kiosks no site was given for.
DEFAULT_SITE = "site-reference"
#: The fields of a report, and none other (docs/national-api.json, ``RapportBorne``).
REPORT_FIELDS = frozenset(
    {
        "version",
        "file_attente",
        "plus_ancien_non_envoye",
        "derniere_synchro",
        "derniere_erreur",
        "non_envoyes",
        "stockage",
    }
)
REVOKED_CODE = "borne_revoquee"
_SUPERVISOR = re.compile(r"[a-z0-9._-]{1,64}")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rapport_borne"
    " (borne TEXT PRIMARY KEY, corps TEXT NOT NULL, recu_le REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS revocation"
    " (borne TEXT PRIMARY KEY, le REAL NOT NULL, par TEXT NOT NULL)",
)

Answer = tuple[int, dict[str, Any]]


class Revoked(Exception):
    """Raised by the server's handlers for a call of a revoked kiosk (answered 403)."""


def stamp(at: float) -> str:
    """A server time as the contract writes it (RFC 3339, UTC)."""
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


class Fleet:
    """The kiosks the server knows, by site."""

    def __init__(
        self,
        db: SimDatabase,
        clients: Mapping[str, str],
        sites: Mapping[str, str],
        now: Callable[[], float],
    ) -> None:
        self._db = db
        self._clients = clients
        self._sites = dict(sites)
        self._now = now
        with db.tx() as c:
            for statement in _SCHEMA:
                c.execute(statement)
            self._revoked = {str(r[0]) for r in c.execute("SELECT borne FROM revocation")}

    def site_of(self, client: str) -> str:
        """The site of the kiosk ``client``."""
        return self._sites.get(client, DEFAULT_SITE)

    def is_revoked(self, client: str) -> bool:
        """Whether the kiosk was withdrawn from service (read at every call: kept in memory)."""
        return client in self._revoked

    # ------------------------------------------------------------------ the contract

    def record_report(self, client: str, body: object) -> Answer:
        """Keep ``body`` as the kiosk's last report, if it is one the contract allows."""
        wrong = report_errors(body)
        if wrong is not None:
            return 400, {"title": "Rapport refusé.", "detail": wrong}
        now = self._now()
        with self._db.tx() as c:
            c.execute(
                "INSERT INTO rapport_borne (borne, corps, recu_le) VALUES (?, ?, ?)"
                " ON CONFLICT (borne) DO UPDATE SET corps = excluded.corps,"
                " recu_le = excluded.recu_le",
                (client, json.dumps(body, ensure_ascii=False), now),
            )
        return 200, {"borne": client, "recu_le": stamp(now)}

    def listing(self, client: str) -> dict[str, Any]:
        """Every kiosk of ``client``'s site (``BornesDuSite``)."""
        site = self.site_of(client)
        mine = sorted(k for k in self._clients if self.site_of(k) == site)
        return {"site": site, "bornes": [self._entry(k) for k in mine]}

    def revoke(self, client: str, target: str, body: object) -> Answer:
        """A supervisor at ``client`` withdraws ``target`` (of the same site) from service."""
        by = body.get("par") if isinstance(body, dict) else None
        if not isinstance(by, str) or not _SUPERVISOR.fullmatch(by):
            return 400, {
                "title": "Requête invalide.",
                "detail": "par : l'identifiant du superviseur (a-z, 0-9, « . », « _ », « - »).",
            }
        if target not in self._clients or self.site_of(target) != self.site_of(client):
            # Another site's kiosk is as unknown as one that does not exist.
            return 404, {
                "title": "Borne inconnue.",
                "detail": f"Aucune borne de ce site ne porte l'identifiant « {target} ».",
                "code": "borne_inconnue",
            }
        if target == client:
            return 409, {
                "title": "Révocation refusée.",
                "detail": "Une borne ne se révoque pas elle-même : faites-le depuis une autre"
                " borne du site.",
                "code": "borne_elle_meme",
            }
        self.set_revoked(target, by=by)
        return 200, self._entry(target)

    # ------------------------------------------------------------------ the simulator's own

    def set_revoked(self, target: str, *, by: str) -> None:
        """Revoke ``target`` (kept: a second revocation changes nothing)."""
        with self._db.tx() as c:
            c.execute(
                "INSERT INTO revocation (borne, le, par) VALUES (?, ?, ?)"
                " ON CONFLICT (borne) DO NOTHING",
                (target, self._now(), by),
            )
        self._revoked.add(target)

    def reinstate(self, target: str) -> None:
        """Take a revocation back (the simulator's control only: a real service would enrol
        the tablet anew)."""
        with self._db.tx() as c:
            c.execute("DELETE FROM revocation WHERE borne = ?", (target,))
        self._revoked.discard(target)

    def everything(self) -> list[dict[str, Any]]:
        """Every kiosk, whatever its site (``GET /_control/bornes``)."""
        return [{**self._entry(k), "site": self.site_of(k)} for k in sorted(self._clients)]

    def _entry(self, kiosk: str) -> dict[str, Any]:
        """``Borne``: the kiosk, its last report if any, its revocation if any."""
        with self._db.tx() as c:
            report = c.execute(
                "SELECT corps, recu_le FROM rapport_borne WHERE borne = ?", (kiosk,)
            ).fetchone()
            revoked = c.execute(
                "SELECT le, par FROM revocation WHERE borne = ?", (kiosk,)
            ).fetchone()
        entry: dict[str, Any] = {"id": kiosk, "revoquee": revoked is not None}
        if revoked is not None:
            entry["revoquee_le"] = stamp(float(revoked["le"]))
            entry["revoquee_par"] = str(revoked["par"])
        if report is not None:
            entry["rapport"] = json.loads(report["corps"])
            entry["recu_le"] = stamp(float(report["recu_le"]))
        return entry


def report_errors(body: object) -> str | None:
    """What makes ``body`` no ``RapportBorne`` (in French), or ``None``."""
    if not isinstance(body, dict):
        return "Le corps doit être un objet JSON."
    extra = sorted(set(body) - REPORT_FIELDS)
    if extra:
        return f"Champ(s) inconnu(s) : {', '.join(extra)[:200]} (aucun autre n'est accepté)."
    try:
        answers.kiosk_report(body, "")
    except answers.Malformed as exc:
        return str(exc)
    return None
