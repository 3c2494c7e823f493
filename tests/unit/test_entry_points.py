"""Each Lambda function's entry module: its own settings, and only what the function needs at import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deployed import NOTIFIER_ENV, RUNTIME_ENV, TRIAGE_ENV

ROOT = Path(__file__).resolve().parents[2]
# What only the notifier needs: templates and their engine, the channels, grouping and rendering.
NOTIFIER_ONLY = ("jinja2", "markupsafe", "responder.adapters.channels", "responder.domain.digest", "responder.domain.render",
                 "responder.domain.degrade", "responder.app.notifier", "responder.domain.cleaning", "email.mime")  # fmt: skip
# What only the triage function needs: reading events, scan-result events and their models included.
TRIAGE_ONLY = ("responder.app.triage", "responder.triage_handler", "responder.domain.scan_result")


def modules_loaded_by(module: str, **env: str) -> list[str]:
    """The modules a fresh interpreter has loaded after importing ``module`` in the deployed environment."""
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    deployed = TRIAGE_ENV if module == "responder.triage_handler" else NOTIFIER_ENV
    environment = {**os.environ, **RUNTIME_ENV, **deployed, "PYTHONPATH": str(ROOT / "lambdas"), **env}
    environment.pop("POWERTOOLS_TRACE_DISABLED", None)
    result = subprocess.run([sys.executable, "-c", code], env=environment, check=True, capture_output=True, text=True)
    return list(json.loads(result.stdout))


def test_the_triage_function_imports_nothing_only_the_notifier_needs():
    # Given the triage function's entry module, in the environment the stack gives it
    loaded = modules_loaded_by("responder.triage_handler")
    # Then no template engine, channel, renderer or digest was imported at its cold start
    assert [name for name in loaded if name.startswith(NOTIFIER_ONLY)] == []
    # And neither was boto3: its clients are created on first use
    assert "boto3" not in loaded


def test_the_notifier_imports_what_it_sends_with():
    # Given the notifier's entry module, in the same environment
    loaded = modules_loaded_by("responder.notify_handler")
    # Then its renderer and channels are loaded (the comparison above is not vacuous)
    assert {"responder.domain.render", "responder.adapters.channels", "responder.domain.digest"} <= set(loaded)
    # And nothing only the triage needs: no scan-result event model is built at its cold start
    assert [name for name in loaded if name.startswith(TRIAGE_ONLY)] == []
    # (the triage does load them: the comparison is not vacuous)
    assert "responder.domain.scan_result" in modules_loaded_by("responder.triage_handler")


@pytest.mark.parametrize(
    ("entry", "missing", "variable"),
    [
        ("responder.triage_handler", "IMMEDIATE_QUEUE_URL", "IMMEDIATE_QUEUE_URL"),
        ("responder.notify_handler", "CHANNELS", "CHANNELS"),
        ("responder.notify_handler", "DIGEST_QUEUE_URL", "DIGEST_QUEUE_URL"),
    ],
)
def test_each_function_refuses_to_start_without_a_variable_it_needs(entry, missing, variable):
    # Given the deployed environment without one variable the function needs
    deployed = TRIAGE_ENV if entry == "responder.triage_handler" else NOTIFIER_ENV
    environment = {**os.environ, **RUNTIME_ENV, **deployed, "PYTHONPATH": str(ROOT / "lambdas")}
    del environment[missing]
    # When its entry module is imported (a cold start)
    command = [sys.executable, "-c", f"import {entry}"]
    result = subprocess.run(command, check=False, env=environment, capture_output=True, text=True)
    # Then the cold start fails naming the variable
    assert result.returncode != 0
    assert f"SettingsError: {variable}: " in result.stderr


def test_the_triage_function_starts_without_the_notifiers_variables():
    # Given only what triage needs: its queues (no channel, no sender, no topic)
    environment = {
        **{k: v for k, v in os.environ.items() if k not in NOTIFIER_ENV},
        "PYTHONPATH": str(ROOT / "lambdas"),
        "IMMEDIATE_QUEUE_URL": TRIAGE_ENV["IMMEDIATE_QUEUE_URL"],
        "DIGEST_QUEUE_URL": TRIAGE_ENV["DIGEST_QUEUE_URL"],
    }
    # When its entry module is imported, Then it starts
    subprocess.run([sys.executable, "-c", "import responder.triage_handler"], env=environment, check=True)
