"""``kiosk reglages``, and the settings of one ``kiosk`` command, resolved once from its options.

Registered through ``app.cli._EXTENSIONS``; only the standard library is imported at module level
so that ``kiosk --help`` stays instant. A command resolves the settings the first time it needs
them (:func:`settings_of`): ``kiosk card-sim`` or ``kiosk national-sim --db FILE`` never read
the file, and so never fail on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from app.settings import Declaration, Resolution, Settings

EXIT_OK = 0
EXIT_ERROR = 1
_MASK = "********"  # a secret's value, whatever its length


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``kiosk reglages`` to the ``kiosk`` parser."""
    listing = sub.add_parser(
        "reglages",
        parents=[common],
        help="chaque réglage, sa valeur, d'où elle vient et ce qu'elle règle",
    )
    listing.set_defaults(run=_reglages)


def resolution_of(args: argparse.Namespace) -> Resolution:
    """The settings of this command, resolved at the first call (the same object after).

    The command line's ``--db``, ``--data-dir`` and ``--url`` come first, then the environment,
    then the file (``--config``, ``PN_KIOSK_CONFIG`` or the default place). Warnings (unknown
    keys) are printed once, on the error output.

    Raises:
        SettingsError: a value the kiosk cannot start with (the message says which, in French).
    """
    cached: Resolution | None = getattr(args, "resolved_settings", None)
    if cached is not None:
        return cached
    from app.settings import SETTINGS, resolve

    cli = {d.name: getattr(args, d.option_dest, None) for d in SETTINGS if d.option_dest}
    resolution = resolve(cli=cli, config=getattr(args, "config", None))
    for warning in resolution.warnings:
        sys.stderr.write(f"Attention : {warning}\n")
    args.resolved_settings = resolution
    return resolution


def settings_of(args: argparse.Namespace) -> Settings:
    """The frozen settings of this command (see :func:`resolution_of`)."""
    return resolution_of(args).settings


def credentials_file_of(args: argparse.Namespace) -> Path | None:
    """The settings file the national secret was read from (``None``: not from a file). A
    revoked kiosk removes the secret from it (kiosk/security/revocation.py)."""
    from app.settings import Source

    resolution = resolution_of(args)
    if resolution.origins["api_client_secret"].source is Source.FILE:
        return resolution.file
    return None


def _reglages(args: argparse.Namespace) -> int:
    from app.settings import CONFIG_VERSION, SETTINGS, SettingsError

    try:
        resolution = resolution_of(args)
    except SettingsError as exc:
        sys.stderr.write(f"Erreur : {exc}\n")
        return EXIT_ERROR
    rows = [_row(resolution, d) for d in SETTINGS]
    if resolution.file is not None:
        file_line = f"Fichier de réglages : {resolution.file} (version {resolution.file_version})"
    else:
        file_line = f"Fichier de réglages : aucun ({resolution.looked_for} n'existe pas)"
    if getattr(args, "json", False):
        data = {
            "fichier": str(resolution.file) if resolution.file else None,
            "version_fichier": resolution.file_version,
            "version_lue": CONFIG_VERSION,
            "avertissements": list(resolution.warnings),
            "reglages": [row for row, _text in rows],
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    lines = [file_line, ""]
    for declaration, (row, text) in zip(SETTINGS, rows, strict=True):
        lines.append(f"{row['cle']} = {text}  ({resolution.origins[declaration.name]})")
        lines.append(f"    {row['signification']} [{row['variable']}]")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _row(resolution: Resolution, declaration: Declaration) -> tuple[dict[str, Any], str]:
    """One setting as listed, for ``--json`` and as text: the value in force (a secret masked)."""
    value = resolution.settings.effective(declaration.name)
    origin = resolution.origins[declaration.name]
    if value is None:
        data, text = None, f"(non défini : {declaration.unset})"
    elif declaration.secret:
        data, text = _MASK, _MASK
    else:
        data = declaration.kind.to_json(value)
        text = (", ".join(data) or "(aucune)") if isinstance(data, list) else str(data)
    row = {
        "cle": declaration.key,
        "variable": declaration.env,
        "type": declaration.kind.label,
        "valeur": data,
        "origine": str(origin.source),
        "emplacement": origin.where or None,
        "signification": declaration.meaning,
    }
    return row, text
