"""Identity read benchmark: APDUs and bytes for DG1 + DG2 + SOD, and the time of a full read.

    .venv/bin/python -m bench.identity_bench

Starts pcscd (when not running) and the card simulator itself. The minimum for a file is one
SELECT plus ceil(length / largest read the card accepts) READ BINARY, each counted with its
secure-messaging framing (command and protected answer, status words included): no reader can
do fewer round trips without knowing the file length in advance.

Link losses (``--pertes N``, 1 000 by default): N reads of the CNIe (short reads), each cut
once at a random APDU, a quarter each way: the card taken away (the read goes on when it is
back, in a new session), reset on the reader (a new session at once), a frame lost while the
card stays powered, its answer lost (the card counted it: the same session goes on) or its
command (the card did not: its counter is behind and a new session follows). Files read are
kept and a file cut midway goes on from where it stopped. "First-try success" is a resumed read
that ends with the verdict « authentique » at its first attempt; "same session" a read that
ended in the session it had when the link failed; the resume's time runs from the cut (from
the card put back, when it was taken away) and is set against full re-reads timed along the
same run. These run in process on the simulator (the reader's code and the chip's, without
pcscd): a thousand reinsertions through vpcd would take the bench half an hour for no more
protocol coverage, the PC/SC path being covered by ``tests/devices/test_link_loss.py``. Time in
process is mostly the PACE and Chip Authentication arithmetic; on a real link the bytes
exchanged are what costs, so both are printed.

Through pcscd (``--pertes-pcscd N``, 30 by default): per series, N reads cut by a lost answer,
N by a lost command, at a random offset of the photo, the card staying on the reader, and N
uncut: what the cut costs on top of the read, against the read itself.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from dataclasses import dataclass, field, replace

from bench.common import ensure_pcscd, percentile, report
from devices.cardsim.chip import Faults, SimulatedChip
from devices.cardsim.profiles import PROFILES
from devices.cardsim.vpcd import VIRTUAL_READER, VirtualCard
from devices.nfc.apdu import CommandApdu, LinkInterrupted, LinkLog, SessionLost
from devices.nfc.crypto import Cipher
from devices.nfc.lds import FILES
from devices.nfc.passive import TrustStore
from devices.nfc.pcsc import PcscIdentityReader
from devices.nfc.reader import read_resuming
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


#: How the link fails: the card taken away (powered down; the read stops with « carte
#: retirée » and goes on when the agent puts it back), reset on the reader by another program,
#: or a frame lost while the card stays powered on the reader, its answer or its command.
REMOVED, RESET, ANSWER_LOST, COMMAND_LOST = (
    "retirée",
    "réinitialisée",
    "réponse perdue",
    ("commande perdue"),
)
KINDS = (REMOVED, RESET, ANSWER_LOST, COMMAND_LOST)
#: The kinds where the card keeps its power: the same session may go on.
POWERED = (ANSWER_LOST, COMMAND_LOST)


class _Field:
    """The simulated chip in the reader's field; the link fails once, at APDU ``cut``, as
    ``devices.nfc.pcsc.PcscTransport`` reports each kind of failure."""

    def __init__(self, chip: SimulatedChip, cut: int | None, kind: str = REMOVED) -> None:
        self.chip = chip
        self.cut = cut
        self.kind = kind
        self.sent = 0
        self.bytes = 0
        self.cut_at = 0.0  # perf_counter when the link failed
        self.bytes_at_cut = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.sent += 1
        self.bytes += len(apdu)
        if self.sent == self.cut:
            self.cut = None
            self.cut_at, self.bytes_at_cut = time.perf_counter(), self.bytes
            if self.kind in (REMOVED, RESET):
                self.chip.power_on()  # its session is gone with its power
                if self.kind == REMOVED:
                    raise CardRemoved()
                raise SessionLost("carte réinitialisée", CardRemoved())
            if self.kind == ANSWER_LOST:
                self.chip.process(apdu)  # the card answered; the answer never came
            raise LinkInterrupted()
        response = self.chip.process(apdu)
        self.bytes += len(response)
        return response


@dataclass
class _Cuts:
    """One kind of cut over a series: each resume's time and bytes, and how it went on."""

    resumes: list[float] = field(default_factory=list)  # from the cut to the reading
    shares: list[float] = field(default_factory=list)  # bytes after the cut / a full read's
    totals: list[float] = field(default_factory=list)  # the whole cut read, both calls
    extra_bytes: list[int] = field(default_factory=list)  # the cut read's bytes − a full read's
    authentic: int = 0
    same_session: int = 0

    @property
    def count(self) -> int:
        return len(self.resumes)


