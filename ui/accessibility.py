"""What a screen reader and a keyboard user get: roles Qt cannot be told by a property, field
errors set on the field itself, and the Tab order of a screen in its reading order.

Qt gives a ``QLabel`` the role of static text and a checkable ``QPushButton`` that of a push
button. Two kinds of widget need more (EN 301 549, WCAG 2.1 « Info and Relationships »):

- a screen's title (``QLabel#title``) is a heading: a screen reader lists and jumps to it;
- one answer among several (the big toggle buttons of a choice, marked by :func:`single_choice`)
  is a radio button, checked or not.

:func:`install` adds a factory of accessible interfaces for those two (Qt asks it first; for any
other widget it answers None and Qt's own interface is used). It costs nothing until an
assistive technology, or a test, asks for an interface.

:func:`order_tabs` puts a screen's Tab order in its reading order (the order of its layouts:
title, content, then the row of « Retour » / « Suivant »): Qt's order is the order the widgets
were created in, and a page built after its buttons (a step's questions) came after them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from PySide6.QtCore import QEvent, QLocale, QObject, Qt
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAccessibleWidget,
    QApplication,
    QLabel,
    QLayout,
    QPlainTextEdit,
    QScrollArea,
    QTabWidget,
    QWidget,
)

#: The dynamic property that marks a checkable button as one answer among several.
SINGLE_CHOICE = "single_choice"

_installed: list[bool] = []
_enter: list[QObject] = []
#: Who else hears the announcements (tests; the bridge to AT-SPI hears them through Qt).
_listeners: list[Callable[[QObject, str, bool], None]] = []


class _Heading(QAccessibleWidget):
    """A screen's title, as a heading."""

    def __init__(self, label: QLabel) -> None:
        super().__init__(label, QAccessible.Role.Heading)
        self._label = label

    def text(self, kind: QAccessible.Text) -> str:
        if kind == QAccessible.Text.Name:
            return self._label.accessibleName() or self._label.text()
        return super().text(kind)


class _Radio(QAccessibleWidget):
    """One answer of a single choice, as a radio button: pressed, it is the answer."""

    def __init__(self, button: QAbstractButton) -> None:
        super().__init__(button, QAccessible.Role.RadioButton)
        self._button = button

    def text(self, kind: QAccessible.Text) -> str:
        if kind == QAccessible.Text.Name:
            return self._button.accessibleName() or self._button.text()
        return super().text(kind)

    def state(self) -> QAccessible.State:
        state = super().state()
        state.checkable = True
        state.checked = self._button.isChecked()
        return state

    def actionNames(self) -> list[str]:
        return ["Press"]

    def doAction(self, name: str) -> None:
        if name == "Press":
            self._button.click()


def _factory(_key: str, obj: object) -> QAccessibleWidget | None:
    if isinstance(obj, QLabel) and obj.objectName() == "title":
        return _Heading(obj)
    if isinstance(obj, QAbstractButton) and obj.property(SINGLE_CHOICE):
        return _Radio(obj)
    return None


