"""Logical Data Structure (ICAO 9303 Part 10): EF.COM, DG1, DG2 (face), DG11, DG12, DG13.

DG2 holds an ISO/IEC 19794-5 record; its image is JPEG or JPEG 2000. JPEG 2000 is converted to
PNG (Pillow with OpenJPEG) so that the UI can show it with any image widget.
"""

from __future__ import annotations

import io

from devices.nfc import tlv
from kiosk.identity.errors import HostileAnswer
from kiosk.identity.model import AdditionalDetails, Mrz
from kiosk.identity.mrz import parse_mrz

#: Data group number → EF identifier and LDS tag.
FILES = {
    "COM": (0x011E, 0x60),
    "DG1": (0x0101, 0x61),
    "DG2": (0x0102, 0x75),
    "DG11": (0x010B, 0x6B),
    "DG12": (0x010C, 0x6C),
    "DG13": (0x010D, 0x6D),
    "DG14": (0x010E, 0x6E),
    "DG15": (0x010F, 0x6F),
    "SOD": (0x011D, 0x77),
}
TAG_TO_NAME = {tag: name for name, (_, tag) in FILES.items()}
MAX_PIXELS = 4_000_000  # a passport photo is ~0.1 MP; refuse decompression bombs early


def _content(data: bytes, name: str) -> bytes:
    tag = FILES[name][1]
    return tlv.single(data, tag)


def com_groups(data: bytes) -> list[str]:
    """The data groups EF.COM lists (e.g. ``["DG1", "DG2", "DG14"]``)."""
    tags = tlv.find(_content(data, "COM"), 0x5C) or b""
    return [TAG_TO_NAME[t] for t in tags if t in TAG_TO_NAME and t not in (0x60, 0x77)]


def dg1_mrz(data: bytes) -> Mrz:
    """The MRZ stored in DG1, parsed and checked."""
    raw = tlv.find(_content(data, "DG1"), 0x5F1F)
    if raw is None:
        raise HostileAnswer("DG1 sans MRZ")
    text = raw.decode("ascii", errors="replace")
    width = {90: 30, 88: 44, 72: 36}.get(len(text))
    if width is None:
        raise HostileAnswer(f"MRZ de {len(text)} caractères dans DG1")
    return parse_mrz([text[i : i + width] for i in range(0, len(text), width)])


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace").replace("<", " ").strip() if value else None


def details(dg11: bytes | None, dg12: bytes | None) -> AdditionalDetails | None:
    """DG11 and DG12 fields the agent may use (None when neither file exists)."""
    if dg11 is None and dg12 is None:
        return None
    d11 = dict(tlv.parse(_content(dg11, "DG11"))) if dg11 else {}
    d12 = dict(tlv.parse(_content(dg12, "DG12"))) if dg12 else {}
    return AdditionalDetails(
        full_name=_text(d11.get(0x5F0E)),
        personal_number=_text(d11.get(0x5F10)),
        full_birth_date=_text(d11.get(0x5F2B)),
        birth_place=_text(d11.get(0x5F11)),
        address=_text(d11.get(0x5F42)),
        profession=_text(d11.get(0x5F13)),
        issuing_authority=_text(d12.get(0x5F19)),
        issue_date=_text(d12.get(0x5F26)),
    )


def dg13_fields(data: bytes | None) -> dict[str, str]:
    """Printable fields of the French DG13, by tag in hex (e.g. ``9F01`` height)."""
    if data is None:
        return {}
    out = {}
    for tag, value in tlv.parse(_content(data, "DG13")):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text.isprintable():
            out[f"{tag:X}"] = text
    return out


def _facial_image(record: bytes) -> bytes:
    """The image inside an ISO/IEC 19794-5 facial record."""
    if record[:4] != b"FAC\x00" or len(record) < 14 + 20:
        raise HostileAnswer("enregistrement facial ISO 19794-5 invalide")
    pos = 14  # general header: format id, version, record length, number of faces
    feature_points = int.from_bytes(record[pos + 4 : pos + 6], "big")
    pos += 20 + 8 * feature_points + 12  # facial information, feature points, image information
    if pos >= len(record):
        raise HostileAnswer("image absente de DG2")
    return record[pos:]


def dg2_photo(data: bytes) -> bytes | None:
    """The face as JPEG or PNG bytes (None if the image cannot be decoded)."""
    group = tlv.single(_content(data, "DG2"), 0x7F61)
    template = tlv.find(group, 0x7F60)
    if template is None:
        raise HostileAnswer("DG2 sans modèle biométrique")
    record = tlv.find(template, 0x5F2E) or tlv.find(template, 0x7F2E)
    if record is None:
        raise HostileAnswer("DG2 sans image")
    image = _facial_image(record)
    if image[:3] == b"\xff\xd8\xff":
        return image
    return _jpeg2000_to_png(image)


def _jpeg2000_to_png(image: bytes) -> bytes | None:
    # Only the JPEG 2000 decoder, asked for by name: an open() that has to guess loads every
    # Pillow plugin (AVIF's library among them), ~100 ms holding the interpreter lock while the
    # screen waits. The PNG encoder is one of Pillow's preloaded plugins.
    from PIL import Image, Jpeg2KImagePlugin, UnidentifiedImageError

    try:
        with Image.open(
            io.BytesIO(image), formats=[Jpeg2KImagePlugin.Jpeg2KImageFile.format]
        ) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                return None
            out = io.BytesIO()
            picture.convert("RGB").save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
