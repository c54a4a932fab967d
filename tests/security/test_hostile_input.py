"""Hostile input: every parser refuses garbage with its own French error, never crashes or hangs.

The targets and their contracts are in ``tests/fuzz/targets.py``; ``bench/fuzz_bench.py`` runs
the same targets coverage-guided for 100,000 inputs each. Here hypothesis feeds them mutated real
inputs (genuine chip files, shipped definitions, contract answers), structured lies (any JSON in a
national answer, any TOML value in a definition) and random bytes. Below the properties, one
regression test per bug the fuzzing found, each with the input that used to crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import fuzz_bench
from devices.cardsim.profiles import CNIE, PASSPORT_BAC, PROFILES
from devices.cardsim.signers import rsa_test_csca
from devices.nfc import files, passive, securityinfo, tlv
from devices.nfc.lds import FILES
from devices.nfc.pace import oid_bytes
from devices.nfc.reader import CARD_ACCESS, read_document
from kiosk.demarches import DefinitionError, load_file
from kiosk.identity.errors import HostileAnswer, IdentityError, MrzError
from kiosk.identity.model import AccessKey, CanKey, IdentityReading, MrzKey, Verdict
from kiosk.identity.mrz import parse_mrz
from kiosk.ports.national import RateLimited, Refused, ServiceUnavailable
from kiosk.settings.paths import assets_dir
from sync.client import parse_rate_policy, parse_retry_after
from tests.fuzz import seeds
from tests.fuzz.contract import Crash, Hang, Target, french
from tests.fuzz.hostile import SET_DATA, SET_SW, Answer, ShortReadChip, genuine_chip, reader_random
from tests.fuzz.seeds import PROBLEM, answer, response
from tests.fuzz.targets import TARGETS

FAST = settings(
    max_examples=400,
    deadline=None,  # the target's own time limit is the hang check
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=120)


@st.composite
def mutated(draw: st.DrawFn, pool: list[bytes], max_len: int = 4096) -> bytes:
    """A real input with a few edits (bits, bytes, lengths, cuts), or random bytes."""
    if not pool or draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=min(max_len, 256)))
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]))
        if op in ("flip", "set") and data:
            pos %= len(data)
            value = draw(
                st.sampled_from([0x00, 0x80, 0x81, 0x82, 0x84, 0xFF]) | st.integers(0, 255)
            )
            data[pos] = data[pos] ^ (1 << (value % 8)) if op == "flip" else value
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 32))]
        else:
            del data[pos:]
    return bytes(data[:max_len])


# -- properties: every target, mutated real inputs -------------------------------------------------


@pytest.mark.parametrize(
    "name", ["mrz", "tlv", "lds", "securityinfo", "sod", "sm", "atr", "api_nationale"]
)
def test_mutated_real_inputs_are_accepted_or_clearly_refused(name: str) -> None:
    target = TARGETS[name]

    @FAST
    @given(mutated(target.seeds(), target.max_len))
    def property_(data: bytes) -> None:
        target.check(data)  # raises Crash or Hang when the contract is broken

    property_()


@pytest.mark.parametrize("name", ["lecture", "demarche", "traduction"])
def test_slow_targets_with_mutated_real_inputs(name: str) -> None:
    target = TARGETS[name]

    @SLOW
    @given(mutated(target.seeds(), target.max_len))
    def property_(data: bytes) -> None:
        target.check(data)

    property_()


MRZ_TEXT = st.text(
    alphabet=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<<<<<«\n ²³١٣abcßé-"),
    max_size=120,
)


@FAST
@given(MRZ_TEXT | st.text(max_size=120))
def test_any_typed_mrz_parses_or_says_which_line_is_wrong(text: str) -> None:
    try:
        mrz = parse_mrz(text)
    except MrzError as exc:
        message = str(exc)
    else:
        message = "acceptée"
        assert mrz.key_seed.isascii() and all(line.isascii() for line in mrz.lines)
    assert french(message)


# -- structured lies -------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@st.composite
def contract_answer_with_a_lie(draw: st.DrawFn) -> bytes:
    """A valid exchange of the contract, one of whose JSON values is replaced by anything."""
    operation = draw(st.integers(0, 2))
    body = response(["Depot", "PageChangements", "Paquet"][operation])
    if operation == 2:
        body = {"paquets": [body]}
    if operation == 0:
        body.update(id=seeds.DOSSIER_ID)
        body["pieces"][0].update(sha256=seeds.PIECE_SHA, televersement=seeds.UPLOAD_PATH)
    node = body
    path = draw(st.lists(st.integers(0, 5), max_size=3))
    for step in path:  # walk down a few levels, then lie about what is there
        if isinstance(node, dict) and node:
            key = sorted(node)[step % len(node)]
            if isinstance(node[key], dict | list) and node[key]:
                node = node[key]
                continue
            node[key] = draw(JSON)
            break
        if isinstance(node, list) and node:
            node = node[step % len(node)]
    status = draw(st.sampled_from([200, 201, 202, 409, 422, 429, 503]))
    headers = draw(
        st.dictionaries(
            st.sampled_from(["retry_after", "ratelimit_policy", "upload_offset", "content_type"]),
            st.sampled_from(["30", "q=10;w=1", "0", PROBLEM, "²", "9" * 400, "q=1e9;w=0"])
            | st.text(alphabet=st.characters(codec="latin-1"), max_size=12),
        )
    )
    token = answer(200, response("Jeton"))
    return bytes([operation]) + token + answer(status, body, **headers)


@FAST
@given(contract_answer_with_a_lie())
def test_the_client_turns_any_lie_of_the_server_into_a_clear_outcome(data: bytes) -> None:
    TARGETS["api_nationale"].check(data)


TOML_VALUE = st.sampled_from(
    ["[]", "{}", "1", "-0", "1.5", "inf", "nan", "true", "1979-05-27", "07:32:00", '""', "[[1]]",
     '{ champ = "x" }', '[{ id = "a" }]', '"\\u00e9"', "'x'", '"""\n"""', "9" * 30, '["a", 1]']
)  # fmt: skip


@st.composite
def definition_with_a_wrong_value(draw: st.DrawFn) -> bytes:
    """A shipped definition, one of whose ``key = value`` lines gets a value of another type."""
    text = draw(st.sampled_from(seeds.definition_seeds())).decode()
    lines = text.splitlines()
    assignments = [i for i, line in enumerate(lines) if " = " in line]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.sampled_from(assignments))
        key = lines[i].split(" = ", 1)[0]
        lines[i] = f"{key} = {draw(TOML_VALUE)}"
    return "\n".join(lines).encode()


@SLOW
@given(definition_with_a_wrong_value())
def test_a_definition_with_a_value_of_the_wrong_type_is_refused_clearly(data: bytes) -> None:
    TARGETS["demarche"].check(data)


@settings(FAST, max_examples=15)
@given(st.integers(0, 40), st.sampled_from([SET_SW, SET_DATA]), st.binary(max_size=6))
def test_a_cnie_lying_during_pace_or_chip_authentication(
    position: int, lie: int, value: bytes
) -> None:
    chip = genuine_chip("cnie").armed(bytes(position) + bytes([lie, len(value)]) + value)
    try:
        reading = read_document(chip, CanKey("123456"), trust=_trust(), rng=reader_random)
    except IdentityError as exc:
        message = str(exc)
    else:
        assert reading.verdict in Verdict
        message = reading.verdict_reason
    assert french(message)


def _trust() -> passive.TrustStore:
    return passive.TrustStore.from_paths([assets_dir() / "test-keys" / "csca.pem"])


# -- the harness itself ----------------------------------------------------------------------------


def test_the_seeds_are_genuine_a_chip_that_does_not_lie_is_authentic() -> None:
    for profile, access in (("passport-bac", None), ("cnie", CanKey("123456"))):
        chip = genuine_chip(profile).armed(b"")
        holder = chip.profile.holder
        key = access or MrzKey(holder.document_number, holder.birth, holder.expiry)
        reading = read_document(chip, key, trust=_trust(), rng=reader_random)
        assert reading.verdict is Verdict.AUTHENTIQUE, reading.verdict_reason
        assert reading.photo is not None
    for name in ("mrz", "lds", "sod", "demarche", "traduction", "api_nationale", "lecture"):
        target = TARGETS[name]
        accepted = [s for s in target.seeds() if target.check(s) is None]
        assert accepted, f"{name}: aucune graine acceptée"


def test_a_leaked_library_message_is_not_taken_for_french() -> None:
    assert not french("list index out of range")
    assert not french("   ")
    assert french("objet 7C attendu")
    assert french("Réponse inattendue du service national.")


def test_a_crash_and_a_hang_are_reported_not_swallowed() -> None:
    def boom(data: bytes) -> None:
        raise IndexError(data)

    def stuck(data: bytes) -> None:
        while True:
            pass

    with pytest.raises(Crash, match="IndexError"):
        Target("boom", "", boom, (HostileAnswer,), list).check(b"x")
    with pytest.raises(Hang):
        Target("stuck", "", stuck, (), list, time_limit=0.05).check(b"")


def test_the_bench_counts_inputs_without_atheris(capsys: pytest.CaptureFixture[str]) -> None:
    assert fuzz_bench.main(["mrz", "--runs", "300", "--engine", "mutation"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("mrz "))
    assert line.split()[1] == "300"
    assert "0 plantage(s), 0 blocage(s)" in out


# -- regressions: the bugs the fuzzing found -------------------------------------------------------


def test_mrz_with_a_superscript_digit_is_a_mrz_error_not_a_value_error() -> None:
    lines = list(CNIE.mrz())
    lines[1] = "²" + lines[1][1:]  # was: ValueError invalid literal for int() with base 10: '²'
    with pytest.raises(MrzError, match="impossible dans une bande MRZ"):
        parse_mrz(lines)


def test_security_infos_malformed_lazily_are_hostile_answers() -> None:
    missing_field = bytes.fromhex("3105300380010a")  # was: ValueError from asn1crypto
    with pytest.raises(HostileAnswer, match="SecurityInfos illisibles"):
        securityinfo.pace_infos(missing_field)
    key = tlv.encode(
        0x30,
        tlv.encode(0x30, tlv.encode(0x06, oid_bytes("1.2.840.10045.16129")))
        + tlv.encode(0x03, b"\x00\x04" + bytes(64)),
    )
    unknown_algorithm = tlv.encode(
        0x31, tlv.encode(0x30, tlv.encode(0x06, oid_bytes(securityinfo.PK_ECDH)) + key)
    )
    with pytest.raises(HostileAnswer, match="clé de Chip Authentication illisible"):
        securityinfo.chip_auth_info(unknown_algorithm)  # was: KeyError


SHA256 = bytes.fromhex("0609608648016503040201")
P256 = bytes.fromhex("06082a8648ce3d030107")


def _sod() -> bytes:
    return seeds.chip_files("cnie")["SOD"]


def _issuer_with_bad_utf8(sod: bytes) -> bytes:
    info = cms.ContentInfo.load(tlv.single(sod, 0x77))
    issuer = info["content"]["certificates"][0].chosen["tbs_certificate"]["issuer"].dump()
    broken = issuer.replace("numé".encode(), b"num\xc3\x28")
    return sod.replace(issuer, broken, 1)  # the certificate's, not the signer's reference


def _empty_message_digest(sod: bytes) -> bytes:
    info = cms.ContentInfo.load(tlv.single(sod, 0x77))
    signer = info["content"]["signer_infos"][0]
    empty = cms.CMSAttribute.load(bytes.fromhex("300d06092a864886f70d0109043100"))
    signer["signed_attrs"] = cms.CMSAttributes(
        [a if a["type"].native != "message_digest" else empty for a in signer["signed_attrs"]]
    )
    return tlv.encode(0x77, info.dump(force=True))


def _in_ds_certificate(field: str, old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """``old`` becomes ``new`` in a field of the DS certificate (not in the signer's reference)."""

    def edit(sod: bytes) -> bytes:
        info = cms.ContentInfo.load(tlv.single(sod, 0x77))
        value = info["content"]["certificates"][0].chosen["tbs_certificate"][field].dump()
        assert old in value
        return sod.replace(value, value.replace(old, new), 1)

    return edit


@pytest.mark.parametrize(
    ("sod", "verdict", "was"),
    [
        (lambda s: s.replace(SHA256, SHA256[:-1] + b"\x7f"), Verdict.FALSIFIE, "ValueError"),
        (lambda s: s.replace(SHA256, SHA256[:-1] + b"\x0b"), Verdict.FALSIFIE, "TypeError (SHAKE)"),
        (lambda s: s.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x5b", 1), Verdict.FALSIFIE,
         "InvalidVersion"),
        (_issuer_with_bad_utf8, Verdict.FALSIFIE, "ValueError parsing issuer"),
        (_empty_message_digest, Verdict.FALSIFIE, "IndexError"),
        (lambda s: s.replace(P256, P256[:-1] + b"\x7f"), Verdict.NON_VERIFIE,
         "UnsupportedAlgorithm"),
        (_in_ds_certificate("serial_number", b"\x02\x14\x55", b"\x02\x14\xd5"), Verdict.FALSIFIE,
         "CryptographyDeprecationWarning (serial number not positive)"),
        (_in_ds_certificate("subject", b"\x13\x02FR", b"\x1e\x02FR"), Verdict.FALSIFIE,
         "UserWarning (country name of 3 bytes: BMPString 'FR' is one character)"),
    ],
    ids=["hash-inconnu", "shake", "version-x509", "emetteur", "empreinte-vide", "courbe-inconnue",
         "serie-negative", "pays-bmp"],
)  # fmt: skip
def test_a_sod_the_kiosk_cannot_use_gives_a_verdict_not_a_crash(
    sod: Callable[[bytes], bytes], verdict: Verdict, was: str
) -> None:
    groups = {n: seeds.chip_files("cnie")[n] for n in ("DG1", "DG2", "DG11", "DG13", "DG14")}
    result = passive.verify(sod(_sod()), groups, _trust())
    assert result.verdict is verdict, was
    assert french(result.reason)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a = " + "[" * 5000 + "]" * 5000, "imbriquées trop profondément"),  # was: RecursionError
        ("a = " + "{ b = " * 3000 + "1" + " }" * 3000, "imbriquées trop profondément"),
        ("version = " + "9" * 5000, "plus de 4 300 chiffres"),  # was: ValueError from tomllib
    ],
    ids=["listes", "tables", "entier"],
)
def test_a_definition_tomllib_cannot_hold_is_a_definition_error(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "succession.v1.toml"
    path.write_text(f'id = "succession"\n{text}\n', encoding="utf-8")
    with pytest.raises(DefinitionError, match=reason):
        load_file(path)


@pytest.mark.parametrize(
    "text",
    ['a = "x\ny"', "a = 1\n\x01", "[a\n", "[[a\n", "a = {b=1, b=2}", "a = 'x", 'a = "\\q"',
     'a = "\\uZZZZ"', 'a = "\\uD800"', "a = {b = 1", "a = {b=1}\n[a.c]", "a = [1,", "é = 1"],
)  # fmt: skip
def test_every_toml_syntax_error_is_explained_in_french(tmp_path: Path, text: str) -> None:
    path = tmp_path / "succession.v1.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match="syntaxe TOML invalide") as caught:
        load_file(path)  # was: tomllib's English message after the French prefix
    assert french(caught.value.reason)
    english = r"Invalid|Expected|Found|Illegal|Unclosed|Unescaped|Escaped|Duplicate|Cannot"
    assert not re.search(english, caught.value.reason)


DOSSIER = seeds.DOSSIER_ID
TOKEN = answer(200, response("Jeton"))


@pytest.mark.parametrize(
    ("exchange", "error", "message"),
    [
        (b"\x01" + TOKEN + answer(200, b"[" * 50_000), ServiceUnavailable, "illisible"),
        (b"\x00" + TOKEN + answer(422, b"[" * 50_000, content_type=PROBLEM), ServiceUnavailable,
         "422"),
        (b"\x00" + TOKEN + answer(422, {"title": "Non", "erreurs": 5}, content_type=PROBLEM),
         Refused, "Non"),
        (b"\x00" + TOKEN + answer(422, {"detail": "  "}, content_type=PROBLEM), Refused,
         "Dossier refusé par le service national"),
        (b"\x01" + TOKEN + answer(429, {}, retry_after="²"), RateLimited, "ralentir"),
        (b"\x01" + answer(200, {"access_token": "a", "expires_in": int("9" * 400)}),
         ServiceUnavailable, "jeton"),
        (b"\x01" + TOKEN + answer(200, {"changements": [
            {"id": DOSSIER, "numero_national": "N", "statut": "refuse", "motif": {"a": 1}}],
            "curseur": "c"}), ServiceUnavailable, "inattendue"),
        (b"\x00" + TOKEN + answer(201, {"id": DOSSIER, "numero_national": "N",
                                        "statut": "depose", "pieces": 5}),
         ServiceUnavailable, "pieces, liste attendue"),
        (b"\x00" + TOKEN + answer(201, {"id": DOSSIER, "numero_national": "N",
                                        "statut": "depose", "pieces": ["x"]}),
         ServiceUnavailable, r"pieces\[0\], objet attendu"),
        (b"\x00" + TOKEN + answer(201, {"id": DOSSIER, "numero_national": "N",
                                        "statut": "depose", "pieces": [{"sha256": [1]}]}),
         ServiceUnavailable, r"pieces\[0\]\.taille, absent"),
        (b"\x02" + TOKEN + answer(200, {"paquets": [
            {"type": "demarches", "serie": float("inf"), "taille": 1}]}),
         ServiceUnavailable, "inattendue"),
    ],
    ids=["json-profond", "probleme-profond", "erreurs-entier", "detail-vide", "retry-exposant",
         "duree-jeton-400-chiffres", "motif-objet", "pieces-entier", "pieces-textes",
         "empreinte-liste", "serie-infinie"],
)  # fmt: skip
def test_a_lying_national_server_is_a_clear_outcome(
    exchange: bytes, error: type[Exception], message: str
) -> None:
    # was, in order: RecursionError ×2, TypeError, a blank reason, ValueError, OverflowError,
    # a dict reason passed on to the agent, TypeError, AttributeError, TypeError, OverflowError
    with pytest.raises(error, match=message):
        TARGETS["api_nationale"].run(exchange)


def test_upload_offset_that_is_not_a_number_is_an_unexpected_answer() -> None:
    depot = response("Depot")
    depot.update(id=DOSSIER)
    depot["pieces"][0].update(sha256=seeds.PIECE_SHA, televersement=seeds.UPLOAD_PATH)
    exchange = b"\x00" + TOKEN + answer(201, depot) + answer(200, upload_offset="64\x00\x03")
    with pytest.raises(ServiceUnavailable, match="téléversement"):  # was: ValueError
        TARGETS["api_nationale"].run(exchange)


def test_retry_after_and_rate_policy_never_give_infinity() -> None:
    assert parse_retry_after("9" * 400, now=0) is None
    assert parse_retry_after("²", now=0) is None  # was: ValueError
    assert parse_retry_after("120", now=0) == 120.0
    assert parse_rate_policy("q=" + "9" * 400 + ";w=1") is None
    assert parse_rate_policy("q=10;w=1") == 10.0


# -- regressions: a chip dragging out or emptying its READ BINARY answers --------------------------


def _access(chip: ShortReadChip) -> AccessKey:
    holder = chip.profile.holder
    if chip.profile.name.startswith("cnie"):
        return CanKey(chip.profile.can)
    return MrzKey(holder.document_number, holder.birth, holder.expiry)


def _read(chip: ShortReadChip, *, extended: bool = True) -> IdentityReading:
    trust = passive.TrustStore([*_trust().certificates, rsa_test_csca()])
    return read_document(chip, _access(chip), trust=trust, rng=reader_random, extended=extended)


def _genuine(offset: int, ne: int, data: bytes, sw: int) -> tuple[bytes, int]:
    return data, sw


@pytest.mark.parametrize("extended", [True, False], ids=["lecture-etendue", "lecture-courte"])
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_simulated_document_is_read_in_the_fewest_commands(
    profile: str, extended: bool
) -> None:
    chip = ShortReadChip(PROFILES[profile], _genuine)
    reading = _read(chip, extended=extended)
    assert reading.verdict is Verdict.AUTHENTIQUE, reading.verdict_reason
    assert chip.sm is not None  # the session the chip ended in: its cipher sets the short size
    largest = 0xFF00 if extended else files.short_max(chip.sm.cipher)
    for name, (apdus, _) in reading.file_io.items():
        size = len(chip.files[FILES[name][0]])
        assert apdus == 1 + -(-size // largest), name  # SELECT + ceil(size / largest) reads


@pytest.mark.parametrize("size", [1, 16, 200])
def test_a_chip_sending_its_files_a_few_bytes_at_a_time_is_stopped_at_once(size: int) -> None:
    # was: one READ BINARY per `size` bytes of every file (about 11,000 for one byte) until the
    # agent lifted the card (here: the chip leaves after 2,000 reads)
    def stingy(offset: int, ne: int, data: bytes, sw: int) -> tuple[bytes, int]:
        return data[: 8 if offset == 0 else size], sw  # the first answer holds the TLV header

    chip = ShortReadChip(PASSPORT_BAC, stingy)
    with pytest.raises(
        HostileAnswer, match=rf"moins que demandé avant la fin du fichier : {size} octets? sur"
    ) as caught:
        _read(chip)
    assert chip.reads < 10
    assert french(str(caught.value))


def test_an_empty_answer_before_the_end_of_a_file_says_so() -> None:
    # was: « La puce a refusé l'opération « lecture d'un fichier » (code 9000) »
    chip = ShortReadChip(
        PASSPORT_BAC, lambda offset, ne, data, sw: (data[:8] if offset == 0 else b"", sw)
    )
    with pytest.raises(
        HostileAnswer, match="aucune donnée alors que le fichier n'est pas terminé"
    ) as caught:
        _read(chip)
    assert "refusé" not in str(caught.value) and "9000" not in str(caught.value)


def test_end_of_file_signalled_before_the_length_the_file_announces_stops_the_read() -> None:
    # was: read on, 100 bytes at a time, under a status saying there was nothing more
    chip = ShortReadChip(PASSPORT_BAC, lambda offset, ne, data, sw: (data[:100], 0x6282))
    with pytest.raises(HostileAnswer, match="fin du fichier"):
        _read(chip)
    assert chip.reads < 5


def test_ef_card_access_sent_a_byte_at_a_time_is_stopped_too() -> None:
    # was: one plain READ BINARY per byte of EF.CardAccess (up to 64 KB announced)
    chip = ShortReadChip(
        CNIE,
        lambda offset, ne, data, sw: (data[: 4 if offset == 0 else 1], sw),
        files={CARD_ACCESS},
    )
    with pytest.raises(
        HostileAnswer, match="moins que demandé avant la fin du fichier : 1 octet sur"
    ):
        _read(chip)
    assert chip.reads < 6


def _capped(offset: int, ne: int, data: bytes, sw: int) -> tuple[bytes, int]:
    return data[:1000], sw  # a chip whose buffer holds less than the extended size asked


def _eof_status(offset: int, ne: int, data: bytes, sw: int) -> tuple[bytes, int]:
    return data, 0x6282 if len(data) < ne else sw  # ISO 7816-4: end of file before Ne bytes


def _short_start(offset: int, ne: int, data: bytes, sw: int) -> tuple[bytes, int]:
    return (data[:4] if offset == 0 else data), sw  # one odd answer per file, then all asked


@pytest.mark.parametrize(
    "answer",
    [_capped, _eof_status, _short_start],
    ids=["tampon-1000", "6282-en-fin", "debut-court"],
)
def test_short_answers_real_chips_give_are_still_read(answer: Answer) -> None:
    chip = ShortReadChip(PASSPORT_BAC, answer)
    reading = _read(chip)
    assert reading.verdict is Verdict.AUTHENTIQUE and reading.photo is not None
    if answer is _capped:
        dg2 = len(chip.files[FILES["DG2"][0]])
        assert reading.file_io["DG2"][0] == 1 + -(-dg2 // 1000)
