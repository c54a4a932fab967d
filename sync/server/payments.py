"""The payment side of the reference server: a registry of timbres fiscaux électroniques, the
payment reference of each filing that owes something, and the « en attente de paiement » /
« payé » decisions of the changes feed (docs/national-api.json, docs/fees.md « Payer »).

A timbre is consumed once, in the same transaction as its idempotency record: the kiosk's retry
after a lost answer (same key) gets the first answer replayed, never « déjà utilisé ». A filing
that owes an amount goes « en attente de paiement » as soon as the service looks at it, and is
instructed only once paid (by timbres, or by its reference, marked paid through ``/_control``):
the instruction delay runs from the payment.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sync.server.db import national_number
from sync.server.validation import is_uuid

SCHEMA = """
CREATE TABLE IF NOT EXISTS timbre (
    numero TEXT PRIMARY KEY,
    montant INTEGER NOT NULL,
    utilise_par INTEGER,
    utilise_le REAL
);
CREATE TABLE IF NOT EXISTS paiement (
    numero INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    montant_du INTEGER NOT NULL,
    paye INTEGER NOT NULL DEFAULT 0,
    paye_le REAL
);
"""

#: Timbres the reference server knows from its first start (training mode, tests): number →
#: value in cents. Listed in docs/fees.md. The last one is already used by another dossier.
TEST_TIMBRES = {
    "1234567890123456": 2500,
    "1000000000000001": 10000,
    "5000000000000001": 50000,
    "5000000000000002": 50000,
    "9999000000000001": 2500,
}
USED_TIMBRE = "9999000000000001"

#: Where the simulated service says a reference is paid from a phone (the QR code's content).
PAY_URL = "https://paiement.service-national.invalid/payer/{reference}"


def seed(c: sqlite3.Connection) -> None:
    """Create the payment tables and the test timbres (kept as they are if already there)."""
    for statement in SCHEMA.split(";"):  # executescript would commit the transaction
        if statement.strip():
            c.execute(statement)
    for numero, montant in TEST_TIMBRES.items():
        c.execute("INSERT OR IGNORE INTO timbre (numero, montant) VALUES (?, ?)", (numero, montant))
    c.execute(
        "UPDATE timbre SET utilise_par = 0, utilise_le = 0"
        " WHERE numero = ? AND utilise_par IS NULL",
        (USED_TIMBRE,),
    )


def payment_reference(numero: int) -> str:
    """The service's reference for a filing's payment: its number and a mod-97 check key."""
    digits = f"{numero:010d}"
    return f"PNP-{digits}-{97 - int(digits + '00') % 97:02d}"


def set_amount_due(c: sqlite3.Connection, numero: int, due: int | None) -> None:
    """At a filing (or a complement): what it owes, unless it is already paid."""
    if not due:
        c.execute("DELETE FROM paiement WHERE numero = ? AND paye < montant_du", (numero,))
        return
    c.execute(
        "INSERT INTO paiement (numero, reference, montant_du) VALUES (?, ?, ?)"
        " ON CONFLICT(numero) DO UPDATE SET montant_du = excluded.montant_du"
        " WHERE paiement.paye < paiement.montant_du",
        (numero, payment_reference(numero), due),
    )


def _euros(cents: int) -> str:
    whole, rest = divmod(cents, 100)
    return f"{whole:,}".replace(",", "\u202f") + f",{rest:02d}\u00a0€"


def ask_payment(c: sqlite3.Connection, now: float) -> None:
    """Every complete filing that owes something and is not paid goes « en attente de
    paiement », with the amount and the reference in the decision's reason."""
    rows = c.execute(
        "SELECT d.numero, d.dossier_id, p.reference, p.montant_du - p.paye AS reste"
        " FROM depot d JOIN paiement p ON p.numero = d.numero"
        " WHERE d.statut = 'depose' AND p.paye < p.montant_du"
    ).fetchall()
    for numero, dossier_id, reference, reste in rows:
        c.execute("UPDATE depot SET statut = 'attente_paiement' WHERE numero = ?", (numero,))
        motif = f"Montant à payer : {_euros(reste)}, référence de paiement {reference}."
        _feed(c, dossier_id, numero, "en_attente_paiement", motif, at=now)


def _feed(
    c: sqlite3.Connection,
    dossier_id: str,
    numero: int,
    statut: str,
    motif: str | None,
    *,
    at: float,
) -> None:
    c.execute(
        "INSERT INTO changement (dossier_id, numero, statut, motif, manquant, at)"
        " VALUES (?, ?, ?, ?, '[]', ?)",
        (dossier_id, numero, statut, motif, at),
    )


def pay(c: sqlite3.Connection, numero: int, cents: int, now: float) -> int:
    """Record ``cents`` paid for filing ``numero``; returns what is still due. Paid in full:
    « payé » in the feed, and the instruction starts (its delay runs from now)."""
    row = c.execute(
        "SELECT p.montant_du, p.paye, d.dossier_id, d.statut FROM paiement p"
        " JOIN depot d ON d.numero = p.numero WHERE p.numero = ?",
        (numero,),
    ).fetchone()
    if row is None:
        return 0
    due, paid, dossier_id, statut = row
    if paid >= due:
        return 0
    paid = min(due, paid + cents)
    c.execute(
        "UPDATE paiement SET paye = ?, paye_le = ? WHERE numero = ?",
        (paid, now if paid >= due else None, numero),
    )
    if paid < due:
        return int(due) - int(paid)
    if statut == "attente_paiement":
        c.execute(
            "UPDATE depot SET statut = 'depose', depose_at = ? WHERE numero = ?", (now, numero)
        )
    _feed(c, dossier_id, numero, "paye", None, at=now)
    return 0


