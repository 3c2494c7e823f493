"""``python -m responder preview FILE...``: print exactly what would be sent, send nothing.

A FILE may hold an EventBridge event, a bare finding (console export, camelCase), or
``aws guardduty get-findings`` output (``{"Findings": [...]}``, PascalCase keys), or a
JSON list of any of these. Settings come from the same environment variables as the
Lambda. Bad input: exit status 1 and a one-line reason on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from responder.i18n import LANGUAGES
from responder.settings import Settings, SettingsError

# Map-valued members whose keys are data, not field names: leave them as they are.
_MAP_MEMBERS: Final = frozenset({"AffectedResources", "affectedResources"})


class InputError(ValueError):
    """The file cannot be read as a GuardDuty event or finding."""


def camel_keys(value: Any) -> Any:
    """boto3 PascalCase keys (``Type``, ``Service``) to wire camelCase (``type``, ``service``)."""
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    if isinstance(value, dict):
        return {
            (key[:1].lower() + key[1:] if isinstance(key, str) else key): (
                item if key in _MAP_MEMBERS else camel_keys(item)
            )
            for key, item in value.items()
        }
    return value


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


def _load(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON: {str(error)[:120]}") from None


def preview_records(paths: list[str], settings: Settings) -> list[dict[str, Any]]:
    """One record per finding in the files (the ``--format json`` contract)."""
    from responder.service import InvalidEventError, parse_event, prepare  # noqa: PLC0415

    records = []
    for path in paths:
        try:
            events = list(events_in(_load(path)))
            for event in events:
                parsed = parse_event(event)
                if parsed is None:
                    print(f"{path}: ignored {str(event.get('detail-type'))[:80]!r} (not a finding)", file=sys.stderr)
                    continue
                p = prepare(parsed.detail, settings)
                c = p.classification
                records.append(
                    {
                        "id": c.finding_id,
                        "type": c.finding_type,
                        "severity": c.severity,
                        "severity_band": c.band,
                        "threat_purpose": c.parts.purpose,
                        "resource_type": c.parts.resource,
                        "threat_family": c.parts.family,
                        "detection_mechanism": c.parts.mechanism,
                        "artifact": c.parts.artifact,
                        "action_type": c.action_type,
                        "connection_direction": c.direction,
                        "resource_role": c.resource_role,
                        "affected_resource_type": c.resource_type,
                        "playbook": c.playbook,
                        "sample": c.is_sample,
                        "archived": c.archived,
                        "notify": p.notify,
                        "reason": p.reason,
                        "reason_detail": p.detail,
                        "subject": p.email.subject,
                        "text": p.email.text,
                        "html": p.email.html,
                        "steps": list(c.steps),
                        "console_url": c.console_url,
                        "docs_url": c.docs_url,
                    }
                )
        except (InputError, InvalidEventError) as error:
            raise InputError(f"{path}: {error}") from None
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m responder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="print what would be sent for each finding; sends nothing")
    preview.add_argument("files", nargs="+", metavar="FILE")
    preview.add_argument("--format", choices=("text", "html", "json"), default="text")
    preview.add_argument("--lang", choices=LANGUAGES, default=None, help="email language (default: LANGUAGE or en)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(for_delivery=False)
        if args.lang:
            settings = Settings(**{**settings.__dict__, "language": args.lang})
        records = preview_records(args.files, settings)
    except (SettingsError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(records, indent=2, ensure_ascii=False))
    elif args.format == "html":
        print("\n".join(record["html"] for record in records))
    else:
        for record in records:
            verdict = "would be sent" if record["notify"] else f"would NOT be sent ({record['reason']})"
            print(f"----- {record['id']}: {verdict}\nSubject: {record['subject']}\n\n{record['text']}")
    return 0
