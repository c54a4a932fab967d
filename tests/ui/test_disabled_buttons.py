"""Disabled buttons look disabled, stay readable in both looks, and say why they wait.

The consent and review screens with their reasons are saved under ``out/screenshots/<lang>/``
(60 and up).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from tests.support import file_dossier, fill
from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens import screen_services
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.screens.consent import ConsentScreen
from ui.screens.review import ReviewScreen
from ui.services import UiServices
from ui.tasks import TaskRunner
from ui.theme import Look, load_fonts, stylesheet


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in (colour.redF(), colour.greenF(), colour.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def painted(button: QPushButton) -> tuple[QColor, QColor]:
    """The button's background (its most common colour inside the border) and its text (the
    colour that stands out most from that background), as painted."""
    image = button.grab().toImage()
    inner = [
        image.pixelColor(x, y)
        for x in range(12, image.width() - 12)
        for y in range(12, image.height() - 12)
    ]
    background = Counter(c.rgb() for c in inner).most_common(1)[0][0]
    back = QColor.fromRgb(background)
    text = max(inner, key=lambda c: contrast(c, back))
    return back, text


@pytest.mark.parametrize("high_contrast", [False, True], ids=["normal", "high-contrast"])
@pytest.mark.parametrize("kind", ["primary", "tile", ""])
def test_a_disabled_button_looks_disabled_and_stays_readable(
    qtbot: QtBot, kind: str, high_contrast: bool
) -> None:
    page = QWidget()
    qtbot.addWidget(page)
    page.setStyleSheet(stylesheet(Look(high_contrast=high_contrast), load_fonts()))
    column = QVBoxLayout(page)
    enabled, disabled = QPushButton("Déposer le dossier"), QPushButton("Déposer le dossier")
    for button in (enabled, disabled):
        button.setObjectName(kind)
        button.setFixedSize(420, 90)
        column.addWidget(button)
    disabled.setEnabled(False)
    page.show()
    QApplication.processEvents()
    on_back, on_text = painted(enabled)
    off_back, off_text = painted(disabled)
    # Not the same button greyed a little: another background, or another text colour.
    assert (off_back.rgb(), off_text.rgb()) != (on_back.rgb(), on_text.rgb())
    if kind == "primary":  # the filled blue (or yellow) is kept for what can be pressed
        assert off_back.rgb() != on_back.rgb()
    # Still readable: the reason it waits is next to it, the label must be read too.
    assert contrast(off_back, off_text) >= 4.5


def _shown(screen: Screen, lang: str, name: str) -> None:
    screen.resize(1280, 800)
    screen.setStyleSheet(stylesheet(Look(), load_fonts()))
    if lang == "ar":
        screen.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    screen.show()
    QApplication.processEvents()
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    assert screen.grab().save(str(folder / f"{name}.png"))


def _signed_at() -> datetime:
    return datetime(2025, 7, 1, 8, 5, tzinfo=UTC)  # 10:05 in Paris (summer time)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[UiServices]:
    with screen_services(tmp_path, clock=_signed_at) as built:
        yield built


@pytest.mark.parametrize(
    ("lang", "why", "signed"),
    [
        (
            "fr",
            "La personne signe d'abord avec le doigt dans le cadre ci-dessus.",
            "Mandat signé le 01/07/2025 à 10:05.",
        ),
        (
            "ar",
            "يوقّع الشخص أولاً بإصبعه داخل الإطار أعلاه.",
            "وُقّع التوكيل في 1 يوليو 2025 على الساعة 10:05.",
        ),
    ],
)
def test_the_mandate_says_why_it_waits_then_when_it_was_signed_on_the_counters_clock(
    qtbot: QtBot, services: UiServices, lang: str, why: str, signed: str
) -> None:
    runner = TaskRunner()
    screen = ConsentScreen(services.consent(), runner, Translator(lang))
    qtbot.addWidget(screen)
    reference = services.dossiers.create("succession").reference
    screen.open(reference, agent_id=None, agent_name="Agent de formation")
    qtbot.waitUntil(lambda: runner.idle)
    _shown(screen, lang, "60-mandat-à-signer")
    assert not screen.sign_button.isEnabled()
    assert screen.sign_why.isVisible() and screen.sign_why.text() == why
    assert screen.sign_button.toolTip() == why
    assert screen.sign_button.accessibleDescription() == why

    screen.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    assert screen.sign_button.isEnabled()
    assert not screen.sign_why.text().strip() and screen.sign_button.toolTip() == ""
    screen.sign_button.click()
    qtbot.waitUntil(lambda: runner.idle)
    with qtbot.waitSignal(screen.signed):  # on to the review, once the copy is offered
        screen.continue_button.click()

    screen.open(reference, agent_id=None, agent_name="Agent de formation")
    qtbot.waitUntil(lambda: runner.idle)
    # Signed at 08:05 UTC: 10:05 at the counter; then until when it holds.
    assert screen.status.text().startswith(signed)


@pytest.mark.parametrize(
    ("lang", "missing"),
    [
        ("fr", "Impossible de déposer tant qu'il manque des réponses : voyez la liste ci-dessus."),
        ("en", "The file cannot be submitted while answers are missing: see the list above."),
    ],
)
def test_deposer_says_why_it_is_disabled(
    qtbot: QtBot, services: UiServices, lang: str, missing: str
) -> None:
    runner = TaskRunner()
    tr = Translator(lang)
    screen = ReviewScreen(services.review(), runner, tr)
    qtbot.addWidget(screen)
    reference = services.dossiers.create("cas_complexe").reference
    screen.open(reference)
    qtbot.waitUntil(lambda: runner.idle)
    _shown(screen, lang, "61-vérification-incomplète")
    assert not screen.submit_button.isEnabled()
    assert screen.submit_why.isVisible() and screen.submit_why.text() == missing
    assert screen.submit_button.accessibleDescription() == missing

    fill(services.dossiers, reference, services.catalog.latest("cas_complexe"))
    screen.open(reference)
    qtbot.waitUntil(lambda: runner.idle)
    assert screen.submit_button.isEnabled()
    assert not screen.submit_why.text().strip() and screen.submit_button.toolTip() == ""

    file_dossier(services.dossiers, reference)
    screen.open(reference)
    qtbot.waitUntil(lambda: runner.idle)
    assert not screen.submit_button.isEnabled()
    assert screen.submit_why.text() == tr.t("review.submit_why_filed")
