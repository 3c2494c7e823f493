"""`make demo`: the whole pipeline end to end on an embedded AWS, loopback only.

1. Start moto's server on 127.0.0.1 (random port); every boto3 client reaches it through
   AWS_ENDPOINT_URL.
2. Create what the stack creates: the SNS topic with an email subscription, the SES
   identity and configuration set, the state table, the immediate and digest queues and
   the dead-letter queue.
3. Synthesize the CDK app and create the EventBridge rule from the EventPattern in the
   template, resolved with the parameters as CloudFormation would; its target is an SQS
   queue, since the emulator cannot invoke Lambda.
4. PutEvents every event (batches of 10), drain the queue and invoke the real triage
   handler with each delivered event, under the environment the stack gives the functions.
   A failed invocation goes to the dead-letter queue, as Lambda's on-failure destination would.
5. Hand the immediate queue to the real notifier handler as Lambda's SQS event source
   would (demo/poller.py): with --arrival trickle (the default) after each finding, as
   findings minutes apart arrive; with --arrival burst once, as a storm arrives within the
   batching window. Then run the digest, as its schedule would.
6. Read back what was really sent, write each email to out/demo/ and print a summary;
   exit non-zero if any step failed unexpectedly.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import shutil
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import jinja2
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from demo.poller import EventSourceMapping
from demo.sandbox import SesSandbox
from infra.app import build_app
from infra.resolve import UnresolvableError, check_parameters, parameter_values, resolve
from responder.catalog import message
from responder.cli import events_in
from responder.observability import logger
from responder.queues import SqsQueues
from responder.render import BAND_COLOURS
from responder.service import InvalidEventError, parse_event, prepare

ROOT = Path(__file__).resolve().parents[1]

FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_EVENTS = [FIXTURES / "events", FIXTURES / "crafted", FIXTURES / "invalid"]
OUT = ROOT / "out" / "demo"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
SENDER = "guardduty-alerts@example.com"
RECIPIENTS = "secops@example.com,oncall@example.com"
SNS_SUBSCRIBER = "secops@example.com"
BATCH = 10  # PutEvents accepts at most 10 entries per call
QUEUE_BATCH_SIZE = 100  # the stack's event source mapping (infra/constants.py)
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event"}  # the digest schedule's input


@dataclass
class Row:
    """One event of the run and what happened to it."""

    number: int
    source: str
    finding_id: str | None = None
    band: str = "-"
    severity: str = "-"
    type: str = "-"
    purpose: str = "-"
    action: str = "-"
    outcome: str = "filtered by the rule (below the threshold or not a finding)"
    status: str = "filtered"  # filtered | queued | sent | skipped | ignored | failed
    route: str | None = None  # immediate | digest, when queued
    emails: list[int] = field(default_factory=list)  # numbers of the emails it is in
    colour: str = "#687078"
    files: list[tuple[str, str]] = field(default_factory=list)
    expected_failure: bool = False  # the event itself is invalid: failing is the right answer


@dataclass
class Mail:
    """One email the notifier sent (its SNS and SES copies)."""

    number: int
    kind: str  # "immediate" (one finding or a grouped storm) or "digest"
    subject: str
    text: str
    files: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Result:
    rows: list[Row]
    sns_messages: list[tuple[str, str]]  # (subject, text) the topic really published
    ses_messages: list[str]  # raw MIME SES really sent
    dead_letters: list[dict[str, Any]]
    parameters: dict[str, Any]
    mails: list[Mail] = field(default_factory=list)
    unexpected_failures: int = 0
    notifier_invocations: int = 0
    throttled: int = 0  # SES sends refused for the sandbox rate (--ses-rate), each retried


class FakeContext:
    function_name = "guardduty-responder-demo"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:guardduty-responder-demo"
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
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
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    # A clean emulator: moto's state is process-wide, so reset what an earlier run left.
    urllib.request.urlopen(
        urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"), timeout=10
    ).close()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@cache
def synthesized_template() -> dict[str, Any]:
    """The CloudFormation template of the stack, synthesized in-process (no AWS, no Docker)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    assembly = build_app().synth()
    stack = assembly.get_stack_by_name("GuardDutyResponder")
    template: dict[str, Any] = json.loads(Path(stack.template_full_path).read_text())
    return template