def filing_of(c: sqlite3.Connection, number: object, borne: str) -> int | None:
    """The filing a national number names, made by the kiosk ``borne`` (``None``: not one of
    its filings: another kiosk's is as unknown to it as one that does not exist)."""
    if not isinstance(number, str) or not number.startswith("NAT-"):
        return None
    try:
        numero = int(number[4:])
    except ValueError:
        return None
    if national_number(numero) != number:
        return None
    row = c.execute(
        "SELECT numero FROM depot WHERE numero = ? AND borne = ?", (numero, borne)
    ).fetchone()
    return None if row is None else int(row[0])


def use_timbre(
    c: sqlite3.Connection, body: Any, now: float, borne: str
) -> tuple[int, dict[str, Any]]:
    """Check and consume a timbre for a filing of the kiosk ``borne``: (HTTP status, answer or
    problem fields)."""
    if not isinstance(body, dict):
        return 400, {"title": "Requête invalide.", "detail": "Le corps doit être un objet JSON."}
    if (
        not isinstance(body.get("numero_national"), str)
        or not is_uuid(body.get("dossier"))
        or not isinstance(body.get("reference", ""), str)
    ):
        return 400, {
            "title": "Requête invalide.",
            "detail": "timbre, dossier (UUID) et numero_national sont obligatoires.",
        }
    timbre = body.get("timbre")
    if (
        not isinstance(timbre, str)
        or len(timbre) != 16
        or not timbre.isascii()
        or not (timbre.isdigit())
    ):
        return 422, {
            "title": "Numéro de timbre invalide.",
            "detail": "Un timbre fiscal électronique a 16 chiffres.",
            "code": "timbre_invalide",
        }
    numero = filing_of(c, body.get("numero_national"), borne)
    if numero is None:
        return 404, {
            "title": "Dossier inconnu.",
            "detail": "Aucun dépôt ne porte ce numéro national.",
            "code": "dossier_inconnu",
        }
    row = c.execute(
        "SELECT montant, utilise_par FROM timbre WHERE numero = ?", (timbre,)
    ).fetchone()
    if row is None:
        return 422, {
            "title": "Timbre inconnu.",
            "detail": "Ce numéro de timbre fiscal n'existe pas.",
            "code": "timbre_inconnu",
        }
    if row["utilise_par"] is not None:
        return 409, {
            "title": "Timbre déjà utilisé.",
            "detail": "Ce timbre fiscal a déjà servi à payer une démarche.",
            "code": "timbre_utilise",
        }
    c.execute(
        "UPDATE timbre SET utilise_par = ?, utilise_le = ? WHERE numero = ?",
        (numero, now, timbre),
    )
    remaining = pay(c, numero, int(row["montant"]), now)
    return 201, {
        "timbre": timbre,
        "numero_national": national_number(numero),
        "statut": "accepte",
        "montant_centimes": int(row["montant"]),
        "reste_du_centimes": remaining,
    }


def reference_of(c: sqlite3.Connection, number: str, borne: str) -> tuple[int, dict[str, Any]]:
    """The payment reference of a filing of the kiosk ``borne``: (HTTP status, answer or
    problem fields)."""
    numero = filing_of(c, number, borne)
    if numero is None:
        return 404, {
            "title": "Dossier inconnu.",
            "detail": "Aucun dépôt ne porte ce numéro national.",
            "code": "dossier_inconnu",
        }
    row = c.execute(
        "SELECT reference, montant_du, paye FROM paiement WHERE numero = ?", (numero,)
    ).fetchone()
    if row is None:
        return 200, {
            "numero_national": number,
            "reference": None,
            "montant_du_centimes": 0,
            "reste_du_centimes": 0,
            "statut": "rien_a_payer",
            "url": None,
        }
    due, paid = int(row["montant_du"]), int(row["paye"])
    return 200, {
        "numero_national": number,
        "reference": row["reference"],
        "montant_du_centimes": due,
        "reste_du_centimes": max(0, due - paid),
        "statut": "paye" if paid >= due else "a_payer",
        "url": PAY_URL.format(reference=row["reference"]),
    }


def mark_paid(c: sqlite3.Connection, reference: object, now: float) -> dict[str, Any] | None:
    """``/_control``: the reference was paid (a phone, a tobacconist's); ``None``: unknown."""
    row = c.execute(
        "SELECT numero, montant_du, paye FROM paiement WHERE reference = ?", (str(reference),)
    ).fetchone()
    if row is None:
        return None
    pay(c, int(row["numero"]), int(row["montant_du"]) - int(row["paye"]), now)
    return {"reference": reference, "statut": "paye"}


def add_timbre(c: sqlite3.Connection, numero: object, cents: object) -> bool:
    """``/_control``: a timbre bought now (a test's or a trainer's)."""
    if not isinstance(numero, str) or len(numero) != 16 or not numero.isdigit():
        return False
    if not isinstance(cents, int) or isinstance(cents, bool) or cents <= 0:
        return False
    c.execute("INSERT OR REPLACE INTO timbre (numero, montant) VALUES (?, ?)", (numero, cents))
    return True


def timbres_used(c: sqlite3.Connection) -> dict[str, int]:
    """How many times each timbre was consumed (the exactly-once check: 0 or 1)."""
    rows = c.execute("SELECT numero, utilise_par FROM timbre").fetchall()
    return {str(r[0]): int(r[1] is not None) for r in rows}


def dumps(answer: dict[str, Any]) -> str:
    """The answer's text, as stored for a replay."""
    return json.dumps(answer, ensure_ascii=False)
