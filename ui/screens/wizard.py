"""The wizard generated from a procedure definition: one step per screen, saved as answered.

Each answer is saved the moment it is given (off the UI thread); the validator's message appears
beside the field, in the person's language, and follows a language switch (the refused answer and
its error are kept until the answer is corrected; so are text typed and not saved yet, and the
identity document read, shown as it was). Steps, fields and repeatable groups appear and
disappear with the answers, as the definition's conditions say; the local copy of the answers only
mirrors what the store acknowledged.

At the counter: a tap on « Suivant » right after typing waits for the answer to be saved, then
moves on (the button is never disabled under the finger); the keyboard's Enter goes to the next
question; « Suivant » marks the step's mandatory questions left empty and warns once (the person
may bring the answer later: a second tap moves on, the review lists what is missing). A page built
again for the same step keeps its scroll position and the question being answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from kiosk.demarches import (
    Demarche,
    Field,
    FieldError,
    FieldType,
    Group,
    JSONValue,
    Step,
    effective_answers,
    evaluate_condition,
    group_item_count,
    missing_required,
    visible_fields,
    visible_steps,
)
from kiosk.demarches.model import condition_inputs
from kiosk.messages import LocalizedError
from ui.accessibility import announce
from ui.i18n import Translator
from ui.screens.base import MessageLabel, Screen
from ui.services import WizardServices
from ui.tasks import TaskRunner
from ui.widgets.fields import FieldEditor, make_editor
from ui.widgets.identity import IdentityPanel
from ui.widgets.listen import ListenButton, question_texts
from ui.widgets.scrolling import drop_page, scroll_back

if TYPE_CHECKING:
    from kiosk.dossiers.queries import CounterDossier
    from kiosk.dossiers.service import AnswerResult
    from kiosk.dossiers.views import DossierView
    from kiosk.followup.correction import CorrectionScope
    from kiosk.identity.model import IdentityReading


#: The answers a card read fills (besides the identity document question itself).
_READ_FROM_CARD = frozenset({"usager.nom", "usager.prenoms", "usager.date_naissance"})


@dataclass(frozen=True)
class _Focus:
    """The input being used when a step's page is built again: its question (answer path), the
    kind of input and its rank among that question's inputs of that kind, and what it held."""

    path: str
    kind: type[QWidget]
    index: int
    typed: str | None


#: How often answers the store could not take are saved again (milliseconds).
RETRY_UNSAVED_MS = 5_000


