"""The chat channel against moto: the chat message reaches the topic's subscribers as published.

Amazon Q Developer in chat applications reads the SNS message itself (the custom-notification
JSON); an SQS queue subscribed to the topic stands in for it and sees exactly what it would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from responder.adapters.channels.chat import ChatChannel
from responder.domain.chat import notification
from responder.domain.classify import classify
from responder.domain.settings import Settings
from tests.conftest import finding_from
from tests.integration.conftest import REGION

FINDINGS = ("corpus/events/CryptoCurrency_EC2_BitcoinTool.B__csa.json", "events/UnauthorizedAccess_EC2_TorClient.json")


@pytest.fixture
def chat_topic(aws_env: None) -> Iterator[dict[str, Any]]:
    """A chat topic with an SQS queue subscribed to it (what the chat service would receive)."""
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="guardduty-chat")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="chat-reader")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        yield {"topic_arn": topic_arn, "queue_url": queue_url, "sqs": sqs}


def _received(chat_topic: dict[str, Any]) -> list[dict[str, Any]]:
    """The SNS envelopes the subscribed queue got."""
    sqs = chat_topic["sqs"]
    answer = sqs.receive_message(QueueUrl=chat_topic["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(item["Body"]) for item in answer.get("Messages", [])]


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("size", [1, 2])
def test_the_chat_message_arrives_as_the_json_published(chat_topic, lang, size):
    # Given the chat message of one finding, or of two together, in either language
    settings = Settings(LANGUAGE=lang, ACCOUNT_NAMES="960603541212=payments-prod")
    group = [classify(finding_from(path), settings) for path in FINDINGS[:size]]
    message = notification(group, settings)
    # When the chat channel sends it
    ids = ChatChannel(chat_topic["topic_arn"]).send(message)
    # Then the subscriber gets one notification, the published message itself, with no subject ...
    [envelope] = _received(chat_topic)
    assert ids == [envelope["MessageId"]]
    assert envelope["TopicArn"] == chat_topic["topic_arn"]
    assert envelope["Message"] == message
    assert "Subject" not in envelope or envelope["Subject"] in (None, "")
    # ... which is the custom notification the chat service renders
    payload = json.loads(envelope["Message"])
    assert (payload["version"], payload["source"], payload["content"]["textType"]) == (
        "1.0",
        "custom",
        "client-markdown",
    )
    assert "payments-prod (960603541212)" in payload["content"]["description"]


def test_a_given_client_is_used(chat_topic):
    # Given a client made by the caller (the notifier shares its clients)
    client = boto3.client("sns", region_name=REGION)
    settings = Settings()
    message = notification([classify(finding_from(FINDINGS[0]), settings)], settings)
    # When the channel sends with it / Then the message arrives
    ChatChannel(chat_topic["topic_arn"], client=client).send(message)
    assert [envelope["Message"] for envelope in _received(chat_topic)] == [message]


def test_a_refused_publish_raises_for_the_caller_to_retry(chat_topic):
    # Given a topic that does not exist (deleted, or a wrong ARN)
    missing = chat_topic["topic_arn"].replace("guardduty-chat", "no-such-topic")
    # When the channel sends / Then the error reaches the caller (the finding is retried), nothing is sent
    with pytest.raises(ClientError) as raised:
        ChatChannel(missing).send("{}")
    assert raised.value.response["Error"]["Code"] == "NotFound"
    assert _received(chat_topic) == []


def test_the_channel_is_named_chat():
    # Given the channel / Then its name (the delivered-marker namespace and the metric's dimension) is "chat"
    assert ChatChannel("arn:aws:sns:us-east-1:123456789012:guardduty-chat").name == "chat"
