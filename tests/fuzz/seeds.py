"""Real inputs to start fuzzing from: genuine chip files, shipped definitions, contract answers.

Chip files come from the card simulator (``devices/cardsim``), which builds and signs them with
the TEST ONLY Document Signer, so a seed SOD is a genuine one. The face image is replaced by a
tiny one (re-signed, still genuine): a 20 KB JPEG 2000 costs 20 ms to decode, and every mutated
copy of it would too. National answers are built from the schemas of ``docs/national-api.json``.
"""

from __future__ import annotations

import functools
import io
import json
import uuid
from pathlib import Path
from typing import Any

from devices.cardsim.chip import SimulatedChip
from devices.cardsim.profiles import (
    CNIE,
    PASSPORT,
    PROFILES,
    _card_access,
    _facial_record,
    build_groups,
    document_signer,
    sign_sod,
)
from devices.cardsim.signers import Pss, rsa_pss_signer
from devices.nfc import tlv
from devices.nfc.crypto import Cipher
from devices.nfc.lds import FILES
from devices.nfc.sm import SecureMessaging
from kiosk.demarches.loader import FILE_NAME_RE, I18N_DIR
from kiosk.demarches.translation import TRANSLATION_NAME_RE
from kiosk.settings.paths import assets_dir
from tests.fuzz.contract import encode_chunk

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "national-api.json"

#: What the hostile national server's client files (``tests.fuzz.targets``).
DOSSIER_ID = str(uuid.UUID(int=0x5EED))
PIECE = b"%PDF-1.7 fuzz " * 7
PIECE_SHA = "9" * 64
UPLOAD_PATH = "/v1/televersements/u-1"
#: Languages of the translation target (a byte picks one).
LANGS = ("en", "ar")
#: Secure-messaging keys of the SM target, per cipher (the chip and the terminal share them).
SM_KEYS = {c: (bytes(range(c.key_length)), bytes(range(1, c.key_length + 1))) for c in Cipher}


# -- identity documents ---------------------------------------------------------------------


@functools.cache
def tiny_image(kind: str) -> bytes:
    """An 8 × 10 face, as JPEG (``jpg``) or JPEG 2000 (``jp2``)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 10), (200, 170, 150)).save(out, "JPEG2000" if kind == "jp2" else "JPEG")
    return out.getvalue()


def dg2(image: bytes, *, jp2: bool) -> bytes:
    """DG2 holding ``image``, laid out as the simulator lays out the genuine one."""
    header = tlv.encode(0xA1, tlv.encode(0x80, b"\x01\x01") + tlv.encode(0x87, b"\x01\x01"))
    record = _facial_record(image, jp2)  # the simulator's ISO/IEC 19794-5 record
    template = tlv.encode(0x7F60, header + tlv.encode(0x5F2E, record))
    return tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + template))


@functools.cache
def chip_files(profile_name: str) -> dict[str, bytes]:
    """Every file of a genuine document with a tiny photo, by name (``COM``, ``DG1`` … ``SOD``)."""
    profile = PROFILES[profile_name]
    groups = build_groups(profile)
    jp2 = profile.photo_format == "jp2"
    groups["DG2"] = dg2(tiny_image("jp2" if jp2 else "jpg"), jp2=jp2)
    files = dict(groups)
    files["SOD"] = sign_sod(groups, document_signer(profile))
    tags = bytes(FILES[name][1] for name in groups)
    files["COM"] = tlv.encode(
        0x60,
        tlv.encode(0x5F01, b"0108") + tlv.encode(0x5F36, b"040000") + tlv.encode(0x5C, tags),
    )
    files["CardAccess"] = _card_access(profile)
    return files


def mrz_seeds() -> list[bytes]:
    """The simulator's TD1 and TD3, the ICAO and old French CNI specimens, typed variants."""
    lines = [
        CNIE.mrz(),
        PASSPORT.mrz(),
        (
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
        ),
        ("IDFRADOUEL<<<<<<<<<<<<<<<<<<<<932013", "0506932020438CHRISTIANE<<NI2906209F3"),
    ]
    out = [("\n".join(mrz)).encode() for mrz in lines]
    out += ["".join(mrz).encode() for mrz in lines]  # pasted as one line
    out.append("idfrax4rtbpfw46\n900713 8 f 300211 9 fra«««««««««««6\nmartin<<maelys".encode())
    out.append(b"Bonjour, voici ma carte.\n\n")
    return out


