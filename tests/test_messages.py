"""The domain's messages in the person's language: every one translated, with its parameters.

The templates are found by parsing the source (``FieldError("…")``, ``Message("…")``,
``translatable("…")`` anywhere in ``kiosk/`` and ``devices/``, whose card reader raises the
identity errors the person reads), so a new message without its English and Arabic
translation fails here, before a person meets a French sentence on an Arabic screen.
"""

from __future__ import annotations

import ast
import copy
import json
import pickle
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from kiosk.demarches import (
    Catalog,
    Field,
    FieldError,
    FieldType,
    JSONValue,
    invalid_answers,
    missing_required,
    parse_value,
)
from kiosk.demarches.validators import identity_nature_label, normalise_vin
from kiosk.dossiers.errors import DossierNotFound
from kiosk.dossiers.states import DossierState, IllegalTransition
from kiosk.identity.errors import HostileAnswer, IdentityError, MrzError, WrongCan
from kiosk.identity.mrz import parse_mrz
from kiosk.messages import (
    Message,
    format_date,
    format_number,
    left_to_right,
    load_catalog,
    placeholders,
    translate,
)
from kiosk.settings.paths import assets_dir

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "ar")
#: Calls whose first argument is a French template (or a fixed label) to translate.
MARKERS = {"FieldError", "Message", "translatable"}
#: The packages whose messages reach the person (the card reader's errors are raised in devices/).
SCANNED = ("kiosk", "devices")
#: Functions that only pass a template on (they receive it as a parameter): file → names.
FORWARDERS = {
    "kiosk/demarches/validators.py": {"__init__", "_rebuild_field_error"},
    # A kept estimate's messages, read back: their templates were literals where first written.
    "kiosk/fees/kept.py": {"load_message"},
}
_ARABIC = re.compile(r"[\u0600-\u06ff]")


@dataclass(frozen=True)
class Site:
    """One place in the code that gives a template."""

    where: str
    marker: str
    template: str
    keywords: frozenset[str] | None  # the parameters passed (None: unknown, e.g. **params)


class _Scanner(ast.NodeVisitor):
    """Collects the template calls of one module, knowing the function each one is in."""

    def __init__(self, relative: str) -> None:
        self.relative = relative
        self.forwarders = FORWARDERS.get(relative, set())
        self.functions: list[str] = []
        self.sites: list[Site] = []
        self.unreadable: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        marker = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if marker in MARKERS:
            where = f"{self.relative}:{node.lineno}"
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [k.arg for k in node.keywords]
                keywords = None if None in names else frozenset(n for n in names if n)
                self.sites.append(Site(where, marker, first.value, keywords))
            elif not (self.functions and self.functions[-1] in self.forwarders):
                self.unreadable.append(where)
        self.generic_visit(node)


def template_sites(root: Path = ROOT) -> tuple[list[Site], list[str]]:
    """Every template given in ``kiosk/`` and ``devices/``, and the calls whose template is not a
    literal."""
    sites: list[Site] = []
    unreadable: list[str] = []
    paths = sorted(
        p
        for package in SCANNED
        if (root / package).is_dir()
        for p in (root / package).rglob("*.py")
    )
    for path in paths:
        relative = path.relative_to(root).as_posix()
        scanner = _Scanner(relative)
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=relative))
        sites += scanner.sites
        unreadable += scanner.unreadable
    return sites, unreadable


def test_the_source_gives_its_templates_as_literals_so_they_can_be_checked() -> None:
    sites, unreadable = template_sites()
    assert unreadable == [], "a template must be a literal (or passed on by a FORWARDER)"
    markers = {site.marker for site in sites}
    assert markers == MARKERS  # the scan sees all three kinds
    assert len({s.template for s in sites if s.marker == "FieldError"}) >= 50


def test_the_scan_finds_a_new_message_and_a_template_that_is_not_a_literal(
    tmp_path: Path,
) -> None:
    (tmp_path / "kiosk").mkdir()
    (tmp_path / "kiosk" / "new.py").write_text(
        "def check(value, reason):\n"
        "    if value:\n"
        "        raise FieldError('Nouveau message : {valeur}.', valeur=value)\n"
        "    raise FieldError(reason)\n",
        encoding="utf-8",
    )
    sites, unreadable = template_sites(tmp_path)
    assert [(s.template, s.keywords) for s in sites] == [
        ("Nouveau message : {valeur}.", frozenset({"valeur"}))
    ]
    assert "Nouveau message : {valeur}." not in load_catalog("en")  # so the test above fails
    assert unreadable == ["kiosk/new.py:4"]


