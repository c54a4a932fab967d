"""Counter agents: accounts, PIN sign-in and the lockout after wrong PINs.

PINs are hashed with Argon2id in OWASP's first recommended configuration (19 MiB, two passes,
one lane: :data:`ARGON2_MEMORY_KIB`…). A PIN of 4 to 6 digits is weak whatever the KDF: its
10⁴ to 10⁶ values are tried in minutes even at 64 MiB each, so the KDF's memory is not what
protects it. What makes it acceptable at a counter is the lockout (the third wrong PIN in a row
blocks the account 30 s, each further one doubles that, up to one hour), the store's encryption
(the hashes are read only with the database's key) and the audit journal, where every sign-in,
refusal and lockout is written (docs/security.md). A hash made with other parameters (64 MiB,
three passes, four lanes, before issue 18) still verifies, and is replaced at the agent's next
successful sign-in, which the journal records.

During a lockout the PIN is not even checked: guessing cannot go on in the background. A success
resets the count; a supervisor can lift a lockout and disable an account.

Argon2 takes 20–50 ms by design: the sign-in screen has it computed while the PIN is typed
(:meth:`AgentService.check_pin`), so that OK only counts the attempt, applies the lockout, and
opens the home screen (issue 18). Such a check says nothing to anyone: its result is only ever
used by :meth:`AgentService.sign_in`, for the same agent, the same PIN and the same stored hash,
after the attempt is counted and the lockout applied exactly as without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk.digits import ascii_digits
from kiosk.security.audit import AuditAction
from kiosk.security.audit import record as audit
from kiosk.store.engine import Store
from kiosk.store.models import Agent

#: Argon2id's parameters for new hashes: OWASP's first recommended configuration (m = 19 MiB,
#: t = 2, p = 1). The kiosk's peak memory (≤ 250 MB, issue 18) counts one of them.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PASSES = 2
ARGON2_LANES = 1
_HASHER = PasswordHasher(
    time_cost=ARGON2_PASSES, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_LANES
)
#: One Argon2 at a time in the process: each takes its memory (64 MiB for a hash of the old
#: parameters), and a check of the PIN being typed (:meth:`AgentService.check_pin`) may still
#: run when OK asks for another.
_ARGON2 = threading.Lock()


def _verify(stored: str, pin: str) -> None:
    """Argon2id: raises ``VerificationError`` (or ``InvalidHashError``) unless ``pin`` is right."""
    with _ARGON2:
        _HASHER.verify(stored, pin)


def _renewed_hash(stored: str, pin: str) -> str | None:
    """The right ``pin`` hashed again if ``stored`` was made with other parameters than
    today's (an earlier version's 64 MiB), else None."""
    if not _HASHER.check_needs_rehash(stored):
        return None
    with _ARGON2:
        return _HASHER.hash(pin)


def _parameters(encoded: str) -> str:
    """An Argon2 hash's parameters as the journal records them (« m=19456,t=2,p=1 »)."""
    found = extract_parameters(encoded)
    return f"m={found.memory_cost},t={found.time_cost},p={found.parallelism}"


ROLES = ("agent", "superviseur")

#: Wrong PINs in a row allowed before the first lockout.
FREE_ATTEMPTS = 2
FIRST_LOCKOUT = timedelta(seconds=30)
MAX_LOCKOUT = timedelta(hours=1)


class AgentError(Exception):
    """A sign-in or account problem; the message is in French."""


