"""The autosave (issue 18): one transaction, its audit entry inside it, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from kiosk.demarches import Catalog
from kiosk.dossiers.projection import reproject
from kiosk.dossiers.service import DossierService
from kiosk.security.audit import AuditLog
from kiosk.store import Store
from kiosk.store.models import Answer, Dossier, Usager, Vehicule


@pytest.mark.both_stores
def test_an_answer_whose_audit_entry_fails_is_not_saved(
    service: DossierService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "nom", "Martin")
    with store.read() as s:
        before = s.scalars(select(Dossier.updated_at).where(Dossier.reference == ref)).one()
    entries = len(AuditLog(store).entries(limit=1000))

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


def test_an_autosave_is_one_transaction_with_its_audit_entry_and_one_commit(
    service: DossierService, statements: list[str]
) -> None:
    ref = service.create("succession").reference
    statements.clear()
    service.answer(ref, "defunt_nom", "Durand")  # a question no list shows (not projected)
    kinds = [" ".join(s.split()[:3]) for s in statements if not s.startswith("PRAGMA")]
    assert kinds == [
        "BEGIN IMMEDIATE",
        "SELECT dossier.id, dossier.state,",
        "INSERT INTO answer",
        "UPDATE dossier SET",
        "SELECT audit.seq, audit.hash",
        "INSERT INTO audit",
        "COMMIT",
    ]


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
