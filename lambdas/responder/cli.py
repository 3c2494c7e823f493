"""``python -m responder preview FILE...``: print exactly what would be sent, send nothing.

A FILE may hold an EventBridge event, a bare finding (console export, camelCase), or
``aws guardduty get-findings`` output (``{"Findings": [...]}``, PascalCase keys), or a
JSON list of any of these. Settings come from the same environment variables as the
Lambda. Bad input: exit status 1 and a one-line reason on stderr, never a traceback.
``--grouped`` prints the one grouped email a storm (``--kind alerts``, the default) or a
digest (``--kind digest``) makes of all the findings given. An account is named as
``ACCOUNT_NAMES`` names it, or ``--account-name NAME`` names the account of every finding given.

``python -m responder doctor`` checks a deployed stack (see ``responder.app.doctor``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from responder.app.doctor import DEFAULT_STACK  # its checks and boto3 load only with the doctor command
from responder.domain.accounts import valid_name  # loaded by the settings already
from responder.domain.i18n import LANGUAGES, translator
from responder.domain.limits import MAX_DEPTH, too_deep
from responder.domain.settings import Settings, SettingsError

if TYPE_CHECKING:
    from responder.app.service import Prepared
    from responder.domain.classify import Classification

# Map-valued members whose keys are data, not field names: leave them as they are.
_MAP_MEMBERS: Final = frozenset({"AffectedResources", "affectedResources"})


class InputError(ValueError):
    """The file cannot be read as a GuardDuty event or finding."""


def camel_keys(value: Any) -> Any:
    """boto3 PascalCase keys (``Type``, ``Service``) to wire camelCase (``type``, ``service``).

    Iterative, so a document nested thousands of levels deep cannot exhaust the stack.
    """
    root: list[Any] = [None]
    # (source value, the container its copy goes into, the slot in that container);
    # first in, first out, so of two keys that become one the later wins, as in a dict.
    pending: deque[tuple[Any, Any, Any]] = deque([(value, root, 0)])
    while pending:
        item, parent, slot = pending.popleft()
        if isinstance(item, list):
            items: list[Any] = [None] * len(item)
            parent[slot] = items
            pending.extend((child, items, index) for index, child in enumerate(item))
        elif isinstance(item, dict):
            members: dict[Any, Any] = {}
            parent[slot] = members
            for key, child in item.items():
                name = key[:1].lower() + key[1:] if isinstance(key, str) else key
                members[name] = child
                if key not in _MAP_MEMBERS:
                    pending.append((child, members, name))
        else:
            parent[slot] = item
    return root[0]


def _wrap(finding: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "preview",
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": str(finding.get("accountId", "")),
        "time": finding.get("updatedAt"),
        "region": str(finding.get("region", "")),
        "resources": [],
        "detail": finding,
    }


def events_in(document: Any) -> Iterator[dict[str, Any]]:
    """EventBridge events for every finding the document holds."""
    if isinstance(document, list):
        for item in document:
            yield from events_in(item)
        return
    if not isinstance(document, dict):
        raise InputError("expected a JSON object or list")
    if "detail-type" in document:
        yield document
    elif "Findings" in document or "findings" in document:
        findings = document.get("Findings", document.get("findings"))
        if not isinstance(findings, list):
            raise InputError("Findings is not a list")
        for finding in findings:
            yield from events_in(finding)
    elif "Type" in document and "type" not in document:
        yield _wrap(camel_keys(document))
    elif "type" in document:
        yield _wrap(document)
    else:
        raise InputError("not an EventBridge event, a finding, or get-findings output")


TOO_DEEP: Final = f"nested more than {MAX_DEPTH} levels deep: not a GuardDuty finding"


def _load(path: str) -> Any:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}") from None
    except RecursionError:
        # The JSON decoder recurses once per level: deep enough input exhausts the stack.
        raise InputError(TOO_DEEP) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON: {str(error)[:120]}") from None
    # Measured iteratively before anything (events_in, camel_keys, the model) walks it.
    if too_deep(document):
        raise InputError(TOO_DEEP)
    return document


def named(settings: Settings, account_id: str, name: str | None) -> Settings:
    """``settings`` with ``name`` as the name of ``account_id`` (as ``ACCOUNT_NAMES`` would name it)."""
    if name is None:
        return settings
    return Settings(**{**settings.__dict__, "account_names": {**settings.account_names, account_id: name}})


def prepared(paths: list[str], settings: Settings, *, account_name: str | None = None) -> list[Prepared]:
    """Every finding in the files, classified, decided and rendered as the Lambda would.

    ``account_name``: the name of every finding's account (``--account-name``), else
    ``ACCOUNT_NAMES`` in ``settings`` names them.
    """
    from responder.app.service import UnrenderableError, prepare  # noqa: PLC0415
    from responder.app.triage import InvalidEventError, parse_event  # noqa: PLC0415

    findings = []
    for path in paths:
        try:
            events = list(events_in(_load(path)))
            for event in events:
                parsed = parse_event(event)
                if parsed is None:
                    print(f"{path}: ignored {str(event.get('detail-type'))[:80]!r} (not a finding)", file=sys.stderr)
                    continue
                findings.append(prepare(parsed.detail, named(settings, parsed.detail.account_id, account_name)))
        except (InputError, InvalidEventError, UnrenderableError) as error:
            raise InputError(f"{path}: {error}") from None
    return findings


def preview_records(paths: list[str], settings: Settings, *, account_name: str | None = None) -> list[dict[str, Any]]:
    """One record per finding in the files (the ``--format json`` contract)."""
    findings = prepared(paths, settings, account_name=account_name)
    for p in findings:
        if p.degraded:
            _note_degraded(p.classification, p.degraded)
    return [_record(p, settings.locale.lang) for p in findings]


def _label(c: Classification) -> str:
    """The finding's id for a terminal line: only a validated one (the id is attacker-controlled)."""
    from responder.domain.classify import SAFE_ID  # noqa: PLC0415 (loaded already: it classified c)

    finding_id = c.triage.finding_id
    return finding_id if SAFE_ID.fullmatch(finding_id) else "(a finding with an invalid id)"


