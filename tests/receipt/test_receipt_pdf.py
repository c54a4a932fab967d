"""The printed receipt, checked as the person will hold it: one page, readable, scannable.

Rasterising and scanning use the real poppler (`pdftoppm`, `pdftotext`) and zbar (`zbarimg`) tools,
which the project's test command installs: a missing tool fails the test rather than skipping it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

import kiosk.receipt.pdf as receipt_pdf
from kiosk.receipt import (
    Contact,
    ContactMode,
    Counter,
    ReceiptData,
    decode_qr_payload,
    render_receipt,
)
from kiosk.receipt.fonts import receipt_fonts

A4_W, A4_H = 595.28, 841.89
LONG = "Très long texte saisi sans retenue " * 9  # ~300 characters with spaces
LONG_WORD = "X" * 300  # and without any space to break on


def succession(**changes: object) -> ReceiptData:
    data = ReceiptData(
        reference="PN-7K3M-Q9TX",
        verification_code="K4D9F2",
        demarche_title="Changement de titulaire — succession",
        filed_at=datetime(2025, 3, 14, 9, 32, tzinfo=UTC),
        filed=(
            ("Véhicule", "AB-123-CD — Renault Clio, 2016"),
            ("Titulaire décédé", "MARTIN Jean-Pierre"),
            ("Demandeur", "MARTIN Maëlys"),
            ("Adresse", "12 rue de l'Œuvray, 56000 Vannes"),
            ("Co-héritiers", "Désistement signé par MARTIN Léo « frère »"),
        ),
        missing_documents=(
            "Certificat de situation administrative de moins de 15 jours",
            "Attestation du notaire, acte de notoriété ou certificat d'hérédité",
        ),
        contact=Contact(ContactMode.TELEPHONE, telephone="+33 6 12 34 45 67"),
        counter=Counter(
            name="Préfecture du Morbihan — Point numérique",
            address=("24 place de la République", "56000 Vannes"),
            phone="02 97 54 84 00",
            hours="Du lundi au vendredi, de 8 h 45 à 12 h et de 13 h 30 à 16 h",
        ),
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is missing: install poppler-utils and zbar-tools (see the test command)"
        )
    return path


def write(tmp_path: Path, data: ReceiptData) -> Path:
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(render_receipt(data))
    return pdf


def page_text(pdf: Path) -> str:
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    # No-break spaces are the typography's business, not the reader's.
    return re.sub(r"[\u00a0\u202f ]+", " ", text)


def words(pdf: Path) -> list[tuple[str, float, float, float, float]]:
    """Every word with its box (x0, y0, x1, y1, top-down) as poppler lays the page out."""
    html = subprocess.run(
        [tool("pdftotext"), "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    return [
        (w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(pattern, html)
    ]


def assert_laid_out_cleanly(data: ReceiptData, tmp_path: Path) -> None:
    """All words inside the margins and no two words on top of each other.

    Checked without the diagonal training watermark, which overlaps the text by design.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(receipt_pdf._Painter, "_watermark", lambda self: None)
        pdf = tmp_path / "layout.pdf"
        pdf.write_bytes(render_receipt(data))
    boxes = words(pdf)
    margin = 8 * 72 / 25.4
    for word, x0, y0, x1, y1 in boxes:
        assert margin <= x0, f"{word!r} runs off the left side"
        assert x1 <= A4_W - margin, f"{word!r} runs off the right side"
        assert margin <= y0, f"{word!r} runs off the top"
        assert y1 <= A4_H - margin, f"{word!r} runs off the bottom"
    for i, (w1, ax0, ay0, ax1, ay1) in enumerate(boxes):
        for w2, bx0, by0, bx1, by1 in boxes[i + 1 :]:
            overlap_x = min(ax1, bx1) - max(ax0, bx0)
            overlap_y = min(ay1, by1) - max(ay0, by0)
            assert overlap_x <= 0.5 or overlap_y <= 1.5, f"{w1!r} overlaps {w2!r}"


def test_receipt_shows_what_the_person_needs(tmp_path: Path) -> None:
    pdf = write(tmp_path, succession())
    text = page_text(pdf)
    for expected in (
        "PN-7K3M-Q9TX",
        "K4D9F2",
        "Changement de titulaire — succession",
        "vendredi 14 mars 2025 à 10 h 32 (heure de Paris)",  # 09:32 UTC, winter time
        "Certificat de situation administrative de moins de 15 jours",
        "Attestation du notaire, acte de notoriété ou certificat d'hérédité",
        "Par SMS",
        "MARTIN Maëlys",
        "l'Œuvray",
        "« frère »",
        "Préfecture du Morbihan",
        "02 97 54 84 00",
    ):
        assert expected in text
    assert "FORMATION" not in text
    assert_laid_out_cleanly(succession(), tmp_path)


def test_phone_number_is_masked(tmp_path: Path) -> None:
    text = page_text(write(tmp_path, succession()))
    assert "06 •• •• 45 67" in text
    assert "12 34" not in text
    assert "612344567" not in text.replace(" ", "")


