"""The text messages sent to the person when the national service decides about their dossier.

A text message travels through the operator's network and lands on a phone anyone may pick up:
it carries the dossier's reference and what to do, never the person's name, address, phone
number nor the service's free-text reasons (which may quote them). What to bring is said with
the démarche's own document labels (written by the kiosk's authors, never by the person). In
French: the person chose « par SMS » at a French préfecture's counter, and the texts are short
enough for one or two messages (:data:`MAX_TEXT`, the contract's limit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from kiosk.dossiers.states import DossierState
from kiosk.followup.reasons import Reason
from kiosk.messages import format_money

#: The longest text the national notification endpoint takes (``DemandeNotification.texte``).
MAX_TEXT = 320
_HEAD = "Point numérique : votre dossier {ref}"
_TEMPLATES = {
    "a_completer_pieces": _HEAD + " est à compléter. Apportez au guichet : {what} avant le {date}.",
    "a_completer_pieces_sans_date": _HEAD + " est à compléter. Apportez au guichet : {what}.",
    "a_completer_correction": _HEAD + " est à compléter : une information est à corriger."
    " Présentez-vous au guichet avec votre reçu avant le {date}.",
    "a_completer_correction_sans_date": _HEAD + " est à compléter : une information est à"
    " corriger. Présentez-vous au guichet avec votre reçu.",
    "paiement": _HEAD + " attend son paiement de {amount}. Payez avec la référence de paiement"
    " de votre reçu, en ligne ou chez un buraliste agréé, ou au guichet.",
    "paiement_sans_montant": _HEAD + " attend son paiement. Payez avec la référence de paiement"
    " de votre reçu, en ligne ou chez un buraliste agréé, ou au guichet.",
    "accepte_certificat": _HEAD + " est accepté. Votre certificat provisoire est à retirer au"
    " guichet avec votre reçu ; le titre vous sera envoyé par courrier.",
    "accepte": _HEAD + " est accepté. Votre titre vous sera envoyé par courrier.",
    "refuse": _HEAD + " n'a pas été accepté. Présentez-vous au guichet avec votre reçu :"
    " l'agent vous expliquera pourquoi et ce que vous pouvez faire.",
}
#: What to bring when the reasons name no document the démarche knows.
_SOME_DOCUMENTS = "les pièces demandées"


@dataclass(frozen=True)
class TextMessage:
    """A text message to queue: the template it was built from (kept with it) and its text."""

    template: str
    text: str


def text_message(
    state: DossierState,
    reference: str,
    *,
    reasons: Sequence[Reason] = (),
    deadline: date | None = None,
    labels: Mapping[str, str] | None = None,
    amount_cents: int | None = None,
    certificate: bool = False,
) -> TextMessage | None:
    """The message telling the person of a decision (``None``: no message for that state).

    Args:
        reasons: the typed reasons of an « à compléter »; only their document ids are used.
        labels: the démarche's documents, id → label (what to bring, in the démarche's words).
        amount_cents: what is due, for « en attente de paiement ».
        certificate: a provisional certificate was issued with an acceptance.
    """
    when = deadline.strftime("%d/%m/%Y") if deadline is not None else None
    if state is DossierState.A_COMPLETER:
        documents = [r for r in reasons if r.kind.about_document]
        if not documents and reasons:
            name = "a_completer_correction" if when else "a_completer_correction_sans_date"
            return _build(name, ref=reference, date=when)
        name = "a_completer_pieces" if when else "a_completer_pieces_sans_date"
        fixed = len(_TEMPLATES[name].format(ref=reference, what="", date=when))
        what = _what(documents, labels or {}, MAX_TEXT - fixed)
        return _build(name, ref=reference, what=what, date=when)
    if state is DossierState.ATTENTE_PAIEMENT:
        if amount_cents:
            return _build("paiement", ref=reference, amount=format_money(amount_cents))
        return _build("paiement_sans_montant", ref=reference)
    if state is DossierState.ACCEPTE:
        return _build("accepte_certificat" if certificate else "accepte", ref=reference)
    if state is DossierState.REFUSE:
        return _build("refuse", ref=reference)
    return None


def _build(name: str, **values: str | None) -> TextMessage:
    text = _TEMPLATES[name].format(**values)
    # The templates and the labels are the kiosk's own: past the limit is a bug, cut rather
    # than lose the message (the reference comes first).
    return TextMessage(name, text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…")


def _what(reasons: Sequence[Reason], labels: Mapping[str, str], room: int) -> str:
    """The documents to bring, in the démarche's words, as many as fit in ``room`` characters;
    the generic words when none is known (a reason without a document id) or none fits."""
    named: list[str] = []
    for reason in reasons:
        label = labels.get(reason.piece or "")
        if label is None:
            return _SOME_DOCUMENTS  # one unknown: a partial list would mislead
        label = " ".join(label.split())
        if label not in named:
            named.append(label)
    text = " ; ".join(named)
    if not named or len(text) > room:
        return _SOME_DOCUMENTS
    return text
