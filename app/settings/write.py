"""Writing a kiosk's settings file at its enrolment: the credentials the national service gave
it and its site's settings (kiosk/enrolment/).

The kiosk otherwise never writes its configuration (app/settings/upgrade.py: the préfecture's
provisioning owns the file, its comments included). An enrolment is the one exception, and it
edits rather than rewrites: each key it sets replaces its own line, or is added at the end of
its section (the section added at the end of the file if missing); every other line, comment
and key stays as it was. The result is read back before it replaces the file: the keys set hold
the values given and every other key its old value, or nothing is written (a key written over
several lines, an inline table: the support staff then copy the values by hand).

The file holds the kiosk's secret inline: the registry has no kind for a secret kept in a file
of its own. It is written readable by the kiosk's account only (mode 600), in its folder (made
mode 700 if missing), atomically: a new file beside it, synced, then renamed over it, so that a
power cut leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

from app.settings.options import BY_KEY
from app.settings.resolve import VERSION_KEY
from app.settings.upgrade import CONFIG_VERSION
from kiosk.enrolment.service import EnrolmentFailed
from kiosk.enrolment.site import SiteSettings
from kiosk.ports.national import KioskCredentials

TomlValue = str | list[str]

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-.\s]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")


def enrolment_values(credentials: KioskCredentials, site: SiteSettings) -> dict[str, TomlValue]:
    """``section.key`` → value: what an enrolment writes into the file."""
    values: dict[str, TomlValue] = {
        "service_national.adresse": site.api_url,
        "service_national.empreintes": list(site.api_pins),
        "service_national.identifiant": credentials.client_id,
        "service_national.secret": credentials.client_secret,
    }
    for key, value in (
        ("peripheriques.imprimante", site.printer),
        ("peripheriques.numerisations", site.scan_dir),
        ("peripheriques.camera", site.camera),
        ("peripheriques.lecteur", site.reader),
        ("peripheriques.serveur_impression", site.print_server),
        ("peripheriques.scanner", site.scanner),
    ):
        if value is not None:
            values[key] = value
    return values


class SettingsFile:
    """The settings file an enrolment writes (the one the kiosk reads at start)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        """The file."""
        return self._path

    def check(self) -> None:
        """Whether the file can be written, with placeholders in place of the values (before
        the code is spent at the national service).

        Raises:
            EnrolmentFailed: it cannot, and why (in French).
        """
        placeholders = KioskCredentials("borne-essai", "x" * 32)
        site = SiteSettings(
            "https://essai.invalid", printer="essai", scan_dir="/e", camera="e", reader="e"
        )
        edit(self._current(), enrolment_values(placeholders, site), self._path)
        folder = _existing_parent(self._path.parent)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise EnrolmentFailed(
                f"Le dossier {folder} n'est pas accessible en écriture : le fichier de réglages"
                f" {self._path} ne pourrait pas être écrit. Rien n'a été envoyé."
            )

    def write(self, credentials: KioskCredentials, site: SiteSettings) -> None:
        """Set the enrolment's values in the file, atomically, mode 600.

        Raises:
            EnrolmentFailed: it could not be written (in French).
        """
        text = edit(self._current(), enrolment_values(credentials, site), self._path)
        try:
            _replace(self._path, text)
        except OSError as exc:
            raise EnrolmentFailed(
                f"Le fichier de réglages {self._path} n'a pas pu être écrit"
                f" ({exc.strerror or exc}) : la borne est enrôlée au service national mais ne"
                " le sait pas. Demandez un nouveau code au superviseur."
            ) from exc

    def _current(self) -> str:
        """The file's text, or the first line of a new file."""
        path = self._path
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            return f"{VERSION_KEY} = {CONFIG_VERSION}\n"
        except OSError as exc:
            raise EnrolmentFailed(
                f"Fichier de réglages illisible : {path} ({exc.strerror or exc})."
            ) from exc
        if not stat.S_ISREG(mode):
            raise EnrolmentFailed(
                f"{path} n'est pas un fichier ordinaire : nommez le fichier de réglages à écrire"
                " (kiosk --config FICHIER enroler)."
            )
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EnrolmentFailed(f"Fichier de réglages illisible : {path} ({exc}).") from exc


def toml_value(value: TomlValue) -> str:
    """``value`` as TOML writes it: a basic string (escaped), or an array of them."""
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    out = []
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def edit(text: str, values: Mapping[str, TomlValue], path: Path) -> str:
    """``text`` with each ``section.key`` of ``values`` set, every other line kept.

    Raises:
        EnrolmentFailed: ``text`` is no TOML, or the result would not read back as expected.
    """
    for key in values:
        assert key in BY_KEY, key  # only settings of the registry are written
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EnrolmentFailed(
            f"Le fichier de réglages {path} n'est pas du TOML valable ({exc}) : corrigez-le"
            " avant d'enrôler la borne. Rien n'a été envoyé."
        ) from exc
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    left = dict(values)
    table = ""
    last_line: dict[str, int] = {}  # section (or dotted prefix at the top) → its last line
    for number, line in enumerate(lines):
        header = _HEADER.match(line)
        if header:
            table = re.sub(r"\s+", "", header.group(1))
            last_line[table] = number
            continue
        found = _KEY.match(line)
        if found is None:
            continue
        indent, name = found.group(1), re.sub(r"\s+", "", found.group(2))
        full = f"{table}.{name}" if table else name
        section = table or full.rpartition(".")[0]
        last_line[section if table else f"{section}."] = number
        if full in left:
            written = name if table else full
            lines[number] = f"{indent}{written} = {toml_value(left.pop(full))}\n"
    for section in dict.fromkeys(key.partition(".")[0] for key in left):
        mine = [(k, v) for k, v in left.items() if k.partition(".")[0] == section]
        if section in last_line:  # under its [section]
            at = last_line[section] + 1
            new = [f"{k.partition('.')[2]} = {toml_value(v)}\n" for k, v in mine]
        elif f"{section}." in last_line:  # dotted keys at the top of the file
            at = last_line[f"{section}."] + 1
            new = [f"{k} = {toml_value(v)}\n" for k, v in mine]
        else:
            at = len(lines)
            new = [f"\n[{section}]\n"] + [
                f"{k.partition('.')[2]} = {toml_value(v)}\n" for k, v in mine
            ]
        lines[at:at] = new
        for other, number in last_line.items():
            if number >= at:
                last_line[other] = number + len(new)
        last_line[section] = at + len(new) - 1
    result = "".join(lines)
    _check_result(before, result, values, path)
    return result


def _check_result(
    before: dict[str, object], result: str, values: Mapping[str, TomlValue], path: Path
) -> None:
    """The edited text reads back as ``before`` with ``values`` set, or nothing is written."""
    try:
        after = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        after = None
    expected = {section: dict(v) if isinstance(v, dict) else v for section, v in before.items()}
    for key, value in values.items():
        section, _, name = key.partition(".")
        part = expected.setdefault(section, {})
        if isinstance(part, dict):
            part[name] = value
    if after != expected:
        raise EnrolmentFailed(
            f"Le fichier de réglages {path} ne peut pas être complété sans risque (une des clés"
            f" de {', '.join(sorted(values))} y est écrite sur plusieurs lignes, ou dans une"
            " table en ligne) : écrivez-la sur une seule ligne, puis recommencez. Rien n'a été"
            " envoyé."
        )


def _existing_parent(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable and writable by its owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.enrolement")
    try:
        opened = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(opened, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)  # also when a file of that name was left behind
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)
