"""Signed updates of the démarches and tariffs, end to end: the real reference server on
loopback publishes bundles signed with its TEST key, the kiosk (pinning its public half) fetches
them with the sync worker, verifies and installs them all or nothing. A new démarche version
serves new dossiers while dossiers started before keep theirs; a new tariff serves the next
live estimate, never a filed dossier's kept one; a bad bundle is refused, reported in French
(audit journal, ``kiosk sync status``) and not fetched again, and what was in use stays."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from app.cli_sync import _bundle_lines
from kiosk.demarches import default_demarches_dir
from kiosk.demarches.installed import LiveCatalog, demarche_kind
from kiosk.dossiers.states import DossierState
from kiosk.fees import Tax, default_tariffs_dir
from kiosk.fees.installed import TariffFiles, tariff_kind
from kiosk.security.audit import AuditLog
from kiosk.store import Store
from kiosk.sync.bundles import REFUSED_KEY, BundleUpdates
from kiosk.updates import BundleFolder, parse_keys
from kiosk.updates.folder import POINTER
from sync.clock import SimClock, as_datetime
from sync.server.app import NationalSimulator
from sync.server.demo import training_bundle_key
from sync.server.run import ServerThread
from sync.worker import OnceReport
from tests.fees.support import LATEST, with_newer_tariff
from tests.support import file_dossier, fill
from tests.sync.conftest import Kiosk, make_kiosk

FILED = datetime(2027, 6, 1, 8, 30, tzinfo=UTC)
NEWER = date(2027, 7, 1)
DAY = 86_400.0
V1 = (default_demarches_dir() / "cas_complexe.v1.toml").read_text(encoding="utf-8")


def version(n: int, title: str | None = None) -> str:
    """cas_complexe v``n``: the shipped v1 under another version (and title)."""
    text = V1.replace("version = 1\n", f"version = {n}\n", 1)
    assert text != V1 or n == 1
    if title is not None:
        start = text.index('titre = "')
        end = text.index('"', start + 9)
        text = text[:start] + f'titre = "{title}"' + text[end + 1 :]
    return text


@dataclass
class Setup:
    kiosk: Kiosk
    url: str
    catalog: LiveCatalog
    tariffs: TariffFiles
    clock: SimClock
    root: Path
    store: Store

    def publish(self, kind: str, files: dict[str, str] | None = None, **order: object) -> int:
        """Have the service publish the next bundle of ``kind``; its serial."""
        answer = httpx.post(
            f"{self.url}/_control/paquets", json={"type": kind, "fichiers": files or {}, **order}
        )
        answer.raise_for_status()
        return int(answer.json()["serie"])

    def next_day(self) -> None:
        self.clock.advance(DAY)

    def serial(self, kind: str) -> int:
        return BundleFolder(self.root / kind).serial()


def _updates(store: Store, root: Path, clock: SimClock, keys: list[str]) -> BundleUpdates:
    kinds = [demarche_kind(default_demarches_dir()), tariff_kind(default_tariffs_dir())]
    return BundleUpdates(
        store, kinds, root, keys=parse_keys(keys), clock=lambda: as_datetime(clock)
    )


@pytest.fixture
def setup(store: Store, tmp_path: Path) -> Iterator[Setup]:
    clock = SimClock(FILED.timestamp())
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    sim.app.faults.paiement_avant_instruction = False
    root = tmp_path / "donnees" / "paquets"
    catalog = LiveCatalog(default_demarches_dir(), BundleFolder(root / "demarches"))
    tariffs = TariffFiles(default_tariffs_dir(), BundleFolder(root / "tarifs"))
    updates = _updates(store, root, clock, [training_bundle_key()])
    with ServerThread(sim) as national:
        kiosk = make_kiosk(
            store, catalog, national.url, clock=clock, tariffs=tariffs, bundles=updates
        )
        first = kiosk.worker.run_once()
        # The service publishes what the kiosk ships: installed, nothing written again.
        assert first.bundles_installed == ["demarches 1", "tarifs 1"]
        assert [p.name for p in (root / "demarches" / "1").iterdir()] == []
        yield Setup(kiosk, national.url, catalog, tariffs, clock, root, store)
        kiosk.api.close()


def _fixed_tax(kiosk: Kiosk, reference: str) -> int:
    lines = kiosk.dossiers.estimate(reference).lines
    return next(line.amount for line in lines if line.code is Tax.Y4)


def _new_dossier(kiosk: Kiosk, demarche: str = "changement_titulaire") -> str:
    reference = kiosk.dossiers.create(demarche).reference
    if demarche == "changement_titulaire":
        fill(kiosk.dossiers, reference, kiosk.dossiers._catalog.latest(demarche))
    return reference


def test_a_new_demarche_version_serves_new_dossiers_and_older_ones_stay_pinned(
    setup: Setup, store: Store
) -> None:
    kiosk = setup.kiosk
    started_on_v1 = _new_dossier(kiosk, "cas_complexe")
    assert setup.publish("demarches", {"cas_complexe.v2.toml": version(2, "Cas complexe v2")}) == 2
    setup.next_day()
    assert kiosk.worker.run_once().bundles_installed == ["demarches 2"]
    started_on_v2 = _new_dossier(kiosk, "cas_complexe")
    assert kiosk.dossiers.show(started_on_v2).summary.demarche_version == 2
    assert [d.title for d in setup.catalog.current() if d.id == "cas_complexe"] == [
        "Cas complexe v2"
    ]
    # The next bundle no longer carries v2 (a v3 instead): v2 stays for the dossier on it.
    assert setup.publish("demarches", {"cas_complexe.v3.toml": version(3)}) == 3
    setup.next_day()
    assert kiosk.worker.run_once().bundles_installed == ["demarches 3"]
    assert kiosk.dossiers.create("cas_complexe").demarche_version == 3
    for reference, pinned in ((started_on_v1, 1), (started_on_v2, 2)):
        view = kiosk.dossiers.show(reference)
        assert view.summary.demarche_version == pinned
        assert setup.catalog.get("cas_complexe", pinned).version == pinned
    # After a restart, the same: read back from the data folder.
    again = LiveCatalog(default_demarches_dir(), BundleFolder(setup.root / "demarches"))
    assert again.versions("cas_complexe") == [1, 2, 3]
    assert not again.errors
    journal = [e for e in AuditLog(store).entries(limit=50) if e.action == "paquet_installe"]
    assert [(e.detail["paquet"], e.detail["serie"]) for e in journal] == [
        ("demarches", 1),
        ("tarifs", 1),
        ("demarches", 2),
        ("demarches", 3),
    ]


def _tariff_update(tmp_path: Path) -> dict[str, str]:
    """What the service publishes for a new period: the current one closed, the new one."""
    folder = tmp_path / "publie"
    with_newer_tariff(folder, NEWER, fixed_tax=1500)
    return {
        f"tarif.{v}.toml": (folder / f"tarif.{v}.toml").read_text(encoding="utf-8")
        for v in (LATEST, NEWER.isoformat())
    }


def test_a_new_tariff_serves_the_next_live_estimate_never_a_filed_dossiers_kept_one(
    setup: Setup, tmp_path: Path
) -> None:
    kiosk = setup.kiosk
    filed = _new_dossier(kiosk)
    file_dossier(kiosk.dossiers, filed)
    assert kiosk.worker.run_once().sent == 1
    setup.publish("tarifs", _tariff_update(tmp_path))
    setup.clock.advance(31 * DAY)  # 2027-07-02: the new period has begun
    assert kiosk.worker.run_once().bundles_installed == ["tarifs 2"]
    live = _new_dossier(kiosk)
    assert kiosk.dossiers.estimate(live).tariff_version == NEWER.isoformat()
    assert _fixed_tax(kiosk, live) == 1500
    fees = kiosk.dossiers.fees(filed)
    # The simulator may have sent it back « à compléter » by now (drawn at random): it is then
    # estimated again on the day of its first filing, by that day's tariff.
    if kiosk.dossiers.show(filed).summary.state is not DossierState.A_COMPLETER:
        assert fees.kept
    assert fees.estimate.tariff_version == LATEST
    assert fees.estimate.total == 43376
    assert kiosk.worker.run_once().bundles_installed == []  # nothing new: nothing fetched


def _refused(
    setup: Setup, caplog: pytest.LogCaptureFixture, kind: str = "demarches"
) -> tuple[str, str]:
    """Run a pass: the bundle published last must be refused, nothing of it installed, and not
    fetched again. What was said: the log line, and ``kiosk sync status``'s lines."""
    before = setup.serial(kind)
    setup.next_day()
    with caplog.at_level(logging.WARNING, logger="kiosk.sync.bundles"):
        report = setup.kiosk.worker.run_once()
    assert report.bundles_installed == []
    assert len(report.bundles_refused) == 1 and report.bundles_refused[0].startswith(kind)
    assert setup.serial(kind) == before
    # Not fetched again: not at the next look, not after a restart with the same pins.
    setup.next_day()
    assert setup.kiosk.worker.run_once().bundles_refused == []
    restarted = _updates(setup.store, setup.root, setup.clock, [training_bundle_key()])
    assert restarted.wanted(setup.kiosk.api.bundles()) == []
    said = "\n".join(r.getMessage() for r in caplog.records if "refusée" in r.getMessage())
    refused = setup.kiosk.outbox.get_marker(REFUSED_KEY)
    installed = {k: BundleFolder(setup.root / k).installed() for k in ("demarches", "tarifs")}
    status = "\n".join(_bundle_lines(installed, refused, keys=1))
    assert "Mises à jour refusées : 1 paquet(s) publié(s) par le service national" in status
    assert "Prévenez le support" in status
    journal = [e for e in AuditLog(setup.store).entries(limit=50) if e.action == "paquet_refuse"]
    assert journal[-1].label == "mise à jour des démarches ou des tarifs refusée"
    assert journal[-1].detail["paquet"] == kind
    assert journal[-1].detail["motif"].rstrip("…") in said  # its first 200 characters
    return said, status


