"""The simulated chip: ISO 7816-4 commands, BAC, PACE (GM and IM), Chip Authentication, faults.

Card side of the same protocol code the reader uses (``devices.nfc``), so both ends are
exercised; the randomness is injectable for reproducible tests.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from devices.cardsim.profiles import Profile, build_card
from devices.nfc import aa, bac, ec, pace, pace_im, tlv
from devices.nfc.apdu import CommandApdu
from devices.nfc.crypto import Cipher, decrypt, encrypt, kdf, mac, pad
from devices.nfc.files import odd_capacity
from devices.nfc.lds import FILES
from devices.nfc.reader import CARD_ACCESS, EMRTD_AID
from devices.nfc.securityinfo import PaceInfo, pace_infos
from devices.nfc.sm import SecureMessaging
from kiosk.identity.errors import HostileAnswer
from kiosk.identity.model import MrzKey

log = logging.getLogger(__name__)
OK = 0x9000
TRIES = 3
#: What the reader gets of a frame lost on the way: one byte, no status word. Through vpcd,
#: pcscd's transmit then fails while the card stays in (an empty answer would eject it).
GARBLED = b"\x00"


@dataclass(frozen=True)
class Faults:
    """Misbehaviours to prove the reader copes (see ``kiosk card-sim --fault``)."""

    wrong_can: bool = False  # the printed CAN is not the chip's: every CAN try fails
    removed_mid_read: bool = False  # the card leaves the field once, while DG2 is read
    removal_offset: int = 0  # ... at the first read of DG2 at or beyond this offset
    #: The card stays in the field, powered, but the answer to one READ BINARY of DG2 (at
    #: ``removal_offset``) is lost on the way: the card answered (its counter moved on).
    answer_lost_mid_read: bool = False
    #: The same, but the command is lost before the card saw it (its counter did not move).
    command_lost_mid_read: bool = False
    #: After such a loss, an attacker on the link answers the next command with the answer
    #: that was lost (genuine, under a counter value the reader has left behind)…
    replay_after_loss: bool = False
    #: … or with the file's bytes in plain and 9000, without secure messaging.
    bare_after_loss: bool = False
    no_extended_length: bool = False  # extended APDUs and reads over 192 bytes are refused
    tampered_dg: bool = False  # DG1 edited after signing
    bad_tlv: bool = False  # DG2 announces a 2 GiB length
    slow: float = 0.0  # seconds added to every answer
    #: A copy of the chip (files copied, no private key): EF.COM leaves DG14 out, so that a
    #: reader trusting EF.COM skips Chip Authentication.
    clone_hides_dg14: bool = False
    #: A copy of the chip that answers "file not found" (6A82) when DG14 is selected.
    clone_refuses_dg14: bool = False
    #: A copy of a passport that answers 6A82 when DG15 (Active Authentication key) is selected.
    clone_refuses_dg15: bool = False
    #: Under secure messaging, SELECT is answered with a bare status word (no DO'99', no MAC).
    unprotected_status: bool = False
    #: A copy without the Active Authentication private key: its signature does not verify.
    aa_wrong_signature: bool = False


@dataclass
class _PaceState:
    """The chip's side of one PACE run."""

    info: PaceInfo
    key_ref: int
    nonce: bytes = b""
    generator: ec.Point | None = None
    pk: bytes = b""
    terminal_pk: bytes = b""
    keys: tuple[bytes, bytes] = (b"", b"")


