"""The national service's answers checked against docs/national-api.json before the kiosk reads
anything of them.

Each answer the client takes is checked whole, at every depth, against what the contract states
of it: each field's type, bounds, pattern and enumeration, the required fields of every nested
object, the items of every list. Anything else raises :class:`Malformed`, naming where
(``changements[3].documents[0].taille``); the client turns it into its clear refusal in French
(``ServiceUnavailable``, ``FilingFailed`` for a filing). Nothing of an answer the contract does
not allow reaches the kiosk, not even the part of it that was right: a page of decisions is
applied whole or not at all, and read again later (the cursor stays where it was).

Two readings are JSON Schema's, not Python's: an ``integer`` is a number without a fractional
part (``300.0`` is one, ``true`` is not), and a pattern's digit is an ASCII digit (``\\d`` in
the contract's ECMA-262 patterns; Python's ``\\d`` also takes ``٣``). Fields the contract does
not name are ignored: a newer service may add some.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kiosk.followup.reasons import Reason, legacy_reasons, reasons_from_json
from kiosk.ports.national import (
    MAX_REPORTED_ERROR,
    MAX_REPORTED_UNSENT,
    STORAGE_KINDS,
    ChangesPage,
    KioskCredentials,
    KioskReport,
    PaymentInfo,
    ReceiptStatus,
    Redeemed,
    ReturnedDocument,
    SiteKiosk,
    SiteKiosks,
    StatusChange,
)
from kiosk.updates import KINDS, PublishedBundle, SignedBundle

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHA256 = re.compile(r"[0-9a-f]{64}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CURSOR = re.compile(r"0|[1-9][0-9]{0,17}")
#: A bearer token as RFC 6750 writes it: it goes into a header, where other characters cannot.
TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")
DOCUMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: A title to print says something: a letter or a digit (not « \S »: ECMA-262 and Python do
#: not agree on what a space is, « \x1f » is one to Python only).
WORDS = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿ]")
#: Where a piece is uploaded: a path of the service itself, never another host (the kiosk's
#: token goes with every request).
UPLOAD_PATH = re.compile(r"/v1/televersements/[A-Za-z0-9_-]{1,64}")
#: An ``https://`` address a telephone can open: a host name, then a path, a query and a
#: fragment as RFC 3986 writes them (the contract's ``format: uri``, and its pattern).
_PCHAR = r"[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2}"
_QCHAR = r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2}"
HTTPS_URL = re.compile(
    rf"https://[A-Za-z0-9.-]+(:[0-9]{{1,5}})?(/({_PCHAR}|/)*)?(\?({_QCHAR})*)?(#({_QCHAR})*)?"
)
#: Above this an amount is no carte-grise fee (the 2026 malus is capped at 80 000 €): 200 000 €.
MAX_AMOUNT = 20_000_000  # cents
MAX_PIECE = 20_971_520  # bytes: the contract's largest piece (20 MiB)
MAX_DOCUMENT = 8_000_000  # bytes: the contract's largest document issued
MAX_TOKEN_LIFETIME = 1_000_000_000  # seconds (~30 years): more is not a lifetime
STATUSES = frozenset({"accepte", "refuse", "a_completer", "en_attente_paiement", "paye"})
DOCUMENT_KINDS = frozenset({"certificat_provisoire", "lettre_decision"})
DOCUMENT_TYPES = frozenset({"application/pdf"})
PAYMENT_STATUSES = frozenset({"a_payer", "paye", "rien_a_payer"})
#: An enrolment code's id (kiosk/enrolment/code.py): Crockford's base 32, 8 symbols.
ENROLMENT_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{8}")
#: An instant as the contract writes it: UTC, to the second.
INSTANT = re.compile(r"(2[0-9]{3})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
#: Base64url without padding, of a length one can be (never 1 more than a multiple of 4).
SEALED = re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?")
MAX_SEALED = 16_384
CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: Visible ASCII: the secret goes into a JSON body and the settings file, nothing else.
CLIENT_SECRET = re.compile(r"[!-~]{16,256}")
BUNDLE_KINDS = frozenset(KINDS)
#: A bundle's serial: what JSON carries exactly everywhere.
MAX_SERIAL = 2**53 - 1
#: The id of a signing key (kiosk/updates/keys.py): 16 hex digits.
KEY_ID = re.compile(r"[0-9a-f]{16}")
#: Base64 as RFC 4648 writes it (``+/``, padded); empty is allowed (an unsigned bundle is
#: refused by the kiosk and reported, not taken for a broken answer).
BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
#: The contract's bounds of a bundle's envelope, in base64 characters (kiosk/updates/bundle.py
#: holds the decoded ones: a manifest of 64,000 bytes, a file of 256,000, 400 files).
MAX_MANIFEST_TEXT = 88_000
MAX_SIGNATURE_TEXT = 88
MAX_FILE_TEXT = 350_000
MAX_BUNDLE_FILES = 400
#: RFC 3339's ``date-time`` (the contract's ``format: date-time``): a leap second and any
#: number of decimals included, ``t`` and ``z`` in either case.
DATE_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
#: A kiosk's identifier at the national service (its ``client_id``).
KIOSK_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: A dossier reference as the kiosk prints it (kiosk/dossiers/reference.py).
REFERENCE = re.compile(r"PN-[0-9A-Z]{4}-[0-9A-Z]{4}")
VERSION = re.compile(r"[0-9A-Za-z.+-]{1,32}")
#: The most kiosks one site lists.
MAX_SITE_KIOSKS = 1000


class Malformed(ValueError):
    """An answer the contract does not allow: ``where`` it is wrong and ``what`` is wrong."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where or 'réponse'}, {what}")
        self.where = where
        self.what = what


