"""The CAN and the MRZ photographed instead of typed, on the identity panel: the training
camera films the simulated card (or a passport's MRZ), Tesseract reads the CAN and OCR-B's
glyphs the MRZ, and what was read waits in its box for the agent to check before the card is
read; what the photo left in doubt waits there as « ? » for the agent to type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from devices.camera.simulated import SimulatedCamera
from devices.cardsim.printed import card_front, mrz_page
from devices.ocr.ocrb import OcrbGlyphReader
from devices.ocr.tesseract import TesseractReader
from kiosk.identity.errors import NoCard, UnsupportedCard
from kiosk.identity.model import AccessKey, CanKey, IdentityReading, MrzKey, manual_reading
from kiosk.identity.mrz import parse_mrz
from kiosk.messages import Message
from kiosk.ports.devices import CellScores, TextLayout
from kiosk.ports.identity import CardEvent, ProgressCallback
from tests.identity.ocr_samples import TD1, TD3, glyph_scores
from ui.i18n import Translator
from ui.services import IdentityPhotos
from ui.tasks import TaskRunner
from ui.widgets.camera import Phase
from ui.widgets.identity import IdentityPanel
from ui.widgets.scrolling import scrolling_area

FRONT = card_front(
    surname="MARTIN",
    given_names="MAELYS GAELLE MARIE",
    birth="900713",
    document_number="X4RTBPFW4",
    can="123456",
)


class _CardReader:
    """A reader whose card opens with CAN 123456 only (a wrong CAN would cost a try); asked
    with a MRZ's key, it finds no card: the MRZ is then read alone."""

    def __init__(self) -> None:
        self.keys: list[AccessKey] = []

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        self.keys.append(access)
        if isinstance(access, MrzKey):
            raise NoCard("Lecteur de test")
        return manual_reading(parse_mrz(TD1))

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        return lambda: None


def _panel(
    qtbot: QtBot, photos: IdentityPhotos, lang: str = "fr"
) -> tuple[IdentityPanel, _CardReader]:
    reader = _CardReader()
    panel = IdentityPanel(reader, TaskRunner(), Translator(lang), photos=photos)
    qtbot.addWidget(panel)
    panel.show()
    return panel, reader


def _take_and_read(qtbot: QtBot, panel: IdentityPanel) -> None:
    view = panel.capture
    assert view is not None and not panel.body.isVisible()
    qtbot.waitUntil(lambda: view.phase is Phase.LIVE, timeout=10_000)
    view.take_button.click()
    qtbot.waitUntil(lambda: view.phase is Phase.REVIEW, timeout=10_000)
    assert view.keep_button.text() in ("Lire", "Read")  # « Garder » elsewhere
    view.keep_button.click()


def test_the_can_photographed_is_put_in_its_box_and_read_by_lire_la_carte(qtbot: QtBot) -> None:
    photos = IdentityPhotos(
        TesseractReader(),
        SimulatedCamera([FRONT]),
        SimulatedCamera([mrz_page(TD1)]),
        OcrbGlyphReader(),
    )
    panel, reader = _panel(qtbot, photos)
    assert panel.can_photo_button.isEnabled() and not panel.photo_note.isVisible()
    panel.can_photo_button.click()
    _take_and_read(qtbot, panel)
    qtbot.waitUntil(lambda: panel.capture is None, timeout=30_000)
    assert panel.body.isVisible()
    assert panel.can.text() == "123456"
    assert "comparez-le avec la carte" in panel.status.text()
    assert reader.keys == []  # not sent to the card by itself
    panel.read_button.click()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert reader.keys == [CanKey("123456")]


def test_the_mrz_photographed_is_put_in_its_box_for_the_agent_to_check(qtbot: QtBot) -> None:
    photos = IdentityPhotos(
        TesseractReader(),
        SimulatedCamera([FRONT]),
        SimulatedCamera([mrz_page(TD1)]),
        OcrbGlyphReader(),
    )
    panel, _reader = _panel(qtbot, photos)
    panel.mrz_photo_button.click()
    _take_and_read(qtbot, panel)
    qtbot.waitUntil(lambda: panel.capture is None, timeout=30_000)
    assert panel.mrz.toPlainText().splitlines() == list(TD1)
    panel.mrz_button.click()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert panel.reading is not None and panel.reading.surname == "MARTIN"


