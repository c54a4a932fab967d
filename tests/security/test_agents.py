"""Agent sign-in with a lockout that grows, on a real SQLite file and an injected clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select, update

from app.cli import main
from kiosk.security.agents import AgentError, AgentLocked, AgentService, lockout_delay, wait_text
from kiosk.security.audit import AuditAction, AuditLog
from kiosk.store import Store
from kiosk.store.models import Agent
from tests.support import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def agents(store: Store, clock: Clock) -> AgentService:
    service = AgentService(store, clock=clock)
    service.add("alice", "Alice Martin", "1234")
    return service


def _wrong(agents: AgentService) -> AgentError:
    with pytest.raises(AgentError) as caught:
        agents.sign_in("alice", "9999")
    return caught.value


def test_the_third_wrong_pin_blocks_for_30_seconds(agents: AgentService, clock: Clock) -> None:
    assert not isinstance(_wrong(agents), AgentLocked)
    assert not isinstance(_wrong(agents), AgentLocked)
    third = _wrong(agents)
    assert isinstance(third, AgentLocked)
    assert "Réessayez dans 30 secondes" in str(third)
    # The right PIN is refused during the lockout, with the time left.
    clock.advance(seconds=20)
    with pytest.raises(AgentLocked, match="Réessayez dans 10 secondes"):
        agents.sign_in("alice", "1234")
    clock.advance(seconds=10)
    assert agents.sign_in("alice", "1234").identifiant == "alice"


def test_each_further_wrong_pin_doubles_the_wait_up_to_an_hour(
    agents: AgentService, clock: Clock
) -> None:
    waits = []
    for _ in range(12):
        error = _wrong(agents)
        if isinstance(error, AgentLocked):
            waits.append(error.until - clock.now)
            clock.now = error.until  # wait it out, then try again
    assert waits[:5] == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]
    assert waits[-1] == timedelta(hours=1) and max(waits) == timedelta(hours=1)
    assert isinstance(_wrong(agents), AgentLocked)
    with pytest.raises(AgentLocked, match="Réessayez dans 1 heure"):
        agents.sign_in("alice", "1234")


def test_a_blocked_account_does_not_check_the_pin(agents: AgentService, clock: Clock) -> None:
    for _ in range(3):
        _wrong(agents)
    # During the lockout a wrong PIN does not count: the wait does not grow by guessing.
    for _ in range(5):
        with pytest.raises(AgentLocked, match="30 secondes"):
            agents.sign_in("alice", "0000")
    clock.advance(seconds=30)
    assert agents.sign_in("alice", "1234").nom == "Alice Martin"


def test_a_success_resets_the_count(agents: AgentService) -> None:
    _wrong(agents)
    _wrong(agents)
    agents.sign_in("alice", "1234")
    assert not isinstance(_wrong(agents), AgentLocked)
    assert not isinstance(_wrong(agents), AgentLocked)


def test_sign_ins_and_lockouts_are_audited(agents: AgentService, store: Store) -> None:
    for _ in range(3):
        _wrong(agents)
    actions = [e.action for e in AuditLog(store).entries(limit=10)]
    assert actions == [
        AuditAction.AGENT_CREATED,
        AuditAction.SIGN_IN_FAILED,
        AuditAction.SIGN_IN_FAILED,
        AuditAction.SIGN_IN_FAILED,
        AuditAction.AGENT_LOCKED,
    ]
    assert AuditLog(store).entries(limit=1)[0].detail == {"echecs": 3, "delai_s": 30}


def test_a_supervisor_unlocks_and_disables(agents: AgentService, clock: Clock) -> None:
    boss = agents.add("chef", "Chef", "5678", role="superviseur")
    plain = agents.sign_in("alice", "1234")
    for _ in range(3):
        _wrong(agents)
    with pytest.raises(AgentError, match="Seul un superviseur"):
        agents.unlock("alice", by=plain)
    agents.unlock("alice", by=boss)
    assert agents.sign_in("alice", "1234").identifiant == "alice"
    agents.disable("alice", by=boss)
    with pytest.raises(AgentError, match="Identifiant ou code PIN incorrect"):
        agents.sign_in("alice", "1234")
    assert [a.identifiant for a in agents.list()] == ["chef"]


def test_the_console_unlocks_and_disables(
    tmp_path: Path, agents: AgentService, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        _wrong(agents)
    base = ["--db", str(tmp_path / "kiosk.sqlite3"), "--data-dir", str(tmp_path), "agent"]
    assert main([*base, "unlock", "alice"]) == 0
    assert "débloqué" in capsys.readouterr().out
    assert agents.sign_in("alice", "1234").identifiant == "alice"
    assert main([*base, "disable", "alice"]) == 0
    assert agents.list() == []
    assert main([*base, "unlock", "bob"]) == 1
    assert "Aucun agent « bob »" in capsys.readouterr().err


def test_delays_and_their_french_wording() -> None:
    assert [lockout_delay(n) for n in (0, 2)] == [timedelta(0), timedelta(0)]
    assert lockout_delay(1000) == timedelta(hours=1)
    assert wait_text(timedelta(seconds=1)) == "1 seconde"
    assert wait_text(timedelta(seconds=61)) == "2 minutes"
    assert wait_text(timedelta(minutes=60)) == "1 heure"


def test_thirty_wrong_pins_at_once_check_three_pins_and_block_the_account(
    agents: AgentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked one by one before, the lockout let thirty parallel tries all test their PIN."""
    import threading

    import kiosk.security.agents as module

    real = module._HASHER
    checked: list[str] = []

    class Counting:
        def verify(self, stored: str, pin: str) -> bool:
            checked.append(pin)
            return real.verify(stored, pin)

    monkeypatch.setattr(module, "_HASHER", Counting())
    start = threading.Barrier(30)
    outcomes: list[type[Exception]] = []

    def attempt(n: int) -> None:
        start.wait()
        try:
            agents.sign_in("alice", f"{n:04d}" if n != 1234 else "0000")
        except AgentError as exc:
            outcomes.append(type(exc))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(5000, 5030)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 30  # every try refused…
    assert len(checked) == 3  # …but only the first three PINs were ever checked
    with pytest.raises(AgentLocked):
        agents.sign_in("alice", "1234")  # blocked, even for the right PIN


