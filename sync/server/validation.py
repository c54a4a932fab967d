"""What the reference server checks of a request before it touches its database: the shapes of
docs/national-api.json, field by field, so that a request the contract does not allow is refused
(400 or 422 with the field errors in French) and never reaches SQLite or the kiosk's code half
read (a boolean taken as a size, an object as a reference, an id in another spelling echoed back).

Types are exact: ``true`` is not an integer, ``1.0`` is not an integer, an id is a UUID written
in its one canonical form (lowercase, hyphenated) and a SHA-256 in lowercase hexadecimal, the
form in which the server compares it with the bytes received.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHA256 = re.compile(r"[0-9a-f]{64}")
#: Idempotency-Key: a UUID, ``UUID.n``, or any visible token of the same alphabet.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: ``apres``: a cursor the server gave (the last sequence number served), or 0.
CURSOR = re.compile(r"0|[1-9][0-9]{0,17}")
LIMIT = re.compile(r"[1-9][0-9]{0,3}")
#: ``Upload-Offset``: bytes, written as the server writes it (no sign, no leading zero).
OFFSET = re.compile(r"0|[1-9][0-9]{0,11}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CONTACTS = ("guichet", "telephone", "courrier")
MAX_PIECE = 20 * 1024 * 1024
MAX_REFERENCE = 64


def is_int(value: object) -> bool:
    """An integer in JSON's sense (``true`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_uuid(value: object) -> bool:
    """A UUID in its canonical spelling (what the kiosk sends, what the server echoes)."""
    return isinstance(value, str) and UUID.fullmatch(value) is not None


def _optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def filing_errors(body: Any, demarches: dict[str, set[int]]) -> list[dict[str, str]]:
    """Field errors (``champ``, ``message`` in French) of a ``Dossier``; empty when acceptable."""
    if not isinstance(body, dict):
        return [{"champ": "", "message": "Le corps de la requête doit être un objet JSON."}]
    errors: list[dict[str, str]] = []

    def wrong(field: str, message: str) -> None:
        errors.append({"champ": field, "message": message})

    if not is_uuid(body.get("id")):
        wrong("id", "L'identifiant du dossier doit être un UUID (minuscules, avec tirets).")
    reference = body.get("reference")
    if not isinstance(reference, str) or not 0 < len(reference.strip()) <= MAX_REFERENCE:
        wrong("reference", "La référence du dossier est obligatoire (64 caractères au plus).")
    demarche = body.get("demarche")
    if (
        not isinstance(demarche, dict)
        or not isinstance(demarche.get("id"), str)
        or not is_int(demarche.get("version"))
        or demarche["version"] not in demarches.get(demarche["id"], set())
    ):
        wrong("demarche", "Cette démarche ou cette version n'existe pas.")
    if "routage" in body and not isinstance(body["routage"], str):
        wrong("routage", "Le routage est un texte.")
    if "formation" in body and not isinstance(body["formation"], bool):
        wrong("formation", "formation vaut true ou false.")
    if "depot" in body and not (is_int(body["depot"]) and body["depot"] >= 1):
        wrong("depot", "Le numéro de dépôt est un entier, 1 au premier dépôt.")
    if not isinstance(body.get("reponses"), dict):
        wrong("reponses", "Les réponses sont obligatoires.")
    _person_errors(body.get("usager"), wrong)
    vehicule = body.get("vehicule")
    if vehicule is not None and not (
        isinstance(vehicule, dict)
        and all(_optional_text(vehicule.get(k)) for k in ("immatriculation", "vin"))
    ):
        wrong("vehicule", "Le véhicule : immatriculation et VIN, en texte.")
    if body.get("contact") not in (*CONTACTS, None):
        wrong("contact", "Le mode de contact est guichet, telephone ou courrier.")
    verifier = body.get("verificateur")
    if "verificateur" in body and not (isinstance(verifier, str) and SHA256.fullmatch(verifier)):
        wrong(
            "verificateur",
            "Le vérificateur est une empreinte SHA-256 (64 caractères hexadécimaux en minuscules).",
        )
    pieces = body.get("pieces")
    if not isinstance(pieces, list) or not all(_piece_ok(p) for p in pieces):
        wrong(
            "pieces",
            "Chaque pièce doit avoir une empreinte SHA-256 (64 caractères hexadécimaux en"
            " minuscules) et une taille de 1 octet à 20 Mo.",
        )
    return errors


def _person_errors(usager: object, wrong: Any) -> None:
    if not isinstance(usager, dict) or not isinstance(usager.get("nom"), str):
        wrong("usager.nom", "Le nom de l'usager est obligatoire.")
        return
    if not usager["nom"].strip():
        wrong("usager.nom", "Le nom de l'usager est obligatoire.")
    for field in ("prenoms", "telephone"):
        if not _optional_text(usager.get(field)):
            wrong(f"usager.{field}", "Ce champ est un texte.")
    born = usager.get("date_naissance")
    if born is not None and not _is_date(born):
        wrong("usager.date_naissance", "La date de naissance s'écrit AAAA-MM-JJ.")


def _piece_ok(piece: object) -> bool:
    return (
        isinstance(piece, dict)
        and isinstance(piece.get("sha256"), str)
        and SHA256.fullmatch(piece["sha256"]) is not None
        and is_int(piece.get("taille"))
        and 0 < piece["taille"] <= MAX_PIECE
        and all(isinstance(piece.get(k, ""), str) for k in ("type", "type_mime"))
        and _optional_text(piece.get("pour"))
    )


def cursor(value: str | None) -> int | None:
    """``apres`` as a number (absent: 0); ``None``: not a cursor of this service."""
    if value is None:
        return 0
    return int(value) if CURSOR.fullmatch(value) else None


def limit(value: str | None, default: int = 200) -> int | None:
    """``limite`` (absent: ``default``); ``None``: outside 1–1000 or not a number."""
    if value is None:
        return default
    if not LIMIT.fullmatch(value) or not 1 <= int(value) <= 1000:
        return None
    return int(value)
