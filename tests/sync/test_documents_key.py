"""The documents key's medium absent (a token not plugged in, docs/security.md): the dossiers
without documents are still sent; one with documents waits, uncharged, said in ``sync status``,
and leaves complete once the key is back. Sent at once, it would go with empty documents and
come back « à compléter » after the person has left. Real server on loopback, simulated time."""

from __future__ import annotations

from pathlib import Path

from kiosk.demarches import Catalog, required_documents
from kiosk.dossiers.attachments import Attachments
from kiosk.store import Store
from kiosk.store.documents import DocumentStore
from kiosk.store.models import OutboxItem
from sync.server.run import ServerThread
from tests.support import file_dossier, fill
from tests.sync.conftest import make_kiosk
from tests.sync.test_worker import DEMARCHE

PDF = b"%PDF-1.4\n% justificatif de domicile\n" + b"x" * 2000


def test_a_missing_documents_key_holds_only_the_dossiers_with_documents(
    store: Store, catalog: Catalog, national: ServerThread, tmp_path: Path
) -> None:
    files = DocumentStore(tmp_path / "documents", key_file=tmp_path / "keys" / "documents.key")
    kiosk = make_kiosk(store, catalog, national.url, read_document=files.read)
    demarche = catalog.get(*DEMARCHE)
    with_piece = kiosk.dossiers.create(DEMARCHE[0]).reference
    without = kiosk.dossiers.create(DEMARCHE[0]).reference
    for ref in (with_piece, without):
        fill(kiosk.dossiers, ref, demarche)
    kind = required_documents(demarche, kiosk.dossiers.show(with_piece).answers)[0].kind
    Attachments(store, catalog, files).attach(with_piece, kind, PDF, "application/pdf")
    for ref in (with_piece, without):
        file_dossier(kiosk.dossiers, ref)

    key = tmp_path / "keys" / "documents.key"
    kept = key.read_bytes()
    key.unlink()  # the token is not plugged in when the kiosk next starts
    kiosk.api.close()
    restarted = DocumentStore(files.root, key_file=key)
    kiosk = make_kiosk(store, catalog, national.url, read_document=restarted.read)
    report = kiosk.worker.run_once()
    assert report.sent == 1
    assert kiosk.dossiers.show(without).summary.state.value == "transmis"
    assert kiosk.dossiers.show(with_piece).summary.state.value == "en_file"  # not « à compléter »
    [held] = kiosk.outbox.held()
    assert held.reference == with_piece and "clé" in (held.last_error or "")
    with store.read() as s:
        assert {o.attempts for o in s.query(OutboxItem) if o.state != "acquitte"} == {0}
    assert not key.exists()  # and never a new key over the existing documents

    key.write_bytes(kept)  # the token is back
    kiosk.clock.advance(600)
    assert kiosk.worker.run_once().sent == 1
    assert kiosk.dossiers.show(with_piece).summary.state.value == "transmis"
    assert kiosk.outbox.held() == []
    assert sorted(national.sim.db.filings_per_dossier().values()) == [1, 1]
    kiosk.api.close()
