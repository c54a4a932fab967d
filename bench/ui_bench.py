"""Figures of the touchscreen application, offscreen.

Prints: cold start to the first screen and to the home screen, with their ratio to a bare
PySide6 window started the same way in the same run (target ≤ 1.5×); from the tap on the PIN's
OK to the home screen painted, the PIN typed on the keypad at a person's pace while the
services load (issue 18: ≤ 300 ms); peak memory after a complete dossier (target ≤ 250 MB);
the longest stall of the UI event loop during an NFC read, a filing (receipt built and
printed) and a sync (target ≤ 50 ms). Each figure is the median of the runs, with their spread.

``--one-core`` runs every kiosk process (and the bare window) on one core (``taskset -c 0``):
a machine twice as slow as this two-core one, where the UI thread shares its core with the
workers (issue 18: no stall above 50 ms there either).

    .venv/bin/python -m bench.ui_bench [--one-core] [--runs 11] [--dossier-runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import ensure_pcscd, median, report

if TYPE_CHECKING:
    from ui.services import UiServices

RUNS = 11
_KEYS = {"PEAK", "STALL", "STALL_NFC", "STALL_SYNC", "NFC_OK"}
#: The PIN tapped on the keypad from the first frame on, one key every PIN_PACE_S seconds (a
#: person's pace on a touchscreen keypad; ``--pin-pace``), then OK.
PIN = "0000"
PIN_PACE_S = 0.5
#: Every child process runs under this (``taskset -c 0`` with --one-core).
_PREFIX: list[str] = []


def _child_bare() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QPaintEvent
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    painted: list[float] = []

    def done() -> None:
        painted.append(time.time())
        app.quit()

    class Window(QMainWindow):
        """Quits once its first frame is painted, as the kiosk's window reports it."""

        def paintEvent(self, event: QPaintEvent) -> None:
            super().paintEvent(event)
            QTimer.singleShot(0, done)  # the next turn of the loop: the frame is on screen

    app = QApplication(sys.argv)
    window = Window()
    window.setCentralWidget(QLabel("Bonjour"))
    window.resize(1280, 800)
    window.show()
    app.exec()
    print(f"READY {painted[0]}", flush=True)


def _child_kiosk(data_dir: str, mode: str, pace: float = PIN_PACE_S) -> None:
    """``first``: until the sign-in keypad is painted; ``home``: until the home screen is, the
    PIN given as soon as the services are loaded; ``pin``: the PIN tapped on the keypad at a
    person's pace from the first frame on, then OK, and the time from OK to the home painted."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QPushButton

    from ui.app import start

    opened = []
    ready: list[float] = []
    marks: dict[str, float] = {}

    def build() -> UiServices:
        from app.container import build_ui
        from app.settings import Settings

        services, container = build_ui(Settings(data_dir=Path(data_dir)), training=True)
        opened.append(container)
        return services

    # Exactly what `kiosk run --demo --windowed` does: paint first, services on the worker.
    window = start(build, windowed=True, training=True)
    app = QApplication.instance()
    assert app is not None

    class HomePainted(QObject):
        """Marks the home screen's first frame after OK (the next turn of the loop)."""

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "home" not in marks:
                marks["home"] = 0.0
                QTimer.singleShot(0, done)
            return False

    painted = HomePainted()

    def done() -> None:
        marks["home"] = time.time()
        ready.append(marks["home"])
        app.quit()

    def watch_home(_index: int) -> None:
        home: QObject | None = getattr(window, "home", None)
        shown = home is not None and window.stack.currentWidget() is home
        if home is not None and shown:
            home.installEventFilter(painted)  # before its first frame: set in the same call

    def check() -> None:
        home = getattr(window, "home", None)  # exists once the services are attached
        if mode == "first" or (home is not None and window.stack.currentWidget() is home):
            ready.append(time.time())
            app.quit()
        elif window.runner.idle and window.signin._buttons and not window.signin.pin.text():
            window.signin.pin.setText(PIN)
            window.signin._submit()
            QTimer.singleShot(1, check)
        else:
            QTimer.singleShot(1, check)

    def tap(keys: str) -> None:
        if not keys:
            return
        if keys[0] == "K":
            marks["services"] = 1.0 if window.signin.ready and window.signin._buttons else 0.0
            marks["ok"] = time.time()
            window.signin._ok.click()
            return
        keypad = window.signin.findChildren(QPushButton)  # not another screen's digit pad
        next(b for b in keypad if b.text() == keys[0]).click()
        QTimer.singleShot(round(pace * 1000), lambda: tap(keys[1:]))

    if mode == "pin":
        # A refused PIN would leave the window on the sign-in: said, not waited for forever.
        QTimer.singleShot(
            60_000, lambda: (print("# l'accueil n'est pas venu", flush=True), os._exit(1))
        )
        window.stack.currentChanged.connect(watch_home)
        window.first_painted.connect(
            lambda: QTimer.singleShot(round(pace * 1000), lambda: tap(PIN + "K"))
        )
    else:
        # The first screen counts once painted (the first turn of the loop comes before it).
        window.first_painted.connect(check)
    app.exec()
    print(f"READY {ready[0]}", flush=True)
    if mode == "pin":
        print(f"OK_HOME {(marks['home'] - marks['ok']) * 1e3:.1f}", flush=True)
        print(f"SERVICES_READY {marks['services']:.0f}", flush=True)
    window.runner.wait()
    for container in opened:
        container.close()
    os._exit(0)


