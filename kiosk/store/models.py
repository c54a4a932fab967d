"""SQLAlchemy 2 models of the local store.

A dossier owns its snapshot of the person (usager), the vehicle, the mandate and the supporting
documents: each dossier is purged on its own once the national service has answered, so nothing
is shared between dossiers. Answers are kept field by field (one row per path) so that an autosave
writes one small row. The event journal is append-only; triggers created by the migrations refuse
any UPDATE or DELETE on it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kiosk.store.types import JSONText, UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of every table of the kiosk store."""


class Agent(Base):
    """A counter agent, identified at sign-in."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifiant: Mapped[str] = mapped_column(String(64), unique=True)
    nom: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    actif: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Consecutive wrong PINs since the last success, and the end of the current lockout
    # (kiosk/security/agents.py: 30 s after the third, doubling up to one hour).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (CheckConstraint("role IN ('agent', 'superviseur')", name="agent_role"),)


class Dossier(Base):
    """One démarche for one person, from the first answer to the national service's decision."""

    __tablename__ = "dossier"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID, the idempotency key
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    demarche_id: Mapped[str] = mapped_column(String(64))
    demarche_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    routage: Mapped[str] = mapped_column(String(32), default="standard")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), default=None)
    national_number: Mapped[str | None] = mapped_column(String(64), default=None)
    state_reason: Mapped[str | None] = mapped_column(Text, default=None)
    contact_mode: Mapped[str | None] = mapped_column(String(16), default=None)
    training: Mapped[bool] = mapped_column(default=False)
    # Set when the retention rules erased the person's data (kiosk/security/retention.py).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When the person agreed to be contacted about this dossier by ``contact_mode`` (0007).
    contact_consent_at: Mapped[datetime | None] = mapped_column(
        "consentement_contact_at", UTCDateTime(), default=None
    )

    usager: Mapped[Usager | None] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", uselist=False
    )
    vehicule: Mapped[Vehicule | None] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", uselist=False
    )
    mandat: Mapped[Mandat | None] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", uselist=False
    )
    answers: Mapped[list[Answer]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan"
    )
    pieces: Mapped[list[Piece]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(
            "state IN ('brouillon', 'pret', 'en_file', 'transmis', 'accepte', 'refuse',"
            " 'a_completer', 'abandonne', 'attente_paiement', 'paye')",
            name="dossier_state",
        ),
        # 0007: the worklist reads states from these alone (kiosk/followup/worklist.py).
        Index("ix_dossier_suivi", "state", "purged_at", "id"),
        Index("ix_dossier_purge", "id", "purged_at"),
        # 0008: a search orders the dossiers it matched by this alone (kiosk/dossiers/search.py).
        Index("ix_dossier_recent", "id", "updated_at"),
    )


class Usager(Base):
    """The person the dossier is for. ``nom_norm`` is the search key (upper case, no accents)."""

    __tablename__ = "usager"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    nom: Mapped[str | None] = mapped_column(String(200), default=None)
    prenoms: Mapped[str | None] = mapped_column(String(200), default=None)
    nom_norm: Mapped[str | None] = mapped_column(String(200), default=None)
    prenoms_norm: Mapped[str | None] = mapped_column(String(200), default=None)
    date_naissance: Mapped[date | None] = mapped_column(default=None)
    lieu_naissance: Mapped[str | None] = mapped_column(String(200), default=None)
    telephone: Mapped[str | None] = mapped_column(String(32), default=None)
    adresse: Mapped[Any] = mapped_column(JSONText(), nullable=True, default=None)
    email: Mapped[str | None] = mapped_column(
        String(254), default=None
    )  # optional, never asked for

    dossier: Mapped[Dossier] = relationship(back_populates="usager")

    __table_args__ = (
        # 0008: a search by name reads the dossiers it matches from the index alone; on
        # PostgreSQL the keys compare byte by byte for ``LIKE 'MART%'`` whatever the server's
        # locale (kiosk/dossiers/search.py).
        Index(
            "ix_usager_nom",
            "nom_norm",
            "prenoms_norm",
            "dossier_id",
            postgresql_ops={"nom_norm": "text_pattern_ops", "prenoms_norm": "text_pattern_ops"},
        ),
    )


class Vehicule(Base):
    """The vehicle concerned. ``immatriculation_norm`` keeps letters and digits only, for search."""

    __tablename__ = "vehicule"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    immatriculation: Mapped[str | None] = mapped_column(String(16), default=None)
    immatriculation_norm: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    vin: Mapped[str | None] = mapped_column(String(17), default=None, index=True)
    marque: Mapped[str | None] = mapped_column(String(100), default=None)
    date_premiere_immatriculation: Mapped[date | None] = mapped_column(default=None)

    dossier: Mapped[Dossier] = relationship(back_populates="vehicule")


