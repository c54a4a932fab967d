"""Fuzzing benchmark: every hostile-input parser, 100,000 inputs each, and the crashes found.

    .venv/bin/python -m bench.fuzz_bench                  # every target, 100,000 inputs each
    .venv/bin/python -m bench.fuzz_bench mrz tlv --runs 20000
    .venv/bin/python -m bench.fuzz_bench --engine mutation  # without atheris

Each target (``tests/fuzz/targets.py``) runs in its own process, two at a time by default: with
atheris, coverage-guided (libFuzzer, product code and the parsers it relies on instrumented),
started from the target's real seeds; without atheris, or with ``--engine mutation``, random
mutations of the same seeds. Inputs are counted by the target's own wrapper, not taken from
libFuzzer's log, and a crash does not stop the run: every input that breaks the contract is
counted, and the first ones of each kind are kept with their traceback.

A child reports through a small shared file: counters, and the input being run, so that a child
stuck in C code (where Python's alarm cannot interrupt it) is killed by the parent and its input
kept as a hang. Exit status 1 when anything crashed, hung, or ran fewer inputs than asked.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import importlib.util
import mmap
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

TARGET_RUNS = 100_000
#: Instrumented for coverage under atheris: the product, the harness, the parsers it calls.
INSTRUMENTED = ["kiosk", "devices", "sync", "tests.fuzz", "asn1crypto", "tomllib", "email"]
#: Heaviest first, so that two workers finish together.
SCHEDULE = ("lecture", "demarche", "traduction", "api_nationale", "sod", "lds", "securityinfo")
#: Shared file: calls, accepted, refused, crashes, hangs, slowest (ns), input length, input.
_HEADER = struct.Struct("<8Q")
ROOT = Path(__file__).resolve().parents[1]
PRODUCT = {"kiosk", "devices", "sync", "app"}
_SAVED_PER_KIND = 3


@dataclass
class Result:
    """What one target's run reports."""

    name: str
    calls: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: int = 0
    hangs: int = 0
    slowest: float = 0.0
    messages: int = 0
    seconds: float = 0.0
    note: str = ""


# -- child: runs one target --------------------------------------------------------------------


class Recorder:
    """Runs inputs through a target's contract and keeps the counts in the shared file."""

    def __init__(self, folder: Path, name: str, time_limit: float | None) -> None:
        from tests.fuzz.targets import TARGETS

        target = TARGETS[name]
        if time_limit is not None:
            from dataclasses import replace

            target = replace(target, time_limit=time_limit)
        self.target = target
        self.folder = folder
        size = _HEADER.size + target.max_len
        with (folder / "stats").open("wb") as stream:
            stream.write(bytes(size))
        self._file = (folder / "stats").open("r+b")
        self.shared = mmap.mmap(self._file.fileno(), size)
        self.counts = [0] * 8
        self.messages: set[str] = set()
        self._messages = (folder / "messages.txt").open("a", encoding="utf-8", buffering=1)
        self.kinds: dict[str, int] = {}

    def run(self, data: bytes) -> str | None:
        """One input; returns the (masked) message when it was a new one."""
        from tests.fuzz.contract import Crash, Hang

        data = data[: self.target.max_len]
        c = self.counts
        c[6] = len(data)
        self.shared[_HEADER.size : _HEADER.size + len(data)] = data
        self.shared[: _HEADER.size] = _HEADER.pack(*c)
        start = time.perf_counter_ns()
        new = None
        try:
            message = self.target.check(data)
        except Crash as exc:
            c[3] += 1
            self._keep("crash", data, exc)
        except Hang as exc:
            c[4] += 1
            self._keep("hang", data, exc)
        else:
            if message is None:
                c[1] += 1
            else:
                c[2] += 1
                masked = mask(message)
                if masked not in self.messages:
                    self.messages.add(masked)
                    self._messages.write(masked.replace("\n", " ") + "\n")
                    new = masked
        c[0] += 1
        c[5] = max(c[5], time.perf_counter_ns() - start)
        self.shared[: _HEADER.size] = _HEADER.pack(*c)
        return new

    def _keep(self, kind: str, data: bytes, exc: BaseException) -> None:
        cause = exc.__cause__ or exc
        frames = [f for f in traceback.extract_tb(cause.__traceback__) if _ours(f.filename)]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        key = f"{kind}-{type(cause).__name__}-{where}"
        seen = self.kinds.get(key, 0)
        self.kinds[key] = seen + 1
        if seen >= _SAVED_PER_KIND:
            return
        stem = self.folder / "artifacts" / f"{kind}-{len(self.kinds)}-{seen}"
        stem.parent.mkdir(exist_ok=True)
        stem.with_suffix(".bin").write_bytes(data)
        text = "".join(traceback.format_exception(exc))
        stem.with_suffix(".txt").write_text(f"{key}\n{text}", encoding="utf-8")


def _ours(filename: str) -> bool:
    """A frame of the product (where a fix would go), not of a library or the harness."""
    relative = Path(filename).resolve()
    return relative.is_relative_to(ROOT) and relative.parts[len(ROOT.parts)] in PRODUCT


