"""Text at twice its size within 1280×800 (WCAG 1.4.4, EN 301 549 11.1.4.4): every screen of a
dossier, the agent's screens, in French and in Arabic; nothing cut across, the window never
wider or taller than the tablet's screen (what does not fit in height scrolls down)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QSize
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from kiosk.ports.devices import ConnectionBadge
from tests.ui.conftest import SCREENSHOTS
from tests.ui.driver import Driver
from tests.ui.test_supervision import sign_in_as
from ui.main_window import MainWindow

SCREEN = QSize(1280, 800)


def _seen_across(widget: QWidget, window: QWidget) -> int:
    """How much of ``widget``'s width its ancestors let be seen (what is above or below can be
    scrolled to: the screens are in a scroll area that scrolls down, never across)."""
    left = widget.mapTo(window, QPoint(0, 0)).x()
    right = left + widget.width()
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        start = parent.mapTo(window, QPoint(0, 0)).x()
        left, right = max(left, start), min(right, start + parent.width())
        parent = parent.parentWidget()
    return max(0, right - left)


def cut(window: QWidget) -> list[str]:
    """The texts on screen not wholly drawn: a label or a button narrower (or, wrapping, lower)
    than its text needs, or reaching past the edge of what holds it."""
    found = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window:
            continue
        if isinstance(widget, QLabel) and widget.text() and widget.pixmap().isNull():
            if widget.wordWrap():
                if widget.height() + 1 < widget.heightForWidth(widget.width()):
                    found.append(f"{widget.text()[:50]!r}: lines cut off")
                    continue
            elif widget.width() + 1 < widget.minimumSizeHint().width():
                found.append(f"{widget.text()[:50]!r}: too narrow")
                continue
        elif isinstance(widget, QAbstractButton) and widget.text():
            # A wrapping button's label is checked as a label.
            if widget.layout() is None and widget.width() + 1 < widget.minimumSizeHint().width():
                found.append(f"button {widget.text()[:50]!r}: too narrow")
                continue
        else:
            continue
        if _seen_across(widget, window) < widget.width():
            found.append(f"{widget.text()[:50]!r}: past the edge")
    return found


def fits(window: MainWindow) -> list[str]:
    """What does not fit the tablet at the current screen: the window's size, then cut texts."""
    QApplication.processEvents()
    problems = []
    if window.size() != SCREEN:
        problems.append(f"window {window.size().width()}×{window.size().height()}")
    hint = window.minimumSizeHint()
    if hint.width() > SCREEN.width() or hint.height() > SCREEN.height():
        problems.append(f"needs {hint.width()}×{hint.height()}")
    return problems + cut(window)


def check(window: MainWindow, where: str) -> None:
    """Fail, saying where and everything that does not fit, if anything does not."""
    problems = fits(window)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SCREENSHOTS / f"texte-2x-{where.replace(' ', '-')}.png"))
    assert not problems, f"{where}: " + "; ".join(problems)


def _tabs(window: MainWindow) -> list[str]:
    """Every tab of the supervision screen, each checked as it shows."""
    problems = []
    tabs = window.supervision.findChild(QTabWidget)
    assert tabs is not None
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        problems += [f"{tabs.tabText(index)}: {p}" for p in fits(window)]
    return problems


def test_every_screen_at_twice_the_text_size_fits_1280_by_800(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    window.bigger.click()
    window.bigger.click()
    window.bigger.click()
    window.bigger.click()
    assert window.look.scale == 2.0
    check(window, "sign-in")
    window.services.agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    window.signin.refresh()
    driver.settle()
    sign_in_as(driver, "Cheffe Martin", "4321")
    check(window, "home")
    # The connection's state as the sync says it, whenever it comes (once home is painted):
    # the top bar's corner has room for two lines at this size, not for the whole sentence.
    window.badge_changed.emit(ConnectionBadge(configured=True, online=True, waiting=128))
    check(window, "home, the sync's state")
    assert window.badge.text() == "● 128 en attente"
    assert window.badge.accessibleName() == "Service national joignable · 128 en attente d'envoi"

    # The longest démarche, its long choices (« Attestation d'hébergement, avec la pièce
    # d'identité de l'hébergeant… »), in French.
    driver.start("succession")
    wizard = window.wizard
    for _ in range(12):
        check(window, wizard.title.text())
        driver.fill_step()
        driver.next()
        if window.stack.currentWidget() is not wizard:
            break
    assert window.stack.currentWidget() is window.documents
    check(window, "documents")
    window._go_home()
    driver.settle()

    # In Arabic, a whole dossier: every screen up to the receipt, then the agent's screens.
    window.tr_.set_language("ar")
    check(window, "home (ar)")
    reference = driver.start("changement_adresse")
    for _ in range(12):
        check(window, wizard.title.text())
        driver.fill_step({"adresse": "12 rue de l'Œuvray | 56000 | Vannes"})
        driver.next()
        if window.stack.currentWidget() is not wizard:
            break
    check(window, "documents (ar)")
    window.documents.next_button.click()
    driver.settle()
    consent = window.consent
    assert window.stack.currentWidget() is consent
    check(window, "consent (ar)")
    consent.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    consent.sign_button.click()
    driver.settle()
    consent.continue_button.click()
    driver.settle()
    assert window.stack.currentWidget() is window.review
    check(window, "review (ar)")
    window.review.submit_button.click()
    driver.settle()
    driver.settle()
    assert window.stack.currentWidget() is window.receipt
    check(window, "receipt (ar)")
    window.receipt.done_button.click()  # the next person: back to French
    driver.settle()
    window.tr_.set_language("ar")  # the agent's screens, in Arabic too
    window._open_card(reference)
    driver.settle()
    check(window, "dossier card (ar)")
    window._follow_up()
    driver.settle()
    check(window, "worklist (ar)")
    window._supervise()
    driver.settle()
    assert not (problems := _tabs(window)), ("supervision (ar)", problems)
    window.tr_.set_language("fr")
    assert not (problems := _tabs(window)), ("supervision", problems)

    # Back to the usual size: the window is as it was (it used to stay grown).
    for _ in range(4):
        window.smaller.click()
    assert window.look.scale == 1.0
    check(window, "back at 1.0×")