class _EnterPresses(QObject):
    """Enter presses the button that has the focus, as Space does: Qt presses a button with
    Enter only in a dialog, and a keyboard user at the counter (or a person used to the web's
    buttons) presses Enter on « Lire la carte » and sees nothing happen (the Xvfb walk of
    2026-12-05). A key held down presses once."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(watched, QAbstractButton)
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers()
            in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            and watched.hasFocus()
        ):
            if not event.isAutoRepeat() and watched.isEnabled():
                watched.animateClick()
            return True
        return False


def install() -> None:
    """Give titles and single choices their roles, and have Enter press the focused button
    (once per process, once the application exists)."""
    if not _installed:
        _installed.append(True)
        QAccessible.installFactory(_factory)
        app = QApplication.instance()
        if app is not None:
            _enter.append(_EnterPresses(app))  # the application owns it, and so it lives
            app.installEventFilter(_enter[0])


def announce(source: QObject, message: str, *, urgent: bool = False) -> None:
    """Have a screen reader say ``message`` once, without moving the focus (an ARIA live
    region's announcement): a step reached, a card read's stage and verdict, an error, the
    inactivity warning. ``urgent`` interrupts what it is saying (an error, the warning);
    otherwise it waits its turn. Nothing is sent for an empty message."""
    message = message.strip()
    if not message:
        return
    event = QAccessibleAnnouncementEvent(source, message)
    event.setPoliteness(
        QAccessible.AnnouncementPoliteness.Assertive
        if urgent
        else QAccessible.AnnouncementPoliteness.Polite
    )
    QAccessible.updateAccessibility(event)  # nothing happens while no reader is listening
    for listener in _listeners:
        listener(source, message, urgent)


def listen(listener: Callable[[QObject, str, bool], None]) -> Callable[[], None]:
    """Hear every announcement as ``listener(source, message, urgent)``; returns how to stop."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


class LiveLabel(QLabel):
    """A message line a screen reader hears when it says something new (ARIA's ``live``
    region): an error (style « error ») interrupts, anything else waits its turn. The same
    words set again (a screen built anew) are not said twice."""

    #: Whether what it says is announced (a subclass may be a plain message line).
    live = True

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self._said = text

    def setText(self, text: str) -> None:
        super().setText(text)
        if self.live and text and text != self._said:
            announce(self, text, urgent=self.objectName() == "error")
        self._said = text

    def clear(self) -> None:
        super().clear()
        self._said = ""


def in_french(widget: QWidget) -> None:
    """Mark ``widget`` as French whatever the screen's language (the mandate's text, which is
    signed in French): a screen reader reads it with a French voice. Qt's accessible
    attributes give a widget's own locale, which a set one keeps when the window's changes."""
    widget.setLocale(QLocale("fr_FR"))


def single_choice(button: QAbstractButton) -> None:
    """Mark ``button`` as one answer among several (a radio button to a screen reader)."""
    button.setProperty(SINGLE_CHOICE, True)


#: The dynamic property keeping what a field says of itself when it has no error to say.
_ABOUT = "a11y_about"


def describe(widget: QWidget, about: str) -> None:
    """What ``widget`` says after its name (« Obligatoire · Numéro et rue, code postal… »),
    while it has no error to say (an error replaces it, then gives it back)."""
    widget.setProperty(_ABOUT, about)
    if not widget.property("invalid"):
        widget.setAccessibleDescription(about)


def set_invalid(widget: QWidget, message: str | None) -> None:
    """Mark ``widget`` (a text box) as refused with ``message``, or no longer (None / "").

    The message becomes the field's accessible description (read with the field, where the
    person is, not in a label apart), and ``invalid`` the property the style sheet draws a red
    border for (``QLineEdit[invalid="true"]``): on the field, not on its container.
    """
    invalid = bool(message)
    if bool(widget.property("invalid")) != invalid:
        widget.setProperty("invalid", invalid)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
    widget.setAccessibleDescription(message or str(widget.property(_ABOUT) or ""))


def _reading_order(layout: QLayout, into: list[QWidget]) -> None:
    for index in range(layout.count()):
        item = layout.itemAt(index)
        if item is None:
            continue
        widget, inner = item.widget(), item.layout()
        if widget is not None:
            _widget_order(widget, into)
        elif inner is not None:
            _reading_order(inner, into)


def _widget_order(widget: QWidget, into: list[QWidget]) -> None:
    if widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
        into.append(widget)
    if isinstance(widget, QScrollArea):
        content = widget.widget()
        if content is not None:
            _widget_order(content, into)
        return
    if isinstance(widget, QTabWidget):
        page = widget.currentWidget()
        if page is not None:
            _widget_order(page, into)
        return
    if isinstance(widget, QPlainTextEdit | QAbstractButton):
        return  # its own parts (viewport, icon) are not stops
    layout = widget.layout()
    if layout is not None:
        _reading_order(layout, into)


def reading_order(root: QWidget) -> list[QWidget]:
    """The widgets of ``root`` a Tab can stop on, in the order of its layouts."""
    found: list[QWidget] = []
    layout = root.layout()
    if layout is not None:
        _reading_order(layout, found)
    return found


def order_tabs(root: QWidget) -> None:
    """Put the Tab order of ``root``'s widgets in their reading order."""
    stops = reading_order(root)
    for before, after in pairwise(stops):
        QWidget.setTabOrder(before, after)
