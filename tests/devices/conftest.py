"""The real PC/SC stack for integration tests: pcscd (vsmartcard-vpcd driver) and a card slot.

``pcscd`` is started once per session when it is not running already, and stopped at the end
(with the test command's two workers, the process that starts them runs it: tests/pcsc.py).
It is installed by ``scripts/bootstrap.sh``: when it is missing the tests fail (not skip), since
an identity reader that was never exercised end to end must not look green.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from devices.cardsim.chip import Faults, SimulatedChip
from devices.cardsim.profiles import PROFILES, Profile
from devices.cardsim.vpcd import VIRTUAL_READER, VirtualCard
from devices.nfc.passive import TrustStore
from devices.nfc.pcsc import PcscIdentityReader
from kiosk.settings.paths import assets_dir
from tests.pcsc import start_pcscd, stop_pcscd

READER = VIRTUAL_READER
#: How long a card taken away stays away in the tests: pcscd polls vpcd's reader every 0.4 s
#: and must see it gone (a card back before the poll is, to pcscd, a card that never left,
#: read on in a new session without the agent being told).
AWAY = 1.5


@pytest.fixture(scope="session")
def pcscd() -> Iterator[None]:
    """A running pcscd offering the vpcd virtual readers (tests/pcsc.py)."""
    process = start_pcscd(READER)
    yield
    stop_pcscd(process)


@pytest.fixture(scope="session")
def test_trust() -> TrustStore:
    """The TEST ONLY CSCA, as a training kiosk would trust it."""
    return TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])


CardFactory = Callable[..., VirtualCard]


@pytest.fixture
def card(pcscd: None) -> Iterator[CardFactory]:
    """Put a simulated card on the virtual reader: ``card("cnie", Faults(...))`` (or a Profile)."""
    started: list[VirtualCard] = []

    def insert(
        profile: str | Profile, faults: Faults | None = None, reinsert_after: float = 0.5
    ) -> VirtualCard:
        chip = SimulatedChip(PROFILES[profile] if isinstance(profile, str) else profile, faults)
        virtual = VirtualCard(chip, reinsert_after=reinsert_after)
        virtual.start()
        started.append(virtual)
        return virtual

    yield insert
    for virtual in started:
        virtual.stop()
    time.sleep(0.05)


@pytest.fixture
def reader(test_trust: TrustStore) -> PcscIdentityReader:
    """The PC/SC reader service on the virtual reader, trusting the test CSCA."""
    return PcscIdentityReader(test_trust, reader=READER, card_wait=3.0)
