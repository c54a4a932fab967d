"""« Numériser » at the documents step: the page on the glass of a SANE scanner (the real
``scanimage`` on SANE's ``test`` backend, tests/sane.py) is scanned off the UI thread and
attached with its thumbnail; a scanner that fails says so in the person's language, the agent
reads why, and nothing already attached is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from devices.sane import SaneScanner
from tests.sane import use_test_backend
from tests.support import fill
from tests.ui.screens import screen_services
from ui.i18n import Translator
from ui.screens.documents import DocumentsScreen
from ui.tasks import TaskRunner

CARTE_GRISE = ("carte_grise_defunt", None)


def test_a_page_scanned_is_attached_with_its_thumbnail(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_backend(monkeypatch, tmp_path / "sane", test_picture='"Color pattern"')
    with screen_services(tmp_path, scanner=SaneScanner("test")) as services:
        reference = services.dossiers.create("succession").reference
        fill(services.dossiers, reference, services.catalog.latest("succession"))
        runner = TaskRunner()
        screen = DocumentsScreen(services.documents(), runner, Translator())
        qtbot.addWidget(screen)
        screen.show()
        screen.open(reference)
        qtbot.waitUntil(lambda: runner.idle)
        label = next(
            d.label for d in services.dossiers.show(reference).documents if d.kind == CARTE_GRISE[0]
        )

        # « Numériser » on every row, beside « Joindre », named for a screen reader.
        assert set(screen.scan_buttons) == set(screen.rows)
        button = screen.scan_buttons[CARTE_GRISE]
        assert button.text() == "Numériser" and button.isVisible()
        assert button.accessibleName() == f"Numériser : {label}"
        assert screen.thumbs[CARTE_GRISE].pixmap().isNull()

        button.click()
        assert screen.scan_note.isVisible()  # the scan runs on a worker: the screen says so
        assert screen.scan_note.text() == "Numérisation de la page posée sur la vitre du scanner…"
        assert not button.isEnabled()  # one scan at a time
        qtbot.waitUntil(lambda: runner.idle and not screen.scan_note.isVisible(), timeout=30_000)
        qtbot.waitUntil(lambda: runner.idle)  # (the checklist reloaded)

        [attached] = services.attachments.list(reference)
        assert (attached.kind, attached.mime_type) == ("carte_grise_defunt", "image/png")
        assert not screen.thumbs[CARTE_GRISE].pixmap().isNull()  # its thumbnail
        row = screen.thumbs[CARTE_GRISE].parentWidget()
        assert row is not None
        assert any("Fourni" in text.text() for text in row.findChildren(QLabel))
        assert screen.error.text() == ""
        assert list((tmp_path / "numerisations").glob("*")) == []  # never in a folder


def test_a_busy_scanner_is_said_in_the_persons_language_and_nothing_is_lost(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with screen_services(tmp_path, scanner=SaneScanner("test")) as services:
        reference = services.dossiers.create("succession").reference
        fill(services.dossiers, reference, services.catalog.latest("succession"))
        use_test_backend(monkeypatch, tmp_path / "sane")
        runner, tr = TaskRunner(), Translator("en")
        screen = DocumentsScreen(services.documents(), runner, tr)
        qtbot.addWidget(screen)
        screen.show()
        screen.open(reference)
        qtbot.waitUntil(lambda: runner.idle)
        screen.scan_buttons[CARTE_GRISE].click()  # a first page, attached
        qtbot.waitUntil(lambda: runner.idle and len(services.attachments.list(reference)) == 1)
        qtbot.waitUntil(lambda: runner.idle and screen.scan_buttons[CARTE_GRISE].isEnabled())

        use_test_backend(
            monkeypatch, tmp_path / "sane", read_status_code='"SANE_STATUS_DEVICE_BUSY"'
        )
        screen.scan_buttons[CARTE_GRISE].click()
        qtbot.waitUntil(lambda: runner.idle and not screen.scan_note.isVisible(), timeout=30_000)

        assert screen.error.text().startswith("The scanner is busy with another scan")
        assert screen.error.toolTip().startswith("Le scanner « test » est occupé")  # the agent's
        assert len(services.attachments.list(reference)) == 1  # the first page is kept
        assert screen.scan_buttons[CARTE_GRISE].isEnabled()  # to try again
        tr.set_language("ar")
        assert screen.error.text().startswith("الماسح الضوئي مشغول")

        use_test_backend(monkeypatch, tmp_path / "sane")  # the other scan is over
        screen.scan_buttons[CARTE_GRISE].click()
        qtbot.waitUntil(lambda: runner.idle and len(services.attachments.list(reference)) == 2)
        qtbot.waitUntil(lambda: runner.idle and screen.error.text() == "")