def _run_child(args: list[str]) -> tuple[float, dict[str, str]]:
    """Run a child (under :data:`_PREFIX`): when it said READY since its start, and its lines."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    start = time.time()  # wall clock, shared with the child: when it says READY is what counts
    out = subprocess.run(
        [*_PREFIX, sys.executable, "-m", "bench.ui_bench", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    ).stdout
    values = dict(line.split(maxsplit=1) for line in out.splitlines() if " " in line)
    return float(values.get("READY", "nan")) - start, values


def _time(args: list[str]) -> float:
    return _run_child(args)[0]


def _spread(values: list[float], scale: float = 1.0, unit: str = "ms") -> str:
    return f"{min(values) * scale:.0f}–{max(values) * scale:.0f} {unit} sur {len(values)}"


def _child_dossier(data_dir: str) -> None:
    """A complete dossier through the UI, then the peak memory and the longest loop stall."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QElapsedTimer, QPointF, QTimer
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from ui.app import lighten_pyside_imports, prepare_environment

    lighten_pyside_imports()  # as ui.app.start() does, before the services' imports
    from app.container import build_ui
    from app.settings import Settings
    from tests.support import file_dossier, fill

    prepare_environment(keyboard=True)
    app = QApplication(sys.argv)
    from ui.main_window import MainWindow
    from ui.theme import load_fonts

    family = load_fonts()
    QApplication.setFont(QFont(family, 14))
    services, container = build_ui(
        Settings(data_dir=Path(data_dir)),
        training=True,
        sync=os.environ.get("PN_BENCH_NOSYNC") is None,
    )
    window = MainWindow(services, family=family)
    window.resize(1280, 800)
    window.show()
    reference = services.dossiers.create("succession", training=True).reference
    fill(services.dossiers, reference, services.catalog.latest("succession"))

    stalls: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(5)

    def tick() -> None:
        stalls.append(clock.restart())

    ticker.timeout.connect(tick)

    def wait(predicate: object, limit: float = 20.0) -> None:
        end = time.monotonic() + limit
        while not predicate() and time.monotonic() < end:  # type: ignore[operator]
            app.processEvents()
            time.sleep(0.001)

    # As an agent does: the name shown (the only one, chosen), then the PIN and OK.
    wait(lambda: window.runner.idle and bool(window.signin._buttons))
    window.signin.pin.setText(PIN)
    window.signin._submit()
    wait(lambda: window.stack.currentWidget() is window.home)
    if window.agent is None:
        raise SystemExit("la connexion de l'agent n'a pas abouti")

    def longest(action: object, done: object) -> float:
        """The longest gap between two 5 ms ticks of the UI loop while ``action`` runs."""
        stalls.clear()
        clock.start()
        ticker.start()
        action()  # type: ignore[operator]
        wait(done)
        ticker.stop()
        return max(stalls) if stalls else 0.0

    # 1. An NFC read of the simulated CNIe through pcscd (training mode puts it on the reader).
    nfc_stall = -1.0
    if services.training_can:
        other = services.dossiers.create("succession", training=True).reference
        window._resume(other)
        wait(lambda: window.wizard.identity_panel is not None and window.runner.idle)
        panel = window.wizard.identity_panel
        assert panel is not None
        panel.can.setText(services.training_can)
        # Done when the photo and verdict are shown, or an error is (progress labels are not).
        nfc_stall = longest(
            panel.read_card,
            lambda: panel.reading is not None or panel.status.objectName() == "error",
        )
        print(f"NFC_OK {panel.reading is not None}")
        if panel.reading is None:
            # A stall measured around a read that did not finish would mean nothing.
            print(f"# NFC: {panel.status.text()}", file=sys.stderr)
            nfc_stall = -1.0
    print(f"STALL_NFC {nfc_stall:.1f}")

    window._consent(reference)
    wait(lambda: window.runner.idle)
    window.consent.pad.stroke([QPointF(40 + 6 * i, 120 + (i % 7) * 9) for i in range(60)])
    window.consent.sign_button.click()
    wait(lambda: window.consent.continue_button.isVisible() and window.runner.idle)
    window.consent.continue_button.click()
    wait(lambda: window.stack.currentWidget() is window.review and window.runner.idle)
    if os.environ.get("PN_BENCH_PROBE"):
        _start_probe(clock)
    # 2. Filing: validate, queue, build the receipt's PDF and QR, print it.
    receipt_stall = longest(
        window.review.submit_button.click,
        lambda: (
            window.stack.currentWidget() is window.receipt
            and window.runner.idle
            and "Reçu" in window.receipt.status.text()
        ),
    )
    # 3. The background sync sending a dossier to the reference national server (one queued
    #    without waking the worker, then woken while the loop is watched).
    queued = services.dossiers.create("cas_complexe", training=True).reference
    fill(services.dossiers, queued, services.catalog.latest("cas_complexe"))
    file_dossier(services.dossiers, queued)
    sent: list[bool] = []

    def poll_sent() -> bool:
        # Polled from a worker job, not the UI thread: the check must not stall what it measures.
        if not sent and window.runner.idle:
            window.runner.run(
                lambda: services.dossiers.show(queued).summary.state.value == "transmis",
                on_done=lambda done: sent.append(True) if done else None,
            )
        return bool(sent)

    sync_stall = longest(lambda: services.sync_wake() if services.sync_wake else None, poll_sent)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"PEAK {peak_mb:.1f}")
    print(f"STALL {receipt_stall:.1f}")
    print(f"STALL_SYNC {sync_stall:.1f}", flush=True)
    window.runner.wait()
    container.close()
    os._exit(0)  # the figures are out; skip interpreter teardown of the Qt objects


