"""The six SSM Automation documents (schema 0.3) the stack deploys, as data.

Each ``Runbook.content`` builds the whole document for a ``ContentContext``: the runbook role's ARN is
the default of ``AutomationAssumeRole`` (so a local run needs no role argument) and, for the containment
runbooks, an ``aws:approve`` step comes first when approvers are configured (baked in at deploy time,
never a runtime switch). Steps use only ``aws:executeAwsApi``, ``aws:branch``, ``aws:approve`` and pure
``aws:executeScript`` (no boto3, no import but ``datetime``/``json``): ``executeAwsApi`` cannot join a
list into a tag value or produce a timestamp. ``permissions.py`` derives each role's grants from these
steps; tests/runbooks validates every call against botocore's model and runs the documents on moto.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Final

from infra import constants
from infra.runbooks.model import ContentContext, Param, Runbook

# Names and tag keys live in infra.constants (the IAM conditions name the same tags); kept here by name
# so the documents read as they deploy.
PREFIX: Final = constants.RUNBOOK_PREFIX
QUARANTINE_TAG: Final = constants.QUARANTINE_TAG
PREVIOUS_GROUPS_TAG: Final = constants.PREVIOUS_GROUPS_TAG
FINDING_TAG: Final = constants.FINDING_TAG
REVOKE_POLICY_NAME: Final = "AWSRevokeOlderSessions"  # the name the IAM console's "Revoke active sessions" uses
SCRIPT_RUNTIME: Final = "python3.11"

ASSUME_ROLE_PARAM: Final = "AutomationAssumeRole"
ASSUME_ROLE_PATTERN: Final = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
INSTANCE_ID: Final = r"^i-([0-9a-f]{8}|[0-9a-f]{17})$"
# 200: the id goes into tag values (256) and descriptions (255 with their text); GuardDuty ids are 32.
FINDING_ID: Final = r"^[A-Za-z0-9_-]{1,200}$"
DETECTOR_ID: Final = r"^[A-Za-z0-9_-]{1,300}$"
# A prefix of /16 or longer only (never 0.0.0.0/0); the Check script also refuses what the pattern cannot
# (999.1.1.1/32, host bits set). No look-arounds: SSM (Java) and Python must agree on the pattern.
CIDR_OR_EMPTY: Final = r"^$|^([0-9]{1,3}\.){3}[0-9]{1,3}/(1[6-9]|2[0-9]|3[0-2])$"
ACCESS_KEY_ID: Final = r"^(AKIA|ASIA)[A-Z0-9]{12,124}$"
LONG_TERM_KEY_ID: Final = r"^AKIA[A-Z0-9]{12,124}$"
IAM_NAME: Final = r"^[A-Za-z0-9+=,.@_-]{1,64}$"
IAM_NAME_OR_EMPTY: Final = r"^$|^[A-Za-z0-9+=,.@_-]{1,64}$"
BUCKET_NAME: Final = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"

_FINDING = Param(
    "FindingId", "String", "The GuardDuty finding id (recorded in tags and the execution history).", FINDING_ID
)

# Pure scripts (Python 3.11, handler(events, context)): data shaping only, no AWS call.
_ISOLATE_CHECK = """
import ipaddress


def handler(events, context):
    marks = sorted(tag["Key"] for tag in events["Tags"])
    if marks:
        raise ValueError(
            "the instance already carries %s: it was isolated before (run the restore runbook first, or "
            "check it by hand); nothing was changed" % ", ".join(marks)
        )
    enis = events["NetworkInterfaceIds"]
    if len(enis) != 1:
        raise ValueError("the instance has %d network interfaces: isolate each interface by hand" % len(enis))
    groups = " ".join(events["GroupIds"])
    if not groups or len(groups) > 256:
        raise ValueError("the security groups do not fit one tag value: record them by hand")
    cidr = events["ForensicsCidr"]
    if cidr:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            raise ValueError("ForensicsCidr %s is not an IPv4 network: %s" % (cidr, error)) from None
        if network.version != 4 or network.prefixlen < 16:
            raise ValueError("ForensicsCidr %s is wider than /16: name the forensics hosts' network" % cidr)
    return {"Groups": groups, "ForensicsAccess": cidr != ""}
