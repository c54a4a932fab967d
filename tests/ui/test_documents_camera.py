"""Photographing a document at the documents step, with training mode's simulated camera (the
same ``Camera`` port as the real one), in a real (offscreen) kiosk window.

The capture view is saved as screenshots in French and in Arabic under ``out/screenshots/``.
"""

from __future__ import annotations

import io

from PIL import Image
from PySide6.QtWidgets import QLabel, QToolButton
from pytestqt.qtbot import QtBot

from devices.camera.simulated import STILL_SIZE, SimulatedCamera
from tests.support import file_dossier, fill
from tests.ui.driver import Driver
from ui.main_window import MainWindow
from ui.theme import min_target_px
from ui.widgets.camera import CaptureView, Phase

CARTE_GRISE = ("carte_grise_defunt", None)


def _open_documents(driver: Driver, window: MainWindow) -> str:
    """A succession answered in full, at its documents step."""
    driver.sign_in()
    services = window.services
    reference = services.dossiers.create("succession", training=True).reference
    fill(services.dossiers, reference, services.catalog.latest("succession"))
    window.documents.open(reference)
    window.stack.setCurrentWidget(window.documents)
    driver.settle()
    return reference


def _camera(window: MainWindow) -> SimulatedCamera:
    camera = window.services.camera
    assert isinstance(camera, SimulatedCamera)  # training mode
    return camera


def _start_capture(qtbot: QtBot, window: MainWindow) -> CaptureView:
    window.documents.camera_buttons[CARTE_GRISE].click()
    capture = window.documents.capture
    assert capture is not None
    return capture


def _live(qtbot: QtBot, capture: CaptureView) -> None:
    qtbot.waitUntil(lambda: capture.phase is Phase.LIVE, timeout=5_000)


def _take(qtbot: QtBot, capture: CaptureView) -> None:
    capture.take_button.click()
    qtbot.waitUntil(lambda: capture.phase is Phase.REVIEW, timeout=10_000)


