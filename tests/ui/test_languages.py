"""The person's screens in English and Arabic: refused answers, identity documents, the mandate.

Each screen is saved under ``out/screenshots/<lang>/`` (40 and up) to be looked at.
"""

from __future__ import annotations

import hashlib
import re

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from tests.ui.driver import Driver
from ui.main_window import MainWindow
from ui.widgets.fields import IdentityEditor, TextEditor

_ARABIC = re.compile(r"[\u0600-\u06ff]")


def _type_date(window: MainWindow, driver: Driver, text: str) -> TextEditor:
    editor = window.wizard.editors["date_naissance"]
    assert isinstance(editor, TextEditor)
    editor.edit.setText(text)
    editor.edit.editingFinished.emit()
    driver.settle()
    return editor


def test_a_wrong_answer_is_explained_beside_the_field_in_english_then_in_arabic(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    window.tr_.set_language("en")
    driver.settle()
    reference = driver.start("succession")
    editor = _type_date(window, driver, "17/05/2090")
    assert editor.message.objectName() == "error"
    assert editor.message.text() == "The date cannot be in the future."
    editor = _type_date(window, driver, "01/01/1890")  # the bound is written the English way
    assert editor.message.text() == "The date cannot be earlier than 1 January 1900."
    assert window.wizard.header.text().endswith(
        "Vehicle registration: vehicle of a deceased person"
    )
    window.wizard.scroll_area.ensureWidgetVisible(editor)
    driver.snap("40-erreur-traduite")
    natures = window.wizard.editors["piece_identite"]
    assert isinstance(natures, IdentityEditor)
    assert natures.buttons["cni"].text() == "French identity card"
    window.wizard.scroll_area.ensureWidgetVisible(natures)
    driver.snap("40-pièces-d-identité")

    # Switching language re-words the message already on screen, beside what was typed.
    window.tr_.set_language("ar")
    driver.settle()
    assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    rebuilt = window.wizard.editors["date_naissance"]
    assert isinstance(rebuilt, TextEditor)
    assert rebuilt.edit.text() == "01/01/1890"
    editor = rebuilt
    assert editor.message.objectName() == "error"
    assert editor.message.text() == "لا يمكن أن يكون التاريخ قبل 1 يناير 1900."
    # A wrong answer given in Arabic is explained in Arabic, parameters and all.
    identity = window.wizard.editors["piece_identite"]
    assert isinstance(identity, IdentityEditor)
    assert identity.buttons["passeport"].text() == "جواز سفر فرنسي"  # the natures too
    identity.buttons["passeport"].click()
    identity.number.setText("123")
    identity.number.editingFinished.emit()
    driver.settle()
    identity = window.wizard.editors["piece_identite"]
    assert identity.message.text().startswith("رقم الوثيقة غير معروف: رقمان، ثم حرفان")
    window.wizard.scroll_area.ensureWidgetVisible(identity.message)
    driver.snap("41-pièce-en-arabe")
    driver.next()
    assert window.wizard.notice.text() == window.tr_.t("wizard.fix_first")
    assert _ARABIC.search(window.wizard.notice.text())
    window.wizard.scroll_area.ensureWidgetVisible(window.wizard.editors["date_naissance"])
    driver.snap("41-erreurs-en-arabe")

    # Nothing refused was saved; in French the same messages read as the agents know them.
    window.tr_.set_language("fr")
    driver.settle()
    assert window.wizard.notice.text().startswith("Corrigez")
    assert window.wizard.editors["date_naissance"].message.text() == (
        "La date ne peut pas être antérieure au 01/01/1900."
    )
    assert "date_naissance" not in window.services.dossiers.show(reference).answers
    # Once corrected, the message goes and stays gone in every language.
    editor = _type_date(window, driver, "13/07/1990")
    assert editor.message.objectName() != "error"
    window.tr_.set_language("ar")
    driver.settle()
    assert window.wizard.editors["date_naissance"].message.objectName() != "error"
    assert window.services.dossiers.show(reference).answers["date_naissance"] == "1990-07-13"


def test_the_mandate_in_arabic_shows_a_translation_for_information_and_signs_the_french(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    reference = driver.start("succession")
    driver.answer("nom", "Martin")
    window.tr_.set_language("ar")
    driver.settle()
    window.documents.proceed.emit(reference)  # the documents screen's « continue »
    driver.settle()
    consent = window.consent
    assert window.stack.currentWidget() is consent

    french = consent.text.text()
    assert french.startswith("MANDAT POUR UNE DÉMARCHE ADMINISTRATIVE")
    assert "MARTIN" in french and not _ARABIC.search(french)
    assert consent.text.layoutDirection() == Qt.LayoutDirection.LeftToRight
    assert consent.translation_box.isVisible()
    assert consent.text_heading.text() == "النص الذي توقّعه (بالفرنسية)"
    assert consent.translation_heading.text().startswith("ترجمة للاطلاع فقط")
    translated = consent.translation.text()
    assert translated.startswith("توكيل للقيام بإجراء إداري")
    assert "MARTIN" in translated and reference in translated
    title = window.services.catalog.latest("succession", lang="ar").title
    assert f"«{title}»" in translated
    consent.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    driver.snap("42-mandat-traduit")

    # Another language, another translation; French alone in French.
    window.tr_.set_language("en")
    driver.settle()
    assert consent.translation.text().startswith("MANDATE FOR AN ADMINISTRATIVE PROCEDURE")
    assert consent.translation_heading.text().startswith("Translation for information only")
    driver.snap("42-mandat-traduit")
    window.tr_.set_language("fr")
    driver.settle()
    assert not consent.translation_box.isVisible()
    assert not consent.text_heading.isVisible()
    assert consent.text.text() == french

    window.tr_.set_language("ar")
    driver.settle()
    consent.sign_button.click()
    driver.settle()
    assert window.services.mandates.status(reference).signed
    signed = [
        e for e in window.services.dossiers.show(reference).journal if e.kind == "mandat_signe"
    ]
    # What is stored is the French text's version and hash, not the translation's.
    assert signed[-1].detail["version"] == "v2"
    assert signed[-1].detail["sha256"] == hashlib.sha256(french.encode("utf-8")).hexdigest()
    consent.continue_button.click()
    driver.settle()

    # The review lists what is still missing in Arabic, the démarche's labels included.
    assert window.stack.currentWidget() is window.review
    issues = [
        link.text() for link in window.review.findChildren(QPushButton, "issue") if link.isVisible()
    ]
    assert issues and all(_ARABIC.search(text) for text in issues)
    assert any("الإجابة إلزامية." in text for text in issues), issues
    driver.snap("43-vérification-traduite")
