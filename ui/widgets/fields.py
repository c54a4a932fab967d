"""One editor per field type of the procedure definitions, built for fingers.

An editor shows the question, its help, and an error line under it; it emits ``submitted`` with
the raw text to save (the wizard saves it off the UI thread and reports back with ``set_error``
or ``set_saved``, or ``show_rejected`` to put a refused answer back after a language switch;
``set_missing`` marks a mandatory question left empty). Choices and yes/no are big toggle buttons:
no drop-down lists on a touchscreen. ``focus_stops`` says where the keyboard's Enter leads. Every
answer is typed in Latin letters and digits whatever the screen's language: each text box says so
in its input-method hints, and the on-screen keyboard shows a Latin layout, or its digit pad, for
it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.demarches import Choice, Field, FieldType, JSONValue
from kiosk.demarches.validators import IDENTITY_NATURES, identity_nature_label
from ui.accessibility import announce, describe, set_invalid, single_choice
from ui.i18n import Translator
from ui.widgets.tile import WrappingButton

#: Data for a French record (a name, a place, a street): Latin, and no word suggestions.
DATA_HINTS = Qt.InputMethodHint.ImhLatinOnly | Qt.InputMethodHint.ImhNoPredictiveText
#: Codes and numbers printed in capitals (plates, VIN, document numbers).
CODE_HINTS = DATA_HINTS | Qt.InputMethodHint.ImhPreferUppercase
#: Numbers only (postcode): the keyboard's digit pad, with Western digits.
DIGITS_HINTS = DATA_HINTS | Qt.InputMethodHint.ImhDigitsOnly
_HINTS: dict[FieldType, Qt.InputMethodHint] = {
    FieldType.PHONE: DATA_HINTS | Qt.InputMethodHint.ImhDialableCharactersOnly,
    FieldType.POSTCODE: DIGITS_HINTS,
    # Digits first, with the « / » of JJ/MM/AAAA a key away (the digit pad has none).
    FieldType.DATE: DATA_HINTS | Qt.InputMethodHint.ImhPreferNumbers,
    FieldType.PLATE: CODE_HINTS,
    FieldType.PLATE_SIV: CODE_HINTS,
    FieldType.PLATE_FNI: CODE_HINTS,
    FieldType.VIN: CODE_HINTS,
    FieldType.EPHOTO: CODE_HINTS,
    FieldType.EMAIL: DATA_HINTS | Qt.InputMethodHint.ImhEmailCharactersOnly,
}
_PLACEHOLDERS: dict[FieldType, str] = {
    FieldType.PLATE_SIV: "AB-123-CD",
    FieldType.PLATE_FNI: "1234 AB 56",
    FieldType.PLATE: "AB-123-CD / 1234 AB 56",
    FieldType.PHONE: "06 12 34 56 78",
    FieldType.POSTCODE: "56000",
}
_COMPOSITE = frozenset({FieldType.ADDRESS, FieldType.IDENTITY_DOCUMENT, FieldType.DOCUMENT})
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class OnScreen:
    """What an editor shows, typed or picked, saved or not (see :meth:`FieldEditor.on_screen`)."""

    texts: tuple[str, ...]
    checked: tuple[bool, ...]
    last: str


class FieldEditor(QWidget):
    """The question, the input, and the message line for one answer path."""

    submitted = Signal(str, str)  # path, raw text ("" clears the answer)

    # Defined by each concrete editor: build the input, and show a stored answer.
    _build: Callable[[QVBoxLayout], None]
    set_value: Callable[[JSONValue], None]
    #: The raw text last handed to the wizard (or shown from storage): leaving the field unchanged
    #: sends nothing.
    _last = ""

    def __init__(self, path: str, field: Field, tr: Translator, parent: QWidget | None = None):
        super().__init__(parent)
        self.path = path
        self.field = field
        self._tr = tr
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 6)
        marker = tr.t("wizard.required") if field.required else tr.t("wizard.optional")
        self.label = QLabel(f"{field.label}  ·  {marker}")
        self.label.setWordWrap(True)
        self.label.setObjectName("subtitle")
        layout.addWidget(self.label)
        if field.help:
            help_label = QLabel(field.help)
            help_label.setWordWrap(True)
            help_label.setObjectName("muted")
            layout.addWidget(help_label)
        self.body = QWidget()
        layout.addWidget(self.body)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("saved")
        layout.addWidget(self.message)
        self.setAccessibleName(field.label)
        self._build(QVBoxLayout(self.body))
        # For a screen reader: the question's label is the first box's (« labelled by »), and
        # each box says whether an answer is required and what the help says (Qt has no
        # « required » state; the description is read after the name).
        boxes = self._boxes()
        if len(boxes) == 1:  # several (an address): each has a caption of its own
            self.label.setBuddy(boxes[0])
        about = " · ".join(part for part in (marker, field.help) if part)
        for box in boxes:
            if box.property("a11y_about") is None:  # not described by its editor
                describe(box, about)

    def focus_stops(self) -> list[QWidget]:
        """Where the focus goes in this question, in order, when Enter leaves the one before:
        its text boxes, or the first of its buttons when it is answered by a tap."""
        stops: list[QWidget] = [*self.findChildren(QLineEdit), *self.findChildren(QPlainTextEdit)]
        if not stops:
            stops.extend(self.findChildren(QPushButton)[:1])
        return stops

    # -- feedback from the wizard -----------------------------------------------------------
    def set_error(self, message: str | None) -> None:
        """Show the validator's message beside the field (or clear it); a new one is heard."""
        if message and message != self.message.text():
            announce(self, message, urgent=True)
        self._show_message(message, error=bool(message))
        self.setProperty("invalid", bool(message))

    def set_missing(self, message: str) -> None:
        """Mark a mandatory question left empty (« Réponse obligatoire ») until it is answered.

        Unlike a refused answer (``invalid``), it does not keep the person on the step.
        """
        self._show_message(message, error=True)

    def _show_message(self, message: str | None, *, error: bool) -> None:
        self.message.setObjectName("error" if error else "saved")
        self.message.setText(message or "")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        # On the field itself: the text boxes' red border (the style sheet's
        # ``[invalid="true"]``) and, for a screen reader, the message as their description.
        for edit in self._boxes():
            set_invalid(edit, message if error else None)
        # A choice says it with its answers (it has no border of its own to draw red).
        for button in self.body.findChildren(QPushButton):
            button.setAccessibleDescription((message or "") if error else "")

    def show_rejected(self, raw: str, message: str) -> None:
        """Show again an answer the validator refused (it was never saved), with its message.

        The wizard rebuilds its editors when the language changes; this puts back what the person
        typed, so the message (now in the new language) still speaks of what is on screen.
        """
        value: JSONValue = raw
        if self.field.type in _COMPOSITE:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
        self.set_value(value)
        self.set_error(message)

    def on_screen(self) -> OnScreen:
        """What the person sees in this editor, typed or picked, saved or not.

        The wizard rebuilds its editors when the language changes; :meth:`put_back` gives the
        new editor of the same field (same boxes and buttons, in the same order) what this one
        showed, so a language switch loses nothing typed, not even a word not yet saved.
        """
        return OnScreen(
            tuple(
                box.text() if isinstance(box, QLineEdit) else box.toPlainText()
                for box in self._boxes()
            ),
            tuple(button.isChecked() for button in self.body.findChildren(QPushButton)),
            self._last,
        )

    def put_back(self, shown: OnScreen) -> None:
        """Show what another editor of the same field showed (:meth:`on_screen`), sending nothing:
        text not saved yet is still sent when the person leaves the box."""
        for box, text in zip(self._boxes(), shown.texts, strict=False):
            if isinstance(box, QLineEdit):
                box.setText(text)
            else:
                box.setPlainText(text)
        for button, checked in zip(
            self.body.findChildren(QPushButton), shown.checked, strict=False
        ):
            button.setChecked(checked)
        self._last = shown.last

    def _boxes(self) -> list[QLineEdit | QPlainTextEdit]:
        return [
            w for w in self.body.findChildren(QWidget) if isinstance(w, QLineEdit | QPlainTextEdit)
        ]

    def set_saved(self) -> None:
        """Confirm the answer is stored."""
        self.set_error(None)
        self.message.setText("✓ " + self._tr.t("wizard.saved"))

    def _emit(self, raw: str) -> None:
        self.message.setText(self._tr.t("wizard.saving"))
        self.submitted.emit(self.path, raw)


