"""``kiosk frais REF``: the estimate line by line, in a real process on a real database."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import kiosk


def test_frais_prints_each_line_with_its_label_and_the_total(tmp_path: Path) -> None:
    created = json.loads(kiosk(tmp_path, "--json", "dossier", "new", "changement_titulaire").stdout)
    ref = created["reference"]
    for field, value in (
        ("adresse", "1 place du Capitole | 31000 | Toulouse"),
        ("genre_vehicule", "voiture"),
        ("energie", "diesel"),
        ("date_premiere_immatriculation", "2015-01-10"),  # over 10 years: half the regional tax
    ):
        kiosk(tmp_path, "dossier", "answer", ref, field, value)

    missing = kiosk(tmp_path, "frais", ref).stdout
    assert "Manque pour calculer :" in missing
    assert "répondez à « Puissance fiscale, en chevaux fiscaux (CV) »" in missing
    assert "Total : pas encore calculable." in missing

    kiosk(tmp_path, "dossier", "answer", ref, "puissance_fiscale", "7")
    out = kiosk(tmp_path, "frais", ref).stdout
    lines = out.splitlines()
    assert lines[0].startswith("Frais du dossier (tarif du 2026-12-05")
    y1 = next(line for line in lines if "Taxe régionale (Y.1)" in line)
    assert "208,25\u00a0€" in y1
    assert "7 CV × 59,50\u00a0€ (Occitanie), véhicule de plus de 10 ans : moitié" in y1
    assert any("Taxe fixe (Y.4)" in line and "11,00\u00a0€" in line for line in lines)
    assert any("Redevance d'acheminement (Y.5)" in line and "2,76\u00a0€" in line for line in lines)
    assert "Total" in lines[-1] and "222,01\u00a0€" in lines[-1]

    data = json.loads(kiosk(tmp_path, "frais", ref, "--json").stdout)
    assert data["total_centimes"] == 22201
    assert [line["code"] for line in data["lignes"]] == ["y1", "y4", "y5"]


def test_frais_of_an_unknown_dossier_says_so(tmp_path: Path) -> None:
    result = kiosk(tmp_path, "frais", "PN-0000-0000", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Erreur : ")
