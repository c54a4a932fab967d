"""``kiosk reglages`` and a kiosk started with a wrong setting, as support staff see them: in a
real process, with a real file and environment."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.settings import SETTINGS, SettingsError

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-de-la-borne"


Kiosk = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def kiosk(tmp_path: Path) -> Kiosk:
    """``kiosk ARGS`` with only the given ``PN_KIOSK_*`` variables, and a configuration folder
    of its own (never the file of the machine's user)."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PN_KIOSK_")}
        clean["XDG_CONFIG_HOME"] = str(tmp_path / "config")
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        "config_version = 1\n"
        "[peripheriques]\n"
        'imprimante = "Accueil"\n'
        "[service_national]\n"
        f'secret = "{SECRET}"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def test_the_listing_says_each_value_where_it_came_from_and_what_it_means(
    tmp_path: Path, config: Path, kiosk: Kiosk
) -> None:
    data = tmp_path / "donnees"
    result = kiosk(
        "--data-dir", str(data), "--config", str(config), "reglages", PN_KIOSK_PURGE_HOURS="3"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"Fichier de réglages : {config} (version 1)\n")
    assert f"stockage.donnees = {data}  (ligne de commande (--data-dir))\n" in out
    assert f"stockage.base = {data / 'kiosk.sqlite3'}  (défaut)\n" in out
    assert f"peripheriques.imprimante = Accueil  (fichier ({config}, ligne 3))\n" in out
    assert "conservation.purge_heures = 3.0  (environnement (PN_KIOSK_PURGE_HOURS))\n" in out
    assert "peripheriques.lecteur = (non défini : premier lecteur trouvé)  (défaut)\n" in out
    assert f"service_national.secret = ********  (fichier ({config}, ligne 5))\n" in out
    assert SECRET not in out + result.stderr
    for declaration in SETTINGS:
        assert f"    {declaration.meaning} [{declaration.env}]\n" in out
    assert not data.exists()  # listing the settings opens no database


def test_the_listing_as_json(config: Path, kiosk: Kiosk) -> None:
    result = kiosk("--config", str(config), "reglages", "--json", PN_KIOSK_DB="/srv/k.sqlite3")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["fichier"] == str(config)
    assert listing["version_fichier"] == listing["version_lue"] == 1
    assert listing["avertissements"] == []
    rows = {row["cle"]: row for row in listing["reglages"]}
    assert list(rows) == [d.key for d in SETTINGS]
    assert rows["stockage.base"] == {
        "cle": "stockage.base",
        "variable": "PN_KIOSK_DB",
        "type": "chemin",
        "valeur": "/srv/k.sqlite3",
        "origine": "environnement",
        "emplacement": "PN_KIOSK_DB",
        "signification": "Fichier de la base de données (chiffrée) des dossiers.",
    }
    assert rows["service_national.secret"]["valeur"] == "********"
    assert rows["service_national.identifiant"]["valeur"] is None
    assert rows["conservation.jours_apres_decision"]["valeur"] == 30
    assert SECRET not in result.stdout


def test_without_a_file_the_listing_says_where_it_was_looked_for(
    tmp_path: Path, kiosk: Kiosk
) -> None:
    result = kiosk("reglages")
    assert result.returncode == 0, result.stderr
    expected = tmp_path / "config" / "pn-kiosk" / "kiosk.toml"
    assert result.stdout.startswith(f"Fichier de réglages : aucun ({expected} n'existe pas)\n")


def test_a_wrong_setting_stops_every_command_with_one_french_sentence(
    tmp_path: Path, kiosk: Kiosk
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[conservation]\njours_sans_modification = 'trois mois'\n")
    for command in (("reglages",), ("dossier", "list"), ("purge", "--dry-run")):
        result = kiosk("--data-dir", str(tmp_path / "d"), "--config", str(config), *command)
        assert result.returncode == 1
        assert result.stderr == (
            "Erreur : Réglage conservation.jours_sans_modification : « trois mois »"
            f" (fichier {config}, ligne 2) n'est pas valable. Attendu : un nombre entier de"
            " jours, 1 ou plus, écrit par exemple : jours_sans_modification = 90.\n"
        )
    assert not (tmp_path / "d").exists()  # nothing was opened with a half-read configuration
    bad_env = kiosk("dossier", "list", PN_KIOSK_RETENTION_DECISION_DAYS="1.5")
    assert bad_env.returncode == 1
    assert "variable d'environnement PN_KIOSK_RETENTION_DECISION_DAYS" in bad_env.stderr
    assert "Traceback" not in bad_env.stderr


def test_an_unknown_key_is_said_and_the_command_runs(tmp_path: Path, kiosk: Kiosk) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[peripheriques]\nimprimant = 'Accueil'\n")
    result = kiosk("--data-dir", str(tmp_path / "d"), "--config", str(config), "dossier", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Aucun dossier.\n"
    assert result.stderr == (
        f"Attention : Clé inconnue « peripheriques.imprimant » ({config}, ligne 2) : ignorée."
        " Vouliez-vous dire « peripheriques.imprimante » ?\n"
    )


def test_the_touchscreen_kiosk_shows_why_it_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The window still opens (a kiosk started by its session has no terminal anyone reads): the
    start-up job fails with the message, which the sign-in screen shows (startup_failed)."""
    config = tmp_path / "kiosk.toml"
    config.write_text("[service_national]\nadresse = 'api.exemple.gouv.fr'\n")
    failures: list[BaseException] = []

    def run(build: Callable[[], Any], **_options: Any) -> int:
        try:
            build()
        except SettingsError as exc:
            failures.append(exc)
        return 0

    monkeypatch.setattr("ui.app.run", run)
    assert main(["--config", str(config), "run", "--demo"]) == 1
    (failure,) = failures
    assert str(failure).startswith("Réglage service_national.adresse : « api.exemple.gouv.fr »")
    assert capsys.readouterr().err == f"Erreur : {failure}\n"


def test_the_settings_are_resolved_once_per_command(tmp_path: Path) -> None:
    from app.cli_settings import resolution_of

    args = argparse.Namespace(db=None, data_dir=tmp_path, config=None, url=None)
    assert resolution_of(args) is resolution_of(args)
    assert resolution_of(args).settings.data_dir == tmp_path
