"""``POST /v1/suivi``: a filed dossier's state from its receipt, at any kiosk (issue 17).

The kiosk that filed the dossier deposited ``verificateur`` = SHA-256 of « reference, newline,
verification code » with it; a kiosk that reads the receipt's QR code sends the reference and
the code, and the service compares. Unknown reference, wrong code, a dossier filed without a
verifier: the same 404 (``recu_inconnu``), so nothing tells a dossier exists. Five wrong codes
for one reference within an hour close that reference's lookups until the hour is over
(``trop_d_essais``): the code has 40 bits and the quota already bounds each kiosk, this bounds
the guesses on one receipt from the whole fleet. Nothing personal is answered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sync.server.db import national_number

REFERENCE = re.compile(r"PN-[A-Z0-9]{4}-[A-Z0-9]{4}")
CODE = re.compile(r"[A-Z0-9]{4,12}")
#: Wrong codes for one reference within :data:`WINDOW` seconds before its lookups are closed.
MAX_WRONG = 5
WINDOW = 3600.0

#: The filing's status in the service's database → what the lookup says.
_STATUS = {
    "pieces_attendues": "pieces_attendues",
    "depose": "en_instruction",
    "attente_paiement": "en_attente_paiement",
    "a_completer": "a_completer",
    "accepte": "accepte",
    "refuse": "refuse",
}


def verifier(reference: str, code: str) -> str:
    """What the filing kiosk deposits (the contract's ``Dossier.verificateur``)."""
    return hashlib.sha256(f"{reference}\n{code}".encode()).hexdigest()


class Lookups:
    """The wrong codes seen per reference (the service's memory, reset at restart)."""

    def __init__(self) -> None:
        self._wrong: dict[str, list[float]] = defaultdict(list)

    def closed(self, reference: str, now: float) -> int:
        """Seconds until ``reference`` may be looked up again (0: now): it had
        :data:`MAX_WRONG` wrong codes within the window."""
        recent = [t for t in self._wrong[reference] if now - t < WINDOW]
        self._wrong[reference] = recent
        if len(recent) < MAX_WRONG:
            return 0
        return max(1, math.ceil(recent[-MAX_WRONG] + WINDOW - now))

    def wrong(self, reference: str, now: float) -> None:
        """Count a wrong code for ``reference``."""
        self._wrong[reference].append(now)


def request_errors(body: object) -> str | None:
    """Why a ``DemandeSuivi`` is not acceptable (French), or ``None``."""
    if (
        not isinstance(body, dict)
        or set(body) != {"reference", "code"}
        or not isinstance(body["reference"], str)
        or not isinstance(body["code"], str)
        or not REFERENCE.fullmatch(body["reference"])
        or not CODE.fullmatch(body["code"])
    ):
        return (
            'Attendu : {"reference": "PN-XXXX-XXXX", "code": "<4 à 12 majuscules ou'
            " chiffres>\"}, rien d'autre."
        )
    return None


def lookup(c: Any, reference: str, code: str) -> dict[str, Any] | None:
    """The state of the filing of ``reference`` if ``code`` is its receipt's, else ``None``."""
    rows = c.execute(
        "SELECT d.numero, d.statut, d.depose_at, d.corps FROM depot d WHERE d.reference = ?"
        " ORDER BY d.numero DESC",
        (reference,),
    ).fetchall()
    expected = verifier(reference, code)
    for row in rows:
        deposited = json.loads(row["corps"]).get("verificateur")
        if isinstance(deposited, str) and hmac.compare_digest(deposited, expected):
            return _answer(c, row, reference)
    return None


def _answer(c: Any, row: Any, reference: str) -> dict[str, Any]:
    status = _STATUS.get(row["statut"], "en_instruction")
    deadline = None
    if status == "a_completer":
        last = c.execute(
            "SELECT date_limite FROM changement WHERE numero = ? ORDER BY seq DESC LIMIT 1",
            (row["numero"],),
        ).fetchone()
        deadline = last["date_limite"] if last is not None else None
    owed = None
    if status == "en_attente_paiement":
        due = c.execute(
            "SELECT montant_du - paye FROM paiement WHERE numero = ?", (row["numero"],)
        ).fetchone()
        owed = max(0, int(due[0])) if due is not None else None
    filed = datetime.fromtimestamp(row["depose_at"] or 0, UTC).date()
    return {
        "reference": reference,
        "numero_national": national_number(row["numero"]),
        "statut": status,
        "depose_le": filed.isoformat(),
        "date_limite": deadline,
        "reste_du_centimes": owed,
    }
