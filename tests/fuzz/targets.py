"""The fuzz targets: each takes bytes and runs the real parser (or exchange) on them.

Each target's contract is in its ``Target``: which exceptions are the product's clear refusal.
Everything else is a crash (see ``tests.fuzz.contract``). Used by
``tests/security/test_hostile_input.py`` (a few hundred examples each) and by
``bench/fuzz_bench.py`` (coverage-guided, 100,000 inputs each).
"""

from __future__ import annotations

import atexit
import functools
import math
import re
import shutil
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image

from devices.cardsim.signers import rsa_test_csca
from devices.nfc import lds, passive, securityinfo, tlv
from devices.nfc.crypto import Cipher, encrypt, pad
from devices.nfc.pcsc import atr_allows_extended
from devices.nfc.reader import read_document
from devices.nfc.sm import SecureMessaging
from kiosk.demarches import (
    DefinitionError,
    Demarche,
    applicable_notes,
    load_file,
    load_translation,
    missing_required,
    required_documents,
    visible_steps,
)
from kiosk.identity.errors import HostileAnswer, IdentityError, MrzError
from kiosk.identity.model import MrzKey, Verdict
from kiosk.identity.mrz import parse_mrz
from kiosk.ports.national import (
    KioskRevoked,
    LocalPiece,
    OutgoingDossier,
    Refused,
    ServiceUnavailable,
)
from kiosk.settings.paths import assets_dir
from kiosk.updates import KINDS, MAX_BUNDLE_BYTES
from sync.client import HttpNationalApi
from tests.fuzz import seeds
from tests.fuzz.contract import ByteReader, Target, french, require
from tests.fuzz.hostile import HostileServer, card_seeds, genuine_chip, reader_random

# -- identity ---------------------------------------------------------------------------------


def mrz(data: bytes) -> None:
    """A MRZ as typed or scanned: the text, then the same lines as a list."""
    text = data.decode("utf-8", errors="replace")
    for given in (text, text.split("\n")):
        result = parse_mrz(given)
        require(len(result.lines) in (2, 3), "MRZ acceptée sans 2 ou 3 lignes")


def tlv_parse(data: bytes) -> None:
    """BER-TLV: the whole buffer, its first header, one expected object."""
    items = tlv.parse(data)
    require(sum(len(v) for _, v in items) <= len(data), "objets plus longs que la réponse")
    tag, length, head = tlv.header(data)
    require(head + length <= 3 + 4 + tlv.MAX_LENGTH, "en-tête TLV hors bornes")
    tlv.single(data, tag)


def lds_files(data: bytes) -> None:
    """A data group, parsed as the file its first tag names (as the reader knows which it read).

    An unknown first tag goes to EF.COM's parser, which must refuse it clearly.
    """
    parsers: dict[str, Callable[[bytes], object]] = {
        "COM": lds.com_groups,
        "DG1": lds.dg1_mrz,
        "DG2": lds.dg2_photo,
        "DG11": lambda d: lds.details(d, None),
        "DG12": lambda d: lds.details(None, d),
        "DG13": lds.dg13_fields,
    }
    name = lds.TAG_TO_NAME.get(data[0]) if data else None
    parsers.get(name or "COM", lds.com_groups)(data)


def security_infos(data: bytes) -> None:
    """EF.CardAccess (PACE options) and DG14 (Chip Authentication key)."""
    for info in securityinfo.pace_infos(data):
        require(info.curve.param_id == info.param_id, "courbe PACE incohérente")
    securityinfo.chip_auth_info(data)


@functools.cache
def _trust() -> passive.TrustStore:
    test = passive.TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])
    return passive.TrustStore([*test.certificates, rsa_test_csca()])  # for the RSA-PSS seed


def _cnie_groups() -> dict[str, bytes]:
    files = seeds.chip_files("cnie")
    return {name: files[name] for name in ("DG1", "DG2", "DG11", "DG13", "DG14")}


def passive_authentication(data: bytes) -> None:
    """An EF.SOD checked against the CNIe's genuine data groups."""
    result = passive.verify(data, _cnie_groups(), _trust())
    require(result.verdict in Verdict, "verdict inconnu")
    require(french(result.reason), "motif du verdict vide")


