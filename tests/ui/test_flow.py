"""The kiosk as an agent and a person use it, in a real (offscreen) window, training mode.

Every screen is saved as a screenshot in French and in Arabic under ``out/screenshots/``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton, QToolButton
from pytestqt.qtbot import QtBot

from kiosk.receipt import encode_qr_payload
from tests.ui.driver import Driver
from ui.main_window import MainWindow
from ui.widgets.fields import TextEditor


def test_sign_in_refuses_a_wrong_pin_then_opens_the_home_screen(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.screenshot("01-connexion")
    driver.sign_in("1234")
    assert window.stack.currentWidget() is window.signin
    assert "incorrect" in window.signin.error.text()
    driver.sign_in("0000")
    assert window.stack.currentWidget() is window.home
    # Nothing personal on the home screen: no list of dossiers until the agent searches.
    assert not window.home.results.isVisible()
    driver.screenshot("02-accueil")


def test_a_succession_from_start_to_printed_receipt(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    reference = driver.start("succession")
    wizard = window.wizard
    # Identity from the chip of the (simulated) CNIe, through pcscd: no FranceConnect needed.
    driver.screenshot("03-identité-posez-la-carte")
    panel = wizard.identity_panel  # (the screenshots re-render the step in each language)
    assert panel is not None
    panel.can.setText("123455")  # a wrong CAN first: explained, the card counts the try
    panel.read_button.click()
    driver.settle()
    assert "CAN" in panel.status.text()
    assert panel.reading is None
    panel.can.setText("123456")
    panel.read_button.click()
    driver.settle()
    assert panel.reading is not None, panel.status.text()
    assert panel.reading.verdict.value == "authentique"
    assert not panel.photo.pixmap().isNull()
    assert panel.verdict.text() == "Carte authentique ✓"
    driver.snap("03-identité-lue")
    # The same read with the screens in Arabic (the step is rebuilt when the language changes).
    window.tr_.set_language("ar")
    driver.settle()
    panel = wizard.identity_panel
    assert panel is not None
    panel.can.setText("123456")
    panel.read_button.click()
    driver.settle()
    assert panel.reading is not None, panel.status.text()
    driver.snap("03-identité-lue")
    window.tr_.set_language("fr")
    driver.settle()
    panel = wizard.identity_panel
    assert panel is not None
    panel.can.setText("123456")
    panel.read_button.click()
    driver.settle()
    panel.confirm.click()
    driver.settle()
    assert wizard.answers["nom"] == "MARTIN"
    assert wizard.answers["date_naissance"] == "1990-07-13"
    assert wizard.answers["piece_identite"] == {"nature": "cni", "numero": "X4RTBPFW4"}
    journal = window.services.dossiers.show(reference).journal
    assert journal[-1].kind == "identite_lue"
    assert journal[-1].detail["verdict"] == "authentique"
    assert "MARTIN" not in str(journal[-1].detail)  # how it was checked, not who
    driver.screenshot("03-identité-enregistrée")

    overrides = {
        "adresse": "12 rue de l'Œuvray | 56000 | Vannes",
        "immatriculation": "1234 ab 56",
        "vente_sous_3_mois": "non",
        "plus_de_4_ans": "oui",
        "autres_heritiers": "oui",
        "mode_contact": "telephone",
        "telephone_portable": "06 12 34 45 67",
    }
    seen_titles = []
    for _ in range(12):
        seen_titles.append(wizard.title.text())
        driver.fill_step(overrides)
        add = wizard.findChild(QPushButton, "add-coheritiers")
        if add is not None and "coheritiers[0].coheritier_nom" not in wizard.answers:
            driver.add_item("coheritiers")
            driver.answer("coheritiers[0].coheritier_nom", "Martin")
            driver.answer("coheritiers[0].coheritier_prenoms", "Léo")
            driver.fill_step({"coheritiers[0].coheritier_role": "desistement"})
            driver.screenshot("04-cohéritiers")
        driver.next()
        if window.stack.currentWidget() is not wizard:
            break
    assert window.stack.currentWidget() is window.documents, seen_titles
    assert window.services.dossiers.show(reference).answers["immatriculation"] == "1234 AB 56"
    driver.screenshot("05-documents")

    # The old registration card, from the scanner's folder (training mode ships made-up scans).
    window.documents.rows[("carte_grise_defunt", None)].click()
    driver.settle()
    driver.screenshot("06-choix-numérisation")
    scan = window.documents.findChild(QToolButton, "scan-0")
    assert scan is not None
    scan.click()
    driver.settle()
    driver.settle()
    provided = [d for d in window.services.dossiers.show(reference).documents if d.provided]
    assert [d.kind for d in provided] == ["carte_grise_defunt"]
    driver.screenshot("07-documents-joints")
    window.documents.next_button.click()
    driver.settle()

    assert window.stack.currentWidget() is window.consent
    assert "MARTIN MAELYS GAELLE MARIE" in window.consent.text.text()
    assert not window.consent.sign_button.isEnabled()  # nothing signed yet
    window.consent.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    assert window.consent.sign_button.isEnabled()
    driver.screenshot("08-mandat")
    window.consent.sign_button.click()
    driver.settle()
    assert window.services.mandates.status(reference).signed
    assert window.consent.continue_button.isVisible()  # after « Imprimer ma copie », if asked
    window.consent.continue_button.click()
    driver.settle()
    assert window.stack.currentWidget() is window.review
    driver.screenshot("09-vérification")

    assert window.review.submit_button.isEnabled(), window.services.dossiers.show(reference).missing
    window.review.submit_button.click()
    driver.settle()
    driver.settle()
    assert window.stack.currentWidget() is window.receipt
    assert window.receipt.reference.text() == reference
    assert not window.receipt.qr.pixmap().isNull()
    assert window.receipt.status.text() == "Récépissé imprimé."  # not the PDF's path
    driver.screenshot("10-reçu")

    printed = sorted((tmp_path / "formation" / "recus").glob("*.pdf"))
    assert len(printed) == 1
    text = "".join(page.extract_text() for page in PdfReader(printed[0]).pages)
    assert reference in text
    assert "FORMATION" in text
    assert "barrée et signée" not in text  # the old card was attached: not listed as missing
    assert "Certificat de situation" in text
    view = window.services.dossiers.show(reference)
    assert view.answers["coheritiers[0].coheritier_prenoms"] == "Léo"
    # Training mode sends to its own reference national server: the dossier goes out at once,
    # and the badge says the service is reachable with nothing left waiting.
    qtbot.waitUntil(
        lambda: window.services.dossiers.show(reference).summary.state.value == "transmis",
        timeout=20_000,
    )
    qtbot.waitUntil(
        lambda: "0" in window.badge.text() and "●" in window.badge.text(), timeout=10_000
    )
    assert window.services.dossiers.show(reference).national_number

    window.receipt.done_button.click()
    driver.settle()
    assert window.stack.currentWidget() is window.home
    assert window.receipt.reference.text() == ""

    # Everything the agent did is in the audit journal, chained and intact, with no answer in it.
    db = tmp_path / "formation" / "kiosk.sqlite3"
    checked = subprocess.run(
        [sys.executable, "-m", "app", "--db", str(db), "--json", "audit", "show", "--limit", "500"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    actions = {entry["action"] for entry in json.loads(checked)}
    assert {"connexion", "dossier_consulte", "dossier_modifie", "identite_lue"} <= actions, actions
    assert "Maëlys" not in checked and "X4RTBPFW4" not in checked
    verified = subprocess.run(
        [sys.executable, "-m", "app", "--db", str(db), "audit", "verify"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_wrong_answer_is_explained_beside_the_field(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    editor = window.wizard.editors["date_naissance"]
    assert isinstance(editor, TextEditor)
    editor.edit.setText("17/05/2090")
    editor.edit.editingFinished.emit()
    driver.settle()
    assert editor.message.objectName() == "error"
    assert "futur" in editor.message.text()
    driver.next()
    assert "Corrigez" in window.wizard.notice.text()
    assert window.wizard.step_index == 0
    driver.screenshot("11-erreur")


def test_resume_by_scanning_the_receipt_qr_code(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    services = window.services
    summary = services.dossiers.create("cas_complexe", training=True)
    from tests.support import file_dossier, fill

    fill(services.dossiers, summary.reference, services.catalog.latest("cas_complexe"))
    file_dossier(services.dossiers, summary.reference)
    data = services.receipts.data(summary.reference)
    driver.sign_in()

    # A handheld scanner types the QR content and Enter, like a keyboard.
    window.home.search.setText(encode_qr_payload(data.reference, data.verification_code))
    qtbot.keyClick(window.home.search, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    driver.settle()
    driver.settle()
    # A filed dossier opens on its card, read-only: it cannot be filed twice.
    assert window.stack.currentWidget() is window.card
    assert window.card.reference == summary.reference
    assert not window.card.continue_button.isVisible()
    assert window.card.reprint_button.isVisible()

    # A forged code is refused with an explanation.
    window.stack.setCurrentWidget(window.home)
    window.home.search.setText(encode_qr_payload(data.reference, "AAAAAAAA"))
    qtbot.keyClick(window.home.search, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    driver.settle()
    assert window.stack.currentWidget() is window.home
    assert "ne correspond pas" in window.home.message.text()


def test_language_switch_mirrors_the_screen_for_arabic(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    arabic = next(b for b in window.language_buttons.buttons() if b.text() == "العربية")
    arabic.click()
    driver.settle()
    assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert window.home.title.text() == "ما الذي جئت من أجله اليوم؟"
    # The procedures themselves too, not only the buttons around them.
    tile = window.home.tiles["succession"].text()
    assert any("\u0600" <= c <= "\u06ff" for c in tile), tile
    driver.start("succession")
    step_title = window.wizard.title.text()
    assert any("\u0600" <= c <= "\u06ff" for c in step_title), step_title
    label = window.wizard.editors["nom"].label.text()
    assert any("\u0600" <= c <= "\u06ff" for c in label), label
    english = next(b for b in window.language_buttons.buttons() if b.text() == "English")
    english.click()
    driver.settle()
    assert window.layoutDirection() == Qt.LayoutDirection.LeftToRight
    assert window.home.title.text() == "What are you here for today?"
    assert window.home.tiles["succession"].text() != "Carte grise : véhicule d'une personne décédée"
    assert window.wizard.editors["nom"].label.text().startswith("Birth")


def test_inactivity_warns_then_clears_everything(qtbot: QtBot, window: MainWindow) -> None:
    window.inactivity = type(window.inactivity)(idle_ms=300, grace_ms=1200)
    window.inactivity.warn.connect(window._warn)
    window.inactivity.active.connect(window.warning.hide)
    window.inactivity.expired.connect(window.lock)
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    driver.answer("nom", "Martin")
    window.tr_.set_language("ar")
    qtbot.waitUntil(window.warning.isVisible, timeout=5_000)
    driver.screenshot("12-avertissement-inactivité")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.signin, timeout=5_000)
    assert window.wizard.answers == {}
    assert window.wizard.reference == ""
    assert window.agent is None
    assert window.tr_.lang == "fr"  # the next person starts in French
    # The answer given before the lock was saved.
    found = window.services.dossiers.list(search="martin")
    assert [d.usager for d in found] == ["MARTIN"]


def test_a_tap_on_the_pin_brings_up_no_keyboard_over_the_sign_in_keypad(
    qtbot: QtBot, window: MainWindow
) -> None:
    qtbot.waitUntil(lambda: window.keyboard is not None, timeout=5_000)
    keyboard = window.keyboard
    assert keyboard is not None
    window.activateWindow()
    window.signin.pin.setFocus()
    for _ in range(2):  # the first tap on a focused field is what asks Qt for the keyboard
        qtbot.mouseClick(window.signin.pin, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
        qtbot.wait(100)
    assert not QGuiApplication.inputMethod().isVisible()
    assert not keyboard.isVisible()
    assert window.controls_row.isVisible()  # the language buttons stay for the person


def test_a_tap_on_a_button_while_typing_is_not_lost_when_the_keyboard_goes(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    window.activateWindow()
    window.home.search.setFocus()
    qtbot.waitUntil(
        lambda: window.keyboard is not None and window.keyboard.isVisible(), timeout=5_000
    )
    keyboard = window.keyboard
    assert keyboard is not None
    window.home.search.setText("MARTIN")
    qtbot.waitUntil(lambda: not window.controls_row.isVisible(), timeout=5_000)
    driver.settle()  # the window laid out again around the keyboard
    button = window.home.search_button
    finger = button.mapTo(window, button.rect().center())  # where the finger stays
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    qtbot.wait(100)
    # While the finger is down the keyboard stays, and so does the button under the finger.
    assert keyboard.isVisible()
    assert button.mapTo(window, button.rect().center()) == finger
    with qtbot.waitSignal(button.clicked, timeout=2_000):  # the finger lifts where it was
        qtbot.mouseRelease(  # type: ignore[no-untyped-call]
            button, Qt.MouseButton.LeftButton, pos=button.mapFrom(window, finger)
        )
    qtbot.waitUntil(lambda: not keyboard.isVisible(), timeout=5_000)


def test_the_keyboard_stays_down_over_the_card_just_read(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    panel = window.wizard.identity_panel
    assert panel is not None
    window.activateWindow()
    panel.can.setFocus()
    qtbot.waitUntil(
        lambda: window.keyboard is not None and window.keyboard.isVisible(), timeout=5_000
    )
    panel.can.setText("123456")
    panel.read_button.setFocus()  # what a tap on « Lire la carte » does first
    panel.read_button.click()
    driver.settle()
    assert panel.reading is not None, panel.status.text()
    # The focus did not move on to the MRZ box: no keyboard over the photo to compare.
    assert not panel.mrz.hasFocus()
    qtbot.waitUntil(lambda: window.keyboard is not None and not window.keyboard.isVisible())


def test_the_on_screen_keyboard_comes_up_under_a_text_field(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("succession")
    editor = window.wizard.editors["lieu_naissance"]
    assert isinstance(editor, TextEditor)
    window.activateWindow()
    editor.edit.setFocus()
    qtbot.waitUntil(
        lambda: window.keyboard is not None and window.keyboard.isVisible(), timeout=5_000
    )
    keyboard = window.keyboard
    assert keyboard is not None
    root = keyboard.rootObject()
    # Every row of keys is on screen: the widget is as tall as the keyboard it holds.
    qtbot.waitUntil(
        lambda: abs(keyboard.height() - float(root.property("implicitHeight"))) < 2, timeout=5_000
    )
    # On a 1280 × 800 tablet, the keyboard takes at most 300 px and the window still fits: no
    # key row and no part of the screen is pushed out of sight.
    assert keyboard.height() <= 300
    assert window.minimumSizeHint().height() <= 800
    qtbot.waitUntil(  # once the window has laid itself out again
        lambda: keyboard.mapTo(window, keyboard.rect().bottomLeft()).y() < window.height(),
        timeout=5_000,
    )
    assert window.height() == 800
    assert not window.controls_row.isVisible()  # its room goes to the field while typing
    # The field typed in stays visible above the keyboard, whole, not only its cursor.
    field_bottom = editor.edit.mapTo(window, editor.edit.rect().bottomLeft()).y()
    assert field_bottom < keyboard.mapTo(window, keyboard.rect().topLeft()).y()
    viewport = window.wizard.scroll_area.viewport()
    qtbot.waitUntil(
        lambda: viewport.rect().contains(
            editor.edit.rect().translated(editor.edit.mapTo(viewport, QPoint()))
        ),
        timeout=5_000,
    )
    driver.snap("13-clavier-azerty")
    # The same on the home screen's search field, the other place one types.
    window.wizard.leave.emit()
    driver.settle()
    window.home.search.setFocus()
    qtbot.waitUntil(keyboard.isVisible, timeout=5_000)
    assert window.minimumSizeHint().height() <= 800 and window.height() == 800
    qtbot.waitUntil(
        lambda: (
            window.home.search.mapTo(window, window.home.search.rect().bottomLeft()).y()
            < keyboard.mapTo(window, keyboard.rect().topLeft()).y()
        ),
        timeout=5_000,
    )
    search_bottom = window.home.search.mapTo(window, window.home.search.rect().bottomLeft()).y()
    assert search_bottom < keyboard.mapTo(window, keyboard.rect().topLeft()).y()
    driver.snap("14-clavier-accueil")
    window.home.search_button.setFocus()  # a tap on a button: the keyboard goes
    qtbot.waitUntil(lambda: not keyboard.isVisible(), timeout=5_000)
    assert window.controls_row.isVisible()
