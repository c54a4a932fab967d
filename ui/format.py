"""Answers as a person reads them: choice labels rather than ids, dates as typed, yes/no.

``field`` comes from the démarche in the person's language (``Catalog.localized``), so choice
labels are already translated; the kiosk's own words come from the translator.
"""

from __future__ import annotations

from kiosk.demarches import Field, FieldType, JSONValue
from kiosk.demarches.validators import identity_nature_label
from ui.i18n import Translator


def display_value(field: Field, value: JSONValue, tr: Translator) -> str:
    """``value`` (as stored) written for the review screen, in ``tr``'s language."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return tr.t("wizard.yes" if value else "wizard.no")
    if field.type is FieldType.CHOICE and isinstance(value, str):
        return next((c.label for c in field.choices if c.id == value), value)
    if field.type is FieldType.DOCUMENT and isinstance(value, dict):
        nature = value.get("nature")
        label = next((c.label for c in field.accepted_kinds if c.id == nature), str(nature))
        reference = value.get("reference")
        return f"{label} ({reference})" if reference else label
    if field.type is FieldType.IDENTITY_DOCUMENT and isinstance(value, dict):
        nature = identity_nature_label(str(value.get("nature")), tr.lang)
        number = tr.data(str(value.get("numero")))
        return tr.t("review.identity_document", nature=nature, number=number)
    if field.type is FieldType.ADDRESS and isinstance(value, dict):
        street = ", ".join(str(value[k]) for k in ("ligne", "complement") if value.get(k))
        return f"{street}, {value.get('code_postal', '')} {value.get('commune', '')}".strip()
    if field.type is FieldType.DATE and isinstance(value, str) and len(value) == 10:
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
    return str(value)
