"""``kiosk audit``, ``kiosk purge`` and ``kiosk agent unlock|disable``: the security commands.

Registered through ``app.cli._EXTENSIONS``; only the standard library is imported at module level
so that ``kiosk --help`` stays instant. These commands open the store directly (no catalogue, no
devices): they are what support staff run on a kiosk that may be half broken.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from app.cli_args import row_count

if TYPE_CHECKING:
    from kiosk.settings.paths import Paths
    from kiosk.store import Store

EXIT_OK = 0
EXIT_ERROR = 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the commands to the ``kiosk`` parser (and two actions to ``kiosk agent``)."""
    audit = sub.add_parser("audit", help="journal de sécurité (vérifier, afficher)")
    actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify", parents=[common], help="vérifier que le journal n'a pas été altéré"
    )
    verify.set_defaults(run=_audit_verify)
    show = actions.add_parser("show", parents=[common], help="dernières entrées du journal")
    show.add_argument("--limit", type=row_count, default=20, metavar="N", help="nombre d'entrées")
    show.add_argument("--dossier", metavar="REF", help="seulement les entrées de ce dossier")
    show.set_defaults(run=_audit_show)

    purge = sub.add_parser(
        "purge",
        parents=[common],
        help="effacer les données personnelles des dossiers après le délai de conservation",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="lister sans rien effacer (simulation)"
    )
    purge.set_defaults(run=_purge)

    # `kiosk agent` is declared in app/cli.py; its actions parser is reached through argparse's
    # (stable, if underscored) _SubParsersAction so that the two commands live here.
    agent = sub.choices["agent"]
    agent_actions = next(a for a in agent._actions if isinstance(a, argparse._SubParsersAction))
    for name, text, run in (
        ("unlock", "débloquer un agent après trop de codes PIN faux", _agent_unlock),
        ("disable", "désactiver le compte d'un agent", _agent_disable),
    ):
        parser = agent_actions.add_parser(name, parents=[common], help=text)
        parser.add_argument("identifiant", metavar="ID")
        parser.set_defaults(run=run)


def _fail(message: str) -> int:
    sys.stderr.write(f"Erreur : {message}\n")
    return EXIT_ERROR


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(text + "\n")


def _paths(args: argparse.Namespace) -> Paths:
    from app.cli_settings import settings_of

    return settings_of(args).paths


def _open(paths: Paths) -> Store:
    from kiosk.security.revocation import plan_for, refuse_if_withdrawn
    from kiosk.store import open_store

    refuse_if_withdrawn(plan_for(paths))  # a revoked kiosk says so, not « key missing »
    return open_store(
        paths.database,
        key_file=paths.db_key_file,
        url=paths.database_url,
        chain=paths.audit_chain,
    )


def _audit_verify(args: argparse.Namespace) -> int:
    from kiosk.security.audit import AuditLog
    from kiosk.store import StoreError

    try:
        store = _open(_paths(args))
    except StoreError as exc:
        return _fail(str(exc))
    try:
        result = AuditLog(store).verify()
    finally:
        store.close()
    if result.ok and [c.name for c in result.chains] in ([], [""]):
        text = (
            f"Journal de sécurité intact : {result.count} entrée(s)."
            f"\nEmpreinte de la dernière entrée : {result.head}"
        )
    elif result.ok:  # a site store: a chain per counter (kiosk/security/audit.py)
        text = "\n".join(
            [
                f"Journal de sécurité intact : {result.count} entrée(s),"
                f" {len(result.chains)} chaîne(s).",
                *(
                    f"  - {c.name or 'avant les chaînes par borne'} : {c.count} entrée(s),"
                    f" dernière empreinte {c.head}"
                    for c in result.chains
                ),
                f"Empreinte finale (toutes les chaînes) : {result.head}",
            ]
        )
    else:
        lines = [f"Journal de sécurité ALTÉRÉ ({result.count} entrée(s) lues) :"]
        lines += [f"  - {b.message}" for b in result.breaks]
        if result.unreported:
            lines.append(f"  … et {result.unreported} autre(s) rupture(s).")
        text = "\n".join(lines)
    _emit(args, result.to_json(), text)
    return EXIT_OK if result.ok else EXIT_ERROR


