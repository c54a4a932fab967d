"""Identity read benchmark: APDUs and bytes for DG1 + DG2 + SOD, and the time of a full read.

    .venv/bin/python -m bench.identity_bench

Starts pcscd (when not running) and the card simulator itself. The minimum for a file is one
SELECT plus ceil(length / largest read the card accepts) READ BINARY, each counted with its
secure-messaging framing (command and protected answer, status words included): no reader can
do fewer round trips without knowing the file length in advance.

Link losses (``--pertes N``, 1 000 by default): N reads of the CNIe (short reads), each cut
once at a random APDU (the card moved), then resumed when the card is back: files read are kept,
a file cut midway goes on from where it stopped, under a new secure session. "First-try success"
is a resumed read that ends with the verdict « authentique » at its first attempt. These run in
process on the simulator (the reader's code and the chip's, without pcscd): a thousand
reinsertions through vpcd would take the bench half an hour for no more protocol coverage, the
PC/SC path of the resume being covered by the ``test_card_removed_*`` tests. Time in process is
mostly the PACE and Chip Authentication arithmetic; on a real link the bytes exchanged are what
costs, so both are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import statistics
import time

from bench.common import ensure_pcscd, percentile, report
from devices.cardsim.chip import Faults, SimulatedChip
from devices.cardsim.profiles import PROFILES
from devices.cardsim.vpcd import VIRTUAL_READER, VirtualCard
from devices.nfc.apdu import CommandApdu, CountingTransport
from devices.nfc.crypto import Cipher
from devices.nfc.lds import FILES
from devices.nfc.passive import TrustStore
from devices.nfc.pcsc import PcscIdentityReader
from devices.nfc.reader import read_document
from devices.nfc.sm import SecureMessaging, protected_response_length
from kiosk.identity.errors import CardRemoved
from kiosk.identity.model import CanKey, MrzKey, Verdict
from kiosk.settings.paths import assets_dir

READER = VIRTUAL_READER
MEASURED = ("DG1", "DG2", "SOD")


def _minimum(sizes: dict[str, int], cipher: Cipher, max_read: int) -> tuple[int, int]:
    sm = SecureMessaging(cipher, b"\x00" * cipher.key_length, b"\x00" * cipher.key_length)
    apdus = total = 0
    for size in sizes.values():
        select = sm.wrap(CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x01"))
        apdus += 1
        total += len(select) + protected_response_length(cipher, 0) + 2
        for offset in range(0, size, max_read):
            n = min(max_read, size - offset)
            command = sm.wrap(CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=max_read))
            apdus += 1
            total += len(command) + protected_response_length(cipher, n) + 2
        assert apdus >= math.ceil(size / max_read)
    return apdus, total


def run(profile_name: str, access: CanKey | MrzKey, cipher: Cipher) -> None:
    profile = PROFILES[profile_name]
    card = VirtualCard(SimulatedChip(profile))
    card.start()
    trust = TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])
    reader = PcscIdentityReader(trust, reader=READER, card_wait=3)
    try:
        reader.read(access)  # warm-up: imports, first pcscd connection
        times, reading = [], None
        for _ in range(5):
            start = time.perf_counter()
            reading = reader.read(access)
            times.append(time.perf_counter() - start)
    finally:
        card.stop()
    assert reading is not None
    files = card.chip.files
    sizes = {name: len(files[FILES[name][0]]) for name in MEASURED}
    apdus = sum(reading.file_io[name][0] for name in MEASURED)
    size = sum(reading.file_io[name][1] for name in MEASURED)
    min_apdus, min_bytes = _minimum(sizes, cipher, profile.max_read)
    print(f"\n{profile_name}: DG2 {sizes['DG2']} octets, {reading.protocol}, {reading.verdict}")
    report(
        f"{profile_name} APDU DG1+DG2+SOD",
        apdus,
        "",
        "≤ 1.1 × min",
        f"{apdus / min_apdus:.2f} × {min_apdus}",
    )
    report(
        f"{profile_name} octets DG1+DG2+SOD",
        size,
        "o",
        "≤ 1.1 × min",
        f"{size / min_bytes:.3f} × {min_bytes}",
    )
    median = statistics.median(times)
    report(
        f"{profile_name} lecture + vérification (médiane)", median, "s", "≤ 1 s", f"{median:.2f}"
    )


class _Field:
    """The simulated chip in the reader's field, leaving it once at APDU ``cut``."""

    def __init__(self, chip: SimulatedChip, cut: int | None) -> None:
        self.chip = chip
        self.cut = cut
        self.sent = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.sent += 1
        if self.sent == self.cut:
            self.cut = None
            self.chip.power_on()  # the card left the field: its session is gone
            raise CardRemoved()
        return self.chip.process(apdu)


