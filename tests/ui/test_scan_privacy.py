"""The scanner's folder is not a privacy leak: the documents screen offers only the scans of the
dossier at the counter, deletes a scan once it is attached (and says so when it cannot), and the
scans never attached are deleted when the session ends. Real files in a temporary folder."""

from __future__ import annotations

import dataclasses
import errno
import os
import time
from pathlib import Path

from PIL import Image
from PySide6.QtWidgets import QLabel, QToolButton
from pytestqt.qtbot import QtBot

from devices.capture import FolderSource
from kiosk.ports.devices import ScannedFile
from tests.support import fill
from tests.ui.driver import Driver
from tests.ui.screens import screen_services
from ui.i18n import Translator
from ui.main_window import MainWindow
from ui.screens.documents import DocumentsScreen
from ui.tasks import TaskRunner

CARTE_GRISE = ("carte_grise_defunt", None)


def _scan(path: Path, *, later: bool = False) -> Path:
    """A page as a scanner saves it; ``later``: dated a minute on, so that it arrived after
    any session opened before this call (no waiting on the clock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 60), "white").save(path, "PNG")
    if later:
        moment = time.time() + 60
        os.utime(path, (moment, moment))
    return path


def _offered(screen: DocumentsScreen) -> set[str]:
    return {b.accessibleName() for b in screen.findChildren(QToolButton) if b.isVisible()}


def _button(screen: DocumentsScreen, name: str) -> QToolButton:
    return next(b for b in screen.findChildren(QToolButton) if b.accessibleName() == name)


class _ReadOnlyFolder(FolderSource):
    """The scanner's share mounted read-only: files are read, none can be deleted (the tests
    run as root, whom file modes do not stop)."""

    def remove(self, scanned: ScannedFile) -> None:
        raise PermissionError(errno.EROFS, "Read-only file system", str(scanned.path))


def test_the_picker_offers_only_this_sessions_scans_and_an_attached_one_leaves_the_folder(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "numerisations"
    leftover = _scan(folder / "personne-precedente.png")  # before this dossier was opened
    with screen_services(tmp_path) as services:
        reference = services.dossiers.create("succession").reference
        fill(services.dossiers, reference, services.catalog.latest("succession"))
        runner = TaskRunner()
        screen = DocumentsScreen(services.documents(), runner, Translator())
        qtbot.addWidget(screen)
        screen.show()
        screen.begin_session()  # the dossier is opened at the counter
        screen.open(reference)
        qtbot.waitUntil(lambda: runner.idle)

        # Nothing scanned yet for this person: the previous person's scan is not offered.
        screen.rows[CARTE_GRISE].click()
        qtbot.waitUntil(lambda: runner.idle)
        assert _offered(screen) == set()
        empty = screen.findChild(QLabel, "no-scan")
        assert empty is not None and "depuis l'ouverture du dossier" in empty.text()

        mine = _scan(folder / "carte-grise.png", later=True)
        screen.open(reference, back_in_place=True)
        qtbot.waitUntil(lambda: runner.idle)
        screen.rows[CARTE_GRISE].click()
        qtbot.waitUntil(lambda: runner.idle)
        assert _offered(screen) == {"carte-grise.png"}

        _button(screen, "carte-grise.png").click()
        qtbot.waitUntil(lambda: runner.idle)
        qtbot.waitUntil(lambda: runner.idle)
        provided = [d.kind for d in services.dossiers.show(reference).documents if d.provided]
        assert provided == [CARTE_GRISE[0]]
        assert not mine.exists()  # the plain scan left the folder once stored encrypted
        assert screen.error.text() == ""
        (stored,) = services.attachments.list(reference)
        assert services.attachments.read(stored.path)[:8] == b"\x89PNG\r\n\x1a\n"
        assert leftover.exists()  # the session is not over yet

        # The session ends (« Accueil », « Terminer », the lock): the scans never attached go.
        screen.clear_personal_data()
        qtbot.waitUntil(lambda: runner.idle)
        assert list(folder.iterdir()) == []


def test_a_scan_that_cannot_leave_the_folder_is_attached_and_the_agent_told(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "numerisations"
    with screen_services(tmp_path) as services:
        reference = services.dossiers.create("succession").reference
        fill(services.dossiers, reference, services.catalog.latest("succession"))
        runner = TaskRunner()
        slice_ = dataclasses.replace(services.documents(), scans=_ReadOnlyFolder(folder))
        screen = DocumentsScreen(slice_, runner, Translator())
        qtbot.addWidget(screen)
        screen.show()
        screen.open(reference)
        qtbot.waitUntil(lambda: runner.idle)
        scan = _scan(folder / "carte-grise.png", later=True)
        screen.rows[CARTE_GRISE].click()
        qtbot.waitUntil(lambda: runner.idle)
        _button(screen, "carte-grise.png").click()
        qtbot.waitUntil(lambda: runner.idle)
        qtbot.waitUntil(lambda: runner.idle)

        provided = [d.kind for d in services.dossiers.show(reference).documents if d.provided]
        assert provided == [CARTE_GRISE[0]]  # the import counts
        assert scan.exists()
        assert screen.error.text() == (
            "La numérisation « carte-grise.png » est jointe au dossier, mais elle est restée dans"
            f" le dossier du scanner ({folder}) : la borne n'a pas pu l'effacer. Supprimez-la à"
            " la main."
        )
        screen.tr_.set_language("en")
        screen.error.setText(
            screen.tr_.t("documents.scan_left", name="carte-grise.png", folder=folder)
        )
        assert "is still in the scanner folder" in screen.error.text()


def test_the_next_person_sees_none_of_the_previous_ones_scans(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Through the window: the session begins when a dossier is opened from the home screen and
    ends at « Accueil »; training mode's made-up scans stay offered and are never deleted."""
    driver = Driver(qtbot, window)
    driver.sign_in()
    folder = window.services.scans.folder  # type: ignore[attr-defined]
    samples = {p.name for p in folder.iterdir()}
    assert len(samples) == 3
    earlier = _scan(folder / "avant-ce-dossier.png")  # scanned before the dossier was opened
    reference = driver.start("succession")
    services = window.services
    fill(services.dossiers, reference, services.catalog.latest("succession"))
    left = _scan(folder / "page-non-jointe.png", later=True)  # this person's, never attached
    window.wizard.review.emit(reference)  # on to the documents step
    driver.settle()
    window.documents.rows[CARTE_GRISE].click()
    driver.settle()
    assert _offered(window.documents) == samples | {"page-non-jointe.png"}

    window.home_button.click()  # the person leaves
    driver.settle()
    assert {p.name for p in folder.iterdir()} == samples
    assert not earlier.exists() and not left.exists()