@pytest.mark.parametrize("typed", ["１２３４", "۱۲۳۴", "١٢٣٤", "1234"])
def test_a_pin_set_or_checked_in_any_script_of_digits_is_the_same_pin(
    store: Store, typed: str
) -> None:
    agents = AgentService(store)
    agents.add("bob", "Bob Durand", typed)  # fullwidth, Persian, Arabic-Indic or ASCII
    for other in ("1234", "１２３４", "١٢٣٤"):
        assert agents.sign_in("bob", other).identifiant == "bob"


@pytest.mark.parametrize("typed", ["12a4", "1234 ", "12²4", "", "1" * 13, "1234\x00"])
def test_a_pin_that_no_account_can_have_is_said_so_and_not_counted(
    agents: AgentService, typed: str
) -> None:
    for _ in range(5):  # five typos: none counts toward the lockout
        with pytest.raises(AgentError, match="4 à 12 chiffres") as refused:
            agents.sign_in("alice", typed)
        assert not isinstance(refused.value, AgentLocked)
    assert agents.sign_in("alice", "1234").identifiant == "alice"


LOOKALIKES = {
    "ali\u200bce": "invisible",  # zero-width space
    "ali\u200dce": "invisible",  # zero-width joiner
    "ali\u00adce": "invisible",  # soft hyphen
    "alice\u200e": "invisible",  # left-to-right mark
    "\u202ealice": "invisible",  # right-to-left override
    "ali\x00ce": "invisible",  # NUL
    "ali\tce": "invisible",
    "ali ce": "espace",
    " alice": "commencer ni finir par une espace",
    "alice ": "commencer ni finir par une espace",
    "\u0430lice": "« а » \\(U\\+0430\\)",  # Cyrillic a
    "alic\u0435": "U\\+0435",  # Cyrillic e
    "al１ce": "U\\+FF11",  # fullwidth one
    "a" * 65: "64 caractères au plus",
}


