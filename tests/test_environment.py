"""The environment is read in one place and written in none: the settings registry
(``app/settings/resolve.py``) reads it once at start and hands values down; no other module of the
kiosk reads ``os.environ`` or ``os.getenv``, and none writes the environment (AST scan, lazy code
included, as tests/test_architecture.py does for imports)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "kiosk", "sync", "devices", "ui")

#: file → why it may read the environment.
MAY_READ = {
    "app/settings/resolve.py": "the settings registry: the one reader, once at start",
    "ui/app.py": "Qt's own input-method variable, set just before for Qt (not a kiosk setting)",
}
#: file → why it may write the environment.
MAY_WRITE = {
    "ui/app.py": "QT_IM_MODULE and QT_VIRTUALKEYBOARD_DESKTOP_DISABLE: Qt reads them at start",
}

_ENV_NAMES = {"environ", "environb", "getenv", "getenvb"}
_WRITERS = {"putenv", "unsetenv"}
_MUTATORS = {"setdefault", "update", "pop", "popitem", "clear", "__setitem__", "__delitem__"}


def environment_uses(path: Path) -> list[tuple[str, int]]:
    """``("lit" | "écrit", line)`` for every use of the environment in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = {"os"}  # names bound to the os module (import os as x)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "os"}
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in _ENV_NAMES:
                    found.append(("lit", node.lineno))
                elif alias.name in _WRITERS:
                    found.append(("écrit", node.lineno))
        if not (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            continue
        if node.attr in _WRITERS:
            found.append(("écrit", node.lineno))
        elif node.attr in _ENV_NAMES:
            parent = parents.get(node)
            writes = (
                isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store | ast.Del)
            ) or (isinstance(parent, ast.Attribute) and parent.attr in _MUTATORS)
            found.append(("écrit" if writes else "lit", node.lineno))
    return sorted(found, key=lambda use: use[1])


def violations(root: Path) -> list[str]:
    """``file:line: lit|écrit`` for every use of the environment not allowed above."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            for use, line in environment_uses(path):
                allowed = MAY_WRITE if use == "écrit" else MAY_READ
                if name not in allowed:
                    found.append(f"{name}:{line}: {use}")
    return found


def test_only_the_settings_registry_reads_the_environment_and_nothing_writes_it() -> None:
    assert violations(ROOT) == []


def test_the_scan_catches_lazy_reads_aliases_and_writes(tmp_path: Path) -> None:
    (tmp_path / "kiosk").mkdir()
    (tmp_path / "kiosk" / "bad.py").write_text(
        "import os\n"
        "def f():\n"
        "    return os.environ.get('PN_KIOSK_DB')\n"
        "def g():\n"
        "    os.environ.setdefault('PN_KIOSK_API_CLIENT_ID', 'x')\n"
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "worse.py").write_text(
        "import os as system\n"
        "from os import getenv\n"
        "system.environ['X'] = '1'\n"
        "del system.environ['X']\n"
        "system.putenv('X', '1')\n"
        "value = system.environ['Y']\n"
    )
    assert violations(tmp_path) == [
        "app/worse.py:2: lit",
        "app/worse.py:3: écrit",
        "app/worse.py:4: écrit",
        "app/worse.py:5: écrit",
        "app/worse.py:6: lit",
        "kiosk/bad.py:3: lit",
        "kiosk/bad.py:5: écrit",
    ]