def resource_named(template: dict[str, Any], kind: str, prefix: str) -> str:
    return next(n for n, r in template["Resources"].items() if r["Type"] == kind and n.startswith(prefix))


def create_stack_resources(template: dict[str, Any], params: dict[str, Any]) -> dict[str, str]:
    """What the stack creates, in the emulator; returns logical id -> physical id (Ref)."""
    sns = boto3.client("sns", region_name=REGION)
    topic_arn: str = sns.create_topic(Name="GuardDutyResponder-AlertTopic")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=SNS_SUBSCRIBER)
    sesv2 = boto3.client("sesv2", region_name=REGION)
    sesv2.create_configuration_set(ConfigurationSetName="GuardDutyResponder-ConfigurationSet")
    sesv2.create_email_identity(EmailIdentity=SENDER)
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url: str = sqs.create_queue(QueueName="GuardDutyResponder-DeadLetterQueue")["QueueUrl"]
    target_url: str = sqs.create_queue(QueueName="GuardDutyResponder-FunctionStandIn")["QueueUrl"]
    queues = {
        resource_named(template, "AWS::SQS::Queue", name): sqs.create_queue(QueueName=f"GuardDutyResponder-{name}")[
            "QueueUrl"
        ]
        for name in ("ImmediateQueue", "DigestQueue")
    }
    target_arn = sqs.get_queue_attributes(QueueUrl=target_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    table_id = resource_named(template, "AWS::DynamoDB::Table", "StateTable")
    table = template["Resources"][table_id]["Properties"]
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="GuardDutyResponder-StateTable",
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        BillingMode=table["BillingMode"],
    )
    rule_id = resource_named(template, "AWS::Events::Rule", "FindingsRule")
    pattern = resolve(template, template["Resources"][rule_id]["Properties"]["EventPattern"], params)
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="GuardDutyResponder-FindingsRule", EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule="GuardDutyResponder-FindingsRule", Targets=[{"Id": "function", "Arn": target_arn}])
    return {
        resource_named(template, "AWS::SNS::Topic", "AlertTopic"): topic_arn,
        resource_named(
            template, "AWS::SES::ConfigurationSet", "ConfigurationSet"
        ): "GuardDutyResponder-ConfigurationSet",
        table_id: "GuardDutyResponder-StateTable",
        **queues,
        "_immediate_url": queues[resource_named(template, "AWS::SQS::Queue", "ImmediateQueue")],
        "_digest_url": queues[resource_named(template, "AWS::SQS::Queue", "DigestQueue")],
        "_dlq_url": dlq_url,
        "_target_url": target_url,
        "_pattern": json.dumps(pattern),
    }


def function_environment(template: dict[str, Any], params: dict[str, Any], refs: dict[str, str]) -> dict[str, str]:
    """The function's environment exactly as the template defines it, resolved."""
    function = resource_named(template, "AWS::Lambda::Function", "Function")
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    return {name: str(resolve(template, value, {**params, **refs})) for name, value in variables.items()}