@pytest.mark.parametrize("typed", list(LOOKALIKES))
def test_an_identifier_that_could_look_like_another_is_refused(
    agents: AgentService, typed: str
) -> None:
    with pytest.raises(AgentError, match=LOOKALIKES[typed]):
        agents.add(typed, "Alice Bis", "5678")
    assert [a.identifiant for a in agents.list()] == ["alice"]


def test_an_identifier_with_an_accent_typed_two_ways_is_one_agent(agents: AgentService) -> None:
    agents.add("h\u00e9l\u00e8ne.d", "Hélène Dubois", "5678")  # é, è composed
    with pytest.raises(AgentError, match="existe déjà"):
        agents.add("he\u0301le\u0300ne.D", "Hélène Dubois", "5678")  # e + accents, capital D
    assert agents.sign_in("he\u0301le\u0300ne.d", "5678").nom == "Hélène Dubois"


def test_a_name_with_an_invisible_character_is_refused(agents: AgentService) -> None:
    with pytest.raises(AgentError, match="U\\+200B"):
        agents.add("bob", "Bob\u200b Durand", "5678")


# ------------------------------------------------- the PIN checked while it is typed (issue 18)


def test_a_pin_checked_while_typed_signs_in_without_argon2_again(
    agents: AgentService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = agents.check_pin("alice", "1234")
    assert checked is not None
    # OK: the verdict is the one computed while typing (Argon2 would fail here if it ran).
    monkeypatch.setattr("kiosk.security.agents._HASHER", _NoArgon2())
    assert agents.sign_in("alice", "1234", checked=checked).nom == "Alice Martin"
    assert AuditLog(store).entries(limit=1)[0].action == AuditAction.SIGN_IN_OK


class _NoArgon2:
    def verify(self, *_args: object) -> bool:
        raise AssertionError("Argon2 ran again")

    def check_needs_rehash(self, stored: str) -> bool:
        return _hasher(_TODAY).check_needs_rehash(stored)  # reads the hash's header


def test_a_check_of_another_pin_or_agent_is_not_used(agents: AgentService) -> None:
    agents.add("bob", "Bob Durand", "5555")
    right = agents.check_pin("alice", "1234")
    assert right is not None
    # Its verdict is for « 1234 » of alice only: a wrong PIN is still wrong, and counted.
    with pytest.raises(AgentError, match="incorrect"):
        agents.sign_in("alice", "9999", checked=right)
    with pytest.raises(AgentError, match="incorrect"):
        agents.sign_in("bob", "1234", checked=right)
    assert agents.sign_in("alice", "1234", checked=right).nom == "Alice Martin"


def test_a_wrong_pin_checked_while_typed_is_refused_and_counted_to_the_lockout(
    agents: AgentService, clock: Clock
) -> None:
    wrong = agents.check_pin("alice", "9999")
    assert wrong is not None
    for _ in range(2):
        with pytest.raises(AgentError, match="incorrect") as caught:
            agents.sign_in("alice", "9999", checked=wrong)
        assert not isinstance(caught.value, AgentLocked)
    with pytest.raises(AgentLocked, match="30 secondes"):
        agents.sign_in("alice", "9999", checked=wrong)
    # Blocked: even a right PIN checked while typed is refused until the wait is over.
    right = agents.check_pin("alice", "1234")
    with pytest.raises(AgentLocked):
        agents.sign_in("alice", "1234", checked=right)
    clock.advance(seconds=30)
    assert agents.sign_in("alice", "1234", checked=right).nom == "Alice Martin"


def test_a_check_made_before_the_pin_was_changed_is_not_used(
    agents: AgentService, store: Store
) -> None:
    old = agents.check_pin("alice", "1234")
    with store.write() as s:
        s.execute(update(Agent).values(pin_hash=PasswordHasher().hash("4321")))
    with pytest.raises(AgentError, match="incorrect"):
        agents.sign_in("alice", "1234", checked=old)
    assert agents.sign_in("alice", "4321", checked=old).nom == "Alice Martin"


def test_nothing_is_counted_nor_written_while_the_pin_is_typed(
    agents: AgentService, store: Store
) -> None:
    before = AuditLog(store).entries(limit=100)
    for typed in ("9999", "0000", "1111", "abcd"):
        agents.check_pin("alice", typed)
    assert agents.check_pin("personne", "1234") is None
    assert AuditLog(store).entries(limit=100) == before
    assert not isinstance(_wrong(agents), AgentLocked)  # the first wrong PIN counted


# ------------------------------------------- Argon2's parameters: OWASP's first (issue 18)

_TODAY = {"memory_cost": 19456, "time_cost": 2, "parallelism": 1}
#: What hashed the PINs before issue 18 (argon2-cffi's defaults, RFC 9106's second profile).
_BEFORE = {"memory_cost": 65536, "time_cost": 3, "parallelism": 4}


def _hasher(parameters: dict[str, int]) -> PasswordHasher:
    return PasswordHasher(
        time_cost=parameters["time_cost"],
        memory_cost=parameters["memory_cost"],
        parallelism=parameters["parallelism"],
    )


def _parameters(encoded: str) -> dict[str, int]:
    found = extract_parameters(encoded)
    return {
        "memory_cost": found.memory_cost,
        "time_cost": found.time_cost,
        "parallelism": found.parallelism,
    }


def _stored(store: Store, identifiant: str = "alice") -> str:
    with store.read() as s:
        stored = s.scalars(select(Agent.pin_hash).where(Agent.identifiant == identifiant)).one()
    assert stored is not None
    return stored


def test_a_new_pin_is_hashed_with_19_mib_two_passes_one_lane(
    agents: AgentService, store: Store
) -> None:
    assert _parameters(_stored(store)) == _TODAY
    assert _stored(store).startswith("$argon2id$")


@pytest.mark.both_stores
def test_a_pin_hashed_before_signs_in_and_is_hashed_again_journalled(
    agents: AgentService, store: Store
) -> None:
    with store.write() as s:
        s.execute(update(Agent).values(pin_hash=_hasher(_BEFORE).hash("1234")))
    # A wrong PIN is refused against the old hash, which stays as it was.
    with pytest.raises(AgentError, match="incorrect"):
        agents.sign_in("alice", "9999")
    assert _parameters(_stored(store)) == _BEFORE
    # The right one signs in, and the hash is made again with today's parameters.
    assert agents.sign_in("alice", "1234").nom == "Alice Martin"
    assert _parameters(_stored(store)) == _TODAY
    PasswordHasher().verify(_stored(store), "1234")
    last = AuditLog(store).entries(limit=2)
    assert [e.action for e in last] == [AuditAction.SIGN_IN_OK, AuditAction.AGENT_PIN_REHASHED]
    assert last[1].label == "empreinte du code PIN renouvelée"
    assert last[1].detail == {
        "par": "alice",
        "de": "m=65536,t=3,p=4",
        "vers": "m=19456,t=2,p=1",
    }
    assert AuditLog(store).verify().ok
    # Once: the next sign-in finds today's parameters and changes nothing.
    renewed = _stored(store)
    agents.sign_in("alice", "1234")
    assert _stored(store) == renewed
    assert AuditLog(store).entries(limit=1)[0].action == AuditAction.SIGN_IN_OK


def test_a_pin_hashed_before_and_checked_while_typed_is_hashed_again(
    agents: AgentService, store: Store
) -> None:
    with store.write() as s:
        s.execute(update(Agent).values(pin_hash=_hasher(_BEFORE).hash("1234")))
    checked = agents.check_pin("alice", "1234")
    assert _parameters(_stored(store)) == _BEFORE  # typing writes nothing
    assert agents.sign_in("alice", "1234", checked=checked).nom == "Alice Martin"
    assert _parameters(_stored(store)) == _TODAY
