"""Small helpers shared by the benchmark scripts: percentiles and a fixed report format."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``samples``."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def median(samples: Sequence[float]) -> float:
    """The median of ``samples``."""
    return statistics.median(samples)


def report(name: str, value: float, unit: str, target: str, ratio: str = "") -> None:
    """One line per figure: name, value, target, and the ratio to its reference."""
    extra = f"  ratio {ratio}" if ratio else ""
    print(f"{name:<46} {value:10.3f} {unit:<3} (cible {target}){extra}")