def secure_messaging(data: bytes) -> None:
    """A protected response: raw bytes, or objects MACed by a chip that holds the keys.

    Input layout: see ``seeds.sm_seeds``. Either raw bytes, or the objects a lying chip builds
    and MACs with the session keys (the MAC is right, everything else may be wrong).
    """
    r = ByteReader(data)
    mode = r.byte()
    cipher = list(Cipher)[mode & 3]
    k_enc, k_mac = seeds.SM_KEYS[cipher]
    terminal = SecureMessaging(cipher, k_enc, k_mac, ssc=41)
    if mode & 4:
        response = r.rest()
    else:
        chip = SecureMessaging(cipher, k_enc, k_mac, ssc=41)
        chip.ssc += 1  # as unwrap does, before computing the MAC
        marker, plain = r.byte(), r.chunk()
        sent = encrypt(cipher, k_enc, pad(plain, cipher.block), chip._iv())
        if mode & 8:
            sent = plain  # raw ciphertext: wrong lengths, wrong padding
        do87 = tlv.encode(0x87, bytes([marker ^ 0x01]) + sent)
        status, stray, sw = r.chunk(), r.chunk(), r.take(2)
        do99 = tlv.encode(0x99, status)
        cc = tlv.encode(0x8E, chip._mac(do87 + do99))
        response = do87 + do99 + stray + cc + sw
        if not mode & 8 and marker == 0 and not stray and len(sw) == 2:
            # Well formed, however odd the status: it must come out exactly as the chip sent it.
            expected = (plain, int.from_bytes(status, "big"))
            require(terminal.unwrap(response) == expected, "réponse protégée mal déchiffrée")
            return
    plain_out, sw_out = terminal.unwrap(response)
    require(sw_out >= 0 and isinstance(plain_out, bytes), "réponse déchiffrée invalide")


def atr(data: bytes) -> None:
    """The card's ATR (answer to reset): does it allow extended lengths."""
    require(isinstance(atr_allows_extended(data), bool), "ATR sans réponse")


def read_hostile_card(data: bytes) -> None:
    """A whole read (BAC, files, Passive Authentication, photo) of a chip that lies."""
    chip = genuine_chip().armed(data)
    holder = chip.profile.holder
    access = MrzKey(holder.document_number, holder.birth, holder.expiry)
    reading = read_document(chip, access, trust=_trust(), rng=reader_random)
    require(french(reading.verdict_reason), "lecture sans motif de verdict")
    require(reading.photo is None or isinstance(reading.photo, bytes), "photo invalide")


# -- procedure definitions ------------------------------------------------------------------

_ID = re.compile(rb'^id\s*=\s*"([a-z][a-z0-9_]*)"', re.MULTILINE)
_VERSION = re.compile(rb"^version\s*=\s*([1-9][0-9]{0,5})\s*$", re.MULTILINE)


@functools.cache
def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="pn-fuzz-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)  # libFuzzer's exit skips it: the
    return path  # bench points TMPDIR into a folder of its own, which it removes itself


def _named(data: bytes) -> Path:
    """The file the loader reads: named after the id and version inside, when it has them."""
    found_id, found_version = _ID.search(data), _VERSION.search(data)
    name = found_id.group(1).decode() if found_id else "fuzz"
    version = int(found_version.group(1)) if found_version else 1
    path = _workdir() / f"{name}.v{version}.toml"
    path.write_bytes(data)
    return path


# tomllib's own words: a reason quoting them was not translated for the definition's author.
_ENGLISH = re.compile(r"\b(?:Invalid|Expected|Cannot|Found|Illegal|Unclosed|Unterminated|Unescaped|"
                      r"Duplicate|Escaped)\b")  # fmt: skip


@contextmanager
def _french_reason() -> Iterator[None]:
    try:
        yield
    except DefinitionError as exc:
        said = re.sub(r"«[^»]*»", "", exc.reason)  # not what the file itself says
        require(not _ENGLISH.search(said), f"message de tomllib non traduit : {exc.reason}")
        raise


def definition(data: bytes) -> None:
    """A definition file, loaded and checked, then evaluated with no answers yet."""
    with _french_reason():
        demarche = load_file(_named(data))
    _evaluate(demarche)


def _evaluate(demarche: Demarche) -> None:
    visible_steps(demarche, {})
    missing_required(demarche, {})
    required_documents(demarche, {})
    applicable_notes(demarche, {})


@functools.cache
def _shipped() -> dict[tuple[str, int], Demarche]:
    folder = assets_dir() / "demarches"
    loaded = (load_file(p) for p in sorted(folder.glob("*.toml")))
    return {(d.id, d.version): d for d in loaded}


def translation(data: bytes) -> None:
    """A translation file, checked against the shipped démarche it names (see
    ``seeds.translation_seeds`` for the layout)."""
    r = ByteReader(data)
    keys = seeds.demarche_keys()
    demarche_id, version = keys[r.byte() % len(keys)]
    lang = seeds.LANGS[r.byte() & 1]
    path = _workdir() / f"{demarche_id}.v{version}.{lang}.toml"
    path.write_bytes(r.rest())
    with _french_reason():
        load_translation(path, _shipped())


# -- national API ---------------------------------------------------------------------------


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # loading the system's CAs costs 15 ms: once


