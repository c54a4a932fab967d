"""The kiosk window: a top bar (language, text size, contrast, connection), the screens, and
the embedded keyboard. Navigation between screens happens here and only here."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QLocale, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.accessibility import announce
from ui.i18n import LANGUAGES, LOCALES, SHORT_LANGUAGES, Translator
from ui.inactivity import InactivityWatcher
from ui.screens.base import Screen
from ui.screens.signin import SignInScreen
from ui.tasks import TaskRunner
from ui.theme import Look, restyle, stylesheet
from ui.widgets.scrolling import scrolling_area

if TYPE_CHECKING:
    from collections.abc import Callable

    from kiosk.dossiers.views import DossierSummary
    from kiosk.ports.devices import ConnectionBadge
    from kiosk.security.agents import AgentInfo
    from kiosk.site.screen import InactivityDelays
    from ui.screens.enrol import EnrolScreen
    from ui.screens.followup import FollowUpScreen
    from ui.screens.retired import RetiredScreen
    from ui.services import UiServices
    from ui.widgets.keyboard import KeyboardPanel


class _CurrentStack(QStackedWidget):
    """A stack as small as its *current* screen allows (Qt's takes the largest of all screens),
    so that one tall screen does not make every other one overflow a 800-pixel tablet."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def minimumSizeHint(self) -> QSize:
        current = self.currentWidget()
        return current.minimumSizeHint() if current is not None else super().minimumSizeHint()

    def minimumSize(self) -> QSize:  # what the parent layout asks, through QWidgetItem
        return self.minimumSizeHint()

    def heightForWidth(self, width: int) -> int:
        # Qt's stacked layout answers for its tallest screen: the page area would scroll a
        # short screen because a long one exists.
        current = self.currentWidget()
        if current is None:
            return super().heightForWidth(width)
        # The least height the screen needs at this width (its wrapped lines included), not
        # the height it would like: its own scroll areas take what is spare.
        layout = current.layout()
        least = current.minimumSizeHint().height()
        if layout is not None and layout.hasHeightForWidth():
            return max(layout.totalMinimumHeightForWidth(width), least)
        return least


class _NameLabel(QLabel):
    """The agent's name in the top bar: wrapping at large sizes, but only when it must (as
    wide as its text on one line, up to a third of the tablet's width), not in the narrow
    column of three lines a wrapped label settles for beside another one."""

    CAP = 430

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if self.wordWrap() and self.text():
            margins = self.contentsMargins()
            one_line = self.fontMetrics().horizontalAdvance(self.text()) + 2 + margins.left()
            hint.setWidth(max(hint.width(), min(one_line + margins.right(), self.CAP)))
        return hint


class _FirstPaint(QObject):
    """Calls ``then`` on the loop's turn after the watched widget's first frame, once."""

    def __init__(self, then: Callable[[], None]) -> None:
        super().__init__()
        self._then = then

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._then)  # after this frame reaches the screen
        return False


#: When the start-up's later work runs if no one signs in (UiServices.start_later): a kiosk
#: left on its sign-in screen still sends what is queued.
LATER_MS = 10_000