class SimulatedChip:
    """One chip; ``process`` takes a command APDU and returns the response APDU."""

    ATR = bytes.fromhex("3B8880014E4F4E45804F0C0011")  # T=1; fixed so pcscd sees a stable card

    def __init__(self, profile: Profile, faults: Faults | None = None, rng: ec.Random = os.urandom):
        self.profile = profile
        self.faults = faults or Faults()
        self.rng = rng
        f = self.faults
        card = build_card(
            profile,
            tampered=f.tampered_dg,
            bad_tlv=f.bad_tlv,
            com_omits=("DG14",) if f.clone_hides_dg14 else (),
        )
        self.card_access = card.card_access
        self.files = card.files
        withheld = {"DG14": f.clone_refuses_dg14, "DG15": f.clone_refuses_dg15}
        cloned = f.clone_hides_dg14 or f.clone_refuses_dg14
        self.chip_auth_key = None if cloned else card.chip_auth_key  # a copy has no private key
        self.aa_key = None if f.clone_refuses_dg15 else card.aa_key
        self.withheld = {FILES[n][0] for n, on in withheld.items() if on}
        self.can = profile.can[::-1] if self.faults.wrong_can else profile.can
        holder = profile.holder
        self.mrz_key = MrzKey(holder.document_number, holder.birth, holder.expiry)
        self.tries = TRIES
        self.remove_now = False
        self.arm(self.faults)
        self._cut_now = False  # the DG2 read where the link is cut, this command
        self._lost_answer = b""  # the answer that did not arrive (for the replay)
        self._attack_next = False  # an attacker answers the next command
        #: Secure sessions opened (PACE or BAC), for the tests: a read that kept its session
        #: after a link loss opened one.
        self.sessions = 0
        self.power_on()

    def arm(self, faults: Faults) -> None:
        """Take ``faults`` as the chip's, the cuts mid-read pending again (the bench cuts one
        read after another, each at its own offset, without putting the card back)."""
        self.faults = faults
        self.removal_pending = faults.removed_mid_read
        self.loss_pending = faults.answer_lost_mid_read or faults.command_lost_mid_read

    def power_on(self) -> None:
        """A fresh contact: no session, nothing selected (the tries counter survives)."""
        self.sm: SecureMessaging | None = None
        self.app_selected = False
        self.selected: int | None = None
        self.pace: _PaceState | None = None
        self.challenge: bytes | None = None
        self.ca_oid: str | None = None
        self.next_sm: SecureMessaging | None = None

    # -- entry point ---------------------------------------------------------------------
    def process(self, raw: bytes) -> bytes:
        """Answer one command APDU."""
        if self.faults.slow:
            time.sleep(self.faults.slow)
        try:
            outer = CommandApdu.decode(raw)
        except ValueError:
            return b"\x67\x00"
        if outer.cla & 0x0C == 0x0C:
            if self.sm is None:
                return b"\x69\x88"
            if self._attack_next:  # the card never sees this command: the attacker answers
                self._attack_next = False
                if self.faults.replay_after_loss and self._lost_answer:
                    return self._lost_answer
                return self.files[FILES["DG2"][0]][:64] + OK.to_bytes(2, "big")
            count = self.sm.ssc
            try:
                command = self.sm.unwrap_command(raw)
            except (ValueError, KeyError):
                self.sm = None  # a bad MAC ends the session, as on a real chip
                return b"\x69\x88"
            if self.faults.no_extended_length and outer.extended:
                return self.sm.wrap_response(b"", 0x6700)
            data, sw = self.dispatch(command)
            if self.faults.unprotected_status and command.ins == 0xA4:
                self.sm.ssc += 1  # the count a protected answer would have used
                return sw.to_bytes(2, "big")
            if self._cut_now:
                return self._lose(count, data, sw, odd=bool(command.ins & 1))
            response = self.sm.wrap_response(data, sw, odd=bool(command.ins & 1))
            if self.next_sm is not None:  # Chip Authentication: new keys from now on
                self.sm, self.next_sm = self.next_sm, None
            return response
        if self.sm is not None and outer.ins != 0x86:
            self.sm = None  # a plain command closes secure messaging
        if self.faults.no_extended_length and outer.extended:
            return b"\x67\x00"
        data, sw = self.dispatch(outer)
        return data + sw.to_bytes(2, "big")

    def _lose(self, count: int, data: bytes, sw: int, *, odd: bool) -> bytes:
        """The frame lost on the way, the card powered and in the field all along."""
        assert self.sm is not None
        self._cut_now = False
        f = self.faults
        self._attack_next = f.replay_after_loss or f.bare_after_loss
        if f.command_lost_mid_read:
            self.sm.ssc = count  # the card never saw the command: as it was before
        else:  # the card answered; the answer never arrived
            self._lost_answer = self.sm.wrap_response(data, sw, odd=odd)
        return GARBLED

    def dispatch(self, c: CommandApdu) -> tuple[bytes, int]:
        """Run a plain (or unwrapped) command."""
        handlers = {0xA4: self.select, 0xB0: self.read_binary, 0xB1: self.read_binary_odd,
                    0x84: self.get_challenge,
                    0x82: self.external_authenticate, 0x22: self.mse,
                    0x86: self.general_authenticate,
                    0x88: self.internal_authenticate}  # fmt: skip
        handler = handlers.get(c.ins)
        if handler is None:
            return b"", 0x6D00
        try:
            return handler(c)
        except (ValueError, KeyError, IndexError) as exc:
            log.info("simulated chip refused %02X: %s", c.ins, type(exc).__name__)
            return b"", 0x6A80

    # -- files ---------------------------------------------------------------------------
    def select(self, c: CommandApdu) -> tuple[bytes, int]:
        if c.p1 == 0x04:
            self.app_selected = c.data == EMRTD_AID
            return b"", OK if self.app_selected else 0x6A82
        fid = int.from_bytes(c.data, "big")
        if fid == CARD_ACCESS and self.card_access:
            self.selected = fid
            return b"", OK
        if self.app_selected and fid in self.files and fid not in self.withheld:
            if self.sm is None:
                return b"", 0x6982
            self.selected = fid
            return b"", OK
        return b"", 0x6A82

    def read_binary(self, c: CommandApdu) -> tuple[bytes, int]:
        if c.p1 & 0x80:
            # P1 b8 = 1: a short file identifier in b5-b1, not an offset (ISO 7816-4 §11.2.2).
            # This chip, like many eMRTDs, reads by SELECT only: wrong P1-P2.
            return b"", 0x6A86
        return self._read(c, (c.p1 << 8) | c.p2, c.ne or 256, odd=False)

    def read_binary_odd(self, c: CommandApdu) -> tuple[bytes, int]:
        """READ BINARY B1 on the current EF (P1-P2 0000): offset in DO'54', answer in DO'53'."""
        if (c.p1, c.p2) != (0, 0):
            return b"", 0x6A86  # this chip reads by SELECT only, never by file id or SFI
        try:
            offset_do = tlv.single(c.data, 0x54)
        except HostileAnswer:  # tlv's errors are the reader's; here, wrong data
            return b"", 0x6A80
        if not 1 <= len(offset_do) <= 3:
            return b"", 0x6A80
        return self._read(c, int.from_bytes(offset_do, "big"), c.ne or 256, odd=True)

    def _read(self, c: CommandApdu, offset: int, ne: int, *, odd: bool) -> tuple[bytes, int]:
        if self.selected is None:
            return b"", 0x6986
        content = self.card_access if self.selected == CARD_ACCESS else self.files[self.selected]
        limit = 192 if self.faults.no_extended_length else self.profile.max_read
        if ne > limit:
            return b"", 0x6700
        if offset > len(content):
            return b"", 0x6B00
        at = offset >= self.faults.removal_offset
        if self.selected == FILES["DG2"][0] and self.removal_pending and at:
            self.removal_pending = False
            self.remove_now = True  # the vpcd link drops instead of answering
        if self.selected == FILES["DG2"][0] and self.loss_pending and at and self.sm is not None:
            self.loss_pending = False
            self._cut_now = True  # answered, but the frame is lost (see ``_lose``)
        if not odd:
            return content[offset : offset + ne], OK
        n = odd_capacity(ne)  # the 53 framing counts in Ne
        return tlv.encode(0x53, content[offset : offset + n]), OK

    # -- Active Authentication -------------------------------------------------------------
    def internal_authenticate(self, c: CommandApdu) -> tuple[bytes, int]:
        if self.aa_key is None:
            return b"", 0x6D00
        if len(c.data) != aa.CHALLENGE_LENGTH or self.sm is None:
            return b"", 0x6985
        if isinstance(self.aa_key, rsa.RSAPrivateKey):
            signature = aa.sign_rsa(self.aa_key, c.data, self.rng(256), "sha256")
        else:
            signature = aa.sign_ecdsa(self.aa_key, c.data, "sha256")
        if self.faults.aa_wrong_signature:  # a copy cannot sign: any other bytes
            signature = signature[:-1] + bytes([signature[-1] ^ 0x55])
        return signature, OK

    # -- BAC -----------------------------------------------------------------------------
    def get_challenge(self, c: CommandApdu) -> tuple[bytes, int]:
        self.challenge = self.rng(8)
        return self.challenge, OK

    def external_authenticate(self, c: CommandApdu) -> tuple[bytes, int]:
        if not self.profile.bac or self.challenge is None or len(c.data) != 40:
            return b"", 0x6985
        k_enc, k_mac = bac.keys(self.mrz_key.key_seed())
        e_ifd, m_ifd = c.data[:32], c.data[32:]
        if not hmac.compare_digest(mac(Cipher.DES3, k_mac, pad(e_ifd, 8)), m_ifd):
            return b"", 0x6300
        plain = decrypt(Cipher.DES3, k_enc, e_ifd)
        rnd_ifd, rnd_ic, k_ifd = plain[:8], plain[8:16], plain[16:]
        if rnd_ic != self.challenge:
            return b"", 0x6300
        k_ic = self.rng(16)
        e_ic = encrypt(Cipher.DES3, k_enc, rnd_ic + rnd_ifd + k_ic)
        self.sm = bac.session_from(k_ifd, k_ic, rnd_ic, rnd_ifd)
        self.sessions += 1
        return e_ic + mac(Cipher.DES3, k_mac, pad(e_ic, 8)), OK

    # -- PACE and Chip Authentication ------------------------------------------------------
    def mse(self, c: CommandApdu) -> tuple[bytes, int]:
        fields = dict(tlv.parse(c.data))
        oid = _oid(fields[0x80])
        if c.p1 == 0x41 and c.p2 == 0xA4:  # Chip Authentication
            if self.sm is None or self.chip_auth_key is None:
                return b"", 0x6985
            self.ca_oid = oid
            return b"", OK
        options = {(i.oid, i.param_id): i for i in pace_infos(self.card_access)}
        param = fields.get(0x84, b"\x00")[0]
        info = options.get((oid, param))
        key_ref = fields[0x83][0]
        if info is None or key_ref not in (1, 2):
            return b"", 0x6A80
        if info.mapping == "IM" and not pace_im.supported(info):
            return b"", 0x6A80
        if key_ref == 1 and not self.profile.bac:
            return b"", 0x6A80  # the CNIe is keyed by its CAN only
        self.pace = _PaceState(info, key_ref)
        return b"", OK

    def general_authenticate(self, c: CommandApdu) -> tuple[bytes, int]:
        if self.ca_oid is not None and self.sm is not None:
            return self._chip_authentication(c)
        state = self.pace
        if state is None:
            return b"", 0x6985
        curve, cipher = state.info.curve, state.info.cipher
        objects = dict(tlv.parse(tlv.single(c.data, 0x7C)))
        if not objects:  # step 1: the encrypted nonce
            if self.tries == 0:
                return b"", 0x6983
            # IM needs s as long as the key (32 bytes with AES-256); GM is content with a block.
            im = state.info.mapping == "IM"
            state.nonce = self.rng(pace_im.nonce_lengths(cipher)[0] if im else 16)
            secret = (
                self.can.encode()
                if state.key_ref == 2
                else hashlib.sha1(self.mrz_key.key_seed().encode()).digest()  # noqa: S324
            )
            encrypted = encrypt(cipher, kdf(secret, 3, cipher), state.nonce)
            return tlv.encode(0x7C, tlv.encode(0x80, encrypted)), OK
        if 0x81 in objects and state.info.mapping == "IM":  # step 2: integrated mapping
            if len(objects[0x81]) != pace_im.nonce_lengths(cipher)[1]:
                return b"", 0x6A80
            try:
                state.generator = pace_im.generator(state.info, state.nonce, objects[0x81])
            except HostileAnswer:  # a degenerate t (R_p(s, t) ∈ {0, ±1}): refuse the step
                return b"", 0x6A80
            return tlv.encode(0x7C, tlv.encode(0x82, b"")), OK  # 0x82 empty (§4.4.5.2.2)
        if 0x81 in objects:  # step 2: generic mapping
            sk_map = ec.random_scalar(curve, self.rng)
            terminal_map = ec.decode(curve, objects[0x81])
            state.generator = pace.gm_generator(curve, state.nonce, sk_map, terminal_map)
            pk = ec.encode(curve, ec.public(curve, sk_map))
            return tlv.encode(0x7C, tlv.encode(0x82, pk)), OK
        if 0x83 in objects:  # step 3: key agreement
            if state.generator is None:  # no mapping yet: never fall back to the static G
                return b"", 0x6985
            sk = ec.random_scalar(curve, self.rng)
            state.pk = ec.encode(curve, ec.public(curve, sk, state.generator))
            state.terminal_pk = objects[0x83]
            shared = ec.public(curve, sk, ec.decode(curve, state.terminal_pk))
            state.keys = pace.session_keys(cipher, ec.x_bytes(curve, shared))
            return tlv.encode(0x7C, tlv.encode(0x84, state.pk)), OK
        if 0x85 in objects:  # step 4: tokens
            k_enc, k_mac = state.keys
            expected = pace.token(cipher, k_mac, state.info.oid, state.pk)
            self.pace = None
            if not hmac.compare_digest(expected, objects[0x85]):
                self.tries = max(0, self.tries - 1)
                return b"", (0x63C0 | self.tries) if self.tries else 0x6983
            self.tries = TRIES
            t_picc = pace.token(cipher, k_mac, state.info.oid, state.terminal_pk)
            self.sm = SecureMessaging(cipher, k_enc, k_mac, 0)
            self.sessions += 1
            return tlv.encode(0x7C, tlv.encode(0x86, t_picc)), OK
        return b"", 0x6A80

    def _chip_authentication(self, c: CommandApdu) -> tuple[bytes, int]:
        from devices.nfc.ec import CURVES

        assert self.sm is not None
        assert self.chip_auth_key is not None
        curve = CURVES[13]
        terminal = ec.decode(curve, tlv.find(tlv.single(c.data, 0x7C), 0x80) or b"")
        shared = ec.x_bytes(curve, terminal * self.chip_auth_key)
        k_enc, k_mac = pace.session_keys(Cipher.AES256, shared)
        self.next_sm = SecureMessaging(Cipher.AES256, k_enc, k_mac, 0)
        self.ca_oid = None
        return tlv.encode(0x7C, b""), OK


def _oid(content: bytes) -> str:
    from asn1crypto import core

    return str(core.ObjectIdentifier.load(tlv.encode(0x06, content)).dotted)
