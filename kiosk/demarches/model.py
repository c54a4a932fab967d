"""The shape of a démarche once loaded: steps, typed fields, groups, conditions, documents.

Everything is frozen: a loaded definition is shared by every dossier pinned to its version, so
nothing may change it after load. The TOML format that produces these objects is described in
docs/demarches.md.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeAlias

from kiosk.messages import Message

__all__ = [
    "BIND_TARGETS",
    "BIND_TYPES",
    "CONTACT_MODES",
    "PICTOGRAMMES",
    "ROUTAGES",
    "THEMES",
    "AllOf",
    "AnswerPath",
    "AnyOf",
    "Choice",
    "Condition",
    "Demarche",
    "DocumentRequirement",
    "DocumentRule",
    "Equals",
    "Field",
    "FieldType",
    "Filled",
    "Group",
    "Issue",
    "JSONValue",
    "Not",
    "Note",
    "OneOf",
    "Scalar",
    "Step",
    "condition_fields",
    "format_path",
    "group_index_problem",
    "parse_path",
]

JSONValue: TypeAlias = str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"] | None
Scalar: TypeAlias = str | bool


class FieldType(StrEnum):
    """Field types; the value is the `type` written in definition files."""

    TEXT = "texte"
    LONG_TEXT = "texte_long"
    DATE = "date"
    CHOICE = "choix"
    BOOLEAN = "oui_non"
    ADDRESS = "adresse"
    POSTCODE = "code_postal"
    PHONE = "telephone"
    EMAIL = "email"
    PLATE = "immatriculation"
    PLATE_SIV = "immatriculation_siv"
    PLATE_FNI = "immatriculation_fni"
    VIN = "vin"
    IDENTITY_DOCUMENT = "piece_identite"
    DOCUMENT = "justificatif"
    EPHOTO = "code_ephoto"


_PLATES = frozenset({FieldType.PLATE, FieldType.PLATE_SIV, FieldType.PLATE_FNI})

# Entity attributes the application service projects answers into, with the field types that may
# feed each one (a date cannot land in a name column). usager.email must stay optional: the kiosk
# exists for people without email, so the loader refuses a mandatory field bound to it.
BIND_TYPES: dict[str, frozenset[FieldType]] = {
    "usager.nom": frozenset({FieldType.TEXT}),
    "usager.prenoms": frozenset({FieldType.TEXT}),
    "usager.date_naissance": frozenset({FieldType.DATE}),
    "usager.lieu_naissance": frozenset({FieldType.TEXT}),
    "usager.telephone": frozenset({FieldType.PHONE}),
    "usager.adresse": frozenset({FieldType.ADDRESS}),
    "usager.email": frozenset({FieldType.EMAIL}),
    "vehicule.immatriculation": _PLATES,
    "vehicule.vin": frozenset({FieldType.VIN}),
    "vehicule.marque": frozenset({FieldType.TEXT}),
    "vehicule.date_premiere_immatriculation": frozenset({FieldType.DATE}),
    "mandataire.nom": frozenset({FieldType.TEXT}),
    "mandataire.prenoms": frozenset({FieldType.TEXT}),
    "mandataire.qualite": frozenset({FieldType.TEXT, FieldType.CHOICE}),
    "contact.mode": frozenset({FieldType.CHOICE}),
}
BIND_TARGETS: frozenset[str] = frozenset(BIND_TYPES)
# How the person is reached without email; a `contact.mode` field offers only these choice ids.
CONTACT_MODES: frozenset[str] = frozenset({"telephone", "courrier", "guichet"})
ROUTAGES: frozenset[str] = frozenset({"ants", "instruction_manuelle"})
THEMES: frozenset[str] = frozenset({"carte_grise", "permis", "autre"})
# The home screen's pictograms: each name is a drawing `assets/pictogrammes/<name>.svg`.
PICTOGRAMMES: frozenset[str] = frozenset(
    {"carte_grise", "cle", "enveloppe", "famille", "globe", "permis", "question", "voiture"}
)


# --- Conditions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Equals:
    """`{ champ = "motif", eq = "vol" }`: the field's (normalised) answer equals the value."""

    field: str
    value: Scalar


@dataclass(frozen=True)
class OneOf:
    """`{ champ = "motif", in = ["perte", "vol"] }`: the answer is one of the values."""

    field: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Filled:
    """`{ champ = "email", rempli = true }`: the field has (true) or has not (false) an answer."""

    field: str
    expected: bool


@dataclass(frozen=True)
class AllOf:
    """`{ and = [ … ] }`."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """`{ or = [ … ] }`."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """`{ not = { … } }`."""

    item: Condition


Condition: TypeAlias = Equals | OneOf | Filled | AllOf | AnyOf | Not


def condition_fields(condition: Condition | None) -> Iterator[str]:
    """Every field id a condition reads, in order of appearance."""
    if condition is None:
        return
    if isinstance(condition, Equals | OneOf | Filled):
        yield condition.field
    elif isinstance(condition, Not):
        yield from condition_fields(condition.item)
    else:
        for item in condition.items:
            yield from condition_fields(item)


# --- Definition -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One option of a `choix` field, or one accepted kind of a `justificatif` field."""

    id: str
    label: str
    help: str = ""


