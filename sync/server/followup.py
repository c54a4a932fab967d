"""The reference server after the decision: typed reasons, documents issued, text messages.

- A decision is recorded by :func:`record_decision`, whether the simulated instruction drew it
  (``instruction.decide_due``) or a test or a trainer forced it (``POST /_control/decider``):
  the filing's status, the feed's entry with the contract's first-version ``motif`` and
  ``manquant`` *and* its typed ``motifs``, ``date_limite`` and ``documents``, in the caller's
  transaction.
- An accepted carte-grise dossier gets a « certificat provisoire d'immatriculation », a refusal
  a « lettre de décision »: small PDFs (reportlab) kept in the server's database and served by
  ``GET /v1/dossiers/{numero}/documents/{id}``.
- ``POST /v1/notifications`` records each text message it « sends » once per idempotency key;
  ``notification`` has no unique constraint on the key on purpose: the test counts rows per key
  to prove the kiosk's retries were replays (as ``depot`` per dossier for the filings).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sync.server.db import national_number

SCHEMA = """
CREATE TABLE IF NOT EXISTS document_emis (
    id TEXT PRIMARY KEY,
    numero INTEGER NOT NULL,
    type TEXT NOT NULL,
    titre TEXT NOT NULL,
    type_mime TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    contenu BLOB NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_document_emis_numero ON document_emis(numero);
CREATE TABLE IF NOT EXISTS notification (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cle TEXT NOT NULL,
    numero INTEGER NOT NULL,
    canal TEXT NOT NULL,
    telephone TEXT NOT NULL,
    texte TEXT NOT NULL,
    at REAL NOT NULL
);
"""
#: Columns the feed gained with the follow-up (a server database of before gets them added).
FEED_COLUMNS = ("motifs", "date_limite", "documents")

#: Days the person has to answer an « à compléter ».
DAYS_TO_ANSWER = 30
MAX_TEXT = 320
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_KINDS = ("piece_manquante", "piece_incorrecte", "piece_perimee", "champ_incorrect", "autre")
STATUSES = ("accepte", "refuse", "a_completer")
_TITLES = {
    "certificat_provisoire": "Certificat provisoire d'immatriculation",
    "lettre_decision": "Lettre de décision",
}


def seed(c: sqlite3.Connection) -> None:
    """Create the follow-up tables, and add the feed's new columns to a database of before."""
    for statement in SCHEMA.split(";"):  # executescript would commit the transaction
        if statement.strip():
            c.execute(statement)
    have = {row[1] for row in c.execute("PRAGMA table_info(changement)")}
    for column in FEED_COLUMNS:
        if column not in have:
            c.execute(f"ALTER TABLE changement ADD COLUMN {column} TEXT")


def deadline(now: float) -> date:
    """The day by which an « à compléter » must be answered: the decision's day + 30 days."""
    return datetime.fromtimestamp(now, UTC).date() + timedelta(days=DAYS_TO_ANSWER)


def record_decision(
    c: sqlite3.Connection,
    numero: int,
    statut: str,
    now: float,
    *,
    motif: str | None = None,
    manquant: Sequence[str] = (),
    motifs: Sequence[dict[str, Any]] = (),
    date_limite: date | None = None,
    theme: str | None = None,
) -> dict[str, Any]:
    """Decide the filing ``numero`` now: its status, the feed's entry, the documents issued.

    ``theme``: the démarche's (``carte_grise`` gets a provisional certificate when accepted).
    Returns the change as the feed serves it.
    """
    row = c.execute(
        "SELECT dossier_id, reference, corps FROM depot WHERE numero = ?", (numero,)
    ).fetchone()
    body = json.loads(row["corps"])
    documents: list[dict[str, Any]] = []
    if statut == "accepte" and theme == "carte_grise":
        documents.append(_issue(c, numero, "certificat_provisoire", body, now, motif=None))
    elif statut == "refuse":
        documents.append(_issue(c, numero, "lettre_decision", body, now, motif=motif))
    missing = json.dumps(list(manquant), ensure_ascii=False)
    c.execute(
        "UPDATE depot SET statut = ?, motif = ?, manquant = ? WHERE numero = ?",
        (statut, motif, missing, numero),
    )
    c.execute(
        "INSERT INTO changement (dossier_id, numero, statut, motif, manquant, at, motifs,"
        " date_limite, documents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row["dossier_id"],
            numero,
            statut,
            motif,
            missing,
            now,
            json.dumps(list(motifs), ensure_ascii=False) if motifs else None,
            date_limite.isoformat() if date_limite else None,
            json.dumps(documents, ensure_ascii=False) if documents else None,
        ),
    )
    return feed_entry(
        {
            "dossier_id": row["dossier_id"],
            "numero": numero,
            "statut": statut,
            "motif": motif,
            "manquant": missing,
            "motifs": json.dumps(list(motifs)) if motifs else None,
            "date_limite": date_limite.isoformat() if date_limite else None,
            "documents": json.dumps(documents) if documents else None,
        }
    )


def feed_entry(r: Any) -> dict[str, Any]:
    """A row of ``changement`` as ``GET /v1/changements`` serves it (the new fields only when
    the decision has them: a feed of before stays as it was)."""
    entry: dict[str, Any] = {
        "id": r["dossier_id"],
        "numero_national": national_number(r["numero"]),
        "statut": r["statut"],
        "motif": r["motif"],
        "manquant": json.loads(r["manquant"] or "[]"),
    }
    for column in FEED_COLUMNS:
        value = r[column]
        if value is not None:
            entry[column] = value if column == "date_limite" else json.loads(value)
    return entry


