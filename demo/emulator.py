"""The embedded AWS (moto's server on loopback) and, in it, what the stack creates.

The names and shapes come from the synthesized template (``synthesized_template``): the
state table's keys, the rules' EventPatterns and states resolved with the parameters as
CloudFormation would, and the functions' environment. The emulator cannot invoke Lambda, so the rule's
target is an SQS queue the demo drains (``Deployed.target_url``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from infra.app import build_app
from infra.constants import STACK_NAME
from infra.resolve import resolve
from responder.adapters.queues import SqsQueues

REGION = "us-east-1"
ACCOUNT: str = DEFAULT_ACCOUNT_ID  # the account moto's server answers for
SENDER = "guardduty-alerts@example.com"  # the demo's SenderAddress, verified in the emulated SES
SNS_SUBSCRIBER = "secops@example.com"  # the topic's email subscription
PUT_EVENTS_BATCH = 10  # PutEvents accepts at most 10 entries per call
ROW_FIELD = "_demoRow"  # added to each event's detail so a delivered event finds its row again
# The stack's rules that invoke the triage function (logical-ID prefixes): GuardDuty findings, and
# Malware Protection for S3 scan results (enabled by ObjectScanAlerts).
EVENT_RULES = ("FindingsRule", "ObjectScanRule")
# The stack's functions (logical-ID prefixes); each reads its own environment at its cold start.
FUNCTIONS = {"triage": "Function", "notifier": "Notifier"}


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def embedded_aws() -> Iterator[str]:
    """moto's server on loopback; AWS_ENDPOINT_URL points every boto3 client at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": REGION,
    }
    try:
        with environment(credentials):
            # A clean emulator: moto's state is process-wide, so reset what an earlier run left.
            urllib.request.urlopen(
                urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"), timeout=10
            ).close()
            yield endpoint
    finally:
        server.stop()


