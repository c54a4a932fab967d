"""Only the kiosk's record of an acknowledgement proves that the service received a dossier: a
decision in the feed for a dossier it never acknowledged changes nothing (real server on
loopback, its feed forged), while a decision that only overtook a lost acknowledgement waits
for it and is then applied."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from kiosk.demarches import Catalog
from kiosk.dossiers.states import DossierState
from kiosk.store import Store
from kiosk.store.models import AuditEntry
from sync.clock import SimClock
from sync.server.run import ServerThread
from tests.sync.conftest import Kiosk, make_kiosk
from tests.sync.support import queue_many
from tests.sync.test_worker import DEMARCHE, control, outbox_states, queue_real


def forge_decision(server: ServerThread, dossier_id: str, statut: str, numero: int) -> None:
    """The server's feed says ``statut`` about a dossier, whatever it received (under a
    filing number it puts down to this kiosk, a filing of no dossier the kiosk sent: the feed
    shows a kiosk only its own filings)."""
    with server.sim.db.tx() as c:
        c.execute(
            "INSERT OR IGNORE INTO depot (numero, dossier_id, borne, corps, statut)"
            " VALUES (?, ?, 'borne-demo', '{}', ?)",
            (numero, f"forged-{numero}", statut),
        )
        c.execute(
            "INSERT INTO changement (dossier_id, numero, statut, motif, manquant, at)"
            " VALUES (?, ?, ?, NULL, '[]', 0)",
            (dossier_id, numero, statut),
        )


def set_aside(store: Store) -> list[tuple[str | None, str]]:
    with store.read() as s:
        return [
            (e.dossier_ref, e.detail)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "evenement"))
        ]


def test_a_decision_for_a_dossier_never_acknowledged_changes_nothing(
    kiosk: Kiosk, national: ServerThread
) -> None:
    [dossier_id] = queue_many(kiosk.store, 1, demarche=DEMARCHE)
    [dossier] = kiosk.dossiers.list()
    forge_decision(national, dossier_id, "accepte", 999)
    assert kiosk.worker.pull_changes() == 0
    assert kiosk.dossiers.show(dossier.reference).summary.state is DossierState.EN_FILE
    assert outbox_states(kiosk.store) == ["en_attente"]
    assert kiosk.followup.list_to_contact() == []  # nobody is called about a forged decision
    assert set_aside(kiosk.store) == [
        (dossier.reference, '{"etat":"accepte","evenement":"decision_nationale_ecartee"}')
    ]
    # Filed afterwards, it is « transmis » with the service's own number: the forged decision,
    # read before, is not applied to it later.
    kiosk.worker.run_once()
    view = kiosk.dossiers.show(dossier.reference)
    assert view.summary.state is DossierState.TRANSMIS
    with national.sim.db.tx() as c:
        [(numero,)] = c.execute("SELECT numero FROM depot WHERE dossier_id = ?", (dossier_id,))
    assert view.national_number == f"NAT-{numero:08d}" != "NAT-00000999"


def test_a_decision_naming_another_number_than_the_acknowledgement_is_set_aside(
    kiosk: Kiosk, national: ServerThread
) -> None:
    [dossier_id] = queue_many(kiosk.store, 1, demarche=DEMARCHE)
    control(national, delai_instruction=10**9)  # the server itself decides nothing
    kiosk.worker.run_once()
    forge_decision(national, dossier_id, "refuse", 999)  # not NAT-00000001, acknowledged
    assert kiosk.worker.pull_changes() == 0
    [dossier] = kiosk.dossiers.list()
    assert dossier.state is DossierState.TRANSMIS
    assert kiosk.followup.list_to_contact() == []


def test_a_decision_that_overtook_a_lost_acknowledgement_waits_for_it(
    store: Store,
    catalog: Catalog,
    sim_national: ServerThread,
    shared_clock: SimClock,
) -> None:
    class LoseFilingAnswers(httpx.HTTPTransport):
        """The filing reaches the service and is recorded; its answer is lost on the way."""

        lose = True

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if self.lose and request.method == "POST" and request.url.path == "/v1/dossiers":
                response.close()
                raise httpx.ReadError("connexion coupée")
            return response

    transport = LoseFilingAnswers()
    k = make_kiosk(store, catalog, sim_national.url, clock=shared_clock, transport=transport)
    ref = queue_real(k, catalog)
    control(sim_national, parts=[1.0, 0.0])  # accepted
    k.worker.run_once()  # filed, answer lost: still « en file »
    assert k.dossiers.show(ref).summary.state is DossierState.EN_FILE
    shared_clock.advance(61)  # decided on the server
    assert k.worker.pull_changes() == 0  # held: no acknowledgement recorded yet
    assert k.dossiers.show(ref).summary.state is DossierState.EN_FILE
    transport.lose = False
    report = k.worker.run_once()  # the same key: the acknowledgement is replayed
    k.api.close()
    assert report.replayed == 1 and report.decisions == 1
    assert k.dossiers.show(ref).summary.state is DossierState.ACCEPTE
    assert [p.reference for p in k.followup.list_to_contact()] == [ref]
    assert set_aside(store) == []
    assert set(sim_national.sim.db.filings_per_dossier().values()) == {1}