class AgentLocked(AgentError):
    """Too many wrong PINs: sign-in is refused until ``until``."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


def lockout_delay(failed_attempts: int) -> timedelta:
    """How long the account stays blocked after ``failed_attempts`` wrong PINs in a row."""
    if failed_attempts <= FREE_ATTEMPTS:
        return timedelta(0)
    doublings = min(failed_attempts - FREE_ATTEMPTS - 1, 16)  # 30 s × 2¹⁶ is past the cap
    return min(FIRST_LOCKOUT * (1 << doublings), MAX_LOCKOUT)


def wait_text(delay: timedelta) -> str:
    """« 30 secondes », « 2 minutes », « 1 heure »: rounded up, never « 0 »."""
    seconds = max(1, int(-(-delay.total_seconds() // 1)))
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    hours = -(-minutes // 60)
    return f"{hours} heure{'s' if hours > 1 else ''}"


@dataclass(frozen=True)
class PinCheck:
    """Argon2's verdict on a PIN, computed ahead of :meth:`AgentService.sign_in`.

    It keeps a keyed digest of the PIN (never the PIN) and the stored hash it was checked
    against; ``sign_in`` uses the verdict only when both still match.
    """

    identifiant: str
    _salt: bytes
    _digest: bytes
    _stored: str | None
    _right: bool

    def verdict(self, identifiant: str, pin: str, stored: str | None) -> bool | None:
        """Whether the PIN is right, if this check was made for this agent, this PIN and this
        stored hash (None: it was not, Argon2 must run)."""
        digest = hmac.new(self._salt, pin.encode(), hashlib.sha256).digest()
        covered = (
            identifiant == self.identifiant
            and stored is not None
            and stored == self._stored
            and hmac.compare_digest(digest, self._digest)
        )
        return self._right if covered else None


@dataclass(frozen=True)
class AgentInfo:
    """A signed-in agent, as the UI sees it."""

    id: int
    identifiant: str
    nom: str
    role: str

    @property
    def supervisor(self) -> bool:
        """Whether the agent may manage agents and settings."""
        return self.role == "superviseur"


@dataclass(frozen=True)
class AgentAccount:
    """An account as a supervisor manages it (active or not, blocked or not)."""

    info: AgentInfo
    active: bool
    failed_attempts: int
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        """Whether wrong PINs have blocked the account at ``now``."""
        return self.locked_until is not None and now < self.locked_until


def _pin(typed: str) -> str:
    """The PIN as stored and checked: ASCII digits, 4 to 12 of them.

    Digits of another script are *read* as the digits they are, not refused: an agent who signs
    in on a kiosk left with the Arabic keyboard, or whose input method gives fullwidth digits,
    types the same four keys as always (``١٢٣٤``, ``１２３４`` are the PIN 1234) and expects to be
    let in, just as a PIN pad reads one key whatever is printed on it. Setting and checking go
    through this one function, so a PIN set one way is the PIN checked the other way.

    Raises:
        AgentError: anything else (a letter, a space, ``²``): no PIN has it.
    """
    pin = ascii_digits(typed)
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise AgentError("Le code PIN compte de 4 à 12 chiffres.")
    return pin


#: What an identifier may hold besides Latin letters and the digits 0–9.
_IDENTIFIER_MARKS = frozenset(".-_")
IDENTIFIER_MAX = 64


def _identifier_key(typed: str) -> str:
    """How an identifier is compared: composed (« é » typed as e + accent is « é »), lower case."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", typed.strip()).lower())


def _new_identifier(typed: str) -> str:
    """The identifier of a new account, refused if two agents could look the same with it.

    Only Latin letters (accents allowed), ASCII digits and ``. - _``: an invisible character (a
    zero-width space or joiner, a soft hyphen, a bidirectional mark, a control character), a
    space, or a Cyrillic « а » that looks like a Latin « a » would make a second « alice » that
    the sign-in list and the audit journal show exactly like the first.

    Raises:
        AgentError: naming the first character refused (« U+200B »).
    """
    if typed != typed.strip():
        raise AgentError("L'identifiant de l'agent ne peut pas commencer ni finir par une espace.")
    identifier = _identifier_key(typed)
    if not identifier:
        raise AgentError("L'identifiant de l'agent est obligatoire.")
    if len(identifier) > IDENTIFIER_MAX:
        raise AgentError(f"L'identifiant de l'agent compte {IDENTIFIER_MAX} caractères au plus.")
    for char in identifier:
        code = f"U+{ord(char):04X}"
        if _invisible(char) or char.isspace():
            raise AgentError(
                "L'identifiant de l'agent contient un caractère invisible, une espace ou un"
                f" caractère de contrôle ({code}) : retapez-le au clavier."
            )
        latin = char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")
        if not (latin or char in "0123456789" or char in _IDENTIFIER_MARKS):
            raise AgentError(
                f"L'identifiant de l'agent contient « {char} » ({code}) : seuls les lettres"
                " latines, les chiffres 0 à 9 et « . », « - », « _ » sont acceptés."
            )
    return identifier


