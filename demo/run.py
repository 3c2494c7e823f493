"""`make demo`: the whole pipeline end to end on an embedded AWS, loopback only.

1. Start moto's server on 127.0.0.1 (random port); every boto3 client reaches it through
   AWS_ENDPOINT_URL.
2. Create what the stack creates: the SNS topic with an email subscription, the SES
   identity and configuration set, the state table, the immediate and digest queues and
   the dead-letter queue.
3. Synthesize the CDK app and create the EventBridge rules (GuardDuty findings; Malware
   Protection for S3 scan results, enabled by ObjectScanAlerts) from the EventPatterns and
   states in the template, resolved with the parameters as CloudFormation would; their target
   is an SQS queue, since the emulator cannot invoke Lambda.
4. PutEvents every event (batches of 10), drain the queue and invoke the real triage
   handler with each delivered event, under the environment the stack gives the functions.
   A failed invocation goes to the dead-letter queue, as Lambda's on-failure destination would.
5. Hand the immediate queue to the real notifier handler as Lambda's SQS event source
   would (demo/poller.py): with --arrival trickle (the default) after each finding, as
   findings minutes apart arrive; with --arrival burst once, as a storm arrives within the
   batching window. Then run the digest, as its schedule would.
6. Read back what was really sent; then act on the first emailed finding about an EC2 instance as its
   Respond section says: that instance created in the emulator, the isolate runbook run, then the
   restore runbook (demo/runbook.py; the test-only step runner plays SSM Automation).
7. Write each email to out/demo/ (and runbook.json) and print a summary; exit non-zero if any step
   failed unexpectedly.

Where each part lives: demo/emulator.py (the embedded AWS and what the stack creates in it),
demo/lambdas.py (the Lambda service's part: invoking the real handlers), demo/poller.py (the
SQS event source), demo/sandbox.py (SES's sandbox rate), demo/runbook.py (the runbooks on the
emulated EC2), demo/report.py (the table, the summary and out/demo/); this module runs the steps
in order and is the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from demo import organisation as org
from demo import report
from demo import runbook as runbooks
from demo.emulator import (
    ACCOUNT,
    FUNCTIONS,
    PUT_EVENTS_BATCH,
    REGION,
    ROW_FIELD,
    SENDER,
    Deployed,
    Sent,
    create_forwarders,
    create_stack_resources,
    drain,
    embedded_aws,
    forwarding_template,
    lambda_environment,
    put_events,
    sent_messages,
    synthesized_template,
)
from demo.lambdas import Notifier, cold_start, invoke_triage
from demo.report import OUT, ROOT, Result, Row
from demo.sandbox import SesSandbox
from infra.constants import THRESHOLD_VALUES
from infra.parameters import BY_NAME
from infra.resolve import UnresolvableError, check_parameters, parameter_values
from responder.cli import events_in

FIXTURES = ROOT / "tests" / "fixtures"
# The bundled events: the samples, crafted findings, GuardDuty's newest families (S3 object scan
# results, Backup malware, attack sequences, AI Protection, custom detection rules) and an invalid one.
DEFAULT_EVENTS = [FIXTURES / "events", FIXTURES / "crafted", FIXTURES / "families", FIXTURES / "invalid"]
RECIPIENTS = "secops@example.com,oncall@example.com"
CHANNELS = "sns,ses"  # the demo shows both channels (the stack's default is sns alone)
OBJECT_SCAN_ALERTS = "yes"  # the demo shows S3 object scan results (the stack's default is no)
# In the organisation: the chat channel on (ChatNotifications: the ChatTopic without a Slack or Teams
# configuration, as for one made in the console).
ORGANISATION_PARAMETERS = {"ChatNotifications": "yes"}
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
FORWARDED = "through the forwarding stack's rule in their own Region"


def log(message: str) -> None:
    """A progress line, on stderr: stdout is the table and the summary."""
    print(message, file=sys.stderr, flush=True)


def load_events(folders: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(file name, event) of every event in the folders' JSON files, in file name order."""
    files = sorted(path for folder in folders for path in Path(folder).glob("*.json"))
    return [(path.name, event) for path in files for event in events_in(json.loads(path.read_text(encoding="utf-8")))]


