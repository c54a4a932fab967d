"""A document the national service issued, given back decrypted to print, once it has arrived,
and only if it is the one announced."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.national_documents import NationalDocumentError, NationalDocuments
from kiosk.store import Store
from kiosk.store.documents import DocumentStore
from kiosk.store.models import Dossier, NationalDocument
from tests.followup.letters_support import decide, filed_dossier

CPI = b"%PDF-1.4\n% certificat provisoire d'immatriculation\n%%EOF\n"


def announce(
    store: Store,
    ref: str,
    *,
    files: DocumentStore | None = None,
    data: bytes = CPI,
    label: str = "Certificat provisoire d'immatriculation",
    remote_id: str = "doc-1",
) -> int:
    """A document announced by the decisions feed; fetched and stored when ``files`` is given
    (as the sync leaves it)."""
    stored = files.store_bytes(data, "application/pdf") if files is not None else None
    with store.write() as s:
        dossier_id = s.scalar(select(Dossier.id).where(Dossier.reference == ref))
        row = NationalDocument(
            dossier_id=str(dossier_id),
            remote_id=remote_id,
            kind="certificat_provisoire",
            label=label,
            mime_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            file_path=str(stored.path) if stored else None,
            announced_at=datetime(2026, 12, 4, 9, tzinfo=UTC),
            received_at=datetime.now(UTC) if stored else None,
        )
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture
def files(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "documents")


def test_a_received_document_is_read_decrypted_and_marked_printed(
    service: DossierService, store: Store, files: DocumentStore
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.ACCEPTE)
    doc_id = announce(store, ref, files=files)
    documents = NationalDocuments(store, files)

    view, data = documents.read(ref)
    documents.mark_printed(view.id)

    assert data == CPI and view.id == doc_id and view.is_pdf
    [listed] = documents.list(ref)
    assert listed.printed_at is not None and listed.status_text == "imprimé"
    assert CPI not in next(files.root.iterdir()).read_bytes()  # kept encrypted on disk


def test_a_document_not_yet_received_says_so(
    service: DossierService, store: Store, files: DocumentStore
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.ACCEPTE)
    announce(store, ref)
    documents = NationalDocuments(store, files)

    with pytest.raises(NationalDocumentError) as raised:
        documents.read(ref)

    assert "n'est pas encore arrivé du service national (annoncé le 04/12/2026)" in str(
        raised.value
    )
    assert documents.list(ref)[0].printed_at is None


def test_several_documents_ask_which_and_none_says_none(
    service: DossierService, store: Store, files: DocumentStore
) -> None:
    ref = filed_dossier(service)
    documents = NationalDocuments(store, files)
    with pytest.raises(NationalDocumentError, match="aucun document"):
        documents.read(ref)
    first = announce(store, ref, files=files)
    announce(store, ref, label="Lettre de décision", remote_id="doc-2")

    with pytest.raises(NationalDocumentError, match="--document NUMERO"):
        documents.read(ref)

    assert documents.read(ref, first)[1] == CPI


def test_a_file_that_is_not_the_one_announced_is_never_given(
    service: DossierService, store: Store, files: DocumentStore
) -> None:
    ref = filed_dossier(service)
    doc_id = announce(store, ref, files=files)
    with store.write() as s:
        row = s.get(NationalDocument, doc_id)
        assert row is not None
        row.sha256 = hashlib.sha256(b"another document").hexdigest()

    with pytest.raises(NationalDocumentError, match="n'est pas celui que le service national"):
        NationalDocuments(store, files).read(ref)
