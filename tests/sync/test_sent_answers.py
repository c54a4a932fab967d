"""Only what the dossier asks leaves the kiosk: the body the outbox hands the sync after the real
filing use case has no co-heir when « autres héritiers » is « non », no answer to a question its
condition hides, none to an item or a question the démarche does not have, and no document that
is no longer required. The store keeps them (the agent may switch the branch back)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kiosk.demarches import Catalog
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.site.counter import CounterSettings
from kiosk.store import Store
from kiosk.store.documents import DocumentStore
from kiosk.store.models import Answer
from kiosk.sync.outbox import Outbox
from tests.support import file_dossier, fill

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_hidden_and_orphan_answers_are_kept_here_but_never_sent(
    store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    service = DossierService(store, catalog, clock=lambda: NOW)
    documents = DocumentStore(tmp_path / "documents")
    attachments = Attachments(store, catalog, documents, clock=lambda: NOW)
    demarche = catalog.latest("succession")
    ref = service.create(demarche.id).reference
    # A co-heir, with his document, before the person says there is no other heir after all.
    service.answer(ref, "vente_sous_3_mois", "non")
    service.answer(ref, "autres_heritiers", "oui")
    service.answer(ref, "coheritiers[0].coheritier_nom", "LEGRAND")
    service.answer(ref, "coheritiers[0].coheritier_prenoms", "Léo")
    service.answer(ref, "coheritiers[0].coheritier_role", "cotitulaire")
    attachments.attach(
        ref, "identite_cotitulaire", PNG + b"leo", "image/png", item_path="coheritiers[0]"
    )
    service.answer(ref, "autres_heritiers", "non")
    # A mobile number typed, then « je reviendrai au guichet »: the number's question is hidden.
    service.answer(ref, "mode_contact", "telephone")
    service.answer(ref, "telephone_portable", "06 98 76 54 32")
    service.answer(ref, "mode_contact", "guichet")
    fill(service, ref, demarche)
    attachments.attach(ref, "piece_identite", PNG + b"me", "image/png")
    summary = service.show(ref).summary
    with store.write() as s:  # rows an older kiosk could have stored: an odd index, a gone question
        s.add(Answer(dossier_id=summary.id, path="coheritiers[01].coheritier_nom", value="X",
                     updated_at=NOW))  # fmt: skip
        s.add(Answer(dossier_id=summary.id, path="question_retiree", value="Y", updated_at=NOW))
    file_dossier(service, ref)

    claimed = Outbox(store, catalog, clock=lambda: NOW, read_document=documents.read).claim()

    assert claimed is not None
    body = claimed.dossier.body
    sent = body["reponses"]
    assert sent["autres_heritiers"] is False and sent["mode_contact"] == "guichet"
    assert not [p for p in sent if p.startswith("coheritiers")]
    assert "telephone_portable" not in sent and "question_retiree" not in sent
    assert "698765432" not in repr(body) and "LEGRAND" not in repr(body)
    assert body["usager"]["telephone"] is None
    assert [p["type"] for p in body["pieces"]] == ["piece_identite"]
    assert [p.read(p.path) for p in claimed.dossier.pieces] == [PNG + b"me"]
    # The local store keeps every answer given: switching « autres héritiers » back shows Léo.
    kept = service.show(ref).answers
    assert kept["coheritiers[0].coheritier_nom"] == "LEGRAND"
    assert kept["telephone_portable"] == "+33698765432"
    # The receipt counts the documents asked, not Léo's.
    data = ReceiptService(service, CounterSettings(store)).data(ref)
    assert "LEGRAND" not in repr(data)
    assert ("Pièces fournies", f"1 sur {len(service.show(ref).documents)}") in data.filed


def test_a_dossier_whose_definition_is_gone_waits_and_says_why(
    store: Store, catalog: Catalog
) -> None:
    service = DossierService(store, catalog, clock=lambda: NOW)
    demarche = catalog.latest("changement_adresse")
    ref = service.create(demarche.id).reference
    fill(service, ref, demarche)
    file_dossier(service, ref)
    without = Catalog([d for d in catalog.all() if d.id != demarche.id], [])

    outbox = Outbox(store, without, clock=lambda: NOW)

    assert outbox.claim() is None  # nothing sent without knowing what the dossier asks
    assert outbox.counts().pending == 1
    assert Outbox(store, catalog, clock=lambda: NOW.replace(hour=11)).claim() is not None
