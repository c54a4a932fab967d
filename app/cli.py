"""The ``kiosk`` command: for agents, support staff and scripts (``--json`` for machines).

Only the standard library is imported at module level so that ``kiosk --help`` answers at once;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli_args import row_count

if TYPE_CHECKING:
    from app.container import Container
    from ui.services import UiServices

EXIT_OK = 0
EXIT_ERROR = 1  # the request was understood but could not be done; the message says why
EXIT_INTERRUPTED = 130  # Ctrl+C, as shells report it

# Modules adding their own commands. Each defines ``register(subparsers, common)`` and gives every
# parser it adds ``set_defaults(run=function)``, where ``function(args) -> int`` does the work
# (importing what it needs lazily: the module itself imports only the standard library).
_EXTENSIONS: tuple[str, ...] = (
    "app.cli_settings",
    "app.cli_sync",
    "app.cli_identity",
    "app.cli_security",
    "app.cli_fees",
    "app.cli_payment",
    "app.cli_followup",
    "app.cli_letters",
    "app.cli_mandat",
    "app.cli_enrolment",
    "app.cli_fleet",
)

STATE_NAMES = (
    "brouillon",
    "pret",
    "en_file",
    "transmis",
    "accepte",
    "refuse",
    "a_completer",
    "abandonne",
    "attente_paiement",
    "paye",
)
#: Other spellings the state filter takes (the ANTS's « en attente de paiement »).
STATE_ALIASES = {"en_attente_paiement": "attente_paiement", "payé": "paye"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Borne du point numérique : dossiers carte grise et permis, sans email.",
    )
    parser.add_argument(
        "--db", type=Path, help="fichier de base de données (défaut : dossier de données)"
    )
    parser.add_argument(
        "--db-url",
        metavar="postgresql://…",
        help="base partagée des guichets du site, sur son serveur PostgreSQL (docs/sites.md)",
    )
    parser.add_argument("--data-dir", type=Path, help="dossier des données de la borne")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FICHIER",
        help="fichier de réglages (défaut : PN_KIOSK_CONFIG, sinon ~/.config/pn-kiosk/kiosk.toml)",
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON pour les scripts")
    # --json is accepted after the command too (`kiosk dossier list --json`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE")

    dem = sub.add_parser("demarches", help="procédures disponibles").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    dem.add_parser("list", parents=[common], help="démarches installées (id, titre, version)")
    check = dem.add_parser("check", parents=[common], help="vérifier un fichier de définition")
    check.add_argument("file", type=Path, metavar="FICHIER")

    dos = sub.add_parser("dossier", help="créer, remplir et consulter des dossiers").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    new = dos.add_parser("new", parents=[common], help="commencer un dossier")
    new.add_argument("demarche", metavar="DEMARCHE")
    answer = dos.add_parser(
        "answer", parents=[common], help="enregistrer une réponse (vide pour effacer)"
    )
    answer.add_argument("reference", metavar="REF")
    answer.add_argument("field", metavar="CHAMP")
    answer.add_argument("value", metavar="VALEUR")
    show = dos.add_parser("show", parents=[common], help="afficher un dossier")
    show.add_argument("reference", metavar="REF")
    lst = dos.add_parser("list", parents=[common], help="lister ou rechercher des dossiers")
    lst.add_argument(
        "--state",
        "--etat",
        dest="state",
        choices=(*STATE_NAMES, *STATE_ALIASES),
        help="filtrer par état",
    )
    lst.add_argument("--search", metavar="TEXTE", help="référence, immatriculation, VIN ou nom")
    lst.add_argument("--limit", type=row_count, default=50, metavar="N")
    for name, text in (
        ("validate", "vérifier le dossier et le marquer prêt"),
        ("submit", "déposer le dossier (réponses complètes, mandat signé ; en file d'envoi)"),
        ("abandon", "abandonner le dossier"),
    ):
        p = dos.add_parser(name, parents=[common], help=text)
        p.add_argument("reference", metavar="REF")
        if name == "abandon":
            p.add_argument("--reason", metavar="MOTIF")
    mandat = dos.add_parser(
        "mandat",
        parents=[common],
        help="enregistrer le mandat signé sur papier par la personne (image de sa signature)",
    )
    mandat.add_argument("reference", metavar="REF")
    mandat.add_argument(
        "--signature", type=Path, required=True, metavar="IMAGE", help="PNG de la signature"
    )
    mandat.add_argument("--agent", default="", metavar="NOM", help="l'agent mandataire")
    mandat.add_argument(
        "--duree",
        type=int,
        default=180,
        metavar="JOURS",
        help="durée choisie avec la personne, de 1 à 365 jours (défaut : 180, six mois)",
    )
    mandat.add_argument(
        "--theme",
        action="store_true",
        help="le mandat couvre toutes les démarches du thème (carte grise, permis), pas seulement"
        " celle-ci",
    )
    piece = dos.add_parser("piece", parents=[common], help="joindre une pièce justificative")
    piece.add_argument("reference", metavar="REF")
    piece.add_argument("kind", metavar="TYPE")
    piece.add_argument("file", type=Path, metavar="FICHIER")

    receipt = sub.add_parser(
        "receipt", parents=[common], help="produire le récépissé PDF d'un dossier"
    )
    receipt.add_argument("reference", metavar="REF")
    receipt.add_argument("--out", type=Path, required=True, metavar="FICHIER.pdf")

    counter = sub.add_parser(
        "guichet", parents=[common], help="coordonnées du guichet imprimées sur les récépissés"
    )
    counter.add_argument("--nom")
    counter.add_argument("--adresse", action="append", metavar="LIGNE")
    counter.add_argument("--telephone")
    counter.add_argument("--horaires")

    run = sub.add_parser("run", help="lancer la borne (écran tactile)")
    run.add_argument("--windowed", action="store_true", help="dans une fenêtre (développement)")
    run.add_argument("--demo", action="store_true", help="mode FORMATION : rien n'est envoyé")
    run.add_argument("--no-keyboard", action="store_true", help="sans clavier à l'écran")
    run.add_argument(
        "--external-sync",
        action="store_true",
        help="l'envoi est fait par « kiosk sync --watch » (service pn-kiosk-sync) : la borne en"
        " montre l'état et le prévient (docs/packaging.md)",
    )
    run.set_defaults(run=_run_kiosk)

    agent = sub.add_parser("agent", parents=[common], help="comptes des agents")
    agent_sub = agent.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = agent_sub.add_parser("add", parents=[common], help="créer un agent (PIN demandé)")
    add.add_argument("identifiant")
    add.add_argument("--nom", required=True)
    add.add_argument("--role", choices=("agent", "superviseur"), default="agent")
    add.add_argument("--pin-stdin", action="store_true", help="lire le PIN sur l'entrée standard")
    agent_sub.add_parser("list", parents=[common], help="agents actifs")

    for name in _EXTENSIONS:
        import importlib

        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiosk`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    for value in vars(args).values():
        # Bytes that are not UTF-8 reach Python as lone surrogates (U+DC80–U+DCFF): refused
        # here, in one sentence, rather than by a codec's error deep in the store.
        if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
            return _fail(
                f"l'argument « {value.encode('utf-8', 'replace').decode()} » n'est pas du texte"
                " UTF-8 valide : retapez-le."
            )
    if args.command == "demarches" and args.action == "check":
        return _demarches_check(args)
    from app.settings import SettingsError
    from kiosk.store import StoreError

    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    try:
        if run is not None:
            return run(args)
        return _with_container(args)
    except (SettingsError, StoreError) as exc:
        # Settings are resolved when a command first needs them (app/cli_settings.py); the
        # store is opened by every command that reads or writes dossiers, agents or the journal.
        return _fail(str(exc))
    except KeyboardInterrupt:
        # Ctrl+C at the PIN prompt or during a long command: what was committed stays.
        print("\nInterrompu.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        # The last resort. An operator gets a sentence to pass on, not a Python trace; the
        # kind of error and its text are what support needs to find it.
        print(
            f"Erreur inattendue ({type(exc).__name__} : {exc}). La commande s'est arrêtée ; ce"
            " qui était déjà enregistré l'est toujours. Signalez-la au support avec la commande"
            " lancée.",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _with_container(args: argparse.Namespace) -> int:
    """Run one of :data:`_HANDLERS` on the kiosk's store and catalogue."""
    from app.cli_settings import settings_of
    from kiosk.dossiers.errors import DossierError
    from kiosk.dossiers.states import IllegalTransition
    from kiosk.security.agents import AgentError
    from kiosk.store import StoreError

    try:
        from app.container import build

        container = build(settings_of(args))
    except StoreError as exc:
        return _fail(str(exc))
    try:
        handler = _HANDLERS[(args.command, getattr(args, "action", None))]
        return handler(container, args)
    except (DossierError, IllegalTransition, AgentError, StoreError, ValueError) as exc:
        # FieldError is a ValueError: its message is the one shown beside the field. A disk
        # problem (full, read-only, damaged) or a value in the database the kiosk did not write
        # (UnreadableValue) is a StoreError named in French.
        return _fail(str(exc))
    finally:
        container.close()