@cache
def synthesized_template() -> dict[str, Any]:
    """The CloudFormation template of the stack, synthesized in-process (no AWS, no Docker)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    assembly = build_app().synth()
    stack = assembly.get_stack_by_name(STACK_NAME)
    template: dict[str, Any] = json.loads(Path(stack.template_full_path).read_text())
    return template


def resource_named(template: Mapping[str, Any], kind: str, prefix: str) -> str:
    """The logical ID of the one resource of type ``kind`` whose ID starts with ``prefix``."""
    resources: dict[str, dict[str, Any]] = template["Resources"]
    return next(name for name, r in resources.items() if r["Type"] == kind and name.startswith(prefix))


@dataclass(frozen=True)
class Deployed:
    """What ``create_stack_resources`` created: physical IDs by logical ID, and the URLs the demo uses."""

    refs: dict[str, str]  # logical ID -> what Ref returns, for resolving the functions' environment
    topic_arn: str
    immediate_url: str
    digest_url: str
    dlq_url: str
    target_url: str  # the rule's target: the queue standing in for the triage function


def create_stack_resources(template: Mapping[str, Any], params: Mapping[str, Any]) -> Deployed:
    """What the stack creates, in the emulator."""
    sns = boto3.client("sns", region_name=REGION)
    topic_arn: str = sns.create_topic(Name=f"{STACK_NAME}-AlertTopic")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=SNS_SUBSCRIBER)
    configuration_set = f"{STACK_NAME}-ConfigurationSet"
    sesv2 = boto3.client("sesv2", region_name=REGION)
    sesv2.create_configuration_set(ConfigurationSetName=configuration_set)
    sesv2.create_email_identity(EmailIdentity=SENDER)
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url: str = sqs.create_queue(QueueName=f"{STACK_NAME}-DeadLetterQueue")["QueueUrl"]
    target_url: str = sqs.create_queue(QueueName=f"{STACK_NAME}-FunctionStandIn")["QueueUrl"]
    queues: dict[str, str] = {
        name: sqs.create_queue(QueueName=f"{STACK_NAME}-{name}")["QueueUrl"]
        for name in ("ImmediateQueue", "DigestQueue")
    }
    target_arn = sqs.get_queue_attributes(QueueUrl=target_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    table_name = f"{STACK_NAME}-StateTable"
    table_id = resource_named(template, "AWS::DynamoDB::Table", "StateTable")
    table = template["Resources"][table_id]["Properties"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=table_name,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        BillingMode=table["BillingMode"],
    )
    events = boto3.client("events", region_name=REGION)
    for prefix in EVENT_RULES:
        rule_id = resource_named(template, "AWS::Events::Rule", prefix)
        rule = template["Resources"][rule_id]["Properties"]
        pattern = resolve(template, rule["EventPattern"], params)
        # The state as resolved: ObjectScanRule is DISABLED unless ObjectScanAlerts is yes.
        state = str(resolve(template, rule.get("State", "ENABLED"), params))
        name = f"{STACK_NAME}-{prefix}"
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state)
        if state == "ENABLED":  # moto delivers to a disabled rule's targets too; EventBridge does not
            events.put_targets(Rule=name, Targets=[{"Id": "function", "Arn": target_arn}])
    return Deployed(
        refs={
            resource_named(template, "AWS::SNS::Topic", "AlertTopic"): topic_arn,
            resource_named(template, "AWS::SES::ConfigurationSet", "ConfigurationSet"): configuration_set,
            table_id: table_name,
            **{resource_named(template, "AWS::SQS::Queue", name): url for name, url in queues.items()},
        },
        topic_arn=topic_arn,
        immediate_url=queues["ImmediateQueue"],
        digest_url=queues["DigestQueue"],
        dlq_url=dlq_url,
        target_url=target_url,
    )


def function_environment(
    template: Mapping[str, Any], params: Mapping[str, Any], refs: Mapping[str, str], prefix: str = "Function"
) -> dict[str, str]:
    """The environment of the function whose logical ID starts with ``prefix`` (``FUNCTIONS``),
    exactly as the template defines it, resolved."""
    function = resource_named(template, "AWS::Lambda::Function", prefix)
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    return {name: str(resolve(template, value, {**params, **refs})) for name, value in variables.items()}


def put_events(entries: list[tuple[int, dict[str, Any]]]) -> None:
    """PutEvents each (row number, event), marking the detail with its row number (``ROW_FIELD``)."""
    events = boto3.client("events", region_name=REGION)
    for start in range(0, len(entries), PUT_EVENTS_BATCH):
        batch = entries[start : start + PUT_EVENTS_BATCH]
        response = events.put_events(
            Entries=[
                {
                    "Source": str(event.get("source", "")),
                    "DetailType": str(event.get("detail-type", "")),
                    "Detail": json.dumps({**event.get("detail", {}), ROW_FIELD: number}),
                    "Resources": list(event.get("resources") or []),
                }
                for number, event in batch
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents refused {response['FailedEntryCount']} entries")


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message of a queue, read and deleted (the product's SQS adapter does the paging)."""
    queues = SqsQueues(client=boto3.client("sqs", region_name=REGION))
    delivered = []
    while messages := queues.receive(queue_url, limit=1_000, visibility_seconds=60):
        delivered += [json.loads(message.body) for message in messages]
        queues.delete(queue_url, messages)
    return delivered


def dead_letter(dlq_url: str, event: dict[str, Any], error: Exception) -> None:
    """As the on-failure destination would: the event and the error go to the DLQ."""
    record = {
        "requestPayload": event,
        "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
    }
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=dlq_url, MessageBody=json.dumps(record))


def sent_so_far(topic_arn: str) -> tuple[list[tuple[str, str]], list[str]]:
    """What the emulator really sent: the topic's (subject, text) pairs and SES's raw MIME messages."""
    topic = sns_backends[ACCOUNT][REGION].topics[topic_arn]
    sns = [(str(subject), str(text)) for _id, text, subject, *_ in topic.sent_notifications]
    ses = [str(mail.raw_data) for mail in ses_backends[ACCOUNT][REGION].sent_messages]
    return sns, ses
