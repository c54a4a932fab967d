"""The security journal: who did what, when, chained by SHA-256 so that tampering shows.

Every entry holds a sequence number, the UTC time, the agent (if known), an action, the dossier
reference (if any) and a small JSON detail that never holds personal data: the path of an
answer, never its value; a state, never the reason typed by someone. ``hash`` is the SHA-256 of
a canonical encoding of the entry *including* ``prev_hash``, the hash of the entry before it
(64 zeros for the first), so changing, removing or reordering an entry breaks a link.

Triggers refuse UPDATE and DELETE on the table, which stops every code path and maintenance
script; :func:`verify` is for the attacker who edits the raw file. What a hash chain cannot
show on its own is a chain rewritten from the tampered entry to the end, or its last entries cut
off: that takes an anchor kept elsewhere (the head hash noted by a supervisor, see
docs/security.md).

:func:`record` writes inside the caller's transaction, so an action and its audit entry commit
together. The caller's transaction is a write one (``BEGIN IMMEDIATE`` on SQLite; on a site's
PostgreSQL store, one holding the site's writer lock, or an autosave holding its counter's
chain, kiosk/store/site.py, which :func:`record` makes sure of): reading the last hash there
means two writers can never both chain onto the same entry, nor lose one. Should one ever try,
the primary key stops it: an entry's ``seq`` is its predecessor's plus one, so two entries
chained onto the same one would share a key (``hash`` and ``prev_hash`` need no unique index
of their own, migration 0010; an entry chained onto an older one under a new number is a break
:func:`verify_rows` reports).

**Chains** (migration 0011). A lone kiosk's journal is one chain, named « ». On a site store
each counter appends to a chain of its own, named by its identifier at the national service,
so that counters saving at once never wait for one another's journal (issue 17); the entries
written before 0011 stay in the chain « », closed. An entry of a named chain hashes the chain's
name too (format 2): moved to another chain, it no longer verifies. :meth:`AuditLog.verify`
walks each chain on its own; the « empreinte finale » a supervisor notes is the last entry's
hash when there is one chain, as before, and otherwise the SHA-256 of every chain's name, count
and last hash: a chain cut short, or removed whole, changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from kiosk.store.engine import Store
from kiosk.store.models import AuditEntry
from kiosk.store.portable import param, table_of
from kiosk.store.prepared import Prepared, Unit
from kiosk.store.site import hold_journal

GENESIS = "0" * 64
_FORMAT = 1  # part of every hashed payload: a future encoding will be told apart
_FORMAT_CHAINS = 2  # an entry of a named chain (migration 0011): its chain's name is hashed too
_MAX_REPORTED = 20  # a wholesale rewrite is one message per entry: stop describing after this


class AuditAction(StrEnum):
    """What an entry records; the values are stored."""

    SIGN_IN_OK = "connexion"
    SIGN_IN_FAILED = "connexion_refusee"
    AGENT_LOCKED = "agent_bloque"
    AGENT_UNLOCKED = "agent_debloque"
    AGENT_CREATED = "agent_cree"
    AGENT_DISABLED = "agent_desactive"
    AGENT_PIN_REHASHED = "agent_pin_rehache"
    DOSSIER_CREATED = "dossier_cree"
    DOSSIER_VIEWED = "dossier_consulte"
    DOSSIER_CHANGED = "dossier_modifie"
    STATE_CHANGED = "etat_change"
    RECEIPT_PRINTED = "recepisse_imprime"
    MANDATE_SIGNED = "mandat_signe"
    MANDATE_REVOKED = "mandat_revoque"
    IDENTITY_READ = "identite_lue"
    PURGED = "dossier_purge"
    SETTINGS_CHANGED = "reglages_modifies"
    UPDATE_INSTALLED = "paquet_installe"
    UPDATE_REFUSED = "paquet_refuse"
    KIOSK_REVOKED = "borne_revoquee"
    KIOSK_LEFT = "borne_quittee"
    OTHER = "evenement"

    @property
    def label(self) -> str:
        """How the journal reads to a supervisor."""
        return _LABELS[self]


_LABELS = {
    AuditAction.SIGN_IN_OK: "connexion réussie",
    AuditAction.SIGN_IN_FAILED: "connexion refusée",
    AuditAction.AGENT_LOCKED: "agent bloqué",
    AuditAction.AGENT_UNLOCKED: "agent débloqué",
    AuditAction.AGENT_CREATED: "agent créé",
    AuditAction.AGENT_DISABLED: "agent désactivé",
    AuditAction.AGENT_PIN_REHASHED: "empreinte du code PIN renouvelée",
    AuditAction.DOSSIER_CREATED: "dossier créé",
    AuditAction.DOSSIER_VIEWED: "dossier consulté",
    AuditAction.DOSSIER_CHANGED: "dossier modifié",
    AuditAction.STATE_CHANGED: "changement d'état",
    AuditAction.RECEIPT_PRINTED: "récépissé imprimé",
    AuditAction.MANDATE_SIGNED: "mandat signé",
    AuditAction.MANDATE_REVOKED: "mandat révoqué",
    AuditAction.IDENTITY_READ: "identité lue",
    AuditAction.PURGED: "données personnelles effacées",
    AuditAction.SETTINGS_CHANGED: "réglages modifiés",
    AuditAction.UPDATE_INSTALLED: "mise à jour des démarches ou des tarifs installée",
    AuditAction.UPDATE_REFUSED: "mise à jour des démarches ou des tarifs refusée",
    AuditAction.KIOSK_REVOKED: "borne révoquée",
    AuditAction.KIOSK_LEFT: "borne quittée pour la maintenance",
    AuditAction.OTHER: "événement",
}

#: The only keys a detail may carry. An allow-list, not a deny-list: a new key is a decision
#: ("is this personal data?") taken here, not a value that slips in from a call site.
DETAIL_KEYS = frozenset(
    {
        "champ",  # the path of an answer (« usager.nom »), never its value
        "groupe",
        "retire",
        "piece",  # the kind of a document
        "demarche",
        "version",
        "de",
        "vers",
        "pages",
        "verdict",
        "protocole",
        "puce_verifiee",
        "fichiers",
        "etat",
        "role",
        "echecs",
        "delai_s",
        "avertissement_s",  # an inactivity warning's count-down chosen by a supervisor
        "inconnu",
        "par",
        "evenement",
        "reglage",  # the name of a setting changed (« guichet »), not its value
        "canal",  # how the person was contacted (« courrier »), never the address or number
        "resultat",  # what came of a contact attempt (« injoignable »)
        "enrolement",  # an enrolment code's public id, never its secret (kiosk/enrolment/)
        # A signed bundle of the national service (kiosk/sync/bundles.py): its kind
        # (« demarches »), serial, signing key's id and, when refused, why; national data, no
        # one's.
        "paquet",
        "serie",
        "cle",
        "motif",
        "borne",  # a kiosk's identifier at the national service (a revoked tablet)
    }
)
_SCALARS = (str, int, float, bool, type(None))
_MAX_TEXT = 200  # an answer path is at most 200 characters (answer.path)


def _timestamp(at: datetime) -> str:
    # The same text as kiosk.store.types.UTCDateTime stores: the hash covers the stored bytes.
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_detail(detail: Mapping[str, Any] | None) -> str:
    """The detail as stored and hashed: compact JSON, keys sorted, scalars only.

    Raises:
        ValueError: a key outside :data:`DETAIL_KEYS` or a non-scalar value (a programming error).
    """
    values = dict(detail or {})
    for key, value in values.items():
        if key not in DETAIL_KEYS:
            raise ValueError(f"audit detail key not allowed: {key!r}")
        if not _short_scalar(value):
            raise ValueError(f"audit detail value not allowed for {key!r}")
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def safe_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """Only the allowed keys with short scalar values (for details coming from outside)."""
    return {k: v for k, v in detail.items() if k in DETAIL_KEYS and _short_scalar(v)}


def _short_scalar(value: object) -> bool:
    return isinstance(value, _SCALARS) and not (isinstance(value, str) and len(value) > _MAX_TEXT)


def entry_hash(fields: tuple[object, ...], chain: object = "") -> str:
    """SHA-256 (hex) of the canonical encoding of one entry, its ``prev_hash`` included.

    ``fields`` are ``(seq, at, agent_id, action, dossier_ref, detail, prev_hash)`` as stored,
    so that a value an attacker gave another type (a number as text) changes the hash too. An
    entry of a named chain (a site's counter) hashes the chain's name first, as stored.
    """
    head: list[object] = [_FORMAT] if chain == "" else [_FORMAT_CHAINS, chain]
    payload = json.dumps([*head, *fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_AUDIT = table_of(AuditEntry)
_HEAD = Prepared(
    lambda _: (
        select(_AUDIT.c.seq, _AUDIT.c.hash)
        .where(_AUDIT.c.chain == param(_AUDIT.c.chain))
        .order_by(_AUDIT.c.seq.desc())
        .limit(1)
    )
)
_APPEND = Prepared(
    lambda _: insert(_AUDIT).values(
        {column: bindparam(column.name, type_=column.type) for column in _AUDIT.columns}
    )
)


def record(
    session: Unit,
    action: AuditAction,
    *,
    at: datetime,
    agent_id: int | None = None,
    dossier_ref: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry in the caller's write transaction; returns its sequence number.

    Costs one indexed SELECT and one INSERT, both compiled once (kiosk/store/prepared.py):
    each autosave writes one entry.
    """
    chain = hold_journal(session)
    last = _HEAD.first(session, chain=chain)
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    stamp = _timestamp(at)
    detail_text = canonical_detail(detail)
    digest = entry_hash(
        (seq, stamp, agent_id, action.value, dossier_ref, detail_text, prev_hash), chain
    )
    _APPEND.execute(
        session,
        chain=chain,
        seq=seq,
        at=at,
        agent_id=agent_id,
        action=action.value,
        dossier_ref=dossier_ref,
        detail=detail_text,
        prev_hash=prev_hash,
        hash=digest,
    )
    return seq


@dataclass(frozen=True)
class Entry:
    """One journal entry, as ``kiosk audit show`` prints it."""

    seq: int
    at: datetime
    agent_id: int | None
    action: str
    dossier_ref: str | None
    detail: dict[str, Any]
    hash: str
    #: The chain it belongs to: « » for a lone kiosk, a counter's identifier on a site store.
    chain: str = ""

    @property
    def number(self) -> str:
        """How the entry is named: « n° 12 », or on a counter's chain « borne-2 n° 12 »."""
        return f"{self.chain} n° {self.seq}" if self.chain else f"n° {self.seq}"

    @property
    def label(self) -> str:
        """The action in French (the stored value if this version does not know it)."""
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "chaine": self.chain,
            "numero": self.seq,
            "date": _timestamp(self.at),
            "agent": self.agent_id,
            "action": self.action,
            "dossier": self.dossier_ref,
            "detail": self.detail,
            "empreinte": self.hash,
        }


