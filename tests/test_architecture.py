"""The layering rule, as a test: ``ui → kiosk ← sync, devices``; the domain imports no Qt,
HTTP or PC/SC library, and the UI never touches the store."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: package → top-level modules it must never import.
FORBIDDEN: dict[str, set[str]] = {
    "kiosk": {"PySide6", "shiboken6", "httpx", "smartcard", "ui", "sync", "devices", "app"},
    "ui": {"sqlalchemy", "alembic", "kiosk.store", "sync", "devices", "app"},
    "sync": {"PySide6", "shiboken6", "smartcard", "ui", "devices", "app"},
    "devices": {"PySide6", "shiboken6", "httpx", "ui", "sync", "app"},
}

#: file → modules it may import despite its package's rule. The one exception: the counter's
#: camera is reached through Qt Multimedia (its backends are how the kiosk's one GUI toolkit
#: talks to V4L2 and PipeWire cameras; no other camera library is a dependency). That module
#: gets Qt's core, image and multimedia modules, never widgets: no screen lives in devices/.
ALLOWED: dict[str, set[str]] = {
    "devices/camera/qt.py": {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtMultimedia"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module named by an import statement in ``path`` (including lazy imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(root: Path) -> list[str]:
    """``file: module`` for every import that breaks the rule under ``root``."""
    found = []
    for package, banned in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            allowed = ALLOWED.get(path.relative_to(root).as_posix(), set())
            for module in imported_modules(path) - allowed:
                for ban in banned:
                    if module == ban or module.startswith(ban + "."):
                        found.append(f"{path.relative_to(root)}: {module}")
    return found


def test_the_code_respects_the_dependency_direction() -> None:
    assert violations(ROOT) == []


def test_the_rule_catches_a_lazy_qt_import_in_the_domain(tmp_path: Path) -> None:
    (tmp_path / "kiosk").mkdir()
    (tmp_path / "kiosk" / "bad.py").write_text(
        "def f():\n    from PySide6.QtWidgets import QWidget\n    return QWidget\n"
    )
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "screen.py").write_text("import sqlalchemy.orm\n")
    assert violations(tmp_path) == [
        "kiosk/bad.py: PySide6.QtWidgets",
        "ui/screen.py: sqlalchemy.orm",
    ]


def test_only_the_camera_module_of_devices_may_import_qt_and_never_widgets(
    tmp_path: Path,
) -> None:
    (tmp_path / "devices" / "camera").mkdir(parents=True)
    (tmp_path / "devices" / "camera" / "qt.py").write_text(
        "from PySide6.QtMultimedia import QCamera\nfrom PySide6.QtWidgets import QWidget\n"
    )
    (tmp_path / "devices" / "camera" / "simulated.py").write_text(
        "from PySide6.QtMultimedia import QCamera\n"
    )
    (tmp_path / "devices" / "printing.py").write_text("from PySide6.QtCore import QObject\n")
    assert violations(tmp_path) == [
        "devices/camera/qt.py: PySide6.QtWidgets",
        "devices/camera/simulated.py: PySide6.QtMultimedia",
        "devices/printing.py: PySide6.QtCore",
    ]
