"""One failure never sinks the rest: a finding that cannot be rendered, a state table that is
down, a channel that refuses. Against moto's SQS, SNS, SES and DynamoDB."""

from __future__ import annotations

import email
import json
from email.policy import default
from pathlib import Path
from typing import Any

import boto3
import pytest

from responder.adapters.channels import SnsChannel
from responder.adapters.observability import metrics
from responder.adapters.once import Once
from responder.adapters.queues import SqsQueues
from responder.adapters.state import DynamoStateStore
from responder.app.notifier import Notifier, build_channels
from responder.app.triage import Responder
from responder.cli import grouped_record, preview_records
from responder.domain.settings import Settings
from tests.conftest import load, minimal_event
from tests.integration.conftest import REGION, SCHEDULED_EVENT, depth, ses_messages, sns_messages
from tests.integration.test_handler import FakeContext, load_handler
from tests.integration.test_noise import Clock, Pipeline, tor

# Shown in a display time zone, the year 9999 overflows: astimezone raises OverflowError.
OUT_OF_RANGE = "9999-12-31T23:59:59Z"
POISON_FIXTURE = "unrenderable/Backdoor_EC2_OutOfRangeTimestamps.json"
POISON_ID = "p0" * 16
BENIGN_ID = "b1" * 16
POISON_ACCOUNT, POISON_REGION = "210987654321", "eu-west-1"
POISON_TITLE = "Poison title with its own words"
BENIGN_TITLE = "Benign title with its own words"
NOTE = {"en": "Details could not be shown", "ja": "詳細を表示できませんでした"}
# English readers get a zone only when they ask for one; Japanese readers get JST by default.
LANGUAGES = [("en", {"time_zone": "Asia/Tokyo"}), ("ja", {})]


def poison(severity: float = 8.0) -> dict[str, Any]:
    """A finding whose timestamps cannot be shown in a display time zone (the preview tests' fixture)."""
    event = load(POISON_FIXTURE)
    event["detail"]["severity"] = severity
    return event


def benign(severity: float = 8.0) -> dict[str, Any]:
    return minimal_event(
        "UnauthorizedAccess:EC2/SSHBruteForce",
        severity,
        id=BENIGN_ID,
        title=BENIGN_TITLE,
        updatedAt="2026-11-28T08:30:00Z",
        service={"count": 3, "archived": False, "eventFirstSeen": "2026-11-28T08:00:00Z"},
    )


def emails(topic_arn: str) -> list[tuple[str, str]]:
    """(subject, plain text) of every email sent: SNS's, then SES's (subject in the email's language)."""
    sent = list(sns_messages(topic_arn))
    for mail in ses_messages():
        parsed = email.message_from_string(mail.raw_data, policy=default)
        sent.append((str(parsed["Subject"]), parsed.get_body(("plain",)).get_content()))
    return sent


def emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]


def assert_minimal_alert(text: str, lang: str) -> None:
    """The poison finding's validated identifiers, its console link and the note; no value of its own."""
    assert text.count(NOTE[lang]) == 1
    assert POISON_ID in text and POISON_ACCOUNT in text and POISON_REGION in text
    assert "Backdoor:EC2/C&CActivity.B" in text
    assert f"https://{POISON_REGION}.console.aws.amazon.com/guardduty/home?region={POISON_REGION}" in text
    assert f"fId={POISON_ID}" in text
    assert POISON_TITLE not in text and "9999" not in text


@pytest.mark.parametrize(("lang", "zone"), LANGUAGES)
def test_a_poison_finding_in_an_immediate_batch_goes_out_minimal_and_the_other_in_full(aws, capsys, logs, lang, zone):
    # Given a finding whose rendering raises and a benign one, both immediate, in one batch
    run = Pipeline(aws, Clock(), language=lang, **zone)
    assert run.handle(poison()).route == run.handle(benign()).route == "immediate"
    # When the notifier handles the batch
    run.send()
    # Then one grouped email per channel carries both, the poison one as the minimal alert
    assert run.mapping.stats.invocations == 1
    assert run.mapping.stats.failed_records == 0
    sent = emails(aws["topic_arn"])
    assert len(sent) == 2  # SNS and SES, once each
    for _subject, text in sent:
        assert_minimal_alert(text, lang)
        assert BENIGN_ID in text and BENIGN_TITLE in text
    # ... nothing is retried or dead-lettered, and a redelivery sends nothing again
    assert depth(aws["immediate"]) == depth(aws["dlq"]) == 0
    run.send()
    assert len(emails(aws["topic_arn"])) == 2
    # ... and the degraded finding is counted and logged without its raw values
    assert any(doc.get("FindingsDegradedByClass") for doc in emf(capsys.readouterr().out))
    [line] = [json.loads(raw) for raw in logs.getvalue().splitlines() if "without its details" in raw]
    assert (line["finding_id"], line["error"]) == (POISON_ID, "OverflowError")
    assert "9999" not in logs.getvalue() and POISON_TITLE not in logs.getvalue()