@dataclass(frozen=True)
class Field:
    """One question. `id` is stable across versions: answers and binds are keyed by it."""

    id: str
    type: FieldType
    label: str
    help: str = ""
    required: bool = True
    bind: str | None = None
    condition: Condition | None = None
    choices: tuple[Choice, ...] = ()
    accepted_kinds: tuple[Choice, ...] = ()  # for `justificatif`: which documents are acceptable
    mobile_only: bool = False  # for `telephone`: the number must receive text messages
    min_date: str | None = None  # for `date`: "aujourd'hui", "aujourd'hui - 2 mois", "1900-01-01"
    max_date: str | None = None
    max_length: int | None = None  # for `texte` / `texte_long`

    def choice_ids(self) -> tuple[str, ...]:
        return tuple(choice.id for choice in self.choices)


@dataclass(frozen=True)
class Group:
    """A repeatable block of fields (e.g. one item per co-heir), answered as `id[index].field`."""

    id: str
    title: str
    item_label: str  # names one item, e.g. "Cohéritier"
    fields: tuple[Field, ...]
    help: str = ""
    min_items: int = 0
    max_items: int | None = None
    condition: Condition | None = None


@dataclass(frozen=True)
class Step:
    """One screen: one idea, its fields, then its groups."""

    id: str
    title: str
    fields: tuple[Field, ...] = ()
    groups: tuple[Group, ...] = ()
    help: str = ""
    condition: Condition | None = None


@dataclass(frozen=True)
class DocumentRule:
    """A document to bring when its condition holds (once per group item if `for_each`)."""

    kind: str
    label: str
    help: str = ""
    condition: Condition | None = None
    for_each: str | None = None


@dataclass(frozen=True)
class Note:
    """Information to give the person (and print on the receipt) when its condition holds."""

    id: str
    text: str
    condition: Condition | None = None


@dataclass(frozen=True)
class Demarche:
    """One version of one procedure. A dossier keeps `(id, version)` for its whole life."""

    id: str
    version: int
    title: str
    summary: str
    routage: str
    steps: tuple[Step, ...]
    documents: tuple[DocumentRule, ...]
    source: Path
    theme: str = "autre"
    notes: tuple[Note, ...] = ()
    #: The home tile's drawing (one of `PICTOGRAMMES`), None for none.
    pictogram: str | None = None
    #: Place on the home screen of a kiosk that has no usage yet (1 first); None: after the ranked.
    rank: int | None = None
    lang: str = "fr"  # the language of the texts; ids and rules are the same in every language
    _by_id: dict[str, Field | Group] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __hash__(self) -> int:
        # What the caches keyed on a démarche hash (functools.cache, at every autosave): its id
        # and version, not a walk of every step, field and text (~30 µs an autosave, issue 18).
        # Equal démarches have equal ids and versions: the rule a hash must keep.
        return hash((self.id, self.version, self.lang))

    def __post_init__(self) -> None:
        # The index is derived data; frozen dataclasses allow filling it through object.__setattr__.
        index: dict[str, Field | Group] = {}
        for step in self.steps:
            members: tuple[Field | Group, ...] = (*step.fields, *step.groups)
            for item in members:
                index[item.id] = item
            for group in step.groups:
                for member in group.fields:
                    index[member.id] = member
        object.__setattr__(self, "_by_id", index)

    def all_fields(self) -> Iterator[Field]:
        """Every field in definition order, group members included (right after their group)."""
        for step in self.steps:
            yield from step.fields
            for group in step.groups:
                yield from group.fields

    def top_level_fields(self) -> Iterator[Field]:
        for step in self.steps:
            yield from step.fields

    def groups(self) -> Iterator[Group]:
        for step in self.steps:
            yield from step.groups

    def group(self, group_id: str) -> Group:
        item = self._by_id.get(group_id)
        if not isinstance(item, Group):
            raise KeyError(group_id)
        return item

    def field(self, field_id: str) -> Field:
        """A field by id, wherever it is (top level or inside a group)."""
        item = self._by_id.get(field_id)
        if not isinstance(item, Field):
            raise KeyError(field_id)
        return item

    def field_for_path(self, path: str) -> Field:
        """The field an answer path names (`nom`, `coheritiers[1].nom`); KeyError if none."""
        try:
            parsed = parse_path(path)
        except ValueError:
            raise KeyError(path) from None
        if parsed.group is None:
            found = self._by_id.get(parsed.field)
            if isinstance(found, Field) and any(f is found for f in self.top_level_fields()):
                return found
            raise KeyError(path)
        group = self._by_id.get(parsed.group)
        if isinstance(group, Group):
            for member in group.fields:
                if member.id == parsed.field:
                    return member
        raise KeyError(path)


