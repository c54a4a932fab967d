"""Resolving the settings once, at start: the command line, then the environment, then the file,
then the defaults — and saying where each value came from.

The file is the one named by ``--config``, else by ``PN_KIOSK_CONFIG``, else ``kiosk.toml`` in the
user's configuration folder (``~/.config/pn-kiosk/kiosk.toml`` on Linux) if there is one. This
module is the only place of the kiosk that reads ``os.environ`` (a test checks it); it never
writes it.

What stops the kiosk and what does not:

- a value that is not of its setting's type, a TOML syntax error, a file named but missing: the
  kiosk refuses to start, with one French sentence per problem naming the setting, where the
  value came from (file and line, or environment variable) and what is expected. Starting with a
  default instead would quietly keep personal data 90 days where the préfecture wrote 30;
- an unknown key (or ``PN_KIOSK_…`` variable): a warning, and the kiosk starts. The loan-tablet
  provisioning writes the file for the newest release; a tablet not yet updated must still
  start, reading what it knows. A typo is reported at each start and by ``kiosk reglages``, with
  the closest known key.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.settings.kinds import InvalidValue
from app.settings.options import BY_KEY, SECTIONS, SETTINGS, Declaration, Settings
from app.settings.upgrade import CONFIG_VERSION, upgrade
from kiosk.settings.paths import APP_NAME

#: The environment variable naming the settings file.
ENV_CONFIG = "PN_KIOSK_CONFIG"
#: The settings file's name in the user's configuration folder.
CONFIG_NAME = "kiosk.toml"
#: The top-level key giving the file's layout version (app/settings/upgrade.py).
VERSION_KEY = "config_version"
_ENV_PREFIX = "PN_KIOSK_"


class SettingsError(Exception):
    """Settings the kiosk cannot start with: one French sentence per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class Source(StrEnum):
    """Where a value came from (the values are what ``kiosk reglages`` shows)."""

    DEFAULT = "défaut"
    FILE = "fichier"
    ENV = "environnement"
    CLI = "ligne de commande"


@dataclass(frozen=True)
class Origin:
    """A source, and within it the file and line, the variable or the option."""

    source: Source
    where: str = ""

    def __str__(self) -> str:
        return f"{self.source} ({self.where})" if self.where else str(self.source)

    @property
    def place(self) -> str:
        """The source as an error message names it."""
        if self.source is Source.FILE:
            return f"fichier {self.where}"
        if self.source is Source.ENV:
            return f"variable d'environnement {self.where}"
        if self.source is Source.CLI:
            return f"option {self.where}"
        return "valeur par défaut"


@dataclass(frozen=True)
class Resolution:
    """The settings, and what ``kiosk reglages`` says about them."""

    settings: Settings
    #: Setting name → where its value came from.
    origins: Mapping[str, Origin]
    #: The file read, if any, and the version of its layout.
    file: Path | None
    file_version: int | None
    #: Where the file was looked for when none was read (the default place).
    looked_for: Path | None
    warnings: tuple[str, ...]

    @property
    def settings_file(self) -> Path:
        """The file the settings are read from, or would be once written (an enrolment
        writes it: app/settings/write.py)."""
        found = self.file or self.looked_for
        assert found is not None  # one of them is always set
        return found


def default_config_file() -> Path:
    """``kiosk.toml`` in the user's configuration folder (``~/.config/pn-kiosk`` on Linux)."""
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / CONFIG_NAME


