"""Every real corpus finding and every newest-family fixture, emailed in English and Japanese.

The expected values come from the finding's own JSON through a small oracle written here
(GuardDuty's documented bands, type grammar, resource blocks and AWS naming rules), not from
the code under test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from responder.domain.classify import classify
from responder.domain.i18n import Locale
from responder.domain.models import GuardDutyEvent
from responder.domain.render import render
from responder.domain.settings import Settings
from tests.conftest import FIXTURES

FILES = sorted((FIXTURES / "corpus" / "events").glob("*.json")) + sorted(
    path
    for path in (FIXTURES / "families").glob("*.json")
    if json.loads(path.read_text(encoding="utf-8")).get("detail-type") == "GuardDuty Finding"
)

# --- the oracle ---------------------------------------------------------------------------

# GuardDuty's severity levels: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0.
BANDS = ((9.0, "Critical"), (7.0, "High"), (4.0, "Medium"), (0.0, "Low"))

# AWS naming rules, written independently of responder.domain.names.
_EC2 = r"-(?:[0-9a-f]{8}|[0-9a-f]{17})"
RULES = {
    "instance": lambda v: re.fullmatch("i" + _EC2, v),
    "bucket": lambda v: (
        re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", v)
        and ".." not in v
        and not re.fullmatch(r"[\d.]+", v)
        and not v.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
        and not v.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))
    ),
    "iam": lambda v: re.fullmatch(r"[\w+=,.@-]{1,64}", v, re.ASCII),
    "eks": lambda v: re.fullmatch(r"[0-9A-Za-z][\w-]{0,99}", v, re.ASCII),
    "ecs": lambda v: re.fullmatch(r"[\w-]{1,255}", v, re.ASCII),
    "container": lambda v: re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", v) or re.fullmatch(r"[0-9a-f]{1,64}", v),
    "lambda": lambda v: re.fullmatch(r"[\w-]{1,64}", v, re.ASCII),
    "rds": lambda v: len(v) <= 63 and re.fullmatch(r"[A-Za-z](?:-?[A-Za-z0-9])*", v),
    "snapshot": lambda v: re.fullmatch("snap" + _EC2, v),
    "ami": lambda v: re.fullmatch("ami" + _EC2, v),
    "group": lambda v: re.fullmatch(r"[A-Za-z0-9._-]{1,255}", v),
    "uuid": lambda v: re.fullmatch(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", v),
}


def _get(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and len(data) > key:
            data = data[key]
        else:
            return None
    return data


def _after(arn: str | None, marker: str) -> str | None:
    return arn.rsplit(marker, 1)[1] if arn and marker in arn else None


def primary(detail: dict[str, Any]) -> tuple[str | None, bool, set[str]]:
    """(the primary resource's name, whether it passes its AWS rule, the other blocks' names)."""
    resource = detail.get("resource") or {}
    kind = resource.get("resourceType")
    key = resource.get("accessKeyDetails") or {}
    others = {
        v
        for v in (
            _get(resource, "instanceDetails", "instanceId"),
            key.get("userName"),
            _get(resource, "s3BucketDetails", 0, "name"),
            _get(resource, "eksClusterDetails", "name"),
            _get(resource, "ecsClusterDetails", "name"),
            _get(resource, "containerDetails", "name"),
        )
        if v
    }
    candidates: list[tuple[str | None, str]]
    if "ebsSnapshotDetails" in resource:
        candidates = [(_after(_get(resource, "ebsSnapshotDetails", "snapshotArn"), "snapshot/"), "snapshot")]
    elif "ec2ImageDetails" in resource:
        candidates = [(_after(_get(resource, "ec2ImageDetails", "imageArn"), "image/"), "ami")]
    elif "recoveryPointDetails" in resource:
        arn = _get(resource, "recoveryPointDetails", "recoveryPointArn")
        candidates = [(_after(arn, "image/"), "ami"), (_after(arn, "recovery-point:"), "uuid")]
    elif kind == "AttackSequence":
        seq = _get(detail, "service", "detection", "sequence", "resources") or []
        by_type = {r.get("resourceType"): r.get("name") for r in reversed(seq)}
        candidates = [
            (by_type.get("EKS_CLUSTER"), "eks"),
            (by_type.get("ECS_CLUSTER"), "ecs"),
            (by_type.get("AUTOSCALING_AUTO_SCALING_GROUP"), "group"),
        ]
    else:
        candidates = {
            "Instance": [(_get(resource, "instanceDetails", "instanceId"), "instance")],
            "AccessKey": [(key.get("userName"), "iam")],
            "S3Bucket": [(_get(resource, "s3BucketDetails", 0, "name"), "bucket")],
            "S3Object": [(_get(resource, "s3BucketDetails", 0, "name"), "bucket")],
            "EKSCluster": [(_get(resource, "eksClusterDetails", "name"), "eks")],
            "ECSCluster": [(_get(resource, "ecsClusterDetails", "name"), "ecs")],
            "Container": [
                (_get(resource, "containerDetails", "name"), "container"),
                (_get(resource, "containerDetails", "id"), "container"),
            ],
            "Lambda": [(_get(resource, "lambdaDetails", "functionName"), "lambda")],
            "RDSDBInstance": [(_get(resource, "rdsDbInstanceDetails", "dbInstanceIdentifier"), "rds")],
            "RDSLimitlessDB": [(_get(resource, "rdsLimitlessDbDetails", "dbShardGroupIdentifier"), "rds")],
        }.get(kind or "", [])
    present = [(name, rule) for name, rule in candidates if name]
    for name, rule in present:
        if RULES[rule](name):
            return name, True, others - {name}
    return (present[0][0], False, others - {present[0][0]}) if present else (None, False, others)


def defanged(name: str) -> str:
    """How a name reads once defanged (dots before letters and @ in the corpus' names)."""
    return re.sub(r"\.(?=[A-Za-z])", "[.]", name.replace("@", "[@]"))


# Path-valued fields of the finding (GuardDuty's documented names); an S3 object's ``key``.
PATH_KEYS = {
    *("executablePath", "socketPath", "runcBinaryPath", "ldPreloadValue", "moduleFilePath", "scriptPath"),
    *("shellHistoryFilePath", "libraryPath", "releaseAgentPath", "threatFilePath", "filePath", "itemPath"),
    *("nestedItemPath", "mountPath", "mountSource", "mountTarget"),
}


def readable_paths(data: Any, parent: str = "") -> list[str]:
    """Every path value (object keys included) from its first directory on: a path fact keeps
    each name below its first directory readable (``/etc/cron.hourly/.sync``); the first one,
    a ``www.`` name, and a path holding a URL, an address or an ARN are left to the defanging."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            is_path = key in PATH_KEYS or (key == "key" and parent == "s3ObjectDetails")
            if is_path and isinstance(value, str) and not re.search(r"[:@\\\s,]|//|(?:^|/)www\.", value):
                root = re.match(r"(?:~|\.{1,2})?/*", value)
                first_end = value.find("/", root.end() if root else 0)
                if first_end > 0 and re.search(r"\.[A-Za-z]", value[first_end:]):
                    out.append(value[first_end:])
            out += readable_paths(value, key)
    elif isinstance(data, list):
        for item in data:
            out += readable_paths(item, parent)
    return out


# --- the tests ----------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return raw


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_finding_is_classified_and_names_its_resource(path, lang):
    # Given a real or crafted GuardDuty finding and what its JSON says
    raw = _load(path)
    detail = raw["detail"]
    finding = GuardDutyEvent.model_validate(raw).detail
    severity = float(detail["severity"])
    purpose, _colon, rest = detail["type"].partition(":")
    segment = rest.split("/")[0] if "/" in rest else None
    action_type = _get(detail, "service", "action", "actionType") or None
    direction = _get(detail, "service", "action", "networkConnectionAction", "connectionDirection")
    info = _get(detail, "service", "additionalInfo") or {}
    sample = info.get("sample") is True or json.loads(info.get("value") or "{}").get("sample") is True
    name, valid, others = primary(detail)

    # When it is classified and emailed in the language
    c = classify(finding, Settings(language=lang))
    email = render(c, Locale(lang))

    # Then band, purpose, resource segment, action type and direction follow the JSON
    assert c.triage.band == next(band for low, band in BANDS if severity >= low)
    assert c.triage.parts.purpose == (purpose if segment else None)
    assert c.triage.parts.resource == segment
    assert c.triage.action_type == action_type
    assert c.presentation.direction == (direction.upper() if direction else None)
    # ... the subject is printable ASCII within the SNS limit, and names the primary resource
    # (by resourceType) when the name passes its AWS rule and fits after the type, never
    # another block's name instead
    assert re.fullmatch(r"[ -~]{1,99}", email.subject)
    head = ("[SAMPLE] " if sample else "") + f"[GuardDuty {c.triage.band.upper()} {severity:.1f}] {detail['type']}"
    if name and valid and len(head) + 1 + len(defanged(name)) <= 99:
        assert f"{head} {defanged(name)}" in email.subject, "needs classify to pass `service` (attack sequences)"
        assert defanged(name) in email.display_subject
    elif name:
        assert f" {defanged(name)}" not in email.subject.removeprefix(head)
    for other in others:
        assert f" {defanged(other)} " not in f"{email.subject.removeprefix(head)} "
    # ... the top of the body names it, valid or not
    top = email.text.split("\n\n")[1]
    if name:
        assert defanged(name) in top or name in top, top
    # ... no placeholder lineage, and no file path defanged below its first directory
    assert "?, ?" not in email.text
    for readable in readable_paths(detail):
        assert readable in email.text, readable