def check_motifs(value: Any) -> list[dict[str, Any]] | None:
    """Typed reasons given to ``/_control/decider``, as the contract's ``Motif`` (``None``: not
    that shape)."""
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if (
            not isinstance(item, dict)
            or item.get("type") not in _KINDS
            or not isinstance(item.get("message"), str)
            or not item["message"].strip()
        ):
            return None
        out.append({k: item[k] for k in ("type", "message", "piece", "champ") if k in item})
    return out


# ---------------------------------------------------------------------- documents issued


def _issue(
    c: sqlite3.Connection,
    numero: int,
    kind: str,
    body: dict[str, Any],
    now: float,
    *,
    motif: str | None,
) -> dict[str, Any]:
    """Generate, keep and describe one document (the feed's ``DocumentEmis``)."""
    content = _pdf(kind, numero, body, now, motif)
    digest = hashlib.sha256(content).hexdigest()
    doc_id = f"doc-{secrets.token_hex(8)}"
    title = _TITLES[kind]
    c.execute(
        "INSERT INTO document_emis (id, numero, type, titre, type_mime, sha256, contenu, at)"
        " VALUES (?, ?, ?, ?, 'application/pdf', ?, ?, ?)",
        (doc_id, numero, kind, title, digest, content, now),
    )
    return {
        "id": doc_id,
        "type": kind,
        "titre": title,
        "type_mime": "application/pdf",
        "taille": len(content),
        "sha256": digest,
    }


def document(
    c: sqlite3.Connection, numero: int, doc_id: str, borne: str
) -> tuple[bytes, str] | None:
    """The bytes and type of a document issued for the filing ``numero`` of the kiosk
    ``borne`` (``None``: unknown, or another kiosk's)."""
    row = c.execute(
        "SELECT e.contenu, e.type_mime FROM document_emis e JOIN depot d ON d.numero = e.numero"
        " WHERE e.id = ? AND e.numero = ? AND d.borne = ?",
        (doc_id, numero, borne),
    ).fetchone()
    return None if row is None else (bytes(row["contenu"]), str(row["type_mime"]))


def _pdf(kind: str, numero: int, body: dict[str, Any], now: float, motif: str | None) -> bytes:
    """A one-page PDF saying what the document is (the real service's layout is its own)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle(_TITLES[kind])
    day = datetime.fromtimestamp(now, UTC).date()
    lines = [
        _TITLES[kind],
        "Service national des titres (simulateur)",
        f"Dossier : {body.get('reference') or ''}  —  numéro national {national_number(numero)}",
        f"Date : {day.strftime('%d/%m/%Y')}",
    ]
    vehicule = body.get("vehicule")
    if kind == "certificat_provisoire":
        plate = vehicule.get("immatriculation") if isinstance(vehicule, dict) else None
        lines += [
            f"Immatriculation : {plate or 'à attribuer'}",
            f"Valable un mois à compter du {day.strftime('%d/%m/%Y')}, en attendant le titre"
            " définitif envoyé par courrier.",
        ]
    else:
        lines += ["Votre demande est refusée.", f"Motif : {motif or 'non précisé'}"]
    y = 800
    for i, text in enumerate(lines):
        pdf.setFont("Helvetica-Bold" if i == 0 else "Helvetica", 16 if i == 0 else 10)
        pdf.drawString(50, y, text[:110])
        y -= 28 if i == 0 else 16
    pdf.showPage()
    pdf.save()
    return out.getvalue()


# ---------------------------------------------------------------------- text messages


def notification_errors(body: Any) -> tuple[int, str, str] | None:
    """Why a notification request cannot be sent (status, code, detail in French), or None."""
    if not isinstance(body, dict):
        return 400, "requete_invalide", "Le corps doit être un objet JSON."
    if not isinstance(body.get("numero_national"), str):
        return 400, "requete_invalide", "numero_national est obligatoire."
    if body.get("canal") != "sms":
        return 422, "canal_inconnu", "Seul le canal « sms » est proposé."
    phone = body.get("telephone")
    if not isinstance(phone, str) or not _E164.fullmatch(phone):
        return 422, "telephone_invalide", "Le numéro doit être au format E.164 (+33612345678)."
    text = body.get("texte")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return 422, "texte_invalide", f"Le texte compte de 1 à {MAX_TEXT} caractères."
    return None


def send_notification(
    c: sqlite3.Connection, key: str, numero: int, body: dict[str, Any], now: float
) -> dict[str, Any]:
    """« Send » the message (recorded) and return the answer to keep for replays."""
    rowid = c.execute(
        "INSERT INTO notification (cle, numero, canal, telephone, texte, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (key, numero, body["canal"], body["telephone"], body["texte"], now),
    ).lastrowid
    return {"id": f"SMS-{int(rowid or 0):08d}", "statut": "acceptee"}


def notifications_sent(c: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every message « sent », with how many were sent under its key (1, or a duplicate)."""
    rows = c.execute(
        "SELECT n.id, n.cle, n.numero, n.telephone, n.texte, n.at,"
        " (SELECT COUNT(*) FROM notification m WHERE m.cle = n.cle) AS envois"
        " FROM notification n ORDER BY n.id"
    ).fetchall()
    return [
        {
            "id": f"SMS-{r['id']:08d}",
            "cle": r["cle"],
            "numero_national": national_number(r["numero"]),
            "telephone": r["telephone"],
            "texte": r["texte"],
            "envois": r["envois"],
            "at": r["at"],
        }
        for r in rows
    ]
