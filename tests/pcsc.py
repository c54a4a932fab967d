"""The real PC/SC stack the identity tests use: pcscd with Debian's vsmartcard-vpcd driver.

vpcd offers two virtual readers, « Virtual PCD 00 00 » (port 35963) and « Virtual PCD 00 01 »
(35964). The test command runs the suite on two workers (pytest-xdist): each has a reader of its
own, so that one worker's card never lands in the other's read. The first worker keeps the
first reader; :func:`use_second_slot` moves the second one's tests, and the kiosks they start
(:func:`reader_env` for those started as processes), to the second reader.

pcscd is shared: run by the process that starts the workers when there are workers (a worker
that stopped it at its end would pull the reader from under the other), else by the session's
``pcscd`` fixture (tests/devices/conftest.py).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

#: The second worker's reader and its port.
SECOND_SLOT = ("Virtual PCD 00 01", 35964)


def pcscd_binary() -> str:
    """pcscd's path; the tests fail (not skip) when it is missing."""
    found = shutil.which("pcscd") or (
        "/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None
    )
    if found is None:
        pytest.fail(
            "pcscd est introuvable : installez pcscd et vsmartcard-vpcd (scripts/bootstrap.sh)",
            pytrace=False,
        )
    return found


def readers() -> list[str]:
    """The readers pcscd lists ([] when it is not running)."""
    from smartcard.Exceptions import SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers as listed

    try:
        return [str(r) for r in listed()]
    except (SmartcardException, BaseSCardException):  # the latter: pcscd not running yet
        return []


def start_pcscd(reader: str) -> subprocess.Popen[bytes] | None:
    """Start pcscd unless ``reader`` is listed already; wait until it is. Returns the process
    started (None: one was running)."""
    if reader in readers():
        return None
    process = subprocess.Popen(
        [pcscd_binary(), "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while reader not in readers():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("pcscd n'a pas publié le lecteur virtuel vpcd", pytrace=False)
        time.sleep(0.1)
    return process


def stop_pcscd(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a pcscd :func:`start_pcscd` started."""
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


def use_second_slot() -> None:
    """This worker's simulated cards and training kiosks use vpcd's second reader: the module's
    defaults, read when a card is made and by training mode's kiosk."""
    from devices.cardsim import vpcd

    vpcd.VIRTUAL_READER, vpcd.DEFAULT_PORT = SECOND_SLOT


def reader_env() -> dict[str, str]:
    """The environment a training kiosk started as a process needs to use this worker's reader
    (its reader setting; nothing on the first reader)."""
    from devices.cardsim import vpcd

    if SECOND_SLOT[0] == vpcd.VIRTUAL_READER:
        return {"PN_KIOSK_READER": SECOND_SLOT[0]}
    return {}
