"""The mandate: the French text is the one signed and hashed; translations are for information;
a scope and a duration chosen with the person; revoked at a counter; printed for the person."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.demarches import Catalog
from kiosk.dossiers.errors import MandateRequired, NotEditable
from kiosk.dossiers.mandate import (
    InvalidMandate,
    MandateParties,
    MandateService,
    MandateText,
    template,
    template_path,
    translate_mandate,
)
from kiosk.dossiers.mandate_text import fill
from kiosk.dossiers.service import DossierService
from kiosk.dossiers.states import DossierState
from kiosk.messages import placeholders
from kiosk.security.audit import AuditLog
from kiosk.settings.paths import assets_dir
from kiosk.store import Store
from kiosk.store.models import Mandat
from tests.support import Clock
from tests.support import fill as answer_all

NOW = datetime(2025, 1, 9, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_each_translation_fills_the_same_blanks_as_the_french_text(lang: str, version: str) -> None:
    assert template_path(version, lang=lang).is_file()
    assert placeholders(template(version, lang=lang)) == placeholders(template(version))


def test_the_scope_and_duration_words_exist_in_every_language() -> None:
    words = json.loads((assets_dir() / "mandat" / "mandat.v2.mots.json").read_text("utf-8"))
    assert set(words) == {"fr", "en", "ar"}
    for lang in ("en", "ar"):
        assert set(words[lang]["portee"]) == set(words["fr"]["portee"])
        assert set(words[lang]["duree"]) == set(words["fr"]["duree"])


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
    assert text.valid_until == date(2025, 7, 8)  # six months (180 days) unless chosen
    assert "Il prend fin le 8 juillet 2025 au soir." in text.text
    assert "Combien de temps il dure : six mois (180 jours)." in text.text
    assert "Ce que ce mandat couvre : cette seule démarche." in text.text
    arabic = service.translation(text, "ar", demarche="البطاقة الرمادية: مركبة شخص متوفّى")
    assert arabic is not None
    assert arabic.version == text.version == "v2"
    assert "توكيل" in arabic.text
    assert "MARTIN Maëlys" in arabic.text and "PN-7K3M-Q9TX" in arabic.text
    assert "«البطاقة الرمادية: مركبة شخص متوفّى»" in arabic.text
    assert "8 يوليو 2025" in arabic.text and "ستة أشهر" in arabic.text
    english = service.translation(text, "en")
    assert english is not None
    assert "ends on 8 July 2025" in english.text and "six months (180 days)" in english.text
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
    detail = signed[-1].detail
    assert detail["version"] == "v2"
    assert detail["sha256"] == hashlib.sha256(text.text.encode("utf-8")).hexdigest()
    assert "MARTIN" not in json.dumps(detail)  # the journal outlives the purge: no name in it


@pytest.mark.parametrize("days", [0, 366, -1])
def test_a_duration_outside_one_day_to_one_year_is_refused_in_words(
    store: Store, service: DossierService, days: int
) -> None:
    reference = service.create("succession").reference
    mandates = MandateService(store, clock=lambda: NOW)
    with pytest.raises(InvalidMandate, match=r"d'un jour à un an \(365 jours\)") as refused:
        mandates.text_for(
            reference=reference, usager="M", agent="A", guichet="G", demarche="D", days=days
        )
    assert f"{days} jours n'est pas possible" in str(refused.value)
    assert "365 days" in refused.value.localized("en")
    # Nor can a text prepared elsewhere slip past the signature.
    good = mandates.text_for(reference=reference, usager="M", agent="A", guichet="G", demarche="D")
    forged = MandateText(good.version, good.text, good.sha256, good.valid_until, duree_jours=days)
    with pytest.raises(InvalidMandate):
        mandates.sign(reference, forged, b"\x89PNG signature")
    assert not mandates.status(reference).signed


@pytest.mark.parametrize(("days", "words"), [(1, "un jour"), (30, "un mois"), (365, "un an")])
def test_the_duration_chosen_sets_the_end_date_and_is_stored(
    store: Store, service: DossierService, days: int, words: str
) -> None:
    reference = service.create("succession").reference
    mandates = MandateService(store, clock=lambda: NOW)
    text = mandates.text_for(
        reference=reference, usager="M", agent="A", guichet="G", demarche="D", days=days
    )
    assert f"Combien de temps il dure : {words}" in text.text
    status = mandates.sign(reference, text, b"\x89PNG signature")
    assert status.valid_until == NOW.date() + timedelta(days=days)
    stored = mandates.status(reference)
    assert (stored.duree_jours, stored.valid_until) == (days, NOW.date() + timedelta(days=days))


def test_a_theme_scope_is_stored_and_only_the_dossier_s_own_theme(
    store: Store, service: DossierService, catalog: Catalog
) -> None:
    reference = service.create("succession").reference  # a carte grise démarche
    mandates = MandateService(store, catalog=catalog, clock=lambda: NOW)
    permis = mandates.text_for(
        reference=reference,
        usager="M",
        agent="A",
        guichet="G",
        demarche="D",
        portee="theme:permis",
    )
    with pytest.raises(InvalidMandate, match="cette démarche, ou toutes les démarches"):
        mandates.sign(reference, permis, b"\x89PNG signature")
    with pytest.raises(InvalidMandate):
        mandates.text_for(
            reference=reference, usager="M", agent="A", guichet="G", demarche="D", portee="tout"
        )
    text = mandates.text_for(
        reference=reference,
        usager="M",
        agent="A",
        guichet="G",
        demarche="D",
        portee="theme:carte_grise",
    )
    assert "toutes mes démarches de carte grise" in text.text
    mandates.sign(reference, text, b"\x89PNG signature")
    assert mandates.status(reference).portee == "theme:carte_grise"


# ---------------------------------------------------------------- expiry and revocation


def _complete(service: DossierService, catalog: Catalog) -> str:
    reference = service.create("succession").reference
    answer_all(service, reference, catalog.latest("succession"))
    return reference


def _sign(
    store: Store,
    service: DossierService,
    catalog: Catalog,
    reference: str,
    *,
    days: int = 180,
    portee: str | None = None,
) -> MandateService:
    """Sign as the consent screen does: the dossier's own name and title."""
    mandates = MandateService(store, catalog=catalog, clock=service._now)
    summary = service.show(reference).summary
    text = mandates.text_for(
        reference=reference,
        usager=summary.usager or "",
        agent="Claire Dupont",
        guichet="Point numérique de Vannes",
        demarche=summary.demarche_title,
        days=days,
        portee=portee,
    )
    mandates.sign(reference, text, _png(), agent_id=None)
    return mandates


