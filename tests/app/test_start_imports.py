"""What a kiosk loads at start, and what waits for its first use (issue 18): Qt TextToSpeech
and Qt Multimedia (the speech, the counter's camera), Tesseract's module, training's drawn
identity cards; the devices built at their first use work as the ones they stand for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.lazy_devices import LazyCamera, LazyTextReader
from devices.camera.simulated import SimulatedCamera
from kiosk.ports.devices import TextLayout
from tests.sync.support import ROOT

#: Loaded only by the action that needs it, never by the start.
LATER = [
    "PySide6.QtTextToSpeech",
    "PySide6.QtMultimedia",
    "devices.camera.qt",
    "devices.ocr.tesseract",
    "devices.cardsim.printed",
]

_START = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from ui.app import lighten_pyside_imports
app = QApplication([])
lighten_pyside_imports()
from app.container import build_ui
from app.settings import Settings
from ui.main_window import MainWindow
from ui.theme import load_fonts
services, container = build_ui(
    Settings(data_dir=Path(sys.argv[1])), training=sys.argv[2] == "formation", sync=False
)
window = MainWindow(services, family=load_fonts())
print(json.dumps(sorted(set(sys.modules) & set(sys.argv[3:]))))
container.close()
"""


def _loaded_at_start(tmp_path: Path, mode: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _START, str(tmp_path), mode, *LATER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_a_counter_starts_without_speech_camera_or_ocr_modules(tmp_path: Path) -> None:
    assert _loaded_at_start(tmp_path, "guichet") == []


def test_training_starts_without_drawing_its_identity_cards(tmp_path: Path) -> None:
    assert _loaded_at_start(tmp_path, "formation") == []


def test_a_camera_built_at_first_use_is_the_camera_it_stands_for() -> None:
    made: list[SimulatedCamera] = []

    def make() -> SimulatedCamera:
        made.append(SimulatedCamera([]))
        made[-1].absent = True  # rehearses « no camera »: its problem says so
        return made[-1]

    camera = LazyCamera(make)
    camera.stop()  # nothing to stop, nothing built
    assert made == [] and not camera.built
    problem = camera.problem()
    assert problem is not None and "Aucune caméra" in str(problem)
    assert camera.name == made[0].name
    assert len(made) == 1 and camera.built  # once


class _Reader:
    def __init__(self) -> None:
        self.read: list[bytes] = []

    def unavailable(self) -> str | None:
        return None

    def read_text(self, image: bytes, *, alphabet: str | None, layout: TextLayout) -> str:
        self.read.append(image)
        return "123456"


def test_a_text_reader_built_at_first_use_reads_as_the_reader_it_stands_for() -> None:
    readers: list[_Reader] = []

    def make() -> _Reader:
        readers.append(_Reader())
        return readers[-1]

    reader = LazyTextReader(make)
    assert not reader.built
    assert reader.unavailable() is None
    assert reader.read_text(b"photo", alphabet="0123456789", layout=TextLayout.LINE) == "123456"
    assert len(readers) == 1 and readers[0].read == [b"photo"]
