"""Validators for the values a person gives at the kiosk.

Each validator takes what was typed (often on a touchscreen, with stray spaces, lowercase letters or
missing dashes) and returns one canonical form, or raises `FieldError` with a message in plain
French that the agent can read out as is. The message keeps its template and parameters
(`kiosk.messages`): the screen shows it in the person's language, and a test checks that every
template has its English and Arabic translation. Canonical forms matter: conditions compare
normalised values, and the national API wants one spelling per number.

Choices made here (also in docs/demarches.md):

- SIV plates: `WW` in the first block is a provisional number (kept, see
  `is_provisional_siv_plate`); `WW` in the last block is an ordinary combination, so it is accepted.
  `SS` is refused in both blocks.
- FNI plates: département `20` is refused (Corsica is `2A`/`2B`), so are `00` and `96`–`99`.
- Phones: overseas numbers dialled the French way (`0692…`) are stored under their own country code
  (`+262692…`), because that is the number an SMS gateway needs.
- Digits of another script (`١٢٣` from the Arabic keyboard, fullwidth `１２３`) are read as the
  ASCII digits they stand for (`kiosk.digits`), and stored that way.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from kiosk.digits import ascii_digits
from kiosk.messages import Message, Param, translatable, translate

__all__ = [
    "IDENTITY_NATURES",
    "FieldError",
    "identity_nature_label",
    "is_mobile_number",
    "is_provisional_siv_plate",
    "normalise_email",
    "normalise_ephoto_code",
    "normalise_fni_plate",
    "normalise_identity_number",
    "normalise_phone",
    "normalise_plate",
    "normalise_postcode",
    "normalise_siv_plate",
    "normalise_vin",
    "parse_date",
    "plate_system",
    "resolve_date_bound",
]


class FieldError(ValueError):
    """A value the person gave is not acceptable.

    `message` (and `str()`) is plain French, ready to show or read out; `reason` keeps the French
    template and its parameters, and `localized(lang)` gives the message in the person's language.

    Args:
        template: the French sentence, a literal, with `{named}` placeholders.
        params: the placeholders' values (a `date` or an `int` is written the language's way).
    """

    def __init__(self, template: str, /, **params: Param) -> None:
        self.reason = Message(template, **params)
        self.message = str(self.reason)
        super().__init__(self.message)

    def localized(self, lang: str) -> str:
        """The message in `lang` (`fr`, `en`, `ar`), in French when it has no translation."""
        return self.reason.localized(lang)

    def __reduce__(self) -> tuple[object, ...]:
        # Copies and pickles rebuild the error from its template, not from the French text.
        return (_rebuild_field_error, (self.reason.template, dict(self.reason.params)))


def _rebuild_field_error(template: str, params: dict[str, Param]) -> FieldError:
    return FieldError(template, **params)


def _compact(raw: str) -> str:
    """Uppercase, ASCII digits, and drop the separators people type (spaces, dashes, dots)."""
    return re.sub(r"[\s\-.]", "", ascii_digits(raw)).upper()


# --- Registration numbers -------------------------------------------------------------------

_SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"  # I, O and U are never issued (confused with 1, 0, V)
_SIV_RE = re.compile(r"^([A-Z]{2})(\d{3})([A-Z]{2})$")


def normalise_siv_plate(raw: str) -> str:
    """Return a SIV number as `AA-123-AA`; accepts lowercase, spaces and missing dashes."""
    match = _SIV_RE.match(_compact(raw))
    if match is None:
        raise FieldError(
            "Un numéro d'immatriculation récent s'écrit avec 2 lettres, 3 chiffres, 2 lettres "
            "(exemple : AB-123-CD)."
        )
    first, number, last = match.groups()
    if any(letter not in _SIV_LETTERS for letter in first + last):
        raise FieldError(
            "Les lettres I, O et U ne sont jamais utilisées dans un numéro d'immatriculation : "
            "vérifiez s'il ne s'agit pas des chiffres 1 ou 0, ou de la lettre V."
        )
    if "SS" in (first, last):
        raise FieldError("La combinaison SS n'est jamais attribuée : vérifiez le numéro.")
    if number == "000":
        raise FieldError("Le bloc de chiffres va de 001 à 999 : 000 n'existe pas.")
    return f"{first}-{number}-{last}"


def is_provisional_siv_plate(plate: str) -> bool:
    """True for a normalised `WW-…` number: a provisional registration (an import in progress)."""
    return plate.startswith("WW-")


_FNI_RE = re.compile(r"^(\d{1,4})([A-Z]{1,3})(2A|2B|\d{2,3})$")


def normalise_fni_plate(raw: str) -> str:
    """Return an old FNI number (before 2009) as `1234 AB 56`."""
    match = _FNI_RE.match(_compact(raw))
    if match is None:
        raise FieldError(
            "Un ancien numéro d'immatriculation s'écrit avec 1 à 4 chiffres, 1 à 3 lettres puis "
            "le département (exemple : 1234 AB 56)."
        )
    number, letters, departement = match.groups()
    if number.startswith("0"):  # FNI series were numbered from 1, never written with a 0 first
        raise FieldError(
            "Le numéro d'un ancien numéro d'immatriculation commence à 1, sans zéro devant "
            "(exemple : 1234 AB 56)."
        )
    if departement == "20":
        raise FieldError("Pour la Corse, le département s'écrit 2A ou 2B, pas 20.")
    if len(departement) == 3:
        if not "971" <= departement <= "976":
            raise FieldError("Les départements d'outre-mer vont de 971 à 976.")
    elif departement not in ("2A", "2B") and not "01" <= departement <= "95":
        raise FieldError(
            "Le département {departement} n'existe pas : il va de 01 à 95, 2A, 2B ou de 971 à 976.",
            departement=departement,
        )
    return f"{number} {letters} {departement}"


def plate_system(raw: str) -> str:
    """Return `"siv"` or `"fni"` for a number in either format; raises `FieldError` otherwise."""
    compact = _compact(raw)
    if _SIV_RE.match(compact):
        normalise_siv_plate(compact)
        return "siv"
    if _FNI_RE.match(compact):
        normalise_fni_plate(compact)
        return "fni"
    raise FieldError(
        "Numéro d'immatriculation non reconnu : il s'écrit AB-123-CD (depuis 2009) ou "
        "1234 AB 56 (avant 2009)."
    )


def normalise_plate(raw: str) -> str:
    """Accept either format: people often do not know which one their card carries."""
    if plate_system(raw) == "siv":
        return normalise_siv_plate(raw)
    return normalise_fni_plate(raw)


def normalise_vin(raw: str) -> str:
    """Return a 17-character VIN (box E of the registration card) in uppercase."""
    vin = _compact(raw)
    if len(vin) != 17:
        raise FieldError(
            "Le numéro VIN (case E de la carte grise) compte 17 caractères ; "
            "ici il y en a {count}.",
            count=len(vin),
        )
    if not vin.isascii() or not vin.isalnum():
        raise FieldError("Le numéro VIN ne contient que des lettres et des chiffres.")
    if set(vin) & set("IOQ"):
        raise FieldError(
            "Le numéro VIN ne contient jamais les lettres I, O ou Q : il s'agit sans doute des "
            "chiffres 1 ou 0."
        )
    return vin


# --- Addresses and contact ------------------------------------------------------------------


def normalise_postcode(raw: str) -> str:
    """Return a 5-digit French postcode whose first digits name a real département or territory."""
    code = re.sub(r"\s", "", ascii_digits(raw))
    if not re.fullmatch(r"\d{5}", code):
        raise FieldError("Le code postal compte 5 chiffres (exemple : 31000).")
    prefix = code[:2]
    if prefix in ("97", "98"):
        # 971–978 overseas départements and collectivités; 984, 986–988 Pacific and TAAF.
        if code[:3] in (
            "971",
            "972",
            "973",
            "974",
            "975",
            "976",
            "977",
            "978",
            "984",
            "986",
            "987",
            "988",
        ):
            return code
        raise FieldError(
            "Le code postal {code} ne correspond à aucun territoire d'outre-mer.", code=code
        )
    if not "01" <= prefix <= "95":  # 20xxx is valid: Corsica keeps 20 in postcodes
        raise FieldError("Le code postal {code} ne correspond à aucun département.", code=code)
    return code


# National 4-digit prefixes of the overseas numbering plan, with the country code an SMS needs.
_OVERSEAS_PREFIXES = {
    "0262": "262",
    "0263": "262",
    "0692": "262",
    "0693": "262",  # La Réunion
    "0269": "262",
    "0639": "262",  # Mayotte
    "0590": "590",
    "0690": "590",
    "0691": "590",  # Guadeloupe, Saint-Martin, Saint-Barthélemy
    "0594": "594",
    "0694": "594",  # Guyane
    "0596": "596",
    "0696": "596",
    "0697": "596",  # Martinique
}
# Country code -> length of the national significant number.
_OVERSEAS_LENGTHS = {"262": 9, "590": 9, "594": 9, "596": 9, "269": 7, "687": 6, "689": 8}
_MOBILE_STARTS = {
    "33": ("6", "7"),
    "262": ("692", "693", "639"),
    "590": ("690", "691"),
    "594": ("694",),
    "596": ("696", "697"),
    "269": ("3",),
    "687": ("7", "8", "9"),
    "689": ("87", "88", "89"),
}


def _to_e164(raw: str) -> str:
    digits = re.sub(r"[\s.\-/()]", "", raw.replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        rest = digits[1:]
        if not rest.isdigit():
            raise FieldError("Un numéro de téléphone ne contient que des chiffres.")
        if rest.startswith("33"):
            national = rest[2:]
            if len(national) == 10 and national.startswith("0"):
                national = national[1:]  # "+33 06…" is a common way of writing it
            if len(national) != 9:
                raise FieldError("Après +33, un numéro compte 9 chiffres.")
            return _to_e164("0" + national)
        for code, length in _OVERSEAS_LENGTHS.items():
            if rest.startswith(code):
                if len(rest) - len(code) != length:
                    raise FieldError(
                        "Après +{code}, un numéro compte {length} chiffres.",
                        code=code,
                        length=length,
                    )
                return "+" + rest
        raise FieldError(
            "Seuls les numéros français sont acceptés (+33, ou outre-mer : +262, +590, +594, "
            "+596, +269, +687, +689)."
        )
    if not re.fullmatch(r"0\d{9}", digits):
        raise FieldError("Un numéro de téléphone compte 10 chiffres et commence par 0.")
    if digits[:4] in _OVERSEAS_PREFIXES:
        return "+" + _OVERSEAS_PREFIXES[digits[:4]] + digits[1:]
    if digits[1] == "8":
        raise FieldError(
            "Les numéros en 08 sont des numéros de service : donnez un numéro personnel."
        )
    if digits[1] == "0":
        raise FieldError("Un numéro de téléphone ne commence pas par 00 suivi de chiffres locaux.")
    return "+33" + digits[1:]


def is_mobile_number(e164: str) -> bool:
    """True when a normalised number can receive a text message."""
    for code, starts in _MOBILE_STARTS.items():
        if e164.startswith("+" + code):
            return e164[1 + len(code) :].startswith(starts)
    return False


def normalise_phone(raw: str, *, mobile_only: bool = False) -> str:
    """Return a French number in E.164 (`+33612345678`); `mobile_only` for text-message contact."""
    number = _to_e164(ascii_digits(raw).strip())
    if mobile_only and not is_mobile_number(number):
        raise FieldError(
            "Pour recevoir un SMS, il faut un numéro de portable (06 ou 07, ou un portable "
            "d'outre-mer)."
        )
    return number


def normalise_email(raw: str) -> str:
    """Lowercase an email address after a shape check; an email is never required at the kiosk."""
    email = raw.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", email):
        raise FieldError("Adresse email non reconnue (exemple : prenom.nom@exemple.fr).")
    return email


# --- Dates ----------------------------------------------------------------------------------


def parse_date(
    raw: str, *, minimum: date | None = None, maximum: date | None = None, today: date | None = None
) -> date:
    """Parse `JJ/MM/AAAA` (also `JJ-MM-AAAA`, `JJMMAAAA`) or ISO `AAAA-MM-JJ` and check the bounds.

    Args:
        raw: what was typed.
        minimum: earliest accepted day, inclusive.
        maximum: latest accepted day, inclusive.
        today: only used to word the message when `maximum` is today ("dans le futur").
    """
    text = ascii_digits(raw).strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    french = re.fullmatch(r"(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})", text) or re.fullmatch(
        r"(\d{2})(\d{2})(\d{4})", text
    )
    if iso is not None:
        year, month, day = (int(part) for part in iso.groups())
    elif french is not None:
        day, month, year = (int(part) for part in french.groups())
    else:
        raise FieldError("Écrivez la date sous la forme JJ/MM/AAAA (exemple : 03/11/1957).")
    try:
        value = date(year, month, day)
    except ValueError:
        raise FieldError(
            "Le {typed} n'existe pas dans le calendrier : vérifiez le jour et le mois.", typed=text
        ) from None
    if minimum is not None and value < minimum:
        raise FieldError("La date ne peut pas être antérieure au {day}.", day=minimum)
    if maximum is not None and value > maximum:
        if maximum == today:
            raise FieldError("La date ne peut pas être dans le futur.")
        raise FieldError("La date ne peut pas être postérieure au {day}.", day=maximum)
    return value


def _add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamped to the month's end (31 March − 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


_BOUND_RE = re.compile(r"^aujourd'?hui(?:\s*([+-])\s*(\d+)\s*(jours?|mois|ans?))?$")
_UNITS_IN_MONTHS = {"mois": 1, "an": 12, "ans": 12}


def resolve_date_bound(spec: str, today: date) -> date:
    """Turn a definition's `min`/`max` (`"1900-01-01"`, `"aujourd'hui"`, `"aujourd'hui - 2 mois"`).

    Raises:
        ValueError: the spec is not one of the documented forms (the loader reports it).
    """
    text = spec.strip().lower().replace("’", "'")
    match = _BOUND_RE.match(text)
    if match is None:
        return date.fromisoformat(text)  # raises ValueError for anything else
    sign, amount, unit = match.groups()
    if sign is None:
        return today
    count = int(amount) * (1 if sign == "+" else -1)
    if unit.startswith("jour"):
        return date.fromordinal(today.toordinal() + count)
    return _add_months(today, count * _UNITS_IN_MONTHS[unit])


# --- Codes and document numbers -------------------------------------------------------------


def normalise_ephoto_code(raw: str) -> str:
    """Return the 22-character photo-signature code printed by an approved photo booth."""
    code = _compact(raw)
    if not code.isascii() or not code.isalnum():
        raise FieldError("Le code ePhoto ne contient que des lettres et des chiffres.")
    if len(code) != 22:
        raise FieldError(
            "Le code ePhoto (sur la planche de photos) compte 22 caractères ; "
            "ici il y en a {count}.",
            count=len(code),
        )
    return code


# Accepted identity documents: label, number pattern. Formats are those printed on French documents;
# "autre" covers foreign documents, checked loosely because their formats vary. The labels are
# French; `identity_nature_label` gives them in the person's language.
IDENTITY_NATURES: dict[str, tuple[str, re.Pattern[str]]] = {
    "cni": (
        translatable("Carte nationale d'identité"),
        re.compile(r"[A-Z0-9]{9}|[A-Z0-9]{12}"),
    ),
    "passeport": (translatable("Passeport français"), re.compile(r"\d{2}[A-Z]{2}\d{5}")),
    "titre_sejour": (translatable("Titre de séjour"), re.compile(r"[A-Z0-9]{9,10}")),
    "permis": (translatable("Permis de conduire (format carte)"), re.compile(r"[A-Z0-9]{9,12}")),
    "autre": (translatable("Pièce d'identité étrangère"), re.compile(r"[A-Z0-9]{5,20}")),
}


def identity_nature_label(nature: str, lang: str = "fr") -> str:
    """The label of an identity-document nature in `lang` (the id itself if it is unknown)."""
    known = IDENTITY_NATURES.get(nature)
    return nature if known is None else translate(known[0], lang)


def _identity_number_error(nature: str) -> FieldError:
    # One whole sentence per nature: a translated hint is never spliced into a sentence.
    if nature == "cni":
        return FieldError(
            "Numéro de pièce non reconnu : 9 caractères sur la carte d'identité actuelle, "
            "12 sur l'ancienne carte."
        )
    if nature == "passeport":
        return FieldError(
            "Numéro de pièce non reconnu : 2 chiffres, 2 lettres puis 5 chiffres "
            "(exemple : 12AB34567)."
        )
    if nature == "titre_sejour":
        return FieldError("Numéro de pièce non reconnu : 9 ou 10 caractères.")
    if nature == "permis":
        return FieldError("Numéro de pièce non reconnu : 9 à 12 caractères.")
    return FieldError("Numéro de pièce non reconnu : 5 à 20 lettres ou chiffres.")


def normalise_identity_number(nature: str, raw: str) -> str:
    """Return an identity-document number in uppercase without separators, checked for its kind."""
    if nature not in IDENTITY_NATURES:
        raise FieldError(
            "Type de pièce d'identité inconnu. Types possibles : {natures}.",
            natures=", ".join(IDENTITY_NATURES),
        )
    number = _compact(raw)
    if not IDENTITY_NATURES[nature][1].fullmatch(number):
        raise _identity_number_error(nature)
    return number
