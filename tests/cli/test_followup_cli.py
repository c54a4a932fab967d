"""``kiosk suivi``: the worklist in a terminal, one dossier's follow-up, an attempt recorded, in
a real process on a real (encrypted) database."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from app.container import build
from app.settings import Settings
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.reasons import Reason, ReasonKind
from tests.cli.test_cli import kiosk
from tests.followup.support import decide, filed_and_numbered


def _sent_back(tmp_path: Path) -> str:
    data = tmp_path / "data"
    container = build(Settings(database=data / "kiosk.sqlite3", data_dir=data))
    try:
        service = DossierService(container.store, container.catalog)
        reference = filed_and_numbered(service, "changement_adresse")
        decide(
            service,
            reference,
            DossierState.A_COMPLETER,
            (Reason(ReasonKind.PIECE_MANQUANTE, "Il manque le cerfa 13750.", piece="cerfa_13750"),),
            deadline=date(2026, 4, 1),
        )
    finally:
        container.close()
    return reference


def test_the_worklist_and_an_attempt_from_the_command_line(tmp_path: Path) -> None:
    reference = _sent_back(tmp_path)
    out = kiosk(tmp_path, "suivi").stdout
    assert "Dossiers à suivre : 1" in out
    assert reference in out
    assert "pièce manquante : Il manque le cerfa 13750." in out
    assert "À fournir avant le 01/04/2026" in out

    listed = json.loads(kiosk(tmp_path, "--json", "suivi", "--besoin", "a_completer").stdout)
    assert listed["nombre"]["a_completer"] == 1
    assert listed["dossiers"][0]["motifs"][0]["piece"] == "cerfa_13750"

    kiosk(tmp_path, "suivi", reference, "--contact", "telephone", "--resultat", "injoignable")
    shown = json.loads(kiosk(tmp_path, "--json", "suivi", reference).stdout)
    assert [(a["canal"], a["resultat"]) for a in shown["tentatives"]] == [
        ("telephone", "injoignable")
    ]
    assert shown["prevenu_le"] is None


def test_mistakes_are_plain_french(tmp_path: Path) -> None:
    lone = kiosk(tmp_path, "suivi", "--contact", "telephone", check=False)
    assert lone.returncode == 1
    assert lone.stderr.strip() == "Erreur : --contact et --resultat vont ensemble."
    unknown = kiosk(tmp_path, "suivi", "PN-AAAA-AAAA", check=False)
    assert unknown.returncode == 1
    assert "Traceback" not in unknown.stderr
    draft = json.loads(kiosk(tmp_path, "--json", "dossier", "new", "permis_perte").stdout)
    refused = kiosk(tmp_path, "suivi", draft["reference"], check=False)
    assert refused.returncode == 1
    assert "n'a pas été déposé : il n'y a rien à suivre." in refused.stderr
