"""Scanning with the real ``scanimage`` on SANE's ``test`` backend (tests/sane.py): the page
comes back as a file the national service takes, and each failure of a scanner (absent, busy,
failing, silent) is a :class:`ScanError` saying so in French, never a traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from devices.sane import SaneScanner, fit_page
from kiosk.ports.devices import ScanError, ScanFault
from kiosk.store.documents import PIECE_MAX_BYTES
from tests.sane import SLOW, use_test_backend


def test_a_page_scanned_is_a_png_at_the_resolution_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_test_backend(monkeypatch, tmp_path / "sane", test_picture='"Color pattern"')

    page = SaneScanner("test", resolution=150).scan()

    assert page.mime_type == "image/png"
    assert len(page.data) <= PIECE_MAX_BYTES
    with Image.open(io.BytesIO(page.data)) as image:
        # The test scanner's glass is 80 × 100 mm by default: at 150 dpi, 472 × 590 pixels.
        assert abs(image.width - 80 / 25.4 * 150) <= 2
        assert abs(image.height - 100 / 25.4 * 150) <= 2
        shades = [count for count in image.convert("L").histogram() if count]
        assert len(shades) > 2  # the pattern, not a blank page


def _photo_like_png() -> bytes:
    """A page PNG compresses badly: grain over shades (a photo, a coloured form)."""
    noise = Image.effect_noise((1000, 1400), 12).convert("RGB")
    shades = Image.linear_gradient("L").resize((1000, 1400)).convert("RGB")
    out = io.BytesIO()
    Image.blend(noise, shades, 0.5).save(out, "PNG")
    return out.getvalue()


def test_a_page_over_the_limit_is_sent_as_a_pdf_within_it() -> None:
    png = _photo_like_png()

    page = fit_page(png, 200, limit=len(png) - 1)

    assert page.mime_type == "application/pdf"
    assert page.data.startswith(b"%PDF") and len(page.data) < len(png)
    [sheet] = PdfReader(io.BytesIO(page.data)).pages
    # The page at its size: 1000 × 1400 pixels at 200 dpi are 5 × 7 inches (360 × 504 pt).
    assert (round(float(sheet.mediabox.width)), round(float(sheet.mediabox.height))) == (360, 504)
    with pytest.raises(ScanError) as caught:
        fit_page(png, 200, limit=100)
    assert caught.value.fault is ScanFault.FAILED
    assert "trop lourde" in str(caught.value)


def test_an_unknown_scanner_is_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_test_backend(monkeypatch, tmp_path / "sane")
    with pytest.raises(ScanError) as caught:
        SaneScanner("epjitsu:libusb:001:004").scan()
    assert caught.value.fault is ScanFault.ABSENT
    assert str(caught.value).startswith("Le scanner « epjitsu:libusb:001:004 » est introuvable")


def test_no_scanimage_is_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # sane-utils not installed
    with pytest.raises(ScanError) as caught:
        SaneScanner("test").scan()
    assert caught.value.fault is ScanFault.ABSENT
    assert "sane-utils" in str(caught.value)


def test_a_busy_scanner_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_test_backend(monkeypatch, tmp_path / "sane", read_status_code='"SANE_STATUS_DEVICE_BUSY"')
    with pytest.raises(ScanError) as caught:
        SaneScanner("test").scan()
    assert caught.value.fault is ScanFault.BUSY
    assert str(caught.value).startswith("Le scanner « test » est occupé")


def test_a_jammed_scan_fails_with_the_scanners_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_test_backend(monkeypatch, tmp_path / "sane", read_status_code='"SANE_STATUS_JAMMED"')
    with pytest.raises(ScanError) as caught:
        SaneScanner("test").scan()
    assert caught.value.fault is ScanFault.FAILED
    assert str(caught.value).startswith("La numérisation a échoué (test) : ")
    assert "jammed" in str(caught.value)


def test_a_scanner_that_stops_answering_times_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_test_backend(monkeypatch, tmp_path / "sane", **SLOW)
    with pytest.raises(ScanError) as caught:
        SaneScanner("test", timeout=0.5).scan()
    assert caught.value.fault is ScanFault.TIMEOUT
    assert str(caught.value).startswith("Le scanner « test » ne répond plus")
