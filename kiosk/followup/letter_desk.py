"""The papers of the follow-up printed from the screens: a dossier's letter, in one tap on its
card, the day's batch from the worklist, and a document the national service issued (a
provisional registration certificate) for the person at the counter. The same use cases as
``kiosk courrier`` and ``kiosk document-national``, delivered to the counter's printer; a letter
is recorded as sent, a document as printed, only once the printer took it."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.followup.letters import LetterError, LetterService
from kiosk.followup.national_documents import NationalDocumentError, NationalDocuments
from kiosk.ports.devices import Printer


@dataclass(frozen=True)
class Printed:
    """What a print did: the letters sent to the printer, the printer's confirmation, and the
    dossiers whose letter could not be made (each with why, in French)."""

    references: tuple[str, ...]
    confirmation: str
    not_made: tuple[str, ...] = ()


class LetterDesk:
    """Prints letters on the counter's printer."""

    def __init__(
        self, letters: LetterService, printer: Printer, documents: NationalDocuments | None = None
    ) -> None:
        self._letters = letters
        self._printer = printer
        self._documents = documents

    def print_document(
        self, reference: str, document_id: int, *, agent_id: int | None = None
    ) -> Printed:
        """Print a document the national service issued for the dossier (a PDF).

        Raises:
            NationalDocumentError: not arrived yet, not the one announced, not a PDF.
            PrintError: the printer refused it (it is not marked printed).
        """
        if self._documents is None:
            raise NationalDocumentError("Les documents du service national ne sont pas lus ici.")
        view, data = self._documents.read(reference, document_id)
        if not view.is_pdf:
            raise NationalDocumentError(
                f"« {view.label} » n'est pas un PDF : enregistrez-le avec la commande"
                f" kiosk document-national {view.reference} --out FICHIER."
            )
        confirmation = self._printer.print_pdf(data, title=f"{view.label} {view.reference}")
        self._documents.mark_printed(view.id, agent_id=agent_id)
        return Printed((view.reference,), confirmation)

    def print_letter(self, reference: str, *, agent_id: int | None = None) -> Printed:
        """Print the letter of one dossier.

        Raises:
            LetterError: no postal address, nothing to say, unknown dossier.
            PrintError: the printer refused it (nothing is recorded).
        """
        letter = self._letters.compose(reference)
        confirmation = self._letters.issue(
            [letter],
            lambda pdf: self._printer.print_pdf(pdf, title=f"Courrier {letter.reference}"),
            agent_id=agent_id,
        )
        return Printed((letter.reference,), confirmation)

    def due(self) -> int:
        """How many letters the day's batch would print."""
        return len(self._letters.due())

    def print_due(self, *, agent_id: int | None = None) -> Printed:
        """Print the day's letters, one page each; the ones that cannot be made are said.

        Raises:
            PrintError: the printer refused them (nothing is recorded).
        """
        letters, not_made = [], []
        for reference in self._letters.due():
            try:
                letters.append(self._letters.compose(reference))
            except LetterError as exc:
                not_made.append(str(exc))
        if not letters:
            return Printed((), "", tuple(not_made))
        confirmation = self._letters.issue(
            letters,
            lambda pdf: self._printer.print_pdf(pdf, title="Courriers du jour"),
            agent_id=agent_id,
        )
        return Printed(tuple(x.reference for x in letters), confirmation, tuple(not_made))