def _fail(message: str) -> int:
    print(f"Erreur : {message}", file=sys.stderr)
    return EXIT_ERROR


def _emit(args: argparse.Namespace, data: Any, text: str) -> int:
    if args.json:
        import json

        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(text)
    return EXIT_OK


def _demarches_check(args: argparse.Namespace) -> int:
    from kiosk.demarches import DefinitionError, load_file

    try:
        demarche = load_file(args.file)
    except DefinitionError as exc:
        if args.json:
            _emit(
                args,
                {
                    "ok": False,
                    "fichier": str(exc.file),
                    "emplacement": exc.place,
                    "raison": exc.reason,
                },
                "",
            )
            return EXIT_ERROR
        return _fail(str(exc))
    return _emit(
        args,
        {"ok": True, "id": demarche.id, "version": demarche.version, "titre": demarche.title},
        f"{args.file} : valide ({demarche.id} v{demarche.version}, « {demarche.title} »).",
    )


def _demarches_list(c: Container, args: argparse.Namespace) -> int:
    rows = [{"id": d.id, "version": d.version, "titre": d.title} for d in c.catalog.all()]
    lines = [f"{r['id']:<28} v{r['version']:<3} {r['titre']}" for r in rows]
    for error in c.catalog.errors:
        print(f"Attention : définition ignorée : {error}", file=sys.stderr)
    return _emit(args, rows, "\n".join(lines))


