"""A read cut by a lost link: the same secure session where the card kept it, else a new one.

Through the real stack (reader → pyscard → pcscd → vpcd → simulator) for what the agent sees:
a frame lost while the card stays on the reader, a card reset by another program, a card taken
away, and an attacker answering on the link after the loss. In process for what cannot be seen
from outside: the send sequence counter never goes back, and how pcscd's result codes are read.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest
from smartcard.Exceptions import CardConnectionException
from smartcard.scard import (
    SCARD_E_NO_SMARTCARD,
    SCARD_E_NOT_TRANSACTED,
    SCARD_LEAVE_CARD,
    SCARD_RESET_CARD,
    SCARD_UNPOWER_CARD,
    SCARD_W_REMOVED_CARD,
    SCARD_W_RESET_CARD,
)
from smartcard.System import readers

from devices.cardsim.chip import GARBLED, Faults, SimulatedChip
from devices.cardsim.profiles import PROFILES
from devices.nfc.apdu import LinkInterrupted, LinkLog, SessionLost
from devices.nfc.crypto import Cipher
from devices.nfc.lds import FILES
from devices.nfc.passive import TrustStore
from devices.nfc.pcsc import PcscIdentityReader, PcscTransport
from devices.nfc.reader import read_resuming
from devices.nfc.sm import SecureMessaging
from kiosk.identity.errors import CardRemoved
from kiosk.identity.model import CanKey, MrzKey, Verdict
from tests.devices.conftest import AWAY, READER, CardFactory

CAN = CanKey("123456")
PASSPORT_KEY = MrzKey("24FR12345", "850315", "340101")
#: Short reads (192 bytes): the ~20 KB photo takes over 100 commands; the link fails at 12 KB.
CUT = 12_000


def _photo_commands_left(size: int) -> int:
    """SELECT and the READ BINARY from the cut to the photo's end, after stepping down."""
    return 2 + (size - CUT) // 192 + 1


