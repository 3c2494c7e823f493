"""Exactly-once delivery, finding updates and storms, against moto's DynamoDB, SQS, SNS and SES."""

from __future__ import annotations

import copy
import email
from datetime import UTC, datetime, timedelta
from email.policy import default

import boto3
import pytest

from responder.adapters.state import DynamoStateStore
from responder.app.notifier import Notifier
from responder.app.settings import NotifierSettings, TriageSettings
from responder.app.triage import Responder
from responder.domain.routing import MAX_PER_EMAIL
from responder.domain.settings import Band
from responder.domain.updates import FindingState
from tests.conftest import load, minimal_event
from tests.integration.conftest import (
    RECIPIENTS,
    REGION,
    SCHEDULED_EVENT,
    SENDER,
    depth,
    mapping,
    ses_messages,
    sns_messages,
)
from tests.integration.test_handler import FakeContext

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Pipeline:
    """Triage and notifier on the same settings, as the two functions of the stack."""

    def __init__(self, aws, clock, **overrides) -> None:
        values = {
            "channels": ("sns", "ses"),
            "topic_arn": aws["topic_arn"],
            "sender": SENDER,
            "recipients": RECIPIENTS,
            "state_table": aws["table"],
            "immediate_queue": aws["immediate"],
            "digest_queue": aws["digest"],
            **overrides,
        }
        self.aws = aws
        self.settings = NotifierSettings(**values)
        self.triage_settings = TriageSettings(**values)
        self.triage = Responder.from_settings(self.triage_settings)
        self.triage.clock = clock
        self.notifier = Notifier.from_settings(self.settings)
        self.mapping = mapping(aws)

    def handle(self, event):
        return self.triage.handle(event, FakeContext())

    def send(self):
        """The immediate queue's batches, as Lambda's event source mapping hands them over."""
        self.mapping.drain(self.notifier.handle, FakeContext())

    def __call__(self, event):
        outcome = self.handle(event)
        self.send()
        return outcome


def tor(count=2, updated="2025-10-01T18:00:00.000Z", severity=8.0, archived=False):
    event = copy.deepcopy(load("events/UnauthorizedAccess_EC2_TorClient.json"))
    event["detail"]["service"]["count"] = count
    event["detail"]["updatedAt"] = updated
    event["detail"]["severity"] = severity
    event["detail"]["service"]["archived"] = archived
    return event


def test_state_store_round_trip(aws):
    store = DynamoStateStore(aws["table"])
    assert store.get("abc") is None
    state = FindingState(band=Band.HIGH, notified_at=T0, first_notified_at=T0, count=3, archived=False)
    store.put("abc", state)
    assert store.get("abc") == state


def test_delivery_markers_round_trip_in_batches(aws):
    store = DynamoStateStore(aws["table"])
    keys = [f"finding-{i}@t" for i in range(130)]  # more than one BatchGetItem (100) and BatchWriteItem (25)
    assert store.delivered("sns", keys) == set()
    store.mark_delivered("sns", keys[:120])
    assert store.delivered("sns", keys) == set(keys[:120])
    assert store.delivered("ses", keys) == set()  # per channel


def test_duplicate_delivery_sends_once(aws):
    run = Pipeline(aws, Clock())
    first = run(tor())
    second = run(tor())  # EventBridge/Lambda redelivered the same event
    assert first.status == "queued"
    assert (second.status, second.reason) == ("skipped", "update_not_worse")
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1


def test_a_message_sqs_delivers_twice_is_emailed_once(aws):
    run = Pipeline(aws, Clock())
    run.handle(tor())
    sqs = boto3.client("sqs", region_name=REGION)
    [message] = sqs.receive_message(QueueUrl=aws["immediate"], VisibilityTimeout=0)["Messages"]
    sqs.send_message(QueueUrl=aws["immediate"], MessageBody=message["Body"])  # the at-least-once copy
    run.send()
    assert len(sns_messages(aws["topic_arn"])) == 1
    run.handle(tor(updated="later-but-same-count-2"))  # (skipped: not worse)
    sqs.send_message(QueueUrl=aws["immediate"], MessageBody=message["Body"])  # a copy in a later batch
    run.send()
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1


def test_update_emailed_only_when_band_rises_or_interval_passes(aws):
    clock = Clock()
    run = Pipeline(aws, clock, renotify_hours=24.0)
    run(tor(severity=5.0, count=2, updated="t1"))
    clock.now += timedelta(hours=6)
    quiet = run(tor(severity=5.0, count=20, updated="t2"))
    assert quiet.reason == "update_not_worse"
    clock.now += timedelta(hours=1)
    rose = run(tor(severity=8.0, count=57, updated="t3"))
    assert (rose.status, rose.reason, rose.route) == ("queued", "band_rose", "immediate")
    clock.now += timedelta(hours=25)
    again = run(tor(severity=8.0, count=90, updated="t4"))
    assert (again.status, again.reason) == ("queued", "renotify_interval")
    assert Notifier.from_settings(run.settings).handle(SCHEDULED_EVENT, FakeContext())["emails"] == 1
    subjects = [subject for subject, _ in sns_messages(aws["topic_arn"])]
    texts = [text for _subject, text in sns_messages(aws["topic_arn"])]
    assert len(subjects) == 3
    assert subjects[0].startswith("[SAMPLE] [UPDATE] [GuardDuty HIGH 8.0]")
    assert "Severity rose from Medium to High; seen 57 times since" in texts[0]
    assert "Still active: seen 90 times since" in texts[1]
    assert subjects[2] == "[GuardDuty DIGEST] [SAMPLE] 1 finding: 1 MEDIUM"  # the first, Medium one


