"""The estimate of what a dossier will cost, line by line, from its answers and a tariff.

``estimate(demarche, answers, at, tariffs)`` gives each fee due with its label (« Taxe régionale
(Y.1) »), its amount in cents, the basis in words (« 7 CV × 54,00 € (Occitanie) », « véhicule de
plus de 10 ans : moitié ») and the public page its figure comes from; the total; the tariff
version used (a dossier keeps it); and what is missing to compute it. A fee that cannot be
computed (the fiscal horsepower not answered, a postcode outside the regions) is a missing line
with its reason, never a guess: the total is then not given.

Pure and quick (no I/O): the answers are read as stored, through the démarche's own fields
(« puissance_fiscale », « energie »…, see docs/fees.md), so an older version of a démarche that
does not ask a question says so instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.demarches import Demarche, JSONValue, effective_answers
from kiosk.digits import ascii_digits
from kiosk.fees.loader import TariffBook
from kiosk.fees.model import DemarcheFees, MalusGrid, MassMalus, Source, Tariff, Tax
from kiosk.fees.money import format_euros
from kiosk.fees.regions import department_of, region_of
from kiosk.messages import Euros, Message

__all__ = ["REASON_TEXTS", "Estimate", "FeeLine", "MissingInput", "estimate"]

#: The answers the fees read, by field id (the same id in every démarche that asks them).
POSTCODE_BIND = "usager.adresse"
CV, ENERGY, KIND, PTAC, CO2 = "puissance_fiscale", "energie", "genre_vehicule", "ptac", "co2"
FIRST_REGISTRATION = "date_premiere_immatriculation"
MASS = "masse_ordre_marche"
#: Vehicles with no exhaust: no malus, and the regions' exemptions apply to them.
ZERO_EMISSION = frozenset({"electrique", "hydrogene"})
#: Above this PTAC (kg) a utility vehicle is « lourd » (N2, N3): its own share of Y.1.
HEAVY_KG = 3500

LABELS: dict[Tax, Message] = {
    Tax.Y1: Message("Taxe régionale (Y.1)"),
    Tax.Y2: Message("Taxe pour la formation professionnelle dans les transports (Y.2)"),
    Tax.Y3: Message("Malus écologique (Y.3)"),
    Tax.Y3_MASS: Message("Malus au poids (Y.3)"),
    Tax.Y4: Message("Taxe fixe (Y.4)"),
    Tax.Y5: Message("Redevance d'acheminement (Y.5)"),
    Tax.TIMBRE: Message("Timbre fiscal du permis perdu ou volé"),
}
#: What each answer the fees read is, for a sentence that says it is not asked.
_INPUTS: dict[str, Message] = {
    CV: Message("la puissance fiscale (case P.6 de la carte grise)"),
    ENERGY: Message("l'énergie du véhicule (case P.3)"),
    KIND: Message("le genre du véhicule (case J.1)"),
    PTAC: Message("le poids total autorisé en charge (case F.2)"),
    CO2: Message("les émissions de CO2 (case V.7)"),
    FIRST_REGISTRATION: Message("la date de première immatriculation (case B)"),
    MASS: Message("la masse en ordre de marche (case G)"),
    POSTCODE_BIND: Message("l'adresse du titulaire"),
}
#: Why a démarche owes nothing, or is not estimated (the ``motif`` of a tariff file).
REASON_TEXTS: dict[str, Message] = {
    "etiquette_adresse": Message(
        "Changement d'adresse : une étiquette à coller sur la carte grise est envoyée, sans frais."
    ),
    "nouvelle_carte_adresse": Message(
        "Changement d'adresse avec une nouvelle carte grise : seule la redevance d'acheminement"
        " est due."
    ),
    "vente_sans_nouvelle_carte": Message(
        "Véhicule vendu dans les 3 mois sans nouvelle carte grise : rien à payer."
    ),
    "declaration_sans_carte": Message(
        "Déclaration de cession : aucune carte grise n'est faite, rien à payer."
    ),
    "instruction_manuelle": Message(
        "Cas complexe : la préfecture dit ce qu'il y a à payer après l'étude du dossier."
    ),
    "renouvellement_gratuit": Message("Renouvellement du permis : rien à payer."),
    "cotitulaire_conjoint": Message(
        "Ajout ou retrait du nom de l'époux : pas de taxe régionale, seulement la taxe fixe et"
        " l'acheminement."
    ),
    "cotitulaire_changement_titulaire": Message(
        "Ajout ou retrait d'une autre personne que l'époux : c'est un changement de titulaire,"
        " la taxe régionale est due."
    ),
    "permis_gratuit": Message("Cette demande de permis est gratuite."),
    "echange_gratuit": Message(
        "Échange du permis : gratuit ; la traduction par un traducteur agréé reste à la charge"
        " de la personne."
    ),
}
_ENERGY_NAMES: dict[str, Message] = {
    "electrique": Message("véhicule électrique"),
    "hydrogene": Message("véhicule à hydrogène"),
    "hybride": Message("véhicule hybride"),
    "gpl": Message("véhicule au GPL"),
    "superethanol": Message("véhicule au superéthanol E85"),
    "essence": Message("véhicule à essence"),
    "diesel": Message("véhicule diesel"),
    "autre": Message("autre énergie"),
}
_KIND_NAMES: dict[str, Message] = {
    "moto": Message("moto"),
    "utilitaire": Message("utilitaire"),
    "utilitaire_lourd": Message("utilitaire de plus de 3,5 tonnes"),
    "voiture": Message("voiture"),
}


@dataclass(frozen=True)
class FeeLine:
    """One fee due: what it is, how much, on what basis, and where the figure comes from."""

    code: Tax
    label: Message
    amount: int  # cents
    #: The basis in words, one phrase each (« 7 CV × 54,00 € (Occitanie) », « moitié »…).
    basis: tuple[Message, ...]
    source: Source

    def basis_text(self, lang: str = "fr") -> str:
        """The basis on one line, in ``lang``."""
        return ", ".join(part.localized(lang) for part in self.basis)


@dataclass(frozen=True)
class MissingInput:
    """A fee that cannot be computed yet, and what would let it be."""

    #: The fee (None: which fees are due is itself not known yet).
    code: Tax | None
    label: Message
    #: The question to answer (a field id of the démarche), None when no answer can help.
    field: str | None
    reason: Message


@dataclass(frozen=True)
class Estimate:
    """What a dossier will cost at a date, as far as its answers and the tariff tell."""

    demarche_id: str
    at: date
    #: The tariff used (None: none in force that day); a dossier keeps it.
    tariff_version: str | None
    lines: tuple[FeeLine, ...]
    missing: tuple[MissingInput, ...]
    #: Why the démarche costs nothing or is not estimated, when that is so.
    note: Message | None = None
    #: False when the kiosk does not estimate this démarche at all (a cas complexe).
    estimated: bool = True

    @property
    def complete(self) -> bool:
        """Whether every fee could be computed (the total is then the amount to pay)."""
        return self.estimated and not self.missing and self.tariff_version is not None

    @property
    def total(self) -> int | None:
        """The sum of the lines in cents; None while something is missing."""
        return sum(line.amount for line in self.lines) if self.complete else None

    def to_json(self, lang: str = "fr") -> dict[str, Any]:
        """The estimate for ``--json`` and the receipt: amounts in cents, texts in ``lang``."""
        return {
            "demarche": self.demarche_id,
            "date": self.at.isoformat(),
            "tarif": self.tariff_version,
            "lignes": [
                {
                    "code": line.code.value,
                    "libelle": line.label.localized(lang),
                    "montant_centimes": line.amount,
                    "montant": format_euros(line.amount, lang),
                    "base": line.basis_text(lang),
                    "source": line.source.url,
                }
                for line in self.lines
            ],
            "manque": [
                {
                    "code": None if item.code is None else item.code.value,
                    "libelle": item.label.localized(lang),
                    "champ": item.field,
                    "raison": item.reason.localized(lang),
                }
                for item in self.missing
            ],
            "note": None if self.note is None else self.note.localized(lang),
            "total_centimes": self.total,
            "total": None if self.total is None else format_euros(self.total, lang),
        }


def _round(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, in whole cents."""
    return (2 * numerator + denominator) // (2 * denominator)


