"""A receipt read at any kiosk (issue 17): a person filed at one kiosk, comes back with the
receipt to another (another préfecture, a mairie's tablet) that does not hold the dossier; that
kiosk reads the QR code and asks the national service (``POST /v1/suivi``), which compares the
verifier the filing kiosk deposited. Real HTTP to the reference server on loopback, two stores.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from kiosk.demarches import Catalog
from kiosk.dossiers.receipts import (
    FollowedReceipt,
    FollowReceipt,
    ReceiptNotFollowed,
    ReceiptService,
)
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.views import DossierSummary
from kiosk.receipt import encode_qr_payload
from kiosk.site.counter import CounterSettings
from kiosk.store import Store, open_store
from kiosk.store.models import OutboxItem
from sync.client import HttpNationalApi
from sync.clock import SimClock
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from tests.support import file_dossier, fill
from tests.sync.conftest import Kiosk, make_kiosk

FILED = datetime(2027, 6, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(FILED.timestamp())


@pytest.fixture
def national(tmp_path: Path, clock: SimClock) -> Iterator[ServerThread]:
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    with ServerThread(sim) as server:
        yield server


@pytest.fixture
def filing_kiosk(
    store: Store, catalog: Catalog, national: ServerThread, clock: SimClock
) -> Iterator[Kiosk]:
    k = make_kiosk(store, catalog, national.url, clock=clock)
    yield k
    k.api.close()


@pytest.fixture
def other_kiosk(tmp_path: Path, catalog: Catalog) -> Iterator[DossierService]:
    """Another kiosk with a store of its own, which never saw the dossier."""
    other = open_store(tmp_path / "autre" / "kiosk.sqlite3")
    yield DossierService(other, catalog)
    other.close()


@pytest.fixture
def lookup_api(national: ServerThread) -> Iterator[HttpNationalApi]:
    api = HttpNationalApi(national.url, "borne-demo", "secret-demo")
    yield api
    api.close()


def _follower(service: DossierService, api: HttpNationalApi | None) -> FollowReceipt:
    return FollowReceipt(ReceiptService(service, CounterSettings(service._store)), api)


def _filed(kiosk: Kiosk, catalog: Catalog) -> tuple[str, str]:
    """A dossier filed and sent; the payload of its receipt's QR code."""
    reference = kiosk.dossiers.create("changement_adresse").reference
    fill(kiosk.dossiers, reference, catalog.latest("changement_adresse"))
    file_dossier(kiosk.dossiers, reference)
    data = ReceiptService(kiosk.dossiers, CounterSettings(kiosk.store)).data(reference)
    assert kiosk.worker.run_once().sent == 1
    return reference, encode_qr_payload(reference, data.verification_code)


def test_a_receipt_read_at_another_kiosk_gives_the_state_the_national_service_knows(
    filing_kiosk: Kiosk,
    other_kiosk: DossierService,
    lookup_api: HttpNationalApi,
    national: ServerThread,
    catalog: Catalog,
) -> None:
    reference, payload = _filed(filing_kiosk, catalog)
    follow = _follower(other_kiosk, lookup_api)

    found = follow.follow(payload)
    assert isinstance(found, FollowedReceipt)
    assert found.status.reference == reference
    assert found.status.status == "en_instruction"
    assert found.status.filed_on == date(2027, 6, 1)
    assert str(found.message()) == (
        f"Dossier {reference}, déposé le 01/06/2027 à une autre borne : en cours d'examen par"
        " le service national."
    )

    httpx.post(
        f"{national.url}/_control/decider",
        json={"dossier": filing_kiosk.dossiers.show(reference).summary.id, "statut": "accepte"},
    ).raise_for_status()
    accepted = follow.follow(payload)
    assert isinstance(accepted, FollowedReceipt)
    assert accepted.status.status == "accepte"
    assert accepted.message().localized("ar").endswith("مقبول.")


