"""``kiosk frais REF``: what a dossier will cost, line by line, with the total.

Only the standard library at import time (``kiosk --help`` stays fast). Each line gives the fee,
its amount and its basis in words; a fee that cannot be computed yet says what to answer, and the
total is then not given (never a wrong number). A filed dossier shows the estimate it kept at its
filing (which tariff, and when), and the amount the national service said is due once it has
acknowledged the filing. ``--json`` gives amounts in cents as well.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.dossiers.fees import FeesView
    from kiosk.fees import Estimate

EXIT_OK, EXIT_ERROR = 0, 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``frais`` to the ``kiosk`` command."""
    fees = sub.add_parser(
        "frais", parents=[common], help="estimer ce que coûte un dossier, ligne par ligne"
    )
    fees.add_argument("reference", metavar="REF")
    fees.set_defaults(run=_fees)


def text_of(result: Estimate) -> str:
    """The estimate as an agent reads it in a terminal."""
    from kiosk.fees import format_euros

    lines = [f"Frais du dossier (tarif du {result.tariff_version or '—'}, au {result.at:%d/%m/%Y})"]
    width = max((len(str(line.label)) for line in result.lines), default=0)
    for line in result.lines:
        amount = format_euros(line.amount)
        lines.append(f"  {line.label!s:<{width}}  {amount:>12}   {line.basis_text()}")
    if result.note is not None:
        lines.append(f"  {result.note}")
    if result.missing:
        lines.append("Manque pour calculer :")
        lines += [f"  {item.reason}" for item in result.missing]
    if result.total is not None:
        lines.append(f"  {'Total':<{width}}  {format_euros(result.total):>12}")
    elif result.estimated:
        lines.append("Total : pas encore calculable.")
    return "\n".join(lines)


def view_text(view: FeesView) -> str:
    """A dossier's fees: the estimate, when it was kept, and the amount said due."""
    from kiosk.fees import format_euros
    from kiosk.messages import format_date, format_time

    lines = [text_of(view.estimate)]
    if view.kept_at is not None:
        lines.append(
            f"Estimation gardée au dépôt du dossier, le {format_date(view.kept_at, 'fr')} à"
            f" {format_time(view.kept_at)} : un tarif publié depuis ne la change pas."
        )
    if view.amount_due is not None:
        total = view.estimate.total
        estimated = "pas de total" if total is None else format_euros(total)
        if view.differs:
            lines.append(
                "Montant dû selon le service national :"
                f" {format_euros(view.amount_due)} (estimation : {estimated})"
            )
        else:
            lines.append(
                "Montant dû selon le service national :"
                f" {format_euros(view.amount_due)} (le même que l'estimation)"
            )
    return "\n".join(lines)


def json_of(view: FeesView) -> dict[str, Any]:
    """``--json``: the estimate's own JSON, with when it was kept and the amount said due."""
    from kiosk.fees import format_euros

    data = view.estimate.to_json()
    data["garde_le"] = None if view.kept_at is None else view.kept_at.isoformat()
    data["montant_du_centimes"] = view.amount_due
    data["montant_du"] = None if view.amount_due is None else format_euros(view.amount_due)
    data["ecart"] = view.differs
    return data


def _fees(args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from app.container import build
    from kiosk.dossiers.errors import DossierError
    from kiosk.dossiers.fees import DossierFees
    from kiosk.fees import default_tariffs_dir
    from kiosk.fees.installed import KIND, TariffFiles
    from kiosk.fees.kept import KeptEstimateError
    from kiosk.store import StoreError
    from kiosk.updates import BundleFolder

    settings = settings_of(args)
    # The shipped tariffs and those installed from signed bundles (docs/fees.md).
    tariffs = TariffFiles(default_tariffs_dir(), BundleFolder(settings.paths.bundles_dir / KIND))
    for error in tariffs.book().errors:
        sys.stderr.write(f"Attention : tarif ignoré : {error}" + "\n")
    try:
        container = build(settings)
    except StoreError as exc:
        sys.stderr.write(f"Erreur : {exc}" + "\n")
        return EXIT_ERROR
    try:
        fees = DossierFees(container.store, container.catalog, tariffs=tariffs)
        result = fees.fees(args.reference)
    except (DossierError, StoreError, KeptEstimateError) as exc:
        sys.stderr.write(f"Erreur : {exc}" + "\n")
        return EXIT_ERROR
    finally:
        container.close()
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(json_of(result), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(view_text(result) + "\n")
    return EXIT_OK