def put_events(entries: list[tuple[int, dict[str, Any]]]) -> None:
    events = boto3.client("events", region_name=REGION)
    for start in range(0, len(entries), BATCH):
        batch = entries[start : start + BATCH]
        response = events.put_events(
            Entries=[
                {
                    "Source": str(event.get("source", "")),
                    "DetailType": str(event.get("detail-type", "")),
                    "Detail": json.dumps({**event.get("detail", {}), "_demoRow": number}),
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


def sent_so_far(topic_arn: str) -> tuple[list[Any], list[Any]]:
    topic = sns_backends[ACCOUNT][REGION].topics[topic_arn]
    return list(topic.sent_notifications), list(ses_backends[ACCOUNT][REGION].sent_messages)


def describe(row: Row, event: dict[str, Any], settings: Any) -> None:
    """Band, type, purpose and action of the event as the responder sees them (the preview)."""
    try:
        parsed = parse_event(event)
    except InvalidEventError:
        row.expected_failure = True
        return
    if parsed is not None:
        c = prepare(parsed.detail, settings).classification
        row.finding_id = c.finding_id
        row.band, row.severity, row.type = c.band, f"{c.severity:.1f}", c.finding_type
        row.purpose, row.action = c.parts.purpose or "?", c.action_type or "(none)"
        row.colour = BAND_COLOURS[c.band]


def sns_eml(subject: str, text: str) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "AWS Notifications <no-reply@sns.amazonaws.com>"
    message["To"] = SNS_SUBSCRIBER
    message["Subject"] = subject
    message.set_content(text, charset="utf-8")
    return message.as_bytes()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The functions' own JSON logs and EMF metrics are CloudWatch's business, not the demo's."""
    stream = logger.registered_handler.setStream(io.StringIO())  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]


def dead_letter(dlq_url: str, event: dict[str, Any], error: Exception) -> None:
    """As the on-failure destination would: the event and the error go to the DLQ."""
    record = {
        "requestPayload": event,
        "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
    }
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=dlq_url, MessageBody=json.dumps(record))


def triage(handler: Any, event: dict[str, Any], row: Row, dlq_url: str) -> int:
    """Invoke the triage handler like Lambda's asynchronous invocation; 1 on an unexpected failure."""
    try:
        with quiet():
            result = handler.lambda_handler(event, FakeContext())
    except Exception as error:  # noqa: BLE001 (a failed invocation is a result of the run)
        dead_letter(dlq_url, event, error)
        row.status, row.outcome = "failed", f"invocation failed, event in the DLQ: {str(error)[:90]}"
        return 0 if row.expected_failure else 1
    row.status, row.route = result["status"], result.get("route")
    row.outcome = {
        "queued": f"queued: {row.route}",
        "skipped": f"skipped by the function: {result['reason'].replace('_', ' ')}",
        "ignored": "ignored by the function: not a finding event",
    }[result["status"]]
    return 0


class Notifier:
    """The notifier function, fed as the stack feeds it: the SQS event source and the schedule."""

    def __init__(self, handler: Any, refs: dict[str, str], topic_arn: str) -> None:
        self.handler = handler
        self.mapping = EventSourceMapping(
            refs["_immediate_url"], refs["_dlq_url"], batch_size=QUEUE_BATCH_SIZE, region=REGION
        )
        self.dlq_url = refs["_dlq_url"]
        self.topic_arn = topic_arn
        self.failures = 0

    def alerts(self) -> None:
        with quiet():
            self.mapping.drain(self.handler.notify_handler, FakeContext())

    def digest(self) -> None:
        try:
            with quiet():
                self.handler.notify_handler(SCHEDULED_EVENT, FakeContext())
        except Exception as error:  # noqa: BLE001
            dead_letter(self.dlq_url, SCHEDULED_EVENT, error)
            self.failures += 1


def mails_sent(sns_sent: list[tuple[str, str]], ses_sent: list[str], channels: str, lang: str) -> list[Mail]:
    """The emails as a recipient sees them: SES copies when SES is a channel, else SNS copies."""
    if "ses" in channels:
        parsed = [message_from_string(raw, policy=policy.default) for raw in ses_sent]
        pairs = [(str(m["Subject"]), body.get_content() if (body := m.get_body(("plain",))) else "") for m in parsed]
    else:
        pairs = list(sns_sent)
    digest_prefixes = ("[GuardDuty DIGEST]", f"[GuardDuty {message('s.digest', lang)}]")
    return [
        Mail(i + 1, "digest" if subject.startswith(digest_prefixes) else "immediate", subject, text)
        for i, (subject, text) in enumerate(pairs)
    ]


def attribute(rows: list[Row], mails: list[Mail], lang: str) -> None:
    """Which email(s) each queued finding is in, read from the emails really sent."""
    label = message("f.finding_id", lang)
    for row in rows:
        if row.status != "queued" or not row.finding_id:
            continue
        row.emails = [mail.number for mail in mails if f"{label}: {row.finding_id}" in mail.text]
        if row.emails:
            row.status = "sent"
            kind = "in the digest" if row.route == "digest" else "emailed at once"
            row.outcome = f"{kind}: email {', '.join(f'#{n}' for n in row.emails)}"
        else:
            row.outcome = f"queued ({row.route}) but in no email"


def write_emails(result: Result) -> None:
    ses = {}
    for raw in result.ses_messages:
        ses.setdefault(str(message_from_string(raw, policy=policy.default)["Subject"]), []).append(raw)
    sns = {}
    for subject, text in result.sns_messages:
        sns.setdefault(subject, []).append(text)
    for mail in result.mails:
        stem = f"{mail.number:02d}-{mail.kind}"
        if sns.get(mail.subject):
            (OUT / f"{stem}.sns.eml").write_bytes(sns_eml(mail.subject, sns[mail.subject].pop(0)))
            mail.files.append(("SNS .eml", f"{stem}.sns.eml"))
        if ses.get(mail.subject):
            raw = ses[mail.subject].pop(0)
            (OUT / f"{stem}.ses.eml").write_text(raw, encoding="utf-8")
            html = message_from_string(raw, policy=policy.default).get_body(("html",))
            if html is not None:
                (OUT / f"{stem}.html").write_text(html.get_content(), encoding="utf-8")
                mail.files.insert(0, ("HTML", f"{stem}.html"))
            mail.files.append(("SES .eml", f"{stem}.ses.eml"))


def load_events(folders: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    files = sorted(path for folder in folders for path in Path(folder).glob("*.json"))
    return [(path.name, event) for path in files for event in events_in(json.loads(path.read_text(encoding="utf-8")))]


def run(
    folders: list[Path],
    overrides: dict[str, str],
    *,
    write: bool = True,
    arrival: str = "trickle",
    ses_rate: float | None = None,
) -> Result:
    """The whole pipeline; returns what happened to every event and every email."""
    events = load_events(folders)
    if not events:
        raise ValueError(f"no events found in {', '.join(map(str, folders))}")
    log("[1/6] synthesizing the CDK app (the template the stack would deploy)")
    template = synthesized_template()
    params = parameter_values(template, {"Recipients": RECIPIENTS, "SenderAddress": SENDER, **overrides})
    check_parameters(template, params)  # what CloudFormation would refuse, the demo refuses
    with embedded_aws(), contextlib.ExitStack() as scope:
        log(f"[2/6] embedded AWS on {os.environ['AWS_ENDPOINT_URL']}: topic, SES, state table, queues, DLQ, rule")
        refs = create_stack_resources(template, params)
        topic_arn = refs[resource_named(template, "AWS::SNS::Topic", "AlertTopic")]
        scope.enter_context(environment(function_environment(template, params, refs)))
        sandbox = SesSandbox(ses_rate) if ses_rate else None
        if sandbox:
            sandbox.install()
            scope.callback(sandbox.uninstall)
        # The handlers read their settings at import, like a cold start: import them now.
        import responder.handler as handler_module  # noqa: PLC0415

        handler = importlib.reload(handler_module)
        rows = [Row(number=i + 1, source=name) for i, (name, _event) in enumerate(events)]
        for row, (_name, event) in zip(rows, events, strict=True):
            describe(row, event, handler.SETTINGS)
        log(f"[3/6] PutEvents: {len(events)} events in batches of {BATCH}")
        put_events([(row.number, event) for row, (_n, event) in zip(rows, events, strict=True)])
        delivered = drain(refs["_target_url"])
        log(f"[4/6] the rule delivered {len(delivered)} of {len(events)}; triage of each ({arrival} arrival)")
        notifier = Notifier(handler, refs, topic_arn)
        failures = 0
        for event in delivered:
            row = rows[int(event["detail"].pop("_demoRow")) - 1]
            failures += triage(handler, event, row, refs["_dlq_url"])
            if arrival == "trickle":  # findings minutes apart: each batch holds one finding
                notifier.alerts()
        notifier.alerts()  # a burst: everything arrived within one batching window
        log("[5/6] the digest schedule fires; reading back what the emulator really sent")
        notifier.digest()
        sns_sent, ses_sent = sent_so_far(topic_arn)
        dead = drain(refs["_dlq_url"])
        sns_pairs = [(subject, text) for _id, text, subject, *_ in sns_sent]
        ses_raw = [mail.raw_data for mail in ses_sent]
        lang = str(params["Language"])
        mails = mails_sent(sns_pairs, ses_raw, str(params["Channels"]), lang)
        attribute(rows, mails, lang)
        result = Result(
            rows=rows,
            sns_messages=sns_pairs,
            ses_messages=ses_raw,
            dead_letters=dead,
            parameters=params,
            mails=mails,
            unexpected_failures=failures + notifier.failures + notifier.mapping.stats.dead_lettered,
            notifier_invocations=notifier.mapping.stats.invocations,
            throttled=sandbox.throttled if sandbox else 0,
        )
    if write:
        log("[6/6] writing out/demo/")
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        write_emails(result)
        write_index(result)
    return result


def summary(result: Result) -> str:
    counts = {
        status: sum(r.status == status for r in result.rows)
        for status in ("sent", "queued", "skipped", "filtered", "ignored", "failed")
    }
    immediate = sum(m.kind == "immediate" for m in result.mails)
    digest = len(result.mails) - immediate
    return (
        f"{len(result.rows)} events: {counts['sent']} emailed in {len(result.mails)} emails ({immediate} at once, "
        f"{digest} digest; {len(result.sns_messages)} SNS and {len(result.ses_messages)} SES messages), "
        f"{counts['filtered']} filtered by the rule, {counts['skipped']} skipped by the function, "
        f"{counts['ignored']} ignored (not findings), {counts['failed']} failed (in the DLQ: "
        f"{len(result.dead_letters)}), {counts['queued']} queued but not emailed."
    )


def write_index(result: Result) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "demo" / "templates"), autoescape=True)
    html = env.get_template("index.html").render(rows=result.rows, mails=result.mails, summary=summary(result))
    (OUT / "index.html").write_text(html, encoding="utf-8")


