"""The site's inactivity delays: a supervisor's choice, within bounds, journalled, shared by
every counter of the site (the same store, SQLite or the site's PostgreSQL)."""

from __future__ import annotations

import pytest

from kiosk.security.agents import AgentService
from kiosk.security.audit import AuditAction, AuditLog
from kiosk.site.screen import InactivityDelays, ScreenSettings
from kiosk.store.engine import Store
from kiosk.store.models import Setting


@pytest.mark.both_stores
def test_a_supervisor_sets_the_delays_for_the_whole_site(store: Store) -> None:
    agents = AgentService(store)
    cheffe = agents.add("cheffe", "Cheffe Martin", "4321", role="superviseur")
    agent = agents.add("lea", "Léa Dubois", "2468")
    screen = ScreenSettings(store)
    assert screen.chosen() is None
    assert screen.get() == InactivityDelays(120, 30)  # nothing chosen: 2 min, then 30 s
    with pytest.raises(PermissionError, match="superviseur"):
        screen.set(InactivityDelays(600, 60), by=agent)
    screen.set(InactivityDelays(600, 60), by=cheffe)
    assert ScreenSettings(store).get() == InactivityDelays(600, 60)  # another counter reads it
    last = AuditLog(store).entries(limit=1)[0]
    assert last.action == AuditAction.SETTINGS_CHANGED
    assert last.detail["par"] == "cheffe" and last.detail["delai_s"] == 600


@pytest.mark.parametrize(("idle", "warning"), [(10, 30), (3600, 30), (120, 5), (120, 600)])
def test_delays_out_of_bounds_are_refused_in_plain_french(idle: int, warning: int) -> None:
    with pytest.raises(ValueError, match="va de"):
        InactivityDelays(idle, warning)


def test_a_value_spoiled_by_hand_falls_back_to_the_defaults(store: Store) -> None:
    """The screen must still lock: never a delay of a day, never a crash at sign-in."""
    with store.write() as s:
        s.add(Setting(key="ecran.inactivite", value='{"idle_seconds": 86400}'))
    assert ScreenSettings(store).chosen() is None  # the kiosk keeps its own
    assert ScreenSettings(store).get() == InactivityDelays()
