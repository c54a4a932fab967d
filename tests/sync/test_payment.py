"""Paying without a bank card, against the real reference server on loopback (real HTTP):
a timbre fiscal checked and consumed once, a used or unknown one told to the agent, a timbre
given offline sent once when the service is back, and a payment reference paid elsewhere
reaching the dossier through the decisions feed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from kiosk.demarches import Catalog
from kiosk.dossiers.payment import TimbreNotAccepted
from kiosk.dossiers.states import DossierState
from kiosk.store import Store
from sync.clock import SimClock
from sync.server.app import NationalSimulator
from sync.server.payments import USED_TIMBRE
from sync.server.run import ServerThread
from tests.support import file_dossier, fill
from tests.sync.conftest import Kiosk, make_kiosk

FILED = datetime(2027, 6, 1, 8, 30, tzinfo=UTC)
DUE = 43376  # changement de titulaire, filled by tests.support.fill: 433,76 €


@pytest.fixture
def clock() -> SimClock:
    return SimClock(FILED.timestamp())


@pytest.fixture
def national(tmp_path: Path, clock: SimClock) -> Iterator[ServerThread]:
    sim = NationalSimulator(tmp_path / "national.sqlite3", clock=clock.time, rng=random.Random(1))
    with ServerThread(sim) as server:
        yield server


@pytest.fixture
def kiosk(
    store: Store, catalog: Catalog, national: ServerThread, clock: SimClock
) -> Iterator[Kiosk]:
    k = make_kiosk(store, catalog, national.url, clock=clock)
    yield k
    k.api.close()


def _filed(kiosk: Kiosk, catalog: Catalog) -> str:
    reference = kiosk.dossiers.create("changement_titulaire").reference
    fill(kiosk.dossiers, reference, catalog.latest("changement_titulaire"))
    file_dossier(kiosk.dossiers, reference)
    return reference


def _control(national: ServerThread, path: str = "/_control", **body: object) -> dict[str, object]:
    response = httpx.post(f"{national.url}{path}", json=body)
    response.raise_for_status()
    return dict(response.json())


def _timbre(national: ServerThread, number: str, cents: int) -> None:
    _control(national, "/_control/paiements", timbre=number, montant_centimes=cents)


def test_the_feed_asks_for_payment_and_a_timbre_for_the_whole_amount_pays(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    reference = _filed(kiosk, catalog)
    assert kiosk.worker.run_once().sent == 1
    # The service asks for the payment at once: « en attente de paiement », with its reference.
    assert kiosk.dossiers.show(reference).summary.state is DossierState.ATTENTE_PAIEMENT
    payment = kiosk.dossiers.payment(reference)
    assert payment.payment_reference is not None
    assert payment.payment_amount_cents == DUE
    assert payment.payment_url is not None and payment.payment_reference in payment.payment_url
    people = kiosk.followup.list_to_contact()
    assert [(p.reference, p.state) for p in people] == [(reference, DossierState.ATTENTE_PAIEMENT)]
    assert payment.payment_reference in (people[0].what or "")
    assert kiosk.dossiers.waiting_for_payment() == [reference]

    _timbre(national, "4000 0000 0000 0001".replace(" ", ""), 50000)
    kiosk.dossiers.add_timbre(reference, "4000 0000-0000 0001")
    report = kiosk.worker.run_once()
    assert report.timbres_accepted == [reference]
    view = kiosk.dossiers.payment(reference)
    assert kiosk.dossiers.show(reference).summary.state is DossierState.PAYE
    assert [(t.state, t.amount_cents, t.remaining_cents) for t in view.timbres] == [
        ("accepte", 50000, 0)
    ]
    # The service's own « payé » in the feed changes nothing more; then it is instructed.
    _control(national, avancer=3600)
    kiosk.worker.run_once()
    assert kiosk.dossiers.show(reference).summary.state in (
        DossierState.ACCEPTE,
        DossierState.REFUSE,
        DossierState.A_COMPLETER,
    )


def test_a_timbre_worth_less_pays_in_part_and_the_dossier_keeps_waiting(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    reference = _filed(kiosk, catalog)
    kiosk.worker.run_once()
    kiosk.dossiers.add_timbre(reference, "1000000000000001")  # seeded: 100 €
    kiosk.worker.run_once()
    (timbre,) = kiosk.dossiers.payment(reference).timbres
    assert (timbre.state, timbre.amount_cents, timbre.remaining_cents) == (
        "accepte",
        10000,
        DUE - 10000,
    )
    assert kiosk.dossiers.show(reference).summary.state is DossierState.ATTENTE_PAIEMENT


def test_a_used_and_an_unknown_timbre_are_clear_messages_and_the_dossier_still_waits(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    reference = _filed(kiosk, catalog)
    kiosk.worker.run_once()
    kiosk.dossiers.add_timbre(reference, USED_TIMBRE)
    kiosk.dossiers.add_timbre(reference, "1111222233334444")  # in no registry
    report = kiosk.worker.run_once()
    assert report.timbres_refused == [reference, reference]
    messages = [t.message for t in kiosk.dossiers.payment(reference).timbres]
    assert messages == [
        "Ce timbre a déjà été utilisé : il ne peut pas payer ce dossier.",
        "Timbre inconnu du service national : vérifiez les 16 chiffres, ou le timbre n'est pas"
        " encore enregistré.",
    ]
    assert kiosk.dossiers.show(reference).summary.state is DossierState.ATTENTE_PAIEMENT
    # Once refused, the same number may be given again (a timbre registered late).
    kiosk.dossiers.add_timbre(reference, "1111 2222 3333 4444")


class _LoseTimbreAnswers(httpx.BaseTransport):
    """The real server; the answers to the first ``count`` timbre requests are lost on the way
    back (the service processed and committed them)."""

    def __init__(self, count: int) -> None:
        self._real = httpx.HTTPTransport()
        self.left = count

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        if request.url.path == "/v1/timbres" and self.left > 0:
            response.read()
            self.left -= 1
            raise httpx.ReadError("connexion coupée", request=request)
        return response

    def close(self) -> None:
        self._real.close()


def test_a_timbre_given_offline_waits_and_is_consumed_once_even_with_lost_answers(
    store: Store, catalog: Catalog, national: ServerThread, clock: SimClock
) -> None:
    lossy = _LoseTimbreAnswers(2)
    kiosk = make_kiosk(store, catalog, national.url, clock=clock, transport=lossy)
    reference = _filed(kiosk, catalog)
    assert kiosk.worker.run_once().sent == 1
    # The line is cut: the timbre given at the counter waits on the kiosk.
    _control(national, panne=100_000)
    kiosk.dossiers.add_timbre(reference, "5000000000000001")
    report = kiosk.worker.run_once()
    assert report.last_error is not None and report.timbres_accepted == []
    assert [t.state for t in kiosk.dossiers.payment(reference).timbres] == ["en_attente"]
    used = f"{national.url}/_control/paiements"
    assert httpx.get(used).json()["timbres"]["5000000000000001"] == 0
    # Back, but the answers are lost after the service committed: it consumed the timbre, the
    # kiosk does not know it and asks again with the same key; the first answer is replayed,
    # never « déjà utilisé ».
    kiosk.clock.advance(100_001)
    for _ in range(3):
        kiosk.clock.advance(4000)  # past the « Retry-After » of the outage (capped at an hour)
        kiosk.worker.run_once()
    kiosk.api.close()
    assert lossy.left == 0
    (timbre,) = kiosk.dossiers.payment(reference).timbres
    assert (timbre.state, timbre.amount_cents, timbre.remaining_cents, timbre.message) == (
        "accepte",
        50000,
        0,
        None,
    )
    # Paid, then perhaps already decided: the simulator decides at random once paid (accepted,
    # refused or sent back), whichever its random draw gives in this run.
    assert kiosk.dossiers.show(reference).summary.state in (
        DossierState.PAYE,
        DossierState.ACCEPTE,
        DossierState.REFUSE,
        DossierState.A_COMPLETER,
    )
    assert httpx.get(used).json()["timbres"]["5000000000000001"] == 1


def test_a_reference_paid_elsewhere_makes_the_dossier_paid_through_the_feed(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread
) -> None:
    reference = _filed(kiosk, catalog)
    kiosk.worker.run_once()
    paid = kiosk.dossiers.payment(reference).payment_reference
    assert paid is not None
    # A relative paid it from a phone, or cash at a tobacconist's.
    _control(national, "/_control/paiements", payer=paid)
    kiosk.clock.advance(10)  # the instruction takes a minute from the payment
    kiosk.worker.run_once()
    assert kiosk.dossiers.show(reference).summary.state is DossierState.PAYE
    assert kiosk.dossiers.waiting_for_payment() == []


def test_a_timbre_is_refused_before_filing_and_twice_for_the_same_dossier(
    kiosk: Kiosk, catalog: Catalog
) -> None:
    draft = kiosk.dossiers.create("changement_titulaire").reference
    with pytest.raises(TimbreNotAccepted, match="ne prend pas de timbre"):
        kiosk.dossiers.add_timbre(draft, "1234567890123456")
    reference = _filed(kiosk, catalog)
    kiosk.dossiers.add_timbre(reference, "1234567890123456")
    with pytest.raises(TimbreNotAccepted, match="déjà enregistré pour le dossier"):
        kiosk.dossiers.add_timbre(reference, "1234 5678 9012 3456")


def test_a_reprint_while_the_payment_waits_carries_its_reference_and_code(
    kiosk: Kiosk, catalog: Catalog, national: ServerThread, store: Store
) -> None:
    from kiosk.dossiers.receipts import ReceiptService
    from kiosk.site.counter import CounterSettings

    reference = _filed(kiosk, catalog)
    receipts = ReceiptService(kiosk.dossiers, CounterSettings(store))
    assert receipts.data(reference).payment is None  # at the counter: nothing asked yet
    kiosk.worker.run_once()
    payment = kiosk.dossiers.payment(reference)
    printed = receipts.data(reference).payment
    assert printed is not None
    assert (printed.reference, printed.amount_cents, printed.url) == (
        payment.payment_reference,
        DUE,
        payment.payment_url,
    )
    _timbre(national, "4000000000000002", 50000)
    kiosk.dossiers.add_timbre(reference, "4000000000000002")
    kiosk.worker.run_once()
    assert receipts.data(reference).payment is None  # paid: no longer printed
