"""``kiosk courrier`` and ``kiosk document-national``: news by post for people without email.

``kiosk courrier REF`` prints the letter announcing the latest national decision on a dossier;
``kiosk courrier --jour`` the day's letters (every dossier whose person chose the post, with a
decision not yet passed on nor printed), one page each. Without ``--out`` they go to the
counter's printer (CUPS, the ``printer`` setting), as the receipt does; with it, to a PDF file.
Each letter is recorded as printed for the post (which passes its decision on) only once the
printer or the file took it: a printer that fails records nothing (kiosk/followup/letters.py).

``kiosk document-national REF`` prints (or writes) a document the national service issued for
the dossier, decrypted, and marks it printed. Only the standard library at import time
(``kiosk --help`` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.ports.devices import Printer
    from kiosk.site.counter import CounterDetails

EXIT_OK, EXIT_ERROR = 0, 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``courrier`` and ``document-national`` to the ``kiosk`` command."""
    mail = sub.add_parser(
        "courrier",
        parents=[common],
        help="imprimer la lettre qui annonce la réponse du service national (contact par courrier)",
    )
    mail.add_argument("reference", metavar="REF", nargs="?", help="le dossier (ou --jour)")
    mail.add_argument(
        "--jour",
        action="store_true",
        help="les lettres du jour : chaque dossier « par courrier » dont la réponse n'est ni"
        " annoncée ni déjà imprimée",
    )
    mail.add_argument(
        "--out", type=Path, metavar="FICHIER.pdf", help="écrire le PDF au lieu d'imprimer"
    )
    mail.set_defaults(run=_letters)

    doc = sub.add_parser(
        "document-national",
        parents=[common],
        help="imprimer un document délivré par le service national (certificat provisoire…)",
    )
    doc.add_argument("reference", metavar="REF")
    doc.add_argument(
        "--document", type=int, metavar="NUMERO", help="lequel, si le dossier en a plusieurs"
    )
    doc.add_argument("--liste", action="store_true", help="lister les documents du dossier")
    doc.add_argument(
        "--out", type=Path, metavar="FICHIER", help="écrire le fichier au lieu d'imprimer"
    )
    doc.set_defaults(run=_national_document)


def _fail(message: str) -> int:
    sys.stderr.write(f"Erreur : {message}\n")
    return EXIT_ERROR


def _emit(args: argparse.Namespace, data: Any, text: str) -> int:
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(text + "\n")
    return EXIT_OK


def write_file(out: Path) -> Callable[[bytes], str]:
    """A delivery that writes the bytes to ``out`` whole or not at all (a ``.part`` renamed).

    Raises (when called):
        PrintError: the file could not be written (the message names it).
    """
    from kiosk.ports.devices import PrintError

    def deliver(data: bytes) -> str:
        tmp = out.with_name(out.name + ".part")
        try:
            tmp.write_bytes(data)
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise PrintError(f"Impossible d'écrire {out} : {exc.strerror or exc}.") from exc
        return str(out)

    return deliver


def print_to(printer: Printer, title: str) -> Callable[[bytes], str]:
    """A delivery that sends a PDF to ``printer`` and returns its name.

    Raises (when called):
        PrintError: no printing service, the printer refused or does not answer.
    """

    def deliver(pdf: bytes) -> str:
        printer.print_pdf(pdf, title=title)
        return printer.name

    return deliver


def _counter_warnings(details: CounterDetails) -> None:
    """Say what the letter will lack when the counter's details are not set (``kiosk guichet``)."""
    if not details.configured:
        sys.stderr.write(
            "Attention : l'adresse ou le téléphone du guichet ne sont pas renseignés, la lettre"
            " ne dit pas bien où venir (kiosk guichet --adresse LIGNE --telephone NUMERO).\n"
        )
    if not details.hours.strip():
        sys.stderr.write(
            "Attention : les horaires du guichet ne sont pas renseignés, la lettre dit d'appeler"
            " pour les connaître (kiosk guichet --horaires « Du lundi au vendredi, … »).\n"
        )


