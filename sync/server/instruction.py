"""What the simulated national service decides, and how it checks a filing.

Validation refuses, with field errors in French, what a real service would refuse for good (the
kiosk must not retry those). Instruction is simulated over time: a filing complete since
``delay`` seconds is accepted, refused or sent back « à compléter », drawn from a hash of the
dossier so that a given dossier always gets the same outcome (reproducible demos and tests).

A dossier sent back names, typed, what is wrong with it in the terms of its own démarche: one of
the démarche's documents (``piece``: its id in the definition) or, for a démarche that asks for
none, one of the answers filed (``champ``: its path); with the day to answer by.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.settings.paths import assets_dir
from sync.server.followup import deadline, record_decision

if TYPE_CHECKING:
    from kiosk.demarches import Demarche

REFUSALS = (
    "Le certificat de situation administrative signale une opposition au transfert (gage).",
    "Le véhicule fait l'objet d'une déclaration de vol.",
    "La déclaration de cession a été faite plus de 15 jours après la vente.",
)
#: (reason, what to bring, the reason's type, the démarche document it is about)
MISSING = (
    (
        "Le contrôle technique a plus de 6 mois.",
        "Un contrôle technique de moins de 6 mois",
        "piece_perimee",
        "controle_technique",
    ),
    (
        "La pièce d'identité jointe est illisible.",
        "Une copie lisible de la pièce d'identité",
        "piece_incorrecte",
        "piece_identite",
    ),
    (
        "Le justificatif de domicile a plus de 6 mois.",
        "Un justificatif de domicile récent",
        "piece_perimee",
        "justificatif_domicile",
    ),
)


def known_demarches() -> dict[str, set[int]]:
    """Démarche ids and versions the service accepts (the shipped definitions)."""
    known: dict[str, set[int]] = {}
    for path in sorted((assets_dir() / "demarches").glob("*.v*.toml")):
        name, _, version = path.stem.rpartition(".v")
        if version.isdigit():
            known.setdefault(name, set()).add(int(version))
    return known


def _draw(dossier_id: str, depots: int) -> float:
    digest = hashlib.sha256(f"{dossier_id}/{depots}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide_due(
    c: sqlite3.Connection,
    now: float,
    delay: float,
    shares: tuple[float, float],
    demarche_of: Callable[[dict[str, Any]], Demarche | None] = lambda body: None,
) -> int:
    """Decide every complete filing older than ``delay``; returns how many were decided.

    ``shares`` = (accepted, refused); the rest is sent back « à compléter ». A second filing
    (after « à compléter ») is always accepted, so a demo converges. ``demarche_of``: the
    definition a filed body was made on (its documents name the reasons, its theme says
    whether a provisional certificate is issued).
    """
    rows = c.execute(
        "SELECT numero, dossier_id, depots, corps FROM depot"
        " WHERE statut = 'depose' AND depose_at <= ?",
        (now - delay,),
    ).fetchall()
    for numero, dossier_id, depots, corps in rows:
        draw = _draw(dossier_id, depots)
        body = json.loads(corps)
        demarche = demarche_of(body)
        theme = demarche.theme if demarche is not None else None
        if depots > 1 or draw < shares[0]:
            record_decision(c, numero, "accepte", now, theme=theme)
        elif draw < shares[0] + shares[1]:
            motif = REFUSALS[int(draw * 1000) % len(REFUSALS)]
            typed = [{"type": "autre", "message": motif}]
            record_decision(c, numero, "refuse", now, motif=motif, motifs=typed, theme=theme)
        else:
            motif, manquant, typed = sent_back(int(draw * 1000), demarche, body)
            record_decision(
                c,
                numero,
                "a_completer",
                now,
                motif=motif,
                manquant=manquant,
                motifs=typed,
                date_limite=deadline(now),
                theme=theme,
            )
    return len(rows)


def sent_back(
    pick: int, demarche: Demarche | None, body: dict[str, Any]
) -> tuple[str, list[str], list[dict[str, str]]]:
    """Why a dossier goes back « à compléter »: the free text, the « à fournir » lines and the
    typed reasons, naming a document the démarche really has (or an answer really filed)."""
    message, what, kind, piece = MISSING[pick % len(MISSING)]
    documents = {d.kind: d.label for d in demarche.documents} if demarche is not None else {}
    if piece in documents:
        return message, [what], [{"type": kind, "message": message, "piece": piece}]
    if documents:
        first, label = next(iter(documents.items()))
        text = f"Pièce manquante : {label}."
        return text, [label], [{"type": "piece_manquante", "message": text, "piece": first}]
    answers = body.get("reponses")
    paths = sorted(answers) if isinstance(answers, dict) else []
    if paths:
        text = "Une réponse est à vérifier et à corriger."
        return text, [], [{"type": "champ_incorrect", "message": text, "champ": paths[0]}]
    return message, [what], [{"type": "autre", "message": message}]


def file_sha256(path: Path) -> str:
    """SHA-256 of a received upload."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