@pytest.mark.parametrize("together", [True, False], ids=["storm", "alone"])
@pytest.mark.parametrize("language", LANGUAGES, ids=["en", "ja"])
def test_the_preview_shows_exactly_what_the_notifier_sends(aws, tmp_path, capsys, language, together):
    lang, zone = language
    # Given the poison finding, with a benign one (a storm) or alone, also as files for the preview
    events = [poison(), benign()] if together else [poison()]
    paths = []
    for index, event in enumerate(events):
        paths.append(str(tmp_path / f"{index}.json"))
        Path(paths[-1]).write_text(json.dumps(event))
    # When the notifier emails them as one immediate batch
    run = Pipeline(aws, Clock(), language=lang, **zone)
    for event in events:
        run.handle(event)
    run.send()
    [(subject, text)] = sns_messages(aws["topic_arn"])
    # Then preview --grouped shows the storm email, the plain preview the lone one, exactly as sent
    if together:
        record = grouped_record(paths, run.settings, kind="alerts")
    else:
        [record] = preview_records(paths, run.settings)
        assert record["degraded"] == "OverflowError"
    assert (record["subject"], record["text"]) == (subject, text)
    assert capsys.readouterr().err.count("its details could not be shown (OverflowError)") == 1


@pytest.mark.parametrize(("lang", "zone"), LANGUAGES)
def test_a_lone_poison_finding_gets_the_minimal_full_email(aws, lang, zone):
    # Given a poison finding alone in its batch (it would get the full single-finding email)
    run = Pipeline(aws, Clock(), language=lang, **zone)
    run(poison())
    # Then it is emailed once per channel as the minimal alert, with its band in the subject
    sent = emails(aws["topic_arn"])
    assert len(sent) == 2
    for subject, text in sent:
        assert "8.0] Backdoor:EC2/C&CActivity.B" in subject
        assert_minimal_alert(text, lang)
    assert depth(aws["immediate"]) == depth(aws["dlq"]) == 0


@pytest.mark.parametrize(("lang", "zone"), LANGUAGES)
def test_a_poison_finding_in_a_digest_goes_out_minimal_and_the_other_in_full(aws, lang, zone):
    # Given a poison finding and a benign one waiting for the digest
    run = Pipeline(aws, Clock(), language=lang, **zone)
    assert run.handle(poison(severity=5.0)).route == run.handle(benign(severity=5.0)).route == "digest"
    # When the digest runs
    summary = run.notifier.handle(SCHEDULED_EVENT, FakeContext())
    # Then the run succeeds with one digest per channel holding both findings
    assert summary == {"findings": 2, "emails": 1}
    sent = emails(aws["topic_arn"])
    assert len(sent) == 2
    for _subject, text in sent:
        assert_minimal_alert(text, lang)
        assert BENIGN_ID in text and BENIGN_TITLE in text
    # ... and both messages are deleted: nothing waits for a retry or the DLQ
    assert depth(aws["digest"]) == depth(aws["dlq"]) == 0


def test_triage_queues_when_the_state_table_is_unavailable_and_the_finding_is_emailed_once(
    aws, monkeypatch, capsys, logs
):
    # Given the triage function whose state table does not exist (deleted, or a wrong name)
    handler = load_handler(monkeypatch, aws, STATE_TABLE="no-such-table")
    event = tor()
    # When a finding arrives, and EventBridge delivers it a second time
    first = handler.lambda_handler(event, FakeContext())
    second = handler.lambda_handler(event, FakeContext())
    # Then it is queued both times instead of failing into the DLQ, counted and logged
    assert (first["status"], first["route"]) == (second["status"], second["route"]) == ("queued", "immediate")
    assert depth(aws["immediate"]) == 2
    docs = emf(capsys.readouterr().out)
    assert sum(doc.get("StateUnavailable", [0])[0] for doc in docs) == 2
    lines = [json.loads(raw) for raw in logs.getvalue().splitlines() if "state table unavailable" in raw]
    assert [(line["operation"], line["error"]) for line in lines] == [("get", "ResourceNotFoundException")] * 2
    assert "no-such-table" not in logs.getvalue()  # the error's text is not logged
    # ... and the notifier (its table healthy) emails it once: the delivered-markers hold
    Pipeline(aws, Clock()).send()
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1
    assert depth(aws["immediate"]) == depth(aws["dlq"]) == 0


