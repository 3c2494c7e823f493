"""`make demo-burst`: a storm of findings on the embedded AWS, and what reached a recipient.

Every active finding type of the reference list arrives at once at its default severity
(Medium where it varies), plus republished updates of a few of them and duplicate
deliveries of a few events. Ends with one JSON line:
{"findings": N, "emails": M, "immediate_emails": a, "digest_emails": b, "missing": 0,
 "duplicated": 0, "dlq": 0, "throttled_retries": t}
and exits non-zero unless nothing is missing or duplicated.

``--org`` (``make demo-burst ARGS=--org``): the same storm in an emulated organisation, its
findings spread over 50 member accounts in 5 OUs, each OU routed to its own team. Every
audience (the security team and each OU's team) is checked on its own: nothing missing,
nothing twice, nothing of another OU; the JSON line then states each owner's mail count.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from demo import organisation as org
from demo.report import Mail, Result
from demo.run import FIXTURES, log, run
from infra.parameters import BY_NAME

TYPES = FIXTURES / "finding-types.tsv"
SEVERITY = {"Critical": 9.0, "High": 8.0, "Medium": 5.0, "Low": 2.0}
THRESHOLD = float(str(BY_NAME["NotifyThreshold"].default))  # the stack's default NotifyThreshold
UPDATED_TYPES = (  # republished later: one rises from Medium to High, two stay the same
    "Recon:EC2/Portscan",
    "UnauthorizedAccess:IAMUser/TorIPCaller",
    "Backdoor:EC2/C&CActivity.B",
)
DUPLICATED_TYPES = ("UnauthorizedAccess:EC2/TorClient", "Policy:S3/BucketPublicAccessGranted")
TARGET_EMAILS = 25
SES_SANDBOX_RATE = 1.0  # messages per second
ORG_ACCOUNTS, ORG_UNITS = 50, 5  # --org: the storm spread over 50 member accounts in 5 OUs
SECURITY_TEAM = "security team"  # the audience of Recipients, in the per-owner counts

RESOURCES: dict[str, dict[str, Any]] = {
    "EC2": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0burst000000000001"}},
    "Runtime": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0burst000000000002"}},
    "IAMUser": {"resourceType": "AccessKey", "accessKeyDetails": {"accessKeyId": "ASIABURST", "userName": "ci"}},
    "IAM": {"resourceType": "AccessKey", "accessKeyDetails": {"accessKeyId": "ASIABURST", "userName": "ci"}},
    "S3": {"resourceType": "S3Bucket", "s3BucketDetails": [{"name": "burst-data"}]},
    "Kubernetes": {"resourceType": "EKSCluster", "eksClusterDetails": {"name": "burst-eks"}},
    "EKS": {"resourceType": "AttackSequence"},
    "ECS": {"resourceType": "ECSCluster", "ecsClusterDetails": {"name": "burst-ecs"}},
    "Container": {"resourceType": "Container", "containerDetails": {"name": "burst-container"}},
    "Lambda": {"resourceType": "Lambda", "lambdaDetails": {"functionName": "burst-fn"}},
    "RDS": {"resourceType": "RDSDBInstance", "rdsDbInstanceDetails": {"dbInstanceIdentifier": "burst-db"}},
}


def default_severity(text: str) -> float:
    """The reference's default; Medium where it varies or is unverified."""
    return next((value for band, value in SEVERITY.items() if text.startswith(band)), SEVERITY["Medium"])


def finding_event(
    finding_type: str, severity: float, *, count: int = 1, updated: str = "2026-11-28T09:00:00.000Z"
) -> dict[str, Any]:
    finding_id = hashlib.sha256(finding_type.encode()).hexdigest()[:32]
    segment = finding_type.split(":", 1)[1].split("/", 1)[0]
    return {
        "version": "0",
        "id": f"burst-{finding_id[:8]}",
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": "123456789012",
        "time": updated,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "schemaVersion": "2.0",
            "accountId": "123456789012",
            "region": "us-east-1",
            "partition": "aws",
            "id": finding_id,
            "type": finding_type,
            "severity": severity,
            "createdAt": "2026-11-28T09:00:00.000Z",
            "updatedAt": updated,
            "title": f"Burst finding {finding_type}",
            "resource": copy.deepcopy(RESOURCES.get(segment, {"resourceType": "Instance"})),
            "service": {
                "serviceName": "guardduty",
                "detectorId": "b0a5b0a5b0a5b0a5b0a5b0a5b0a5b0a5",
                "count": count,
                "archived": False,
                "eventFirstSeen": "2026-11-28T08:55:00.000Z",
                "eventLastSeen": updated,
            },
        },
    }


