"""The ``kiosk`` command as an agent or a script uses it, in a real process on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from kiosk.demarches import Catalog, FieldType
from kiosk.dossiers.service import DossierService
from kiosk.store import open_store
from tests.support import fill

ROOT = Path(__file__).resolve().parents[2]


def kiosk(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PN_KIOSK_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = kiosk(tmp_path, "--help").stdout
    for command in ("demarches", "dossier", "receipt"):
        assert command in out
    # --help must not open or create a database.
    assert not (tmp_path / "data").exists()


def test_demarches_list_as_json(tmp_path: Path, catalog: Catalog) -> None:
    rows = json.loads(kiosk(tmp_path, "demarches", "list", "--json").stdout)
    assert {(r["id"], r["version"]) for r in rows} == {(d.id, d.version) for d in catalog.all()}
    assert all(r["titre"] for r in rows)


def test_a_dossier_from_creation_to_receipt(tmp_path: Path, catalog: Catalog) -> None:
    demarche = next(d for d in catalog.all() if d.routage == "instruction_manuelle")
    created = json.loads(kiosk(tmp_path, "--json", "dossier", "new", demarche.id).stdout)
    ref = created["reference"]
    assert created["etat"] == "brouillon"

    text_field = next(f for f in demarche.top_level_fields() if f.type is FieldType.TEXT)
    answer = json.loads(
        kiosk(tmp_path, "dossier", "answer", ref.lower(), text_field.id, "Réponse", "--json").stdout
    )
    assert answer["valeur"] == "Réponse"

    shown = json.loads(kiosk(tmp_path, "dossier", "show", ref, "--json").stdout)
    assert shown["reponses"][text_field.id] == "Réponse"
    assert shown["manquant"], "a fresh dossier has mandatory questions left"
    assert shown["journal"][0]["type"] == "creation"

    refused = kiosk(tmp_path, "dossier", "validate", ref, check=False)
    assert refused.returncode == 1
    assert "n'est pas complet" in refused.stderr
    assert "Traceback" not in refused.stderr

    listed = json.loads(kiosk(tmp_path, "dossier", "list", "--search", ref, "--json").stdout)
    assert [r["reference"] for r in listed] == [ref]

    not_yet = kiosk(tmp_path, "receipt", ref, "--out", str(tmp_path / "r.pdf"), check=False)
    assert not_yet.returncode == 1
    assert "pas encore déposé" in not_yet.stderr
    assert not (tmp_path / "r.pdf").exists()

    store = open_store(tmp_path / "data" / "kiosk.sqlite3")
    try:
        fill(DossierService(store, catalog), ref, demarche)
    finally:
        store.close()
    kiosk(tmp_path, "dossier", "validate", ref)
    # Filing needs the person's mandate, on the command line as on the screen.
    unsigned = kiosk(tmp_path, "dossier", "submit", ref, check=False)
    assert unsigned.returncode == 1
    assert "mandat n'est pas signé" in unsigned.stderr
    not_png = tmp_path / "signature.txt"
    not_png.write_text("signé")
    refused = kiosk(tmp_path, "dossier", "mandat", ref, "--signature", str(not_png), check=False)
    assert refused.returncode == 1 and "PNG" in refused.stderr
    signature = tmp_path / "signature.png"
    Image.new("L", (200, 60), 255).save(signature)
    kiosk(tmp_path, "dossier", "mandat", ref, "--signature", str(signature), "--agent", "C. Dupont")
    submitted = json.loads(kiosk(tmp_path, "dossier", "submit", ref, "--json").stdout)
    assert submitted["etat"] == "en_file"

    out = tmp_path / "recu.pdf"
    kiosk(tmp_path, "receipt", ref, "--out", str(out))
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert ref in text


def test_errors_are_plain_french_without_traceback(tmp_path: Path) -> None:
    unknown = kiosk(tmp_path, "dossier", "new", "permis_de_voler", check=False)
    assert unknown.returncode == 1
    assert "Démarche inconnue" in unknown.stderr and "Traceback" not in unknown.stderr

    missing = kiosk(tmp_path, "dossier", "show", "PN-0000-0000", check=False)
    assert missing.returncode == 1
    assert "Aucun dossier" in missing.stderr


@pytest.mark.parametrize("content", ["titre = [", "id = 'x'\nversion = 1\n"])
def test_check_reports_a_broken_definition(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "cassee.v1.toml"
    bad.write_text(content, encoding="utf-8")
    result = kiosk(tmp_path, "demarches", "check", str(bad), check=False)
    assert result.returncode == 1
    assert "cassee.v1.toml" in result.stderr and "Traceback" not in result.stderr


def test_a_piece_that_is_not_a_real_scan_is_refused_in_french(tmp_path: Path) -> None:
    ref = json.loads(kiosk(tmp_path, "--json", "dossier", "new", "changement_adresse").stdout)[
        "reference"
    ]
    fifo = tmp_path / "tube.pdf"
    os.mkfifo(fifo)  # used to hang the command forever
    key = tmp_path / "data" / "keys" / "db.key"
    assert key.is_file()
    link = tmp_path / "cle.pdf"
    link.symlink_to(key)
    text = tmp_path / "facture.pdf"
    text.write_text("pas un PDF", encoding="utf-8")
    for source, reason in [
        (fifo, "n'est pas un fichier ordinaire"),
        (link, "lien symbolique refusé"),
        (text, "n'est ni un PDF ni une image"),
    ]:
        refused = kiosk(
            tmp_path, "dossier", "piece", ref, "justificatif_domicile", str(source), check=False
        )
        assert refused.returncode == 1, source
        assert reason in refused.stderr and "Traceback" not in refused.stderr
    scan = tmp_path / "scan.pdf"
    Image.new("RGB", (20, 10), "white").save(scan, "PNG")
    assert not (tmp_path / "data" / "documents").exists()  # nothing stored by the refusals
    attached = kiosk(tmp_path, "dossier", "piece", ref, "justificatif_domicile", str(scan))
    assert "jointe au dossier" in attached.stdout
    assert len(list((tmp_path / "data" / "documents").iterdir())) == 1


@pytest.mark.parametrize("limit", ["99999999999999999999", "0", "-3", "beaucoup"])
def test_a_listing_limit_out_of_range_is_one_french_sentence(tmp_path: Path, limit: str) -> None:
    for command in (("dossier", "list"), ("audit", "show")):
        result = kiosk(tmp_path, *command, "--limit", limit, check=False)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert f"« {limit} »" in result.stderr


def test_a_piece_imported_from_the_scanner_folder_leaves_it(tmp_path: Path) -> None:
    ref = json.loads(kiosk(tmp_path, "--json", "dossier", "new", "changement_adresse").stdout)[
        "reference"
    ]
    folder = tmp_path / "data" / "numerisations"  # the default scanner folder
    folder.mkdir()
    scan = folder / "facture.png"
    Image.new("RGB", (20, 10), "white").save(scan, "PNG")
    elsewhere = tmp_path / "copie.png"
    Image.new("RGB", (20, 12), "white").save(elsewhere, "PNG")

    attached = kiosk(
        tmp_path, "--json", "dossier", "piece", ref, "justificatif_domicile", str(scan)
    )
    assert json.loads(attached.stdout)["numerisation_supprimee"] is True
    assert not scan.exists()  # the plain scan went once the encrypted copy was stored
    assert len(list((tmp_path / "data" / "documents").glob("*.enc"))) == 1

    # A file the agent names elsewhere is theirs: imported, left where it is.
    kiosk(tmp_path, "dossier", "piece", ref, "justificatif_domicile", str(elsewhere))
    assert elsewhere.exists()
