"""What a démarche asks and requires, given the answers so far.

Answers are a flat mapping from an answer path (`nom`, `coheritiers[1].nom`) to a stored value.
Fields are walked in definition order and a hidden field counts as unanswered: an answer left over
from a branch the person backed out of (a theft turned out to be a loss) must not keep the police
declaration in the checklist. Conditions only read earlier fields (the loader enforces it), so one
pass suffices.

The number of items of a repeatable group is the highest index answered plus one, or the integer
stored under the group id itself when the UI has added items that are still empty (whichever is
larger).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from kiosk.demarches.model import (
    AllOf,
    AnyOf,
    Condition,
    Demarche,
    DocumentRequirement,
    Equals,
    Field,
    Filled,
    Group,
    Issue,
    JSONValue,
    Not,
    Note,
    OneOf,
    Step,
    format_path,
    parse_path,
)
from kiosk.demarches.validators import FieldError
from kiosk.demarches.values import validate_value
from kiosk.messages import Message

__all__ = [
    "applicable_notes",
    "bound_values",
    "effective_answers",
    "evaluate_condition",
    "group_item_count",
    "invalid_answers",
    "is_complete",
    "is_filled",
    "is_visible",
    "missing_required",
    "remove_group_item",
    "required_documents",
    "visible_fields",
    "visible_steps",
]


def is_filled(value: JSONValue) -> bool:
    """An answer is given when it is not None nor empty (a blank text box is no answer)."""
    if value is None:
        return False
    if isinstance(value, str | list | dict):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def evaluate_condition(condition: Condition | None, values: Mapping[str, JSONValue]) -> bool:
    """Evaluate against field-id -> value; a missing field equals nothing and is in nothing."""
    if condition is None:
        return True
    if isinstance(condition, Equals):
        value = values.get(condition.field)
        # bool is an int in Python: compare types too, so `true` never equals the text "1".
        return type(value) is type(condition.value) and value == condition.value
    if isinstance(condition, OneOf):
        value = values.get(condition.field)
        return any(type(value) is type(v) and value == v for v in condition.values)
    if isinstance(condition, Filled):
        return is_filled(values.get(condition.field)) is condition.expected
    if isinstance(condition, Not):
        return not evaluate_condition(condition.item, values)
    if isinstance(condition, AllOf):
        return all(evaluate_condition(item, values) for item in condition.items)
    assert isinstance(condition, AnyOf)
    return any(evaluate_condition(item, values) for item in condition.items)


def group_item_count(group_id: str, answers: Mapping[str, JSONValue]) -> int:
    """How many items a repeatable group has in these answers."""
    explicit = answers.get(group_id)
    count = explicit if isinstance(explicit, int) and not isinstance(explicit, bool) else 0
    for path in answers:
        try:
            parsed = parse_path(path)
        except ValueError:
            continue
        if parsed.group == group_id and parsed.index is not None:
            count = max(count, parsed.index + 1)
    return count


@dataclass
class _Walk:
    """The visible part of a démarche for one set of answers."""

    values: dict[str, JSONValue] = field(default_factory=dict)  # visible top-level answers
    steps: list[Step] = field(default_factory=list)
    fields: list[tuple[str, Field, str]] = field(default_factory=list)  # path, field, step id
    groups: list[tuple[Group, int]] = field(default_factory=list)  # visible group, item count
    items: dict[str, list[dict[str, JSONValue]]] = field(default_factory=dict)  # per-item context


def _walk(demarche: Demarche, answers: Mapping[str, JSONValue]) -> _Walk:
    walk = _Walk()
    for step in demarche.steps:
        if not evaluate_condition(step.condition, walk.values):
            continue
        walk.steps.append(step)
        for item in step.fields:
            if evaluate_condition(item.condition, walk.values):
                walk.fields.append((item.id, item, step.id))
                if item.id in answers:
                    walk.values[item.id] = answers[item.id]
        for group in step.groups:
            if not evaluate_condition(group.condition, walk.values):
                continue
            count = group_item_count(group.id, answers)
            walk.groups.append((group, count))
            contexts = walk.items.setdefault(group.id, [])
            for index in range(count):
                context = dict(walk.values)  # siblings are read on top of the top-level answers
                for member in group.fields:
                    if evaluate_condition(member.condition, context):
                        path = format_path(member.id, group.id, index)
                        walk.fields.append((path, member, step.id))
                        if path in answers:
                            context[member.id] = answers[path]
                contexts.append(context)
    return walk


def visible_steps(demarche: Demarche, answers: Mapping[str, JSONValue]) -> list[Step]:
    """The steps to show, in order."""
    return _walk(demarche, answers).steps


def visible_fields(
    demarche: Demarche, answers: Mapping[str, JSONValue], step_id: str | None = None
) -> list[tuple[str, Field]]:
    """`(answer path, field)` for every visible question (of one step if `step_id`), in order."""
    return [
        (path, item)
        for path, item, owner in _walk(demarche, answers).fields
        if step_id is None or owner == step_id
    ]


def is_visible(demarche: Demarche, answers: Mapping[str, JSONValue], path: str) -> bool:
    """Whether the question at `path` is asked with these answers."""
    return any(p == path for p, _, _ in _walk(demarche, answers).fields)


def effective_answers(demarche: Demarche, answers: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """Only the answers to visible questions: what is sent, without abandoned branches."""
    return {
        path: answers[path]
        for path, _, _ in _walk(demarche, answers).fields
        if path in answers and is_filled(answers[path])
    }


def missing_required(demarche: Demarche, answers: Mapping[str, JSONValue]) -> list[Issue]:
    """Mandatory visible questions without an answer, and groups below their minimum count."""
    walk = _walk(demarche, answers)
    issues: list[Issue] = []
    for path, item, _ in walk.fields:
        if item.required and not is_filled(answers.get(path)):
            parsed = parse_path(path)
            if parsed.group is None:
                reason = Message("« {label} » : réponse obligatoire.", label=item.label)
            else:
                reason = Message(
                    "« {label} » ({item} {number}) : réponse obligatoire.",
                    label=item.label,
                    item=demarche.group(parsed.group).item_label,
                    number=(parsed.index or 0) + 1,
                )
            issues.append(Issue(path, reason))
    for group, count in walk.groups:
        if count < group.min_items:
            reason = Message(
                "« {title} » : il en faut au moins {minimum} (actuellement {count}).",
                title=group.title,
                minimum=group.min_items,
                count=count,
            )
            issues.append(Issue(group.id, reason))
    return issues


def invalid_answers(
    demarche: Demarche, answers: Mapping[str, JSONValue], *, today: date | None = None
) -> list[Issue]:
    """Visible answers that no longer pass their validator, and groups above their maximum."""
    walk = _walk(demarche, answers)
    issues: list[Issue] = []
    for path, item, _ in walk.fields:
        value = answers.get(path)
        if not is_filled(value):
            continue
        try:
            validate_value(item, value, today=today)
        except FieldError as error:
            reason = Message("« {label} » : {error}", label=item.label, error=error.reason)
            issues.append(Issue(path, reason))
    for group, count in walk.groups:
        if group.max_items is not None and count > group.max_items:
            reason = Message(
                "« {title} » : {maximum} au plus (actuellement {count}).",
                title=group.title,
                maximum=group.max_items,
                count=count,
            )
            issues.append(Issue(group.id, reason))
    return issues


def required_documents(
    demarche: Demarche, answers: Mapping[str, JSONValue]
) -> list[DocumentRequirement]:
    """The documents this dossier needs, in definition order (one per item for per-item rules)."""
    walk = _walk(demarche, answers)
    needed: list[DocumentRequirement] = []
    for rule in demarche.documents:
        if rule.for_each is None:
            if evaluate_condition(rule.condition, walk.values):
                needed.append(DocumentRequirement(rule.kind, rule.label, rule.help))
            continue
        for index, context in enumerate(walk.items.get(rule.for_each, [])):
            if evaluate_condition(rule.condition, context):
                item_path = f"{rule.for_each}[{index}]"
                needed.append(DocumentRequirement(rule.kind, rule.label, rule.help, item_path))
    return needed


def applicable_notes(demarche: Demarche, answers: Mapping[str, JSONValue]) -> list[Note]:
    """The information to give the person for these answers (e.g. "a new number will be issued")."""
    values = _walk(demarche, answers).values
    return [note for note in demarche.notes if evaluate_condition(note.condition, values)]


def bound_values(demarche: Demarche, answers: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """Bind target -> answer for visible answered fields (the last one wins a shared target)."""
    walk = _walk(demarche, answers)
    return {
        item.bind: walk.values[path]
        for path, item, _ in walk.fields
        if item.bind is not None and is_filled(walk.values.get(path))
    }


def is_complete(
    demarche: Demarche,
    answers: Mapping[str, JSONValue],
    *,
    provided_documents: Collection[str] | None = None,
    today: date | None = None,
) -> bool:
    """Ready to send: nothing missing, nothing invalid, and (if given) every required document.

    Args:
        provided_documents: document kinds already collected; None skips the document check.
    """
    if missing_required(demarche, answers) or invalid_answers(demarche, answers, today=today):
        return False
    if provided_documents is None:
        return True
    return all(doc.kind in provided_documents for doc in required_documents(demarche, answers))


def remove_group_item(
    answers: Mapping[str, JSONValue], group_id: str, index: int
) -> dict[str, JSONValue]:
    """New answers without item `index` of a group, later items renumbered to keep indices dense."""
    result: dict[str, JSONValue] = {}
    for path, value in answers.items():
        try:
            parsed = parse_path(path)
        except ValueError:
            result[path] = value
            continue
        if parsed.group != group_id or parsed.index is None:
            result[path] = value
        elif parsed.index != index:
            shifted = parsed.index - 1 if parsed.index > index else parsed.index
            result[format_path(parsed.field, group_id, shifted)] = value
    explicit = answers.get(group_id)
    if isinstance(explicit, int) and not isinstance(explicit, bool) and explicit > index:
        result[group_id] = explicit - 1
    return result
