"""Answering a dossier's questions: one answer (the autosave), an identity document read, a
repeatable group's item removed. Each is one transaction."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from kiosk.demarches import (
    Demarche,
    Field,
    FieldType,
    JSONValue,
    parse_value,
    validate_value,
    visible_fields,
)
from kiosk.demarches.model import condition_inputs, group_index_problem
from kiosk.dossiers.base import DossierBase, not_editable
from kiosk.dossiers.errors import DossierNotFound, UnknownField
from kiosk.dossiers.moves import move
from kiosk.dossiers.projection import project_one, reproject, sole_target
from kiosk.dossiers.states import DossierState
from kiosk.followup.correction import answer_locked, correction_scope
from kiosk.identity.model import DocumentKind, IdentityReading
from kiosk.messages import Message
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.models import Answer, Dossier, Event, Piece
from kiosk.store.portable import param, table_of, upsert_for
from kiosk.store.prepared import Prepared, Unit


@dataclass(frozen=True)
class AnswerResult:
    """What an autosave did: the stored (normalised) value and the dossier's state after it."""

    reference: str
    path: str
    value: JSONValue | None
    state: DossierState


#: The identity-document kinds of the definitions, for each kind of document read.
_NATURES = {
    DocumentKind.CNIE: "cni",
    DocumentKind.CNI_ANCIENNE: "cni",
    DocumentKind.PASSEPORT: "passeport",
}

#: The applicant's questions a document read answers: bind target → the reading's value.
_FROM_READING = ("usager.nom", "usager.prenoms", "usager.date_naissance")


def identity_answers(
    demarche: Demarche, answers: dict[str, JSONValue], reading: IdentityReading
) -> list[tuple[str, JSONValue]]:
    """``(path, value)`` for each visible question a document read answers: the applicant's
    name, given names and birth date (the fields bound to ``usager.*``, never a co-heir's or a
    deceased person's) and the identity-document question itself."""
    # What the document leaves empty (a person with no given name) does not clear what was
    # typed: only what the document says is written.
    from_reading: dict[str, JSONValue] = {
        bind: value
        for bind, value in (
            ("usager.nom", reading.surname),
            ("usager.prenoms", reading.given_names),
        )
        if value.strip()
    }
    if reading.birth_date is not None:
        from_reading["usager.date_naissance"] = reading.birth_date.isoformat()
    filled: list[tuple[str, JSONValue]] = []
    for path, field in visible_fields(demarche, answers):
        if "[" in path:
            continue
        if field.type is FieldType.IDENTITY_DOCUMENT:
            nature = _NATURES.get(reading.kind, "autre")
            filled.append((path, {"nature": nature, "numero": reading.document_number}))
        elif field.bind in from_reading:
            filled.append((path, from_reading[field.bind]))
    return filled


# The autosave's statements, compiled once (kiosk/store/prepared.py: issue 18's budget).
_DOSSIER, _ANSWER = table_of(Dossier), table_of(Answer)
#: The dossier an autosave writes to, its row locked until the commit on a site store, where
#: autosaves of several counters run together (kiosk/store/site.py): two counters saving the
#: same dossier queue there. SQLite's writers queue anyway (no ``FOR UPDATE`` is written).
_OPEN = Prepared(
    lambda _: (
        select(
            _DOSSIER.c.id,
            _DOSSIER.c.state,
            _DOSSIER.c.demarche_id,
            _DOSSIER.c.demarche_version,
            _DOSSIER.c.national_number,
            _DOSSIER.c.updated_at,
        )
        .where(_DOSSIER.c.reference == param(_DOSSIER.c.reference))
        .with_for_update()
    )
)
_CLEAR = Prepared(
    lambda _: delete(_ANSWER).where(
        _ANSWER.c.dossier_id == param(_ANSWER.c.dossier_id),
        _ANSWER.c.path == param(_ANSWER.c.path),
    )
)
_TOUCH = Prepared(
    lambda _: (
        update(_DOSSIER)
        .where(_DOSSIER.c.id == param(_DOSSIER.c.id, "dossier"))
        .values(updated_at=param(_DOSSIER.c.updated_at, "at"))
    )
)


