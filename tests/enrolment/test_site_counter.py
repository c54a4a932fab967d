"""A new counter of a site store, enrolled: it receives the site's print server, scanner and
documents key with the rest of the sealed settings (never a lone kiosk's own key), keeps a key
it already has, and then reads the scans the other counters attached (a real PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.container import open_documents
from app.enrolment import site_settings
from app.settings import Settings
from kiosk.enrolment.code import new_code
from kiosk.enrolment.seal import open_sealed, seal
from kiosk.enrolment.site import InvalidSettings, SiteSettings
from kiosk.settings.paths import Paths
from kiosk.store import open_store
from kiosk.store.keys import install_key, read_key

SCAN = b"%PDF-1.4\nfacture EDF de Mme MARTIN\n"
UNUSED = Path("/nonexistent/unused.db")


def test_a_site_counter_gives_the_sites_key_and_devices_sealed_a_lone_kiosk_never_its_key(
    tmp_path: Path, site_url: str
) -> None:
    lone = Settings(data_dir=tmp_path / "seule", print_server="cups.site:631", scanner="test")
    install_key(lone.paths.documents_key_file, bytes(range(32)))
    assert site_settings(lone).documents_key is None
    assert (site_settings(lone).print_server, site_settings(lone).scanner) == (
        "cups.site:631",
        "test",
    )

    counter = Settings(data_dir=tmp_path / "guichet-1", database_url=site_url)
    store = open_store(UNUSED, url=site_url)
    try:
        open_documents(store, counter.paths).store_bytes(SCAN, "application/pdf")
    finally:
        store.close()
    given = site_settings(counter)
    assert given.documents_key == read_key(counter.paths.documents_key_file).hex()
    assert given.documents_key not in repr(given)  # never in a log line
    code = new_code()
    blob = seal(code, given.to_json())
    assert given.documents_key.encode() not in blob
    assert SiteSettings.from_json(open_sealed(code, blob)) == given


def test_the_new_counter_keeps_the_sites_key_and_reads_the_sites_scans(
    tmp_path: Path, site_url: str
) -> None:
    first = Paths.resolve(data_dir=tmp_path / "guichet-1", database_url=site_url)
    store = open_store(UNUSED, url=site_url)
    try:
        stored = open_documents(store, first).store_bytes(SCAN, "application/pdf")
        key = read_key(first.documents_key_file)
        second = Paths.resolve(data_dir=tmp_path / "guichet-2", database_url=site_url)
        install_key(second.documents_key_file, key)  # what the enrolment does with it
        assert open_documents(store, second).read(stored.path) == SCAN
        # A key already there is never replaced (what it sealed would be lost).
        install_key(second.documents_key_file, bytes(32))
        assert read_key(second.documents_key_file) == key
    finally:
        store.close()


@pytest.mark.parametrize("key", ["ab" * 31, "AB" * 32, "zz" * 32, 12])
def test_a_site_key_that_is_not_64_hex_digits_is_refused(key: object) -> None:
    payload = SiteSettings("https://api.exemple.gouv.fr").to_json()[:-1]
    payload += b',"stockage":{"cle_documents":' + repr(key).replace("'", '"').encode() + b"}}"
    with pytest.raises(InvalidSettings):
        SiteSettings.from_json(payload)
