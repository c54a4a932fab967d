"""After the decision, through the real reference server on loopback: typed reasons and the
deadline reach the agent's notice, a text message goes exactly once to a person who chose
« par SMS » (and to no one else, with nothing personal in it), and the documents the service
issues are fetched, checked and kept encrypted."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.demarches import Catalog
from kiosk.dossiers.states import DossierState
from kiosk.followup.reasons import Reason, ReasonKind
from kiosk.ports.national import ReturnedDocument, StatusChange
from kiosk.store import Store
from kiosk.store.documents import DocumentStore
from kiosk.store.models import (
    ContactAttempt,
    Dossier,
    NationalDocument,
    NationalNotice,
    Notification,
)
from kiosk.sync.followup import NationalFollowUp, held_change, held_fields
from sync.answers import change as read_change
from sync.server.run import ServerThread
from tests.support import file_dossier, fill
from tests.sync.conftest import Kiosk, store_folder
from tests.sync.support import ROOT, kiosk_env, queue_many

T = TypeVar("T")
DEMARCHE = "changement_adresse"  # a carte-grise démarche: an acceptance issues a certificate
PHONE = "06 12 34 56 78"


def queue(k: Kiosk, catalog: Catalog, mode: str = "telephone") -> str:
    """File a complete dossier whose person chose ``mode`` to be told."""
    demarche = catalog.latest(DEMARCHE)
    ref = k.dossiers.create(demarche.id).reference
    fill(k.dossiers, ref, demarche)
    k.dossiers.answer(ref, "mode_contact", mode)
    if mode == "telephone":
        k.dossiers.answer(ref, "telephone_portable", PHONE)
    fill(k.dossiers, ref, demarche)
    file_dossier(k.dossiers, ref)
    return ref


def dossier_id(k: Kiosk, ref: str) -> str:
    with k.store.read() as s:
        return str(s.scalar(select(Dossier.id).where(Dossier.reference == ref)))


def decide(server: ServerThread, **order: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/_control/decider", json=order)


def sent(server: ServerThread) -> list[dict[str, Any]]:
    return list(httpx.get(f"{server.url}/_control/notifications").json()["notifications"])


def detached(s: Session, rows: list[T]) -> list[T]:
    """Rows readable after their session (the store's read session expires them at its end)."""
    s.expunge_all()
    return rows


def notices(store: Store) -> list[NationalNotice]:
    with store.read() as s:
        return detached(s, list(s.scalars(select(NationalNotice).order_by(NationalNotice.id))))


def messages(store: Store) -> list[Notification]:
    with store.read() as s:
        return detached(s, list(s.scalars(select(Notification).order_by(Notification.id))))


def documents(store: Store) -> list[NationalDocument]:
    with store.read() as s:
        return detached(s, list(s.scalars(select(NationalDocument).order_by(NationalDocument.id))))


def test_a_dossier_sent_back_names_a_real_document_and_the_day_to_answer_by(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue(kiosk, catalog, "guichet")
    kiosk.worker.run_once()
    change = decide(national, dossier=dossier_id(kiosk, ref), statut="a_completer").json()
    today = datetime.now(UTC).date()
    assert change["date_limite"] == (today + timedelta(days=30)).isoformat()
    [motif] = change["motifs"]
    documents_of_demarche = {d.kind for d in catalog.latest(DEMARCHE).documents}
    assert motif["piece"] in documents_of_demarche
    assert change["motif"] and change["manquant"]  # older kiosks still read these
    kiosk.worker.run_once()
    assert kiosk.dossiers.show(ref).summary.state is DossierState.A_COMPLETER
    [notice] = notices(kiosk.store)
    assert notice.deadline == today + timedelta(days=30)
    assert notice.reasons == [motif]
    assert messages(kiosk.store) == []  # « je reviendrai au guichet »: no text message


def test_reasons_forced_by_the_simulator_reach_the_notice_typed(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue(kiosk, catalog, "courrier")
    kiosk.worker.run_once()
    number = kiosk.dossiers.show(ref).national_number
    motifs = [
        {"type": "piece_perimee", "message": "Justificatif trop ancien.", "piece": "carte_grise"},
        {"type": "champ_incorrect", "message": "Code postal inconnu.", "champ": "adresse"},
    ]
    answer = decide(
        national, numero=number, statut="a_completer", motifs=motifs, date_limite="2027-01-15"
    )
    assert answer.status_code == 200
    again = decide(national, numero=number, statut="accepte")
    assert again.status_code == 409 and again.headers["content-type"].startswith(
        "application/problem+json"
    )
    unknown = decide(national, numero="NAT-99999999", statut="accepte")
    assert unknown.status_code == 404 and unknown.json()["code"] == "dossier_inconnu"
    kiosk.worker.run_once()
    [notice] = notices(kiosk.store)
    assert notice.deadline == date(2027, 1, 15)
    assert [Reason.from_json(r) for r in notice.reasons] == [
        Reason(ReasonKind.PIECE_PERIMEE, "Justificatif trop ancien.", piece="carte_grise"),
        Reason(ReasonKind.CHAMP_INCORRECT, "Code postal inconnu.", field="adresse"),
    ]
    assert messages(kiosk.store) == []  # « par courrier »: the letter is the agent's


def test_a_filing_refused_as_invalid_comes_back_with_typed_field_reasons(
    kiosk: Kiosk, national: ServerThread
) -> None:
    queue_many(kiosk.store, 1, demarche=(DEMARCHE, 1), nom=None)  # the service wants a name
    report = kiosk.worker.run_once()
    assert len(report.refused) == 1
    [notice] = notices(kiosk.store)
    assert notice.state == DossierState.A_COMPLETER.value
    assert notice.reasons == [
        {
            "type": "champ_incorrect",
            "message": "Le nom de l'usager est obligatoire.",
            "champ": "usager.nom",
        }
    ]
    # No national number: the service could not say which dossier a message is about.
    assert messages(kiosk.store) == [] and sent(national) == []


def test_a_text_message_goes_once_even_when_its_answer_is_lost(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue(kiosk, catalog)
    kiosk.worker.run_once()
    decide(national, dossier=dossier_id(kiosk, ref), statut="accepte")
    kiosk.worker.pull_changes()  # the decision, its notice and its message, queued together
    [queued] = messages(kiosk.store)
    assert queued.state == "en_attente"
    assert "certificat provisoire est à retirer au guichet" in queued.text

    httpx.post(f"{national.url}/_control", json={"taux_perte": 1.0})
    assert kiosk.worker.send_notifications() == 0  # sent, recorded, then the answer was lost
    assert [m.state for m in messages(kiosk.store)] == ["en_attente"]
    httpx.post(f"{national.url}/_control", json={"taux_perte": 0.0})
    kiosk.clock.advance(3600)
    assert kiosk.worker.send_notifications() == 1
    assert kiosk.worker.send_notifications() == 0  # nothing left

    [message] = sent(national)
    assert message["envois"] == 1  # the retry was a replay, never a second message
    assert message["telephone"] == "+33612345678"
    assert message["texte"] == queued.text
    [done] = messages(kiosk.store)
    assert done.state == "acquitte" and done.remote_id == message["id"]
    with kiosk.store.read() as s:
        attempts = [(a.channel, a.outcome) for a in s.scalars(select(ContactAttempt))]
    assert attempts == [("sms", "envoye")]
    assert kiosk.followup.list_to_contact() == []  # told: it leaves the agent's worklist


def test_text_messages_carry_the_reference_and_what_to_do_and_nothing_personal(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    refs = [queue(kiosk, catalog) for _ in range(3)]
    kiosk.worker.run_once()
    motifs = [
        {"type": "piece_perimee", "message": "Trop ancien (M. MARTIN).", "piece": "carte_grise"}
    ]
    for ref, status in zip(refs, ("a_completer", "refuse", "accepte"), strict=True):
        extra = {"motifs": motifs} if status == "a_completer" else {}
        decide(national, dossier=dossier_id(kiosk, ref), statut=status, **extra)
    kiosk.worker.run_once()
    texts = [m["texte"] for m in sent(national)]
    assert len(texts) == 3
    deadline = (datetime.now(UTC).date() + timedelta(days=30)).strftime("%d/%m/%Y")
    assert texts[0] == (
        f"Point numérique : votre dossier {refs[0]} est à compléter. Apportez au guichet :"
        f" Carte grise actuelle du véhicule avant le {deadline}."
    )
    assert "n'a pas été accepté" in texts[1] and "est accepté" in texts[2]
    view = kiosk.dossiers.show(refs[0])
    personal = ["MARTIN", "Paix", "VANNES", "56000", PHONE, "+33612345678", "12 34 56 78"]
    for ref, text in zip(refs, texts, strict=True):
        assert ref in text and len(text) <= 320
        assert not [p for p in personal if p.lower() in text.lower()], text
    assert view.answers["nom"] == "MARTIN"  # what was looked for is indeed the person's


def test_no_text_message_for_a_person_told_by_post_or_at_the_counter(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    refs = [queue(kiosk, catalog, "courrier"), queue(kiosk, catalog, "guichet")]
    kiosk.worker.run_once()
    for ref in refs:
        decide(national, dossier=dossier_id(kiosk, ref), statut="refuse")
    kiosk.worker.run_once()
    assert len(notices(kiosk.store)) == 2
    assert messages(kiosk.store) == [] and sent(national) == []
    assert len(kiosk.followup.list_to_contact()) == 2  # the agent writes or waits for them


def test_a_certificate_issued_is_fetched_checked_and_kept_encrypted(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue(kiosk, catalog, "guichet")
    kiosk.worker.run_once()
    change = decide(national, dossier=dossier_id(kiosk, ref), statut="accepte").json()
    [announced] = change["documents"]
    assert announced["type"] == "certificat_provisoire"
    report = kiosk.worker.run_once()
    assert report.documents_received == [ref]
    [doc] = documents(kiosk.store)
    assert doc.received_at is not None and doc.file_path is not None
    assert doc.notice_id == notices(kiosk.store)[0].id  # named by the decision's notice
    assert doc.label == "Certificat provisoire d'immatriculation"
    on_disk = Path(doc.file_path).read_bytes()  # the raw file, as a thief would read it
    plain = DocumentStore(store_folder(kiosk.store)).read(Path(doc.file_path))
    assert plain.startswith(b"%PDF-") and hashlib.sha256(plain).hexdigest() == doc.sha256
    assert on_disk != plain and b"%PDF" not in on_disk and ref.encode() not in on_disk


def test_a_document_not_the_one_announced_is_refused_then_fetched_later(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue(kiosk, catalog, "guichet")
    kiosk.worker.run_once()
    decide(national, dossier=dossier_id(kiosk, ref), statut="refuse")  # a decision letter
    db = national.sim.db
    with db.tx() as c:
        good = c.execute("SELECT contenu FROM document_emis").fetchone()[0]
        c.execute("UPDATE document_emis SET contenu = ?", (b"%PDF-1.4 autre chose",))
    kiosk.worker.run_once()
    [doc] = documents(kiosk.store)
    assert doc.received_at is None and doc.attempts == 1
    assert "différent de celui annoncé" in (doc.last_error or "")
    assert not store_folder(kiosk.store).exists() or not any(store_folder(kiosk.store).iterdir())

    with db.tx() as c:
        c.execute("UPDATE document_emis SET contenu = ?", (good,))
    kiosk.worker.fetch_documents()  # at once: it waits its own delay, not asked again
    assert documents(kiosk.store)[0].attempts == 1
    kiosk.clock.advance(3600)
    assert kiosk.worker.fetch_documents() == 1
    [doc] = documents(kiosk.store)
    assert doc.received_at is not None and doc.kind == "lettre_decision"


def test_a_page_with_a_malformed_reason_or_document_is_applied_not_at_all_then_whole(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue(kiosk, catalog, "guichet")
    kiosk.worker.run_once()
    decide(national, dossier=dossier_id(kiosk, ref), statut="a_completer")
    motifs = [
        {"type": "nouveau_type", "message": "Lu comme « autre »."},  # the contract allows it
        {"type": "champ_incorrect", "message": "Nom à revoir.", "champ": "a b"},
    ]
    letter = {
        "id": "doc-2",
        "type": "lettre_decision",
        "titre": "Lettre",
        "type_mime": "application/pdf",
        "taille": 10,
        "sha256": "0" * 64,
    }
    spoilt = [
        ([*motifs, {"type": "piece_manquante"}], [], "2027-01-15", "motifs[2].message"),
        (motifs, [{**letter, "id": "../../etc/passwd"}], "2027-01-15", "documents[0].id"),
        (motifs, [{**letter, "taille": 10**12}], "2027-01-15", "documents[0].taille"),
        (motifs, [letter, 42], "2027-01-15", "documents[1]"),
        (motifs, [], "demain", "date_limite"),
    ]
    for reasons, issued, deadline, where in spoilt:
        with national.sim.db.tx() as c:
            c.execute(
                "UPDATE changement SET motifs = ?, documents = ?, date_limite = ?",
                (json.dumps(reasons), json.dumps(issued), deadline),
            )
        kiosk.clock.advance(120)  # past the backoff of the page refused before
        report = kiosk.worker.run_once()
        # Nothing of the page: the decision waits with its reasons and documents, for good.
        assert kiosk.dossiers.show(ref).summary.state is DossierState.TRANSMIS
        assert notices(kiosk.store) == [] and documents(kiosk.store) == []
        assert report.last_error is not None
        assert report.last_error.startswith("Réponse inattendue du service national (décisions")
        assert f"changements[0].{where}" in report.last_error

    with national.sim.db.tx() as c:  # the service corrects its feed
        c.execute(
            "UPDATE changement SET motifs = ?, documents = '[]', date_limite = '2027-01-15'",
            (json.dumps(motifs),),
        )
    kiosk.clock.advance(120)
    kiosk.worker.run_once()
    assert kiosk.dossiers.show(ref).summary.state is DossierState.A_COMPLETER
    [notice] = notices(kiosk.store)
    assert notice.deadline == date(2027, 1, 15)
    assert [r["type"] for r in notice.reasons] == ["autre", "champ_incorrect"]
    assert "champ" not in notice.reasons[1]  # « a b » names no answer: the reason stays


def test_a_decision_another_counter_applied_meanwhile_is_no_error(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two counters of a site share the store and both read the feed: the second to write
    found the decision applied since its check, and its sync stopped on IllegalTransition."""
    ref = queue(kiosk, catalog, "guichet")
    kiosk.worker.run_once()
    decided = decide(national, dossier=dossier_id(kiosk, ref), statut="accepte").json()
    change = read_change(decided)
    other = NationalFollowUp(kiosk.store, kiosk.dossiers, clock=lambda: datetime.now(UTC))
    checked = kiosk.followup._verdict

    def meanwhile(c: StatusChange) -> Any:
        verdict = checked(c)
        other.apply(c)  # the other counter, between this one's check and its write
        return verdict

    monkeypatch.setattr(kiosk.followup, "_verdict", meanwhile)
    assert kiosk.followup.apply(change) is False
    assert kiosk.dossiers.show(ref).summary.state is DossierState.ACCEPTE
    assert len(notices(kiosk.store)) == 1 and len(documents(kiosk.store)) == 1


def test_a_feed_of_the_first_version_gives_typed_reasons_from_motif_and_manquant() -> None:
    change = read_change(
        {
            "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "numero_national": "NAT-1",
            "statut": "a_completer",
            "motif": "Pièces à revoir.",
            "manquant": ["Un justificatif de domicile récent"],
        }
    )
    assert change.reasons == (
        Reason(ReasonKind.PIECE_MANQUANTE, "Un justificatif de domicile récent"),
    )
    assert change.deadline is None and change.documents == ()


def test_a_held_decision_keeps_its_reasons_deadline_and_documents() -> None:
    change = StatusChange(
        dossier_id="d",
        national_number="NAT-00000001",
        status="a_completer",
        reason="r",
        missing=("m",),
        reasons=(Reason(ReasonKind.PIECE_PERIMEE, "vieux", piece="carte_grise"),),
        deadline=date(2027, 1, 15),
        documents=(
            ReturnedDocument("doc-1", "lettre_decision", "Lettre", "application/pdf", 9, "a" * 64),
        ),
    )
    assert held_change(json.loads(json.dumps(held_fields(change)))) == change
    # One held by the version before, without the typed fields, still reads.
    old: dict[str, Any] = {
        "dossier_id": "d",
        "national_number": "N",
        "status": "refuse",
        "reason": None,
        "missing": [],
    }
    assert held_change(old) == StatusChange("d", "N", "refuse")


def test_sync_status_lists_messages_waiting_and_documents_not_received(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    ref = queue(kiosk, catalog)
    kiosk.worker.run_once()
    decide(national, dossier=dossier_id(kiosk, ref), statut="accepte")
    kiosk.worker.pull_changes()  # decided here; neither the message nor the certificate yet
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", str(kiosk.store.path), "sync", "status"],
        cwd=ROOT,
        env=kiosk_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "SMS en attente : 1" in result.stdout
    assert "Documents du service national pas encore reçus : 1" in result.stdout
    assert f"{ref}  Certificat provisoire d'immatriculation" in result.stdout
