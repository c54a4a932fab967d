"""The wizard at the counter, driven with real taps and keys: a tap on « Suivant » right after
typing, the keyboard's Enter, the missing answers pointed out, a page (of questions or of
documents) that stays where it was, and a window that never grows past the screen.

Taps are real mouse presses and releases on the widgets (QTest), keys are real key events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk.dossiers.service import AnswerResult
from tests.support import fill
from tests.ui.driver import Driver
from ui.main_window import MainWindow
from ui.widgets.fields import ChoiceEditor, FieldEditor, TextEditor

LEFT = Qt.MouseButton.LeftButton


def _tap(qtbot: QtBot, widget: QWidget) -> None:
    """A finger down then up on ``widget``, with no turn of the event loop in between."""
    qtbot.mousePress(widget, LEFT)  # type: ignore[no-untyped-call]
    qtbot.mouseRelease(widget, LEFT)  # type: ignore[no-untyped-call]


def _type(qtbot: QtBot, text: str) -> None:
    """Keys typed into whatever has the focus (nowhere if nothing has it)."""
    target = QApplication.focusWidget()
    if target is not None:
        qtbot.keyClicks(target, text)  # type: ignore[no-untyped-call]


def _edit(window: MainWindow, path: str) -> QLineEdit:
    editor = window.wizard.editors[path]
    assert isinstance(editor, TextEditor)
    return editor.edit


def _keyboard_up(window: MainWindow) -> bool:
    return window.keyboard is not None and window.keyboard.isVisible()


def _open_step(driver: Driver, path: str) -> None:
    """Answer the steps before the one that asks ``path`` (as an agent would), and stop there."""
    wizard = driver.w.wizard
    for _ in range(12):
        if path in wizard.editors:
            return
        driver.fill_step()
        driver.next()
    raise AssertionError(f"no step asks {path}")


@pytest.fixture
def held_saves(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Answers reach the store only once the event is set: a save still running, for sure,
    whatever the machine's speed (the UI thread waits on nothing)."""
    gate = threading.Event()
    gate.set()
    answer: Callable[..., AnswerResult] = window.services.dossiers.answer

    def held(*args: object, **kwargs: object) -> AnswerResult:  # worker thread
        gate.wait(timeout=15)
        return answer(*args, **kwargs)

    monkeypatch.setattr(window.services.dossiers, "answer", held)
    yield gate
    gate.set()


def _on_the_deceased_step(qtbot: QtBot, window: MainWindow) -> Driver:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    _open_step(driver, "defunt_nom")
    qtbot.waitUntil(lambda: window.keyboard is not None, timeout=5_000)
    window.activateWindow()
    return driver


def test_a_tap_on_next_right_after_typing_moves_on_once_the_answer_is_saved(
    qtbot: QtBot, window: MainWindow, held_saves: threading.Event
) -> None:
    driver = _on_the_deceased_step(qtbot, window)
    wizard = window.wizard
    driver.answer("defunt_nom", "Martin")
    driver.answer("defunt_prenoms", "Paul")
    date = _edit(window, "date_deces")
    qtbot.mouseClick(date, LEFT)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: _keyboard_up(window), timeout=5_000)
    _type(qtbot, "02/01/2024")
    title = wizard.title.text()

    held_saves.clear()  # the date's save (started by the press on « Suivant ») is still running
    _tap(qtbot, wizard.next_button)
    assert wizard.next_button.isEnabled()  # never disabled under the finger
    assert wizard.title.text() == title  # not before the answer is stored
    qtbot.waitUntil(lambda: not _keyboard_up(window), timeout=5_000)  # « Suivant » puts it away
    held_saves.set()
    qtbot.waitUntil(lambda: wizard.title.text() != title, timeout=5_000)
    driver.settle()
    assert "immatriculation" in wizard.editors  # on to « Le véhicule »
    assert wizard.answers["date_deces"] == "2024-01-02"
    assert not _keyboard_up(window)


def test_keys_typed_after_a_tap_on_next_never_replace_an_answer(
    qtbot: QtBot, window: MainWindow, held_saves: threading.Event
) -> None:
    driver = _on_the_deceased_step(qtbot, window)
    wizard = window.wizard
    for path, text in (("defunt_nom", "Martin"), ("defunt_prenoms", "Paul")):
        qtbot.mouseClick(_edit(window, path), LEFT)  # type: ignore[no-untyped-call]
        _type(qtbot, text)
    qtbot.mouseClick(_edit(window, "date_deces"), LEFT)  # type: ignore[no-untyped-call]
    _type(qtbot, "02/01/2024")

    held_saves.clear()
    _tap(qtbot, wizard.next_button)
    # No field took the focus back (with its text selected, for the next key to replace).
    assert not isinstance(QApplication.focusWidget(), QLineEdit)
    _type(qtbot, "Dupont")  # the person goes on typing, for the next step
    assert _edit(window, "defunt_nom").text() == "Martin"
    assert _edit(window, "defunt_prenoms").text() == "Paul"
    assert _edit(window, "date_deces").text() == "02/01/2024"
    held_saves.set()
    qtbot.waitUntil(lambda: "immatriculation" in wizard.editors, timeout=5_000)
    driver.settle()
    stored = window.services.dossiers.show(wizard.reference).answers
    assert (stored["defunt_prenoms"], stored["date_deces"]) == ("Paul", "2024-01-02")
    assert "dupont" not in str(stored).lower()


