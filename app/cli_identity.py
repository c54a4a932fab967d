"""``kiosk read-id`` and ``kiosk card-sim``: read an identity document, run the card simulator.

Only the standard library at import time (``kiosk --help`` stays fast). Every failure prints one
French sentence and exits with 1; personal data are printed to the terminal the agent asked,
never logged.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERROR = 0, 1
FAULTS = (
    "aa-wrong-signature",
    "clone-hides-dg14",
    "clone-refuses-dg14",
    "wrong-can",
    "removed-mid-read",
    "answer-lost-mid-read",
    "command-lost-mid-read",
    "no-extended-length",
    "tampered-dg",
    "bad-tlv",
    "slow",
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``read-id`` and ``card-sim`` to the ``kiosk`` command."""
    read = sub.add_parser(
        "read-id", parents=[common], help="lire et vérifier la puce d'une pièce d'identité"
    )
    key = read.add_mutually_exclusive_group()
    key.add_argument("--can", metavar="N", help="les 6 chiffres CAN imprimés au recto (CNIe)")
    key.add_argument("--mrz", metavar="LIGNES", help="la bande MRZ (lignes séparées par /)")
    key.add_argument("--doc", metavar="N", help="numéro du document (avec --birth et --expiry)")
    read.add_argument("--birth", metavar="AAMMJJ", help="date de naissance")
    read.add_argument("--expiry", metavar="AAMMJJ", help="date d'expiration")
    read.add_argument("--reader", metavar="NOM", help="lecteur à utiliser (partie du nom)")
    read.add_argument(
        "--trust",
        type=Path,
        action="append",
        metavar="CHEMIN",
        help="certificats CSCA ou liste maîtresse (.ml) ; défaut : assets/csca",
    )
    read.add_argument(
        "--trust-test-keys",
        action="store_true",
        help="faire confiance à la CSCA de TEST (formation, simulateur)",
    )
    read.add_argument(
        "--wait",
        type=float,
        default=3.0,
        metavar="S",
        help="secondes d'attente d'une carte (défaut 3)",
    )
    read.add_argument(
        "--photo-out", type=Path, metavar="FICHIER.png", help="enregistrer la photo de la puce"
    )
    read.set_defaults(run=_read_id)

    sim = sub.add_parser(
        "card-sim", parents=[common], help="carte simulée (formation, démonstration, tests)"
    )
    sim.add_argument(
        "--profile", choices=("cnie", "cnie-im", "passport", "passport-bac"), default="cnie"
    )
    sim.add_argument("--can", metavar="N", help="CAN de la carte simulée (défaut : du profil)")
    sim.add_argument(
        "--fault", choices=FAULTS, action="append", default=[], help="défaut à simuler (répétable)"
    )
    sim.add_argument("--port", type=int, default=35963, help="port vpcd (défaut 35963)")
    sim.add_argument(
        "--slow-delay",
        type=float,
        default=0.2,
        metavar="S",
        help="délai par commande avec --fault slow",
    )
    sim.set_defaults(run=_card_sim)


def _fail(message: str) -> int:
    print(f"Erreur : {message}", file=sys.stderr)  # noqa: T201 - the CLI prints by design
    return EXIT_ERROR


def _access(args: argparse.Namespace) -> Any:
    from kiosk.identity.model import CanKey, MrzKey
    from kiosk.identity.mrz import parse_mrz

    if args.can:
        return CanKey(args.can)  # checks the 6 digits (InvalidCan says what is wrong)
    if args.mrz:
        mrz = parse_mrz(args.mrz.replace("/", "\n"))
        return MrzKey.of(mrz)
    if args.doc and args.birth and args.expiry:
        return MrzKey(args.doc, args.birth, args.expiry)
    raise ValueError("indiquez le CAN (--can), la bande MRZ (--mrz) ou --doc, --birth et --expiry")


