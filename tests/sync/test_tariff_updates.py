"""Tariffs published by the national service: fetched, checked and installed by the sync worker,
used by the next live estimate; a filed dossier keeps its kept estimate; a bad or hostile file is
refused and the tariffs in use stay. The real reference server on loopback, real HTTP."""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from app.cli_sync import _refused_tariff_lines
from kiosk.demarches import Catalog
from kiosk.dossiers.states import DossierState
from kiosk.fees import Tax, default_tariffs_dir
from kiosk.fees.installed import MAX_TARIFF_BYTES, TariffFiles
from kiosk.store import Store
from sync.clock import SimClock
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from sync.worker import REFUSED_TARIFFS_KEY
from tests.fees.support import LATEST, with_newer_tariff
from tests.support import file_dossier, fill
from tests.sync.conftest import Kiosk, make_kiosk

FILED = datetime(2027, 6, 1, 8, 30, tzinfo=UTC)
NEWER = date(2027, 7, 1)
DAY = 86_400.0


@dataclass
class Setup:
    kiosk: Kiosk
    url: str
    files: TariffFiles
    clock: SimClock


@pytest.fixture
def setup(store: Store, catalog: Catalog, tmp_path: Path) -> Iterator[Setup]:
    clock = SimClock(FILED.timestamp())
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    sim.app.faults.paiement_avant_instruction = False
    files = TariffFiles(default_tariffs_dir(), tmp_path / "donnees" / "tarifs")
    with ServerThread(sim) as national:
        kiosk = make_kiosk(store, catalog, national.url, clock=clock, tariffs=files)
        yield Setup(kiosk, national.url, files, clock)
        kiosk.api.close()


def _update(tmp_path: Path, fixed_tax: int = 1500) -> dict[str, str]:
    """The texts the service publishes for a new period: the current one closed, the new one."""
    folder = tmp_path / "publie"
    with_newer_tariff(folder, NEWER, fixed_tax=fixed_tax)
    return {
        v: (folder / f"tarif.{v}.toml").read_text(encoding="utf-8")
        for v in (LATEST, NEWER.isoformat())
    }


def _publish(url: str, version: str, text: str, sha256: str | None = None) -> None:
    order: dict[str, str] = {"version": version, "contenu": text}
    if sha256 is not None:
        order["sha256"] = sha256
    httpx.post(f"{url}/_control/tarifs", json=order).raise_for_status()


def _new_dossier(kiosk: Kiosk, catalog: Catalog) -> str:
    reference = kiosk.dossiers.create("changement_titulaire").reference
    fill(kiosk.dossiers, reference, catalog.latest("changement_titulaire"))
    return reference


def _fixed_tax(kiosk: Kiosk, reference: str) -> int:
    lines = kiosk.dossiers.estimate(reference).lines
    return next(line.amount for line in lines if line.code is Tax.Y4)


def test_a_published_tariff_is_installed_and_used_while_a_filed_dossier_keeps_its_estimate(
    setup: Setup, catalog: Catalog, tmp_path: Path
) -> None:
    kiosk = setup.kiosk
    filed = _new_dossier(kiosk, catalog)
    file_dossier(kiosk.dossiers, filed)
    first = kiosk.worker.run_once()
    assert first.sent == 1
    assert first.tariffs_installed == []  # the service publishes what the kiosk ships
    assert not (tmp_path / "donnees" / "tarifs").exists()

    for version, text in _update(tmp_path).items():
        _publish(setup.url, version, text)
    setup.clock.advance(31 * DAY)  # 2027-07-02: the new period has begun
    report = kiosk.worker.run_once()
    assert report.tariffs_installed == [LATEST, NEWER.isoformat()]
    assert report.tariffs_refused == []
    installed = sorted(p.name for p in (tmp_path / "donnees" / "tarifs").iterdir())
    assert installed == [f"tarif.{LATEST}.toml", f"tarif.{NEWER.isoformat()}.toml"]

    # The next live estimate charges by the new tariff (taxe fixe 15 €)...
    live = _new_dossier(kiosk, catalog)
    assert kiosk.dossiers.estimate(live).tariff_version == NEWER.isoformat()
    assert _fixed_tax(kiosk, live) == 1500
    # ...the dossier filed before keeps the estimate it was filed with.
    fees = kiosk.dossiers.fees(filed)
    # The simulator may by now have sent it back « à compléter » (its decisions are drawn at
    # random): it is then estimated again on the day of its first filing, by that day's tariff.
    if kiosk.dossiers.show(filed).summary.state is not DossierState.A_COMPLETER:
        assert fees.kept
    assert fees.estimate.tariff_version == LATEST
    assert fees.estimate.total == 43376
    # Nothing new: nothing downloaded again.
    assert kiosk.worker.run_once().tariffs_installed == []