def link_losses(reads: int, seed: int) -> tuple[float, list[float], list[float], float]:
    """``(first-try success rate, resume times, full read times, bytes resumed / full)``."""
    trust = TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])
    # Short reads (no extended length, as on many contactless readers): the photo is then most
    # of the APDUs and of the time, as on a real link, so most cuts fall in the middle of it.
    chip = SimulatedChip(PROFILES["cnie"], Faults(no_extended_length=True))
    access = CanKey("123456")
    full = _Field(chip, None)
    read_document(full, access, trust=trust)
    length = full.sent  # APDUs of a whole read: the cut falls anywhere in it
    full_bytes = _bytes_of_read(chip, access, trust, {})
    rng = random.Random(seed)
    successes = 0
    resumes: list[float] = []
    fulls: list[float] = []
    resumed_bytes: list[int] = []
    for _ in range(reads):
        chip.power_on()
        cache: dict[str, bytes] = {}
        field = _Field(chip, rng.randint(1, length))
        with contextlib.suppress(CardRemoved):  # the card moved: the files read are kept
            read_document(field, access, trust=trust, cache=cache)
        start = time.perf_counter()
        counted = CountingTransport(field)
        reading = read_document(counted, access, trust=trust, cache=cache)  # cut only once
        resumes.append(time.perf_counter() - start)
        resumed_bytes.append(counted.bytes)
        successes += reading.verdict is Verdict.AUTHENTIQUE
        if len(fulls) < 20:  # the whole read again, for comparison
            chip.power_on()
            start = time.perf_counter()
            read_document(_Field(chip, None), access, trust=trust)
            fulls.append(time.perf_counter() - start)
    return successes / reads, resumes, fulls, statistics.median(resumed_bytes) / full_bytes


def _bytes_of_read(
    chip: SimulatedChip, access: CanKey, trust: TrustStore, cache: dict[str, bytes]
) -> int:
    chip.power_on()
    counted = CountingTransport(_Field(chip, None))
    read_document(counted, access, trust=trust, cache=cache)
    return counted.bytes


def run_link_losses(reads: int, runs: int) -> None:
    """Print the first-try success rate and the resume time against a full re-read."""
    rates, medians, ratios = [], [], []
    for seed in range(runs):
        rate, resumes, fulls, share = link_losses(reads, seed)
        rates.append(rate)
        medians.append(statistics.median(resumes))
        ratios.append(statistics.median(resumes) / statistics.median(fulls))
        print(
            f"  série {seed + 1}: {rate:.1%} au premier essai, reprise médiane "
            f"{medians[-1] * 1000:.0f} ms (p90 {percentile(resumes, 0.9) * 1000:.0f} ms), "
            f"relecture complète {statistics.median(fulls) * 1000:.0f} ms; octets échangés "
            f"par la reprise : {share:.0%} d'une lecture complète (médiane)"
        )
    report(
        f"reprise après perte du lien ({runs} × {reads} lectures)",
        min(rates) * 100,
        "%",
        "≥ 99 %",
        f"{min(rates):.1%}–{max(rates):.1%}",
    )
    report(
        "reprise / relecture complète (médiane)",
        statistics.median(ratios),
        "",
        "< 1",
        f"{min(ratios):.2f}–{max(ratios):.2f}; reprise {statistics.median(medians) * 1000:.0f} ms",
    )


def main() -> None:
    """Run the CNIe (PACE-GM, then PACE-IM only) and passport profiles, then the link losses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pertes", type=int, default=1000, help="lectures coupées par série")
    parser.add_argument("--series", type=int, default=3, help="séries de lectures coupées")
    args = parser.parse_args()
    process = ensure_pcscd()
    try:
        run("cnie", CanKey("123456"), Cipher.AES256)
        run("cnie-im", CanKey("123456"), Cipher.AES256)
        run("passport", MrzKey("24FR12345", "850315", "340101"), Cipher.AES128)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
    if args.pertes:
        print("\nperte du lien à un APDU au hasard, puis reprise :")
        run_link_losses(args.pertes, args.series)


if __name__ == "__main__":
    main()
