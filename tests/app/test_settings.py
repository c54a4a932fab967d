"""The settings registry: which source wins, what each type accepts, and what support staff read
when a value is wrong (one French sentence naming the setting, where it was written, what is
expected)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from app.settings import (
    BY_KEY,
    CONFIG_VERSION,
    SETTINGS,
    Resolution,
    Settings,
    SettingsError,
    Source,
    resolve,
)
from app.sync_setup import SyncSettings
from kiosk.settings.paths import assets_dir

EXAMPLE = assets_dir() / "kiosk.example.toml"
PIN = "sha256/" + "A" * 43 + "="


def settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def resolved(
    tmp_path: Path, text: str | None = None, env: dict[str, str] | None = None, **cli: object
) -> Resolution:
    """Resolve with ``text`` as the default file (none if ``None``), ``env`` as the environment."""
    default = tmp_path / "kiosk.toml"
    if text is not None:
        settings_file(tmp_path, text)
    return resolve(cli=cli, environ=env or {}, default_file=default)


def problem(tmp_path: Path, text: str | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingsError) as caught:
        resolved(tmp_path, text, env)
    return str(caught.value)


def test_the_command_line_beats_the_environment_which_beats_the_file(tmp_path: Path) -> None:
    text = '[stockage]\ndonnees = "/depuis/le/fichier"\n[conservation]\npurge_heures = 2\n'
    from_file = resolved(tmp_path, text)
    assert from_file.settings.data_dir == Path("/depuis/le/fichier")
    assert from_file.settings.purge_hours == 2
    assert from_file.origins["data_dir"].source is Source.FILE
    assert str(from_file.origins["data_dir"]) == f"fichier ({tmp_path / 'kiosk.toml'}, ligne 2)"
    env = {"PN_KIOSK_DATA_DIR": "/depuis/l/environnement"}
    from_env = resolved(tmp_path, text, env)
    assert from_env.settings.data_dir == Path("/depuis/l/environnement")
    assert str(from_env.origins["data_dir"]) == "environnement (PN_KIOSK_DATA_DIR)"
    assert from_env.settings.purge_hours == 2  # the file still gives what the environment does not
    from_cli = resolved(tmp_path, text, env, data_dir=Path("/depuis/l/option"))
    assert from_cli.settings.data_dir == Path("/depuis/l/option")
    assert str(from_cli.origins["data_dir"]) == "ligne de commande (--data-dir)"
    nothing = resolved(tmp_path / "ailleurs")
    assert nothing.settings == Settings()
    assert {str(o) for o in nothing.origins.values()} == {"défaut"}
    assert nothing.file is None and nothing.looked_for == tmp_path / "ailleurs" / "kiosk.toml"


def test_the_file_is_named_by_option_then_variable_then_found_in_the_default_place(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    named_by_option = settings_file(tmp_path / "a", "[peripheriques]\nimprimante = 'A'\n")
    named_by_variable = settings_file(tmp_path / "b", "[peripheriques]\nimprimante = 'B'\n")
    settings_file(tmp_path, "[peripheriques]\nimprimante = 'défaut'\n")
    env = {"PN_KIOSK_CONFIG": str(named_by_variable)}
    default = tmp_path / "kiosk.toml"
    both = resolve(config=named_by_option, environ=env, default_file=default)
    assert both.settings.printer == "A" and both.file == named_by_option
    assert resolve(environ=env, default_file=default).settings.printer == "B"
    assert resolve(environ={}, default_file=default).settings.printer == "défaut"
    # A file named explicitly must exist: a typo in a unit file is not « no settings ».
    with pytest.raises(SettingsError, match=r"introuvable : .*absent\.toml \(option --config\)"):
        resolve(config=tmp_path / "absent.toml", environ={}, default_file=default)
    with pytest.raises(SettingsError, match="variable d'environnement PN_KIOSK_CONFIG"):
        resolve(environ={"PN_KIOSK_CONFIG": str(tmp_path / "x.toml")}, default_file=default)


def test_each_type_reads_the_file_and_the_environment(tmp_path: Path) -> None:
    text = f"""
