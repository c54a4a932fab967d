"""Where the kiosk keeps its files: the defaults, derived from the data directory.

The values come from the settings registry (``app/settings/``: the file, the environment, the
command line), resolved once at start and handed here as arguments; nothing here reads the
environment. The data directory follows the platform's conventions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APP_NAME = "pn-kiosk"


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
    """Where the database key is when no other place is configured: ``keys/db.key`` beside it.

    Beside the database, not in the data directory, so that every command that opens a given
    database (``--db``) finds the same key without being told the data directory.
    """
    return database.parent / "keys" / "db.key"


def documents_key_file(documents_dir: Path) -> Path:
    """Where the documents key is when no other place is configured: ``keys/documents.key`` in
    the data directory (the parent of ``documents/``)."""
    return documents_dir.parent / "keys" / "documents.key"


@dataclass(frozen=True)
class Paths:
    """The files one kiosk instance works with."""

    data_dir: Path
    database: Path
    demarches_dir: Path
    db_key_file: Path
    documents_key_file: Path
    #: A site's shared store (``postgresql://…``) used instead of ``database``; None: the
    #: embedded encrypted SQLite file.
    database_url: str | None = None
    #: On a site store, the journal's chain this kiosk appends to: its identifier at the
    #: national service (kiosk/security/audit.py; « » when it has none yet).
    audit_chain: str = ""

    @classmethod
    def resolve(
        cls,
        *,
        database: Path | None = None,
        data_dir: Path | None = None,
        demarches_dir: Path | None = None,
        db_key_file: Path | None = None,
        documents_key_file: Path | None = None,
        database_url: str | None = None,
        audit_chain: str | None = None,
    ) -> Paths:
        """The paths given, the others derived: the database, the key files and the documents
        in the data directory, the démarches shipped in ``assets/``."""
        data = data_dir or default_data_dir()
        db = database or data / "kiosk.sqlite3"
        return cls(
            data_dir=data,
            database=db,
            demarches_dir=demarches_dir or assets_dir() / "demarches",
            db_key_file=db_key_file or _default_db_key(db),
            documents_key_file=documents_key_file or _default_documents_key(data / "documents"),
            database_url=database_url,
            audit_chain=audit_chain or "",
        )

    @property
    def documents_dir(self) -> Path:
        """The supporting-document files (encrypted, kiosk/store/documents.py)."""
        return self.data_dir / "documents"

    @property
    def bundles_dir(self) -> Path:
        """The signed bundles of démarches and tariffs installed from the national service, a
        folder per kind (kiosk/updates/folder.py; ``assets/`` may be read-only)."""
        return self.data_dir / "paquets"


# The field names above hide the module's functions inside the class body.
_default_db_key = db_key_file
_default_documents_key = documents_key_file
