"""What the simulated national service decides, and how it checks a filing.

Validation refuses, with field errors in French, what a real service would refuse for good (the
kiosk must not retry those). Instruction is simulated over time: a filing complete since
``delay`` seconds is accepted, refused or sent back « à compléter », drawn from a hash of the
dossier so that a given dossier always gets the same outcome (reproducible demos and tests).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from kiosk.settings.paths import assets_dir

REFUSALS = (
    "Le certificat de situation administrative signale une opposition au transfert (gage).",
    "Le véhicule fait l'objet d'une déclaration de vol.",
    "La déclaration de cession a été faite plus de 15 jours après la vente.",
)
MISSING = (
    ("Le contrôle technique a plus de 6 mois.", "Un contrôle technique de moins de 6 mois"),
    ("La pièce d'identité jointe est illisible.", "Une copie lisible de la pièce d'identité"),
    ("Le justificatif de domicile a plus de 6 mois.", "Un justificatif de domicile récent"),
)


def known_demarches() -> dict[str, set[int]]:
    """Démarche ids and versions the service accepts (the shipped definitions)."""
    known: dict[str, set[int]] = {}
    for path in sorted((assets_dir() / "demarches").glob("*.v*.toml")):
        name, _, version = path.stem.rpartition(".v")
        if version.isdigit():
            known.setdefault(name, set()).add(int(version))
    return known


def published_demarches() -> list[dict[str, Any]]:
    """The definitions as ``GET /v1/demarches`` serves them."""
    out = []
    for path in sorted((assets_dir() / "demarches").glob("*.v*.toml")):
        name, _, version = path.stem.rpartition(".v")
        content = path.read_bytes()
        out.append(
            {
                "id": name,
                "version": int(version),
                "sha256": hashlib.sha256(content).hexdigest(),
                "contenu": content.decode("utf-8"),
            }
        )
    return out


def validate(body: Any, demarches: dict[str, set[int]]) -> list[dict[str, str]]:
    """Field errors (``champ``, ``message`` in French); empty when the filing is acceptable."""
    if not isinstance(body, dict):
        return [{"champ": "", "message": "Le corps de la requête doit être un objet JSON."}]
    errors: list[dict[str, str]] = []
    try:
        uuid.UUID(str(body.get("id")))
    except ValueError:
        errors.append({"champ": "id", "message": "L'identifiant du dossier doit être un UUID."})
    demarche = body.get("demarche")
    if not isinstance(demarche, dict) or demarche.get("version") not in demarches.get(
        str(demarche.get("id")), set()
    ):
        errors.append(
            {"champ": "demarche", "message": "Cette démarche ou cette version n'existe pas."}
        )
    usager = body.get("usager")
    if not isinstance(usager, dict) or not usager.get("nom"):
        errors.append({"champ": "usager.nom", "message": "Le nom de l'usager est obligatoire."})
    if not isinstance(body.get("reponses"), dict):
        errors.append({"champ": "reponses", "message": "Les réponses sont obligatoires."})
    pieces = body.get("pieces")
    if not isinstance(pieces, list) or not all(
        isinstance(p, dict)
        and isinstance(p.get("sha256"), str)
        and len(p["sha256"]) == 64
        and isinstance(p.get("taille"), int)
        and 0 < p["taille"] <= 20 * 1024 * 1024
        for p in pieces
    ):
        errors.append(
            {
                "champ": "pieces",
                "message": "Chaque pièce doit avoir une empreinte SHA-256 et une taille"
                " de 1 octet à 20 Mo.",
            }
        )
    return errors


def _draw(dossier_id: str, depots: int) -> float:
    digest = hashlib.sha256(f"{dossier_id}/{depots}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide_due(c: sqlite3.Connection, now: float, delay: float, shares: tuple[float, float]) -> int:
    """Decide every complete filing older than ``delay``; returns how many were decided.

    ``shares`` = (accepted, refused); the rest is sent back « à compléter ». A second filing
    (after « à compléter ») is always accepted, so a demo converges.
    """
    rows = c.execute(
        "SELECT numero, dossier_id, depots FROM depot WHERE statut = 'depose' AND depose_at <= ?",
        (now - delay,),
    ).fetchall()
    for numero, dossier_id, depots in rows:
        draw = _draw(dossier_id, depots)
        motif: str | None = None
        manquant: list[str] = []
        if depots > 1 or draw < shares[0]:
            statut = "accepte"
        elif draw < shares[0] + shares[1]:
            statut = "refuse"
            motif = REFUSALS[int(draw * 1000) % len(REFUSALS)]
        else:
            statut = "a_completer"
            motif, what = MISSING[int(draw * 1000) % len(MISSING)]
            manquant = [what]
        c.execute(
            "UPDATE depot SET statut = ?, motif = ?, manquant = ? WHERE numero = ?",
            (statut, motif, json.dumps(manquant, ensure_ascii=False), numero),
        )
        c.execute(
            "INSERT INTO changement (dossier_id, numero, statut, motif, manquant, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (dossier_id, numero, statut, motif, json.dumps(manquant, ensure_ascii=False), now),
        )
    return len(rows)


def file_sha256(path: Path) -> str:
    """SHA-256 of a received upload."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
