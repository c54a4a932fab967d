"""Receipt wording rules: masked phone numbers, Paris time, wrapping, refused data."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfoNotFoundError

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

import kiosk.settings.timezone as counter_timezone
from kiosk.receipt import Contact, ContactMode, Counter, ReceiptData
from kiosk.receipt.text import format_filed_at, keep_times_together, mask_phone, wrap


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("06 12 34 45 67", "06 •• •• 45 67"),
        ("0612344567", "06 •• •• 45 67"),
        ("+33 6 12 34 45 67", "06 •• •• 45 67"),
        ("0033 6 12 34 45 67", "06 •• •• 45 67"),
        ("+44 7700 900123", "+•• •• 01 23"),
    ],
)
def test_phone_is_masked_but_recognisable(number: str, masked: str) -> None:
    assert mask_phone(number).replace("\u00a0", " ") == masked


def test_filed_at_is_shown_in_paris_time_across_summer_time() -> None:
    winter = format_filed_at(datetime(2025, 3, 14, 9, 32, tzinfo=UTC))
    summer = format_filed_at(datetime(2025, 7, 1, 8, 5, tzinfo=UTC))
    assert winter.replace("\u00a0", " ") == "vendredi 14 mars 2025 à 10 h 32 (heure de Paris)"
    assert summer.replace("\u00a0", " ") == "mardi 1er juillet 2025 à 10 h 05 (heure de Paris)"


def test_without_tzdata_the_time_is_printed_as_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_zone(key: str) -> None:
        raise ZoneInfoNotFoundError(key)

    monkeypatch.setattr(counter_timezone, "ZoneInfo", no_zone)
    shown = format_filed_at(datetime(2025, 3, 14, 9, 32, tzinfo=UTC)).replace("\u00a0", " ")
    assert shown == "vendredi 14 mars 2025 à 9 h 32 (heure UTC)"


@pytest.mark.parametrize(
    ("filed_at", "code", "message"),
    [
        (datetime(2025, 3, 14, 9, 32), "K4D9F2", "fuseau"),  # noqa: DTZ001  # naive on purpose
        (datetime(2025, 3, 14, 9, 32, tzinfo=UTC), "k4d9", "vérification"),
    ],
)
def test_receipt_data_that_would_print_wrong_is_refused(
    filed_at: datetime, code: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ReceiptData(
            reference="PN-7K3M-Q9TX",
            verification_code=code,
            demarche_title="Duplicata",
            filed_at=filed_at,
            filed=(),
            missing_documents=(),
            contact=Contact(ContactMode.GUICHET),
            counter=Counter(name="Guichet", address=(), phone="", hours=""),
        )


def test_contact_needs_its_details() -> None:
    with pytest.raises(ValueError, match="numéro"):
        Contact(ContactMode.TELEPHONE, telephone="  ")
    with pytest.raises(ValueError, match="adresse"):
        Contact(ContactMode.COURRIER, adresse=("", " "))


def test_long_words_wrap_and_are_cut_with_an_ellipsis() -> None:
    lines = wrap("X" * 300, "Helvetica", 10, 100, 3)
    assert len(lines) == 3
    assert lines[-1].endswith("…")
    assert all(stringWidth(line, "Helvetica", 10) <= 100 for line in lines)


def test_short_text_is_untouched() -> None:
    assert wrap("  MARTIN\n Maëlys ", "Helvetica", 10, 300, 2) == ["MARTIN Maëlys"]


def test_opening_hours_do_not_break_inside_a_time() -> None:
    glued = keep_times_together("de 8 h 45 à 12 h et de 13 h 30")
    assert glued == "de 8\u00a0h\u00a045 à 12\u00a0h et de 13\u00a0h\u00a030"
