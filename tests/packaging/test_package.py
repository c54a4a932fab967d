"""What the package holds and says, read with dpkg-deb (docs/packaging.md)."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from app.settings import resolve
from tests.packaging.conftest import NAME, ROOT, VENV, Built
from ui.app import EXIT_MAINTENANCE

PYTHON = f"python{sys.version_info.major}.{sys.version_info.minor}"
#: The test keys training mode uses: the simulated CNIe's SOD is signed by the Document Signer
#: (ds.*), its Chip Authentication uses chip-ca-cnie.key.pem, and training mode trusts
#: csca.pem (app/container.py). The CSCA's private key only ever made those certificates.
#: What training mode uses: the card simulator's keys, and the pinned public half and signing key
#: of the training server's bundles (docs/sync.md, « Signed updates »).
TRAINING_KEYS = {
    "README.md",
    "csca.pem",
    "ds.pem",
    "ds.key.pem",
    "chip-ca-cnie.key.pem",
    "paquets.pub",
    "paquets.key.pem",
}
#: The development tools of uv.lock's dev group: never in the package.
DEVELOPMENT = ("pytest", "pytest_qt", "pytest_timeout", "hypothesis", "mypy", "ruff", "pypdf")


def control(deb: Path) -> dict[str, str]:
    """The control fields (continuation lines joined)."""
    text = subprocess.run(
        ["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


@functools.cache
def _read(deb: Path) -> tuple[dict[str, tarfile.TarInfo], dict[str, bytes]]:
    """The package's files by path (without the leading "./"), and the bytes of those under
    1 MB, in one pass over the archive (each pass decompresses it whole)."""
    found: dict[str, tarfile.TarInfo] = {}
    data: dict[str, bytes] = {}
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as p:
        assert p.stdout is not None
        with tarfile.open(fileobj=p.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                found[name] = member
                if member.isfile() and member.size < 1 << 20:
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    data[name] = extracted.read()
    return found, data


def members(deb: Path) -> dict[str, tarfile.TarInfo]:
    """The package's files, by path without the leading "./"."""
    return _read(deb)[0]


def contents(deb: Path, wanted: set[str]) -> dict[str, bytes]:
    """The bytes of some of the package's (small) files."""
    data = _read(deb)[1]
    return {name: data[name] for name in wanted if name in data}


def depends(deb: Path) -> list[str]:
    return [d.strip().split(" ")[0] for d in control(deb)["Depends"].split(",")]


def test_the_control_fields_name_the_version_and_what_the_kiosk_runs_on(built: Built) -> None:
    fields = control(built.first)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert fields["Package"] == NAME
    assert fields["Version"] == f"{version}+t1"
    assert control(built.second)["Version"] == f"{version}+t2"
    newer = ["dpkg", "--compare-versions", f"{version}+t2", "gt", f"{version}+t1"]
    assert subprocess.run(newer, check=False).returncode == 0
    assert fields["Architecture"] == arch  # compiled wheels inside: not "all"
    # In kB: Qt and every library are inside, so installing needs no network.
    assert int(fields["Installed-Size"]) > 100_000
    needed = depends(built.first)
    python = Path("/usr/bin/python3").resolve().name  # the interpreter the venv was built on
    assert python in needed and "cage" in needed and "xwayland" in needed
    assert "libpam-systemd" in needed  # the logind session cage opens the screen through
    # Every dependency is a Debian package this machine has (scripts/bootstrap.sh test
    # installs them): the package installs here, and the kiosk below runs on them.
    missing = []
    for package in needed:
        state = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if not state.stdout.startswith("ii"):
            missing.append(package)
    assert missing == [], f"dépendances absentes de cette machine : {missing}"


def test_the_package_holds_the_kiosk_and_nothing_of_its_development(built: Built) -> None:
    files = members(built.first)
    names = list(files)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    site = next(n for n in names if n.endswith("/site-packages/kiosk/__init__.py"))
    site_packages = site.removesuffix("kiosk/__init__.py")
    top = {
        n.removeprefix(site_packages).split("/")[0] for n in names if n.startswith(site_packages)
    }
    assert {"app", "kiosk", "ui", "devices", "sync", "assets"} <= top
    assert "tests" not in top and "bench" not in top
    for tool in DEVELOPMENT:
        assert not [t for t in top if t.lower().startswith(f"{tool}-")], tool
    assert not [n for n in names if "webengine" in n.lower()]
    keys = {n.rsplit("/", 1)[1] for n in names if "/assets/test-keys/" in n}
    assert keys == TRAINING_KEYS
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith(f"{VENV}/bin/")) == [
        "kiosk",
        "python",
        "python3",
        PYTHON,
    ]
    assert not [n for n, m in files.items() if not m.issym() and m.mode & 0o002]
    settings = files["etc/pn-kiosk/kiosk.toml"]
    assert settings.mode & 0o777 == 0o640  # it may hold the kiosk's secret
    for unit in ("pn-kiosk.service", "pn-kiosk-sync.service"):
        assert f"lib/systemd/system/{unit}" in files


