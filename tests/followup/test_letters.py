"""The letter to a person without email, read as they and the postman will: what it says, where
the address shows through the envelope's window, the code the counter scans, and which dossiers
get one each day (once).

The PDF is read back with the real poppler (``pdftotext``, ``pdftoppm``) and zbar (``zbarimg``),
as the receipt's tests do; a missing tool fails the test.
"""

from __future__ import annotations

import html
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from kiosk.demarches import Catalog
from kiosk.dossiers.errors import DossierNotFound
from kiosk.dossiers.receipts import ReceiptService
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.followup.contact import Channel, Outcome, record_attempt
from kiosk.followup.letter_pdf import (
    WINDOW_H,
    WINDOW_LEFT,
    WINDOW_TOP,
    WINDOW_W,
    render_letter,
)
from kiosk.followup.letters import (
    LetterService,
    NoPostalAddress,
    NothingToSay,
    recipient_lines,
)
from kiosk.followup.reasons import Reason, ReasonKind
from kiosk.ports.devices import PrintError
from kiosk.receipt import encode_qr_payload
from kiosk.store import Store
from kiosk.store.models import ContactAttempt, Dossier, NationalDocument, NationalNotice, Usager
from tests.followup.letters_support import (
    COUNTER,
    DEADLINE,
    PAY_URL,
    PROOF,
    REASONS,
    decide,
    filed_dossier,
    set_counter,
)
from tests.receipt.test_receipt_pdf import tool, words

A4_H = 841.89


@pytest.fixture
def letters(store: Store, catalog: Catalog, service: DossierService) -> LetterService:
    return LetterService(store, catalog, service, set_counter(store))


def pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """Each page's text, spaces of every kind made plain."""
    path = tmp_path / "letters.pdf"
    path.write_bytes(pdf)
    reader = PdfReader(path)
    return [
        " ".join(re.sub(r"[\u00a0\u202f]", " ", page.extract_text()).split())
        for page in reader.pages
    ]


def scanned(pdf: bytes, tmp_path: Path) -> set[str]:
    """What zbar reads on the (first) page, printed at 150 dpi."""
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
    )
    result = subprocess.run(
        [tool("zbarimg"), "--raw", "-q", str(tmp_path / "page.png")],
        check=True,
        capture_output=True,
        text=True,
    )
    return {line for line in result.stdout.splitlines() if line}


def attempts(store: Store) -> list[tuple[str, str, int | None]]:
    with store.read() as s:
        return [
            (a.channel, a.outcome, a.notice_id)
            for a in s.scalars(select(ContactAttempt).order_by(ContactAttempt.id))
        ]


def test_a_letter_asking_for_documents_says_what_by_when_and_where(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS, deadline=DEADLINE)

    letter = letters.compose(ref)
    [text] = pages(letters.render([letter]), tmp_path)

    assert letter.subject.startswith("Objet") and ref in text
    assert f"votre dossier {ref} est à compléter" in text
    # What is asked: the démarche's name for the document, then the service's words.
    assert f"{PROOF} : Le justificatif fourni date de plus de 6 mois." in text
    assert "Une information à corriger : Le code postal ne correspond pas à la commune." in text
    assert "Venez au guichet avant le 31 décembre 2026, avec :" in text
    for brought in (f"{PROOF}.", "Ce courrier.", "Une pièce d'identité"):
        assert brought in text
    # Where to come, and when it is open.
    assert COUNTER.hours in text and "24 place de la République" in text
    assert COUNTER.phone in text
    # Who it is for, and nothing else about them.
    assert "Maëlys MARTIN" in text and "12 RUE DE L'ŒUVRAY" in text and "56000 VANNES" in text
    assert "06 12" not in text and "NAT-0001" not in text


def test_the_address_shows_through_the_envelope_window_and_nothing_else_does(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS, deadline=DEADLINE)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(render_letter(letters.compose(ref)))

    left, right = WINDOW_LEFT, WINDOW_LEFT + WINDOW_W
    top, bottom = WINDOW_TOP, WINDOW_TOP + WINDOW_H  # pdftotext measures from the top
    laid_out = [(html.unescape(w), x0, y0, x1, y1) for w, x0, y0, x1, y1 in words(pdf)]
    inside = [
        w for w, x0, y0, x1, y1 in laid_out if x0 < right and x1 > left and y0 < bottom and y1 > top
    ]
    assert inside == ["Maëlys", "MARTIN", "12", "RUE", "DE", "L'ŒUVRAY", "56000", "VANNES"]
    for word, x0, y0, x1, y1 in laid_out:
        if word in {"Maëlys", "L'ŒUVRAY", "VANNES"}:
            assert left <= x0 and x1 <= right and top <= y0 and y1 <= bottom, word
        if word == "République":  # the sender, top left, never in the window
            assert x1 < left


