"""Shared fixtures: the bundled events, settings, a safe fake AWS environment, and botocore hooks."""

from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from responder.domain.models import Finding, GuardDutyEvent
from responder.domain.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_EVENTS = sorted((FIXTURES / "events").glob("*.json"))
CRAFTED_EVENTS = sorted((FIXTURES / "crafted").glob("*.json"))
FINDING_EVENTS = SAMPLE_EVENTS + [p for p in CRAFTED_EVENTS if not p.name.startswith("Other_")]


def run_responder(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m responder ARGS`` as a user runs it: a fresh process with a bare environment."""
    return subprocess.run(
        [sys.executable, "-m", "responder", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "lambdas"), "PATH": "/usr/bin:/bin", **(env or {})},
        check=False,
        timeout=120,
    )


def load(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    if not path.is_absolute():
        path = FIXTURES / path
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def finding_from(path: Path | str) -> Finding:
    return GuardDutyEvent.model_validate(load(path)).detail


def finding_types() -> list[dict[str, str]]:
    with (FIXTURES / "finding-types.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def minimal_event(
    finding_type: str = "UnauthorizedAccess:EC2/SSHBruteForce", severity: float = 5.0, **detail: Any
) -> dict[str, Any]:
    """A small valid event; ``detail`` keys override or extend the finding."""
    finding: dict[str, Any] = {
        "id": "0123456789abcdef0123456789abcdef",
        "type": finding_type,
        "severity": severity,
        "accountId": "123456789012",
        "region": "us-east-1",
        "partition": "aws",
        "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0123456789abcdef0"}},
        "service": {"detectorId": "abcdef0123456789abcdef0123456789", "count": 1, "archived": False},
    }
    finding.update(copy.deepcopy(detail))
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000001",
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": "123456789012",
        "time": "2026-11-20T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": finding,
    }


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region for moto; no endpoint override leaks in."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class BotocoreHooks:
    """Handlers on the event system of every botocore session created after they are added (as moto
    adds its own): AWS answers moto cannot give, such as a refused permission, raised as ClientError
    by botocore itself (so the adapter code under test runs unchanged), and the parameters of calls.
    ``service`` is the hyphenated service id of botocore's event names (``guardduty``, ``cloudwatch``).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def _add(self, event: str, handler: Callable[..., Any]) -> None:
        import botocore.handlers

        handlers = [*botocore.handlers.BUILTIN_HANDLERS, (event, handler)]
        self._monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)

    def refuse(self, service: str, operation: str, code: str, message: str = "refused", status: int = 400) -> None:
        """Every later ``operation`` call is answered with AWS's error ``code`` instead of being sent."""
        from botocore.awsrequest import AWSResponse

        def answer(**_kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
            error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
            return AWSResponse(f"https://{service}.amazonaws.com/", status, {}, None), error

        self._add(f"before-call.{service}.{operation}", answer)

    def record(self, service: str, operation: str) -> list[dict[str, Any]]:
        """The parameters of every later ``operation`` call, as the caller passed them."""
        calls: list[dict[str, Any]] = []

        def keep(params: dict[str, Any], **_kwargs: Any) -> None:
            calls.append(copy.deepcopy(params))

        self._add(f"before-parameter-build.{service}.{operation}", keep)
        return calls


@pytest.fixture
def botocore_hooks(monkeypatch: pytest.MonkeyPatch) -> BotocoreHooks:
    return BotocoreHooks(monkeypatch)