def print_table(rows: list[Row]) -> None:
    print(f"{'#':>2}  {'band':<8} {'sev':>4}  {'finding type':<56} outcome")
    for row in rows:
        print(f"{row.number:>2}  {row.band:<8} {row.severity:>4}  {row.type[:56]:<56} {row.outcome}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make demo ARGS=...", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, action="append", help="folder of event JSON files (repeatable)")
    parser.add_argument("--threshold", help="NotifyThreshold (1.0 ... 9.0; default 4.0)")
    parser.add_argument("--bands", help="BandMediumMin,BandHighMin,BandCriticalMin (default 4.0,7.0,9.0)")
    parser.add_argument("--channels", help="sns, ses or sns,ses (default sns,ses)", default="sns,ses")
    parser.add_argument("--lang", help="Language (default en)")
    parser.add_argument("--include-samples", choices=("true", "false"), help="IncludeSampleFindings")
    parser.add_argument("--immediate-band", choices=("Low", "Medium", "High", "Critical"), help="ImmediateBand")
    parser.add_argument(
        "--ses-rate", type=float, help="the emulated SES refuses sends faster than this per second (sandbox: 1)"
    )
    parser.add_argument("--ses-max-send-rate", help="SesMaxSendRate: the rate the notifier paces SES to (default 1)")
    parser.add_argument(
        "--arrival",
        choices=("trickle", "burst"),
        default="trickle",
        help="trickle: findings minutes apart, each emailed alone (default); burst: all within one "
        "batching window, grouped",
    )
    return parser.parse_args(argv)


def overrides_from(args: argparse.Namespace) -> dict[str, str]:
    overrides = {"Channels": args.channels}
    if args.threshold:
        overrides["NotifyThreshold"] = args.threshold
    if args.bands:
        medium, high, critical = args.bands.split(",")
        overrides |= {"BandMediumMin": medium, "BandHighMin": high, "BandCriticalMin": critical}
    if args.lang:
        overrides["Language"] = args.lang
    if args.include_samples:
        overrides["IncludeSampleFindings"] = args.include_samples
    if args.immediate_band:
        overrides["ImmediateBand"] = args.immediate_band
    if args.ses_max_send_rate:
        overrides["SesMaxSendRate"] = args.ses_max_send_rate
    return overrides


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run(args.events or DEFAULT_EVENTS, overrides_from(args), arrival=args.arrival, ses_rate=args.ses_rate)
    except (UnresolvableError, ValueError) as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
    print_table(result.rows)
    print(f"\n{summary(result)}\nOpen {OUT / 'index.html'}")
    return 1 if result.unexpected_failures else 0
