"""parse_value / validate_value: raw text from the CLI or a text box becomes a stored answer."""

from __future__ import annotations

import json
from datetime import date

import pytest

from kiosk.demarches import (
    Choice,
    Field,
    FieldError,
    FieldType,
    JSONValue,
    default_demarches_dir,
    load_file,
    parse_value,
    validate_value,
)

TODAY = date(2024, 5, 15)


def field(field_type: FieldType, **extra: object) -> Field:
    return Field(id="f", type=field_type, label="Question", **extra)  # type: ignore[arg-type]


def test_empty_answer_is_no_answer() -> None:
    assert parse_value(field(FieldType.TEXT), "   ") is None
    assert parse_value(field(FieldType.VIN), "") is None


def test_text_collapses_spaces_but_long_text_keeps_line_breaks() -> None:
    assert parse_value(field(FieldType.TEXT), "  Jean   Pierre ") == "Jean Pierre"
    assert parse_value(field(FieldType.LONG_TEXT), " ligne 1\nligne 2 ") == "ligne 1\nligne 2"
    with pytest.raises(FieldError, match="5 caractères au plus"):
        parse_value(field(FieldType.TEXT, max_length=5), "abcdef")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("oui", True), ("OUI", True), ("true", True), ("1", True), ("non", False), ("0", False)],
)
def test_yes_no(raw: str, expected: bool) -> None:
    assert parse_value(field(FieldType.BOOLEAN), raw) is expected


def test_yes_no_refuses_anything_else() -> None:
    with pytest.raises(FieldError, match="oui ou par non"):
        parse_value(field(FieldType.BOOLEAN), "peut-être")


def test_choice_accepts_id_or_label_in_any_case() -> None:
    motif = field(
        FieldType.CHOICE, choices=(Choice("perte", "Elle est perdue"), Choice("vol", "Volée"))
    )
    assert parse_value(motif, "vol") == "vol"
    assert parse_value(motif, "VOL") == "vol"
    assert parse_value(motif, "elle est PERDUE") == "perte"
    with pytest.raises(FieldError, match="perte, vol"):
        parse_value(motif, "incendie")


def test_date_uses_field_bounds_relative_to_today() -> None:
    birth = field(FieldType.DATE, min_date="1900-01-01", max_date="aujourd'hui")
    assert parse_value(birth, "03/11/1957", today=TODAY) == "1957-11-03"
    with pytest.raises(FieldError, match="futur"):
        parse_value(birth, "16/05/2024", today=TODAY)
    receipt = field(FieldType.DATE, min_date="aujourd'hui - 2 mois", max_date="aujourd'hui")
    assert parse_value(receipt, "15/03/2024", today=TODAY) == "2024-03-15"
    with pytest.raises(FieldError, match="antérieure au 15/03/2024"):
        parse_value(receipt, "14/03/2024", today=TODAY)


