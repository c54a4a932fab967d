"""The printed receipt: the only record a person without email keeps of their dossier.

``render_receipt`` turns a :class:`ReceiptData` into a one-page A4 PDF; ``encode_qr_payload`` and
``decode_qr_payload`` define what the receipt's QR code holds, so that any counter can scan it back
to the dossier.
"""

from kiosk.receipt.model import (
    Contact,
    ContactMode,
    Counter,
    FeeRow,
    ReceiptData,
    ReceiptFees,
    ReceiptPayment,
)
from kiosk.receipt.pdf import render_receipt
from kiosk.receipt.qr import decode_qr_payload, encode_qr_payload

__all__ = [
    "Contact",
    "ContactMode",
    "Counter",
    "FeeRow",
    "ReceiptData",
    "ReceiptFees",
    "ReceiptPayment",
    "decode_qr_payload",
    "encode_qr_payload",
    "render_receipt",
]