def test_enter_goes_to_the_next_question_then_to_next_without_moving_on(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = _on_the_deceased_step(qtbot, window)
    wizard = window.wizard
    title = wizard.title.text()
    paths = ("defunt_nom", "defunt_prenoms", "date_deces")
    name, first_names, date = (_edit(window, path) for path in paths)
    qtbot.mouseClick(name, LEFT)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: _keyboard_up(window), timeout=5_000)
    _type(qtbot, "Martin")
    qtbot.keyClick(name, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    assert first_names.hasFocus()
    assert not first_names.selectedText()
    _type(qtbot, "Paul")
    qtbot.keyClick(first_names, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    assert date.hasFocus()
    driver.settle()
    assert _keyboard_up(window)  # still typing: the keyboard stays
    _type(qtbot, "02/01/2024")
    # After the step's last question: « Suivant », and the keyboard goes; the step stays.
    qtbot.keyClick(date, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    assert wizard.next_button.hasFocus()
    qtbot.waitUntil(lambda: not _keyboard_up(window), timeout=5_000)
    driver.settle()
    assert wizard.title.text() == title
    assert {path: wizard.answers[path] for path in paths} == {
        "defunt_nom": "Martin",
        "defunt_prenoms": "Paul",
        "date_deces": "2024-01-02",
    }
    # Before a question answered by a tap, Enter leads to its buttons (the keyboard goes).
    _tap(qtbot, wizard.next_button)
    driver.settle()
    make = _edit(window, "marque")
    qtbot.mouseClick(make, LEFT)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: _keyboard_up(window), timeout=5_000)
    _type(qtbot, "Renault")
    qtbot.keyClick(make, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    # (succession v2 asks the date of first registration next, then the kind of vehicle)
    first_registration = _edit(window, "date_premiere_immatriculation")
    assert first_registration.hasFocus()
    _type(qtbot, "01/03/2015")
    qtbot.keyClick(first_registration, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    kind = wizard.editors["genre_vehicule"]
    assert isinstance(kind, ChoiceEditor)
    assert kind.buttons["voiture"].hasFocus()
    qtbot.waitUntil(lambda: not _keyboard_up(window), timeout=5_000)


def _marked(editor: FieldEditor) -> bool:
    edits = editor.findChildren(QLineEdit)
    return editor.message.objectName() == "error" and all(e.property("invalid") for e in edits)


def test_next_marks_the_missing_answers_warns_once_then_moves_on(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = _on_the_deceased_step(qtbot, window)
    wizard = window.wizard
    total = len(wizard._steps())
    assert wizard.step_count.isVisible()
    assert wizard.step_count.text() == f"Étape 3 sur {total}"
    driver.answer("defunt_nom", "Martin")
    title = wizard.title.text()
    _tap(qtbot, wizard.next_button)
    driver.settle()
    assert wizard.title.text() == title  # warned first
    for path in ("defunt_prenoms", "date_deces"):
        editor = wizard.editors[path]
        assert _marked(editor), path
        assert editor.message.text() == "Réponse obligatoire"
    assert not _marked(wizard.editors["defunt_nom"])
    notice = wizard.notice.text()
    assert wizard.notice.isVisible()
    assert "obligatoires" in notice and "« Suivant »" in notice and "plus tard" in notice
    driver.screenshot("15-réponses-manquantes")
    window.tr_.set_language("ar")
    driver.settle()
    # The marks follow the language (the page is built again in Arabic).
    assert wizard.step_count.text() == f"الخطوة 3 من {total}"
    assert wizard.editors["date_deces"].message.text() == "إجابة إلزامية"
    assert "«التالي»" in wizard.notice.text()
    window.tr_.set_language("fr")
    driver.settle()
    # An answer given takes its mark away; the others stay.
    driver.answer("defunt_prenoms", "Paul")
    assert not _marked(wizard.editors["defunt_prenoms"])
    assert _marked(wizard.editors["date_deces"])
    # The second tap moves on: the date can be brought later (the review lists it).
    _tap(qtbot, wizard.next_button)
    driver.settle()
    assert "immatriculation" in wizard.editors
    assert wizard.step_count.text() == f"Étape 4 sur {total}"
    assert not wizard.notice.isVisible()
    assert "date_deces" in {m.path for m in window.services.dossiers.show(wizard.reference).missing}


def test_a_group_short_of_items_is_pointed_out_in_its_box(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    _open_step(driver, "autres_heritiers")
    wizard = window.wizard
    driver.answer("autres_heritiers", "oui")  # the co-heirs' box appears, with none yet

    def said() -> list[str]:
        page = wizard.scroll_area.widget()
        assert page is not None
        return [label.text() for label in page.findChildren(QLabel) if label.isVisible()]

    assert not any("au moins 1" in text for text in said())
    _tap(qtbot, wizard.next_button)
    driver.settle()
    assert wizard.notice.isVisible()
    assert "« Cohéritiers » : il en faut au moins 1 (actuellement 0)." in said()
    driver.add_item("coheritiers")
    driver.answer("coheritiers[0].coheritier_nom", "Martin")
    assert not any("au moins 1" in text for text in said())  # one given: no longer said


def test_the_first_missing_answer_is_brought_into_view(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    wizard = window.wizard
    viewport = wizard.scroll_area.viewport()

    def in_view(widget: QWidget) -> bool:
        return viewport.rect().contains(widget.rect().translated(widget.mapTo(viewport, QPoint())))

    first = wizard.editors["piece_identite"]
    assert not in_view(first.message)  # below the card reader's panel
    _tap(qtbot, wizard.next_button)
    driver.settle()
    assert wizard.notice.isVisible()
    assert _marked(first)
    assert in_view(first.message)  # « Réponse obligatoire », where the eye can find it


def test_a_choice_that_shows_a_question_keeps_the_page_where_it_was(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    _open_step(driver, "mode_contact")
    wizard = window.wizard
    for _ in range(4):  # the largest text: the step is taller than the screen
        window.bigger.click()
    driver.settle()
    bar = wizard.scroll_area.verticalScrollBar()
    choice = wizard.editors["mode_contact"]
    assert isinstance(choice, ChoiceEditor)
    phone = choice.buttons["telephone"]
    page = wizard.scroll_area.widget()
    assert page is not None
    bar.setValue(phone.mapTo(page, phone.rect().topLeft()).y() - 10)
    scrolled = bar.value()
    assert scrolled > 0, "the step must scroll for this test to mean something"
    _tap(qtbot, phone)
    driver.settle()
    assert wizard.scroll_area.widget() is not page  # built again: the phone question appears
    assert "telephone_portable" in wizard.editors
    assert bar.value() >= scrolled  # never back to the top: at most down to the new question
    choice = wizard.editors["mode_contact"]
    assert isinstance(choice, ChoiceEditor)
    assert choice.buttons["telephone"].isChecked()
    # The question the choice asks is next: the focus is in it, on screen, to type at once.
    number = wizard.editors["telephone_portable"]
    focused = QApplication.focusWidget()
    assert focused is not None and number.isAncestorOf(focused)
    viewport = wizard.scroll_area.viewport()
    top = focused.mapTo(viewport, focused.rect().topLeft()).y()
    assert top >= 0 and top + focused.height() <= viewport.height()


def test_the_documents_list_stays_where_it_was_after_an_attachment(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    services = window.services
    reference = services.dossiers.create("succession", training=True).reference
    fill(services.dossiers, reference, services.catalog.latest("succession"))
    documents = window.documents
    documents.open(reference)
    window.stack.setCurrentWidget(documents)
    driver.settle()
    bar = documents.scroll_area.verticalScrollBar()
    bar.setValue(bar.maximum())  # down to the last document
    scrolled = bar.value()
    assert scrolled > 0, "the list must scroll for this test to mean something"
    last = list(documents.rows)[-1]
    _tap(qtbot, documents.rows[last])  # « Joindre »: the scanner's files, in place of the list
    driver.settle()
    scan = documents.findChild(QToolButton, "scan-0")
    assert scan is not None
    _tap(qtbot, scan)
    driver.settle()
    driver.settle()
    assert not documents.thumbs[last].pixmap().isNull()  # attached, the list built again
    assert bar.value() == scrolled  # and shown where it was left


def test_the_window_never_grows_past_the_screen_after_a_wrong_can(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    qtbot.waitUntil(lambda: window.keyboard is not None, timeout=5_000)
    window.activateWindow()
    panel = window.wizard.identity_panel
    assert panel is not None
    qtbot.mouseClick(panel.can, LEFT)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: _keyboard_up(window), timeout=5_000)
    _type(qtbot, "123455")
    _tap(qtbot, panel.read_button)
    driver.settle()
    # The card refused the CAN (or, when another run holds the virtual reader, there is no
    # card): either way an error is on screen, under the field.
    assert panel.status.objectName() == "error" and panel.status.text()
    qtbot.waitUntil(lambda: not _keyboard_up(window), timeout=5_000)
    qtbot.mouseClick(panel.can, LEFT)  # type: ignore[no-untyped-call]  # to type it again
    qtbot.waitUntil(lambda: _keyboard_up(window), timeout=5_000)
    driver.settle()
    screen = window.screen().availableGeometry()
    assert window.height() <= screen.height()
    assert (window.width(), window.height()) == (1280, 800)
    # The keyboard's bottom row and the step's buttons are inside the window.
    keyboard = window.keyboard
    assert keyboard is not None
    assert keyboard.mapTo(window, keyboard.rect().bottomLeft()).y() < window.height()
    next_button: QPushButton = window.wizard.next_button
    keyboard_top = keyboard.mapTo(window, keyboard.rect().topLeft()).y()
    assert next_button.mapTo(window, next_button.rect().bottomLeft()).y() < keyboard_top
