"""Counter agents: accounts and PIN sign-in.

PINs are hashed with Argon2id (argon2-cffi's defaults follow RFC 9106's second recommended
profile). A short PIN is weak on its own; the lockout with growing delays and the audit journal
(issue "Security") are what make it acceptable at a counter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from kiosk.store.engine import Store
from kiosk.store.models import Agent

_HASHER = PasswordHasher()
ROLES = ("agent", "superviseur")


class AgentError(Exception):
    """A sign-in or account problem; the message is in French."""


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


def _check_pin(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise AgentError("Le code PIN compte de 4 à 12 chiffres.")


class AgentService:
    """Creates agents and checks their PIN."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._now = clock or (lambda: datetime.now(UTC))

    def add(self, identifiant: str, nom: str, pin: str, *, role: str = "agent") -> AgentInfo:
        """Create an agent account."""
        _check_pin(pin)
        if role not in ROLES:
            raise AgentError(f"Rôle inconnu : {role} (agent ou superviseur).")
        identifiant = identifiant.strip().lower()
        if not identifiant:
            raise AgentError("L'identifiant de l'agent est obligatoire.")
        with self._store.write() as s:
            if s.scalars(select(Agent).where(Agent.identifiant == identifiant)).first():
                raise AgentError(f"L'agent « {identifiant} » existe déjà.")
            agent = Agent(
                identifiant=identifiant,
                nom=nom.strip(),
                role=role,
                pin_hash=_HASHER.hash(pin),
                actif=True,
                created_at=self._now(),
            )
            s.add(agent)
            s.flush()
            return AgentInfo(agent.id, agent.identifiant, agent.nom, agent.role)

    def list(self) -> list[AgentInfo]:
        """Active agents, by name (for the sign-in screen's list)."""
        with self._store.read() as s:
            rows = s.scalars(select(Agent).where(Agent.actif).order_by(Agent.nom)).all()
            return [AgentInfo(a.id, a.identifiant, a.nom, a.role) for a in rows]

    def sign_in(self, identifiant: str, pin: str) -> AgentInfo:
        """Check an agent's PIN.

        Raises:
            AgentError: unknown agent or wrong PIN (the same message, so as not to reveal which).
        """
        with self._store.read() as s:
            agent = s.scalars(
                select(Agent).where(Agent.identifiant == identifiant.strip().lower(), Agent.actif)
            ).first()
            stored = agent.pin_hash if agent else None
            info = AgentInfo(agent.id, agent.identifiant, agent.nom, agent.role) if agent else None
        try:
            if stored is None or info is None:
                raise VerificationError
            _HASHER.verify(stored, pin)
        except (VerificationError, InvalidHashError):
            raise AgentError("Identifiant ou code PIN incorrect.") from None
        return info
