"""READ BINARY beyond offset 32 767: B0 up to 0x7FFF, B1 (offset in DO'54', data in DO'53') beyond.

In process (the chip's ``process`` is the transport): what goes on the wire is checked command
by command. The same reads through pcscd are in ``test_identity_read.py``.
"""

from __future__ import annotations

import os

import pytest

from devices.cardsim.chip import Faults, SimulatedChip
from devices.cardsim.profiles import CNIE_BIG_DG2, PROFILES, Profile
from devices.nfc import files, tlv
from devices.nfc.apdu import CommandApdu
from devices.nfc.crypto import Cipher
from devices.nfc.lds import FILES
from devices.nfc.passive import TrustStore
from devices.nfc.reader import read_document
from devices.nfc.sm import SecureMessaging, protected_response_length
from kiosk.identity.errors import HostileAnswer
from kiosk.identity.model import CanKey, MrzKey, Verdict
from kiosk.settings.paths import assets_dir

DG2 = FILES["DG2"][0]


class RecordingChip(SimulatedChip):
    """A genuine chip that notes every READ BINARY: (file, INS, offset)."""

    def __init__(self, profile: Profile, faults: Faults | None = None) -> None:
        super().__init__(profile, faults)
        self.reads: list[tuple[int | None, int, int]] = []

    def transmit(self, apdu: bytes) -> bytes:
        """The reader's transport."""
        return self.process(apdu)

    def dispatch(self, c: CommandApdu) -> tuple[bytes, int]:
        """Note the read, then answer as the genuine chip does."""
        if c.ins == 0xB0:
            self.reads.append((self.selected, c.ins, (c.p1 << 8) | c.p2))
        elif c.ins == 0xB1:
            self.reads.append((self.selected, c.ins, int.from_bytes(tlv.single(c.data, 0x54))))
        return super().dispatch(c)


def _read(chip: RecordingChip, *, extended: bool = True) -> Verdict:
    holder = chip.profile.holder
    access = (
        CanKey(chip.profile.can)
        if chip.profile.name.startswith("cnie")
        else MrzKey(holder.document_number, holder.birth, holder.expiry)
    )
    trust = TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])
    reading = read_document(chip, access, trust=trust, extended=extended)
    assert reading.photo is not None
    return reading.verdict


def test_read_binary_command_is_b0_up_to_7fff_and_b1_beyond() -> None:
    assert files.read_binary_command(0x7FFF, 223).encode() == bytes.fromhex("00B07FFFDF")
    # B1 on the current EF, offset in DO'54', extended Le
    assert files.read_binary_command(0x8000, 0xFF00).encode() == bytes.fromhex(
        "00B10000" + "000004" + "54028000" + "FF00"
    )
    assert files.read_binary_command(0x10003, 192).encode() == bytes.fromhex(
        "00B10000" + "05" + "5403010003" + "C0"
    )


def test_b1_ne_counts_the_53_framing() -> None:
    assert files.odd_capacity(0xFF00) == 0xFF00 - 4  # 53 82 xx xx
    assert files.odd_capacity(223) == 220  # 53 81 DC
    assert files.odd_capacity(129) == 127  # 53 7F
    assert files.odd_capacity(130) == 127  # 53 81 80 + 128 would be 131


@pytest.mark.parametrize("cipher", [Cipher.AES128, Cipher.DES3], ids=["aes", "3des"])
def test_b1_under_secure_messaging_uses_do85_both_ways(cipher: Cipher) -> None:
    keys = (b"\x11" * cipher.key_length, b"\x22" * cipher.key_length)
    terminal, chip = SecureMessaging(cipher, *keys), SecureMessaging(cipher, *keys)
    command = files.read_binary_command(0x9000, 223)
    wrapped = terminal.wrap(command)
    assert wrapped[:4] == bytes([0x0C, 0xB1, 0x00, 0x00])
    objects = dict(tlv.parse(CommandApdu.decode(wrapped).data))
    assert 0x85 in objects and 0x87 not in objects  # odd INS: DO'85', no indicator byte
    assert chip.unwrap_command(wrapped) == command
    answer = tlv.encode(0x53, bytes(range(220)))
    response = chip.wrap_response(answer, 0x9000, odd=True)
    assert 0x85 in dict(tlv.parse(response[:-2]))
    assert len(response) - 2 == protected_response_length(cipher, len(answer), odd=True) <= 256
    assert terminal.unwrap(response) == (answer, 0x9000)
    assert files.odd_payload(answer, 0x9000) == bytes(range(220))