config_version = 1
[stockage]
donnees = "donnees"            # relative to the file's folder
cle_base = "~/jeton/db.key"
[conservation]
jours_apres_decision = 7
purge_heures = 0.5
[peripheriques]
imprimante = ""                # written to say « the system's default »
[service_national]
adresse = "https://api.exemple.gouv.fr"
secret = "  avec des espaces  "
empreintes = ["{PIN}", "{PIN}"]
attente_initiale = 2
"""
    settings = resolved(tmp_path, text).settings
    assert settings.data_dir == tmp_path / "donnees"
    assert settings.db_key_file == Path.home() / "jeton" / "db.key"
    assert settings.retention_decision_days == 7
    assert settings.purge_hours == 0.5
    assert settings.printer is None
    assert settings.api_url == "https://api.exemple.gouv.fr"
    assert settings.api_client_secret == "  avec des espaces  "
    assert settings.api_pins == (PIN, PIN)
    assert settings.sync_backoff_base == 2.0
    env = {
        "PN_KIOSK_RETENTION_DRAFT_DAYS": "45",
        "PN_KIOSK_PURGE_HOURS": "0,25",
        "PN_KIOSK_API_PINS": f"{PIN}, {PIN}",
        "PN_KIOSK_READER": "  ACS  ",
        "PN_KIOSK_CAMERA": "",  # set but empty: unset, as earlier versions read it
    }
    from_env = resolved(tmp_path, None, env).settings
    assert from_env.retention_draft_days == 45
    assert from_env.purge_hours == 0.25
    assert from_env.api_pins == (PIN, PIN)
    assert from_env.reader == "ACS"
    assert from_env.camera is None
    assert from_env.retention_policy().after_inactivity.days == 45


def test_a_wrong_value_in_the_environment_names_the_variable_and_the_type(tmp_path: Path) -> None:
    message = problem(tmp_path, env={"PN_KIOSK_RETENTION_DRAFT_DAYS": "trois"})
    assert message == (
        "Réglage conservation.jours_sans_modification : « trois » (variable d'environnement"
        " PN_KIOSK_RETENTION_DRAFT_DAYS) n'est pas valable. Attendu : un nombre entier de jours,"
        " 1 ou plus."
    )
    assert "nombre d'heures" in problem(tmp_path, env={"PN_KIOSK_PURGE_HOURS": "-1"})
    assert "plus grande que 0" in problem(tmp_path, env={"PN_KIOSK_SYNC_BACKOFF_CAP": "0"})
    assert "https://" in problem(tmp_path, env={"PN_KIOSK_API_URL": "api.exemple.gouv.fr"})


def test_the_reading_volume_is_a_percentage_capped_for_headphones(tmp_path: Path) -> None:
    assert resolved(tmp_path).settings.speech_volume == 50
    assert resolved(tmp_path, "[peripheriques]\nvolume_lecture = 0\n").settings.speech_volume == 0
    by_env = resolved(tmp_path, env={"PN_KIOSK_SPEECH_VOLUME": "35 %"})
    assert by_env.settings.speech_volume == 35
    message = problem(tmp_path, "[peripheriques]\nvolume_lecture = 90\n")
    assert "peripheriques.volume_lecture" in message
    assert (
        "de 0 (lecture à voix haute coupée) à 80 (le plafond, pour l'écoute au casque)" in message
    )
    for wrong in ("-5", "50.5", "fort"):
        assert "volume_lecture" in problem(tmp_path, env={"PN_KIOSK_SPEECH_VOLUME": wrong})


KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="  # RFC 8032's first test key
NEXT = "PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw="


def test_the_bundle_keys_are_pinned_by_file_or_environment_and_a_wrong_one_is_said(
    tmp_path: Path,
) -> None:
    assert resolved(tmp_path).settings.bundle_keys == ()  # none: nothing from the network
    by_file = resolved(tmp_path, f'[service_national]\ncles_paquets = ["{KEY}", "{NEXT}"]\n')
    assert by_file.settings.bundle_keys == (KEY, NEXT)  # the key in use and the next one
    by_env = resolved(tmp_path, env={"PN_KIOSK_BUNDLE_KEYS": f"{KEY}, {NEXT}"})
    assert by_env.settings.bundle_keys == (KEY, NEXT)
    short = problem(tmp_path, env={"PN_KIOSK_BUNDLE_KEYS": "QUJD"})
    assert "PN_KIOSK_BUNDLE_KEYS" in short and "de 3 octets" in short and "Ed25519" in short
    assert "illisible" in problem(tmp_path, env={"PN_KIOSK_BUNDLE_KEYS": "pas une clé"})


def test_a_training_kiosk_pins_only_the_reference_servers_test_key(tmp_path: Path) -> None:
    from sync.server.bundles import public_text, reference_key

    env = {
        "PN_KIOSK_API_CLIENT_ID": "borne-31",
        "PN_KIOSK_API_CLIENT_SECRET": "vrai-secret",
        "PN_KIOSK_BUNDLE_KEYS": KEY,
    }
    settings = resolved(tmp_path, env=env).settings
    assert SyncSettings.from_settings(settings).bundle_keys == (KEY,)
    training = SyncSettings.from_settings(settings, training_url="http://127.0.0.1:9")
    # assets/test-keys/paquets.pub is the public half of the key the reference server signs with.
    assert training.bundle_keys == (public_text(reference_key()),)


def test_a_wrong_value_in_the_file_names_the_file_the_line_and_an_example(tmp_path: Path) -> None:
    text = '\n[conservation]\n# un commentaire\njours_apres_decision = "trente"\n'
    message = problem(tmp_path, text)
    assert message == (
        "Réglage conservation.jours_apres_decision : « trente »"
        f" (fichier {tmp_path / 'kiosk.toml'}, ligne 4) n'est pas valable. Attendu : un nombre"
        " entier de jours, 1 ou plus, écrit par exemple : jours_apres_decision = 30."
    )
    # TOML types are kept: 2.5 days, true, a table are not numbers of days.
    for wrong in ("2.5", "true", "{ jours = 3 }"):
        assert "jours_apres_decision" in problem(
            tmp_path, f"[conservation]\njours_apres_decision = {wrong}\n"
        )
    assert "attendu une section" in problem(tmp_path, "stockage = 3\n")


def test_every_wrong_value_is_reported_at_once_and_a_secret_never_echoed(tmp_path: Path) -> None:
    # A secret no temporary path can contain (« 42 » matched the 425th pytest folder).
    text = "[conservation]\npurge_heures = 'souvent'\n[service_national]\nsecret = 73914682\n"
    with pytest.raises(SettingsError) as caught:
        resolved(tmp_path, text, {"PN_KIOSK_RETENTION_DECISION_DAYS": "x"})
    assert len(caught.value.problems) == 3
    assert "73914682" not in str(caught.value)
    assert "service_national.secret : « *** »" in str(caught.value)


def test_a_toml_syntax_error_names_the_line_and_the_column(tmp_path: Path) -> None:
    message = problem(tmp_path, "[stockage]\ndonnees = /var/lib/pn-kiosk\n")
    assert message.startswith(
        f"Le fichier de réglages {tmp_path / 'kiosk.toml'} n'est pas du TOML valable, ligne 2,"
        " colonne 11 (détail : Invalid value)."
    )


def test_an_unknown_key_is_a_warning_with_the_closest_known_key(tmp_path: Path) -> None:
    text = "[stockage]\nbse = 'x.sqlite3'\n[conservation]\npurge_heures = 1\n[ecran]\nx = 1\n"
    resolution = resolved(tmp_path, text, {"PN_KIOSK_PURGE_HOUR": "2"})
    assert resolution.settings.purge_hours == 1  # the known keys are still read
    assert resolution.warnings == (
        f"Clé inconnue « stockage.bse » ({tmp_path / 'kiosk.toml'}, ligne 2) : ignorée."
        " Vouliez-vous dire « stockage.base » ?",
        f"Clé inconnue « ecran » ({tmp_path / 'kiosk.toml'}, ligne 5) : ignorée.",
        "Variable d'environnement inconnue PN_KIOSK_PURGE_HOUR : ignorée."
        " Vouliez-vous dire PN_KIOSK_PURGE_HOURS ?",
    )


def test_the_file_carries_its_version_and_a_newer_one_still_starts(tmp_path: Path) -> None:
    assert resolved(tmp_path, "config_version = 1\n").file_version == 1
    assert resolved(tmp_path, "").file_version == 1  # written by hand: the first layout
    newer = resolved(tmp_path, f"config_version = {CONFIG_VERSION + 1}\n[ecran]\ntheme = 'x'\n")
    assert "version plus récente" in newer.warnings[1]
    assert "Mettez le logiciel à jour" in newer.warnings[0]
    assert "config_version" in problem(tmp_path, "config_version = 'un'\n")


def test_a_secret_in_a_file_everyone_can_read_is_pointed_out(tmp_path: Path) -> None:
    path = settings_file(tmp_path, "[service_national]\nsecret = 's'\n")
    assert resolved(tmp_path).warnings == ()
    path.chmod(0o644)
    (warning,) = resolve(environ={}, default_file=path).warnings
    assert f"chmod 600 {path}" in warning
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # said, not changed: the file is theirs


def test_the_secret_never_shows_in_a_repr(tmp_path: Path) -> None:
    settings = resolved(tmp_path, env={"PN_KIOSK_API_CLIENT_SECRET": "s3cr3t-borne"}).settings
    assert settings.api_client_secret == "s3cr3t-borne"
    assert "s3cr3t-borne" not in repr(settings)


def test_training_mode_uses_the_demo_credentials_whatever_is_configured(tmp_path: Path) -> None:
    env = {
        "PN_KIOSK_API_CLIENT_ID": "borne-31",
        "PN_KIOSK_API_CLIENT_SECRET": "vrai-secret",
        "PN_KIOSK_API_PINS": PIN,
    }
    settings = resolved(tmp_path, env=env).settings
    real = SyncSettings.from_settings(settings)
    assert (real.client_id, real.tls.pins) == ("borne-31", (PIN,))
    training = SyncSettings.from_settings(settings, training_url="http://127.0.0.1:9")
    assert (training.url, training.client_id, training.client_secret) == (
        "http://127.0.0.1:9",
        "borne-demo",
        "secret-demo",
    )
    assert training.tls.pins == ()  # the real service's pins mean nothing to a practice server
    assert "PN_KIOSK_API_CLIENT_ID" not in os.environ


def _uncommented_example() -> str:
    """The example file with every setting's line applied."""
    return re.sub(r"^# ([a-z_]+ = )", r"\1", EXAMPLE.read_text(encoding="utf-8"), flags=re.M)


