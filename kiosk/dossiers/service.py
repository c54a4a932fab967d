"""The dossier application service: every user action on a dossier is one method here.

Each method is one unit of work (one transaction): an answer is saved the moment it is given, and
a state change is written together with its journal entry. Methods run on whatever thread calls
them (the UI calls them from its worker thread, never from the UI thread); they share nothing but
the :class:`~kiosk.store.Store`, whose write transactions queue behind ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.demarches import (
    Catalog,
    Demarche,
    FieldError,
    FieldType,
    JSONValue,
    invalid_answers,
    missing_required,
    parse_value,
    required_documents,
    validate_value,
)
from kiosk.demarches.model import condition_inputs
from kiosk.dossiers.errors import (
    DossierNotFound,
    Incomplete,
    NotEditable,
    UnknownDemarche,
    UnknownField,
)
from kiosk.dossiers.projection import reproject
from kiosk.dossiers.reference import InvalidReference, new_reference, parse_reference
from kiosk.dossiers.search import search_dossiers
from kiosk.dossiers.states import DossierState, check_transition
from kiosk.dossiers.views import (
    Document,
    DossierSummary,
    DossierView,
    JournalEntry,
    Missing,
)
from kiosk.messages import Message
from kiosk.security.audit import AuditAction, safe_detail
from kiosk.security.audit import record as audit
from kiosk.store.engine import Store
from kiosk.store.models import Answer, Dossier, Event, Piece, Setting, Usager, Vehicule
from kiosk.sync.outbox import on_state_change

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class AnswerResult:
    """What an autosave did: the stored (normalised) value and the dossier's state after it."""

    reference: str
    path: str
    value: JSONValue | None
    state: DossierState


RECEIPT_KEY_SETTING = "receipt_key"

# Journal kinds written through record_event, and the audit action each one is.
_EVENT_ACTIONS = {
    "recepisse": AuditAction.RECEIPT_PRINTED,
    "identite_lue": AuditAction.IDENTITY_READ,
}


