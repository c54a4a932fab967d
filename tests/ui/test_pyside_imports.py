"""PySide6's check of every module imported after it (issue 18): answered from the file, its
text no longer kept in memory, the answer the same as PySide6's own."""

from __future__ import annotations

import linecache
import sys
from pathlib import Path

import PySide6.QtCore  # noqa: F401 - installs the import hook this is about
import pytest

from ui.app import lighten_pyside_imports


def test_modules_imported_after_pyside_are_checked_without_keeping_their_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature = sys.modules["shibokensupport.feature"]
    # Restored after the test: the rest of the session keeps PySide6's own check.
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)
    lighten_pyside_imports()
    (tmp_path / "pn_avec_qt.py").write_text("from PySide6.QtCore import QObject\n")
    (tmp_path / "pn_sans_qt.py").write_text("VALEUR = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("pn_avec_qt", "pn_sans_qt"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        __import__(name)  # the statement `import`, which PySide6 hooks (not importlib)
    assert feature.pyside_feature_dict["pn_avec_qt"] == 0  # uses PySide6: switches features
    assert feature.pyside_feature_dict["pn_sans_qt"] == -1  # ignored, as PySide6 decides
    assert str(tmp_path / "pn_avec_qt.py") not in linecache.cache
    assert str(tmp_path / "pn_sans_qt.py") not in linecache.cache
    for name in ("pn_avec_qt", "pn_sans_qt"):
        del feature.pyside_feature_dict[name]
        del sys.modules[name]
