"""The identity panel on its own: a card reader's refusal explained in the person's language."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from kiosk.identity.errors import WrongCan
from kiosk.identity.model import AccessKey, IdentityReading
from kiosk.ports.identity import CardEvent, ProgressCallback
from ui.i18n import Translator
from ui.tasks import TaskRunner
from ui.widgets.identity import IdentityPanel


class _RefusingReader:
    """A reader whose card refuses every CAN, as a real CNIe answers 63C2."""

    def readers(self) -> list[str]:
        return ["Lecteur de test"]

    def read(self, access: AccessKey, progress: ProgressCallback | None = None) -> IdentityReading:
        raise WrongCan(tries_left=2)

    def watch(self, on_event: Callable[[CardEvent], None]) -> Callable[[], None]:
        return lambda: None


def test_a_wrong_can_is_explained_in_arabic_with_the_tries_left(qtbot: QtBot) -> None:
    runner = TaskRunner()
    panel = IdentityPanel(_RefusingReader(), runner, Translator("ar"))
    qtbot.addWidget(panel)
    panel.can.setText("123455")
    panel.read_button.click()
    qtbot.waitUntil(lambda: panel.status.objectName() == "error")
    text = panel.status.text()
    assert text.startswith("رمز CAN المُدخل لا يطابق البطاقة")
    assert text.endswith("عدد المحاولات المتبقية قبل قفل البطاقة: 2.")
    assert "numéro" not in text
    assert panel.reading is None and panel.read_button.isEnabled()


def test_a_document_read_is_described_in_arabic_with_translated_verdict_and_dates(
    qtbot: QtBot,
) -> None:
    """The verdict word, the kind of document and the dates follow the person's language."""
    runner = TaskRunner()
    panel = IdentityPanel(None, runner, Translator("ar"))
    qtbot.addWidget(panel)
    panel.mrz.setPlainText(
        "IDFRAX4RTBPFW46<<<<<<<<<<<<<<<\n"
        "9007138F3002119FRA<<<<<<<<<<<6\n"
        "MARTIN<<MAELYS<GAELLE<MARIE<<<"
    )
    panel.read_mrz()
    qtbot.waitUntil(lambda: panel.reading is not None)
    assert panel.verdict.text() == "لم يتم التحقق من أصالة الوثيقة"  # typed, not read from a chip
    assert panel.verdict_why.text() == "أُدخلت المعلومات يدوياً: لم تتم قراءة الشريحة."
    text = panel.data.text()
    assert "بطاقة التعريف الوطنية الإلكترونية" in text
    assert "تاريخ الميلاد" in text and "2030" in text
    assert "NON VÉRIFIÉ" not in text and "Né(e)" not in text
