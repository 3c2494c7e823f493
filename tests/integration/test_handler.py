"""The Lambda entry points end to end, in-process, against moto, with a fake Lambda context.

Triage (``lambda_handler``) queues; the notifier (``notify_handler``) sends, from a batch
of the immediate queue (given by the SQS event source stand-in) or on the digest schedule.
"""

from __future__ import annotations

import email
import json
import logging
from email.policy import default

import pytest

from demo.lambdas import FakeContext, Handlers, cold_start
from responder.adapters.channels import DeliveryError
from responder.app.notifier import SCHEDULED_EVENT
from responder.app.triage import InvalidEventError
from responder.domain.settings import SettingsError
from tests.conftest import load, minimal_event
from tests.integration.conftest import (
    RECIPIENTS,
    SENDER,
    depth,
    mapping,
    queue_env,
    ses_messages,
    sns_messages,
)


def load_handler(monkeypatch, aws, **env: str) -> Handlers:
    """The entry module started afresh (a cold start) under the stack's variables and ``env``."""
    values = {
        "CHANNELS": "sns,ses",
        "TOPIC_ARN": aws["topic_arn"],
        "SES_SENDER": SENDER,
        "SES_RECIPIENTS": ",".join(RECIPIENTS),
        "POWERTOOLS_METRICS_NAMESPACE": "GuardDutyResponder",
        **queue_env(aws),
        **env,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return cold_start()


def test_high_finding_is_queued_then_sent_on_both_channels(aws, monkeypatch, capsys, logs):
    handler = load_handler(monkeypatch, aws)
    event = load("events/UnauthorizedAccess_EC2_TorClient.json")
    result = handler.lambda_handler(event, FakeContext())
    assert (result["status"], result["route"]) == ("queued", "immediate")
    assert sns_messages(aws["topic_arn"]) == []  # triage sends nothing itself
    assert depth(aws["immediate"]) == 1
    mapping(aws).drain(handler.notify_handler, FakeContext())
    assert depth(aws["immediate"]) == 0
    [(subject, text)] = sns_messages(aws["topic_arn"])
    assert subject.startswith("[SAMPLE] [GuardDuty HIGH 8.0] UnauthorizedAccess:EC2/TorClient")
    assert "== WHAT TO DO NOW ==" in text
    [mail] = ses_messages()
    assert email.message_from_string(mail.raw_data, policy=default)["Subject"] == subject
    # Metrics are emitted as EMF and the raw event is never logged.
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"FindingsReceived", "FindingsQueued", "FindingsEmailed", "EmailsSent"} <= names
    log_lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert any(line["message"] == "finding queued" and line["band"] == "High" for line in log_lines)
    assert any(line["message"] == "finding emailed" and line["channel"] == "ses" for line in log_lines)
    assert "GeneratedFindingASNOrg" not in out + logs.getvalue()


def test_medium_finding_waits_for_the_digest(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws, NOTIFY_THRESHOLD="1.0")
    result = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), FakeContext())
    assert (result["status"], result["route"]) == ("queued", "digest")
    mapping(aws).drain(handler.notify_handler, FakeContext())
    assert sns_messages(aws["topic_arn"]) == []
    summary = handler.notify_handler(SCHEDULED_EVENT, FakeContext())
    assert summary == {"findings": 1, "emails": 1}
    [(subject, text)] = sns_messages(aws["topic_arn"])
    assert subject == "[GuardDuty DIGEST] [SAMPLE] 1 finding: 1 LOW"
    assert "UnauthorizedAccess:EC2/SSHBruteForce" in text
    assert depth(aws["digest"]) == 0  # deleted once emailed
    assert handler.notify_handler(SCHEDULED_EVENT, FakeContext()) == {"findings": 0, "emails": 0}
    assert len(sns_messages(aws["topic_arn"])) == 1  # nothing new: no email


def test_below_threshold_is_skipped_with_a_log_line_and_nothing_queued(aws, monkeypatch, logs):
    handler = load_handler(monkeypatch, aws)
    result = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), FakeContext())
    assert result == {
        "status": "skipped",
        "reason": "below_threshold",
        "finding_id": result["finding_id"],
        "route": None,
    }
    assert depth(aws["immediate"]) == depth(aws["digest"]) == 0
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert any(line["message"] == "finding skipped" and line["reason"] == "below_threshold" for line in lines)


def test_archived_and_excluded_samples_are_skipped(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws, INCLUDE_SAMPLES="false")
    sample = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_TorClient.json"), FakeContext())
    assert sample["reason"] == "sample_excluded"
    archived = minimal_event(severity=8.0, service={"archived": True})
    assert handler.lambda_handler(archived, FakeContext())["reason"] == "archived"
    assert depth(aws["immediate"]) == 0


