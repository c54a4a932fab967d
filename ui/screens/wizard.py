"""The wizard generated from a procedure definition: one step per screen, saved as answered.

Each answer is saved the moment it is given (off the UI thread); the validator's message appears
beside the field, in the person's language, and follows a language switch (the refused answer and
its error are kept until the answer is corrected; so are text typed and not saved yet, and the
identity document read, shown as it was). Steps, fields and repeatable groups appear and
disappear with the answers, as the definition's conditions say; the local copy of the answers only
mirrors what the store acknowledged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.demarches import (
    Demarche,
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
from ui.i18n import Translator
from ui.screens.base import Screen
from ui.services import WizardServices
from ui.tasks import TaskRunner
from ui.widgets.fields import FieldEditor, make_editor
from ui.widgets.identity import IdentityPanel

if TYPE_CHECKING:
    from kiosk.dossiers.service import AnswerResult
    from kiosk.dossiers.views import DossierView
    from kiosk.identity.model import IdentityReading


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
        self.identity_panel: IdentityPanel | None = None
        self._asked_to_fix = False  # the notice says "correct the answers in red first"

        self.header = QLabel()
        self.header.setObjectName("muted")
        self.layout_.insertWidget(0, self.header)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.layout_.addWidget(self.progress)
        self.step_help = self.add_label("muted")
        self.scroll_area = self.add_scroll_area()
        self.notice = self.add_label("error", hide_when_empty=True)
        self.back_button, self.next_button = self.add_nav()
        self.back_button.clicked.connect(self._back)
        self.next_button.clicked.connect(self._next)
        self.retranslate()

    # ---------------------------------------------------------------- opening
    def open(self, reference: str, *, at_end: bool = False, focus: str | None = None) -> None:
        """Load a dossier (off the UI thread) and show its first (or last) step, or the step of
        the answer ``focus``, that answer highlighted (a point missing, tapped on the review)."""
        self.reference = reference
        agent_id = self.agent_id
        self.runner.run(
            # Worker thread; the opening is written to the audit journal by the use case.
            lambda: self.services.dossiers.open(reference, agent_id=agent_id).view,
            on_done=lambda view: self._loaded(view, at_end, focus),
            on_error=lambda exc: self.notice.setText(self.tr_.error(exc)),
        )

    def _loaded(self, view: DossierView, at_end: bool, focus: str | None = None) -> None:
        summary = view.summary
        self.reference = summary.reference  # as the service writes it (shown in the header)
        self.demarche = self.services.catalog.get(summary.demarche_id, summary.demarche_version)
        self._condition_fields = condition_inputs(self.demarche)
        self.answers = dict(view.answers)
        self._rejected = {}
        self.step_index = len(self._steps()) - 1 if at_end else 0
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
        self.scroll_area.ensureWidgetVisible(editor)
        target = editor.focusProxy() or editor.nextInFocusChain()
        if target is not None and editor.isAncestorOf(target):
            target.setFocus()

    # ---------------------------------------------------------------- rendering
    def _localized(self) -> Demarche:
        assert self.demarche is not None
        return self.services.catalog.localized(self.demarche, self.tr_.lang)

    def _steps(self) -> list[Step]:
        return visible_steps(self._localized(), self.answers)

    def _render(self, identity_panel: IdentityPanel | None = None) -> None:
        """Build the current step; ``identity_panel``, a panel already on screen, goes on it."""
        if self.demarche is None:
            return
        steps = self._steps()
        self.header.setText(self.tr_.line(f"{self.reference} · {self._localized().title}"))
        self.step_index = max(0, min(self.step_index, len(steps) - 1))
        step = steps[self.step_index]
        self.title.setText(step.title)
        self.step_help.setText(step.help)
        self.step_help.setVisible(bool(step.help))
        self.progress.setMaximum(len(steps))
        self.progress.setValue(self.step_index + 1)
        self.progress.setAccessibleName(
            self.tr_.t("wizard.step", current=self.step_index + 1, total=len(steps))
        )
        self.next_button.setText(
            self.tr_.t("wizard.finish" if self.step_index == len(steps) - 1 else "wizard.next")
        )
        self.notice.setObjectName("error")
        self.notice.clear()
        self._asked_to_fix = False

        page = QWidget()
        form = QVBoxLayout(page)
        self.editors = {}
        # The person's language: same ids and conditions, translated texts.
        shown = visible_fields(self._localized(), self.answers, step.id)
        top_level = [(p, f) for p, f in shown if "[" not in p]
        self.identity_panel = None
        if any(f.type is FieldType.IDENTITY_DOCUMENT for _, f in top_level):
            if identity_panel is None:
                identity_panel = IdentityPanel(
                    self.services.identity,
                    self.runner,
                    self.tr_,
                    training_can=self.services.training_can,
                )
                identity_panel.accepted.connect(self._identity_accepted)
            else:
                identity_panel.retranslate()
            self.identity_panel = identity_panel
            form.addWidget(identity_panel)  # moved off the old page before it is deleted
        for path, field in top_level:
            form.addWidget(self._editor(path, field))
        values = effective_answers(self.demarche, self.answers)
        for group in step.groups:
            if evaluate_condition(group.condition, values):
                form.addWidget(
                    self._group(group, [(p, f) for p, f in shown if p.startswith(group.id + "[")])
                )
        form.addStretch(1)
        self.scroll_area.setWidget(page)
        self.header.setToolTip(
            self.tr_.t("wizard.step", current=self.step_index + 1, total=len(steps))
        )

    def _editor(self, path: str, field: object) -> FieldEditor:
        editor = make_editor(path, field, self.tr_)  # type: ignore[arg-type]
        editor.set_value(self.answers.get(path))
        rejected = self._rejected.get(path)
        if rejected is not None:
            raw, error = rejected
            editor.show_rejected(raw, error.localized(self.tr_.lang))
        editor.submitted.connect(self._save)
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
        self._render()
        self.notice.setObjectName("saved")
        self.notice.setText(self.tr_.t("identity.saved"))
        self._settle()

    def _add_item(self, group_id: str, count: int) -> None:
        # The new item exists only on screen until its first answer is saved.
        self.answers[group_id] = count + 1
        self._render()

    def _remove_item(self, group_id: str, index: int) -> None:
        self._pending += 1
        self.runner.run(
            lambda: self.services.dossiers.remove_group_item(self.reference, group_id, index),
            on_done=lambda _: self._after_remove(),
            on_error=self._failed,
        )

    def _after_remove(self) -> None:
        self._pending -= 1
        self.open(self.reference)

    # ---------------------------------------------------------------- saving
    def _save(self, path: str, raw: str) -> None:
        self._pending += 1
        self.next_button.setEnabled(False)
        self.runner.run(
            lambda: self.services.dossiers.answer(
                self.reference, path, raw, agent_id=self.agent_id
            ),
            on_done=self._saved,
            on_error=lambda exc: self._save_failed(path, raw, exc),
        )

    def _saved(self, result: AnswerResult) -> None:
        self._pending -= 1
        self._rejected.pop(result.path, None)
        if result.value is None:
            self.answers.pop(result.path, None)
        else:
            self.answers[result.path] = result.value
        editor = self.editors.get(result.path)
        before = [s.id for s in self._steps()]
        if self._visibility_changed(result.path):
            self._render()
            editor = self.editors.get(result.path)
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
        else:
            self.notice.setText(self.tr_.t("error.generic", message=str(exc)))
        self._settle()

    def _failed(self, exc: Exception) -> None:
        self._pending -= 1
        self.notice.setText(self.tr_.t("error.generic", message=str(exc)))
        self._settle()

    def _visibility_changed(self, path: str) -> bool:
        """Whether the answer at ``path`` can show or hide a step, a field or a group."""
        assert self.demarche is not None
        field_id = path.rsplit(".", 1)[-1]
        return field_id in self._condition_fields

    def _settle(self) -> None:
        if self._pending:
            return
        self.next_button.setEnabled(True)
        if self._move_after_save:
            direction, self._move_after_save = self._move_after_save, 0
            self._move(direction)

    # ---------------------------------------------------------------- navigation
    def _has_errors(self) -> bool:
        return any(bool(e.property("invalid")) for e in self.editors.values())

    def _next(self) -> None:
        focused = self.focusWidget()
        if focused is not None:
            focused.clearFocus()  # a text box being typed in saves now (editingFinished)
        if self._pending:
            self._move_after_save = 1
            return
        self._move(1)

    def _back(self) -> None:
        self._move(-1)

    def _move(self, direction: int) -> None:
        if direction > 0 and self._has_errors():
            self._ask_to_fix()
            return
        target = self.step_index + direction
        if target < 0:
            self.leave.emit()
        elif target >= len(self._steps()):
            self.review.emit(self.reference)
        else:
            self.step_index = target
            self._render()

    def _ask_to_fix(self) -> None:
        self.notice.setText(self.tr_.t("wizard.fix_first"))
        self._asked_to_fix = True

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

    def clear_personal_data(self) -> None:
        self.reference = ""
        self.demarche = None
        self.answers = {}
        self._rejected = {}
        self.editors = {}
        self.identity_panel = None
        self.scroll_area.takeWidget()
        self.header.clear()