def _png() -> bytes:
    """A small real PNG (a black stroke on white), as the signature pad gives."""
    import struct
    import zlib

    width, height = 40, 12
    rows = b"".join(
        b"\x00" + bytes(0 if 4 <= y <= 7 and 3 <= x <= 36 else 255 for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(store: Store, catalog: Catalog, clock: Clock) -> DossierService:
    return DossierService(store, catalog, clock=clock)


def test_a_mandate_past_its_end_date_cannot_file(
    timed: DossierService, store: Store, catalog: Catalog, clock: Clock
) -> None:
    reference = _complete(timed, catalog)
    _sign(store, timed, catalog, reference, days=7)
    clock.advance(days=7)
    assert timed.mandate_issue(reference) is None  # the last day still allows filing
    clock.advance(days=1)
    with pytest.raises(MandateRequired) as refused:
        timed.file(reference)
    assert str(refused.value) == (
        "Le mandat a pris fin le 09/03/2026 : la personne doit le signer à nouveau."
    )
    assert timed.show(reference).summary.state is DossierState.BROUILLON


def test_a_revoked_mandate_files_nothing_nor_files_again_a_dossier_to_complete(
    timed: DossierService, store: Store, catalog: Catalog, clock: Clock
) -> None:
    reference = _complete(timed, catalog)
    mandates = _sign(store, timed, catalog, reference)
    timed.file(reference)
    # The national service sends it back « à compléter »; the person then revokes the mandate.
    timed.transition(reference, DossierState.A_COMPLETER, reason="pièce illisible")
    clock.advance(hours=1)
    revoked = mandates.revoke(reference, agent_id=None)
    assert not revoked.already and revoked.revoked_at == clock.now
    assert (
        str(revoked.message)
        == f"Le mandat du dossier {reference} est révoqué depuis le 02/03/2026."
    )
    with pytest.raises(MandateRequired, match="a révoqué son mandat le 02/03/2026"):
        timed.file(reference)
    assert timed.show(reference).summary.state is DossierState.A_COMPLETER
    opened = timed.open(reference)
    assert opened.mandate is not None and "révoqué" in str(opened.mandate)
    # Revoking again is said, not an error; nothing changes.
    clock.advance(days=1)
    again = mandates.revoke(reference)
    assert again.already and again.revoked_at == revoked.revoked_at
    assert "était déjà révoqué, depuis le 02/03/2026" in str(again.message)
    journal = [e.kind for e in timed.show(reference).journal]
    assert journal.count("mandat_revoque") == 1
    actions = [e.action for e in AuditLog(store).entries(limit=100, dossier_ref=reference)]
    assert actions.count("mandat_revoque") == 1
    # A new signature allows filing again.
    _sign(store, timed, catalog, reference)
    assert timed.file(reference).state is DossierState.EN_FILE


def test_revoking_a_mandate_never_signed_says_so(store: Store, service: DossierService) -> None:
    reference = service.create("succession").reference
    with pytest.raises(InvalidMandate, match="n'a pas de mandat signé"):
        MandateService(store).revoke(reference)


def test_a_dossier_filed_under_the_first_text_keeps_its_proof(
    timed: DossierService, store: Store, catalog: Catalog
) -> None:
    """Signed under v1 and filed before v2 came: its version, hash and signature stay, its copy
    prints the v1 text, and it is filed again only once the person signs the current text."""
    reference = _complete(timed, catalog)
    _sign(store, timed, catalog, reference)
    timed.file(reference)
    summary = timed.show(reference).summary
    v1 = fill(
        "v1",
        MandateParties(
            summary.usager or "",
            "Claire Dupont",
            "Point numérique de Vannes",
            summary.demarche_title,
            reference,
        ),
        valid_until=date(2026, 8, 29),
        portee=None,
        days=180,
    )
    v1_hash = hashlib.sha256(v1.encode("utf-8")).hexdigest()
    with store.write() as s:  # the row as version 1 left it
        mandat = s.get(Mandat, summary.id)
        assert mandat is not None
        mandat.texte_version, mandat.texte_sha256 = "v1", v1_hash
        mandat.portee = mandat.duree_jours = None
    mandates = MandateService(store, catalog=catalog, clock=timed._now)
    with pytest.raises(NotEditable):  # filed: nothing replaces its signature
        _sign(store, timed, catalog, reference)
    copy = mandates.copy(reference)
    assert (copy.version, copy.sha256, copy.text_matches) == ("v1", v1_hash, True)
    assert "Il prend fin le 29/08/2026" in copy.text and copy.signature_png == _png()
    timed.transition(reference, DossierState.A_COMPLETER)
    with pytest.raises(MandateRequired, match="Le texte du mandat a changé"):
        timed.file(reference)


# ---------------------------------------------------------------- what is printed


def _pdf_text(tmp_path: Path, pdf: bytes) -> str:
    path = tmp_path / "papier.pdf"
    path.write_bytes(pdf)
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: install poppler-utils")
    out = subprocess.run([tool, str(path), "-"], check=True, capture_output=True, text=True)
    return out.stdout


def _flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def test_the_copy_prints_the_signed_text_its_hash_scope_and_dates(
    timed: DossierService, store: Store, catalog: Catalog, tmp_path: Path
) -> None:
    reference = _complete(timed, catalog)
    mandates = _sign(store, timed, catalog, reference, days=30, portee="theme:carte_grise")
    copy = mandates.copy(reference)
    assert copy.text_matches
    printed = _pdf_text(tmp_path, mandates.copy_pdf(reference))
    assert copy.sha256 in printed
    assert reference in printed
    body = _flat(printed.replace(f"Copie du mandat — dossier {reference}", ""))
    assert _flat(copy.text) in body  # every word of the text signed, in order
    assert "toutes mes démarches de carte grise" in body
    assert "un mois (30 jours)" in body
    assert "1er avril 2026 au soir" in body  # 2 March 2026 + 30 days
    assert "Version du texte v2" in body


def test_the_attestation_names_the_dossier_the_day_and_the_counter(
    timed: DossierService, store: Store, catalog: Catalog, clock: Clock, tmp_path: Path
) -> None:
    from kiosk.security.agents import AgentService
    from kiosk.site.counter import CounterDetails, CounterSettings

    CounterSettings(store).set(CounterDetails(name="Préfecture du Morbihan — accueil"))
    agent = AgentService(store).add("cdupont", "Claire Dupont", "2468")
    reference = _complete(timed, catalog)
    mandates = _sign(store, timed, catalog, reference)
    with pytest.raises(InvalidMandate, match="n'est pas révoqué"):
        mandates.attestation_pdf(reference)
    clock.advance(days=3)
    mandates.revoke(reference, agent_id=agent.id)
    printed = _flat(_pdf_text(tmp_path, mandates.attestation_pdf(reference)))
    assert "Attestation de révocation de mandat" in printed
    assert reference in printed
    assert "Révoqué le jeudi 5 mars 2026" in printed
    assert "Préfecture du Morbihan — accueil" in printed
    assert "Par l'agent Claire Dupont" in printed
