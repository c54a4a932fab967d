"""The site store over TLS, as a préfecture's counters reach their server (docs/sites.md).

A real PostgreSQL server speaking TLS only (clear text rejected by its ``pg_hba.conf``), its
certificate issued by the site's authority for ``site-serveur.test``, the kiosk's role
authenticated by a client certificate. The kiosk names the server by that name and reaches it on
the loopback through ``hostaddr``, so libpq checks the name against the certificate as it would on
the site's network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.demarches import Catalog
from kiosk.dossiers.service import DossierService
from kiosk.store import StoreError, open_store
from kiosk.store.site import SiteUnreachable
from tests.pki import Authority, Issued
from tests.postgres import Cluster, start_cluster

UNUSED = Path("/nonexistent/unused.db")
SERVER_NAME = "site-serveur.test"


@dataclass
class TlsSite:
    cluster: Cluster
    authority: Authority
    kiosk: Issued
    folder: Path

    def url(self, *, host: str = SERVER_NAME, ca: Path | None = None, **extra: str) -> str:
        query = {
            "hostaddr": "127.0.0.1",
            "sslmode": "verify-full",
            "sslrootcert": str(ca or self.authority.ca),
            "sslcert": str(self.kiosk.cert),
            "sslkey": str(self.kiosk.key),
            **extra,
        }
        args = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgresql://borne@{host}:{self.cluster.port}/kiosk?{args}"


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsSite]:
    folder = tmp_path_factory.mktemp("site-pki")
    authority = Authority(folder, "site")
    server = authority.server("serveur", SERVER_NAME)
    kiosk = authority.client("borne", "borne")
    cluster = start_cluster()
    try:
        cluster.require_tls(server.cert, server.key, authority.ca)
        cluster.sql("CREATE DATABASE kiosk OWNER borne")
        yield TlsSite(cluster, authority, kiosk, folder)
    finally:
        cluster.stop()


def test_the_counters_store_goes_over_verified_tls_with_the_kiosks_certificate(
    tls_site: TlsSite, catalog: Catalog
) -> None:
    store = open_store(UNUSED, url=tls_site.url())
    try:
        ref = DossierService(store, catalog).create("succession").reference
        with store.read() as s:
            ssl, version = s.execute(
                text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ).one()
            role = s.execute(text("SELECT current_user")).scalar_one()
        assert (ssl, role) == (True, "borne")
        assert version in ("TLSv1.2", "TLSv1.3")
    finally:
        store.close()
    # Another counter of the site finds the dossier.
    other = open_store(UNUSED, url=tls_site.url())
    try:
        assert DossierService(other, catalog).show(ref).summary.reference == ref
    finally:
        other.close()


def test_a_server_with_a_certificate_from_another_authority_is_told_and_gets_nothing(
    tls_site: TlsSite,
) -> None:
    stranger = Authority(tls_site.folder / "autre", "autre")
    with pytest.raises(SiteUnreachable) as caught:
        open_store(UNUSED, url=tls_site.url(ca=stranger.ca))
    message = str(caught.value)
    assert message.startswith(
        f"Le serveur du site {SERVER_NAME}:{tls_site.cluster.port}/kiosk n'a pas prouvé"
    )
    assert "certificate verify failed" in message
    assert "rien ne lui a été envoyé" in message


def test_a_server_answering_for_another_name_is_refused(tls_site: TlsSite) -> None:
    # The right authority, but the certificate names site-serveur.test, not the host asked for:
    # a machine of the site impersonating its server with a certificate of its own.
    with pytest.raises(SiteUnreachable, match="n'a pas prouvé") as caught:
        open_store(UNUSED, url=tls_site.url(host="autre-serveur.test"))
    assert "does not match host name" in str(caught.value)


def test_a_kiosk_whose_certificate_the_site_did_not_issue_is_refused(tls_site: TlsSite) -> None:
    stranger = Authority(tls_site.folder / "etranger", "etranger").client("borne2", "borne")
    url = tls_site.url(sslcert=str(stranger.cert), sslkey=str(stranger.key))
    with pytest.raises(SiteUnreachable) as caught:
        open_store(UNUSED, url=url)
    # The server ends the handshake (an unknown CA alert): said, never a traceback.
    assert str(caught.value).startswith(f"Le serveur du site {SERVER_NAME}:")


def test_clear_text_is_rejected_by_the_site_server(tls_site: TlsSite) -> None:
    # On this machine the kiosk would accept it; the site server does not.
    url = f"postgresql://borne@127.0.0.1:{tls_site.cluster.port}/kiosk?sslmode=disable"
    with pytest.raises(SiteUnreachable, match="refuse cette borne") as caught:
        open_store(UNUSED, url=url)
    assert "no encryption" in str(caught.value)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?sslmode=require&sslrootcert=/etc/pn-kiosk/site-ca.pem",
        "?sslmode=verify-ca&sslrootcert=/etc/pn-kiosk/site-ca.pem",
        "?sslmode=verify-full",
        "?host=127.0.0.1&sslmode=prefer",  # a loopback in the query does not excuse the host
    ],
)
def test_a_site_server_over_the_network_without_verified_tls_is_refused_before_connecting(
    query: str,
) -> None:
    # No server at that name: the refusal comes from the setting, before any connection.
    with pytest.raises(StoreError, match=r"Réglage stockage\.url : .*sslmode=verify-full") as e:
        open_store(UNUSED, url=f"postgresql://borne@serveur-site.invalid/kiosk{query}")
    assert not isinstance(e.value, SiteUnreachable)