class MainWindow(QMainWindow):
    """Sign-in → home → wizard → review → receipt, with the inactivity lock over all of it."""

    #: A new ConnectionBadge from the sync thread (emitted there, delivered here, queued).
    badge_changed = Signal(object)
    #: Once, after the first frame is on screen (the start-up work waits for it).
    first_painted = Signal()
    #: The national service said this kiosk was revoked (from whichever thread learnt it).
    withdrawn = Signal(object)
    #: A supervisor left the kiosk for its maintenance console (ui/app.py ends the application).
    maintenance_requested = Signal()

    def __init__(
        self,
        services: UiServices | None,
        *,
        family: str,
        training: bool = False,
        idle_ms: int = 120_000,
        grace_ms: int = 30_000,
        keyboard: bool = True,
        later_ms: int = LATER_MS,
    ) -> None:
        """Build the frame and the sign-in screen; the rest comes with :meth:`attach`.

        With ``services`` None the window paints at once and the services (database, catalogue,
        PDF engine: the slow imports) are attached when the start-up job has built them.
        ``keyboard``: whether to embed the on-screen keyboard (Qt's input method is the virtual
        keyboard; ui/app.py sets it before Qt starts).
        """
        super().__init__()
        self.family = family
        self.tr_ = Translator()
        self.runner = TaskRunner()
        self.look = Look()
        self.agent: AgentInfo | None = None
        #: Bumped at sign-out, « Accueil » and « Terminer »: late results of older jobs are dropped.
        self._session = 0
        self._starting = False  # a dossier being created (a second tap on a tile waits)
        self._painted = False
        self._right_to_left = False  # Qt's default direction
        self._badge: ConnectionBadge | None = None
        #: The worklist (built with the other screens once the services are attached).
        self.followup: FollowUpScreen | None = None
        #: « Borne à configurer », when the kiosk has no credentials yet.
        self.enrol: EnrolScreen | None = None
        #: « Redémarrer la borne » was tapped: the kiosk ends to start again (ui/app.py).
        self.restart_requested = False
        #: Shown for good once the kiosk is withdrawn from service (a lost tablet revoked).
        self.retired: RetiredScreen | None = None
        self.withdrawn.connect(self.retire)
        #: The start-up's later work (UiServices.start_later), until it is asked for.
        self._later: Callable[[], None] | None = None
        self._later_ms = later_ms
        self.setWindowTitle(self.tr_.t("app.title"))

        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.training_banner = QLabel()
        self.training_banner.setObjectName("training")  # centred by the style sheet
        self.training_banner.setWordWrap(True)  # at 2× text it needs two lines
        column.addWidget(self.training_banner)
        # Once in the column: a label shown before it has a parent is a window of its own.
        self.training_banner.setVisible(training or bool(services and services.training))
        column.addLayout(self._top_bar())
        self.warning = QWidget()
        warning_row = QHBoxLayout(self.warning)
        self.warning_text = QLabel()
        self.warning_text.setObjectName("error")
        self.stay_button = QPushButton()
        self.stay_button.setObjectName("primary")
        self.stay_button.clicked.connect(self._still_here)
        warning_row.addWidget(self.warning_text, 1)
        warning_row.addWidget(self.stay_button)
        self.warning.hide()
        column.addWidget(self.warning)
        self.stack = _CurrentStack()
        # The screens in a scroll area that scrolls only down: at twice the text size a screen
        # taller than what is left of 800 pixels scrolls instead of growing the window past the
        # tablet's screen (or, full screen, being cut off at the bottom).
        self.page = scrolling_area(self.stack)
        self.page.setObjectName("page")
        self.page.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.page.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its screen's controls are the stops
        column.addWidget(self.page, 1)
        self.keyboard: KeyboardPanel | None = None
        self._column = column
        self.setCentralWidget(central)
        self._wants_keyboard = keyboard

        self.signin = SignInScreen(services.sign_in() if services else None, self.runner, self.tr_)
        self.stack.addWidget(self.signin)
        self.signin.signed_in.connect(self._signed_in)
        self.screens: list[Screen] = [self.signin]

        self.inactivity = InactivityWatcher(idle_ms=idle_ms, grace_ms=grace_ms)
        self.inactivity.warn.connect(self._warn)
        self.inactivity.active.connect(self.warning.hide)
        self.inactivity.expired.connect(self.lock)

        self.tr_.changed.connect(self._language_changed)
        self._apply_look()
        self._language_changed(self.tr_.lang)
        self.stack.setCurrentWidget(self.signin)
        self.stack.currentChanged.connect(lambda _index: self._offer_home())
        self.stack.currentChanged.connect(lambda _index: self._arrived())
        if services is not None:
            self.attach(services)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self, self.first_painted.emit)  # after the frame is on screen

    def _add_keyboard(self) -> None:
        from ui.widgets.keyboard import KeyboardPanel

        self.keyboard = KeyboardPanel()
        self._column.addWidget(self.keyboard)
        self.keyboard.set_language(self.tr_.lang)
        self._name_keyboard()
        # While typing, the row of language and text-size buttons gives its room to the field
        # typed in (it comes back with the keyboard's « hide » key or a tap outside the field).
        self.keyboard.shown.connect(lambda up: self.controls_row.setVisible(not up))
        if hasattr(self, "wizard"):  # the questions give their room to the field typed in
            self.keyboard.shown.connect(self.wizard.keyboard_shown)

    def startup_failed(self, exc: Exception) -> None:
        """The services could not start (e.g. a database from a newer version): say why."""
        from kiosk.security.revocation import KioskWithdrawn

        if isinstance(exc, KioskWithdrawn):
            self.retire()  # revoked before: the same screen as when it happened
            return
        self.signin.notice.clear()  # no « the kiosk is starting » under the reason it cannot
        self.signin.error.setText(str(exc))

    def retire(self, _withdrawn: object = None) -> None:
        """The kiosk was withdrawn from service: every screen forgets what it showed, nobody is
        signed in, and the retired screen stays, whatever is tapped or however long it waits."""
        from ui.screens.retired import RetiredScreen

        self._session += 1
        self.inactivity.disarm()
        self.warning.hide()
        for screen in self.screens:
            screen.clear_personal_data()
            screen.agent_id = None
        self.agent = None
        self.agent_label.clear()
        self.sign_out.hide()
        self.home_button.hide()
        if self.retired is None:
            self.retired = RetiredScreen(self.runner, self.tr_)
            self.stack.addWidget(self.retired)
        self.stack.setCurrentWidget(self.retired)

    def attach(self, services: UiServices) -> None:
        """Build the screens that need the services, and show the agents to sign in."""
        # Imported here, after the first paint: the window must appear at once.
        from ui.accessibility import install as install_accessibility
        from ui.screens.consent import ConsentScreen
        from ui.screens.documents import DocumentsScreen
        from ui.screens.dossier import DossierCardScreen
        from ui.screens.followup import FollowUpScreen
        from ui.screens.home import HomeScreen
        from ui.screens.receipt import ReceiptScreen
        from ui.screens.review import ReviewScreen
        from ui.screens.supervision import SupervisionScreen
        from ui.screens.wizard import WizardScreen

        install_accessibility()  # titles as headings, single choices as radio buttons
        self.services = services
        self.training_banner.setVisible(services.training)
        self.signin.attach(services.sign_in())
        # Each screen gets its slice of the services, never the whole set.
        run, tr = self.runner, self.tr_
        self.home = HomeScreen(services.home(), run, tr)
        self.card = DossierCardScreen(services.card(), run, tr)
        self.wizard = WizardScreen(services.wizard(), run, tr)
        self.documents = DocumentsScreen(services.documents(), run, tr)
        self.consent = ConsentScreen(services.consent(), run, tr)
        self.review = ReviewScreen(services.review(), run, tr)
        self.receipt = ReceiptScreen(services.receipt(), run, tr)
        self.supervision = SupervisionScreen(services.supervision(), run, tr)
        worklist = services.worklist()
        self.followup = FollowUpScreen(worklist, run, tr) if worklist is not None else None
        self.screens = [
            self.signin,
            self.home,
            self.card,
            self.wizard,
            self.documents,
            self.consent,
            self.review,
            self.receipt,
            self.supervision,
        ]
        if self.followup is not None:
            self.screens.append(self.followup)
            self.followup.open_dossier.connect(self._open_from_worklist)
            self.followup.home.connect(self._go_home)
            self.home.follow_up.connect(self._follow_up)
            self.home.follow_up_button.show()
        for screen in self.screens[1:]:
            self.stack.addWidget(screen)
        self.home.start.connect(self._start)
        self.home.resume.connect(self._open_card)
        self.card.proceed.connect(self._continue)
        self.card.attach_documents.connect(self._documents)
        self.card.reprint.connect(self._receipt)
        self.card.home.connect(self._card_home)
        self.home.supervise.connect(self._supervise)
        self.supervision.leave.connect(lambda: self.stack.setCurrentWidget(self.home))
        self.supervision.delays_changed.connect(self.apply_delays)
        self.supervision.quit_kiosk.connect(self.maintenance_requested.emit)
        self.wizard.review.connect(self._documents)
        self.documents.back.connect(lambda ref: self._resume(ref, at_end=True))
        self.documents.proceed.connect(self._consent_if_needed)
        self.consent.back.connect(self._documents)
        # A result that arrives after sign-out or « Accueil » (the screen forgot its dossier)
        # moves nothing: the next person never sees the previous one's review or receipt.
        self.consent.signed.connect(
            lambda ref: self._review(ref) if ref == self.consent.reference else None
        )
        self.wizard.leave.connect(self._go_home)
        self.review.edit.connect(lambda ref: self._resume(ref, at_end=True))
        self.review.edit_field.connect(self._edit_field)
        self.review.sign.connect(self._consent)
        self.review.submitted.connect(
            lambda ref: self._receipt(ref) if ref == self.review.reference else None
        )
        self.receipt.done.connect(self._next_person)
        if self._wants_keyboard and self.keyboard is None:
            # Loaded once the window is up (its QML takes ~60 ms); the sign-in has its own keypad.
            QTimer.singleShot(0, self, self._add_keyboard)
        self._offer_enrolment(services)
        self.badge_changed.connect(self._show_badge)
        if services.sync_subscribe is not None:
            services.sync_subscribe(self.badge_changed.emit)  # emit is safe from any thread
        if services.withdrawn_subscribe is not None:
            services.withdrawn_subscribe(self.withdrawn.emit)
        self._show_badge(self._badge)
        self.signin.refresh()
        # The sync, the training server, the PDF engine's warm-up: once the home screen is
        # painted (issue 18: on one core they took the time of the sign-in and the home
        # screen), or after a while if no one signs in.
        self._later = services.start_later
        if self._later is not None:
            self._home_painted = _FirstPaint(self._start_later)
            self.home.installEventFilter(self._home_painted)
            QTimer.singleShot(self._later_ms, self, self._start_later)
        # Everything built so far lives as long as the kiosk (modules, Qt wrappers, the ORM's
        # mappings): out of the cyclic collector's sight, a full collection no longer walks it,
        # and its pauses drop from ~90 ms (a frozen screen during a card read) to a few ms.
        gc.freeze()

    def _offer_enrolment(self, services: UiServices) -> None:
        """A kiosk with no credentials opens on « Borne à configurer » (« Plus tard »: the
        sign-in, its dossiers then stay queued)."""
        enrol = services.enrol()
        if enrol is None:
            return
        from ui.screens.enrol import EnrolScreen

        self.enrol = EnrolScreen(enrol, self.runner, self.tr_)
        self.screens.append(self.enrol)
        self.stack.addWidget(self.enrol)
        self.enrol.later.connect(lambda: self.stack.setCurrentWidget(self.signin))
        self.enrol.restart_asked.connect(self.restart)
        self.stack.setCurrentWidget(self.enrol)

    def restart(self) -> None:
        """End the kiosk so that it starts again on its new settings (``kiosk run`` starts it
        again itself: app/cli.py)."""
        from PySide6.QtWidgets import QApplication

        self.restart_requested = True
        QApplication.quit()

    # ------------------------------------------------------------------ top bar
    def _top_bar(self) -> QVBoxLayout:
        rows = QVBoxLayout()
        bar = QHBoxLayout()
        bar.setContentsMargins(16, 8, 16, 4)
        bar.setSpacing(16)  # the agent's name apart from the title
        self.app_title = QLabel()
        self.app_title.setObjectName("subtitle")
        bar.addWidget(self.app_title)
        self.agent_label = _NameLabel()
        self.agent_label.setObjectName("muted")
        # The room left goes to the agent's name: wrapping at large sizes, it uses the whole
        # of it (a wrapped label left to its own hint takes a narrow column of three lines).
        bar.addWidget(self.agent_label, 1)
        self.badge = QLabel()
        self.badge.setObjectName("badge")
        bar.addWidget(self.badge)
        rows.addLayout(bar)
        # Second row: the person's controls (language, text size, contrast) and sign-out.
        self.controls_row = QWidget()
        controls = QHBoxLayout(self.controls_row)
        controls.setContentsMargins(16, 0, 16, 4)
        # The way home, from every screen of a dossier (its answers are saved as given).
        self.home_button = QPushButton()
        self.home_button.clicked.connect(self._go_home)
        self.home_button.hide()
        controls.addWidget(self.home_button)
        controls.addStretch(1)
        self.language_buttons = QButtonGroup(self)
        self._language_button: dict[str, QPushButton] = {}
        for code, name in LANGUAGES.items():
            button = QPushButton(name)
            button.setObjectName("compact")
            button.setCheckable(True)
            button.setChecked(code == "fr")
            button.setAccessibleName(name)
            button.clicked.connect(lambda _=False, c=code: self.tr_.set_language(c))
            self.language_buttons.addButton(button)
            self._language_button[code] = button
            controls.addWidget(button)
        self.smaller = QPushButton("A−")
        self.smaller.clicked.connect(lambda: self._set_look(self.look.smaller()))
        self.bigger = QPushButton("A+")
        self.bigger.clicked.connect(lambda: self._set_look(self.look.bigger()))
        self.contrast = QPushButton("◐")
        self.contrast.setCheckable(True)
        self.contrast.clicked.connect(lambda: self._set_look(self.look.toggled_contrast()))
        self.sign_out = QPushButton()
        self.sign_out.clicked.connect(self.lock)
        self.sign_out.hide()
        for button in (self.smaller, self.bigger, self.contrast):
            button.setObjectName("compact")
        for button in (self.smaller, self.bigger, self.contrast, self.sign_out):
            controls.addWidget(button)
        rows.addWidget(self.controls_row)
        return rows

    def _name_keyboard(self) -> None:
        """The on-screen keyboard, named for a screen reader (its keys are not exposed to one:
        its description says a plugged-in keyboard works too)."""
        if self.keyboard is not None:
            self.keyboard.setAccessibleName(self.tr_.t("a11y.keyboard"))
            self.keyboard.setAccessibleDescription(self.tr_.t("a11y.keyboard_about"))

    def _set_direction(self, right_to_left: bool) -> None:
        # Imported here, not at the top: PySide6 builds the ~90 enumerations of the Qt namespace
        # (~15 ms) on its first use, and the French sign-in screen painted at start needs none.
        from PySide6.QtCore import Qt

        rtl, ltr = Qt.LayoutDirection.RightToLeft, Qt.LayoutDirection.LeftToRight
        self.setLayoutDirection(rtl if right_to_left else ltr)

    def _set_look(self, look: Look) -> None:
        self.look = look
        self._apply_look()

    def _apply_look(self) -> None:
        # From 1.5× on, the languages go by their short names (their accessible names stay
        # whole): the row of the person's controls must fit 1280 px at twice the text size.
        short = self.look.scale >= 1.5
        for code, button in self._language_button.items():
            button.setText(SHORT_LANGUAGES[code] if short else LANGUAGES[code])
            button.setMinimumWidth(0 if short else 150)  # room for « Français » up to 1.25×
        # The agent's name and the connection state wrap at large sizes only (a wrapped label
        # takes less than its width when it could have it: two lines where one fits).
        self.agent_label.setWordWrap(short)
        self.badge.setWordWrap(short)
        self._show_badge(self._badge)  # its short form from 1.5× on
        # At the usual size a screen fits: no scroll bar that would come and go (taking 28
        # pixels of width, moving a button from under a finger) when the on-screen keyboard
        # leaves a few pixels short; touch scrolling and the typed field kept in view remain.
        policy = Qt.ScrollBarPolicy
        self.page.setVerticalScrollBarPolicy(
            policy.ScrollBarAsNeeded if self.look.scale > 1 else policy.ScrollBarAlwaysOff
        )
        self.setStyleSheet(stylesheet(self.look, self.family))

    def _language_changed(self, lang: str) -> None:
        t = self.tr_.t
        if self.tr_.right_to_left != self._right_to_left:
            self._right_to_left = self.tr_.right_to_left
            self._set_direction(self._right_to_left)
        # The application's and the widgets' locale (what a screen reader is told the text is
        # in, through the accessible attributes and AT-SPI's GetLocale): « C » until now.
        locale = QLocale(LOCALES[lang])
        QLocale.setDefault(locale)
        self.setLocale(locale)
        self.app_title.setText(t("app.title"))
        self.page.setAccessibleName(t("a11y.page"))
        self.training_banner.setText(t("app.training"))
        self.sign_out.setText(t("home.sign_out"))
        self.home_button.setText(t("home.go_home"))
        self.stay_button.setText(t("lock.stay"))
        self.smaller.setAccessibleName(t("a11y.text_size") + " −")
        self.bigger.setAccessibleName(t("a11y.text_size") + " +")
        self.contrast.setAccessibleName(t("a11y.contrast"))
        if self.agent is not None:
            self.agent_label.setText(t("home.agent", name=self.agent.nom))
        for button in self.language_buttons.buttons():
            button.setChecked(button.text() == LANGUAGES[lang])
        self._show_badge(self._badge)
        if self.keyboard is not None:
            self.keyboard.set_language(lang)
            self._name_keyboard()

    def _start_later(self) -> None:
        later, self._later = self._later, None
        if later is not None:
            later()  # returns at once: the work has a thread of its own

    # ------------------------------------------------------------------ navigation
    def _signed_in(self, agent: AgentInfo) -> None:
        if self.retired is not None:
            return  # a sign-in answered after the kiosk was withdrawn opens nothing
        self.agent = agent
        for screen in self.screens:
            screen.agent_id = agent.id
        self.agent_label.setText(self.tr_.t("home.agent", name=agent.nom))
        self.sign_out.show()
        self.home.show_supervision(agent.supervisor)
        self.inactivity.arm()
        self.stack.setCurrentWidget(self.home)
        self._load_delays()

    def _load_delays(self) -> None:
        """The site's inactivity delays, as a supervisor last set them (read at each sign-in:
        another counter of the site may have changed them); none set: the kiosk's own."""
        screen = self.services.screen
        if screen is not None:
            self.runner.run(screen.chosen, on_done=self.apply_delays)

    def apply_delays(self, delays: InactivityDelays | None) -> None:
        """Use ``delays`` from now on (None: keep those in use)."""
        if delays is None:
            return
        self.inactivity.set_delays(
            idle_ms=delays.idle_seconds * 1000, grace_ms=delays.warning_seconds * 1000
        )

    def _supervise(self) -> None:
        if self.agent is not None and self.agent.supervisor:
            self.supervision.open(self.agent)
            self.stack.setCurrentWidget(self.supervision)

    def _current(self) -> Callable[[], bool]:
        """A check that the session (agent, person) in which a job started is still the one on
        screen: a late result after sign-out, « Accueil » or « Terminer » moves nothing."""
        session = self._session
        return lambda: self.agent is not None and session == self._session

    def _start(self, demarche_id: str) -> None:
        if self._starting:
            return  # a second tap on the tile while the first creates the dossier
        self._starting = True
        agent_id = self.agent.id if self.agent else None
        still = self._current()

        def started(summary: DossierSummary) -> None:
            self._starting = False
            if still():
                self.documents.begin_session()  # the scans from now on are this person's
                self._resume(summary.reference)

        def failed(exc: Exception) -> None:
            self._starting = False
            restyle(self.home.message, "error")
            self.home.message.setText(self.tr_.error(exc))

        self.runner.run(
            lambda: self.services.dossiers.create(
                demarche_id, agent_id=agent_id, training=self.services.training
            ),
            on_done=started,
            on_error=failed,
        )

    def _open_card(self, reference: str) -> None:
        """A dossier found again opens on its card: its state, what is missing, what next."""
        if self.agent is None:
            return  # a search answered after sign-out
        self.documents.begin_session()  # the scans from now on are this person's
        self.card.open(reference)
        self.stack.setCurrentWidget(self.card)

    def _follow_up(self) -> None:
        """The worklist: the dossiers that need someone after the counter."""
        if self.agent is not None and self.followup is not None:
            self.stack.setCurrentWidget(self.followup)

    def _open_from_worklist(self, reference: str) -> None:
        """A dossier of the worklist opens on its card, which leads back to the list."""
        if self.agent is None:
            return
        self.documents.begin_session()  # the person may be at the counter
        self.card.open(reference, from_worklist=True)
        self.stack.setCurrentWidget(self.card)

    def _card_home(self) -> None:
        """The card's way out: back to the worklist it was opened from, or home."""
        if self.card.from_worklist and self.followup is not None:
            self.card.clear_personal_data()
            self.stack.setCurrentWidget(self.followup)
            return
        self._go_home()

    def _continue(self, reference: str) -> None:
        """From the card: on to the first answer still missing, or to the last step."""
        dossier = self.card.current
        first = dossier.view.missing[0].path if dossier and dossier.view.missing else None
        if dossier is not None and dossier.correction is not None and first is None:
            # Sent back by the national service: straight to what it asked to correct.
            self.wizard.open(reference)
        else:
            self.wizard.open(reference, at_end=first is None, focus=first)
        self.stack.setCurrentWidget(self.wizard)

    def _resume(self, reference: str, *, at_end: bool = False) -> None:
        """Back to a dossier's questions (first or last step)."""
        self.wizard.open(reference, at_end=at_end)
        self.stack.setCurrentWidget(self.wizard)

    def _edit_field(self, reference: str, path: str) -> None:
        """A missing point tapped on the review: its step, the answer highlighted."""
        self.wizard.open(reference, focus=path)
        self.stack.setCurrentWidget(self.wizard)

    def _consent_if_needed(self, reference: str) -> None:
        """After the documents: the mandate to sign, unless a signature given still holds."""
        still = self._current()

        def go(needs_signature: bool) -> None:
            if still():
                (self._consent if needs_signature else self._review)(reference)

        self.runner.run(
            lambda: self.services.dossiers.mandate_issue(reference) is not None,
            on_done=go,
            on_error=lambda _exc: go(True),  # when in doubt, the mandate: never a dead end
        )

    def _documents(self, reference: str) -> None:
        self.documents.open(reference)
        self.stack.setCurrentWidget(self.documents)

    def _consent(self, reference: str) -> None:
        agent = self.agent
        self.consent.open(
            reference, agent_id=agent.id if agent else None, agent_name=agent.nom if agent else ""
        )
        self.stack.setCurrentWidget(self.consent)

    def _review(self, reference: str) -> None:
        self.review.open(reference)
        self.stack.setCurrentWidget(self.review)

    def _receipt(self, reference: str) -> None:
        self.receipt.open(reference)
        self.stack.setCurrentWidget(self.receipt)

    def _offer_home(self) -> None:
        """« Accueil » on every screen but the home and the sign-in, while an agent works."""
        away = self.stack.currentWidget() not in (self.signin, getattr(self, "home", None))
        self.home_button.setVisible(self.agent is not None and away)

    def _arrived(self) -> None:
        """A screen is shown: Tab goes through it in its reading order, starting from its title
        (or first field): the focus never stays behind on a hidden screen, nor goes back to the
        top bar, and a screen reader says where the person now is."""
        screen = self.stack.currentWidget()
        if isinstance(screen, Screen):
            screen.order_tabs()
            screen.take_focus()

    def _go_home(self) -> None:
        """Back to the home screen; the dossier on screen stays saved, found again by search."""
        self._session += 1
        for screen in self.screens[1:]:
            screen.clear_personal_data()
        self.stack.setCurrentWidget(self.home)
        self.home.take_focus()

    def _next_person(self) -> None:
        self._session += 1
        for screen in self.screens[1:]:
            screen.clear_personal_data()
        self.tr_.set_language("fr")
        self.stack.setCurrentWidget(self.home)
        self.home.take_focus()

    def _show_badge(self, badge: ConnectionBadge | None) -> None:
        decided = badge is not None and (
            self._badge is None or badge.decisions != self._badge.decisions
        )
        self._badge = badge
        followup = self.followup
        if decided and followup is not None and self.stack.currentWidget() is followup:
            followup.refresh()  # new national decisions: the list on screen reads them
        services = getattr(self, "services", None)
        t = self.tr_.t
        # From 1.5× on, a short form: the whole sentence wrapped into the top bar's corner took
        # four lines where it had room for two (said whole to a screen reader all the same).
        short = self.look.scale >= 1.5
        if services is None:
            text = whole = ""
        elif services.sync_subscribe is None:
            whole = t("badge.not_configured")
            text = t("badge.not_configured_short") if short else whole
        elif badge is None:
            text = whole = t("badge.unknown")
        else:
            state = t("badge.online") if badge.online else t("badge.offline")
            mark = "●" if badge.online else "○"
            whole = t("badge.compact", state=state, count=badge.waiting)
            shown = t("badge.short", count=badge.waiting) if short else whole
            text = f"{mark} {shown}"
        self.badge.setText(text)
        self.badge.setAccessibleName(whole)
        self.badge.setToolTip(badge.detail if badge else "")

    def _still_here(self) -> None:
        self.inactivity.reset()

    def _warn(self, seconds: int) -> None:
        text = self.tr_.t("lock.warning", seconds=seconds)
        if not self.warning.isVisible():  # heard once, not at every second of the count
            announce(self.warning_text, text, urgent=True)
        self.warning_text.setText(text)
        self.warning.show()

    def lock(self) -> None:
        """Clear every screen and return to the agent sign-in."""
        if self.retired is not None:
            self.retire()  # withdrawn from service: nothing to sign in to
            return
        self._session += 1
        self.inactivity.disarm()
        self.warning.hide()
        for screen in self.screens:
            screen.clear_personal_data()
        self.agent = None
        for screen in self.screens:
            screen.agent_id = None
        self.agent_label.clear()
        self.sign_out.hide()
        if hasattr(self, "home"):
            self.home.show_supervision(False)
        self.tr_.set_language("fr")
        self.signin.refresh()
        self.stack.setCurrentWidget(self.signin)
