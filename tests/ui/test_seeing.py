"""What a person with low vision needs to see (WCAG 1.4.11, 2.4.7, 3.3.2): where the focus
is, on filled buttons and text boxes too; the edges of fields and of the signature pad; hints
that stay while typing; a result not drawn in the red of an error."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.ui.driver import Driver
from tests.ui.test_disabled_buttons import contrast
from ui.main_window import MainWindow
from ui.theme import Look, load_fonts, stylesheet
from ui.widgets.signature import SignaturePad


def _edge(widget: QWidget, insets: tuple[int, ...] = (2, 3)) -> Counter[int]:
    """The colours of the rings of pixels ``insets`` in from ``widget``'s edge (its border)."""
    image: QImage = widget.grab().toImage()
    width, height = image.width(), image.height()
    colours: Counter[int] = Counter()
    for inset in insets:
        for x in range(8, width - 8):
            colours[image.pixel(x, inset)] += 1
            colours[image.pixel(x, height - 1 - inset)] += 1
        for y in range(8, height - 8):
            colours[image.pixel(inset, y)] += 1
            colours[image.pixel(width - 1 - inset, y)] += 1
    return colours


def _page(qtbot: QtBot, high_contrast: bool) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget()
    page.setObjectName("screen")
    qtbot.addWidget(page)
    page.setStyleSheet(stylesheet(Look(high_contrast=high_contrast), load_fonts()))
    return page, QVBoxLayout(page)


@pytest.mark.parametrize("high_contrast", [False, True], ids=["normal", "high-contrast"])
@pytest.mark.parametrize("kind", ["primary", "checked", "", "field"])
def test_the_focus_shows_on_every_kind_of_control(
    qtbot: QtBot, kind: str, high_contrast: bool
) -> None:
    page, column = _page(qtbot, high_contrast)
    pair: list[QWidget] = []
    for _ in range(2):
        widget: QWidget
        if kind == "field":
            widget = QLineEdit("Vannes")
        else:
            button = QPushButton("Suivant")
            button.setObjectName(kind if kind == "primary" else "")
            button.setCheckable(kind == "checked")
            button.setChecked(kind == "checked")
            widget = button
        widget.setFixedSize(400, 80)
        column.addWidget(widget)
        pair.append(widget)
    page.show()
    qtbot.waitExposed(page)
    focused, other = pair
    focused.setFocus()
    QApplication.processEvents()
    assert focused.hasFocus()
    ring, plain = _edge(focused), _edge(other)
    # The focused one's edge is drawn in a colour the other's has not (Qt's style sheets
    # ignore ``outline``: there was nothing to see on a filled button or a text box).
    colour = QColor.fromRgb(ring.most_common(1)[0][0])
    assert colour.rgb() not in plain, (kind, colour.name())
    background = QColor("#000000" if high_contrast else "#F4F5F9")
    inside = QColor.fromRgb(
        _edge_inside(focused)
    )  # what the ring is drawn against, one side or the other
    assert max(contrast(colour, background), contrast(colour, inside)) >= 3, colour.name()


@pytest.mark.parametrize("kind", ["primary", "compact", "tile", "", "field"])
def test_taking_the_focus_moves_nothing(qtbot: QtBot, kind: str) -> None:
    """The ring is drawn within the control's own size: a button that grew when pressed moved
    from under the finger (its row is laid out again), and the tap was lost."""
    page, column = _page(qtbot, False)
    row = QHBoxLayout()
    column.addLayout(row)
    row.addStretch(1)
    widget: QWidget = QLineEdit("Vannes") if kind == "field" else QPushButton("Rechercher")
    widget.setObjectName(kind)
    row.addWidget(widget)
    other = QPushButton("Autre")
    column.addWidget(other)
    page.resize(800, 300)
    page.show()
    qtbot.waitExposed(page)
    other.setFocus()
    QApplication.processEvents()
    before = widget.geometry()
    widget.setFocus()
    QApplication.processEvents()
    assert widget.hasFocus()
    assert widget.geometry() == before


def _edge_inside(widget: QWidget) -> int:
    image = widget.grab().toImage()
    return image.pixel(image.width() // 2, 12)


def test_field_and_pad_edges_stand_out_from_the_page(qtbot: QtBot) -> None:
    page, column = _page(qtbot, False)
    field, pad = QLineEdit(), SignaturePad()
    field.setFixedSize(400, 80)
    pad.setFixedSize(400, 200)
    column.addWidget(field)
    column.addWidget(pad)
    page.show()
    qtbot.waitExposed(page)
    white, page_grey = QColor("#FFFFFF"), QColor("#F4F5F9")
    for widget in (field, pad):
        edges = _edge(widget, (0, 1, 2))
        darkest = min((QColor.fromRgb(c) for c in edges), key=lambda c: c.lightness())
        assert contrast(darkest, white) >= 3, type(widget).__name__
        assert contrast(darkest, page_grey) >= 3, type(widget).__name__


def _label_of(window: QWidget, field: QLineEdit) -> QLabel:
    labels = [
        label
        for label in window.findChildren(QLabel)
        if label.buddy() is field and label.isVisible()
    ]
    assert len(labels) == 1, field.accessibleName()
    return labels[0]


def test_hints_stay_in_sight_while_typing_and_a_result_is_not_red(
    qtbot: QtBot, window: MainWindow
) -> None:
    signin = window.signin
    # The PIN's label is a label, not a placeholder that goes with the first digit.
    assert signin.pin.placeholderText() == ""
    assert _label_of(window, signin.pin).text() == window.tr_.t("signin.pin")
    driver = Driver(qtbot, window)
    driver.sign_in()
    home = window.home
    assert home.search.placeholderText() == ""
    assert _label_of(window, home.search).text() == window.tr_.t("home.resume_hint")
    # A failed lookup is said in red; the search after it finds nothing: not in red.
    error_red = QColor("#B3001B")
    home.search.setText("PN1-pas-un-code")
    home.search_button.click()
    driver.settle()
    assert home.message.palette().color(home.message.foregroundRole()) == error_red
    home.search.setText("Personne Inconnue")
    home.search_button.click()
    driver.settle()
    assert home.message.text() == window.tr_.t("home.no_result")
    assert home.message.palette().color(home.message.foregroundRole()) != error_red
    driver.start("changement_adresse")
    panel = window.wizard.identity_panel
    assert panel is not None
    assert panel.can.placeholderText() == ""
    assert _label_of(window, panel.can).text() == window.tr_.t("identity.can")
