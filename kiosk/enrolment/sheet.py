"""The enrolment code drawn: its QR code's modules, as a PNG, in a terminal, and on an A4 sheet
to print and carry to the new kiosk.

The QR code's text is ``PNE1 <code> <address> <pins…>`` (kiosk/enrolment/code.py): some 170
characters with two pins, in byte mode at error correction M (15 %), version 8 or 9. M rather
than the receipt's Q: the sheet is read once, soon after it is printed, and a code with fewer
modules is read from further away by a kiosk's document camera.
"""

from __future__ import annotations

import io
from datetime import datetime

import qrcode
import qrcode.constants

from kiosk.enrolment.service import Issued
from kiosk.receipt.fonts import receipt_fonts
from kiosk.receipt.qr import draw_qr
from kiosk.settings.timezone import counter_time

#: Light modules around the code (the standard's quiet zone: readers miss it closer to ink).
QUIET = 4

Modules = tuple[tuple[bool, ...], ...]


def qr_modules(text: str) -> Modules:
    """The QR code of ``text`` (True = dark), without its quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """The QR code as a black-on-white PNG, ``scale`` pixels a module, quiet zone included."""
    from PIL import Image

    modules = qr_modules(text)
    side = (len(modules) + 2 * QUIET) * scale
    image = Image.new("1", (side, side), 1)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + QUIET) * scale, (y + QUIET) * scale
                image.paste(0, (left, top, left + scale, top + scale))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def qr_terminal(text: str) -> str:
    """The QR code in a terminal: two rows of modules per line of half blocks.

    Light modules are drawn (« █ »), dark ones left blank, as ``qrencode -t UTF8`` does: a
    terminal's background is dark nearly everywhere, and the code then reads the right way.
    """
    modules = qr_modules(text)
    width = len(modules) + 2 * QUIET
    blank = (False,) * width
    rows = [blank] * QUIET + [(False,) * QUIET + r + (False,) * QUIET for r in modules]
    rows += [blank] * QUIET
    if len(rows) % 2:
        rows.append(blank)
    glyphs = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    return "\n".join(
        "".join(glyphs[(top[x], bottom[x])] for x in range(width))
        for top, bottom in zip(rows[::2], rows[1::2], strict=True)
    )


def expiry_text(expires_at: datetime) -> str:
    """« 14 h 32 » in the counter's time zone."""
    local = counter_time(expires_at)
    return f"{local:%H} h {local:%M}"


def sheet_pdf(issued: Issued, *, site: str, training: bool = False) -> bytes:
    """An A4 sheet: the QR code large, the code under it, the address, the expiry, what to do
    with it, and that it must be destroyed once used."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    fonts = receipt_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle("Enrôlement d'une borne")
    width, height = A4
    y = height - 25 * mm

    def line(text: str, font: str, size: float, *, centre: bool = True) -> None:
        nonlocal y
        canvas.setFont(font, size)
        shown = fonts.fit(text)
        if centre:
            canvas.drawCentredString(width / 2, y, shown)
        else:
            canvas.drawString(20 * mm, y, shown)
        y -= size * 1.5

    if training:
        line("FORMATION — code d'exercice, sans valeur", fonts.bold, 14)
    line("Enrôlement d'une nouvelle borne", fonts.bold, 20)
    line(site, fonts.regular, 12)
    modules = qr_modules(issued.ticket.text)
    module = min(3.2 * mm, 110 * mm / len(modules))
    side = len(modules) * module
    y -= 6 * mm
    draw_qr(canvas, modules, (width - side) / 2, y - module, module)
    y -= side + 12 * mm
    line(issued.code.text, fonts.mono_bold, 17)
    line(f"Valable jusqu'à {expiry_text(issued.expires_at)}, une seule fois.", fonts.bold, 12)
    if issued.ticket.api_url:
        line(f"Service national : {issued.ticket.api_url}", fonts.regular, 9)
    y -= 4 * mm
    for text in (
        "Sur la nouvelle borne : écran « Borne à configurer », « Scanner le code QR » (ou tapez",
        "le code ci-dessus), ou en console : kiosk enroler LE-CODE.",
        "Ce code donne les réglages du site et des identifiants de borne : ne le laissez pas",
        "traîner, détruisez cette feuille une fois la borne configurée.",
    ):
        line(text, fonts.regular, 10, centre=False)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
