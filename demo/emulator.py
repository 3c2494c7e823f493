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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from email import message_from_string, policy
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
from infra.resolve import parameter_values, resolve
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
ROUTES_PARAMETER = f"/{STACK_NAME}/routes"  # the SSM parameter holding the routes file
ROUTE_ATTRIBUTE = "route"  # the RouteTopic's message attribute owners filter on
# CloudFormation's pseudo parameters for the stack in the emulator (RESPONDER_ACCOUNT is Ref AWS::AccountId):
# the account moto's server answers for, so a member account's finding is told from the stack's own.
PSEUDO: Mapping[str, str] = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


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
    # Issue 13's resources, when the template has them: the chat topic (an SQS queue subscribed to it
    # captures what Amazon Q Developer would receive), the route topic, the routes parameter.
    chat_topic_arn: str | None = None
    chat_queue_url: str | None = None
    route_topic_arn: str | None = None
    routes_parameter: str | None = None


def optional_resource(template: Mapping[str, Any], kind: str, prefix: str) -> str | None:
    """The logical ID of the resource, or None when the template has none."""
    resources: dict[str, dict[str, Any]] = template["Resources"]
    return next((name for name, r in resources.items() if r["Type"] == kind and name.startswith(prefix)), None)


def create_stack_resources(
    template: Mapping[str, Any],
    params: Mapping[str, Any],
    *,
    routes: str | None = None,
    route_subscribers: Mapping[str, Sequence[str]] | None = None,
) -> Deployed:
    """What the stack creates, in the emulator; ``routes``: the routes file an operator put in the
    RoutesParameter (None: the template's example), ``route_subscribers``: the owners subscribed to
    the RouteTopic by route name (each subscription filtered on that name)."""
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
    refs = {
        resource_named(template, "AWS::SNS::Topic", "AlertTopic"): topic_arn,
        resource_named(template, "AWS::SES::ConfigurationSet", "ConfigurationSet"): configuration_set,
        table_id: table_name,
        **{resource_named(template, "AWS::SQS::Queue", name): url for name, url in queues.items()},
    }
    chat_topic_arn = chat_queue_url = route_topic_arn = routes_parameter = None
    if chat_id := optional_resource(template, "AWS::SNS::Topic", "ChatTopic"):
        chat_topic_arn = sns.create_topic(Name=f"{STACK_NAME}-ChatTopic")["TopicArn"]
        chat_queue_url = sqs.create_queue(QueueName=f"{STACK_NAME}-ChatCapture")["QueueUrl"]
        chat_queue_arn = sqs.get_queue_attributes(QueueUrl=chat_queue_url, AttributeNames=["QueueArn"])
        sns.subscribe(  # raw delivery: the queue holds exactly the JSON that was published
            TopicArn=chat_topic_arn,
            Protocol="sqs",
            Endpoint=chat_queue_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        refs[chat_id] = chat_topic_arn
    if route_id := optional_resource(template, "AWS::SNS::Topic", "RouteTopic"):
        route_topic_arn = sns.create_topic(Name=f"{STACK_NAME}-RouteTopic")["TopicArn"]
        for route, addresses in (route_subscribers or {}).items():
            for address in addresses:
                sns.subscribe(
                    TopicArn=route_topic_arn,
                    Protocol="email",
                    Endpoint=address,
                    Attributes={"FilterPolicy": json.dumps({ROUTE_ATTRIBUTE: [route]})},
                )
        refs[route_id] = route_topic_arn
    if parameter_id := optional_resource(template, "AWS::SSM::Parameter", "RoutesParameter"):
        example = resolve(template, template["Resources"][parameter_id]["Properties"]["Value"], params)
        routes_parameter = ROUTES_PARAMETER
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=routes_parameter, Value=routes if routes is not None else str(example), Type="String"
        )
        refs[parameter_id] = routes_parameter
    return Deployed(
        refs=refs,
        topic_arn=topic_arn,
        immediate_url=queues["ImmediateQueue"],
        digest_url=queues["DigestQueue"],
        dlq_url=dlq_url,
        target_url=target_url,
        chat_topic_arn=chat_topic_arn,
        chat_queue_url=chat_queue_url,
        route_topic_arn=route_topic_arn,
        routes_parameter=routes_parameter,
    )


def function_environment(
    template: Mapping[str, Any], params: Mapping[str, Any], refs: Mapping[str, str], prefix: str = "Function"
) -> dict[str, str]:
    """The environment of the function whose logical ID starts with ``prefix`` (``FUNCTIONS``),
    exactly as the template defines it, resolved."""
    function = resource_named(template, "AWS::Lambda::Function", prefix)
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    return {name: str(resolve(template, value, {**PSEUDO, **params, **refs})) for name, value in variables.items()}


