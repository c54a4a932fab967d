"""The two signatures of Passive Authentication: ECDSA, RSA PKCS#1 v1.5 and RSASSA-PSS.

ICAO 9303-12 lets a Document Signer sign the SOD, and a CSCA sign the DS certificate, with any
of the three. One function checks both signatures, so both follow the same rules: the algorithm
identifier says how to verify (never the key alone), the key must be of that kind, and
RSASSA-PSS takes its hash, mask generation function, salt length and trailer field from its
RSASSA-PSS-params (RFC 4055 §3.1), each absent field meaning its default: SHA-1, MGF1 with
SHA-1, 20 bytes, trailer field 1.

Three outcomes: the signature verifies (the function returns); it does not (``InvalidSignature``:
falsifié); or the kiosk cannot tell, because the document uses something it does not know
(``UnsupportedSignature``, with a French reason: non vérifié). Malformed ASN.1 raises what
asn1crypto raises when the field is read (``ValueError``, ``TypeError``, ``KeyError``); the
caller treats that as a signature that does not verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import algos, cms, core, keys
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key

from devices.nfc.ec import CURVES, Curve

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,  # older passports still sign with SHA-1, and it is PSS's default
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
#: id-mgf1 (PKCS #1): the only mask generation function RFC 4055 defines.
MGF1 = "1.2.840.113549.1.1.8"
#: The key-type identifiers some signers put in a SignerInfo instead of "hash with key"; the
#: hash is then the SignerInfo's digestAlgorithm (RFC 5754 §3.2, RFC 3370 §3.2).
_BARE = {"rsassa_pkcs1v15", "ecdsa"}


class UnsupportedSignature(Exception):
    """A signature the kiosk cannot check; ``reason`` says why, in French, for the agent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PssParameters:
    """RSASSA-PSS parameters, defaults applied."""

    hash_name: str
    mgf_hash: str
    salt_length: int


def pss_parameters(algorithm: algos.SignedDigestAlgorithm) -> PssParameters:
    """The RSASSA-PSS-params of ``algorithm``, with RFC 4055's defaults for absent fields.

    Parameters left out altogether are read as all defaults: RFC 4055 requires them beside a
    signature, but a signer omitting them can only have meant the defaults, and the signature
    must verify under them all the same.

    Raises:
        UnsupportedSignature: a mask generation function other than MGF1, a trailer field other
            than 1 (the only one RFC 4055 defines), or a hash the kiosk does not know.
    """
    params = algorithm["parameters"]
    if isinstance(params, core.Void):
        params = algos.RSASSAPSSParams()
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].dotted != MGF1:
        raise UnsupportedSignature(
            "RSA-PSS avec une fonction de génération de masque inconnue, "
            f"« {mgf['algorithm'].dotted} », au lieu de MGF1"
        )
    if params["trailer_field"].native != "trailer_field_bc":
        raise UnsupportedSignature(
            f"RSA-PSS avec un champ de fin « trailerField » valant {int(params['trailer_field'])}, "
            "alors que la norme RFC 4055 n'autorise que 1"
        )
    found = PssParameters(
        hash_name=str(params["hash_algorithm"]["algorithm"].native),
        mgf_hash=str(mgf["parameters"]["algorithm"].native),
        salt_length=int(params["salt_length"].native),
    )
    for name in (found.hash_name, found.mgf_hash):
        if name not in HASHES:
            raise UnsupportedSignature(f"RSA-PSS avec un algorithme d'empreinte inconnu « {name} »")
    return found