def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(first publications, republished updates, duplicate deliveries)."""
    with TYPES.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["status"] == "active"]
    first = [finding_event(row["finding_type"], default_severity(row["default_severity"])) for row in rows]
    by_type = {event["detail"]["type"]: event for event in first}
    updates = []
    for index, finding_type in enumerate(UPDATED_TYPES):
        original = by_type[finding_type]["detail"]
        severity = 8.0 if index == 0 else original["severity"]  # the first one rises to High
        updates.append(finding_event(finding_type, severity, count=40, updated="2026-11-28T09:15:00.000Z"))
    duplicates = [copy.deepcopy(by_type[finding_type]) for finding_type in DUPLICATED_TYPES]
    return first, updates, duplicates


def tally(result: Result, first: list[dict[str, Any]], updates: list[dict[str, Any]]) -> dict[str, int]:
    """What reached a recipient, per finding id, read from the emails really sent."""
    missing, duplicated = _count(result.mails, first, updates, {e["detail"]["id"] for e in first})
    return {
        "findings": len(first),
        "emails": len(result.mails),
        "immediate_emails": sum(m.kind == "immediate" for m in result.mails),
        "digest_emails": sum(m.kind == "digest" for m in result.mails),
        "missing": missing,
        "duplicated": duplicated,
        "dlq": len(result.dead_letters),
        "throttled_retries": result.throttled,
    }


def _count(
    mails: list[Mail], first: list[dict[str, Any]], updates: list[dict[str, Any]], audience: set[str]
) -> tuple[int, int]:
    """(missing, duplicated) of the emails one audience received: ``audience`` holds the ids of the
    findings it is owed (at or above the threshold among them) and nothing else may reach it."""
    mentions: Counter[str] = Counter()
    for mail in mails:
        for event in first:
            if f"Finding ID: {event['detail']['id']}" in mail.text:
                mentions[event["detail"]["id"]] += 1
    expected = {e["detail"]["id"] for e in first if e["detail"]["severity"] >= THRESHOLD} & audience
    # An update whose band rose is emailed again, on purpose; nothing else may be.
    rose = {u["detail"]["id"] for u in updates if u["detail"]["severity"] > SEVERITY["Medium"]}
    missing = len([fid for fid in expected if mentions[fid] == 0])
    duplicated = sum(max(0, mentions[fid] - 1 - (fid in rose)) for fid in mentions if fid in audience)
    foreign = sum(mentions[fid] for fid in mentions if fid not in audience)  # another owner's finding
    return missing, duplicated + foreign


def tally_owners(result: Result, first: list[dict[str, Any]], updates: list[dict[str, Any]]) -> dict[str, Any]:
    """``tally`` for every audience of an organisation run: the security team gets every finding,
    each route the findings of its OU's accounts; missing and duplicated are summed over audiences."""
    organisation = result.organisation
    if organisation is None:
        raise ValueError("not an organisation run")
    accounts = {str(e["detail"]["id"]): str(e["detail"]["accountId"]) for e in result.events if "detail" in e}
    audiences: dict[str, set[str]] = {SECURITY_TEAM: {e["detail"]["id"] for e in first}}
    for route in organisation.design.routes:
        audiences[route.name] = {
            fid
            for fid, account in accounts.items()
            if route in organisation.routes_for(account, "Critical")  # the OU match; min_band Low: every band
        }
    figures: dict[str, Any] = {**tally(result, first, updates), "accounts": len(organisation.accounts)}
    figures["ous"] = len(organisation.ou_ids)
    figures["missing"] = figures["duplicated"] = 0
    mails_per_owner = {}
    for name, owed in audiences.items():
        mails = [m for m in result.mails if (m.route or SECURITY_TEAM) == name]
        missing, duplicated = _count(mails, first, updates, owed)
        figures["missing"] += missing
        figures["duplicated"] += duplicated
        mails_per_owner[name] = len(mails)
    figures["mails_per_owner"] = mails_per_owner
    return figures


def burst(folder: Path, *, organised: bool = False) -> tuple[Result, dict[str, Any]]:
    """The scenario on the embedded AWS: everything within one batching window, SES at the sandbox
    rate; ``organised``: over 50 accounts in 5 OUs, each OU routed to its team."""
    first, updates, duplicates = scenario()
    for name, events in (("1-first.json", first), ("2-updates.json", updates), ("3-duplicates.json", duplicates)):
        (folder / name).write_text(json.dumps(events), encoding="utf-8")
    log(f"burst: {len(first)} findings, {len(updates)} updates, {len(duplicates)} duplicate deliveries")
    design = org.spread(ORG_UNITS, ORG_ACCOUNTS) if organised else None
    result = run(
        [folder], {"Channels": "ses"}, write=False, arrival="burst", ses_rate=SES_SANDBOX_RATE, organisation=design
    )
    return result, (tally_owners if organised else tally)(result, first, updates)


def main(argv: list[str] | None = None) -> int:
    """`make demo-burst [ARGS=--org]`: the storm, the emails, the JSON line; 1 if anything is missing or twice."""
    parser = argparse.ArgumentParser(prog="make demo-burst ARGS=...", description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--org",
        action="store_true",
        help=f"over {ORG_ACCOUNTS} accounts in {ORG_UNITS} OUs, each OU routed to its team",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        result, figures = burst(Path(folder), organised=args.org)
    statuses = Counter(row.status for row in result.rows)
    print(f"events: {dict(statuses)}")
    for mail in result.mails:
        to = f" to {mail.route or SECURITY_TEAM}" if args.org else ""
        print(f"  email #{mail.number} ({mail.kind}{to}): {mail.subject}")
    print(f"emails sent: {figures['emails']} (target at most {TARGET_EMAILS}); SES throttled {result.throttled} times")
    if args.org:
        for owner, count in figures["mails_per_owner"].items():
            print(f"  {owner}: {count} emails")
    print(json.dumps(figures))
    return 0 if figures["missing"] == 0 and figures["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