def test_a_passport_mrz_photographed_is_read_whole(qtbot: QtBot) -> None:
    photos = IdentityPhotos(
        TesseractReader(),
        SimulatedCamera([FRONT]),
        SimulatedCamera([mrz_page(TD3)]),
        OcrbGlyphReader(),
    )
    panel, reader = _panel(qtbot, photos)
    panel.mrz_photo_button.click()
    _take_and_read(qtbot, panel)
    qtbot.waitUntil(lambda: panel.capture is None, timeout=30_000)
    assert panel.mrz.toPlainText().splitlines() == list(TD3)
    assert panel.status.text().startswith("Bande MRZ lue sur la photo, chiffres de contrôle")
    panel.mrz_button.click()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert reader.keys == [MrzKey("24FR12345", "850315", "340101")]  # the chip asked first
    reading = panel.reading
    assert reading is not None and (reading.surname, reading.given_names) == (
        "DUPONT",
        "JEAN PIERRE",
    )
    # No passport on the reader: the MRZ alone, and the agent told how to have the chip read.
    assert panel.status.text().startswith("Aucun document n'est posé sur le lecteur : seule")


class _Glyphs:
    """A glyph reader that read the passport's MRZ, one name letter in doubt (E or F)."""

    def __init__(self, *, unavailable: str | None = None) -> None:
        self.reason = unavailable

    def unavailable(self) -> str | None:
        return self.reason

    def read_glyphs(self, image: bytes, *, widths: Sequence[int]) -> list[list[CellScores]]:
        scores = glyph_scores(TD3)
        scores[0][TD3[0].index("JEAN") + 1].update({"E": 0.90, "F": 0.88})
        return [list(line) for line in scores]


def test_a_name_letter_in_doubt_is_left_as_a_question_mark_for_the_agent(qtbot: QtBot) -> None:
    photos = IdentityPhotos(
        TesseractReader(), SimulatedCamera([FRONT]), SimulatedCamera([FRONT]), _Glyphs()
    )
    panel, _reader = _panel(qtbot, photos)
    panel.mrz_photo_button.click()
    _take_and_read(qtbot, panel)
    qtbot.waitUntil(lambda: panel.capture is None, timeout=30_000)
    shown = TD3[0].replace("JEAN", "J?AN")
    assert panel.mrz.toPlainText().splitlines() == [shown, TD3[1]]
    assert "les caractères marqués « ? »" in panel.status.text()
    # The « ? » is selected in the box, which has the focus: the agent types the letter over it.
    assert panel.mrz.hasFocus() and panel.mrz.textCursor().selectedText() == "?"
    panel.mrz_button.click()  # not yet: the « ? » is no letter of the document
    qtbot.waitUntil(lambda: panel.status.objectName() == "error")
    assert panel.status.text().startswith("ligne 1 : les caractères « ? » n'ont pas pu être lus")
    assert panel.reading is None
    cursor = panel.mrz.textCursor()
    cursor.setPosition(shown.index("?"))
    cursor.setPosition(shown.index("?") + 1, cursor.MoveMode.KeepAnchor)
    panel.mrz.setTextCursor(cursor)
    panel.mrz.insertPlainText("E")
    panel.mrz_button.click()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert panel.reading is not None and panel.reading.given_names == "JEAN PIERRE"


def test_without_ocr_b_the_mrz_photo_is_off_and_the_can_photo_stays(qtbot: QtBot) -> None:
    reason = OcrbGlyphReader(font=Path("/nonexistent/OCRB.otf")).unavailable()
    photos = IdentityPhotos(
        TesseractReader(),
        SimulatedCamera([FRONT]),
        SimulatedCamera([FRONT]),
        _Glyphs(unavailable=reason),
    )
    panel, _reader = _panel(qtbot, photos)
    assert panel.can_photo_button.isEnabled() and not panel.mrz_photo_button.isEnabled()
    assert panel.photo_note.isVisible() and panel.photo_note.text() == reason
    assert panel.mrz.isEnabled() and panel.mrz_button.isEnabled()  # typing stays


class _BlindReader:
    """A recogniser that sees no text (a photo of the desk)."""

    def unavailable(self) -> str | None:
        return None

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        return "ABC 12"


def test_a_can_not_recognised_is_said_in_english_and_typing_stays(qtbot: QtBot) -> None:
    photos = IdentityPhotos(
        _BlindReader(), SimulatedCamera([FRONT]), SimulatedCamera([FRONT]), _Glyphs()
    )
    panel, reader = _panel(qtbot, photos, lang="en")
    panel.can_photo_button.click()
    view = panel.capture
    assert view is not None
    _take_and_read(qtbot, panel)
    qtbot.waitUntil(lambda: view.status.objectName() == "error", timeout=10_000)
    assert view.status.text() == "The CAN was not recognised: reframe the card or type it"
    assert view.phase is Phase.REVIEW and view.retake_button.isEnabled()
    view.cancel_button.click()
    assert panel.capture is None and panel.body.isVisible()
    assert panel.can.isEnabled() and panel.can.text() == ""
    assert reader.keys == []