def _refused(setup: Setup, caplog: pytest.LogCaptureFixture, catalog: Catalog) -> str:
    """Run a pass; the update must be refused and the shipped tariff still estimate."""
    setup.clock.advance(31 * DAY)
    with caplog.at_level(logging.WARNING, logger="sync.worker"):
        report = setup.kiosk.worker.run_once()
    assert NEWER.isoformat() not in report.tariffs_installed
    assert report.tariffs_refused == [NEWER.isoformat()]
    live = _new_dossier(setup.kiosk, catalog)
    assert setup.kiosk.dossiers.estimate(live).tariff_version == LATEST
    assert _fixed_tax(setup.kiosk, live) == 1100
    assert setup.files.installed is not None
    assert not (setup.files.installed / f"tarif.{NEWER.isoformat()}.toml").exists()
    # Refused once: not downloaded again at the next look.
    setup.clock.advance(DAY)
    assert setup.kiosk.worker.run_once().tariffs_refused == []
    # Kept for the agent and the supervisor (kiosk sync status), not only in the log.
    kept = setup.kiosk.outbox.get_marker(REFUSED_TARIFFS_KEY)
    assert list(kept) == [NEWER.isoformat()]
    assert kept[NEWER.isoformat()]["motif"]
    said = "\n".join(_refused_tariff_lines(kept))
    assert f"tarif {NEWER.isoformat()} : " in said and "Prévenez le support" in said
    return "\n".join(r.getMessage() for r in caplog.records if "tarif refusé" in r.getMessage())


