"""Data typed by the person is Latin whatever the screen's language, and a language switch keeps
everything already read or typed.

In Arabic, Qt's on-screen keyboard types the digits ١٢٣ and ignores ``ImhLatinOnly``: the kiosk
shows a Latin layout (its digit pad for numbers) in every field for data, and reads ١٢٣ as 123
anyway. Screens are saved under ``out/screenshots/<lang>/`` (44 and up) to be looked at.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtQuick import QQuickItem
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from kiosk.demarches import FieldType
from kiosk.identity.model import AccessKey, CanKey, IdentityReading, manual_reading
from kiosk.identity.mrz import parse_mrz
from kiosk.ports.identity import CardEvent, ProgressCallback
from tests.ui.driver import Driver
from ui.i18n import Translator
from ui.main_window import MainWindow
from ui.tasks import TaskRunner
from ui.widgets.fields import AddressEditor, IdentityEditor, TextEditor
from ui.widgets.identity import IdentityPanel
from ui.widgets.keyboard import KeyboardPanel

ARABIC_DIGITS = set("٠١٢٣٤٥٦٧٨٩")
MRZ = (
    "IDFRAX4RTBPFW46<<<<<<<<<<<<<<<\n9007138F3002119FRA<<<<<<<<<<<6\nMARTIN<<MAELYS<GAELLE<MARIE<<<"
)


def _keys(keyboard: KeyboardPanel) -> str:
    """The characters on the keys the keyboard shows now."""
    root = keyboard.rootObject()
    assert root is not None
    shown = []
    for item in root.findChildren(QQuickItem):
        text = item.property("text")
        if "Key" in item.metaObject().className() and item.isVisible() and isinstance(text, str):
            shown.append(text)
    return "".join(shown)


def _keyboard_on(qtbot: QtBot, window: MainWindow, box: QLineEdit) -> KeyboardPanel:
    qtbot.waitUntil(lambda: window.keyboard is not None, timeout=5_000)
    keyboard = window.keyboard
    assert keyboard is not None
    window.activateWindow()
    box.setFocus()
    qtbot.waitUntil(keyboard.isVisible, timeout=5_000)
    return keyboard


def _shows(qtbot: QtBot, keyboard: KeyboardPanel, wanted: Callable[[str], bool]) -> str:
    """The keys, once the layout for the focused field is loaded (QML, a frame or two)."""
    qtbot.waitUntil(lambda: wanted(_keys(keyboard)), timeout=5_000)
    return _keys(keyboard)


def _identity_step_in_arabic(qtbot: QtBot, window: MainWindow) -> tuple[Driver, IdentityPanel]:
    """Signed in, the screen in Arabic, a succession started: the agent and its card reader."""
    driver = Driver(qtbot, window)
    driver.sign_in()
    window.tr_.set_language("ar")
    driver.settle()
    driver.start("succession")
    panel = window.wizard.identity_panel
    assert panel is not None
    return driver, panel


def test_a_can_typed_with_arabic_indic_digits_opens_the_card(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver, panel = _identity_step_in_arabic(qtbot, window)
    panel.can.setText("١٢٣٤٥٦")  # 123456 as the Arabic keyboard's digit pad types it
    panel.read_button.click()
    driver.settle()
    assert "codec" not in panel.status.text()  # was: 'ascii' codec can't encode characters…
    assert panel.reading is not None, panel.status.text()
    assert panel.reading.verdict.value == "authentique"


def test_in_arabic_the_keyboard_types_latin_data_and_western_digits(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver, panel = _identity_step_in_arabic(qtbot, window)
    keyboard = _keyboard_on(qtbot, window, panel.can)
    # The CAN: the digit pad, with the digits printed on the card.
    keys = _shows(qtbot, keyboard, lambda keys: "5" in keys)
    assert set("0123456789") <= set(keys)
    assert not ARABIC_DIGITS & set(keys)
    assert not any("\u0600" <= key <= "\u06ff" for key in keys)
    driver.snap("44-clavier-can")
    # A name: the French letters, and nothing but Latin behind the globe key.
    surname = window.wizard.editors["nom"]
    assert isinstance(surname, TextEditor)
    surname.edit.setFocus()
    keys = _shows(qtbot, keyboard, lambda keys: "a" in keys)
    assert set("azertyuiop") <= set(keys)
    assert not any("\u0600" <= key <= "\u06ff" for key in keys)
    # A box that asks for nothing in particular has the person's own layout back.
    free = QLineEdit(window.wizard)
    free.show()
    free.setFocus()
    keys = _shows(qtbot, keyboard, lambda keys: "ض" in keys)
    assert "a" not in keys
    free.deleteLater()
    # Back in the date of birth: Western digits again, with « / » for JJ/MM/AAAA.
    birth = window.wizard.editors["date_naissance"]
    assert isinstance(birth, TextEditor)
    birth.edit.setFocus()
    keys = _shows(qtbot, keyboard, lambda keys: "5" in keys)
    assert "/" in keys and not ARABIC_DIGITS & set(keys)


def test_every_box_of_a_dossier_asks_the_keyboard_for_latin_and_numbers_for_digits(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    wizard = window.wizard
    panel = wizard.identity_panel
    assert panel is not None
    hint = Qt.InputMethodHint
    assert panel.can.inputMethodHints() & hint.ImhDigitsOnly
    assert panel.can.inputMethodHints() & hint.ImhLatinOnly
    assert panel.mrz.inputMethodHints() & hint.ImhLatinOnly
    assert panel.mrz.inputMethodHints() & hint.ImhPreferUppercase
    seen = 0
    for _ in range(8):  # every step of the succession, answered as it comes
        for editor in wizard.editors.values():
            for box in [*editor.findChildren(QLineEdit), *editor.findChildren(QPlainTextEdit)]:
                seen += 1
                assert box.inputMethodHints() & hint.ImhLatinOnly, editor.path
            if isinstance(editor, IdentityEditor):
                assert editor.number.inputMethodHints() & hint.ImhPreferUppercase
            if isinstance(editor, AddressEditor):
                assert editor.edits["code_postal"].inputMethodHints() & hint.ImhDigitsOnly
            if isinstance(editor, TextEditor) and editor.field.type is FieldType.PHONE:
                assert editor.edit.inputMethodHints() & hint.ImhDialableCharactersOnly
        if wizard.step_index == len(wizard._steps()) - 1:
            break
        driver.fill_step({"autres_heritiers": "non", "mode_contact": "telephone"})
        driver.next()
    assert seen > 10


def test_a_language_switch_keeps_the_card_read_and_the_text_being_typed(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    wizard = window.wizard
    panel = wizard.identity_panel
    assert panel is not None
    panel.can.setText("123456")
    panel.read_button.click()
    driver.settle()
    assert panel.reading is not None, panel.status.text()
    photo = panel.photo.pixmap().toImage()
    # Typed, the box not left yet: nothing sent, nothing saved.
    place = wizard.editors["lieu_naissance"]
    assert isinstance(place, TextEditor)
    place.edit.setText("Vannes")

    window.tr_.set_language("ar")
    driver.settle()
    assert wizard.identity_panel is panel  # the same panel: a read under way would go on too
    assert panel.reading is not None
    assert panel.photo.isVisibleTo(wizard) and panel.photo.pixmap().toImage() == photo
    assert "authentique" not in panel.verdict.text()  # now in Arabic…
    assert panel.verdict.text() == "بطاقة أصلية ✓"  # « Carte authentique ✓ »
    assert "MARTIN" in panel.data.text()  # …the data read, as read
    assert panel.confirm.isVisibleTo(wizard)
    assert panel.confirm.text() == window.tr_.t("identity.confirm")
    place = wizard.editors["lieu_naissance"]
    assert isinstance(place, TextEditor)
    assert place.edit.text() == "Vannes"
    wizard.scroll_area.ensureWidgetVisible(panel.photo)
    driver.snap("45-lecture-gardée")

    window.tr_.set_language("fr")
    driver.settle()
    panel = wizard.identity_panel
    assert panel is not None and panel.reading is not None
    assert panel.photo.pixmap().toImage() == photo
    assert panel.verdict.text() == "Carte authentique ✓"
    place = wizard.editors["lieu_naissance"]
    assert isinstance(place, TextEditor)
    assert place.edit.text() == "Vannes"
    assert "lieu_naissance" not in wizard.answers
    place.edit.editingFinished.emit()  # the box is left: what was typed is saved now
    driver.settle()
    assert wizard.answers["lieu_naissance"] == "Vannes"
    # The card read is still the one to use.
    panel.confirm.click()
    driver.settle()
    assert wizard.answers["nom"] == "MARTIN"


def test_an_answer_being_saved_when_the_language_changes_stays_on_screen(
    qtbot: QtBot, window: MainWindow
) -> None:
    """A tap on a language button takes the focus: the box is left, its answer sent, and the
    step rebuilt before the store has answered."""
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    wizard = window.wizard
    place = wizard.editors["lieu_naissance"]
    assert isinstance(place, TextEditor)
    place.edit.setText("Lorient")
    place.edit.editingFinished.emit()
    window.tr_.set_language("en")  # before the save is acknowledged
    driver.settle()
    place = wizard.editors["lieu_naissance"]
    assert isinstance(place, TextEditor)
    assert place.edit.text() == "Lorient"
    assert wizard.answers["lieu_naissance"] == "Lorient"
    assert place.message.text() == "✓ " + window.tr_.t("wizard.saved")


class _RecordingReader:
    """A reader that records the key it is given and has no card to read."""

    def __init__(self) -> None:
        self.keys: list[AccessKey] = []

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        self.keys.append(access)
        raise RuntimeError("no card in this test")

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        return lambda: None


def test_a_can_that_is_not_6_digits_is_explained_in_arabic_and_the_card_not_asked(
    qtbot: QtBot,
) -> None:
    reader = _RecordingReader()
    panel = IdentityPanel(reader, TaskRunner(), Translator("ar"))
    qtbot.addWidget(panel)
    panel.can.setText("١٢٣٤٥")
    panel.read_button.click()
    assert panel.status.objectName() == "error"
    assert panel.status.text().startswith("يتكوّن رمز CAN من 6 أرقام")
    assert reader.keys == []
    assert panel.read_button.isEnabled() and not panel.progress.isVisible()
    panel.can.setText("۱۲۳۴۵۶")  # Persian digits this time: the same CAN
    panel.read_button.click()
    qtbot.waitUntil(lambda: bool(reader.keys))
    assert reader.keys == [CanKey("123456")]


class _SlowReader:
    """A reader that says where it is, then waits for the test before handing the reading."""

    def __init__(self) -> None:
        self.go = threading.Event()

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        if progress is not None:
            progress("Connexion à la puce", 0.05)
        self.go.wait(10)
        return manual_reading(parse_mrz(MRZ))

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        return lambda: None


def test_a_read_under_way_goes_on_in_the_new_language(qtbot: QtBot) -> None:
    reader = _SlowReader()
    tr = Translator("fr")
    panel = IdentityPanel(reader, TaskRunner(), tr)
    qtbot.addWidget(panel)
    panel.can.setText("123456")
    panel.read_button.click()
    qtbot.waitUntil(lambda: panel.status.text() == "Connexion à la puce")
    tr.set_language("en")
    panel.retranslate()  # what the wizard does on a language switch
    assert panel.status.text() == "Connecting to the chip"
    assert panel.read_button.text() == tr.t("identity.read")
    reader.go.set()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert panel.verdict.text() == "Authenticity not verified"
