"""``kiosk read-id`` through the real stack: readable output, French errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from devices.cardsim.chip import Faults
from tests.devices.conftest import READER, CardFactory


def test_read_id_prints_holder_verdict_and_timings(
    card: CardFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    card("cnie")
    photo = tmp_path / "photo.png"
    args = ["read-id", "--can", "123456", "--trust-test-keys", "--reader", READER, "--json"]
    assert main([*args, "--photo-out", str(photo)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["nom"], out["verdict"]) == ("MARTIN", "authentique")
    assert out["durees_s"]["total"] > 0 and "photo" in out
    assert photo.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_read_id_wrong_can_is_one_french_sentence(
    card: CardFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    card("cnie", Faults(wrong_can=True))
    assert main(["read-id", "--can", "123456", "--reader", READER]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Erreur : Le numéro CAN") and "Traceback" not in err


def test_read_id_without_access_key_explains(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read-id"]) == 1
    assert "--can" in capsys.readouterr().err


def test_read_id_with_a_mistyped_mrz_names_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    mrz = "IDFRAX4RTBPFW47<<<<<<<<<<<<<<</9007138F3002119FRA<<<<<<<<<<<6/MARTIN<<MAELYS"
    assert main(["read-id", "--mrz", mrz]) == 1
    assert "ligne 1, numéro du document" in capsys.readouterr().err
