"""The typed result of reading an identity document, and the verdict shown to the agent.

Personal fields are excluded from ``repr`` so that an accidental ``log.debug(reading)`` does not
write the holder's name, number or photo to a log file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kiosk.digits import ascii_digits
from kiosk.identity.errors import InvalidCan
from kiosk.messages import translatable


class Verdict(StrEnum):
    """What the agent is told about the document's authenticity."""

    AUTHENTIQUE = translatable(
        "authentique"
    )  # signature chain to a trusted CSCA and every hash checked
    NON_VERIFIE = translatable(
        "non vérifié"
    )  # nothing contradicts the data, but it could not be proven
    FALSIFIE = translatable(
        "falsifié"
    )  # a check failed: the data or the chip is not what the State issued


class DocumentKind(StrEnum):
    """The documents the kiosk knows how to read."""

    CNIE = translatable("carte nationale d'identité électronique")
    PASSEPORT = translatable("passeport")
    CNI_ANCIENNE = translatable("carte nationale d'identité (modèle sans puce)")
    AUTRE = translatable("document de voyage")


class MrzFormat(StrEnum):
    """ICAO 9303 Part 3 layouts, plus the French CNI issued 1995-2021."""

    TD1 = "TD1"  # 3 × 30, ID cards (CNIe)
    TD2 = "TD2"  # 2 × 36, some ID cards and visas
    TD3 = "TD3"  # 2 × 44, passports
    FR_CNI = "FR-CNI"  # 2 × 36, the old French ID card (no chip)


@dataclass(frozen=True)
class Mrz:
    """A parsed, checked MRZ. Names use spaces where the MRZ has ``<``."""

    format: MrzFormat
    document_code: str
    issuing_state: str
    document_number: str = field(repr=False)
    surname: str = field(repr=False)
    given_names: str = field(repr=False)
    nationality: str
    birth_date: date | None = field(repr=False)
    sex: str = field(repr=False)
    expiry_date: date | None
    optional_data: str = field(repr=False)
    lines: tuple[str, ...] = field(repr=False)
    #: document number + birth date + expiry date with their check digits (BAC / PACE-MRZ).
    key_seed: str = field(repr=False, default="")

    @property
    def kind(self) -> DocumentKind:
        """The document kind this MRZ belongs to."""
        if self.format is MrzFormat.FR_CNI:
            return DocumentKind.CNI_ANCIENNE
        if self.document_code.startswith("P"):
            return DocumentKind.PASSEPORT
        if self.document_code.startswith("I") and self.issuing_state == "FRA":
            return DocumentKind.CNIE
        return DocumentKind.AUTRE


@dataclass(frozen=True)
class CanKey:
    """Card Access Number: the 6 digits printed on the front of the CNIe.

    Built from what was typed: spaces are dropped and digits of another script (the Arabic
    keyboard's ``١٢٣``) read as ASCII ones, which is what the chip's password is made of.

    Raises:
        InvalidCan: anything but 6 digits; its message says so in the person's language.
    """

    can: str = field(repr=False)

    def __post_init__(self) -> None:
        can = "".join(ascii_digits(self.can).split())
        if not (len(can) == 6 and can.isascii() and can.isdigit()):
            raise InvalidCan
        object.__setattr__(self, "can", can)  # frozen: set once, here


@dataclass(frozen=True)
class MrzKey:
    """Document number, birth and expiry dates (YYMMDD): the key of BAC and PACE-MRZ."""

    document_number: str = field(repr=False)
    birth: str = field(repr=False)
    expiry: str = field(repr=False)

    @classmethod
    def of(cls, mrz: Mrz) -> MrzKey:
        """The key of the chip whose MRZ this is (read by the camera or typed, checked)."""
        seed = mrz.key_seed  # number, birth and expiry, each followed by its check digit
        return cls(seed[:-15], seed[-14:-8], seed[-7:-1])

    def key_seed(self) -> str:
        """The MRZ information hashed into the key: each field followed by its check digit."""
        from kiosk.identity.mrz import check_digit

        number = self.document_number.upper().replace(" ", "").ljust(9, "<")
        return "".join(f"{v}{check_digit(v)}" for v in (number, self.birth, self.expiry))


AccessKey = CanKey | MrzKey


@dataclass(frozen=True)
class AdditionalDetails:
    """DG11 (additional personal details) and DG12 (document details), where present."""

    full_name: str | None = None
    personal_number: str | None = None
    full_birth_date: str | None = None
    birth_place: str | None = None
    address: str | None = None
    profession: str | None = None
    issuing_authority: str | None = None
    issue_date: str | None = None


@dataclass(frozen=True)
class IdentityReading:
    """Everything the agent sees after a read; build it with the reader, never by hand."""

    kind: DocumentKind
    mrz: Mrz = field(repr=False)
    verdict: Verdict
    #: Plain French, for the agent: why the verdict is what it is.
    verdict_reason: str
    #: True when Chip Authentication proved the chip holds the key signed into DG14 (not a clone).
    chip_verified: bool = False
    #: PNG or JPEG bytes a UI can show directly (JPEG 2000 is converted to PNG).
    photo: bytes | None = field(default=None, repr=False)
    details: AdditionalDetails | None = field(default=None, repr=False)
    #: DG13 (French): printable fields by tag, e.g. ``{"9F01": "170"}``.
    dg13: dict[str, str] = field(default_factory=dict, repr=False)
    protocol: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    apdu_count: int = 0
    bytes_exchanged: int = 0
    #: Per elementary file: (APDUs, bytes) spent reading it, e.g. ``{"DG2": (2, 20450)}``.
    file_io: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def document_number(self) -> str:
        """The document number from the MRZ."""
        return self.mrz.document_number

    @property
    def surname(self) -> str:
        """The holder's surname."""
        return self.mrz.surname

    @property
    def given_names(self) -> str:
        """The holder's given names."""
        return self.mrz.given_names

    @property
    def birth_date(self) -> date | None:
        """The holder's birth date (None where the MRZ leaves it unknown)."""
        return self.mrz.birth_date

    @property
    def expiry_date(self) -> date | None:
        """The document's expiry date."""
        return self.mrz.expiry_date


def manual_reading(mrz: Mrz) -> IdentityReading:
    """A reading built from a MRZ typed or scanned by the agent: never more than "non vérifié"."""
    reason = (
        "Non vérifié : pièce sans puce, données saisies à partir de la bande MRZ. "
        "Comparez le document et la photo avec la personne."
        if mrz.format is MrzFormat.FR_CNI
        else "Non vérifié : données saisies à la main, la puce n'a pas été lue."
    )
    return IdentityReading(
        kind=mrz.kind, mrz=mrz, verdict=Verdict.NON_VERIFIE, verdict_reason=reason, protocol="MRZ"
    )
