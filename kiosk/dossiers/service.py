"""Every use case on dossiers behind one name, for the command line and the sync worker.

The use cases live along their seams: :mod:`~kiosk.dossiers.answers` (the autosave, an identity
read applied, a group item removed), :mod:`~kiosk.dossiers.lifecycle` (create, validate, file,
abandon, the national decisions), :mod:`~kiosk.dossiers.queries` (open at the counter, show, list),
:mod:`~kiosk.dossiers.attachments` (the documents provided), :mod:`~kiosk.dossiers.fees`
(what it costs) and :mod:`~kiosk.dossiers.payment` (a timbre fiscal given). A screen is handed
the narrow part it uses; the command line, which does everything, takes them all at once.
"""

from __future__ import annotations

from kiosk.demarches import FieldError
from kiosk.dossiers.answers import AnswerResult, DossierAnswers
from kiosk.dossiers.attachments import DossierPieces
from kiosk.dossiers.base import utc_now
from kiosk.dossiers.fees import DossierFees
from kiosk.dossiers.lifecycle import DossierLifecycle
from kiosk.dossiers.payment import DossierPayments
from kiosk.dossiers.queries import DossierQueries
from kiosk.dossiers.reference import RECEIPT_KEY_SETTING


class DossierService(
    DossierAnswers, DossierLifecycle, DossierQueries, DossierPieces, DossierFees, DossierPayments
):
    """Create, answer, look up and move dossiers through their life cycle; say what they cost;
    take a timbre fiscal for them."""


__all__ = [
    "RECEIPT_KEY_SETTING",
    "AnswerResult",
    "DossierService",
    "FieldError",
    "utc_now",
]