def _note_degraded(c: Classification, error: str) -> None:
    print(
        f"{_label(c)}: its details could not be shown ({error}): "
        "shown in its minimal form, as the notifier would send it",
        file=sys.stderr,
    )


def _record(p: Prepared, lang: str) -> dict[str, Any]:
    """The JSON record of one finding: its steps in the email's language, as its email shows them."""
    t, shows, links = p.classification.triage, p.classification.presentation, p.classification.links
    tr = translator(lang)
    return {
        "id": t.finding_id,
        "type": t.finding_type,
        "severity": t.severity,
        "severity_band": t.band,
        "threat_purpose": t.parts.purpose,
        "resource_type": t.parts.resource,
        "threat_family": t.parts.family,
        "detection_mechanism": t.parts.mechanism,
        "artifact": t.parts.artifact,
        "action_type": t.action_type,
        "connection_direction": shows.direction,
        "resource_role": shows.resource_role,
        "affected_resource_type": t.resource_type,
        "account_id": t.account_id,
        "account_name": t.account_name,
        "playbook": shows.playbook,
        "sample": t.is_sample,
        "archived": t.archived,
        "notify": p.notify,
        "reason": p.reason,
        "reason_detail": p.detail,
        "subject": p.email.subject,
        "local_subject": p.email.local_subject,
        "text": p.email.text,
        "html": p.email.html,
        "degraded": p.degraded,
        "steps": [tr(step) for step in shows.steps],
        "console_url": links.console_url,
        "docs_url": links.docs_url,
    }


