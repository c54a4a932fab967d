"""The reference server's side of enrolment: sealed settings filed under a code's id, redeemed
once for a new kiosk's credentials (docs/national-api.json, « enrôlement »).

What the server keeps of a code: the kiosk that filed it, the SHA-256 of its verifier, the
sealed blob (which it cannot open), its expiry and the wrong tries. A redemption with the right
verifier, before the expiry and before :data:`MAX_WRONG` wrong tries, creates the new kiosk's
credentials, marks the code used and forgets the blob, in one transaction: a second redemption
is refused whatever it sends. The new kiosk's secret is kept as its SHA-256 only (32 random
bytes: no slow hash is needed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS enrolement (
    id TEXT PRIMARY KEY,
    depose_par TEXT NOT NULL,
    empreinte TEXT NOT NULL,
    scelle BLOB,
    depose_le REAL NOT NULL,
    expire_le REAL NOT NULL,
    essais_faux INTEGER NOT NULL DEFAULT 0,
    utilise_le REAL,
    borne TEXT
);
CREATE TABLE IF NOT EXISTS borne (
    client_id TEXT PRIMARY KEY,
    empreinte_secret TEXT NOT NULL,
    enrolee_par TEXT NOT NULL,
    enrolee_le REAL NOT NULL
);
"""

#: Wrong verifiers a code takes; the next try finds it annulled, even with the right one.
MAX_WRONG = 3
#: Bounds and default of a code's life, in seconds.
LIFETIME = (60, 3600)
DEFAULT_LIFETIME = 1800
#: The largest sealed blob (base64url characters): a site's settings are a few hundred bytes.
MAX_SEALED = 16_384
CODE_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{8}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
#: Base64url without padding whose length can be one (never 1 more than a multiple of 4).
SEALED = re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?")
_VERIFIER = re.compile(r"[A-Za-z0-9_-]{43}")


def seed(c: sqlite3.Connection) -> None:
    """Create the enrolment tables (kept as they are if already there)."""
    for statement in SCHEMA.split(";"):  # executescript would commit the transaction
        if statement.strip():
            c.execute(statement)


def b64url(data: bytes) -> str:
    """``data`` in base64url without padding (the contract's form)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of a base64url text without padding.

    Raises:
        ValueError: not base64url.
    """
    if not _B64URL.fullmatch(text):
        raise ValueError(text)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(text) from exc


def filing_errors(body: Any) -> list[dict[str, str]]:
    """Field errors of a ``DepotEnrolement``, in French; empty when acceptable."""
    if not isinstance(body, dict):
        return [{"champ": "", "message": "Le corps de la requête doit être un objet JSON."}]
    errors = []
    if not isinstance(body.get("id"), str) or not CODE_ID.fullmatch(body["id"]):
        errors.append({"champ": "id", "message": "8 caractères de l'alphabet base 32 attendus."})
    digest = body.get("empreinte_verificateur")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        errors.append(
            {"champ": "empreinte_verificateur", "message": "SHA-256 en hexadécimal attendu."}
        )
    sealed = body.get("scelle")
    if (
        not isinstance(sealed, str)
        or not 40 <= len(sealed) <= MAX_SEALED
        or not SEALED.fullmatch(sealed)
    ):
        errors.append({"champ": "scelle", "message": "Réglages scellés en base64url attendus."})
    if _lifetime(body) is None:
        errors.append({"champ": "duree_s", "message": "De 60 à 3600 secondes."})
    return errors


def _lifetime(body: dict[str, Any]) -> int | None:
    """``duree_s``, or its default; ``None`` when it is no whole number of seconds in bounds
    (``900.0`` is one, as JSON Schema counts; ``true`` is not)."""
    value = body.get("duree_s", DEFAULT_LIFETIME)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if LIFETIME[0] <= value <= LIFETIME[1] else None


