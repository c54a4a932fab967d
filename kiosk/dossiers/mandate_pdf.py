"""The printed papers of a mandate: the person's copy, and the attestation that it was revoked.

A4, drawn with reportlab's canvas like the receipt (its fonts, colours and wrapping). The copy
prints the signed text as it was shown (the mandate's own version), its version and SHA-256, the
signature image, what it covers, its dates and the dossier's reference; a text that no longer
matches the hash kept is printed with a warning saying so, never as the text signed. The copy
may run over two pages; the attestation fits on one.

Runs on a worker thread (never the UI thread).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from kiosk.dossiers.mandate_text import french_date
from kiosk.receipt.fonts import FontSet, receipt_fonts
from kiosk.receipt.pdf import ACCENT, CONTENT_W, INK, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, MUTED
from kiosk.receipt.pdf import PAGE_H as PAGE_HEIGHT
from kiosk.receipt.pdf import PAGE_W as PAGE_WIDTH
from kiosk.receipt.text import format_filed_at, wrap
from kiosk.settings.timezone import counter_time

if TYPE_CHECKING:
    from reportlab.lib.colors import Color

    from kiosk.dossiers.mandate import MandateCopy
    from kiosk.dossiers.mandate_text import MandateText
    from kiosk.site.counter import CounterDetails

_BODY = 9.5
_SIGNATURE_H = 70.0


def _moment(at: datetime) -> str:
    """« vendredi 14 mars 2025 à 10 h 32 (heure de Paris) »."""
    return format_filed_at(at)


def _day(at: datetime) -> str:
    """« 14 mars 2025 », the day at the counter."""
    return french_date(counter_time(at).date())


class _Page:
    """Draws lines top-down, starting a new page when the current one is full."""

    def __init__(self, canvas: Canvas, fonts: FontSet, footer: str, training: bool) -> None:
        self.c = canvas
        self.f = fonts
        self.footer = footer
        self.training = training
        self.y = PAGE_HEIGHT - MARGIN_TOP
        self.page = 1
        self._decorate()

    def _decorate(self) -> None:
        self.c.setFont(self.f.regular, 8)
        self.c.setFillColor(MUTED)
        self.c.drawCentredString(PAGE_WIDTH / 2, MARGIN_BOTTOM, self.f.fit(self.footer))
        if self.training:
            self.c.saveState()
            self.c.setFillColorRGB(0.5, 0.5, 0.5, alpha=0.16)
            self.c.setFont(self.f.bold, 88)
            self.c.translate(PAGE_WIDTH / 2, PAGE_HEIGHT * 0.45)
            self.c.rotate(35)
            self.c.drawCentredString(0, 0, "FORMATION")
            self.c.restoreState()

    def room(self, height: float) -> None:
        """Start a new page unless ``height`` still fits above the footer."""
        if self.y - height < MARGIN_BOTTOM + 16:
            self.c.showPage()
            self.page += 1
            self.y = PAGE_HEIGHT - MARGIN_TOP
            self._decorate()

    def text(
        self,
        text: str,
        *,
        size: float = _BODY,
        bold: bool = False,
        mono: bool = False,
        color: Color = INK,
        leading: float = 1.35,
        x: float = MARGIN_X,
    ) -> None:
        """A paragraph, wrapped to the page's width (never cut)."""
        font = self.f.mono_bold if mono else self.f.bold if bold else self.f.regular
        for line in wrap(self.f.fit(text), font, size, CONTENT_W - (x - MARGIN_X), 1000):
            self.room(size * leading)
            self.c.setFont(font, size)
            self.c.setFillColor(color)
            self.c.drawString(x, self.y - size * 0.95, line)
            self.y -= size * leading

    def gap(self, height: float) -> None:
        self.y -= height

    def pair(self, label: str, value: str) -> None:
        """« Label : value » with the label muted, the value bold."""
        self.text(label, size=8.5, color=MUTED, leading=1.2)
        self.text(value, bold=True)
        self.gap(3)

    def signature(self, png: bytes) -> None:
        """The signature image, its proportions kept, in a box of at most _SIGNATURE_H high."""
        if not png:
            self.text("(signature non disponible)", color=MUTED)
            return
        try:
            image = ImageReader(io.BytesIO(png))
            width, height = image.getSize()
        except Exception:  # reportlab and PIL raise many kinds for a bad image
            self.text("(l'image de la signature ne peut pas être lue)", color=MUTED)
            return
        scale = min(_SIGNATURE_H / max(height, 1), (CONTENT_W / 2) / max(width, 1))
        drawn_w, drawn_h = width * scale, height * scale
        self.room(drawn_h + 6)
        self.c.setStrokeColor(MUTED)
        self.c.setLineWidth(0.5)
        self.c.rect(MARGIN_X, self.y - drawn_h - 4, drawn_w + 8, drawn_h + 8, stroke=1, fill=0)
        self.c.drawImage(image, MARGIN_X + 4, self.y - drawn_h, drawn_w, drawn_h, mask="auto")
        self.y -= drawn_h + 12


def _document(title: str, author: str) -> tuple[io.BytesIO, Canvas]:
    buffer = io.BytesIO()
    # invariant: no creation date or random file id, so the same mandate gives the same bytes.
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    return buffer, canvas