def lds_seeds() -> list[bytes]:
    """Every data group of a CNIe and a passport (both photo formats)."""
    out: list[bytes] = []
    for profile in ("cnie", "passport", "passport-bac"):
        files = chip_files(profile)
        out += [v for k, v in files.items() if k not in ("SOD", "CardAccess", "DG14")]
    return out


def security_info_seeds() -> list[bytes]:
    """EF.CardAccess of each profile (PACE GM, IM, both) and the CNIe's DG14."""
    out = [chip_files(p)["CardAccess"] for p in ("cnie", "cnie-im", "passport")]
    dg14 = chip_files("cnie")["DG14"]
    return [*out, dg14, tlv.single(dg14, 0x6E)]


def sod_seeds() -> list[bytes]:
    """Genuine EF.SOD of the CNIe (whose groups the target checks), bare and wrapped; others.

    One is signed with RSASSA-PSS (SHA-512, 64-byte salt) by the RSA Document Signer, over the
    CNIe's groups too, so that mutations reach the PSS parameters and the RSA chain.
    """
    files = chip_files("cnie")
    cnie = files["SOD"]
    groups = {name: data for name, data in files.items() if name.startswith("DG")}
    pss = sign_sod(groups, rsa_pss_signer(Pss("sha512", "sha512", 64)))
    return [cnie, tlv.single(cnie, 0x77), chip_files("passport")["SOD"], pss]


def tlv_seeds() -> list[bytes]:
    """Chip files and answers: TLV as the card sends it."""
    files = chip_files("cnie")
    pace_answer = tlv.encode(0x7C, tlv.encode(0x80, bytes(16)))
    return [files["COM"], files["DG1"], files["DG11"], files["DG13"], files["DG2"], pace_answer]


def sm_seeds() -> list[bytes]:
    """Protected answers: data and 9000, status only, a refusal; then raw genuine ones.

    Input layout of the SM target: a mode byte (bits 0-1 the cipher, bit 2 raw bytes, bit 3
    raw ciphertext), then the DO87 marker (xor 01), the plaintext, the DO99 value, stray bytes
    between the objects and the MAC, and the status word.
    """
    out = []
    for index, cipher in enumerate(Cipher):
        for data, sw in ((b"\x61\x05\x5f\x1f\x02AB", b"\x90\x00"), (b"", b"\x6a\x82")):
            out.append(
                bytes([index, 0]) + encode_chunk(data) + encode_chunk(sw) + encode_chunk(b"") + sw
            )
        chip = SecureMessaging(cipher, *SM_KEYS[cipher], ssc=41)
        out.append(bytes([index | 4]) + chip.wrap_response(b"\x60\x03\x5c\x01\x61", 0x9000))
    return out


def atr_seeds() -> list[bytes]:
    """The simulator's ATR and two common contactless ones."""
    return [
        SimulatedChip.ATR,
        bytes.fromhex("3B8F8001804F0CA0000003060300030000000068"),
        bytes.fromhex("3B8A80018031F873F741E082900075"),
    ]


# -- definitions ----------------------------------------------------------------------------


def definition_seeds() -> list[bytes]:
    """The procedure definitions shipped in ``assets/demarches``."""
    return [p.read_bytes() for p in sorted((assets_dir() / "demarches").glob("*.toml"))]


def demarche_keys() -> list[tuple[str, int]]:
    """``(id, version)`` of the shipped definitions, in the order the translation target uses."""
    names = (FILE_NAME_RE.match(p.name) for p in (assets_dir() / "demarches").glob("*.toml"))
    return sorted((m.group(1), int(m.group(2))) for m in names if m)


