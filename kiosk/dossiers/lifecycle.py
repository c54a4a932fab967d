"""A dossier's life at the counter: started, validated, filed, abandoned; and the states the
national service gives it afterwards. Every change goes through
:func:`~kiosk.dossiers.moves.move`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.demarches import Demarche, invalid_answers, missing_required
from kiosk.dossiers.base import DossierBase
from kiosk.dossiers.errors import AlreadyFiled, Incomplete, MandateRequired, UnknownDemarche
from kiosk.dossiers.fees import keep_estimate, record_amount_due
from kiosk.dossiers.mandate import mandate_issue
from kiosk.dossiers.moves import move
from kiosk.dossiers.reference import new_reference
from kiosk.dossiers.states import DossierState
from kiosk.dossiers.views import DossierSummary, Missing
from kiosk.followup.consent import record_consent
from kiosk.followup.contact import Channel, Outcome, record_attempt
from kiosk.followup.correction import correction_scope
from kiosk.followup.reasons import Reason
from kiosk.messages import Message
from kiosk.security.audit import AuditAction, safe_detail
from kiosk.security.audit import record as audit
from kiosk.store.models import Dossier, Event

# Journal kinds written through record_event, and the audit action each one is.
_EVENT_ACTIONS = {
    "recepisse": AuditAction.RECEIPT_PRINTED,
    "identite_lue": AuditAction.IDENTITY_READ,
}


class DossierLifecycle(DossierBase):
    """Create dossiers and move them through their life cycle."""

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
                # A new dossier's rows only: beside the other counters' writes (no row to lock:
                # no one else sees it before the commit).
                with self._store.write(narrow=True) as s:
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

    def validate(self, reference: str, *, agent_id: int | None = None) -> DossierSummary:
        """Check every mandatory answer and move the dossier to « prêt ».

        Raises:
            Incomplete: the answers missing or wrong (nothing changes).
        """
        ref = self._parse_ref(reference)
        with self._store.write(narrow=True) as s:
            dossier = self._load_editable(s, ref, lock=True)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            self._check_complete(s, dossier, demarche)
            if DossierState(dossier.state) is not DossierState.PRET:
                move(s, dossier, DossierState.PRET, now=self._now(), agent_id=agent_id)
            return self._summary_of(s, dossier)

    def file(self, reference: str, *, agent_id: int | None = None) -> DossierSummary:
        """The person confirmed at the counter: check and queue the dossier for the national
        service, in one transaction.

        Filing needs every mandatory answer given and valid, and a mandate that allows it (see
        :func:`~kiosk.dossiers.mandate.mandate_issue`); documents not provided yet do not stop
        it (they are listed on the receipt, to bring). The fees are estimated and kept with
        the dossier in the same transaction (:func:`~kiosk.dossiers.fees.keep_estimate`): the
        dossier shows that estimate from then on, whatever tariff comes later.

        Raises:
            Incomplete: answers missing or wrong.
            MandateRequired: the mandate is not signed, has ended, or names someone else.
            NotEditable: the dossier was already filed.
        """
        ref = self._parse_ref(reference)
        # The dossier's rows, its outbox row and its estimate: beside the other counters'
        # writes on a site store, its row locked first (kiosk/store/site.py).
        with self._store.write(narrow=True) as s:
            dossier = self._load(s, ref, lock=True)
            state = DossierState(dossier.state)
            if not state.editable and state is not DossierState.ABANDONNE:
                raise AlreadyFiled(
                    Message(
                        "Le dossier {reference} est déjà déposé (« {state} »).",
                        reference=ref,
                        state=state.label,
                    )
                )
            dossier = self._load_editable(s, ref)
            demarche = self._demarche(dossier.demarche_id, dossier.demarche_version)
            self._check_complete(s, dossier, demarche)
            now = self._now()
            issue = mandate_issue(s, dossier.id, demarche, now.date())
            if issue is not None:
                raise MandateRequired(issue)
            if correction_scope(s, dossier, demarche) is not None:
                # Filed again after « à compléter »: the person came back, and so was told.
                record_attempt(
                    s, dossier.id, Channel.GUICHET, Outcome.VENU, at=now, agent_id=agent_id
                )
            if DossierState(dossier.state) is not DossierState.PRET:
                move(s, dossier, DossierState.PRET, now=now, agent_id=agent_id)
            move(s, dossier, DossierState.EN_FILE, now=now, agent_id=agent_id)
            record_consent(s, dossier, now=now, agent_id=agent_id)
            answers = self._answers(s, dossier.id)
            keep_estimate(s, dossier, demarche, answers, self._tariffs, now=now)
            return self._summary_of(s, dossier)

    def acknowledge(
        self,
        reference: str,
        *,
        national_number: str,
        amount_due_cents: int | None = None,
        agent_id: int | None = None,
    ) -> DossierSummary:
        """The national service acknowledged the filing (« en file » → « transmis »), and said
        what is due: both kept in one transaction (:meth:`record_acknowledgement`); the
        dossier's summary as it is then.

        Raises:
            IllegalTransition: the dossier is no longer « en file » (nothing is written).
        """
        self.record_acknowledgement(
            reference,
            national_number=national_number,
            amount_due_cents=amount_due_cents,
            agent_id=agent_id,
        )
        with self._store.read() as s:
            return self._summary_of(s, self._load(s, self._parse_ref(reference)))

    def record_acknowledgement(
        self,
        reference: str,
        *,
        national_number: str,
        amount_due_cents: int | None = None,
        agent_id: int | None = None,
    ) -> None:
        """:meth:`acknowledge` without reading the summary back: what the sync worker calls
        for every filing. On a site's store the transaction holds the site's writer lock, which
        every counter's writes queue for: it reads nothing it does not write.

        Raises:
            IllegalTransition: the dossier is no longer « en file » (nothing is written).
        """
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            now = self._now()
            move(
                s,
                dossier,
                DossierState.TRANSMIS,
                now=now,
                agent_id=agent_id,
                national_number=national_number,
            )
            if amount_due_cents is not None:
                record_amount_due(s, dossier, amount_due_cents, now=now)

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
        reasons: Sequence[Reason] = (),
        deadline: date | None = None,
        before: Callable[[Session, Dossier], None] | None = None,
    ) -> DossierSummary:
        """Move a dossier to ``target`` (the national service's decisions come this way).

        Args:
            reasons: the service's reasons, typed; ``deadline``: the day to answer by. Both
                kept on the decision's notice.
            before: called in the same transaction, before the move (the documents announced
                with a decision are recorded so: the notice then names them).

        Raises:
            IllegalTransition: the life cycle forbids it (nothing is written).
        """
        ref = self._parse_ref(reference)
        with self._store.write() as s:
            dossier = self._load(s, ref)
            if before is not None:
                before(s, dossier)
            move(
                s,
                dossier,
                target,
                now=self._now(),
                agent_id=agent_id,
                reason=reason,
                national_number=national_number,
                reasons=reasons,
                deadline=deadline,
                labels=self._document_labels(dossier),
            )
            return self._summary_of(s, dossier)

    def _document_labels(self, dossier: Dossier) -> dict[str, str]:
        """The dossier's démarche documents, id → label (empty: definition not installed)."""
        try:
            demarche = self._catalog.get(dossier.demarche_id, dossier.demarche_version)
        except KeyError:
            return {}
        return {rule.kind: rule.label for rule in demarche.documents}

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

    def _check_complete(self, s: Session, dossier: Dossier, demarche: Demarche) -> None:
        answers = self._answers(s, dossier.id)
        issues = [*missing_required(demarche, answers), *invalid_answers(demarche, answers)]
        if issues:
            raise Incomplete([Missing(i.path, i.message) for i in issues])