def _full_years(since: date, until: date) -> int:
    years = until.year - since.year
    return years - 1 if (until.month, until.day) < (since.month, since.day) else years


class _Reader:
    """The answers one estimate reads, and what it finds missing on the way."""

    def __init__(self, demarche: Demarche, answers: Mapping[str, JSONValue]) -> None:
        self.demarche = demarche
        self.values = effective_answers(demarche, answers)
        self.asked = {f.id for f in demarche.top_level_fields()}
        self.missing: list[MissingInput] = []

    def _absent(self, tax: Tax, field_id: str) -> None:
        if field_id not in self.asked:
            reason = Message(
                "Cette version de la démarche ne demande pas {donnee} : {taxe} ne peut pas être"
                " estimée ici.",
                donnee=_INPUTS[field_id],
                taxe=LABELS[tax],
            )
            self.missing.append(MissingInput(tax, LABELS[tax], None, reason))
            return
        question = self.demarche.field(field_id).label
        reason = Message(
            "Pour calculer {taxe}, répondez à « {question} ».", taxe=LABELS[tax], question=question
        )
        self.missing.append(MissingInput(tax, LABELS[tax], field_id, reason))

    def text(self, tax: Tax, field_id: str) -> str | None:
        value = self.values.get(field_id)
        if isinstance(value, str) and value:
            return value
        self._absent(tax, field_id)
        return None

    def number(self, tax: Tax, field_id: str, high: int) -> int | None:
        raw = self.text(tax, field_id)
        if raw is None:
            return None
        digits = ascii_digits(raw).replace(" ", "").replace("\u202f", "")
        if digits.isascii() and digits.isdigit() and 0 < int(digits) <= high:
            return int(digits)
        question = self.demarche.field(field_id).label
        reason = Message(
            "« {question} » : un nombre entier est attendu pour calculer {taxe} (réponse :"
            " {reponse}).",
            question=question,
            taxe=LABELS[tax],
            reponse=raw,
        )
        self.missing.append(MissingInput(tax, LABELS[tax], field_id, reason))
        return None

    def day(self, tax: Tax, field_id: str) -> date | None:
        raw = self.text(tax, field_id)
        try:
            return None if raw is None else date.fromisoformat(raw)
        except ValueError:
            self._absent(tax, field_id)
            return None

    def postcode(self, tax: Tax) -> str | None:
        for field in self.demarche.top_level_fields():
            if field.bind == POSTCODE_BIND:
                address = self.values.get(field.id)
                if isinstance(address, dict) and isinstance(address.get("code_postal"), str):
                    return str(address["code_postal"])
                self._absent(tax, field.id)
                return None
        self.missing.append(
            MissingInput(
                tax,
                LABELS[tax],
                None,
                Message(
                    "Cette version de la démarche ne demande pas {donnee} : {taxe} ne peut pas"
                    " être estimée ici.",
                    donnee=_INPUTS[POSTCODE_BIND],
                    taxe=LABELS[tax],
                ),
            )
        )
        return None


