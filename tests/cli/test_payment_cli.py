"""``kiosk paiement REF --timbre NUMBER`` and the state filter, in a real process on a real
database (the payment with the national service itself: tests/sync/test_payment.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import kiosk


def test_a_malformed_timbre_and_a_draft_dossier_are_plain_french_errors(tmp_path: Path) -> None:
    ref = json.loads(kiosk(tmp_path, "--json", "dossier", "new", "permis_perte").stdout)[
        "reference"
    ]
    short = kiosk(tmp_path, "paiement", ref, "--timbre", "1234 5678", check=False)
    assert short.returncode == 1
    assert short.stderr.strip() == (
        "Erreur : Numéro de timbre fiscal invalide : 16 chiffres attendus, 8 saisis."
    )
    draft = kiosk(tmp_path, "paiement", ref, "--timbre", "1234-5678-9012-3456", check=False)
    assert draft.returncode == 1
    assert "ne prend pas de timbre" in draft.stderr
    shown = kiosk(tmp_path, "paiement", ref).stdout
    assert "Aucun timbre fiscal donné." in shown


def test_the_list_filters_the_dossiers_waiting_for_payment(tmp_path: Path) -> None:
    kiosk(tmp_path, "dossier", "new", "permis_perte")
    for spelling in ("en_attente_paiement", "attente_paiement"):
        out = kiosk(tmp_path, "--json", "dossier", "list", "--etat", spelling).stdout
        assert json.loads(out) == []
    assert len(json.loads(kiosk(tmp_path, "--json", "dossier", "list").stdout)) == 1
