"""Lay out the one-page A4 receipt with reportlab's canvas.

The canvas is drawn by hand (no platypus flowables) because the receipt must stay on one page
whatever the dossier holds: the fixed parts are placed first, then the two lists that can grow (what
was filed, what is missing) are fitted into the space left, shrinking the type and, as a last
resort, cutting the lists with "… et N autres". Missing documents win over filed lines when space
runs out: they are what the person must act on.

Runs on a worker thread (never the UI thread); it touches no disk once the fonts are registered.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kiosk.receipt import sections
from kiosk.receipt.fonts import FontSet, receipt_fonts
from kiosk.receipt.model import FeeRow, ReceiptData
from kiosk.receipt.qr import draw_qr, encode_qr_payload, qr_matrix
from kiosk.receipt.text import NNBSP, ellipsize, format_filed_at, keep_times_together, wrap

# reportlab is untyped: pin the geometry to float so mypy keeps checking the arithmetic.
PAGE_W: float = A4[0]
PAGE_H: float = A4[1]
MARGIN_X: float = 18 * mm
MARGIN_TOP: float = 14 * mm
MARGIN_BOTTOM: float = 12 * mm
CONTENT_W = PAGE_W - 2 * MARGIN_X

INK = Color(0.08, 0.08, 0.1)
MUTED = Color(0.35, 0.35, 0.4)
ACCENT = Color(0, 0, 0.57)  # "bleu France"; prints as a dark grey on the usual mono laser
PANEL = Color(0.94, 0.95, 0.97)
RULE = Color(0.75, 0.76, 0.8)

QR_QUIET_MODULES = 4  # the standard quiet zone; scanners miss codes printed closer to other ink
QR_MODULE = 3.0  # points per module: ~1 mm, read easily by cheap scanners and phone cameras

# (type size, lines per value) tried in order until both lists fit.
_FIT_LEVELS = ((10.0, 3), (9.0, 2), (8.0, 2), (7.5, 1))
_HEADING_SIZE = 11.0
_HEADING_H = _HEADING_SIZE * 1.35 + 5
_KEEP_FILED = 3  # filed lines kept even when missing documents fill the page
_LISTS_FLOOR = 2 * _HEADING_H + 18 + 90  # the two lists' headings and a few of their lines


def render_receipt(data: ReceiptData) -> bytes:
    """Render the receipt as the bytes of a one-page A4 PDF.

    Raises:
        ValueError: the reference is not ``PN-XXXX-XXXX`` (checked by the QR encoder).
    """
    payload = encode_qr_payload(data.reference, data.verification_code)
    buffer = io.BytesIO()
    # invariant: no creation date or random file id, so the same dossier gives the same bytes.
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"Reçu de dépôt {data.reference}")
    canvas.setAuthor(data.counter.name)
    _Painter(canvas, receipt_fonts(), data).paint(payload)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class _Row:
    """One prepared entry of a growing list: already wrapped, so measuring equals drawing."""

    label: str  # empty for checklist rows
    lines: tuple[str, ...]
    height: float
    text_x: float = MARGIN_X  # where the wrapped lines start (after the label column or the box)


class _Painter:
    """Draws one receipt top-down, keeping the current y (top of the next line box)."""

    def __init__(self, canvas: Canvas, fonts: FontSet, data: ReceiptData) -> None:
        self.c = canvas
        self.f = fonts
        self.data = data

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
        """Draw one line whose box top is y; return the y below it."""
        self.c.setFont(font, size)
        self.c.setFillColor(color)
        self.c.drawString(x, y - size * 0.95, self.f.fit(text))
        return y - size * leading

    def lines(
        self,
        y: float,
        texts: list[str] | tuple[str, ...],
        *,
        font: str,
        size: float,
        color: Color = INK,
        x: float = MARGIN_X,
        leading: float = 1.3,
    ) -> float:
        for text in texts:
            y = self.line(y, text, font=font, size=size, color=color, x=x, leading=leading)
        return y

    def heading(self, y: float, title: str, *, draw: bool = True) -> float:
        if draw:
            self.line(y, title, font=self.f.bold, size=_HEADING_SIZE, color=ACCENT)
            self.c.setStrokeColor(RULE)
            self.c.setLineWidth(0.6)
            rule_y = y - _HEADING_SIZE * 1.35
            self.c.line(MARGIN_X, rule_y, MARGIN_X + CONTENT_W, rule_y)
        return y - _HEADING_H

    def wrap(self, text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
        return wrap(self.f.fit(text), font, size, width, max_lines)

    # -- page ---------------------------------------------------------------------------------

    def paint(self, payload: str) -> None:
        y = PAGE_H - MARGIN_TOP
        if self.data.training:
            y = self._training_banner(y)
        y = self._header(y)
        y = self._reference_panel(y, payload) - 14
        footer_top = self._footer()

        contact = sections.contact_lines(self.data.contact)
        next_steps = sections.next_steps(self.data)
        tail_h = self._contact(0, contact, draw=False) + self._next_steps(0, next_steps, draw=False)
        room = y - footer_top - tail_h - 12
        # The fees' sentences take two lines each, or one when the lists would have too little
        # room left (the lists shrink their type, the fees block does not).
        room -= self._payment(0, draw=False)
        compact = room - self._fees(0, draw=False) < _LISTS_FLOOR
        available = room - self._fees(0, draw=False, compact=compact)
        y = self._lists(y, available)
        y = self._fees(y, draw=True, compact=compact)
        y = self._payment(y, draw=True)
        y = self._contact(y, contact, draw=True)
        self._next_steps(y, next_steps, draw=True)
        if self.data.training:
            self._watermark()

    def _training_banner(self, y: float) -> float:
        height = 20.0
        self.c.setFillColor(Color(0.88, 0.88, 0.88))
        self.c.setStrokeColor(INK)
        self.c.setLineWidth(1)
        self.c.rect(MARGIN_X, y - height, CONTENT_W, height, stroke=1, fill=1)
        self.c.setFillColor(INK)
        self.c.setFont(self.f.bold, 9.5)
        text = self.f.fit(sections.TRAINING_BANNER)
        self.c.drawCentredString(PAGE_W / 2, y - height / 2 - 3.3, text)
        return y - height - 10

    def _header(self, y: float) -> float:
        d = self.data
        kicker = ellipsize(self.f.fit(d.counter.name.upper()), self.f.bold, 8.5, CONTENT_W)
        y = self.line(y, kicker, font=self.f.bold, size=8.5, color=MUTED, leading=1.8)
        y = self.line(y, "Reçu de dépôt de dossier", font=self.f.bold, size=20, leading=1.35)
        title = self.wrap(d.demarche_title, self.f.bold, 13, CONTENT_W, 2)
        y = self.lines(y, title, font=self.f.bold, size=13, color=ACCENT, leading=1.3) - 2
        filed = f"Déposé le {format_filed_at(d.filed_at)}"
        y = self.line(y, filed, font=self.f.regular, size=10)
        if d.state_label.strip():
            state = ellipsize(
                self.f.fit(f"État{NNBSP}: {d.state_label.strip()}"), self.f.regular, 9, CONTENT_W
            )
            y = self.line(y, state, font=self.f.regular, size=9, color=MUTED)
        return y - 8

    def _reference_panel(self, y: float, payload: str) -> float:
        matrix = qr_matrix(payload)
        qr_side = (len(matrix) + 2 * QR_QUIET_MODULES) * QR_MODULE
        height = qr_side + 30
        c = self.c
        c.setFillColor(PANEL)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.8)
        c.roundRect(MARGIN_X, y - height, CONTENT_W, height, 6, stroke=1, fill=1)

        # QR on the right, on white so the quiet zone is real even over the tinted panel.
        qr_x = MARGIN_X + CONTENT_W - 10 - qr_side
        qr_y = y - 8 - qr_side
        c.setFillColor(Color(1, 1, 1))
        c.rect(qr_x, qr_y, qr_side, qr_side, stroke=0, fill=1)
        quiet = QR_QUIET_MODULES * QR_MODULE
        draw_qr(c, matrix, qr_x + quiet, qr_y + qr_side - quiet - QR_MODULE, QR_MODULE)
        c.setFillColor(MUTED)
        c.setFont(self.f.regular, 7.5)
        c.drawCentredString(qr_x + qr_side / 2, qr_y - 11, self.f.fit("À scanner au guichet"))

        left = MARGIN_X + 16
        text_w = qr_x - left - 12
        top = y - 14
        top = self.line(top, "Votre numéro de dossier", font=self.f.regular, size=10, x=left)
        top = self.line(
            top - 2, self.data.reference, font=self.f.mono_bold, size=32, x=left, leading=1.25
        )
        label = "Code de vérification"
        top -= 2
        self.line(top, label, font=self.f.regular, size=10, color=MUTED, x=left)
        code_x = left + stringWidth(label, self.f.regular, 10) + 8
        top = self.line(
            top + 2, self.data.verification_code, font=self.f.mono_bold, size=13, x=code_x
        )
        helptext = self.wrap(sections.REFERENCE_HELP, self.f.regular, 8.5, text_w, 2)
        self.lines(top - 4, helptext, font=self.f.regular, size=8.5, color=MUTED, x=left)
        return y - height

    # -- the two lists that can grow ----------------------------------------------------------

    def _filed_rows(self, size: float, max_lines: int) -> list[_Row]:
        label_w = min(
            max(
                (stringWidth(self.f.fit(lab), self.f.regular, size) for lab, _ in self.data.filed),
                default=0.0,
            ),
            CONTENT_W * 0.36,
        )
        value_w = CONTENT_W - label_w - 14
        leading = size * 1.3
        rows = []
        for label, value in self.data.filed:
            lab = ellipsize(self.f.fit(label), self.f.regular, size, label_w)
            lines = self.wrap(value, self.f.bold, size, value_w, max_lines)
            height = len(lines) * leading + size * 0.3
            rows.append(_Row(lab, tuple(lines), height, MARGIN_X + label_w + 14))
        return rows

    def _missing_rows(self, size: float, max_lines: int) -> list[_Row]:
        text_w = CONTENT_W - size * 2
        leading = size * 1.3
        rows = []
        for document in self.data.missing_documents:
            lines = self.wrap(document, self.f.regular, size, text_w, max_lines)
            height = len(lines) * leading + size * 0.45
            rows.append(_Row("", tuple(lines), height, MARGIN_X + size * 2))
        return rows

    def _lists(self, y: float, available: float) -> float:
        n_filed, n_missing = len(self.data.filed), len(self.data.missing_documents)
        for level, (size, max_lines) in enumerate(_FIT_LEVELS):
            # Placeholder rows stand for the one-line "nothing here" sentences.
            filed = self._filed_rows(size, max_lines) or [_Row("", ("",), size * 1.3)]
            missing = self._missing_rows(size, max_lines) or [_Row("", ("",), size * 1.3 + 4)]
            more_h = size * 1.3 + 2  # the "… et N autres" line
            room = available - 2 * _HEADING_H - 18
            total_missing = sum(r.height for r in missing)
            if sum(r.height for r in filed) + total_missing <= room:
                keep_f, keep_m = n_filed, n_missing
                break
            if level < len(_FIT_LEVELS) - 1:
                continue
            # Smallest type and still too long. Missing documents come first (the person must act
            # on them), but the first filed lines stay: they say which car or person this is.
            identifying = filed[:_KEEP_FILED]
            if total_missing + sum(r.height for r in identifying) + more_h <= room:
                keep_m = n_missing
                keep_f = _count_fitting(filed, room - total_missing - more_h)
            else:
                keep_f = _count_fitting(identifying, room / 2)
                used = sum(r.height for r in filed[:keep_f])
                keep_m = _count_fitting(missing, room - used - 2 * more_h)
        y = self.heading(y, "Ce que vous avez déposé")
        y = self._draw_filed(y, filed[:keep_f], size, n_filed - keep_f) - 10
        y = self.heading(y, sections.missing_heading(n_missing))
        return self._draw_missing(y, missing[:keep_m], size, n_missing - keep_m) - 8

    def _draw_filed(self, y: float, rows: list[_Row], size: float, cut: int) -> float:
        for row in rows:
            self.line(y, row.label, font=self.f.regular, size=size, color=MUTED)
            self.lines(y, row.lines, font=self.f.bold, size=size, x=row.text_x)
            y -= row.height
        if not self.data.filed:
            y = self.line(y, sections.NOTHING_FILED, font=self.f.regular, size=size)
        if cut:
            y = self.line(y, sections.more_filed(cut), font=self.f.regular, size=size, color=MUTED)
        return y

    def _draw_missing(self, y: float, rows: list[_Row], size: float, cut: int) -> float:
        if not self.data.missing_documents:
            return self.line(y, sections.NOTHING_MISSING, font=self.f.bold, size=size + 0.5)
        box = size * 0.9
        for row in rows:
            self.c.setStrokeColor(INK)
            self.c.setLineWidth(0.9)
            self.c.rect(MARGIN_X + 1, y - size * 0.95, box, box, stroke=1, fill=0)
            self.lines(y, row.lines, font=self.f.regular, size=size, x=row.text_x)
            y -= row.height
        if cut:
            text = sections.more_missing(cut)
            y = self.line(y, text, font=self.f.bold, size=size, x=MARGIN_X + size * 2)
        return y

    # -- fixed tail and footer ----------------------------------------------------------------

    def _fees(self, y: float, *, draw: bool, compact: bool = False) -> float:
        """Draw (or only measure, returning the height) the « Frais estimés » block: each fee
        on one line (label, amount, basis), the total in bold, what is missing, which tariff,
        and that the national service's amount is the one due. ``compact``: one line for each
        sentence (cut with an ellipsis)."""
        fees = self.data.fees
        if fees is None:
            return y if draw else 0.0
        start = y
        size, small = 9.5, 8.5
        amount_right = MARGIN_X + CONTENT_W * 0.58
        basis_x = amount_right + 12
        label_w = CONTENT_W * 0.40
        basis_w = MARGIN_X + CONTENT_W - basis_x
        y = self.heading(y, sections.FEES_HEADING, draw=draw)
        rows = list(fees.rows)
        if fees.total is not None:
            rows.append(FeeRow(sections.FEES_TOTAL, fees.total))
        for index, row in enumerate(rows):
            bold = fees.total is not None and index == len(rows) - 1
            font = self.f.bold if bold else self.f.regular
            if draw:
                label = ellipsize(self.f.fit(row.label), font, size, label_w)
                self.line(y, label, font=font, size=size)
                self.c.setFont(self.f.bold, size)
                self.c.drawRightString(amount_right, y - size * 0.95, self.f.fit(row.amount))
                basis = ellipsize(self.f.fit(row.basis), self.f.regular, small, basis_w)
                self.line(y, basis, font=self.f.regular, size=small, color=MUTED, x=basis_x)
            y -= size * 1.35
        texts: list[tuple[str, str, float, Color]] = []
        if fees.note:
            texts.append((fees.note, self.f.regular, size, INK))
        if fees.missing:
            texts.append((sections.FEES_MISSING, self.f.bold, size, INK))
            texts += [(f"• {reason}", self.f.regular, size, INK) for reason in fees.missing]
            texts.append((sections.FEES_NO_TOTAL, self.f.regular, size, INK))
        if fees.amount_due is not None:
            texts.append((sections.fees_amount_due(fees.amount_due), self.f.bold, size, INK))
        if fees.tariff_day is not None:
            texts.append((sections.fees_tariff(fees.tariff_day), self.f.regular, small, MUTED))
        texts.append((sections.FEES_AUTHORITATIVE, self.f.regular, small, MUTED))
        for text, font, text_size, color in texts:
            wrapped = self.wrap(text, font, text_size, CONTENT_W, 1 if compact else 2)
            if draw:
                self.lines(y, wrapped, font=font, size=text_size, color=color)
            y -= text_size * 1.3 * len(wrapped)
        y -= 10
        return y if draw else start - y

    def _payment(self, y: float, *, draw: bool) -> float:
        """Draw (or only measure, returning the height) the « Payer sans carte bancaire »
        block: the amount, the reference and where to pay on the left, the QR code of the
        payment address on the right (a phone's camera reads it: no account, no bank card of
        the person's own)."""
        payment = self.data.payment
        if payment is None:
            return y if draw else 0.0
        start = y
        y = self.heading(y, sections.PAYMENT_HEADING, draw=draw)
        matrix = qr_matrix(payment.url)
        module = 2.0  # read by a phone from a hand-held sheet; the counter's code is larger
        side = (len(matrix) + 2 * QR_QUIET_MODULES) * module
        text_w = CONTENT_W - side - 12
        size = 9.5
        lines: list[tuple[str, str]] = []
        for index, text in enumerate(
            sections.payment_lines(payment.amount, payment.reference, payment.amount_cents)
        ):
            font = self.f.bold if index < 2 else self.f.regular
            lines += [(line, font) for line in self.wrap(text, font, size, text_w, 3)]
        text_h = size * 1.3 * len(lines)
        if draw:
            qr_x = MARGIN_X + CONTENT_W - side
            self.c.setFillColor(Color(1, 1, 1))
            self.c.rect(qr_x, y - side, side, side, stroke=0, fill=1)
            self.c.setFillColor(INK)
            quiet = QR_QUIET_MODULES * module
            draw_qr(self.c, matrix, qr_x + quiet, y - quiet - module, module)
            line_y = y
            for text, font in lines:
                self.line(line_y, text, font=font, size=size)
                line_y -= size * 1.3
        y -= max(text_h, side) + 8
        return y if draw else start - y

    def _contact(self, y: float, contact: sections.ContactText, *, draw: bool) -> float:
        """Draw (or only measure, returning the height) the contact block."""
        start = y
        y = self.heading(y, "Comment nous vous contacterons", draw=draw)
        lead = ellipsize(self.f.fit(contact.lead), self.f.bold, 10.5, CONTENT_W)
        details = [ellipsize(self.f.fit(t), self.f.regular, 10, CONTENT_W) for t in contact.details]
        if draw:
            y = self.line(y, lead, font=self.f.bold, size=10.5, leading=1.4)
            y = self.lines(y, details, font=self.f.regular, size=10) - 10
        else:
            y -= 10.5 * 1.4 + 13 * len(details) + 10
        return y if draw else start - y

    def _next_steps(self, y: float, text: str, *, draw: bool) -> float:
        """Draw (or only measure, returning the height) the "what happens next" paragraph."""
        start = y
        y = self.heading(y, sections.NEXT_STEPS_HEADING, draw=draw)
        paragraph = self.wrap(text, self.f.regular, 10, CONTENT_W, 7)
        if draw:
            y = self.lines(y, paragraph, font=self.f.regular, size=10, leading=1.4)
        else:
            y -= 14 * len(paragraph)
        return y if draw else start - y

    def _footer(self) -> float:
        """Draw the counter's details at the foot of the page; return the top of the footer."""
        counter = self.data.counter
        half = CONTENT_W / 2 - 8
        name = self.wrap(counter.name, self.f.bold, 10, half, 2)
        address = [ellipsize(self.f.fit(a), self.f.regular, 9.5, half) for a in counter.address[:4]]
        hours = self.wrap(keep_times_together(counter.hours), self.f.regular, 9.5, half, 3)
        phone = ellipsize(self.f.fit(counter.phone), self.f.bold, 10, half)
        left_h = 12 + 13 * len(name) + 12.5 * len(address)
        right_h = 12 + 13 + 12 + 12.5 * len(hours)
        closing_h = 16
        top = MARGIN_BOTTOM + closing_h + max(left_h, right_h) + 10

        c = self.c
        c.setStrokeColor(RULE)
        c.setLineWidth(0.8)
        c.line(MARGIN_X, top, MARGIN_X + CONTENT_W, top)
        y = top - 8
        y = self.line(y, "Votre guichet", font=self.f.regular, size=8.5, color=MUTED, leading=1.45)
        y = self.lines(y, name, font=self.f.bold, size=10)
        self.lines(y, address, font=self.f.regular, size=9.5, leading=1.32)
        right = MARGIN_X + CONTENT_W / 2 + 8
        y = top - 8
        y = self.line(
            y, "Téléphone", font=self.f.regular, size=8.5, color=MUTED, x=right, leading=1.45
        )
        y = self.line(y, phone, font=self.f.bold, size=10, x=right, leading=1.3)
        y = self.line(
            y, "Horaires", font=self.f.regular, size=8.5, color=MUTED, x=right, leading=1.45
        )
        self.lines(y, hours, font=self.f.regular, size=9.5, x=right, leading=1.32)

        closing = self.f.fit(sections.closing_line(self.data.reference))
        c.setFillColor(MUTED)
        c.setFont(self.f.regular, 8)
        c.drawCentredString(PAGE_W / 2, MARGIN_BOTTOM + 2, closing)
        return top

    def _watermark(self) -> None:
        c = self.c
        c.saveState()
        # Translucent and on top: a training receipt must be unmistakable even once photocopied.
        c.setFillColor(Color(0.5, 0.5, 0.5, alpha=0.16))
        c.setFont(self.f.bold, 88)
        # Centred on the lists, clear of the QR code so that it never gets in the way of a scan.
        c.translate(PAGE_W / 2, PAGE_H * 0.36)
        c.rotate(35)
        c.drawCentredString(0, 0, "FORMATION")
        c.restoreState()


def _count_fitting(rows: list[_Row], budget: float) -> int:
    """How many leading rows fit in budget."""
    used, count = 0.0, 0
    for row in rows:
        if used + row.height > budget:
            break
        used += row.height
        count += 1
    return count
