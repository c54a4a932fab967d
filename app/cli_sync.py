"""``kiosk national-sim`` and ``kiosk sync``: the reference server and the sync, by hand.

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
    from app.settings import Settings

EXIT_OK = 0
EXIT_ERROR = 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the commands to the ``kiosk`` parser."""
    sim = sub.add_parser(
        "national-sim", help="simulateur du service national (formation, démonstrations, tests)"
    )
    sim.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8750, help="port d'écoute (défaut : 8750)")
    sim.add_argument("--db", dest="sim_db", type=Path, metavar="FICHIER", help="base du simulateur")
    sim.add_argument("--latence-ms", type=float, default=0.0, help="latence ajoutée (ms)")
    sim.add_argument("--taux-erreur", type=float, default=0.0, help="part de réponses 5xx")
    sim.add_argument("--taux-coupure", type=float, default=0.0, help="part de connexions coupées")
    sim.add_argument(
        "--taux-perte", type=float, default=0.0, help="part de réponses perdues après écriture"
    )
    sim.add_argument(
        "--debit",
        type=float,
        help="requêtes par seconde acceptées (429 au-delà) ; sans : aucun refus, 100 annoncées",
    )
    sim.add_argument("--quota-client", type=float, help="quota annoncé à chaque borne (req/s)")
    sim.add_argument(
        "--delai-instruction", type=float, default=60.0, help="secondes avant la décision"
    )
    sim.add_argument(
        "--client",
        action="append",
        metavar="ID:SECRET",
        help="borne autorisée (défaut : borne-demo:secret-demo)",
    )
    sim.add_argument(
        "--site",
        action="append",
        metavar="ID:SITE",
        help="site de la borne ID (défaut : toutes dans site-reference) ; une borne ne voit"
        " et ne révoque que celles de son site",
    )
    sim.add_argument("--graine", type=int, help="graine du hasard (pannes reproductibles)")
    sim.add_argument("--tls-cert", type=Path, metavar="PEM", help="certificat : servir en HTTPS")
    sim.add_argument("--tls-cle", type=Path, metavar="PEM", help="clé privée du certificat")
    # A training kiosk's own server stops with the kiosk, however the kiosk ends.
    sim.add_argument("--parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    sim.set_defaults(run=_national_sim)

    sync = sub.add_parser(
        "sync", parents=[common], help="envoyer les dossiers en file au service national"
    )
    sync.add_argument(
        "action",
        nargs="?",
        choices=("status", "empreinte"),
        help="status : file d'envoi, état de la connexion, personnes à contacter ;"
        " empreinte FICHIER : l'empreinte à épingler (PN_KIOSK_API_PINS) d'un certificat",
    )
    sync.add_argument("certificat", nargs="?", type=Path, help=argparse.SUPPRESS)
    mode = sync.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="un passage, puis s'arrêter (défaut)")
    mode.add_argument("--watch", action="store_true", help="tourner en continu (Ctrl-C pour finir)")
    sync.add_argument(
        "--url", help="adresse du service national (défaut : le réglage service_national.adresse)"
    )
    sync.set_defaults(run=_sync)


def _fail(message: str) -> int:
    sys.stderr.write(f"Erreur : {message}\n")
    return EXIT_ERROR


