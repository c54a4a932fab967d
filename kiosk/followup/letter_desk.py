"""The letters printed from the screens: one dossier's, in one tap on its card, and the day's
batch from the worklist. The same use case as ``kiosk courrier`` (:class:`LetterService`),
delivered to the counter's printer; a letter is recorded as sent only once the printer took it."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.followup.letters import LetterError, LetterService
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

    def __init__(self, letters: LetterService, printer: Printer) -> None:
        self._letters = letters
        self._printer = printer

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
