"""Turning what was typed into stored answers, and re-checking stored answers.

`parse_value` takes the raw text of a CLI argument or a text box; `validate_value` takes a value
that is already typed (read back from the database, sent by the UI). Both return the
JSON-serialisable value to store, or raise `FieldError` with a plain-French message (which the
screen shows in the person's language, see `kiosk.messages`). Digits typed in another script
(`١٢٣`, `１２３`) are read as ASCII digits everywhere, free text included. An empty answer
parses to `None` (no answer): whether that is acceptable is for `missing_required` to say, not for
the parser.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime

from kiosk.demarches.model import Choice, Field, FieldType, JSONValue
from kiosk.demarches.validators import (
    IDENTITY_NATURES,
    FieldError,
    normalise_email,
    normalise_ephoto_code,
    normalise_fni_plate,
    normalise_identity_number,
    normalise_phone,
    normalise_plate,
    normalise_postcode,
    normalise_siv_plate,
    normalise_vin,
    parse_date,
    resolve_date_bound,
)
from kiosk.digits import ascii_digits

__all__ = ["ADDRESS_KEYS", "parse_value", "validate_value"]

_TRUE = frozenset({"oui", "o", "true", "vrai", "1", "yes"})
_FALSE = frozenset({"non", "n", "false", "faux", "0", "no"})
ADDRESS_KEYS = ("ligne", "complement", "code_postal", "commune")
_COMPOSITE = frozenset({FieldType.ADDRESS, FieldType.IDENTITY_DOCUMENT, FieldType.DOCUMENT})
_DEFAULT_MAX_LENGTH = {FieldType.TEXT: 200, FieldType.LONG_TEXT: 4000}

_SIMPLE: dict[FieldType, Callable[[str], str]] = {
    FieldType.POSTCODE: normalise_postcode,
    FieldType.EMAIL: normalise_email,
    FieldType.PLATE: normalise_plate,
    FieldType.PLATE_SIV: normalise_siv_plate,
    FieldType.PLATE_FNI: normalise_fni_plate,
    FieldType.VIN: normalise_vin,
    FieldType.EPHOTO: normalise_ephoto_code,
}


#: Characters no answer may hold: control characters (NUL included; tabs and line breaks are
#: white space) and the bidirectional controls that make a text read otherwise than it is stored
#: (a plate « AB-123-CD » shown as something else on the receipt, in the national service).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def refuse_invisible(text: str) -> None:
    """Raise :class:`FieldError` if ``text`` holds a control or bidirectional-control character.

    Raises:
        FieldError: naming the first such character (« U+202E »).
    """
    for char in text:
        if char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in "\t\n\r"):
            raise FieldError(
                "La réponse contient un caractère invisible ou de contrôle ({code}) : retapez-la"
                " au clavier.",
                code=f"U+{ord(char):04X}",
            )


def _refuse_invisible_in(value: JSONValue) -> None:
    if isinstance(value, str):
        refuse_invisible(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_invisible(key)
            _refuse_invisible_in(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_invisible_in(item)


def _text(field: Field, raw: str) -> str:
    # Line breaks are kept in long texts: a "cas complexe" description needs them.
    long_text = field.type is FieldType.LONG_TEXT
    value = raw.strip() if long_text else " ".join(raw.split())
    limit = field.max_length or _DEFAULT_MAX_LENGTH[field.type]
    if len(value) > limit:
        raise FieldError(
            "Réponse trop longue : {limit} caractères au plus ({count} saisis).",
            limit=limit,
            count=len(value),
        )
    return value


def _date(field: Field, raw: str, today: date) -> str:
    minimum = resolve_date_bound(field.min_date, today) if field.min_date else None
    maximum = resolve_date_bound(field.max_date, today) if field.max_date else None
    return parse_date(raw, minimum=minimum, maximum=maximum, today=today).isoformat()


def _pick(options: tuple[Choice, ...], raw: str) -> str | None:
    """Match a choice by id, or by label ignoring case (what an agent may type); None if none."""
    wanted = raw.strip().casefold()
    for option in options:
        if wanted in (option.id.casefold(), option.label.casefold()):
            return option.id
    return None


def _ids(options: tuple[Choice, ...]) -> str:
    return ", ".join(option.id for option in options)


def _choice(field: Field, raw: str) -> str:
    picked = _pick(field.choices, raw)
    if picked is None:
        raise FieldError(
            "Choix non reconnu. Réponses possibles : {choices}.", choices=_ids(field.choices)
        )
    return picked


def _boolean(raw: str) -> bool:
    word = raw.strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise FieldError("Répondez par oui ou par non.")


def _json_object(raw: str) -> dict[str, JSONValue] | None:
    """A JSON object if `raw` looks like one; None for the plain `a | b | c` forms."""
    if not raw.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise FieldError("Objet JSON illisible.") from None
    if not isinstance(value, dict):
        raise FieldError("Un objet JSON {{ … }} est attendu.")
    return value


def _parts(raw: str) -> list[str]:
    return [part.strip() for part in raw.split("|")]


def _address(value: dict[str, JSONValue]) -> dict[str, JSONValue]:
    unknown = set(value) - set(ADDRESS_KEYS)
    if unknown:
        raise FieldError("Élément d'adresse inconnu : {keys}.", keys=", ".join(sorted(unknown)))
    cleaned: dict[str, str] = {}
    for key in ADDRESS_KEYS:
        item = value.get(key)
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        if not isinstance(item, str):
            raise FieldError("Chaque élément de l'adresse est un texte.")
        cleaned[key] = " ".join(ascii_digits(item).split())
    if "ligne" not in cleaned:
        raise FieldError("Adresse incomplète : il manque le numéro et la rue.")
    if "commune" not in cleaned:
        raise FieldError("Adresse incomplète : il manque la commune.")
    if "code_postal" not in cleaned:
        raise FieldError("Adresse incomplète : il manque le code postal.")
    cleaned["code_postal"] = normalise_postcode(cleaned["code_postal"])
    cleaned["commune"] = cleaned["commune"].upper()  # La Poste writes the commune in capitals
    return dict(cleaned)


def _parse_address(raw: str) -> dict[str, JSONValue]:
    obj = _json_object(raw)
    if obj is not None:
        return _address(obj)
    parts = _parts(raw)
    if len(parts) == 3:
        return _address({"ligne": parts[0], "code_postal": parts[1], "commune": parts[2]})
    if len(parts) == 4:
        keys = ("ligne", "complement", "code_postal", "commune")
        return _address(dict(zip(keys, parts, strict=True)))
    raise FieldError("Écrivez l'adresse ainsi : numéro et rue | code postal | commune.")


_IDENTITY_CHOICES = tuple(Choice(key, label) for key, (label, _) in IDENTITY_NATURES.items())


def _identity(value: dict[str, JSONValue]) -> dict[str, JSONValue]:
    if set(value) - {"nature", "numero"}:
        raise FieldError("Une pièce d'identité se décrit par sa nature et son numéro.")
    nature, number = value.get("nature"), value.get("numero")
    if not isinstance(nature, str) or not isinstance(number, str):
        raise FieldError("Indiquez la nature de la pièce d'identité et son numéro.")
    picked = _pick(_IDENTITY_CHOICES, nature)
    if picked is None:
        raise FieldError(
            "Type de pièce d'identité non reconnu. Réponses possibles : {choices}.",
            choices=_ids(_IDENTITY_CHOICES),
        )
    return {"nature": picked, "numero": normalise_identity_number(picked, number)}


def _parse_identity(raw: str) -> dict[str, JSONValue]:
    obj = _json_object(raw)
    if obj is not None:
        return _identity(obj)
    parts = _parts(raw)
    if len(parts) != 2:
        raise FieldError(
            "Écrivez la pièce d'identité ainsi : nature | numéro (ex. cni | X4RTBPFW4)."
        )
    return _identity({"nature": parts[0], "numero": parts[1]})


def _document(field: Field, value: dict[str, JSONValue]) -> dict[str, JSONValue]:
    if set(value) - {"nature", "reference"}:
        raise FieldError("Un justificatif se décrit par sa nature et, au besoin, une référence.")
    nature, reference = value.get("nature"), value.get("reference")
    if not isinstance(nature, str):
        raise FieldError("Indiquez la nature du justificatif présenté.")
    picked = _pick(field.accepted_kinds, nature)
    if picked is None:
        raise FieldError(
            "Justificatif non reconnu. Réponses possibles : {choices}.",
            choices=_ids(field.accepted_kinds),
        )
    result: dict[str, JSONValue] = {"nature": picked}
    if reference is not None:
        if not isinstance(reference, str):
            raise FieldError("La référence du justificatif est un texte.")
        if reference.strip():
            result["reference"] = ascii_digits(reference).strip()
    return result


def _parse_document(field: Field, raw: str) -> dict[str, JSONValue]:
    obj = _json_object(raw)
    if obj is not None:
        return _document(field, obj)
    parts = _parts(raw)
    if len(parts) > 2:
        raise FieldError("Écrivez le justificatif ainsi : nature | référence.")
    value: dict[str, JSONValue] = {"nature": parts[0]}
    if len(parts) == 2:
        value["reference"] = parts[1]
    return _document(field, value)


def parse_value(field: Field, raw: str, *, today: date | None = None) -> JSONValue:
    """Turn typed text into the value to store for `field`; empty text gives None (no answer).

    Args:
        field: the question answered.
        raw: the text as typed.
        today: the day for relative date bounds ("aujourd'hui - 2 mois"); injectable for tests.

    Raises:
        FieldError: the answer is not acceptable; its message is plain French.
    """
    if not raw.strip():
        return None
    refuse_invisible(raw)
    raw = ascii_digits(raw)  # the Arabic keyboard's ١٢٣ are the numbers 123
    match field.type:
        case FieldType.TEXT | FieldType.LONG_TEXT:
            return _text(field, raw)
        case FieldType.DATE:
            # The kiosk's own local day: an overseas kiosk must not use the day in Paris.
            return _date(field, raw, today or datetime.now(UTC).astimezone().date())
        case FieldType.CHOICE:
            return _choice(field, raw)
        case FieldType.BOOLEAN:
            return _boolean(raw)
        case FieldType.PHONE:
            return normalise_phone(raw, mobile_only=field.mobile_only)
        case FieldType.ADDRESS:
            return _parse_address(raw)
        case FieldType.IDENTITY_DOCUMENT:
            return _parse_identity(raw)
        case FieldType.DOCUMENT:
            return _parse_document(field, raw)
    return _SIMPLE[field.type](raw)


def validate_value(field: Field, value: JSONValue, *, today: date | None = None) -> JSONValue:
    """Check an already-typed value (from storage or the UI) and return its normalised form.

    Raises:
        FieldError: the value has the wrong shape for the field or is not acceptable.
    """
    if value is None:
        return None
    _refuse_invisible_in(value)
    if field.type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise FieldError("Répondez par oui ou par non.")
        return value
    if isinstance(value, dict):
        if field.type is FieldType.ADDRESS:
            return _address(value)
        if field.type is FieldType.IDENTITY_DOCUMENT:
            return _identity(value)
        if field.type is FieldType.DOCUMENT:
            return _document(field, value)
    if isinstance(value, str) and field.type not in _COMPOSITE:
        if field.type is FieldType.CHOICE and value not in field.choice_ids():
            raise FieldError(
                "Choix non reconnu. Réponses possibles : {choices}.", choices=_ids(field.choices)
            )
        return parse_value(field, value, today=today)
    raise FieldError("Réponse d'une forme inattendue pour cette question.")
