"""Foundation figures with 100,000 dossiers in the store.

Prints: what one autosave runs (its statements, the pages it writes, one commit), then its
p50/p95 and their ratio to a bare ``sqlite3`` insert+commit with the same pragmas on the same
disk, timed in turns, with the spread over rounds (issue 18: ≤ 3×; bench/autosave_figures.py);
search by name p95 (issue 18: ≤ 10 ms), by plate and reference (≤ 20 ms), the spread over
runs; the estimate of a dossier's fees p50/p95 (target ≤ 5 ms); receipt generation
median (target ≤ 50 ms); the worklist with 5,000 dossiers to follow p95 (target ≤ 50 ms);
a letter's (data + PDF) median over several runs and their spread
(target ≤ 50 ms); ``kiosk --help`` wall time.

The 100,000 dossiers are written with bulk inserts (the service would take minutes to create
them one by one); every measured operation then goes through the real service.

    uv run python -m bench.store_bench [--dossiers 100000] [--dir /tmp/pn-bench]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from bench.autosave_figures import autosave_figures, search_figures
from bench.common import median, percentile, report
from bench.followup_figures import worklist_figures
from kiosk.demarches import Catalog, Demarche, FieldType, load_catalog
from kiosk.dossiers.fees import DossierFees
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.reference import new_reference
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.text import name_key, plate_key
from kiosk.fees import load_tariffs
from kiosk.settings.paths import assets_dir
from kiosk.site.counter import CounterDetails, CounterSettings
from kiosk.store import Store, open_store
from kiosk.store.models import Answer, Dossier, Event, Usager, Vehicule
from tests.support import file_dossier, fill

SURNAMES = [
    "MARTIN",
    "BERNARD",
    "THOMAS",
    "PETIT",
    "ROBERT",
    "RICHARD",
    "DURAND",
    "DUBOIS",
    "MOREAU",
    "LAURENT",
    "SIMON",
    "MICHEL",
    "LEFEBVRE",
    "LEROY",
    "ROUX",
    "DAVID",
    "BERTRAND",
    "MOREL",
    "FOURNIER",
    "GIRARD",
    "BONNET",
    "DUPONT",
    "LAMBERT",
    "FONTAINE",
    "ROUSSEAU",
    "VINCENT",
    "MULLER",
    "LEFEVRE",
    "FAURE",
    "ANDRE",
    "MERCIER",
    "BLANC",
    "GUERIN",
    "BOYER",
    "GARNIER",
    "CHEVALIER",
    "FRANCOIS",
    "LEGRAND",
    "GAUTHIER",
    "GARCIA",
    "PERRIN",
    "ROBIN",
    "CLEMENT",
    "MORIN",
    "NICOLAS",
    "HENRY",
    "ROUSSEL",
    "MATHIEU",
    "GAUTIER",
    "MASSON",
    "BENALI",
    "NGUYEN",
]
GIVEN = ["Maëlys", "Jean", "Fatima", "Louis", "Chloé", "Karim", "Inès", "Hugo", "Léa", "Yanis"]
LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"


def _plate(rng: random.Random) -> str:
    a = rng.choice(LETTERS) + rng.choice(LETTERS)
    b = rng.choice(LETTERS) + rng.choice(LETTERS)
    return f"{a}-{rng.randint(1, 999):03d}-{b}"


def _autosave_field(demarche: Demarche) -> str:
    for field in demarche.top_level_fields():
        if field.type is FieldType.TEXT:
            return field.id
    raise SystemExit(f"no free-text field in {demarche.id}")


def populate(
    store: Store, catalog: Catalog, count: int, rng: random.Random
) -> list[dict[str, str]]:
    """Bulk-insert ``count`` dossiers with a person, a vehicle and a few answers each."""
    demarches = catalog.all()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    people: list[dict[str, str]] = []
    batch = 5000
    for offset in range(0, count, batch):
        dossiers, usagers, vehicules, answers, events = [], [], [], [], []
        for i in range(offset, min(count, offset + batch)):
            demarche = demarches[i % len(demarches)]
            did = str(uuid.UUID(int=rng.getrandbits(128)))
            ref = new_reference(rng.randrange)
            at = start + timedelta(minutes=i)
            nom = rng.choice(SURNAMES) + ("" if i % 3 else f"-{rng.choice(SURNAMES)}")
            prenom = rng.choice(GIVEN)
            plate = _plate(rng)
            dossiers.append(
                {
                    "id": did,
                    "reference": ref,
                    "demarche_id": demarche.id,
                    "demarche_version": demarche.version,
                    "state": "brouillon",
                    "routage": demarche.routage,
                    "created_at": at,
                    "updated_at": at,
                    "training": False,
                }
            )
            usagers.append(
                {
                    "dossier_id": did,
                    "nom": nom,
                    "prenoms": prenom,
                    "nom_norm": name_key(nom),
                    "prenoms_norm": name_key(prenom),
                }
            )
            vehicules.append(
                {
                    "dossier_id": did,
                    "immatriculation": plate,
                    "immatriculation_norm": plate_key(plate),
                }
            )
            for path, value in (("_bench_a", nom), ("_bench_b", prenom), ("_bench_c", plate)):
                answers.append({"dossier_id": did, "path": path, "value": value, "updated_at": at})
            events.append(
                {"dossier_id": did, "at": at, "kind": "creation", "to_state": "brouillon"}
            )
            people.append({"reference": ref, "nom": nom, "plate": plate})
        # Duplicate references are possible in principle; the unique index would reject the
        # batch, which at 34 billion combinations does not happen at this scale.
        with store.write() as s:
            s.execute(insert(Dossier), dossiers)
            s.execute(insert(Usager), usagers)
            s.execute(insert(Vehicule), vehicules)
            s.execute(insert(Answer), answers)
            s.execute(insert(Event), events)
    return people


def _opening(db: Path) -> None:
    """Opening the full store, every page's HMAC checked (issue 13), against a bare SQLCipher
    open reading the schema: what the check adds to a start, on a database of this size."""
    from kiosk.store import cipher
    from kiosk.store.keys import db_key_file, read_key

    key = read_key(db_key_file(db))
    opens, bare = [], []
    for _ in range(5):
        t = time.perf_counter()
        open_store(db).close()
        opens.append(time.perf_counter() - t)
        t = time.perf_counter()
        conn = cipher.connect(db, key)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.close()
        bare.append(time.perf_counter() - t)
    size = db.stat().st_size / 1e6
    spread = f"{min(opens) * 1e3:.0f}–{max(opens) * 1e3:.0f} ms sur 5"
    report(
        f"ouverture de la base ({size:.0f} Mo, pages vérifiées) médiane",
        median(opens) * 1e3,
        "ms",
        "—",
        f"{median(opens) / median(bare):.0f}× une ouverture nue ({median(bare) * 1e3:.1f} ms),"
        f" {spread}",
    )


def estimates(
    store: Store, catalog: Catalog, service: DossierService, rng: random.Random, n: int = 300
) -> None:
    """The fees of ``n`` used-car dossiers (answers as the counter leaves them), by reference:
    one read transaction and the line-by-line arithmetic, the way ``kiosk frais`` asks."""
    refs = [service.create("changement_titulaire").reference for _ in range(n)]
    now = datetime.now(UTC)
    rows = []
    with store.read() as s:
        ids = dict(s.execute(select(Dossier.reference, Dossier.id)).all())
    for ref in refs:
        answers: dict[str, object] = {
            "adresse": {"ligne": "1 rue", "code_postal": rng.choice(POSTCODES), "commune": "X"},
            "genre_vehicule": "voiture",
            "energie": rng.choice(["essence", "diesel", "electrique"]),
            "puissance_fiscale": str(rng.randint(4, 12)),
            "date_premiere_immatriculation": f"{rng.randint(2008, 2025)}-03-01",
        }
        rows += [
            {"dossier_id": ids[ref], "path": path, "value": value, "updated_at": now}
            for path, value in answers.items()
        ]
    with store.write() as s:
        s.execute(insert(Answer), rows)
    fees = DossierFees(store, catalog, tariffs=load_tariffs(assets_dir() / "tarifs"))
    times = []
    for ref in refs:
        t = time.perf_counter()
        result = fees.estimate(ref)
        times.append(time.perf_counter() - t)
        assert result.total is not None, result.missing
    p50, p95 = percentile(times, 0.5) * 1e3, percentile(times, 0.95) * 1e3
    report("estimation des frais d'un dossier p50", p50, "ms", "—")
    report("estimation des frais d'un dossier p95", p95, "ms", "≤ 5 ms", f"{p95 / 5:.2f}× la cible")


def letters_figure(
    store: Store,
    catalog: Catalog,
    service: DossierService,
    counter: CounterSettings,
    filed: list[str],
    runs: int = 5,
    per_run: int = 20,
) -> None:
    """A letter (the dossier, its latest national notice, the wording and the one-page PDF),
    the way ``kiosk courrier REF`` makes it: filed dossiers sent back « à compléter » with typed
    reasons and a day to answer by; the median of each run, and the spread of the runs."""
    from kiosk.dossiers.states import DossierState
    from kiosk.followup.letter_pdf import render_letter
    from kiosk.followup.letters import LetterService
    from kiosk.followup.reasons import Reason, ReasonKind, reasons_to_json
    from kiosk.store.models import NationalNotice

    reasons = reasons_to_json(
        [
            Reason(
                ReasonKind.PIECE_PERIMEE,
                "Le document fourni a plus de 15 jours.",
                "certificat_situation",
            ),
            Reason(ReasonKind.CHAMP_INCORRECT, "Le nom ne correspond pas.", field="usager.nom"),
        ]
    )
    for index, ref in enumerate(filed):
        service.acknowledge(ref, national_number=f"BENCH-{index}")
        service.transition(ref, DossierState.A_COMPLETER, reason="Pièce périmée")
    with store.write() as s:
        s.execute(update(NationalNotice).values(reasons=reasons, deadline=datetime.now(UTC).date()))
    letters = LetterService(store, catalog, service, counter)
    medians = []
    for _ in range(runs):
        times = []
        for i in range(per_run):
            t = time.perf_counter()
            render_letter(letters.compose(filed[i % len(filed)]))
            times.append(time.perf_counter() - t)
        medians.append(median(times))
    value = median(medians) * 1e3
    report(
        "lettre (données + PDF) médiane",
        value,
        "ms",
        "≤ 50 ms",
        f"{value / 50:.2f}× la cible, {min(medians) * 1e3:.1f}–{max(medians) * 1e3:.1f} ms"
        f" sur {runs} séries de {per_run}",
    )


#: Postcodes across the regions (Corsica and overseas included) for the fees' estimate.
POSTCODES = ["75011", "31000", "76600", "35000", "13001", "59000", "20000", "97300", "97400"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the database")
    args = parser.parse_args()
    rng = random.Random(2026)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="pn-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "kiosk.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)

    catalog = load_catalog(assets_dir() / "demarches")
    store = open_store(db)
    t0 = time.perf_counter()
    people = populate(store, catalog, args.dossiers, rng)
    print(f"# {args.dossiers} dossiers écrits en {time.perf_counter() - t0:.1f} s dans {db}")
    service = DossierService(store, catalog)

    # Autosave: dossiers created through the service, answered one field at a time (the
    # person's name: the answer, its projection for the lists and search, the audit entry).
    demarche = catalog.all()[0]
    field = _autosave_field(demarche)
    refs = [service.create(demarche.id).reference for _ in range(50)]
    autosave_figures(store, service, refs, field, directory, per_round=max(100, args.samples // 5))

    sample = rng.sample(people, 200)
    search_figures(
        service,
        {
            "nom": [p["nom"].split("-")[0].title() for p in sample],
            "immatriculation": [p["plate"].lower().replace("-", " ") for p in sample],
            "référence": [p["reference"].replace("-", "").lower() for p in sample],
        },
        {"nom": 10, "immatriculation": 20, "référence": 20},
    )

    estimates(store, catalog, service, rng)

    counter = CounterSettings(store)
    counter.set(
        CounterDetails(
            name="Préfecture de la Haute-Garonne — point numérique",
            address=("1 place Saint-Étienne", "31000 Toulouse"),
            phone="05 34 45 34 45",
            hours="Lundi–vendredi, 9 h – 16 h",
        )
    )
    receipts = ReceiptService(service, counter)
    filed = []
    for _ in range(5):
        ref = service.create("succession").reference
        fill(service, ref, catalog.latest("succession"))
        file_dossier(service, ref)
        filed.append(ref)
    renders = []
    for i in range(50):
        t = time.perf_counter()
        receipts.render(filed[i % len(filed)])
        renders.append(time.perf_counter() - t)
    report("récépissé (données + PDF) médiane", median(renders) * 1e3, "ms", "≤ 50 ms")
    letters_figure(store, catalog, service, counter, filed)
    # Last: it gives 5,000 of the dossiers a national decision.
    worklist_figures(store, catalog, rng)
    store.close()
    _opening(db)

    kiosk = Path(sys.executable).with_name("kiosk")
    walls, bare_py = [], []
    for _ in range(10):
        t = time.perf_counter()
        subprocess.run([str(kiosk), "--help"], check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        bare_py.append(time.perf_counter() - t)
    report(
        "kiosk --help (temps réel, médiane)",
        median(walls) * 1e3,
        "ms",
        "rapide",
        f"{median(walls) / median(bare_py):.2f}× python -c pass",
    )
    if args.dir is None:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