def mask(message: str) -> str:
    """A message without its numbers and quoted values: one line per kind of refusal."""
    message = re.sub(r"«[^»]*»", "«…»", message)
    message = re.sub(r"\b(objet|code) [0-9A-F]+\b", r"\1 #", message)  # TLV tags, status words
    message = re.sub(r"\S*\.toml\b", "….toml", message)  # the definition targets' files
    return re.sub(r"\b[0-9A-F]*[0-9][0-9A-F]*\b", "#", message)


def child(args: argparse.Namespace) -> None:
    """Run one target to the end (this process exits when libFuzzer is done)."""
    folder = Path(args.dir)
    os.environ["TMPDIR"] = str(folder)  # the definition targets' files go there
    tempfile.tempdir = None
    if args.engine == "atheris":
        atheris = importlib.import_module("atheris")
        with atheris.instrument_imports(include=INSTRUMENTED):
            import tests.fuzz.targets  # noqa: F401 - loaded here to be instrumented
        recorder = Recorder(folder, args.child, args.timeout)
        corpus = folder / "corpus"
        corpus.mkdir()
        for i, seed in enumerate(recorder.target.seeds()):
            (corpus / f"seed-{i}").write_bytes(seed)
        argv = [
            sys.argv[0],
            f"-runs={args.runs}",
            f"-max_len={recorder.target.max_len}",
            f"-seed={args.seed}",
            "-timeout=0",  # the contract's own alarm, and the parent's watchdog, instead
            "-rss_limit_mb=3072",
            str(corpus),
        ]

        def one(data: bytes) -> None:
            recorder.run(data)

        atheris.Setup(argv, one)
        atheris.Fuzz()
        return
    recorder = Recorder(folder, args.child, args.timeout)
    rng = random.Random(args.seed)
    pool = recorder.target.seeds() or [b""]
    for seed in pool[: args.runs]:
        recorder.run(seed)
    for _ in range(args.runs - min(args.runs, len(pool))):
        data = mutate(rng, rng.choice(pool), pool, recorder.target.max_len)
        if recorder.run(data) is not None and len(pool) < 2000:
            pool.append(data)  # a new kind of refusal: a door worth pushing further


_INTERESTING = (0x00, 0x01, 0x02, 0x0A, 0x22, 0x3C, 0x5B, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0xFF)