# ---------------------------------------------------------------------- the contract's types


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def obj(value: object, where: str, required: Iterable[str] = ()) -> dict[str, Any]:
    """An object with its ``required`` fields."""
    if not isinstance(value, dict):
        raise Malformed(where, "objet attendu")
    for key in required:
        if key not in value:
            raise Malformed(_at(where, key), "absent")
    return value


def array(value: object, where: str, *, max_items: int | None = None) -> list[Any]:
    """A list of at most ``max_items``."""
    if not isinstance(value, list):
        raise Malformed(where, "liste attendue")
    if max_items is not None and len(value) > max_items:
        raise Malformed(where, f"plus de {max_items} éléments")
    return value


def text(
    value: object,
    where: str,
    *,
    min_len: int = 0,
    max_len: int | None = None,
    pattern: re.Pattern[str] | None = None,
) -> str:
    """A string, within its length bounds, matching ``pattern`` whole."""
    if not isinstance(value, str):
        raise Malformed(where, "texte attendu")
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        raise Malformed(where, "longueur hors bornes")
    if pattern is not None and not pattern.fullmatch(value):
        raise Malformed(where, "forme incorrecte")
    return value


def optional_text(value: object, where: str, **bounds: Any) -> str | None:
    """A string or ``null``."""
    return None if value is None else text(value, where, **bounds)


