"""The mandate: the French text is the one signed and hashed; translations are for information."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest

from kiosk.dossiers.mandate import MandateService, template, template_path, translate_mandate
from kiosk.dossiers.service import DossierService
from kiosk.messages import placeholders
from kiosk.store import Store

NOW = datetime(2025, 1, 9, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_each_translation_fills_the_same_blanks_as_the_french_text(lang: str) -> None:
    assert template_path(lang=lang).is_file()
    assert placeholders(template(lang=lang)) == placeholders(template())


def test_the_arabic_translation_names_the_same_people_with_its_own_title_and_date(
    store: Store,
) -> None:
    service = MandateService(store, clock=lambda: NOW)
    text = service.text_for(
        reference="PN-7K3M-Q9TX",
        usager="MARTIN Maëlys",
        agent="Claire Dupont",
        guichet="Préfecture du Morbihan",
        demarche="Carte grise : véhicule d'une personne décédée",
    )
    assert text.valid_until == date(2025, 7, 8)
    assert "Il prend fin le 08/07/2025" in text.text
    arabic = service.translation(text, "ar", demarche="البطاقة الرمادية: مركبة شخص متوفّى")
    assert arabic is not None
    assert arabic.version == text.version == "v1"
    assert "توكيل" in arabic.text
    assert "MARTIN Maëlys" in arabic.text and "PN-7K3M-Q9TX" in arabic.text
    assert "«البطاقة الرمادية: مركبة شخص متوفّى»" in arabic.text
    assert "8 يوليو 2025" in arabic.text
    english = service.translation(text, "en")
    assert english is not None
    assert "ends on 8 July 2025" in english.text
    assert "“Carte grise : véhicule d'une personne décédée”" in english.text  # no title given
    # French is the text itself; a language without a translation gets none.
    assert service.translation(text, "fr") is None
    assert translate_mandate(text, "de") is None


def test_a_person_not_named_yet_is_described_in_the_translation_s_language(
    store: Store,
) -> None:
    service = MandateService(store, clock=lambda: NOW)
    text = service.text_for(
        reference="PN-7K3M-Q9TX", usager="", agent="A", guichet="G", demarche="D"
    )
    assert "la personne désignée au dossier" in text.text
    english = service.translation(text, "en")
    assert english is not None and "the person named in the file" in english.text


def test_signing_stores_the_french_text_s_hash_whatever_was_shown_beside_it(
    store: Store, service: DossierService
) -> None:
    reference = service.create("succession").reference
    mandates = MandateService(store, clock=lambda: NOW)
    text = mandates.text_for(
        reference=reference, usager="MARTIN", agent="A", guichet="G", demarche="D"
    )
    before = (text.text, text.sha256)
    assert mandates.translation(text, "ar") is not None
    mandates.sign(reference, text, b"\x89PNG signature", agent_id=None)
    assert (text.text, text.sha256) == before
    signed = [e for e in service.show(reference).journal if e.kind == "mandat_signe"]
    assert signed[-1].detail == {
        "version": "v1",
        "sha256": hashlib.sha256(text.text.encode("utf-8")).hexdigest(),
    }
