"""What a dossier costs at the counter: taps, characters and screens, by an expert agent.

Drives the real application offscreen in training mode (the window `scripts/run --demo` shows,
its services, pcscd with the simulated CNIe on the virtual reader, the reference national
server) with real input events, on the shortest correct path (`bench/counter_driver.py`):

- a succession with one co-heir, a changement de titulaire, a permis renouvellement;
- the identity step by the card (its CAN, 123456 in training mode, typed: 6 characters), the
  other questions typed or tapped from a table of realistic values (a text box the flow has
  already focused is typed into without a tap; the keyboard's Enter after a typed answer, one
  more character, moves on to the next question), documents left « à
  apporter » (the flow files without them), the mandate signed with one stroke, filed, and
  « Terminer » on the receipt. The sign-in is not counted.

Counted per dossier, from the tap on the démarche's tile to the tap on « Terminer »:
**taps** (every press and release, every swipe that brings a field into view, the signature
stroke, lost taps tapped again), **characters** typed, and **screens** crossed (each change of
screen or of wizard step, seen once the flow has settled; the return to the home screen is not
one). The **floor** is the number of questions the démarche asks on the path taken: the
mandatory questions visible with the answers given (an address, an identity document: one
question each; each field of a co-heir: one), plus one per repeatable-group item added (the
decision « one more co-heir »). Optional questions (email, permit number) are not asked by an
expert and not counted. The ratio taps/floor says how many taps each question costs.

Also timed: every tap on « Suivant » (the wizard's, the documents screen's), from the finger's
release to the end of the frame that paints the next step (after the save or the load it waits
for); the p95 over all steps of the dossiers is printed for each run, with the spread over the
runs. The figures are printed, never asserted.

    .venv/bin/python -m bench.counter_bench [--runs 3] [--json] [--dossier succession]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import ensure_pcscd, percentile, report

if TYPE_CHECKING:
    from ui.services import UiServices

#: dossier → (label, target taps). The dossier is the démarche id.
DOSSIERS: dict[str, tuple[str, int]] = {
    "succession": ("succession, 1 cohéritier", 60),
    "changement_titulaire": ("changement de titulaire", 40),
    "permis_renouvellement": ("permis, renouvellement", 30),
}
SUIVANT_TARGET_MS = 100.0
_RESULT = "RESULT "


def _child(data_dir: str, dossiers: list[str]) -> None:
    """One run in a fresh process: start the kiosk as `scripts/run --demo`, file each dossier."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from bench.counter_driver import Agent, BenchError, floor
    from ui.app import start

    opened = []

    def build() -> UiServices:
        from app.container import build_ui
        from app.settings import Settings

        services, container = build_ui(Settings(data_dir=Path(data_dir)), training=True)
        opened.append(container)
        return services

    window = start(build, windowed=True, training=True)
    agent = Agent(window)
    status = 0
    try:
        agent.sign_in()
        for demarche_id in dossiers:
            tally, reference = agent.file(demarche_id)
            services = window.services
            view = services.dossiers.show(reference)
            summary = view.summary
            demarche = services.catalog.get(summary.demarche_id, summary.demarche_version)
            row = {
                "dossier": demarche_id,
                "demarche": summary.demarche_id,
                "reference": reference,
                "floor": floor(demarche, dict(view.answers)),
                **asdict(tally),
            }
            print(_RESULT + json.dumps(row, ensure_ascii=False), flush=True)
    except BenchError as exc:
        print(f"ERREUR {exc}", flush=True)
        status = 1
    except Exception as exc:  # a screen changed under the driver: say where, and stop cleanly
        print(f"ERREUR {type(exc).__name__} : {exc}", flush=True)
        traceback.print_exc()
        status = 1
    window.runner.wait()
    for container in opened:
        container.close()
    app = QApplication.instance()
    if app is not None:
        app.processEvents()
    os._exit(status)  # the figures are out; skip interpreter teardown of the Qt objects


#: One dossier's figures, as JSON.
Row = dict[str, Any]


