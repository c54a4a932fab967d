"""``kiosk paiement REF [--timbre NUMBER]``: give a timbre fiscal électronique for a filed dossier,
or see where its payment stands (the timbres given and what the service said of them, the
payment reference to pay later).

The timbre is recorded at once (the same use case as the screens: kiosk/dossiers/payment.py) and
checked by the national service when the sync reaches it: offline it waits, and ``kiosk sync
status`` says so. Only the standard library at import time (``kiosk --help`` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.dossiers.payment import PaymentView

EXIT_OK, EXIT_ERROR = 0, 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``paiement`` to the ``kiosk`` command."""
    pay = sub.add_parser(
        "paiement",
        parents=[common],
        help="donner un timbre fiscal électronique pour un dossier déposé, ou voir son paiement",
    )
    pay.add_argument("reference", metavar="REF")
    pay.add_argument(
        "--timbre",
        metavar="NUMERO",
        help="les 16 chiffres du timbre fiscal électronique (espaces et tirets acceptés)",
    )
    pay.set_defaults(run=_payment)


def view_text(view: PaymentView) -> str:
    """Where a dossier's payment stands, as the agent reads it in a terminal."""
    from kiosk.dossiers.payment import grouped
    from kiosk.fees import format_euros

    lines = [f"Dossier {view.reference} : {view.state.label}"]
    for t in view.timbres:
        line = f"  Timbre {grouped(t.timbre)} : {t.status_text}"
        if t.amount_cents is not None:
            line += f", {format_euros(t.amount_cents)}"
        if t.remaining_cents:
            line += f" ; reste à payer {format_euros(t.remaining_cents)}"
        lines.append(line)
        if t.message and t.state != "accepte":
            lines.append(f"      {t.message}")
    if not view.timbres:
        lines.append("  Aucun timbre fiscal donné.")
    if view.payment_reference is not None and view.payment_amount_cents is not None:
        lines.append(
            f"  Référence de paiement : {view.payment_reference}"
            f" ({format_euros(view.payment_amount_cents)})"
        )
    return "\n".join(lines)


def _payment(args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from app.container import build
    from kiosk.dossiers.errors import DossierError
    from kiosk.store import StoreError

    try:
        container = build(settings_of(args))
    except StoreError as exc:
        sys.stderr.write(f"Erreur : {exc}" + "\n")
        return EXIT_ERROR
    try:
        if args.timbre is not None:
            view = container.dossiers.add_timbre(args.reference, args.timbre)
        else:
            view = container.dossiers.payment(args.reference)
    except (DossierError, StoreError) as exc:
        sys.stderr.write(f"Erreur : {exc}" + "\n")
        return EXIT_ERROR
    finally:
        container.close()
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(view.to_json(), ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    text = view_text(view)
    if args.timbre is not None:
        text += (
            "\nTimbre enregistré : le service national le vérifiera à la prochaine"
            " synchronisation (kiosk sync status dit où il en est)."
        )
    sys.stdout.write(text + "\n")
    return EXIT_OK