class TextEditor(FieldEditor):
    """Free text, dates, plates, phone numbers, codes: a line edit saved when left or on Enter."""

    def _build(self, layout: QVBoxLayout) -> None:
        self.edit = QLineEdit()
        self.edit.setAccessibleName(self.field.label)
        self.edit.setInputMethodHints(_HINTS.get(self.field.type, DATA_HINTS))
        if self.field.type is FieldType.DATE:
            self.edit.setPlaceholderText(self._tr.t("wizard.date_placeholder"))
        else:
            self.edit.setPlaceholderText(_PLACEHOLDERS.get(self.field.type, ""))
        self.edit.editingFinished.connect(self._finish)
        self._last = ""
        layout.addWidget(self.edit)

    def _finish(self) -> None:
        text = self.edit.text().strip()
        if text != self._last:
            self._last = text
            self._emit(text)

    def set_value(self, value: JSONValue) -> None:
        text = "" if value is None else str(value)
        if self.field.type is FieldType.DATE and _ISO_DAY.fullmatch(text):
            text = f"{text[8:10]}/{text[5:7]}/{text[0:4]}"  # ISO stored, French shown
        self._last = text
        self.edit.setText(text)


class LongTextEditor(FieldEditor):
    """A free description (cas complexe), saved when it loses focus."""

    def _build(self, layout: QVBoxLayout) -> None:
        self.edit = QPlainTextEdit()
        self.edit.setAccessibleName(self.field.label)
        self.edit.setMinimumHeight(160)
        # Read by the préfecture's agents, in French: Latin, but word suggestions are welcome.
        self.edit.setInputMethodHints(Qt.InputMethodHint.ImhLatinOnly)
        self.edit.installEventFilter(self)
        self._last = ""
        layout.addWidget(self.edit)

    def eventFilter(self, watched: object, event: object) -> bool:
        from PySide6.QtCore import QEvent

        if watched is self.edit and getattr(event, "type", lambda: None)() == QEvent.Type.FocusOut:
            text = self.edit.toPlainText().strip()
            if text != self._last:
                self._last = text
                self._emit(text)
        return False

    def set_value(self, value: JSONValue) -> None:
        self._last = "" if value is None else str(value)
        self.edit.setPlainText(self._last)