def test_every_template_passes_exactly_the_parameters_it_names() -> None:
    sites, _ = template_sites()
    wrong = [
        f"{site.where}: {sorted(site.keywords)} for {site.template!r}"
        for site in sites
        if site.keywords is not None and site.keywords != placeholders(site.template)
    ]
    assert wrong == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_template_has_a_translation_with_the_same_placeholders(lang: str) -> None:
    catalog = load_catalog(lang)
    sites, _ = template_sites()
    missing = sorted({s.template for s in sites if not catalog.get(s.template, "").strip()})
    assert missing == [], f"no {lang} translation in assets/messages/{lang}.json"
    drifted = [
        (template, catalog[template])
        for template in sorted({s.template for s in sites})
        if placeholders(catalog[template]) != placeholders(template)
    ]
    assert drifted == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogues_hold_no_translation_of_a_message_that_is_gone(lang: str) -> None:
    sites, _ = template_sites()
    stale = set(load_catalog(lang)) - {site.template for site in sites}
    assert stale == set()


def test_the_arabic_catalogue_is_in_arabic_and_the_english_one_is_not_french() -> None:
    for text in load_catalog("ar").values():
        words = re.sub(r"\{\w*\}", "", text)  # "«{label}»: {error}" has no words of its own
        assert _ARABIC.search(text) or not re.search(r"[^\W\d_]", words), text
    english = load_catalog("en")
    assert not [t for t in english.values() if re.search(r"\b(le|la|les|des|est)\b", t)]


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_the_catalogue_files_keep_the_shared_json_format(lang: str) -> None:
    path = assets_dir() / "messages" / f"{lang}.json"
    if lang == "fr":
        assert not path.exists()  # French is the template itself
        return
    raw = path.read_text(encoding="utf-8")
    data = json.loads(raw)
    assert raw == json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_a_refused_date_is_explained_in_each_language_with_its_date() -> None:
    field = Field(
        id="date_declaration",
        type=FieldType.DATE,
        label="Date de la déclaration",
        min_date="aujourd'hui - 2 mois",
        max_date="aujourd'hui",
    )
    with pytest.raises(FieldError) as caught:
        parse_value(field, "01/01/2024", today=date(2024, 5, 15))
    error = caught.value
    assert error.message == "La date ne peut pas être antérieure au 15/03/2024."
    assert str(error) == error.message == error.localized("fr")
    assert error.localized("en") == "The date cannot be earlier than 15 March 2024."
    assert error.localized("ar") == "لا يمكن أن يكون التاريخ قبل 15 مارس 2024."


def test_a_count_in_a_message_is_given_in_each_language() -> None:
    with pytest.raises(FieldError) as caught:
        normalise_vin("VF1ABCDEFGH12345")
    assert "ici il y en a 16" in caught.value.message
    assert caught.value.localized("en").endswith("you entered 16.")
    assert caught.value.localized("ar").endswith("عدد ما أدخلته: 16.")


def test_a_missing_translation_or_language_falls_back_to_french() -> None:
    message = Message("Phrase sans traduction du {day}.", day=date(2024, 3, 15))
    assert message.localized("en") == "Phrase sans traduction du 15/03/2024."
    error = FieldError("La date ne peut pas être dans le futur.")
    assert error.localized("de") == "La date ne peut pas être dans le futur."
    # A placeholder left without its value is shown as written rather than failing the screen.
    assert FieldError("Valeur {oubliee} refusée.").localized("ar") == "Valeur {oubliee} refusée."


def test_latin_data_keeps_its_left_to_right_order_in_an_arabic_sentence() -> None:
    # Without the embedding marks, Qt lays "+33" out as "33+" and "1234 AB 56" as "AB 56 1234"
    # in a right-to-left line (checked on rendered pixels when these were written).
    error = FieldError(
        "Le département {departement} n'existe pas : il va de 01 à 95, 2A, 2B ou de 971 à 976.",
        departement="2C",
    )
    assert "\u202a2C\u202c" in error.localized("ar")
    assert "\u202a" not in error.localized("en") and "\u202a" not in error.message
    for text in load_catalog("ar").values():
        for match in re.finditer(r"\+[\d{]|\d+ [A-Z]{1,3} \d", text):
            assert text[: match.start()].endswith("\u202a"), text
    assert left_to_right("perte, vol", "ar") == "\u202aperte, vol\u202c"
    assert left_to_right("«Nom»", "ar") == "\u202a«Nom»\u202c"
    assert left_to_right("الاسم", "ar") == "الاسم"
    assert left_to_right("perte, vol", "en") == "perte, vol"


def test_numbers_and_dates_are_written_the_languages_way() -> None:
    assert format_number(4000, "fr") == "4000"
    assert format_number(12500, "fr") == "12\u202f500"
    assert format_number(12500, "en") == "12,500"
    assert format_number(-1234567, "en") == "-1,234,567"
    assert format_date(date(2025, 1, 9), "fr") == "09/01/2025"
    assert format_date(date(2025, 1, 9), "en") == "9 January 2025"
    assert format_date(date(2025, 1, 9), "ar") == "9 يناير 2025"


