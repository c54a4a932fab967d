"""Human references (``PN-7K3M-Q9TX``) and the verification code printed on receipts.

A reference is read aloud at a counter and typed back by hand, so it uses Crockford's base-32
alphabet (no I, L, O, U: nothing to confuse with 1, 0 or V), 7 random symbols (34 billion
combinations) and a Luhn mod-32 check symbol that catches every single-symbol typo and all but
about 0.2 % of swaps of two adjacent symbols. Input is forgiving: lower case, spaces,
missing dashes, and the letters O/I/L typed for 0/1 are accepted.

The verification code is an HMAC of the dossier's UUID and reference under the kiosk's receipt
key: a receipt whose code does not match was not printed by a kiosk holding that key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
PREFIX = "PN"
#: The ``setting`` row holding the secret behind receipts' verification codes.
RECEIPT_KEY_SETTING = "receipt_key"
_BODY = 7
_SHAPE = re.compile(r"^(?:PN)?([0-9A-Z]{8})$")


class InvalidReference(ValueError):
    """A string that is not a valid dossier reference; the message says why, in French."""


def _check_symbol(body: str) -> str:
    # Luhn mod N (N = 32): double every second symbol from the right, fold, complete to N.
    factor = 2
    total = 0
    for char in reversed(body):
        addend = factor * _INDEX[char]
        addend = addend // 32 + addend % 32
        total += addend
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def format_reference(body: str) -> str:
    """``7K3MQ9T`` + check → ``PN-7K3M-Q9TX``."""
    full = body + _check_symbol(body)
    return f"{PREFIX}-{full[:4]}-{full[4:]}"


def new_reference(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh random reference (uniqueness is enforced by the database)."""
    body = "".join(ALPHABET[randbelow(32)] for _ in range(_BODY))
    return format_reference(body)


def parse_reference(text: str) -> str:
    """Normalise what an agent typed or a scanner sent into ``PN-XXXX-XXXX``.

    Raises:
        InvalidReference: the text has the wrong shape or the check symbol does not match.
    """
    compact = re.sub(r"[\s\-_.]", "", text.upper())
    if compact.startswith(PREFIX):
        compact = compact[len(PREFIX) :]
    compact = compact.translate(_ALIASES)
    match = _SHAPE.match(compact)
    if not match or any(c not in _INDEX for c in compact):
        raise InvalidReference(
            f"« {text.strip()} » n'est pas une référence de dossier"
            " (forme attendue : PN-7K3M-Q9TX)."
        )
    body, check = compact[:_BODY], compact[_BODY]
    if _check_symbol(body) != check:
        raise InvalidReference(
            f"La référence « {text.strip()} » contient une faute de frappe (le dernier caractère"
            " ne correspond pas). Vérifiez-la sur le récépissé."
        )
    return format_reference(body)


def looks_like_reference(text: str) -> bool:
    """Whether ``text`` is a valid reference (used to route a search)."""
    try:
        parse_reference(text)
    except InvalidReference:
        return False
    return True


def verification_code(key: bytes, dossier_id: str, reference: str) -> str:
    """Eight base-32 symbols (40 bits) binding the reference to the dossier under ``key``."""
    digest = hmac.new(key, f"{dossier_id}\n{reference}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:5], "big")
    return "".join(ALPHABET[(number >> shift) & 31] for shift in range(35, -1, -5))


def normalise_code(code: str) -> str:
    """A verification code as read from a receipt, in its canonical spelling (upper case, the
    letters a reader takes for digits — O, I, L — as those digits)."""
    return code.strip().upper().translate(_ALIASES)


def check_verification_code(key: bytes, dossier_id: str, reference: str, code: str) -> bool:
    """Constant-time comparison of a code read from a receipt."""
    expected = verification_code(key, dossier_id, reference)
    return hmac.compare_digest(expected, normalise_code(code))


def receipt_verifier(reference: str, code: str) -> str:
    """What the kiosk files with a dossier so that any kiosk can follow it from its receipt
    (the contract's ``Dossier.verificateur``): SHA-256 of « reference, newline, code », so the
    code itself is never filed."""
    return hashlib.sha256(f"{reference}\n{normalise_code(code)}".encode()).hexdigest()