def test_triage_queues_when_only_the_idempotency_record_cannot_be_written(aws, capsys):
    # Given state that reads fine but an exactly-once store on a table that is down
    settings = Pipeline(aws, Clock()).triage_settings
    from responder.adapters.once import Once

    triage = Responder(settings, SqsQueues(), state=DynamoStateStore(aws["table"]), once=Once("no-such-table"))
    # When a finding arrives
    outcome = triage.handle(tor(), FakeContext())
    metrics.flush_metrics()
    # Then it is queued once (the put is neither skipped nor done twice), the outage counted once
    assert outcome.status == "queued"
    assert depth(aws["immediate"]) == 1
    assert sum(doc.get("StateUnavailable", [0])[0] for doc in emf(capsys.readouterr().out)) == 1


class TableGoesDownDuringThePut(SqsQueues):
    """The real queue; the state table is deleted right after the message is sent."""

    def __init__(self, table: str) -> None:
        super().__init__()
        self.table = table

    def put(self, queue_url: str, body: str) -> str:
        message_id = super().put(queue_url, body)
        boto3.client("dynamodb", region_name=REGION).delete_table(TableName=self.table)
        return message_id


def test_a_table_outage_after_the_put_neither_fails_nor_queues_twice(aws, capsys):
    # Given the state table going down between the queue put and the idempotency success record
    settings = Pipeline(aws, Clock()).triage_settings
    triage = Responder.from_settings(settings)
    triage.queues = TableGoesDownDuringThePut(aws["table"])
    # When a finding arrives (metrics flushed as the handler's decorator does)
    outcome = triage.handle(tor(), FakeContext())
    metrics.flush_metrics()
    # Then it is queued exactly once, the invocation succeeds, and the outage is counted once
    assert outcome.status == "queued"
    assert depth(aws["immediate"]) == 1
    assert sum(doc.get("StateUnavailable", [0])[0] for doc in emf(capsys.readouterr().out)) == 1


def test_a_failed_send_is_counted_per_channel_with_fixed_dimensions(aws, monkeypatch, capsys):
    # Given SES refusing (unverified sender), SNS working, and a service name set to something else
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "not-the-responder")
    run = Pipeline(aws, Clock(), sender="unverified@nowhere.example")
    run.handle(tor())
    capsys.readouterr()
    # When the notifier handles the batch
    run.mapping.poll(run.notifier.handle, FakeContext())
    # Then one DeliveryFailures count is emitted for SES, with exactly Channel and service
    failures = [doc for doc in emf(capsys.readouterr().out) if "DeliveryFailures" in doc]
    [doc] = failures
    [directive] = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "GuardDutyResponder"
    assert directive["Metrics"] == [{"Name": "DeliveryFailures", "Unit": "Count"}]
    [dimensions] = directive["Dimensions"]
    assert sorted(dimensions) == ["Channel", "service"]
    assert (doc["Channel"], doc["service"], doc["DeliveryFailures"]) == ("ses", "guardduty-responder", [1.0])


def delivery_failures(docs: list[dict[str, Any]]) -> list[str]:
    """The Channel of every DeliveryFailures count (the per-channel alarms' metric)."""
    return [doc["Channel"] for doc in docs if "DeliveryFailures" in doc]


def state_unavailable(docs: list[dict[str, Any]]) -> int:
    return sum(sum(doc.get("StateUnavailable", [])) for doc in docs)


def test_a_refusing_sns_topic_is_counted_as_an_sns_delivery_failure(aws, capsys, logs):
    # Given an SNS topic that does not exist (deleted, or a wrong ARN), SES working
    missing = aws["topic_arn"].replace("guardduty-alerts", "no-such-topic")
    run = Pipeline(aws, Clock(), topic_arn=missing)
    run.handle(tor())
    capsys.readouterr()
    # When the notifier handles the batch (metrics flushed as the handler's decorator does)
    run.mapping.poll(run.notifier.handle, FakeContext())
    metrics.flush_metrics()
    # Then one DeliveryFailures count names the sns channel, and nothing blames the state table
    docs = emf(capsys.readouterr().out)
    assert delivery_failures(docs) == ["sns"]
    assert state_unavailable(docs) == 0
    [line] = [json.loads(raw) for raw in logs.getvalue().splitlines() if "delivery failed" in raw]
    assert (line["channel"], line["error"]) == ("sns", "NotFoundException")
    # ... SES delivered, and the message waits for a retry of SNS
    assert len(ses_messages()) == 1
    assert run.mapping.stats.failed_records == 1
    assert depth(aws["immediate"]) == 1


