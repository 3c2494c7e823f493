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
6. Read back what was really sent, write each email to out/demo/ and print a summary;
   exit non-zero if any step failed unexpectedly.

Where each part lives: demo/emulator.py (the embedded AWS and what the stack creates in it),
demo/lambdas.py (the Lambda service's part: invoking the real handlers), demo/poller.py (the
SQS event source), demo/sandbox.py (SES's sandbox rate), demo/report.py (the table, the
summary and out/demo/); this module runs the steps in order and is the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from demo import report
from demo.emulator import (
    ACCOUNT,
    FUNCTIONS,
    PUT_EVENTS_BATCH,
    ROW_FIELD,
    SENDER,
    create_stack_resources,
    drain,
    embedded_aws,
    function_environment,
    put_events,
    sent_so_far,
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
        deployed = create_stack_resources(template, params)
        environments = {
            name: function_environment(template, params, deployed.refs, prefix) for name, prefix in FUNCTIONS.items()
        }
        sandbox = SesSandbox(ses_rate) if ses_rate else None
        if sandbox:
            sandbox.install()
            scope.callback(sandbox.uninstall)
        handlers = cold_start(environments)  # each under its own environment, as Lambda starts a function
        rows = [Row(number=i + 1, source=name) for i, (name, _event) in enumerate(events)]
        for row, (_name, event) in zip(rows, events, strict=True):
            row.describe(event, handlers.SETTINGS)
        log(f"[3/6] PutEvents: {len(events)} events in batches of {PUT_EVENTS_BATCH}")
        put_events([(row.number, event) for row, (_n, event) in zip(rows, events, strict=True)])
        delivered = drain(deployed.target_url)
        log(f"[4/6] the rule delivered {len(delivered)} of {len(events)}; triage of each ({arrival} arrival)")
        notifier = Notifier(handlers, deployed)
        failures = 0
        for event in delivered:
            row = rows[int(event["detail"].pop(ROW_FIELD)) - 1]
            # moto's EventBridge leaves the envelope's account out; EventBridge always sets it (scan
            # results have no account of their own): the account the event was published in.
            event.setdefault("account", str(events[row.number - 1][1].get("account") or ACCOUNT))
            failures += row.triaged(invoke_triage(handlers, event, deployed.dlq_url))
            if arrival == "trickle":  # findings minutes apart: each batch holds one finding
                notifier.alerts()
        notifier.alerts()  # a burst: everything arrived within one batching window
        log("[5/6] the digest schedule fires; reading back what the emulator really sent")
        notifier.digest()
        sns_sent, ses_sent = sent_so_far(deployed.topic_arn)
        dead = drain(deployed.dlq_url)
        lang = str(params["Language"])
        mails = report.mails_sent(sns_sent, ses_sent, str(params["Channels"]), lang)
        report.attribute(rows, mails, lang)
        result = Result(
            rows=rows,
            sns_messages=sns_sent,
            ses_messages=ses_sent,
            dead_letters=dead,
            parameters=params,
            mails=mails,
            unexpected_failures=failures + notifier.failures + notifier.mapping.stats.dead_lettered,
            notifier_invocations=notifier.mapping.stats.invocations,
            throttled=sandbox.throttled if sandbox else 0,
        )
    if write:
        log("[6/6] writing out/demo/")
        report.write(result)
    return result


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


def main(argv: list[str] | None = None) -> int:
    """`make demo`: run, print the table and the summary; 1 if anything failed that should not have."""
    args = parse_args(argv)
    try:
        result = run(args.events or DEFAULT_EVENTS, overrides_from(args), arrival=args.arrival, ses_rate=args.ses_rate)
    except (UnresolvableError, ValueError) as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2
    report.print_table(result.rows)
    print(f"\n{report.summary(result)}\nOpen {OUT / 'index.html'}")
    return 1 if result.unexpected_failures else 0