def _taxes_due(rules: DemarcheFees, read: _Reader) -> tuple[tuple[Tax, ...], str | None]:
    for case in rules.cases:
        if all(read.values.get(field_id) in expected for field_id, expected in case.when.items()):
            return case.taxes, case.reason
    if rules.taxes is not None:
        return rules.taxes, rules.reason
    # Only the cases tell, and none matches yet: the first question they read is unanswered.
    for case in rules.cases:
        for field_id in case.when:
            if field_id not in read.values and field_id in read.asked:
                question = read.demarche.field(field_id).label
                reason = Message(
                    "Pour savoir ce que coûte cette démarche, répondez à « {question} ».",
                    question=question,
                )
                read.missing.append(
                    MissingInput(None, Message("Frais de la démarche"), field_id, reason)
                )
                return (), None
    return (), None


def _y1(read: _Reader, tariff: Tariff, at: date, kind: str | None) -> FeeLine | None:
    cv = read.number(Tax.Y1, CV, 999)
    energy = read.text(Tax.Y1, ENERGY)
    first = read.day(Tax.Y1, FIRST_REGISTRATION)
    postcode = read.postcode(Tax.Y1)
    if postcode is None or cv is None or energy is None or first is None or kind is None:
        return None
    region_id = region_of(postcode)
    region = None if region_id is None else tariff.regions.get(region_id)
    if region is None:
        reason = Message(
            "Le code postal {code} n'est dans aucune région dont la borne connaît le tarif :"
            " {taxe} ne peut pas être estimée.",
            code=postcode,
            taxe=LABELS[Tax.Y1],
        )
        read.missing.append(MissingInput(Tax.Y1, LABELS[Tax.Y1], None, reason))
        return None
    basis = [
        Message(
            "{cv} CV × {taux} ({region})",
            cv=cv,
            taux=Euros(region.rate_per_cv),
            region=region.name,
        )
    ]
    share = tariff.category_share[kind]
    if share != 100:
        basis.append(Message("{genre} : {part} % du tarif", genre=_KIND_NAMES[kind], part=share))
    old = 0
    if _full_years(first, at) >= tariff.old_after_years:
        old = tariff.old_reduction
        if old == 50:
            basis.append(
                Message("véhicule de plus de {ans} ans : moitié", ans=tariff.old_after_years)
            )
        elif old:
            basis.append(
                Message(
                    "véhicule de plus de {ans} ans : {reduction} % de moins",
                    ans=tariff.old_after_years,
                    reduction=old,
                )
            )
    exempt = region.exemptions.get(energy, 0)
    if exempt == 100:
        basis.append(
            Message("{energie} : exonéré dans cette région", energie=_ENERGY_NAMES[energy])
        )
    elif exempt:
        basis.append(
            Message(
                "{energie} : {reduction} % de moins dans cette région",
                energie=_ENERGY_NAMES[energy],
                reduction=exempt,
            )
        )
    amount = _round(cv * region.rate_per_cv * share * (100 - old) * (100 - exempt), 100**3)
    return FeeLine(Tax.Y1, LABELS[Tax.Y1], amount, tuple(basis), tariff.sources[region.source])