def test_a_missing_state_table_in_the_notifier_is_state_unavailable_not_a_delivery_failure(aws, capsys, logs):
    # Given a finding queued by triage, and a notifier whose state table does not exist
    run = Pipeline(aws, Clock())
    run.handle(tor())
    notifier = Notifier.from_settings(run.settings.model_copy(update={"state_table": "no-such-table"}))
    capsys.readouterr()
    # When the notifier handles the batch
    run.mapping.poll(notifier.handle, FakeContext())
    metrics.flush_metrics()
    # Then no channel is blamed: StateUnavailable is counted once per channel, logged without the error's text
    docs = emf(capsys.readouterr().out)
    assert delivery_failures(docs) == []
    assert state_unavailable(docs) == 2
    lines = [json.loads(raw) for raw in logs.getvalue().splitlines() if "state table unavailable" in raw]
    assert [(line["channel"], line["operation"], line["error"]) for line in lines] == [
        ("sns", "delivered", "ResourceNotFoundException"),
        ("ses", "delivered", "ResourceNotFoundException"),
    ]
    assert "no-such-table" not in logs.getvalue()
    # ... nothing is sent without the delivered-markers, and the message is retried as before
    assert emails(aws["topic_arn"]) == []
    assert run.mapping.stats.failed_records == 1
    assert depth(aws["immediate"]) == 1
    # ... and once the table answers, the retry emails it once per channel
    run.send()
    assert len(emails(aws["topic_arn"])) == 2
    assert depth(aws["immediate"]) == depth(aws["dlq"]) == 0


def test_an_exactly_once_table_that_fails_before_the_send_is_state_unavailable(aws, capsys, logs):
    # Given delivered-markers that answer, but exactly-once records on a table that does not exist
    run = Pipeline(aws, Clock())
    run.handle(tor())
    notifier = Notifier(
        run.settings,
        build_channels(run.settings),
        SqsQueues(),
        state=DynamoStateStore(aws["table"]),
        once=Once("no-such-table"),
    )
    capsys.readouterr()
    # When the notifier handles the batch
    run.mapping.poll(notifier.handle, FakeContext())
    metrics.flush_metrics()
    # Then nothing is sent, no channel is blamed, and the message is retried
    docs = emf(capsys.readouterr().out)
    assert delivery_failures(docs) == []
    assert state_unavailable(docs) == 2
    lines = [json.loads(raw) for raw in logs.getvalue().splitlines() if "state table unavailable" in raw]
    assert [(line["channel"], line["operation"]) for line in lines] == [("sns", "once"), ("ses", "once")]
    assert emails(aws["topic_arn"]) == []
    assert run.mapping.stats.failed_records == 1


class TableGoesDownDuringTheSend(SnsChannel):
    """The real SNS channel; the state table is deleted right after the email is published."""

    def __init__(self, topic_arn: str, table: str) -> None:
        super().__init__(topic_arn)
        self.table = table

    def send(self, email: Any, attachments: Any = ()) -> list[str]:
        message_ids = super().send(email, attachments)
        boto3.client("dynamodb", region_name=REGION).delete_table(TableName=self.table)
        return message_ids


def test_a_table_outage_after_the_send_is_state_unavailable_and_retried(aws, capsys, logs):
    # Given the SNS channel, and the state table going down once the email is published
    run = Pipeline(aws, Clock(), channels=("sns",))
    run.handle(tor())
    channel = TableGoesDownDuringTheSend(aws["topic_arn"], aws["table"])
    notifier = Notifier(run.settings, [channel], SqsQueues(), state=DynamoStateStore(aws["table"]))
    capsys.readouterr()
    # When the notifier handles the batch
    run.mapping.poll(notifier.handle, FakeContext())
    metrics.flush_metrics()
    # Then the email went out, the unmarked delivery is StateUnavailable (not SNS's failure) and retried
    assert len(sns_messages(aws["topic_arn"])) == 1
    docs = emf(capsys.readouterr().out)
    assert delivery_failures(docs) == []
    assert state_unavailable(docs) == 1
    [line] = [json.loads(raw) for raw in logs.getvalue().splitlines() if "state table unavailable" in raw]
    assert (line["channel"], line["operation"]) == ("sns", "mark_delivered")
    assert run.mapping.stats.failed_records == 1


def test_the_poison_finding_really_cannot_be_rendered_in_a_display_zone():
    # Guard for the tests above: they show isolation only while this finding breaks rendering.
    # If rendering learns to show such timestamps, pick another poison for them.
    from responder.domain.classify import classify
    from responder.domain.models import GuardDutyEvent
    from responder.domain.render import render

    settings = Settings(time_zone="Asia/Tokyo")
    event = poison()
    assert event["detail"]["service"]["eventFirstSeen"] == event["detail"]["updatedAt"] == OUT_OF_RANGE
    c = classify(GuardDutyEvent.model_validate(event).detail, settings)
    with pytest.raises(OverflowError):
        render(c, settings.locale)
    assert POISON_TITLE in render(c).text
