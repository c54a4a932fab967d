"""Drives the kiosk window as an agent's fingers would: buttons, text boxes, the keypad."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from kiosk.demarches import FieldError, parse_value
from tests.support import candidates
from tests.ui.conftest import SCREENSHOTS
from ui.main_window import MainWindow
from ui.widgets.fields import (
    AddressEditor,
    ChoiceEditor,
    FieldEditor,
    IdentityEditor,
    LongTextEditor,
    TextEditor,
)


class Driver:
    """One agent at one kiosk window."""

    def __init__(self, qtbot: QtBot, window: MainWindow) -> None:
        self.qtbot = qtbot
        self.w = window

    def settle(self) -> None:
        """Wait until no background job is running or waiting to report."""
        self.qtbot.waitUntil(lambda: self.w.runner.idle, timeout=15_000)
        QApplication.processEvents()

    def sign_in(self, pin: str = "0000") -> None:
        for digit in pin:
            self._button(self.w.signin, digit).click()
        self._button(self.w.signin, "OK").click()
        self.settle()

    def _button(self, parent: object, text: str) -> QPushButton:
        for button in self.w.findChildren(QPushButton):
            if button.text() == text and button.isVisible():
                return button
        raise AssertionError(f"no visible button {text!r}")

    def start(self, demarche_id: str) -> str:
        self.w.home.tiles[demarche_id].click()
        self.settle()
        self.settle()
        assert self.w.stack.currentWidget() is self.w.wizard
        return self.w.wizard.reference

    def answer(self, path: str, raw: str) -> None:
        editor = self.w.wizard.editors[path]
        self._type(editor, raw)
        self.settle()
        editor = self.w.wizard.editors.get(path, editor)
        assert editor.message.objectName() != "error", f"{path}: {editor.message.text()}"

    def _type(self, editor: FieldEditor, raw: str) -> None:
        if isinstance(editor, ChoiceEditor):
            editor.buttons[raw].click()
        elif isinstance(editor, IdentityEditor):
            nature, number = (part.strip() for part in raw.split("|"))
            editor.buttons[nature].click()
            editor.number.setText(number)
            editor.number.editingFinished.emit()
        elif isinstance(editor, AddressEditor):
            street, postcode, town = (part.strip() for part in raw.split("|"))
            editor.edits["ligne"].setText(street)
            editor.edits["code_postal"].setText(postcode)
            editor.edits["commune"].setText(town)
            editor.edits["commune"].editingFinished.emit()
        elif isinstance(editor, LongTextEditor):
            editor.edit.setPlainText(raw)
            QApplication.sendEvent(editor.edit, QFocusEvent(QEvent.Type.FocusOut))
        else:
            assert isinstance(editor, TextEditor)
            editor.edit.setText(raw)
            editor.edit.editingFinished.emit()

    def fill_step(self, overrides: dict[str, str] | None = None) -> None:
        """Answer every visible question of the step not answered yet (mandatory or overridden)."""
        overrides = overrides or {}
        for _ in range(40):
            pending = [
                (path, editor)
                for path, editor in self.w.wizard.editors.items()
                if path not in self.w.wizard.answers
                and (editor.field.required or path in overrides)
            ]
            if not pending:
                return
            path, editor = pending[0]
            self.answer(path, overrides.get(path) or self._valid(editor))
        raise AssertionError("the step never settled")

    def _valid(self, editor: FieldEditor) -> str:
        for raw in candidates(editor.field):
            try:
                parse_value(editor.field, raw)
            except FieldError:
                continue
            return raw
        raise AssertionError(f"no valid sample for {editor.path}")

    def add_item(self, group_id: str) -> None:
        button = self.w.findChild(QPushButton, f"add-{group_id}")
        assert button is not None, f"no add button for {group_id}"
        button.click()
        QApplication.processEvents()

    def next(self) -> None:
        self.w.wizard.next_button.click()
        self.settle()

    def snap(self, name: str) -> Path:
        """Save the window as it is, in the current language."""
        self.qtbot.wait(100)  # layout and the keyboard's QML settled, as a person would see it
        folder = SCREENSHOTS / self.w.tr_.lang
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        assert self.w.grab().save(str(path))
        return path

    def screenshot(self, name: str) -> list[Path]:
        """Save the window in French and in Arabic; return the files (to look at)."""
        saved = []
        for lang in ("fr", "ar"):
            self.w.tr_.set_language(lang)
            self.settle()
            folder = SCREENSHOTS / lang
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{name}.png"
            assert self.w.grab().save(str(path))
            saved.append(path)
        self.w.tr_.set_language("fr")
        self.settle()
        return saved
