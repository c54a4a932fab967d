"""``kiosk suivi``: the dossiers that need someone after the counter, and the attempts to reach
each person.

- ``kiosk suivi [--besoin a_completer|paiement|accepte|refuse] [--limite N] [--json]``: the
  worklist, most urgent first, with the count of each need;
- ``kiosk suivi REF [--json]``: one dossier, with every attempt made;
- ``kiosk suivi REF --contact CANAL --resultat RESULTAT [--note TEXTE]``: record an attempt;
- ``kiosk suivi REF --remis ID``: a document the service issued was handed over.

The same use cases as the screen (kiosk/followup/worklist.py). Only the standard library at
import time (``kiosk --help`` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.followup.worklist import WorkItem, Worklist

EXIT_OK, EXIT_ERROR = 0, 1

_NEEDS = ("a_completer", "paiement", "accepte", "refuse")
_CHANNELS = ("telephone", "courrier", "guichet", "sms")
_OUTCOMES = ("joint", "injoignable", "message", "venu", "remis", "imprime", "envoye", "echec")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``suivi`` to the ``kiosk`` command."""
    follow = sub.add_parser(
        "suivi",
        parents=[common],
        help="dossiers à suivre après le guichet (à compléter, paiement, décisions à annoncer)",
    )
    follow.add_argument("reference", metavar="REF", nargs="?", help="un dossier de la liste")
    follow.add_argument("--besoin", choices=_NEEDS, help="seulement les dossiers de ce besoin")
    follow.add_argument("--limite", type=int, default=200, metavar="N", help="au plus N dossiers")
    follow.add_argument("--contact", choices=_CHANNELS, help="noter une tentative par ce canal")
    follow.add_argument("--resultat", choices=_OUTCOMES, help="ce qu'a donné la tentative")
    follow.add_argument("--note", default=None, help="une note de l'agent (facultative)")
    follow.add_argument("--remis", type=int, metavar="ID", help="document national remis")
    follow.set_defaults(run=_follow)


def _follow(args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from app.container import build
    from kiosk.dossiers.base import utc_now
    from kiosk.dossiers.errors import DossierError
    from kiosk.followup.contact import Channel, Outcome
    from kiosk.followup.worklist import FollowUpService, Need
    from kiosk.store import StoreError

    if (args.contact is None) != (args.resultat is None):
        sys.stderr.write("Erreur : --contact et --resultat vont ensemble.\n")
        return EXIT_ERROR
    if args.reference is None and (args.contact or args.remis is not None):
        sys.stderr.write("Erreur : indiquez la référence du dossier.\n")
        return EXIT_ERROR
    try:
        container = build(settings_of(args))
    except StoreError as exc:
        sys.stderr.write(f"Erreur : {exc}" + "\n")
        return EXIT_ERROR
    service = FollowUpService(container.store, container.catalog, clock=utc_now)
    try:
        if args.reference is None:
            need = Need(args.besoin) if args.besoin else None
            worklist = service.worklist(need=need, limit=max(args.limite, 0))
            return _print_list(worklist, as_json=bool(getattr(args, "json", False)))
        if args.remis is not None:
            service.hand_over(args.reference, args.remis)
        if args.contact is not None:
            service.record_contact(
                args.reference, Channel(args.contact), Outcome(args.resultat), note=args.note
            )
        item = service.item(args.reference)
    except (DossierError, StoreError) as exc:
        sys.stderr.write(f"Erreur : {exc}" + "\n")
        return EXIT_ERROR
    finally:
        container.close()
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(item.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(item_lines(item, full=True)) + "\n")
    return EXIT_OK


def _print_list(worklist: Worklist, *, as_json: bool) -> int:
    if as_json:
        out = {
            "nombre": {need.value: n for need, n in worklist.counts.items()},
            "dossiers": [item.to_json() for item in worklist.items],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    counts = " ; ".join(f"{need.label} : {n}" for need, n in worklist.counts.items())
    lines = [f"Dossiers à suivre : {worklist.total} ({counts})"]
    for item in worklist.items:
        lines.append("")
        lines.extend(item_lines(item, full=False))
    if len(worklist.items) < worklist.total:
        lines.append("")
        lines.append(
            f"… {worklist.total - len(worklist.items)} autres : --besoin ou --limite pour les voir."
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def item_lines(item: WorkItem, *, full: bool) -> list[str]:
    """One dossier of the worklist, as the agent reads it in a terminal."""
    from kiosk.fees import format_euros
    from kiosk.messages import format_date
    from kiosk.settings.timezone import counter_time

    need = item.need.label if item.need else f"{item.state.label}, plus rien à faire"
    head = f"{item.reference} · {need} · {item.usager or 'usager non renseigné'}"
    if item.training:
        head += " · formation"
    lines = [head, f"  {item.demarche_title}"]
    for reason in item.reasons:
        lines.append(f"  - {reason.kind.label} : {reason.message}")
    if not item.reasons and item.reason_text:
        lines.append(f"  Motif : {item.reason_text}")
    if item.deadline is not None:
        lines.append(f"  À fournir avant le {format_date(item.deadline, 'fr')}")
    if item.amount_due_cents is not None and item.state.value == "attente_paiement":
        due = f"  Montant dû : {format_euros(item.amount_due_cents)}"
        if item.payment_reference:
            due += f" (référence de paiement {item.payment_reference})"
        lines.append(due)
    for document in item.to_hand_over:
        state = "reçu" if document.received else "pas encore reçu"
        lines.append(f"  À remettre : {document.label} (n° {document.id}, {state})")
    contact = f"  Contact : {item.contact_label}"
    if item.telephone:
        contact += f" · {item.telephone}"
    lines.append(contact)
    if item.address and (full or item.contact_mode == "courrier"):
        lines.append("  Adresse : " + ", ".join(item.address))
    told = f"prévenu le {format_date(item.told_at, 'fr')}" if item.told_at else "pas encore prévenu"
    lines.append(f"  {told} · {len(item.attempts)} tentative(s)")
    shown = item.attempts if full else item.attempts[-1:]
    for attempt in shown:
        who = f", {attempt.agent}" if attempt.agent else ""
        note = f" — {attempt.note}" if attempt.note else ""
        lines.append(
            f"    {counter_time(attempt.at):%d/%m/%Y %H:%M} · {attempt.channel.label}"
            f" · {attempt.outcome.label}{who}{note}"
        )
    return lines