def test_a_page_photographed_is_attached_shown_and_not_listed_as_missing(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    reference = _open_documents(driver, window)
    services = window.services
    documents = window.documents
    camera = _camera(window)
    label = next(
        d.label for d in services.dossiers.show(reference).documents if d.kind == CARTE_GRISE[0]
    )

    # « Photographier » beside « Joindre », on every row: a touch target, named for a reader.
    assert not documents.camera_note.isVisible()
    assert set(documents.camera_buttons) == set(documents.rows)
    button = documents.camera_buttons[CARTE_GRISE]
    assert button.isVisible()
    assert button.text() == "Photographier"
    assert button.accessibleName() == f"Photographier : {label}"
    assert button.height() >= min_target_px()
    assert documents.thumbs[CARTE_GRISE].pixmap().isNull()  # nothing attached yet

    capture = _start_capture(qtbot, window)
    _live(qtbot, capture)
    assert camera.running
    assert not capture.preview.image.isNull()  # the live picture
    assert capture.take_button.isEnabled()
    assert capture.take_button.height() >= min_target_px()
    assert capture.cancel_button.height() >= min_target_px()
    assert label in capture.heading.text()
    assert not documents.next_button.isVisible()  # leave through « Annuler » or « Garder »
    driver.screenshot("30-photo-aperçu")
    # The language changed twice meanwhile: same view, camera still on, texts in French again.
    assert documents.capture is capture
    assert capture.take_button.text() == "Prendre la photo"
    assert capture.phase is Phase.LIVE

    _take(qtbot, capture)
    assert capture.keep_button.isVisible() and capture.keep_button.text() == "Garder"
    assert capture.retake_button.isVisible() and capture.retake_button.text() == "Reprendre"
    assert not capture.take_button.isVisible()
    # What is shown for review is the stored photo, decoded back.
    assert capture.preview.image.width() > 1000
    driver.screenshot("31-photo-à-garder")

    capture.retake_button.click()  # not sharp enough: again
    assert capture.phase is Phase.LIVE
    _take(qtbot, capture)
    capture.keep_button.click()
    qtbot.waitUntil(lambda: documents.capture is None, timeout=10_000)
    driver.settle()
    assert not camera.running  # the camera is off as soon as the page is kept
    assert documents.next_button.isVisible()

    # The thumbnail, and the document counted as provided.
    qtbot.waitUntil(lambda: not documents.thumbs[CARTE_GRISE].pixmap().isNull(), timeout=5_000)
    view = services.dossiers.show(reference)
    provided = [d.kind for d in view.documents if d.provided]
    assert provided == [CARTE_GRISE[0]]
    row = documents.thumbs[CARTE_GRISE].parentWidget()
    assert any("Fourni" in text.text() for text in row.findChildren(QLabel))
    attached = services.attachments.list(reference)
    assert [(a.kind, a.mime_type) for a in attached] == [(CARTE_GRISE[0], "image/jpeg")]
    # The audit says which agent attached it.
    assert services.audit is not None and window.agent is not None
    (entry,) = [e for e in services.audit.entries(dossier_ref=reference) if "piece" in e.detail]
    assert entry.agent_id == window.agent.id
    with Image.open(io.BytesIO(services.attachments.read(attached[0].path))) as photo:
        assert (photo.format, photo.size) == ("JPEG", STILL_SIZE)
    assert not attached[0].path.read_bytes().startswith(b"\xff\xd8")  # encrypted on disk
    driver.screenshot("32-documents-photo-jointe")

    # The receipt lists what is still missing, not the photographed card.
    file_dossier(services.dossiers, reference)
    missing = services.receipts.data(reference).missing_documents
    assert label not in missing
    assert set(missing) == {d.label for d in view.documents if not d.provided}
    assert missing  # the other documents of a succession are still to bring


def test_camera_problems_are_explained_and_pages_already_kept_stay(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    reference = _open_documents(driver, window)
    services = window.services
    documents = window.documents
    camera = _camera(window)

    # A first page kept.
    capture = _start_capture(qtbot, window)
    _live(qtbot, capture)
    _take(qtbot, capture)
    capture.keep_button.click()
    qtbot.waitUntil(lambda: documents.capture is None, timeout=10_000)
    driver.settle()
    assert len(services.attachments.list(reference)) == 1

    # The camera is held by another program: said plainly, « Réessayer » offered.
    camera.busy = True
    capture = _start_capture(qtbot, window)
    qtbot.waitUntil(lambda: capture.phase is Phase.FAILED, timeout=5_000)
    assert "La caméra ne répond pas" in capture.status.text()
    assert "Les pages déjà jointes sont conservées." in capture.status.text()
    assert capture.status.objectName() == "error"
    assert capture.retake_button.text() == "Réessayer"
    assert not capture.take_button.isVisible()
    driver.screenshot("33-photo-caméra-occupée")
    camera.busy = False
    capture.retake_button.click()
    _live(qtbot, capture)

    # A photo that fails: said, the preview goes on, the next photo works.
    camera.fail_next_capture = True
    capture.take_button.click()
    qtbot.waitUntil(lambda: "n'a pas pu être prise" in capture.status.text(), timeout=5_000)
    assert capture.phase is Phase.LIVE
    assert capture.take_button.isEnabled()
    assert len(services.attachments.list(reference)) == 1  # the page kept before is still there
    _take(qtbot, capture)

    # The kiosk locks while the photo waits for review: camera off, nothing kept, nothing lost.
    window.lock()
    driver.settle()
    assert not camera.running
    assert documents.capture is None
    assert len(services.attachments.list(reference)) == 1


def test_without_a_camera_the_scanner_folder_still_works(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    _camera(window).absent = True
    reference = _open_documents(driver, window)
    documents = window.documents
    assert documents.camera_buttons == {}
    assert documents.camera_note.isVisible()
    assert documents.camera_note.text().startswith("Aucune caméra n'est branchée sur la borne")
    driver.screenshot("34-documents-sans-caméra")
    documents.rows[CARTE_GRISE].click()
    driver.settle()
    scan = documents.findChild(QToolButton, "scan-0")
    assert scan is not None
    scan.click()
    driver.settle()
    driver.settle()
    provided = [d.kind for d in window.services.dossiers.show(reference).documents if d.provided]
    assert provided == [CARTE_GRISE[0]]