def _dossier_new(c: Container, args: argparse.Namespace) -> int:
    summary = c.dossiers.create(args.demarche)
    return _emit(
        args,
        summary.to_json(),
        f"Dossier {summary.reference} créé"
        f" ({summary.demarche_title}, v{summary.demarche_version}).",
    )


def _dossier_answer(c: Container, args: argparse.Namespace) -> int:
    result = c.dossiers.answer(args.reference, args.field, args.value)
    shown = "(effacée)" if result.value is None else result.value
    return _emit(
        args,
        {
            "reference": result.reference,
            "champ": result.path,
            "valeur": result.value,
            "etat": result.state.value,
        },
        f"{result.reference} · {result.path} = {shown}",
    )


def _dossier_show(c: Container, args: argparse.Namespace) -> int:
    c.dossiers.viewed(args.reference)  # who looked at whose data goes to the audit journal
    view = c.dossiers.show(args.reference)
    s = view.summary
    lines = [
        f"Dossier {s.reference} — {s.demarche_title} (v{s.demarche_version})",
        f"État : {s.state.label}" + (f" — {view.state_reason}" if view.state_reason else ""),
    ]
    if view.national_number:
        lines.append(f"Numéro national : {view.national_number}")
    if s.usager:
        lines.append(f"Usager : {s.usager}")
    if s.immatriculation:
        lines.append(f"Véhicule : {s.immatriculation}")
    lines.append("Réponses :")
    lines += [
        f"  {view.labels.get(p, p)} [{p}] : {_shown(v)}" for p, v in sorted(view.answers.items())
    ]
    if view.missing:
        lines.append("Manque :")
        lines += [f"  {m.path} : {m.message}" for m in view.missing]
    if view.documents:
        lines.append("Pièces :")
        lines += [f"  [{'x' if d.provided else ' '}] {d.label}" for d in view.documents]
    return _emit(args, view.to_json(), "\n".join(lines))


