"""Shared fixtures: the bundled events, settings, and a safe fake AWS environment."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest

from responder.models import Finding, GuardDutyEvent
from responder.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_EVENTS = sorted((FIXTURES / "events").glob("*.json"))
CRAFTED_EVENTS = sorted((FIXTURES / "crafted").glob("*.json"))
FINDING_EVENTS = SAMPLE_EVENTS + [p for p in CRAFTED_EVENTS if not p.name.startswith("Other_")]


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
