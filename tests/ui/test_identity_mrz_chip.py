"""A passport's chip opened from the identity panel with its MRZ, typed or photographed: the
MRZ's number and dates are the chip's BAC / PACE-MRZ key. Through the real stack: the panel →
the PC/SC reader → pcscd → vpcd → the simulated passport."""

from __future__ import annotations

from collections.abc import Sequence

from pytestqt.qtbot import QtBot

from devices.camera.simulated import SimulatedCamera
from devices.cardsim.printed import mrz_page
from devices.cardsim.profiles import PROFILES
from devices.nfc.pcsc import PcscIdentityReader
from devices.ocr.ocrb import OcrbGlyphReader
from devices.ocr.tesseract import TesseractReader
from kiosk.identity.model import Verdict
from kiosk.identity.mrz import compose_td3
from kiosk.ports.devices import CellScores
from tests.devices.conftest import (  # noqa: F401 - the fixtures, for the real PC/SC stack
    CardFactory,
    card,
    reader,
    test_trust,
)
from tests.identity.ocr_samples import glyph_scores
from ui.i18n import Translator
from ui.services import IdentityPhotos
from ui.tasks import TaskRunner
from ui.widgets.camera import Phase
from ui.widgets.identity import IdentityPanel

PASSPORT = PROFILES["passport"].mrz()


def _panel(
    qtbot: QtBot, service: PcscIdentityReader, photos: IdentityPhotos | None = None
) -> IdentityPanel:
    panel = IdentityPanel(service, TaskRunner(), Translator("fr"), photos=photos)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _read_mrz(qtbot: QtBot, panel: IdentityPanel) -> None:
    panel.mrz_button.click()
    qtbot.waitUntil(panel.read_button.isEnabled, timeout=20_000)  # the read is over


def test_a_typed_passport_mrz_opens_the_chip_on_the_reader(
    qtbot: QtBot,
    card: CardFactory,  # noqa: F811
    reader: PcscIdentityReader,  # noqa: F811
) -> None:
    # was: « Authenticité non vérifiée — Les informations ont été recopiées à la main : la puce
    # n'a pas été lue », the passport lying on the reader all along
    virtual = card("passport")
    panel = _panel(qtbot, reader)
    panel.mrz.setPlainText("\n".join(PASSPORT))
    _read_mrz(qtbot, panel)
    reading = panel.reading
    assert reading is not None, panel.status.text()
    assert reading.protocol == "PACE-GM-AES-128 secp256r1 (MRZ) + AA"
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert panel.verdict.text() == "Passeport authentique ✓"
    assert not panel.photo.pixmap().isNull()  # the chip's photo, to compare with the person
    assert "DUPONT" in panel.data.text()
    assert panel.confirm.isVisible()
    assert virtual.chip.sessions == 1


def _photograph_mrz(qtbot: QtBot, panel: IdentityPanel) -> None:
    panel.mrz_photo_button.click()
    view = panel.capture
    assert view is not None
    qtbot.waitUntil(lambda: view.phase is Phase.LIVE, timeout=10_000)
    view.take_button.click()
    qtbot.waitUntil(lambda: view.phase is Phase.REVIEW, timeout=10_000)
    view.keep_button.click()
    qtbot.waitUntil(lambda: panel.capture is None, timeout=30_000)


def test_a_photographed_mrz_opens_a_bac_only_passport(
    qtbot: QtBot,
    card: CardFactory,  # noqa: F811
    reader: PcscIdentityReader,  # noqa: F811
) -> None:
    card("passport-bac")
    photos = IdentityPhotos(
        TesseractReader(),
        SimulatedCamera([mrz_page(PASSPORT)]),
        SimulatedCamera([mrz_page(PASSPORT)]),
        OcrbGlyphReader(),
    )
    panel = _panel(qtbot, reader, photos)
    _photograph_mrz(qtbot, panel)
    assert panel.mrz.toPlainText().splitlines() == list(PASSPORT)
    assert panel.reading is None  # what was read waits in its box for the agent
    _read_mrz(qtbot, panel)
    reading = panel.reading
    assert reading is not None, panel.status.text()
    assert reading.protocol == "BAC-3DES" and reading.verdict is Verdict.AUTHENTIQUE
    assert not panel.photo.pixmap().isNull()


def test_the_mrz_of_another_passport_does_not_open_the_chip(
    qtbot: QtBot,
    card: CardFactory,  # noqa: F811
    reader: PcscIdentityReader,  # noqa: F811
) -> None:
    # Check digits right, but not this passport's: the chip says so, and no reading of the MRZ
    # alone stands in for it (the agent would take a typed MRZ for the document on the reader).
    card("passport")
    other = compose_td3(
        document_number="24FR99999",
        surname="DUPONT",
        given_names="JEAN PIERRE",
        birth="850315",
        sex="M",
        expiry="340101",
    )
    panel = _panel(qtbot, reader)
    panel.mrz.setPlainText("\n".join(other))
    _read_mrz(qtbot, panel)
    assert panel.reading is None
    assert panel.status.objectName() == "error"
    assert panel.status.text().startswith("Les données saisies (numéro du document")


class _Glyphs:
    """The passport's MRZ photographed, one letter of the given names in doubt (E or F)."""

    def unavailable(self) -> str | None:
        return None

    def read_glyphs(self, image: bytes, *, widths: Sequence[int]) -> list[list[CellScores]]:
        scores = glyph_scores(PASSPORT)
        scores[0][PASSPORT[0].index("JEAN") + 1].update({"E": 0.90, "F": 0.88})
        return [list(line) for line in scores]


def test_a_name_letter_in_doubt_does_not_stop_the_chip_which_gives_the_names(
    qtbot: QtBot,
    card: CardFactory,  # noqa: F811
    reader: PcscIdentityReader,  # noqa: F811
) -> None:
    # No check digit covers a name, but the key is the number and the dates: the chip opens,
    # and the names are its own. (Without the chip, the agent types the « ? » first.)
    card("passport")
    page = SimulatedCamera([mrz_page(PASSPORT)])
    panel = _panel(qtbot, reader, IdentityPhotos(TesseractReader(), page, page, _Glyphs()))
    _photograph_mrz(qtbot, panel)
    assert panel.mrz.toPlainText().splitlines()[0] == PASSPORT[0].replace("JEAN", "J?AN")
    _read_mrz(qtbot, panel)
    reading = panel.reading
    assert reading is not None, panel.status.text()
    assert reading.verdict is Verdict.AUTHENTIQUE
    assert (reading.surname, reading.given_names) == ("DUPONT", "JEAN PIERRE")
