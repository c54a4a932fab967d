"""SANE's ``test`` backend for the tests: a configuration folder whose ``dll.conf`` lists only
``test``, named by ``SANE_CONFIG_DIR`` (without the trailing colon that would add the system's
folders), so that ``scanimage`` drives the virtual scanner and probes no real hardware.

``test.conf`` sets the virtual scanner's defaults, among them what its reads return
(``read-status-code "SANE_STATUS_DEVICE_BUSY"``) and how slowly (``read-delay``): the failures
of a real scanner, from the real ``scanimage``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

#: A slow scanner: a byte at a time, a fifth of a second apart (minutes for a page).
SLOW = {
    "read-limit": "true",
    "read-limit-size": "1",
    "read-delay": "true",
    "read-delay-duration": "200000",
}


def use_test_backend(monkeypatch: pytest.MonkeyPatch, folder: Path, **options: str) -> None:
    """Make ``scanimage`` see SANE's ``test`` backend alone, its ``options`` set (``test.conf``
    names, ``-`` written ``_``), for the rest of the test.

    Fails the test if ``scanimage`` is missing (``scripts/bootstrap.sh`` installs sane-utils).
    """
    if shutil.which("scanimage") is None:
        pytest.fail(
            "scanimage est introuvable : installez sane-utils (scripts/bootstrap.sh)",
            pytrace=False,
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dll.conf").write_text("test\n", encoding="utf-8")
    lines = [f"{name.replace('_', '-')} {value}" for name, value in options.items()]
    (folder / "test.conf").write_text("number_of_devices 1\n" + "\n".join(lines) + "\n")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(folder))
