"""The signed bundles the reference server publishes (``GET /v1/paquets``,
``GET /v1/paquets/{type}/{serie}``): the démarches of ``assets/demarches`` (with their
translations) and the tariffs of ``assets/tarifs``, each kind as bundle n° 1, signed with the
TEST key of ``assets/test-keys/paquets.key.pem`` (its public half, ``paquets.pub``, is what a
training kiosk pins; the private key is public: anything it signs is a test).

``POST /_control/paquets`` publishes the next bundle of a kind: the shipped files plus those
given, as the national service would publish a new démarche version or tariff period. The
server signs what it is given, unchecked, and can spoil it on request (``defaut``): a byte
changed in the manifest, in a file or in the signature after signing, no signature, signed by
a key no kiosk pins; or publish again, under a new number, an older bundle as it was
(``rejouer``): a test sees the kiosk refuse each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.settings.paths import assets_dir

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KINDS = ("demarches", "tarifs")
#: Ways ``POST /_control/paquets`` spoils a bundle after signing it (``defaut``).
FAULTS = frozenset({"manifeste", "fichier", "signature", "sans_signature", "cle_etrangere"})


def reference_key_file() -> Path:
    """The TEST signing key (never for a real service)."""
    return assets_dir() / "test-keys" / "paquets.key.pem"


def reference_key() -> Ed25519PrivateKey:
    """The TEST signing key, loaded."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(reference_key_file().read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("la clé de test des paquets n'est pas une clé Ed25519")
    return key


def public_text(key: Ed25519PrivateKey) -> str:
    """A key's public half as a kiosk pins it (base64 of its 32 bytes)."""
    return base64.b64encode(_public_raw(key)).decode("ascii")


def _public_raw(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def shipped_files(kind: str) -> dict[str, bytes]:
    """The files of a kind the kiosk ships, by name (translations by their own name too)."""
    if kind == "demarches":
        folder = assets_dir() / "demarches"
        paths = [*sorted(folder.glob("*.toml")), *sorted((folder / "i18n").glob("*.toml"))]
    elif kind == "tarifs":
        paths = sorted((assets_dir() / "tarifs").glob("tarif.*.toml"))
    else:
        raise ValueError(kind)
    return {p.name: p.read_bytes() for p in paths}


def manifest_bytes(
    kind: str, serial: int, files: Mapping[str, bytes], issued_at: datetime
) -> bytes:
    """The manifest of a bundle, as it is signed (docs/sync.md)."""
    data = {
        "format": 1,
        "type": kind,
        "serie": serial,
        "emis_le": issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fichiers": [
            {"nom": name, "taille": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in files.items()
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def envelope(
    kind: str,
    serial: int,
    files: Mapping[str, bytes],
    *,
    key: Ed25519PrivateKey,
    issued_at: datetime,
    fault: str | None = None,
) -> bytes:
    """The bundle as ``GET /v1/paquets/{type}/{serie}`` serves it (``PaquetSigne``), signed
    by ``key``, spoilt after signing as ``fault`` says (:data:`FAULTS`)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.updates.keys import key_id

    manifest = manifest_bytes(kind, serial, files, issued_at)
    signer = Ed25519PrivateKey.generate() if fault == "cle_etrangere" else key
    signature = signer.sign(manifest)
    contents = dict(files)
    if fault == "manifeste":
        manifest = _flip(manifest, len(manifest) // 2)
    elif fault == "fichier":  # the last: the files given come after the shipped ones
        name = list(contents)[-1]
        contents[name] = _flip(contents[name], len(contents[name]) - 2)
    elif fault == "signature":
        signature = _flip(signature, 10)
    elif fault == "sans_signature":
        signature = b""
    elif fault is not None and fault not in FAULTS:
        raise ValueError(fault)
    data = {
        "cle": key_id(_public_raw(signer)),
        "manifeste": _b64(manifest),
        "signature": _b64(signature),
        "fichiers": [{"nom": n, "contenu": _b64(c)} for n, c in contents.items()],
    }
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _flip(data: bytes, at: int) -> bytes:
    """``data`` with one byte changed (still printable ASCII where it was)."""
    changed = bytearray(data)
    changed[at] = changed[at] ^ 0x01
    return bytes(changed)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Published:
    """One published bundle: its line of the list and its bytes."""

    kind: str
    serial: int
    content: bytes
    files: tuple[str, ...]  # the names it carries (the démarches the service then knows)

    def entry(self) -> dict[str, Any]:
        """Its line of ``GET /v1/paquets``."""
        return {"type": self.kind, "serie": self.serial, "taille": len(self.content)}


class BundleShelf:
    """The published bundles, by kind and serial (thread-safe: the server answers on several
    threads). The shipped files are signed on the first request, not when the server starts."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._published: dict[tuple[str, int], Published] | None = None
        self._key: Ed25519PrivateKey | None = None

    def _shelf(self) -> dict[tuple[str, int], Published]:
        if self._published is None:
            self._key = reference_key()
            self._published = {}
            for kind in KINDS:
                self._add(kind, 1, shipped_files(kind), None)
        return self._published

    def _add(self, kind: str, serial: int, files: dict[str, bytes], fault: str | None) -> Published:
        assert self._key is not None
        assert self._published is not None
        issued = datetime.fromtimestamp(self._clock(), UTC)
        content = envelope(kind, serial, files, key=self._key, issued_at=issued, fault=fault)
        item = Published(kind, serial, content, tuple(files))
        self._published[(kind, serial)] = item
        return item

    def publish(
        self,
        kind: str,
        files: Mapping[str, bytes] | None = None,
        *,
        serial: int | None = None,
        fault: str | None = None,
        replay: int | None = None,
    ) -> Published:
        """Publish the next bundle of ``kind`` (or number ``serial``): the shipped files and
        ``files`` (same name: replaced), spoilt as ``fault`` says; or, with ``replay``, the
        bundle of that number again, byte for byte, under the new number.

        Raises:
            ValueError: an unknown kind or fault, or a bundle to replay that was never published.
        """
        if kind not in KINDS or (fault is not None and fault not in FAULTS):
            raise ValueError(kind if kind not in KINDS else fault)
        for number_given in (serial, replay):
            if number_given is not None and (
                not isinstance(number_given, int) or isinstance(number_given, bool)
            ):
                raise TypeError(number_given)
        with self._lock:
            shelf = self._shelf()
            number = serial or 1 + max(s for k, s in shelf if k == kind)
            if replay is not None:
                old = shelf.get((kind, replay))
                if old is None:
                    raise ValueError(replay)
                item = Published(kind, number, old.content, old.files)
                shelf[(kind, number)] = item
                return item
            return self._add(kind, number, {**shipped_files(kind), **(files or {})}, fault)

    def listing(self) -> list[dict[str, Any]]:
        """Every published bundle, by kind then number."""
        with self._lock:
            shelf = self._shelf()
            return [shelf[key].entry() for key in sorted(shelf)]

    def get(self, kind: str, serial: int) -> Published | None:
        """One published bundle, None when unknown."""
        with self._lock:
            return self._shelf().get((kind, serial))
