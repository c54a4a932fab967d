"""``kiosk enrolement`` (a supervisor issues a code for a new kiosk) and ``kiosk enroler`` (the
new kiosk redeems it): docs/sites.md, « Enrolling a kiosk ».

Registered through ``app.cli._EXTENSIONS``; only the standard library is imported at module level
so that ``kiosk --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.container import Container
    from kiosk.security.agents import AgentInfo

EXIT_OK = 0
EXIT_ERROR = 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the two commands to the ``kiosk`` parser."""
    issue = sub.add_parser(
        "enrolement",
        parents=[common],
        help="superviseur : code à usage unique (et son code QR) pour enrôler une nouvelle borne",
    )
    issue.add_argument(
        "--superviseur", required=True, metavar="ID", help="identifiant du superviseur (PIN lu)"
    )
    issue.add_argument("--pin-stdin", action="store_true", help="lire le PIN sur l'entrée standard")
    issue.add_argument(
        "--out",
        type=Path,
        metavar="FICHIER",
        help="écrire aussi la feuille à imprimer (.pdf) ou le code QR seul (.png)",
    )
    issue.set_defaults(run=_issue)

    redeem = sub.add_parser(
        "enroler",
        parents=[common],
        help="enrôler cette borne avec le code donné par la borne d'un superviseur",
    )
    redeem.add_argument(
        "code", nargs="?", metavar="CODE", help="le code (demandé s'il n'est pas donné)"
    )
    redeem.add_argument(
        "--qr", type=Path, metavar="IMAGE", help="lire le code QR sur une photo (PNG, JPEG)"
    )
    redeem.add_argument(
        "--adresse", metavar="URL", help="adresse du service national, pour un code tapé"
    )
    redeem.add_argument(
        "--empreinte",
        action="append",
        default=[],
        metavar="sha256/…",
        help="empreinte du certificat du service national, pour un code tapé (répétable)",
    )
    redeem.add_argument(
        "--remplacer",
        action="store_true",
        help="remplacer les identifiants que cette borne a déjà",
    )
    redeem.set_defaults(run=_redeem)


def _fail(message: str) -> int:
    sys.stderr.write(f"Erreur : {message}\n")
    return EXIT_ERROR


def _out(args: argparse.Namespace, data: Any, text: str) -> int:
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(text + "\n")
    return EXIT_OK


# ---------------------------------------------------------------------- the supervisor's side