def test_non_finding_event_is_ignored(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws)
    result = handler.lambda_handler(load("crafted/Other_MalwareProtection_ObjectScanResult.json"), FakeContext())
    assert result["status"] == "ignored"
    assert depth(aws["immediate"]) == 0


def test_malformed_event_fails_the_invocation_and_queues_nothing(aws, monkeypatch, logs):
    handler = load_handler(monkeypatch, aws)
    with pytest.raises(InvalidEventError, match="detail.id"):
        handler.lambda_handler(
            load("invalid/PrivilegeEscalation_Runtime_CGroupsReleaseAgentModified.json"), FakeContext()
        )
    assert depth(aws["immediate"]) == depth(aws["digest"]) == 0
    [line] = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert line["level"] == "ERROR" and "detail.id" in line["reason"]
    assert "GeneratedFinding" not in logs.getvalue()


def test_a_failed_send_is_reported_so_sqs_retries_it_and_the_other_channel_still_sends(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws, SES_SENDER="unverified@nowhere.example")
    handler.lambda_handler(load("events/UnauthorizedAccess_EC2_TorClient.json"), FakeContext())
    records = mapping(aws)
    records.poll(handler.notify_handler, FakeContext())
    assert records.stats.failed_records == 1
    assert depth(aws["immediate"]) == 1  # kept for a retry, then the dead-letter queue
    assert len(sns_messages(aws["topic_arn"])) == 1  # one channel failing never blocks the other


def test_a_failed_digest_fails_the_run_and_keeps_the_findings(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws, SES_SENDER="unverified@nowhere.example", NOTIFY_THRESHOLD="1.0")
    handler.lambda_handler(load("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), FakeContext())
    with pytest.raises(DeliveryError, match="digest"):
        handler.notify_handler(SCHEDULED_EVENT, FakeContext())
    assert depth(aws["digest"]) == 1


def test_the_notifier_refuses_an_event_it_does_not_know(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws)
    with pytest.raises(ValueError, match="not an SQS batch"):
        handler.notify_handler({"source": "aws.guardduty"}, FakeContext())


def test_a_foreign_message_in_the_queue_is_reported_failed_and_the_rest_are_sent(aws, monkeypatch, logs):
    import boto3

    handler = load_handler(monkeypatch, aws)
    boto3.client("sqs", region_name="us-east-1").send_message(QueueUrl=aws["immediate"], MessageBody="hello")
    handler.lambda_handler(load("events/UnauthorizedAccess_EC2_TorClient.json"), FakeContext())
    records = mapping(aws)
    records.drain(handler.notify_handler, FakeContext())
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert records.stats.dead_lettered == 1  # after five receives, as the redrive policy does
    assert depth(aws["dlq"]) == 1
    assert "unreadable queue message" in logs.getvalue()


def test_bad_setting_fails_at_cold_start_naming_the_variable(aws, monkeypatch):
    with pytest.raises(SettingsError, match="^NOTIFY_THRESHOLD"):
        load_handler(monkeypatch, aws, NOTIFY_THRESHOLD="eleven")


def test_custom_bands_and_immediate_band_from_environment(aws, monkeypatch):
    handler = load_handler(monkeypatch, aws, NOTIFY_THRESHOLD="1.5", BAND_MEDIUM_MIN="1.5", IMMEDIATE_BAND="Medium")
    result = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), FakeContext())
    assert (result["status"], result["route"]) == ("queued", "immediate")
    mapping(aws).drain(handler.notify_handler, FakeContext())
    [(subject, _)] = sns_messages(aws["topic_arn"])
    assert "[GuardDuty MEDIUM 2.0]" in subject


@pytest.fixture(autouse=True)
def _quiet_logging():
    logging.getLogger("botocore").setLevel(logging.WARNING)


def test_suppressed_finding_is_logged_with_its_rule_and_counted(aws, monkeypatch, capsys, logs):
    handler = load_handler(monkeypatch, aws, SUPPRESS_FINDING_TYPES="UnauthorizedAccess:EC2/Tor*")
    result = handler.lambda_handler(load("events/UnauthorizedAccess_EC2_TorClient.json"), FakeContext())
    assert result["status"] == "skipped"
    assert result["reason"] == "suppressed"
    assert depth(aws["immediate"]) == 0
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert any(line.get("rule") == "finding type matches UnauthorizedAccess:EC2/Tor*" for line in lines)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(doc.get("Reason") == "suppressed" and doc.get("FindingsSkippedByClass") for doc in emf)
