"""The QR code on the receipt: what it holds and how a counter reads it back.

Payload format: ``PN1-<group1>-<group2>-<code>``, for example ``PN1-7K3M-Q9TX-K4D9F2``, from the
reference ``PN-7K3M-Q9TX`` and the verification code ``K4D9F2``.

Why this shape:

- Counters read it with handheld USB scanners, which *type* the content as keystrokes. Characters
  that need AltGr on a French AZERTY keyboard (``| # @ [ ] { } \\ ~ ^ `` ```) are often dropped or
  garbled by scanners, and ``^`` ``~`` ``\\``` are dead keys there. The payload uses only uppercase
  letters, digits and ``-``, which every layout types without AltGr or dead keys.
- Those characters are all in the QR alphanumeric mode, so the code stays small (version 2, 25×25
  modules) and can carry the higher error correction level Q: the paper lives in a pocket.
- ``-`` separates fields because the reference uses it already and the code has a fixed place, so
  decoding is unambiguous without ``:`` or ``|``.
- ``PN1`` marks the format version (a future ``PN2`` can coexist) and tells a payload from a bare
  reference typed by hand. The ``1`` is also a canary: a scanner left in US QWERTY mode on a French
  PC types ``PN&)7K3?)A9TX)…`` (digits become ``&é"'(-è_çà``, A/Q and Z/W swap, M becomes ``?``),
  and a scanner in AZERTY mode on a US PC types ``PN!6…``. The third character tells which mistake
  happened, so :func:`decode_qr_payload` repairs both instead of rejecting the scan at the counter.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import qrcode
import qrcode.constants

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

PAYLOAD_VERSION = "PN1"

# The reference is ``PN-XXXX-XXXX``; the fixed shape is what lets the code follow it unambiguously.
REFERENCE_RE = re.compile(r"PN-([A-Z0-9]{4})-([A-Z0-9]{4})")
_CODE_PATTERN = r"[A-Z0-9]{4,12}"
_CODE_RE = re.compile(_CODE_PATTERN)
_PAYLOAD_RE = re.compile(
    rf"{PAYLOAD_VERSION}-(?P<g1>[A-Z0-9]{{4}})-(?P<g2>[A-Z0-9]{{4}})-(?P<code>{_CODE_PATTERN})"
)

# Scanner configured for US QWERTY, PC in French AZERTY: the key the scanner presses for each
# character produces another one. The maps give back what the scanner meant. Lowercase letters
# appear when Caps Lock is on (the scanner's Shift then lowers the letter); upper() restores them.
_US_SCANNER_ON_AZERTY = str.maketrans(
    {
        "&": "1",
        "é": "2",
        '"': "3",
        "'": "4",
        "(": "5",
        "-": "6",
        "è": "7",
        "_": "8",
        "ç": "9",
        "à": "0",
        ")": "-",
        "A": "Q",
        "Q": "A",
        "a": "Q",
        "q": "A",
        "Z": "W",
        "W": "Z",
        "z": "W",
        "w": "Z",
        "?": "M",
    }
)
# Scanner configured for AZERTY (digits typed with Shift), PC in US QWERTY.
_AZERTY_SCANNER_ON_US = str.maketrans(
    {
        "!": "1",
        "@": "2",
        "#": "3",
        "$": "4",
        "%": "5",
        "^": "6",
        "&": "7",
        "*": "8",
        "(": "9",
        ")": "0",
        "6": "-",
        "A": "Q",
        "Q": "A",
        "a": "Q",
        "q": "A",
        "Z": "W",
        "W": "Z",
        "z": "W",
        "w": "Z",
        ":": "M",
    }
)
# Keyed by the character the scanner produced for the ``1`` of ``PN1``.
_LAYOUT_REPAIRS = {"&": _US_SCANNER_ON_AZERTY, "!": _AZERTY_SCANNER_ON_US}


def encode_qr_payload(reference: str, verification_code: str) -> str:
    """Build the text stored in the receipt's QR code.

    Raises:
        ValueError: the reference is not ``PN-XXXX-XXXX`` or the code is not 4–12 uppercase
            letters or digits.
    """
    ref_match = REFERENCE_RE.fullmatch(reference)
    if ref_match is None:
        raise ValueError(f"Référence de dossier invalide : « {reference} » (attendu PN-XXXX-XXXX).")
    if _CODE_RE.fullmatch(verification_code) is None:
        raise ValueError("Le code de vérification doit comporter de 4 à 12 lettres ou chiffres.")
    return f"{PAYLOAD_VERSION}-{ref_match[1]}-{ref_match[2]}-{verification_code}"


def decode_qr_payload(text: str) -> tuple[str, str]:
    """Read back ``(reference, verification_code)`` from what a scanner typed.

    Surrounding whitespace (scanners often append Enter or Tab) and lowercase (Caps Lock) are
    tolerated, as are the two keyboard-layout mismatches described in the module docstring.

    Raises:
        ValueError: the text is not a receipt QR code; the message is French, for the agent.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("Le code lu est vide : scannez à nouveau le code QR du reçu.")
    if raw[:2].upper() == "PN":
        repair = _LAYOUT_REPAIRS.get(raw[2:3])
        if repair is not None:
            raw = raw.translate(repair)
    match = _PAYLOAD_RE.fullmatch(raw.upper())
    if match is None:
        raise ValueError(
            "Ce code n'est pas celui d'un reçu du point numérique "
            "(attendu PN1-XXXX-XXXX-CODE) : saisissez la référence à la main."
        )
    return f"PN-{match['g1']}-{match['g2']}", match["code"]


def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    """The QR modules (True = dark), without quiet zone, for drawing as vector rectangles.

    Level Q (25 % of the symbol recoverable) because a receipt gets folded and stained; the payload
    is short enough that this still fits in version 2.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def draw_qr(
    canvas: Canvas, matrix: tuple[tuple[bool, ...], ...], x: float, y_top: float, module: float
) -> None:
    """Draw the dark modules in black, top row's bottom edge at y_top, as one vector path.

    One path of horizontal runs (not a bitmap, not a rectangle per module) stays sharp at any
    printer resolution, keeps the PDF small, and lets the rasteriser fill abutting modules without
    the hairline seams that confuse scanners.
    """
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        y = y_top - row_index * module
        col = 0
        while col < len(row):
            if not row[col]:
                col += 1
                continue
            start = col
            while col < len(row) and row[col]:
                col += 1
            path.rect(x + start * module, y, (col - start) * module, module)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
