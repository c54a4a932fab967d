"""Every setting of the kiosk, declared once: its key in the file, its environment variable, its
type, its default and what it means (the model is MusicBrainz Picard's ``picard/options.py``).

The declarations are the fields of :class:`Settings` itself, so that the value handed down and
the registry cannot drift apart: adding a setting is adding one field here. The file groups the
keys by section (``[stockage]``, ``[conservation]``, ``[peripheriques]``, ``[service_national]``);
the environment variables keep the names earlier versions read, so that existing unit files and
launchers keep working. Only the standard library and the cheap ``kiosk.settings.paths`` are
imported here: ``kiosk --help`` must not wait.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from app.settings.kinds import (
    DAYS,
    DB_URL,
    HOURS,
    KEYS,
    PATH,
    PINS,
    SECONDS,
    SECRET,
    TEXT,
    URL,
    VOLUME,
    Kind,
)
from kiosk.settings.paths import Paths, assets_dir, default_data_dir

if TYPE_CHECKING:
    from kiosk.security.retention import RetentionPolicy

T = TypeVar("T")

_META = "pn_kiosk_setting"


@dataclass(frozen=True)
class Declaration:
    """What the registry knows of one setting.

    ``name`` is the attribute of :class:`Settings`; ``key`` the ``section.name`` of the file;
    ``env`` the environment variable; ``option`` the command-line option that overrides both
    (``None`` for most); ``optional`` settings may be absent (``None``), and ``unset`` says in
    French what that means, for the listing.
    """

    name: str
    key: str
    env: str
    kind: Kind[Any]
    meaning: str
    option: str | None = None
    unset: str = ""
    secret: bool = False
    optional: bool = False

    @property
    def section(self) -> str:
        """The file's section (``[stockage]``…)."""
        return self.key.partition(".")[0]

    @property
    def option_dest(self) -> str | None:
        """The ``argparse`` attribute of :attr:`option` (``--data-dir`` → ``data_dir``)."""
        return self.option.lstrip("-").replace("-", "_") if self.option else None

    @property
    def names(self) -> str:
        """« stockage.base (PN_KIOSK_DB) », as messages name a setting."""
        return f"{self.key} ({self.env})"

    def default(self) -> Any:
        """The value when neither the command line, the environment nor the file gives one."""
        spec = {f.name: f for f in dataclasses.fields(Settings)}[self.name]
        if spec.default_factory is not dataclasses.MISSING:
            return spec.default_factory()
        return spec.default