def integer(value: object, where: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number (``300.0`` is one, ``true`` is not) within ``lo``..``hi``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(where, "entier attendu")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise Malformed(where, "hors bornes")
    return value


def boolean(value: object, where: str) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise Malformed(where, "booléen attendu")
    return value


def one_of(value: object, where: str, allowed: frozenset[str]) -> str:
    """One of the contract's enumerated values."""
    if not isinstance(value, str) or value not in allowed:
        raise Malformed(where, "valeur inconnue")
    return value


def moment(value: object, where: str) -> datetime:
    """A date and time with its offset (RFC 3339's ``date-time``), as UTC. A leap second reads
    as the second before it; decimals past the microsecond are dropped."""
    found = DATE_TIME.fullmatch(text(value, where, max_len=64))
    if found is None:
        raise Malformed(where, "forme incorrecte")
    ymd, hm, second, fraction, offset = found.groups()
    micro = (fraction or "")[1:7].ljust(6, "0")
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        at = datetime.fromisoformat(f"{ymd}T{hm}:{min(int(second), 59):02d}.{micro}{zone}")
    except ValueError as exc:  # 2027-02-30, 25:00, +24:00
        raise Malformed(where, "date impossible") from exc
    return at.astimezone(UTC)


def optional_moment(value: object, where: str) -> datetime | None:
    """A ``date-time`` or ``null``."""
    return None if value is None else moment(value, where)


def day(value: object, where: str) -> date:
    """A full date (``2027-01-15``, RFC 3339's ``full-date``)."""
    try:
        return date.fromisoformat(text(value, where, pattern=DAY))
    except ValueError as exc:  # 2027-02-30
        raise Malformed(where, "date impossible") from exc


# ---------------------------------------------------------------------- the answers


def token(data: dict[str, Any]) -> tuple[str, int]:
    """``Jeton``: the bearer token and its lifetime in seconds."""
    obj(data, "", ("access_token", "token_type", "expires_in"))
    value = text(data["access_token"], "access_token", max_len=4096, pattern=TOKEN)
    one_of(data["token_type"], "token_type", frozenset({"Bearer"}))
    ttl = integer(data["expires_in"], "expires_in", lo=1, hi=MAX_TOKEN_LIFETIME)
    return value, ttl


@dataclass(frozen=True)
class Filing:
    """``Depot``: the acknowledgement of a filing, its pieces' upload paths by SHA-256."""

    national_number: str
    status: str
    uploads: dict[str, str]


def filing(data: dict[str, Any], dossier_id: str) -> Filing:
    """``Depot``, for the dossier ``dossier_id``. Its optional ``montant_du_centimes`` is not
    checked here: the client reads it on its own (``sync.client.amount_due``)."""
    obj(data, "", ("id", "numero_national", "statut", "pieces"))
    if text(data["id"], "id", pattern=UUID) != dossier_id:
        raise Malformed("id", "un autre dossier que celui déposé")
    number = text(data["numero_national"], "numero_national")
    status = one_of(data["statut"], "statut", frozenset({"depose", "pieces_attendues"}))
    uploads: dict[str, str] = {}
    for i, item in enumerate(array(data["pieces"], "pieces")):
        where = _at("pieces", i)
        piece = obj(item, where, ("sha256", "taille", "televersement"))
        digest = text(piece["sha256"], _at(where, "sha256"), pattern=SHA256)
        integer(piece["taille"], _at(where, "taille"), lo=1, hi=MAX_PIECE)
        path = text(piece["televersement"], _at(where, "televersement"), pattern=UPLOAD_PATH)
        uploads[digest] = path
    return Filing(number, status, uploads)


def changes_page(data: dict[str, Any]) -> ChangesPage:
    """``PageChangements``: every decision of the page, or none."""
    obj(data, "", ("changements", "curseur", "encore"))
    listed = array(data["changements"], "changements")
    cursor = text(data["curseur"], "curseur", pattern=CURSOR)
    more = boolean(data["encore"], "encore")
    return ChangesPage(
        tuple(change(c, _at("changements", i)) for i, c in enumerate(listed)), cursor, more
    )


def change(data: object, where: str = "") -> StatusChange:
    """One decision of the feed, every field the contract names checked.

    A service speaking the contract's first version gives ``motif`` and ``manquant`` only: the
    typed reasons are then made from them (:func:`legacy_reasons`).
    """
    c = obj(data, where, ("id", "numero_national", "statut"))
    dossier = text(c["id"], _at(where, "id"), pattern=UUID)
    number = text(c["numero_national"], _at(where, "numero_national"))
    status = one_of(c["statut"], _at(where, "statut"), STATUSES)
    reason = optional_text(c.get("motif"), _at(where, "motif"))
    missing = tuple(
        text(m, _at(_at(where, "manquant"), i))
        for i, m in enumerate(array(c.get("manquant", []), _at(where, "manquant")))
    )
    reasons = _reasons(c.get("motifs", []), _at(where, "motifs"))
    deadline = c.get("date_limite")
    issued = array(c.get("documents", []), _at(where, "documents"), max_items=20)
    return StatusChange(
        dossier_id=dossier,
        national_number=number,
        status=status,
        reason=reason,
        missing=missing,
        reasons=reasons or legacy_reasons(reason, missing),
        deadline=None if deadline is None else _deadline(deadline, _at(where, "date_limite")),
        documents=tuple(document(d, _at(_at(where, "documents"), i)) for i, d in enumerate(issued)),
    )


def _reasons(value: object, where: str) -> tuple[Reason, ...]:
    """``Motif`` items. A ``type`` the kiosk does not know is read as « autre », as the
    contract says (a newer service may add kinds); a blank message is left out."""
    for i, item in enumerate(array(value, where, max_items=50)):
        at = _at(where, i)
        reason = obj(item, at, ("type", "message"))
        text(reason["type"], _at(at, "type"), max_len=64)
        text(reason["message"], _at(at, "message"), max_len=500)
        for key in ("piece", "champ"):
            if key in reason:
                text(reason[key], _at(at, key), max_len=200)
    return reasons_from_json(value)


def _deadline(value: object, where: str) -> date:
    found = day(value, where)
    if not 2000 <= found.year <= 2199:
        raise Malformed(where, "hors bornes")
    return found


def document(data: object, where: str) -> ReturnedDocument:
    """``DocumentEmis``."""
    d = obj(data, where, ("id", "type", "titre", "type_mime", "taille", "sha256"))
    title = text(d["titre"], _at(where, "titre"), max_len=300)
    if not WORDS.search(title):
        raise Malformed(_at(where, "titre"), "sans lettre ni chiffre")
    return ReturnedDocument(
        id=text(d["id"], _at(where, "id"), pattern=DOCUMENT_ID),
        kind=one_of(d["type"], _at(where, "type"), DOCUMENT_KINDS),
        title=" ".join(title.split()),
        mime_type=one_of(d["type_mime"], _at(where, "type_mime"), DOCUMENT_TYPES),
        size=integer(d["taille"], _at(where, "taille"), lo=1, hi=MAX_DOCUMENT),
        sha256=text(d["sha256"], _at(where, "sha256"), pattern=SHA256),
    )


def bundles(data: dict[str, Any]) -> tuple[PublishedBundle, ...]:
    """``paquets``: the signed bundles published (kind, serial, size of the download)."""
    obj(data, "", ("paquets",))
    found = []
    for i, item in enumerate(array(data["paquets"], "paquets", max_items=1000)):
        where = _at("paquets", i)
        p = obj(item, where, ("type", "serie", "taille"))
        found.append(
            PublishedBundle(
                kind=one_of(p["type"], _at(where, "type"), BUNDLE_KINDS),
                serial=integer(p["serie"], _at(where, "serie"), lo=1, hi=MAX_SERIAL),
                size=integer(p["taille"], _at(where, "taille"), lo=1),
            )
        )
    return tuple(found)


def bundle(content: bytes, kind: str, serial: int) -> SignedBundle:
    """``PaquetSigne``, read from its bytes strictly (a key twice, ``NaN``: refused): the
    envelope only. Whether its manifest, signature and files can be trusted is the kiosk's to
    decide (kiosk/updates/verify.py), and a bundle it refuses is reported, never retried."""
    data = strict_json(content)
    obj(data, "", ("cle", "manifeste", "signature", "fichiers"))
    key = text(data["cle"], "cle", pattern=KEY_ID)
    manifest = _base64(data["manifeste"], "manifeste", MAX_MANIFEST_TEXT)
    signature = _base64(data["signature"], "signature", MAX_SIGNATURE_TEXT)
    files = []
    for i, item in enumerate(array(data["fichiers"], "fichiers", max_items=MAX_BUNDLE_FILES)):
        where = _at("fichiers", i)
        f = obj(item, where, ("nom", "contenu"))
        name = text(f["nom"], _at(where, "nom"), min_len=1, max_len=100)
        files.append((name, _base64(f["contenu"], _at(where, "contenu"), MAX_FILE_TEXT)))
    return SignedBundle(kind, serial, key, manifest, signature, tuple(files))


def _base64(value: object, where: str, max_len: int) -> bytes:
    encoded = text(value, where, max_len=max_len, pattern=BASE64)
    return base64.b64decode(encoded, validate=True)


def strict_json(content: bytes) -> dict[str, Any]:
    """A JSON object read strictly: UTF-8, no key twice, no ``NaN`` or ``Infinity``."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for name, value in items:
            if name in seen:
                raise Malformed(name[:40], "clé en double")
            seen[name] = value
        return seen

    def constant(name: str) -> Any:
        raise Malformed("", f"valeur {name} interdite")

    try:
        data = json.loads(content.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except Malformed:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Malformed("", "JSON illisible") from exc
    if not isinstance(data, dict):
        raise Malformed("", "objet attendu")
    return data


def timbre(data: dict[str, Any], number: str) -> tuple[int, int]:
    """``Timbre`` for the timbre ``number``: its value and what the dossier still owes."""
    obj(data, "", ("timbre", "numero_national", "statut", "montant_centimes", "reste_du_centimes"))
    if text(data["timbre"], "timbre") != number:
        raise Malformed("timbre", "un autre timbre que celui donné")
    text(data["numero_national"], "numero_national")
    one_of(data["statut"], "statut", frozenset({"accepte"}))
    amount = integer(data["montant_centimes"], "montant_centimes", lo=1, hi=MAX_AMOUNT)
    remaining = integer(data["reste_du_centimes"], "reste_du_centimes", lo=0, hi=MAX_AMOUNT)
    return amount, remaining


def payment(data: dict[str, Any]) -> PaymentInfo | None:
    """``Paiement``: the reference to pay, with its address; ``None`` when nothing is due."""
    required = ("numero_national", "reference", "montant_du_centimes", "reste_du_centimes")
    obj(data, "", (*required, "statut", "url"))
    text(data["numero_national"], "numero_national")
    reference = optional_text(data["reference"], "reference", min_len=1, max_len=64)
    integer(data["montant_du_centimes"], "montant_du_centimes", lo=0, hi=MAX_AMOUNT)
    remaining = integer(data["reste_du_centimes"], "reste_du_centimes", lo=0, hi=MAX_AMOUNT)
    one_of(data["statut"], "statut", PAYMENT_STATUSES)
    url = optional_text(data["url"], "url", max_len=500, pattern=HTTPS_URL)
    if reference is not None and url is None:
        raise Malformed("url", "absente avec une référence")
    if reference is None or url is None or remaining == 0:
        return None
    return PaymentInfo(reference=reference, amount_cents=remaining, url=url)


RECEIPT_STATUSES = frozenset(
    {
        "pieces_attendues",
        "en_instruction",
        "en_attente_paiement",
        "a_completer",
        "accepte",
        "refuse",
    }
)


def receipt_status(data: dict[str, Any], asked: str) -> ReceiptStatus:
    """``Suivi``: the state of the dossier a receipt names (``asked``: the reference sent; an
    answer about another one is not this receipt's)."""
    obj(data, "", ("reference", "numero_national", "statut", "depose_le"))
    reference = text(data["reference"], "reference", pattern=REFERENCE)
    if reference != asked:
        raise Malformed("reference", f"{reference} au lieu de {asked}")
    number = text(data["numero_national"], "numero_national", min_len=1, max_len=64)
    status = one_of(data["statut"], "statut", RECEIPT_STATUSES)
    filed = _deadline(data["depose_le"], "depose_le")
    deadline = None
    if data.get("date_limite") is not None:
        deadline = _deadline(data["date_limite"], "date_limite")
    remaining = None
    if data.get("reste_du_centimes") is not None:
        remaining = integer(data["reste_du_centimes"], "reste_du_centimes", lo=0, hi=MAX_AMOUNT)
    return ReceiptStatus(reference, number, status, filed, deadline, remaining)


def notification(data: dict[str, Any]) -> str:
    """``Notification``: the service's id for the text message."""
    obj(data, "", ("id", "statut"))
    remote = text(data["id"], "id", min_len=1, max_len=64)
    one_of(data["statut"], "statut", frozenset({"acceptee"}))
    return remote


def instant(value: object, where: str) -> datetime:
    """``2027-01-15T14:32:00Z`` (a leap second read as the second before it)."""
    found = INSTANT.fullmatch(text(value, where, pattern=INSTANT))
    assert found is not None  # text() checked the pattern
    year, month, day_, hour, minute, second = (int(g) for g in found.groups())
    try:
        return datetime(year, month, day_, hour, minute, min(second, 59), tzinfo=UTC)
    except ValueError as exc:  # 2027-02-30, 25:00
        raise Malformed(where, "date impossible") from exc


def enrolment_filed(data: dict[str, Any], enrolment_id: str) -> datetime:
    """``Enrolement`` for the code ``enrolment_id``: when the service forgets it."""
    obj(data, "", ("id", "expire_le"))
    if text(data["id"], "id", pattern=ENROLMENT_ID) != enrolment_id:
        raise Malformed("id", "un autre code que celui déposé")
    return instant(data["expire_le"], "expire_le")


def redeemed(data: dict[str, Any]) -> Redeemed:
    """``EnrolementUtilise``: the new kiosk's credentials and the sealed settings."""
    obj(data, "", ("client_id", "client_secret", "scelle"))
    client_id = text(data["client_id"], "client_id", pattern=CLIENT_ID)
    secret = text(data["client_secret"], "client_secret", pattern=CLIENT_SECRET)
    sealed = text(data["scelle"], "scelle", min_len=40, max_len=MAX_SEALED, pattern=SEALED)
    blob = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    return Redeemed(KioskCredentials(client_id, secret), blob)


def report_received(data: dict[str, Any], kiosk_id: str) -> datetime:
    """``RapportRecu`` for this kiosk's report: when the service received it."""
    obj(data, "", ("borne", "recu_le"))
    if text(data["borne"], "borne", pattern=KIOSK_ID) != kiosk_id:
        raise Malformed("borne", "une autre borne que celle qui a fait le rapport")
    return moment(data["recu_le"], "recu_le")


def kiosk_report(data: object, where: str) -> KioskReport:
    """``RapportBorne``: a kiosk's report as the service keeps it."""
    required = ("version", "file_attente", "plus_ancien_non_envoye", "derniere_synchro")
    r = obj(data, where, (*required, "derniere_erreur", "non_envoyes", "stockage"))
    unsent = array(r["non_envoyes"], _at(where, "non_envoyes"), max_items=MAX_REPORTED_UNSENT)
    return KioskReport(
        version=text(r["version"], _at(where, "version"), pattern=VERSION),
        queued=integer(r["file_attente"], _at(where, "file_attente"), lo=0, hi=1_000_000),
        oldest_unsent=optional_moment(
            r["plus_ancien_non_envoye"], _at(where, "plus_ancien_non_envoye")
        ),
        last_sync=optional_moment(r["derniere_synchro"], _at(where, "derniere_synchro")),
        last_error=optional_text(
            r["derniere_erreur"], _at(where, "derniere_erreur"), max_len=MAX_REPORTED_ERROR
        ),
        unsent=tuple(
            text(ref, _at(_at(where, "non_envoyes"), i), pattern=REFERENCE)
            for i, ref in enumerate(unsent)
        ),
        storage=one_of(r["stockage"], _at(where, "stockage"), STORAGE_KINDS),
    )


def site_kiosk(data: object, where: str = "") -> SiteKiosk:
    """``Borne``: one kiosk of the site, its last report (when it sent one) and whether it was
    revoked."""
    k = obj(data, where, ("id", "revoquee"))
    revoked_by = k.get("revoquee_par")
    return SiteKiosk(
        id=text(k["id"], _at(where, "id"), pattern=KIOSK_ID),
        # Absent: the kiosk never sent one (``null`` is not the contract's).
        report=kiosk_report(k["rapport"], _at(where, "rapport")) if "rapport" in k else None,
        received_at=moment(k["recu_le"], _at(where, "recu_le")) if "recu_le" in k else None,
        revoked=boolean(k["revoquee"], _at(where, "revoquee")),
        revoked_at=optional_moment(k.get("revoquee_le"), _at(where, "revoquee_le")),
        revoked_by=optional_text(revoked_by, _at(where, "revoquee_par"), min_len=1, max_len=64),
    )


def site_kiosks(data: dict[str, Any]) -> SiteKiosks:
    """``BornesDuSite``: every kiosk of the asking kiosk's site."""
    obj(data, "", ("site", "bornes"))
    site = text(data["site"], "site", min_len=1, max_len=64)
    listed = array(data["bornes"], "bornes", max_items=MAX_SITE_KIOSKS)
    return SiteKiosks(site, tuple(site_kiosk(k, _at("bornes", i)) for i, k in enumerate(listed)))
