"""Small interfaces to hardware the domain does not know: printers, scan sources, scanners,
cameras, the text recognition that reads a photo and the speech that reads a question aloud
here; card readers in ``kiosk.identity``; the national service in the sync layer's ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Protocol

# The text readers' ports are declared beside the domain's use of them (kiosk/identity/text.py:
# the identity package may not import the ports, which import it); listed here with their
# siblings.
from kiosk.identity.text import CellScores, GlyphReader, TextLayout, TextReader, TextReadError

__all__ = [
    "Camera",
    "CameraError",
    "CameraFault",
    "CellScores",
    "CodeReadError",
    "CodeReader",
    "ConnectionBadge",
    "GlyphReader",
    "PreviewFrame",
    "PrintError",
    "Printer",
    "ScanError",
    "ScanFault",
    "ScanSource",
    "ScannedFile",
    "ScannedPage",
    "Scanner",
    "Speech",
    "Still",
    "TextLayout",
    "TextReadError",
    "TextReader",
]


class PrintError(Exception):
    """The document could not be printed; the message is in French, for the agent."""


class Printer(Protocol):
    """Prints a PDF (the receipt). Implementations live in ``devices/``."""

    @property
    def name(self) -> str:
        """What the agent sees ("Imprimante du guichet", "Dossier de sortie …")."""
        ...

    def print_pdf(self, pdf: bytes, *, title: str) -> str:
        """Print and return a short French confirmation; raise :class:`PrintError` on failure."""
        ...


@dataclass(frozen=True)
class ScannedFile:
    """A scanned document offered for attachment."""

    path: Path
    mime_type: str
    size: int


class ScanSource(Protocol):
    """Where scans come from (a scanner's output folder). Implementations live in ``devices/``.

    The folder holds people's papers in plain text: a scan attached is removed from it, and
    the scans never attached are swept away (docs/security.md, "The scanner's folder").
    """

    def files(self, limit: int = 24, *, since: datetime | None = None) -> list[ScannedFile]:
        """Accepted files, most recent first; with ``since``, only those that arrived after it
        (the scans of the dossier at the counter, not the previous person's)."""
        ...

    def read(self, scanned: ScannedFile) -> bytes:
        """A file's bytes."""
        ...

    def remove(self, scanned: ScannedFile) -> None:
        """Delete a scan once it is safely stored elsewhere (nothing if already gone).

        Raises:
            OSError: it could not be deleted (read-only folder, not allowed…).
        """
        ...

    def sweep(self, before: datetime | None = None) -> int:
        """Delete the scans never attached (with ``before``: those in the folder since before
        it); returns how many were deleted."""
        ...


class ScanFault(Enum):
    """What went wrong with the scanner, for the screen to say it in the person's language."""

    ABSENT = "absent"  # no scanning program, or no such scanner (unplugged, switched off)
    BUSY = "busy"  # the scanner is in use (another program, another scan)
    FAILED = "failed"  # the scan started and did not finish (jam, cover open, no page…)
    TIMEOUT = "timeout"  # the scanner stopped answering


class ScanError(Exception):
    """A scanner problem; ``str()`` is a French message for the agent (and the log)."""

    def __init__(self, fault: ScanFault, message: str) -> None:
        super().__init__(message)
        self.fault = fault


@dataclass(frozen=True)
class ScannedPage:
    """A page just scanned, as a file the national service takes (type and size)."""

    data: bytes
    mime_type: str


class Scanner(Protocol):
    """A scanner the kiosk drives itself (beside the scanner's folder, :class:`ScanSource`).

    Implementations live in ``devices/``: SANE's ``scanimage``. The page goes straight to the
    dossier, encrypted: it never lies in a folder in plain text.
    """

    @property
    def name(self) -> str:
        """What the agent sees (the SANE device name)."""
        ...

    def scan(self) -> ScannedPage:
        """Scan the page on the glass. Slow (seconds): call it off the UI thread.

        Raises:
            ScanError: nothing was scanned (the fault says why).
        """
        ...


class CameraFault(Enum):
    """What went wrong with the camera, for the screen to say it in the person's language."""

    ABSENT = "absent"  # no camera plugged in (or none the system offers)
    BUSY = "busy"  # a camera is there but does not start or stopped sending images
    CAPTURE = "capture"  # the preview runs, but this photo could not be taken


class CameraError(Exception):
    """A camera problem; ``str()`` is a French message for the agent (and the log)."""

    def __init__(self, fault: CameraFault, message: str) -> None:
        super().__init__(message)
        self.fault = fault


@dataclass(frozen=True)
class PreviewFrame:
    """One image of the live preview: packed RGB rows (``width * 3`` bytes each), small enough
    to be shown as it comes (a camera scales its preview down; the photo is taken separately)."""

    width: int
    height: int
    rgb: bytes


class Still(Protocol):
    """A photo just taken, not encoded yet."""

    @property
    def mime_type(self) -> str:
        """The type of what :meth:`encode` returns ("image/jpeg")."""
        ...

    def encode(self) -> bytes:
        """The photo as a file (full resolution). Slow: call it off the UI thread."""
        ...


class Camera(Protocol):
    """A camera at the counter that photographs one page of a document.

    Implementations live in ``devices/camera/``: Qt Multimedia for a real camera, and the
    simulated camera of training mode. Every method is called on the UI thread and returns at
    once; the camera works on threads of its own and the screen polls :meth:`frame`,
    :meth:`photo` and :meth:`problem` on a timer, so no callback ever crosses threads.
    """

    @property
    def name(self) -> str:
        """What the agent sees ("Caméra USB HD", "Caméra simulée (formation)")."""
        ...

    def problem(self) -> CameraError | None:
        """Why the camera cannot be used now (absent, or failed since :meth:`start`), or None.

        Cheap enough to call before showing a « Photographier » button.
        """
        ...

    def start(self) -> None:
        """Switch the camera on; frames follow. A failure is reported by :meth:`problem`."""
        ...

    def frame(self) -> PreviewFrame | None:
        """The newest preview image (None until the first one arrives)."""
        ...

    def capture(self) -> None:
        """Ask for a photo of what the camera sees; :meth:`photo` returns it when ready."""
        ...

    def photo(self) -> Still | None:
        """The photo asked for by :meth:`capture`, once, when it is ready (else None).

        Raises:
            CameraError: the photo could not be taken (fault ``CAPTURE``); the preview goes on.
        """
        ...

    def stop(self) -> None:
        """Switch the camera off (a no-op when it is off)."""
        ...


class Speech(Protocol):
    """Reads texts aloud in the person's language, offline, through the kiosk's speech service
    (docs/accessibility.md, « Lecture à voix haute »).

    Implementations live in ``devices/speech/``: Qt TextToSpeech on speech-dispatcher, and a
    silent one when there is no speech service or it is switched off. The caller decides what
    is read: the texts of the questions, never a person's answers. Every method is called on
    the UI thread and returns at once; a screen polls :meth:`speaking` on a timer to know when
    the reading is over, so no callback ever crosses threads.
    """

    def unavailable(self, lang: str) -> str | None:
        """Why nothing can be read aloud in ``lang`` (``fr``, ``en``, ``ar``) now, in plain
        French for the agent (no speech service, no voice for that language, switched off);
        None when it can."""
        ...

    def say(self, texts: Sequence[str], lang: str) -> None:
        """Read ``texts`` one after the other in ``lang``, after stopping whatever was being
        read (nothing happens when :meth:`unavailable` gives a reason)."""
        ...

    def speaking(self) -> bool:
        """Whether a reading is under way."""
        ...

    def stop(self) -> None:
        """Stop reading now (a no-op when nothing is being read)."""
        ...


@dataclass(frozen=True)
class ConnectionBadge:
    """What the home screen's badge shows: is the national service reachable, how many
    dossiers wait to be sent (produced by the sync layer, shown by the UI)."""

    configured: bool
    online: bool
    waiting: int
    detail: str = ""
    #: National decisions applied since the kiosk started (a change: lists to read again).
    decisions: int = 0


class CodeReadError(Exception):
    """No code could be read off a picture; the message says why, in French, for the agent."""


class CodeReader(Protocol):
    """Reads the QR codes in a photo (the enrolment code's, kiosk/enrolment/). Implemented in
    ``devices/qr/`` (zbar's ``zbarimg``)."""

    def unavailable(self) -> str | None:
        """A French reason when codes cannot be read on this kiosk (the program missing)."""
        ...

    def read_codes(self, image: bytes) -> tuple[str, ...]:
        """The text of each code found in ``image`` (a PNG or JPEG file's bytes); empty when
        there is none. Slow: call it off the UI thread.

        Raises:
            CodeReadError: the picture could not be read at all.
        """
        ...