def _start_probe(clock: object) -> None:
    """Diagnosis (PN_BENCH_PROBE=1): print every thread's stack when the UI loop stalls."""
    import threading
    import traceback

    def watch() -> None:
        while True:
            time.sleep(0.01)
            gap = clock.elapsed()  # type: ignore[attr-defined]
            if gap > 40:
                print(f"# stall {gap} ms", file=sys.stderr)
                for ident, frame in sys._current_frames().items():
                    name = next((t.name for t in threading.enumerate() if t.ident == ident), "?")
                    where = " <- ".join(
                        f"{f.name}@{Path(f.filename).name}:{f.lineno}"
                        for f in reversed(traceback.extract_stack(frame)[-4:])
                    )
                    print(f"#   [{name}] {where}", file=sys.stderr)
                time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()


def _cold_starts(runs: int, pace: float) -> None:
    """Cold start to the first screen, to home, and from OK to home: ``runs`` interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        _time(["--child-kiosk", tmp, "home"])  # first run creates the database: not counted
        bare, first, home, ok_home, late = [], [], [], [], 0
        for _ in range(runs):
            bare.append(_time(["--child-bare"]))
            first.append(_time(["--child-kiosk", tmp, "first"]))
            home.append(_time(["--child-kiosk", tmp, "home"]))
            _, values = _run_child(["--child-kiosk", tmp, "pin", str(pace)])
            ok_home.append(float(values["OK_HOME"]))
            late += values["SERVICES_READY"] == "0"
    b = median(bare)
    report(
        "démarrage à froid : fenêtre PySide6 nue", b * 1e3, "ms", "référence", _spread(bare, 1e3)
    )
    report(
        "démarrage à froid : premier écran (connexion)",
        median(first) * 1e3,
        "ms",
        "≤ 1,5× nu",
        f"{median(first) / b:.2f}× fenêtre nue, {_spread(first, 1e3)}",
    )
    report(
        "démarrage à froid : accueil (PIN dès le chargement)",
        median(home) * 1e3,
        "ms",
        "—",
        f"{median(home) / b:.2f}× fenêtre nue, {_spread(home, 1e3)}",
    )
    typed = f"PIN tapé en {(len(PIN) + 1) * pace:.2f} s dès la première image"
    report(
        "du OK du PIN à l'accueil affiché",
        median(ok_home),
        "ms",
        "≤ 300 ms",
        f"{median(ok_home) / 300:.2f}× la cible, {_spread(ok_home)} ({typed};"
        f" services pas encore prêts au OK : {late}/{runs})",
    )


def _stalls(runs: int) -> None:
    """Peak memory and the longest UI stalls over ``runs`` complete dossiers (one per process)."""
    collected: dict[str, list[float]] = {key: [] for key in ("PEAK", *_STALLS)}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            _, values = _run_child(["--child-dossier", tmp])
        for key, series in collected.items():
            if key in values and float(values[key]) >= 0:
                series.append(float(values[key]))
    peaks = collected["PEAK"]
    report(
        "mémoire maximale après un dossier complet",
        median(peaks),
        "MB",
        "≤ 250 MB",
        f"{median(peaks) / 250:.2f}× la cible, {_spread(peaks, unit='MB')}",
    )
    for key, label in _STALLS.items():
        stalls = collected[key]
        if not stalls:
            print(f"blocage : {label} : non mesuré (pas de lecteur, ou lecture non aboutie)")
            continue
        value = median(stalls)
        report(
            f"plus long blocage : {label}",
            value,
            "ms",
            "≤ 50 ms",
            f"{value / 50:.2f}×, {_spread(stalls)} (pire : {max(stalls) / 50:.2f}×)",
        )


_STALLS = {
    "STALL_NFC": "lecture NFC de la CNIe (pcscd)",
    "STALL": "dépôt + reçu PDF + impression",
    "STALL_SYNC": "envoi au serveur national",
}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-bare":
        _child_bare()
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-kiosk":
        _child_kiosk(sys.argv[2], sys.argv[3], *(float(a) for a in sys.argv[4:5]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-dossier":
        _child_dossier(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one-core", action="store_true", help="every kiosk on one core")
    parser.add_argument("--runs", type=int, default=RUNS, help="cold starts (interleaved)")
    parser.add_argument("--dossier-runs", type=int, default=3, help="complete dossiers")
    parser.add_argument("--pin-pace", type=float, default=PIN_PACE_S, help="seconds per key")
    args = parser.parse_args()
    if args.one_core:
        _PREFIX[:] = ["taskset", "-c", "0"]
        print("# chaque processus du kiosque sur un seul cœur (taskset -c 0)")
    # pcscd first: training mode, as `scripts/run --demo` starts it, puts its card on the reader.
    pcscd = ensure_pcscd()
    try:
        _cold_starts(args.runs, args.pin_pace)
        _stalls(args.dossier_runs)
    finally:
        if pcscd is not None:
            pcscd.terminate()


if __name__ == "__main__":
    main()