def test_a_missing_answer_reads_wholly_in_the_persons_language(catalog: Catalog) -> None:
    french = catalog.latest("succession")
    issues = {i.path: i for i in missing_required(french, {})}
    assert issues["nom"].message == "« Nom de naissance » : réponse obligatoire."
    arabic = catalog.localized(french, "ar")
    issue = {i.path: i for i in missing_required(arabic, {})}["nom"]
    assert issue.localized("ar") == f"«{arabic.field('nom').label}»: الإجابة إلزامية."
    english = catalog.localized(french, "en")
    issue = {i.path: i for i in missing_required(english, {})}["nom"]
    assert issue.localized("en") == f"“{english.field('nom').label}”: an answer is required."


def test_a_repeated_items_count_and_a_wrong_answer_inside_a_sentence_are_translated(
    catalog: Catalog,
) -> None:
    english = catalog.localized(catalog.latest("succession"), "en")
    answers: dict[str, JSONValue] = {
        "vente_sous_3_mois": False,
        "autres_heritiers": True,
        "immatriculation": "AB-1",
    }
    count = {i.path: i for i in missing_required(english, answers)}["coheritiers"]
    assert count.localized("en").endswith(": at least 1 needed (currently 0).")
    wrong = {i.path: i for i in invalid_answers(english, answers)}["immatriculation"]
    assert wrong.localized("en").startswith(f"“{english.field('immatriculation').label}”: ")
    assert "Registration number not recognised" in wrong.localized("en")
    assert "Numéro d'immatriculation non reconnu" in wrong.message  # French for the agents


def test_identity_document_natures_have_their_labels_in_each_language() -> None:
    assert identity_nature_label("passeport") == "Passeport français"
    assert identity_nature_label("passeport", "en") == "French passport"
    assert identity_nature_label("titre_sejour", "ar") == "بطاقة إقامة (titre de séjour)"
    assert identity_nature_label("inconnue", "ar") == "inconnue"
    assert translate("Titre de séjour", "fr") == "Titre de séjour"


def test_a_field_error_copied_or_pickled_keeps_its_parameters() -> None:
    error = FieldError("Le code postal {code} ne correspond à aucun département.", code="99000")
    for clone in (copy.copy(error), pickle.loads(pickle.dumps(error))):
        assert isinstance(clone, FieldError)
        assert clone.message == error.message
        assert "99000" in clone.localized("en")
        assert clone.localized("en") != clone.message


def test_the_scan_reads_the_card_readers_errors_in_devices_too() -> None:
    sites, _ = template_sites()
    assert any(site.where.startswith("devices/nfc/") for site in sites)


def test_a_wrong_can_is_explained_in_each_language_and_stays_french_for_the_agent() -> None:
    error = WrongCan(tries_left=2)
    assert str(error) == error.message == error.localized("fr")
    assert error.message.endswith("Il reste 2 essais avant que la carte ne soit bloquée.")
    assert error.localized("en").endswith("2 attempts left before the card is blocked.")
    assert error.localized("ar").startswith("رمز CAN المُدخل لا يطابق البطاقة")
    assert "1 attempt left" in WrongCan(tries_left=1).localized("en")
    # A technical detail stays as written, kept left to right in the Arabic sentence.
    hostile = HostileAnswer("DG1 sans MRZ")
    assert hostile.localized("en").endswith("(DG1 sans MRZ)")
    assert "\u202aDG1 sans MRZ\u202c" in hostile.localized("ar")
    # An error given as plain text is shown as written in every language, never lost.
    assert IdentityError("Texte libre.").localized("ar") == "Texte libre."


def test_the_dossier_errors_a_person_can_meet_are_translated() -> None:
    assert str(DossierNotFound("PN-7K3M-Q9TX")) == "Aucun dossier « PN-7K3M-Q9TX » sur cette borne."
    assert DossierNotFound("PN-7K3M-Q9TX").localized("en") == (
        "There is no file “PN-7K3M-Q9TX” on this kiosk."
    )
    refused = IllegalTransition(DossierState.EN_FILE, DossierState.EN_FILE)
    assert str(refused).startswith(f"Un dossier « {DossierState.EN_FILE.label} » ne peut pas")
    assert refused.localized("en").startswith(f"A file that is “{DossierState.EN_FILE.label}”")
    assert _ARABIC.search(refused.localized("ar"))
    final = IllegalTransition(DossierState.ACCEPTE, DossierState.BROUILLON)
    assert str(final).endswith("(états possibles : aucun).")
    assert final.localized("en").endswith("(possible states: none).")


def test_a_mrz_typed_wrong_is_explained_in_each_language_with_the_field_named() -> None:
    with pytest.raises(MrzError) as caught:
        parse_mrz("IDFRA\nX\nY\nZ")
    assert caught.value.message.startswith("une bande MRZ a 2 ou 3 lignes, 4 reçue(s)")
    assert caught.value.localized("en").startswith("MRZ lines come in 2 or 3 lines, 4 received")
    with pytest.raises(MrzError) as caught:
        parse_mrz(["IDFRA" + "<" * 31, "X" * 36])  # the old French card's check digits
    assert caught.value.message.startswith("ligne 2, numéro de la carte : le chiffre de contrôle")
    assert caught.value.localized("en").startswith("line 2, card number: the check digit")
    assert "رقم البطاقة" in caught.value.localized("ar")
