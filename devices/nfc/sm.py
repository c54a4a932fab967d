"""ISO 7816-4 secure messaging as profiled by ICAO 9303 Part 11 §9.8, for both ends.

The terminal wraps commands and unwraps responses; the card simulator does the reverse with the
same class, so one implementation is tested from both sides and against the ICAO examples.
The send sequence counter (SSC) is incremented before every command and every response.
Commands with an odd INS (READ BINARY B1, whose data are BER-TLV) carry their cryptogram in
DO'85' (no padding-content indicator) instead of DO'87' (Part 11 §9.8, ISO 7816-4 §10.2.2);
responses are accepted in either form, since chips answer B1 with one or the other.

**After a link loss** (``LinkInterrupted``: the reader still sees the card, powered) the read
goes on in the same session when the card allows it. The command's count is spent, and so may
be its answer's (the card may have answered what never arrived): both are skipped, and the
command goes again under the next count. Counts only ever go up, so no count is used twice
under one key, and an answer recorded on the way and replayed is under a count the terminal
has left behind: its MAC fails. Which of the two the card did is for the card to say: if it
never saw the command, it expects an earlier count, refuses the MAC and ends the session
(6988); the first answer after a loss must verify, or the session is taken as lost
(``SessionLost``) and a new one is opened; nothing of that answer is used.

A card that says its session is over (6987, 6988: another program spoke to it in plain, say)
is taken at its word at any time, a new session follows, except while it proves itself (Chip
or Active Authentication, ``proving``): there a refusal is its failure, or a copy would answer
6988 to be read anew instead of being found out.
"""

from __future__ import annotations

import hmac

from devices.nfc import tlv
from devices.nfc.apdu import (
    CardStatusError,
    CommandApdu,
    LinkInterrupted,
    LinkLog,
    SessionLost,
    Transport,
    split,
)
from devices.nfc.crypto import Cipher, aes_block, decrypt, encrypt, mac, pad, unpad
from kiosk.identity.errors import CardRemoved, HostileAnswer

#: Status words a card sends in plain under secure messaging, since it cannot protect them:
#: secure-messaging data objects missing (6987) or incorrect (6988), ISO 7816-4 §5.1.3.
SM_ERRORS = (0x6987, 0x6988)


class SecureMessagingError(HostileAnswer):
    """A response whose MAC or structure does not verify: the session cannot be trusted."""


def protected_response_length(cipher: Cipher, n: int, *, odd: bool = False) -> int:
    """Bytes of a protected response carrying ``n`` plaintext bytes (SW excluded).

    ``odd``: the answer to an odd INS, its cryptogram in DO'85' (one byte shorter).
    """
    size = 4 + 10  # DO99 + DO8E
    if n:
        body = (0 if odd else 1) + n + 1 + (-(n + 1) % cipher.block)
        size += 1 + len(tlv.encode_length(body)) + body
    return size


def _cryptogram_object(data: bytes, odd: bool) -> bytes:
    """DO'85' (odd INS: the cryptogram alone) or DO'87' (indicator 01 then the cryptogram)."""
    return tlv.encode(0x85, data) if odd else tlv.encode(0x87, b"\x01" + data)


