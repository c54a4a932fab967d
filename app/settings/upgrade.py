"""Versions of the settings file, and how an older file is read by a newer kiosk (the model is
MusicBrainz Picard's ``picard/config_upgrade.py``).

The file says which version of the layout it was written for (``config_version = 1`` at the top).
When a release renames, moves or changes the meaning of a key, it raises :data:`CONFIG_VERSION`
and adds to :data:`UPGRADES` the function that turns a file of the previous version into the new
layout. The upgrade happens in memory, each time the file is read: the kiosk never rewrites its
configuration (the préfecture's provisioning owns the file, and a rewrite would lose its
comments). A file without ``config_version`` is read as version 1, the first layout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The layout this version of the kiosk reads and ``kiosk reglages`` documents.
CONFIG_VERSION = 1

#: ``UPGRADES[n]`` turns the parsed file of version ``n`` into version ``n + 1``. For example,
#: had version 2 renamed ``[conservation] purge_heures`` to ``intervalle_purge_heures``::
#:
#:     def _v1_to_v2(data):
#:         section = data.get("conservation", {})
#:         if "purge_heures" in section:
#:             section["intervalle_purge_heures"] = section.pop("purge_heures")
#:         return data
#:
#:     UPGRADES = {1: _v1_to_v2}
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upgrade(data: dict[str, Any], version: int) -> dict[str, Any]:
    """``data`` (a file of ``version``, at most :data:`CONFIG_VERSION`) in today's layout."""
    for step in range(version, CONFIG_VERSION):
        data = UPGRADES[step](data)
    return data
