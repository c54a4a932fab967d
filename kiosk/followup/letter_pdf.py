"""Lay out the letters on A4 with reportlab's canvas: one page per letter, each page standing
alone, for a French window envelope.

The recipient's address sits where the window of a DL envelope (110 × 220 mm, window 45 × 100
mm) shows it once the sheet is folded in three (folds at 99 and 198 mm, marked in the margin):
the address frame of La Poste's guide for window envelopes, 85 mm wide and 33 mm high, 110 mm
from the left edge and 55 mm from the top of the sheet, inside the window's zone (100–200 mm from
the left, 45–90 mm from the top) with room for the sheet to slide in the envelope. The lines follow
the norme NF Z 10-011: six at most, left-aligned, the address lines in capitals without
punctuation, 9 to 12 points (10 here, 9 when a line is long). The sender (the counter) is top
left, away from the window.

Like the receipt, the page is drawn by hand so that it never spills onto a second page: the
fixed parts are placed first, then the body is fitted into the room left, shrinking its type
and, as a last resort, cutting its lists with « … et N autres ». The fonts and the QR code are
the receipt's (kiosk/receipt/fonts.py, kiosk/receipt/qr.py).

Runs on a worker thread or in the command line, never on the UI thread.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kiosk.followup import letter_text
from kiosk.followup.letter_model import Block, Checklist, Letter, Paragraph, PaymentPanel
from kiosk.receipt.fonts import FontSet, receipt_fonts
from kiosk.receipt.qr import draw_qr, qr_matrix
from kiosk.receipt.text import NNBSP, ellipsize, format_day, keep_times_together, wrap

# reportlab is untyped: pin the geometry to float so mypy keeps checking the arithmetic.
PAGE_W: float = A4[0]
PAGE_H: float = A4[1]
MARGIN_X: float = 20 * mm
MARGIN_TOP: float = 15 * mm
MARGIN_BOTTOM: float = 12 * mm
CONTENT_W = PAGE_W - 2 * MARGIN_X

#: The DL envelope's window as it lies on the folded sheet (from the sheet's left and top edges).
WINDOW_LEFT: float = 100 * mm
WINDOW_TOP: float = 45 * mm
WINDOW_W: float = 100 * mm
WINDOW_H: float = 45 * mm
#: La Poste's address frame for window envelopes, inside the window with a margin all round.
ADDRESS_LEFT: float = 110 * mm
ADDRESS_TOP: float = 55 * mm
ADDRESS_W: float = 85 * mm
ADDRESS_H: float = 33 * mm
#: Folding an A4 in three for a DL envelope.
FOLDS: tuple[float, float] = (99 * mm, 198 * mm)

INK = Color(0.08, 0.08, 0.1)
MUTED = Color(0.35, 0.35, 0.4)
ACCENT = Color(0, 0, 0.57)  # "bleu France"; a dark grey on the usual mono laser
PANEL = Color(0.94, 0.95, 0.97)
RULE = Color(0.75, 0.76, 0.8)

QR_QUIET_MODULES = 4
QR_MODULE = 3.0  # the receipt's size: ~1 mm, read by the counters' cheap scanners
PAY_QR_MODULE = 2.0  # the receipt's payment code: read by a phone

_SENDER_W = WINDOW_LEFT - MARGIN_X - 6 * mm
_BODY_LEADING = 1.38
# (type size, lines per list item) tried in order until the body fits.
_FIT_LEVELS = ((10.5, 3), (9.5, 3), (8.5, 2))
_LEFT_COLUMN_BOTTOM_GAP = 4 * mm


def _y(top: float) -> float:
    """reportlab's y (from the bottom) of a distance from the top of the sheet."""
    return PAGE_H - top


def render_letter(letter: Letter) -> bytes:
    """One letter as a one-page A4 PDF."""
    return render_letters([letter])


