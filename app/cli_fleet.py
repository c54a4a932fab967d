"""``kiosk bornes``: the site's kiosks and their reports; ``kiosk bornes revoquer ID``: withdraw a
lost tablet from service (docs/sites.md, « A lost tablet »).

Registered through ``app.cli._EXTENSIONS``; only the standard library is imported at module level
so that ``kiosk --help`` stays instant. As ``kiosk agent unlock``, the console is trusted as a
supervisor (whoever has a shell on the kiosk has its keys): a revocation is journalled « par
console ». The same use case as the supervisor's screen (kiosk/sync/fleet.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.ports.national import SiteKiosk
    from kiosk.sync.fleet import KioskRow, SiteView

EXIT_OK = 0
EXIT_ERROR = 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``kiosk bornes`` to the ``kiosk`` parser."""
    fleet = sub.add_parser(
        "bornes",
        parents=[common],
        help="bornes du site et leurs rapports ; « revoquer ID » retire une tablette perdue",
    )
    fleet.add_argument(
        "action", nargs="?", choices=("revoquer",), help="revoquer : retirer la borne ID du service"
    )
    fleet.add_argument("borne", nargs="?", metavar="ID", help="identifiant de la borne")
    fleet.set_defaults(run=_bornes)


def _fail(message: str) -> int:
    sys.stderr.write(f"Erreur : {message}\n")
    return EXIT_ERROR


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _bornes(args: argparse.Namespace) -> int:
    from app.cli_settings import credentials_file_of, settings_of
    from app.container import build
    from app.sync_setup import SyncConfigError, SyncSettings, site_kiosks_service
    from kiosk.sync.fleet import FleetError

    if args.action == "revoquer" and not args.borne:
        return _fail("indiquez la borne à révoquer : kiosk bornes revoquer ID.")
    if args.action is None and args.borne:
        return _fail(
            f"action inconnue « {args.borne} » : kiosk bornes, ou kiosk bornes revoquer ID."
        )
    settings = settings_of(args)
    try:
        sync_settings = SyncSettings.from_settings(settings)
    except SyncConfigError as exc:
        return _fail(str(exc))
    container = build(settings, credentials_file=credentials_file_of(args))
    try:
        service = site_kiosks_service(container, sync_settings)
        if args.action == "revoquer":
            try:
                revoked = service.revoke(args.borne, by=None)
            except FleetError as exc:
                return _fail(str(exc))
            return _revoked(args, revoked)
        return _listing(args, service.view())
    finally:
        container.close()


def _revoked(args: argparse.Namespace, kiosk: SiteKiosk) -> int:
    unsent = list(kiosk.report.unsent) if kiosk.report else []
    if args.json:
        _out(json.dumps(_kiosk_json(kiosk), ensure_ascii=False, indent=2))
        return EXIT_OK
    _out(
        f"Borne « {kiosk.id} » révoquée : à son prochain contact avec le service national, elle"
        " détruit ses clés et s'arrête."
    )
    if unsent:
        _out(f"Dossiers qu'elle n'avait pas envoyés (son dernier rapport) : {len(unsent)}")
        for reference in unsent:
            _out(f"  {reference}")
    elif kiosk.report is None:
        _out("Elle n'a jamais envoyé de rapport : ses dossiers non envoyés ne sont pas connus.")
    else:
        _out("Son dernier rapport ne signalait aucun dossier non envoyé.")
    return EXIT_OK


def _listing(args: argparse.Namespace, view: SiteView) -> int:
    if args.json:
        _out(
            json.dumps(
                {
                    "site": view.site,
                    "lue_le": view.fetched_at.isoformat() if view.fetched_at else None,
                    "erreur": view.error,
                    "bornes": [_row_json(r) for r in view.rows],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_ERROR if view.error else EXIT_OK
    if view.error:
        when = f" ; dernière liste obtenue le {_when(view.fetched_at)}" if view.fetched_at else ""
        sys.stderr.write(f"Liste des bornes non obtenue : {view.error}{when}.\n")
        if not view.rows:
            return EXIT_ERROR
    _out(f"Site {view.site} — {len(view.rows)} borne(s), liste du {_when(view.fetched_at)}")
    for row in view.rows:
        _out(_row_text(row))
    return EXIT_ERROR if view.error else EXIT_OK


def _row_text(row: KioskRow) -> str:
    k = row.kiosk
    name = f"{k.id} (cette borne)" if row.this_kiosk else k.id
    lines = []
    if k.revoked:
        by = f" par {k.revoked_by}" if k.revoked_by else ""
        lines.append(f"{name} — RÉVOQUÉE le {_when(k.revoked_at)}{by}")
    elif k.report is None:
        lines.append(f"{name} — aucun rapport reçu")
    if k.report is not None:
        r = k.report
        oldest = f" (le plus ancien du {_when(r.oldest_unsent)})" if r.oldest_unsent else ""
        if not k.revoked:
            lines.append(f"{name} — version {r.version}, dernier rapport le {_when(k.received_at)}")
        lines.append(f"  en file : {r.queued}{oldest}")
        lines.append(f"  dernière synchronisation réussie : {_when(r.last_sync)}")
        lines.append(f"  dernière erreur : {r.last_error or 'aucune'}")
        if r.storage == "site":
            lines.append("  dossiers dans la base partagée du site")
        if k.revoked:
            lines.append(f"  non envoyés (dernier rapport) : {', '.join(r.unsent) or 'aucun'}")
    if row.silent:
        lines.append("  ⚠ silencieuse depuis plus de 48 h")
    if row.waiting_too_long:
        lines.append("  ⚠ dossiers non envoyés depuis plus d'un jour")
    return "\n".join(lines)


def _when(at: datetime | None) -> str:
    if at is None:
        return "jamais"
    from kiosk.settings.timezone import counter_time

    return f"{counter_time(at):%d/%m/%Y à %H:%M}"


def _kiosk_json(k: SiteKiosk) -> dict[str, Any]:
    return {
        "id": k.id,
        "revoquee": k.revoked,
        "revoquee_le": k.revoked_at.isoformat() if k.revoked_at else None,
        "revoquee_par": k.revoked_by,
        "rapport": k.report.to_json() if k.report else None,
        "recu_le": k.received_at.isoformat() if k.received_at else None,
    }


def _row_json(row: KioskRow) -> dict[str, Any]:
    return {
        **_kiosk_json(row.kiosk),
        "cette_borne": row.this_kiosk,
        "silencieuse": row.silent,
        "non_envoyes_depuis_plus_d_un_jour": row.waiting_too_long,
    }
