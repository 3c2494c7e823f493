"""`make demo`: the responder end to end on an embedded AWS (moto's server, loopback only).

Creates the SNS topic (with an email subscription) and the SES sender identity the stack
would create, invokes the real Lambda handler with every event in the events folders under
the environment the stack gives the function, reads back from the emulator what was really
sent, and writes every email to out/demo/ (.eml, .html, index.html).
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
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lambdas"))

FIXTURES = ROOT / "tests" / "fixtures"
DEFAULT_EVENTS = [FIXTURES / "events", FIXTURES / "crafted", FIXTURES / "invalid"]
OUT = ROOT / "out" / "demo"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
SENDER = "guardduty-alerts@example.com"
RECIPIENTS = "secops@example.com,oncall@example.com"
SNS_SUBSCRIBER = "secops@example.com"


@dataclass
class Row:
    number: int
    source: str
    band: str = "-"
    severity: str = "-"
    type: str = "-"
    purpose: str = "-"
    action: str = "-"
    outcome: str = ""
    colour: str = "#687078"
    files: list[tuple[str, str]] = field(default_factory=list)


class FakeContext:
    function_name = "guardduty-responder-demo"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:guardduty-responder-demo"
    aws_request_id = "00000000-0000-4000-8000-000000000000"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, action="append", help="folder of event JSON files (repeatable)")
    parser.add_argument("--threshold", default="4.0", help="notification threshold (default 4.0)")
    parser.add_argument("--bands", default="4.0,7.0,9.0", help="Medium,High,Critical lower bounds")
    parser.add_argument("--channels", default="sns,ses", help="sns, ses or sns,ses")
    parser.add_argument("--lang", default="en", help="email language")
    parser.add_argument("--include-samples", default="true", choices=("true", "false"))
    return parser.parse_args(argv)


def start_embedded_aws() -> Any:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    return server


def create_resources() -> str:
    import boto3

    sns = boto3.client("sns", region_name=REGION)
    topic_arn: str = sns.create_topic(Name="guardduty-responder-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=SNS_SUBSCRIBER)
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
    return topic_arn


def sent_so_far(topic_arn: str) -> tuple[list[Any], list[Any]]:
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    topic = sns_backends[ACCOUNT][REGION].topics[topic_arn]
    return list(topic.sent_notifications), list(ses_backends[ACCOUNT][REGION].sent_messages)


def sns_eml(subject: str, text: str) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "AWS Notifications <no-reply@sns.amazonaws.com>"
    message["To"] = SNS_SUBSCRIBER
    message["Subject"] = subject
    message.set_content(text, charset="utf-8")
    return message.as_bytes()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folders = args.events or DEFAULT_EVENTS
    files = sorted(path for folder in folders for path in Path(folder).glob("*.json"))
    if not files:
        print(f"no events found in {', '.join(map(str, folders))}", file=sys.stderr)
        return 1
    medium, high, critical = args.bands.split(",")
    print(f"[1/4] starting the embedded AWS on 127.0.0.1 ({len(files)} events to replay)", file=sys.stderr)
    server = start_embedded_aws()
    try:
        print("[2/4] creating the SNS topic, email subscription and SES identity", file=sys.stderr)
        topic_arn = create_resources()
        os.environ.update(
            {
                "CHANNELS": args.channels,
                "TOPIC_ARN": topic_arn,
                "SES_SENDER": SENDER,
                "SES_RECIPIENTS": RECIPIENTS,
                "NOTIFY_THRESHOLD": args.threshold,
                "BAND_MEDIUM_MIN": medium,
                "BAND_HIGH_MIN": high,
                "BAND_CRITICAL_MIN": critical,
                "INCLUDE_SAMPLES": args.include_samples,
                "LANGUAGE": args.lang,
            }
        )
        import responder.handler as handler_module

        handler = importlib.reload(handler_module)
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        print("[3/4] invoking the real handler with each event", file=sys.stderr)
        rows, failures = replay(files, handler, topic_arn)
        print("[4/4] writing out/demo/index.html", file=sys.stderr)
        sent = sum(row.outcome.startswith("sent") for row in rows)
        summary = f"{len(rows)} events: {sent} emailed, {len(rows) - sent} not emailed (reasons below)."
        write_index(rows, summary)
        print_table(rows)
        print(f"\n{summary}\nOpen {OUT / 'index.html'}")
        return 1 if failures else 0
    finally:
        server.stop()


def classify_row(row: Row, event: dict[str, Any], settings: Any) -> None:
    """Fill the row's band, type, purpose and action the way the handler sees them."""
    from responder.render import BAND_COLOURS
    from responder.service import InvalidEventError, parse_event, prepare

    try:
        parsed = parse_event(event)
    except InvalidEventError:
        return  # the handler reports why
    if parsed is not None:
        c = prepare(parsed.detail, settings).classification
        row.band, row.severity, row.type = c.band, f"{c.severity:.1f}", c.finding_type
        row.purpose, row.action = c.parts.purpose or "?", c.action_type or "(none)"
        row.colour = BAND_COLOURS[c.band]


