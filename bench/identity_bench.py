"""Identity read benchmark: APDUs and bytes for DG1 + DG2 + SOD, and the time of a full read.

    .venv/bin/python -m bench.identity_bench

Starts pcscd (when not running) and the card simulator itself. The minimum for a file is one
SELECT plus ceil(length / largest read the card accepts) READ BINARY, each counted with its
secure-messaging framing (command and protected answer, status words included): no reader can
do fewer round trips without knowing the file length in advance.
"""

from __future__ import annotations

import math
import statistics
import time

from bench.common import ensure_pcscd, report
from devices.cardsim.chip import SimulatedChip
from devices.cardsim.profiles import PROFILES
from devices.cardsim.vpcd import VIRTUAL_READER, VirtualCard
from devices.nfc.apdu import CommandApdu
from devices.nfc.crypto import Cipher
from devices.nfc.lds import FILES
from devices.nfc.passive import TrustStore
from devices.nfc.pcsc import PcscIdentityReader
from devices.nfc.sm import SecureMessaging, protected_response_length
from kiosk.identity.model import CanKey, MrzKey
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


def main() -> None:
    """Run the CNIe (PACE-GM, then PACE-IM only) and passport profiles."""
    process = ensure_pcscd()
    try:
        run("cnie", CanKey("123456"), Cipher.AES256)
        run("cnie-im", CanKey("123456"), Cipher.AES256)
        run("passport", MrzKey("24FR12345", "850315", "340101"), Cipher.AES128)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