@pytest.mark.parametrize(
    "answer",
    [b"\x54\x02\x80\x00", b"\x53\x05\x00", b"\x53\x01\x00\x53\x01\x00", b"\x00\x01\x02"],
    ids=["autre-objet", "tronque", "deux-objets", "donnees-brutes"],
)
def test_a_malformed_53_object_is_a_clear_french_error(answer: bytes) -> None:
    expected = r"lecture de l'octet 36864 \(au-delà de 32 Ko\) n'est pas un objet de données 53"
    with pytest.raises(HostileAnswer, match=expected) as caught:
        files.odd_payload(answer, 0x9000)
    assert str(caught.value).startswith("La puce a envoyé une réponse incohérente")


def test_the_chip_refuses_b0_offsets_beyond_7fff_as_a_real_chip_does() -> None:
    chip = SimulatedChip(CNIE_BIG_DG2, rng=os.urandom)
    chip.app_selected, chip.selected = True, DG2
    assert chip.dispatch(CommandApdu(0x00, 0xB0, 0x7F, 0xFF, ne=16))[1] == 0x9000
    assert chip.dispatch(CommandApdu(0x00, 0xB0, 0x80, 0x00, ne=16)) == (b"", 0x6A86)
    data, sw = chip.dispatch(files.read_binary_command(0x8000, 16))
    assert sw == 0x9000 and data == tlv.encode(0x53, chip.files[DG2][0x8000 : 0x8000 + 14])


@pytest.mark.parametrize("extended", [True, False], ids=["lecture-etendue", "lecture-courte"])
def test_a_60_kb_photo_is_read_with_b1_beyond_32_kb(extended: bool) -> None:
    chip = RecordingChip(CNIE_BIG_DG2)
    assert len(chip.files[DG2]) > 60_000
    assert _read(chip, extended=extended) is Verdict.AUTHENTIQUE
    dg2 = [(ins, offset) for fid, ins, offset in chip.reads if fid == DG2]
    assert all(ins == (0xB0 if offset <= 0x7FFF else 0xB1) for ins, offset in dg2)
    assert any(ins == 0xB1 for ins, _ in dg2)
    if extended:  # 4 KB answers: 8 B0 reads to 32 KB, then 4 092 bytes of file per B1
        assert len(dg2) == 8 + -(-(len(chip.files[DG2]) - 0x8000) // 4092)


@pytest.mark.parametrize("extended", [True, False], ids=["lecture-etendue", "lecture-courte"])
@pytest.mark.parametrize("profile", ["cnie", "passport", "passport-bac"])
def test_small_files_are_read_with_b0_only(profile: str, extended: bool) -> None:
    chip = RecordingChip(PROFILES[profile])
    assert _read(chip, extended=extended) is Verdict.AUTHENTIQUE
    assert chip.reads and {ins for _, ins, _ in chip.reads} == {0xB0}


def test_a_b1_answer_of_a_short_answers_worth_is_read_on() -> None:
    # a chip whose buffer holds a short answer (223 bytes): 220 of them are file bytes under B1
    short = files.ShortAnswers(60_000, files.short_max(Cipher.AES128))
    for done in range(40_000, 40_000 + 220 * 5, 220):
        short.check(220, 4092, done, 0x9000, odd=True)
    assert short.count == 0
    short.check(220, 4092, 20_000, 0x9000)  # the same answer under B0 is short of 223
    assert short.count == 1