def grouped_record(
    paths: list[str], settings: Settings, *, kind: str, account_name: str | None = None
) -> dict[str, Any]:
    """The one grouped email (``kind`` ALERTS: a storm; DIGEST: the digest) of every finding given.

    Every finding is included, even one the Lambda would not email (noted on stderr), so
    any grouped form can be reviewed; the notifier splits more than ``MAX_PER_EMAIL``. It is
    rendered as the notifier renders it (``degrade.compose``): a finding whose details cannot
    be shown there appears in its minimal form (noted on stderr).
    """
    from responder.domain.degrade import compose  # noqa: PLC0415
    from responder.domain.routing import MAX_PER_EMAIL  # noqa: PLC0415

    findings = prepared(paths, settings, account_name=account_name)
    if not findings:
        raise InputError("no findings to group")
    for p in findings:
        if not p.notify:
            print(f"{_label(p.classification)}: included, but would NOT be sent ({p.reason})", file=sys.stderr)
    if len(findings) > MAX_PER_EMAIL:
        emails = -(-len(findings) // MAX_PER_EMAIL)
        print(f"{len(findings)} findings: the notifier sends at most {MAX_PER_EMAIL} per email ({emails} emails); "
              "shown as one", file=sys.stderr)  # fmt: skip
    composed = compose(
        findings,
        lambda p: (p.classification, None),  # None: each one's first email, not an update
        kind="DIGEST" if kind == "digest" else "ALERTS",
        lone_in_full=False,  # the grouped form even of one finding, to review it
        locale=settings.locale,
        minutes=settings.digest_minutes,
    )
    for part in composed.lost:
        label = _label(part.item.classification)
        print(f"{label}: left out: cannot be rendered, not even without its details ({part.error})", file=sys.stderr)
    if len(composed.emails) != 1:
        # None rendered, or (no known input does this) each alone but not together: the
        # notifier then sends one email per finding, which the plain preview shows.
        raise InputError("these findings cannot be rendered as one grouped email")
    [(shown, email)] = composed.emails
    for part in shown:
        if part.error:
            _note_degraded(part.item.classification, part.error)
    return {
        "kind": kind,
        "findings": len(shown),
        "ids": [part.item.classification.triage.finding_id for part in shown],
        "subject": email.subject,
        "local_subject": email.local_subject,
        "text": email.text,
        "html": email.html,
    }


def _print_preview(args: argparse.Namespace, settings: Settings) -> None:
    if args.grouped:
        record = grouped_record(args.files, settings, kind=args.kind or "alerts", account_name=args.account_name)
        if args.format == "json":
            print(json.dumps(record, indent=2, ensure_ascii=False))
        elif args.format == "html":
            print(record["html"])
        else:
            local = f"\nSubject (SES): {record['local_subject']}" if record["local_subject"] else ""
            print(
                f"----- one grouped email ({record['kind']}, {record['findings']} findings)\n"
                f"Subject: {record['subject']}{local}\n\n{record['text']}"
            )
        return
    records = preview_records(args.files, settings, account_name=args.account_name)
    if args.format == "json":
        print(json.dumps(records, indent=2, ensure_ascii=False))
    elif args.format == "html":
        print("\n".join(record["html"] for record in records))
    else:
        for record in records:
            verdict = "would be sent" if record["notify"] else f"would NOT be sent ({record['reason']})"
            local = f"\nSubject (SES): {record['local_subject']}" if record["local_subject"] else ""
            print(f"----- {record['id']}: {verdict}\nSubject: {record['subject']}{local}\n\n{record['text']}")


def run_doctor(stack_name: str = DEFAULT_STACK, *, region: str | None = None, send_test: bool = False) -> int:
    """The ``doctor`` command: print one line per check; the exit status (0, 1 any FAIL, 2 AWS unreachable)."""
    # The checks are pure; the adapter (boto3) is wired here, and loads only with this command.
    from responder.adapters.doctor_aws import AwsDeployment, guard  # noqa: PLC0415
    from responder.app.doctor import diagnose, report  # noqa: PLC0415
    from responder.domain.deployment import AwsUnavailableError  # noqa: PLC0415

    try:
        aws = AwsDeployment.connect(region)
        print(f"GuardDuty Responder doctor: stack {stack_name} in {aws.region}")
        results = diagnose(aws, stack_name, send_test=send_test, guard=guard)
    except AwsUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text, status = report(results)
    print(text)
    return status


def _account_name(value: str) -> str:
    """An ``--account-name`` as the product accepts one (else argparse says why)."""
    name = valid_name(value)
    if name is None:
        raise argparse.ArgumentTypeError("an account name is printable ASCII, 1-50 characters")
    return name


def main(argv: list[str] | None = None) -> int:
    """The ``preview`` and ``doctor`` commands; the exit status (0 ok, 1 bad input or a failed check)."""
    parser = argparse.ArgumentParser(prog="python -m responder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="print what would be sent for each finding; sends nothing")
    preview.add_argument("files", nargs="+", metavar="FILE")
    preview.add_argument("--format", choices=("text", "html", "json"), default="text")
    preview.add_argument("--lang", choices=LANGUAGES, default=None, help="email language (default: LANGUAGE or en)")
    preview.add_argument(
        "--grouped", action="store_true", help="print the one grouped email of all the findings (a storm or a digest)"
    )
    preview.add_argument(
        "--kind",
        choices=("alerts", "digest"),
        default=None,
        help="with --grouped: alerts (a storm, the default) or digest",
    )
    preview.add_argument(
        "--account-name",
        type=_account_name,
        default=None,
        metavar="NAME",
        help="the name of every finding's account (default: as ACCOUNT_NAMES names it, else the id alone)",
    )
    doctor = commands.add_parser("doctor", help="check a deployed stack (read-only unless --send-test)")
    doctor.add_argument("--stack-name", default=DEFAULT_STACK)
    doctor.add_argument("--region", default=None, help="default: the AWS CLI's Region (AWS_REGION, profile)")
    doctor.add_argument(
        "--send-test", action="store_true", help="also send one marked test alert and one test alarm (writes)"
    )
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return run_doctor(args.stack_name, region=args.region, send_test=args.send_test)
    if args.kind and not args.grouped:
        parser.error("--kind needs --grouped")
    try:
        settings = Settings.from_env(os.environ)
        if args.lang:
            settings = Settings(**{**settings.__dict__, "language": args.lang})
        if settings.unknown_zone:
            print(
                f"note: DISPLAY_TIMEZONE {settings.unknown_zone!r} is not a known time zone: UTC only", file=sys.stderr
            )
        _print_preview(args, settings)
    except (SettingsError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