def _save(dialect: str) -> Executable:
    """Insert the answer, or replace it when its value differs (the row count says which)."""
    values = {column: param(column) for column in _ANSWER.columns}
    upsert = upsert_for(dialect, _ANSWER).values(values)
    return upsert.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[_ANSWER.c.dossier_id, _ANSWER.c.path],
        set_={"value": upsert.excluded.value, "updated_at": upsert.excluded.updated_at},
        where=_ANSWER.c.value != upsert.excluded.value,
    )


_SAVE = Prepared(_save)


@functools.lru_cache(maxsize=1024)
def _question(demarche: Demarche, path: str) -> Field:
    """The question an answer at ``path`` answers, found once per démarche and path (the
    autosave asks at every answer; a path that names none raises every time).

    Raises:
        UnknownField: no such question, or a group item the démarche cannot have.
    """
    problem = group_index_problem(demarche, path)
    if problem is not None:
        raise UnknownField(problem)
    try:
        return demarche.field_for_path(path)
    except KeyError:
        raise UnknownField(
            f"La démarche « {demarche.title} » n'a pas de question « {path} »."
        ) from None


def _minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def _still_says(changed_at: datetime, now: datetime) -> bool:
    """Whether a dossier's time of change ``changed_at`` already says ``now`` to the minute.

    An autosave then leaves it as it is: rewriting it would write the dossier's row and its two
    indexes on that time, three of the eight pages an autosave wrote (issue 18), to change only
    seconds. Nothing that reads it looks closer than the minute: « modifié le » is shown to the
    minute (``kiosk dossier list``), a search lists the most recently changed first (two
    dossiers answered in the same minute keep the order of their first answer in it),
    retention counts days, the worklist and the payments read it for states no answer changes.
    The first answer of each minute writes it, so the minute shown is always the last answer's;
    a state change (:func:`move`), a document added, a document read or an item removed write
    it exactly as before. A time ahead of ``now`` (another counter's clock) is written again,
    as it always was.
    """
    return changed_at <= now and _minute(changed_at) == _minute(now)


def _is_index(text: str) -> bool:
    """``text`` is an item index as paths write it (``0``, ``12``; not ``01`` nor ``١``)."""
    return text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))