def render_letters(letters: Sequence[Letter]) -> bytes:
    """Letters as one A4 PDF, a page each: each page is a whole letter, to fold and post alone.

    Raises:
        ValueError: no letter, or a reference that is not ``PN-XXXX-XXXX``.
    """
    if not letters:
        raise ValueError("Aucune lettre à mettre en page.")
    buffer = io.BytesIO()
    # invariant: no creation date nor random file id, so the same letters give the same bytes.
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    first = letters[0]
    if len(letters) == 1:
        canvas.setTitle(f"Courrier — dossier {first.reference}")
    else:
        canvas.setTitle(f"Courriers du {format_day(first.dated)} ({len(letters)})")
    canvas.setAuthor(first.sender.name)
    fonts = receipt_fonts()
    for letter in letters:
        _Painter(canvas, fonts, letter).paint()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class _Painter:
    """Draws one letter on the current page."""

    def __init__(self, canvas: Canvas, fonts: FontSet, letter: Letter) -> None:
        self.c = canvas
        self.f = fonts
        self.letter = letter

    # -- primitives ---------------------------------------------------------------------------

    def line(
        self,
        y: float,
        text: str,
        *,
        font: str,
        size: float,
        color: Color = INK,
        x: float = MARGIN_X,
        leading: float = 1.3,
    ) -> float:
        """Draw one line whose box top is ``y`` (reportlab's y); return the y below it."""
        self.c.setFont(font, size)
        self.c.setFillColor(color)
        self.c.drawString(x, y - size * 0.95, self.f.fit(text))
        return y - size * leading

    def wrap(self, text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
        return wrap(self.f.fit(text), font, size, width, max_lines)

    # -- page ---------------------------------------------------------------------------------

    def paint(self) -> None:
        if self.letter.training:
            self._training_banner()
        self._folds()
        sender_bottom = self._sender()
        left_bottom = self._reference(max(sender_bottom - 4 * mm, _y(46 * mm)))
        self._address()
        self._date()
        footer_top = self._footer()
        counter_top = self._counter_box(footer_top + 6)
        top = min(left_bottom - _LEFT_COLUMN_BOTTOM_GAP, _y(100 * mm))
        top = self._subject(top)
        sign_off_h = 10.5 * 1.4 * 2 + 6
        self._body(top, counter_top + sign_off_h + 10)

    def _training_banner(self) -> None:
        self.c.setFillColor(INK)
        self.c.setFont(self.f.bold, 9)
        self.c.drawCentredString(PAGE_W / 2, _y(8 * mm), self.f.fit(letter_text.TRAINING_BANNER))

    def _folds(self) -> None:
        """Short marks in the left margin where the sheet folds for the envelope."""
        self.c.setStrokeColor(RULE)
        self.c.setLineWidth(0.5)
        for fold in FOLDS:
            self.c.line(4 * mm, _y(fold), 8 * mm, _y(fold))

    def _sender(self) -> float:
        """The counter, top left; returns the y below it."""
        sender = self.letter.sender
        y = _y(MARGIN_TOP)
        for text in self.wrap(sender.name, self.f.bold, 10, _SENDER_W, 2):
            y = self.line(y, text, font=self.f.bold, size=10)
        for text in sender.address[:4]:
            fitted = ellipsize(self.f.fit(text), self.f.regular, 9, _SENDER_W)
            y = self.line(y, fitted, font=self.f.regular, size=9)
        if sender.phone.strip():
            phone = ellipsize(
                self.f.fit(f"Tél.{NNBSP}{sender.phone.strip()}"), self.f.regular, 9, _SENDER_W
            )
            y = self.line(y, phone, font=self.f.regular, size=9)
        return y

    def _reference(self, top: float) -> float:
        """The dossier's reference and the receipt's QR code, left of the window; returns the
        y below the code's caption."""
        letter = self.letter
        y = self.line(top, letter_text.REFERENCE_LABEL, font=self.f.regular, size=8.5, color=MUTED)
        y = self.line(y, letter.reference, font=self.f.mono_bold, size=15, leading=1.25)
        matrix = qr_matrix(letter.qr_payload)
        side = (len(matrix) + 2 * QR_QUIET_MODULES) * QR_MODULE
        qr_top = y - 2
        quiet = QR_QUIET_MODULES * QR_MODULE
        # White under the quiet zone, then the code: a scanner needs the blank margin.
        self.c.setFillColor(Color(1, 1, 1))
        self.c.rect(MARGIN_X - quiet, qr_top - side, side, side, stroke=0, fill=1)
        draw_qr(self.c, matrix, MARGIN_X, qr_top - quiet - QR_MODULE, QR_MODULE)
        caption_top = qr_top - side + quiet - 2
        return self.line(
            caption_top, letter_text.QR_CAPTION, font=self.f.regular, size=7.5, color=MUTED
        )

    def _address(self) -> None:
        """The recipient, in La Poste's frame inside the envelope's window."""
        lines = self.letter.recipient[:6]
        size = 10.0
        widest = max(stringWidth(self.f.fit(t), self.f.regular, size) for t in lines)
        if widest > ADDRESS_W:
            size = 9.0  # the norme's smallest: a long line is not cut while it fits at 9
        y = _y(ADDRESS_TOP)
        for text in lines:
            fitted = ellipsize(self.f.fit(text), self.f.regular, size, ADDRESS_W)
            y = self.line(y, fitted, font=self.f.regular, size=size, x=ADDRESS_LEFT, leading=1.2)

    def _date(self) -> None:
        day = self.f.fit(f"Le {format_day(self.letter.dated)}")
        self.c.setFont(self.f.regular, 10)
        self.c.setFillColor(INK)
        self.c.drawRightString(PAGE_W - MARGIN_X, _y(ADDRESS_TOP + ADDRESS_H + 6 * mm), day)

    def _subject(self, top: float) -> float:
        """The « Objet » line, the démarche and the salutation; returns the y below them."""
        y = top
        for text in self.wrap(self.letter.subject, self.f.bold, 11.5, CONTENT_W, 2):
            y = self.line(y, text, font=self.f.bold, size=11.5, leading=1.35)
        title = f"Démarche{NNBSP}: {self.letter.demarche_title}"
        for text in self.wrap(title, self.f.regular, 9.5, CONTENT_W, 2):
            y = self.line(y, text, font=self.f.regular, size=9.5, color=MUTED)
        y -= 8
        return self.line(y, letter_text.SALUTATION, font=self.f.regular, size=10.5) - 4

    # -- the body, fitted -----------------------------------------------------------------------

    def _body(self, top: float, floor: float) -> None:
        room = top - floor
        size, max_lines = _FIT_LEVELS[-1]
        keep: dict[int, int] | None = None
        for level_size, level_lines in _FIT_LEVELS:
            if self._blocks(top, level_size, level_lines, None, draw=False) <= room:
                size, max_lines = level_size, level_lines
                break
        else:
            keep = self._cut(room, size, max_lines)
        y = top - self._blocks(top, size, max_lines, keep, draw=True)
        y -= 6
        y = self.line(y, letter_text.SIGN_OFF, font=self.f.regular, size=10.5, leading=1.4)
        name = ellipsize(self.f.fit(self.letter.sender.name), self.f.bold, 10.5, CONTENT_W)
        self.line(y, name, font=self.f.bold, size=10.5)

    def _cut(self, room: float, size: float, max_lines: int) -> dict[int, int]:
        """How many items each list keeps so that the body fits: every list shows at least its
        first item, then the lists of things to bring fill the room left (the person acts on
        them, and they are short), then the others in order."""
        lists = [(i, b) for i, b in enumerate(self.letter.blocks) if isinstance(b, Checklist)]
        lists.sort(key=lambda entry: not entry[1].boxes)
        keep = {index: 1 for index, _ in lists}
        for index, block in lists:
            while keep[index] < len(block.items):
                keep[index] += 1
                if self._blocks(0, size, max_lines, keep, draw=False) > room:
                    keep[index] -= 1
                    break
        return keep

    def _blocks(
        self, top: float, size: float, max_lines: int, keep: dict[int, int] | None, *, draw: bool
    ) -> float:
        """Draw (or only measure) the body's blocks from ``top``; returns their height."""
        y = top
        for index, block in enumerate(self.letter.blocks):
            kept = None if keep is None else keep.get(index)
            y -= self._block(y, block, size, max_lines, kept, draw=draw)
        return top - y

    def _block(
        self, y: float, block: Block, size: float, max_lines: int, kept: int | None, *, draw: bool
    ) -> float:
        if isinstance(block, Paragraph):
            return self._paragraph(y, block, size, draw=draw)
        if isinstance(block, Checklist):
            return self._checklist(y, block, size, max_lines, kept, draw=draw)
        return self._payment(y, block, size, draw=draw)

    def _paragraph(self, y: float, block: Paragraph, size: float, *, draw: bool) -> float:
        font = self.f.bold if block.strong else self.f.regular
        lines = self.wrap(block.text, font, size, CONTENT_W, 6)
        if draw:
            for text in lines:
                y = self.line(y, text, font=font, size=size, leading=_BODY_LEADING)
        return len(lines) * size * _BODY_LEADING + size * 0.55

    def _checklist(
        self,
        y: float,
        block: Checklist,
        size: float,
        max_lines: int,
        kept: int | None,
        *,
        draw: bool,
    ) -> float:
        start = y
        heading = ellipsize(self.f.fit(block.heading), self.f.bold, size + 0.5, CONTENT_W)
        if draw:
            self.line(y, heading, font=self.f.bold, size=size + 0.5, color=ACCENT)
        y -= (size + 0.5) * 1.45
        indent = size * 1.9
        items = block.items if kept is None else block.items[:kept]
        for item in items:
            lines = self.wrap(item, self.f.regular, size, CONTENT_W - indent, max_lines)
            if draw:
                self._marker(y, size, boxes=block.boxes)
                line_y = y
                for text in lines:
                    line_y = self.line(
                        line_y,
                        text,
                        font=self.f.regular,
                        size=size,
                        x=MARGIN_X + indent,
                        leading=_BODY_LEADING,
                    )
            y -= len(lines) * size * _BODY_LEADING + size * 0.25
        left = len(block.items) - len(items)
        if left:
            if draw:
                self.line(
                    y,
                    _more(left),
                    font=self.f.bold,
                    size=size,
                    x=MARGIN_X + indent,
                    leading=_BODY_LEADING,
                )
            y -= size * _BODY_LEADING
        y -= size * 0.6
        return start - y

    def _marker(self, y: float, size: float, *, boxes: bool) -> None:
        if boxes:
            box = size * 0.85
            self.c.setStrokeColor(INK)
            self.c.setLineWidth(0.9)
            self.c.rect(MARGIN_X + 2, y - size * 0.92, box, box, stroke=1, fill=0)
        else:
            self.line(y, "•", font=self.f.bold, size=size, x=MARGIN_X + 3)

    def _payment(self, y: float, block: PaymentPanel, size: float, *, draw: bool) -> float:
        """The receipt's « Payer sans carte bancaire » block: amount, reference and where to
        pay on the left, the QR code of the payment address on the right."""
        start = y
        heading_size = size + 0.5
        if draw:
            self.line(
                y, "Payer sans carte bancaire", font=self.f.bold, size=heading_size, color=ACCENT
            )
        y -= heading_size * 1.45
        matrix = qr_matrix(block.payment.url)
        side = (len(matrix) + 2 * QR_QUIET_MODULES) * PAY_QR_MODULE
        text_w = CONTENT_W - side - 12
        lines: list[tuple[str, str]] = []
        for index, text in enumerate(block.lines):
            font = self.f.bold if index < 2 else self.f.regular
            lines += [(line, font) for line in self.wrap(text, font, size, text_w, 3)]
        if draw:
            qr_x = MARGIN_X + CONTENT_W - side
            self.c.setFillColor(Color(1, 1, 1))
            self.c.rect(qr_x, y - side, side, side, stroke=0, fill=1)
            quiet = QR_QUIET_MODULES * PAY_QR_MODULE
            draw_qr(self.c, matrix, qr_x + quiet, y - quiet - PAY_QR_MODULE, PAY_QR_MODULE)
            line_y = y
            for text, font in lines:
                line_y = self.line(line_y, text, font=font, size=size)
        y -= max(size * 1.3 * len(lines), side) + size * 0.6
        return start - y

    # -- the foot of the page -----------------------------------------------------------------

    def _counter_box(self, bottom: float) -> float:
        """« Où venir »: the counter's address and opening hours in a panel; returns its top."""
        sender = self.letter.sender
        half = CONTENT_W / 2 - 14
        name = self.wrap(sender.name, self.f.bold, 9.5, half, 2)
        address = [ellipsize(self.f.fit(a), self.f.regular, 9, half) for a in sender.address[:4]]
        hours = self.wrap(
            keep_times_together(letter_text.hours_line(sender.hours)), self.f.regular, 9, half, 4
        )
        phone = (
            [ellipsize(self.f.fit(f"Tél.{NNBSP}{sender.phone.strip()}"), self.f.bold, 9.5, half)]
            if sender.phone.strip()
            else []
        )
        left_h = 12.4 * len(name) + 11.7 * len(address)
        right_h = 11.7 * len(hours) + 12.4 * len(phone)
        height = 10 + 10.5 * 1.5 + max(left_h, right_h) + 8
        top = bottom + height
        c = self.c
        c.setFillColor(PANEL)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.8)
        c.roundRect(MARGIN_X, bottom, CONTENT_W, height, 5, stroke=1, fill=1)
        y = top - 9
        y = self.line(
            y,
            letter_text.COUNTER_HEADING,
            font=self.f.bold,
            size=10.5,
            color=ACCENT,
            x=MARGIN_X + 10,
            leading=1.5,
        )
        left_y = y
        for text in name:
            left_y = self.line(left_y, text, font=self.f.bold, size=9.5, x=MARGIN_X + 10)
        for text in address:
            left_y = self.line(left_y, text, font=self.f.regular, size=9, x=MARGIN_X + 10)
        right = MARGIN_X + CONTENT_W / 2 + 4
        right_y = y
        for text in hours:
            right_y = self.line(right_y, text, font=self.f.regular, size=9, x=right)
        for text in phone:
            right_y = self.line(right_y, text, font=self.f.bold, size=9.5, x=right)
        return top

    def _footer(self) -> float:
        """The line at the foot of the page; returns its top."""
        text = ellipsize(
            self.f.fit(letter_text.footer(self.letter.reference, self.letter.dated)),
            self.f.regular,
            8,
            CONTENT_W,
        )
        self.c.setFillColor(MUTED)
        self.c.setFont(self.f.regular, 8)
        self.c.drawCentredString(PAGE_W / 2, MARGIN_BOTTOM, text)
        return MARGIN_BOTTOM + 8


def _more(count: int) -> str:
    """What a list cut for lack of room says instead of the rest."""
    if count == 1:
        return f"… et 1 autre point{NNBSP}: demandez la liste complète au guichet."
    return f"… et {count} autres points{NNBSP}: demandez la liste complète au guichet."
