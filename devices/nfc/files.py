"""Reading elementary files through secure messaging, in as few round trips as the card allows.

The first READ BINARY asks for the largest chunk the card has accepted so far: it brings the TLV
header (hence the file length) and, for small files, the whole file. The rest follows in the
largest chunks. A card that refuses a size (6700, 6B00, 6282 without data, 6Cxx) makes us step
down the ladder once for the whole session: extended sizes first, then the short sizes
(the largest that fits a short protected answer, 192, 160, 128 …).

A chip may send fewer bytes than asked only where real chips do (``ShortAnswers``): at the end
of a file, or a buffer's worth when the size asked is beyond its buffer. Anything shorter before
the end is forgiven twice per file, then stops the read: a chip sending a byte at a time would
otherwise make a 98 KB file cost one command per byte.

Offsets up to 0x7FFF go in P1-P2 of READ BINARY (INS B0). Beyond, P1's high bit would make the
chip read it as a short file identifier, not an offset: those reads use the odd READ BINARY (B1)
of ICAO 9303-10 §4 / ISO 7816-4, the offset in a data object 54 of the command, the file's bytes
in a data object 53 of the answer (whose Ne counts that framing). Small files never see B1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeAlias

from devices.nfc import tlv
from devices.nfc.apdu import SW_OK, CardStatusError, CommandApdu
from devices.nfc.crypto import Cipher
from devices.nfc.sm import SecureTransport, protected_response_length
from kiosk.identity.errors import HostileAnswer

log = logging.getLogger(__name__)

#: Extended Ne tried first; 0xFF00 keeps a protected answer within a 64 KiB frame.
EXTENDED_SIZES = (0xFF00, 0x1000, 0x400)
SHORT_STEPS = (192, 160, 128, 96, 64, 32, 16)
#: The last offset READ BINARY B0 can carry in P1-P2 (15 bits); B1 reads beyond.
MAX_EVEN_OFFSET = 0x7FFF
#: The largest length a file may announce (``tlv.MAX_LENGTH`` bounds it further).
MAX_FILE = 0x8000 + 0xFF00
#: Answers per file shorter than asked (and than a short answer holds) before the file's end
#: that are forgiven; the next one stops the read.
SHORT_ANSWERS_FORGIVEN = 2


def short_max(cipher: Cipher) -> int:
    """Largest plaintext whose protected answer fits a short response (231 3DES, 223 AES)."""
    n = 256
    while protected_response_length(cipher, n) > 256:
        n -= 1
    return n


def ladder(cipher: Cipher, extended: bool) -> list[int]:
    """Read sizes to try, largest first."""
    sizes = list(EXTENDED_SIZES) if extended else []
    return [*sizes, short_max(cipher), *(s for s in SHORT_STEPS if s < short_max(cipher))]


Send: TypeAlias = Callable[[CommandApdu], tuple[bytes, int]]


def odd_capacity(ne: int) -> int:
    """File bytes a B1 answer of ``ne`` bytes carries once framed in its data object 53."""
    n = ne - 2
    while n > 0 and n + 1 + len(tlv.encode_length(n)) > ne:
        n -= 1
    return max(n, 0)


def read_binary_command(offset: int, ne: int) -> CommandApdu:
    """READ BINARY of ``ne`` answer bytes at ``offset``: B0 up to 0x7FFF, B1 (current EF) beyond."""
    if offset <= MAX_EVEN_OFFSET:
        return CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=ne)
    raw = offset.to_bytes(max(2, (offset.bit_length() + 7) // 8), "big")
    return CommandApdu(0x00, 0xB1, 0x00, 0x00, tlv.encode(0x54, raw), ne=ne)


def odd_payload(answer: bytes, offset: int) -> bytes:
    """The file's bytes in a B1 answer: its single data object 53.

    Raises:
        HostileAnswer: the answer is anything else.
    """
    try:
        items = tlv.parse(answer)
    except HostileAnswer:
        items = []
    if len(items) != 1 or items[0][0] != 0x53:
        raise HostileAnswer(
            f"la réponse à la lecture de l'octet {offset} (au-delà de 32 Ko) n'est pas un objet "
            f"de données 53 bien formé ({_octets(len(answer))} reçus)"
        )
    return items[0][1]


def read_binary(send: Send, offset: int, ne: int, wanted: int) -> tuple[bytes, int, int]:
    """One READ BINARY at ``offset``: ``(file bytes, sw, file bytes asked)``.

    ``ne`` bounds the answer (the 53 framing included for B1), ``wanted`` the file bytes asked
    for (what is left of the file).
    """
    odd = offset > MAX_EVEN_OFFSET
    asked = min(odd_capacity(ne) if odd else ne, wanted)
    framed = asked + 1 + len(tlv.encode_length(asked))
    data, sw = send(read_binary_command(offset, framed if odd else asked))
    if odd and data and sw in (SW_OK, 0x6282):
        data = odd_payload(data, offset)
    return data, sw, asked


def _refused(sw: int, data: bytes) -> bool:
    return sw in (0x6700, 0x6B00) or (sw & 0xFF00) == 0x6C00 or (sw == 0x6282 and not data)


def _octets(n: int) -> str:
    return f"{n} octet{'s' if n > 1 else ''}"


class ShortAnswers:
    """Watches the answers of one file for a chip that sends less than asked before its end.

    ISO 7816-4 lets a chip answer short only at the end of a file (6282, or 9000 with what is
    left). Real chips also cap an extended read at their buffer, but every eMRTD serves at least
    a short answer's worth (``floor``): such answers are read on. Anything shorter before the end
    is what a stalling chip does; ``SHORT_ANSWERS_FORGIVEN`` of them per file are forgiven (a
    quirk at a boundary), the next one raises. 6282 (end of file) before the length the file
    announces raises at once: the file cannot be whole.
    """

    def __init__(self, total: int, floor: int) -> None:
        self.total = total
        self.floor = floor
        self.count = 0

    def check(self, got: int, asked: int, done: int, sw: int, *, odd: bool = False) -> None:
        """After an answer of ``got`` bytes for ``asked``, with ``done`` bytes of the file read.

        ``odd``: a B1 answer, whose data object 53 takes a few bytes of the chip's buffer (the
        floor is then what a short answer's worth carries).

        Raises:
            HostileAnswer: the chip is dragging the read out, or ended the file too early.
        """
        if got >= asked or done >= self.total:
            return
        if sw == 0x6282:
            raise HostileAnswer(
                f"la puce signale la fin du fichier à l'octet {done} alors que celui-ci en "
                f"annonce {self.total}"
            )
        if got >= (odd_capacity(self.floor) if odd else self.floor):
            return  # a chip whose buffer holds less than the size asked
        self.count += 1
        if self.count > SHORT_ANSWERS_FORGIVEN:
            raise HostileAnswer(
                f"la puce envoie moins que demandé avant la fin du fichier : {_octets(got)} sur "
                f"{asked}, à l'octet {done} sur {self.total}, {self.count}e fois dans ce fichier"
            )


class FileReader:
    """Selects and reads files of the eMRTD application over one secure channel."""

    def __init__(self, channel: SecureTransport, *, extended: bool) -> None:
        self.channel = channel
        self.sizes = ladder(channel.sm.cipher, extended)
        self.step = 0

    @property
    def chunk(self) -> int:
        """The read size currently used."""
        return self.sizes[self.step]

    def select(self, fid: int) -> bool:
        """SELECT the EF ``fid``; False when the card has no such file."""
        _, sw = self.channel.send(CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")))
        if sw == SW_OK:
            return True
        if sw in (0x6A82, 0x6A80, 0x6982):  # absent, or needs EAC (DG3/DG4)
            return False
        raise CardStatusError(sw, f"sélection du fichier {fid:04X}")

    def _read_at(self, offset: int, wanted: int, total: int | None) -> tuple[bytes, int, int]:
        """``(data, sw, size asked)`` of one READ BINARY at ``offset`` (``total``: file size)."""
        while True:
            data, sw, size = read_binary(self.channel.send, offset, self.chunk, wanted)
            if sw in (SW_OK, 0x6282) and data:
                if len(data) > size:
                    raise HostileAnswer(f"{len(data)} octets reçus pour {size} demandés")
                return data, sw, size
            if _refused(sw, data) and self.step + 1 < len(self.sizes):
                self.step += 1
                log.info("read size refused (%04X), stepping down to %d", sw, self.chunk)
                continue
            if sw == SW_OK:  # "done" with nothing: not a refusal, and no way to read on
                raise HostileAnswer(
                    "la puce n'a renvoyé aucune donnée alors que le fichier n'est pas terminé : "
                    f"octet {offset} sur {total}"
                    if total is not None
                    else "la puce n'a renvoyé aucune donnée du fichier"
                )
            raise CardStatusError(sw, "lecture d'un fichier")

    def read(
        self,
        fid: int,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        start: bytes = b"",
        keep: Callable[[bytes], None] | None = None,
    ) -> bytes | None:
        """The whole file ``fid`` (None when absent).

        ``start``: the beginning already read before the link was lost; reading goes on from
        its end (the whole file is hashed against the SOD afterwards, so a wrong beginning
        cannot pass). ``keep`` receives the bytes read so far after every answer.
        """
        if not self.select(fid):
            return None
        try:
            _, length, head = tlv.header(start)
        except tlv.TlvError:  # nothing kept, or too little to know the length: from the start
            start = b""
        if start:
            data = start
        else:
            data, sw, asked = self._read_at(0, self.chunk, None)
            _, length, head = tlv.header(data)
        total = head + length
        if total > MAX_FILE:
            raise tlv.TlvError(f"fichier de {total} octets annoncé")
        short = ShortAnswers(total, short_max(self.channel.sm.cipher))
        if not start:
            short.check(len(data), asked, len(data), sw)
        if len(data) > total:
            data = data[:total]
        while len(data) < total:
            if keep:
                keep(data)
            if on_progress:
                on_progress(len(data), total)
            offset = len(data)
            chunk, sw, asked = self._read_at(offset, total - offset, total)
            data += chunk
            short.check(len(chunk), asked, len(data), sw, odd=offset > MAX_EVEN_OFFSET)
        if on_progress:
            on_progress(total, total)
        return data