def _issue(args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from app.container import build
    from app.enrolment import enrolment_desk
    from app.sync_setup import SyncConfigError, SyncSettings
    from kiosk.enrolment.sheet import expiry_text, qr_png, qr_terminal, sheet_pdf
    from kiosk.ports.national import ServiceUnavailable
    from kiosk.security.agents import AgentError

    settings = settings_of(args)
    try:
        sync = SyncSettings.from_settings(settings)
    except SyncConfigError as exc:
        return _fail(f"cette borne ne peut pas enrôler d'autre borne : {exc}")
    container = build(settings)
    closers: list[Any] = []
    try:
        try:
            supervisor = _supervisor(container, args)
        except (AgentError, PermissionError) as exc:
            return _fail(str(exc))
        desk = enrolment_desk(
            settings,
            container.counter,
            container.store,
            sync=lambda: sync,
            closers=closers,
        )
        try:
            issued = desk.issue(by=supervisor)
        except (ServiceUnavailable, PermissionError) as exc:
            return _fail(f"code non émis : {exc}")
        site = container.counter.get().name
    finally:
        for close in closers:
            close()
        container.close()
    written = None
    if args.out is not None:
        out: Path = args.out
        data = qr_png(issued.ticket.text) if out.suffix.lower() == ".png" else None
        try:
            out.write_bytes(data or sheet_pdf(issued, site=site))
        except OSError as exc:
            return _fail(f"impossible d'écrire {out} : {exc.strerror or exc}.")
        written = str(out)
    until = expiry_text(issued.expires_at)
    lines = [
        qr_terminal(issued.ticket.text),
        "",
        f"Code d'enrôlement : {issued.code.text}",
        f"Valable jusqu'à {until}, une seule fois, sur la nouvelle borne :"
        " « Borne à configurer », ou « kiosk enroler » suivi du code.",
        f"Service national : {issued.ticket.api_url}",
    ]
    if written:
        lines.append(f"Feuille à imprimer : {written} (à détruire une fois la borne configurée).")
    return _out(
        args,
        {
            "code": issued.code.text,
            "identifiant": issued.code.id,
            "qr": issued.ticket.text,
            "expire_le": issued.expires_at.isoformat(),
            "fichier": written,
        },
        "\n".join(lines),
    )


def _supervisor(container: Container, args: argparse.Namespace) -> AgentInfo:
    """The supervisor who asks, signed in with their PIN (attempts counted, lockout applied,
    as on the touchscreen's keypad).

    Raises:
        AgentError: a wrong PIN, a blocked or unknown account.
        PermissionError: not a supervisor.
    """
    import getpass

    from kiosk.security.agents import AgentService

    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass(f"Code PIN de {args.superviseur} : ")
    agent = AgentService(container.store).sign_in(args.superviseur, pin)
    if not agent.supervisor:
        raise PermissionError("Seul un superviseur peut enrôler une nouvelle borne.")
    return agent


# ---------------------------------------------------------------------- the new kiosk's side


def _redeem(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.container import build
    from app.enrolment import kiosk_enrolment
    from app.settings import BY_NAME, SETTINGS, Source, resolve
    from kiosk.enrolment.code import InvalidCode, read_ticket
    from kiosk.enrolment.service import EnrolmentFailed
    from kiosk.ports.national import EnrolmentRefused, ServiceUnavailable

    # As app/cli_settings.py reads them, but a file named and missing is the one to write.
    cli = {d.name: getattr(args, d.option_dest, None) for d in SETTINGS if d.option_dest}
    resolution = resolve(cli=cli, config=args.config, absent_ok=True)
    settings = resolution.settings
    for warning in resolution.warnings:
        sys.stderr.write(f"Attention : {warning}\n")
    if settings.api_client_id and settings.api_client_secret and not args.remplacer:
        return _fail(
            f"cette borne a déjà ses identifiants ({settings.api_client_id}) :"
            " --remplacer pour en recevoir d'autres."
        )
    try:
        text = _code_text(args)
        ticket = read_ticket(text)
    except (InvalidCode, OSError, ValueError) as exc:
        return _fail(str(exc))
    if ticket.api_url is None:
        if args.adresse:
            ticket = replace(ticket, api_url=args.adresse, pins=tuple(args.empreinte))
        elif resolution.origins["api_url"].source is Source.DEFAULT:
            return _fail(
                "un code tapé ne dit pas où est le service national : donnez son adresse"
                f" (--adresse, ou {BY_NAME['api_url'].names}), ou lisez le code QR (--qr)."
            )
    container = build(settings)
    try:
        enrolment = kiosk_enrolment(settings, resolution.settings_file, container.counter)
        try:
            enrolled = enrolment.redeem(ticket.text)
        except (InvalidCode, EnrolmentRefused, ServiceUnavailable, EnrolmentFailed) as exc:
            return _fail(str(exc))
    finally:
        container.close()
    lines = [
        f"Borne enrôlée : {enrolled.client_id} auprès de {enrolled.site.api_url}.",
        f"Réglages écrits dans {enrolled.settings_file} (lisible par ce compte seulement).",
    ]
    if enrolled.site.counter is not None:
        lines.append(f"Guichet : {enrolled.site.counter.name}.")
    # What this kiosk will read at its next start: a variable of the environment wins over
    # the file (app/settings/resolve.py), and would hide what was just written.
    after = resolve(cli=cli, config=enrolled.settings_file)
    hidden = [
        BY_NAME[name].env
        for name in ("api_url", "api_client_id", "api_client_secret")
        if after.origins[name].source is Source.ENV
    ]
    if hidden:
        lines.append(
            f"Attention : {', '.join(hidden)} l'emporte sur le fichier : retirez-la de"
            " l'environnement de la borne."
        )
    return _out(
        args,
        {
            "identifiant": enrolled.client_id,
            "fichier": str(enrolled.settings_file),
            "service_national": enrolled.site.api_url,
            "guichet": enrolled.site.counter.name if enrolled.site.counter else None,
        },
        "\n".join(lines),
    )


def _code_text(args: argparse.Namespace) -> str:
    """The code given, read off a picture, or asked for.

    Raises:
        ValueError: no code in the picture (in French).
        OSError: the picture could not be read.
    """
    if args.qr is not None:
        from devices.qr.zbar import ZbarReader
        from kiosk.enrolment.code import TICKET_MARK
        from kiosk.ports.devices import CodeReadError

        try:
            found = ZbarReader().read_codes(args.qr.read_bytes())
        except CodeReadError as exc:
            raise ValueError(str(exc)) from exc
        ours = [text for text in found if text.startswith(TICKET_MARK)]
        if not ours:
            raise ValueError(f"Aucun code QR d'enrôlement sur {args.qr} : tapez le code.")
        return ours[0]
    if args.code:
        return str(args.code)
    return input("Code d'enrôlement : ")