def _letters(args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from app.container import build, counter_printer
    from kiosk.dossiers.errors import DossierError
    from kiosk.followup.letters import Letter, LetterError, LetterService
    from kiosk.ports.devices import PrintError
    from kiosk.store import StoreError

    if bool(args.reference) == bool(args.jour):
        return _fail(
            "donnez la référence d'un dossier, ou --jour pour les lettres du jour (pas les deux)."
        )
    settings = settings_of(args)
    try:
        container = build(settings)
    except StoreError as exc:
        return _fail(str(exc))
    problems: list[str] = []
    try:
        service = LetterService(
            container.store, container.catalog, container.dossiers, container.counter
        )
        letters: list[Letter] = []
        if args.jour:
            for reference in service.due():
                try:
                    letters.append(service.compose(reference))
                except LetterError as exc:
                    problems.append(str(exc))
        else:
            letters.append(service.compose(args.reference))
        for problem in problems:
            sys.stderr.write(f"Attention : lettre non faite. {problem}\n")
        if not letters:
            if problems:
                return EXIT_ERROR
            return _emit(
                args,
                {"lettres": [], "non_faites": []},
                "Aucune lettre à imprimer : toutes les réponses du service national pour les"
                " personnes à prévenir par courrier sont déjà annoncées ou imprimées.",
            )
        _counter_warnings(container.counter.get())
        title = f"courrier-{letters[0].reference}" if len(letters) == 1 else "courriers"
        deliver = (
            write_file(args.out)
            if args.out is not None
            else print_to(counter_printer(settings), title)
        )
        where = service.issue(letters, deliver)
    except PrintError as exc:
        return _fail(f"{exc} Aucune lettre n'est notée comme envoyée : relancez la commande.")
    except (DossierError, StoreError) as exc:
        return _fail(str(exc))
    finally:
        container.close()
    count = len(letters)
    refs = ", ".join(letter.reference for letter in letters)
    if args.out is not None:
        text = (
            f"Lettre du dossier {refs} écrite : {where}"
            if count == 1
            else f"{count} lettres écrites dans {where} ({refs})"
        )
    else:
        text = (
            f"Lettre du dossier {refs} envoyée à l'imprimante ({where})."
            if count == 1
            else f"{count} lettres envoyées à l'imprimante ({where}) : {refs}."
        )
    text += "\nMettez-les sous enveloppe à fenêtre (DL), pliées en trois, et postez-les."
    data = {
        "lettres": [
            {"reference": letter.reference, "avis": letter.notice_id, "objet": letter.kind.value}
            for letter in letters
        ],
        "fichier": str(args.out) if args.out is not None else None,
        "imprimante": None if args.out is not None else where,
        "non_faites": problems,
    }
    _emit(args, data, text)
    return EXIT_ERROR if problems else EXIT_OK


def _national_document(args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from app.container import build, counter_printer
    from kiosk.dossiers.errors import DossierError
    from kiosk.followup.national_documents import NationalDocuments
    from kiosk.ports.devices import PrintError
    from kiosk.store import StoreError

    settings = settings_of(args)
    try:
        container = build(settings)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        documents = NationalDocuments(container.store, container.documents)
        if args.liste:
            views = documents.list(args.reference)
            lines = [f"  {d.id} : {d.label} ({d.status_text})" for d in views]
            return _emit(
                args,
                [
                    {"numero": d.id, "libelle": d.label, "type": d.kind, "recu": d.received}
                    for d in views
                ],
                "\n".join(lines) or "Aucun document du service national pour ce dossier.",
            )
        view, data = documents.read(args.reference, args.document)
        if args.out is not None:
            where = write_file(args.out)(data)
            text = f"Document « {view.label} » écrit : {where}"
        else:
            if not view.is_pdf:
                return _fail(
                    f"le document « {view.label} » n'est pas un PDF ({view.mime_type}) :"
                    " enregistrez-le avec --out FICHIER pour l'ouvrir et l'imprimer."
                )
            printer = counter_printer(settings)
            printer.print_pdf(data, title=f"document-{view.reference}")
            text = f"Document « {view.label} » envoyé à l'imprimante ({printer.name})."
        documents.mark_printed(view.id)
    except PrintError as exc:
        return _fail(str(exc))
    except (DossierError, StoreError) as exc:
        return _fail(str(exc))
    finally:
        container.close()
    return _emit(
        args, {"reference": view.reference, "document": view.id, "libelle": view.label}, text
    )