class SecureMessaging:
    """One secure-messaging session: keys, cipher and the SSC."""

    def __init__(self, cipher: Cipher, k_enc: bytes, k_mac: bytes, ssc: int = 0) -> None:
        self.cipher = cipher
        self.k_enc = k_enc
        self.k_mac = k_mac
        self.ssc = ssc

    def _ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.cipher.block, "big")

    def _iv(self) -> bytes | None:
        # AES: IV = E(K_enc, SSC); 3DES: zero IV (Part 11 §9.8.6.1).
        return None if self.cipher is Cipher.DES3 else aes_block(self.k_enc, self._ssc_bytes())

    def _mac(self, data: bytes) -> bytes:
        return mac(self.cipher, self.k_mac, pad(self._ssc_bytes() + data, self.cipher.block))

    def _increment(self) -> None:
        self.ssc = (self.ssc + 1) % (1 << (8 * self.cipher.block))

    def skip_answer(self) -> None:
        """Pass over the count of an answer lost on the way (the card may have used it)."""
        self._increment()

    # -- terminal side -------------------------------------------------------------------
    def wrap(self, command: CommandApdu) -> bytes:
        """The protected form of ``command`` (increments the SSC)."""
        self._increment()
        block = self.cipher.block
        cla = command.cla | 0x0C
        header = bytes([cla, command.ins, command.p1, command.p2])
        do87 = b""
        if command.data:
            enc = encrypt(self.cipher, self.k_enc, pad(command.data, block), self._iv())
            do87 = _cryptogram_object(enc, odd=bool(command.ins & 1))
        do97 = b""
        if command.ne is not None:
            le = command.ne % 256 if command.ne <= 256 else command.ne % 65536
            do97 = tlv.encode(0x97, le.to_bytes(1 if command.ne <= 256 else 2, "big"))
        cc = self._mac(pad(header, block) + do87 + do97)
        body = do87 + do97 + tlv.encode(0x8E, cc)
        # Extended only when asked for more than a short answer holds: readers size their
        # short reads so that the protected answer fits 256 bytes (see files.short_max).
        extended = len(body) > 255 or (command.ne is not None and command.ne > 256)
        ne = 65536 if extended else 256
        return CommandApdu(cla, command.ins, command.p1, command.p2, body, ne).encode()

    def unwrap(self, response: bytes) -> tuple[bytes, int]:
        """``(plaintext, sw)`` of a protected response (increments the SSC, checks the MAC)."""
        self._increment()
        data, sw = split(response)
        if not data:
            if sw in SM_ERRORS:  # the card dropped secure messaging: the session is over
                return b"", sw
            # Any other status must come inside DO'99' under the MAC (Part 11 §9.8.6): a plain
            # 9000 or 6A82 could come from anyone on the link, e.g. a copy hiding a file.
            raise SecureMessagingError(f"statut {sw:04X} non protégé sous secure messaging")
        objects = dict(tlv.parse(data))
        if 0x85 in objects and 0x87 in objects:
            raise SecureMessagingError("réponse protégée avec deux cryptogrammes")
        do87 = data_object(data, 0x87) or data_object(data, 0x85)
        do99 = data_object(data, 0x99)
        if 0x8E not in objects or not do99:
            raise SecureMessagingError("réponse protégée sans MAC ou sans statut")
        if not hmac.compare_digest(self._mac(do87 + do99), objects[0x8E]):
            raise SecureMessagingError("MAC de la réponse invalide")
        plain = b""
        if do87:
            value = objects[0x87][1:] if 0x87 in objects else objects[0x85]
            if 0x87 in objects and objects[0x87][:1] != b"\x01":
                raise SecureMessagingError("données chiffrées mal formées")
            if not value or len(value) % self.cipher.block:
                raise SecureMessagingError("données chiffrées mal formées")
            try:
                plain = unpad(decrypt(self.cipher, self.k_enc, value, self._iv()))
            except ValueError:
                raise SecureMessagingError("bourrage des données invalide") from None
        return plain, int.from_bytes(objects[0x99], "big")

    # -- card side (simulator) -----------------------------------------------------------
    def unwrap_command(self, raw: bytes) -> CommandApdu:
        """The plain command inside a protected one; raises ValueError if it does not verify."""
        self._increment()
        command = CommandApdu.decode(raw)
        objects = dict(tlv.parse(command.data))
        odd = bool(command.ins & 1)
        do87 = data_object(command.data, 0x85 if odd else 0x87)
        do97 = data_object(command.data, 0x97)
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        expected = self._mac(pad(header, self.cipher.block) + do87 + do97)
        if not hmac.compare_digest(expected, objects.get(0x8E, b"")):
            raise ValueError("bad command MAC")
        data = b""
        if do87:
            cryptogram = objects[0x85] if odd else objects[0x87][1:]
            data = unpad(decrypt(self.cipher, self.k_enc, cryptogram, self._iv()))
        ne = None
        if 0x97 in objects:
            le = int.from_bytes(objects[0x97], "big")
            ne = le or (256 if len(objects[0x97]) == 1 else 65536)
        return CommandApdu(command.cla & ~0x0C, command.ins, command.p1, command.p2, data, ne)

    def wrap_response(self, data: bytes, sw: int, *, odd: bool = False) -> bytes:
        """The protected response carrying ``data`` and ``sw`` (``odd``: answer to an odd INS)."""
        self._increment()
        do87 = b""
        if data:
            enc = encrypt(self.cipher, self.k_enc, pad(data, self.cipher.block), self._iv())
            do87 = _cryptogram_object(enc, odd)
        do99 = tlv.encode(0x99, sw.to_bytes(2, "big"))
        return do87 + do99 + tlv.encode(0x8E, self._mac(do87 + do99)) + sw.to_bytes(2, "big")


def data_object(data: bytes, tag: int) -> bytes:
    """The whole encoded TLV with ``tag`` in ``data`` (tag and length included), or b""."""
    for found, value in tlv.parse(data):
        if found == tag:
            return tlv.encode(tag, value)
    return b""


class SecureTransport:
    """Sends plain commands through a secure-messaging session over a raw transport.

    ``link`` counts the link losses the session outlived (see the module's docstring).
    """

    def __init__(self, transport: Transport, sm: SecureMessaging, link: LinkLog | None = None):
        self.transport = transport
        self.sm = sm
        self.link = link if link is not None else LinkLog()
        #: The chip is proving itself: 6987/6988 is then its answer to give, not a lost session.
        self.proving = False

    def send(self, command: CommandApdu) -> tuple[bytes, int]:
        """Protect, send, verify and decrypt: ``(data, sw)``.

        Raises:
            SessionLost: the link failed and the card's session did not outlive it, or the card
                said its session is over (6987, 6988) while not proving itself.
        """
        wrapped = self.sm.wrap(command)
        try:
            response = self.transport.transmit(wrapped)
        except LinkInterrupted:
            return self._resume(command)
        data, sw = self.sm.unwrap(response)
        if sw in SM_ERRORS and not self.proving:
            refused = CardStatusError(sw, "échange protégé avec la puce")
            raise SessionLost(f"la carte a mis fin à la session ({sw:04X})", refused)
        return data, sw

    def _resume(self, command: CommandApdu) -> tuple[bytes, int]:
        """Send ``command`` again in the same session, under counts never used before."""
        self.sm.skip_answer()
        try:
            response = self.transport.transmit(self.sm.wrap(command))
        except LinkInterrupted:  # twice in a row: no more guessing where the card's count is
            raise SessionLost("liaison perdue deux fois de suite", CardRemoved()) from None
        try:
            data, sw = self.sm.unwrap(response)
        except HostileAnswer as exc:  # a replay, a bare answer, or the card's other count
            raise SessionLost("première réponse après la reprise non vérifiée", exc) from None
        if sw in SM_ERRORS:  # the card says its session is over (it never saw the command)
            raise SessionLost(f"la carte a mis fin à la session ({sw:04X})", CardRemoved())
        self.link.kept += 1
        return data, sw
