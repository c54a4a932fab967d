"""Supervision: what a supervisor manages from the touchscreen (agents, counter, journal, purge,
and the site's kiosks: ui/screens/site_kiosks.py), and the way out of the kiosk to its
maintenance console.

Only shown to a signed-in supervisor; every action goes through the kiosk services with
``by=`` that supervisor, so the services refuse it from anyone else and the audit journal records
who did it. Nothing here shows a person's data: the journal holds none, the purge lists
references only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.accessibility import single_choice
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import SupervisionServices
from ui.tasks import TaskRunner
from ui.theme import restyle
from ui.widgets.scrolling import scrolling_area
from ui.widgets.tile import WrappingButton

if TYPE_CHECKING:
    from kiosk.security.agents import AgentAccount, AgentInfo
    from kiosk.security.audit import Entry, Verification
    from kiosk.security.retention import Purged, PurgeReport
    from kiosk.site.counter import CounterDetails
    from kiosk.site.screen import InactivityDelays
    from ui.screens.site_kiosks import SiteKiosksTab

JOURNAL_ROWS = 100


#: The choices offered for the time without a touch, and for the warning (seconds).
IDLE_CHOICES = (60, 120, 300, 600, 1200)
WARNING_CHOICES = (15, 30, 60, 120)


def _duration(seconds: int, t: Callable[..., str]) -> str:
    """« 2 min », « 30 s »."""
    if seconds % 60 == 0:
        return t("supervision.delays.minutes", count=seconds // 60)
    return t("supervision.delays.seconds", count=seconds)


def _list() -> QListWidget:
    widget = QListWidget()
    QScroller.grabGesture(widget.viewport(), QScroller.ScrollerGestureType.TouchGesture)
    return widget


class SupervisionScreen(Screen):
    """Agents, counter details, audit journal, retention and leaving the kiosk, in five tabs."""

    leave = Signal()
    #: The supervisor confirmed leaving the kiosk (PIN checked, journalled): the application
    #: ends with the exit code its session does not restart on (docs/packaging.md).
    quit_kiosk = Signal()
    #: New inactivity delays were saved (InactivityDelays): the window uses them at once.
    delays_changed = Signal(object)

    def __init__(self, services: SupervisionServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.supervisor: AgentInfo | None = None
        self._said: tuple[Callable[[], str], bool] | None = None
        self._verdict: Verification | None = None
        self._due: list[Purged] | None = None
        self.tabs = QTabWidget()
        self.layout_.addWidget(self.tabs, 1)
        # Tab goes from the tab bar into the page shown: its order made again for each page
        # (the page's stops were not in it, and Tab went past them to « Retour à l'accueil »).
        self.tabs.currentChanged.connect(lambda _index: self.order_tabs())
        #: Each tab and its title's key (``supervision.tab.…``): some are offered, some not.
        self._tab_keys: list[tuple[QWidget, str]] = []
        for page, key in (
            (self._agents_tab(), "agents"),
            (self._counter_tab(), "counter"),
            (self._journal_tab(), "journal"),
            (self._retention_tab(), "retention"),
            (self._kiosk_tab(), "kiosk"),
        ):
            self._add_tab(scrolling_area(page), key)
        # The site's kiosks, when the national service is configured (docs/sites.md).
        self.kiosks_tab: SiteKiosksTab | None = None
        if services.kiosks is not None:
            from ui.screens.site_kiosks import SiteKiosksTab

            self.kiosks_tab = SiteKiosksTab(
                services.kiosks,
                runner,
                tr,
                supervisor=lambda: self.supervisor,
                say=lambda text, error: self._say(text, error=error),
                changed=self._load_journal,
            )
            self._add_tab(self.kiosks_tab, "kiosks")
        #: The last code issued (``Issued``), shown until the screen is left.
        self._issued: Any = None
        if services.enrolments is not None:
            self._add_tab(scrolling_area(self._enrol_tab()), "enrol")
        self.message = self.add_label("muted")
        self.back, _unused = self.add_nav()
        _unused.hide()
        self.back.clicked.connect(self.leave.emit)
        self.retranslate()

    # ------------------------------------------------------------------ building
    def _add_tab(self, page: QWidget, key: str) -> None:
        if isinstance(page, QScrollArea):
            # Not a Tab stop of its own (its buttons and boxes are), as a screen's body is.
            page.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.addTab(page, "")
        self._tab_keys.append((page, key))

    def _agents_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        self.accounts = _list()
        self.accounts.currentItemChanged.connect(lambda *_: self._selection_changed())
        column.addWidget(self.accounts, 1)
        row = QHBoxLayout()
        self.unlock_button = QPushButton()
        self.unlock_button.clicked.connect(self._unlock)
        self.disable_button = QPushButton()
        self.disable_button.clicked.connect(self._disable)
        row.addWidget(self.unlock_button)
        row.addWidget(self.disable_button)
        row.addStretch(1)
        column.addLayout(row)
        self.new_title = QLabel()
        self.new_title.setObjectName("subtitle")
        column.addWidget(self.new_title)
        form = QFormLayout()
        self.new_id = QLineEdit()
        self.new_id.setMaxLength(64)
        self.new_name = QLineEdit()
        self.new_name.setMaxLength(200)
        self.new_pin = QLineEdit()
        self.new_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_pin.setMaxLength(12)
        self.new_pin.setInputMethodHints(
            Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
        )
        self.new_supervisor = QCheckBox()
        self._agent_labels = [QLabel(), QLabel(), QLabel()]
        form.addRow(self._agent_labels[0], self.new_id)
        form.addRow(self._agent_labels[1], self.new_name)
        form.addRow(self._agent_labels[2], self.new_pin)
        form.addRow("", self.new_supervisor)
        # What a supervisor may do, on a line that wraps (a check box's own text never does).
        self.new_supervisor_help = QLabel()
        self.new_supervisor_help.setObjectName("muted")
        self.new_supervisor_help.setWordWrap(True)
        form.addRow("", self.new_supervisor_help)
        column.addLayout(form)
        self.create_button = QPushButton()
        self.create_button.setObjectName("primary")
        self.create_button.clicked.connect(self._create)
        column.addWidget(self.create_button, alignment=Qt.AlignmentFlag.AlignRight)
        return page

    def _counter_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        form = QFormLayout()
        self.counter_name = QLineEdit()
        self.counter_address = QPlainTextEdit()
        self.counter_address.setTabChangesFocus(True)
        self.counter_address.setMaximumHeight(140)
        self.counter_phone = QLineEdit()
        self.counter_phone.setInputMethodHints(Qt.InputMethodHint.ImhDialableCharactersOnly)
        self.counter_hours = QLineEdit()
        self._counter_labels = [QLabel(), QLabel(), QLabel(), QLabel()]
        for label, field in zip(
            self._counter_labels,
            (self.counter_name, self.counter_address, self.counter_phone, self.counter_hours),
            strict=True,
        ):
            form.addRow(label, field)
        column.addLayout(form)
        self.counter_save = QPushButton()
        self.counter_save.setObjectName("primary")
        self.counter_save.clicked.connect(self._save_counter)
        column.addWidget(self.counter_save, alignment=Qt.AlignmentFlag.AlignRight)
        if self.services.screen is not None:
            self._delays_part(column)
        column.addStretch(1)
        return page

    def _delays_part(self, column: QVBoxLayout) -> None:
        """How long the screen waits without a touch, and its warning's count-down: one tap
        per choice (WCAG 2.2.1: a counter whose public needs more time gets it)."""
        self.delays_title = QLabel()
        self.delays_title.setObjectName("subtitle")
        self.delays_title.setWordWrap(True)
        column.addWidget(self.delays_title)
        self.idle_label, self.warning_label = QLabel(), QLabel()
        self.idle_buttons: dict[int, QPushButton] = {}
        self.warning_buttons: dict[int, QPushButton] = {}
        for label, choices, buttons in (
            (self.idle_label, IDLE_CHOICES, self.idle_buttons),
            (self.warning_label, WARNING_CHOICES, self.warning_buttons),
        ):
            label.setWordWrap(True)
            column.addWidget(label)
            row = QHBoxLayout()
            group = QButtonGroup(self)
            for seconds in choices:
                button = WrappingButton()
                button.setCheckable(True)
                single_choice(button)
                group.addButton(button)
                buttons[seconds] = button
                row.addWidget(button)
            column.addLayout(row)
        self.delays_save = QPushButton()
        self.delays_save.setObjectName("primary")
        self.delays_save.clicked.connect(self._save_delays)
        column.addWidget(self.delays_save, alignment=Qt.AlignmentFlag.AlignRight)

    def _journal_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        self.verify_button = QPushButton()
        self.verify_button.clicked.connect(self._verify)
        column.addWidget(self.verify_button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.verdict)
        self.journal = _list()
        column.addWidget(self.journal, 1)
        return page

    def _retention_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        self.retention_text = QLabel()
        self.retention_text.setWordWrap(True)
        column.addWidget(self.retention_text)
        self.due_list = _list()
        column.addWidget(self.due_list, 1)
        self.purge_button = QPushButton()
        self.purge_button.setObjectName("primary")
        self.purge_button.clicked.connect(self._purge)
        column.addWidget(self.purge_button, alignment=Qt.AlignmentFlag.AlignRight)
        return page

    def _enrol_tab(self) -> QWidget:
        """A new kiosk of the site: its one-time code, as a QR code large enough to be read by
        the new kiosk's camera off this screen, the code under it, and until when it holds."""
        from ui.widgets.qr import QrView

        page = QWidget()
        column = QVBoxLayout(page)
        self.enrol_intro = QLabel()
        self.enrol_intro.setWordWrap(True)
        column.addWidget(self.enrol_intro)
        # The code beside the QR code, not under it: both in sight without scrolling on a
        # 1280×800 tablet (the QR code as large as the tab's height allows).
        row = QHBoxLayout()
        column.addLayout(row, 1)
        self.enrol_qr = QrView()
        self.enrol_qr.setFixedSize(320, 320)
        self.enrol_qr.hide()
        row.addWidget(self.enrol_qr)
        side = QVBoxLayout()
        row.addLayout(side, 1)
        self.enrol_button = QPushButton()
        self.enrol_button.setObjectName("primary")
        self.enrol_button.clicked.connect(self._enrol)
        side.addWidget(self.enrol_button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.enrol_code = QLabel()
        self.enrol_code.setObjectName("reference")  # large, monospace
        self.enrol_code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        side.addWidget(self.enrol_code)
        self.enrol_until = QLabel()
        self.enrol_until.setWordWrap(True)
        side.addWidget(self.enrol_until)
        side.addStretch(1)
        return page

    def _kiosk_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        self.quit_text = QLabel()
        self.quit_text.setWordWrap(True)
        column.addWidget(self.quit_text)
        form = QFormLayout()
        self.quit_pin_label = QLabel()
        self.quit_pin = QLineEdit()
        self.quit_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.quit_pin.setMaxLength(12)
        self.quit_pin.setInputMethodHints(
            Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
        )
        self.quit_pin_label.setBuddy(self.quit_pin)
        form.addRow(self.quit_pin_label, self.quit_pin)
        column.addLayout(form)
        self.quit_button = QPushButton()
        self.quit_button.clicked.connect(self._quit_kiosk)
        self.quit_pin.returnPressed.connect(self.quit_button.click)
        column.addWidget(self.quit_button, alignment=Qt.AlignmentFlag.AlignRight)
        column.addStretch(1)
        return page

    def retranslate(self) -> None:
        t = self.tr_.t
        self.title.setText(t("supervision.title"))
        for page, key in self._tab_keys:
            self.tabs.setTabText(self.tabs.indexOf(page), t(f"supervision.tab.{key}"))
        if self.kiosks_tab is not None:
            self.kiosks_tab.retranslate()
        if self.services.enrolments is not None:
            self.enrol_intro.setText(t("supervision.enrol.intro"))
            self.enrol_button.setText(t("supervision.enrol.button"))
            self.enrol_qr.setAccessibleName(t("supervision.enrol.qr"))
            if self._issued is not None:
                self._show_issued(self._issued)
        self.unlock_button.setText(t("supervision.unlock"))
        self.disable_button.setText(t("supervision.disable"))
        self.new_title.setText(t("supervision.new_agent"))
        for label, key in zip(self._agent_labels, ("id", "name", "pin"), strict=True):
            label.setText(t(f"supervision.agent.{key}"))
        self.new_pin.setAccessibleName(t("supervision.agent.pin"))
        self.new_supervisor.setText(t("supervision.agent.supervisor"))
        self.new_supervisor_help.setText(t("supervision.agent.supervisor_help"))
        self.new_supervisor.setAccessibleDescription(t("supervision.agent.supervisor_help"))
        self.create_button.setText(t("supervision.create"))
        for label, key in zip(
            self._counter_labels, ("name", "address", "phone", "hours"), strict=True
        ):
            label.setText(t(f"supervision.counter.{key}"))
        self.counter_save.setText(t("supervision.save"))
        if self.services.screen is not None:
            self.delays_title.setText(t("supervision.delays.title"))
            self.idle_label.setText(t("supervision.delays.idle"))
            self.warning_label.setText(t("supervision.delays.warning"))
            for seconds, button in (*self.idle_buttons.items(), *self.warning_buttons.items()):
                button.setText(_duration(seconds, t))
            self.delays_save.setText(t("supervision.delays.save"))
        self.verify_button.setText(t("supervision.verify"))
        self.purge_button.setText(t("supervision.purge"))
        self.quit_text.setText(t("supervision.quit.text"))
        self.quit_pin_label.setText(t("supervision.quit.pin"))
        self.quit_pin.setAccessibleName(t("supervision.quit.pin"))
        self.quit_button.setText(t("supervision.quit.button"))
        self.back.setText(t("supervision.back"))
        # What is on screen follows the language too.
        if self._said is not None:
            text, error = self._said
            self._say(text, error=error)
        if self._verdict is not None:
            self._show_verdict(self._verdict)
        if self._due is not None:
            self._show_due(self._due)

    # ------------------------------------------------------------------ opening
    def open(self, supervisor: AgentInfo) -> None:
        """Show the screen for ``supervisor`` and load each tab (off the UI thread)."""
        self.supervisor = supervisor
        self.message.clear()
        self._said = None
        self._load_accounts()
        self.runner.run(self.services.counter.get, on_done=self._show_counter)
        if self.services.screen is not None:
            self.runner.run(self.services.screen.get, on_done=self._show_delays)
        self._load_journal()
        self._load_due()
        if self.kiosks_tab is not None:
            self.kiosks_tab.load()

    def _say(self, text: Callable[[], str], *, error: bool = False) -> None:
        """Show a message, rendered again in the new language on a switch."""
        self._said = (text, error)
        restyle(self.message, "error" if error else "muted")
        self.message.setText(text())
        # The message is under the tabs, where the on-screen keyboard would cover it (a PIN
        # refused on « Quitter la borne », seen under Xvfb).
        QGuiApplication.inputMethod().hide()

    def _fail(self, exc: Exception) -> None:
        self._say(lambda: str(exc), error=True)

    # ------------------------------------------------------------------ agents
    def _load_accounts(self) -> None:
        by = self.supervisor
        self.runner.run(
            lambda: (self.services.agents.accounts(by=by), self.services.agents.now()),
            on_done=lambda result: self._show_accounts(*result),
            on_error=self._fail,
        )

    def _show_accounts(self, accounts: list[AgentAccount], now: Any) -> None:
        t = self.tr_.t
        self.accounts.clear()
        for account in accounts:
            info = account.info
            parts = [f"{info.nom} ({info.identifiant})"]
            if info.supervisor:
                parts.append(t("supervision.role.supervisor"))
            if not account.active:
                parts.append(t("supervision.state.disabled"))
            elif account.locked(now):
                assert account.locked_until is not None
                local = account.locked_until.astimezone()
                parts.append(t("supervision.state.locked", time=f"{local:%H:%M}"))
            item = QListWidgetItem(" — ".join(parts))
            item.setData(Qt.ItemDataRole.UserRole, account)
            self.accounts.addItem(item)
        self._selection_changed()

    def _selected(self) -> AgentAccount | None:
        item = self.accounts.currentItem()
        if item is None:
            return None
        account: AgentAccount = item.data(Qt.ItemDataRole.UserRole)
        return account

    def _selection_changed(self) -> None:
        account = self._selected()
        active = account is not None and account.active
        self.unlock_button.setEnabled(active and bool(account and account.failed_attempts))
        self.disable_button.setEnabled(active)

    def _unlock(self) -> None:
        self._account_action("unlock", "supervision.done.unlocked")

    def _disable(self) -> None:
        self._account_action("disable", "supervision.done.disabled")

    def _account_action(self, action: str, done_key: str) -> None:
        account, by = self._selected(), self.supervisor
        if account is None:
            return
        method = getattr(self.services.agents, action)
        self.runner.run(
            lambda: method(account.info.identifiant, by=by),
            on_done=lambda info: self._account_done(lambda: self.tr_.t(done_key, name=info.nom)),
            on_error=self._fail,
        )

    def _account_done(self, text: Callable[[], str]) -> None:
        self._say(text)
        self._load_accounts()
        self._load_journal()

    def _create(self) -> None:
        identifiant, nom, pin = self.new_id.text(), self.new_name.text(), self.new_pin.text()
        role = "superviseur" if self.new_supervisor.isChecked() else "agent"
        by = self.supervisor
        self.new_pin.clear()  # never left on screen, whatever happens

        def created(info: AgentInfo) -> None:
            self.new_id.clear()
            self.new_name.clear()
            self.new_supervisor.setChecked(False)
            self._account_done(lambda: self.tr_.t("supervision.done.created", name=info.nom))

        self.runner.run(
            lambda: self.services.agents.add(identifiant, nom, pin, role=role, by=by),
            on_done=created,
            on_error=self._fail,
        )

    # ------------------------------------------------------------------ counter
    def _show_counter(self, details: CounterDetails) -> None:
        self.counter_name.setText(details.name)
        self.counter_address.setPlainText("\n".join(details.address))
        self.counter_phone.setText(details.phone)
        self.counter_hours.setText(details.hours)

    def _save_counter(self) -> None:
        from kiosk.site.counter import CounterDetails

        lines = self.counter_address.toPlainText().splitlines()
        details = CounterDetails(
            name=self.counter_name.text().strip() or CounterDetails.name,
            address=tuple(line.strip() for line in lines if line.strip()),
            phone=self.counter_phone.text().strip(),
            hours=self.counter_hours.text().strip(),
        )
        by = self.supervisor
        self.runner.run(
            lambda: self.services.counter.set(details, by=by),
            on_done=lambda _: self._account_done(lambda: self.tr_.t("supervision.done.saved")),
            on_error=self._fail,
        )

    def _show_delays(self, delays: InactivityDelays) -> None:
        for buttons, value in (
            (self.idle_buttons, delays.idle_seconds),
            (self.warning_buttons, delays.warning_seconds),
        ):
            for seconds, button in buttons.items():
                button.setChecked(seconds == value)

    def _save_delays(self) -> None:
        from kiosk.site.screen import InactivityDelays

        idle = next((s for s, b in self.idle_buttons.items() if b.isChecked()), None)
        warning = next((s for s, b in self.warning_buttons.items() if b.isChecked()), None)
        screen = self.services.screen
        if idle is None or warning is None or screen is None:
            return  # a value saved by hand outside the choices: one must be tapped first
        delays = InactivityDelays(idle, warning)
        by = self.supervisor

        def saved(_: object) -> None:
            self.delays_changed.emit(delays)
            self._account_done(lambda: self.tr_.t("supervision.done.saved"))

        self.runner.run(lambda: screen.set(delays, by=by), on_done=saved, on_error=self._fail)

    # ------------------------------------------------------------------ kiosks
    def _enrol(self) -> None:
        enrolments, by = self.services.enrolments, self.supervisor
        if enrolments is None:
            return
        self.enrol_button.setEnabled(False)

        def issue() -> tuple[Any, tuple[tuple[bool, ...], ...]]:  # worker thread
            from kiosk.enrolment.sheet import qr_modules

            issued = enrolments.issue(by=by)
            return issued, qr_modules(issued.ticket.text)

        def issued(result: tuple[Any, tuple[tuple[bool, ...], ...]]) -> None:
            self.enrol_button.setEnabled(True)
            if self.supervisor is None:
                return  # signed out meanwhile: the code is not shown to whoever comes
            self._issued = result[0]
            self.enrol_qr.show_modules(result[1])
            self.enrol_qr.show()
            self._show_issued(result[0])
            self._load_journal()

        def failed(exc: Exception) -> None:
            self.enrol_button.setEnabled(True)
            self._fail(exc)

        self.runner.run(issue, on_done=issued, on_error=failed)

    def _show_issued(self, issued: Any) -> None:
        from kiosk.enrolment.sheet import expiry_text

        # Three groups a line: the six would not fit beside the QR code at this size.
        text = issued.code.text
        self.enrol_code.setText(self.tr_.data(f"{text[:17]}\n{text[18:]}"))
        self.enrol_code.setAccessibleName(text)
        self.enrol_until.setText(
            self.tr_.t(
                "supervision.enrol.until", time=self.tr_.data(expiry_text(issued.expires_at))
            )
        )

    # ------------------------------------------------------------------ journal
    def _load_journal(self) -> None:
        audit = self.services.audit
        if audit is not None:
            self.runner.run(lambda: audit.entries(limit=JOURNAL_ROWS), on_done=self._show_journal)

    def _show_journal(self, entries: list[Entry]) -> None:
        self.journal.clear()
        for e in entries:
            local = e.at.astimezone()
            text = f"{e.number}  {local:%d/%m/%Y %H:%M}  {e.label}"
            if e.dossier_ref:
                text += f"  {e.dossier_ref}"
            if e.detail and "par" in e.detail:
                text += f"  ({e.detail['par']})"
            self.journal.addItem(text)

    def _verify(self) -> None:
        audit = self.services.audit
        if audit is not None:
            self.runner.run(audit.verify, on_done=self._show_verdict, on_error=self._fail)

    def _show_verdict(self, result: Verification) -> None:
        self._verdict = result
        t = self.tr_.t
        if result.ok:
            self.verdict.setObjectName("subtitle")
            chains = len(result.chains)
            if chains > 1:  # a site store: a chain per counter (kiosk/security/audit.py)
                text = t(
                    "supervision.journal.ok_chains",
                    count=result.count,
                    chains=chains,
                    head=result.head[:16],
                )
            else:
                text = t("supervision.journal.ok", count=result.count, head=result.head[:16])
        else:
            self.verdict.setObjectName("error")
            breaks = "\n".join(b.message for b in result.breaks)
            text = t("supervision.journal.broken", count=len(result.breaks)) + "\n" + breaks
        self.verdict.style().polish(self.verdict)
        self.verdict.setText(text)

    # ------------------------------------------------------------------ retention
    def _load_due(self) -> None:
        retention = self.services.retention
        if retention is not None:
            self.runner.run(retention.due, on_done=self._show_due, on_error=self._fail)

    def _show_due(self, due: list[Purged]) -> None:
        self._due = due
        retention = self.services.retention
        assert retention is not None
        policy = retention.policy
        self.retention_text.setText(
            self.tr_.t(
                "supervision.retention.policy",
                decision=policy.after_decision.days,
                draft=policy.after_inactivity.days,
                count=len(due),
            )
        )
        self.due_list.clear()
        for d in due:
            self.due_list.addItem(f"{d.reference}  {d.state.label}  {d.last_change:%d/%m/%Y}")
        self.purge_button.setEnabled(bool(due))

    def _purge(self) -> None:
        retention = self.services.retention
        if retention is None:
            return
        self.purge_button.setEnabled(False)

        def done(report: PurgeReport) -> None:
            self._say(
                lambda: self.tr_.t(
                    "supervision.done.purged",
                    count=len(report.dossiers),
                    files=report.files_deleted,
                )
            )
            self._load_due()
            self._load_journal()

        self.runner.run(retention.purge, on_done=done, on_error=self._fail)

    # ------------------------------------------------------------------ leaving the kiosk
    def _quit_kiosk(self) -> None:
        pin, by = self.quit_pin.text(), self.supervisor
        self.quit_pin.clear()  # never left on screen, whatever happens
        agents = self.services.agents
        self.runner.run(
            lambda: agents.leave_kiosk(pin, by=by),
            on_done=lambda _: self.quit_kiosk.emit(),
            on_error=self._fail,
        )

    def clear_personal_data(self) -> None:
        self.supervisor = None
        for widget in (self.accounts, self.journal, self.due_list):
            widget.clear()
        for field in (self.new_id, self.new_name, self.new_pin, self.quit_pin):
            field.clear()
        self.verdict.clear()
        self.message.clear()
        self._said = self._verdict = self._due = None
        if self.services.enrolments is not None:  # a code is never left for the next agent
            self._issued = None
            self.enrol_qr.show_modules(())
            self.enrol_qr.hide()
            self.enrol_code.clear()
            self.enrol_until.clear()
        if self.kiosks_tab is not None:
            self.kiosks_tab.clear()