def _invisible(char: str) -> bool:
    """A control (Cc), format (Cf: zero-width, soft hyphen, bidi marks), line or paragraph
    separator, surrogate, private-use or unassigned character."""
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def _new_name(typed: str) -> str:
    """An agent's display name: free text, but nothing invisible in it."""
    name = unicodedata.normalize("NFC", typed.strip())
    if not name:
        raise AgentError("Le nom de l'agent est obligatoire.")
    if len(name) > 200:  # the column's size
        raise AgentError("Le nom de l'agent compte 200 caractères au plus.")
    for char in name:
        if _invisible(char):
            raise AgentError(
                "Le nom de l'agent contient un caractère invisible ou de contrôle"
                f" (U+{ord(char):04X}) : retapez-le au clavier."
            )
    return name


class AgentService:
    """Creates agents, checks their PIN and enforces the lockout.

    ``by``, where a method takes it, is the signed-in agent asking; it must be a supervisor.
    ``None`` means the kiosk's own administrator (the ``kiosk agent`` command, run with access
    to the machine), who is recorded in the audit as « console ».
    """

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._now = clock or (lambda: datetime.now(UTC))

    def add(
        self,
        identifiant: str,
        nom: str,
        pin: str,
        *,
        role: str = "agent",
        by: AgentInfo | None = None,
    ) -> AgentInfo:
        """Create an agent account."""
        _check_supervisor(by)
        pin = _pin(pin)
        if role not in ROLES:
            raise AgentError(f"Rôle inconnu : {role} (agent ou superviseur).")
        identifiant = _new_identifier(identifiant)
        nom = _new_name(nom)
        with _ARGON2:
            pin_hash = _HASHER.hash(pin)  # ~20 ms: outside the write transaction
        with self._store.write() as s:
            if s.scalars(select(Agent).where(Agent.identifiant == identifiant)).first():
                raise AgentError(f"L'agent « {identifiant} » existe déjà.")
            now = self._now()
            agent = Agent(
                identifiant=identifiant,
                nom=nom,
                role=role,
                pin_hash=pin_hash,
                actif=True,
                created_at=now,
                failed_attempts=0,
            )
            s.add(agent)
            s.flush()
            _record_admin(
                s, AuditAction.AGENT_CREATED, at=now, by=by, target=agent.id, detail={"role": role}
            )
            return AgentInfo(agent.id, agent.identifiant, agent.nom, agent.role)

    def accounts(self, *, by: AgentInfo | None = None) -> list[AgentAccount]:
        """Every account, disabled ones included, by name (for a supervisor)."""
        _check_supervisor(by)
        with self._store.read() as s:
            rows = s.scalars(select(Agent).order_by(Agent.actif.desc(), Agent.nom)).all()
            return [
                AgentAccount(
                    AgentInfo(a.id, a.identifiant, a.nom, a.role),
                    active=a.actif,
                    failed_attempts=a.failed_attempts,
                    locked_until=a.locked_until,
                )
                for a in rows
            ]

    def now(self) -> datetime:
        """The service's clock (to tell a current lockout from an expired one)."""
        return self._now()

    def list(self) -> list[AgentInfo]:
        """Active agents, by name (for the sign-in screen's list)."""
        with self._store.read() as s:
            rows = s.scalars(select(Agent).where(Agent.actif).order_by(Agent.nom)).all()
            return [AgentInfo(a.id, a.identifiant, a.nom, a.role) for a in rows]

    def check_pin(self, identifiant: str, pin: str) -> PinCheck | None:
        """Argon2 on ``pin`` for this agent, ahead of :meth:`sign_in` (while the PIN is typed).

        Nothing is counted, written or audited, and the verdict is not told: only ``sign_in``
        reads it. None for what no account could have (not a PIN, no such agent).
        """
        key = _identifier_key(identifiant)
        try:
            pin = _pin(pin)
        except AgentError:
            return None
        with self._store.read() as s:
            stored = s.scalars(
                select(Agent.pin_hash).where(Agent.identifiant == key, Agent.actif)
            ).first()
        if stored is None:
            return None
        try:
            _verify(stored, pin)
            right = True
        except (VerificationError, InvalidHashError):
            right = False
        salt = secrets.token_bytes(16)
        digest = hmac.new(salt, pin.encode(), hashlib.sha256).digest()
        return PinCheck(key, salt, digest, stored, right)

    def sign_in(self, identifiant: str, pin: str, *, checked: PinCheck | None = None) -> AgentInfo:
        """Check an agent's PIN, unless the account is blocked.

        ``checked``: :meth:`check_pin`'s result for the PIN typed; used, instead of Argon2 again,
        only if it was made for this agent, this PIN and the hash stored now.

        Raises:
            AgentLocked: too many wrong PINs; the message says how long to wait.
            AgentError: unknown agent or wrong PIN (the same message, so as not to reveal which).
        """
        key = _identifier_key(identifiant)
        now = self._now()
        try:
            pin = _pin(pin)
        except AgentError:
            # Not a PIN at all (a letter, a space): no account has it, so it tells nothing about
            # any account; refused as such rather than counted toward a typo's lockout.
            raise AgentError("Code PIN incorrect : il compte de 4 à 12 chiffres.") from None
        # The attempt is counted as a wrong one *before* the PIN is checked, in one write
        # transaction with the lockout test (writers queue behind BEGIN IMMEDIATE): thirty tries
        # at once see the account blocked from the third on, instead of all being checked.
        # A right PIN then clears the count.
        with self._store.write() as s:
            agent = s.scalars(select(Agent).where(Agent.identifiant == key, Agent.actif)).first()
            stored = agent.pin_hash if agent else None
            info = AgentInfo(agent.id, agent.identifiant, agent.nom, agent.role) if agent else None
            locked_until = agent.locked_until if agent else None
            blocked = locked_until is not None and now < locked_until
            if info is not None and blocked:
                # Refused without looking at the PIN: a blocked account gives no oracle.
                audit(
                    s,
                    AuditAction.SIGN_IN_FAILED,
                    at=now,
                    agent_id=info.id,
                    detail={"etat": "bloque"},
                )
            failed = self._count_attempt(s, info.id, now) if info and not blocked else 0
        if info is not None and locked_until is not None and blocked:
            raise AgentLocked(_locked_message(locked_until - now), locked_until)
        # Argon2 takes tens of milliseconds: checked outside any write transaction (or already,
        # while the PIN was typed).
        try:
            if stored is None or info is None:
                raise VerificationError
            verdict = None if checked is None else checked.verdict(key, pin, stored)
            if verdict is None:
                _verify(stored, pin)
            elif not verdict:
                raise VerificationError
        except (VerificationError, InvalidHashError):
            self._failed(info, now, failed)
        assert info is not None  # _failed always raises
        assert stored is not None
        renewed = _renewed_hash(stored, pin)  # Argon2 again, outside the transaction
        with self._store.write() as s:
            s.execute(
                update(Agent)
                .where(Agent.id == info.id)
                .values(failed_attempts=0, locked_until=None)
            )
            audit(s, AuditAction.SIGN_IN_OK, at=now, agent_id=info.id)
            if renewed is not None:
                self._replace_hash(s, info, stored, renewed, now)
        return info

    @staticmethod
    def _replace_hash(s: Session, info: AgentInfo, stored: str, renewed: str, at: datetime) -> None:
        """Store the PIN's hash made with today's parameters, journalled with the parameters
        before and after; unless the stored hash changed meanwhile (it is then left as is)."""
        replaced = s.execute(
            update(Agent)
            .where(Agent.id == info.id, Agent.pin_hash == stored)
            .values(pin_hash=renewed)
            .returning(Agent.id)
        ).first()
        if replaced is not None:
            _record_admin(
                s,
                AuditAction.AGENT_PIN_REHASHED,
                at=at,
                by=info,
                target=info.id,
                detail={"de": _parameters(stored), "vers": _parameters(renewed)},
            )

    def unlock(self, identifiant: str, *, by: AgentInfo | None = None) -> AgentInfo:
        """Lift a lockout and reset the count of wrong PINs (a supervisor's action)."""
        _check_supervisor(by)
        with self._store.write() as s:
            agent = _find(s, identifiant)
            agent.failed_attempts = 0
            agent.locked_until = None
            _record_admin(s, AuditAction.AGENT_UNLOCKED, at=self._now(), by=by, target=agent.id)
            return AgentInfo(agent.id, agent.identifiant, agent.nom, agent.role)

    def disable(self, identifiant: str, *, by: AgentInfo | None = None) -> AgentInfo:
        """Deactivate an account: it no longer signs in nor appears in the list."""
        _check_supervisor(by)
        if by is not None and by.identifiant == _identifier_key(identifiant):
            raise AgentError("Un superviseur ne peut pas désactiver son propre compte.")
        with self._store.write() as s:
            agent = _find(s, identifiant)
            agent.actif = False
            _record_admin(s, AuditAction.AGENT_DISABLED, at=self._now(), by=by, target=agent.id)
            return AgentInfo(agent.id, agent.identifiant, agent.nom, agent.role)

    def leave_kiosk(self, pin: str, *, by: AgentInfo | None) -> AgentInfo:
        """A supervisor leaves the kiosk for its maintenance console (docs/packaging.md).

        The PIN is asked again, and checked as at sign-in (wrong ones counted, lockout applied):
        a supervisor who walked away signed in must not have left a way out of the kiosk to
        whoever touches the screen next. The journal records who left.

        Raises:
            AgentError: not a supervisor, or a wrong PIN (AgentLocked once blocked).
        """
        if by is None or not by.supervisor:
            raise AgentError("Seul un superviseur peut quitter la borne.")
        # The account as it is now (disabled or demoted since the sign-in: refused).
        checked = self.sign_in(by.identifiant, pin)
        if not checked.supervisor:
            raise AgentError("Seul un superviseur peut quitter la borne.")
        with self._store.write() as s:
            audit(
                s,
                AuditAction.KIOSK_LEFT,
                at=self._now(),
                agent_id=checked.id,
                detail={"par": checked.identifiant},
            )
        return checked

    @staticmethod
    def _count_attempt(s: Session, agent_id: int, now: datetime) -> int:
        """Count one more wrong PIN (until proven right) and block the account if it is one too
        many; returns the count. Incremented in SQL: attempts at the same time all count."""
        failed: int = s.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(failed_attempts=Agent.failed_attempts + 1)
            .returning(Agent.failed_attempts)
        ).scalar_one()
        delay = lockout_delay(failed)
        if delay:
            s.execute(update(Agent).where(Agent.id == agent_id).values(locked_until=now + delay))
        return failed

    def _failed(self, info: AgentInfo | None, now: datetime, failed: int) -> NoReturn:
        """Say a wrong PIN (already counted by :meth:`_count_attempt`); always raises."""
        if info is None:
            with self._store.write() as s:
                audit(s, AuditAction.SIGN_IN_FAILED, at=now, detail={"inconnu": True})
            raise AgentError("Identifiant ou code PIN incorrect.")
        delay = lockout_delay(failed)
        with self._store.write() as s:
            audit(
                s, AuditAction.SIGN_IN_FAILED, at=now, agent_id=info.id, detail={"echecs": failed}
            )
            if delay:
                audit(
                    s,
                    AuditAction.AGENT_LOCKED,
                    at=now,
                    agent_id=info.id,
                    detail={"echecs": failed, "delai_s": int(delay.total_seconds())},
                )
        if delay:
            raise AgentLocked(f"Code PIN incorrect. {_locked_message(delay)}", now + delay)
        raise AgentError("Identifiant ou code PIN incorrect.")


def _locked_message(remaining: timedelta) -> str:
    return (
        f"Trop d'essais : ce compte est bloqué. Réessayez dans {wait_text(remaining)},"
        " ou demandez à un superviseur de le débloquer."
    )


def _check_supervisor(by: AgentInfo | None) -> None:
    if by is not None and not by.supervisor:
        raise AgentError("Seul un superviseur peut gérer les comptes des agents.")


def _record_admin(
    s: Session,
    action: AuditAction,
    *,
    at: datetime,
    by: AgentInfo | None,
    target: int,
    detail: dict[str, str] | None = None,
) -> None:
    """An audit entry about the account ``target``, naming who acted (supervisor, console)."""
    who = {"par": by.identifiant if by else "console"}
    audit(s, action, at=at, agent_id=target, detail={**who, **(detail or {})})


def _find(s: Session, identifiant: str) -> Agent:
    agent = s.scalars(
        select(Agent).where(Agent.identifiant == _identifier_key(identifiant))
    ).first()
    if agent is None:
        raise AgentError(f"Aucun agent « {identifiant.strip()} ».")
    return agent
