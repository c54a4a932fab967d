"""The home tiles: a pictogram each, the démarches most started at this kiosk first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.ui.screens import screen_services
from ui.i18n import Translator
from ui.screens.home import HomeScreen
from ui.services import UiServices
from ui.tasks import TaskRunner


def _home(qtbot: QtBot, services: UiServices) -> tuple[HomeScreen, TaskRunner]:
    runner = TaskRunner()
    home = HomeScreen(services.home(), runner, Translator("fr"))
    qtbot.addWidget(home)
    return home, runner


def test_a_new_kiosk_shows_the_definitions_order_each_tile_with_its_pictogram(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with screen_services(tmp_path) as services:
        home, runner = _home(qtbot, services)
        home.show()
        qtbot.waitUntil(lambda: runner.idle)
        # No dossier yet: the `rang` of the definitions (the car purchase first, the odd case last).
        assert home.tile_order[0] == "changement_titulaire"
        assert home.tile_order[-1] == "cas_complexe"
        for demarche_id, tile in home.tiles.items():
            drawn = tile.picture.pixmap().toImage()  # the SVG, painted on the tile
            assert drawn.width() >= 24, demarche_id
            assert drawn.pixelColor(drawn.width() // 2, 3).name() == "#000091", demarche_id


def test_the_most_used_demarche_comes_first(qtbot: QtBot, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    moment = [now - timedelta(days=200)]
    with screen_services(tmp_path, clock=lambda: moment[0]) as services:
        for _ in range(5):  # much used, but more than 90 days ago: no longer counts
            services.dossiers.create("succession")
        moment[0] = now - timedelta(days=2)
        for _ in range(3):
            services.dossiers.create("permis_perte")
        services.dossiers.create("changement_titulaire")
        home, runner = _home(qtbot, services)
        assert home.tile_order[0] == "changement_titulaire"  # before the count comes back
        home.show()
        qtbot.waitUntil(lambda: runner.idle)
        assert home.tile_order[:2] == ["permis_perte", "changement_titulaire"]
        # The others keep the definitions' order, the old succession dossiers count for nothing.
        assert home.tile_order.index("declaration_cession") < home.tile_order.index("succession")
