"""The Lambda handler end to end, in-process, against moto, with a fake Lambda context."""

from __future__ import annotations

import email
import importlib
import io
import json
import logging
from dataclasses import dataclass
from email.policy import default

import pytest

from responder.channels import DeliveryError
from responder.service import InvalidEventError
from responder.settings import SettingsError
from tests.conftest import load, minimal_event
from tests.integration.conftest import RECIPIENTS, SENDER, ses_messages, sns_messages


@dataclass
class FakeContext:
    function_name: str = "guardduty-responder"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:guardduty-responder"
    aws_request_id: str = "6f2a1b6e-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def load_handler(monkeypatch, topic_arn: str, **env: str):
    values = {
        "CHANNELS": "sns,ses",
        "TOPIC_ARN": topic_arn,
        "SES_SENDER": SENDER,
        "SES_RECIPIENTS": ",".join(RECIPIENTS),
        "POWERTOOLS_METRICS_NAMESPACE": "GuardDutyResponder",
        **env,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    import responder.handler

    return importlib.reload(responder.handler)


@pytest.fixture
def logs(monkeypatch) -> io.StringIO:
    """The structured log lines the Powertools logger writes."""
    from responder.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def test_high_finding_is_sent_on_both_channels(aws, monkeypatch, capsys, logs):
    handler = load_handler(monkeypatch, aws["topic_arn"])
    event = load("events/UnauthorizedAccess_EC2_TorClient.json")
    result = handler.lambda_handler(event, FakeContext())
    assert result["status"] == "sent"
    assert set(result["sent"]) == {"sns", "ses"}
    [(subject, text)] = sns_messages(aws["topic_arn"])
    assert subject.startswith("[SAMPLE] [GuardDuty HIGH 8.0] UnauthorizedAccess:EC2/TorClient")
    assert "== WHAT TO DO NOW ==" in text
    [mail] = ses_messages()
    assert email.message_from_string(mail.raw_data, policy=default)["Subject"] == subject
    # Metrics are emitted as EMF and the raw event is never logged.
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"FindingsReceived", "FindingsNotified", "FindingsNotifiedByClass"} <= names
    log_lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert any(line["message"] == "finding notified" and line["band"] == "High" for line in log_lines)
    assert "GeneratedFindingASNOrg" not in out + logs.getvalue()


def test_below_threshold_is_skipped_with_a_log_line_and_nothing_sent(aws, monkeypatch, logs):
    handler = load_handler(monkeypatch, aws["topic_arn"])
    result = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), FakeContext())
    assert result == {"status": "skipped", "reason": "below_threshold", "finding_id": result["finding_id"], "sent": {}}
    assert sns_messages(aws["topic_arn"]) == []
    assert ses_messages() == []
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert any(line["message"] == "finding skipped" and line["reason"] == "below_threshold" for line in lines)


def test_archived_and_excluded_samples_are_skipped(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws["topic_arn"], INCLUDE_SAMPLES="false")
    sample = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_TorClient.json"), FakeContext())
    assert sample["reason"] == "sample_excluded"
    archived = minimal_event(severity=8.0, service={"archived": True})
    assert handler.lambda_handler(archived, FakeContext())["reason"] == "archived"
    assert sns_messages(aws["topic_arn"]) == []


def test_non_finding_event_is_ignored(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws["topic_arn"])
    result = handler.lambda_handler(load("crafted/Other_MalwareProtection_ObjectScanResult.json"), FakeContext())
    assert result["status"] == "ignored"
    assert sns_messages(aws["topic_arn"]) == []


def test_malformed_event_fails_the_invocation_and_sends_nothing(aws, monkeypatch, logs):
    handler = load_handler(monkeypatch, aws["topic_arn"])
    with pytest.raises(InvalidEventError, match="detail.id"):
        handler.lambda_handler(
            load("invalid/PrivilegeEscalation_Runtime_CGroupsReleaseAgentModified.json"), FakeContext()
        )
    assert sns_messages(aws["topic_arn"]) == []
    assert ses_messages() == []
    [line] = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert line["level"] == "ERROR" and "detail.id" in line["reason"]
    assert "GeneratedFinding" not in logs.getvalue()


def test_failed_send_raises_after_trying_every_channel(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws["topic_arn"], SES_SENDER="unverified@nowhere.example")
    with pytest.raises(DeliveryError, match="ses"):
        handler.lambda_handler(load("events/UnauthorizedAccess_EC2_TorClient.json"), FakeContext())
    # SNS still went out: one channel failing never blocks the other.
    assert len(sns_messages(aws["topic_arn"])) == 1


def test_bad_setting_fails_at_cold_start_naming_the_variable(aws, monkeypatch):
    with pytest.raises(SettingsError, match="^NOTIFY_THRESHOLD"):
        load_handler(monkeypatch, aws["topic_arn"], NOTIFY_THRESHOLD="eleven")


def test_custom_bands_and_threshold_from_environment(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws["topic_arn"], NOTIFY_THRESHOLD="1.5", BAND_MEDIUM_MIN="1.5")
    result = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), FakeContext())
    assert result["status"] == "sent"
    [(subject, _)] = sns_messages(aws["topic_arn"])
    assert "[GuardDuty MEDIUM 2.0]" in subject


@pytest.fixture(autouse=True)
def _quiet_logging():
    logging.getLogger("botocore").setLevel(logging.WARNING)


def test_suppressed_finding_is_logged_with_its_rule_and_counted(aws, monkeypatch, capsys, logs):
    handler = load_handler(monkeypatch, aws["topic_arn"], SUPPRESS_FINDING_TYPES="UnauthorizedAccess:EC2/Tor*")
    result = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_TorClient.json"), FakeContext())
    assert result["status"] == "skipped"
    assert result["reason"] == "suppressed"
    assert sns_messages(aws["topic_arn"]) == []
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert any(line.get("rule") == "finding type matches UnauthorizedAccess:EC2/Tor*" for line in lines)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(doc.get("Reason") == "suppressed" and doc.get("FindingsSkippedByClass") for doc in emf)
