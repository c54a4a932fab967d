"""Reading documents through the whole real stack: reader → pyscard → pcscd → vpcd → simulator."""

from __future__ import annotations

import io
import logging
import threading
import time

import pytest
from PIL import Image

from devices.cardsim.chip import Faults
from devices.cardsim.profiles import CNIE_BIG_DG2, PASSPORT_AA_ECDSA, Profile
from devices.cardsim.signers import rsa_test_csca
from devices.nfc.lds import FILES
from devices.nfc.passive import TrustStore
from devices.nfc.pcsc import PcscIdentityReader
from kiosk.identity.errors import (
    CardBlocked,
    CardRemoved,
    HostileAnswer,
    NoCard,
    UnsupportedCard,
    WrongCan,
)
from kiosk.identity.model import CanKey, DocumentKind, MrzKey, Verdict
from kiosk.ports.identity import CardEvent, CardEventKind
from tests.devices.conftest import AWAY, READER, CardFactory

CAN = CanKey("123456")
PASSPORT_KEY = MrzKey("24FR12345", "850315", "340101")


def test_cnie_read_with_pace_can_passive_and_chip_authentication(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("cnie")
    steps: list[tuple[str, float]] = []
    reading = reader.read(CAN, lambda step, fraction: steps.append((step, fraction)))
    assert reading.kind is DocumentKind.CNIE
    assert (reading.surname, reading.given_names) == ("MARTIN", "MAELYS GAELLE MARIE")
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert "Chip Authentication réussie" in reading.verdict_reason
    assert reading.protocol.startswith("PACE-GM-AES-256 brainpoolP256r1 (CAN)")
    assert reading.photo is not None
    with Image.open(io.BytesIO(reading.photo)) as photo:  # JPEG 2000 on the chip, PNG for the UI
        assert (photo.format, photo.size) == ("PNG", (240, 320))
    assert reading.dg13 == {"9F01": "168"}
    assert reading.details is not None and reading.details.birth_place == "PARIS 15E"
    assert reading.file_io["DG2"][0] == 2  # SELECT + one extended READ BINARY for ~20 KB
    assert steps[-1] == ("Lecture terminée", 1.0)
    assert [f for _, f in steps] == sorted(f for _, f in steps)


@pytest.mark.parametrize(
    "faults", [None, Faults(no_extended_length=True)], ids=["lecture-4-ko", "lecture-courte"]
)
def test_a_60_kb_photo_is_read_beyond_32_kb(
    card: CardFactory, reader: PcscIdentityReader, faults: Faults | None
) -> None:
    # was: « La puce a refusé l'opération « lecture d'un fichier » (code 6A86) » at 32 768,
    # READ BINARY B0's P1 then naming a short file identifier instead of an offset
    virtual = card(CNIE_BIG_DG2, faults)
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.AUTHENTIQUE, reading.verdict_reason
    assert reading.chip_verified
    assert len(virtual.chip.files[FILES["DG2"][0]]) > 60_000
    assert reading.photo is not None
    with Image.open(io.BytesIO(reading.photo)) as photo:
        assert (photo.format, photo.size) == ("PNG", (240, 320))


def test_cnie_offering_integrated_mapping_only(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("cnie-im")
    reading = reader.read(CAN)
    assert reading.protocol == "PACE-IM-AES-256 brainpoolP256r1 (CAN) + CA"
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert reading.surname == "MARTIN"
    assert reading.photo is not None
    with Image.open(io.BytesIO(reading.photo)) as photo:
        assert (photo.format, photo.size) == ("PNG", (240, 320))


def test_wrong_can_with_integrated_mapping_counts_the_tries(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("cnie-im", Faults(wrong_can=True))
    with pytest.raises(WrongCan) as first:
        reader.read(CAN)
    assert first.value.tries_left == 2
    with pytest.raises(WrongCan) as second:
        reader.read(CAN)
    assert second.value.tries_left == 1
    with pytest.raises(CardBlocked):
        reader.read(CAN)


def test_passport_with_pace_mrz(card: CardFactory, reader: PcscIdentityReader) -> None:
    card("passport")
    reading = reader.read(PASSPORT_KEY)
    assert reading.kind is DocumentKind.PASSEPORT and reading.surname == "DUPONT"
    assert reading.protocol == "PACE-GM-AES-128 secp256r1 (MRZ) + AA"
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert "Active Authentication réussie" in reading.verdict_reason
    assert "DG15" in reading.verdict_reason  # its hash checked against the SOD
    assert (
        reading.details is not None and reading.details.issuing_authority == "PREFECTURE DU RHONE"
    )


def test_passport_with_bac_only(card: CardFactory, reader: PcscIdentityReader) -> None:
    card("passport-bac")
    reading = reader.read(PASSPORT_KEY)
    assert reading.protocol == "BAC-3DES" and reading.verdict is Verdict.AUTHENTIQUE
    assert not reading.chip_verified  # neither Chip nor Active Authentication on this one
    assert "copie de la puce ne peut pas être exclue" in reading.verdict_reason
    assert reading.photo is not None and reading.photo[:3] == b"\xff\xd8\xff"  # JPEG kept as is


@pytest.fixture
def rsa_reader(test_trust: TrustStore) -> PcscIdentityReader:
    """The reader trusting the TEST CSCA and this process's RSA test CSCA."""
    trust = TrustStore([*test_trust.certificates, rsa_test_csca()])
    return PcscIdentityReader(trust, reader=READER, card_wait=3.0)


def test_passport_whose_document_signer_uses_rsa_pss(
    card: CardFactory, rsa_reader: PcscIdentityReader
) -> None:
    # was: « Falsifié : la signature du document de sécurité de la puce est invalide »
    card("passport-pss")
    reading = rsa_reader.read(PASSPORT_KEY)
    assert reading.verdict is Verdict.AUTHENTIQUE, reading.verdict_reason
    assert "« CSCA RSA TEST point-numérique" in reading.verdict_reason
    assert reading.surname == "DUPONT" and reading.photo is not None


def test_passport_signed_with_rsa_pss_whose_data_were_edited_is_falsified(
    card: CardFactory, rsa_reader: PcscIdentityReader
) -> None:
    card("passport-pss", Faults(tampered_dg=True))
    reading = rsa_reader.read(PASSPORT_KEY)
    assert reading.verdict is Verdict.FALSIFIE
    assert "DG1" in reading.verdict_reason and "modifiées" in reading.verdict_reason


def test_wrong_can_counts_the_tries_then_the_card_is_blocked(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("cnie", Faults(wrong_can=True))
    with pytest.raises(WrongCan) as first:
        reader.read(CAN)
    assert first.value.tries_left == 2 and "Il reste 2 essais" in str(first.value)
    with pytest.raises(WrongCan) as second:
        reader.read(CAN)
    assert second.value.tries_left == 1 and "bloquée" in str(second.value)
    with pytest.raises(CardBlocked, match="bloquée"):
        reader.read(CAN)
    with pytest.raises(CardBlocked):
        reader.read(CAN)


def test_card_removed_mid_read_then_put_back_resumes(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    virtual = card("cnie", Faults(removed_mid_read=True), reinsert_after=AWAY)
    with pytest.raises(CardRemoved, match="replacez la carte"):
        reader.read(CAN)
    time.sleep(0.2)
    assert virtual.inserted.wait(5)
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.photo is not None
    assert "DG1" not in reading.file_io  # kept from the first attempt: same SOD, same document
    assert "DG2" in reading.file_io


def test_card_removed_in_the_middle_of_the_photo_resumes_from_there(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    # Short reads (192 bytes): the ~20 KB photo takes over 100 APDUs. Cut at 12 KB, the read
    # goes on from where it stopped under a new secure session, not from the photo's start.
    faults = Faults(removed_mid_read=True, removal_offset=12_000, no_extended_length=True)
    virtual = card("cnie", faults, reinsert_after=AWAY)
    with pytest.raises(CardRemoved):
        reader.read(CAN)
    time.sleep(0.2)
    assert virtual.inserted.wait(5)
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.photo is not None
    size = len(virtual.chip.files[FILES["DG2"][0]])
    apdus, _ = reading.file_io["DG2"]
    assert apdus <= 2 + (size - 12_000) // 192 + 1  # SELECT + the rest, after stepping down


def test_card_refusing_extended_length_is_still_read(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("cnie", Faults(no_extended_length=True))
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.photo is not None
    apdus, _ = reading.file_io["DG2"]
    assert apdus > 100  # ~20 KB in 192-byte steps, after stepping down once


def test_tampered_data_group_is_falsified(card: CardFactory, reader: PcscIdentityReader) -> None:
    card("cnie", Faults(tampered_dg=True))
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.FALSIFIE
    assert "DG1" in reading.verdict_reason and "modifiées" in reading.verdict_reason


def test_oversized_tlv_length_is_a_clear_error_without_hanging(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("cnie", Faults(bad_tlv=True))
    start = time.monotonic()
    with pytest.raises(HostileAnswer, match="réponse incohérente"):
        reader.read(CAN)
    assert time.monotonic() - start < 10


def test_slow_card_completes(card: CardFactory, reader: PcscIdentityReader) -> None:
    card("cnie", Faults(slow=0.01))
    assert reader.read(CAN).verdict is Verdict.AUTHENTIQUE


def test_unknown_csca_is_not_verified(card: CardFactory) -> None:
    card("cnie")
    reading = PcscIdentityReader(TrustStore(), reader=READER, card_wait=3).read(CAN)
    assert reading.verdict is Verdict.NON_VERIFIE
    assert "CSCA" in reading.verdict_reason and "magasin de confiance" in reading.verdict_reason


def test_cnie_opened_with_mrz_asks_for_the_can(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("cnie")
    with pytest.raises(UnsupportedCard, match="CAN"):
        reader.read(MrzKey("X4RTBPFW4", "900713", "300211"))


def test_no_card_on_the_reader(pcscd: None, test_trust: TrustStore) -> None:
    with pytest.raises(NoCard, match="posez la carte"):
        PcscIdentityReader(test_trust, reader=READER, card_wait=0.2).read(CAN)


def test_personal_data_never_reach_the_logs(
    card: CardFactory, reader: PcscIdentityReader, caplog: pytest.LogCaptureFixture
) -> None:
    card("cnie", Faults(tampered_dg=True))
    with caplog.at_level(logging.DEBUG):
        reading = reader.read(CAN)
        logging.getLogger("test").info("reading: %r", reading)
    text = caplog.text
    assert "DG2" in text  # the read was logged…
    for secret in ("MARTIN", "MARTYN", "MAELYS", "X4RTBPFW4", "123456", "LILAS"):
        assert secret not in text  # …without the holder's data


def test_insertion_and_removal_events(card: CardFactory, reader: PcscIdentityReader) -> None:
    present, removed = threading.Event(), threading.Event()

    def on_event(event: CardEvent) -> None:  # runs on pyscard's monitoring thread
        if event.reader != READER:
            return
        if event.kind is CardEventKind.PRESENT:
            present.set()
        elif present.is_set():
            removed.set()

    stop = reader.watch(on_event)
    try:
        virtual = card("cnie")
        assert present.wait(5)
        virtual.stop()
        assert removed.wait(5)
    finally:
        stop()


@pytest.mark.parametrize(
    "faults",
    [Faults(clone_hides_dg14=True), Faults(clone_refuses_dg14=True)],
    ids=["ef-com-sans-dg14", "dg14-6a82"],
)
def test_cloned_chip_hiding_dg14_cannot_skip_chip_authentication(
    card: CardFactory, reader: PcscIdentityReader, faults: Faults
) -> None:
    # The copy carries the genuine, signed SOD, which lists DG14: hiding DG14 from EF.COM or
    # answering "file not found" must not turn into « une copie ne peut pas être exclue ».
    card("cnie", faults)
    reading = reader.read(CAN)
    assert reading.verdict is Verdict.FALSIFIE and not reading.chip_verified
    assert "copie de puce probable" in reading.verdict_reason
    # EF.COM hid DG14: the reader reads it anyway and the copy fails Chip Authentication;
    # DG14 refused: the reader says the chip withholds the file its SOD lists.
    expected = "DG14" if faults.clone_refuses_dg14 else "Chip Authentication en échec"
    assert expected in reading.verdict_reason
    assert reading.photo is None  # nothing more is read from a copy


@pytest.mark.parametrize(
    "faults",
    [Faults(unprotected_status=True), Faults(unprotected_status=True, clone_refuses_dg14=True)],
    ids=["9000-en-clair", "6a82-en-clair"],
)
def test_a_bare_status_word_under_secure_messaging_is_refused(
    card: CardFactory, reader: PcscIdentityReader, faults: Faults
) -> None:
    # A status word outside DO'99' carries no MAC: anyone between the chip and the reader
    # could have sent it, so the read stops instead of taking the file as selected or absent.
    card("cnie", faults)
    with pytest.raises(HostileAnswer, match="non protégé"):
        reader.read(CAN)


def test_passport_with_ecdsa_active_authentication(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card(PASSPORT_AA_ECDSA)  # the hash (SHA-256) is named by DG14's ActiveAuthenticationInfo
    reading = reader.read(PASSPORT_KEY)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.chip_verified
    assert "Active Authentication réussie" in reading.verdict_reason
    assert reading.protocol.endswith("(MRZ) + AA")


@pytest.mark.parametrize("profile", ["passport", PASSPORT_AA_ECDSA], ids=["rsa", "ecdsa"])
def test_chip_answering_a_wrong_active_authentication_signature_is_a_copy(
    card: CardFactory, reader: PcscIdentityReader, profile: str | Profile
) -> None:
    card(profile, Faults(aa_wrong_signature=True))
    reading = reader.read(PASSPORT_KEY)
    assert reading.verdict is Verdict.FALSIFIE and not reading.chip_verified
    assert "Active Authentication en échec" in reading.verdict_reason
    assert "copie de puce probable" in reading.verdict_reason
    assert reading.photo is None


def test_passport_copy_withholding_dg15_cannot_skip_active_authentication(
    card: CardFactory, reader: PcscIdentityReader
) -> None:
    card("passport", Faults(clone_refuses_dg15=True))  # its signed SOD lists DG15
    reading = reader.read(PASSPORT_KEY)
    assert reading.verdict is Verdict.FALSIFIE and not reading.chip_verified
    assert "DG15" in reading.verdict_reason and "copie de puce probable" in reading.verdict_reason
