"""Benchmark: does the cleaning path stay linear on hostile input? (issue 10)

Times ``defang`` (plain, path and indicator modes) and ``clean`` on long hostile shapes (runs a
backtracking pattern or a backward scan per match would make quadratic) at 16,000 and at
64,000 characters: a linear cost grows about 4x, a quadratic one about 16x. Nothing here
asserts (speed is measured, never asserted in a timed test). Ends with one JSON line:
{"cleaning_growth_4x": ..., "cleaning_growth_worst": "...", "slowest_ms_at_64k": ...}
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lambdas"))

HOSTILE_UNITS = {
    "dotted": "a.",
    "colons": "a:",
    "paths": "/a.bc",
    "path list": "/x/a.bc, ",
    "cyrillic dotted": "\u0430.",
    "ideographic stop": "a\u3002",
    "japanese": "写真。",
    "plus": "a+",
    "ms- scheme": "ms-",
    "digits": "1.",
    "addresses": "1.2.3.",
    "at signs": "a@",
    "unc": "\\\\a",
    "colon slash": ":/",
    "instance type": "a1",
    "user agent": "Chrome/1.2.3.4 ",
    "fullwidth": "\uff41\uff0e",
    "marks": "e\u0301\u0301\u0301\u0301",
    "fillers": "\u3164",
}
CHARS = 16_000  # then four times as many
RUNS = 5  # best of, as timeit does on a shared machine


def _best_seconds(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def growth() -> dict[str, object]:
    """The largest growth of the time when a hostile value grows fourfold, its shape, and the
    slowest call at 64,000 characters."""
    from responder.domain.cleaning import clean, defang

    steps: dict[str, Callable[[str], object]] = {
        "defang": defang,
        "defang paths": lambda value: defang(value, paths=True),
        "defang indicator": lambda value: defang(value, indicator=True),
        "clean": lambda value: clean(value, 10 * CHARS, multiline=True),
    }
    worst, shape, slowest = 0.0, "", 0.0
    for name, unit in HOSTILE_UNITS.items():
        small, large = unit * (CHARS // len(unit)), unit * (4 * CHARS // len(unit))
        for step_name, step in steps.items():
            large_s = _best_seconds(partial(step, large))
            ratio = large_s / max(_best_seconds(partial(step, small)), 1e-9)
            slowest = max(slowest, large_s)
            if ratio > worst:
                worst, shape = ratio, f"{step_name}: {name}"
    return {
        "cleaning_growth_4x": round(worst, 1),
        "cleaning_growth_worst": shape,
        "slowest_ms_at_64k": round(slowest * 1000, 1),
    }


def main() -> None:
    print(f"{len(HOSTILE_UNITS)} hostile shapes x 4 steps, {CHARS:,} then {4 * CHARS:,} characters", file=sys.stderr)
    print(json.dumps(growth()))


if __name__ == "__main__":
    main()