def test_qr_code_scans_back_to_the_dossier(tmp_path: Path) -> None:
    pdf = write(tmp_path, succession(verification_code="ABCDEFGHJK12"))
    subprocess.run(
        [tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    scan = subprocess.run(
        [tool("zbarimg"), "--raw", "-q", str(tmp_path / "page.png")],
        check=True,
        capture_output=True,
        text=True,
    )
    assert decode_qr_payload(scan.stdout) == ("PN-7K3M-Q9TX", "ABCDEFGHJK12")


@pytest.mark.parametrize(
    ("mode", "contact", "expected"),
    [
        (
            ContactMode.COURRIER,
            Contact(ContactMode.COURRIER, adresse=("3 allée des Œillets", "29200 Brest")),
            "Par courrier",
        ),
        (ContactMode.GUICHET, Contact(ContactMode.GUICHET), "À récupérer au guichet"),
    ],
)
def test_contact_mode_is_stated(
    tmp_path: Path, mode: ContactMode, contact: Contact, expected: str
) -> None:
    text = page_text(write(tmp_path, succession(contact=contact)))
    assert expected in text
    assert "SMS" not in text
    if mode is ContactMode.COURRIER:
        assert "3 allée des Œillets" in text
        assert "29200 Brest" in text


def test_complete_dossier_says_nothing_is_missing(tmp_path: Path) -> None:
    text = page_text(write(tmp_path, succession(missing_documents=())))
    assert "Aucun document ne manque : votre dossier est complet." in text


def test_training_receipt_is_watermarked(tmp_path: Path) -> None:
    text = page_text(write(tmp_path, succession(training=True)))
    assert "FORMATION — reçu d'exercice" in text  # the banner
    assert text.count("FORMATION") == 2  # the banner and the diagonal watermark
    assert "ne sera jamais envoyé" in text
    assert "SMS quand" not in text  # no promise of a follow-up for a practice dossier
    assert_laid_out_cleanly(succession(training=True), tmp_path)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            {"filed": tuple((f"Champ {i}", f"Valeur numéro {i}") for i in range(30))}, id="30-filed"
        ),
        pytest.param(
            {"missing_documents": tuple(f"Pièce manquante n° {i}" for i in range(15))},
            id="15-missing",
        ),
        pytest.param(
            {
                "filed": tuple((f"Champ {i}", f"Valeur numéro {i}") for i in range(30)),
                "missing_documents": tuple(f"Pièce manquante n° {i}" for i in range(15)),
            },
            id="30-filed-15-missing",
        ),
        pytest.param(
            {
                "demarche_title": LONG,
                "filed": ((LONG, LONG), ("VIN", LONG_WORD), ("Demandeur", "MARTIN Maëlys")),
                "missing_documents": (LONG, LONG_WORD),
                "contact": Contact(ContactMode.COURRIER, adresse=(LONG,) * 7),
                "counter": Counter(name=LONG, address=(LONG,) * 6, phone=LONG, hours=LONG),
                "state_label": LONG,
                "training": True,
            },
            id="300-character-values",
        ),
        pytest.param(
            {
                "demarche_title": LONG,
                "filed": tuple((LONG, LONG) for _ in range(30)),
                "missing_documents": (LONG_WORD,) * 15,
                "contact": Contact(ContactMode.COURRIER, adresse=(LONG,) * 7),
                "counter": Counter(name=LONG, address=(LONG,) * 6, phone=LONG, hours=LONG),
                "state_label": LONG,
                "training": True,
            },
            id="everything-at-once",
        ),
    ],
)
def test_overflow_stays_on_one_clean_page(tmp_path: Path, changes: dict[str, object]) -> None:
    data = succession(**changes)
    pdf = write(tmp_path, data)
    text = page_text(pdf)  # asserts one page
    assert_laid_out_cleanly(data, tmp_path)
    assert "PN-7K3M-Q9TX" in text
    # Whatever was cut, the person is told: either every missing document is listed, or the count of
    # the rest and where to get the full list.
    listed = sum(1 for doc in set(data.missing_documents) if doc[:20] in text)
    assert listed == len(set(data.missing_documents)) or "demandez la liste complète" in text


def test_thirty_filed_lines_are_cut_with_a_count(tmp_path: Path) -> None:
    filed = tuple((f"Champ {i}", f"Valeur numéro {i}") for i in range(30))
    missing = tuple(f"Pièce manquante n° {i}" for i in range(15))
    text = page_text(write(tmp_path, succession(filed=filed, missing_documents=missing)))
    kept = [i for i in range(30) if f"Valeur numéro {i}\n" in text + "\n"]
    assert "Pièce manquante n° 14" in text  # missing documents are kept before filed lines
    if len(kept) < 30:
        assert f"… et {30 - len(kept)} autres informations" in text


def test_falls_back_to_standard_fonts_without_dejavu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fallback = receipt_fonts(tmp_path)  # an empty directory: no TTF to load
    assert not fallback.unicode
    monkeypatch.setattr(receipt_pdf, "receipt_fonts", lambda: fallback)
    text = page_text(write(tmp_path, succession()))
    assert "MARTIN Maëlys" in text
    assert "l'Œuvray" in text
    assert "PN-7K3M-Q9TX" in text


def test_same_dossier_gives_the_same_bytes() -> None:
    assert render_receipt(succession()) == render_receipt(succession())


def test_bad_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="Référence"):
        render_receipt(succession(reference="7K3M-Q9TX"))