def test_address_in_pipe_form_and_json_form() -> None:
    expected = {"ligne": "12 rue de la Paix", "code_postal": "31000", "commune": "TOULOUSE"}
    address = field(FieldType.ADDRESS)
    assert parse_value(address, "12 rue de la Paix | 31000 | Toulouse") == expected
    assert parse_value(address, json.dumps({**expected, "commune": "toulouse"})) == expected
    with_complement = parse_value(address, "12 rue de la Paix | Bât. B | 31000 | Toulouse")
    assert isinstance(with_complement, dict)
    assert with_complement["complement"] == "Bât. B"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12 rue de la Paix | 96000 | Toulouse", "département"),
        ("12 rue de la Paix, Toulouse", "numéro et rue | code postal | commune"),
        ('{"ligne": "12 rue", "commune": "Albi"}', "code postal"),
        ('{"ligne": "12 rue", "code_postal": "81000", "ville": "Albi"}', "inconnu"),
        ("{pas du json", "illisible"),
    ],
)
def test_address_errors_say_what_is_wrong(raw: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_value(field(FieldType.ADDRESS), raw)


def test_identity_document_forms() -> None:
    identity = field(FieldType.IDENTITY_DOCUMENT)
    expected = {"nature": "cni", "numero": "X4RTBPFW4"}
    assert parse_value(identity, "cni | x4rtbpfw4") == expected
    assert parse_value(identity, "Carte nationale d'identité | X4RTBPFW4") == expected
    assert parse_value(identity, '{"nature": "cni", "numero": "X4RTBPFW4"}') == expected
    with pytest.raises(FieldError, match=r"nature \| numéro"):
        parse_value(identity, "X4RTBPFW4")


def test_supporting_document_must_be_an_accepted_kind() -> None:
    proof = field(
        FieldType.DOCUMENT,
        accepted_kinds=(Choice("facture", "Facture"), Choice("avis_imposition", "Avis d'impôt")),
    )
    assert parse_value(proof, "facture") == {"nature": "facture"}
    assert parse_value(proof, "facture | EDF mars 2024") == {
        "nature": "facture",
        "reference": "EDF mars 2024",
    }
    with pytest.raises(FieldError, match="facture, avis_imposition"):
        parse_value(proof, "quittance")


def test_phone_field_for_text_messages_refuses_a_landline() -> None:
    mobile = field(FieldType.PHONE, mobile_only=True)
    assert parse_value(mobile, "06 12 34 56 78") == "+33612345678"
    with pytest.raises(FieldError, match="portable"):
        parse_value(mobile, "05 61 00 00 00")


def test_validate_value_checks_stored_values() -> None:
    assert validate_value(field(FieldType.PLATE), "ab-123-cd") == "AB-123-CD"
    assert validate_value(field(FieldType.BOOLEAN), False) is False
    with pytest.raises(FieldError):
        validate_value(field(FieldType.BOOLEAN), "oui")  # stored booleans are real booleans
    with pytest.raises(FieldError):
        validate_value(field(FieldType.VIN), 12345)
    motif = field(FieldType.CHOICE, choices=(Choice("perte", "Perdue"),))
    with pytest.raises(FieldError):
        validate_value(motif, "Perdue")  # a stored choice is its id, never its label
    stored: dict[str, JSONValue] = {
        "ligne": "1 place du Capitole",
        "code_postal": "31000",
        "commune": "Toulouse",
    }
    assert validate_value(field(FieldType.ADDRESS), stored) == {**stored, "commune": "TOULOUSE"}


def test_parse_value_on_shipped_fields() -> None:
    demarche = load_file(default_demarches_dir() / "permis_vol.v1.toml")
    code = demarche.field("code_ephoto")
    assert parse_value(code, "ab12cd34ef56gh78ij90kl") == "AB12CD34EF56GH78IJ90KL"
    receipt = demarche.field("date_declaration_vol")
    with pytest.raises(FieldError):
        parse_value(receipt, "01/01/2024", today=TODAY)  # police receipt older than 2 months


@pytest.mark.parametrize(
    ("field_type", "raw", "code"),
    [
        (FieldType.TEXT, "MARTIN\u202eNITRAM", "U+202E"),  # shown reversed, stored otherwise
        (FieldType.TEXT, "MAR\x00TIN", "U+0000"),
        (FieldType.PLATE, "AB-\u2067123-CD", "U+2067"),
        (FieldType.LONG_TEXT, "Acheté en Suisse\x1b[2J", "U+001B"),
        (FieldType.ADDRESS, "12 rue de la Paix\u200f | 56000 | Vannes", "U+200F"),
    ],
)
def test_answers_holding_control_or_bidi_characters_are_refused(
    field_type: FieldType, raw: str, code: str
) -> None:
    with pytest.raises(FieldError) as refused:
        parse_value(field(field_type), raw)
    assert code in str(refused.value)
    assert code in refused.value.localized("ar")  # and said in the person's language


def test_a_stored_address_with_a_bidi_override_is_refused_and_line_breaks_stay_allowed() -> None:
    address: JSONValue = {"ligne": "12 rue\u202e", "code_postal": "56000", "commune": "Vannes"}
    with pytest.raises(FieldError, match="U\\+202E"):
        validate_value(field(FieldType.ADDRESS), address)
    text = "Acheté en Suisse.\nJamais immatriculé en France.\tDepuis 2019."
    assert parse_value(field(FieldType.LONG_TEXT), text).startswith("Acheté")  # type: ignore[union-attr]
