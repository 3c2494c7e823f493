"""The last step of `make demo`: act on an emailed finding as its Respond section says, in the emulated AWS.

SSM Automation's execution is not in moto, so the runbooks' steps are played by the test-only runner
(tests/runbooks/runner.py) against the demo's embedded AWS (the same moto server, through
AWS_ENDPOINT_URL). The instance of the first emailed finding about an EC2 instance is created there
with one security group, ``web``; moto chooses its own instance id, so the runbooks run with moto's id
(``instance``) and ``finding.instance`` keeps the id the email names. The runbooks' roles are created
in the emulated IAM from the synthesized template (moto evaluates no permission: they are there for the
ARN the documents default to, as the stack makes them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from demo.emulator import PSEUDO
from demo.report import Row
from infra.constants import STACK_NAME
from infra.resolve import resolve
from infra.runbooks.documents import by_key
from infra.runbooks.model import ContentContext
from tests.runbooks.runner import Execution
from tests.runbooks.runner import run as run_steps

# The isolate runbook's own rule for an instance id: a finding's value that fails it gets no command
# in the email, so the demo does not act on it either (finding fields are attacker-controlled).
INSTANCE_ID = re.compile(next(p.pattern for p in by_key("isolate").params if p.name == "InstanceId") or "$^")
FINDING_ID = re.compile(next(p.pattern for p in by_key("isolate").params if p.name == "FindingId") or "$^")
EXECUTION_ID = "demo-isolate-1"  # the Automation execution id (the quarantine group is named after it)
RESTORE_EXECUTION_ID = "demo-restore-1"
WEB_GROUP = "web"


@dataclass(frozen=True)
class Picked:
    """The emailed finding the demo acts on."""

    row: Row
    instance: str  # the instance id in the finding (and in the email's command)
    region: str


def pick(rows: Sequence[Row], events: Sequence[Mapping[str, Any]]) -> Picked | None:
    """The first emailed finding about an EC2 instance whose id and finding id pass the runbook's
    rules (None when no emailed finding has one)."""
    for row, event in zip(rows, events, strict=True):
        detail = event.get("detail")
        if row.status != "sent" or not row.finding_id or not isinstance(detail, Mapping):
            continue
        instance = ((detail.get("resource") or {}).get("instanceDetails") or {}).get("instanceId")
        region = str(detail.get("region") or row.region)
        if (
            isinstance(instance, str)
            and INSTANCE_ID.fullmatch(instance)
            and FINDING_ID.fullmatch(row.finding_id)
            and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region)
        ):
            return Picked(row, instance, region)
    return None


def create_role(template: Mapping[str, Any], key: str, region: str) -> str:
    """The runbook's role as the template defines it (trust and policy resolved), in the emulated IAM;
    returns its ARN (what the document's AutomationAssumeRole defaults to)."""
    document = next(
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SSM::Document" and r["Properties"].get("Name") == by_key(key).name
    )
    logical_id = document["Properties"]["Content"]["parameters"]["AutomationAssumeRole"]["default"]["Fn::GetAtt"][0]
    properties = template["Resources"][logical_id]["Properties"]
    pseudo = {**PSEUDO, "AWS::Region": region}
    iam = boto3.client("iam", region_name=region)
    role = iam.create_role(
        RoleName=f"{STACK_NAME}-{logical_id}",
        AssumeRolePolicyDocument=json.dumps(resolve(template, properties["AssumeRolePolicyDocument"], pseudo)),
        Description=str(properties.get("Description", "")),
    )["Role"]
    for policy in properties.get("Policies", []):
        iam.put_role_policy(
            RoleName=role["RoleName"],
            PolicyName=str(policy["PolicyName"]),
            PolicyDocument=json.dumps(resolve(template, policy["PolicyDocument"], pseudo)),
        )
    return str(role["Arn"])


def create_instance(session: boto3.Session) -> str:
    """An instance with one EBS volume in a new VPC, with one security group, ``web``; returns its id."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=WEB_GROUP, Description="the web tier", VpcId=vpc)["GroupId"]
    instance: str = ec2.run_instances(
        ImageId="ami-12c6146b",  # one of moto's bundled images
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        SecurityGroupIds=[group],
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}],
    )["Instances"][0]["InstanceId"]
    return instance


def groups(session: boto3.Session, instance: str) -> list[dict[str, str]]:
    """The instance's security groups, read back from the emulated EC2 (id and name)."""
    reservations = session.client("ec2").describe_instances(InstanceIds=[instance])["Reservations"]
    # The instance's own list: moto keeps old groups on the ENI too (a moto gap; AWS replaces them).
    return [
        {"id": str(group["GroupId"]), "name": str(group["GroupName"])}
        for group in reservations[0]["Instances"][0]["SecurityGroups"]
    ]


def _failure(execution: Execution) -> str:
    failed = next((step for step in execution.steps if step.status == "Failed"), None)
    return f"{failed.name}: {failed.error}" if failed else execution.status


def act(template: Mapping[str, Any], picked: Picked) -> dict[str, Any]:
    """Isolate the picked finding's instance, then restore it; what happened, for runbook.json."""
    session = boto3.Session(region_name=picked.region)
    instance = create_instance(session)
    before = groups(session, instance)
    isolate, restore = by_key("isolate"), by_key("restore")
    isolated = run_steps(
        isolate.content(ContentContext(create_role(template, "isolate", picked.region))),
        {"InstanceId": instance, "FindingId": picked.row.finding_id},
        session=session,
        execution_id=EXECUTION_ID,
    )
    if isolated.status != "Success":
        raise RuntimeError(f"the isolate runbook failed: {_failure(isolated)}")
    after = groups(session, instance)
    restored = run_steps(
        restore.content(ContentContext(create_role(template, "restore", picked.region))),
        {"InstanceId": instance},
        session=session,
        execution_id=RESTORE_EXECUTION_ID,
    )
    if restored.status != "Success":
        raise RuntimeError(f"the restore runbook failed: {_failure(restored)}")
    return {
        "document": isolate.name,
        "instance": instance,
        "finding": {
            "id": picked.row.finding_id,
            "instance": picked.instance,
            "account_id": picked.row.account_id,
            "region": picked.region,
            "emails": picked.row.emails,
        },
        "execution": EXECUTION_ID,
        "before": before,
        "after": after,
        "snapshots": [str(s) for s in isolated.outputs.get("Snapshot.SnapshotIds", [])],
        "restore": {"document": restore.name, "execution": RESTORE_EXECUTION_ID, "after": groups(session, instance)},
    }


def lines(runbook: Mapping[str, Any]) -> list[str]:
    """What the demo prints about the runbook runs."""

    def shown(found: Sequence[Mapping[str, str]]) -> str:
        return "[" + ", ".join(f"{g['id']} {g['name']}" for g in found) + "]"

    finding = runbook["finding"]
    return [
        f"Runbook {runbook['document']} for finding {finding['id']} (email "
        f"{', '.join(f'#{n}' for n in finding['emails'])}; its instance {finding['instance']} created in the "
        f"emulated EC2 of {finding['region']} as {runbook['instance']}, which the runbooks ran with):",
        f"  instance {runbook['instance']} security groups before: {shown(runbook['before'])} "
        f"after: {shown(runbook['after'])}",
        f"  snapshots: {', '.join(runbook['snapshots']) or '(none)'}",
        f"  after {runbook['restore']['document']}: {shown(runbook['restore']['after'])}",
    ]
