"""``kiosk mandat REF``: a dossier's mandate at a counter without the touchscreen.

- ``kiosk mandat REF [--json]``: whether it is signed, what it covers, until when, whether revoked;
- ``kiosk mandat REF --copie [--out FICHIER.pdf]``: the person's copy (the text signed, its
  version and SHA-256, the signature, the scope and dates);
- ``kiosk mandat REF --revoquer [--out FICHIER.pdf]``: the person revokes it; the attestation is
  printed (revoking one already revoked says since when and prints the attestation again).

Without ``--out`` the paper goes to the counter's printer (the ``imprimante`` setting), as the
receipts do on the touchscreen. The use cases are the screens' (kiosk/dossiers/mandate.py). Only
the standard library at import time (``kiosk --help`` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.container import Container
    from kiosk.dossiers.mandate import MandateStatus
    from kiosk.ports.devices import Printer

EXIT_OK, EXIT_ERROR = 0, 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``mandat`` to the ``kiosk`` command."""
    mandat = sub.add_parser(
        "mandat",
        parents=[common],
        help="voir le mandat d'un dossier, imprimer sa copie, ou le révoquer (attestation)",
    )
    mandat.add_argument("reference", metavar="REF")
    what = mandat.add_mutually_exclusive_group()
    what.add_argument(
        "--copie", action="store_true", help="imprimer la copie du mandat pour la personne"
    )
    what.add_argument(
        "--revoquer",
        action="store_true",
        help="la personne révoque son mandat : l'attestation de révocation est imprimée",
    )
    mandat.add_argument(
        "--out",
        type=Path,
        metavar="FICHIER.pdf",
        help="écrire le PDF dans ce fichier au lieu de l'imprimer",
    )
    mandat.set_defaults(run=_mandat)


def status_json(reference: str, status: MandateStatus) -> dict[str, Any]:
    """The mandate's state for scripts."""
    return {
        "reference": reference,
        "signe": status.signed,
        "version": status.version,
        "signe_le": status.signed_at.isoformat() if status.signed_at else None,
        "fin": status.valid_until.isoformat() if status.valid_until else None,
        "portee": status.portee,
        "duree_jours": status.duree_jours,
        "revoque_le": status.revoked_at.isoformat() if status.revoked_at else None,
        "revoque_par": status.revoked_by,
        "fini": status.expired,
    }


def status_text(reference: str, status: MandateStatus) -> str:
    """The mandate's state as the agent reads it in a terminal."""
    from kiosk.dossiers.mandate_text import duration_words, french_date, scope_words
    from kiosk.receipt.text import format_filed_at

    if not status.signed or status.signed_at is None or status.valid_until is None:
        return f"Dossier {reference} : mandat non signé."
    version = status.version or ""
    lines = [
        f"Dossier {reference} : mandat signé le {format_filed_at(status.signed_at)}"
        f" (texte {version}).",
        f"  Couvre : {scope_words(status.portee, version) or 'cette seule démarche'}.",
    ]
    if status.duree_jours:
        lines.append(f"  Durée : {duration_words(status.duree_jours, version)}.")
    if status.revoked_at is not None:
        lines.append(f"  Révoqué le {format_filed_at(status.revoked_at)}.")
    elif status.expired:
        lines.append(f"  A pris fin le {french_date(status.valid_until)}.")
    else:
        lines.append(f"  Valable jusqu'au {french_date(status.valid_until)} au soir.")
    return "\n".join(lines)


def _mandat(args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from app.container import build, counter_printer
    from kiosk.dossiers.errors import DossierError
    from kiosk.store import StoreError

    if args.out is not None and not (args.copie or args.revoquer):
        return _fail("--out va avec --copie ou --revoquer.")
    try:
        settings = settings_of(args)
        container = build(settings)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        return _run(container, args, counter_printer(settings))
    except (DossierError, StoreError) as exc:
        return _fail(str(exc))
    finally:
        container.close()


def _run(c: Container, args: argparse.Namespace, printer: Printer) -> int:
    from kiosk.dossiers.mandate import MandateService

    mandates = MandateService(c.store, catalog=c.catalog)
    reference = c.dossiers.show(args.reference).summary.reference  # DossierNotFound said plainly
    data: dict[str, Any]
    if args.revoquer:
        revocation = mandates.revoke(reference)
        pdf = mandates.attestation_pdf(reference)
        written = _deliver(pdf, args.out, printer, title=f"Révocation {reference}")
        if written is None:
            return EXIT_ERROR
        data = {
            "reference": reference,
            "revoque_le": revocation.revoked_at.isoformat(),
            "deja_revoque": revocation.already,
            "attestation": written,
        }
        return _emit(args, data, f"{revocation.message}\nAttestation : {written}")
    if args.copie:
        pdf = mandates.copy_pdf(reference)
        written = _deliver(pdf, args.out, printer, title=f"Mandat {reference}")
        if written is None:
            return EXIT_ERROR
        data = {"reference": reference, "copie": written}
        return _emit(args, data, f"Copie du mandat du dossier {reference} : {written}")
    status = mandates.status(reference)
    return _emit(args, status_json(reference, status), status_text(reference, status))


def _deliver(pdf: bytes, out: Path | None, printer: Printer, *, title: str) -> str | None:
    """Write the PDF to ``out`` or print it; what was done, or None (the error said)."""
    if out is not None:
        tmp = out.with_name(out.name + ".part")
        try:
            tmp.write_bytes(pdf)
            tmp.replace(out)
        except OSError as exc:
            _fail(f"Impossible d'écrire {out} : {exc.strerror or exc}.")
            return None
        return str(out)
    from kiosk.ports.devices import PrintError

    try:
        return printer.print_pdf(pdf, title=title)
    except PrintError as exc:
        _fail(f"{exc} (utilisez --out FICHIER.pdf pour l'écrire dans un fichier).")
        return None


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> int:
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(text + "\n")
    return EXIT_OK


def _fail(message: str) -> int:
    sys.stderr.write(f"Erreur : {message}\n")
    return EXIT_ERROR
