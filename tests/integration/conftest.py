"""moto-backed AWS for channel and handler tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

# One definition, in the responder package; re-exported for the tests that import it from here.
from responder.app.notifier import SCHEDULED_EVENT  # noqa: F401

SENDER = "guardduty-alerts@example.com"
RECIPIENTS = ("secops@example.com", "oncall@example.org")
REGION = "us-east-1"
STATE_TABLE = "guardduty-responder-state"


@pytest.fixture
def aws(aws_env: None) -> Iterator[dict[str, Any]]:
    """An SNS topic with an email subscription and a verified SES sender."""
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = sns.create_topic(Name="guardduty-alerts")["TopicArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="secops@example.com")
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        # The stack's state table: partition key "id", TTL attribute "expiration".
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=STATE_TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name=REGION)
        queues = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("immediate", "digest", "dlq")}
        yield {
            "topic_arn": topic_arn,
            "table": STATE_TABLE,
            "immediate": queues["immediate"],
            "digest": queues["digest"],
            "dlq": queues["dlq"],
        }


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The structured log lines the Powertools logger writes."""
    from responder.adapters.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def queue_env(aws: dict[str, Any]) -> dict[str, str]:
    return {"IMMEDIATE_QUEUE_URL": aws["immediate"], "DIGEST_QUEUE_URL": aws["digest"]}


def depth(queue_url: str) -> int:
    """How many messages wait in a queue (visible or in flight)."""
    sqs = boto3.client("sqs", region_name=REGION)
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def mapping(aws: dict[str, Any], batch_size: int = 100) -> Any:
    """Lambda's SQS event source mapping on the immediate queue (the demo's stand-in)."""
    from demo.poller import EventSourceMapping

    return EventSourceMapping(aws["immediate"], aws["dlq"], batch_size=batch_size, region=REGION)


def sns_messages(topic_arn: str) -> list[tuple[str, str]]:
    """(subject, message) pairs moto recorded for the topic."""
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[topic_arn]
    return [(subject, message) for _id, message, subject, *_ in topic.sent_notifications]


def ses_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)
