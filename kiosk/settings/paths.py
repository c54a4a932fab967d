"""Where the kiosk keeps its files, and the few settings that change between counters.

Settings come from environment variables so that a préfecture can provision kiosks with a plain
systemd unit or a desktop launcher; the data directory follows the platform's conventions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "pn-kiosk"

#: Environment variable naming the SQLite database file (overrides the data directory).
ENV_DB = "PN_KIOSK_DB"
#: Environment variable naming the data directory (database, keys, documents).
ENV_DATA_DIR = "PN_KIOSK_DATA_DIR"
#: Environment variable naming the folder of procedure definitions.
ENV_DEMARCHES_DIR = "PN_KIOSK_DEMARCHES_DIR"
#: Environment variable naming the database key file (see kiosk/store/keys.py, docs/security.md).
ENV_DB_KEY_FILE = "PN_KIOSK_DB_KEY_FILE"
#: Environment variable naming the document-files key file.
ENV_DOCUMENTS_KEY_FILE = "PN_KIOSK_DOCUMENTS_KEY_FILE"


def repo_root() -> Path:
    """The folder holding ``assets/`` (the source tree, or the installed distribution)."""
    return Path(__file__).resolve().parents[2]


def assets_dir() -> Path:
    """The shipped assets: procedure definitions, translations, styles, test keys."""
    return repo_root() / "assets"


def default_data_dir() -> Path:
    """The per-user data directory, e.g. ``~/.local/share/pn-kiosk`` on Linux."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def db_key_file(database: Path) -> Path:
    """The database key: ``PN_KIOSK_DB_KEY_FILE``, else ``keys/db.key`` beside the database.

    Beside the database, not in the data directory, so that every command that opens a given
    database (``--db``) finds the same key without being told the data directory.
    """
    env = os.environ.get(ENV_DB_KEY_FILE)
    return Path(env) if env else database.parent / "keys" / "db.key"


def documents_key_file(documents_dir: Path) -> Path:
    """The documents key: ``PN_KIOSK_DOCUMENTS_KEY_FILE``, else ``keys/documents.key`` in the
    data directory (the parent of ``documents/``)."""
    env = os.environ.get(ENV_DOCUMENTS_KEY_FILE)
    return Path(env) if env else documents_dir.parent / "keys" / "documents.key"


@dataclass(frozen=True)
class Paths:
    """The files one kiosk instance works with."""

    data_dir: Path
    database: Path
    demarches_dir: Path

    @classmethod
    def resolve(
        cls,
        *,
        database: Path | None = None,
        data_dir: Path | None = None,
        demarches_dir: Path | None = None,
    ) -> Paths:
        """Resolve paths from explicit arguments, then the environment, then the defaults."""
        env_data = os.environ.get(ENV_DATA_DIR)
        resolved_data = data_dir or (Path(env_data) if env_data else default_data_dir())
        env_db = os.environ.get(ENV_DB)
        resolved_db = database or (Path(env_db) if env_db else resolved_data / "kiosk.sqlite3")
        env_dem = os.environ.get(ENV_DEMARCHES_DIR)
        resolved_dem = demarches_dir or (Path(env_dem) if env_dem else assets_dir() / "demarches")
        return cls(data_dir=resolved_data, database=resolved_db, demarches_dir=resolved_dem)

    @property
    def documents_dir(self) -> Path:
        """The supporting-document files (encrypted, kiosk/store/documents.py)."""
        return self.data_dir / "documents"

    @property
    def db_key_file(self) -> Path:
        """The database's key file."""
        return db_key_file(self.database)

    @property
    def documents_key_file(self) -> Path:
        """The document files' key file."""
        return documents_key_file(self.documents_dir)
