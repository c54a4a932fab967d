"""The CAN and the MRZ photographed instead of typed, on the identity panel: the training
camera films the simulated card, Tesseract reads the photo, and what was read waits in its box
for the agent to check before the card is read."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from devices.camera.simulated import SimulatedCamera
from devices.cardsim.printed import card_front, mrz_page
from devices.ocr.tesseract import TesseractReader
from kiosk.identity.model import AccessKey, CanKey, IdentityReading, manual_reading
from kiosk.identity.mrz import parse_mrz
from kiosk.ports.devices import TextLayout
from kiosk.ports.identity import CardEvent, ProgressCallback
from tests.identity.ocr_samples import TD1
from ui.i18n import Translator
from ui.services import IdentityPhotos
from ui.tasks import TaskRunner
from ui.widgets.camera import Phase
from ui.widgets.identity import IdentityPanel

FRONT = card_front(
    surname="MARTIN",
    given_names="MAELYS GAELLE MARIE",
    birth="900713",
    document_number="X4RTBPFW4",
    can="123456",
)


class _CardReader:
    """A reader whose card opens with CAN 123456 only (a wrong CAN would cost a try)."""

    def __init__(self) -> None:
        self.keys: list[AccessKey] = []

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        self.keys.append(access)
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
        TesseractReader(), SimulatedCamera([FRONT]), SimulatedCamera([mrz_page(TD1)])
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
        TesseractReader(), SimulatedCamera([FRONT]), SimulatedCamera([mrz_page(TD1)])
    )
    panel, _reader = _panel(qtbot, photos)
    panel.mrz_photo_button.click()
    _take_and_read(qtbot, panel)
    qtbot.waitUntil(lambda: panel.capture is None, timeout=30_000)
    assert panel.mrz.toPlainText().splitlines() == list(TD1)
    panel.mrz_button.click()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert panel.reading is not None and panel.reading.surname == "MARTIN"


class _BlindReader:
    """A recogniser that sees no text (a photo of the desk)."""

    def unavailable(self) -> str | None:
        return None

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        return "ABC 12"


def test_a_can_not_recognised_is_said_in_english_and_typing_stays(qtbot: QtBot) -> None:
    photos = IdentityPhotos(_BlindReader(), SimulatedCamera([FRONT]), SimulatedCamera([FRONT]))
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


def test_without_tesseract_the_buttons_are_off_and_the_reason_said(qtbot: QtBot) -> None:
    photos = IdentityPhotos(_NoTesseract(), SimulatedCamera([FRONT]), SimulatedCamera([FRONT]))
    panel, _reader = _panel(qtbot, photos)
    assert not panel.can_photo_button.isEnabled()
    assert not panel.mrz_photo_button.isEnabled()
    assert panel.photo_note.isVisible()
    assert panel.photo_note.text().startswith("La lecture par la caméra n'est pas disponible")
    assert panel.can.isEnabled() and panel.read_button.isEnabled()  # typing stays


def test_without_photos_configured_no_photo_button_is_shown(qtbot: QtBot) -> None:
    panel = IdentityPanel(_CardReader(), TaskRunner(), Translator("fr"))
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.can_photo_button.isVisible() and not panel.mrz_photo_button.isVisible()
