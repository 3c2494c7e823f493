"""Exactly-once delivery and finding updates, against moto's DynamoDB, SNS and SES."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from responder.channels import DeliveryError
from responder.service import Responder
from responder.settings import Settings
from responder.state import DynamoStateStore
from responder.updates import FindingState
from tests.conftest import load
from tests.integration.conftest import RECIPIENTS, SENDER, ses_messages, sns_messages
from tests.integration.test_handler import FakeContext

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def responder(aws, clock, **overrides) -> Responder:
    values = {
        "channels": ("sns", "ses"),
        "topic_arn": aws["topic_arn"],
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "state_table": aws["table"],
        **overrides,
    }
    settings = Settings(**values)
    built = Responder.from_settings(settings)
    built.clock = clock
    return built


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
    state = FindingState(band="High", notified_at=T0, first_notified_at=T0, count=3, archived=False)
    store.put("abc", state)
    assert store.get("abc") == state


def test_duplicate_delivery_sends_once(aws):
    clock = Clock()
    r = responder(aws, clock)
    first = r.handle(tor(), FakeContext())
    second = r.handle(tor(), FakeContext())  # EventBridge/Lambda redelivered the same event
    assert first.status == "sent"
    assert (second.status, second.reason) == ("skipped", "update_not_worse")
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1


def test_update_emailed_only_when_band_rises_or_interval_passes(aws):
    clock = Clock()
    r = responder(aws, clock, renotify_hours=24.0)
    r.handle(tor(severity=5.0, count=2, updated="t1"), FakeContext())
    clock.now += timedelta(hours=6)
    quiet = r.handle(tor(severity=5.0, count=20, updated="t2"), FakeContext())
    assert quiet.reason == "update_not_worse"
    clock.now += timedelta(hours=1)
    rose = r.handle(tor(severity=8.0, count=57, updated="t3"), FakeContext())
    assert (rose.status, rose.reason) == ("sent", "band_rose")
    clock.now += timedelta(hours=25)
    again = r.handle(tor(severity=8.0, count=90, updated="t4"), FakeContext())
    assert (again.status, again.reason) == ("sent", "renotify_interval")
    subjects = [subject for subject, _ in sns_messages(aws["topic_arn"])]
    assert len(subjects) == 3
    assert not subjects[0].startswith("[SAMPLE] [UPDATE]")
    assert subjects[1].startswith("[SAMPLE] [UPDATE] [GuardDuty HIGH 8.0]")
    texts = [text for _, text in sns_messages(aws["topic_arn"])]
    assert "Severity rose from Medium to High; seen 57 times since" in texts[1]
    assert "Still active: seen 90 times since" in texts[2]


def test_archived_finding_that_recurs_is_emailed_again(aws):
    clock = Clock()
    r = responder(aws, clock)
    r.handle(tor(count=2, updated="t1"), FakeContext())
    clock.now += timedelta(hours=1)
    recurred = r.handle(tor(count=5, updated="t2", archived=True), FakeContext())
    assert (recurred.status, recurred.reason) == ("sent", "recurred")
    same = r.handle(tor(count=5, updated="t3", archived=True), FakeContext())
    assert same.reason == "update_archived"
    assert len(sns_messages(aws["topic_arn"])) == 2


def test_retry_after_partial_failure_only_redoes_the_failed_channel(aws):
    clock = Clock()
    broken = responder(aws, clock, sender="unverified@nowhere.example")
    with pytest.raises(DeliveryError, match="ses"):
        broken.handle(tor(), FakeContext())
    assert len(sns_messages(aws["topic_arn"])) == 1
    # The SES setup is fixed; Lambda retries the same event.
    fixed = responder(aws, clock)
    retried = fixed.handle(tor(), FakeContext())
    assert retried.status == "sent"
    assert len(sns_messages(aws["topic_arn"])) == 1  # SNS was not sent a second time
    assert len(ses_messages()) == 1


def test_without_a_state_table_every_delivery_is_emailed(aws):
    r = responder(aws, Clock(), state_table=None)
    r.handle(tor(), FakeContext())
    r.handle(tor(), FakeContext())
    assert len(sns_messages(aws["topic_arn"])) == 2