def test_archived_finding_that_recurs_is_emailed_again(aws):
    clock = Clock()
    run = Pipeline(aws, clock)
    run(tor(count=2, updated="t1"))
    clock.now += timedelta(hours=1)
    recurred = run(tor(count=5, updated="t2", archived=True))
    assert (recurred.status, recurred.reason) == ("queued", "recurred")
    same = run(tor(count=5, updated="t3", archived=True))
    assert same.reason == "update_archived"
    assert len(sns_messages(aws["topic_arn"])) == 2


def test_retry_after_partial_failure_only_redoes_the_failed_channel(aws):
    clock = Clock()
    broken = Pipeline(aws, clock, sender="unverified@nowhere.example")
    broken.handle(tor())
    broken.mapping.poll(broken.notifier.handle, FakeContext())  # SES refuses; SNS went out
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert depth(aws["immediate"]) == 1
    # The SES setup is fixed; SQS hands the same message over again.
    fixed = Pipeline(aws, clock)
    fixed.send()
    assert len(sns_messages(aws["topic_arn"])) == 1  # SNS was not sent a second time
    assert len(ses_messages()) == 1
    assert depth(aws["immediate"]) == 0


def storm(n, severity=8.0):
    return [
        minimal_event(
            "Backdoor:EC2/C&CActivity.B",
            severity,
            id=f"{i:032x}",
            resource={"resourceType": "Instance", "instanceDetails": {"instanceId": f"i-0{i:016x}"}},
        )
        for i in range(n)
    ]


def test_a_storm_of_immediate_findings_is_grouped_into_few_emails(aws):
    run = Pipeline(aws, Clock())
    events = storm(MAX_PER_EMAIL + 5)
    for event in events:
        assert run.handle(event).route == "immediate"
    run.send()  # one batch: everything arrived within the batching window
    assert run.mapping.stats.invocations == 1
    subjects = [subject for subject, _ in sns_messages(aws["topic_arn"])]
    half = (MAX_PER_EMAIL + 5) // 2
    assert subjects == [
        f"[GuardDuty ALERTS] {MAX_PER_EMAIL + 5 - half} findings: {MAX_PER_EMAIL + 5 - half} HIGH",
        f"[GuardDuty ALERTS] {half} findings: {half} HIGH",
    ]
    ses = [email.message_from_string(m.raw_data, policy=default) for m in ses_messages()]
    texts = [m.get_body(("plain",)).get_content() for m in ses]
    for event in events:
        assert sum(f"Finding ID: {event['detail']['id']}" in text for text in texts) == 1


def test_without_a_state_table_every_delivery_is_queued(aws):
    run = Pipeline(aws, Clock(), state_table=None)
    run.handle(tor())
    run.handle(tor())
    assert depth(aws["immediate"]) == 2


@pytest.mark.parametrize("channels", [("sns",), ("ses",)])
def test_each_channel_alone(aws, channels):
    run = Pipeline(aws, Clock(), channels=channels)
    run(tor())
    assert len(sns_messages(aws["topic_arn"])) == (1 if "sns" in channels else 0)
    assert len(ses_messages()) == (1 if "ses" in channels else 0)


def test_when_the_state_table_fails_the_batch_is_retried_not_lost(aws):
    run = Pipeline(aws, Clock())
    run.handle(tor())
    broken = Notifier.from_settings(run.settings.model_copy(update={"state_table": "no-such-table"}))
    run.mapping.poll(broken.handle, FakeContext())
    assert sns_messages(aws["topic_arn"]) == []  # nothing sent without the exactly-once records
    assert depth(aws["immediate"]) == 1  # reported failed: SQS hands it over again
    run.send()  # the table is back
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1


def test_a_retry_in_a_different_batch_only_sends_each_channel_what_it_lacks(aws):
    clock = Clock()
    broken = Pipeline(aws, clock, sender="unverified@nowhere.example")
    first = tor()
    broken.handle(first)
    broken.mapping.poll(broken.notifier.handle, FakeContext())  # SNS sent A; SES refused
    second = minimal_event("Backdoor:EC2/C&CActivity.B", 8.0, id="b" * 32)
    broken.handle(second)  # B arrives before SQS hands A over again: one batch [A, B]
    fixed = Pipeline(aws, clock)
    fixed.send()
    sns = sns_messages(aws["topic_arn"])
    # SNS already had A: it gets B alone, as the full single email.
    assert len(sns) == 2
    assert all("[GuardDuty HIGH 8.0]" in subject for subject, _ in sns)  # two single emails, none grouped
    assert "Finding ID: " + "b" * 32 in sns[1][1] and "cdf9ae8187744b15aeaf17c7ef2f8a52" not in sns[1][1]
    # SES had nothing: it gets both, grouped.
    [mail] = ses_messages()
    parsed = email.message_from_string(mail.raw_data, policy=default)
    assert parsed["Subject"].startswith("[GuardDuty ALERTS] 2 findings")
    assert depth(aws["immediate"]) == 0


def test_a_record_without_a_body_is_reported_failed(aws):
    notifier = Pipeline(aws, Clock()).notifier
    assert notifier.alerts([{"messageId": "m-1"}]) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
