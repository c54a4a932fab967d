"""TLS towards the national API: certificates verified, optional pinning, HTTP only on loopback.

The kiosk refuses to talk to a server it cannot authenticate *before* it sends anything: the
client secret goes out in the first request, so a fake national server must fail at the
handshake. Verification is Python's own (OpenSSL with the system's trust store, or the CA file a
préfecture provisions). Pinning adds one check after the handshake: the SHA-256 of the server
certificate's public key (its SubjectPublicKeyInfo, as in RFC 7469) must be one of the pins
configured. Several pins let a préfecture roll the national certificate over without cutting
kiosks off (the current key and the next one).

We wrote the pin check ourselves: httpx has no pinning option, and the check is a dozen lines on
top of :class:`ssl.SSLSocket` (it runs inside ``wrap_socket``, so no byte of the request leaves
before it passes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

PIN_PREFIX = "sha256/"


class TlsConfigError(Exception):
    """The TLS settings are unusable; the message, in French, says which and what to do."""


class PinMismatchError(ssl.SSLError):
    """The server's key is none of the pinned ones (a fake server, or an unannounced new key)."""


def spki_pin(certificate: bytes) -> str:
    """``sha256/<base64>`` of a certificate's public key (DER or PEM certificate)."""
    if certificate.lstrip().startswith(b"-----BEGIN"):
        cert = x509.load_pem_x509_certificate(certificate)
    else:
        cert = x509.load_der_x509_certificate(certificate)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return PIN_PREFIX + base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def parse_pins(text: str) -> tuple[str, ...]:
    """Pins from a comma- or space-separated list; each must be ``sha256/`` + 32 bytes in base64."""
    pins: list[str] = []
    for item in text.replace(",", " ").split():
        value = item.removeprefix(PIN_PREFIX)
        try:
            digest = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 32:
            raise TlsConfigError(
                f"Empreinte de certificat invalide : « {item} ». Attendu : sha256/ suivi de"
                " 44 caractères base64 (donnée par « kiosk sync empreinte »)."
            )
        pins.append(PIN_PREFIX + base64.b64encode(digest).decode("ascii"))
    return tuple(pins)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (the only place plain HTTP is accepted)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class TlsPolicy:
    """How the kiosk authenticates the national server.

    ``ca_file``: the certificate authorities to trust (PEM); ``None`` means the system's store.
    ``pins``: accepted public-key pins; empty means no pinning.
    """

    ca_file: Path | None = None
    pins: tuple[str, ...] = ()

    def check_url(self, url: str) -> None:
        """Refuse a URL the kiosk must not use: anything but HTTPS, except on loopback."""
        scheme = urlsplit(url).scheme
        if scheme == "https":
            return
        if scheme == "http" and is_loopback(url):
            return
        raise TlsConfigError(
            f"Adresse du service national refusée : « {url} ». Seul https:// est accepté"
            " (http:// uniquement vers cette machine, pour le simulateur)."
        )

    def context(self) -> ssl.SSLContext:
        """An SSL context verifying the server (hostname + chain), TLS 1.2 or newer, pinned."""
        if self.ca_file is not None and not self.ca_file.is_file():
            raise TlsConfigError(
                f"Fichier des autorités de certification introuvable : {self.ca_file}."
            )
        context: ssl.SSLContext = _PinningContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        try:
            if self.ca_file is None:
                context.load_default_certs(ssl.Purpose.SERVER_AUTH)
            else:
                context.load_verify_locations(cafile=str(self.ca_file))
        except (ssl.SSLError, ValueError) as exc:
            raise TlsConfigError(
                f"Fichier des autorités de certification illisible : {self.ca_file} ({exc})."
            ) from exc
        context.pins = frozenset(self.pins)  # type: ignore[attr-defined]
        return context


class _PinnedSocket(ssl.SSLSocket):
    """An SSL socket that checks the pin right after the handshake, before any data is sent."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        pins: frozenset[str] = getattr(self.context, "pins", frozenset())
        if not pins:
            return
        der = self.getpeercert(binary_form=True)
        if der is None or spki_pin(der) not in pins:
            raise PinMismatchError("la clé du serveur ne correspond à aucune empreinte épinglée")


class _PinningContext(ssl.SSLContext):
    """The SSL context whose sockets check the pins (``pins`` set by :meth:`TlsPolicy.context`)."""

    sslsocket_class = _PinnedSocket


def describe_tls_failure(exc: BaseException) -> str | None:
    """A French sentence for a TLS failure somewhere in ``exc``'s causes, or ``None``."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, PinMismatchError):
            return (
                "Le certificat du service national ne correspond pas à l'empreinte configurée"
                " (faux serveur, ou certificat renouvelé sans prévenir) : rien n'a été envoyé."
            )
        if isinstance(seen, ssl.SSLCertVerificationError):
            return (
                "Le certificat du service national n'est pas reconnu"
                f" ({seen.verify_message or 'vérification refusée'}) : rien n'a été envoyé."
            )
        if isinstance(seen, ssl.SSLError):
            return f"Échec de la connexion sécurisée au service national ({seen.reason or seen})."
        seen = seen.__cause__ or seen.__context__
    return None
