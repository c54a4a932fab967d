"""No command ends in a traceback: what a clumsy operator or an attacker gives the ``kiosk``
command, or finds in a damaged data folder, is answered with one French sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.cli import main
from kiosk.store import open_store
from tests.ui.screens import screen_services
from ui.i18n import Translator
from ui.screens.home import HomeScreen
from ui.tasks import TaskRunner

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
UNREADABLE = "La base de données contient une date illisible (« n'importe quoi »)"


def _kiosk(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _new_dossier(capsys: pytest.CaptureFixture[str], data: Path) -> str:
    code, out, _ = _kiosk(capsys, data, "dossier", "new", "succession")
    assert code == 0
    return out.split()[1]


def _damage(data: Path, statement: str) -> None:
    """Change the database behind the kiosk's back, as a hand edit or a bad disk would."""
    store = open_store(data / "kiosk.sqlite3")
    try:
        with store.write() as s:
            s.execute(text(statement))
    finally:
        store.close()


@pytest.mark.parametrize("command", [["dossier", "list"], ["dossier", "show"]])
def test_a_timestamp_that_is_no_timestamp_is_one_french_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    reference = _new_dossier(capsys, tmp_path)
    _damage(tmp_path, "UPDATE dossier SET updated_at = 'n''importe quoi'")
    args = [*command, reference] if command[-1] == "show" else command
    code, _, err = _kiosk(capsys, tmp_path, *args)
    assert code == 1
    assert err.startswith(f"Erreur : {UNREADABLE}")
    assert "prévenez le support" in err


def test_the_home_search_says_the_same_on_the_screen(qtbot: QtBot, tmp_path: Path) -> None:
    with screen_services(tmp_path) as services:
        reference = services.dossiers.create("succession").reference
        with services.dossiers._store.write() as s:
            s.execute(text("UPDATE dossier SET updated_at = 'n''importe quoi'"))
        runner = TaskRunner()
        home = HomeScreen(services.home(), runner, Translator("fr"))
        qtbot.addWidget(home)
        home.search.setText(reference)
        home.search_button.click()
        qtbot.waitUntil(lambda: runner.idle)
        assert home.message.text().startswith(UNREADABLE)


def test_a_piece_without_its_documents_key_is_one_french_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = _new_dossier(capsys, tmp_path)
    scan = tmp_path / "scan.png"
    scan.write_bytes(PNG)
    assert (
        _kiosk(capsys, tmp_path, "dossier", "piece", reference, "piece_identite", str(scan))[0] == 0
    )
    (tmp_path / "keys" / "documents.key").unlink()  # its medium not mounted
    scan.write_bytes(PNG + b"2")
    code, _, err = _kiosk(
        capsys, tmp_path, "dossier", "piece", reference, "piece_identite", str(scan)
    )
    assert code == 1
    assert "La clé de chiffrement des pièces" in err and "est absente ou illisible" in err
    assert not (tmp_path / "keys" / "documents.key").exists()  # no new key over the old files


@pytest.mark.parametrize("where", ["--db", "--data-dir"])
def test_a_data_folder_or_database_that_cannot_be_one_is_one_french_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    blocker = tmp_path / "un-fichier"
    blocker.write_text("")
    wrong = tmp_path if where == "--db" else blocker  # a folder as the file, a file as the folder
    code = main([where, str(wrong), "dossier", "list"])
    _, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert "ne peut pas être ouverte" in err and "Rien n'a été modifié" in err


def test_an_argument_that_is_not_utf8_is_one_french_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = _new_dossier(capsys, tmp_path)
    code, _, err = _kiosk(capsys, tmp_path, "dossier", "answer", reference, "nom", "Du\udcffpont")
    assert code == 1
    assert "n'est pas du texte UTF-8 valide" in err


def test_an_unexpected_error_is_a_sentence_for_support(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.cli

    def broken(*_: object) -> int:
        raise RuntimeError("panne imprévue")

    monkeypatch.setitem(app.cli._HANDLERS, ("dossier", "list"), broken)
    code, _, err = _kiosk(capsys, tmp_path, "dossier", "list")
    assert code == 1
    assert err.startswith("Erreur inattendue (RuntimeError : panne imprévue).")
    assert "Signalez-la au support" in err


@pytest.mark.parametrize("bad", ["Mairie\x01", "Mairie \u202eeiriaM"])
def test_the_counter_details_printed_on_receipts_refuse_control_characters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: str
) -> None:
    code, _, err = _kiosk(capsys, tmp_path, "guichet", "--nom", bad)
    assert code == 1 and "caractère invisible ou de contrôle" in err
    assert _kiosk(capsys, tmp_path, "guichet")[1].splitlines()[0] == "Point numérique"
