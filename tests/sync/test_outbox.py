"""The outbox in the kiosk's database: written with the state change, marked before sending,
and never marked done by anything but an acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.demarches import Catalog
from kiosk.dossiers.errors import Incomplete
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.store import Store
from kiosk.store.models import OutboxItem
from kiosk.sync.outbox import PENDING, SENDING, Outbox
from tests.support import file_dossier, fill


def queued(service: DossierService, catalog: Catalog) -> str:
    demarche = catalog.latest("changement_adresse")
    ref = service.create(demarche.id).reference
    fill(service, ref, demarche)
    file_dossier(service, ref)
    return ref


def rows(store: Store) -> list[tuple[str, int, str, int]]:
    with store.read() as s:
        return [
            (o.idempotency_key, o.seq, o.state, o.attempts)
            for o in s.query(OutboxItem).order_by(OutboxItem.id)
        ]


def test_submitting_a_dossier_writes_its_outbox_row_keyed_by_its_uuid(
    service: DossierService, store: Store, catalog: Catalog
) -> None:
    ref = queued(service, catalog)
    uuid = service.show(ref).summary.id
    assert rows(store) == [(uuid, 1, PENDING, 0)]


def test_a_refused_transition_leaves_no_outbox_row(
    service: DossierService, store: Store, catalog: Catalog
) -> None:
    ref = service.create(catalog.latest("changement_adresse").id).reference
    with pytest.raises(Incomplete):
        service.file(ref)  # an empty brouillon cannot be queued: nothing may be left behind
    assert rows(store) == []


def test_a_claimed_row_is_marked_sending_before_the_request_and_comes_back_after_a_crash(
    service: DossierService, store: Store, catalog: Catalog
) -> None:
    queued(service, catalog)
    now = datetime.now(UTC)
    clock = [now]
    outbox = Outbox(store, catalog, clock=lambda: clock[0], lease=timedelta(seconds=60))
    claimed = outbox.claim()
    assert claimed is not None
    # The process dies here, mid-request: the row says « envoi », never « acquitté ».
    assert rows(store)[0][2:] == (SENDING, 1)
    assert outbox.claim() is None  # leased: a second worker does not send it concurrently
    clock[0] = now + timedelta(seconds=61)
    again = outbox.claim()
    assert again is not None and again.dossier.idempotency_key == claimed.dossier.idempotency_key
    assert again.dossier.body == claimed.dossier.body  # same key, same body: a safe replay
    assert rows(store)[0][2:] == (SENDING, 2)


def test_a_dossier_sent_back_and_resubmitted_gets_a_new_key(
    service: DossierService, store: Store, catalog: Catalog
) -> None:
    ref = queued(service, catalog)
    uuid = service.show(ref).summary.id
    service.transition(ref, DossierState.TRANSMIS, national_number="NAT-1")
    service.transition(ref, DossierState.A_COMPLETER, reason="Pièce illisible")
    service.file(ref)  # the person came back with what was missing
    assert [r[:3] for r in rows(store)] == [(uuid, 1, "acquitte"), (f"{uuid}.2", 2, PENDING)]