def link_losses(reads: int, seed: int) -> tuple[dict[str, _Cuts], list[float]]:
    """Per kind of cut, what the resumes did; and the full re-reads' times, in the same run."""
    trust = TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])
    # Short reads (no extended length, as on many contactless readers): the photo is then most
    # of the APDUs and of the time, as on a real link, so most cuts fall in the middle of it.
    chip = SimulatedChip(PROFILES["cnie"], Faults(no_extended_length=True))
    access = CanKey("123456")
    full = _Field(chip, None)
    read_resuming(full, access, trust=trust)
    length, full_bytes = full.sent, full.bytes  # a whole read: the cut falls anywhere in it
    rng = random.Random(seed)
    cuts = {kind: _Cuts() for kind in KINDS}
    fulls: list[float] = []
    for i in range(reads):
        kind = KINDS[i % len(KINDS)]
        chip.power_on()
        cache: dict[str, bytes] = {}
        link = LinkLog()
        field_ = _Field(chip, rng.randint(1, length), kind)
        begun = time.perf_counter()
        try:
            reading = read_resuming(field_, access, trust=trust, cache=cache, link=link)
            resume, moved = time.perf_counter() - field_.cut_at, field_.bytes - field_.bytes_at_cut
            total = time.perf_counter() - begun
        except CardRemoved:  # the card moved: the files read are kept; the agent puts it back
            away = time.perf_counter()
            before = field_.bytes
            reading = read_resuming(field_, access, trust=trust, cache=cache, link=link)
            resume, moved = time.perf_counter() - away, field_.bytes - before
            total = field_.cut_at - begun + resume
        stats = cuts[kind]
        stats.resumes.append(resume)
        stats.totals.append(total)
        # Up to the cut the read is the full read's, byte for byte: the rest is the cut's cost.
        stats.extra_bytes.append(field_.bytes - full_bytes)
        stats.shares.append(moved / full_bytes)
        stats.authentic += reading.verdict is Verdict.AUTHENTIQUE
        stats.same_session += link.kept > 0 and link.reopened == 0
        if i % 50 == 0:  # the whole read again, for comparison, along the run
            chip.power_on()
            start = time.perf_counter()
            read_resuming(_Field(chip, None), access, trust=trust)
            fulls.append(time.perf_counter() - start)
    return cuts, fulls


def run_link_losses(reads: int, runs: int) -> None:
    """Print, per kind of cut, first-try success, the same session kept, and the resume's time
    against a full re-read timed in the same run."""
    rates: list[float] = []
    kept: dict[str, list[float]] = {k: [] for k in POWERED}
    ratios: dict[str, list[float]] = {k: [] for k in KINDS}
    costs: dict[str, list[float]] = {k: [] for k in KINDS}
    for seed in range(runs):
        cuts, fulls = link_losses(reads, seed)
        full = statistics.median(fulls)
        print(f"  série {seed + 1} : relecture complète {full * 1000:.0f} ms (médiane)")
        for kind, stats in cuts.items():
            median = statistics.median(stats.resumes)
            ratios[kind].append(median / full)
            cost = statistics.median(stats.totals) - full
            costs[kind].append(cost / full)
            same = stats.same_session / stats.count
            if kind in POWERED:
                kept[kind].append(same)
            print(
                f"    {kind:<16} {stats.count:4} coupures : {stats.authentic / stats.count:.1%} "
                f"au premier essai, même session {same:.1%} ; reprise {median * 1000:.0f} ms "
                f"(p90 {percentile(stats.resumes, 0.9) * 1000:.0f}) = {median / full:.2f} × la "
                f"relecture, {statistics.median(stats.shares):.0%} de ses octets ; la coupure "
                f"coûte {cost * 1000:+.0f} ms ({cost / full:+.2f} ×) et "
                f"{statistics.median(stats.extra_bytes):+.0f} octets"
            )
        rates.append(sum(s.authentic for s in cuts.values()) / sum(s.count for s in cuts.values()))
    report(
        f"reprise après perte du lien ({runs} × {reads} lectures)",
        min(rates) * 100,
        "%",
        "≥ 99 %",
        f"{min(rates):.1%}–{max(rates):.1%}",
    )
    for kind in POWERED:
        report(
            f"même session gardée ({kind})",
            statistics.median(kept[kind]) * 100,
            "%",
            "—",
            f"{min(kept[kind]):.0%}–{max(kept[kind]):.0%}",
        )
    for kind in KINDS:
        report(
            f"reprise / relecture complète ({kind})",
            statistics.median(ratios[kind]),
            "",
            "< 1",
            f"{min(ratios[kind]):.2f}–{max(ratios[kind]):.2f}; coût de la coupure "
            f"{min(costs[kind]):+.2f}–{max(costs[kind]):+.2f} × la relecture",
        )