def write_emails(row: Row, stem: str, sns_sent: list[Any], ses_sent: list[Any]) -> None:
    for _id, text, subject, *_ in sns_sent:
        (OUT / f"{stem}.sns.eml").write_bytes(sns_eml(subject, text))
        row.files.append(("SNS .eml", f"{stem}.sns.eml"))
    for mail in ses_sent:
        (OUT / f"{stem}.ses.eml").write_text(mail.raw_data, encoding="utf-8")
        html = message_from_string(mail.raw_data, policy=policy.default).get_body(("html",))
        if html is not None:
            (OUT / f"{stem}.html").write_text(html.get_content(), encoding="utf-8")
            row.files.append(("HTML", f"{stem}.html"))
        row.files.append(("SES .eml", f"{stem}.ses.eml"))


def replay(files: list[Path], handler: Any, topic_arn: str) -> tuple[list[Row], int]:
    """Invoke the handler with every event; return the rows and the unexpected failures."""
    from responder.cli import events_in

    rows: list[Row] = []
    failures = 0
    for path in files:
        for event in events_in(json.loads(path.read_text(encoding="utf-8"))):
            row = Row(number=len(rows) + 1, source=path.name)
            rows.append(row)
            classify_row(row, event, handler.SETTINGS)
            before_sns, before_ses = sent_so_far(topic_arn)
            try:
                # The function's own JSON logs and EMF metrics are CloudWatch's business.
                with contextlib.redirect_stdout(io.StringIO()):
                    result = handler.lambda_handler(event, FakeContext())
            except Exception as error:  # noqa: BLE001 (a failed invocation is a demo result)
                row.outcome = f"invocation failed (to the DLQ): {str(error)[:100]}"
                failures += "malformed" not in str(error)
                continue
            after_sns, after_ses = sent_so_far(topic_arn)
            write_emails(
                row, f"{row.number:02d}-{path.stem}"[:80], after_sns[len(before_sns) :], after_ses[len(before_ses) :]
            )
            channels = "+".join(sorted(result["sent"])) or "-"
            row.outcome = {
                "sent": f"sent by {channels}",
                "skipped": f"skipped: {result['reason'].replace('_', ' ')}",
                "ignored": "ignored: not a finding event",
            }[result["status"]]
    return rows, failures


def write_index(rows: list[Row], summary: str) -> None:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "scripts" / "templates"), autoescape=True)
    html = env.get_template("index.html").render(rows=rows, summary=summary)
    (OUT / "index.html").write_text(html, encoding="utf-8")


def print_table(rows: list[Row]) -> None:
    print(f"\n{'#':>2}  {'band':<8} {'sev':>4}  {'finding type':<58} outcome")
    for row in rows:
        print(f"{row.number:>2}  {row.band:<8} {row.severity:>4}  {row.type[:58]:<58} {row.outcome}")


if __name__ == "__main__":
    sys.exit(main())
