"""The one-time enrolment code a supervisor's kiosk makes, and what its QR code carries.

A code is an **id** (8 symbols, 40 bits: the national service files the sealed settings under it)
and a **secret** (21 symbols, 105 bits: the sealing key and the proof of knowledge are derived
from it, kiosk/enrolment/seal.py; the national service never sees it). It is typed by hand
when there is no camera, so it is written like a dossier's reference: Crockford's base-32
alphabet (no I, L, O, U), the 29 symbols followed by a Luhn mod-32 check symbol that catches
every single-symbol typo and nearly every swap of two neighbours before anything is sent, shown
in six groups of five: ``7K3MQ-9TXAB-…``. Typing is forgiving: lower case, spaces or no dashes,
O typed for 0 and I or L for 1.

The QR code carries more than the code, because the new kiosk knows nothing yet: the national
service's address and the pins of its TLS certificate, so that its very first request is
already authenticated (docs/sites.md, « Enrolling a kiosk »). Its text is
``PNE1 <code> <address> [<pin> …]``, fields separated by one space (none of them can hold one);
``PNE1`` names the format's version.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.dossiers.reference import ALPHABET, check_symbol

#: Symbols of the id and of the secret (5 bits each).
ID_SYMBOLS = 8
SECRET_SYMBOLS = 21
#: The code as typed: id, secret and the check symbol, in groups of :data:`GROUP`.
CODE_SYMBOLS = ID_SYMBOLS + SECRET_SYMBOLS + 1
GROUP = 5
#: The first field of the QR code's text (the format's version).
TICKET_MARK = "PNE1"

_INDEX = frozenset(ALPHABET)
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]")
#: A pin as sync/tls.py writes it: ``sha256/`` and the 32-byte digest in base64.
PIN = re.compile(r"sha256/[A-Za-z0-9+/]{43}=")
_URL = re.compile(r"https?://[^\s]{1,480}")


class InvalidCode(ValueError):
    """A code that cannot be one: its message, in French, says what to check."""


@dataclass(frozen=True)
class EnrolmentCode:
    """One code: ``id`` is public (the national service knows it), ``secret`` never leaves the
    two kiosks (and the paper it is printed on)."""

    id: str
    secret: str = field(repr=False)

    @property
    def text(self) -> str:
        """The code as shown and typed: ``7K3MQ-9TXAB-…`` (30 symbols in groups of 5)."""
        body = self.id + self.secret
        full = body + check_symbol(body)
        return "-".join(full[i : i + GROUP] for i in range(0, len(full), GROUP))

    def __str__(self) -> str:
        return self.text


def new_code(randbelow: Callable[[int], int] = secrets.randbelow) -> EnrolmentCode:
    """A fresh code from the system's random source (``randbelow``: a test's own)."""
    symbols = "".join(ALPHABET[randbelow(32)] for _ in range(ID_SYMBOLS + SECRET_SYMBOLS))
    return EnrolmentCode(symbols[:ID_SYMBOLS], symbols[ID_SYMBOLS:])


def parse_code(text: str) -> EnrolmentCode:
    """The code an agent typed (or a scanner read).

    Raises:
        InvalidCode: a character that is none of the code's, too few or too many, or a typo
            the check symbol caught (in French, for the agent).
    """
    compact = _SEPARATORS.sub("", text.upper()).translate(_ALIASES)
    if not compact:
        raise InvalidCode("Tapez le code d'enrôlement affiché par la borne du superviseur.")
    strange = sorted({c for c in compact if c not in _INDEX})
    if strange:
        raise InvalidCode(
            f"Le code d'enrôlement ne contient pas « {strange[0]} » : seulement des chiffres et"
            " des lettres majuscules (sans I, L, O ni U). Vérifiez ce que vous avez tapé."
        )
    if len(compact) != CODE_SYMBOLS:
        missing = CODE_SYMBOLS - len(compact)
        how = (
            f"il manque {missing} caractère(s)"
            if missing > 0
            else f"il y a {-missing} caractère(s) de trop"
        )
        raise InvalidCode(
            f"Le code d'enrôlement a {CODE_SYMBOLS} caractères (6 groupes de {GROUP}) : {how}."
        )
    body, check = compact[:-1], compact[-1]
    if check_symbol(body) != check:
        raise InvalidCode(
            "Le code d'enrôlement contient une faute de frappe (le dernier caractère ne"
            " correspond pas) : comparez-le groupe par groupe avec celui affiché."
        )
    return EnrolmentCode(body[:ID_SYMBOLS], body[ID_SYMBOLS:])


@dataclass(frozen=True)
class Ticket:
    """What the new kiosk is given: the code, and, from the QR code, where the national
    service is and the pins of its certificate (``None`` and ``()`` when the code was typed:
    the kiosk then uses its own settings)."""

    code: EnrolmentCode
    api_url: str | None = None
    pins: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The QR code's text: ``PNE1 <code> <address> <pin> …``."""
        if self.api_url is None:
            return self.code.text
        return " ".join((TICKET_MARK, self.code.text, self.api_url, *self.pins))


def read_ticket(text: str) -> Ticket:
    """A QR code's text, or a code typed alone.

    Raises:
        InvalidCode: not a code, or a QR code of another kind or version (in French).
    """
    fields = text.split()
    if not fields or fields[0].upper() != TICKET_MARK:
        if text.strip().upper().startswith("PNE"):
            raise InvalidCode(
                "Ce code QR vient d'une version plus récente du logiciel : mettez cette borne à"
                " jour, ou tapez le code imprimé dessous."
            )
        return Ticket(parse_code(text))
    if len(fields) < 3:
        raise InvalidCode("Code QR d'enrôlement incomplet : scannez-le à nouveau.")
    code, url, pins = parse_code(fields[1]), fields[2], tuple(fields[3:])
    if not _URL.fullmatch(url):
        raise InvalidCode(f"Adresse du service national illisible dans le code QR : « {url} ».")
    bad = next((pin for pin in pins if not PIN.fullmatch(pin)), None)
    if bad is not None:
        raise InvalidCode(f"Empreinte de certificat illisible dans le code QR : « {bad} ».")
    return Ticket(code, url, pins)