def verify(
    key: PublicKeyTypes,
    signature: bytes,
    data: bytes,
    algorithm: algos.SignedDigestAlgorithm,
    digest: str | None = None,
) -> None:
    """Verify ``signature`` over ``data`` as ``algorithm`` says, with ``key``.

    Args:
        key: the signer's public key (the DS's for the SOD, the CSCA's for the DS certificate).
        signature: the signature value.
        data: what was signed (the signed attributes, or the certificate's TBS part).
        algorithm: the signature algorithm identifier that came with the signature.
        digest: the SignerInfo's digest algorithm (``"sha256"``), used only when ``algorithm``
            names a bare key type (rsaEncryption, id-ecPublicKey) instead of a hash with it.

    Raises:
        InvalidSignature: the signature does not verify (or cannot, with this key).
        UnsupportedSignature: an algorithm or parameter the kiosk does not know.
    """
    name = str(algorithm["algorithm"].native)
    try:
        kind = algorithm.signature_algo
    except ValueError:
        raise UnsupportedSignature(f"algorithme de signature inconnu « {name} »") from None
    if kind == "rsassa_pss":
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature("RSA-PSS signature, key is not RSA")
        params = pss_parameters(algorithm)
        chosen = HASHES[params.hash_name]()
        room = (key.key_size - 1 + 7) // 8 - chosen.digest_size - 2  # RFC 8017 §9.1.1
        if not 0 <= params.salt_length <= room:  # no signature can have such a salt
            raise InvalidSignature("PSS salt length impossible for this key")
        pss = padding.PSS(padding.MGF1(HASHES[params.mgf_hash]()), params.salt_length)
        key.verify(signature, data, pss, chosen)
        return
    hash_name = _hash_of(algorithm, name) if name not in _BARE else digest
    if hash_name is None:  # a bare key type where no digest algorithm goes with it
        raise UnsupportedSignature(
            f"algorithme de signature « {name} » sans algorithme d'empreinte"
        )
    if hash_name not in HASHES:
        raise UnsupportedSignature(f"algorithme d'empreinte inconnu « {hash_name} »")
    chosen = HASHES[hash_name]()
    if kind == "ecdsa":
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature("ECDSA signature, key is not EC")
        key.verify(signature, data, ec.ECDSA(chosen))
    elif kind == "rsassa_pkcs1v15":
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature("RSA signature, key is not RSA")
        key.verify(signature, data, padding.PKCS1v15(), chosen)
    else:
        raise UnsupportedSignature(f"algorithme de signature « {kind} », non prévu par l'OACI")


def _hash_of(algorithm: algos.SignedDigestAlgorithm, name: str) -> str:
    try:
        return str(algorithm.hash_algo)
    except ValueError:  # e.g. ECDSA with SHA-3: asn1crypto knows the OID, not its hash
        raise UnsupportedSignature(f"algorithme de signature « {name} »") from None


def public_key(info: keys.PublicKeyInfo) -> PublicKeyTypes:
    """The key of a SubjectPublicKeyInfo, an EC key with explicit curve parameters included.

    Several countries' Document Signers (and some CSCAs) write their curve's domain parameters
    instead of its name (RFC 3279 §2.3.5); cryptography loads those for three NIST curves only.
    The parameters are compared with every curve the kiosk knows (``devices.nfc.ec.CURVES``:
    field, coefficients, base point, order) and the key reloaded under the curve's name.

    Raises:
        UnsupportedSignature: a key type or curve the kiosk does not know.
        ValueError: the key is malformed.
    """
    params = info["algorithm"]["parameters"] if info.algorithm == "ec" else None
    if params is not None and params.name == "specified":
        curve = _named_curve(params.chosen)
        info = keys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": "ec", "parameters": ("named", curve.oid)},
                "public_key": info["public_key"],
            }
        )
    try:
        return load_der_public_key(info.dump(force=True))
    except UnsupportedAlgorithm:
        raise UnsupportedSignature(f"clé publique d'un type inconnu « {info.algorithm} »") from None


def _named_curve(domain: keys.SpecifiedECDomain) -> Curve:
    p = int(domain["field_id"]["parameters"].native)
    a = int.from_bytes(bytes(domain["curve"]["a"].native), "big")
    b = int.from_bytes(bytes(domain["curve"]["b"].native), "big")
    base = bytes(domain["base"].native)
    order = int(domain["order"].native)
    for curve in CURVES.values():
        known = curve.ecdsa_curve.curve
        g = curve.generator
        size = curve.size
        if (p, a % p, b % p, order) == (known.p(), known.a() % p, known.b() % p, curve.order) and (
            base == b"\x04" + int(g.x()).to_bytes(size, "big") + int(g.y()).to_bytes(size, "big")
            or base == bytes([2 + int(g.y()) % 2]) + int(g.x()).to_bytes(size, "big")
        ):
            return curve
    raise UnsupportedSignature("courbe elliptique aux paramètres explicites inconnus")


def verify_signer_info(signer: cms.SignerInfo, content: bytes, key: PublicKeyTypes) -> None:
    """Verify a CMS SignerInfo over ``content`` (an EF.SOD's, a master list's).

    With signed attributes, their message digest must be the content's and the signature is
    over their DER SET OF (RFC 5652 §5.4); without, over the content itself.

    Raises:
        InvalidSignature, UnsupportedSignature: as ``verify``; ValueError, TypeError, KeyError
            for a malformed SignerInfo.
    """
    attrs = signer["signed_attrs"]
    signed = content
    digest_algo = signer["digest_algorithm"]["algorithm"].native
    if attrs.native:
        digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
        if not digests or digests[0] != hashlib.new(digest_algo, content).digest():
            raise InvalidSignature("message digest")
        signed = b"\x31" + attrs.dump()[1:]  # signed over the SET OF, not the [0] tag
    verify(
        key, bytes(signer["signature"].native), signed, signer["signature_algorithm"], digest_algo
    )
