"""A counter on the site's shared store (PostgreSQL) whose server goes away in the middle of a
dossier: the counter says so at once, in plain French, keeps what was typed on the screen, does
not leave the step without it, and stores it by itself once the server is back (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from app.container import build_ui
from app.settings import Settings
from tests.postgres import Cluster, NoPostgres, start_cluster
from tests.ui.driver import Driver
from tests.ui.test_supervision import sign_in_as
from ui.main_window import MainWindow
from ui.theme import load_fonts


@pytest.fixture
def site() -> Iterator[Cluster]:
    """A PostgreSQL server of its own (this test stops and starts it), durable like a site's:
    the session's throw-away server commits without waiting for its disk, and a crash of it
    loses the last answers (as a real server tuned so would)."""
    try:
        cluster = start_cluster(settings=("fsync=on", "synchronous_commit=on"))
    except NoPostgres as exc:  # pragma: no cover - scripts/bootstrap.sh test installs it
        pytest.fail(str(exc))
    yield cluster
    cluster.stop()


def test_the_site_server_going_away_loses_nothing_typed(
    qtbot: QtBot, tmp_path: Path, site: Cluster
) -> None:
    url = site.new_database("prefecture")
    services, container = build_ui(Settings(data_dir=tmp_path, database_url=url), sync=False)
    try:
        services.agents.add("lea", "Léa Dubois", "2468")
        window = MainWindow(services, family=load_fonts(), idle_ms=600_000, grace_ms=5_000)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        driver = Driver(qtbot, window)
        sign_in_as(driver, "Léa Dubois", "2468")
        reference = driver.start("changement_adresse")
        wizard = window.wizard
        driver.answer("nom", "MARTIN")
        assert wizard.answers["nom"] == "MARTIN"
        title = wizard.title.text()

        site.interrupt()  # the site's server goes away
        first_names = wizard.editors["prenoms"].findChild(QLineEdit)
        assert first_names is not None
        driver._type(wizard.editors["prenoms"], "Jeanne Marie")
        driver.settle()
        # Said at once, in French; what was typed stays on the screen; not stored.
        assert "serveur du site" in wizard.notice.text(), wizard.notice.text()
        assert "reste à l'écran" in wizard.notice.text()
        assert first_names.text() == "Jeanne Marie"
        assert "prenoms" not in wizard.answers
        wizard.next_button.click()  # the step is not left without it
        driver.settle()
        assert wizard.title.text() == title and first_names.text() == "Jeanne Marie"

        site.start()  # back: stored by itself, said once
        qtbot.waitUntil(lambda: "prenoms" in wizard.answers, timeout=30_000)
        assert wizard.notice.text() == window.tr_.t("wizard.unsaved_done")
        stored = services.dossiers.show(reference).answers
        assert stored["prenoms"] == "Jeanne Marie" and stored["nom"] == "MARTIN"
        window.runner.wait()
    finally:
        container.close()