def run(
    folders: list[Path],
    overrides: dict[str, str],
    *,
    write: bool = True,
    arrival: str = "trickle",
    ses_rate: float | None = None,
    organisation: org.Design | None = None,
) -> Result:
    """The whole pipeline; returns what happened to every event and every email.

    With ``organisation``: in an emulated AWS Organization (the events moved into its member
    accounts, its routes file in the RoutesParameter, the chat channel on), each event put in its
    own Region, from where the forwarding stack sends it to the home Region.
    """
    events = load_events(folders)
    if not events:
        raise ValueError(f"no events found in {', '.join(map(str, folders))}")
    log("[1/7] synthesizing the CDK app (the template the stack would deploy)")
    template = synthesized_template()
    wanted = {**(ORGANISATION_PARAMETERS if organisation else {}), **overrides}
    params = parameter_values(template, {"Recipients": RECIPIENTS, "SenderAddress": SENDER, **wanted})
    check_parameters(template, params)  # what CloudFormation would refuse, the demo refuses
    regions = sorted({str(e.get("region")) for _n, e in events if REGION_NAME.fullmatch(str(e.get("region")))})
    forwarder = forwarding_template(regions) if organisation else None
    with embedded_aws(), contextlib.ExitStack() as scope:
        log(f"[2/7] embedded AWS on {os.environ['AWS_ENDPOINT_URL']}: topic, SES, state table, queues, DLQ, rule")
        organised, events = _organise(organisation, events)
        deployed = create_stack_resources(
            template,
            params,
            routes=organised.routes_document() if organised else None,
            route_subscribers=organised.route_subscribers() if organised else None,
        )
        forwarded_from: list[str] = []
        if organised and forwarder:
            create_forwarders(forwarder, wanted, regions)
            forwarded_from = [region for region in regions if region != REGION]
        environments = {
            name: lambda_environment(template, params, deployed.refs, prefix) for name, prefix in FUNCTIONS.items()
        }
        sandbox = SesSandbox(ses_rate) if ses_rate else None
        if sandbox:
            sandbox.install()
            scope.callback(sandbox.uninstall)
        handlers = cold_start(environments)  # each under its own environment, as Lambda starts a function
        rows = [Row(number=i + 1, source=name) for i, (name, _event) in enumerate(events)]
        for row, (_name, event) in zip(rows, events, strict=True):
            row.describe(event, handlers.SETTINGS)
            row.account_name = organised.name_of(row.account_id) if organised else None
        log(f"[3/7] PutEvents: {len(events)} events in batches of {PUT_EVENTS_BATCH}")
        put_events([(row.number, event) for row, (_n, event) in zip(rows, events, strict=True)], forwarded_from)
        delivered = drain(deployed.target_url)
        log(f"[4/7] the rule delivered {len(delivered)} of {len(events)}; triage of each ({arrival} arrival)")
        notifier = Notifier(handlers, deployed)
        failures = 0
        for event in delivered:
            row = rows[int(event["detail"].pop(ROW_FIELD)) - 1]
            _as_delivered(event, events[row.number - 1][1], keep_region=organised is not None)
            failures += row.triaged(invoke_triage(handlers, event, deployed.dlq_url))
            if arrival == "trickle":  # findings minutes apart: each batch holds one finding
                notifier.alerts()
        notifier.alerts()  # a burst: everything arrived within one batching window
        log("[5/7] the digest schedule fires; reading back what the emulator really sent")
        notifier.digest()
        sent, mails, chats = _read_back(rows, deployed, params, organised)
        dead = drain(deployed.dlq_url)
        acted = _respond(template, rows, events)
        result = Result(
            rows=rows,
            sns_messages=[(m.subject, m.body) for m in sent if m.channel == "sns" and m.route is None],
            ses_messages=[m.body for m in sent if m.channel == "ses"],
            sent=sent,
            chats=chats,
            other_regions=FORWARDED if forwarded_from else "",
            events=[event for _name, event in events],
            organisation=organised,
            dead_letters=dead,
            parameters=params,
            mails=mails,
            unexpected_failures=failures + notifier.failures + notifier.mapping.stats.dead_lettered,
            notifier_invocations=notifier.mapping.stats.invocations,
            throttled=sandbox.throttled if sandbox else 0,
            runbook=acted,
        )
    if write:
        log("[7/7] writing out/demo/")
        report.write(result)
    return result


def _respond(
    template: dict[str, Any], rows: list[Row], events: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any] | None:
    """The isolate then restore runbooks on the first emailed EC2 finding's instance (None: no such finding)."""
    picked = runbooks.pick(rows, [event for _name, event in events])
    if picked is None:
        log("[6/7] no emailed finding about an EC2 instance: no runbook run")
        return None
    log(f"[6/7] the isolate runbook on email #{picked.row.emails[0]}'s instance, then the restore runbook")
    return runbooks.act(template, picked)


def _as_delivered(event: dict[str, Any], put: dict[str, Any], *, keep_region: bool) -> None:
    """The envelope as EventBridge delivers it, where moto's differs."""
    # moto's EventBridge leaves the envelope's account out; EventBridge always sets it (scan
    # results have no account of their own): the account the event was published in.
    event.setdefault("account", str(put.get("account") or ACCOUNT))
    if keep_region and put.get("region"):
        # moto writes the home Region into a forwarded event's envelope; EventBridge keeps the
        # Region it came from (a scan result has no other).
        event["region"] = put["region"]


