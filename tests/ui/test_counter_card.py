"""A dossier found again opens on its own card; the review's missing points lead to their
fields; a mandate already signed is not signed again; filing without one leads to it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk.demarches import visible_fields
from kiosk.dossiers.states import DossierState
from tests.support import file_dossier, fill, sign_mandate
from tests.ui.driver import Driver
from ui.main_window import MainWindow


def _tap(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]


def _texts(window: MainWindow) -> str:
    page = window.card.scroll_area.widget()
    assert page is not None
    return "\n".join(label.text() for label in page.findChildren(QLabel))


def _find(window: MainWindow, reference: str, driver: Driver) -> None:
    window.home.search.setText(reference)
    _tap(driver.qtbot, window.home.search_button)
    driver.settle()
    driver.settle()


def _answered(window: MainWindow, demarche: str = "cas_complexe") -> str:
    """A training dossier with every mandatory question answered, its mandate not signed."""
    services = window.services
    reference = services.dossiers.create(demarche, training=True).reference
    fill(services.dossiers, reference, services.catalog.latest(demarche))
    return reference


def test_a_filed_dossier_opens_on_its_card_with_reprint_and_the_way_home(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    services = window.services
    reference = _answered(window)
    file_dossier(services.dossiers, reference)
    driver.sign_in()
    _find(window, reference, driver)
    assert window.stack.currentWidget() is window.card
    assert "déposé" in _texts(window)
    assert not window.card.continue_button.isVisible()  # filed: its answers cannot change
    driver.screenshot("card-depose")
    window.tr_.set_language("ar")
    driver.settle()
    assert "déposé" not in _texts(window)  # the state and why, in the person's language
    assert "Pièce d'identité" not in _texts(window)  # the documents to bring too
    window.tr_.set_language("fr")
    driver.settle()
    _tap(qtbot, window.card.reprint_button)
    driver.settle()
    assert window.stack.currentWidget() is window.receipt
    window.stack.setCurrentWidget(window.card)
    _tap(qtbot, window.card.home_button)
    assert window.stack.currentWidget() is window.home


def test_a_draft_continues_at_its_first_missing_answer_highlighted(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    services = window.services
    reference = services.dossiers.create("changement_adresse", training=True).reference
    fill(services.dossiers, reference, services.catalog.latest("changement_adresse"))
    view = services.dossiers.show(reference)
    last = [p for p in _required_paths(window, reference) if p in view.answers and "[" not in p][-1]
    services.dossiers.answer(reference, last, "")  # the person did not know it last time
    driver.sign_in()
    _find(window, reference, driver)
    assert window.stack.currentWidget() is window.card
    assert "Réponses encore à donner : 1" in _texts(window)
    assert window.card.continue_button.isVisible()
    driver.screenshot("card-brouillon")
    _tap(qtbot, window.card.continue_button)
    driver.settle()
    assert window.stack.currentWidget() is window.wizard
    editor = window.wizard.editors[last]
    assert editor.message.objectName() == "error"
    assert "obligatoire" in editor.message.text()
    focused = QApplication.focusWidget()
    assert focused is not None and editor.isAncestorOf(focused)
    qtbot.waitUntil(lambda: _on_screen(window, focused))  # scrolled to, not only focused


def _on_screen(window: MainWindow, widget: QWidget) -> bool:
    viewport = window.wizard.scroll_area.viewport()
    top = widget.mapTo(viewport, widget.rect().topLeft()).y()
    return top >= 0 and top + widget.height() <= viewport.height()


def _required_paths(window: MainWindow, reference: str) -> list[str]:
    """The mandatory questions the dossier asks, in order."""
    services = window.services
    view = services.dossiers.show(reference)
    summary = view.summary
    demarche = services.catalog.get(summary.demarche_id, summary.demarche_version)
    return [p for p, f in visible_fields(demarche, view.answers) if f.required]


def test_a_missing_point_on_the_review_leads_to_its_field(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    services = window.services
    reference = _answered(window)
    services.dossiers.answer(reference, "nom", "")
    driver.sign_in()
    window._review(reference)
    driver.settle()
    links = [b for b in window.review.findChildren(QPushButton) if b.objectName() == "issue"]
    assert [b.property("path") for b in links] == ["nom"]
    assert not window.review.submit_button.isEnabled()
    driver.screenshot("review-lien-manquant")  # (rebuilds the page in each language)
    links = [b for b in window.review.findChildren(QPushButton) if b.objectName() == "issue"]
    _tap(qtbot, links[0])
    driver.settle()
    assert window.stack.currentWidget() is window.wizard
    assert "nom" in window.wizard.editors
    assert window.wizard.editors["nom"].message.objectName() == "error"


def test_a_mandate_signed_and_unchanged_is_not_signed_again(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    services = window.services
    reference = _answered(window)
    driver.sign_in()
    window._documents(reference)
    driver.settle()
    window.documents.proceed.emit(reference)  # « Suivant » after the documents
    driver.settle()
    assert window.stack.currentWidget() is window.consent  # never signed: the mandate first
    sign_mandate(services.dossiers._store, reference)
    window._documents(reference)
    driver.settle()
    window.documents.proceed.emit(reference)
    driver.settle()
    assert window.stack.currentWidget() is window.review  # signed and unchanged: on to filing
    _tap(qtbot, window.review.submit_button)
    driver.settle()
    assert services.dossiers.show(reference).summary.state is DossierState.EN_FILE


def test_filing_from_the_review_without_a_mandate_leads_to_the_mandate(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    services = window.services
    reference = _answered(window)
    driver.sign_in()
    window._review(reference)
    driver.settle()
    _tap(qtbot, window.review.submit_button)
    driver.settle()
    assert window.stack.currentWidget() is window.consent
    assert services.dossiers.show(reference).summary.state is DossierState.BROUILLON


def test_the_card_reading_step_keeps_the_window_active_and_the_can_takes_a_tap(
    qtbot: QtBot, window: MainWindow
) -> None:
    """A label shown before it had a parent once opened as a window of its own for an instant:
    the kiosk's window lost the keyboard focus for good, and no tap could type the CAN."""
    driver = Driver(qtbot, window)
    driver.sign_in()
    driver.start("permis_renouvellement")
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert visible == [window]
    assert window.isActiveWindow()
    panel = window.wizard.identity_panel
    assert panel is not None
    qtbot.mouseClick(panel.can, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    assert panel.can.hasFocus()


def test_signing_enables_the_button_where_it_stands(qtbot: QtBot, window: MainWindow) -> None:
    """The line saying why « Valider la signature » waits went away once the person signed,
    and the row of buttons moved down under the finger on its way: the tap was lost."""
    driver = Driver(qtbot, window)
    reference = _answered(window)
    driver.sign_in()
    window._consent(reference)
    driver.settle()
    button = window.consent.sign_button
    assert not button.isEnabled()
    before = button.mapTo(window, button.rect().topLeft())
    pad = window.consent.pad
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 60))  # type: ignore[no-untyped-call]
    for x in range(50, 400, 25):
        qtbot.mouseMove(pad, QPoint(x, 60 + (x % 50)))  # type: ignore[no-untyped-call]
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(400, 80))  # type: ignore[no-untyped-call]
    driver.settle()
    assert button.isEnabled()
    assert button.mapTo(window, button.rect().topLeft()) == before
    _tap(qtbot, button)
    driver.settle()
    _tap(qtbot, window.consent.continue_button)
    driver.settle()
    assert window.stack.currentWidget() is window.review