class Mandat(Base):
    """Who acts for the person (the agent, a relative, a professional) and the consent given."""

    __tablename__ = "mandat"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    mandataire_nom: Mapped[str | None] = mapped_column(String(200), default=None)
    mandataire_prenoms: Mapped[str | None] = mapped_column(String(200), default=None)
    qualite: Mapped[str | None] = mapped_column(String(100), default=None)
    texte_version: Mapped[str | None] = mapped_column(String(32), default=None)
    texte_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    valid_until: Mapped[date | None] = mapped_column(default=None)
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # 0007: what the mandate covers (None: this dossier's démarche; "theme:<theme>"), the
    # duration chosen with the person, and its revocation at a counter.
    portee: Mapped[str | None] = mapped_column(String(64), default=None)
    duree_jours: Mapped[int | None] = mapped_column(Integer, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_by: Mapped[int | None] = mapped_column(Integer, default=None)

    dossier: Mapped[Dossier] = relationship(back_populates="mandat")


class Answer(Base):
    """One answer to one field of the démarche; ``path`` is ``field`` or ``group[i].field``."""

    __tablename__ = "answer"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONText())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    dossier: Mapped[Dossier] = relationship(back_populates="answers")


class Piece(Base):
    """A supporting document: required by the démarche, then provided (with its file) or not."""

    __tablename__ = "piece"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    item_path: Mapped[str | None] = mapped_column(String(200), default=None)  # e.g. coheritiers[1]
    label: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="manquante")
    file_path: Mapped[str | None] = mapped_column(String(500), default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    mime_type: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    dossier: Mapped[Dossier] = relationship(back_populates="pieces")

    __table_args__ = (
        CheckConstraint("status IN ('manquante', 'fournie')", name="piece_status"),
        Index("ix_piece_dossier", "dossier_id"),
    )


class Event(Base):
    """An entry of the append-only journal: every creation and state change of a dossier."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str | None] = mapped_column(String(16), default=None)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), default=None)
    detail: Mapped[Any] = mapped_column(JSONText(), nullable=True, default=None)


class Setting(Base):
    """Kiosk-wide settings and secrets (e.g. the receipt verification key)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SiteDocument(Base):
    """A supporting document of a site's shared store, sealed as a lone kiosk's files are
    (kiosk/store/documents.py): the server holds ciphertext only."""

    __tablename__ = "document_site"

    nom: Mapped[str] = mapped_column(String(100), primary_key=True)
    contenu: Mapped[bytes] = mapped_column(LargeBinary)
    cree_le: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxItem(Base):
    """One submission of a dossier to the national service, written with the « en file » change.

    ``state``: ``en_attente`` (to send), ``envoi`` (marked *before* each request, so a crash never
    makes it look sent), ``acquitte`` (the server acknowledged it: the only way to get here) or
    ``rejete`` (refused as invalid, the dossier went back to the counter). ``next_attempt_at`` is
    both the per-item backoff and the lease of the worker sending it. See docs/sync.md.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # 1 for the first filing, 2… after « à compléter »
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="en_attente")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    national_number: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: SHA-256 of « reference, newline, receipt code », filed so that any kiosk can follow the
    #: dossier from its receipt; fixed when queued (a resend is byte for byte), None for rows
    #: an earlier version queued.
    verificateur: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        CheckConstraint(
            "state IN ('en_attente', 'envoi', 'acquitte', 'rejete')", name="outbox_state"
        ),
        UniqueConstraint("dossier_id", "seq", name="uq_outbox_dossier_seq"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )


class NationalNotice(Base):
    """A decision of the national service that the agent must pass on to the person.

    Written in the same transaction as the dossier's state change; ``contacted_at`` is set once
    the agent has called or written to the person.
    """

    __tablename__ = "avis_national"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # 0007: the typed reasons (kiosk/followup/reasons.py, JSON) and the day to answer by.
    reasons: Mapped[Any] = mapped_column("motifs", JSONText(), nullable=True, default=None)
    deadline: Mapped[date | None] = mapped_column("date_limite", default=None)

    __table_args__ = (
        Index("ix_avis_national_todo", "contacted_at", "at"),
        Index("ix_avis_national_dossier", "dossier_id", "id"),
    )


class NationalDocument(Base):
    """A document the national service issued for a dossier (provisional certificate, decision
    letter): announced by the decisions feed, fetched later, stored encrypted like a piece."""

    __tablename__ = "document_national"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    notice_id: Mapped[int | None] = mapped_column(
        "avis_id", ForeignKey("avis_national.id", ondelete="SET NULL"), default=None
    )
    remote_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    file_path: Mapped[str | None] = mapped_column(String(500), default=None)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (UniqueConstraint("dossier_id", "remote_id", name="uq_document_national"),)


class ContactAttempt(Base):
    """One attempt to reach the person about their dossier: a call, a letter, a text message,
    a visit to the counter; with its outcome and the agent who made it."""

    __tablename__ = "tentative_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    notice_id: Mapped[int | None] = mapped_column(
        "avis_id", ForeignKey("avis_national.id", ondelete="SET NULL"), default=None
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    agent_id: Mapped[int | None] = mapped_column(Integer, default=None)
    channel: Mapped[str] = mapped_column(String(16))  # telephone, sms, courrier, guichet
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (Index("ix_tentative_contact_dossier", "dossier_id", "at"),)


class Notification(Base):
    """A text message for the person, sent once through the national notification endpoint."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    notice_id: Mapped[int | None] = mapped_column(
        "avis_id", ForeignKey("avis_national.id", ondelete="SET NULL"), default=None
    )
    channel: Mapped[str] = mapped_column(String(8))  # "sms"
    template: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    remote_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        CheckConstraint(
            "state IN ('en_attente', 'envoi', 'acquitte', 'rejete')", name="notification_state"
        ),
        Index("ix_notification_due", "state", "next_attempt_at"),
    )