@dataclass(frozen=True)
class ChainBreak:
    """One place where the chain does not hold. ``kind``: modifiee, supprimee, ordre or
    fourche (two entries chained onto the same one)."""

    kind: str
    position: int  # the sequence number of the row where the break shows
    message: str


@dataclass(frozen=True)
class ChainHead:
    """One chain of the journal as walked: its name, its entries and its last hash."""

    name: str
    count: int
    head: str


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain (or every chain, see :meth:`AuditLog.verify`)."""

    count: int
    head: str
    breaks: tuple[ChainBreak, ...]
    unreported: int = 0
    chains: tuple[ChainHead, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every entry is intact and in place."""
        return not self.breaks

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json``."""
        return {
            "ok": self.ok,
            "entrees": self.count,
            "empreinte_finale": self.head,
            "ruptures": [
                {"type": b.kind, "position": b.position, "message": b.message} for b in self.breaks
            ],
            "ruptures_non_detaillees": self.unreported,
            "chaines": [
                {"chaine": c.name, "entrees": c.count, "empreinte_finale": c.head}
                for c in self.chains
            ],
        }


@dataclass(frozen=True)
class _Row:
    seq: Any
    at: Any
    agent_id: Any
    action: Any
    dossier_ref: Any
    detail: Any
    prev_hash: Any
    hash: Any
    chain: Any = ""

    def hash_at(self, seq: object) -> str:
        return entry_hash(
            (
                seq,
                self.at,
                self.agent_id,
                self.action,
                self.dossier_ref,
                self.detail,
                self.prev_hash,
            ),
            self.chain,
        )


def _original_seq(row: _Row, candidates: range) -> int | None:
    """The sequence number under which the row's content still matches its hash, if any.

    An entry moved (its number changed) still verifies under its old number: that tells a
    reordered or renumbered entry from a modified one.
    """
    if row.hash_at(row.seq) == row.hash:
        return int(row.seq) if isinstance(row.seq, int) else None
    for seq in candidates:
        if seq != row.seq and row.hash_at(seq) == row.hash:
            return seq
    return None


def _deleted(before: int, after: int) -> str:
    if before == 0:
        return f"entrée(s) supprimée(s) avant le n° {after}"
    if after - before == 2:
        return f"entrée n° {before + 1} supprimée (entre le n° {before} et le n° {after})"
    return f"entrées supprimées entre le n° {before} et le n° {after}"


def _forked(row: _Row, first: _Row, origin: list[int | None], position_of: dict[Any, int]) -> str:
    """What a fork looks like: ``row`` chained onto the entry ``first`` already follows."""
    if row.prev_hash == GENESIS:
        return (
            f"fourche : l'entrée n° {row.seq} commence le journal, déjà commencé par l'entrée"
            f" n° {first.seq}"
        )
    known = position_of.get(row.prev_hash)
    before = origin[known] if known is not None else None
    if before is None:
        return f"fourche : l'entrée n° {row.seq} suit la même entrée que l'entrée n° {first.seq}"
    return (
        f"fourche : l'entrée n° {row.seq} suit l'entrée n° {before}, déjà suivie par l'entrée"
        f" n° {first.seq}"
    )


def verify_rows(raw_rows: list[tuple[Any, ...]], chain: object = "") -> Verification:
    """Walk one chain's rows ``(seq, at, agent_id, action, dossier_ref, detail, prev_hash,
    hash)`` in order."""
    rows = [
        _Row(seq, at, agent, action, ref, detail, prev, digest, chain)
        for seq, at, agent, action, ref, detail, prev, digest in raw_rows
    ]
    top = max((r.seq for r in rows if isinstance(r.seq, int)), default=0)
    candidates = range(1, top + len(rows) + 2)
    origin: list[int | None] = []
    searched = 0
    for row in rows:
        # Searching a moved entry's old number costs one hash per candidate: only for the first
        # few mismatches, so that a wholesale rewrite stays linear.
        own = row.hash_at(row.seq) == row.hash
        origin.append(_original_seq(row, candidates if searched < _MAX_REPORTED else range(0)))
        searched += not own
    position_of: dict[Any, int] = {r.hash: i for i, r in enumerate(rows)}
    breaks: list[ChainBreak] = []
    unreported = 0

    def report(kind: str, position: Any, message: str) -> None:
        nonlocal unreported
        if len(breaks) < _MAX_REPORTED:
            breaks.append(ChainBreak(kind, position if isinstance(position, int) else -1, message))
        else:
            unreported += 1

    #: The first row, in order, chained onto each hash: a second one is a fork of the chain
    #: (no unique index refuses it in the schema since migration 0010; the kiosk's writers
    #: never make one, two entries chained onto the same one would share a number).
    follower: dict[Any, int] = {}
    for i, row in enumerate(rows):
        orig = origin[i]
        if orig is None:
            report("modifiee", row.seq, f"l'entrée n° {row.seq} a été modifiée")
            continue
        first = follower.setdefault(row.prev_hash, i)
        if first != i:
            report("fourche", row.seq, _forked(row, rows[first], origin, position_of))
            continue
        if row.prev_hash == (rows[i - 1].hash if i else GENESIS):
            continue  # linked to the row before it (perhaps renumbered along with it)
        before = origin[i - 1] if i else 0
        if before is None:
            continue  # the row before is already reported as modified
        if row.prev_hash == GENESIS or row.prev_hash in position_of:
            if orig == row.seq:
                continue  # in its place: the row before it moved, and is reported
            was_after = 0 if row.prev_hash == GENESIS else origin[position_of[row.prev_hash]]
            where = f"le n° {was_after}" if was_after else "le début du journal"
            now = f"le n° {before}" if before else "le début du journal"
            report(
                "ordre",
                row.seq,
                f"ordre modifié : l'entrée n° {orig} a été déplacée en position {row.seq}"
                f" (elle suivait {where}, elle suit maintenant {now})",
            )
        elif orig - before >= 2:
            report("supprimee", row.seq, _deleted(before, orig))
        else:
            # Its predecessor is in place but no longer hashes to what this entry recorded:
            # the predecessor was changed and its own hash recomputed.
            report("modifiee", rows[i - 1].seq, f"l'entrée n° {before} a été modifiée")
    head = str(rows[-1].hash) if rows else GENESIS
    return Verification(len(rows), head, tuple(breaks), unreported)


def verify_chains(raw_rows: list[tuple[Any, ...]]) -> Verification:
    """Walk rows ``(chain, seq, at, agent_id, action, dossier_ref, detail, prev_hash, hash)``
    ordered by chain then number: each chain on its own, the breaks of a counter's chain named
    by it (« borne-2 : l'entrée n° 4 a été modifiée »)."""
    walked: list[tuple[str, Verification]] = []
    for name, rows in groupby(raw_rows, key=lambda r: r[0]):
        walked.append((str(name), verify_rows([r[1:] for r in rows], name)))
    if not walked:
        walked = [("", verify_rows([]))]
    breaks: list[ChainBreak] = []
    unreported = 0
    for name, result in walked:
        for b in result.breaks:
            if len(breaks) >= _MAX_REPORTED:
                unreported += 1
            else:
                breaks.append(b if not name else replace(b, message=f"{name} : {b.message}"))
        unreported += result.unreported
    chains = tuple(ChainHead(name, result.count, result.head) for name, result in walked)
    if [c.name for c in chains] == [""]:
        head = chains[0].head  # one chain, as before 0011: the anchor noted then still holds
    else:
        listed = [[c.name, c.count, c.head] for c in chains]
        payload = json.dumps([_FORMAT_CHAINS, listed], ensure_ascii=False, separators=(",", ":"))
        head = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    count = sum(c.count for c in chains)
    return Verification(count, head, tuple(breaks), unreported, chains)


class AuditLog:
    """Reads and checks the journal; records actions that have no transaction of their own."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(
        self,
        action: AuditAction,
        *,
        agent_id: int | None = None,
        dossier_ref: str | None = None,
        detail: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> int:
        """Append one entry in a transaction of its own."""
        with self._store.write() as s:
            return record(
                s,
                action,
                at=at or datetime.now(UTC),
                agent_id=agent_id,
                dossier_ref=dossier_ref,
                detail=detail,
            )

    def entries(self, *, limit: int = 20, dossier_ref: str | None = None) -> list[Entry]:
        """The last ``limit`` entries, oldest first (every chain's, in the order of time)."""
        with self._store.read() as s:
            rows: list[AuditEntry] = []
            for chain in s.execute(_CHAINS).scalars():
                query = (
                    select(AuditEntry)
                    .where(AuditEntry.chain == chain)
                    .order_by(AuditEntry.seq.desc())
                    .limit(limit)
                )
                if dossier_ref is not None:
                    query = query.where(AuditEntry.dossier_ref == dossier_ref)
                rows += s.scalars(query).all()
            rows.sort(key=lambda r: (r.at, r.chain, r.seq))
            return [
                Entry(
                    seq=r.seq,
                    at=r.at,
                    agent_id=r.agent_id,
                    action=r.action,
                    dossier_ref=r.dossier_ref,
                    detail=json.loads(r.detail),
                    hash=r.hash,
                    chain=r.chain,
                )
                for r in rows[-limit:]
                if limit > 0
            ]

    def verify(self) -> Verification:
        """Walk every chain (raw column values: a tampered row must not fail to parse).

        The whole file is checked first: a chain read from a damaged database is no proof.

        Raises:
            StoreDamaged: a page of the database does not authenticate or the file is cut.
        """
        self._store.check()
        with self._store.read() as s:
            rows = s.execute(
                text(
                    "SELECT chain, seq, at, agent_id, action, dossier_ref, detail, prev_hash,"
                    " hash FROM audit ORDER BY chain, seq"
                )
            ).all()
        return verify_chains([tuple(r) for r in rows])


#: The journal's chains, each found through the primary key (a loose index scan: one lookup per
#: chain, however long the chains are).
_CHAINS = text(
    "WITH RECURSIVE chains(name) AS ("
    " SELECT min(chain) FROM audit"
    " UNION ALL SELECT (SELECT min(chain) FROM audit WHERE chain > chains.name) FROM chains"
    " WHERE chains.name IS NOT NULL)"
    " SELECT name FROM chains WHERE name IS NOT NULL"
)
