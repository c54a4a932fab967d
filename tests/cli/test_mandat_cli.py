"""``kiosk mandat REF``: the mandate's state, the person's copy and the revocation with its
attestation, in a real process on a real database (the rules themselves:
tests/dossiers/test_mandate.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.store import open_store
from tests.cli.test_cli import kiosk
from tests.support import fill


def _text(pdf: Path) -> str:
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_a_mandate_shown_copied_revoked_then_refused_at_filing(
    tmp_path: Path, catalog: Catalog
) -> None:
    ref = json.loads(kiosk(tmp_path, "--json", "dossier", "new", "succession").stdout)["reference"]
    store = open_store(tmp_path / "data" / "kiosk.sqlite3")
    try:
        fill(DossierService(store, catalog), ref, catalog.latest("succession"))
    finally:
        store.close()
    assert "mandat non signé" in kiosk(tmp_path, "mandat", ref).stdout
    signature = tmp_path / "signature.png"
    Image.new("L", (200, 60), 255).save(signature)
    too_long = kiosk(
        tmp_path,
        "dossier",
        "mandat",
        ref,
        "--signature",
        str(signature),
        "--duree",
        "366",
        check=False,
    )
    assert too_long.returncode == 1
    assert "d'un jour à un an (365 jours) : 366 jours n'est pas possible" in too_long.stderr
    signed = kiosk(
        tmp_path,
        "--json",
        "dossier",
        "mandat",
        ref,
        "--signature",
        str(signature),
        "--duree",
        "30",
        "--theme",
        "--agent",
        "C. Dupont",
    )
    assert json.loads(signed.stdout)["portee"] == "theme:carte_grise"

    shown = json.loads(kiosk(tmp_path, "--json", "mandat", ref).stdout)
    assert (shown["signe"], shown["duree_jours"], shown["revoque_le"]) == (True, 30, None)
    assert "toutes mes démarches de carte grise" in kiosk(tmp_path, "mandat", ref).stdout

    copy = tmp_path / "copie.pdf"
    kiosk(tmp_path, "mandat", ref, "--copie", "--out", str(copy))
    printed = _text(copy)
    assert ref in printed and "un mois (30 jours)" in printed and "C. Dupont" in printed

    attestation = tmp_path / "revocation.pdf"
    revoked = kiosk(tmp_path, "mandat", ref, "--revoquer", "--out", str(attestation))
    assert f"Le mandat du dossier {ref} est révoqué depuis le" in revoked.stdout
    assert ref in _text(attestation) and "Révoqué le" in _text(attestation)
    again = kiosk(tmp_path, "mandat", ref, "--revoquer", "--out", str(attestation))
    assert "était déjà révoqué" in again.stdout  # said, not an error (exit 0)
    assert "Révoqué le" in kiosk(tmp_path, "mandat", ref).stdout

    refused = kiosk(tmp_path, "dossier", "submit", ref, check=False)
    assert refused.returncode == 1
    assert "a révoqué son mandat" in refused.stderr
    lone = kiosk(tmp_path, "mandat", ref, "--out", str(copy), check=False)
    assert lone.returncode == 1 and "--copie ou --revoquer" in lone.stderr