def _organise(
    design: org.Design | None, events: list[tuple[str, dict[str, Any]]]
) -> tuple[org.Organisation | None, list[tuple[str, dict[str, Any]]]]:
    """The organisation created on the embedded AWS and the events moved into it (None: as they are)."""
    if design is None:
        return None, events
    organised = org.create(design)
    placed = org.place([event for _name, event in events], organised)
    log(f"      organisation: {len(organised.accounts)} member accounts in {len(organised.ou_ids)} OUs")
    return organised, [(name, event) for (name, _old), event in zip(events, placed, strict=True)]


def _read_back(
    rows: list[Row], deployed: Deployed, params: dict[str, Any], organised: org.Organisation | None
) -> tuple[list[Sent], list[report.Mail], list[report.Chat]]:
    """What the emulator really sent, as emails and chat messages, and which of them each row is in."""
    sent = sent_messages(deployed)
    lang = str(params["Language"])
    routes = organised.route_addresses() if organised else None
    mails = report.mails_sent(sent, str(params["Channels"]), lang, routes)
    chats = report.chats_sent(sent)
    report.attribute(rows, mails, lang)
    report.attribute_chats(rows, chats)
    return sent, mails, chats


def _default(name: str) -> str:
    """The stack's default of a parameter, for the help text."""
    return str(BY_NAME[name].default)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: each option sets one stack parameter (or the emulator's SES rate)."""
    bands = ",".join(_default(name) for name in ("BandMediumMin", "BandHighMin", "BandCriticalMin"))
    parser = argparse.ArgumentParser(prog="make demo ARGS=...", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=Path, action="append", help="folder of event JSON files (repeatable)")
    parser.add_argument(
        "--threshold",
        help=f"NotifyThreshold ({THRESHOLD_VALUES[0]} ... {THRESHOLD_VALUES[-1]}; "
        f"default {_default('NotifyThreshold')})",
    )
    parser.add_argument("--bands", help=f"BandMediumMin,BandHighMin,BandCriticalMin (default {bands})")
    parser.add_argument("--channels", help=f"sns, ses or sns,ses (default {CHANNELS})", default=CHANNELS)
    parser.add_argument("--lang", help=f"Language (default {_default('Language')})")
    parser.add_argument(
        "--object-scan-alerts",
        choices=BY_NAME["ObjectScanAlerts"].allowed_values,
        default=OBJECT_SCAN_ALERTS,
        help=f"ObjectScanAlerts (default here {OBJECT_SCAN_ALERTS}; the stack's {_default('ObjectScanAlerts')})",
    )
    parser.add_argument(
        "--include-samples", choices=BY_NAME["IncludeSampleFindings"].allowed_values, help="IncludeSampleFindings"
    )
    parser.add_argument("--immediate-band", choices=BY_NAME["ImmediateBand"].allowed_values, help="ImmediateBand")
    parser.add_argument(
        "--ses-rate", type=float, help="the emulated SES refuses sends faster than this per second (sandbox: 1)"
    )
    parser.add_argument(
        "--ses-max-send-rate",
        help=f"SesMaxSendRate: the rate the notifier paces SES to (default {_default('SesMaxSendRate')})",
    )
    parser.add_argument(
        "--org",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run in an emulated AWS Organization: member accounts in OUs, a routes file per OU, chat on, "
        "findings of several Regions (default); --no-org: the demo account alone",
    )
    parser.add_argument(
        "--arrival",
        choices=("trickle", "burst"),
        default="trickle",
        help="trickle: findings minutes apart, each emailed alone (default); burst: all within one "
        "batching window, grouped",
    )
    return parser.parse_args(argv)


def overrides_from(args: argparse.Namespace) -> dict[str, str]:
    """The stack parameters the options set."""
    overrides = {"Channels": args.channels, "ObjectScanAlerts": args.object_scan_alerts}
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


def organisation_from(args: argparse.Namespace) -> org.Design | None:
    """The organisation the demo runs in (``--org``, the default), or None (``--no-org``)."""
    return org.DEMO if args.org else None


def main(argv: list[str] | None = None) -> int:
    """`make demo`: run, print the table and the summary; 1 if anything failed that should not have."""
    args = parse_args(argv)
    try:
        result = run(
            args.events or DEFAULT_EVENTS,
            overrides_from(args),
            arrival=args.arrival,
            ses_rate=args.ses_rate,
            organisation=organisation_from(args),
        )
    except (UnresolvableError, ValueError) as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
    report.print_table(result.rows)
    print(f"\n{report.summary(result)}")
    if result.other_regions:
        print(f"Findings of other Regions than {REGION}: {result.other_regions}.")
    if result.runbook:
        print("\n".join(["", *runbooks.lines(result.runbook)]))
    print(f"Open {OUT / 'index.html'}; every message sent: {OUT / 'summary.json'}")
    return 1 if result.unexpected_failures else 0