class ChoiceEditor(FieldEditor):
    """One big toggle button per choice (yes/no is a choice between two)."""

    def _options(self) -> list[tuple[str, str]]:
        if self.field.type is FieldType.BOOLEAN:
            return [("oui", self._tr.t("wizard.yes")), ("non", self._tr.t("wizard.no"))]
        options: tuple[Choice, ...] = (
            self.field.accepted_kinds
            if self.field.type is FieldType.DOCUMENT
            else self.field.choices
        )
        return [(c.id, c.label) for c in options]

    def _build(self, layout: QVBoxLayout) -> None:
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        options = self._options()
        row: QHBoxLayout | None = QHBoxLayout() if len(options) <= 2 else None
        for key, label in options:
            button = WrappingButton(label)  # a long answer wraps, never cut (2× text)
            button.setCheckable(True)
            single_choice(button)  # one answer among several: a radio button to a screen reader
            button.clicked.connect(lambda _=False, k=key: self._emit(self._raw(k)))
            self.group.addButton(button)
            self.buttons[key] = button
            (row or layout).addWidget(button)
        if row is not None:
            layout.addLayout(row)

    def _raw(self, key: str) -> str:
        if self.field.type is FieldType.DOCUMENT:
            return json.dumps({"nature": key})
        return key

    def set_value(self, value: JSONValue) -> None:
        key: str | None
        if isinstance(value, bool):
            key = "oui" if value else "non"
        elif isinstance(value, dict):
            nature = value.get("nature")
            key = nature if isinstance(nature, str) else None
        else:
            key = value if isinstance(value, str) else None
        for k, button in self.buttons.items():
            button.setChecked(k == key)