def test_a_frame_lost_with_the_card_in_place_goes_on_in_the_same_session(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    faults = Faults(answer_lost_mid_read=True, removal_offset=CUT, no_extended_length=True)
    virtual = card("cnie", faults)
    reading = reader.read(CAN)  # one call: the agent is asked for nothing
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert reading.photo is not None
    assert virtual.chip.sessions == 1  # no second PACE, no second Chip Authentication
    assert (reader.last_link.kept, reader.last_link.reopened) == (1, 0)


def test_a_command_lost_before_the_card_saw_it_goes_on_in_a_new_session_at_once(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    # The card's counter stayed behind the reader's, which never goes back: the card refuses
    # the next command's MAC and ends its session; a new one is opened there and then.
    faults = Faults(command_lost_mid_read=True, removal_offset=CUT, no_extended_length=True)
    virtual = card("cnie", faults)
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.photo is not None
    assert virtual.chip.sessions == 2
    assert (reader.last_link.kept, reader.last_link.reopened) == (0, 1)
    size = len(virtual.chip.files[FILES["DG2"][0]])
    assert reading.file_io["DG2"][0] <= _photo_commands_left(size)  # not from the photo's start


def _reset_by_another_program(fraction: float) -> Callable[[str, float], None]:
    """A progress callback that has another PC/SC client reset the card once, mid-photo."""
    done: list[bool] = []

    def progress(label: str, at: float) -> None:
        if label == "Lecture de la photo" and at >= fraction and not done:
            done.append(True)
            other = next(r for r in readers() if str(r) == READER).createConnection()
            other.connect(disposition=SCARD_LEAVE_CARD)
            other.reconnect(disposition=SCARD_RESET_CARD)  # the card loses its session
            other.disconnect()

    return progress


def test_a_card_reset_by_another_program_is_read_on_in_a_new_session_at_once(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    # pcscd says SCARD_W_RESET_CARD: the card is there but its session is gone. Before, the
    # read stopped with « La carte a été retirée pendant la lecture ».
    virtual = card("cnie", Faults(no_extended_length=True))
    reset = _reset_by_another_program(0.6)
    shown: list[float] = []

    def progress(label: str, fraction: float) -> None:
        shown.append(fraction)
        reset(label, fraction)

    reading = reader.read(CAN, progress)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert shown == sorted(shown)  # the new session does not send the bar back to its start
    assert virtual.chip.sessions == 2
    assert (reader.last_link.kept, reader.last_link.reopened) == (0, 1)
    size = len(virtual.chip.files[FILES["DG2"][0]])
    assert reading.file_io["DG2"][0] < size // 192  # the photo went on from where it was


def test_a_card_another_program_spoke_to_is_read_on_in_a_new_session(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    # A plain command from another PC/SC client (a desktop's smart-card daemon probing the
    # card, say) ends the card's secure session: it answers the next command 6988. Before, the
    # read stopped with « La puce a refusé l'opération « lecture d'un fichier » (code 6988) ».
    virtual = card("cnie", Faults(no_extended_length=True))
    done: list[bool] = []

    def progress(label: str, fraction: float) -> None:
        if label == "Lecture de la photo" and fraction >= 0.5 and not done:
            done.append(True)
            other = next(r for r in readers() if str(r) == READER).createConnection()
            other.connect(disposition=SCARD_LEAVE_CARD)
            other.transmit([0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C])  # SELECT EF.CardAccess
            other.disconnect()

    reading = reader.read(CAN, progress)
    assert done and reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert virtual.chip.sessions == 2 and reader.last_link.reopened == 1


def test_a_card_taken_away_is_never_read_on_in_its_old_session(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    faults = Faults(removed_mid_read=True, removal_offset=CUT, no_extended_length=True)
    virtual = card("cnie", faults, reinsert_after=AWAY)
    with pytest.raises(CardRemoved, match="replacez la carte"):
        reader.read(CAN)
    assert virtual.chip.sessions == 1
    time.sleep(0.2)
    assert virtual.inserted.wait(5)
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.photo is not None
    assert virtual.chip.sessions == 2 and reader.last_link.kept == 0


@pytest.mark.parametrize(
    "attack",
    [Faults(replay_after_loss=True), Faults(bare_after_loss=True)],
    ids=["réponse-rejouée", "réponse-en-clair"],
)
def test_an_answer_replayed_or_bare_after_the_loss_is_refused(
    card: CardFactory, reader: PcscIdentityReader, attack: Faults
) -> None:
    # After the loss, an attacker on the link answers the command sent again, with the lost
    # answer (genuine, but under a count the reader has left behind) or with plain bytes and
    # 9000. Neither is taken: the session is dropped and a new one opened.
    faults = Faults(
        answer_lost_mid_read=True,
        removal_offset=CUT,
        no_extended_length=True,
        replay_after_loss=attack.replay_after_loss,
        bare_after_loss=attack.bare_after_loss,
    )
    virtual = card("cnie", faults)
    reading = reader.read(CAN)
    assert virtual.chip.sessions == 2
    assert (reader.last_link.kept, reader.last_link.reopened) == (0, 1)
    assert reading.verdict is Verdict.AUTHENTIQUE  # every byte used came under a verified MAC


def test_a_passport_read_with_bac_keeps_its_session_too(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    virtual = card("passport-bac", Faults(answer_lost_mid_read=True))  # at the photo's start
    reading = reader.read(PASSPORT_KEY)
    assert reading.protocol == "BAC-3DES" and reading.verdict is Verdict.AUTHENTIQUE
    assert virtual.chip.sessions == 1 and reader.last_link.kept == 1


# -- in process ----------------------------------------------------------------------------


class _Counting(SecureMessaging):
    """The reader's session, noting every send sequence counter value a MAC was made with."""

    def __init__(self, cipher: Cipher, k_enc: bytes, k_mac: bytes, ssc: int = 0) -> None:
        super().__init__(cipher, k_enc, k_mac, ssc)
        self.used: list[int] = []

    def _mac(self, data: bytes) -> bytes:
        self.used.append(self.ssc)
        return super()._mac(data)


class _Field:
    """The simulated chip in process; a lost frame (``GARBLED``) is a ``LinkInterrupted``."""

    def __init__(self, chip: SimulatedChip) -> None:
        self.chip = chip

    def transmit(self, apdu: bytes) -> bytes:
        answer = self.chip.process(apdu)
        if answer == GARBLED:
            raise LinkInterrupted
        return answer


@pytest.fixture
def trust() -> TrustStore:
    from kiosk.settings.paths import assets_dir

    return TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])


def test_no_counter_value_is_used_twice_across_the_loss(
    monkeypatch: pytest.MonkeyPatch, trust: TrustStore
) -> None:
    sessions: list[_Counting] = []

    def counting(cipher: Cipher, k_enc: bytes, k_mac: bytes, ssc: int = 0) -> SecureMessaging:
        session = _Counting(cipher, k_enc, k_mac, ssc)
        sessions.append(session)
        return session

    # The reader's sessions (PACE's, then Chip Authentication's) count their MACs.
    monkeypatch.setattr("devices.nfc.pace.SecureMessaging", counting)
    monkeypatch.setattr("devices.nfc.ca.SecureMessaging", counting)
    faults = Faults(answer_lost_mid_read=True, removal_offset=CUT, no_extended_length=True)
    chip = SimulatedChip(PROFILES["cnie"], faults)
    link = LinkLog()
    reading = read_resuming(_Field(chip), CAN, trust=trust, link=link)
    assert reading.verdict is Verdict.AUTHENTIQUE and link.kept == 1
    assert len(sessions) == 2  # PACE's, then Chip Authentication's, kept to the end
    counts = sessions[1].used  # the photo is read under Chip Authentication's keys
    steps = [b - a for a, b in itertools.pairwise(counts)]
    # Only ever up, one at a time, but for the lost answer's count, passed over: none reused.
    assert sorted(set(steps)) == [1, 2] and steps.count(2) == 1


class _Connection:
    """A pyscard connection whose transmit fails with ``failure`` and whose status says
    ``status`` (one result code per call; 0 for success)."""

    def __init__(self, failure: int, status: list[int]) -> None:
        self.failure = failure
        self.status = status
        self.reconnected: list[int] = []
        self.disposition = SCARD_UNPOWER_CARD

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        raise CardConnectionException("Failed to transmit", hresult=self.failure)

    def getATR(self) -> list[int]:
        code = self.status.pop(0) if len(self.status) > 1 else self.status[0]
        if code:
            raise CardConnectionException("Failed to get status", hresult=code)
        return [0x3B]

    def reconnect(self, disposition: int) -> None:
        self.reconnected.append(disposition)
        self.disposition = disposition


@pytest.mark.parametrize(
    ("failure", "status", "raised"),
    [
        (0, [0], LinkInterrupted),  # « no valid response »: a garbled frame, the card still in
        (SCARD_E_NOT_TRANSACTED, [0], LinkInterrupted),
        (SCARD_W_RESET_CARD, [0], SessionLost),
        (SCARD_W_REMOVED_CARD, [0], CardRemoved),
        (SCARD_E_NO_SMARTCARD, [0], CardRemoved),
        (SCARD_E_NOT_TRANSACTED, [SCARD_W_REMOVED_CARD], CardRemoved),
        (SCARD_E_NOT_TRANSACTED, [SCARD_W_RESET_CARD], SessionLost),
    ],
    ids=[
        "réponse-illisible",
        "non-transmis",
        "réinitialisée",
        "retirée",
        "absente",
        "non-transmis-puis-retirée",
        "non-transmis-puis-réinitialisée",
    ],
)
def test_pcscd_result_codes_say_what_became_of_the_card(
    failure: int, status: list[int], raised: type[Exception]
) -> None:
    connection = _Connection(failure, status)
    with pytest.raises(raised):
        PcscTransport(connection).transmit(b"\x0c\xb0\x00\x00")
    if raised is CardRemoved:
        assert connection.reconnected == []
    else:  # reconnected without resetting the card; powered down at the end all the same
        assert connection.reconnected == [SCARD_LEAVE_CARD]
        assert connection.disposition == SCARD_UNPOWER_CARD


def test_a_second_failure_in_a_row_waits_for_pcscd_to_see_the_card_gone() -> None:
    # A card taken away looks like a transmission failure until pcscd polls the reader.
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    connection = _Connection(SCARD_E_NOT_TRANSACTED, [0, 0, 0, 0, SCARD_W_REMOVED_CARD])
    transport = PcscTransport(connection, settle=1.0, poll=0.1, clock=lambda: now[0], sleep=sleep)
    with pytest.raises(LinkInterrupted):  # the first: the card may well still be there
        transport.transmit(b"\x0c\xb0\x00\x00")
    with pytest.raises(CardRemoved):
        transport.transmit(b"\x0c\xb0\x00\x00")
    assert waits == [0.1, 0.1, 0.1]  # polled until pcscd said so, within the second


class _Refusing(SimulatedChip):
    """A copy that answers the chip's proof (``ins``) with a bare 6988, « session over »."""

    def __init__(self, profile: str, ins: int) -> None:
        super().__init__(PROFILES[profile])
        self.ins = ins

    def process(self, raw: bytes) -> bytes:
        if raw[0] & 0x0C and raw[1] == self.ins and (self.ins != 0x86 or self.ca_oid):
            self.sm = None
            return b"\x69\x88"
        return super().process(raw)


@pytest.mark.parametrize(
    ("profile", "ins", "access", "why"),
    [
        ("cnie", 0x86, CAN, "Chip Authentication en échec"),
        ("passport", 0x88, PASSPORT_KEY, "Active Authentication en échec"),
    ],
    ids=["chip-authentication", "active-authentication"],
)
def test_a_chip_that_says_session_over_when_it_should_prove_itself_is_found_out(
    trust: TrustStore, profile: str, ins: int, access: CanKey | MrzKey, why: str
) -> None:
    # Elsewhere 6988 opens a new session; here it would let a copy be read anew for ever.
    chip = _Refusing(profile, ins)
    link = LinkLog()
    reading = read_resuming(_Field(chip), access, trust=trust, link=link)
    assert reading.verdict is Verdict.FALSIFIE and why in reading.verdict_reason
    assert chip.sessions == 1 and link.reopened == 0
