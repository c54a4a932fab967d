"""Shared fixtures: real SQLite files in a temporary folder, the shipped procedure catalogue."""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.cardsim.vpcd import VIRTUAL_READER
from kiosk.demarches import Catalog, load_catalog
from kiosk.dossiers.service import DossierService
from kiosk.settings.paths import assets_dir
from kiosk.store import Store, open_store
from tests.cups import CupsServer, PdfQueue, start_cups
from tests.pcsc import start_pcscd, stop_pcscd, use_second_slot
from tests.postgres import Cluster, start_cluster

# Before any other conftest imports the reader's name (tests/devices/conftest.py is loaded
# before pytest_configure when its folder is named on the command line): xdist sets this
# variable in the worker's process before it reads a single conftest.
if os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
    use_second_slot()


def pytest_configure(config: pytest.Config) -> None:
    """Qt reads these when the application starts (pytest-qt creates it on first use):
    offscreen windows, and the embedded on-screen keyboard exactly as the kiosk runs it.

    With the test command's workers (pytest-xdist; the second one took vpcd's second reader
    above), the process that starts them runs pcscd for both (tests/pcsc.py)."""
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker is None and (getattr(config.option, "numprocesses", None) or 0) > 0:
        config.stash[_PCSCD] = start_pcscd(VIRTUAL_READER)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")
    os.environ.setdefault("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1")
    # The kiosks the tests start read an empty settings file, never the one of the machine's
    # user (~/.config/pn-kiosk/kiosk.toml could point them at a real database).
    os.environ.setdefault("PN_KIOSK_CONFIG", os.devnull)
    # Nor its data folder: a kiosk started without a data folder of its own writes keys and
    # documents into the per-user one (platformdirs reads XDG_DATA_HOME), where they would
    # make every later test's new database look lost (kiosk/store/engine.py, StoreLost).
    os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp(prefix="pn-tests-data-"))
    # Nor its speech service: the kiosks the tests start connect (libspeechd reads this) to a
    # socket nobody listens on, so that they never start a speech-dispatcher of the user's, nor
    # speak; their « Écouter » is disabled. tests/devices/test_speech.py starts one of its own.
    nobody = Path(tempfile.mkdtemp(prefix="pn-tests-speech-")) / "nobody.sock"
    os.environ["SPEECHD_ADDRESS"] = f"unix_socket:{nobody}"


def pytest_unconfigure(config: pytest.Config) -> None:
    """The pcscd :func:`pytest_configure` started for the workers, stopped once they are done."""
    stop_pcscd(config.stash.get(_PCSCD, None))


_PCSCD = pytest.StashKey[subprocess.Popen[bytes] | None]()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The démarches shipped in assets/demarches (all must load)."""
    loaded = load_catalog(assets_dir() / "demarches")
    assert not loaded.errors, [str(e) for e in loaded.errors]
    return loaded


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A real PostgreSQL server for the session (tests/postgres.py), started at first use."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def site_url(pg_cluster: Cluster) -> str:
    """The address of a new, empty database on the test PostgreSQL server: a site's store."""
    return pg_cluster.new_database(f"site_{next(_DATABASES)}")


_DATABASES = itertools.count(1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_stores`` that use the store run on the embedded SQLite file and on a
    site's PostgreSQL store (tests/postgres.py)."""
    if metafunc.definition.get_closest_marker("both_stores") and "store" in metafunc.fixturenames:
        metafunc.parametrize("store", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh database file, migrated (or a fresh site store, for ``both_stores`` tests)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        opened = open_store(tmp_path / "unused", url=request.getfixturevalue("site_url"))
    else:
        opened = open_store(tmp_path / "kiosk.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def service(store: Store, catalog: Catalog) -> DossierService:
    """The dossier service on a fresh database."""
    return DossierService(store, catalog)


@pytest.fixture(scope="session")
def cups_server() -> Iterator[CupsServer]:
    """A real CUPS server for the session (tests/cups.py), started at first use."""
    server = start_cups()
    yield server
    server.stop()


@pytest.fixture
def pdf_queue(cups_server: CupsServer) -> PdfQueue:
    """A new virtual PDF printer on the test CUPS server, printing into a folder of its own."""
    return cups_server.add_pdf_queue()
