"""An enrolment writes the settings file: its keys set, every other line and comment kept, the
file readable by the kiosk's account only, and nothing written when it cannot be done safely."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from app.settings import resolve
from app.settings.write import SettingsFile
from kiosk.enrolment.service import EnrolmentFailed
from kiosk.enrolment.site import SiteSettings
from kiosk.ports.national import KioskCredentials

CREDENTIALS = KioskCredentials("borne-31-accueil-2", 'un "secret" \\ avec tout')
PIN = "sha256/" + "A" * 43 + "="
SITE = SiteSettings(
    "https://api.exemple.gouv.fr", (PIN,), printer="Accueil_Prefecture", scan_dir="/srv/scans"
)


def test_a_new_file_holds_the_layout_version_the_values_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "pn-kiosk" / "kiosk.toml"
    SettingsFile(path).write(CREDENTIALS, SITE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    settings = resolve(config=path, environ={}).settings
    assert settings.api_client_id == "borne-31-accueil-2"
    assert settings.api_client_secret == CREDENTIALS.client_secret  # quotes and \\ survive
    assert settings.api_url == "https://api.exemple.gouv.fr"
    assert settings.api_pins == (PIN,)
    assert settings.printer == "Accueil_Prefecture"
    assert settings.scan_dir == Path("/srv/scans")
    assert tomllib.loads(path.read_text())["config_version"] == 1
    assert resolve(config=path, environ={}).warnings == ()  # not readable by all: no warning


def test_an_existing_file_keeps_its_comments_and_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        "# Préfecture de la Haute-Garonne, guichet 2\n"
        "config_version = 1\n\n"
        "[conservation]\n"
        "jours_apres_decision = 30  # décidé en comité\n\n"
        "[service_national]\n"
        'adresse = "https://ancienne.exemple"  # à remplacer\n'
        "attente_maximale = 120\n",
        encoding="utf-8",
    )
    path.chmod(0o644)
    SettingsFile(path).write(CREDENTIALS, SITE)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Préfecture de la Haute-Garonne, guichet 2\n")
    assert "jours_apres_decision = 30  # décidé en comité" in text
    assert "ancienne" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds a secret now
    settings = resolve(config=path, environ={}).settings
    assert settings.retention_decision_days == 30
    assert settings.sync_backoff_cap == 120
    assert settings.api_url == SITE.api_url and settings.api_client_id == CREDENTIALS.client_id
    assert settings.printer == "Accueil_Prefecture"  # [peripheriques] added


def test_dotted_keys_at_the_top_are_set_where_they_are(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('service_national.adresse = "https://a.exemple"\n', encoding="utf-8")
    SettingsFile(path).write(CREDENTIALS, SITE)
    settings = resolve(config=path, environ={}).settings
    assert settings.api_url == SITE.api_url and settings.api_client_id == CREDENTIALS.client_id


def test_a_key_written_over_several_lines_stops_the_enrolment_before_the_code_is_spent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kiosk.toml"
    before = '[service_national]\nempreintes = [\n  "sha256/…",\n]\n'
    path.write_text(before, encoding="utf-8")
    with pytest.raises(EnrolmentFailed, match="plusieurs lignes"):
        SettingsFile(path).check()
    assert path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("content", "said"),
    [("[service_national\n", "pas du TOML valable"), (None, "pas un fichier ordinaire")],
)
def test_a_file_that_cannot_be_edited_is_said_before_anything_is_sent(
    tmp_path: Path, content: str | None, said: str
) -> None:
    path = tmp_path / "kiosk.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(EnrolmentFailed, match=said):
        SettingsFile(path).check()
