"""The dossier service on real SQLite files, as the counter uses it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.demarches import Catalog, FieldError, load_catalog
from kiosk.dossiers.errors import DossierNotFound, Incomplete, NotEditable, UnknownField
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState, IllegalTransition
from kiosk.settings.paths import assets_dir
from kiosk.store import Store, open_store
from tests.support import file_dossier, fill

# Run on the embedded SQLite store and on a site's PostgreSQL store (issue 17).
pytestmark = pytest.mark.both_stores


def test_a_new_dossier_is_a_draft_with_a_journal(service: DossierService) -> None:
    summary = service.create("succession")
    assert summary.state is DossierState.BROUILLON
    view = service.show(summary.reference)
    assert [e.kind for e in view.journal] == ["creation"]
    assert view.missing  # nothing answered yet
    assert not view.complete


def test_each_answer_is_saved_at_once_and_seen_by_another_connection(
    tmp_path: Path, catalog: Catalog
) -> None:
    path = tmp_path / "k.sqlite3"
    first, second = open_store(path), open_store(path)
    try:
        ref = DossierService(first, catalog).create("succession").reference
        DossierService(first, catalog).answer(ref, "nom", "Martin")
        view = DossierService(second, catalog).show(ref)
        assert view.answers["nom"] == "Martin"
    finally:
        first.close()
        second.close()


def test_an_invalid_answer_is_refused_in_french_and_nothing_changes(
    service: DossierService,
) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "immatriculation", "ab 123 cd")
    with pytest.raises(FieldError, match=r"[Ii]mmatriculation|lettres|format"):
        service.answer(ref, "immatriculation", "AB-123-IO")
    assert service.show(ref).answers["immatriculation"] == "AB-123-CD"


def test_unknown_question_and_unknown_dossier(service: DossierService) -> None:
    ref = service.create("succession").reference
    with pytest.raises(UnknownField, match="n'a pas de question « couleur »"):
        service.answer(ref, "couleur", "rouge")
    with pytest.raises(DossierNotFound, match="Aucun dossier"):
        service.show("PN-0000-0000")


def test_validation_lists_what_is_missing_then_accepts_a_complete_dossier(
    service: DossierService, catalog: Catalog
) -> None:
    ref = service.create("succession").reference
    with pytest.raises(Incomplete) as refused:
        service.validate(ref)
    assert any(m.path == "nom" for m in refused.value.missing)
    assert service.show(ref).summary.state is DossierState.BROUILLON

    fill(service, ref, catalog.latest("succession"))
    assert service.validate(ref).state is DossierState.PRET


def test_changing_an_answer_after_validation_sends_the_dossier_back_to_draft(
    service: DossierService, catalog: Catalog
) -> None:
    ref = service.create("cas_complexe").reference
    fill(service, ref, catalog.latest("cas_complexe"))
    service.validate(ref)
    result = service.answer(ref, "nom", "Durand")
    assert result.state is DossierState.BROUILLON
    journal = service.show(ref).journal
    assert (journal[-1].from_state, journal[-1].to_state) == (
        DossierState.PRET,
        DossierState.BROUILLON,
    )


def test_a_filed_dossier_can_no_longer_be_edited(service: DossierService, catalog: Catalog) -> None:
    ref = service.create("cas_complexe").reference
    fill(service, ref, catalog.latest("cas_complexe"))
    file_dossier(service, ref)
    with pytest.raises(NotEditable, match="en file d'envoi"):
        service.answer(ref, "nom", "Durand")


def test_an_illegal_transition_raises_and_leaves_no_trace(service: DossierService) -> None:
    ref = service.create("succession").reference
    with pytest.raises(IllegalTransition):
        service.transition(ref, DossierState.TRANSMIS)
    view = service.show(ref)
    assert view.summary.state is DossierState.BROUILLON
    assert len(view.journal) == 1


def test_the_national_answer_moves_a_sent_dossier_to_its_final_state(
    service: DossierService, catalog: Catalog
) -> None:
    ref = service.create("cas_complexe").reference
    fill(service, ref, catalog.latest("cas_complexe"))
    file_dossier(service, ref)
    service.transition(ref, DossierState.TRANSMIS, national_number="ANTS-2026-000123")
    service.transition(ref, DossierState.REFUSE, reason="Pièce d'identité illisible")
    view = service.show(ref)
    assert view.national_number == "ANTS-2026-000123"
    assert view.state_reason == "Pièce d'identité illisible"
    assert [e.to_state for e in view.journal if e.kind in ("creation", "etat")] == [
        DossierState.BROUILLON,
        DossierState.PRET,
        DossierState.EN_FILE,
        DossierState.TRANSMIS,
        DossierState.REFUSE,
    ]


def test_search_by_name_plate_and_reference(service: DossierService) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "nom", "Martin-Lefèvre")
    service.answer(ref, "prenoms", "Maëlys Gaëlle")
    service.answer(ref, "immatriculation", "ab-123-cd")
    other = service.create("succession").reference
    service.answer(other, "nom", "Dupont")

    def found(text: str) -> list[str]:
        return [d.reference for d in service.list(search=text)]

    assert found("martin") == [ref]
    assert found("MARTIN LEFEVRE") == [ref]
    assert found("maelys martin") == [ref]
    assert found("AB 123 CD") == [ref]
    assert found(ref.replace("-", "").lower()) == [ref]
    assert found("Durand") == []
    assert set(found("")) == {ref, other}
    assert service.list(search="martin")[0].usager == "MARTIN-LEFÈVRE Maëlys Gaëlle"


def test_a_search_by_part_of_a_name_lists_the_most_recently_changed_first(
    store: Store, catalog: Catalog
) -> None:
    # The matches are ordered from the index of each dossier's time of change (migration
    # 0008): what the agent last worked on comes first, and the limit keeps the most recent.
    ticks = iter(datetime(2026, 12, 6, 9, 0, tzinfo=UTC) + timedelta(minutes=i) for i in range(99))
    service = DossierService(store, catalog, clock=lambda: next(ticks))
    refs: dict[str, list[str]] = {}
    for name in ("Martin", "Martineau", "MARTÍNEZ", "Marchand", "Martin"):
        ref = service.create("succession").reference
        service.answer(ref, "nom", name)
        refs.setdefault(name, []).append(ref)
    first_martin = refs["Martin"][0]
    service.answer(first_martin, "defunt_nom", "Durand")  # any answer: changed last

    def found(text: str, limit: int = 50) -> list[str]:
        return [d.reference for d in service.list(search=text, limit=limit)]

    newest_first = [first_martin, refs["Martin"][1], refs["MARTÍNEZ"][0], refs["Martineau"][0]]
    assert found("mart") == newest_first
    assert found("MARTI", limit=2) == newest_first[:2]
    assert found("martinez") == [refs["MARTÍNEZ"][0]]  # typed without its accent
    assert found("marc") == [refs["Marchand"][0]]
    assert found("martinet") == []


def test_the_visible_plate_wins_when_the_format_is_changed(service: DossierService) -> None:
    ref = service.create("changement_adresse").reference
    service.answer(ref, "format_immatriculation", "siv")
    service.answer(ref, "immatriculation_siv", "AB-123-CD")
    service.answer(ref, "format_immatriculation", "fni")
    service.answer(ref, "immatriculation_fni", "1234 ab 56")
    assert service.show(ref).summary.immatriculation == "1234 AB 56"
    assert [d.reference for d in service.list(search="1234AB56")] == [ref]
    assert service.list(search="AB-123-CD") == []
    # Back to SIV: the SIV answer, still stored, is the visible one again.
    service.answer(ref, "format_immatriculation", "siv")
    assert service.show(ref).summary.immatriculation == "AB-123-CD"


def test_removing_a_co_heir_renumbers_the_next_ones(service: DossierService) -> None:
    ref = service.create("succession").reference
    for i, name in enumerate(["Alpha", "Bravo", "Charlie"]):
        service.answer(ref, f"coheritiers[{i}].coheritier_nom", name)
    service.remove_group_item(ref, "coheritiers", 0)
    answers = service.show(ref).answers
    assert answers["coheritiers[0].coheritier_nom"] == "Bravo"
    assert answers["coheritiers[1].coheritier_nom"] == "Charlie"
    assert "coheritiers[2].coheritier_nom" not in answers


def test_documents_follow_the_answers_and_per_heir_documents(service: DossierService) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "vente_sous_3_mois", "non")
    service.answer(ref, "autres_heritiers", "oui")
    service.answer(ref, "coheritiers[0].coheritier_nom", "Bravo")
    service.answer(ref, "coheritiers[0].coheritier_role", "desistement")
    documents = service.show(ref).documents
    docs = {(d.kind, d.item_path) for d in documents}
    assert ("desistement", "coheritiers[0]") in docs
    # On the receipt, the person must know which co-heir signs.
    label = next(d.label for d in documents if d.kind == "desistement")
    assert label.endswith("Cohéritier 1 : Bravo"), label
    assert ("certificat_cession", None) not in docs

    service.answer(ref, "vente_sous_3_mois", "oui")  # sold within 3 months, not driven
    docs = {(d.kind, d.item_path) for d in service.show(ref).documents}
    assert ("certificat_cession", None) in docs
    assert ("cerfa_13750", None) not in docs

    service.add_piece(
        ref, "certificat_cession", file_path="/x.pdf", sha256="0" * 64, mime_type="application/pdf"
    )
    provided = {d.kind for d in service.show(ref).documents if d.provided}
    assert provided == {"certificat_cession"}


def test_a_dossier_keeps_the_version_it_was_started_with(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "demarches"
    folder.mkdir()
    source = assets_dir() / "demarches" / "cas_complexe.v1.toml"
    shutil.copy(source, folder / source.name)
    old = DossierService(store, load_catalog(folder)).create("cas_complexe")
    v2 = source.read_text(encoding="utf-8").replace("version = 1", "version = 2", 1)
    (folder / "cas_complexe.v2.toml").write_text(v2, encoding="utf-8")
    service = DossierService(store, load_catalog(folder))
    new = service.create("cas_complexe")
    assert (old.demarche_version, new.demarche_version) == (1, 2)
    assert service.show(old.reference).summary.demarche_version == 1


def test_timestamps_come_from_the_injected_clock(store: Store, catalog: Catalog) -> None:
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    service = DossierService(store, catalog, clock=lambda: now)
    ref = service.create("succession").reference
    later = now + timedelta(minutes=5)
    service = DossierService(store, catalog, clock=lambda: later)
    service.answer(ref, "nom", "Martin")
    summary = service.show(ref).summary
    assert (summary.created_at, summary.updated_at) == (now, later)


def test_usage_counts_dossiers_started_since_a_date_per_demarche(
    store: Store, catalog: Catalog
) -> None:
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    old = DossierService(store, catalog, clock=lambda: now - timedelta(days=120))
    recent = DossierService(store, catalog, clock=lambda: now - timedelta(days=3))
    for _ in range(3):
        old.create("succession")  # much used, but long ago
    for _ in range(2):
        recent.create("permis_perte")
    recent.create("succession")
    counts = recent.usage_counts(now - timedelta(days=90))
    assert counts == {"permis_perte": 2, "succession": 1}