# --- Results of evaluation ------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """Something to fix before sending, at an answer path (a group id for a count problem).

    `reason` cites the démarche's own texts (a field's label): evaluated on a translated démarche
    (`Catalog.localized`), `localized(lang)` is wholly in the person's language.
    """

    path: str
    reason: Message

    @property
    def message(self) -> str:
        """The plain-French text (command line, agents, journal)."""
        return str(self.reason)

    def localized(self, lang: str) -> str:
        """The text in `lang`, in French where a translation is missing."""
        return self.reason.localized(lang)


@dataclass(frozen=True)
class DocumentRequirement:
    """A document this dossier needs; `item_path` (`coheritiers[1]`) when it is per group item."""

    kind: str
    label: str
    help: str = ""
    item_path: str | None = None


# --- Answer paths ---------------------------------------------------------------------------

_ID = r"[a-z][a-z0-9_]*"
# An item index is written one way only: ASCII digits, no sign, no space, no leading zero. Python's
# ``\d`` and ``int`` also take ``١`` or ``１`` and ``01``: each would be another path for the same
# item (``coheritiers[١].nom`` beside ``coheritiers[1].nom``), stored and sent as a second answer.
_INDEX = r"0|[1-9][0-9]{0,5}"
_PATH_RE = re.compile(rf"^(?:({_ID})\[({_INDEX})\]\.)?({_ID})$", re.ASCII)
# The same shape with anything between the brackets, to say what is wrong with the index.
_LOOSE_ITEM_RE = re.compile(rf"^({_ID})\[([^\]]*)\]\.({_ID})$", re.ASCII)

#: Items of a group whose definition sets no ``max``: a bound all the same, far above any real
#: dossier (20 co-heirs is the most a shipped définition allows), so that an index typed by hand
#: (``[999999]``) cannot make a group of a million items.
UNBOUNDED_GROUP_ITEMS = 100


@dataclass(frozen=True)
class AnswerPath:
    """`field` alone at top level; `group[index].field` inside a repeatable group (index from 0)."""

    field: str
    group: str | None = None
    index: int | None = None

    def __str__(self) -> str:
        return format_path(self.field, self.group, self.index)


def parse_path(path: str) -> AnswerPath:
    """Split an answer path; raises ValueError for anything else."""
    match = _PATH_RE.fullmatch(path)  # not match(): ``$`` would let a final newline through
    if match is None:
        raise ValueError(f"chemin de réponse invalide : {path!r}")
    group, index, field_id = match.groups()
    if group is None:
        return AnswerPath(field_id)
    return AnswerPath(field_id, group, int(index))


def group_index_problem(demarche: Demarche, path: str) -> Message | None:
    """Why ``path`` names no item of its group (an index written otherwise than ``0``, ``1``,
    ``2``…, or beyond the most items the démarche allows); None when it does, or when ``path``
    is not a group item's answer at all (the caller's « no such question » then applies)."""
    loose = _LOOSE_ITEM_RE.fullmatch(path)
    if loose is None:
        return None
    group_id, index, _field = loose.groups()
    try:
        group = demarche.group(group_id)
    except KeyError:
        return None
    if re.fullmatch(r"0|[1-9][0-9]*", index, re.ASCII) is None:
        return Message(
            "« {group} » : le numéro d'élément « {index} » n'est pas valide (chiffres 0 à 9,"
            " sans signe, sans espace ni zéro au début : 0 pour le premier).",
            group=group.title,
            index=index,
        )
    maximum = group.max_items if group.max_items is not None else UNBOUNDED_GROUP_ITEMS
    if len(index) > len(str(maximum)) or int(index) >= maximum:
        return Message(
            "« {group} » : {maximum} au plus, numérotés de 0 à {last} ; il n'y a pas"
            " d'élément « {index} ».",
            group=group.title,
            maximum=maximum,
            last=maximum - 1,
            index=index,
        )
    return None


def format_path(field_id: str, group: str | None = None, index: int | None = None) -> str:
    """The inverse of `parse_path`."""
    if group is None:
        return field_id
    return f"{group}[{index}].{field_id}"


@functools.cache
def condition_inputs(demarche: Demarche) -> frozenset[str]:
    """Ids of the fields some condition reads: an answer to one of them can show or hide a step,
    a field, a group or a document (cached per démarche version)."""
    conditions = [step.condition for step in demarche.steps]
    conditions += [f.condition for f in demarche.all_fields()]
    conditions += [g.condition for g in demarche.groups()]
    conditions += [d.condition for d in demarche.documents]
    return frozenset(f for c in conditions for f in condition_fields(c))
