"""A site's supporting documents, reachable from every counter and kept encrypted (issue 17).

Two counters open the same site store (a real PostgreSQL server), each with its own data
folder: a scan attached at one is read at the other, the server holds ciphertext only, and a
counter without the site's documents key (or with another) is told so instead of sealing
documents the others could not read.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.container import open_documents
from kiosk.demarches import Catalog
from kiosk.dossiers.attachments import Attachments
from kiosk.dossiers.service import DossierService
from kiosk.security.retention import RetentionPolicy, RetentionService
from kiosk.settings.paths import Paths
from kiosk.store import Store, open_store
from kiosk.store.documents import DocumentKeyUnavailable, SiteDocuments
from kiosk.store.models import SiteDocument

SCAN = b"%PDF-1.4\n" + b"justificatif de domicile de Mme MARTIN, 3 rue des Lilas\n" * 40
UNUSED = Path("/nonexistent/unused.db")


def _counter(url: str, folder: Path) -> tuple[Store, SiteDocuments]:
    store = open_store(UNUSED, url=url)
    files = open_documents(store, Paths.resolve(data_dir=folder))
    assert isinstance(files, SiteDocuments)
    return store, files


@pytest.fixture
def counters(tmp_path: Path) -> tuple[Path, Path]:
    """Two counters' data folders."""
    return tmp_path / "guichet-1", tmp_path / "guichet-2"


def _key(folder: Path) -> Path:
    return Paths.resolve(data_dir=folder).documents_key_file


def test_a_scan_attached_at_one_counter_is_read_at_another_and_the_server_sees_ciphertext(
    site_url: str, counters: tuple[Path, Path], catalog: Catalog
) -> None:
    first, second = counters
    store1, files1 = _counter(site_url, first)
    ref = DossierService(store1, catalog).create("changement_adresse").reference
    Attachments(store1, catalog, files1).attach(ref, "carte_grise", SCAN, "application/pdf")
    # The site's key is copied to the second counter (enrolment does it, docs/sites.md).
    _key(second).parent.mkdir(parents=True)
    shutil.copy2(_key(first), _key(second))

    store2, files2 = _counter(site_url, second)
    try:
        attachments = Attachments(store2, catalog, files2)
        [attached] = attachments.list(ref)
        assert attached.kind == "carte_grise"
        assert attachments.read(attached.path) == SCAN
        assert not (first / "documents").exists()  # nothing left on the counter's disk
        with store2.read() as s:
            [sealed] = s.scalars(select(SiteDocument.contenu)).all()
        assert b"MARTIN" not in sealed and b"%PDF" not in sealed
        assert len(sealed) == len(SCAN) + 12 + 16  # nonce, ciphertext, tag
    finally:
        store1.close()
        store2.close()


def test_the_same_scan_from_two_counters_is_kept_once(
    site_url: str, counters: tuple[Path, Path], catalog: Catalog
) -> None:
    first, second = counters
    store1, files1 = _counter(site_url, first)
    files1.store_bytes(SCAN, "application/pdf")
    _key(second).parent.mkdir(parents=True)
    shutil.copy2(_key(first), _key(second))
    store2, files2 = _counter(site_url, second)
    try:
        assert files2.store_bytes(SCAN, "application/pdf").path.name == (
            files1.store_bytes(SCAN, "application/pdf").path.name
        )
        with store2.read() as s:
            assert len(s.scalars(select(SiteDocument.nom)).all()) == 1
    finally:
        store1.close()
        store2.close()


def test_a_counter_without_the_sites_key_is_told_and_creates_no_key_of_its_own(
    site_url: str, counters: tuple[Path, Path], catalog: Catalog
) -> None:
    first, second = counters
    store1, files1 = _counter(site_url, first)
    ref = DossierService(store1, catalog).create("changement_adresse").reference
    Attachments(store1, catalog, files1).attach(ref, "carte_grise", SCAN, "application/pdf")
    store2, files2 = _counter(site_url, second)
    try:
        attachments = Attachments(store2, catalog, files2)
        with pytest.raises(DocumentKeyUnavailable, match="La clé des pièces du site manque"):
            attachments.attach(ref, "carte_grise", b"%PDF-1.4\nautre", "application/pdf")
        assert not _key(second).exists()
        [attached] = attachments.list(ref)
        with pytest.raises(DocumentKeyUnavailable, match="manque sur ce poste"):
            attachments.read(attached.path)
    finally:
        store1.close()
        store2.close()


def test_a_counter_with_another_key_is_told_and_seals_nothing(
    site_url: str, counters: tuple[Path, Path], catalog: Catalog
) -> None:
    first, second = counters
    store1, files1 = _counter(site_url, first)
    files1.store_bytes(SCAN, "application/pdf")
    _key(second).parent.mkdir(parents=True)
    _key(second).write_text("ab" * 32 + "\n")
    _key(second).chmod(0o600)
    store2, files2 = _counter(site_url, second)
    try:
        with pytest.raises(DocumentKeyUnavailable, match="n'est pas celle du site"):
            files2.store_bytes(b"%PDF-1.4\nautre", "application/pdf")
        with store2.read() as s:
            assert len(s.scalars(select(SiteDocument.nom)).all()) == 1
    finally:
        store1.close()
        store2.close()


def test_the_purge_erases_a_dossiers_documents_from_the_site_store(
    site_url: str, counters: tuple[Path, Path], catalog: Catalog
) -> None:
    first, _second = counters
    store, files = _counter(site_url, first)
    try:
        service = DossierService(store, catalog)
        ref = service.create("changement_adresse").reference
        Attachments(store, catalog, files).attach(ref, "carte_grise", SCAN, "application/pdf")
        policy = RetentionPolicy(after_inactivity=timedelta(0))
        report = RetentionService(store, files, policy=policy).purge()
        assert [p.reference for p in report.dossiers] == [ref]
        assert report.files_deleted == 1
        with store.read() as s:
            assert s.scalars(select(SiteDocument.nom)).all() == []
    finally:
        store.close()
