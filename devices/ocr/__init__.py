"""Reading printed text off a photo (the ``kiosk.ports.devices.TextReader`` port).

- ``tesseract``: Tesseract OCR (Debian's ``tesseract-ocr`` and its English data), run as a
  command with a time limit; the photo is cleaned up with Pillow first.

Not imported here: the composition root imports the one it builds.
"""