class IdentityEditor(FieldEditor):
    """The identity document shown: its kind as big buttons, then its number."""

    def _build(self, layout: QVBoxLayout) -> None:
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QPushButton] = {}
        # Two per row: five labels side by side do not fit (English, large text) and get cut.
        grid = QGridLayout()
        for index, key in enumerate(IDENTITY_NATURES):
            label = identity_nature_label(key, self._tr.lang)
            button = WrappingButton(label)
            button.setCheckable(True)
            single_choice(button)
            button.clicked.connect(self._finish)
            self.group.addButton(button)
            self.buttons[key] = button
            grid.addWidget(button, index // 2, index % 2)
        layout.addLayout(grid)
        number_label = QLabel(self._tr.t("wizard.doc_number"))  # in sight while typing
        layout.addWidget(number_label)
        self.number = QLineEdit()
        number_label.setBuddy(self.number)
        self.number.setAccessibleName(self._tr.t("wizard.doc_number"))
        self.number.setInputMethodHints(CODE_HINTS)
        self.number.editingFinished.connect(self._finish)
        layout.addWidget(self.number)
        self._last = ""

    def _finish(self) -> None:
        nature = next((k for k, b in self.buttons.items() if b.isChecked()), None)
        number = self.number.text().strip()
        if nature is None or not number:
            return  # both are needed
        raw = json.dumps({"nature": nature, "numero": number}, sort_keys=True)
        if raw != self._last:
            self._last = raw
            self._emit(raw)

    def set_value(self, value: JSONValue) -> None:
        if isinstance(value, dict):
            for key, button in self.buttons.items():
                button.setChecked(key == value.get("nature"))
            number = value.get("numero")
            self.number.setText(number if isinstance(number, str) else "")
            self._last = json.dumps(
                {"nature": value.get("nature"), "numero": self.number.text()}, sort_keys=True
            )


class AddressEditor(FieldEditor):
    """Street, complement, postcode and town, saved together once the mandatory ones are in."""

    def _parts(self) -> list[tuple[str, str, bool]]:
        return [
            ("ligne", self._tr.t("wizard.street"), True),
            ("complement", self._tr.t("wizard.complement"), False),
            ("code_postal", self._tr.t("wizard.postcode"), True),
            ("commune", self._tr.t("wizard.town"), True),
        ]

    def _build(self, layout: QVBoxLayout) -> None:
        grid = QGridLayout()
        self.edits: dict[str, QLineEdit] = {}
        self.required_parts = []
        for row, (key, label, required) in enumerate(self._parts()):
            caption = QLabel(label)
            edit = QLineEdit()
            caption.setBuddy(edit)
            edit.setAccessibleName(label)
            describe(edit, self._tr.t("wizard.required" if required else "wizard.optional"))
            edit.setInputMethodHints(DIGITS_HINTS if key == "code_postal" else DATA_HINTS)
            edit.editingFinished.connect(self._finish)
            grid.addWidget(caption, row, 0)
            grid.addWidget(edit, row, 1)
            self.edits[key] = edit
            if required:
                self.required_parts.append(key)
        layout.addLayout(grid)
        self._last = ""

    def _finish(self) -> None:
        values = {k: e.text().strip() for k, e in self.edits.items() if e.text().strip()}
        if not all(k in values for k in self.required_parts):
            return  # wait until every mandatory box is filled
        raw = json.dumps(values, ensure_ascii=False, sort_keys=True)
        if raw != self._last:
            self._last = raw
            self._emit(raw)

    def set_value(self, value: JSONValue) -> None:
        if isinstance(value, dict):
            for key, edit in self.edits.items():
                item = value.get(key)
                edit.setText("" if item is None else str(item))
            self._last = json.dumps(
                {k: e.text().strip() for k, e in self.edits.items() if e.text().strip()},
                ensure_ascii=False,
                sort_keys=True,
            )


def make_editor(path: str, field: Field, tr: Translator) -> FieldEditor:
    """The editor suited to ``field``'s type."""
    if field.type in (FieldType.CHOICE, FieldType.BOOLEAN, FieldType.DOCUMENT):
        return ChoiceEditor(path, field, tr)
    if field.type is FieldType.LONG_TEXT:
        return LongTextEditor(path, field, tr)
    if field.type is FieldType.IDENTITY_DOCUMENT:
        return IdentityEditor(path, field, tr)
    if field.type is FieldType.ADDRESS:
        return AddressEditor(path, field, tr)
    return TextEditor(path, field, tr)