def _y2(read: _Reader, tariff: Tariff, ptac: int | None) -> FeeLine | None:
    if ptac is None:
        return None
    band = next(b for b in tariff.y2_bands if b.up_to_kg is None or ptac <= b.up_to_kg)
    index = tariff.y2_bands.index(band)
    if band.up_to_kg is not None:
        basis = Message(
            "PTAC {ptac} kg : tranche jusqu'à {limite} kg", ptac=ptac, limite=band.up_to_kg
        )
    else:
        below = tariff.y2_bands[index - 1].up_to_kg if index else 0
        basis = Message(
            "PTAC {ptac} kg : tranche au-delà de {limite} kg", ptac=ptac, limite=below or 0
        )
    return FeeLine(Tax.Y2, LABELS[Tax.Y2], band.amount, (basis,), tariff.sources[tariff.y2_source])


@dataclass(frozen=True)
class _Co2:
    """What the CO2 malus left for the weight malus: the two together are capped."""

    gross: int | None  # cents, before the reduction for age; None: not computed
    ceiling: int  # the grid's highest amount: the cap of both malus (F35950)


def _y3(
    read: _Reader, tariff: Tariff, tariffs: TariffBook, at: date, kind: str | None
) -> tuple[FeeLine | None, _Co2]:
    unknown = _Co2(None, tariff.malus.amounts[-1])
    energy = read.text(Tax.Y3, ENERGY)
    if kind is None or energy is None:
        return None, unknown
    source = tariff.sources[tariff.malus.source]
    if kind != "voiture":
        basis = Message("{genre} : pas de malus sur les émissions de CO2", genre=_KIND_NAMES[kind])
        return FeeLine(Tax.Y3, LABELS[Tax.Y3], 0, (basis,), source), _Co2(0, unknown.ceiling)
    if energy in ZERO_EMISSION:
        basis = Message(
            "{energie} : pas de malus sur les émissions de CO2",
            energie=_ENERGY_NAMES[energy],
        )
        return FeeLine(Tax.Y3, LABELS[Tax.Y3], 0, (basis,), source), _Co2(0, unknown.ceiling)
    co2 = read.number(Tax.Y3, CO2, 9999)
    first = read.day(Tax.Y3, FIRST_REGISTRATION)
    if co2 is None or first is None:
        return None, unknown
    years = max(0, _full_years(first, at))
    grid: MalusGrid = tariff.malus
    grid_day = tariff.valid_from
    if years:
        # A used vehicle registered abroad pays the grid in force when it was first registered.
        then = tariffs.in_force(first)
        if then is None:
            reason = Message(
                "Le barème du malus en vigueur le {date} (première immatriculation) n'est pas"
                " installé sur cette borne : {taxe} ne peut pas être estimé.",
                date=first,
                taxe=LABELS[Tax.Y3],
            )
            read.missing.append(MissingInput(Tax.Y3, LABELS[Tax.Y3], None, reason))
            return None, unknown
        grid, grid_day = then.malus, then.valid_from
        source = then.sources[grid.source]
    gross = grid.amount_for(co2)
    parts = [
        Message(
            "{co2} g/km de CO2, barème du {date} : {montant}",
            co2=co2,
            date=grid_day,
            montant=Euros(gross),
        )
    ]
    reduction = min(100, years * grid.yearly_reduction)
    if reduction:
        parts.append(
            Message(
                "première immatriculation il y a {annees} an(s) : {reduction} % de moins",
                annees=years,
                reduction=reduction,
            )
        )
    amount = _round(gross * (100 - reduction), 100)
    line = FeeLine(Tax.Y3, LABELS[Tax.Y3], amount, tuple(parts), source)
    return line, _Co2(gross, grid.amounts[-1])