def _audit_show(args: argparse.Namespace) -> int:
    from kiosk.dossiers.reference import InvalidReference, parse_reference
    from kiosk.security.audit import AuditLog
    from kiosk.store import StoreError

    reference = None
    if args.dossier:
        try:
            reference = parse_reference(args.dossier)
        except InvalidReference as exc:
            return _fail(str(exc))
    try:
        store = _open(_paths(args))
    except StoreError as exc:
        return _fail(str(exc))
    try:
        entries = AuditLog(store).entries(limit=args.limit, dossier_ref=reference)
    finally:
        store.close()
    lines = [
        f"{e.number:<9} {e.at:%d/%m/%Y %H:%M:%S} UTC  agent {e.agent_id or '-':<4}"
        f" {e.label:<30} {e.dossier_ref or '':<13}"
        f" {json.dumps(e.detail, ensure_ascii=False) if e.detail else ''}".rstrip()
        for e in entries
    ]
    _emit(args, [e.to_json() for e in entries], "\n".join(lines) or "Journal vide.")
    return EXIT_OK


def _purge(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from app.cli_settings import settings_of
    from app.container import open_documents
    from app.housekeeping import sweep_leftover_scans
    from devices.capture import FolderSource
    from kiosk.security.retention import RetentionService
    from kiosk.store import StoreError

    settings = settings_of(args)
    paths = settings.paths
    try:
        store = _open(paths)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        report = RetentionService(
            store, open_documents(store, paths), policy=settings.retention_policy()
        ).purge(dry_run=args.dry_run)
    finally:
        store.close()
    # The scanner's folder too, as the kiosk's own schedule does (app/housekeeping.py).
    scans = 0
    if not args.dry_run:
        try:
            scans = sweep_leftover_scans(FolderSource(settings.scan_folder), datetime.now(UTC))
        except OSError as exc:
            sys.stderr.write(
                f"Attention : dossier du scanner non balayé : {exc.strerror or exc}.\n"
            )
    rows = [
        f"  {d.reference}  {d.state.label:<12} dernière modification le {d.last_change:%d/%m/%Y}"
        for d in report.dossiers
    ]
    if report.dry_run:
        head = f"Simulation : {len(report.dossiers)} dossier(s) seraient effacé(s)."
    else:
        head = (
            f"{len(report.dossiers)} dossier(s) effacé(s),"
            f" {report.files_deleted} fichier(s) supprimé(s)."
        )
        rows.append(f"{scans} numérisation(s) laissée(s) supprimée(s) du dossier du scanner.")
    _emit(args, {**report.to_json(), "numerisations_supprimees": scans}, "\n".join([head, *rows]))
    return EXIT_OK


def _agent_unlock(args: argparse.Namespace) -> int:
    return _agent_change(args, unlock=True)


def _agent_disable(args: argparse.Namespace) -> int:
    return _agent_change(args, unlock=False)


def _agent_change(args: argparse.Namespace, *, unlock: bool) -> int:
    from kiosk.security.agents import AgentError, AgentService
    from kiosk.store import StoreError

    try:
        store = _open(_paths(args))
    except StoreError as exc:
        return _fail(str(exc))
    try:
        agents = AgentService(store)
        agent = agents.unlock(args.identifiant) if unlock else agents.disable(args.identifiant)
    except AgentError as exc:
        return _fail(str(exc))
    finally:
        store.close()
    done = "débloqué" if unlock else "désactivé"
    _emit(
        args,
        {"identifiant": agent.identifiant, "nom": agent.nom, "action": done},
        f"Agent « {agent.identifiant} » ({agent.nom}) {done}.",
    )
    return EXIT_OK