def resolve(
    *,
    cli: Mapping[str, Any] | None = None,
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
    default_file: Path | None = None,
    absent_ok: bool = False,
) -> Resolution:
    """The settings of this process.

    Args:
        cli: setting name → the value given on the command line (``None``: not given).
        config: the file named by ``--config``.
        environ: the environment (``os.environ`` when not given: tests pass their own).
        default_file: where to look for the file when none is named (tests pass their own).
        absent_ok: a file named but missing is read as empty (``kiosk enroler`` writes it).

    Raises:
        SettingsError: a value of the wrong type, a file missing or not valid TOML.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    given = {name: value for name, value in (cli or {}).items() if value is not None}
    problems: list[str] = []
    warnings: list[str] = []
    file, named_by = _which_file(config, env, default_file)
    missing = None
    if absent_ok and file is not None and not file.exists():
        missing, file = file, None
    read = _read_file(file, named_by, problems, warnings) if file is not None else None
    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    for declaration in SETTINGS:
        origin, raw = _pick(declaration, given, env, read)
        origins[declaration.name] = origin
        if origin.source is Source.DEFAULT:
            continue
        try:
            values[declaration.name] = _parse(declaration, origin, raw, read)
        except InvalidValue as exc:
            problems.append(_invalid(declaration, origin, raw, exc))
    warnings += _unknown_variables(env)
    if problems:
        raise SettingsError(problems)
    return Resolution(
        settings=Settings(**values),
        origins=origins,
        file=file,
        file_version=read.version if read is not None else None,
        looked_for=None if file is not None else (missing or default_file or default_config_file()),
        warnings=tuple(warnings),
    )


def _which_file(
    config: Path | None, env: Mapping[str, str], default_file: Path | None
) -> tuple[Path | None, str]:
    """The file to read and what named it (``None`` when there is none)."""
    if config is not None:
        return config, "option --config"
    named = env.get(ENV_CONFIG, "").strip()
    if named:
        return Path(named).expanduser(), f"variable d'environnement {ENV_CONFIG}"
    default = default_file or default_config_file()
    return (default, "") if default.is_file() else (None, "")


@dataclass(frozen=True)
class _File:
    path: Path
    version: int
    #: ``section.key`` → (TOML value, line or None).
    values: dict[str, tuple[object, int | None]]


def _read_file(path: Path, named_by: str, problems: list[str], warnings: list[str]) -> _File:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SettingsError([f"Fichier de réglages introuvable : {path} ({named_by})."]) from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(
            [f"Le fichier de réglages {path} n'est pas un texte UTF-8 (octet {exc.start})."]
        ) from exc
    except OSError as exc:
        raise SettingsError(
            [f"Fichier de réglages illisible : {path} ({exc.strerror or exc})."]
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([_syntax_error(path, exc)]) from exc
    lines = _key_lines(text)
    version = _version(path, data.pop(VERSION_KEY, None), lines, problems, warnings)
    data = upgrade(data, min(version, CONFIG_VERSION))
    values: dict[str, tuple[object, int | None]] = {}
    for section, content in data.items():
        if section in SECTIONS and isinstance(content, dict):
            for key, value in content.items():
                full = f"{section}.{key}"
                if full in BY_KEY:
                    values[full] = (value, lines.get(full))
                else:
                    warnings.append(_unknown_key(path, full, lines, version))
        elif section in SECTIONS:
            problems.append(
                f"Section [{section}] ({_at(path, lines.get(section))}) : attendu une section"
                f" « [{section}] » suivie de ses clés, pas une valeur."
            )
        else:
            warnings.append(_unknown_key(path, section, lines, version))
    if any(key == "service_national.secret" for key in values) and _readable_by_all(path):
        warnings.append(
            f"Le fichier {path} contient le secret de la borne et tous les comptes de cette"
            f" machine peuvent le lire : restreignez-le (chmod 600 {path})."
        )
    return _File(path, version, values)


def _version(
    path: Path, raw: object, lines: dict[str, int], problems: list[str], warnings: list[str]
) -> int:
    if raw is None:
        return 1  # written by hand, before versions: the first layout
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        problems.append(
            f"Réglage {VERSION_KEY} : « {_toml_text(raw)} »"
            f" ({_at(path, lines.get(VERSION_KEY))}) n'est pas valable. Attendu : un nombre"
            f" entier, par exemple {VERSION_KEY} = {CONFIG_VERSION}."
        )
        return CONFIG_VERSION
    if raw > CONFIG_VERSION:
        warnings.append(
            f"Le fichier {path} est écrit pour la version {raw} des réglages ; ce kiosque lit la"
            f" version {CONFIG_VERSION} : il ignore les clés qu'il ne connaît pas. Mettez le"
            " logiciel à jour."
        )
    return raw


def _pick(
    declaration: Declaration, given: Mapping[str, Any], env: Mapping[str, str], read: _File | None
) -> tuple[Origin, object]:
    """Where this setting's value comes from, and the value as given there."""
    if declaration.name in given:
        return Origin(Source.CLI, declaration.option or ""), given[declaration.name]
    raw_env = env.get(declaration.env, "")
    if raw_env.strip():  # set but empty is unset, as earlier versions read it
        return Origin(Source.ENV, declaration.env), raw_env
    if read is not None and declaration.key in read.values:
        raw, line = read.values[declaration.key]
        return Origin(Source.FILE, _at(read.path, line)), raw
    return Origin(Source.DEFAULT), None


