"""The national acknowledgement says the amount due; the kiosk keeps it beside its estimate, and
a difference is shown to the agent. The real reference server on loopback, real HTTP."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from app.cli_fees import view_text
from kiosk.demarches import Catalog
from kiosk.dossiers.states import DossierState
from kiosk.store import Store
from sync.clock import SimClock
from sync.server.app import NationalSimulator
from sync.server.run import ServerThread
from tests.fees.support import with_newer_tariff
from tests.support import file_dossier, fill
from tests.sync.conftest import Kiosk, make_kiosk

FILED = datetime(2027, 6, 1, 8, 30, tzinfo=UTC)


def _filed(kiosk: Kiosk, catalog: Catalog) -> str:
    reference = kiosk.dossiers.create("changement_titulaire").reference
    fill(kiosk.dossiers, reference, catalog.latest("changement_titulaire"))
    file_dossier(kiosk.dossiers, reference)
    return reference


@pytest.fixture
def clock() -> SimClock:
    return SimClock(FILED.timestamp())


def _server(tmp_path: Path, clock: SimClock, **options: object) -> NationalSimulator:
    sim = NationalSimulator(
        tmp_path / "national.sqlite3",
        clock=clock.time,
        rng=random.Random(1),
        **options,  # type: ignore[arg-type]
    )
    # The acknowledgement is what these tests read: the service does not ask for the payment
    # in the same pass (tests/sync/test_payment.py does).
    sim.app.faults.paiement_avant_instruction = False
    return sim


def test_the_acknowledged_amount_is_kept_and_equal_to_the_estimate(
    store: Store, catalog: Catalog, tmp_path: Path, clock: SimClock
) -> None:
    with ServerThread(_server(tmp_path, clock)) as national:
        kiosk = make_kiosk(store, catalog, national.url, clock=clock)
        reference = _filed(kiosk, catalog)
        report = kiosk.worker.run_once()
        kiosk.api.close()
    assert report.sent == 1
    fees = kiosk.dossiers.fees(reference)
    assert kiosk.dossiers.show(reference).summary.state is DossierState.TRANSMIS
    assert fees.amount_due == 43376 == fees.estimate.total
    assert not fees.differs
    assert view_text(fees).splitlines()[-1] == (
        "Montant dû selon le service national : 433,76\u00a0€ (le même que l'estimation)"
    )


def test_a_national_amount_other_than_the_estimate_is_shown_to_the_agent(
    store: Store, catalog: Catalog, tmp_path: Path, clock: SimClock
) -> None:
    # The national service already charges by a tariff this kiosk has not received (Y.4 15 €).
    newer = with_newer_tariff(tmp_path / "tarifs", date(2027, 5, 1), fixed_tax=1500)
    with ServerThread(_server(tmp_path, clock, tariffs=newer)) as national:
        kiosk = make_kiosk(store, catalog, national.url, clock=clock)
        reference = _filed(kiosk, catalog)
        assert kiosk.worker.run_once().sent == 1
        kiosk.api.close()
    fees = kiosk.dossiers.fees(reference)
    assert fees.estimate.tariff_version == "2026-12-05"  # the kiosk's own, kept at filing
    assert (fees.amount_due, fees.estimate.total) == (43776, 43376) and fees.differs
    assert view_text(fees).splitlines()[-1] == (
        "Montant dû selon le service national : 437,76\u00a0€ (estimation : 433,76\u00a0€)"
    )


class _Rewrite(httpx.BaseTransport):
    """The real server, with ``montant_du_centimes`` of its acknowledgements replaced."""

    def __init__(self, value: object, *, drop: bool = False) -> None:
        self._real = httpx.HTTPTransport()
        self._value = value
        self._drop = drop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        if request.method != "POST" or request.url.path != "/v1/dossiers":
            return response
        response.read()
        data = json.loads(response.content)
        if self._drop:
            data.pop("montant_du_centimes", None)
        else:
            data["montant_du_centimes"] = self._value
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=data)

    def close(self) -> None:
        self._real.close()


@pytest.fixture
def national(tmp_path: Path, clock: SimClock) -> Iterator[ServerThread]:
    with ServerThread(_server(tmp_path, clock)) as server:
        yield server


@pytest.mark.parametrize(
    ("value", "drop", "logged"),
    [
        (None, True, False),  # absent: the contract makes it optional
        (None, False, False),  # null
        (-100, False, True),
        (10**12, False, True),  # ten billion euros
        (433.76, False, True),  # euros, not cents
        ("43376", False, True),
        (True, False, True),
    ],
    ids=["absent", "null", "negative", "absurd", "float", "text", "bool"],
)
def test_an_unusable_amount_is_ignored_with_a_log_and_the_filing_still_acknowledged(
    store: Store,
    catalog: Catalog,
    national: ServerThread,
    clock: SimClock,
    caplog: pytest.LogCaptureFixture,
    value: object,
    drop: bool,
    logged: bool,
) -> None:
    kiosk = make_kiosk(
        store, catalog, national.url, clock=clock, transport=_Rewrite(value, drop=drop)
    )
    reference = _filed(kiosk, catalog)
    with caplog.at_level(logging.WARNING, logger="sync.client"):
        assert kiosk.worker.run_once().sent == 1
    kiosk.api.close()
    assert kiosk.dossiers.show(reference).summary.state is DossierState.TRANSMIS
    fees = kiosk.dossiers.fees(reference)
    assert fees.amount_due is None and not fees.differs
    assert fees.estimate.total == 43376  # the estimate stays what the agent sees
    warned = [r.getMessage() for r in caplog.records if r.name == "sync.client"]
    assert bool(warned) is logged
    if logged:
        assert reference in warned[0] and "montant dû illisible" in warned[0]
