"""Chip Authentication (ICAO 9303 Part 11 §6.2, ECDH) : proves the chip is not a clone.

DG14 carries the chip's static public key, signed through the SOD. The terminal sends an
ephemeral key; both sides derive new secure-messaging keys from the ECDH secret, and only a chip
holding the matching private key can speak under them afterwards.
"""

from __future__ import annotations

from devices.nfc import ec, tlv
from devices.nfc.apdu import SW_OK, CardStatusError, CommandApdu
from devices.nfc.pace import oid_bytes, session_keys
from devices.nfc.securityinfo import ChipAuthInfo
from devices.nfc.sm import SecureMessaging, SecureTransport


def authenticate(channel: SecureTransport, info: ChipAuthInfo, rng: ec.Random) -> SecureMessaging:
    """Run CA over the current channel; return the new session (SSC = 0) to switch to."""
    curve = info.curve
    chip_key = ec.decode(curve, info.public_key)
    private = ec.random_scalar(curve, rng)
    public = ec.encode(curve, ec.public(curve, private))
    mse = tlv.encode(0x80, oid_bytes(info.oid))
    if info.key_id is not None:
        mse += tlv.encode(0x84, info.key_id.to_bytes(1, "big"))
    _, sw = channel.send(CommandApdu(0x00, 0x22, 0x41, 0xA4, mse))
    if sw != SW_OK:
        raise CardStatusError(sw, "Chip Authentication")
    data = tlv.encode(0x7C, tlv.encode(0x80, public))
    _, sw = channel.send(CommandApdu(0x00, 0x86, 0x00, 0x00, data, ne=256))
    if sw != SW_OK:
        raise CardStatusError(sw, "Chip Authentication")
    k_enc, k_mac = session_keys(info.cipher, ec.x_bytes(curve, chip_key * private))
    return SecureMessaging(info.cipher, k_enc, k_mac, 0)
