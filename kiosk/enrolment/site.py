"""The site's settings a new kiosk receives at its enrolment, as sealed and as read back.

What a site's kiosks share and a new one cannot guess: where the national service is and the
pins of its certificate; the counter's printer (a CUPS queue of the site), the scanner's folder,
the camera and card reader's names (the same models at every counter); the counter's details
printed on receipts; the site's print server and SANE scanner; on a site whose counters share a
store, the site's documents key (kiosk/store/documents.py: every counter seals and reads the
site's scans with it; sealed under the code like the rest, the national service never sees it).
What is *not* carried: the site store's address (``stockage.url``), which names each kiosk's own
certificate files, and anything of the supervisor's kiosk alone (its data folder, its other
keys).

The payload is JSON whose sections and keys are those of the settings file
(``[service_national]``, ``[peripheriques]``) plus ``guichet``, so that what a support agent
reads in one they find in the other. It is read strictly: the national service keeps it, and
although the seal tells any change, a kiosk of a newer version may have written more.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from kiosk.enrolment.code import PIN
from kiosk.site.counter import CounterDetails

#: The payload's layout; a newer kiosk writes a larger number only for a change an older one
#: could not read right (a new optional key is no such change: unknown keys are ignored).
FORMAT = 1
_MAX_TEXT = 480
_URL = re.compile(r"https?://[^\s]{1,480}")
_KEY = re.compile(r"[0-9a-f]{64}")


class InvalidSettings(ValueError):
    """The sealed settings are not what a kiosk can use (the message, in French)."""


@dataclass(frozen=True)
class SiteSettings:
    """One site's settings, as one of its kiosks has them in force."""

    api_url: str
    api_pins: tuple[str, ...] = ()
    printer: str | None = None
    scan_dir: str | None = None
    camera: str | None = None
    reader: str | None = None
    counter: CounterDetails | None = None
    print_server: str | None = None
    scanner: str | None = None
    #: The site's documents key (64 hex digits), for a counter of a site store; never shown.
    documents_key: str | None = field(default=None, repr=False)

    def to_json(self) -> bytes:
        """The payload to seal."""
        devices = {
            key: value
            for key, value in (
                ("imprimante", self.printer),
                ("numerisations", self.scan_dir),
                ("camera", self.camera),
                ("lecteur", self.reader),
                ("serveur_impression", self.print_server),
                ("scanner", self.scanner),
            )
            if value is not None
        }
        data: dict[str, Any] = {
            "format": FORMAT,
            "service_national": {"adresse": self.api_url, "empreintes": list(self.api_pins)},
            "peripheriques": devices,
        }
        if self.documents_key is not None:
            data["stockage"] = {"cle_documents": self.documents_key}
        if self.counter is not None:
            data["guichet"] = {
                "nom": self.counter.name,
                "adresse": list(self.counter.address),
                "telephone": self.counter.phone,
                "horaires": self.counter.hours,
            }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> SiteSettings:
        """Read a payload back.

        Raises:
            InvalidSettings: not a payload this kiosk can use (in French).
        """
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InvalidSettings("Réglages du site illisibles.") from exc
        root = _object(data, "réglages")
        version = root.get("format")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidSettings("Réglages du site sans version lisible.")
        if version > FORMAT:
            raise InvalidSettings(
                "Les réglages du site viennent d'une version plus récente du logiciel : mettez"
                " cette borne à jour, puis demandez un nouveau code."
            )
        national = _object(root.get("service_national"), "service_national")
        url = _text(national.get("adresse"), "service_national.adresse")
        if url is None or not _URL.fullmatch(url):
            raise InvalidSettings("Adresse du service national absente des réglages du site.")
        pins = national.get("empreintes", [])
        if not isinstance(pins, list) or not all(
            isinstance(p, str) and PIN.fullmatch(p) for p in pins
        ):
            raise InvalidSettings("Empreintes du certificat national illisibles.")
        devices = _object(root.get("peripheriques", {}), "peripheriques")
        counter = root.get("guichet")
        key = _text(_object(root.get("stockage", {}), "stockage").get("cle_documents"), "stockage")
        if key is not None and not _KEY.fullmatch(key):
            raise InvalidSettings("Clé des pièces du site illisible.")
        return cls(
            api_url=url,
            api_pins=tuple(pins),
            printer=_text(devices.get("imprimante"), "peripheriques.imprimante"),
            scan_dir=_text(devices.get("numerisations"), "peripheriques.numerisations"),
            camera=_text(devices.get("camera"), "peripheriques.camera"),
            reader=_text(devices.get("lecteur"), "peripheriques.lecteur"),
            counter=None if counter is None else _counter(counter),
            print_server=_text(
                devices.get("serveur_impression"), "peripheriques.serveur_impression"
            ),
            scanner=_text(devices.get("scanner"), "peripheriques.scanner"),
            documents_key=key,
        )


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidSettings(f"Réglages du site mal formés ({where}).")
    return value


def _text(value: object, where: str) -> str | None:
    """A one-line text (it goes into the settings file and onto receipts), or absent."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > _MAX_TEXT
        or any(unicodedata.category(c) in {"Cc", "Cf", "Cs"} for c in value)
    ):
        raise InvalidSettings(f"Réglages du site mal formés ({where}).")
    return value


def _counter(value: object) -> CounterDetails:
    data = _object(value, "guichet")
    lines = data.get("adresse", [])
    if not isinstance(lines, list):
        raise InvalidSettings("Réglages du site mal formés (guichet.adresse).")
    return CounterDetails(
        name=_text(data.get("nom"), "guichet.nom") or CounterDetails.name,
        address=tuple(_text(line, "guichet.adresse") or "" for line in lines),
        phone=_text(data.get("telephone"), "guichet.telephone") or "",
        hours=_text(data.get("horaires"), "guichet.horaires") or "",
    )
