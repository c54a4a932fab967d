"""The autosave (issue 18): one transaction, its audit entry inside it, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from kiosk.demarches import Catalog
from kiosk.dossiers.projection import reproject
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.security.audit import AuditLog
from kiosk.store import Store
from kiosk.store.models import Answer, Dossier, Usager, Vehicule
from tests.support import Clock, fill


@pytest.mark.both_stores
def test_an_answer_whose_audit_entry_fails_is_not_saved(
    store: Store, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    service = DossierService(store, catalog, clock=clock)
    ref = service.create("succession").reference
    service.answer(ref, "nom", "Martin")
    with store.read() as s:
        before = s.scalars(select(Dossier.updated_at).where(Dossier.reference == ref)).one()
    entries = len(AuditLog(store).entries(limit=1000))
    clock.advance(minutes=2)  # a time the dossier would show, had the answer been saved

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("journal indisponible")

    monkeypatch.setattr("kiosk.dossiers.answers.audit", broken)
    with pytest.raises(RuntimeError, match="journal indisponible"):
        service.answer(ref, "nom", "Dupont")
    # Nothing of it stays: the answer, the name the lists show, the dossier's time.
    assert service.show(ref).answers["nom"] == "Martin"
    with store.read() as s:
        assert s.scalars(select(Usager.nom)).one() == "Martin"
        after = s.scalars(select(Dossier.updated_at).where(Dossier.reference == ref)).one()
    assert after == before
    assert len(AuditLog(store).entries(limit=1000)) == entries


@pytest.mark.both_stores
def test_a_validated_dossier_whose_changed_answer_cannot_be_journalled_stays_validated(
    store: Store, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The unit of work takes the ORM for the move back to « brouillon »: it is rolled back
    # with the answer, and the next autosave runs as usual.
    clock = Clock()
    service = DossierService(store, catalog, clock=clock)
    ref = service.create("succession").reference
    fill(service, ref, catalog.latest("succession"))
    validated = service.validate(ref)
    name = service.show(ref).answers["nom"]

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("journal indisponible")

    with monkeypatch.context() as patched:
        patched.setattr("kiosk.dossiers.answers.audit", broken)
        clock.advance(minutes=2)
        with pytest.raises(RuntimeError, match="journal indisponible"):
            service.answer(ref, "nom", "Dupont-Martin")
    view = service.show(ref)
    assert (view.summary.state, view.answers["nom"]) == (DossierState.PRET, name)
    assert view.summary.updated_at == validated.updated_at
    assert service.answer(ref, "nom", "Dupont-Martin").state is DossierState.BROUILLON
    assert service.show(ref).summary.state is DossierState.BROUILLON


@pytest.mark.both_stores
def test_each_saved_answer_has_its_audit_entry_naming_the_question(
    service: DossierService, store: Store
) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "nom", "Martin")
    service.answer(ref, "defunt_nom", "Durand")
    service.answer(ref, "defunt_nom", "Durand")  # the same again: nothing changed, no entry
    changed = [
        e.detail for e in AuditLog(store).entries(dossier_ref=ref) if e.action == "dossier_modifie"
    ]
    assert changed == [{"champ": "nom"}, {"champ": "defunt_nom"}]
    assert AuditLog(store).verify().ok
    with store.read() as s:
        assert s.scalars(select(Answer.path).where(Answer.path == "defunt_nom")).all() == [
            "defunt_nom"
        ]


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    """Every statement SQLite runs on the store's connections, as the driver sends it (those
    compiled once included, which SQLAlchemy's events do not see)."""
    seen: list[str] = []

    def trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    event.listen(store.engine, "checkout", trace)
    store.engine.dispose()  # the connections already open get the callback when checked out
    yield seen
    event.remove(store.engine, "checkout", trace)


def _kinds(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:3]) for s in statements if not s.startswith("PRAGMA")]


def test_an_autosave_is_one_transaction_with_its_audit_entry_and_one_commit(
    store: Store, catalog: Catalog, statements: list[str]
) -> None:
    clock = Clock()
    service = DossierService(store, catalog, clock=clock)
    ref = service.create("succession").reference
    clock.advance(minutes=1)
    statements.clear()
    service.answer(ref, "defunt_nom", "Durand")  # a question no list shows (not projected)
    assert _kinds(statements) == [
        "BEGIN IMMEDIATE",
        "SELECT dossier.id, dossier.state,",
        "INSERT INTO answer",
        "UPDATE dossier SET",
        "SELECT audit.seq, audit.hash",
        "INSERT INTO audit",
        "COMMIT",
    ]
    # Answered again within that minute: the dossier's time already says it (issue 18: its
    # row and two indexes are three of the pages an autosave wrote).
    clock.advance(seconds=40)
    statements.clear()
    service.answer(ref, "defunt_prenoms", "Paul")
    assert "UPDATE dossier SET" not in _kinds(statements)
    assert "INSERT INTO audit" in _kinds(statements)  # the change itself is journalled


