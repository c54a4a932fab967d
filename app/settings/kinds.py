"""The types a setting can have: how a value is read from the file and from text, and what is
expected, said in French for the support staff who write the file.

A value comes either from the TOML file (already typed by TOML: an integer, a string, an array)
or as text (an environment variable, a command-line option). Each kind reads both and refuses
what it cannot use with :class:`InvalidValue`, whose message completes « Attendu : … »; the
resolver (``app/settings/resolve.py``) adds which setting and where the value came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class InvalidValue(ValueError):
    """A value that is not of the setting's type (the resolver says which setting, and where)."""


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One type of setting.

    ``label`` names the type in the listing (``kiosk reglages``); ``expected`` says in French what
    a valid value looks like, for the error message, and ``example`` how it is written in the
    file. ``from_text`` reads the environment and the
    command line; ``from_file`` reads a TOML value, ``base`` being the file's folder (a relative
    path in the file is relative to the file, not to wherever the kiosk was started).
    """

    label: str
    expected: str
    example: str
    from_text: Callable[[str], T]
    from_file: Callable[[object, Path], T]
    to_json: Callable[[T], Any] = lambda value: value


def _path_text(text: str) -> Path:
    return Path(text.strip()).expanduser()


def _path_file(value: object, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else base / path


PATH: Kind[Path] = Kind(
    label="chemin",
    example='"/var/lib/pn-kiosk"',
    expected="un chemin de fichier ou de dossier",
    from_text=_path_text,
    from_file=_path_file,
    to_json=str,
)


def _text_file(value: object, _base: Path) -> str:
    if not isinstance(value, str):
        raise InvalidValue
    return value.strip()


TEXT: Kind[str] = Kind(
    label="texte",
    example='"Nom"',
    expected="du texte",
    from_text=str.strip,
    from_file=_text_file,
)


def _secret_file(value: object, _base: Path) -> str:
    if not isinstance(value, str):
        raise InvalidValue
    return value  # a secret is taken as written: spaces may be part of it


SECRET: Kind[str] = Kind(
    label="secret",
    example='"…"',
    expected="du texte",
    from_text=lambda text: text,
    from_file=_secret_file,
)


def _url(text: str) -> str:
    url = text.strip()
    if not url.startswith(("https://", "http://")) or len(url) <= len("https://"):
        raise InvalidValue
    return url


def _url_file(value: object, _base: Path) -> str:
    if not isinstance(value, str):
        raise InvalidValue
    return _url(value)


URL: Kind[str] = Kind(
    label="adresse",
    example='"https://api.exemple.gouv.fr"',
    expected="une adresse https://… (http:// seulement vers cette machine)",
    from_text=_url,
    from_file=_url_file,
)


def _db_url(text: str) -> str:
    # kiosk/store/site.py reads it for good when the store opens; here only what can be told
    # without loading SQLAlchemy (``kiosk --help`` must not wait for it).
    from urllib.parse import urlsplit

    url = text.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidValue from exc
    if parts.scheme.lower() not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise InvalidValue
    return url


def _db_url_file(value: object, _base: Path) -> str:
    if not isinstance(value, str):
        raise InvalidValue
    return _db_url(value)


def _db_url_shown(url: str) -> str:
    """The address with its password masked (``kiosk reglages``, messages)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:********@{host}"))


DB_URL: Kind[str] = Kind(
    label="adresse de base",
    example='"postgresql://borne@serveur-site/kiosk?sslmode=verify-full"',
    expected="une adresse postgresql://serveur/base (docs/sites.md)",
    from_text=_db_url,
    from_file=_db_url_file,
    to_json=_db_url_shown,
)


def _days_text(text: str) -> int:
    raw = text.strip()
    if not raw.isdigit():
        raise InvalidValue
    return _days(int(raw))


def _days(value: object) -> int:
    # bool is an int in Python, never a number of days
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue
    return value


DAYS: Kind[int] = Kind(
    label="jours",
    example="30",
    expected="un nombre entier de jours, 1 ou plus",
    from_text=_days_text,
    from_file=lambda value, _base: _days(value),
)


def _number(value: object, *, zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero):
        raise InvalidValue
    return number


def _number_text(text: str, *, zero: bool) -> float:
    try:
        number = float(text.strip().replace(",", "."))  # « 0,5 » as a French agent writes it
    except ValueError as exc:
        raise InvalidValue from exc
    return _number(number, zero=zero)


HOURS: Kind[float] = Kind(
    label="heures",
    example="6",
    expected="un nombre d'heures, 0 pour désactiver",
    from_text=lambda text: _number_text(text, zero=True),
    from_file=lambda value, _base: _number(value, zero=True),
)

SECONDS: Kind[float] = Kind(
    label="secondes",
    example="1.5",
    expected="une durée en secondes, plus grande que 0",
    from_text=lambda text: _number_text(text, zero=False),
    from_file=lambda value, _base: _number(value, zero=False),
)


def _pins(text: str) -> tuple[str, ...]:
    # sync/tls.py owns the pin format; imported only when a pin is configured (it loads
    # `cryptography`, which `kiosk --help` must not wait for).
    from sync.tls import TlsConfigError, parse_pins

    try:
        return parse_pins(text)
    except TlsConfigError as exc:
        raise InvalidValue(str(exc)) from exc


def _pins_file(value: object, _base: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        return _pins(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return _pins(" ".join(value))
    raise InvalidValue


PINS: Kind[tuple[str, ...]] = Kind(
    label="empreintes",
    example='["sha256/…", "sha256/…"]',
    expected="des empreintes sha256/… (données par « kiosk sync empreinte »)",
    from_text=_pins,
    from_file=_pins_file,
    to_json=list,
)


def _keys(text: str) -> tuple[str, ...]:
    # kiosk/updates/keys.py owns the key format (standard library only: cheap to import).
    from kiosk.updates.keys import parse_keys

    try:
        return tuple(k.text for k in parse_keys(text.replace(",", " ").split()))
    except ValueError as exc:
        raise InvalidValue(str(exc)) from exc


def _keys_file(value: object, _base: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        return _keys(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return _keys(" ".join(value))
    raise InvalidValue


KEYS: Kind[tuple[str, ...]] = Kind(
    label="clés",
    example='["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]',
    expected="des clés publiques Ed25519, chacune en base64 de ses 32 octets",
    from_text=_keys,
    from_file=_keys_file,
    to_json=list,
)


#: The loudest reading aloud may be set to, in percent (devices/speech/qt.py caps it the same).
VOLUME_MAX = 80


def _volume(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= VOLUME_MAX:
        raise InvalidValue
    return value


def _volume_text(text: str) -> int:
    raw = text.strip().removesuffix("%").strip()
    if not raw.isdigit():
        raise InvalidValue
    return _volume(int(raw))


VOLUME: Kind[int] = Kind(
    label="pourcentage",
    example="50",
    expected=(
        f"un pourcentage entier de 0 (lecture à voix haute coupée) à {VOLUME_MAX} (le plafond,"
        " pour l'écoute au casque)"
    ),
    from_text=_volume_text,
    from_file=lambda value, _base: _volume(value),
)
