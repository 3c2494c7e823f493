"""The notifier's chat delivery against moto: one custom notification per group of the security
team's audience, after its emails, exactly once, retried like any channel."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from responder.domain.chat import notification as chat_notification
from responder.domain.classify import classify
from responder.domain.models import Finding
from responder.domain.routing import delivery_key, encode
from responder.domain.settings import Band, Settings
from responder.domain.updates import FindingState, UpdateDecision, UpdateReason
from tests.integration import test_routes
from tests.integration.conftest import REGION, ses_messages, sns_messages
from tests.integration.test_handler import FakeContext
from tests.integration.test_routes import (
    ACCOUNTS,
    PROD_A,
    PROD_B,
    ROUTES,
    SANDBOX,
    batch,
    detail,
    failed,
    metric_names,
    notifier,
    put_routes,
)

routed = test_routes.routed  # the fixture: the route topic, owner subscriptions and the routes file


@pytest.fixture
def chat(routed: dict[str, Any]) -> dict[str, Any]:
    """The stack's chat topic (Amazon Q Developer in chat applications subscribes to it)."""
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="guardduty-chat")["TopicArn"]
    return {**routed, "chat_topic_arn": topic}


def posts(topic_arn: str) -> list[dict[str, Any]]:
    """The chat notifications published to the topic, as JSON."""
    return [json.loads(message) for _subject, message in sns_messages(topic_arn)]


def test_one_chat_message_per_group_after_the_emails(chat):
    # Given a chat topic and three findings arriving together (a storm: one grouped email)
    found = [detail(PROD_A, 1), detail(PROD_B, 2), detail(SANDBOX, 3)]
    # When the notifier handles the batch
    result = notifier(chat, chat_topic_arn=chat["chat_topic_arn"]).handle(batch(*found), FakeContext())
    # Then one chat message in the custom-notification format holds the group, and the emails went out
    assert failed(result) == set()
    [post] = posts(chat["chat_topic_arn"])
    assert (post["version"], post["source"]) == ("1.0", "custom")
    assert post["metadata"]["threadId"].startswith("gd-group-")
    assert len(sns_messages(chat["topic_arn"])) == 1
    assert len(ses_messages()) == 3  # the security team's and the two owners' sets
    # ... and nothing of the chat message went to the email topic or the route topic
    assert all(not message.startswith("{") for _subject, message in sns_messages(chat["topic_arn"]))
    assert all(not message.startswith("{") for _subject, message in sns_messages(chat["route_topic_arn"]))


def test_a_lone_finding_threads_by_its_own_id(chat):
    notifier(chat, chat_topic_arn=chat["chat_topic_arn"]).handle(batch(detail(PROD_A, 1)), FakeContext())
    [post] = posts(chat["chat_topic_arn"])
    assert post["metadata"]["threadId"].startswith("gd-") and not post["metadata"]["threadId"].startswith("gd-group-")


def test_without_a_chat_topic_nothing_is_published_to_chat(chat):
    notifier(chat).handle(batch(detail(PROD_A, 1)), FakeContext())
    assert posts(chat["chat_topic_arn"]) == []
    assert len(ses_messages()) == 2


def test_chat_is_not_published_again_when_an_email_channel_is_retried(chat):
    # Given an SES sender not verified yet: SES fails, SNS and chat succeed
    sender = "later@example.com"
    found = detail(PROD_A, 1)
    first = notifier(chat, chat_topic_arn=chat["chat_topic_arn"], sender=sender)
    assert failed(first.handle(batch(found), FakeContext())) == {f"m-{found['id']}"}
    assert len(posts(chat["chat_topic_arn"])) == 1
    # When the sender is verified and SQS retries the message
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=sender)
    second = notifier(chat, chat_topic_arn=chat["chat_topic_arn"], sender=sender)
    assert failed(second.handle(batch(found), FakeContext())) == set()
    # Then the emails go out, and chat is not published a second time (nor the SNS email)
    assert len(ses_messages()) == 2
    assert len(posts(chat["chat_topic_arn"])) == 1
    assert len(sns_messages(chat["topic_arn"])) == 1


def test_a_chat_failure_is_counted_and_retried_without_resending_the_emails(chat, capsys, logs):
    # Given a chat topic that does not exist (yet)
    missing = chat["chat_topic_arn"] + "-missing"
    found = detail(PROD_A, 1)
    # When the batch is handled
    result = notifier(chat, chat_topic_arn=missing).handle(batch(found), FakeContext())
    # Then the finding is retried, DeliveryFailures is counted for the chat channel, and the emails went out
    assert failed(result) == {f"m-{found['id']}"}
    out = capsys.readouterr().out
    docs = [json.loads(line) for line in out.splitlines() if '"DeliveryFailures"' in line]
    assert [doc["Channel"] for doc in docs] == ["chat"]
    assert "delivery failed" in logs.getvalue()
    assert len(ses_messages()) == 2 and len(sns_messages(chat["topic_arn"])) == 1
    # When the topic exists and the message is retried
    boto3.client("sns", region_name=REGION).create_topic(Name="guardduty-chat-missing")
    retried = notifier(chat, chat_topic_arn=missing).handle(batch(found), FakeContext())
    # Then chat is published once, and no email twice
    assert failed(retried) == set()
    assert len(posts(missing)) == 1
    assert len(ses_messages()) == 2 and len(sns_messages(chat["topic_arn"])) == 1
    assert "DeliveryFailures" not in metric_names(capsys.readouterr().out)


def test_an_exclusive_owners_findings_are_not_posted_to_the_security_teams_chat(chat):
    # Given Sandbox routed exclusively to its owner
    routes = copy.deepcopy(ROUTES)
    routes["routes"][1]["exclusive"] = True
    put_routes(routes)
    # When only a Sandbox finding arrives
    notifier(chat, chat_topic_arn=chat["chat_topic_arn"]).handle(batch(detail(SANDBOX, 3)), FakeContext())
    # Then its owner is emailed, and chat (the security team's) gets nothing
    assert len(ses_messages()) == 1
    assert posts(chat["chat_topic_arn"]) == []


def test_an_update_is_posted_as_an_update_in_its_findings_thread(chat):
    # Given a finding emailed yesterday whose band rose (an update the notifier emails again)
    found = detail(PROD_A, 1)
    previous = FindingState(Band.MEDIUM, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), 1, False)
    update = UpdateDecision(True, UpdateReason.BAND_ROSE, previous)
    key = delivery_key(found["id"], found["updatedAt"])
    queued = {"Records": [{"messageId": "m-1", "body": encode(key, found, update, account=ACCOUNTS[PROD_A])}]}
    # When the notifier handles it
    notifier(chat, chat_topic_arn=chat["chat_topic_arn"]).handle(queued, FakeContext())
    # Then the chat message says it is an update and threads under the finding's first message
    [post] = posts(chat["chat_topic_arn"])
    assert "UPDATE" in post["content"]["title"]
    first = chat_notification([classify(Finding.model_validate(found), Settings())], Settings())
    assert post["metadata"]["threadId"] == json.loads(first)["metadata"]["threadId"]