def test_the_letters_code_is_the_receipts_code(
    letters: LetterService, catalog: Catalog, service: DossierService, store: Store, tmp_path: Path
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS)
    receipt = ReceiptService(service, letters._counter).data(ref)

    found = scanned(render_letter(letters.compose(ref)), tmp_path)

    assert found == {encode_qr_payload(receipt.reference, receipt.verification_code)}


def test_a_payment_letter_gives_the_amount_the_reference_and_where_to_pay(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.ATTENTE_PAIEMENT, deadline=date(2027, 1, 15))

    pdf = letters.render([letters.compose(ref)])
    [text] = pages(pdf, tmp_path)

    assert "attend votre paiement" in text and "Payer sans carte bancaire" in text
    assert "Montant à payer : 433,76 €" in text and "PAY-2026-0001" in text
    assert "buraliste" in text and "par carte (plus de 300 €, pas en espèces)" in text
    assert "À payer avant le 15 janvier 2027." in text
    assert PAY_URL in scanned(pdf, tmp_path)  # the phone's code, beside the counter's own


def test_a_letter_asking_to_pay_is_not_sent_once_the_dossier_is_paid(
    letters: LetterService, service: DossierService, store: Store
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.ATTENTE_PAIEMENT)
    service.transition(ref, DossierState.PAYE)

    with pytest.raises(NothingToSay, match="n'attend plus de paiement"):
        letters.compose(ref)


