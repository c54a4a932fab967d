"""Answers as a person reads them: choice labels rather than ids, French dates, oui/non."""

from __future__ import annotations

from kiosk.demarches import Field, FieldType, JSONValue
from kiosk.demarches.validators import IDENTITY_NATURES


def display_value(field: Field, value: JSONValue) -> str:
    """``value`` (as stored) written for the review screen."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if field.type is FieldType.CHOICE and isinstance(value, str):
        return next((c.label for c in field.choices if c.id == value), value)
    if field.type is FieldType.DOCUMENT and isinstance(value, dict):
        nature = value.get("nature")
        label = next((c.label for c in field.accepted_kinds if c.id == nature), str(nature))
        reference = value.get("reference")
        return f"{label} ({reference})" if reference else label
    if field.type is FieldType.IDENTITY_DOCUMENT and isinstance(value, dict):
        nature = str(value.get("nature"))
        label = IDENTITY_NATURES.get(nature, (nature, None))[0]
        return f"{label} n° {value.get('numero')}"
    if field.type is FieldType.ADDRESS and isinstance(value, dict):
        street = ", ".join(str(value[k]) for k in ("ligne", "complement") if value.get(k))
        return f"{street}, {value.get('code_postal', '')} {value.get('commune', '')}".strip()
    if field.type is FieldType.DATE and isinstance(value, str) and len(value) == 10:
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
    return str(value)