def _run_once(dossiers: list[str]) -> list[Row]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "bench.counter_bench", "--child", tmp, *dossiers],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
    rows = [
        json.loads(line.removeprefix(_RESULT))
        for line in done.stdout.splitlines()
        if line.startswith(_RESULT)
    ]
    errors = [line for line in done.stdout.splitlines() if line.startswith("ERREUR")]
    if done.returncode != 0 or len(rows) != len(dossiers):
        detail = "\n".join(errors) or done.stderr[-3000:]
        raise SystemExit(f"le parcours n'a pas abouti (code {done.returncode}) :\n{detail}")
    return rows


def _median(values: list[int]) -> int:
    return int(statistics.median_low(values))


def _summary(runs: list[list[Row]], dossiers: list[str]) -> list[Row]:
    """One object per dossier: the median over the runs of each count, and every sample."""
    out = []
    for index, dossier in enumerate(dossiers):
        rows = [run[index] for run in runs]
        first = rows[0]

        def counts(key: str, rows: list[Row] = rows) -> list[int]:
            return [int(row[key]) for row in rows]

        out.append(
            {
                "dossier": dossier,
                "demarche": first["demarche"],
                "taps": _median(counts("taps")),
                "characters": _median(counts("characters")),
                "screens": _median(counts("screens")),
                "floor": _median(counts("floor")),
                "swipes": _median(counts("swipes")),
                "lost_taps": _median(counts("lost_taps")),
                "target_taps": DOSSIERS[dossier][1],
                "taps_per_run": counts("taps"),
                "suivant_ms": [ms for row in rows for ms in row["suivant_ms"]],
                "defects": list(dict.fromkeys(d for row in rows for d in row["defects"])),
                "actions": first["actions"],
            }
        )
    return out


def _print_table(summary: list[Row]) -> None:
    head = (
        "dossier",
        "démarche",
        "taps (cible)",
        "caractères",
        "écrans",
        "plancher",
        "taps/plancher",
    )
    lines = [head]
    for row in summary:
        taps, floor_ = int(row["taps"]), int(row["floor"])
        spread = row["taps_per_run"]
        varied = f" [{min(spread)}–{max(spread)}]" if min(spread) != max(spread) else ""
        lines.append(
            (
                DOSSIERS[str(row["dossier"])][0],
                str(row["demarche"]),
                f"{taps}{varied} (≤ {row['target_taps']})",
                str(row["characters"]),
                str(row["screens"]),
                str(floor_),
                f"{taps / floor_:.2f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for line in lines:
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    for row in summary:
        extra = (
            f"{row['dossier']} : {row['swipes']} glissement(s), {row['lost_taps']} tap(s) perdu(s)"
        )
        print(f"# {extra} (compris dans les taps)")
        for defect in row["defects"]:
            print(f"#   {defect}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(prog="bench.counter_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="parcours complets (3 par défaut)")
    parser.add_argument("--json", action="store_true", help="un objet JSON par dossier")
    parser.add_argument(
        "--trace", action="store_true", help="chaque geste compté du premier parcours"
    )
    parser.add_argument(
        "--dossier",
        action="append",
        choices=list(DOSSIERS),
        help="seulement ce dossier (répétable ; par défaut les trois)",
    )
    args = parser.parse_args()
    dossiers: list[str] = args.dossier or list(DOSSIERS)
    # pcscd first: training mode, as `scripts/run --demo` starts it, puts its card on the reader.
    pcscd = ensure_pcscd()
    try:
        runs = [_run_once(dossiers) for _ in range(max(1, args.runs))]
    finally:
        if pcscd is not None:
            pcscd.terminate()
    summary = _summary(runs, dossiers)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    _print_table(summary)
    if args.trace:
        for row in summary:
            for number, action in enumerate(row["actions"], 1):
                print(f"{row['dossier']} {number:3} {action}")
    p95s = [percentile([ms for row in run for ms in row["suivant_ms"]], 0.95) for run in runs]
    middle = statistics.median(p95s)
    report(
        "« Suivant » → étape peinte, p95",
        middle,
        "ms",
        f"≤ {SUIVANT_TARGET_MS:.0f} ms",
        f"{middle / SUIVANT_TARGET_MS:.2f}× la cible ; {len(runs)} parcours : "
        f"{min(p95s):.1f}–{max(p95s):.1f} ms",
    )


if __name__ == "__main__":
    main()