"""

_RESTORE_SPLIT = """
def handler(events, context):
    previous = events["Previous"].split()
    quarantine = events["Quarantine"]
    if not previous or not quarantine.startswith("sg-"):
        raise ValueError("the instance carries no quarantine record: it was not isolated by the runbook")
    return {"GroupIds": previous, "QuarantineGroupId": quarantine}
"""

_CREDENTIALS_PLAN = """
import datetime
import json


def handler(events, context):
    key, user, role = events["AccessKeyId"], events["UserName"], events["RoleName"]
    if key.startswith("AKIA"):
        if not user:
            raise ValueError("a long-term access key needs UserName")
        target = "key"
    elif role:
        target = "role"
    elif user:
        target = "user"
    else:
        raise ValueError("temporary credentials: name the role (RoleName) or the user (UserName)")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}},
            }
        ],
    }
    return {"Target": target, "Now": now, "Policy": json.dumps(policy)}
"""


def _api(name: str, service: str, api: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "name": name,
        "action": "aws:executeAwsApi",
        "onFailure": "Abort",
        "inputs": {"Service": service, "Api": api, **inputs},
    }
    step.update(extra)
    return step


def _script(name: str, script: str, payload: dict[str, Any], outputs: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "action": "aws:executeScript",
        "onFailure": "Abort",
        "inputs": {
            "Runtime": SCRIPT_RUNTIME,
            "Handler": "handler",
            "Script": script.strip() + "\n",
            "InputPayload": payload,
        },
        "outputs": outputs,
    }


def _out(name: str, selector: str, kind: str) -> dict[str, str]:
    return {"Name": name, "Selector": selector, "Type": kind}


def _approve(name: str, approval: Any) -> dict[str, Any]:
    # The notice carries the document name and execution id only: no finding data on the approval topic.
    return {
        "name": "Approve",
        "action": "aws:approve",
        "onFailure": "Abort",
        "inputs": {
            "Approvers": approval["approvers"],
            "MinRequiredApprovals": 1,
            "NotificationArn": approval["topic_arn"],
            "Message": (
                f"Approve or deny {name} (execution {{{{ automation:EXECUTION_ID }}}}): "
                "read its parameters in the Systems Manager console before you approve."
            ),
        },
    }


def _document(
    name: str,
    description: str,
    params: tuple[Param, ...],
    steps: list[dict[str, Any]],
    outputs: list[str],
    *,
    approvable: bool,
) -> Callable[[ContentContext], dict[str, Any]]:
    """A content builder: the common envelope (parameters, assume role, approval) around ``steps``."""

    def build(context: ContentContext) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        for param in params:
            entry: dict[str, Any] = {"type": param.type, "description": param.description}
            if param.default is not None:
                entry["default"] = param.default
            if param.pattern is not None:
                entry["allowedPattern"] = param.pattern
            parameters[param.name] = entry
        parameters[ASSUME_ROLE_PARAM] = {
            "type": "String",
            "description": "The role the runbook acts with (default: the role the stack made for this runbook).",
            "default": context.role_arn,
            "allowedPattern": ASSUME_ROLE_PATTERN,
        }
        main = copy.deepcopy(steps)  # each document its own copy: callers may edit what they get
        if approvable and context.approval is not None:
            main.insert(0, _approve(name, context.approval))
        document: dict[str, Any] = {
            "schemaVersion": "0.3",
            "description": description,
            "assumeRole": "{{ AutomationAssumeRole }}",
            "parameters": parameters,
            "mainSteps": main,
        }
        if outputs:
            document["outputs"] = list(outputs)
        return document

    return build


def _runbook(
    key: str,
    suffix: str,
    description: str,
    params: tuple[Param, ...],
    *,
    steps: list[dict[str, Any]],
    outputs: list[str],
    approvable: bool = False,
) -> Runbook:
    name = PREFIX + suffix
    content = _document(name, description, params, steps, outputs, approvable=approvable)
    return Runbook(key, name, description, params, approvable, content)


_ISOLATE_DESCRIPTION = f"""# Isolate an EC2 instance (GuardDuty Responder)
Changes, in this order (containment first, so a later failure never leaves the instance reachable):
creates a quarantine security group (tagged `{QUARANTINE_TAG}`) with no egress and no ingress, or SSH from
`ForensicsCidr` only (an IPv4 network of /16 or longer: wider ones, 0.0.0.0/0 included, are refused), and
makes it the instance's only group; records the previous groups in the tag `{PREVIOUS_GROUPS_TAG}`, the
quarantine group in `{QUARANTINE_TAG}` and the finding id in `{FINDING_TAG}`; snapshots every EBS volume for
forensics (snapshots tagged `{FINDING_TAG}`); then tries termination and stop protection (not critical: they
may not apply to Spot or instance-store-backed instances, see those steps' errors).
Refused before any change: an instance already carrying `{QUARANTINE_TAG}` or `{PREVIOUS_GROUPS_TAG}`
(isolated before: restore it first), one with more than one network interface (isolate each interface by
hand), and an invalid `ForensicsCidr`. Connections already tracked may survive the group change. Should
tagging fail after the move, the previous groups are in the `DescribeInstance` step's outputs.
Reverse: run `{PREFIX}RestoreEc2Instance` (restores the recorded groups, deletes the quarantine group);
turn protection off by hand after forensics; the snapshots stay until you delete them."""


def _protect(name: str, attribute: str) -> dict[str, Any]:
    # Best effort after containment: Spot and instance-store-backed instances refuse these attributes.
    return _api(
        name,
        "ec2",
        "ModifyInstanceAttribute",
        {"InstanceId": "{{ InstanceId }}", attribute: {"Value": True}},
        onFailure="Continue",
        isCritical=False,
    )


ISOLATE = _runbook(
    "isolate",
    "IsolateEc2Instance",
    _ISOLATE_DESCRIPTION,
    (
        Param("InstanceId", "String", "The instance to isolate.", INSTANCE_ID),
        _FINDING,
        Param(
            "ForensicsCidr",
            "String",
            "Optional IPv4 network (/16 or longer) allowed to reach the instance on TCP 22.",
            CIDR_OR_EMPTY,
            "",
        ),
    ),
    steps=[
        _api(
            "DescribeInstance",
            "ec2",
            "DescribeInstances",
            {"InstanceIds": ["{{ InstanceId }}"]},
            outputs=[
                _out("GroupIds", "$.Reservations[0].Instances[0].SecurityGroups..GroupId", "StringList"),
                _out("VpcId", "$.Reservations[0].Instances[0].VpcId", "String"),
                _out(
                    "NetworkInterfaceIds",
                    "$.Reservations[0].Instances[0].NetworkInterfaces..NetworkInterfaceId",
                    "StringList",
                ),
            ],
        ),
        # The instance's own marks of an earlier isolation. DescribeTags, not DescribeInstances: an untagged
        # instance has no Tags member there (a selector matching nothing), while here Tags is always a list.
        _api(
            "ReadMarks",
            "ec2",
            "DescribeTags",
            {
                "Filters": [
                    {"Name": "resource-id", "Values": ["{{ InstanceId }}"]},
                    {"Name": "key", "Values": [QUARANTINE_TAG, PREVIOUS_GROUPS_TAG]},
                ]
            },
            outputs=[_out("Tags", "$.Tags", "MapList")],
        ),
        _script(
            "Check",
            _ISOLATE_CHECK,
            {
                "GroupIds": "{{ DescribeInstance.GroupIds }}",
                "NetworkInterfaceIds": "{{ DescribeInstance.NetworkInterfaceIds }}",
                "Tags": "{{ ReadMarks.Tags }}",
                "ForensicsCidr": "{{ ForensicsCidr }}",
            },
            [
                _out("Groups", "$.Payload.Groups", "String"),
                _out("ForensicsAccess", "$.Payload.ForensicsAccess", "Boolean"),
            ],
        ),
        _api(
            "CreateQuarantineGroup",
            "ec2",
            "CreateSecurityGroup",
            {
                "GroupName": "GuardDutyResponder-Quarantine-{{ automation:EXECUTION_ID }}",
                "Description": "Quarantine: no egress, GuardDuty finding {{ FindingId }}",
                "VpcId": "{{ DescribeInstance.VpcId }}",
                "TagSpecifications": [
                    {"ResourceType": "security-group", "Tags": [{"Key": QUARANTINE_TAG, "Value": "{{ FindingId }}"}]}
                ],
            },
            outputs=[_out("GroupId", "$.GroupId", "String")],
        ),
        # A new group allows all egress (IPv4, and IPv6 in a dual-stack VPC); a rule that is absent is
        # reported back, not an error, so one call removes whichever exist.
        _api(
            "RevokeEgress",
            "ec2",
            "RevokeSecurityGroupEgress",
            {
                "GroupId": "{{ CreateQuarantineGroup.GroupId }}",
                "IpPermissions": [
                    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
                ],
            },
        ),
        {
            "name": "ForensicsAccess",
            "action": "aws:branch",
            "onFailure": "Abort",
            "inputs": {
                "Choices": [
                    {"NextStep": "AllowForensics", "Variable": "{{ Check.ForensicsAccess }}", "BooleanEquals": True}
                ],
                "Default": "Quarantine",
            },
        },
        _api(
            "AllowForensics",
            "ec2",
            "AuthorizeSecurityGroupIngress",
            {
                "GroupId": "{{ CreateQuarantineGroup.GroupId }}",
                "IpPermissions": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": "{{ ForensicsCidr }}", "Description": "Forensics access"}],
                    }
                ],
            },
        ),
        # The containment itself.
        _api(
            "Quarantine",
            "ec2",
            "ModifyInstanceAttribute",
            {"InstanceId": "{{ InstanceId }}", "Groups": ["{{ CreateQuarantineGroup.GroupId }}"]},
        ),
        _api(
            "RecordGroups",
            "ec2",
            "CreateTags",
            {
                "Resources": ["{{ InstanceId }}"],
                "Tags": [
                    {"Key": PREVIOUS_GROUPS_TAG, "Value": "{{ Check.Groups }}"},
                    {"Key": QUARANTINE_TAG, "Value": "{{ CreateQuarantineGroup.GroupId }}"},
                    {"Key": FINDING_TAG, "Value": "{{ FindingId }}"},
                ],
            },
        ),
        _api(
            "Snapshot",
            "ec2",
            "CreateSnapshots",
            {
                "InstanceSpecification": {"InstanceId": "{{ InstanceId }}"},
                "Description": "Forensics snapshot, GuardDuty finding {{ FindingId }}",
                "TagSpecifications": [
                    {"ResourceType": "snapshot", "Tags": [{"Key": FINDING_TAG, "Value": "{{ FindingId }}"}]}
                ],
                "CopyTagsFromSource": "volume",
            },
            outputs=[_out("SnapshotIds", "$.Snapshots..SnapshotId", "StringList")],
        ),
        # The API takes one attribute per ModifyInstanceAttribute call: one step each.
        _protect("ProtectTermination", "DisableApiTermination"),
        {**_protect("ProtectStop", "DisableApiStop"), "isEnd": True},
    ],
    outputs=["DescribeInstance.GroupIds", "Snapshot.SnapshotIds", "CreateQuarantineGroup.GroupId"],
    approvable=True,
)

_RESTORE_DESCRIPTION = f"""# Restore an isolated EC2 instance (GuardDuty Responder)
Changes: gives the instance back the security groups recorded in `{PREVIOUS_GROUPS_TAG}` by
`{PREFIX}IsolateEc2Instance`, deletes the quarantine group named in `{QUARANTINE_TAG}` and removes both tags.
Refused when the instance carries no such record. Termination and stop protection stay on and the
forensics snapshots stay: turn protection off and delete snapshots by hand when the investigation is over.
Reverse: run the isolate runbook again."""


def _describe_tag(name: str, key: str, output: str) -> dict[str, Any]:
    return _api(
        name,
        "ec2",
        "DescribeTags",
        {
            "Filters": [
                {"Name": "resource-id", "Values": ["{{ InstanceId }}"]},
                {"Name": "key", "Values": [key]},
            ]
        },
        outputs=[_out(output, "$.Tags[0].Value", "String")],
    )


RESTORE = _runbook(
    "restore",
    "RestoreEc2Instance",
    _RESTORE_DESCRIPTION,
    (Param("InstanceId", "String", "The instance the isolate runbook quarantined.", INSTANCE_ID),),
    steps=[
        _describe_tag("ReadPrevious", PREVIOUS_GROUPS_TAG, "Groups"),
        _describe_tag("ReadQuarantine", QUARANTINE_TAG, "GroupId"),
        _script(
            "Split",
            _RESTORE_SPLIT,
            {"Previous": "{{ ReadPrevious.Groups }}", "Quarantine": "{{ ReadQuarantine.GroupId }}"},
            [
                _out("GroupIds", "$.Payload.GroupIds", "StringList"),
                _out("QuarantineGroupId", "$.Payload.QuarantineGroupId", "String"),
            ],
        ),
        _api(
            "RestoreGroups",
            "ec2",
            "ModifyInstanceAttribute",
            {"InstanceId": "{{ InstanceId }}", "Groups": "{{ Split.GroupIds }}"},
        ),
        _api("DeleteQuarantineGroup", "ec2", "DeleteSecurityGroup", {"GroupId": "{{ Split.QuarantineGroupId }}"}),
        _api(
            "RemoveTags",
            "ec2",
            "DeleteTags",
            {"Resources": ["{{ InstanceId }}"], "Tags": [{"Key": PREVIOUS_GROUPS_TAG}, {"Key": QUARANTINE_TAG}]},
            isEnd=True,
        ),
    ],
    outputs=["Split.GroupIds"],
)

_CREDENTIALS_DESCRIPTION = f"""# Contain IAM credentials (GuardDuty Responder)
Changes: a long-term access key (`AKIA...`, with `UserName`) is made Inactive. Temporary credentials
(`ASIA...`): with `RoleName`, the inline policy `{REVOKE_POLICY_NAME}` on the role denies everything to
sessions issued before now (as the IAM console's "Revoke active sessions"); with `UserName` (GetSessionToken
credentials), the same inline policy on the user. Not for root, service-linked roles or IAM Identity Center
roles (revoke those in Identity Center).
Reverse: a key with `{PREFIX}ReactivateAccessKey`. Deleting `{REVOKE_POLICY_NAME}` would let the stolen
sessions act again: leave it until they have expired."""

CREDENTIALS = _runbook(
    "credentials",
    "ContainIamCredentials",
    _CREDENTIALS_DESCRIPTION,
    (
        Param("AccessKeyId", "String", "The access key id in the finding.", ACCESS_KEY_ID),
        Param("UserName", "String", "The IAM user owning the key (AKIA) or the session (ASIA).", IAM_NAME_OR_EMPTY, ""),
        Param(
            "RoleName",
            "String",
            "The role whose sessions to revoke (ASIA from an assumed role).",
            IAM_NAME_OR_EMPTY,
            "",
        ),
        _FINDING,
    ),
    steps=[
        _script(
            "Plan",
            _CREDENTIALS_PLAN,
            {"AccessKeyId": "{{ AccessKeyId }}", "UserName": "{{ UserName }}", "RoleName": "{{ RoleName }}"},
            [
                _out("Target", "$.Payload.Target", "String"),
                _out("Now", "$.Payload.Now", "String"),
                _out("Policy", "$.Payload.Policy", "String"),
            ],
        ),
        {
            "name": "Route",
            "action": "aws:branch",
            "onFailure": "Abort",
            "inputs": {
                "Choices": [
                    {"NextStep": "DeactivateKey", "Variable": "{{ Plan.Target }}", "StringEquals": "key"},
                    {"NextStep": "CheckRole", "Variable": "{{ Plan.Target }}", "StringEquals": "role"},
                    {"NextStep": "RevokeUserSessions", "Variable": "{{ Plan.Target }}", "StringEquals": "user"},
                ]
            },
        },
        _api(
            "DeactivateKey",
            "iam",
            "UpdateAccessKey",
            {"UserName": "{{ UserName }}", "AccessKeyId": "{{ AccessKeyId }}", "Status": "Inactive"},
            isEnd=True,
        ),
        # Fails on a wrong role name before anything changes.
        _api("CheckRole", "iam", "GetRole", {"RoleName": "{{ RoleName }}"}),
        _api(
            "RevokeRoleSessions",
            "iam",
            "PutRolePolicy",
            {"RoleName": "{{ RoleName }}", "PolicyName": REVOKE_POLICY_NAME, "PolicyDocument": "{{ Plan.Policy }}"},
            isEnd=True,
        ),
        _api(
            "RevokeUserSessions",
            "iam",
            "PutUserPolicy",
            {"UserName": "{{ UserName }}", "PolicyName": REVOKE_POLICY_NAME, "PolicyDocument": "{{ Plan.Policy }}"},
            isEnd=True,
        ),
    ],
    outputs=["Plan.Target", "Plan.Now"],
    approvable=True,
)

REACTIVATE = _runbook(
    "reactivate",
    "ReactivateAccessKey",
    f"""# Reactivate an access key (GuardDuty Responder)
Changes: makes a long-term access key Active again (the reversal of `{PREFIX}ContainIamCredentials` for an
`AKIA...` key). Run it only once the key is known to be safe, or rotate it instead. With approvers
configured, a second person approves first (re-enabling a possibly stolen key is a two-person decision).
Reverse: run the containment runbook again.""",
    (
        Param("AccessKeyId", "String", "The access key id to reactivate.", LONG_TERM_KEY_ID),
        Param("UserName", "String", "The IAM user owning the key.", IAM_NAME),
    ),
    steps=[
        _api(
            "ReactivateKey",
            "iam",
            "UpdateAccessKey",
            {"UserName": "{{ UserName }}", "AccessKeyId": "{{ AccessKeyId }}", "Status": "Active"},
            isEnd=True,
        )
    ],
    outputs=[],
    approvable=True,
)

_BPA_FLAGS: Final = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# Automation's global variable: the account the execution runs in (a same-named bucket elsewhere is refused).
_ACCOUNT: Final = "{{ global:ACCOUNT_ID }}"

PUBLIC_ACCESS = _runbook(
    "public_access",
    "BlockS3PublicAccess",
    """# Block public access on an S3 bucket (GuardDuty Responder)
Changes: turns on all four settings of the bucket's S3 Block Public Access. The previous setting is
recorded first as the outputs of step `ReadPrevious`; when `ReadPrevious` failed, see the step's error:
`NoSuchPublicAccessBlockConfiguration` means the bucket had none, any other error (AccessDenied,
NoSuchBucket, ...) means nothing was read. Both calls name this account as the expected bucket owner, so a
bucket of another account is refused. The bucket's tags are not touched.
Reverse: `aws s3api put-public-access-block` with the recorded values, or `aws s3api
delete-public-access-block` when there were none. Account-level settings are not changed.""",
    (
        Param("BucketName", "String", "The bucket to block.", BUCKET_NAME),
        _FINDING,
    ),
    steps=[
        # No configuration at all is an error of this call: record it and go on.
        _api(
            "ReadPrevious",
            "s3",
            "GetPublicAccessBlock",
            {"Bucket": "{{ BucketName }}", "ExpectedBucketOwner": _ACCOUNT},
            onFailure="Continue",
            isCritical=False,
            outputs=[_out(flag, f"$.PublicAccessBlockConfiguration.{flag}", "Boolean") for flag in _BPA_FLAGS],
        ),
        _api(
            "Block",
            "s3",
            "PutPublicAccessBlock",
            {
                "Bucket": "{{ BucketName }}",
                "ExpectedBucketOwner": _ACCOUNT,
                "PublicAccessBlockConfiguration": dict.fromkeys(_BPA_FLAGS, True),
            },
            isEnd=True,
        ),
    ],
    outputs=[f"ReadPrevious.{flag}" for flag in _BPA_FLAGS],
    approvable=True,
)

ARCHIVE = _runbook(
    "archive",
    "ArchiveFinding",
    """# Archive a GuardDuty finding (GuardDuty Responder)
Changes: archives the finding in the detector (it leaves the active findings list; nothing else changes).
Reverse: `aws guardduty unarchive-findings --detector-id <DetectorId> --finding-ids <FindingId>`.""",
    (
        Param("DetectorId", "String", "The GuardDuty detector holding the finding.", DETECTOR_ID),
        _FINDING,
    ),
    steps=[
        _api(
            "Archive",
            "guardduty",
            "ArchiveFindings",
            {"DetectorId": "{{ DetectorId }}", "FindingIds": ["{{ FindingId }}"]},
            isEnd=True,
        )
    ],
    outputs=[],
)

# Email order first (isolate, credentials, public access, archive), then the reversals.
RUNBOOKS: Final[tuple[Runbook, ...]] = (ISOLATE, CREDENTIALS, PUBLIC_ACCESS, ARCHIVE, RESTORE, REACTIVATE)


def by_key(key: str) -> Runbook:
    """The runbook with ``key`` (KeyError for an unknown key)."""
    for runbook in RUNBOOKS:
        if runbook.key == key:
            return runbook
    raise KeyError(key)