def _y3_mass(
    read: _Reader, tariff: Tariff, at: date, kind: str | None, co2: _Co2
) -> FeeLine | None:
    """The weight malus: the grid of the year of first registration, on the mass (case G)."""
    rules: MassMalus | None = tariff.mass_malus
    if rules is None:  # a tariff written before the kiosk estimated it: that version has none
        return None
    energy = read.text(Tax.Y3_MASS, ENERGY)
    if kind is None or energy is None:
        return None
    label, source = LABELS[Tax.Y3_MASS], tariff.sources[rules.source]
    if kind != "voiture":
        basis = Message("{genre} : pas de malus au poids", genre=_KIND_NAMES[kind])
        return FeeLine(Tax.Y3_MASS, label, 0, (basis,), source)
    if energy in rules.exempt:
        basis = Message("{energie} : pas de malus au poids", energie=_ENERGY_NAMES[energy])
        return FeeLine(Tax.Y3_MASS, label, 0, (basis,), source)
    mass = read.number(Tax.Y3_MASS, MASS, 100_000)
    first = read.day(Tax.Y3_MASS, FIRST_REGISTRATION)
    if mass is None or first is None:
        return None
    if not rules.grids or first.year < rules.grids[0].year:
        basis = Message(
            "première immatriculation en {annee} : pas de malus au poids avant {debut}",
            annee=first.year,
            debut=rules.grids[0].year if rules.grids else first.year,
        )
        return FeeLine(Tax.Y3_MASS, label, 0, (basis,), source)
    grid = rules.grid_for(first.year)
    if grid is None:
        reason = Message(
            "Le barème du malus au poids de {annee} (première immatriculation) n'est pas"
            " installé sur cette borne : {taxe} ne peut pas être estimé.",
            annee=first.year,
            taxe=label,
        )
        read.missing.append(MissingInput(Tax.Y3_MASS, label, None, reason))
        return None
    allowance = rules.allowances.get(energy, 0)
    taxed = max(0, mass - allowance)
    gross = grid.amount_for(taxed)
    parts = [
        Message(
            "{masse} kg, barème {annee} (à partir de {seuil} kg) : {montant}",
            masse=mass,
            annee=grid.year,
            seuil=grid.threshold,
            montant=Euros(gross),
        )
    ]
    if allowance:
        parts.insert(
            0,
            Message(
                "{energie} : {kg} kg de moins sur la masse",
                energie=_ENERGY_NAMES[energy],
                kg=allowance,
            ),
        )
    if co2.gross is not None and co2.gross + gross > co2.ceiling:
        # Both malus together never exceed the CO2 grid's highest amount (F35950).
        gross = max(0, co2.ceiling - co2.gross)
        parts.append(
            Message(
                "malus CO2 et malus au poids plafonnés ensemble à {plafond}",
                plafond=Euros(co2.ceiling),
            )
        )
    years = max(0, _full_years(first, at))
    reduction = min(100, years * rules.yearly_reduction)
    if reduction:
        parts.append(
            Message(
                "première immatriculation il y a {annees} an(s) : {reduction} % de moins",
                annees=years,
                reduction=reduction,
            )
        )
    amount = _round(gross * (100 - reduction), 100)
    return FeeLine(Tax.Y3_MASS, label, amount, tuple(parts), tariff.sources[grid.source])