class DossierAnswers(DossierBase):
    """The answers of a dossier, saved the moment they are given."""

    def answer(
        self,
        reference: str,
        path: str,
        raw: str | JSONValue,
        *,
        agent_id: int | None = None,
    ) -> AnswerResult:
        """Validate and save one answer at once (autosave). An empty string clears it.

        Raises:
            FieldError: the value is not valid for the field (message for the agent).
            UnknownField, NotEditable, DossierNotFound.
        """
        ref = self._parse_ref(reference)
        # The lighter unit of work: the ORM is taken only for a correction or a dossier
        # « prêt » going back to « brouillon » (issue 18: the autosave's budget).
        with self._store.writing() as s:
            row = _OPEN.first(s, reference=ref)
            if row is None:
                raise DossierNotFound(ref)
            dossier_id, state_value, demarche_id, version, number, changed_at = row
            state = DossierState(state_value)
            if not state.editable:
                raise not_editable(ref, state)
            demarche = self._demarche(demarche_id, version)
            if number is not None:  # numbered by the service: maybe a correction
                self._check_open(s.session, ref, dossier_id, demarche, path)
            now = self._now()
            value, changed = self._write(s, dossier_id, demarche, path, raw, now)
            if not changed:  # saved again as it was: nothing to record, nothing to validate again
                return AnswerResult(reference=ref, path=path, value=value, state=state)
            state = self._after_change(s, dossier_id, state, now, agent_id, changed_at=changed_at)
            # The path only: the value is personal data and stays out of the journal.
            audit(
                s,
                AuditAction.DOSSIER_CHANGED,
                at=now,
                agent_id=agent_id,
                dossier_ref=ref,
                detail={"champ": path},
            )
        return AnswerResult(reference=ref, path=path, value=value, state=state)

    def apply_identity(
        self, reference: str, reading: IdentityReading, *, agent_id: int | None = None
    ) -> list[AnswerResult]:
        """Answer the applicant's identity questions from a document read, all or none.

        The journal keeps how the identity was checked (verdict, protocol, chip verified),
        never who the person is.

        Raises:
            FieldError: a value read does not fit its question (nothing is saved).
            NotEditable, DossierNotFound.
        """
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load_editable(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            now = self._now()
            answers = self._answers(s, dossier.id)
            filled = identity_answers(demarche, answers, reading)
            scope = correction_scope(s, dossier, demarche)
            if scope is not None:
                # A correction changes only what the service asked: the document read still
                # proves who is at the counter (the journal says so), its values fill only the
                # questions left open.
                filled = [
                    (path, value)
                    for path, value in filled
                    if scope.allows_answer(path, answered=path in answers)
                ]
            written = [
                (path, *self._write(s, dossier.id, demarche, path, value, now))
                for path, value in filled
            ]
            results = [(path, value) for path, value, _ in written]
            state = DossierState(dossier.state)
            if any(changed for _, _, changed in written):
                state = self._after_change(s, dossier.id, state, now, agent_id)
            evidence = {
                "verdict": reading.verdict.value,
                "protocole": reading.protocol,
                "puce_verifiee": reading.chip_verified,
            }
            s.add(
                Event(
                    dossier_id=dossier.id,
                    at=now,
                    kind="identite_lue",
                    agent_id=agent_id,
                    detail=evidence,
                )
            )
            audit(
                s,
                AuditAction.IDENTITY_READ,
                at=now,
                agent_id=agent_id,
                dossier_ref=ref,
                detail=evidence,
            )
        return [AnswerResult(ref, path, value, state) for path, value in results]

    def remove_group_item(
        self, reference: str, group_id: str, index: int, *, agent_id: int | None = None
    ) -> None:
        """Delete one item of a repeatable group (e.g. a co-heir) and renumber the next ones."""
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load_editable(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            if correction_scope(s, dossier, demarche) is not None:
                raise answer_locked(ref)  # an item's answers were given: the service has them
            # A negative index would remove every item (all are at or after it).
            problem = group_index_problem(demarche, f"{group_id}[{max(index, 0)}].x")
            if index < 0 or group_id not in {g.id for g in demarche.groups()} or problem:
                raise UnknownField(
                    Message(
                        "Le dossier {reference} n'a pas d'élément {index} de « {group} ».",
                        reference=ref,
                        index=str(index),
                        group=group_id,
                    )
                )
            prefix = f"{group_id}["
            rows = s.scalars(
                select(Answer).where(
                    Answer.dossier_id == dossier.id, Answer.path.startswith(prefix)
                )
            ).all()
            moved: list[tuple[str, Any, datetime]] = []
            for answer in rows:
                item, _, rest = answer.path[len(prefix) :].partition("]")
                if not _is_index(item):  # a row stored before indexes were checked: left alone
                    continue
                position = int(item)
                if position >= index:
                    s.delete(answer)
                    if position > index:
                        moved.append(
                            (f"{prefix}{position - 1}]{rest}", answer.value, answer.updated_at)
                        )
            s.flush()
            for path, value, at in moved:
                s.add(Answer(dossier_id=dossier.id, path=path, value=value, updated_at=at))
            self._renumber_pieces(s, dossier.id, group_id, index)
            now = self._now()
            reproject(s, dossier.id, demarche, self._answers(s, dossier.id))
            self._after_change(s, dossier.id, DossierState(dossier.state), now, agent_id)
            audit(
                s,
                AuditAction.DOSSIER_CHANGED,
                at=now,
                agent_id=agent_id,
                dossier_ref=ref,
                detail={"groupe": group_id, "retire": index},
            )

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _check_open(s: Session, ref: str, dossier_id: str, demarche: Demarche, path: str) -> None:
        """Refuse a change the national service did not ask for (a correction only)."""
        dossier = s.get(Dossier, dossier_id)
        assert dossier is not None  # read above, in this transaction
        scope = correction_scope(s, dossier, demarche)
        if scope is None:
            return
        answered = (
            s.scalar(
                select(Answer.path).where(Answer.dossier_id == dossier_id, Answer.path == path)
            )
            is not None
        )
        if not scope.allows_answer(path, answered=answered):
            raise answer_locked(ref)

    @staticmethod
    def _renumber_pieces(s: Session, dossier_id: str, group_id: str, index: int) -> None:
        """The documents follow their group item: the removed item's are set aside (no longer
        « fournie » nor tied to an item: never sent nor shown as provided; the record keeps its
        file, so that the purge erases it with the dossier's), the next items' move up."""
        prefix = f"{group_id}["
        pieces = s.scalars(
            select(Piece).where(Piece.dossier_id == dossier_id, Piece.item_path.startswith(prefix))
        ).all()
        for piece in pieces:
            item = (piece.item_path or "")[len(prefix) :].rstrip("]")
            if not _is_index(item) or int(item) < index:
                continue
            if int(item) == index:
                piece.status = "manquante"
                piece.item_path = None
            else:
                piece.item_path = f"{prefix}{int(item) - 1}]"

    def _write(  # noqa: PLR0917 - internal, called twice, each argument distinct
        self,
        s: Unit,
        dossier_id: str,
        demarche: Demarche,
        path: str,
        raw: str | JSONValue,
        now: datetime,
    ) -> tuple[JSONValue | None, bool]:
        """Check and store one answer (or clear it); re-project the bound columns if needed.

        Returns the value stored and whether it changed: an answer saved again as it was keeps
        its time (the mandate names the person as they were when it was signed).
        """
        field = _question(demarche, path)
        value: JSONValue | None
        if raw == "" or raw is None:
            value = None
        elif isinstance(raw, str):
            value = parse_value(field, raw)
        else:
            value = validate_value(field, raw)
        # One statement either way; its row count says whether anything changed (the stored
        # JSON is canonical, so the same value is the same text).
        if value is None:
            written = _CLEAR.execute(s, dossier_id=dossier_id, path=path)
        else:
            written = _SAVE.execute(
                s, dossier_id=dossier_id, path=path, value=value, updated_at=now
            )
        if not written:
            return value, False
        target = sole_target(demarche, path)
        if target is not None:
            project_one(s, dossier_id, target, value)  # its own columns, no other answer read
        elif field.bind or field.id in condition_inputs(demarche):
            # The answer may change which bound field is visible (SIV or FNI plate, …):
            # re-project every bind target from the visible answers.
            reproject(s, dossier_id, demarche, self._answers(s, dossier_id))
        return value, True

    def _after_change(
        self,
        unit: Unit,
        dossier_id: str,
        state: DossierState,
        now: datetime,
        agent_id: int | None,
        *,
        changed_at: datetime | None = None,
    ) -> DossierState:
        """Note the change on the dossier; one validated (« prêt ») goes back to « brouillon ».

        ``changed_at``: the dossier's time of change as read in this transaction (the
        autosave), left as it is when it already says ``now`` to the minute (:func:`_still_says`).
        """
        if state is DossierState.PRET:
            s = unit if isinstance(unit, Session) else unit.session
            dossier = s.get(Dossier, dossier_id)
            assert dossier is not None  # loaded above, in this transaction
            move(
                s,
                dossier,
                DossierState.BROUILLON,
                now=now,
                agent_id=agent_id,
                note="réponse modifiée après validation",
            )
            return DossierState.BROUILLON
        if changed_at is None or not _still_says(changed_at, now):
            _TOUCH.execute(unit, dossier=dossier_id, at=now)
        return state
