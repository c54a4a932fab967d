"""Small helpers shared by the benchmark scripts: percentiles and a fixed report format."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence

from devices.cardsim.vpcd import VIRTUAL_READER


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``samples``."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def median(samples: Sequence[float]) -> float:
    """The median of ``samples``."""
    return statistics.median(samples)


def report(name: str, value: float, unit: str, target: str, ratio: str = "") -> None:
    """One line per figure: name, value, target, and the ratio to its reference."""
    extra = f"  ratio {ratio}" if ratio else ""
    print(f"{name:<46} {value:10.3f} {unit:<3} (cible {target}){extra}")


def _virtual_reader_present() -> bool:
    from smartcard.Exceptions import SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers

    try:
        return VIRTUAL_READER in [str(r) for r in readers()]
    except (SmartcardException, BaseSCardException):  # no PC/SC service (yet)
        return False


def ensure_pcscd() -> subprocess.Popen[bytes] | None:
    """pcscd offering vsmartcard-vpcd's virtual reader: started here unless already running.

    Returns the process to stop at the end, or None when one was already running.
    """
    if _virtual_reader_present():
        return None
    binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
    process = subprocess.Popen([binary, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _virtual_reader_present():
            return process
        time.sleep(0.1)
    process.terminate()
    raise SystemExit("pcscd n'a pas publié le lecteur virtuel (vsmartcard-vpcd installé ?)")
