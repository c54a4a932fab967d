"""A supervisor enrols a new kiosk, end to end: the two kiosks' ``kiosk`` commands and the real
reference server on loopback, over HTTPS with its certificate pinned.

The supervisor's kiosk issues a code (``kiosk enrolement``); the new kiosk, with a second data
folder and settings file, redeems it (``kiosk enroler`` with the QR code's text): its settings
file then holds the site's values, readable by its account only, and it gets a token and syncs.
The server never holds the settings in clear; a code works once, for 30 minutes, and a few
wrong tries annul it; a typo is caught before anything is sent.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import ssl
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.cli import main
from app.container import build
from app.settings import resolve
from kiosk.enrolment.code import EnrolmentCode, new_code, parse_code, read_ticket
from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditLog
from kiosk.site.counter import CounterDetails, CounterSettings
from kiosk.store import open_store
from sync.server import enrolment as server_enrolment
from sync.server.app import NationalSimulator
from sync.server.demo import DEMO_CLIENTS
from sync.server.run import ServerThread
from sync.tls import spki_pin
from tests.sync.support import Pki, make_pki

COUNTER = CounterDetails(
    "Préfecture de la Haute-Garonne",
    ("1 place Saint-Étienne", "31000 Toulouse"),
    "05 34 45 34 45",
    "9 h – 16 h",
)


@dataclass
class Site:
    """The reference server, and a supervisor's kiosk of the site enrolled at it."""

    server: ServerThread
    pki: Pki
    pin: str
    supervisor: Path  # its settings file
    folder: Path

    @property
    def sim(self) -> NationalSimulator:
        return self.server.sim

    def tls(self) -> ssl.SSLContext:
        """What a client of the test server trusts."""
        return ssl.create_default_context(cafile=self.pki.ca)

    def new_kiosk(self, name: str = "nouvelle") -> tuple[Path, Path]:
        """A new kiosk's settings file (only the CA its package trusts) and data folder."""
        config = self.folder / name / "kiosk.toml"
        config.parent.mkdir()
        config.write_text(f'[service_national]\nautorites = "{self.pki.ca}"\n', encoding="utf-8")
        return config, self.folder / name / "donnees"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    pki = make_pki(tmp_path / "pki")
    sim = NationalSimulator(tmp_path / "national.sqlite3", clients=dict(DEMO_CLIENTS))
    sim.rng = random.Random(5)
    with ServerThread(sim, tls=(pki.cert, pki.key)) as server:
        pin = spki_pin(pki.cert.read_bytes())
        config = tmp_path / "superviseur" / "kiosk.toml"
        config.parent.mkdir()
        config.write_text(
            "config_version = 1\n"
            "[stockage]\n"
            f'donnees = "{tmp_path / "superviseur" / "donnees"}"\n'
            "[peripheriques]\n"
            'imprimante = "Accueil_Prefecture"\n'
            'numerisations = "/srv/numerisations"\n'
            "[service_national]\n"
            f'adresse = "{server.url}"\n'
            'identifiant = "borne-demo"\n'
            'secret = "secret-demo"\n'
            f'autorites = "{pki.ca}"\n'
            f'empreintes = ["{pin}"]\n',
            encoding="utf-8",
        )
        config.chmod(0o600)
        container = build(resolve(config=config, environ={}).settings)
        try:
            agents = AgentService(container.store)
            agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
            agents.add("lea", "Léa Dubois", "2468")
            container.counter.set(COUNTER)
        finally:
            container.close()
        yield Site(server, pki, pin, config, tmp_path)


