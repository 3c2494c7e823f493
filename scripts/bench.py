"""Benchmark: throughput, cold import cost against boto3, and the Lambda asset size.

Figures are ratios or rates measured in this run on this machine; nothing here asserts.
Ends with one JSON line:
{"findings_per_s": ..., "import_ms": ..., "boto3_import_ms": ..., "import_ratio": ..., "asset_bytes": ...,
 "triage_import_ratio": ..., "notifier_import_ratio": ...}

Import cost is measured as deployed: each function's own entry module, in the environment the
stack gives it, inside Lambda (``LAMBDA_TASK_ROOT`` set, ``POWERTOOLS_TRACE_DISABLED`` unset, a
trace header present, as with active tracing), against a bare ``import boto3`` in the same run.
``import_ms`` and ``import_ratio`` are the slower of the two functions. On stderr, the same with the
first message (``*_first_event_ms``: the import, then ``GuardDutyEvent.model_validate`` of a shared
sample finding), so work moved from the import into the first invocation would show there.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lambdas"))
sys.path.insert(0, str(ROOT))

from tests.deployed import NOTIFIER_ENV, RUNTIME_ENV, TRIAGE_ENV  # noqa: E402 (after the path is set)

EVENTS = sorted((ROOT / "tests" / "fixtures" / "events").glob("*.json"))
RUNS = 15  # fresh interpreters per import measurement
WINDOWS = 5  # timed windows per rate; the best one is reported
WINDOW_SECONDS = 1.0
ASSET_TOP = 8  # the largest contributors to the asset that are listed
# Each function's environment as the stack sets it (tests/deployed.py, checked against the
# template by the infrastructure tests) and what the Lambda runtime adds: tracing is as deployed
# (active), so Powertools would see Lambda.
RUNTIME = {
    **RUNTIME_ENV,
    "AWS_LAMBDA_FUNCTION_NAME": "GuardDutyResponder-Function",
    "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"),
}
ENTRY_MODULES = {"triage": "responder.triage_handler", "notifier": "responder.notify_handler"}
# The environment each measured module is imported in (boto3: the notifier's, the larger one).
MODULE_ENV = {"responder.triage_handler": TRIAGE_ENV, "responder.notify_handler": NOTIFIER_ENV, "boto3": NOTIFIER_ENV}
FIRST_EVENT = ROOT / "tests" / "fixtures" / "events" / "UnauthorizedAccess_EC2_SSHBruteForce.json"
# Appended to a measured import: the first message's validation, timed with it.
WITH_FIRST_EVENT = " +first"
FIRST_EVENT_CODE = (
    "import json; from responder.domain.models import GuardDutyEvent; "
    f"GuardDutyEvent.model_validate(json.loads({FIRST_EVENT.read_text()!r}))"
)


def _rate(work: Callable[[Any], object], items: list[Any]) -> float:
    """Items per second in the best of ``WINDOWS`` one-second windows.

    As with ``timeit``, the best window is the measure: slower windows come from other
    processes on a shared machine, not from the code. The baseline is measured the same way.
    """
    for item in items:  # warm up: template compilation, first-use caches
        work(item)
    best = 0.0
    for _ in range(WINDOWS):
        done = 0
        start = time.perf_counter()
        while time.perf_counter() - start < WINDOW_SECONDS:
            for item in items:
                work(item)
            done += len(items)
        best = max(best, done / (time.perf_counter() - start))
    return best


def throughput() -> tuple[float, float, float, float, float]:
    """Findings per second on one core: classify + render (the issue's measure), the same
    with parsing included, the baseline of a raw-JSON notifier (``json.dumps`` of the
    event, what the email of existing tools contains), the Japanese email, and findings
    grouped into one digest email, all in this process."""
    from responder.app.triage import parse_event
    from responder.domain.classify import classify
    from responder.domain.digest import render_digest
    from responder.domain.render import render
    from responder.domain.settings import Settings

    settings = Settings()
    japanese = Settings(language="ja")
    events = [json.loads(path.read_text()) for path in EVENTS]
    findings = [parsed.detail for event in events if (parsed := parse_event(event))]
    ours = _rate(lambda finding: render(classify(finding, settings)), findings)
    with_parse = _rate(lambda event: render(classify(parse_event(event).detail, settings)), events)  # type: ignore[union-attr]
    baseline = _rate(lambda event: json.dumps(event, indent=2), events)
    ja = _rate(lambda finding: render(classify(finding, japanese), japanese.locale), findings)
    digest = _rate(lambda _all: render_digest([(classify(f, settings), None) for f in findings]), [findings])
    return ours, with_parse, baseline, ja, digest * len(findings)


def import_times(modules: list[str]) -> dict[str, float]:
    """Median wall time (ms) to import each module in a fresh interpreter, as deployed.

    The modules take turns, run after run, so a slow moment on a shared machine weighs on all
    of them alike. Bytecode caches are warm for every module alike, ours and boto3's: the
    warm-up run writes them under a fresh ``PYTHONPYCACHEPREFIX``, whatever
    ``PYTHONDONTWRITEBYTECODE`` says (with it set and a source newer than its cache, each run
    would compile that module again, and the figures would depend on the checkout's state).
    """
    base = {**os.environ, **RUNTIME, "PYTHONPATH": str(ROOT / "lambdas")}
    for name in ("POWERTOOLS_TRACE_DISABLED", "PYTHONDONTWRITEBYTECODE"):
        base.pop(name, None)

    def once(measured: str) -> float:
        module = measured.removesuffix(WITH_FIRST_EVENT)
        then = f"; {FIRST_EVENT_CODE}" if measured != module else ""
        code = f"import time; t = time.perf_counter(); import {module}{then}; print((time.perf_counter() - t) * 1000)"
        env = {**base, **MODULE_ENV[module]}
        done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
        return float(done.stdout)

    samples: dict[str, list[float]] = {module: [] for module in modules}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        base["PYTHONPYCACHEPREFIX"] = cache
        for module in modules:  # warm caches
            once(module)
        for _ in range(RUNS):
            for module in modules:
                samples[module].append(once(module))
    return {module: statistics.median(times) for module, times in samples.items()}


def asset() -> tuple[int, list[tuple[str, int]]]:
    """The zipped asset's size and its largest contributors (top-level package, compressed bytes)."""
    from infra.asset import build, zip_dir

    with tempfile.TemporaryDirectory() as tmp:
        target = build(Path(tmp) / "asset")
        size = zip_dir(target, Path(tmp) / "asset.zip")
        parts: Counter[str] = Counter()
        with zipfile.ZipFile(Path(tmp) / "asset.zip") as bundle:
            for info in bundle.infolist():
                top = info.filename.split("/", 1)[0]
                parts[top.split("-")[0] if top.endswith(".dist-info") else top] += info.compress_size
        return size, parts.most_common(ASSET_TOP)


def main() -> None:
    print(
        f"throughput over {len(EVENTS)} shared sample events: best of {WINDOWS} x {WINDOW_SECONDS:.0f} s",
        file=sys.stderr,
    )
    rate, with_parse, baseline, ja, digest = throughput()
    print(f"imports as deployed: median of {RUNS} fresh interpreters each ...", file=sys.stderr)
    entries = list(ENTRY_MODULES.values())
    times = import_times(["boto3", *entries, *(module + WITH_FIRST_EVENT for module in entries)])
    boto3 = times["boto3"]
    entry = {name: times[module] for name, module in ENTRY_MODULES.items()}
    slowest = max(entry.values())
    print("building the Lambda asset (arm64 wheels, zipped) ...", file=sys.stderr)
    size, top = asset()
    details = {
        "findings_per_s_with_parse": round(with_parse),
        "raw_json_baseline_per_s": round(baseline),
        "vs_raw_json_ratio": round(rate / baseline, 3),
        "ja_findings_per_s": round(ja),
        "ja_vs_en_ratio": round(ja / rate, 3),  # translation, JST timestamps, larger UTF-8 bodies
        "digest_findings_per_s": round(digest),  # findings grouped into one email (storms, digests)
        "digest_vs_single_ratio": round(digest / rate, 3),
        "triage_import_ms": round(entry["triage"], 1),
        "notifier_import_ms": round(entry["notifier"], 1),
        # the import and the first message's validation (nothing deferred to the first invocation)
        **{f"{name}_first_event_ms": round(times[m + WITH_FIRST_EVENT], 1) for name, m in ENTRY_MODULES.items()},
        "asset_top_bytes": dict(top),  # compressed, by top-level package
    }
    print(json.dumps(details), file=sys.stderr)
    print(
        json.dumps(
            {
                "findings_per_s": round(rate),
                "import_ms": round(slowest, 1),
                "boto3_import_ms": round(boto3, 1),
                "import_ratio": round(slowest / boto3, 2),
                "asset_bytes": size,
                "triage_import_ratio": round(entry["triage"] / boto3, 2),
                "notifier_import_ratio": round(entry["notifier"] / boto3, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
