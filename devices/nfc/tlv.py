"""BER-TLV as used by ISO 7816-4 and the LDS, hardened against hostile lengths.

A chip is untrusted input: a length field may claim 4 GB, run past the buffer, or use the
indefinite form. Every parse checks bounds and refuses lengths no eMRTD file can have, so a bad
card makes a clear error instead of a huge allocation or an endless read loop.
"""

from __future__ import annotations

from kiosk.identity.errors import HostileAnswer

#: No eMRTD elementary file is larger (READ BINARY B0 reads to offset 32 767, B1 beyond).
MAX_LENGTH = 0xFFFF


class TlvError(HostileAnswer):
    """A TLV structure that is malformed, truncated or claims an impossible length."""


def read_tag(data: bytes, pos: int) -> tuple[int, int]:
    """The tag starting at ``pos`` (1 to 3 bytes) and the position after it."""
    if pos >= len(data):
        raise TlvError("étiquette TLV manquante")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:  # multi-byte tag
        for _ in range(2):
            if pos >= len(data):
                raise TlvError("étiquette TLV tronquée")
            tag = (tag << 8) | data[pos]
            pos += 1
            if not tag & 0x80:
                break
        else:
            raise TlvError("étiquette TLV trop longue")
    return tag, pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    """The definite length starting at ``pos`` and the position after it."""
    if pos >= len(data):
        raise TlvError("longueur TLV manquante")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise TlvError("longueur TLV indéfinie")
    if count > 3:
        raise TlvError(f"longueur TLV sur {count} octets")
    if pos + count > len(data):
        raise TlvError("longueur TLV tronquée")
    length = int.from_bytes(data[pos : pos + count], "big")
    if length > MAX_LENGTH:
        raise TlvError(f"longueur TLV annoncée de {length} octets")
    return length, pos + count


def header(data: bytes) -> tuple[int, int, int]:
    """``(tag, length, header_size)`` of the TLV at the start of ``data``."""
    tag, pos = read_tag(data, 0)
    length, pos = read_length(data, pos)
    return tag, length, pos


def parse(data: bytes) -> list[tuple[int, bytes]]:
    """The TLVs one after another in ``data``; every one must fit exactly."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if data[pos] in (0x00, 0xFF) and not data[pos:].strip(data[pos : pos + 1]):
            break  # padding after the last object
        tag, pos = read_tag(data, pos)
        length, pos = read_length(data, pos)
        if pos + length > len(data):
            raise TlvError(f"objet {tag:X} de {length} octets dépassant la réponse")
        out.append((tag, data[pos : pos + length]))
        pos += length
    return out


def single(data: bytes, tag: int) -> bytes:
    """The value of ``data`` when it is exactly one TLV with ``tag``."""
    items = parse(data)
    if len(items) != 1 or items[0][0] != tag:
        raise TlvError(f"objet {tag:X} attendu")
    return items[0][1]


def find(data: bytes, tag: int) -> bytes | None:
    """The value of the first TLV with ``tag`` among ``data``'s top-level objects."""
    for found, value in parse(data):
        if found == tag:
            return value
    return None


def encode_length(length: int) -> bytes:
    """DER length octets."""
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode(tag: int, value: bytes) -> bytes:
    """One TLV."""
    return tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big") + encode_length(len(value)) + value