def kiosk(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """One ``kiosk`` command, in this process; (exit status, output, errors)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def issue(
    site: Site, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch, *more: str
) -> dict[str, str]:
    """``kiosk enrolement`` on the supervisor's kiosk, by « cheffe »: what it prints (JSON)."""
    code, out, err = kiosk(
        capsys,
        mp,
        "--config",
        str(site.supervisor),
        "enrolement",
        "--superviseur",
        "cheffe",
        "--pin-stdin",
        "--json",
        *more,
        stdin="4321\n",
    )
    assert code == 0, err
    issued: dict[str, str] = json.loads(out)
    return issued


def enrol(
    capsys: pytest.CaptureFixture[str],
    mp: pytest.MonkeyPatch,
    config: Path,
    data: Path,
    *more: str,
) -> tuple[int, str, str]:
    """``kiosk enroler`` on the new kiosk."""
    return kiosk(capsys, mp, "--config", str(config), "--data-dir", str(data), "enroler", *more)


def wrong_tries(site: Site) -> int:
    """The wrong tries the server counted, all codes together."""
    with site.sim.db.tx() as c:
        rows = c.execute("SELECT essais_faux FROM enrolement").fetchall()
    return sum(row[0] for row in rows)


def test_a_supervisor_enrols_a_new_kiosk_which_then_gets_a_token_and_syncs(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = site.folder / "feuille.pdf"
    issued = issue(site, capsys, monkeypatch, "--out", str(sheet))
    ticket = read_ticket(issued["qr"])
    assert ticket.code.text == issued["code"]
    assert (ticket.api_url, ticket.pins) == (site.server.url, (site.pin,))
    # What the national service keeps: sealed, never the site's settings in clear.
    with site.sim.db.tx() as c:
        blob = server_enrolment.sealed_blob(c, ticket.code.id)
    assert blob is not None
    for clear in (b"Accueil_Prefecture", b"Haute-Garonne", b"/srv/numerisations"):
        assert clear not in blob
    assert ticket.code.secret.encode() not in blob
    # The printed sheet's QR code is the one shown (read by poppler and zbar, as a camera would).
    assert scanned(sheet, site.folder) == issued["qr"]

    config, data = site.new_kiosk()
    status, out, err = enrol(capsys, monkeypatch, config, data, issued["qr"])
    assert status == 0, err
    assert "Borne enrôlée : borne-" in out
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    written = tomllib.loads(config.read_text(encoding="utf-8"))
    national = written["service_national"]
    assert national["adresse"] == site.server.url
    assert national["empreintes"] == [site.pin]
    assert national["autorites"] == str(site.pki.ca)  # what was there stays
    assert national["identifiant"].startswith("borne-") and len(national["secret"]) >= 32
    assert written["peripheriques"] == {
        "imprimante": "Accueil_Prefecture",
        "numerisations": "/srv/numerisations",
    }
    settings = resolve(config=config, environ={}, cli={"data_dir": data}).settings
    store = open_store(settings.paths.database, key_file=settings.paths.db_key_file)
    try:
        assert CounterSettings(store).get() == COUNTER  # printed on its receipts from now on
    finally:
        store.close()

    # It gets a token with its own credentials, and syncs.
    token = httpx.post(
        f"{site.server.url}/v1/jetons",
        json={
            "grant_type": "client_credentials",
            "client_id": national["identifiant"],
            "client_secret": national["secret"],
        },
        verify=site.tls(),
    )
    assert token.status_code == 200, token.text
    synced = kiosk(
        capsys, monkeypatch, "--config", str(config), "--data-dir", str(data), "sync", "--once"
    )
    assert synced[0] == 0, synced[2]

    # Once only: the same QR code again is refused, and says so.
    again = enrol(capsys, monkeypatch, config, data, issued["qr"], "--remplacer")
    assert again[0] == 1 and "déjà servi" in again[2]
    # The supervisor's journal says who issued which code (never its secret).
    supervisor = resolve(config=site.supervisor, environ={}).settings
    store = open_store(supervisor.paths.database, key_file=supervisor.paths.db_key_file)
    try:
        entries = AuditLog(store).entries(limit=5)
    finally:
        store.close()
    issued_entry = next(e for e in entries if e.detail.get("evenement") == "enrolement_emis")
    assert issued_entry.detail == {
        "par": "cheffe",
        "evenement": "enrolement_emis",
        "enrolement": ticket.code.id,
    }


def scanned(pdf: Path, folder: Path) -> str:
    """What zbar reads on the sheet printed at 150 dpi."""
    tools = {name: shutil.which(name) for name in ("pdftoppm", "zbarimg")}
    assert all(tools.values()), "poppler-utils and zbar-tools are installed by the test command"
    subprocess.run(
        [str(tools["pdftoppm"]), "-r", "150", "-png", "-singlefile", str(pdf), str(folder / "p")],
        check=True,
    )
    read = subprocess.run(
        [str(tools["zbarimg"]), "--raw", "-q", "--nodbus", str(folder / "p.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    return read.stdout.strip()


def test_a_code_expires_after_30_minutes(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = issue(site, capsys, monkeypatch)
    httpx.post(f"{site.server.url}/_control", json={"avancer": 1801}, verify=site.tls())
    config, data = site.new_kiosk()
    status, _out, err = enrol(capsys, monkeypatch, config, data, issued["qr"])
    assert status == 1 and "a expiré" in err
    assert not config.read_text(encoding="utf-8").count("identifiant")  # nothing written


def test_a_typo_is_caught_before_sending_and_wrong_codes_are_counted_then_annul_it(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = issue(site, capsys, monkeypatch)
    ticket = read_ticket(issued["qr"])
    config, data = site.new_kiosk()
    # A typed typo: told at once, nothing sent, nothing counted.
    text = issued["code"]
    typo = text[:3] + ("A" if text[3] != "A" else "B") + text[4:]
    status, _out, err = enrol(capsys, monkeypatch, config, data, typo, "--adresse", site.server.url)
    assert status == 1 and "faute de frappe" in err
    assert wrong_tries(site) == 0
    # Well-formed, but another secret: the server refuses it and counts it.
    wrong = EnrolmentCode(ticket.code.id, new_code().secret)
    assert parse_code(wrong.text) == wrong  # its own check symbol is right
    said = []
    for _ in range(3):
        status, _out, err = enrol(
            capsys, monkeypatch, config, data, wrong.text, "--adresse", site.server.url
        )
        assert status == 1
        said.append(err)
    assert "il reste 2 essai(s)" in said[0] and "il reste 0 essai(s)" in said[2]
    assert wrong_tries(site) == 3
    # Annulled: even the right code is refused now.
    status, _out, err = enrol(capsys, monkeypatch, config, data, issued["qr"])
    assert status == 1 and "annulé" in err
    assert "identifiant" not in config.read_text(encoding="utf-8")


def test_the_first_contact_is_pinned_by_the_qr_code(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = issue(site, capsys, monkeypatch)
    other = spki_pin(make_pki(site.folder / "autre", "faux").cert.read_bytes())
    forged = issued["qr"].replace(site.pin, other)
    config, data = site.new_kiosk()
    status, _out, err = enrol(capsys, monkeypatch, config, data, forged)
    assert status == 1 and "empreinte" in err and "rien n'a été envoyé" in err
    status, _out, err = enrol(capsys, monkeypatch, config, data, issued["qr"])
    assert status == 0, err  # not spent by the refused connection


def test_only_a_supervisor_with_the_right_pin_issues_a_code(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ("--config", str(site.supervisor), "enrolement", "--pin-stdin")
    status, _out, err = kiosk(capsys, monkeypatch, *base, "--superviseur", "lea", stdin="2468\n")
    assert status == 1 and "Seul un superviseur" in err
    status, _out, err = kiosk(capsys, monkeypatch, *base, "--superviseur", "cheffe", stdin="0000\n")
    assert status == 1 and "PIN" in err
    with site.sim.db.tx() as c:
        assert c.execute("SELECT COUNT(*) FROM enrolement").fetchone()[0] == 0


def test_a_typed_code_needs_the_national_address_on_a_kiosk_that_has_none(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = issue(site, capsys, monkeypatch)
    config, data = site.new_kiosk()
    status, _out, err = enrol(capsys, monkeypatch, config, data, issued["code"])
    assert status == 1 and "--adresse" in err
    status, _out, err = enrol(
        capsys,
        monkeypatch,
        config,
        data,
        issued["code"],
        "--adresse",
        site.server.url,
        "--empreinte",
        site.pin,
    )
    assert status == 0, err


def test_the_qr_code_is_read_off_a_picture(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    png = site.folder / "code.png"
    issued = issue(site, capsys, monkeypatch, "--out", str(png))
    assert png.read_bytes().startswith(b"\x89PNG")
    config, data = site.new_kiosk()
    status, out, err = enrol(capsys, monkeypatch, config, data, "--qr", str(png))
    assert status == 0, err
    written = tomllib.loads(config.read_text(encoding="utf-8"))
    assert written["service_national"]["adresse"] == issued["qr"].split()[2]
    assert "Guichet : Préfecture de la Haute-Garonne." in out
