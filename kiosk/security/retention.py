"""Retention: the personal data of a dossier is erased once the kiosk no longer needs it.

Two rules, each a setting (``[conservation]`` in the settings file, app/settings/options.py):

- a dossier the national service has decided (accepté, refusé) is purged
  ``jours_apres_decision`` days (default 30) after its last change;
- a draft left untouched, or an abandoned dossier, ``jours_sans_modification`` days (default
  90) after its last change. A purged draft becomes « abandonné », so that nobody can fill it in
  again.

Purging deletes the person, the vehicle, the mandate (signature included), every answer, the
fees kept at filing (their lines repeat answers: horsepower, region, a postcode) and the
supporting-document files, and clears the free-text reasons kept beside the states. What stays is
what the audit needs: the dossier's id, reference, démarche, states, dates, its journal and the
list of documents that were required (kind and label, no file). Each purge is one transaction with
its audit entry; the files are deleted after the commit, and only when no dossier that is not
purged still uses the same file (documents are stored under an HMAC of their content, so two
dossiers can share one). The store runs with ``secure_delete`` and the WAL is checkpointed
after a purge, so the erased values do not linger in free pages or in the ``-wal`` file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from kiosk.dossiers.moves import move
from kiosk.dossiers.states import DossierState
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.documents import DocumentStore
from kiosk.store.engine import Store
from kiosk.store.models import (
    Answer,
    ContactAttempt,
    Dossier,
    Estimation,
    Mandat,
    NationalDocument,
    NationalNotice,
    OutboxItem,
    Piece,
    Usager,
    Vehicule,
)

_DECIDED = (DossierState.ACCEPTE.value, DossierState.REFUSE.value)
_IDLE = (DossierState.BROUILLON.value, DossierState.ABANDONNE.value)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data is kept after the last change of a dossier."""

    after_decision: timedelta = timedelta(days=30)
    after_inactivity: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class Purged:
    """A dossier whose personal data was (or, in a dry run, would be) erased."""

    reference: str
    state: DossierState
    last_change: datetime

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "reference": self.reference,
            "etat": self.state.value,
            "derniere_modification": self.last_change.isoformat(),
        }


@dataclass(frozen=True)
class PurgeReport:
    """What a purge did."""

    dossiers: tuple[Purged, ...]
    files_deleted: int
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "simulation": self.dry_run,
            "dossiers": [d.to_json() for d in self.dossiers],
            "fichiers_supprimes": self.files_deleted,
        }