def render_mandate_copy(data: MandateCopy, counter: CounterDetails, *, training: bool) -> bytes:
    """The person's copy of their mandate, as the bytes of an A4 PDF."""
    buffer, canvas = _document(f"Copie du mandat {data.reference}", counter.name)
    page = _Page(canvas, receipt_fonts(), f"Copie du mandat — dossier {data.reference}", training)
    page.text(counter.name.upper(), size=8.5, bold=True, color=MUTED, leading=1.8)
    page.text("Copie de votre mandat", size=20, bold=True)
    page.text(data.demarche, size=12, bold=True, color=ACCENT)
    page.gap(6)
    page.pair("Numéro de dossier", data.reference)
    page.pair("Ce que ce mandat couvre", data.scope)
    if data.duration:
        page.pair("Durée choisie", data.duration)
    page.pair("Signé le", _moment(data.signed_at))
    page.pair("Prend fin le", f"{french_date(data.valid_until)} au soir")
    if data.revoked_at is not None:
        page.pair("Révoqué le", _moment(data.revoked_at))
    page.gap(6)
    page.text("Texte signé", size=11, bold=True, color=ACCENT)
    page.gap(2)
    if not data.text_matches:
        page.text(
            "Attention : le texte ci-dessous, rempli avec les informations actuelles du dossier,"
            " ne correspond plus exactement au texte signé (son empreinte SHA-256 diffère) ; la"
            " preuve de la signature est l'empreinte ci-dessous, conservée à la signature.",
            bold=True,
        )
        page.gap(4)
    for paragraph in data.text.split("\n"):
        if paragraph.strip():
            page.text(paragraph)
        else:
            page.gap(_BODY * 0.6)
    page.gap(8)
    page.text("Signature", size=11, bold=True, color=ACCENT)
    if data.on_paper:  # the person signed the printed mandate; its scan stays with the dossier
        page.text("Signé à la main sur le mandat imprimé ; sa numérisation est conservée.")
    else:
        page.signature(data.signature_png)
    page.pair("Version du texte", data.version)
    page.text("Empreinte SHA-256 du texte signé", size=8.5, color=MUTED, leading=1.2)
    page.text(data.sha256, size=8.5, mono=True)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_revocation(data: MandateCopy, counter: CounterDetails, *, training: bool) -> bytes:
    """The attestation that the mandate was revoked, as the bytes of a one-page A4 PDF."""
    assert data.revoked_at is not None
    buffer, canvas = _document(f"Révocation du mandat {data.reference}", counter.name)
    page = _Page(
        canvas, receipt_fonts(), f"Attestation de révocation — dossier {data.reference}", training
    )
    page.text(counter.name.upper(), size=8.5, bold=True, color=MUTED, leading=1.8)
    page.text("Attestation de révocation de mandat", size=20, bold=True)
    page.text(data.demarche, size=12, bold=True, color=ACCENT)
    page.gap(8)
    who = data.usager or "La personne désignée au dossier"
    page.text(
        f"{who} a révoqué le mandat qu'elle avait donné pour le dossier {data.reference}. Depuis"
        f" le {_day(data.revoked_at)}, ce mandat ne permet plus à aucun agent de déposer ce"
        " dossier, ni de le déposer à nouveau, en son nom.",
        size=11,
    )
    page.gap(8)
    page.pair("Numéro de dossier", data.reference)
    page.pair("Mandat révoqué", f"signé le {_moment(data.signed_at)}, texte {data.version}")
    page.pair("Ce qu'il couvrait", data.scope)
    page.pair("Il devait prendre fin le", french_date(data.valid_until))
    page.pair("Révoqué le", _moment(data.revoked_at))
    page.pair("Au guichet", data.revoked_guichet or counter.name)
    page.pair("Par l'agent", data.revoked_by or "(aucun agent connecté)")
    page.text("Empreinte SHA-256 du texte révoqué", size=8.5, color=MUTED, leading=1.2)
    page.text(data.sha256, size=8.5, mono=True)
    page.gap(10)
    page.text(
        "Les démarches déjà transmises au service national avant la révocation suivent leur"
        " cours. Pour confier à nouveau une démarche au point numérique, il suffit de signer un"
        " nouveau mandat au guichet.",
        color=MUTED,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_mandate_to_sign(
    text: MandateText, *, reference: str, demarche: str, counter: CounterDetails, training: bool
) -> bytes:
    """The mandate printed for a person who signs by hand (who cannot sign on the screen: a
    hand that cannot, a person who cannot see it): the exact French text shown, its version
    and SHA-256 (what the scan is recorded against), and a box to sign in, as an A4 PDF."""
    buffer, canvas = _document(f"Mandat à signer {reference}", counter.name)
    page = _Page(canvas, receipt_fonts(), f"Mandat à signer — dossier {reference}", training)
    page.text(counter.name.upper(), size=8.5, bold=True, color=MUTED, leading=1.8)
    page.text("Mandat à signer", size=20, bold=True)
    page.text(demarche, size=12, bold=True, color=ACCENT)
    page.gap(6)
    page.pair("Numéro de dossier", reference)
    page.pair("Prend fin le", f"{french_date(text.valid_until)} au soir")
    page.gap(6)
    for paragraph in text.text.split("\n"):
        if paragraph.strip():
            page.text(paragraph)
        else:
            page.gap(_BODY * 0.6)
    page.gap(10)
    page.text("Signature de la personne", size=11, bold=True, color=ACCENT)
    page.room(_SIGNATURE_H + 24)
    page.c.setStrokeColor(INK)
    page.c.setLineWidth(1)
    page.c.rect(MARGIN_X, page.y - _SIGNATURE_H - 8, CONTENT_W / 2, _SIGNATURE_H + 8, fill=0)
    page.y -= _SIGNATURE_H + 20
    page.pair("Version du texte", text.version)
    page.text("Empreinte SHA-256 du texte à signer", size=8.5, color=MUTED, leading=1.2)
    page.text(text.sha256, size=8.5, mono=True)
    page.gap(6)
    page.text(
        "Une fois signé, ce mandat est numérisé au guichet et conservé avec le dossier ; une"
        " copie vous est remise.",
        color=MUTED,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