def national_api(data: bytes) -> None:
    """One call of the real HTTP client (first byte: file, changes, bundles) to a liar."""
    r = ByteReader(data)
    operation = r.byte() % 3
    server = HostileServer(r)
    api = HttpNationalApi(
        "https://national.invalid",
        "borne-fuzz",
        "secret-fuzz",
        transport=httpx.MockTransport(server),
        chunk_size=64,
        tls=_tls(),
    )
    try:
        _national_call(api, operation)
    except ServiceUnavailable as exc:
        wait = exc.retry_after
        require(wait is None or 0 <= wait < math.inf, f"Retry-After invalide : {wait}")
        raise
    finally:
        api.close()
    quota = api.quota
    rate = quota.rate
    require(rate is None or 0 <= rate < math.inf, f"débit annoncé invalide : {rate}")
    require(quota.capacity is None or 0 < quota.capacity < 1e9, "capacité annoncée invalide")
    require(quota.fleet is None or 0 < quota.fleet <= 10_000_000, "flotte annoncée invalide")
    booked = quota.next_in
    require(booked is None or 0 <= booked <= 86_400, f"place réservée invalide : {booked}")


def _national_call(api: HttpNationalApi, operation: int) -> None:
    """File a dossier with one document, read the changes, or read the signed bundles
    published and fetch the first."""
    if operation == 0:
        piece = LocalPiece(
            seeds.PIECE_SHA, Path("piece.pdf"), len(seeds.PIECE), "application/pdf",
            read=lambda _: seeds.PIECE,
        )  # fmt: skip
        dossier = OutgoingDossier(
            seeds.DOSSIER_ID, seeds.DOSSIER_ID, "PN-7K3M-Q9TX", {"a": 1}, (piece,)
        )
        ack = api.submit(dossier)
        require(isinstance(ack.national_number, str), "numéro national qui n'est pas un texte")
    elif operation == 1:
        page = api.changes(None)
        require(isinstance(page.cursor, str), "curseur qui n'est pas un texte")
        for change in page.changes:
            texts = (change.dossier_id, change.national_number, change.status, *change.missing)
            require(all(isinstance(t, str) for t in texts), "changement mal typé")
            require(change.reason is None or isinstance(change.reason, str), "motif mal typé")
    else:
        for published in api.bundles()[:1]:
            require(published.kind in KINDS, f"type de paquet inconnu : {published.kind!r}")
            bundle = api.bundle(published.kind, published.serial, MAX_BUNDLE_BYTES)
            files = [isinstance(n, str) and isinstance(c, bytes) for n, c in bundle.files]
            require(all(files), "fichier de paquet mal typé")


# -- the registry ---------------------------------------------------------------------------

_PARSERS = (IdentityError,)
#: A JPEG 2000 header claiming 100 megapixels: Pillow warns, the photo is dropped.
_BOMB = (Image.DecompressionBombWarning,)

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("mrz", "kiosk.identity.mrz.parse_mrz", mrz, (MrzError,), seeds.mrz_seeds, 512),
        Target("tlv", "devices.nfc.tlv", tlv_parse, (HostileAnswer,), seeds.tlv_seeds, 1024),
        Target("lds", "devices.nfc.lds (COM, DG1, DG2, DG11-13)", lds_files, _PARSERS,
               seeds.lds_seeds, 2048, time_limit=5.0, tolerated=_BOMB),
        Target("securityinfo", "devices.nfc.securityinfo (EF.CardAccess, DG14)", security_infos,
               (HostileAnswer,), seeds.security_info_seeds, 1024),
        Target("sod", "devices.nfc.sod + passive.verify", passive_authentication, _PARSERS,
               seeds.sod_seeds, 4096),
        Target("sm", "devices.nfc.sm.SecureMessaging.unwrap", secure_messaging,
               (HostileAnswer,), seeds.sm_seeds, 1024),
        Target("atr", "devices.nfc.pcsc.atr_allows_extended", atr, (), seeds.atr_seeds, 64),
        Target("lecture", "devices.nfc.reader.read_document (BAC) vs hostile chip",
               read_hostile_card, _PARSERS, card_seeds, 512, time_limit=5.0, tolerated=_BOMB),
        Target("demarche", "kiosk.demarches.load_file + evaluation", definition,
               (DefinitionError,), seeds.definition_seeds, 16384),
        Target("traduction", "kiosk.demarches.load_translation", translation,
               (DefinitionError,), seeds.translation_seeds, 16384),
        Target("api_nationale", "sync.client.HttpNationalApi vs hostile server", national_api,
               # A revocation is an answer the service may give to anything (docs/sites.md).
               (ServiceUnavailable, Refused, KioskRevoked), seeds.national_seeds, 8192,
               server_text=(Refused,)),
    )
}  # fmt: skip