def test_the_packaged_kiosk_is_the_source_tree_of_this_build(built: Built) -> None:
    """Every module of the kiosk in the package is the one in the source tree (a wheel of the
    project kept in uv's cache from an earlier build would not be)."""
    site = next(n for n in members(built.first) if n.endswith("/site-packages/kiosk/__init__.py"))
    site_packages = site.removesuffix("kiosk/__init__.py")
    sources = {
        f"{site_packages}{path.relative_to(ROOT)}": path
        for package in ("app", "kiosk", "ui", "devices", "sync")
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    packaged = contents(built.first, set(sources))
    assert set(packaged) == set(sources)
    different = [n for n, path in sources.items() if packaged[n] != path.read_bytes()]
    assert different == []


def test_the_settings_file_sets_the_data_folder_and_is_a_conffile(
    built: Built, tmp_path: Path
) -> None:
    text = contents(built.first, {"etc/pn-kiosk/kiosk.toml"})["etc/pn-kiosk/kiosk.toml"]
    path = tmp_path / "kiosk.toml"
    path.write_bytes(text)
    resolution = resolve(config=path, environ={})
    assert resolution.settings.data_dir == Path("/var/lib/pn-kiosk")
    assert resolution.warnings == ()
    listed = subprocess.run(
        ["dpkg-deb", "--info", str(built.first), "conffiles"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed == ["/etc/pn-kiosk/kiosk.toml", "/etc/pam.d/pn-kiosk"]


def unit(text: str) -> dict[str, list[str]]:
    """A systemd unit's settings, ``Section.Key`` → its values in order (keys repeat)."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key}", []).append(value)
    return found


def test_the_session_restarts_the_kiosk_unless_a_supervisor_left_it(built: Built) -> None:
    read = contents(
        built.first,
        {"lib/systemd/system/pn-kiosk.service", "usr/lib/pn-kiosk/session", "etc/pam.d/pn-kiosk"},
    )
    session = unit(read["lib/systemd/system/pn-kiosk.service"].decode())
    assert session["Service.ExecStart"] == ["/usr/lib/pn-kiosk/session"]
    assert session["Service.Restart"] == ["always"]
    assert session["Service.RestartPreventExitStatus"] == [str(EXIT_MAINTENANCE)]
    assert session["Service.User"] == [NAME] and session["Service.PAMName"] == [NAME]
    assert session["Service.TTYPath"] == ["/dev/tty1"]
    assert "getty@tty1.service" in session["Unit.Conflicts"]
    assert session["Install.WantedBy"] == ["multi-user.target"]
    script = read["usr/lib/pn-kiosk/session"].decode()
    assert f"EXIT_MAINTENANCE={EXIT_MAINTENANCE}" in script
    cage = next(line for line in script.splitlines() if line.strip().startswith("/usr/bin/cage"))
    assert " -s" not in cage  # no switching to another virtual terminal from the kiosk
    assert "run --external-sync" in script  # the sync unit sends, not the screen
    # The logind session cage needs: pam_systemd, through Debian's common-session.
    assert "@include common-session" in read["etc/pam.d/pn-kiosk"].decode()


def test_the_sync_runs_as_its_own_fenced_service(built: Built) -> None:
    text = contents(built.first, {"lib/systemd/system/pn-kiosk-sync.service"})
    sync = unit(text["lib/systemd/system/pn-kiosk-sync.service"].decode())
    assert sync["Service.ExecStart"] == [f"/{VENV}/bin/kiosk sync --watch"]
    assert sync["Service.Restart"] == ["always"]
    assert sync["Service.User"] == [NAME]
    assert sync["Service.KillSignal"] == ["SIGINT"]  # the worker's own way out
    for key, value in (
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateDevices", "yes"),
        ("CapabilityBoundingSet", ""),
    ):
        assert sync[f"Service.{key}"] == [value], key


def test_systemd_accepts_the_units(built: Built, tmp_path: Path) -> None:
    """`systemd-analyze verify` in a root holding this machine's units and the package's."""
    analyze = shutil.which("systemd-analyze")
    system = Path("/lib/systemd/system")
    if analyze is None or not (system / "multi-user.target").exists():
        pytest.skip("systemd-analyze ou les unités de systemd absents de cette machine")
    root = tmp_path / "root"
    shutil.copytree(system, root / "lib" / "systemd" / "system", symlinks=True)
    wanted = {
        "lib/systemd/system/pn-kiosk.service",
        "lib/systemd/system/pn-kiosk-sync.service",
        "usr/lib/pn-kiosk/session",
        f"{VENV}/bin/kiosk",
    }
    for name, data in contents(built.first, wanted).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if "/bin/" in name or name.endswith("session") else 0o644)
    result = subprocess.run(
        [
            analyze,
            "verify",
            f"--root={root}",
            "--man=no",
            "/lib/systemd/system/pn-kiosk.service",
            "/lib/systemd/system/pn-kiosk-sync.service",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # systemd-analyze says what it ignores (an unknown key, a bad value) and still exits 0.
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stderr