def _parse(declaration: Declaration, origin: Origin, raw: object, read: _File | None) -> Any:
    kind = declaration.kind
    if origin.source is Source.FILE and read is not None:
        if raw == "" and declaration.optional:
            return None  # `imprimante = ""`: written to say « none », the default behaviour
        return kind.from_file(raw, read.path.parent)
    # The command line's options are typed by argparse already (a Path); the rest is text.
    return kind.from_text(raw) if isinstance(raw, str) else raw


def _invalid(declaration: Declaration, origin: Origin, raw: object, exc: InvalidValue) -> str:
    shown = "***" if declaration.secret else _toml_text(raw)
    expected = declaration.kind.expected
    if origin.source is Source.FILE:
        field = declaration.key.partition(".")[2]
        default = declaration.default()
        example = (
            f"{default:g}"
            if isinstance(default, int | float) and not isinstance(default, bool)
            else declaration.kind.example
        )
        expected += f", écrit par exemple : {field} = {example}"
    detail = f" ({exc})" if str(exc) else ""
    return (
        f"Réglage {declaration.key} : « {shown} » ({origin.place}) n'est pas valable{detail}."
        f" Attendu : {expected}."
    )


def _toml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def _at(path: Path, line: int | None) -> str:
    return f"{path}, ligne {line}" if line else str(path)


def _syntax_error(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    text = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", text)
    detail = text[: found.start()].strip() if found else text
    where = f", ligne {found.group(1)}, colonne {found.group(2)}" if found else ""
    return (
        f"Le fichier de réglages {path} n'est pas du TOML valable{where} (détail : {detail})."
        " La borne ne démarre pas avec un fichier qu'elle ne peut pas lire entièrement."
    )


def _unknown_key(path: Path, key: str, lines: dict[str, int], version: int) -> str:
    close = difflib.get_close_matches(key, [*BY_KEY, *SECTIONS], n=1, cutoff=0.6)
    hint = f" Vouliez-vous dire « {close[0]} » ?" if close else ""
    newer = " (fichier d'une version plus récente)" if version > CONFIG_VERSION else ""
    return f"Clé inconnue « {key} » ({_at(path, lines.get(key))}) : ignorée{newer}.{hint}"


def _unknown_variables(env: Mapping[str, str]) -> list[str]:
    known = {d.env for d in SETTINGS} | {ENV_CONFIG}
    found = []
    for name in sorted(env):
        if name.startswith(_ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
            hint = f" Vouliez-vous dire {close[0]} ?" if close else ""
            found.append(f"Variable d'environnement inconnue {name} : ignorée.{hint}")
    return found


def _readable_by_all(path: Path) -> bool:
    try:
        return os.name == "posix" and bool(path.stat().st_mode & stat.S_IROTH)
    except OSError:
        return False


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-.\s]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")


def _key_lines(text: str) -> dict[str, int]:
    """``section.key`` → the line it is written on (1-based), for the messages.

    Best effort, on purpose: bare keys under ``[section]`` headers, or dotted at the top, which is
    how the example file and the provisioning write them; a quoted key just has no line.
    """
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = re.sub(r"\s+", "", header.group(1))
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            name = re.sub(r"\s+", "", key.group(1))
            lines.setdefault(f"{table}.{name}" if table else name, number)
    return lines
