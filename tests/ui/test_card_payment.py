"""The dossier's card takes a timbre fiscal électronique for a dossier waiting for its payment:
the amount asked, the payment reference, the timbres given and where each stands, the field
for a new one; a wrong number is said in the person's language; a draft shows no payment.

Screenshots under ``out/screenshots/<lang>/65-fiche-paiement.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk.dossiers.states import DossierState
from kiosk.ports.national import TIMBRE_REFUSALS, PaymentInfo, TimbreVerdict
from kiosk.sync.payments import PaymentQueue
from tests.ui.conftest import SCREENSHOTS
from tests.ui.screens import card_screen, filed_dossier, screen_services
from ui.i18n import Translator
from ui.screens.dossier import DossierCardScreen
from ui.services import UiServices
from ui.widgets.fields import DIGITS_HINTS

NBSP, LRE, PDF = "\u00a0", "\u202a", "\u202c"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[UiServices]:
    with screen_services(tmp_path) as built:
        yield built


def _card(qtbot: QtBot, services: UiServices, lang: str, reference: str) -> DossierCardScreen:
    return card_screen(qtbot, services, lang, reference)


def _waiting_for_payment(services: UiServices) -> str:
    """A dossier acknowledged, « en attente de paiement » with its reference, and two timbres
    already answered by the service: one refused (already used), one paying 100 €."""
    reference = filed_dossier(services, "changement_titulaire")
    dossiers = services.dossiers
    dossiers.acknowledge(reference, national_number="NAT-00000015", amount_due_cents=45000)
    dossiers.transition(reference, DossierState.ATTENTE_PAIEMENT)
    queue = PaymentQueue(dossiers._store, clock=dossiers._now)
    [(dossier_id, _number)] = queue.references_to_fetch()
    queue.keep_reference(
        dossier_id, PaymentInfo("PAY-7K3M-Q9TX", 45000, "https://paiement.example/PAY-7K3M-Q9TX")
    )
    verdicts = (
        ("9999000000000001", TimbreVerdict(False, message=TIMBRE_REFUSALS["timbre_utilise"])),
        ("1000000000000001", TimbreVerdict(True, amount_cents=10000, remaining_cents=35000)),
    )
    for timbre, verdict in verdicts:
        dossiers.add_timbre(reference, timbre)
        claimed = queue.claim()
        assert claimed is not None
        queue.record(claimed.item_id, verdict)
    return reference


def _save(qtbot: QtBot, screen: DossierCardScreen, typed: str) -> None:
    panel = screen.payment_panel
    assert panel is not None
    assert not panel.form.isVisible()
    panel.pay_button.click()
    assert panel.number.isVisible()
    assert panel.number.inputMethodHints() == DIGITS_HINTS  # the keyboard's digit pad
    QTest.keyClicks(panel.number, typed)  # typed key by key, as on the digit pad
    panel.save_button.click()
    qtbot.waitUntil(lambda: screen.runner.idle)


@pytest.mark.parametrize(
    ("lang", "amount", "given", "saved"),
    [
        (
            "fr",
            f"Montant à payer : 450,00{NBSP}€",
            [
                "refusé : Ce timbre a déjà été utilisé : il ne peut pas payer ce dossier.",
                f"accepté : 100,00{NBSP}€ ; reste à payer : 350,00{NBSP}€",
                "en attente d'envoi au service national",
            ],
            "Timbre 1234 5678 9012 3456 enregistré. Le service national va le vérifier ; sans"
            " connexion, la borne le lui envoie dès qu'il est joignable.",
        ),
        (
            "ar",
            f"المبلغ الواجب دفعه: {LRE}450,00{NBSP}€{PDF}",
            [
                "مرفوض: سبق استعمال هذا الطابع: لا يمكنه دفع هذا الملف.",
                f"مقبول: {LRE}100,00{NBSP}€{PDF}؛ المتبقّي للدفع: {LRE}350,00{NBSP}€{PDF}",
                "في انتظار الإرسال إلى المصلحة الوطنية",
            ],
            f"سُجِّل الطابع {LRE}1234 5678 9012 3456{PDF}. ستتحقّق منه المصلحة الوطنية؛ وبدون"
            " اتصال، يرسله الجهاز إليها حالما يمكن الوصول إليها.",
        ),
    ],
)
def test_a_timbre_typed_with_spaces_is_recorded_and_listed_with_those_given_before(
    qtbot: QtBot, services: UiServices, lang: str, amount: str, given: list[str], saved: str
) -> None:
    reference = _waiting_for_payment(services)
    screen = _card(qtbot, services, lang, reference)
    _save(qtbot, screen, "1234 5678 9012 3456")
    panel = screen.payment_panel
    assert panel is not None
    assert panel.message.isVisible() and panel.message.text() == saved
    assert panel.number.text() == ""  # ready for another one
    assert [status for _, _, status in panel.timbres] == given
    assert panel.timbres[-1][0] == Translator(lang).data("1234 5678 9012 3456")
    texts = [w.text() for w in panel.findChildren(type(panel.message)) if w.isVisible()]
    assert amount in texts
    assert any("PAY-7K3M-Q9TX" in text for text in texts)
    # Recorded for the national service, the same as ``kiosk paiement REF``.
    recorded = services.dossiers.payment(reference).timbres
    assert [t.timbre for t in recorded][-1] == "1234567890123456"
    assert recorded[-1].state == "en_attente"
    QApplication.processEvents()
    screen.scroll_area.ensureWidgetVisible(panel, 0, 0)
    QApplication.processEvents()
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    assert screen.grab().save(str(folder / "65-fiche-paiement.png"))


FRENCH = "Numéro de timbre fiscal invalide : 16 chiffres attendus, 15 saisis."


@pytest.mark.parametrize(
    ("lang", "said", "then", "said_then"),
    [
        ("fr", FRENCH, "en", "Invalid tax stamp number: 16 digits expected, 15 typed."),
        ("ar", "رقم الطابع الجبائي غير صالح: يُنتظر 16 رقمًا، وأُدخل 15.", "fr", FRENCH),
    ],
)
def test_a_wrong_number_is_said_in_the_persons_language_and_nothing_is_recorded(
    qtbot: QtBot, services: UiServices, lang: str, said: str, then: str, said_then: str
) -> None:
    reference = filed_dossier(services, "changement_titulaire")  # « en file »: it takes one
    screen = _card(qtbot, services, lang, reference)
    _save(qtbot, screen, "1234 5678 9012 345")
    panel = screen.payment_panel
    assert panel is not None
    assert panel.message.isVisible() and panel.message.objectName() == "error"
    assert panel.message.text() == said
    assert panel.number.text() == "1234 5678 9012 345"  # still there, to correct
    assert services.dossiers.payment(reference).timbres == ()
    # Said again in the language the person switches to, what was typed still there.
    screen.tr_.set_language(then)
    again = screen.payment_panel
    assert again is not None and again.message.isVisible()
    assert again.message.text() == said_then
    assert again.number.text() == "1234 5678 9012 345"


def test_a_draft_dossier_shows_no_payment(qtbot: QtBot, services: UiServices) -> None:
    draft = services.dossiers.create("changement_titulaire").reference
    screen = _card(qtbot, services, "fr", draft)
    assert screen.payment_panel is None
    title = Translator("fr").t("payment.pay")
    assert not [b for b in screen.findChildren(type(screen.home_button)) if b.text() == title]


def test_a_paid_dossier_keeps_its_timbres_without_the_button(
    qtbot: QtBot, services: UiServices
) -> None:
    reference = _waiting_for_payment(services)
    services.dossiers.add_timbre(reference, "5000 0000 0000 0001")
    queue = PaymentQueue(services.dossiers._store, clock=services.dossiers._now)
    claimed = queue.claim()
    assert claimed is not None
    assert queue.record(claimed.item_id, TimbreVerdict(True, amount_cents=50000, remaining_cents=0))
    screen = _card(qtbot, services, "fr", reference)
    panel = screen.payment_panel
    assert panel is not None
    assert panel.timbres[-1][2] == f"accepté : 500,00{NBSP}€"
    assert not panel.pay_button.isVisible() and not panel.form.isVisible()