class _NoTesseract:
    def unavailable(self) -> str | None:
        return "La lecture par la caméra n'est pas disponible sur cette borne."

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        raise AssertionError("never called")


def test_without_tesseract_the_can_photo_is_off_and_the_reason_said(qtbot: QtBot) -> None:
    """The MRZ is read by OCR-B's glyphs, not by Tesseract: its photo stays."""
    photos = IdentityPhotos(
        _NoTesseract(), SimulatedCamera([FRONT]), SimulatedCamera([FRONT]), _Glyphs()
    )
    panel, _reader = _panel(qtbot, photos)
    assert not panel.can_photo_button.isEnabled()
    assert panel.mrz_photo_button.isEnabled()
    assert panel.photo_note.isVisible()
    assert panel.photo_note.text().startswith("La lecture par la caméra n'est pas disponible")
    assert panel.can.isEnabled() and panel.read_button.isEnabled()  # typing stays


def test_without_photos_configured_no_photo_button_is_shown(qtbot: QtBot) -> None:
    panel = IdentityPanel(_CardReader(), TaskRunner(), Translator("fr"))
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.can_photo_button.isVisible() and not panel.mrz_photo_button.isVisible()


def test_what_the_photo_read_is_brought_into_view_where_the_camera_was(qtbot: QtBot) -> None:
    # The Xvfb walk of 2026-12-05: the camera's view, taller than the panel, closed and left
    # the page scrolled to the questions below; the CAN read was out of sight.
    photos = IdentityPhotos(
        TesseractReader(),
        SimulatedCamera([FRONT]),
        SimulatedCamera([mrz_page(TD1)]),
        OcrbGlyphReader(),
    )
    page = QWidget()
    layout = QVBoxLayout(page)
    panel = IdentityPanel(_CardReader(), TaskRunner(), Translator("fr"), photos=photos)
    layout.addWidget(panel)
    below = QWidget()
    below.setMinimumHeight(2_000)  # the step's questions
    layout.addWidget(below)
    area = scrolling_area(page)
    area.resize(1_000, 500)
    qtbot.addWidget(area)
    area.show()
    panel.can_photo_button.click()
    _take_and_read(qtbot, panel)
    area.verticalScrollBar().setValue(area.verticalScrollBar().maximum())  # as it was left
    qtbot.waitUntil(lambda: panel.capture is None, timeout=30_000)

    def in_view(widget: QWidget) -> bool:
        top = widget.mapTo(area.viewport(), QPoint(0, 0)).y()
        return top >= 0 and top + widget.height() <= area.viewport().height()

    qtbot.waitUntil(lambda: in_view(panel.can) and in_view(panel.read_button), timeout=3_000)
    assert panel.can.text() == "123456"


class _CanOnlyReader(_CardReader):
    """A CNIe on the reader: its chip opens with the CAN only."""

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        if isinstance(access, MrzKey):
            raise UnsupportedCard(
                Message(
                    "Cette carte ne s'ouvre qu'avec son numéro CAN (6 chiffres imprimés au "
                    "recto) : saisissez le CAN au lieu de la bande MRZ."
                )
            )
        return super().read(access, progress)


def test_a_cnie_asked_for_its_can_says_so_in_sight_of_the_can_box(qtbot: QtBot) -> None:
    # The Xvfb walk of 2026-12-05: « Lire la bande MRZ » (below) with a CNIe on the reader; the
    # answer, on the status line above, stayed out of the page's window.
    page = QWidget()
    layout = QVBoxLayout(page)
    panel = IdentityPanel(_CanOnlyReader(), TaskRunner(), Translator("fr"))
    layout.addWidget(panel)
    below = QWidget()
    below.setMinimumHeight(2_000)
    layout.addWidget(below)
    area = scrolling_area(page)
    area.resize(1_000, 200)
    qtbot.addWidget(area)
    area.show()
    area.activateWindow()
    qtbot.waitUntil(area.isActiveWindow, timeout=3_000)
    panel.mrz.setPlainText("\n".join(TD1))
    panel.mrz_button.setFocus()  # as the agent left it: tapped, or Space with the keyboard
    area.ensureWidgetVisible(panel.mrz_button, 0, 0)

    def in_view(widget: QWidget) -> bool:
        top = widget.mapTo(area.viewport(), QPoint(0, 0)).y()
        return top >= 0 and top + widget.height() <= area.viewport().height()

    assert not in_view(panel.can)
    QTest.keyClick(panel.mrz_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "saisissez le CAN" in panel.status.text(), timeout=5_000)
    qtbot.waitUntil(lambda: in_view(panel.status) and in_view(panel.can), timeout=3_000)