def _still_v1(setup: Setup) -> None:
    """The démarches in use are still those before: a new dossier is on v1."""
    assert setup.kiosk.dossiers.create("cas_complexe").demarche_version == 1
    assert setup.catalog.versions("cas_complexe") == [1]


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("manifeste", "signature invalide"),
        ("signature", "signature invalide"),
        ("fichier", "cas_complexe.v2.toml : empreinte SHA-256 différente de celle signée"),
        ("sans_signature", "paquet non signé"),
        ("cle_etrangere", "signé par une clé que la borne n'a pas épinglée"),
    ],
)
def test_a_tampered_unsigned_or_foreign_bundle_is_refused_and_said(
    setup: Setup, caplog: pytest.LogCaptureFixture, fault: str, why: str
) -> None:
    files = {"cas_complexe.v2.toml": version(2)}
    setup.publish("demarches", files, defaut=fault)
    said, status = _refused(setup, caplog)
    assert f"mise à jour refusée, rien n'est installé : paquet demarches n° 2 : {why}" in said
    assert f"  démarches, paquet n° 2, le 02/06/2027 : {why}" in status
    _still_v1(setup)


def test_a_bundle_refused_for_its_key_is_looked_at_again_once_the_pins_change(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.publish("demarches", {"cas_complexe.v2.toml": version(2)}, defaut="cle_etrangere")
    _refused(setup, caplog)
    next_key = "PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw="
    repinned = _updates(setup.store, setup.root, setup.clock, [training_bundle_key(), next_key])
    assert [(b.kind, b.serial) for b in repinned.wanted(setup.kiosk.api.bundles())] == [
        ("demarches", 2)
    ]


def test_an_older_signed_bundle_replayed_is_refused(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.publish("demarches", {"cas_complexe.v2.toml": version(2)})
    setup.next_day()
    assert setup.kiosk.worker.run_once().bundles_installed == ["demarches 2"]
    # Bundle n° 1, genuinely signed, served again as n° 3: it would take v2 away from nobody,
    # but an attacker replaying old bundles must get nowhere.
    assert setup.publish("demarches", rejouer=1) == 3
    said, _ = _refused(setup, caplog)
    assert (
        "paquet demarches n° 3 : ancien paquet rejoué (n° 1 signé, la borne a déjà le n° 2)" in said
    )
    assert setup.kiosk.dossiers.create("cas_complexe").demarche_version == 2


def test_an_oversized_bundle_is_not_even_downloaded(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.publish("tarifs", {"tarif.2030-01-01.toml": "#" * 3_200_000})
    said, _ = _refused(setup, caplog, "tarifs")
    assert "paquet tarifs n° 2 trop volumineux (" in said
    assert "octets annoncés, au plus 4000000) : pas téléchargé" in said


def test_a_file_name_with_a_path_is_refused_though_signed(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.publish("demarches", {"../cas_complexe.v2.toml": version(2)})
    said, _ = _refused(setup, caplog)
    assert "nom « ../cas_complexe.v2.toml » refusé (un nom de fichier prévu, sans chemin)" in said
    assert not list(setup.root.parent.rglob("cas_complexe.v2.toml"))
    _still_v1(setup)


@pytest.mark.parametrize(
    ("files", "why"),
    [
        # Signed, but not a démarche the strict loader takes.
        (
            {
                "cas_complexe.v2.toml": version(2).replace(
                    'type = "texte"', 'type = "gribouillis"', 1
                )
            },
            "démarche refusée : cas_complexe.v2.toml : ",
        ),
        ({"cas_complexe.v2.toml": 'id = "cas_complexe"\nversion = [\n'}, "syntaxe TOML invalide"),
        # A version dossiers are pinned to, changed: never.
        (
            {"cas_complexe.v1.toml": version(1, "Autre titre")},
            "cas_complexe v1 existe déjà sur la borne avec un autre contenu",
        ),
        # A translation of a version nobody has.
        (
            {"cas_complexe.v9.en.toml": 'titre = "Nine"\n'},
            "démarche « cas_complexe » v9 introuvable",
        ),
    ],
)
def test_a_signed_demarche_the_strict_loader_refuses_installs_nothing(
    setup: Setup, caplog: pytest.LogCaptureFixture, files: dict[str, str], why: str
) -> None:
    started = _new_dossier(setup.kiosk, "cas_complexe")
    setup.publish("demarches", {"cas_complexe.v2.toml": version(2), **files})
    said, status = _refused(setup, caplog)
    assert why in said and why in status
    _still_v1(setup)
    assert setup.kiosk.dossiers.show(started).summary.demarche_version == 1


def test_a_signed_tariff_the_strict_loader_refuses_leaves_the_tariffs_in_use(
    setup: Setup, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    files = _tariff_update(tmp_path)
    name = f"tarif.{NEWER.isoformat()}.toml"
    files[name] = files[name].replace("montant = 1500", "montant = 15.5")
    setup.publish("tarifs", files)
    said, _ = _refused(setup, caplog, "tarifs")
    assert f"tarif refusé : {name} : taxe_fixe.montant : nombre entier de centimes attendu" in said
    setup.clock.advance(31 * DAY)
    live = _new_dossier(setup.kiosk)
    assert setup.kiosk.dossiers.estimate(live).tariff_version == LATEST
    assert _fixed_tax(setup.kiosk, live) == 1100


def test_a_tariff_period_covered_twice_is_refused(
    setup: Setup, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    files = _tariff_update(tmp_path)
    del files[f"tarif.{LATEST}.toml"]  # the current period left open
    setup.publish("tarifs", files)
    said, _ = _refused(setup, caplog, "tarifs")
    assert "période déjà couverte par" in said


@pytest.mark.parametrize("cut", ["dossier", "pointeur"])
def test_a_power_cut_mid_install_leaves_the_previous_state_and_the_next_look_installs(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, cut: str
) -> None:
    setup.publish("demarches", {"cas_complexe.v2.toml": version(2)})
    real: Callable[[Path, Path], Path] = Path.replace

    def cut_here(self: Path, target: Path) -> Path:
        if (cut == "pointeur") == (Path(target).name == POINTER):
            raise OSError(5, "Input/output error")
        return real(self, target)

    setup.next_day()
    monkeypatch.setattr(Path, "replace", cut_here)
    report = setup.kiosk.worker.run_once()
    monkeypatch.undo()
    assert report.bundles_installed == report.bundles_refused == []
    assert setup.serial("demarches") == 1
    _still_v1(setup)
    assert setup.kiosk.outbox.get_marker(REFUSED_KEY) is None  # the disk's fault, not refused
    setup.next_day()
    assert setup.kiosk.worker.run_once().bundles_installed == ["demarches 2"]
    assert setup.kiosk.dossiers.create("cas_complexe").demarche_version == 2


def test_a_refused_bundle_superseded_by_a_good_one_is_no_longer_said(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.publish("demarches", {"cas_complexe.v2.toml": version(2)}, defaut="signature")
    _refused(setup, caplog)
    setup.publish("demarches", {"cas_complexe.v2.toml": version(2)})
    setup.next_day()
    assert setup.kiosk.worker.run_once().bundles_installed == ["demarches 3"]
    assert setup.kiosk.outbox.get_marker(REFUSED_KEY) == {}


def test_a_kiosk_pinning_no_key_fetches_nothing_and_says_so(store: Store, tmp_path: Path) -> None:
    clock = SimClock(FILED.timestamp())
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    root = tmp_path / "paquets"
    line = _Portal(on=False)
    with ServerThread(sim) as national:
        kiosk = make_kiosk(
            store,
            LiveCatalog(default_demarches_dir(), BundleFolder(root / "demarches")),
            national.url,
            clock=clock,
            transport=line,
            bundles=_updates(store, root, clock, []),
        )
        report = kiosk.worker.run_once()
        kiosk.api.close()
    assert report.bundles_installed == report.bundles_refused == []
    assert "/v1/changements" in line.asked  # the service was reached...
    assert not [p for p in line.asked if p.startswith("/v1/paquets")]  # ...no bundle asked
    assert not root.exists()
    said = _bundle_lines({"demarches": None, "tarifs": None}, None, keys=0)
    assert said == [
        "Mises à jour des démarches et des tarifs : aucune clé de signature épinglée"
        " (service_national.cles_paquets) : rien n'est installé depuis le réseau."
    ]


class _Portal(httpx.BaseTransport):
    """The real server, behind a captive portal while ``on``: a bundle asked for gets the
    portal's page, a 200 in HTML. Every path asked is kept."""

    def __init__(self, *, on: bool = True) -> None:
        self._real = httpx.HTTPTransport()
        self.on = on
        self.asked: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.path)
        if self.on and request.url.path.startswith("/v1/paquets/"):
            page = b"<html>Connectez-vous au Wi-Fi de la mairie</html>"
            return httpx.Response(200, headers={"Content-Type": "text/html"}, content=page)
        return self._real.handle_request(request)

    def close(self) -> None:
        self._real.close()


def test_a_portal_page_instead_of_a_bundle_is_no_bundle_refused(
    store: Store, tmp_path: Path
) -> None:
    clock = SimClock(FILED.timestamp())
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    root = tmp_path / "paquets"
    portal = _Portal()
    with ServerThread(sim) as national:
        kiosk = make_kiosk(
            store,
            LiveCatalog(default_demarches_dir(), BundleFolder(root / "demarches")),
            national.url,
            clock=clock,
            transport=portal,
            bundles=_updates(store, root, clock, [training_bundle_key()]),
        )
        report = kiosk.worker.run_once()
        assert report.bundles_refused == report.bundles_installed == []
        assert report.last_error is not None and "portail captif" in report.last_error
        assert kiosk.outbox.get_marker(REFUSED_KEY) is None
        portal.on = False  # the next daily look, through a line that reaches the service
        clock.advance(DAY)
        assert kiosk.worker.run_once().bundles_installed == ["demarches 1", "tarifs 1"]
        kiosk.api.close()


def test_the_worker_looks_at_start_then_once_a_day(setup: Setup) -> None:
    worker = setup.kiosk.worker
    worker.report = OnceReport()  # the steps' own

    def steps(count: int) -> None:
        for _ in range(count):
            setup.clock.advance(min(worker.step(), 60.0))

    steps(10)  # the first look, at start: nothing new
    setup.publish("demarches", {"cas_complexe.v2.toml": version(2)})
    steps(10)
    assert worker.report.bundles_installed == []  # not before a day has passed
    setup.next_day()
    steps(10)
    assert worker.report.bundles_installed == ["demarches 2"]


def test_the_kiosk_as_wired_installs_and_its_catalogue_reloads_on_the_sync_thread(
    tmp_path: Path,
) -> None:
    """``build`` and ``build_worker`` as every command and the app wire them: the bundles go to
    the data folder, and the catalogue the screens share is reloaded by the worker once one is
    in use, so that no screen's lookup on the UI thread pays for it."""
    from app.container import build
    from app.settings import Settings
    from app.sync_setup import SyncSettings, build_worker
    from sync.clock import SimSleeper

    clock = SimClock(FILED.timestamp())
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    with ServerThread(sim) as national:
        httpx.post(
            f"{national.url}/_control/paquets",
            json={"type": "demarches", "fichiers": {"cas_complexe.v2.toml": version(2)}},
        ).raise_for_status()
        settings = Settings(
            data_dir=tmp_path / "donnees",
            api_url=national.url,
            api_client_id="borne-demo",
            api_client_secret="secret-demo",
            bundle_keys=(training_bundle_key(),),
        )
        container = build(settings)
        worker, api = build_worker(
            container,
            SyncSettings.from_settings(settings),
            clock=clock,
            sleeper=SimSleeper(clock),
            rng=random.Random(3),
        )
        try:
            assert container.dossiers.create("cas_complexe").demarche_version == 1
            assert worker.run_once().bundles_installed == ["demarches 2", "tarifs 1"]
            catalog = container.catalog
            assert isinstance(catalog, LiveCatalog)
            assert catalog.refresh() is False  # already done, on the worker's thread
            assert container.dossiers.create("cas_complexe").demarche_version == 2
            assert (tmp_path / "donnees" / "paquets" / "demarches" / POINTER).is_file()
        finally:
            api.close()
            container.close()