def test_at_the_kiosk_that_holds_it_the_receipt_opens_the_dossier(
    filing_kiosk: Kiosk, lookup_api: HttpNationalApi, catalog: Catalog
) -> None:
    reference, payload = _filed(filing_kiosk, catalog)
    found = _follower(filing_kiosk.dossiers, lookup_api).follow(payload)
    assert isinstance(found, DossierSummary)
    assert found.reference == reference


def test_a_wrong_code_is_not_told_apart_from_an_unknown_reference_and_five_close_it(
    filing_kiosk: Kiosk,
    other_kiosk: DossierService,
    lookup_api: HttpNationalApi,
    catalog: Catalog,
) -> None:
    reference, payload = _filed(filing_kiosk, catalog)
    follow = _follower(other_kiosk, lookup_api)
    code = payload.rsplit("-", 1)[1]
    forged = payload[: -len(code)] + ("A" if code[0] != "A" else "B") + code[1:]
    unknown = encode_qr_payload("PN-ZZZZ-ZZZZ", code)
    told = []
    for text in (unknown, forged):
        with pytest.raises(ReceiptNotFollowed) as caught:
            follow.follow(text)
        told.append(str(caught.value).replace("PN-ZZZZ-ZZZZ", reference))
    assert told[0] == told[1]  # nothing says whether the reference exists
    assert told[1].startswith(f"Aucun dossier ne correspond à ce récépissé ({reference})")
    for _ in range(4):
        with pytest.raises(ReceiptNotFollowed, match="Aucun dossier"):
            follow.follow(forged)
    # Five wrong codes for this reference: closed for a while, even to the right code.
    with pytest.raises(ReceiptNotFollowed, match="Trop de codes faux") as locked:
        follow.follow(payload)
    assert not locked.value.transient


def test_the_national_service_away_is_said_and_can_be_tried_again(
    other_kiosk: DossierService,
) -> None:
    api = HttpNationalApi("http://127.0.0.1:9", "borne-demo", "secret-demo")  # no one there
    try:
        with pytest.raises(ReceiptNotFollowed, match="ne répond pas pour le moment") as caught:
            _follower(other_kiosk, api).follow("PN1-7K3M-Q9TX-K4D9F2QX")
        assert caught.value.transient
    finally:
        api.close()


def test_a_kiosk_without_the_national_service_says_where_to_follow_it(
    other_kiosk: DossierService,
) -> None:
    with pytest.raises(ReceiptNotFollowed, match="la personne le suit à la borne qui l'a déposé"):
        _follower(other_kiosk, None).follow("PN1-7K3M-Q9TX-K4D9F2QX")


def test_a_filing_queued_by_an_earlier_version_is_resent_without_a_verifier(
    filing_kiosk: Kiosk,
    other_kiosk: DossierService,
    lookup_api: HttpNationalApi,
    national: ServerThread,
    catalog: Catalog,
) -> None:
    # Queued before this version (no verifier on its row): resent byte for byte as the first
    # attempt may have been, so the service never sees two bodies under one key.
    reference = filing_kiosk.dossiers.create("changement_adresse").reference
    fill(filing_kiosk.dossiers, reference, catalog.latest("changement_adresse"))
    file_dossier(filing_kiosk.dossiers, reference)
    with filing_kiosk.store.write() as s:
        s.execute(update(OutboxItem).values(verificateur=None))
    data = ReceiptService(filing_kiosk.dossiers, CounterSettings(filing_kiosk.store)).data(
        reference
    )
    assert filing_kiosk.worker.run_once().sent == 1
    filings = httpx.get(f"{national.url}/_control/depots").json()["depots"]
    assert list(filings.values()) == [1]
    with pytest.raises(ReceiptNotFollowed, match="Aucun dossier"):
        _follower(other_kiosk, lookup_api).follow(
            encode_qr_payload(reference, data.verification_code)
        )