def lambda_environment(
    template: Mapping[str, Any], params: Mapping[str, Any], refs: Mapping[str, str], prefix: str = "Function"
) -> dict[str, str]:
    """What the function's code sees, as Lambda starts it: the runtime's reserved variables for its
    Region (the notifier reads AWS_REGION: the Region a --target-locations command runs from), then
    the variables the template sets (``function_environment``)."""
    reserved = {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
    return {**reserved, **function_environment(template, params, refs, prefix)}


def forwarding_template(regions: Sequence[str]) -> dict[str, Any] | None:
    """The forwarding stack every Region other than the home one gets (``-c home_region``),
    synthesized in-process; None when ``regions`` holds the home Region alone."""
    others = [region for region in regions if region != REGION]
    if not others:
        return None
    context = {"regions": ",".join([REGION, *others]), "home_region": REGION}
    stack = build_app(context).synth().get_stack_by_name(f"{STACK_NAME}-{others[0]}")
    template: dict[str, Any] = json.loads(Path(stack.template_full_path).read_text())
    return template


def create_forwarders(template: Mapping[str, Any], overrides: Mapping[str, str], regions: Sequence[str]) -> None:
    """The forwarding stack's rules in each Region, as that stack creates them: the EventPatterns and
    states resolved, each targeting the home Region's default event bus."""
    for region in regions:
        if region == REGION:
            continue
        pseudo = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": region, "AWS::URLSuffix": ""}
        params = {**parameter_values(template, overrides), **pseudo}
        events = boto3.client("events", region_name=region)
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Events::Rule":
                continue
            rule = resource["Properties"]
            state = str(resolve(template, rule.get("State", "ENABLED"), params))
            name = f"{STACK_NAME}-{logical_id}"
            events.put_rule(
                Name=name, EventPattern=json.dumps(resolve(template, rule["EventPattern"], params)), State=state
            )
            if state != "ENABLED":
                continue
            targets = [
                {
                    "Id": str(target["Id"]),
                    "Arn": str(resolve(template, target["Arn"], params)),
                    # The role is the stack's ForwardRole; moto checks no permission, so any ARN of it does.
                    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{STACK_NAME}-ForwardRole",
                }
                for target in rule.get("Targets", [])
            ]
            events.put_targets(Rule=name, Targets=targets)


def put_events(entries: list[tuple[int, dict[str, Any]]], forwarded_from: Sequence[str] = ()) -> None:
    """PutEvents each (row number, event), marking the detail with its row number (``ROW_FIELD``).

    An event of a Region in ``forwarded_from`` is put on that Region's bus (its forwarding rule
    sends it on to the home Region); any other on the home Region's bus.
    """
    by_region: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, event in entries:
        region = str(event.get("region") or REGION)
        by_region.setdefault(region if region in forwarded_from else REGION, []).append((number, event))
    for region, region_entries in by_region.items():
        events = boto3.client("events", region_name=region)
        for start in range(0, len(region_entries), PUT_EVENTS_BATCH):
            batch = region_entries[start : start + PUT_EVENTS_BATCH]
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


@dataclass(frozen=True)
class Sent:
    """One message the emulator really sent."""

    channel: str  # "ses" | "sns" | "chat"
    to: tuple[str, ...]  # SES: its destinations; SNS: the topic, or the route of a RouteTopic copy; chat: the topic
    subject: str  # SES: as the recipient reads it (decoded); chat: the message's title
    body: str  # SES: the raw MIME; SNS: the text; chat: the JSON as published
    route: str | None = None  # a RouteTopic copy's route (SES copies: see report.mails_sent)
    reaches: tuple[str, ...] = ()  # the addresses it reached: SES's destinations, the matching SNS subscriptions


def sent_messages(deployed: Deployed) -> list[Sent]:
    """Everything the emulator really sent: the AlertTopic's and the RouteTopic's messages, SES's
    raw MIME messages with their destinations, and what the chat topic delivered to its queue."""
    topics = sns_backends[ACCOUNT][REGION].topics
    team = _subscribers(deployed.topic_arn, None)
    sent = [
        Sent("sns", (deployed.topic_arn,), str(subject), str(text), reaches=team)
        for _id, text, subject, *_ in topics[deployed.topic_arn].sent_notifications
    ]
    if deployed.route_topic_arn:
        owners: dict[str, tuple[str, ...]] = {}
        for _id, text, subject, attributes, _group in topics[deployed.route_topic_arn].sent_notifications:
            route = str(((attributes or {}).get(ROUTE_ATTRIBUTE) or {}).get("Value") or "")
            if route not in owners:  # one look at the subscriptions per route
                owners[route] = _subscribers(deployed.route_topic_arn, route)
            sent.append(Sent("sns", (route,), str(subject), str(text), route=route, reaches=owners[route]))
    for mail in ses_backends[ACCOUNT][REGION].sent_messages:
        raw = str(mail.raw_data)
        subject = str(message_from_string(raw, policy=policy.default)["Subject"])
        destinations = tuple(str(address) for address in mail.destinations)
        sent.append(Sent("ses", destinations, subject, raw, reaches=destinations))
    if deployed.chat_queue_url and deployed.chat_topic_arn:
        queues = SqsQueues(client=boto3.client("sqs", region_name=REGION))
        while messages := queues.receive(deployed.chat_queue_url, limit=1_000, visibility_seconds=60):
            for message in messages:
                sent.append(Sent("chat", (deployed.chat_topic_arn,), _chat_title(message.body), message.body))
            queues.delete(deployed.chat_queue_url, messages)
    return sent


def _subscribers(topic_arn: str, route: str | None) -> tuple[str, ...]:
    """The email subscriptions of the topic a message with this route attribute (None: none) reaches:
    those without a filter policy, and those whose policy names the route (``{"route": [name]}``)."""
    sns = boto3.client("sns", region_name=REGION)
    reached = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for subscription in page["Subscriptions"]:
            if subscription["Protocol"] != "email":
                continue
            attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
            policy_text = attributes["Attributes"].get("FilterPolicy")
            if not policy_text or route in json.loads(policy_text).get(ROUTE_ATTRIBUTE, []):
                reached.append(str(subscription["Endpoint"]))
    return tuple(reached)


def _chat_title(body: str) -> str:
    """The title of a chat message (the custom-notification schema's ``content.title``), if it has one."""
    try:
        message = json.loads(body)
    except ValueError:
        return ""
    content = message.get("content") if isinstance(message, dict) else None
    return str(content.get("title") or "") if isinstance(content, dict) else ""