@overload
def setting(
    key: str,
    env: str,
    kind: Kind[T],
    meaning: str,
    *,
    default: T,
    option: str | None = None,
) -> T: ...
@overload
def setting(
    key: str,
    env: str,
    kind: Kind[T],
    meaning: str,
    *,
    factory: Callable[[], T],
    option: str | None = None,
) -> T: ...
@overload
def setting(
    key: str,
    env: str,
    kind: Kind[T],
    meaning: str,
    *,
    unset: str,
    option: str | None = None,
    secret: bool = False,
) -> T | None: ...
def setting(
    key: str,
    env: str,
    kind: Kind[Any],
    meaning: str,
    *,
    default: Any = None,
    factory: Callable[[], Any] | None = None,
    option: str | None = None,
    unset: str = "",
    secret: bool = False,
) -> Any:
    """Declare one setting as a field of :class:`Settings` (its default: ``default``, the value
    ``factory`` returns, or ``None`` meaning what ``unset`` says)."""
    optional = factory is None and default is None
    meta = {_META: (key, env, kind, meaning, option, unset, secret, optional)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    # A secret never shows in a repr (a log line, a debugger, a failed test's output).
    return field(default=default, metadata=meta, repr=not secret)


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one kiosk process: built once at start, then only read.

    The composition root (``app/``) hands each object the values it needs as plain constructor
    arguments; nothing below it reads the environment or the file.
    """

    # [stockage]
    data_dir: Path = setting(
        "stockage.donnees",
        "PN_KIOSK_DATA_DIR",
        PATH,
        "Dossier des données de la borne : base, clés, pièces justificatives, reçus.",
        factory=default_data_dir,
        option="--data-dir",
    )
    database: Path | None = setting(
        "stockage.base",
        "PN_KIOSK_DB",
        PATH,
        "Fichier de la base de données (chiffrée) des dossiers.",
        unset="kiosk.sqlite3 dans le dossier des données",
        option="--db",
    )
    database_url: str | None = setting(
        "stockage.url",
        "PN_KIOSK_DB_URL",
        DB_URL,
        "Base partagée des guichets du site, sur son serveur PostgreSQL (postgresql://…,"
        " TLS par sslmode=verify-full ; docs/sites.md) : remplace alors stockage.base.",
        unset="base chiffrée de cette borne (stockage.base)",
        option="--db-url",
    )
    demarches_dir: Path = setting(
        "stockage.demarches",
        "PN_KIOSK_DEMARCHES_DIR",
        PATH,
        "Dossier des définitions de démarches livrées (fichiers TOML) ; celles reçues du service"
        " national en paquets signés s'y ajoutent (docs/sync.md).",
        factory=lambda: assets_dir() / "demarches",
    )
    db_key_file: Path | None = setting(
        "stockage.cle_base",
        "PN_KIOSK_DB_KEY_FILE",
        PATH,
        "Fichier de la clé de chiffrement de la base (docs/security.md).",
        unset="keys/db.key à côté de la base",
    )
    documents_key_file: Path | None = setting(
        "stockage.cle_documents",
        "PN_KIOSK_DOCUMENTS_KEY_FILE",
        PATH,
        "Fichier de la clé de chiffrement des pièces justificatives.",
        unset="keys/documents.key dans le dossier des données",
    )
    # [conservation]
    retention_decision_days: int = setting(
        "conservation.jours_apres_decision",
        "PN_KIOSK_RETENTION_DECISION_DAYS",
        DAYS,
        "Jours de conservation des données personnelles après la décision nationale.",
        default=30,
    )
    retention_draft_days: int = setting(
        "conservation.jours_sans_modification",
        "PN_KIOSK_RETENTION_DRAFT_DAYS",
        DAYS,
        "Jours de conservation d'un brouillon ou d'un dossier abandonné après sa dernière"
        " modification.",
        default=90,
    )
    purge_hours: float = setting(
        "conservation.purge_heures",
        "PN_KIOSK_PURGE_HOURS",
        HOURS,
        "Heures entre deux purges automatiques (0 : pas de purge automatique).",
        default=6.0,
    )
    # [peripheriques]
    printer: str | None = setting(
        "peripheriques.imprimante",
        "PN_KIOSK_PRINTER",
        TEXT,
        "Imprimante CUPS des récépissés.",
        unset="imprimante par défaut du système",
    )
    print_server: str | None = setting(
        "peripheriques.serveur_impression",
        "PN_KIOSK_PRINT_SERVER",
        TEXT,
        "Serveur CUPS où se trouve l'imprimante : hôte:port (celui du site), ou le chemin de sa"
        " socket (docs/devices.md).",
        unset="celui du système (CUPS_SERVER, /etc/cups/client.conf)",
    )
    reader: str | None = setting(
        "peripheriques.lecteur",
        "PN_KIOSK_READER",
        TEXT,
        "Lecteur de cartes sans contact (une partie de son nom).",
        unset="premier lecteur trouvé",
    )
    camera: str | None = setting(
        "peripheriques.camera",
        "PN_KIOSK_CAMERA",
        TEXT,
        "Caméra de document (son nom).",
        unset="caméra par défaut du système",
    )
    scan_dir: Path | None = setting(
        "peripheriques.numerisations",
        "PN_KIOSK_SCAN_DIR",
        PATH,
        "Dossier où le scanner dépose les numérisations.",
        unset="numerisations dans le dossier des données",
    )
    scanner: str | None = setting(
        "peripheriques.scanner",
        "PN_KIOSK_SCANNER",
        TEXT,
        "Scanner SANE dont la borne numérise elle-même (« Numériser ») : son nom tel que"
        " scanimage -L le donne (docs/devices.md).",
        unset="aucun : les numérisations arrivent par le dossier du scanner",
    )
    speech_volume: int = setting(
        "peripheriques.volume_lecture",
        "PN_KIOSK_SPEECH_VOLUME",
        VOLUME,
        "Volume de la lecture à voix haute (« Écouter »), en pourcentage, plafonné à 80 pour"
        " l'écoute au casque ; 0 la désactive (docs/accessibility.md).",
        default=50,
    )
    # [service_national]
    api_url: str = setting(
        "service_national.adresse",
        "PN_KIOSK_API_URL",
        URL,
        "Adresse du service national.",
        default="http://127.0.0.1:8750",
        option="--url",
    )
    api_client_id: str | None = setting(
        "service_national.identifiant",
        "PN_KIOSK_API_CLIENT_ID",
        TEXT,
        "Identifiant de la borne auprès du service national (fourni par la préfecture).",
        unset="non défini : les dossiers restent en file",
    )
    api_client_secret: str | None = setting(
        "service_national.secret",
        "PN_KIOSK_API_CLIENT_SECRET",
        SECRET,
        "Secret de la borne auprès du service national (jamais affiché).",
        unset="non défini : les dossiers restent en file",
        secret=True,
    )
    api_ca_file: Path | None = setting(
        "service_national.autorites",
        "PN_KIOSK_API_CA",
        PATH,
        "Fichier PEM des autorités de certification à croire pour le service national.",
        unset="magasin de certificats du système",
    )
    api_pins: tuple[str, ...] = setting(
        "service_national.empreintes",
        "PN_KIOSK_API_PINS",
        PINS,
        "Empreintes épinglées de la clé du serveur national (sha256/…).",
        default=(),
    )
    bundle_keys: tuple[str, ...] = setting(
        "service_national.cles_paquets",
        "PN_KIOSK_BUNDLE_KEYS",
        KEYS,
        "Clés publiques Ed25519 (base64) qui signent les mises à jour des démarches et des"
        " tarifs (docs/sync.md) ; la clé en service et la suivante. Sans clé, rien n'est"
        " installé depuis le réseau.",
        default=(),
    )
    sync_backoff_base: float = setting(
        "service_national.attente_initiale",
        "PN_KIOSK_SYNC_BACKOFF_BASE",
        SECONDS,
        "Secondes d'attente avant le premier nouvel essai d'envoi.",
        default=1.0,
    )
    sync_backoff_cap: float = setting(
        "service_national.attente_maximale",
        "PN_KIOSK_SYNC_BACKOFF_CAP",
        SECONDS,
        "Secondes entre deux essais quand le service ne répond plus : au plus tant qu'il n'a"
        " pas dit sa taille, au moins ensuite (une grande flotte essaie moins souvent).",
        default=60.0,
    )

    @property
    def paths(self) -> Paths:
        """The files this kiosk works with (the defaults derived from the data directory)."""
        return Paths.resolve(
            data_dir=self.data_dir,
            database=self.database,
            demarches_dir=self.demarches_dir,
            db_key_file=self.db_key_file,
            documents_key_file=self.documents_key_file,
            database_url=self.database_url,
            audit_chain=self.api_client_id,
        )

    @property
    def scan_folder(self) -> Path:
        """Where the scanner's files are looked for."""
        return self.scan_dir or self.data_dir / "numerisations"

    def retention_policy(self) -> RetentionPolicy:
        """How long personal data is kept (kiosk/security/retention.py)."""
        from datetime import timedelta

        from kiosk.security.retention import RetentionPolicy

        return RetentionPolicy(
            after_decision=timedelta(days=self.retention_decision_days),
            after_inactivity=timedelta(days=self.retention_draft_days),
        )

    def effective(self, name: str) -> Any:
        """The value in force for the setting ``name``, an absent path replaced by the one the
        kiosk derives (the listing shows where the database really is, not « non défini »)."""
        derived: dict[str, Callable[[], Any]] = {
            "database": lambda: self.paths.database,
            "db_key_file": lambda: self.paths.db_key_file,
            "documents_key_file": lambda: self.paths.documents_key_file,
            "scan_dir": lambda: self.scan_folder,
        }
        value = getattr(self, name)
        if value is None and name in derived:
            return derived[name]()
        return value


def _declarations() -> tuple[Declaration, ...]:
    found = []
    for spec in dataclasses.fields(Settings):
        found.append(Declaration(spec.name, *spec.metadata[_META]))
    return tuple(found)


#: Every setting, in the order of the file and of the listing.
SETTINGS: tuple[Declaration, ...] = _declarations()
#: The same, by ``section.name`` key.
BY_KEY: dict[str, Declaration] = {d.key: d for d in SETTINGS}
#: The same, by attribute name.
BY_NAME: dict[str, Declaration] = {d.name: d for d in SETTINGS}
#: The file's sections.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(d.section for d in SETTINGS))