def test_every_screen_of_a_dossier_has_the_way_home(qtbot: QtBot, window: MainWindow) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    assert not window.home_button.isVisible()  # already home
    reference = driver.start("changement_adresse")
    for screen in (window.wizard, window.documents, window.consent, window.review):
        window.stack.setCurrentWidget(screen)
        assert window.home_button.isVisible(), type(screen).__name__
    _tap(qtbot, window.home_button)
    assert window.stack.currentWidget() is window.home
    assert not window.home_button.isVisible()
    _find(window, reference, driver)  # nothing lost: found again, on its card
    assert window.stack.currentWidget() is window.card
    window.lock()
    assert not window.home_button.isVisible()


def test_a_filing_that_ends_after_accueil_shows_no_receipt_to_the_next_person(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    services = window.services
    reference = _answered(window)
    sign_mandate(services.dossiers._store, reference)
    driver.sign_in()
    window._review(reference)
    driver.settle()
    _tap(qtbot, window.review.submit_button)  # the filing runs on a worker thread…
    _tap(qtbot, window.home_button)  # …while the agent goes home
    driver.settle()
    assert window.stack.currentWidget() is window.home  # the filing's end moved nothing
    assert services.dossiers.show(reference).summary.state is DossierState.EN_FILE


def test_opening_another_dossier_leaves_nothing_of_the_first_on_screen(
    qtbot: QtBot, window: MainWindow
) -> None:
    driver = Driver(qtbot, window)
    driver.sign_in()
    first = driver.start("changement_adresse")
    assert window.wizard.editors
    services = window.services
    second = services.dossiers.create("permis_renouvellement", training=True).reference
    window.wizard.open(second)
    assert window.wizard.editors == {} and window.wizard.scroll_area.widget() is None
    driver.settle()
    assert window.wizard.reference == second != first


def test_back_home_after_a_search_the_keyboard_does_not_come_up_by_itself(
    qtbot: QtBot, window: MainWindow
) -> None:
    # Seen under Xvfb: back on the home screen, Qt gave the focus back to the search field the
    # agent had typed in, and the on-screen keyboard rose over the tiles before any touch.
    driver = Driver(qtbot, window)
    reference = _answered(window)
    file_dossier(window.services.dossiers, reference)
    driver.sign_in()
    window.activateWindow()
    window.home.search.setFocus()
    qtbot.keyClicks(window.home.search, reference)  # type: ignore[no-untyped-call]
    qtbot.keyClick(window.home.search, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    driver.settle()
    driver.settle()
    assert window.stack.currentWidget() is window.card
    _tap(qtbot, window.card.home_button)
    driver.settle()
    assert window.stack.currentWidget() is window.home
    focused = QApplication.focusWidget()
    assert focused is not window.home.search
    assert focused in window.home.tiles.values()  # the first tile: Enter starts it