class RetentionService:
    """Finds the dossiers past their retention time and erases their personal data."""

    def __init__(
        self,
        store: Store,
        documents: Path | DocumentStore,
        *,
        policy: RetentionPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        # A folder (a lone kiosk's files) or the store's own (a site's documents, in its store).
        self._documents = (
            documents if isinstance(documents, DocumentStore) else DocumentStore(documents)
        )
        self._policy = policy or RetentionPolicy()
        self._now = clock or (lambda: datetime.now(UTC))

    @property
    def policy(self) -> RetentionPolicy:
        """The retention times in force."""
        return self._policy

    def _due_clause(self, now: datetime) -> ColumnElement[bool]:
        return and_(
            Dossier.purged_at.is_(None),
            or_(
                and_(
                    Dossier.state.in_(_DECIDED),
                    Dossier.updated_at <= now - self._policy.after_decision,
                ),
                and_(
                    Dossier.state.in_(_IDLE),
                    Dossier.updated_at <= now - self._policy.after_inactivity,
                ),
            ),
        )

    def due(self) -> list[Purged]:
        """The dossiers a purge would erase now, oldest change first."""
        with self._store.read() as s:
            rows = s.execute(
                select(Dossier.reference, Dossier.state, Dossier.updated_at)
                .where(self._due_clause(self._now()))
                .order_by(Dossier.updated_at)
            ).all()
        return [Purged(ref, DossierState(state), at) for ref, state, at in rows]

    def purge(self, *, dry_run: bool = False) -> PurgeReport:
        """Erase the personal data of every dossier due (one transaction per dossier)."""
        candidates = self.due()
        if dry_run:
            return PurgeReport(tuple(candidates), 0, dry_run=True)
        done: list[Purged] = []
        deleted = 0
        for candidate in candidates:
            # One transaction per dossier: an autosave at the counter waits for one dossier's
            # purge, never for the whole batch.
            with self._store.write() as s:
                files = self._purge_one(s, candidate.reference)
            if files is None:
                continue  # changed since it was listed (reopened, already purged)
            deleted += self._delete_files(files)
            done.append(candidate)
        if done:
            self._checkpoint()
        return PurgeReport(tuple(done), deleted, dry_run=False)

    def _purge_one(self, s: Session, reference: str) -> set[str] | None:
        """Erase one dossier in the caller's transaction; returns the files no longer used."""
        now = self._now()
        dossier = s.scalars(
            select(Dossier).where(Dossier.reference == reference, self._due_clause(now))
        ).one_or_none()
        if dossier is None:
            return None
        state = DossierState(dossier.state)
        files = {
            path
            for (path,) in s.execute(
                select(Piece.file_path).where(
                    Piece.dossier_id == dossier.id, Piece.file_path.is_not(None)
                )
            )
            if path
        }
        # The documents the national service issued for the person go with their dossier.
        files |= {
            path
            for (path,) in s.execute(
                select(NationalDocument.file_path).where(
                    NationalDocument.dossier_id == dossier.id,
                    NationalDocument.file_path.is_not(None),
                )
            )
            if path
        }
        s.execute(
            update(NationalDocument)
            .where(NationalDocument.dossier_id == dossier.id)
            .values(file_path=None)
        )
        for model in (Usager, Vehicule, Mandat, Answer, Estimation):
            s.execute(delete(model).where(model.dossier_id == dossier.id))
        s.execute(
            update(Piece)
            .where(Piece.dossier_id == dossier.id)
            .values(file_path=None, sha256=None, mime_type=None)
        )
        # Free text written by people or by the national service may name the person.
        # A purged dossier needs nobody any more: its notices are closed (the worklist reads
        # « not yet passed on » from the notices alone).
        s.execute(
            update(NationalNotice)
            .where(NationalNotice.dossier_id == dossier.id)
            .values(detail=None, reasons=None)
        )
        s.execute(
            update(NationalNotice)
            .where(NationalNotice.dossier_id == dossier.id, NationalNotice.contacted_at.is_(None))
            .values(contacted_at=now)
        )
        s.execute(
            update(ContactAttempt).where(ContactAttempt.dossier_id == dossier.id).values(note=None)
        )
        s.execute(
            update(OutboxItem).where(OutboxItem.dossier_id == dossier.id).values(last_error=None)
        )
        if state is DossierState.BROUILLON:
            # An emptied draft must not be filled in again: it is closed as abandoned.
            move(s, dossier, DossierState.ABANDONNE, now=now, note="délai de conservation dépassé")
        dossier.state_reason = None
        dossier.contact_mode = None
        dossier.purged_at = now
        s.flush()
        # After the update above, only dossiers not purged still name a file.
        still_used = set(s.scalars(select(Piece.file_path).where(Piece.file_path.in_(files))).all())
        unused = files - still_used
        audit(
            s,
            AuditAction.PURGED,
            at=now,
            dossier_ref=reference,
            detail={"etat": state.value, "fichiers": len(unused)},
        )
        return unused

    def _delete_files(self, files: set[str]) -> int:
        """Delete the purged dossiers' stored documents (inside the documents folder only, or
        the site's own: a path in the database is not trusted)."""
        return self._documents.delete(files)

    def _checkpoint(self) -> None:
        """Move the WAL into the database file and truncate it, erased pages included (SQLite's
        own file: a site server's PostgreSQL reuses and overwrites its pages itself)."""
        if self._store.engine.dialect.name != "sqlite":
            return
        with self._store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