def _shown(value: object) -> str:
    """An answer as an agent reads it: oui/non, an address on one line."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values())
    return str(value)


def _dossier_list(c: Container, args: argparse.Namespace) -> int:
    from kiosk.dossiers.states import DossierState

    state = DossierState(STATE_ALIASES.get(args.state, args.state)) if args.state else None
    rows = c.dossiers.list(state=state, search=args.search, limit=args.limit)
    lines = [
        f"{r.reference}  {r.state.label:<16} {r.updated_at:%d/%m/%Y %H:%M}  "
        f"{r.demarche_title[:32]:<32} {r.usager or '':<24} {r.immatriculation or ''}"
        for r in rows
    ]
    return _emit(args, [r.to_json() for r in rows], "\n".join(lines) or "Aucun dossier.")


def _dossier_validate(c: Container, args: argparse.Namespace) -> int:
    summary = c.dossiers.validate(args.reference)
    view = c.dossiers.show(summary.reference)
    return _emit(args, view.to_json(), f"Dossier {summary.reference} : prêt.")


def _dossier_submit(c: Container, args: argparse.Namespace) -> int:
    summary = c.dossiers.file(args.reference)  # the same use case as « Déposer » on the screen
    return _emit(args, summary.to_json(), f"Dossier {summary.reference} : {summary.state.label}.")


def _dossier_mandat(c: Container, args: argparse.Namespace) -> int:
    from kiosk.dossiers.mandate import MandateService

    try:
        signature = args.signature.read_bytes()
    except OSError as exc:
        return _fail(f"Impossible de lire {args.signature} : {exc.strerror or exc}.")
    if not signature.startswith(b"\x89PNG\r\n\x1a\n"):
        return _fail(f"{args.signature} n'est pas une image PNG.")
    summary = c.dossiers.show(args.reference).summary
    mandates = MandateService(c.store, catalog=c.catalog)
    theme = c.catalog.get(summary.demarche_id, summary.demarche_version).theme
    text = mandates.text_for(
        reference=summary.reference,
        usager=summary.usager or "",
        agent=args.agent,
        guichet=c.counter.get().name,
        demarche=summary.demarche_title,
        days=args.duree,
        portee=f"theme:{theme}" if args.theme else None,
    )
    status = mandates.sign(summary.reference, text, signature)
    return _emit(
        args,
        {
            "reference": summary.reference,
            "version": status.version,
            "fin": str(status.valid_until),
            "duree_jours": status.duree_jours,
            "portee": status.portee,
        },
        f"Mandat du dossier {summary.reference} enregistré (jusqu'au"
        f" {status.valid_until:%d/%m/%Y}).",
    )


def _dossier_abandon(c: Container, args: argparse.Namespace) -> int:
    summary = c.dossiers.abandon(args.reference, reason=args.reason)
    return _emit(args, summary.to_json(), f"Dossier {summary.reference} : {summary.state.label}.")


def _dossier_piece(c: Container, args: argparse.Namespace) -> int:
    from app.cli_settings import settings_of
    from devices.capture import FolderSource
    from kiosk.dossiers.attachments import Attachments, remove_scan
    from kiosk.ports.devices import ScannedFile
    from kiosk.store.documents import DocumentError

    # The same use case as the documents screen; the file is encrypted with the document key.
    attachments = Attachments(c.store, c.catalog, c.documents)
    source: Path = args.file
    try:
        stored = attachments.import_file(args.reference, args.kind, source)
    except DocumentError as exc:  # refused file, or the documents folder full: says which
        return _fail(str(exc))
    except OSError as exc:  # only the source file's opening or reading reaches here
        return _fail(f"Impossible de lire {source} : {exc.strerror or exc}.")
    data: dict[str, Any] = {"reference": args.reference, "type": args.kind, "sha256": stored.sha256}
    scans = FolderSource(settings_of(args).scan_folder)
    if source.parent.resolve() == scans.folder.resolve():
        # A scan from the scanner's folder leaves it, as from the documents screen: the plain
        # copy goes once the encrypted one is stored and recorded.
        scanned = ScannedFile(scans.folder / source.name, stored.mime_type, stored.size)
        left = remove_scan(scans, scanned)
        data["numerisation_supprimee"] = left is None
        if left is not None:
            print(
                f"Attention : la numérisation {source.name} est jointe, mais elle est restée dans"
                f" le dossier du scanner ({scans.folder}) : {left}. Supprimez-la à la main.",
                file=sys.stderr,
            )
    return _emit(args, data, f"Pièce « {args.kind} » jointe au dossier.")


def _receipt(c: Container, args: argparse.Namespace) -> int:
    pdf = c.receipts.render(args.reference)
    out: Path = args.out
    tmp = out.with_name(out.name + ".part")
    try:
        tmp.write_bytes(pdf)
        tmp.replace(out)
    except OSError as exc:
        return _fail(f"Impossible d'écrire {out} : {exc.strerror or exc}.")
    return _emit(args, {"fichier": str(out), "octets": len(pdf)}, f"Récépissé écrit : {out}")


def _run_kiosk(args: argparse.Namespace) -> int:
    from app.cli_settings import credentials_file_of, resolution_of
    from app.settings import SettingsError
    from ui.app import RESTART, run

    opened: list[Container] = []
    credentials = None
    try:
        resolution = resolution_of(args)
        settings, settings_file = resolution.settings, resolution.settings_file
        credentials = credentials_file_of(args)
        problem = None
    except SettingsError as exc:
        # Also on the screen: a kiosk started by its session has no terminal anyone reads.
        _fail(str(exc))
        problem = exc

    def build() -> UiServices:  # worker thread, while the window is already on screen
        from app.container import build_ui

        if problem is not None:
            raise problem  # the sign-in screen says why the kiosk does not start
        services, container = build_ui(
            settings,
            training=args.demo,
            settings_file=settings_file,
            credentials_file=credentials,
            external_sync=args.external_sync,
        )
        opened.append(container)
        return services

    try:
        code = run(build, windowed=args.windowed, keyboard=not args.no_keyboard, training=args.demo)
    finally:
        for container in opened:
            container.close()
    if code == RESTART:
        # Enrolled: the same command again, which reads the settings file just written.
        import os

        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "app", *sys.argv[1:]])  # noqa: S606
    return EXIT_ERROR if problem is not None else code


def _agent_add(c: Container, args: argparse.Namespace) -> int:
    import getpass

    from kiosk.security.agents import AgentService

    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("Code PIN (4 à 12 chiffres) : ")
    agent = AgentService(c.store).add(args.identifiant, args.nom, pin, role=args.role)
    return _emit(
        args,
        {"id": agent.id, "identifiant": agent.identifiant, "nom": agent.nom, "role": agent.role},
        f"Agent « {agent.identifiant} » ({agent.nom}, {agent.role}) créé.",
    )


def _agent_list(c: Container, args: argparse.Namespace) -> int:
    from kiosk.security.agents import AgentService

    agents = AgentService(c.store).list()
    rows = [{"identifiant": a.identifiant, "nom": a.nom, "role": a.role} for a in agents]
    text = "\n".join(f"{a.identifiant:<20} {a.nom:<30} {a.role}" for a in agents)
    return _emit(args, rows, text or "Aucun agent.")


def _guichet(c: Container, args: argparse.Namespace) -> int:
    from dataclasses import asdict, replace

    details = c.counter.get()
    changes: dict[str, Any] = {}
    if args.nom is not None:
        changes["name"] = args.nom
    if args.adresse is not None:
        changes["address"] = tuple(args.adresse)
    if args.telephone is not None:
        changes["phone"] = args.telephone
    if args.horaires is not None:
        changes["hours"] = args.horaires
    if changes:
        details = replace(details, **changes)
        c.counter.set(details)
    text = "\n".join([details.name, *details.address, f"Tél. {details.phone}", details.hours])
    return _emit(args, asdict(details), text)


_HANDLERS: dict[tuple[str, str | None], Callable[[Container, argparse.Namespace], int]] = {
    ("demarches", "list"): _demarches_list,
    ("dossier", "new"): _dossier_new,
    ("dossier", "answer"): _dossier_answer,
    ("dossier", "show"): _dossier_show,
    ("dossier", "list"): _dossier_list,
    ("dossier", "validate"): _dossier_validate,
    ("dossier", "submit"): _dossier_submit,
    ("dossier", "abandon"): _dossier_abandon,
    ("dossier", "piece"): _dossier_piece,
    ("dossier", "mandat"): _dossier_mandat,
    ("receipt", None): _receipt,
    ("guichet", None): _guichet,
    ("agent", "add"): _agent_add,
    ("agent", "list"): _agent_list,
}