def test_an_accepted_dossier_says_what_to_collect(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    by_post = filed_dossier(service, number="NAT-1")
    decide(service, store, by_post, DossierState.ACCEPTE)
    at_counter = filed_dossier(service, number="NAT-2")
    notice = decide(service, store, at_counter, DossierState.ACCEPTE)
    with store.write() as s:
        dossier_id = s.scalar(select(Dossier.id).where(Dossier.reference == at_counter))
        s.add(
            NationalDocument(
                dossier_id=str(dossier_id),
                notice_id=notice,
                remote_id="doc-1",
                kind="certificat_provisoire",
                label="Certificat provisoire d'immatriculation (CPI)",
                mime_type="application/pdf",
                size=10,
                sha256="0" * 64,
                announced_at=datetime.now(UTC),
            )
        )

    [post_text, counter_text] = pages(
        letters.render([letters.compose(by_post), letters.compose(at_counter)]), tmp_path
    )

    assert "est accepté" in post_text and "carte grise" in post_text
    assert "courrier suivi" in post_text
    assert "À retirer au guichet" in counter_text
    assert "Certificat provisoire d'immatriculation (CPI)." in counter_text


def test_a_refusal_gives_the_reason_and_what_the_person_can_do(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    ref = filed_dossier(service)
    motive = Reason(ReasonKind.AUTRE, "Le véhicule est déclaré volé.")
    decide(service, store, ref, DossierState.REFUSE, reason="volé", reasons=(motive,))

    [text] = pages(letters.render([letters.compose(ref)]), tmp_path)

    assert "a refusé votre demande" in text and "Le véhicule est déclaré volé." in text
    assert "Contester cette décision dans les deux mois" in text
    assert "tribunal administratif" in text


def test_a_notice_without_typed_reasons_still_says_what_is_missing(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    ref = filed_dossier(service)
    decide(
        service,
        store,
        ref,
        DossierState.A_COMPLETER,
        reason="Dossier incomplet\nÀ fournir : Facture récente ; Carte grise barrée",
    )

    [text] = pages(letters.render([letters.compose(ref)]), tmp_path)

    assert "Dossier incomplet" in text
    assert "Facture récente." in text and "Carte grise barrée." in text
    assert "Venez au guichet dès que possible, avec :" in text


def test_fifty_reasons_stay_on_one_page_with_a_count_of_the_rest(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    ref = filed_dossier(service)
    many = tuple(Reason(ReasonKind.AUTRE, f"Point numéro {i} à revoir.") for i in range(50))
    decide(service, store, ref, DossierState.A_COMPLETER, reasons=(*REASONS, *many))

    [text] = pages(letters.render([letters.compose(ref)]), tmp_path)  # one page

    assert re.search(r"… et \d+ autres points : demandez la liste complète au guichet", text)
    assert "Ce courrier." in text and "Une pièce d'identité" in text and COUNTER.hours in text


def test_the_days_letters_are_the_post_dossiers_not_yet_told_and_only_once(
    letters: LetterService, service: DossierService, store: Store, tmp_path: Path
) -> None:
    due_1 = filed_dossier(service, number="N1")
    decide(service, store, due_1, DossierState.A_COMPLETER, reasons=REASONS, deadline=DEADLINE)
    due_2 = filed_dossier(service, number="N2", nom="Benali", prenoms="Karim")
    decide(service, store, due_2, DossierState.REFUSE, reason="Motif")
    told = filed_dossier(service, number="N3")
    told_notice = decide(service, store, told, DossierState.ACCEPTE)
    at_counter = filed_dossier(service, mode="guichet", number="N4")
    decide(service, store, at_counter, DossierState.ACCEPTE)
    filed_dossier(service, number="N5")  # no decision yet: nothing to write
    with store.write() as s:  # the agent reached this one on the phone
        told_id = s.scalar(select(Dossier.id).where(Dossier.reference == told))
        record_attempt(
            s,
            str(told_id),
            Channel.TELEPHONE,
            Outcome.JOINT,
            at=datetime.now(UTC),
            notice_id=told_notice,
        )

    assert letters.due() == [due_1, due_2]
    batch = [letters.compose(ref) for ref in letters.due()]
    texts = pages(letters.issue(batch, lambda pdf: pdf), tmp_path)

    assert len(texts) == 2  # a page each, each standing alone
    assert due_1 in texts[0] and due_2 not in texts[0] and "Maëlys MARTIN" in texts[0]
    assert due_2 in texts[1] and due_1 not in texts[1] and "Karim BENALI" in texts[1]
    assert all(COUNTER.hours in t for t in texts)
    assert letters.due() == []  # the same command finds nothing left
    printed = [a for a in attempts(store) if a[0] == Channel.COURRIER.value]
    assert printed == [("courrier", "imprime", letter.notice_id) for letter in batch]
    with store.read() as s:
        told_at = s.scalars(
            select(NationalNotice.contacted_at).where(
                NationalNotice.id.in_([letter.notice_id for letter in batch])
            )
        ).all()
    assert all(at is not None for at in told_at)


def test_a_new_decision_after_a_letter_makes_a_new_letter(
    letters: LetterService, service: DossierService, store: Store
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.ATTENTE_PAIEMENT)
    letters.issue([letters.compose(ref)], lambda pdf: None)
    assert letters.due() == []

    service.transition(ref, DossierState.PAYE)
    decide(service, store, ref, DossierState.ACCEPTE)

    assert letters.due() == [ref]
    assert letters.compose(ref).subject.endswith("est accepté")


def test_no_postal_address_is_said_in_french_and_nothing_is_recorded(
    letters: LetterService, service: DossierService, store: Store
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS)
    with store.write() as s:  # an address never projected (a dossier of an earlier release)
        dossier_id = s.scalar(select(Dossier.id).where(Dossier.reference == ref))
        s.execute(update(Usager).where(Usager.dossier_id == dossier_id).values(adresse=None))

    with pytest.raises(NoPostalAddress) as raised:
        letters.compose(ref)

    assert str(raised.value).startswith(f"Le dossier {ref} n'a pas d'adresse postale")
    assert attempts(store) == []
    assert letters.due() == [ref]  # still to tell: an agent will call or see them


def test_a_printer_failure_records_nothing(
    letters: LetterService, service: DossierService, store: Store
) -> None:
    ref = filed_dossier(service)
    decide(service, store, ref, DossierState.A_COMPLETER, reasons=REASONS)

    def jammed(pdf: bytes) -> str:
        raise PrintError("L'imprimante ne répond pas : vérifiez qu'elle est allumée.")

    with pytest.raises(PrintError):
        letters.issue([letters.compose(ref)], jammed)

    assert attempts(store) == []
    assert letters.due() == [ref]


def test_nothing_to_say_and_unknown_reference_are_plain_french(
    letters: LetterService, service: DossierService
) -> None:
    ref = filed_dossier(service)
    with pytest.raises(NothingToSay, match="aucune réponse du service national"):
        letters.compose(ref)
    with pytest.raises(DossierNotFound, match="Aucun dossier « PN-ZZZZ-ZZZZ » sur cette borne"):
        letters.compose("PN-ZZZZ-ZZZZ")


def test_the_address_block_follows_the_postal_norm() -> None:
    lines = recipient_lines(
        "Léa  Dupont-MOREL",
        {
            "ligne": "3, allée des Œillets",
            "complement": "Bât. B, appt. 12",
            "code_postal": "29200",
            "commune": "Brest",
        },
    )
    assert lines == ("Léa Dupont-MOREL", "BÂT B APPT 12", "3 ALLÉE DES ŒILLETS", "29200 BREST")
    assert recipient_lines("Léa DUPONT", ["1", "2", "3", "4", "5", "6", "29200 BREST"]) == (
        "Léa DUPONT",
        "1",
        "2",
        "3",
        "4",
        "29200 BREST",
    )
    assert recipient_lines("Léa DUPONT", None) == ()