def _instant(seconds: float) -> str:
    """RFC 3339 in UTC, to the second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def file(c: sqlite3.Connection, body: dict[str, Any], client: str, now: float) -> dict[str, Any]:
    """Record sealed settings (``body`` checked by :func:`filing_errors`); ``{}`` when the id
    is taken (the kiosk draws another code)."""
    expires = now + (_lifetime(body) or DEFAULT_LIFETIME)
    try:
        c.execute(
            "INSERT INTO enrolement (id, depose_par, empreinte, scelle, depose_le, expire_le)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                body["id"],
                client,
                body["empreinte_verificateur"],
                unb64url(body["scelle"]),
                now,
                expires,
            ),
        )
    except sqlite3.IntegrityError:
        return {}
    return {"id": body["id"], "expire_le": _instant(expires)}


def redeem(
    c: sqlite3.Connection, code_id: str, body: Any, now: float
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, answer or problem fields) for a redemption: 200 with the credentials and
    the blob, or the refusal's status, ``title``, ``detail`` and ``code``."""
    verifier = body.get("verificateur") if isinstance(body, dict) else None
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        return 400, {
            "title": "Requête invalide.",
            "detail": "verificateur : 32 octets en base64url attendus.",
            "code": "requete_invalide",
        }
    row = (
        c.execute(
            "SELECT depose_par, empreinte, scelle, expire_le, essais_faux, utilise_le"
            " FROM enrolement WHERE id = ?",
            (code_id,),
        ).fetchone()
        if CODE_ID.fullmatch(code_id)
        else None
    )
    if row is None:
        return 404, _refusal("Code d'enrôlement inconnu.", "code_inconnu")
    if row["utilise_le"] is not None:
        return 410, _refusal("Code d'enrôlement déjà utilisé.", "code_utilise")
    if row["essais_faux"] >= MAX_WRONG:
        return 410, _refusal("Code d'enrôlement annulé après trop d'essais faux.", "code_bloque")
    if now >= row["expire_le"]:
        return 410, _refusal("Code d'enrôlement expiré.", "code_expire")
    given = hashlib.sha256(unb64url(verifier)).hexdigest()
    if not hmac.compare_digest(given, row["empreinte"]):
        wrong = row["essais_faux"] + 1
        c.execute("UPDATE enrolement SET essais_faux = ? WHERE id = ?", (wrong, code_id))
        left = MAX_WRONG - wrong
        return 403, {
            **_refusal(
                "Code d'enrôlement incorrect.",
                "code_incorrect",
                f"Il reste {left} essai(s) avant que ce code soit annulé.",
            ),
            "essais_restants": left,
        }
    client_id = f"borne-{secrets.token_hex(5)}"
    secret = secrets.token_urlsafe(32)
    c.execute(
        "INSERT INTO borne (client_id, empreinte_secret, enrolee_par, enrolee_le)"
        " VALUES (?, ?, ?, ?)",
        (client_id, _secret_digest(secret), row["depose_par"], now),
    )
    c.execute(
        "UPDATE enrolement SET utilise_le = ?, borne = ?, scelle = NULL WHERE id = ?",
        (now, client_id, code_id),
    )
    return 200, {"client_id": client_id, "client_secret": secret, "scelle": b64url(row["scelle"])}


def _refusal(title: str, code: str, detail: str | None = None) -> dict[str, Any]:
    return {"title": title, "detail": detail, "code": code}


def _secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def known_kiosk(c: sqlite3.Connection, client_id: str, secret: str) -> bool:
    """Whether ``client_id`` is an enrolled kiosk and ``secret`` its secret."""
    row = c.execute(
        "SELECT empreinte_secret FROM borne WHERE client_id = ?", (client_id,)
    ).fetchone()
    return row is not None and hmac.compare_digest(row[0], _secret_digest(secret))


def sealed_blob(c: sqlite3.Connection, code_id: str) -> bytes | None:
    """What the server keeps for a code (tests: it must not hold the settings in clear)."""
    row = c.execute("SELECT scelle FROM enrolement WHERE id = ?", (code_id,)).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])
