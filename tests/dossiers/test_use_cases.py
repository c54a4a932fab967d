"""The counter's use cases, each one call and one transaction, on real SQLite files: filing
(mandate, validation and queueing together), an identity read applied all or nothing, a dossier
opened at the counter, a document attached; and every state change through the one path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.demarches import Catalog
from kiosk.dossiers.answers import DossierAnswers
from kiosk.dossiers.attachments import Attachments, UnknownDocumentKind
from kiosk.dossiers.errors import AlreadyFiled, Incomplete, MandateRequired, NotEditable
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.identity.model import DocumentKind, Verdict, manual_reading
from kiosk.identity.mrz import parse_mrz
from kiosk.security.audit import AuditLog
from kiosk.store import Store
from kiosk.store.documents import DocumentStore
from kiosk.store.models import Answer, Event, OutboxItem
from tests.support import Clock, file_dossier, fill, sign_mandate

# Run on the embedded SQLite store and on a site's PostgreSQL store (issue 17).
pytestmark = pytest.mark.both_stores

CNIE = (
    "IDFRAX4RTBPFW46<<<<<<<<<<<<<<<",
    "9007138F3002119FRA<<<<<<<<<<<6",
    "MARTIN<<MAELYS<GAELLE<MARIE<<<",
)  # CONTEXT §3 specimen
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(store: Store, catalog: Catalog, clock: Clock) -> DossierService:
    return DossierService(store, catalog, clock=clock)


def _outbox_rows(store: Store) -> int:
    with store.read() as s:
        return s.scalar(select(func.count()).select_from(OutboxItem)) or 0


def _complete(service: DossierService, catalog: Catalog, demarche: str = "cas_complexe") -> str:
    ref = service.create(demarche).reference
    fill(service, ref, catalog.latest(demarche))
    return ref


def test_filing_without_a_signed_mandate_is_refused_and_changes_nothing(
    service: DossierService, catalog: Catalog, store: Store
) -> None:
    ref = _complete(service, catalog)
    with pytest.raises(MandateRequired, match="mandat n'est pas signé"):
        service.file(ref)
    assert service.show(ref).summary.state is DossierState.BROUILLON
    assert _outbox_rows(store) == 0


def test_filing_an_incomplete_dossier_lists_what_is_missing_and_queues_nothing(
    service: DossierService, store: Store
) -> None:
    ref = service.create("succession").reference
    sign_mandate(store, ref, clock=service._now)
    with pytest.raises(Incomplete) as refused:
        service.file(ref)
    assert any(m.path == "nom" for m in refused.value.missing)
    assert _outbox_rows(store) == 0


def test_filing_validates_and_queues_in_one_step(
    service: DossierService, catalog: Catalog, store: Store, clock: Clock
) -> None:
    ref = _complete(service, catalog)
    sign_mandate(store, ref, clock=clock)
    clock.advance(minutes=2)
    assert service.file(ref, agent_id=None).state is DossierState.EN_FILE
    journal = service.show(ref).journal
    moves = [(e.from_state, e.to_state) for e in journal if e.kind == "etat"]
    assert moves == [
        (DossierState.BROUILLON, DossierState.PRET),
        (DossierState.PRET, DossierState.EN_FILE),
    ]
    assert _outbox_rows(store) == 1
    with pytest.raises(AlreadyFiled):  # filed once: a second tap files nothing more
        service.file(ref)
    assert _outbox_rows(store) == 1


def test_a_changed_name_needs_the_mandate_signed_again_the_same_name_does_not(
    service: DossierService, catalog: Catalog, store: Store, clock: Clock
) -> None:
    ref = _complete(service, catalog)
    sign_mandate(store, ref, clock=clock)
    clock.advance(minutes=1)
    service.answer(ref, "nom", service.show(ref).answers["nom"])  # saved again, unchanged
    assert service.mandate_issue(ref) is None
    service.answer(ref, "nom", "DURAND")
    issue = service.mandate_issue(ref)
    assert issue is not None and "nom de la personne a changé" in str(issue)
    with pytest.raises(MandateRequired):
        service.file(ref)
    clock.advance(minutes=1)
    sign_mandate(store, ref, clock=clock)
    assert service.file(ref).state is DossierState.EN_FILE


def test_a_mandate_past_its_end_date_needs_a_new_signature(
    service: DossierService, catalog: Catalog, store: Store, clock: Clock
) -> None:
    ref = _complete(service, catalog)
    sign_mandate(store, ref, clock=clock)
    clock.advance(days=200)
    issue = service.mandate_issue(ref)
    assert issue is not None and "a pris fin le" in str(issue)


def test_an_answer_changed_after_validation_goes_back_to_draft_through_the_one_path(
    service: DossierService, catalog: Catalog
) -> None:
    ref = _complete(service, catalog)
    service.validate(ref)
    before = dict(service.show(ref).answers)
    path, value = next(iter(before.items()))
    assert service.answer(ref, path, value).state is DossierState.PRET  # same value: still prêt
    changed = service.answer(ref, "nom", "DURAND")
    assert changed.state is DossierState.BROUILLON
    (entry,) = [e for e in service.show(ref).journal if e.to_state is DossierState.BROUILLON][1:]
    assert entry.from_state is DossierState.PRET
    assert entry.detail == {"raison": "réponse modifiée après validation"}


def test_an_identity_read_fills_the_applicant_not_the_co_heir(
    service: DossierService, clock: Clock
) -> None:
    ref = service.create("succession").reference
    reading = manual_reading(parse_mrz("\n".join(CNIE)))
    assert reading.kind is DocumentKind.CNIE and reading.verdict is Verdict.NON_VERIFIE
    results = service.apply_identity(ref, reading, agent_id=None)
    answers = service.show(ref).answers
    assert answers["nom"] == "MARTIN"
    assert answers["prenoms"] == "MAELYS GAELLE MARIE"
    assert answers["date_naissance"] == date(1990, 7, 13).isoformat()
    assert answers["piece_identite"] == {"nature": "cni", "numero": "X4RTBPFW4"}
    assert {r.path for r in results} == {"nom", "prenoms", "date_naissance", "piece_identite"}
    assert not any(path.startswith("coheritiers") for path in answers)
    (event,) = [e for e in service.show(ref).journal if e.kind == "identite_lue"]
    assert event.detail == {"verdict": "non vérifié", "protocole": "MRZ", "puce_verifiee": False}


def test_an_identity_read_failing_part_way_saves_none_of_it(
    service: DossierService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = service.create("succession").reference
    reading = manual_reading(parse_mrz("\n".join(CNIE)))
    write = DossierAnswers._write
    calls: list[str] = []

    def failing(self: DossierAnswers, *args: object) -> object:
        calls.append(str(args[3]))
        if len(calls) == 3:
            raise OSError("disque plein")
        return write(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(DossierAnswers, "_write", failing)
    with pytest.raises(OSError, match="disque plein"):
        service.apply_identity(ref, reading)
    assert len(calls) == 3  # two answers were written before the failure…
    with store.read() as s:  # …and none of them stayed
        assert s.scalar(select(func.count()).select_from(Answer)) == 0
        assert s.scalar(select(func.count()).where(Event.kind == "identite_lue")) == 0


def test_opening_at_the_counter_says_whether_it_can_change_and_why_not(
    service: DossierService, catalog: Catalog, store: Store
) -> None:
    ref = _complete(service, catalog)
    opened = service.open(ref, agent_id=None)
    assert opened.editable and not opened.filed
    assert opened.mandate is not None and "pas signé" in str(opened.mandate)
    file_dossier(service, ref)
    opened = service.open(ref)
    assert not opened.editable and opened.filed
    assert opened.locked is not None and "attend d'être envoyé" in str(opened.locked)
    assert "attends" not in opened.locked.localized("en")  # translated, not French
    viewed = [e for e in AuditLog(store).entries(limit=50) if e.action == "dossier_consulte"]
    assert len(viewed) == 2


def test_a_document_is_attached_with_its_agent_and_never_to_a_filed_dossier(
    service: DossierService, catalog: Catalog, store: Store, tmp_path: Path, clock: Clock
) -> None:
    files = DocumentStore(tmp_path / "documents")
    attachments = Attachments(store, catalog, files, clock=clock)
    ref = _complete(service, catalog, "changement_adresse")
    attachments.attach(ref, "justificatif_domicile", PNG, "image/png", agent_id=7)
    (entry,) = [
        e for e in AuditLog(store).entries(limit=50, dossier_ref=ref) if "piece" in e.detail
    ]
    assert entry.agent_id == 7 and entry.detail == {"piece": "justificatif_domicile"}
    with pytest.raises(UnknownDocumentKind):
        attachments.attach(ref, "carte_de_fidelite", PNG + b"1", "image/png")
    file_dossier(service, ref)
    stored_before = sorted(p.name for p in (tmp_path / "documents").iterdir())
    with pytest.raises(NotEditable):
        attachments.attach(ref, "justificatif_domicile", PNG + b"2", "image/png")
    assert sorted(p.name for p in (tmp_path / "documents").iterdir()) == stored_before
    assert len(attachments.list(ref)) == 1


def test_removing_a_co_heir_takes_his_documents_with_him(
    service: DossierService, catalog: Catalog, store: Store, tmp_path: Path, clock: Clock
) -> None:
    attachments = Attachments(store, catalog, DocumentStore(tmp_path / "documents"), clock=clock)
    ref = service.create("succession").reference
    for index, name in enumerate(("LÉO", "ZOÉ")):
        service.answer(ref, "autres_heritiers", "oui")
        service.answer(ref, f"coheritiers[{index}].coheritier_nom", name)
    kinds = {r.kind for r in catalog.latest("succession").documents if r.for_each}
    kind = sorted(kinds)[0]
    attachments.attach(ref, kind, PNG + b"leo", "image/png", item_path="coheritiers[0]")
    attachments.attach(ref, kind, PNG + b"zoe", "image/png", item_path="coheritiers[1]")
    service.remove_group_item(ref, "coheritiers", 0)
    assert service.show(ref).answers["coheritiers[0].coheritier_nom"] == "ZOÉ"
    (left,) = attachments.list(ref)  # Léo's document is no longer « fourni »…
    assert left.item_path == "coheritiers[0]"  # …and Zoé's follows her to the first place
    assert attachments.read(left.path) == PNG + b"zoe"


def test_a_document_without_given_names_leaves_the_given_names_typed(
    service: DossierService,
) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "prenoms", "Maëlys")
    lines = (*CNIE[:2], "MARTIN<<<<<<<<<<<<<<<<<<<<<<<<")  # the MRZ gives no given name
    service.apply_identity(ref, manual_reading(parse_mrz("\n".join(lines))))
    answers = service.show(ref).answers
    assert answers["nom"] == "MARTIN" and answers["prenoms"] == "Maëlys"