def _changed_at(service: DossierService, ref: str) -> datetime:
    return service.show(ref).summary.updated_at


@pytest.mark.both_stores
def test_the_time_of_change_shown_is_always_the_minute_of_the_last_answer(
    store: Store, catalog: Catalog
) -> None:
    # « modifié le » is shown to the minute (kiosk dossier list): answered again within the
    # minute, the dossier's row is left as it is; answered in a later minute, it says the new
    # time, down to the answer's second.
    clock = Clock()  # 09:00:00
    service = DossierService(store, catalog, clock=clock)
    ref = service.create("succession").reference
    shown = []
    for seconds, value in ((20, "Martin"), (39, "Martine"), (35, "Martinez"), (5, "Marti")):
        clock.advance(seconds=seconds)  # 09:00:20, 09:00:59, 09:01:34, 09:01:39
        service.answer(ref, "nom", value)
        shown.append(f"{_changed_at(service, ref):%H:%M}")
        assert shown[-1] == f"{clock.now:%H:%M}"
    assert shown == ["09:00", "09:00", "09:01", "09:01"]
    assert _changed_at(service, ref) == datetime(2026, 3, 2, 9, 1, 34, tzinfo=UTC)
    clock.advance(hours=3)
    service.answer(ref, "nom", "Martin")
    assert _changed_at(service, ref) == clock.now


@pytest.mark.both_stores
def test_the_dossier_answered_last_comes_first_once_its_minute_has_changed(
    store: Store, catalog: Catalog
) -> None:
    # The search lists the most recently changed first: back to a dossier after working on
    # another, the first answer of a new minute brings it back on top.
    clock = Clock()
    service = DossierService(store, catalog, clock=clock)
    first, second = (service.create("succession").reference for _ in range(2))
    for ref in (first, second):
        clock.advance(seconds=10)  # 09:00:10, 09:00:20
        service.answer(ref, "nom", "Martin")
    clock.advance(seconds=45)  # 09:01:05
    service.answer(first, "prenoms", "Léa")
    assert [d.reference for d in service.list(search="martin")] == [first, second]
    clock.advance(seconds=50)  # 09:01:55
    service.answer(second, "prenoms", "Hugo")
    assert [d.reference for d in service.list(search="martin")] == [second, first]


@pytest.mark.both_stores
def test_a_validated_dossier_answered_again_in_the_same_minute_says_the_exact_time(
    store: Store, catalog: Catalog
) -> None:
    # A state change writes the dossier's time whatever the minute: the dossier « prêt »
    # changed back to « brouillon » says when, to the second.
    clock = Clock()
    service = DossierService(store, catalog, clock=clock)
    ref = service.create("succession").reference
    fill(service, ref, catalog.latest("succession"))
    clock.advance(seconds=5)
    assert service.validate(ref).updated_at == clock.now
    clock.advance(seconds=12)
    result = service.answer(ref, "nom", "Dupont-Martin")
    assert result.state is DossierState.BROUILLON
    assert _changed_at(service, ref) == clock.now
    clock.advance(seconds=7)
    service.abandon(ref)
    assert _changed_at(service, ref) == clock.now


@pytest.mark.both_stores
def test_an_answer_projected_alone_gives_the_rows_a_full_projection_gives(
    service: DossierService, store: Store, catalog: Catalog
) -> None:
    # The person's and the vehicle's columns a list and a search read: written column by
    # column as the answers come (sole_target), they must be what the whole projection writes.
    ref = service.create("succession").reference
    for path, value in (
        ("nom", "Martin-Lefèvre"),
        ("prenoms", "Maëlys"),
        ("date_naissance", "1980-02-29"),
        ("immatriculation", "ab-123-cd"),
        ("marque", "Renault"),
        ("nom", "Dupont"),
        ("marque", ""),
    ):
        service.answer(ref, path, value)

    def rows() -> tuple[Any, ...]:
        with store.read() as s:
            usager = s.execute(select(Usager.__table__)).one()
            vehicule = s.execute(select(Vehicule.__table__)).one()
        return tuple(usager), tuple(vehicule)

    alone = rows()
    demarche = catalog.latest("succession")
    with store.write() as s:
        dossier_id = s.scalars(select(Dossier.id).where(Dossier.reference == ref)).one()
        answers: dict[str, Any] = dict(s.execute(select(Answer.path, Answer.value)).all())
        reproject(s, dossier_id, demarche, answers)
    assert rows() == alone
    assert service.list(search="dupont")[0].immatriculation == "AB-123-CD"