def _read_id(args: argparse.Namespace) -> int:
    from kiosk.identity.errors import IdentityError
    from kiosk.settings.paths import assets_dir

    try:
        access = _access(args)
        from devices.nfc.passive import TrustStore
        from devices.nfc.pcsc import PcscIdentityReader

        paths = list(args.trust or [assets_dir() / "csca"])
        if args.trust_test_keys:
            paths.append(assets_dir() / "test-keys" / "csca.pem")
        trust = TrustStore.from_paths(p for p in paths if p.exists())
        for problem in trust.problems:  # what was skipped, and why: the rest is trusted
            print(f"Magasin de confiance : {problem}", file=sys.stderr)  # noqa: T201
        reader = PcscIdentityReader(
            trust,
            reader=args.reader,
            card_wait=args.wait,
        )
        reading = reader.read(access)
    except (IdentityError, ValueError) as exc:
        return _fail(str(exc))
    if args.photo_out and reading.photo:
        args.photo_out.write_bytes(reading.photo)
    out = {
        "document": str(reading.kind),
        "etat_emetteur": reading.mrz.issuing_state,
        "numero": reading.document_number,
        "nom": reading.surname,
        "prenoms": reading.given_names,
        "nationalite": reading.mrz.nationality,
        "naissance": reading.birth_date.isoformat() if reading.birth_date else None,
        "sexe": reading.mrz.sex,
        "expiration": reading.expiry_date.isoformat() if reading.expiry_date else None,
        "verdict": str(reading.verdict),
        "motif": reading.verdict_reason,
        "puce_authentifiee": reading.chip_verified,
        "protocole": reading.protocol,
        "photo": f"{len(reading.photo)} octets" if reading.photo else None,
        "dg13": reading.dg13,
        "apdu": reading.apdu_count,
        "octets": reading.bytes_exchanged,
        "durees_s": {k: round(v, 3) for k, v in reading.timings.items()},
    }
    if reading.details:
        out["lieu_naissance"] = reading.details.birth_place
        out["adresse"] = reading.details.address
    if getattr(args, "json", False):
        print(json.dumps(out, ensure_ascii=False, indent=2))  # noqa: T201
    else:
        for name, value in out.items():
            print(f"{name:<18} {value}")  # noqa: T201
    return EXIT_OK


def _card_sim(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from devices.cardsim.chip import Faults, SimulatedChip
    from devices.cardsim.profiles import PROFILES
    from devices.cardsim.vpcd import VirtualCard, VpcdNotListening

    profile = PROFILES[args.profile]
    if args.can:
        if not (args.can.isdigit() and len(args.can) == 6):
            return _fail("le CAN est fait de 6 chiffres")
        profile = replace(profile, can=args.can)
    faults = Faults(
        wrong_can="wrong-can" in args.fault,
        removed_mid_read="removed-mid-read" in args.fault,
        answer_lost_mid_read="answer-lost-mid-read" in args.fault,
        command_lost_mid_read="command-lost-mid-read" in args.fault,
        no_extended_length="no-extended-length" in args.fault,
        tampered_dg="tampered-dg" in args.fault,
        bad_tlv="bad-tlv" in args.fault,
        clone_hides_dg14="clone-hides-dg14" in args.fault,
        clone_refuses_dg14="clone-refuses-dg14" in args.fault,
        aa_wrong_signature="aa-wrong-signature" in args.fault,
        slow=args.slow_delay if "slow" in args.fault else 0.0,
    )
    card = VirtualCard(
        SimulatedChip(profile, faults),
        port=args.port,
        on_state=lambda state: print(  # noqa: T201
            "Carte posée sur le lecteur virtuel." if state == "inserted" else "Carte retirée."
        ),
    )
    key = (
        f"CAN {profile.can}"
        if profile.name.startswith("cnie")
        else "MRZ " + " / ".join(profile.mrz())
    )
    print(f"Carte simulée « {profile.name} » ({key}). Ctrl+C pour la retirer.")  # noqa: T201
    try:
        card.serve()
    except VpcdNotListening:
        return _fail(
            f"aucun lecteur virtuel n'écoute sur le port {args.port} : démarrez le service "
            "de cartes à puce (pcscd -f) avec le pilote vsmartcard-vpcd."
        )
    except KeyboardInterrupt:
        print("Carte retirée.")  # noqa: T201
    return EXIT_OK