def run_link_losses_pcscd(reads: int, runs: int) -> None:
    """Through pcscd: a frame lost in the photo (answer or command), the card staying on the
    reader, against the same read uncut; the read's time, its cut one, and the difference."""
    trust = TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])
    short = Faults(no_extended_length=True)
    chip = SimulatedChip(PROFILES["cnie"], short)
    card = VirtualCard(chip)
    card.start()
    reader = PcscIdentityReader(trust, reader=READER, card_wait=3)
    access = CanKey("123456")
    size = len(chip.files[FILES["DG2"][0]])
    extra: dict[str, list[float]] = {ANSWER_LOST: [], COMMAND_LOST: []}
    kept: dict[str, list[float]] = {ANSWER_LOST: [], COMMAND_LOST: []}
    fulls: list[float] = []
    try:
        reader.read(access)  # warm-up
        for seed in range(runs):
            rng = random.Random(100 + seed)
            times: dict[str, list[float]] = {"": [], ANSWER_LOST: [], COMMAND_LOST: []}
            same = dict.fromkeys(POWERED, 0)
            for i in range(3 * reads):
                kind = ("", ANSWER_LOST, COMMAND_LOST)[i % 3]
                offset = rng.randrange(size - 256)  # a read starts beyond it: a cut is sure
                chip.arm(
                    replace(
                        short,
                        removal_offset=offset,
                        answer_lost_mid_read=kind == ANSWER_LOST,
                        command_lost_mid_read=kind == COMMAND_LOST,
                    )
                )
                start = time.perf_counter()
                reading = reader.read(access)
                times[kind].append(time.perf_counter() - start)
                assert reading.verdict is Verdict.AUTHENTIQUE
                if kind:
                    link = reader.last_link
                    same[kind] += link.kept > 0 and link.reopened == 0
            full = statistics.median(times[""])
            fulls.append(full)
            line = [f"  série {seed + 1} : lecture entière {full * 1000:.0f} ms"]
            for kind in POWERED:
                cost = statistics.median(times[kind]) - full
                extra[kind].append(cost)
                kept[kind].append(same[kind] / reads)
                line.append(
                    f"{kind} : même session {same[kind] / reads:.0%}, la reprise coûte "
                    f"{cost * 1000:+.0f} ms ({cost / full:.2f} × la relecture)"
                )
            print("; ".join(line))
    finally:
        card.stop()
    for kind in POWERED:
        median = statistics.median(extra[kind])
        report(
            f"pcscd, {kind} : reprise − lecture entière",
            median * 1000,
            "ms",
            "< relecture",
            f"{min(extra[kind]) * 1000:.0f}–{max(extra[kind]) * 1000:.0f} ms, "
            f"{median / statistics.median(fulls):.2f} × la relecture",
        )


def main() -> None:
    """Run the CNIe (PACE-GM, then PACE-IM only) and passport profiles, then the link losses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pertes", type=int, default=1000, help="lectures coupées par série")
    parser.add_argument("--series", type=int, default=3, help="séries de lectures coupées")
    parser.add_argument(
        "--pertes-pcscd", type=int, default=30, help="lectures par sorte et série, par pcscd"
    )
    args = parser.parse_args()
    process = ensure_pcscd()
    try:
        run("cnie", CanKey("123456"), Cipher.AES256)
        run("cnie-im", CanKey("123456"), Cipher.AES256)
        run("passport", MrzKey("24FR12345", "850315", "340101"), Cipher.AES128)
        if args.pertes_pcscd:
            print("\ntrame perdue dans la photo, la carte restant posée (par pcscd) :")
            run_link_losses_pcscd(args.pertes_pcscd, args.series)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
    if args.pertes:
        print("\nperte du lien à un APDU au hasard, puis reprise (en mémoire) :")
        run_link_losses(args.pertes, args.series)


if __name__ == "__main__":
    main()