class DossierService:
    """Create, answer, look up and move dossiers through their life cycle."""

    def __init__(self, store: Store, catalog: Catalog, *, clock: Clock = utc_now) -> None:
        self._store = store
        self._catalog = catalog
        self._now = clock

    # ----------------------------------------------------------------- creation and answers

    def create(
        self, demarche_id: str, *, agent_id: int | None = None, training: bool = False
    ) -> DossierSummary:
        """Start a dossier on the latest version of a démarche, pinned from now on."""
        try:
            demarche = self._catalog.latest(demarche_id)
        except KeyError:
            known = ", ".join(sorted({d.id for d in self._catalog.all()}))
            raise UnknownDemarche(
                f"Démarche inconnue : « {demarche_id} ». Démarches disponibles : {known}."
            ) from None
        now = self._now()
        for _attempt in range(5):  # a reference collision is astronomically rare; retry anyway
            dossier = Dossier(
                id=str(uuid.uuid4()),
                reference=new_reference(),
                demarche_id=demarche.id,
                demarche_version=demarche.version,
                state=DossierState.BROUILLON.value,
                routage=demarche.routage,
                created_at=now,
                updated_at=now,
                agent_id=agent_id,
                training=training,
            )
            try:
                with self._store.write() as s:
                    s.add(dossier)
                    s.flush()
                    s.add(
                        Event(
                            dossier_id=dossier.id,
                            at=now,
                            kind="creation",
                            to_state=DossierState.BROUILLON.value,
                            agent_id=agent_id,
                            detail={"demarche": demarche.id, "version": demarche.version},
                        )
                    )
                    audit(
                        s,
                        AuditAction.DOSSIER_CREATED,
                        at=now,
                        agent_id=agent_id,
                        dossier_ref=dossier.reference,
                        detail={"demarche": demarche.id, "version": demarche.version},
                    )
            except IntegrityError:
                continue
            return self._summary(dossier, None, None)
        raise RuntimeError("could not draw a unique reference in 5 attempts")

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
        with self._store.write() as s:
            row = s.execute(
                select(
                    Dossier.id, Dossier.state, Dossier.demarche_id, Dossier.demarche_version
                ).where(Dossier.reference == ref)
            ).one_or_none()
            if row is None:
                raise DossierNotFound(ref)
            dossier_id, state_value, demarche_id, version = row
            state = DossierState(state_value)
            if not state.editable:
                raise NotEditable(
                    Message(
                        "Le dossier {reference} est « {state} » : ses réponses ne peuvent plus"
                        " être modifiées.",
                        reference=ref,
                        state=state.label,
                    )
                )
            demarche = self._demarche(demarche_id, version)
            try:
                field = demarche.field_for_path(path)
            except KeyError:
                raise UnknownField(
                    f"La démarche « {demarche.title} » n'a pas de question « {path} »."
                ) from None
            value: JSONValue | None
            if raw == "" or raw is None:
                value = None
            elif isinstance(raw, str):
                value = parse_value(field, raw)
            else:
                value = validate_value(field, raw)
            now = self._now()
            if value is None:
                s.execute(
                    delete(Answer).where(Answer.dossier_id == dossier_id, Answer.path == path)
                )
            else:
                s.execute(
                    sqlite_insert(Answer)
                    .values(dossier_id=dossier_id, path=path, value=value, updated_at=now)
                    .on_conflict_do_update(
                        index_elements=[Answer.dossier_id, Answer.path],
                        set_={"value": value, "updated_at": now},
                    )
                )
            if field.bind or field.id in condition_inputs(demarche):
                # The answer may change which bound field is visible (SIV or FNI plate, …):
                # re-project every bind target from the visible answers.
                reproject(s, dossier_id, demarche, self._answers(s, dossier_id))
            values: dict[str, Any] = {"updated_at": now}
            if state is DossierState.PRET:
                # An answer changed after validation: the dossier must be validated again.
                values["state"] = DossierState.BROUILLON.value
                self._journal(
                    s,
                    dossier_id,
                    (state, DossierState.BROUILLON),
                    agent_id=agent_id,
                    now=now,
                    detail={"raison": "réponse modifiée après validation"},
                )
                audit(
                    s,
                    AuditAction.STATE_CHANGED,
                    at=now,
                    agent_id=agent_id,
                    dossier_ref=ref,
                    detail={"de": state.value, "vers": DossierState.BROUILLON.value},
                )
                state = DossierState.BROUILLON
            s.execute(update(Dossier).where(Dossier.id == dossier_id).values(**values))
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

    def remove_group_item(
        self, reference: str, group_id: str, index: int, *, agent_id: int | None = None
    ) -> None:
        """Delete one item of a repeatable group (e.g. a co-heir) and renumber the next ones."""
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            if not DossierState(dossier.state).editable:
                raise NotEditable(
                    Message("Le dossier {reference} ne peut plus être modifié.", reference=ref)
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
                if not item.isdigit():
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
            dossier.updated_at = self._now()
            audit(
                s,
                AuditAction.DOSSIER_CHANGED,
                at=dossier.updated_at,
                agent_id=agent_id,
                dossier_ref=ref,
                detail={"groupe": group_id, "retire": index},
            )

    # ----------------------------------------------------------------- life cycle

    def validate(self, reference: str, *, agent_id: int | None = None) -> DossierView:
        """Check every mandatory answer and move the dossier to « prêt »."""
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            answers = self._answers(s, dossier.id)
            issues = [*missing_required(demarche, answers), *invalid_answers(demarche, answers)]
            missing = [Missing(i.path, i.message) for i in issues]
            if missing:
                raise Incomplete(missing)
            self._move(s, dossier, DossierState.PRET, agent_id)
        return self.show(ref)

    def enqueue(self, reference: str, *, agent_id: int | None = None) -> DossierSummary:
        """The person confirmed: the dossier waits to be sent to the national service."""
        return self.transition(reference, DossierState.EN_FILE, agent_id=agent_id)

    def abandon(
        self, reference: str, *, reason: str | None = None, agent_id: int | None = None
    ) -> DossierSummary:
        """The person gave up, or the dossier was opened by mistake."""
        return self.transition(reference, DossierState.ABANDONNE, reason=reason, agent_id=agent_id)

    def transition(
        self,
        reference: str,
        target: DossierState,
        *,
        reason: str | None = None,
        national_number: str | None = None,
        agent_id: int | None = None,
    ) -> DossierSummary:
        """Move a dossier to ``target``; raises IllegalTransition if the life cycle forbids it."""
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            self._move(s, dossier, target, agent_id, reason=reason, national_number=national_number)
            return self._summary_of(s, dossier)

    # ----------------------------------------------------------------- documents

    def add_piece(
        self,
        reference: str,
        kind: str,
        *,
        file_path: str,
        sha256: str,
        mime_type: str,
        item_path: str | None = None,
        agent_id: int | None = None,
    ) -> None:
        """Record a supporting document provided (the file is already stored).

        ``item_path`` names the group item a per-item document is for (``coheritiers[1]``).
        """
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            required = required_documents(demarche, self._answers(s, dossier.id))
            labels = {(r.kind, r.item_path): r.label for r in required}
            now = self._now()
            s.add(
                Piece(
                    dossier_id=dossier.id,
                    kind=kind,
                    item_path=item_path,
                    label=labels.get((kind, item_path), kind),
                    status="fournie",
                    file_path=file_path,
                    sha256=sha256,
                    mime_type=mime_type,
                    created_at=now,
                )
            )
            dossier.updated_at = now
            audit(
                s,
                AuditAction.DOSSIER_CHANGED,
                at=now,
                agent_id=agent_id,
                dossier_ref=ref,
                detail={"piece": kind},
            )

    # ----------------------------------------------------------------- look-ups

    def show(self, reference: str) -> DossierView:
        """Everything about one dossier, with what is still missing."""
        ref = self._parse_ref(reference)
        with self._store.read() as s:
            dossier = self._load(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            answers = self._answers(s, dossier.id)
            missing = tuple(Missing(i.path, i.message) for i in missing_required(demarche, answers))
            provided = {
                (kind, item_path)
                for kind, item_path in s.execute(
                    select(Piece.kind, Piece.item_path).where(
                        Piece.dossier_id == dossier.id, Piece.status == "fournie"
                    )
                )
            }
            documents = tuple(
                Document(
                    kind=r.kind,
                    label=_document_label(demarche, answers, r.label, r.item_path),
                    provided=(r.kind, r.item_path) in provided,
                    item_path=r.item_path,
                )
                for r in required_documents(demarche, answers)
            )
            events = s.scalars(
                select(Event).where(Event.dossier_id == dossier.id).order_by(Event.id)
            ).all()
            journal = tuple(
                JournalEntry(
                    at=e.at,
                    kind=e.kind,
                    from_state=DossierState(e.from_state) if e.from_state else None,
                    to_state=DossierState(e.to_state) if e.to_state else None,
                    detail=e.detail,
                )
                for e in events
            )
            labels: dict[str, str] = {}
            for path in answers:
                try:
                    labels[path] = demarche.field_for_path(path).label
                except KeyError:
                    labels[path] = path
            usager = s.get(Usager, dossier.id)
            return DossierView(
                summary=self._summary_of(s, dossier),
                answers=dict(answers),
                missing=missing,
                documents=documents,
                journal=journal,
                routage=dossier.routage,
                contact_mode=dossier.contact_mode,
                national_number=dossier.national_number,
                state_reason=dossier.state_reason,
                training=dossier.training,
                telephone=usager.telephone if usager else None,
                adresse=usager.adresse if usager else None,
                labels=labels,
            )

    def list(
        self, *, state: DossierState | None = None, search: str | None = None, limit: int = 50
    ) -> list[DossierSummary]:
        """Dossiers, most recently changed first, filtered by state and/or a search text."""
        with self._store.read() as s:
            rows = search_dossiers(s, state=state, text=search, limit=limit)
            return [self._summary(d, usager_nom, immat) for d, usager_nom, immat in rows]

    def usage_counts(self, since: datetime) -> dict[str, int]:
        """How many dossiers of each démarche were started at this kiosk from ``since`` on
        (démarche id → count; a démarche never started is absent): the home screen puts the
        most used first."""
        with self._store.read() as s:
            rows = s.execute(
                select(Dossier.demarche_id, func.count())
                .where(Dossier.created_at >= since)
                .group_by(Dossier.demarche_id)
            )
            return {str(demarche_id): int(count) for demarche_id, count in rows}

    def receipt_key(self) -> bytes:
        """The secret behind receipts' verification codes, created on first use."""
        with self._store.read() as s:
            value = s.get(Setting, RECEIPT_KEY_SETTING)
            if value is not None:
                return bytes.fromhex(value.value)
        with self._store.write() as s:
            value = s.get(Setting, RECEIPT_KEY_SETTING)
            if value is None:
                value = Setting(key=RECEIPT_KEY_SETTING, value=secrets.token_hex(32))
                s.add(value)
            return bytes.fromhex(value.value)

    def record_event(
        self,
        reference: str,
        kind: str,
        detail: Mapping[str, Any],
        *,
        agent_id: int | None = None,
    ) -> None:
        """Add a non-state entry to the journal (e.g. a receipt printed), and to the audit."""
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            now = self._now()
            s.add(
                Event(
                    dossier_id=dossier.id, at=now, kind=kind, agent_id=agent_id, detail=dict(detail)
                )
            )
            action = _EVENT_ACTIONS.get(kind, AuditAction.OTHER)
            # The caller's detail is filtered through the audit's allow-list of keys.
            kept = safe_detail(detail)
            if action is AuditAction.OTHER:
                kept["evenement"] = kind
            audit(s, action, at=now, agent_id=agent_id, dossier_ref=ref, detail=kept)

    def viewed(self, reference: str, *, agent_id: int | None = None) -> None:
        """Record in the audit that an agent opened a dossier (the screen calls this once)."""
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            self._load(s, ref)
            audit(s, AuditAction.DOSSIER_VIEWED, at=self._now(), agent_id=agent_id, dossier_ref=ref)

    # ----------------------------------------------------------------- internals

    def _parse_ref(self, reference: str) -> str:
        try:
            return parse_reference(reference)
        except InvalidReference as exc:
            raise DossierNotFound(reference.strip()) from exc

    def _load(self, s: Session, ref: str) -> Dossier:
        dossier = s.scalars(select(Dossier).where(Dossier.reference == ref)).one_or_none()
        if dossier is None:
            raise DossierNotFound(ref)
        return dossier

    def _demarche(self, demarche_id: str, version: int) -> Demarche:
        try:
            return self._catalog.get(demarche_id, version)
        except KeyError:
            raise UnknownDemarche(
                Message(
                    "La définition de la démarche « {demarche} » version {version}, avec laquelle"
                    " ce dossier a été commencé, n'est pas installée sur cette borne.",
                    demarche=demarche_id,
                    version=version,
                )
            ) from None

    def _answers(self, s: Session, dossier_id: str) -> dict[str, JSONValue]:
        rows = s.execute(select(Answer.path, Answer.value).where(Answer.dossier_id == dossier_id))
        return dict(rows.all())

    def _move(
        self,
        s: Session,
        dossier: Dossier,
        target: DossierState,
        agent_id: int | None,
        *,
        reason: str | None = None,
        national_number: str | None = None,
    ) -> None:
        current = DossierState(dossier.state)
        check_transition(current, target)
        now = self._now()
        dossier.state = target.value
        dossier.updated_at = now
        if reason is not None or target in (DossierState.PRET, DossierState.EN_FILE):
            dossier.state_reason = reason
        if national_number is not None:
            dossier.national_number = national_number
        detail: dict[str, Any] = {}
        if reason:
            detail["motif"] = reason
        if national_number:
            detail["numero_national"] = national_number
        self._journal(
            s, dossier.id, (current, target), agent_id=agent_id, now=now, detail=detail or None
        )
        # No reason in the audit: it is free text and may name the person.
        audit(
            s,
            AuditAction.STATE_CHANGED,
            at=now,
            agent_id=agent_id,
            dossier_ref=dossier.reference,
            detail={"de": current.value, "vers": target.value},
        )
        # The outbox row (« en file ») and the notice of a national decision are written in
        # this same transaction: a state change and its outbox row commit together or not at all.
        on_state_change(
            s, dossier, (current, target), reason=reason, national_number=national_number, now=now
        )

    @staticmethod
    def _journal(
        s: Session,
        dossier_id: str,
        change: tuple[DossierState, DossierState],
        *,
        agent_id: int | None,
        now: datetime,
        detail: dict[str, Any] | None,
    ) -> None:
        current, target = change
        s.add(
            Event(
                dossier_id=dossier_id,
                at=now,
                kind="etat",
                from_state=current.value,
                to_state=target.value,
                agent_id=agent_id,
                detail=detail,
            )
        )

    def _summary_of(self, s: Session, dossier: Dossier) -> DossierSummary:
        usager = s.get(Usager, dossier.id)
        vehicule = s.get(Vehicule, dossier.id)
        return self._summary(
            dossier,
            _display_name(usager.nom, usager.prenoms) if usager else None,
            vehicule.immatriculation if vehicule else None,
        )

    def _summary(
        self, dossier: Dossier, usager: str | None, immatriculation: str | None
    ) -> DossierSummary:
        try:
            title = self._catalog.get(dossier.demarche_id, dossier.demarche_version).title
        except KeyError:
            title = dossier.demarche_id
        return DossierSummary(
            id=dossier.id,
            reference=dossier.reference,
            demarche_id=dossier.demarche_id,
            demarche_version=dossier.demarche_version,
            demarche_title=title,
            state=DossierState(dossier.state),
            created_at=dossier.created_at,
            updated_at=dossier.updated_at,
            usager=usager,
            immatriculation=immatriculation,
        )


def _document_label(
    demarche: Demarche, answers: dict[str, JSONValue], label: str, item_path: str | None
) -> str:
    """``label`` naming the group item a per-item document is for (« … — Cohéritier 1 : Léo »)."""
    if item_path is None:
        return label
    group_id, _, rest = item_path.partition("[")
    index = int(rest.rstrip("]"))
    try:
        group = demarche.group(group_id)
    except KeyError:
        return label
    names = [
        str(answers[f"{item_path}.{f.id}"])
        for f in group.fields
        if f.type is FieldType.TEXT and isinstance(answers.get(f"{item_path}.{f.id}"), str)
    ][:2]
    who = f"{group.item_label} {index + 1}" + (f" : {' '.join(names)}" if names else "")
    return f"{label} — {who}"


def _display_name(nom: str | None, prenoms: str | None) -> str | None:
    if not nom and not prenoms:
        return None
    return " ".join(p for p in ((nom or "").upper(), prenoms or "") if p)


__all__ = ["AnswerResult", "DossierService", "FieldError", "utc_now"]