class AuditEntry(Base):
    """An entry of the hash-chained security journal (kiosk/security/audit.py); never personal data.

    ``detail`` is kept as the exact canonical JSON text that was hashed, so that verifying the
    chain never depends on how a JSON library re-serialises a value. Triggers created by the
    migration refuse any UPDATE or DELETE.
    """

    __tablename__ = "audit"
    # 0011: one chain per counter of a site store, keyed by (chain, seq). Without a rowid on
    # SQLite: the key is the table's own order, so it costs no index page of its own.
    __table_args__ = ({"sqlite_with_rowid": False},)

    #: The chain the entry belongs to: « » for a lone kiosk's store (and every entry written
    #: before 0011), the counter's identifier on a site store (kiosk/security/audit.py), so
    #: that counters saving at once never wait for one another's journal.
    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    agent_id: Mapped[int | None] = mapped_column(Integer, default=None)
    action: Mapped[str] = mapped_column(String(32))
    dossier_ref: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    detail: Mapped[str] = mapped_column(Text)
    # Not unique (migration 0010): a fork, two entries naming one predecessor, would give two
    # entries one ``seq``, which the primary key refuses; the chain check reports any other.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Estimation(Base):
    """What a dossier costs, kept when it is filed, and the amount the national service says due.

    The estimate is written with the « en file » change (kiosk/dossiers/lifecycle.py) and shown
    from then on instead of a recomputation: a tariff published later never changes it. Lines,
    missing inputs and note are kept as French templates with their parameters
    (kiosk/fees/kept.py), so that they read in the person's language. ``amount_due_cents`` comes
    with the national service's acknowledgement and is the amount actually due. A dossier filed
    before this table existed may have the amount due only (``computed_at`` NULL).
    """

    __tablename__ = "estimation"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    #: The tariff used (its ``version``: the day it came into force); None: none was in force.
    tariff_version: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The day the fees were estimated for (the counter's day of the first filing).
    fees_on: Mapped[date | None] = mapped_column(default=None)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: False: the démarche is not estimated by the kiosk (a cas complexe).
    estimated: Mapped[bool] = mapped_column(Boolean, default=True)
    lines: Mapped[Any] = mapped_column(JSONText(), nullable=True, default=None)
    missing: Mapped[Any] = mapped_column(JSONText(), nullable=True, default=None)
    note: Mapped[Any] = mapped_column(JSONText(), nullable=True, default=None)
    total_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    amount_due_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    amount_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Payment(Base):
    """A timbre fiscal électronique given for a dossier, and what the national service said of it.

    Sent like a filing (kiosk/dossiers/payment.py, docs/fees.md « Payer »): ``en_attente`` (to
    send, kept while offline or until the filing is acknowledged), ``envoi`` (marked and
    committed *before* each request: a crash never makes it look sent, and the retry carries the
    same ``idempotency_key``, so the service consumes the timbre once), then ``accepte`` or
    ``refuse`` (unknown, already used: ``message`` says why, in French). ``next_attempt_at`` is
    the row's backoff and the lease of the worker sending it.
    """

    __tablename__ = "paiement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    timbre: Mapped[str] = mapped_column(String(16))  # the 16 digits, normalised
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="en_attente")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    agent_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The timbre's value and what the dossier still owes after it, as the service said.
    amount_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    remaining_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        CheckConstraint(
            "state IN ('en_attente', 'envoi', 'accepte', 'refuse')", name="paiement_state"
        ),
        Index("ix_paiement_due", "state", "next_attempt_at"),
    )


class PaymentReference(Base):
    """The reference the national service gave a dossier's payment (« paiement de proximité »):
    printed on the receipt with its QR code, so that anyone can pay later."""

    __tablename__ = "reference_paiement"

    dossier_id: Mapped[str] = mapped_column(
        ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    reference: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(Integer)
    #: What the QR code carries: the address where the reference is paid from a phone.
    url: Mapped[str] = mapped_column(Text)
    obtained_at: Mapped[datetime] = mapped_column(UTCDateTime())