def test_the_example_file_shows_every_setting_and_is_valid(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for declaration in SETTINGS:
        assert declaration.env in text, declaration.env
    as_shipped = resolved(tmp_path, text)  # every setting commented out: the defaults
    assert {o.source for o in as_shipped.origins.values()} == {Source.DEFAULT}
    assert as_shipped.file_version == CONFIG_VERSION
    applied = resolved(tmp_path, _uncommented_example())
    assert applied.warnings == ()
    assert {d.key for d in SETTINGS if applied.origins[d.name].source is Source.FILE} == set(BY_KEY)


def test_a_site_store_is_chosen_by_option_variable_or_file_and_its_password_never_shown(
    tmp_path: Path,
) -> None:
    url = "postgresql://borne:motdepasse@serveur-site/kiosk?sslmode=verify-full"
    by_option = resolved(tmp_path, database_url=url)
    assert by_option.settings.database_url == url
    assert by_option.settings.paths.database_url == url
    assert by_option.origins["database_url"].source is Source.CLI
    by_env = resolved(tmp_path, env={"PN_KIOSK_DB_URL": url})
    assert by_env.settings.paths.database_url == url
    assert resolved(tmp_path).settings.paths.database_url is None  # the embedded SQLite
    shown = BY_KEY["stockage.url"].kind.to_json(url)
    assert shown == "postgresql://borne:********@serveur-site/kiosk?sslmode=verify-full"
    message = problem(tmp_path, '[stockage]\nurl = "mysql://serveur/kiosk"\n')
    assert "stockage.url" in message and "postgresql://serveur/base" in message
