"""The package installed, upgraded in place and removed by the real dpkg, in a throw-away root
(tests/packaging/conftest.py): what an administrator of a kiosk would see."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.packaging.conftest import NAME, VENV, Built, Root
from tests.packaging.test_package import members

DATA = Path("var/lib/pn-kiosk")
SETTINGS = Path("etc/pn-kiosk/kiosk.toml")
WANTS = Path("etc/systemd/system/multi-user.target.wants")


def bytecode(root: Root) -> dict[Path, int]:
    """The compiled modules under the kiosk's folder and their modification times (ns)."""
    return {p: p.stat().st_mtime_ns for p in (root.path / "opt").rglob("*.pyc")}


def audit(root: Root) -> str:
    """`dpkg --audit`: what it finds half-installed or half-configured (nothing, hopefully)."""
    result = root.dpkg("--audit", check=False)
    return (result.stdout + result.stderr).strip() or ("" if result.returncode == 0 else "échec")


def test_installs_upgrades_keeping_the_data_and_removes_cleanly(
    built: Built, fresh_root: Root
) -> None:
    root = fresh_root
    said = root.dpkg("--install", str(built.first))
    assert root.status() == "ii"
    assert "la borne s'affichera au prochain démarrage" not in said.stdout  # no systemd here
    # The account, its folders and their modes.
    account = root.account()
    assert account is not None
    uid, gid = account
    data = root.path / DATA
    assert (data.stat().st_uid, data.stat().st_mode & 0o777) == (uid, 0o700)
    settings = root.path / SETTINGS
    assert (settings.stat().st_uid, settings.stat().st_gid) == (0, gid)
    assert settings.stat().st_mode & 0o777 == 0o640
    # Both units enabled for the next boot, nothing started (no systemd runs this root).
    links = sorted(p.name for p in (root.path / WANTS).iterdir())
    assert links == ["pn-kiosk-sync.service", "pn-kiosk.service"]
    assert (root.path / WANTS / "pn-kiosk.service").readlink() == Path(
        "/lib/systemd/system/pn-kiosk.service"
    )
    # The byte-code compiled by the postinst is the one the kiosk runs: a start rewrites none.
    compiled = bytecode(root)
    assert len(compiled) > 1000
    # A dossier started with the installed kiosk, between the installation and the upgrade.
    made = root.kiosk("--json", "dossier", "new", "changement_adresse", data=data)
    assert made.returncode == 0, made.stderr
    reference = json.loads(made.stdout)["reference"]
    assert bytecode(root) == compiled

    settings.write_text(settings.read_text() + "# changé par l'administrateur\n")
    root.dpkg("--install", str(built.second))
    version = subprocess.run(
        ["dpkg-query", f"--admindir={root.path / 'var/lib/dpkg'}", "-W", "-f=${Version}", NAME],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert root.status() == "ii" and version.endswith("+t2")
    shown = root.kiosk("dossier", "show", reference, data=data)  # by the new version's code
    assert shown.returncode == 0 and reference in shown.stdout, shown.stderr
    assert settings.read_text().endswith("# changé par l'administrateur\n")  # kept
    assert audit(root) == ""

    root.dpkg("--remove", NAME)
    assert root.status() == "rc"  # removed, its settings kept
    files = members(built.second)
    conffiles = {"etc/pn-kiosk/kiosk.toml", "etc/pam.d/pn-kiosk"}
    left = [
        name
        for name, member in files.items()
        if not member.isdir() and name not in conffiles and (root.path / name).exists()
    ]
    assert left == []
    assert not (root.path / "opt" / "pn-kiosk").exists()  # the compiled byte-code too
    assert (data / "kiosk.sqlite3").is_file()  # the dossier is still on the kiosk
    assert audit(root) == ""

    purged = root.dpkg("--purge", NAME)
    assert root.status() == ""
    assert not (root.path / "etc" / "pn-kiosk").exists()
    assert not (root.path / "etc" / "pam.d" / "pn-kiosk").exists()
    assert not (root.path / WANTS).exists()
    # The data are never deleted by the package: they may hold dossiers not sent yet.
    assert (data / "kiosk.sqlite3").is_file()
    assert "/var/lib/pn-kiosk" in purged.stderr
    assert audit(root) == ""


def test_the_installed_command_runs_as_the_kiosk_with_its_settings(installed: Root) -> None:
    wrapper = (installed.path / "usr/bin/pn-kiosk").read_text()
    assert "PN_KIOSK_CONFIG:-/etc/pn-kiosk/kiosk.toml" in wrapper
    assert "runuser -u pn-kiosk" in wrapper  # as root: as the kiosk's account
    listed = installed.kiosk("--json", "demarches", "list", data=installed.path / "tmp-data")
    assert listed.returncode == 0, listed.stderr
    assert any(d["id"] == "changement_adresse" for d in json.loads(listed.stdout))
    interpreter = (installed.path / VENV / "bin" / "python").readlink()
    assert interpreter == Path("/usr/bin/python3").resolve()  # Debian's, on every kiosk
