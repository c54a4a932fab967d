"""Deciding whether a downloaded bundle may be installed, before anything of it is used.

In this order, each step only on what the one before accepted:

1. the manifest's size (before a byte of it is parsed);
2. its key: one the kiosk pins (by the id the envelope gives), and a signature;
3. the Ed25519 signature over the manifest's exact bytes;
4. the manifest, read strictly: UTF-8, JSON without a duplicate key, a constant like ``NaN`` or
   a float where a whole number goes, exactly the keys of the format, the kind and serial that
   were asked for, a serial above the one installed (an older bundle replayed is refused), each
   file's name from the kind's allow-list (never a path), its size within bounds and its
   SHA-256;
5. the files received: exactly those the manifest names, each of its size and SHA-256.

Anything else is :class:`~kiosk.updates.bundle.BundleRefused`, said in plain French. The
strict loaders of the démarches and the tariffs run afterwards, on the files once written apart
(kiosk/updates/folder.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kiosk.updates.bundle import (
    FORMAT,
    KINDS,
    MAX_CONTENT_BYTES,
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_MANIFEST_BYTES,
    BundleRefused,
    Manifest,
    ManifestFile,
    SignedBundle,
    safe_name,
)
from kiosk.updates.keys import PinnedKey

__all__ = ["verify"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_ISSUED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_KEYS = frozenset({"format", "type", "serie", "emis_le", "fichiers"})
_FILE_KEYS = frozenset({"nom", "taille", "sha256"})
_MAX_SERIAL = 2**53 - 1  # what JSON carries exactly everywhere


def verify(
    bundle: SignedBundle,
    *,
    keys: Sequence[PinnedKey],
    installed: int,
    accepts: Callable[[str], bool],
) -> Manifest:
    """The bundle's manifest, once everything above holds; the files are then exactly those
    of ``bundle.files``.

    Args:
        keys: the pinned keys.
        installed: the serial installed of this kind (0: none).
        accepts: the kind's allow-list of file names.

    Raises:
        BundleRefused: why, in French.
    """
    what = f"paquet {bundle.kind} n° {bundle.serial}"
    if len(bundle.manifest) > MAX_MANIFEST_BYTES:
        raise BundleRefused(
            f"{what} : manifeste trop volumineux ({len(bundle.manifest)} octets, au plus"
            f" {MAX_MANIFEST_BYTES})"
        )
    if not keys:
        raise BundleRefused(f"{what} : aucune clé de signature n'est épinglée sur cette borne")
    if not bundle.signature:
        raise BundleRefused(f"{what} : paquet non signé")
    key = next((k for k in keys if k.id == bundle.key_id), None)
    if key is None:
        raise BundleRefused(
            f"{what} : signé par une clé que la borne n'a pas épinglée (clé {bundle.key_id})"
        )
    if not _signed(key, bundle.signature, bundle.manifest):
        raise BundleRefused(
            f"{what} : signature invalide (manifeste ou signature altéré, ou signé par une autre"
            f" clé que la clé {key.id})"
        )
    manifest = _manifest(bundle, key.id, what, accepts)
    if manifest.serial <= installed:
        raise BundleRefused(
            f"{what} : ancien paquet rejoué (n° {manifest.serial} signé, la borne a déjà le"
            f" n° {installed})"
        )
    if manifest.serial != bundle.serial:
        raise BundleRefused(
            f"{what} : le manifeste signé est celui du n° {manifest.serial}, pas du n°"
            f" {bundle.serial} demandé"
        )
    _same_files(manifest, bundle, what)
    return manifest


def _signed(key: PinnedKey, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(key.raw).verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            raise ValueError(f"clé « {name[:40]} » en double")
        seen[name] = value
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(f"valeur {name} interdite")


def _no_float(text: str) -> Any:
    raise ValueError(f"nombre à virgule {text[:20]} interdit")


def _manifest(
    bundle: SignedBundle, key_id: str, what: str, accepts: Callable[[str], bool]
) -> Manifest:
    def bad(reason: str) -> BundleRefused:
        return BundleRefused(f"{what} : manifeste invalide : {reason}")

    try:
        text = bundle.manifest.decode("utf-8")
        data = json.loads(
            text,
            object_pairs_hook=_strict_object,
            parse_constant=_no_constant,
            parse_float=_no_float,
        )
    except UnicodeDecodeError:
        raise bad("pas en UTF-8") from None
    except RecursionError:
        raise bad("imbriqué trop profondément") from None
    except ValueError as exc:  # json.JSONDecodeError too
        raise bad(f"JSON illisible ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise bad("objet JSON attendu")
    if set(data) != _KEYS:
        extra, missing = sorted(set(data) - _KEYS), sorted(_KEYS - set(data))
        raise bad(
            "clés attendues : format, type, serie, emis_le, fichiers"
            + (f" (en trop : {', '.join(k[:40] for k in extra)})" if extra else "")
            + (f" (absentes : {', '.join(missing)})" if missing else "")
        )
    if _whole(data["format"]) != FORMAT:
        raise bad(f"format {str(data['format'])[:20]} inconnu de cette borne (format {FORMAT})")
    kind = data["type"]
    if kind not in KINDS or kind != bundle.kind:
        raise bad(f"type « {str(kind)[:20]} » au lieu de « {bundle.kind} » demandé")
    serial = _whole(data["serie"])
    if serial is None or not 1 <= serial <= _MAX_SERIAL:
        raise bad("serie : nombre entier positif attendu")
    issued = data["emis_le"]
    if not isinstance(issued, str) or not _ISSUED.fullmatch(issued):
        raise bad("emis_le : date et heure UTC attendues (AAAA-MM-JJTHH:MM:SSZ)")
    try:
        issued_at = datetime.strptime(issued, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise bad("emis_le : date impossible") from None
    listed = data["fichiers"]
    if not isinstance(listed, list) or not 1 <= len(listed) <= MAX_FILES:
        raise bad(f"fichiers : liste de 1 à {MAX_FILES} fichiers attendue")
    files: list[ManifestFile] = []
    names: set[str] = set()
    for i, item in enumerate(listed):
        files.append(_file(item, i, names, accepts, bad))
    total = sum(f.size for f in files)
    if total > MAX_CONTENT_BYTES:
        raise BundleRefused(
            f"{what} : trop volumineux ({total} octets de fichiers, au plus {MAX_CONTENT_BYTES})"
        )
    return Manifest(kind, serial, issued_at, tuple(files), key_id)


def _file(
    item: object,
    i: int,
    names: set[str],
    accepts: Callable[[str], bool],
    bad: Callable[[str], BundleRefused],
) -> ManifestFile:
    if not isinstance(item, dict) or set(item) != _FILE_KEYS:
        raise bad(f"fichiers[{i}] : objet de clés nom, taille, sha256 attendu")
    name = item["nom"]
    if not isinstance(name, str) or not safe_name(name) or not accepts(name):
        shown = name[:60] if isinstance(name, str) else str(name)[:20]
        raise bad(f"fichiers[{i}] : nom « {shown} » refusé (un nom de fichier prévu, sans chemin)")
    if name in names:
        raise bad(f"fichier « {name} » nommé deux fois")
    names.add(name)
    size = _whole(item["taille"])
    if size is None or size < 0:
        raise bad(f"{name} : taille : nombre entier positif attendu")
    if size > MAX_FILE_BYTES:
        raise bad(f"{name} trop volumineux ({size} octets, au plus {MAX_FILE_BYTES})")
    digest = item["sha256"]
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise bad(f"{name} : sha256 : 64 chiffres hexadécimaux en minuscules attendus")
    return ManifestFile(name, size, digest)


def _whole(value: object) -> int | None:
    """A JSON whole number (never ``true``, never a float: the parser refuses those)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _same_files(manifest: Manifest, bundle: SignedBundle, what: str) -> None:
    received: dict[str, bytes] = {}
    for name, content in bundle.files:
        if name in received:
            raise BundleRefused(f"{what} : fichier « {name[:60]} » reçu deux fois")
        received[name] = content
    announced = {f.name for f in manifest.files}
    unknown = sorted(n for n in received if n not in announced)
    if unknown:
        raise BundleRefused(
            f"{what} : fichier « {unknown[0][:60]} » reçu sans être dans le manifeste signé"
        )
    for item in manifest.files:
        if item.name not in received:
            raise BundleRefused(f"{what} : fichier {item.name} annoncé mais absent")
        content = received[item.name]
        if len(content) != item.size:
            raise BundleRefused(
                f"{what} : {item.name} de {len(content)} octets au lieu des {item.size} signés"
                " (fichier altéré ou incomplet)"
            )
        if hashlib.sha256(content).hexdigest() != item.sha256:
            raise BundleRefused(
                f"{what} : {item.name} : empreinte SHA-256 différente de celle signée (fichier"
                " altéré)"
            )