def test_a_tariff_that_is_not_valid_toml_is_refused(
    setup: Setup, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    _publish(setup.url, NEWER.isoformat(), 'version = "2027-07-01"\nen_vigueur_du = [\n')
    said = _refused(setup, caplog, catalog)
    assert "tarif refusé, les tarifs en usage sont gardés : tarif 2027-07-01 invalide" in said
    assert "syntaxe TOML invalide" in said


def test_a_tariff_with_a_wrong_figure_is_refused_by_the_strict_loader(
    setup: Setup, catalog: Catalog, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    text = _update(tmp_path)[NEWER.isoformat()].replace("montant = 1500", "montant = 15.5")
    _publish(setup.url, NEWER.isoformat(), text)
    said = _refused(setup, caplog, catalog)
    assert "taxe_fixe.montant: nombre entier de centimes attendu" in said


def test_a_tariff_whose_sha256_is_not_the_announced_one_is_refused(
    setup: Setup, catalog: Catalog, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    text = _update(tmp_path)[NEWER.isoformat()]
    _publish(setup.url, NEWER.isoformat(), text, sha256=hashlib.sha256(b"autre").hexdigest())
    said = _refused(setup, caplog, catalog)
    assert "empreinte SHA-256 différente de celle annoncée" in said


def test_a_huge_tariff_is_not_downloaded(
    setup: Setup, catalog: Catalog, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    text = _update(tmp_path)[NEWER.isoformat()] + "#" * MAX_TARIFF_BYTES
    _publish(setup.url, NEWER.isoformat(), text)
    said = _refused(setup, caplog, catalog)
    assert "trop volumineux" in said


def test_a_changed_version_already_in_use_is_refused(
    setup: Setup, catalog: Catalog, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # The version a kept estimate names must keep its figures: only its end date may come.
    text = (default_tariffs_dir() / f"tarif.{LATEST}.toml").read_text(encoding="utf-8")
    changed = text.replace(
        "[taxe_fixe]  # Y.4\nmontant = 1100\n", "[taxe_fixe]  # Y.4\nmontant = 1500\n"
    )
    assert changed != text
    _publish(setup.url, LATEST, changed)
    setup.clock.advance(DAY)
    with caplog.at_level(logging.WARNING, logger="sync.worker"):
        report = setup.kiosk.worker.run_once()
    assert report.tariffs_refused == [LATEST]
    assert "une version publiée ne change pas" in caplog.text
    live = _new_dossier(setup.kiosk, catalog)
    assert _fixed_tax(setup.kiosk, live) == 1100


class _Portal(httpx.BaseTransport):
    """The real server, behind a captive portal while ``on``: a tariff file asked for gets the
    portal's page, a 200 in HTML."""

    def __init__(self) -> None:
        self._real = httpx.HTTPTransport()
        self.on = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.on and request.url.path.startswith("/v1/tarifs/"):
            page = b"<html>Connectez-vous au Wi-Fi de la mairie</html>"
            return httpx.Response(200, headers={"Content-Type": "text/html"}, content=page)
        return self._real.handle_request(request)

    def close(self) -> None:
        self._real.close()


def test_a_portal_page_instead_of_a_tariff_is_no_tariff_refused(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    """Taken for the tariff before, it failed its SHA-256 check: the version was listed
    « refusé » to the supervisor and not asked again until a restart."""
    clock = SimClock(FILED.timestamp())
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    files = TariffFiles(default_tariffs_dir(), tmp_path / "donnees" / "tarifs")
    portal = _Portal()
    with ServerThread(sim) as national:
        kiosk = make_kiosk(
            store, catalog, national.url, clock=clock, tariffs=files, transport=portal
        )
        for version, text in _update(tmp_path).items():
            _publish(national.url, version, text)
        clock.advance(31 * DAY)
        report = kiosk.worker.run_once()
        assert report.tariffs_refused == [] and report.tariffs_installed == []
        assert report.last_error is not None and "portail captif" in report.last_error
        assert kiosk.outbox.get_marker(REFUSED_TARIFFS_KEY) is None
        portal.on = False  # the next daily look, through a line that reaches the service
        clock.advance(DAY)
        assert kiosk.worker.run_once().tariffs_installed == [LATEST, NEWER.isoformat()]
        kiosk.api.close()


def _steps(setup: Setup, count: int) -> None:
    """Run the worker's loop a few steps, letting simulated time pass while it paces itself
    (never as far as the next daily look)."""
    for _ in range(count):
        wait = setup.kiosk.worker.step()
        setup.clock.advance(min(wait, 60.0))


def test_the_worker_looks_at_start_then_once_a_day(setup: Setup, tmp_path: Path) -> None:
    worker = setup.kiosk.worker
    _steps(setup, 10)  # the first look, at start: nothing new
    for version, text in _update(tmp_path).items():
        _publish(setup.url, version, text)
    _steps(setup, 10)
    assert worker.report.tariffs_installed == []  # not before a day has passed
    setup.clock.advance(DAY)
    _steps(setup, 10)
    assert worker.report.tariffs_installed == [LATEST, NEWER.isoformat()]


def test_offline_the_tariffs_in_use_still_estimate(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    clock = SimClock(FILED.timestamp())
    files = TariffFiles(default_tariffs_dir(), tmp_path / "donnees" / "tarifs")
    kiosk = make_kiosk(store, catalog, "http://127.0.0.1:9", clock=clock, tariffs=files)
    report = kiosk.worker.run_once()
    kiosk.api.close()
    assert report.tariffs_installed == report.tariffs_refused == []
    live = _new_dossier(kiosk, catalog)
    assert kiosk.dossiers.estimate(live).total == 43376