def translation_seeds() -> list[bytes]:
    """The translations shipped in ``assets/demarches/i18n``, each after its démarche and language.

    Input layout of the translation target: one byte for the démarche (index into
    ``demarche_keys()``), one for the language (even: English, odd: Arabic), then the file.
    """
    keys = demarche_keys()
    out = []
    for path in sorted((assets_dir() / "demarches" / I18N_DIR).glob("*.toml")):
        match = TRANSLATION_NAME_RE.match(path.name)
        assert match is not None
        index = keys.index((match.group(1), int(match.group(2))))
        out.append(bytes([index, LANGS.index(match.group(3))]) + path.read_bytes())
    return out


# -- national API ---------------------------------------------------------------------------


@functools.cache
def _contract() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return data


def example(schema: dict[str, Any]) -> Any:
    """A valid instance of a contract schema: its examples, consts and enums, every property."""
    if "$ref" in schema:
        node: Any = _contract()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return example(node)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(example(part))
        return merged
    if "examples" in schema:
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type", "object")
    kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
    if kind == "object":
        return {k: example(v) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}))]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return {"uuid": DOSSIER_ID, "date": "1990-07-13"}.get(schema.get("format", ""), "texte")


def response(schema: str) -> dict[str, Any]:
    """A valid answer body of the named component schema."""
    value: dict[str, Any] = example({"$ref": f"#/components/schemas/{schema}"})
    return value


#: Statuses the hostile server draws from (a byte picks one; 0xF0 and above: any code).
STATUSES = (200, 201, 202, 204, 400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 302)
#: Headers it may send (a byte picks one, its value follows).
HEADERS = (
    "Content-Type",
    "Retry-After",
    "RateLimit-Policy",
    "Upload-Offset",
    "Idempotent-Replayed",
    "Content-Encoding",
    "Location",
    "Content-Length",
    "Service-Capacity",
    "Next-Request-In",
)
JSON = "application/json"
PROBLEM = "application/problem+json"


def answer(status: int, body: Any = None, **headers: str) -> bytes:
    """One encoded server answer (status, headers, body) as the hostile server reads it."""
    out = bytes([STATUSES.index(status)])
    named = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    if body is not None and not isinstance(body, bytes) and "content-type" not in named:
        named["content-type"] = JSON
    out += bytes([len(named)])
    for name, value in named.items():
        index = [h.lower() for h in HEADERS].index(name)
        out += bytes([index]) + encode_chunk(value.encode())
    if body is None or isinstance(body, bytes):
        content = body or b""
    else:
        content = json.dumps(body, ensure_ascii=False).encode()
    return out + encode_chunk(content)


def national_seeds() -> list[bytes]:
    """Valid exchanges of each call, then the contract's refusals and throttles."""
    token = answer(200, response("Jeton"), ratelimit_policy="q=10;w=1")
    depot = response("Depot")
    depot.update(id=DOSSIER_ID)
    depot["pieces"][0].update(sha256=PIECE_SHA, taille=len(PIECE), televersement=UPLOAD_PATH)
    filed = answer(201, depot, idempotent_replayed="true")
    head = [answer(200, upload_offset=str(offset)) for offset in (0, 64, len(PIECE))]
    patched = answer(204, upload_offset="64")
    submit = b"\x00" + token + filed + head[0] + patched + head[1] + patched + head[2]
    changes = b"\x01" + token + answer(200, response("PageChangements"))
    bundles = b"\x02" + token + answer(200, {"paquets": [response("Paquet")]})
    bundles += answer(200, response("PaquetSigne"))
    validation = response("ProblemeValidation")
    problem = response("Probleme")
    refused = b"\x00" + token + answer(422, validation, content_type=PROBLEM)
    slow_down = b"\x01" + token + answer(429, problem, content_type=PROBLEM, retry_after="30")
    down = b"\x02" + token + answer(503, problem, content_type=PROBLEM, retry_after="120")
    expired = b"\x01" + token + answer(401, problem, content_type=PROBLEM) + token
    portal = b"\x00" + token + answer(200, b"<html>Wi-Fi gratuit</html>", content_type="text/html")
    return [submit, changes, bundles, refused, slow_down, down, expired, portal]
