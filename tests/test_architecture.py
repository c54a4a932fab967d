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

#: file → modules it may import despite its package's rule. The two exceptions: the counter's
#: camera is reached through Qt Multimedia (its backends are how the kiosk's one GUI toolkit
#: talks to V4L2 and PipeWire cameras; no other camera library is a dependency), and reading
#: aloud through Qt TextToSpeech (its speechd plugin is how it talks to speech-dispatcher).
#: Those modules get Qt's core, image, multimedia and speech modules, never widgets: no screen
#: lives in devices/.
ALLOWED: dict[str, set[str]] = {
    "devices/camera/qt.py": {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtMultimedia"},
    "devices/speech/qt.py": {"PySide6.QtCore", "PySide6.QtTextToSpeech"},
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


def test_only_the_camera_and_speech_modules_of_devices_may_import_qt_and_never_widgets(
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
    (tmp_path / "devices" / "speech").mkdir()
    (tmp_path / "devices" / "speech" / "qt.py").write_text(
        "from PySide6.QtTextToSpeech import QTextToSpeech\nfrom PySide6.QtWidgets import QWidget\n"
    )
    (tmp_path / "devices" / "speech" / "silent.py").write_text(
        "from PySide6.QtTextToSpeech import QTextToSpeech\n"
    )
    assert violations(tmp_path) == [
        "devices/camera/qt.py: PySide6.QtWidgets",
        "devices/camera/simulated.py: PySide6.QtMultimedia",
        "devices/printing.py: PySide6.QtCore",
        "devices/speech/qt.py: PySide6.QtWidgets",
        "devices/speech/silent.py: PySide6.QtTextToSpeech",
    ]


#: Inside the domain, each capability folder and what it may import of the others (besides
#: itself). The lower ones (texts, paths, the store, démarches, identity, receipts) never reach
#: up into dossiers, security or sync; only the use cases above them combine them.
DOMAIN_LAYERS: dict[str, set[str]] = {
    "kiosk.settings": set(),
    "kiosk.digits": set(),
    # Signed bundles: verified and installed, knowing nothing of what they carry.
    "kiosk.updates": set(),
    "kiosk.messages": {"kiosk.settings"},
    "kiosk.store": {"kiosk.settings", "kiosk.messages"},
    "kiosk.demarches": {"kiosk.settings", "kiosk.messages", "kiosk.digits", "kiosk.updates"},
    "kiosk.identity": {"kiosk.settings", "kiosk.messages", "kiosk.digits"},
    "kiosk.receipt": {"kiosk.settings", "kiosk.messages"},
    "kiosk.fees": {
        "kiosk.settings",
        "kiosk.messages",
        "kiosk.digits",
        "kiosk.demarches",
        "kiosk.updates",
    },
    # The decisions feed's typed reasons are values of the follow-up (kiosk/followup/reasons.py).
    "kiosk.ports": {"kiosk.identity", "kiosk.messages", "kiosk.followup", "kiosk.updates"},
    "kiosk.site": {"kiosk.store", "kiosk.security", "kiosk.messages"},
    "kiosk.security": {
        "kiosk.store",
        "kiosk.settings",
        "kiosk.messages",
        "kiosk.digits",
        "kiosk.dossiers",
    },
    "kiosk.dossiers": {
        "kiosk.settings",
        "kiosk.messages",
        "kiosk.digits",
        "kiosk.store",
        "kiosk.demarches",
        "kiosk.identity",
        "kiosk.receipt",
        "kiosk.site",
        "kiosk.security",
        "kiosk.sync",
        "kiosk.ports",  # attaching a scan reads and deletes it through the ScanSource port
        "kiosk.fees",  # the estimate of a dossier's fees reads its answers
        "kiosk.followup",  # a dossier sent back changes only where the service asked
    },
    # After the counter: the worklist reads dossiers; contact attempts and corrections are
    # written in the dossier use cases' transactions. A letter carries the receipt's QR code,
    # fonts and payment block, the counter's details and amounts in euros.
    "kiosk.followup": {
        "kiosk.settings",
        "kiosk.messages",
        "kiosk.store",
        "kiosk.demarches",
        "kiosk.dossiers",
        "kiosk.security",
        "kiosk.receipt",
        "kiosk.site",
        "kiosk.fees",
        "kiosk.ports",  # the letters go to the counter's printer (Printer port)
    },
    # A new kiosk's enrolment: the code is written like a reference (its alphabet and check
    # symbol), the site's settings carry the counter's details, issuing one is audited, its
    # sheet is drawn with the receipt's fonts and QR painter, its expiry in the counter's time.
    "kiosk.enrolment": {
        "kiosk.dossiers",
        "kiosk.ports",
        "kiosk.site",
        "kiosk.security",
        "kiosk.store",
        "kiosk.receipt",
        "kiosk.settings",
    },
    # The outbox sends what the démarche asks of the dossier: it evaluates the definition.
    "kiosk.sync": {
        "kiosk.store",
        "kiosk.ports",
        "kiosk.dossiers",
        "kiosk.security",
        "kiosk.demarches",
        # A decision's notice keeps its typed reasons and queues its text message.
        "kiosk.followup",
        "kiosk.updates",  # the signed bundles the worker installs, journalled
    },
}


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def domain_imports(root: Path) -> dict[str, set[str]]:
    """Each domain module → the domain modules it imports when it is loaded (imports inside a
    function or under ``TYPE_CHECKING`` excluded: they cannot make a loading cycle)."""
    modules = {_module_name(root, p): p for p in sorted((root / "kiosk").rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ImportFrom | ast.Import):
                continue
            named = (
                [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            for dotted in named:
                found = dotted
                while found and found not in modules:
                    found = found.rpartition(".")[0]
                if found and found != name:
                    targets.add(found)
                    break
        graph[name] = targets
    return graph


def layer_violations(root: Path) -> list[str]:
    """``module: imported`` for each domain import that reaches a capability it may not use, and
    ``cycle: a → b → a`` for each loading cycle between domain modules."""
    graph = domain_imports(root)
    found = []
    for module, targets in sorted(graph.items()):
        package = ".".join(module.split(".")[:2])
        allowed = DOMAIN_LAYERS.get(package)
        for target in sorted(targets):
            other = ".".join(target.split(".")[:2])
            if other in (package, "kiosk") or allowed is None:
                continue
            if other not in allowed:
                found.append(f"{module}: {target}")
    seen: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            found.append("cycle: " + " → ".join([*trail[trail.index(module) :], module]))
            return
        if module in seen:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*trail, module])
        seen.add(module)

    for module in sorted(graph):
        visit(module, [])
    return found


def test_every_domain_folder_is_in_the_layering() -> None:
    """A new folder (or loose module) is placed in the layering on purpose, not by default."""
    kiosk = ROOT / "kiosk"
    folders = {f"kiosk.{p.name}" for p in kiosk.iterdir() if (p / "__init__.py").exists()}
    loose = {f"kiosk.{p.stem}" for p in kiosk.glob("*.py") if p.stem != "__init__"}
    assert folders | loose == set(DOMAIN_LAYERS)


def test_no_domain_import_runs_back_up_and_none_loops() -> None:
    assert layer_violations(ROOT) == []


def test_the_layering_catches_a_store_reaching_into_dossiers_and_a_cycle(tmp_path: Path) -> None:
    for folder in ("store", "dossiers"):
        (tmp_path / "kiosk" / folder).mkdir(parents=True)
        (tmp_path / "kiosk" / folder / "__init__.py").write_text("")
    (tmp_path / "kiosk" / "store" / "models.py").write_text("from kiosk.dossiers.a import x\n")
    (tmp_path / "kiosk" / "dossiers" / "a.py").write_text("from kiosk.dossiers.b import y\n")
    (tmp_path / "kiosk" / "dossiers" / "b.py").write_text("from kiosk.dossiers.a import x\n")
    found = layer_violations(tmp_path)
    assert "kiosk.store.models: kiosk.dossiers.a" in found
    assert "cycle: kiosk.dossiers.a → kiosk.dossiers.b → kiosk.dossiers.a" in found
