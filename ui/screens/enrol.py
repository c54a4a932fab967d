"""« Borne à configurer »: what a kiosk with no credentials opens on. The agent scans the QR code
shown by a supervisor's kiosk (or printed), or types the code under it; the kiosk receives its
credentials and its site's settings (kiosk/enrolment/), then asks to be restarted to use them.

No secret is typed here but the one-time code itself; a typo is told before anything is sent
(the code's check symbol), the national service's refusals (wrong, expired, used) in French.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.accessibility import LiveLabel
from ui.screens.base import Screen
from ui.theme import restyle
from ui.widgets.fields import CODE_HINTS

if TYPE_CHECKING:
    from kiosk.enrolment.service import Enrolled
    from ui.i18n import Translator
    from ui.services import EnrolServices
    from ui.tasks import TaskRunner
    from ui.widgets.camera import CaptureView


class NoEnrolmentCode(Exception):
    """The photo holds no enrolment QR code (said in the agent's language by the screen)."""


class EnrolScreen(Screen):
    """Type or scan the enrolment code; then « Borne configurée » and a restart."""

    #: « Plus tard »: on to the sign-in, the kiosk still unconfigured (dossiers stay queued).
    later = Signal()
    #: « Redémarrer la borne »: the window ends the kiosk to start it again on its new settings.
    restart_asked = Signal()

    def __init__(self, services: EnrolServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.enrolled: Enrolled | None = None
        self.capture: CaptureView | None = None
        self._busy = False
        self._said: str | None = None  # a key of the catalogue, or None with an error's text
        self._error = ""
        self.body = self._form()
        self.layout_.addWidget(self.body, 1)
        self.done = self._done_part()
        self.done.hide()
        self.layout_.addWidget(self.done, 1)
        self.retranslate()

    def _form(self) -> QWidget:
        """The code to type, the address it goes to, and the buttons."""
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        column.addWidget(self.intro)
        self.code_label = QLabel()
        column.addWidget(self.code_label)
        self.code = QLineEdit()
        self.code.setObjectName("code")
        self.code.setMaxLength(80)
        self.code.setInputMethodHints(CODE_HINTS)
        self.code.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
        self.code.returnPressed.connect(self.submit)
        self.code_label.setBuddy(self.code)
        column.addWidget(self.code)
        self.address = QLabel()
        self.address.setObjectName("muted")
        self.address.setWordWrap(True)
        column.addWidget(self.address)
        self.status = LiveLabel()
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        column.addStretch(1)
        row = QHBoxLayout()
        self.later_button = QPushButton()
        self.later_button.clicked.connect(self.later.emit)
        row.addWidget(self.later_button)
        row.addStretch(1)
        self.scan_button = QPushButton()
        self.scan_button.clicked.connect(self.scan)
        row.addWidget(self.scan_button)
        self.submit_button = QPushButton()
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self.submit)
        row.addWidget(self.submit_button)
        column.addLayout(row)
        return body

    def _done_part(self) -> QWidget:
        """« Borne configurée »: what was received, and the restart."""
        part = QWidget()
        done = QVBoxLayout(part)
        done.setContentsMargins(0, 0, 0, 0)
        self.done_text = QLabel()
        self.done_text.setWordWrap(True)
        self.done_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        done.addWidget(self.done_text)
        done.addStretch(1)
        self.restart_button = QPushButton()
        self.restart_button.setObjectName("primary")
        self.restart_button.clicked.connect(self.restart_asked.emit)
        done.addWidget(self.restart_button, alignment=Qt.AlignmentFlag.AlignRight)
        return part

    # ------------------------------------------------------------------ texts
    def retranslate(self) -> None:
        t = self.tr_.t
        self.title.setText(t("enrol.done_title" if self.enrolled else "enrol.title"))
        self.intro.setText(t("enrol.intro"))
        self.code_label.setText(t("enrol.code"))
        self.code.setAccessibleName(t("enrol.code"))
        self.address.setText(t("enrol.address", url=self.tr_.data(self.services.api_url)))
        self.later_button.setText(t("enrol.later"))
        self.scan_button.setText(t("enrol.scan"))
        self.submit_button.setText(t("enrol.submit"))
        self.restart_button.setText(t("enrol.restart"))
        problem = self._scan_problem()
        self.scan_button.setEnabled(problem is None)
        self.scan_button.setToolTip(problem or "")
        self.scan_button.setAccessibleDescription(problem or "")
        if self.enrolled is not None:
            self._show_done(self.enrolled)
        self._show_status()
        if self.capture is not None:
            self.capture.retranslate(t("enrol.scan_subject"))

    def _say(self, key: str | None, error: str = "") -> None:
        """Show a message of the catalogue (``key``), or an error's own text."""
        self._said, self._error = key, error
        self._show_status()

    def _show_status(self) -> None:
        if self._said is None and not self._error:
            self.status.clear()
            return
        restyle(self.status, "muted" if self._said == "enrol.working" else "error")
        self.status.setText(self.tr_.t(self._said) if self._said else self._error)

    # ------------------------------------------------------------------ typing
    def submit(self) -> None:
        """Enrol with the code typed."""
        self._redeem(self.code.text())

    def _redeem(self, text: str) -> None:
        if self._busy or self.enrolled is not None:
            return
        self._busy = True
        self.submit_button.setEnabled(False)
        self._say("enrol.working")
        enrolment = self.services.enrolment
        self.runner.run(
            lambda: enrolment.redeem(text), on_done=self._enrolled, on_error=self._failed
        )

    def _failed(self, exc: Exception) -> None:
        self._busy = False
        self.submit_button.setEnabled(True)
        self._say(None, self.tr_.error(exc))
        self.code.setFocus(Qt.FocusReason.OtherFocusReason)

    def _enrolled(self, enrolled: Enrolled) -> None:
        self._busy = False
        self.enrolled = enrolled
        self._say(None)
        self.code.clear()  # the code is spent: never left on the screen
        self.body.hide()
        self.done.show()
        self.title.setText(self.tr_.t("enrol.done_title"))
        self._show_done(enrolled)
        self.restart_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_done(self, enrolled: Enrolled) -> None:
        self.done_text.setText(
            self.tr_.t(
                "enrol.done",
                client=self.tr_.data(enrolled.client_id),
                url=self.tr_.data(enrolled.site.api_url),
                file=self.tr_.data(str(enrolled.settings_file)),
            )
        )

    # ------------------------------------------------------------------ the camera
    def _scan_problem(self) -> str | None:
        """Why the QR code cannot be scanned here (no camera, no reader program), or None."""
        camera, codes = self.services.camera, self.services.codes
        if camera is None or codes is None:
            return self.tr_.t("enrol.no_camera")
        problem = codes.unavailable()
        if problem is not None:
            return problem
        fault = camera.problem()
        return str(fault) if fault is not None else None

    def scan(self) -> None:
        """The camera's view in place of the form; « Lire le code » reads the QR code."""
        camera, codes = self.services.camera, self.services.codes
        if camera is None or codes is None or self.capture is not None or self._busy:
            return
        from kiosk.enrolment.code import TICKET_MARK
        from ui.widgets.camera import CaptureView

        def read(data: bytes, _mime_type: str) -> str:  # worker thread
            found = [text for text in codes.read_codes(data) if text.startswith(TICKET_MARK)]
            if not found:
                raise NoEnrolmentCode
            return found[0]

        def failure(exc: Exception) -> str:
            if isinstance(exc, NoEnrolmentCode):
                return self.tr_.t("enrol.no_code")
            return self.tr_.error(exc)

        view = CaptureView(
            camera,
            self.runner,
            self.tr_,
            document=self.tr_.t("enrol.scan_subject"),
            save=read,
            keep_key="enrol.scan_read",
            hint_key="enrol.scan_hint",
            failure=failure,
        )
        view.finished.connect(lambda kept: self._scanned(view, kept))
        self.capture = view
        self.body.hide()
        self.layout_.addWidget(view, 1)
        view.start()

    def _scanned(self, view: CaptureView, kept: bool) -> None:
        if view is not self.capture:
            return
        self.capture = None
        view.close_view()
        self.layout_.removeWidget(view)
        view.hide()
        view.setParent(None)  # a job still holding it finds it closed
        self.body.show()
        if kept and isinstance(view.result, str):
            from kiosk.enrolment.code import InvalidCode, read_ticket

            # A code unreadable is said by the redemption, in the words of a code typed.
            with contextlib.suppress(InvalidCode):
                self.code.setText(read_ticket(view.result).code.text)
            self._redeem(view.result)

    def clear_personal_data(self) -> None:
        """Nothing of a person here; the code typed is not left for the next one to see."""
        if self.enrolled is None and not self._busy:
            self.code.clear()
