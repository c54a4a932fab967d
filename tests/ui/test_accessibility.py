"""The kiosk with the keyboard alone and as a screen reader hears it (issue 20).

A whole dossier is taken from the sign-in to the receipt with key presses only (Tab, Space,
typing), the mandate signed on paper; after every step change the focus must be on the new
screen (its title or a field), never nowhere nor on the top bar. Every screen met is walked
through Qt's accessibility interface (what the AT-SPI bridge reads), in French and in Arabic:
every control a person can use has a name and a role, every picture a text alternative.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QEvent, QLocale, Qt
from PySide6.QtGui import QAccessible, QAccessibleInterface, QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kiosk.identity.model import AccessKey, IdentityReading
from kiosk.ports.identity import CardEvent, ProgressCallback
from tests.ui.driver import Driver
from ui.accessibility import install, listen
from ui.i18n import Translator
from ui.main_window import MainWindow
from ui.tasks import TaskRunner
from ui.widgets.fields import AddressEditor, ChoiceEditor, FieldEditor, IdentityEditor
from ui.widgets.identity import IdentityPanel

_INTERACTIVE = (QAbstractButton, QLineEdit, QPlainTextEdit, QProgressBar)


def unnamed(root: QWidget) -> list[str]:
    """What a screen reader cannot tell apart on ``root`` as shown: a usable control without a
    name or a role, a picture without a text alternative, a Tab stop without a name."""
    install()
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        picture = isinstance(widget, QLabel) and not widget.pixmap().isNull()
        tab_stop = isinstance(widget, QScrollArea) and bool(
            widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        )
        if not (isinstance(widget, _INTERACTIVE) or picture or tab_stop):
            continue
        iface = QAccessible.queryAccessibleInterface(widget)
        assert iface is not None
        name = iface.text(QAccessible.Text.Name).strip()
        roleless = iface.role() == QAccessible.Role.NoRole or (
            iface.role() == QAccessible.Role.Client and not tab_stop  # (a scroll area's role)
        )
        if not name or roleless:
            parent = widget.parentWidget()
            where = type(parent).__name__ if parent is not None else ""
            found.append(f"{type(widget).__name__} {widget.objectName()!r} in {where}")
    return found


def test_titles_are_headings_and_single_choices_are_radio_buttons(qtbot: QtBot) -> None:
    install()
    tr = Translator("ar")
    from kiosk.demarches import Choice, Field, FieldType

    field = Field(
        id="mode",
        label="Mode",
        type=FieldType.CHOICE,
        required=True,
        choices=(Choice("sms", "SMS"), Choice("courrier", "Courrier")),
    )
    editor = ChoiceEditor("mode", field, tr)
    qtbot.addWidget(editor)
    editor.buttons["sms"].setChecked(True)
    sms = QAccessible.queryAccessibleInterface(editor.buttons["sms"])
    mail = QAccessible.queryAccessibleInterface(editor.buttons["courrier"])
    assert sms.role() == mail.role() == QAccessible.Role.RadioButton
    assert sms.state().checked and not mail.state().checked
    assert sms.text(QAccessible.Text.Name) == "SMS"
    title = QLabel("Votre accord")
    title.setObjectName("title")
    qtbot.addWidget(title)
    heading = QAccessible.queryAccessibleInterface(title)
    assert heading.role() == QAccessible.Role.Heading
    assert heading.text(QAccessible.Text.Name) == "Votre accord"


def test_a_refused_answer_is_said_on_the_field_itself(qtbot: QtBot) -> None:
    from kiosk.demarches import Field, FieldType

    field = Field(id="tel", label="Téléphone", type=FieldType.PHONE, required=True)
    from ui.widgets.fields import make_editor

    editor = make_editor("tel", field, Translator("fr"))
    qtbot.addWidget(editor)
    box = editor.findChildren(QLineEdit)[0]
    editor.set_error("Numéro de téléphone invalide")
    assert box.property("invalid") is True  # the style sheet's red border is on the box
    assert QAccessible.queryAccessibleInterface(box).text(QAccessible.Text.Description) == (
        "Numéro de téléphone invalide"
    )
    editor.set_saved()
    # The error gone, the box says again that an answer is required.
    assert box.property("invalid") is False and box.accessibleDescription() == "Obligatoire"


class _RecordingReader:
    """A reader that records the keys it is given."""

    def __init__(self) -> None:
        self.keys: list[AccessKey] = []

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        self.keys.append(access)
        raise RuntimeError("no card in this test")

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        return lambda: None


@pytest.mark.parametrize(
    ("lang", "start"),
    [
        ("fr", "Le numéro CAN compte 6 chiffres"),
        ("en", "The CAN has 6 digits"),
        ("ar", "يتكوّن رمز CAN من 6 أرقام"),
    ],
)
def test_a_two_or_three_digit_can_is_refused_on_the_field_and_never_sent(
    qtbot: QtBot, lang: str, start: str
) -> None:
    reader = _RecordingReader()
    panel = IdentityPanel(reader, TaskRunner(), Translator(lang))
    qtbot.addWidget(panel)
    for typed in ("12", "١٢٣"):
        panel.can.setText(typed)
        panel.read_button.click()
        assert panel.status.text().startswith(start)
        # On the CAN box itself: its red border, and its description for a screen reader.
        assert panel.can.property("invalid") is True
        assert panel.can.accessibleDescription() == panel.status.text()
    assert reader.keys == []  # the card was never asked: no try used up
    panel.can.setText("١٢٣٤٥٦")
    panel.read_button.click()
    qtbot.waitUntil(lambda: bool(reader.keys))
    assert panel.can.property("invalid") is False


def test_tab_leaves_the_mrz_box_instead_of_typing_a_tab(qtbot: QtBot) -> None:
    panel = IdentityPanel(None, TaskRunner(), Translator("fr"))
    qtbot.addWidget(panel)
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    panel.mrz.setFocus()
    QTest.keyClick(panel.mrz, Qt.Key.Key_Tab)
    assert "\t" not in panel.mrz.toPlainText()
    assert QApplication.focusWidget() is panel.mrz_button


# ------------------------------------------------------------------ the keyboard alone
class Keys:
    """An agent with a keyboard and no mouse or finger."""

    def __init__(self, qtbot: QtBot, window: MainWindow) -> None:
        self.qtbot = qtbot
        self.w = window
        self.driver = Driver(qtbot, window)

    def focused(self) -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None, "the focus is nowhere: the next Tab starts at the top bar"
        return widget

    def on_screen(self) -> None:
        """The focus is on the screen shown (its title or a field), not elsewhere."""
        self.driver.settle()
        widget = self.focused()
        screen = self.w.stack.currentWidget()
        assert screen is not None
        assert screen.isAncestorOf(widget), (
            f"focus on {type(widget).__name__} {widget.objectName()!r} "
            f"{getattr(widget, 'text', lambda: '')()!r}, not on {type(screen).__name__}"
        )

    def tab_to(self, target: QWidget, limit: int = 150) -> None:
        seen = []
        for _ in range(limit):
            if self.focused() is target:
                return
            seen.append(type(self.focused()).__name__)
            QTest.keyClick(self.focused(), Qt.Key.Key_Tab)
        raise AssertionError(f"Tab never reached {type(target).__name__}: {seen[:40]}")

    def choose(self, editor: ChoiceEditor | IdentityEditor, key: str) -> None:
        """A single choice as radio buttons are used: Tab into the group, the arrows to the
        answer, Space to give it."""
        target = editor.buttons[key]
        group = list(editor.buttons.values())
        for _ in range(150):
            if self.focused() in group:
                break
            QTest.keyClick(self.focused(), Qt.Key.Key_Tab)
        for _ in range(len(group) * 4):
            if self.focused() is target:
                break
            # Down in a column of answers, Right in a row (after the last: back to the first).
            before = self.focused()
            QTest.keyClick(before, Qt.Key.Key_Down)
            if self.focused() is before:
                QTest.keyClick(before, Qt.Key.Key_Right)
            if self.focused() is before:
                QTest.keyClick(before, Qt.Key.Key_Home)
        assert self.focused() is target, "the arrows never reached the answer"
        if not target.isChecked():
            QTest.keyClick(target, Qt.Key.Key_Space)
        self.driver.settle()

    def press(self, button: QWidget) -> None:
        self.tab_to(button)
        QTest.keyClick(button, Qt.Key.Key_Space)
        self.driver.settle()

    def type_into(self, box: QLineEdit, text: str) -> None:
        self.tab_to(box)
        box.selectAll()
        for char in text:  # (QTest.keyClicks knows ASCII only: « Œ » is a key event of its own)
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(
                    box, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char)
                )
        QTest.keyClick(box, Qt.Key.Key_Tab)  # leaving the box saves it
        self.driver.settle()


def _answer_by_keys(keys: Keys, editor: FieldEditor, raw: str) -> None:
    if isinstance(editor, ChoiceEditor):
        keys.choose(editor, raw)
    elif isinstance(editor, IdentityEditor):
        nature, number = (part.strip() for part in raw.split("|"))
        keys.choose(editor, nature)
        keys.type_into(editor.number, number)
    elif isinstance(editor, AddressEditor):
        street, postcode, town = (part.strip() for part in raw.split("|"))
        keys.type_into(editor.edits["ligne"], street)
        keys.type_into(editor.edits["code_postal"], postcode)
        keys.type_into(editor.edits["commune"], town)
    else:
        box = editor.findChildren(QLineEdit)[0]
        keys.type_into(box, raw)


def test_a_whole_dossier_with_the_keyboard_alone_and_every_screen_named(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    keys = Keys(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None or window.isActiveWindow())
    signin = window.signin
    assert unnamed(window) == []
    # The agent's button comes before the PIN in the Tab order; a wrong PIN leaves the focus in it.
    # The sign-in starts on the agent's button (not the top bar), the PIN is the next stop.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is signin._buttons[0])
    QTest.keyClick(keys.focused(), Qt.Key.Key_Tab)
    assert keys.focused() is signin.pin  # the very next stop (the agents load after the rest)
    QTest.keyClicks(signin.pin, "1234")
    QTest.keyClick(signin.pin, Qt.Key.Key_Return)
    keys.driver.settle()
    assert signin.error.text()
    assert keys.focused() is signin.pin
    QTest.keyClicks(signin.pin, "0000")
    QTest.keyClick(signin.pin, Qt.Key.Key_Return)
    keys.driver.settle()
    assert window.stack.currentWidget() is window.home
    keys.on_screen()
    assert unnamed(window) == []

    keys.press(window.home.tiles["changement_adresse"])
    keys.driver.settle()
    wizard = window.wizard
    assert window.stack.currentWidget() is wizard
    keys.on_screen()
    overrides = {"adresse": "12 rue de l'Œuvray | 56000 | Vannes", "mode_contact": "courrier"}
    for _ in range(15):
        keys.on_screen()  # a new step: the focus on its title, not the top bar
        assert unnamed(window) == [], wizard.title.text()
        # Content before « Retour » / « Écouter » / « Suivant » in the Tab order (« Écouter »
        # can be pressed until a reading finds no speech service: it connects then, issue 18).
        keys.tab_to(wizard.next_button)
        QTest.keyClick(keys.focused(), Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
        if wizard.listen.isEnabled():
            assert keys.focused() is wizard.listen
            QTest.keyClick(keys.focused(), Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
        assert keys.focused() is wizard.back_button
        for _ in range(30):
            pending = [
                (path, editor)
                for path, editor in wizard.editors.items()
                if path not in wizard.answers
                and (editor.field.required or path in overrides)
                and editor.isEnabled()
            ]
            if not pending:
                break
            path, editor = pending[0]
            _answer_by_keys(keys, editor, overrides.get(path) or keys.driver._valid(editor))
            assert path in wizard.answers, (path, editor.message.text())
        keys.press(wizard.next_button)
        if window.stack.currentWidget() is not wizard:
            break
    assert window.stack.currentWidget() is window.documents
    keys.on_screen()
    assert unnamed(window) == []
    keys.press(window.documents.next_button)

    consent = window.consent
    assert window.stack.currentWidget() is consent
    keys.driver.settle()
    keys.on_screen()
    assert unnamed(window) == []
    pad = QAccessible.queryAccessibleInterface(consent.pad)
    assert pad.text(QAccessible.Text.Name) == "Zone de signature"
    assert pad.text(QAccessible.Text.Description).startswith("Vide")
    # The signature's alternative: the mandate printed from here, signed by hand; its scan
    # is picked.
    keys.press(consent.paper_button)
    keys.on_screen()
    assert unnamed(window) == []
    before = set(tmp_path.rglob("recus/*.pdf"))
    keys.press(consent.paper_print)
    keys.driver.settle()
    assert consent.paper_printed.text() == window.tr_.t("consent.paper_printed")
    (pdf,) = set(tmp_path.rglob("recus/*.pdf")) - before
    assert consent._text is not None
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages).replace("\n", "")
    assert consent._text.sha256 in text  # what the scan is recorded against
    scan = consent.findChild(QPushButton, "paper-0")
    assert scan is not None, "training mode ships made-up scans in the scanner's folder"
    keys.press(scan)
    keys.on_screen()
    reference = consent.reference
    status = window.services.mandates.status(reference)
    assert status.signed and status.on_paper
    journal = window.services.dossiers.show(reference).journal
    signed = [e for e in journal if e.kind == "mandat_signe"]
    assert signed[-1].detail["mode"] == "papier" and len(signed[-1].detail["scan_sha256"]) == 64
    assert "papier" in consent.status.text()
    keys.press(consent.continue_button)

    assert window.stack.currentWidget() is window.review
    keys.on_screen()
    assert unnamed(window) == []
    keys.press(window.review.submit_button)
    keys.driver.settle()
    assert window.stack.currentWidget() is window.receipt
    keys.on_screen()
    assert unnamed(window) == []  # the QR code included
    keys.press(window.receipt.done_button)
    assert window.stack.currentWidget() is window.home
    keys.on_screen()


def _locale(widget: QWidget) -> QLocale:
    """The locale Qt's accessible attributes give for ``widget`` (what AT-SPI passes on)."""
    attributes = QAccessible.queryAccessibleInterface(widget).attributesInterface()
    assert attributes is not None
    value = attributes.attributeValue(QAccessible.Attribute.Locale)
    assert isinstance(value, QLocale)
    return value