def mutate(rng: random.Random, data: bytes, pool: list[bytes], max_len: int) -> bytes:
    """A few random edits of ``data`` (bits, bytes, lengths, slices, a splice with another)."""
    if rng.random() < 0.02:
        return rng.randbytes(rng.randrange(max_len // 8 + 1))
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        pos = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[pos % len(out)] ^= 1 << rng.randrange(8)
        elif op == 1 and out:
            out[pos % len(out)] = rng.randrange(256)
        elif op == 2 and out:
            out[pos % len(out)] = rng.choice(_INTERESTING)
        elif op == 3:
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 4:
            del out[pos : pos + rng.randint(1, 64)]
        elif op == 5:
            out[pos:pos] = out[pos : pos + rng.randint(1, 64)] * rng.randint(1, 8)
        elif op == 6:
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            out[pos:] = other[start : start + rng.randint(1, 256)] + out[pos:]
        else:
            del out[pos:]
    return bytes(out[:max_len])


# -- parent: schedules the children and prints the table ---------------------------------------


@dataclass
class Running:
    """A child process and what the parent watches of it."""

    name: str
    folder: Path
    process: subprocess.Popen[bytes]
    started: float
    last_calls: int = 0
    last_progress: float = 0.0
    killed: bool = False


def _read_counts(folder: Path) -> tuple[list[int], bytes]:
    try:
        raw = (folder / "stats").read_bytes()
    except FileNotFoundError:
        return [0] * 8, b""
    if len(raw) < _HEADER.size:
        return [0] * 8, b""
    counts = list(_HEADER.unpack_from(raw))
    return counts, raw[_HEADER.size : _HEADER.size + counts[6]]


def _finish(job: Running, result: Result) -> None:
    counts, last = _read_counts(job.folder)
    result.calls, result.accepted, result.refused, result.crashes, result.hangs = counts[:5]
    result.slowest = counts[5] / 1e9
    result.seconds = time.monotonic() - job.started
    messages = job.folder / "messages.txt"
    if messages.exists():
        result.messages = len(messages.read_text(encoding="utf-8").splitlines())
    code = job.process.returncode
    if job.killed or code != 0:
        (job.folder / "artifacts").mkdir(exist_ok=True)
        kind = "hang" if job.killed else "crash"
        (job.folder / "artifacts" / f"{kind}-process.bin").write_bytes(last)
        if job.killed:
            result.hangs += 1
            result.note = "arrêté : plus de progrès (bloqué dans du code C ?)"
        else:
            result.crashes += 1
            result.note = f"processus terminé avec le code {code} (voir log.txt)"


def run_all(names: list[str], args: argparse.Namespace, root: Path) -> list[Result]:
    """Run every target, ``args.jobs`` at a time, and gather their results."""
    from tests.fuzz.targets import TARGETS

    order = sorted(names, key=lambda n: SCHEDULE.index(n) if n in SCHEDULE else len(SCHEDULE))
    results = {name: Result(name) for name in names}
    waiting: list[str] = list(order)
    running: list[Running] = []
    while waiting or running:
        while waiting and len(running) < args.jobs:
            name = waiting.pop(0)
            folder = root / name
            folder.mkdir()
            command = [sys.executable, "-m", "bench.fuzz_bench", "--child", name]
            command += ["--engine", args.engine, "--runs", str(args.runs), "--dir", str(folder)]
            command += ["--seed", str(args.seed)]
            if args.timeout is not None:
                command += ["--timeout", str(args.timeout)]
            log = (folder / "log.txt").open("wb")
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            log.close()
            now = time.monotonic()
            running.append(Running(name, folder, process, now, last_progress=now))
        time.sleep(0.2)
        for job in list(running):
            if job.process.poll() is not None:
                running.remove(job)
                _finish(job, results[job.name])
                _progress(results[job.name])
                continue
            calls = _read_counts(job.folder)[0][0]
            now = time.monotonic()
            if calls != job.last_calls:
                job.last_calls, job.last_progress = calls, now
            limit = args.timeout or TARGETS[job.name].time_limit
            if now - job.last_progress > max(30.0, 10 * limit):
                job.killed = True
                job.process.kill()
                job.process.wait()
    return [results[name] for name in names]


def _progress(result: Result) -> None:
    print(f"  {result.name} : {result.calls:,} entrées en {result.seconds:.0f} s", flush=True)


def print_table(results: list[Result], runs: int) -> bool:
    """The table, the totals and the verdict against the target; True when it is met."""
    head = (
        f"{'cible':<14} {'entrées':>9} {'acceptées':>9} {'refusées':>9} {'plantages':>9} "
        f"{'blocages':>8} {'messages':>8} {'max/entrée':>10} {'durée':>7}"
    )
    print()
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.name:<14} {r.calls:>9,} {r.accepted:>9,} {r.refused:>9,} {r.crashes:>9} "
            f"{r.hangs:>8} {r.messages:>8} {r.slowest * 1000:>8.1f} ms {r.seconds:>5.0f} s"
            + (f"  ({r.note})" if r.note else "")
        )
    print("-" * len(head))
    calls = sum(r.calls for r in results)
    crashes = sum(r.crashes for r in results)
    hangs = sum(r.hangs for r in results)
    fewest = min((r.calls for r in results), default=0)
    print(
        f"{'total':<14} {calls:>9,} {sum(r.accepted for r in results):>9,} "
        f"{sum(r.refused for r in results):>9,} {crashes:>9} {hangs:>8}"
    )
    met = crashes == 0 and hangs == 0 and fewest >= runs
    objective = met and fewest >= TARGET_RUNS
    print(
        f"\nObjectif : ≥ {TARGET_RUNS:,} entrées par analyseur et 0 plantage. "
        f"Mesuré : {fewest:,} entrées au minimum ({len(results)} cibles, {calls:,} en tout), "
        f"{crashes} plantage(s), {hangs} blocage(s) → {'atteint' if objective else 'NON atteint'}"
        + ("." if runs >= TARGET_RUNS else f" (run réduit à {runs:,} entrées par cible).")
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help="cibles (toutes par défaut)")
    parser.add_argument("--runs", type=int, default=TARGET_RUNS, help="entrées par cible")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--engine", choices=("auto", "atheris", "mutation"), default="auto")
    parser.add_argument("--timeout", type=float, default=None, help="secondes par entrée")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="dossier où garder les entrées")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine == "auto":
        args.engine = "atheris" if importlib.util.find_spec("atheris") else "mutation"
    if args.child:
        child(args)
        return 0

    from tests.fuzz.targets import TARGETS

    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"cible inconnue : {', '.join(unknown)} (connues : {', '.join(TARGETS)})")
    engine = (
        f"atheris {importlib.metadata.version('atheris')}, guidé par la couverture"
        if args.engine == "atheris"
        else "mutations aléatoires des graines (atheris absent ou non choisi)"
    )
    jobs = f"{args.jobs} en parallèle"
    print(f"Fuzzing : {len(names)} cibles × {args.runs:,} entrées ({engine}), {jobs}")
    root = Path(tempfile.mkdtemp(prefix="pn-fuzz-bench-"))
    try:
        results = run_all(names, args, root)
        met = print_table(results, args.runs)
        troubled = [r.name for r in results if r.crashes or r.hangs]
        if troubled or args.keep:
            keep = args.keep or Path(tempfile.gettempdir()) / "pn-fuzz-artifacts"
            for name in troubled or names:
                with contextlib.suppress(FileNotFoundError):
                    shutil.copytree(root / name, keep / name, dirs_exist_ok=True)
            print(f"Entrées et traces gardées dans {keep}/<cible>/artifacts")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
