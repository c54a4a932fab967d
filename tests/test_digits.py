"""Digits typed in another script (the Arabic keyboard's ١٢٣, Persian ۱۲۳, fullwidth １２３) are the
same numbers: every answer, CAN, MRZ, PIN and search reads them as ASCII digits."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.demarches import Field, FieldError, FieldType, JSONValue, parse_value
from kiosk.digits import ascii_digits
from kiosk.dossiers.service import DossierService
from kiosk.identity.errors import IdentityError, InvalidCan
from kiosk.identity.model import CanKey
from kiosk.identity.mrz import parse_mrz
from kiosk.security.agents import AgentError, AgentService
from kiosk.store import Store

#: The first digit (zero) of each script the kiosk's people may type with.
ZEROS = {"arabic-indic": 0x0660, "persian": 0x06F0, "fullwidth": 0xFF10}
TODAY = date(2024, 5, 15)


def spelled(text: str, script: str) -> str:
    """``text`` with its ASCII digits written in ``script``."""
    zero = ZEROS[script]
    return "".join(chr(zero + int(c)) if "0" <= c <= "9" else c for c in text)


def outcome(field: Field, raw: str) -> tuple[str, JSONValue]:
    """What the person sees: the value stored, or the message (in French and in Arabic)."""
    try:
        return "stored", parse_value(field, raw, today=TODAY)
    except FieldError as exc:
        return "refused", [exc.message, exc.localized("ar")]


scripts = st.sampled_from(sorted(ZEROS))
#: What people type in each kind of field: well-formed, nearly so, and anything at all.
TYPED: dict[FieldType, st.SearchStrategy[str]] = {
    FieldType.POSTCODE: st.from_regex(r"\A[0-9 ]{4,7}\Z"),
    FieldType.PHONE: st.from_regex(r"\A(\+33 ?|\+262|00 ?33|0)[0-9]( ?[0-9]{2}){3,5}\Z"),
    FieldType.PLATE: st.from_regex(
        r"\A([A-Z]{2}-?[0-9]{3}-?[A-Z]{2}|[0-9]{1,4} ?[A-Z]{1,3} ?[0-9]{2,3})\Z"
    ),
    FieldType.DATE: st.from_regex(r"\A[0-9]{1,2}[/.\- ][0-9]{1,2}[/.\- ][0-9]{4}\Z"),
    FieldType.IDENTITY_DOCUMENT: st.from_regex(r"\A(cni|passeport) \| [0-9A-Z]{8,12}\Z"),
    FieldType.ADDRESS: st.from_regex(r"\A[0-9]{1,3} rue de la Paix \| [0-9]{5} \| Vannes\Z"),
    FieldType.TEXT: st.text(max_size=30),
    FieldType.VIN: st.from_regex(r"\A[0-9A-HJ-NPR-Z]{17}\Z"),
}


@given(kind=st.sampled_from(sorted(TYPED)), data=st.data(), script=scripts)
def test_latin_digits_and_their_arabic_spelling_give_the_same_answer(
    kind: FieldType, data: st.DataObject, script: str
) -> None:
    field = Field(id="f", type=kind, label="Question")
    latin = data.draw(TYPED[kind])
    assert outcome(field, spelled(latin, script)) == outcome(field, latin)


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (FieldType.POSTCODE, "٥٦٠٠٠", "56000"),
        (FieldType.PHONE, "٠٦ ١٢ ٣٤ ٥٦ ٧٨", "+33612345678"),
        (FieldType.PLATE, "AB-١٢٣-CD", "AB-123-CD"),  # `\d` alone would have stored it as typed
        (FieldType.PLATE_FNI, "۱۲۳۴ ab ۵۶", "1234 AB 56"),
        (FieldType.DATE, "١٣/٠٧/١٩٩٠", "1990-07-13"),
        (
            FieldType.IDENTITY_DOCUMENT,
            "passeport | ١٢AB٣٤٥٦٧",
            {"nature": "passeport", "numero": "12AB34567"},
        ),
        (FieldType.TEXT, "１２ bis", "12 bis"),
    ],
)
def test_each_kind_of_answer_is_stored_with_ascii_digits(
    kind: FieldType, typed: str, stored: JSONValue
) -> None:
    assert parse_value(Field(id="f", type=kind, label="Question"), typed, today=TODAY) == stored


def test_only_decimal_digits_are_mapped() -> None:
    assert ascii_digits("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹ ０１２３４５６７８９") == (
        "0123456789 0123456789 0123456789"
    )
    assert ascii_digits("m² ½ ①") == "m² ½ ①"  # not digits of a number: left for the parsers
    assert ascii_digits("Maëlys Œuvray محمد") == "Maëlys Œuvray محمد"


@given(can=st.from_regex(r"\A[0-9]{6}\Z"), script=scripts)
def test_a_can_in_arabic_indic_digits_is_the_same_can(can: str, script: str) -> None:
    assert CanKey(spelled(can, script)) == CanKey(can)
    assert CanKey(spelled(can, script)).can == can


def _can_or_message(typed: str) -> str:
    try:
        return CanKey(typed).can
    except InvalidCan as exc:
        return exc.localized("ar")


@given(typed=st.text(max_size=10))
def test_anything_typed_as_a_can_is_a_can_or_a_clear_message(typed: str) -> None:
    """Never a codec error, nor any other exception: 6 ASCII digits, or the message."""
    result = _can_or_message(typed)
    assert re.fullmatch(r"[0-9]{6}", result) or result.startswith("يتكوّن رمز CAN من 6 أرقام")


def test_a_can_with_letters_or_too_few_digits_is_refused_in_the_persons_language() -> None:
    for typed in ("١٢٣٤٥", "12345a", "", "1234567"):
        with pytest.raises(InvalidCan) as caught:
            CanKey(typed)
        assert isinstance(caught.value, IdentityError)
        assert caught.value.localized("en").startswith("The CAN has 6 digits")


def test_a_mrz_typed_with_arabic_indic_digits_is_the_same_mrz() -> None:
    latin = (
        "IDFRAX4RTBPFW46<<<<<<<<<<<<<<<\n"
        "9007138F3002119FRA<<<<<<<<<<<6\n"
        "MARTIN<<MAELYS<GAELLE<MARIE<<<"
    )
    assert parse_mrz(spelled(latin, "arabic-indic")) == parse_mrz(latin)


def test_a_pin_given_with_arabic_indic_digits_is_the_same_pin(store: Store) -> None:
    agents = AgentService(store)
    agents.add("alice", "Alice Martin", "١٢٣٤")
    assert agents.sign_in("alice", "1234").identifiant == "alice"
    assert agents.sign_in("alice", "١٢٣٤").identifiant == "alice"
    with pytest.raises(AgentError, match="4 à 12 chiffres"):
        agents.add("bob", "Bob", "12²4")


def test_a_plate_or_a_reference_searched_with_arabic_indic_digits_is_found(
    service: DossierService,
) -> None:
    ref = service.create("succession").reference
    service.answer(ref, "immatriculation", "ab-123-cd")
    assert [d.reference for d in service.list(search="AB ١٢٣ CD")] == [ref]
    assert [d.reference for d in service.list(search=spelled(ref, "arabic-indic"))] == [ref]