class WizardScreen(Screen):
    """Questions of one dossier, step by step."""

    review = Signal(str)  # reference: every step seen, go to the review
    leave = Signal()  # back from the first step

    def __init__(self, services: WizardServices, runner: TaskRunner, tr: Translator) -> None:
        super().__init__(runner, tr)
        self.services = services
        self.reference = ""
        self.demarche: Demarche | None = None
        self.answers: dict[str, JSONValue] = {}
        self.step_index = 0
        self.editors: dict[str, FieldEditor] = {}
        self._pending = 0
        self._move_after_save = 0
        self._condition_fields: frozenset[str] = frozenset()
        #: Answers the validator refused (never saved): path -> (what was typed, why).
        self._rejected: dict[str, tuple[str, FieldError]] = {}
        #: Answers typed but not stored (the store could not be reached: a site server gone):
        #: kept on screen, saved again every few seconds, and the step is not left without them.
        self._unsaved: dict[str, str] = {}
        self._retry = self._retry_timer()
        self.identity_panel: IdentityPanel | None = None
        self._keyboard_up = False
        self._opening = 0  # which open() the screen waits for (a late load is dropped)
        self._asked_to_fix = False  # the notice says "correct the answers in red first"
        #: The step whose missing answers were pointed out (the next « Suivant » moves on).
        self._warned_step: str | None = None
        self._shown_step: str | None = None  # the step the page on screen was built for
        #: Where the keyboard's Enter leads, in order: each question's text boxes or buttons.
        self._stops: list[QWidget] = []
        #: The message line of each repeatable group on the page (too few items, …).
        self._group_notes: dict[str, QLabel] = {}
        self._missing_notice = False  # the notice is the missing answers' warning
        #: What the national service asked to change (a dossier sent back), None otherwise:
        #: every other answer given is shown locked.
        self.correction: CorrectionScope | None = None

        self.header = QLabel()
        self.header.setObjectName("muted")
        self.header.setWordWrap(True)  # a long démarche's name at twice the text size
        self.step_count = QLabel()  # « Étape 3 sur 8 »
        self.step_count.setObjectName("subtitle")
        header_row = QHBoxLayout()
        header_row.addWidget(self.header, 1)
        header_row.addWidget(self.step_count)
        self.layout_.insertLayout(0, header_row)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.layout_.addWidget(self.progress)
        self.step_help = self.add_label("muted")
        self.correction_note = self.add_label("subtitle", hide_when_empty=True)
        self.scroll_area = self.add_scroll_area()
        self.notice = self.add_label("error", hide_when_empty=True)
        self.back_button, self.next_button = self.add_nav()
        #: « Écouter », beside « Retour » (the row's height: the window grows no taller): the
        #: question read aloud (:meth:`_spoken`), absent without speech.
        self.listen = ListenButton(services.speech, tr, self._spoken)
        nav = self.layout_.itemAt(self.layout_.count() - 1)
        nav_row = nav.layout() if nav is not None else None
        assert isinstance(nav_row, QHBoxLayout)  # add_nav's row, just added
        nav_row.insertWidget(1, self.listen)
        self.back_button.clicked.connect(self._back)
        self.next_button.clicked.connect(self._next)
        self.retranslate()

    # ---------------------------------------------------------------- opening
    def open(self, reference: str, *, at_end: bool = False, focus: str | None = None) -> None:
        """Load a dossier (off the UI thread) and show its first (or last) step, or the step of
        the answer ``focus``, that answer highlighted (a point missing, tapped on the review)."""
        # Nothing of the dossier shown before stays on screen while this one loads: a field
        # edited on the old page would be saved into the new reference.
        self.clear_personal_data()
        self.reference = reference
        agent_id = self.agent_id
        opening = self._opening

        def current() -> bool:  # a later open (or « Accueil ») makes this load's result stale
            return opening == self._opening

        def opened(dossier: CounterDossier) -> None:
            if current():
                self.correction = dossier.correction
                self._loaded(dossier.view, at_end, focus)

        self.runner.run(
            # Worker thread; the opening is written to the audit journal by the use case.
            lambda: self.services.dossiers.open(reference, agent_id=agent_id),
            on_done=opened,
            on_error=lambda exc: self.notice.setText(self.tr_.error(exc)) if current() else None,
        )

    def _loaded(self, view: DossierView, at_end: bool, focus: str | None = None) -> None:
        summary = view.summary
        self.reference = summary.reference  # as the service writes it (shown in the header)
        self.demarche = self.services.catalog.get(summary.demarche_id, summary.demarche_version)
        self._condition_fields = condition_inputs(self.demarche)
        self.answers = dict(view.answers)
        self._rejected = {}
        self._forget_unsaved()
        self._shown_step = None  # another dossier, or opened again: from the top of its step
        self.step_index = len(self._steps()) - 1 if at_end else 0
        if focus is None and not at_end and self.correction is not None:
            # Straight to the first answer the service asked to correct.
            asked = sorted(self.correction.fields)
            focus = next((p for p in asked if p in self.answers), None)
        if focus is not None:
            self.step_index = self._step_of(focus, default=self.step_index)
        self._render()
        if focus is not None:
            self._highlight(focus)

    def _step_of(self, path: str, *, default: int) -> int:
        """The index of the visible step that asks ``path`` (a question or a group)."""
        localized = self._localized()
        for index, step in enumerate(self._steps()):
            asked = {p for p, _ in visible_fields(localized, self.answers, step.id)}
            if path in asked or any(g.id == path for g in step.groups):
                return index
        return default

    def _highlight(self, path: str) -> None:
        """Mark the answer at ``path`` as still to give, scroll to it and put the focus in it."""
        editor = self.editors.get(path)
        if editor is None:
            return
        for issue in missing_required(self._localized(), self.answers):
            if issue.path == path:
                editor.set_error(issue.localized(self.tr_.lang))
        self._bring_into_view(editor, top=True)
        target = editor.focusProxy() or editor.nextInFocusChain()
        if target is not None and editor.isAncestorOf(target):
            target.setFocus()

    # ---------------------------------------------------------------- rendering
    def _localized(self) -> Demarche:
        assert self.demarche is not None
        return self.services.catalog.localized(self.demarche, self.tr_.lang)

    def _steps(self) -> list[Step]:
        return visible_steps(self._localized(), self.answers)

    def _show_position(self, total: int, title: str, *, new_step: bool) -> None:
        """« Étape 3 sur 8 », the progress bar and the next button's word; a new step is said
        once to a screen reader (its title takes the focus)."""
        self.progress.setMaximum(total)
        self.progress.setValue(self.step_index + 1)
        step_count = self.tr_.t("wizard.step", current=self.step_index + 1, total=total)
        self.progress.setAccessibleName(step_count)
        self.step_count.setText(step_count)
        if new_step and self.isVisible():
            announce(self.title, self.tr_.t("a11y.step", step=step_count, title=title))
        last = self.step_index == total - 1
        self.next_button.setText(self.tr_.t("wizard.finish" if last else "wizard.next"))

    def _render(self, identity_panel: IdentityPanel | None = None) -> None:
        """Build the current step; ``identity_panel``, a panel already on screen, goes on it."""
        if self.demarche is None:
            return
        steps = self._steps()
        self.header.setText(self.tr_.line(f"{self.reference} · {self._localized().title}"))
        self.step_index = max(0, min(self.step_index, len(steps) - 1))
        step = steps[self.step_index]
        # The same step built again (a choice that shows a question, a language switch): the
        # person stays where they were on the page, on the question they were answering.
        same_step = step.id == self._shown_step
        scrolled = self.scroll_area.verticalScrollBar().value() if same_step else 0
        focus = self._focused_input() if same_step else None
        focused_before = QApplication.focusWidget() if same_step else None
        if not same_step:
            self._warned_step = None
        self._shown_step = step.id
        self.title.setText(step.title)
        self.step_help.setText(step.help)
        self.step_help.setVisible(bool(step.help) and not self._keyboard_up)
        self.correction_note.setText(
            self.tr_.t("wizard.correction") if self.correction is not None else ""
        )
        self._show_position(len(steps), step.title, new_step=not same_step)
        self._notice_style("error")
        self.notice.clear()
        self._asked_to_fix = False
        self._missing_notice = False

        page = QWidget()
        form = QVBoxLayout(page)
        self.editors = {}
        self._group_notes = {}
        # The person's language: same ids and conditions, translated texts.
        shown = visible_fields(self._localized(), self.answers, step.id)
        top_level = [(p, f) for p, f in shown if "[" not in p]
        self.identity_panel = None
        if any(f.type is FieldType.IDENTITY_DOCUMENT for _, f in top_level):
            self.identity_panel = self._identity_panel(identity_panel)
            form.addWidget(self.identity_panel)  # moved off the old page before it is deleted
            self._lock_read(self.identity_panel, top_level)
        for path, field in top_level:
            form.addWidget(self._editor(path, field))
        values = effective_answers(self.demarche, self.answers)
        for group in step.groups:
            if evaluate_condition(group.condition, values):
                form.addWidget(
                    self._group(group, [(p, f) for p, f in shown if p.startswith(group.id + "[")])
                )
        form.addStretch(1)
        self._stops = [stop for editor in self.editors.values() for stop in editor.focus_stops()]
        for stop in self._stops:
            if isinstance(stop, QLineEdit):
                stop.returnPressed.connect(lambda s=stop: self._focus_after(s))
        self.scroll_area.setWidget(page)
        self._settle_focus(same_step, scrolled, focus, focused_before)
        if self._warned_step == step.id:
            self._mark_missing()  # still marked after the page is built again (or re-worded)

    def _settle_focus(
        self, same_step: bool, scrolled: int, focus: _Focus | None, before: QWidget | None
    ) -> None:
        """After a page is built: Tab goes through the questions before « Retour » /
        « Suivant »; a new step starts from its title; the same step keeps the focus where it
        was (the question being answered, or a widget moved to the new page: the identity
        panel's), else on the title. Never nowhere: the next Tab would start from the top bar."""
        self.order_tabs()
        if same_step:
            self._restore(scrolled, focus)
        was_here = before is not None and isValid(before) and self.isAncestorOf(before)
        if not self.isVisible() or (same_step and not was_here):
            return  # (a language switch tapped in the top bar: the focus stays there)
        now = QApplication.focusWidget()
        if same_step and now is not None and self.isAncestorOf(now):
            return  # put back by _restore
        if same_step and before is not None and was_here and before.isVisible():
            before.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.take_focus()

    def _notice_style(self, name: str) -> None:
        """Style the notice line as ``name`` (« error », « saved »), painted at once."""
        if self.notice.objectName() != name:
            self.notice.setObjectName(name)
            self.notice.style().unpolish(self.notice)
            self.notice.style().polish(self.notice)

    def keyboard_shown(self, up: bool) -> None:
        """While the on-screen keyboard is up, the step's progress bar and help give their room
        to the questions (the step's title and count stay)."""
        self._keyboard_up = up
        self.progress.setVisible(not up)
        self.step_help.setVisible(not up and bool(self.step_help.text()))

    def _lock_read(self, panel: IdentityPanel, top_level: list[tuple[str, Field]]) -> None:
        """In a correction where nothing the card would fill may change, no read is offered."""
        correction = self.correction
        if correction is None:
            return
        if not any(
            correction.allows_answer(p, answered=p in self.answers)
            for p, f in top_level
            if f.type is FieldType.IDENTITY_DOCUMENT or (f.bind or "") in _READ_FROM_CARD
        ):
            panel.setEnabled(False)
            panel.setToolTip(self.tr_.t("wizard.locked"))

    def _identity_panel(self, kept: IdentityPanel | None) -> IdentityPanel:
        """The step's card reader: the one already on screen (re-worded), or a new one."""
        if kept is not None:
            kept.retranslate()
            return kept
        panel = IdentityPanel(
            self.services.identity,
            self.runner,
            self.tr_,
            training_can=self.services.training_can,
            photos=self.services.identity_photos,
        )
        panel.accepted.connect(self._identity_accepted)
        # The verdict, the photo and « Utiliser ces informations » in view once the card is read
        # (after the keyboard has gone, which gives them its room).
        panel.shown.connect(lambda: self._bring_into_view(panel.confirm, panel.verdict))
        return panel

    def _bring_into_view(self, *widgets: QWidget, top: bool = False) -> None:
        """Scroll the page so that ``widgets`` are on screen (the last one given wins), once the
        page is laid out: a widget just built or shown has no place on it yet."""

        def scroll() -> None:
            page = self.scroll_area.widget()
            for widget in widgets:
                if isValid(widget) and page is not None and page.isAncestorOf(widget):
                    if top and widget.height() + 32 > self.scroll_area.viewport().height():
                        # Opened on a question taller than the page's window (an address
                        # asked by a correction): its top, where its question is, rather than
                        # its last line.
                        y = widget.mapTo(page, widget.rect().topLeft()).y()
                        self.scroll_area.verticalScrollBar().setValue(max(0, y - 16))
                    else:
                        self.scroll_area.ensureWidgetVisible(widget, 16, 16)

        QTimer.singleShot(0, self, scroll)

    def _focus_first_to_answer(self, among: list[str] | None = None) -> None:
        """Put the focus in the first mandatory question not answered yet (of ``among``, if
        given) and bring it into view: the agent types on without looking for it."""
        for path, editor in self.editors.items():
            if among is not None and path not in among:
                continue
            if not editor.field.required or path in self.answers:
                continue
            stops = editor.focus_stops()
            if stops and isinstance(stops[0], QLineEdit | QPlainTextEdit):
                stops[0].setFocus(Qt.FocusReason.OtherFocusReason)
                # The question, then its box (the last wins): a question taller than the page's
                # window (twice the text size, the keyboard up) still shows the box typed in.
                self._bring_into_view(editor, stops[0])
            return

    def _editor(self, path: str, field: object) -> FieldEditor:
        editor = make_editor(path, field, self.tr_)  # type: ignore[arg-type]
        editor.set_value(self.answers.get(path))
        rejected = self._rejected.get(path)
        if rejected is not None:
            raw, error = rejected
            editor.show_rejected(raw, error.localized(self.tr_.lang))
        editor.submitted.connect(self._save)
        if self.correction is not None and not self.correction.allows_answer(
            path, answered=path in self.answers
        ):
            # Not asked by the service: shown as given, and cannot change (the domain refuses
            # it anyway; greyed, nobody types into a box for nothing).
            editor.setEnabled(False)
            editor.setToolTip(self.tr_.t("wizard.locked"))
            editor.setAccessibleDescription(self.tr_.t("wizard.locked"))
        self.editors[path] = editor
        return editor

    def _group(self, group: Group, members: list[tuple[str, object]]) -> QWidget:
        box = QFrame()
        box.setObjectName("panel")
        layout = QVBoxLayout(box)
        heading = QLabel(group.title)
        heading.setObjectName("subtitle")
        layout.addWidget(heading)
        count = group_item_count(group.id, self.answers)
        for index in range(count):
            row = QHBoxLayout()
            label = QLabel(self.tr_.t("wizard.item", item=group.item_label, number=index + 1))
            label.setObjectName("subtitle")
            row.addWidget(label, 1)
            remove = QPushButton(self.tr_.t("wizard.remove_item"))
            remove.clicked.connect(lambda _=False, i=index, g=group.id: self._remove_item(g, i))
            row.addWidget(remove)
            layout.addLayout(row)
            prefix = f"{group.id}[{index}]."
            for path, field in members:
                if path.startswith(prefix):
                    layout.addWidget(self._editor(path, field))
        if group.max_items is None or count < group.max_items:
            add = QPushButton(self.tr_.t("wizard.add_item", item=group.item_label))
            add.setObjectName(f"add-{group.id}")
            add.clicked.connect(lambda _=False, g=group.id, n=count: self._add_item(g, n))
            layout.addWidget(add)
        note = MessageLabel()
        note.setObjectName("error")
        layout.addWidget(note)
        self._group_notes[group.id] = note
        return box

    def _identity_accepted(self, reading: IdentityReading) -> None:
        """Answer the applicant's identity questions from the document read: one use case, one
        transaction (all the answers or none), off the UI thread."""
        reference = self.reference
        self._pending += 1
        self.runner.run(
            lambda: self.services.dossiers.apply_identity(
                reference, reading, agent_id=self.agent_id
            ),
            on_done=self._identity_saved,
            on_error=self._failed,
        )

    def _identity_saved(self, results: list[AnswerResult]) -> None:
        self._pending -= 1
        for result in results:
            if result.value is not None:
                self.answers[result.path] = result.value
        self._render(self.identity_panel)
        self._notice_style("saved")  # (not red: nothing is wrong)
        self.notice.setText(self.tr_.t("identity.saved"))
        self._focus_first_to_answer()  # what the card does not say (birthplace…), typed next
        self._settle()

    def _add_item(self, group_id: str, count: int) -> None:
        # The new item exists only on screen until its first answer is saved.
        self.answers[group_id] = count + 1
        self._render()

    def _remove_item(self, group_id: str, index: int) -> None:
        self._pending += 1
        reference, agent_id = self.reference, self.agent_id  # as tapped, not as the job starts
        self.runner.run(
            lambda: self.services.dossiers.remove_group_item(
                reference, group_id, index, agent_id=agent_id
            ),
            on_done=lambda _: self._after_remove(),
            on_error=self._failed,
        )

    def _after_remove(self) -> None:
        self._pending -= 1
        self.open(self.reference)

    # ---------------------------------------------------------------- saving
    def _save(self, path: str, raw: str) -> None:
        # The Next button stays enabled: this save starts when a tap on it takes the focus from
        # the field, and a button disabled under the finger would lose the tap (its release).
        # « Suivant » waits for the saves instead (``_move_after_save``).
        self._pending += 1
        reference, agent_id = self.reference, self.agent_id  # as typed, not as the job starts
        self.runner.run(
            lambda: self.services.dossiers.answer(reference, path, raw, agent_id=agent_id),
            on_done=self._saved,
            on_error=lambda exc: self._save_failed(path, raw, exc),
        )

    def _saved(self, result: AnswerResult) -> None:
        self._pending -= 1
        self._rejected.pop(result.path, None)
        if self._unsaved.pop(result.path, None) is not None and not self._unsaved:
            self._notice_style("saved")  # the store is back: said, then the warning goes
            self.notice.setText(self.tr_.t("wizard.unsaved_done"))
        if result.value is None:
            self.answers.pop(result.path, None)
        else:
            self.answers[result.path] = result.value
        editor = self.editors.get(result.path)
        before = [s.id for s in self._steps()]
        if self._visibility_changed(result.path):
            asked = set(self.editors)
            self._render()
            editor = self.editors.get(result.path)
            stops = editor.focus_stops() if editor is not None else []
            if stops and not isinstance(stops[0], QLineEdit | QPlainTextEdit):
                # A choice that asks more (« par SMS » → the phone number): typed next.
                self._focus_first_to_answer([p for p in self.editors if p not in asked])
        if editor is not None:
            editor.set_saved()
        if [s.id for s in self._steps()] != before:
            self._render()
        self._settle()

    def _save_failed(self, path: str, raw: str, exc: Exception) -> None:
        self._pending -= 1
        self._move_after_save = 0
        editor = self.editors.get(path)
        if isinstance(exc, FieldError) and editor is not None:
            self._rejected[path] = (raw, exc)
            editor.set_error(exc.localized(self.tr_.lang))
        elif isinstance(exc, LocalizedError) and exc.transient:
            # The store could not be reached (the site's server gone, a disk full): what was
            # typed stays on screen and is saved again until it is stored.
            self._unsaved[path] = raw
            self._notice_style("error")
            self.notice.setText(self.tr_.t("wizard.unsaved", message=self.tr_.error(exc)))
            self._retry.start()
        else:
            self.notice.setText(self.tr_.t("error.generic", message=self.tr_.error(exc)))
        self._settle()

    def _retry_timer(self) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(RETRY_UNSAVED_MS)
        timer.timeout.connect(self._save_unsaved)
        return timer

    def _save_unsaved(self) -> None:
        """Try the answers not yet stored again (one at a time, each in its own job)."""
        for path, raw in list(self._unsaved.items()):
            self._save(path, raw)

    def _forget_unsaved(self) -> None:
        self._unsaved = {}
        self._retry.stop()

    def _failed(self, exc: Exception) -> None:
        self._pending -= 1
        self.notice.setText(self.tr_.t("error.generic", message=self.tr_.error(exc)))
        self._settle()

    def _visibility_changed(self, path: str) -> bool:
        """Whether the answer at ``path`` can show or hide a step, a field or a group."""
        assert self.demarche is not None
        field_id = path.rsplit(".", 1)[-1]
        return field_id in self._condition_fields

    def _settle(self) -> None:
        if self._pending:
            return
        if self._warned_step is not None and self._warned_step == self._shown_step:
            # What was just answered is no longer marked; the warning goes with the last one.
            self._mark_missing(say_it=self._missing_notice)
        if self._move_after_save:
            direction, self._move_after_save = self._move_after_save, 0
            self._move(direction)

    # ---------------------------------------------------------------- navigation
    def _has_errors(self) -> bool:
        return any(bool(e.property("invalid")) for e in self.editors.values())

    def _next(self) -> None:
        QGuiApplication.inputMethod().hide()  # « Suivant » puts the keyboard away
        focused = self.focusWidget()
        if focused is not None:
            # A text box being typed in saves now (editingFinished). Nothing takes the focus
            # after it: keys typed while the step changes go nowhere, never into a field.
            focused.clearFocus()
        if self._pending:
            self._move_after_save = 1
            return
        self._move(1)

    def _back(self) -> None:
        self._move(-1)

    def _move(self, direction: int) -> None:
        if self._unsaved:
            # Leaving the step would drop what is typed but not stored: try again now, and
            # say so (the notice is already on screen).
            self._save_unsaved()
            return
        if direction > 0 and self._has_errors():
            self._ask_to_fix()
            return
        if direction > 0 and self._warned_step != self._shown_step:
            missing = self._mark_missing()
            if missing:
                self._warned_step = self._shown_step  # said once: the next tap moves on
                self._show_first(missing[0])
                return
        target = self.step_index + direction
        if target < 0:
            self.leave.emit()
        elif target >= len(self._steps()):
            self.review.emit(self.reference)
        else:
            self.step_index = target
            self.listen.stop()  # the step left behind is no longer read
            self._render()

    def _ask_to_fix(self) -> None:
        self.notice.setText(self.tr_.t("wizard.fix_first"))
        self._asked_to_fix = True
        refused = next((e for e in self.editors.values() if e.property("invalid")), None)
        if refused is not None:
            self._focus_question(refused)

    def _focus_question(self, editor: FieldEditor) -> None:
        """The focus on a question's label (its error or « obligatoire » read with it, and the
        next Tab in its answer), not in its box: no on-screen keyboard comes up by itself."""
        focused = QApplication.focusWidget()
        if focused is None or not editor.isAncestorOf(focused):
            editor.label.setFocus(Qt.FocusReason.OtherFocusReason)

    def _mark_missing(self, *, say_it: bool = True) -> list[str]:
        """Mark the step's mandatory questions left empty and warn; their paths, in order.

        The domain's own rule (``missing_required``), kept to the questions on this page.
        """
        issues = [
            issue
            for issue in missing_required(self._localized(), self.answers)
            if issue.path in self.editors or issue.path in self._group_notes
        ]
        missing = {issue.path for issue in issues}
        for path, editor in self.editors.items():
            if path in missing and path not in self._rejected:  # a refused one says why
                editor.set_missing(self.tr_.t("wizard.missing"))
        for group_id, note in self._group_notes.items():
            note.setText(
                next((i.localized(self.tr_.lang) for i in issues if i.path == group_id), "")
            )
        if issues and say_it:
            self._notice_style("error")
            self.notice.setText(
                self.tr_.t("wizard.missing_warning", button=self.next_button.text())
            )
            self._missing_notice = True
        elif not issues and self._missing_notice:
            self.notice.clear()
            self._missing_notice = False
        return [issue.path for issue in issues]

    def _show_first(self, path: str) -> None:
        """Scroll the first question marked into view: all of it if it fits, else down to its
        red line (a tall one, the identity document's, would show only its top)."""
        editor = self.editors.get(path)
        if editor is None:
            self.scroll_area.ensureWidgetVisible(self._group_notes[path])
            self._group_notes[path].setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.scroll_area.ensureWidgetVisible(editor)
        self.scroll_area.ensureWidgetVisible(editor.message)
        self._focus_question(editor)

    # ---------------------------------------------------------------- the keyboard's Enter
    def _focus_after(self, stop: QWidget) -> None:
        """Enter in a text box: on to the next question of the step, or to « Suivant » after
        the last one (the keyboard goes; the step does not move on by itself)."""
        index = self._stops.index(stop) if stop in self._stops else len(self._stops)
        following = self._stops[index + 1] if index + 1 < len(self._stops) else self.next_button
        following.setFocus(Qt.FocusReason.OtherFocusReason)  # (Tab would select its text)
        # In view above the keyboard, with its question's label: typed into without a swipe.
        question = next((e for e in self.editors.values() if e.isAncestorOf(following)), None)
        self._bring_into_view(*(w for w in (question, following) if w is not None))

    # ---------------------------------------------------------------- building again
    def _focused_input(self) -> _Focus | None:
        """The question being answered, to find it again on the page built anew."""
        focused = QApplication.focusWidget()
        for path, editor in self.editors.items():
            if focused is not None and editor.isAncestorOf(focused):
                kind = type(focused)
                index = editor.findChildren(kind).index(focused)
                # Typed but not saved yet (it is saved when the box is left): kept.
                typed = focused.text() if isinstance(focused, QLineEdit) else None
                return _Focus(path, kind, index, typed)
        return None

    def _restore(self, scrolled: int, focus: _Focus | None) -> None:
        scroll_back(self.scroll_area, scrolled)
        editor = self.editors.get(focus.path) if focus is not None else None
        if focus is None or editor is None:
            return
        inputs = editor.findChildren(focus.kind)
        if focus.index >= len(inputs):
            return
        widget = inputs[focus.index]
        typed = focus.typed
        if isinstance(widget, QLineEdit) and typed is not None and widget.text() != typed:
            widget.setText(typed)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)  # (Tab would select all its text)

    def retranslate(self) -> None:
        self.back_button.setText(self.tr_.t("wizard.back"))
        asked_to_fix = self._asked_to_fix
        # A language switch loses nothing on screen: the identity panel moves to the new page as
        # it is (the document read and its photo, a read under way), and the new editors show
        # what the old ones did, text typed and not yet saved included.
        shown = {path: editor.on_screen() for path, editor in self.editors.items()}
        self._render(self.identity_panel)
        for path, editor in self.editors.items():
            if path in shown:
                editor.put_back(shown[path])
        if asked_to_fix and self._has_errors():  # still to do: say it in the new language
            self._ask_to_fix()

    def _spoken(self) -> list[str]:
        """What « Écouter » reads, in the screen's language: the question being answered (the
        one with the focus), or else the step's title and help and each of its questions; the
        warning under them when there is one. Never an answer (ui/widgets/listen.py)."""
        focused = QApplication.focusWidget()
        asked = [e for e in self.editors.values() if focused and e.isAncestorOf(focused)]
        texts = [] if asked else [self.title.text(), self.step_help.text()]
        for editor in asked or self.editors.values():
            texts += question_texts(editor, self.tr_, self._rejected.get(editor.path))
        if self._asked_to_fix or self._missing_notice:  # the wizard's own sentences only
            texts.append(self.notice.text())
        return texts

    def clear_personal_data(self) -> None:
        self.listen.stop()
        self.reference = ""
        self.demarche = None
        self.answers = {}
        self._rejected = {}
        self._forget_unsaved()
        self.editors = {}
        self.identity_panel = None
        self._pending = 0
        self._move_after_save = 0
        self._opening += 1  # whatever is still loading is for a dossier no longer on screen
        self.correction = None
        self._stops = []
        self._group_notes = {}
        self._shown_step = None
        self._warned_step = None
        drop_page(self.scroll_area)
        self.header.clear()
        self.step_count.clear()