def test_every_screen_is_named_in_arabic(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    window.tr_.set_language("ar")
    driver.settle()
    assert unnamed(window) == []
    reference = driver.start("changement_adresse")
    wizard = window.wizard
    for _ in range(15):
        assert unnamed(window) == [], wizard.title.text()
        driver.fill_step({"adresse": "12 rue de l'Œuvray | 56000 | Vannes"})
        driver.next()
        if window.stack.currentWidget() is not wizard:
            break
    assert unnamed(window) == []  # the documents
    window.documents.next_button.click()
    driver.settle()
    consent = window.consent
    assert unnamed(window) == []
    pad = QAccessible.queryAccessibleInterface(consent.pad)
    assert pad.text(QAccessible.Text.Name) == "منطقة التوقيع"
    # The language a screen reader is told: Arabic for the screen, French for the text the
    # person signs (it was « C » for everything).
    assert QLocale().name().startswith("ar")
    assert _locale(consent.pad).language() == QLocale.Language.Arabic
    assert _locale(consent.text).language() == QLocale.Language.French
    from PySide6.QtCore import QPointF

    consent.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    assert pad.text(QAccessible.Text.Description) == "موقّعة"
    consent.sign_button.click()
    driver.settle()
    assert not window.services.mandates.status(reference).on_paper  # drawn on the screen
    consent.continue_button.click()
    driver.settle()
    assert unnamed(window) == []  # the review
    window.review.submit_button.click()
    driver.settle()
    driver.settle()
    assert window.stack.currentWidget() is window.receipt
    assert unnamed(window) == []
    qr = QAccessible.queryAccessibleInterface(window.receipt.qr)
    assert qr.text(QAccessible.Text.Name) == window.tr_.t("a11y.qr")
    # The agents' screens: the dossier card, the worklist, the supervision.
    window.receipt.done_button.click()
    driver.settle()
    window._open_card(reference)
    driver.settle()
    assert unnamed(window) == []
    if window.followup is not None:
        window._follow_up()
        driver.settle()
        assert unnamed(window) == []


def test_what_changes_without_the_focus_is_announced_once(qtbot: QtBot, window: MainWindow) -> None:
    """A screen reader hears a wrong PIN, each new step, a refused answer, the card read's
    stages and verdict, and the inactivity warning: each once (ARIA live regions' rule), errors
    and the warning interrupting, the rest waiting their turn."""
    heard: list[tuple[str, bool]] = []
    stop = listen(lambda _source, message, urgent: heard.append((message, urgent)))
    try:
        driver = Driver(qtbot, window)
        driver.sign_in("1234")
        assert heard == [(window.signin.error.text(), True)]
        heard.clear()
        driver.sign_in()
        driver.start("changement_adresse")
        wizard = window.wizard
        step = window.tr_.t("a11y.step", step=wizard.step_count.text(), title=wizard.title.text())
        assert heard == [(step, False)]  # the first step, as the dossier opens
        heard.clear()
        panel = wizard.identity_panel
        assert panel is not None
        panel.can.setText("123456")
        panel.read_button.click()
        driver.settle()
        assert panel.reading is not None, panel.status.text()
        said = [message for message, _urgent in heard]
        # The stages of the read in order, each once (not at every percent), and the verdict;
        # none of it urgent.
        assert len(said) >= 3, said
        assert all(one != two for one, two in itertools.pairwise(said)), said
        assert said[-1] in {panel.verdict.text(), panel.status.text()}
        assert panel.verdict.text() in said
        assert not any(urgent for _m, urgent in heard)
        heard.clear()

        driver.fill_step()
        driver.next()
        assert heard == [
            (
                window.tr_.t("a11y.step", step=wizard.step_count.text(), title=wizard.title.text()),
                False,
            )
        ]
        heard.clear()
        postal = next(e for p, e in wizard.editors.items() if p == "adresse")
        driver._type(postal, "12 rue de l'Œuvray | 5600 | Vannes")  # a four-digit postcode
        driver.settle()
        refusals = [m for m, urgent in heard if urgent]
        assert len(refusals) == 1 and "postal" in refusals[0].lower(), heard
        heard.clear()

        window.inactivity.warn.emit(30)
        window.inactivity.warn.emit(29)
        window.inactivity.warn.emit(28)
        assert heard == [(window.tr_.t("lock.warning", seconds=30), True)]
    finally:
        stop()


def _labelled_by(widget: QWidget) -> list[str]:
    """The texts of what labels ``widget`` for a screen reader (its « labelled by » relation)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    return [
        other.text(QAccessible.Text.Name)
        for other, _relation in interface.relations(QAccessible.RelationFlag.Label)
    ]


def test_questions_say_their_label_and_whether_they_are_required(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("changement_adresse")
    wizard = window.wizard
    driver.fill_step()
    driver.next()  # the address step
    address = wizard.editors["adresse"]
    assert isinstance(address, AddressEditor)
    street, complement = address.edits["ligne"], address.edits["complement"]
    assert _labelled_by(street) == ["Numéro et rue"]
    required, optional = window.tr_.t("wizard.required"), window.tr_.t("wizard.optional")
    assert street.accessibleDescription() == required
    assert complement.accessibleDescription() == optional
    # An error replaces the description while it stands, then gives it back.
    driver._type(address, "12 rue de l'Œuvray | 5600 | Vannes")
    driver.settle()
    postal = address.edits["code_postal"]
    assert "postal" in postal.accessibleDescription().lower()
    driver._type(address, "12 rue de l'Œuvray | 56000 | Vannes")
    driver.settle()
    assert postal.accessibleDescription() == required


def _tree(interface: QAccessibleInterface | None) -> list[QAccessibleInterface]:
    found: list[QAccessibleInterface] = []
    if interface is not None:
        found.append(interface)
        for index in range(interface.childCount()):
            found += _tree(interface.child(index))
    return found


def test_the_on_screen_keyboard_is_named_and_holds_no_stray_text_box(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("changement_adresse")
    qtbot.waitUntil(lambda: window.keyboard is not None, timeout=10_000)
    keyboard = window.keyboard
    assert keyboard is not None
    box = window.wizard.editors["nom"].findChild(QLineEdit)
    assert box is not None
    box.setFocus()
    qtbot.waitUntil(keyboard.isVisible, timeout=10_000)
    interfaces = _tree(QAccessible.queryAccessibleInterface(keyboard))
    assert interfaces[0].text(QAccessible.Text.Name) == "Clavier à l'écran"
    # Its hidden copy of the field (full-screen mode's) was an unnamed text box.
    assert not [i for i in interfaces[1:] if i.role() == QAccessible.Role.EditableText]
    window.tr_.set_language("ar")
    assert interfaces[0].text(QAccessible.Text.Name) == window.tr_.t("a11y.keyboard")


def test_enter_presses_the_focused_button_as_space_does(qtbot: QtBot) -> None:
    # The Xvfb walk of 2026-12-05: Enter on « Lire la carte » did nothing (Qt presses a button
    # with Enter only in a dialog).
    install()
    page = QWidget()
    layout = QVBoxLayout(page)
    read = QPushButton("Lire la carte")
    off = QPushButton("Éteint")
    off.setEnabled(False)
    box = QLineEdit()
    for widget in (read, off, box):
        layout.addWidget(widget)
    pressed: list[str] = []
    read.clicked.connect(lambda: pressed.append("lire"))
    off.clicked.connect(lambda: pressed.append("éteint"))
    qtbot.addWidget(page)
    page.show()
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=3_000)

    read.setFocus()
    QTest.keyClick(read, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pressed == ["lire"], timeout=1_000)
    QTest.keyClick(read, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    qtbot.waitUntil(lambda: pressed == ["lire", "lire"], timeout=1_000)
    box.setFocus()
    QTest.keyClick(box, Qt.Key.Key_Return)  # a box's Enter is the box's
    off.setFocus()
    QTest.keyClick(off, Qt.Key.Key_Return)
    qtbot.wait(300)  # animateClick's delay
    assert pressed == ["lire", "lire"]