def _timbre(read: _Reader, tariff: Tariff) -> FeeLine | None:
    postcode = read.postcode(Tax.TIMBRE)
    if postcode is None:
        return None
    department = department_of(postcode)
    source = tariff.sources[tariff.permis_timbre_source]
    if department in tariff.permis_timbre_by_department:
        basis = Message("tarif du département {departement}", departement=department)
        amount = tariff.permis_timbre_by_department[department]
        return FeeLine(Tax.TIMBRE, LABELS[Tax.TIMBRE], amount, (basis,), source)
    basis = Message("permis perdu ou volé : demande d'un nouveau permis")
    return FeeLine(Tax.TIMBRE, LABELS[Tax.TIMBRE], tariff.permis_timbre, (basis,), source)


def _kind(read: _Reader, taxes: tuple[Tax, ...]) -> tuple[str | None, int | None]:
    """The vehicle's kind for the tariff (a heavy utility vehicle apart) and its PTAC."""
    if not {Tax.Y1, Tax.Y2, Tax.Y3} & set(taxes):
        return None, None
    tax = next(t for t in (Tax.Y1, Tax.Y3, Tax.Y2) if t in taxes)
    kind = read.text(tax, KIND)
    if kind != "utilitaire":
        return kind, None
    ptac = read.number(tax, PTAC, 100_000)
    if ptac is None:
        return None, None
    return ("utilitaire_lourd" if ptac > HEAVY_KG else "utilitaire"), ptac


def estimate(
    demarche: Demarche, answers: Mapping[str, JSONValue], at: date, tariffs: TariffBook
) -> Estimate:
    """What a dossier of ``demarche`` with ``answers`` costs on ``at``, line by line.

    Args:
        demarche: the version the dossier was started with (its texts in the person's language
            give the questions named in the missing lines).
        answers: the dossier's answers as stored (path → value).
        at: the day the fees are due (the tariff in force that day is used).
        tariffs: the loaded tariffs.
    """
    tariff = tariffs.in_force(at)
    if tariff is None:
        reason = Message(
            "Aucun tarif n'est en vigueur le {date} sur cette borne : les frais ne peuvent pas"
            " être estimés.",
            date=at,
        )
        return Estimate(demarche.id, at, None, (), (), reason, estimated=False)
    rules = tariff.demarches.get(demarche.id)
    if rules is None:
        reason = Message(
            "Le tarif du {date} ne dit pas ce que coûte la démarche « {demarche} ».",
            date=tariff.valid_from,
            demarche=demarche.title,
        )
        return Estimate(demarche.id, at, tariff.version, (), (), reason, estimated=False)
    if rules.not_estimated is not None:
        note = REASON_TEXTS[rules.not_estimated]
        return Estimate(demarche.id, at, tariff.version, (), (), note, estimated=False)
    read = _Reader(demarche, answers)
    taxes, reason_id = _taxes_due(rules, read)
    kind, ptac = _kind(read, taxes)
    lines: list[FeeLine | None] = []
    if Tax.Y1 in taxes:
        lines.append(_y1(read, tariff, at, kind))
    if Tax.Y2 in taxes and kind in ("utilitaire", "utilitaire_lourd"):
        lines.append(_y2(read, tariff, ptac))
    if Tax.Y3 in taxes:
        co2_line, co2 = _y3(read, tariff, tariffs, at, kind)
        lines.append(co2_line)
        lines.append(_y3_mass(read, tariff, at, kind, co2))
    if Tax.Y4 in taxes:
        basis = Message("montant fixe, quelle que soit la région")
        lines.append(
            FeeLine(
                Tax.Y4,
                LABELS[Tax.Y4],
                tariff.fixed_tax,
                (basis,),
                tariff.sources[tariff.fixed_tax_source],
            )
        )
    if Tax.Y5 in taxes:
        basis = Message("envoi du certificat à domicile")
        lines.append(
            FeeLine(
                Tax.Y5,
                LABELS[Tax.Y5],
                tariff.delivery_fee,
                (basis,),
                tariff.sources[tariff.delivery_fee_source],
            )
        )
    if Tax.TIMBRE in taxes:
        lines.append(_timbre(read, tariff))
    # One missing line per fee and reason: the same question may be needed by two fees.
    missing: dict[tuple[Tax | None, str], MissingInput] = {}
    for item in read.missing:
        missing.setdefault((item.code, item.reason.template + repr(item.reason.params)), item)
    reason_note = None if reason_id is None else REASON_TEXTS[reason_id]
    return Estimate(
        demarche.id,
        at,
        tariff.version,
        tuple(line for line in lines if line is not None),
        tuple(missing.values()),
        reason_note,
    )