def _out(text: str) -> None:
    """Print for the agent (the CLI prints by design; flushed for ``--watch`` and pipes)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _national_sim(args: argparse.Namespace) -> int:
    import random

    from app.cli_settings import settings_of
    from sync.server.app import NationalSimulator
    from sync.server.demo import DEMO_CLIENTS
    from sync.server.run import serve

    clients: dict[str, str] = {}
    for spec in args.client or ():
        client_id, sep, secret = spec.partition(":")
        if not sep or not client_id or not secret:
            return _fail(f"--client attend ID:SECRET, pas « {spec} ».")
        clients[client_id] = secret
    sites: dict[str, str] = {}
    for spec in args.site or ():
        client_id, sep, site = spec.partition(":")
        if not sep or not client_id or not site:
            return _fail(f"--site attend ID:SITE, pas « {spec} ».")
        sites[client_id] = site
    # Training mode's own server is given --db: it never reads (nor fails on) the settings.
    db = args.sim_db or settings_of(args).data_dir / "national-sim.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.graine)  # noqa: S311 - fault draws, not secrets
    sim = NationalSimulator(db, clients=clients or DEMO_CLIENTS, rng=rng, sites=sites)
    sim.app.configure(
        {
            "latence_ms": args.latence_ms,
            "taux_erreur": args.taux_erreur,
            "taux_coupure": args.taux_coupure,
            "taux_perte": args.taux_perte,
            "debit": args.debit,
            "quota_client": args.quota_client,
            "delai_instruction": args.delai_instruction,
        }
    )
    if (args.tls_cert is None) != (args.tls_cle is None):
        return _fail("--tls-cert et --tls-cle vont ensemble.")
    tls = (args.tls_cert, args.tls_cle) if args.tls_cert else None
    scheme = "https" if tls else "http"
    _out(f"Simulateur du service national : {scheme}://{args.host}:{args.port} (base {db})")
    _out("Réglages à chaud : POST /_control ; Ctrl-C pour arrêter.")
    if args.parent:
        _stop_with(args.parent)
    try:
        serve(sim, args.host, args.port, tls=tls)
    except KeyboardInterrupt:
        return EXIT_OK  # Ctrl-C is how this server is stopped
    except OSError as exc:
        return _fail(f"Impossible d'écouter sur {args.host}:{args.port} ({exc.strerror or exc}).")
    return EXIT_OK


def _stop_with(parent: int) -> None:
    """Stop this server (as Ctrl-C does) once the process ``parent`` has ended, even killed."""
    import os
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _sync(args: argparse.Namespace) -> int:
    from app.cli_settings import credentials_file_of, settings_of
    from app.container import build
    from app.sync_setup import SyncConfigError, SyncSettings
    from kiosk.store import StoreError

    if args.action == "empreinte":
        return _pin(args.certificat)
    settings = settings_of(args)
    try:
        container = build(settings, credentials_file=credentials_file_of(args))
    except StoreError as exc:
        return _fail(str(exc))
    try:
        if args.action == "status":
            keys = len(settings.bundle_keys)
            try:
                SyncSettings.from_settings(settings)
            except SyncConfigError as exc:
                return _status(container, args, not_configured=str(exc), keys=keys)
            return _status(container, args, keys=keys)
        try:
            sync_settings = SyncSettings.from_settings(settings)
        except SyncConfigError as exc:
            return _fail(str(exc))
        if args.watch:
            return _watch(container, sync_settings, settings)
        return _once(container, sync_settings, args)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        container.close()


def _connection_line(label: str, saved: dict[str, Any], not_configured: str | None) -> str:
    """« Service national : … », never « joignable » for a service never reached."""
    if not_configured is not None:
        return f"Service national : non configuré ({not_configured})"
    if not saved:
        return (
            "Service national : jamais contacté depuis cette borne (aucune synchronisation encore)"
        )
    error = saved.get("derniere_erreur")
    return f"Service national : {label}" + (f" — dernière erreur : {error}" if error else "")


def _pin(certificate: Path | None) -> int:
    """Print the pin of a certificate file, for ``service_national.empreintes``."""
    from sync.tls import spki_pin

    if certificate is None:
        return _fail("indiquez le fichier du certificat : kiosk sync empreinte FICHIER.pem")
    try:
        pin = spki_pin(certificate.read_bytes())
    except OSError as exc:
        return _fail(f"lecture impossible de {certificate} ({exc.strerror or exc}).")
    except ValueError:
        return _fail(f"{certificate} n'est pas un certificat X.509 (PEM ou DER).")
    _out(pin)
    return EXIT_OK


def _once(container: Container, settings: Any, args: argparse.Namespace) -> int:
    from app.sync_setup import build_worker
    from kiosk.dossiers.service import utc_now
    from kiosk.sync.outbox import HELD, Outbox

    worker, api = build_worker(container, settings)
    try:
        report = worker.run_once()
    finally:
        api.close()
    if report.revoked:
        withdrawn = container.withdrawal.done if container.withdrawal else None
        return _fail(str(withdrawn) if withdrawn else "Cette borne a été retirée du service.")
    held = Outbox(container.store, container.catalog, clock=utc_now).held()
    data = {
        "transmis": report.sent,
        "rejoues": report.replayed,
        "renvoyes_au_guichet": report.refused,
        "en_echec": report.failing,
        "retenus_sur_la_borne": [d.to_json() for d in held],
        "decisions": report.decisions,
        "sms_envoyes": report.sms_sent,
        "sms_refuses": report.sms_refused,
        "documents_recus": report.documents_received,
        "paquets_installes": report.bundles_installed,
        "paquets_refuses": report.bundles_refused,
        "en_attente": report.waiting,
        "service_injoignable": report.stopped_open,
        "erreur": report.last_error,
    }
    if args.json:
        _out(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _out(
            f"{report.sent} dossier(s) transmis ({report.replayed} réponse(s) rejouée(s)),"
            f" {len(report.refused)} renvoyé(s) au guichet, {report.decisions} décision(s)"
            f" reçue(s). En file : {report.waiting}."
        )
        if report.sms_sent or report.documents_received:
            _out(
                f"{len(report.sms_sent)} SMS envoyé(s), {len(report.documents_received)}"
                " document(s) du service national reçu(s)."
            )
        for name in report.bundles_installed:
            _out(f"  Mise à jour installée : paquet {name}")
        for name in report.bundles_refused:
            _out(f"  Mise à jour refusée : paquet {name} (voir « kiosk sync status »)")
        for reference in report.sms_refused:
            _out(f"  SMS refusé : {reference} (voir « kiosk sync status »)")
        for reference in report.refused:
            _out(f"  Renvoyé au guichet : {reference} (voir « kiosk dossier show {reference} »)")
        for reference in report.failing:
            _out(f"  En échec, reste en file : {reference} (voir « kiosk sync status »)")
        for d in held:
            reason = (d.last_error or "").removeprefix(HELD).strip()
            _out(f"  Retenu sur la borne : {d.reference} — {reason}")
    if report.stopped_open or report.waiting:
        why = report.last_error or (
            "Des dossiers sont retenus sur la borne (voir ci-dessus)."
            if held and not report.stopped_open
            else "service national injoignable."
        )
        return _fail(
            f"{why} {report.waiting} dossier(s) restent en file ; ils partiront au prochain"
            " passage, rien n'est perdu."
        )
    return EXIT_OK


def _watch(container: Container, sync_settings: Any, settings: Settings) -> int:
    import threading

    from app.housekeeping import start_purge_schedule
    from app.sync_link import Doorbell
    from app.sync_setup import build_worker
    from sync.worker import SyncStatus

    def show(status: SyncStatus) -> None:
        state = status.circuit.label
        _out(f"[sync] {state} — {status.waiting} dossier(s) en file")

    worker, api = build_worker(container, sync_settings, listener=show)
    # The installed kiosk's screen runs in another process and nudges this one when an agent
    # files a dossier or asks for the decisions (app/sync_link.py).
    doorbell = Doorbell.open(container.paths.data_dir, on_wake=worker.wake, on_pull=worker.pull_now)
    # A kiosk without the touchscreen app (a préfecture server syncing) purges here.
    schedule = start_purge_schedule(
        container.store,
        container.documents,
        policy=settings.retention_policy(),
        hours=settings.purge_hours,
    )
    stop = threading.Event()
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if doorbell is not None:
            doorbell.close()
        if schedule is not None:
            schedule.stop()
        api.close()
    if worker.revoked:  # the service said this kiosk was revoked: it stops, keys destroyed
        withdrawn = container.withdrawal.done if container.withdrawal else None
        return _fail(str(withdrawn) if withdrawn else "Cette borne a été retirée du service.")
    return EXIT_OK


_KIND_LABELS = {"demarches": "démarches", "tarifs": "tarifs"}


def _day(text: object) -> str:
    """``2027-06-02T08:30:00+00:00`` → ``02/06/2027``, the counter's day (as it is when
    unreadable)."""
    from datetime import datetime

    from kiosk.settings.timezone import counter_time

    try:
        return counter_time(datetime.fromisoformat(str(text))).strftime("%d/%m/%Y")
    except ValueError:
        return str(text)[:10]


def _bundle_lines(installed: dict[str, Any], refused: Any, *, keys: int) -> list[str]:
    """The signed updates of the démarches and tariffs: those in use, those refused (with
    why), or that none can be installed (no key pinned)."""
    if not keys:
        lines = [
            "Mises à jour des démarches et des tarifs : aucune clé de signature épinglée"
            " (service_national.cles_paquets) : rien n'est installé depuis le réseau."
        ]
    else:
        parts = []
        for kind, found in installed.items():
            label = _KIND_LABELS.get(kind, kind)
            if found is None:
                parts.append(f"{label} livrés avec la borne")
            else:
                day = _day(found.installed_at)
                parts.append(f"{label} du paquet n° {found.serial} (installé le {day})")
        lines = ["Mises à jour des démarches et des tarifs : " + ", ".join(parts) + "."]
    if not isinstance(refused, dict) or not refused:
        return lines
    lines.append(
        f"Mises à jour refusées : {len(refused)} paquet(s) publié(s) par le service national,"
        " non installé(s) ; la borne garde les démarches et les tarifs en usage. Prévenez le"
        " support :"
    )
    for name in sorted(refused):
        entry = refused[name] if isinstance(refused[name], dict) else {}
        kind, serial = entry.get("type", "?"), entry.get("serie", "?")
        reason = str(entry.get("motif", "motif inconnu"))
        reason = reason.removeprefix(f"paquet {kind} n° {serial} : ")  # said before it
        label = _KIND_LABELS.get(str(kind), str(kind))
        lines.append(f"  {label}, paquet n° {serial}, le {_day(entry.get('le'))} : {reason}")
    return lines


def _timbre_lines(timbres: list[Any]) -> list[str]:
    """The timbres refused by the service (the agent tells the person) and those waiting."""
    from kiosk.dossiers.payment import REFUSED, grouped

    lines: list[str] = []
    refused = [x for x in timbres if x.state == REFUSED]
    waiting = [x for x in timbres if x.state != REFUSED]
    if refused:
        lines.append(f"Timbres refusés : {len(refused)} — le dossier attend toujours son paiement.")
        lines += [f"  {x.reference}  timbre {grouped(x.timbre)} : {x.message}" for x in refused]
    if waiting:
        lines.append(
            f"Timbres en attente : {len(waiting)} — vérifiés par le service national dès qu'il"
            " est joignable et le dossier transmis."
        )
        lines += [f"  {x.reference}  timbre {grouped(x.timbre)}" for x in waiting]
    return lines


def _followup_lines(messages: list[Any], documents: list[Any]) -> list[str]:
    """The text messages not sent yet or refused, and the documents issued not received yet."""
    from kiosk.sync.notifications import REJECTED

    lines: list[str] = []
    refused = [m for m in messages if m.state == REJECTED]
    waiting = [m for m in messages if m.state != REJECTED]
    if waiting:
        lines.append(
            f"SMS en attente : {len(waiting)} — envoyés par le service national dès qu'il est"
            " joignable, une seule fois chacun."
        )
        lines += [
            f"  {m.reference}  {m.attempts} essai(s)"
            + (f" — {m.last_error}" if m.last_error else "")
            for m in waiting
        ]
    if refused:
        lines.append(f"SMS refusés : {len(refused)} — prévenez la personne autrement.")
        lines += [f"  {m.reference}  {m.last_error or 'refusé'}" for m in refused]
    if documents:
        lines.append(
            f"Documents du service national pas encore reçus : {len(documents)} — redemandés"
            " d'eux-mêmes."
        )
        lines += [
            f"  {d.reference}  {d.label}" + (f" — {d.last_error}" if d.last_error else "")
            for d in documents
        ]
    return lines


def _status(
    container: Container,
    args: argparse.Namespace,
    *,
    not_configured: str | None = None,
    keys: int = 0,
) -> int:
    """The queue, the connection as last seen, whom to contact, the signed updates.
    ``not_configured``: why this kiosk has no national service to send to (then it was never
    « joignable »); ``keys``: how many bundle keys it pins."""
    from kiosk.dossiers.service import utc_now
    from kiosk.sync.bundles import REFUSED_KEY
    from kiosk.sync.followup import NationalFollowUp
    from kiosk.sync.issued import IssuedDocuments
    from kiosk.sync.notifications import NotificationQueue
    from kiosk.sync.outbox import HELD, Outbox
    from kiosk.sync.payments import PaymentQueue
    from kiosk.updates import KINDS, BundleFolder
    from sync.policy import CircuitState
    from sync.worker import STATUS_KEY

    outbox = Outbox(container.store, container.catalog, clock=utc_now)
    counts = outbox.counts()
    stuck = outbox.needing_attention()
    held = outbox.held()
    saved = outbox.get_marker(STATUS_KEY) or {}
    people = NationalFollowUp(container.store, container.dossiers, clock=utc_now).list_to_contact()
    timbres = PaymentQueue(container.store, clock=utc_now).problems()
    to_pay = container.dossiers.waiting_for_payment()
    messages = NotificationQueue(container.store, clock=utc_now).problems()
    documents = IssuedDocuments(container.store, container.documents, clock=utc_now).to_fetch()
    circuit = CircuitState(saved.get("circuit", CircuitState.CLOSED.value))
    bundles = {k: BundleFolder(container.paths.bundles_dir / k).installed() for k in KINDS}
    refused_bundles = outbox.get_marker(REFUSED_KEY)
    if args.json:
        data = {
            "file": {
                "en_attente": counts.waiting,
                "en_cours_envoi": counts.sending,
                "transmis": counts.acknowledged,
                "renvoyes_au_guichet": counts.rejected,
            },
            "connexion": saved or None,
            "configuration": not_configured,
            "a_verifier": [d.to_json() for d in stuck],
            "retenus_sur_la_borne": [d.to_json() for d in held],
            "a_contacter": [p.to_json() for p in people],
            "en_attente_paiement": to_pay,
            "timbres": [
                {
                    "reference": x.reference,
                    "timbre": x.timbre,
                    "etat": x.state,
                    "message": x.message,
                }
                for x in timbres
            ],
            "paquets": {k: (b.to_json() if b else None) for k, b in bundles.items()},
            "paquets_refuses": refused_bundles or {},
            "cles_paquets": keys,
            "sms": [
                {
                    "reference": m.reference,
                    "etat": m.state,
                    "essais": m.attempts,
                    "derniere_erreur": m.last_error,
                    "prochain_essai": m.next_attempt_at.isoformat(),
                }
                for m in messages
            ],
            "documents_a_recevoir": [
                {
                    "reference": d.reference,
                    "document": d.label,
                    "essais": d.attempts,
                    "derniere_erreur": d.last_error,
                }
                for d in documents
            ],
        }
        _out(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    lines = [
        f"File d'envoi : {counts.waiting} dossier(s) en attente"
        f" (dont {counts.sending} en cours d'envoi), {counts.acknowledged} transmis,"
        f" {counts.rejected} renvoyé(s) au guichet.",
        _connection_line(circuit.label, saved, not_configured),
    ]
    if stuck:
        lines.append(
            f"À vérifier : {counts.attention} dossier(s) que le service national refuse de"
            " prendre ; ils restent en file et sont réessayés, rien n'est perdu."
        )
        for d in stuck:
            lines.append(
                f"  {d.reference}  {d.attempts} essais — {d.last_error or 'erreur inconnue'}"
            )
    if held:
        lines.append(
            f"Retenus sur la borne : {len(held)} dossier(s) qu'elle ne peut pas encore envoyer ;"
            " ils partiront d'eux-mêmes une fois la cause levée."
        )
        lines += [
            f"  {d.reference}  {(d.last_error or '').removeprefix(HELD).strip()}" for d in held
        ]
    lines += _timbre_lines(timbres)
    lines += _bundle_lines(bundles, refused_bundles, keys=keys)
    lines += _followup_lines(messages, documents)
    if to_pay:
        lines.append(f"En attente de paiement : {len(to_pay)} dossier(s) — " + ", ".join(to_pay))
    lines.append(f"À contacter : {len(people)}" + (" personne(s)" if people else ""))
    for p in people:
        how = p.contact_label
        if p.contact_mode == "telephone" and p.telephone:
            how += f" {p.telephone}"
        elif p.contact_mode == "courrier" and isinstance(p.adresse, dict):
            how += " " + ", ".join(str(v) for v in p.adresse.values())
        lines.append(f"  {p.reference}  {p.usager or '(nom inconnu)'}  {p.state.label} — {how}")
        if p.what:
            lines += [f"      {line}" for line in p.what.splitlines()]
    _out("\n".join(lines))
    return EXIT_OK
