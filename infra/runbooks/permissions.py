"""The IAM grants each runbook's role needs, derived from the document's own ``aws:executeAwsApi`` steps.

``CALLS`` maps every (Service, Api) a document calls to the statements that call needs (IAM action
names differ from API names for S3, and some calls act on several resource types). ``grants_for`` is
the only derivation: the construct builds each role's policy from it, and a test checks that every call
has an entry and no entry is unused. Resources are ARN templates for ``Fn::Sub`` (``${AWS::Partition}``,
``${AWS::Region}``, ``${AWS::AccountId}``); ``*`` only where the action takes no resource (EC2 describes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from infra.runbooks.documents import FINDING_TAG, PREVIOUS_GROUPS_TAG, QUARANTINE_TAG
from infra.runbooks.model import ContentContext, Runbook


@dataclass(frozen=True)
class Grant:
    """One policy statement: ``actions`` allowed on ``resources`` (ARN templates) under ``conditions``."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] | None = None


_EC2: Final = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:"
_INSTANCE: Final = _EC2 + "instance/*"
_VOLUME: Final = _EC2 + "volume/*"
_SECURITY_GROUP: Final = _EC2 + "security-group/*"
_VPC: Final = _EC2 + "vpc/*"
_SNAPSHOT: Final = "arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*"  # snapshot ARNs carry no account
_IAM: Final = "arn:${AWS::Partition}:iam::${AWS::AccountId}:"
_BUCKETS: Final = "arn:${AWS::Partition}:s3:::*"
_DETECTORS: Final = "arn:${AWS::Partition}:guardduty:${AWS::Region}:${AWS::AccountId}:detector/*"

# Only the groups the isolate runbook created (tagged at creation) can be opened, closed or deleted.
_QUARANTINE_ONLY: Final = {"Null": {f"aws:ResourceTag/{QUARANTINE_TAG}": "false"}}


def _tag_keys(*keys: str) -> Mapping[str, Mapping[str, Any]]:
    return {"ForAllValues:StringEquals": {"aws:TagKeys": list(keys)}}


def _created_by(action: str) -> Mapping[str, Mapping[str, Any]]:
    return {"StringEquals": {"ec2:CreateAction": action}}


CALLS: Final[Mapping[tuple[str, str], tuple[Grant, ...]]] = {
    # EC2 describe actions support no resource-level permission: "*" is the only resource they take.
    ("ec2", "DescribeInstances"): (Grant(("ec2:DescribeInstances",), ("*",)),),
    ("ec2", "DescribeTags"): (Grant(("ec2:DescribeTags",), ("*",)),),
    ("ec2", "CreateTags"): (
        Grant(("ec2:CreateTags",), (_INSTANCE,), _tag_keys(PREVIOUS_GROUPS_TAG, FINDING_TAG, QUARANTINE_TAG)),
    ),
    ("ec2", "DeleteTags"): (Grant(("ec2:DeleteTags",), (_INSTANCE,), _tag_keys(PREVIOUS_GROUPS_TAG, QUARANTINE_TAG)),),
    ("ec2", "CreateSnapshots"): (
        Grant(("ec2:CreateSnapshots",), (_INSTANCE, _VOLUME, _SNAPSHOT)),
        Grant(("ec2:CreateTags",), (_SNAPSHOT,), _created_by("CreateSnapshots")),
    ),
    ("ec2", "ModifyInstanceAttribute"): (Grant(("ec2:ModifyInstanceAttribute",), (_INSTANCE, _SECURITY_GROUP)),),
    ("ec2", "CreateSecurityGroup"): (
        Grant(("ec2:CreateSecurityGroup",), (_VPC, _SECURITY_GROUP)),
        Grant(("ec2:CreateTags",), (_SECURITY_GROUP,), _created_by("CreateSecurityGroup")),
    ),
    ("ec2", "RevokeSecurityGroupEgress"): (
        Grant(("ec2:RevokeSecurityGroupEgress",), (_SECURITY_GROUP,), _QUARANTINE_ONLY),
    ),
    ("ec2", "AuthorizeSecurityGroupIngress"): (
        Grant(("ec2:AuthorizeSecurityGroupIngress",), (_SECURITY_GROUP,), _QUARANTINE_ONLY),
    ),
    ("ec2", "DeleteSecurityGroup"): (Grant(("ec2:DeleteSecurityGroup",), (_SECURITY_GROUP,), _QUARANTINE_ONLY),),
    ("iam", "UpdateAccessKey"): (Grant(("iam:UpdateAccessKey",), (_IAM + "user/*",)),),
    ("iam", "GetRole"): (Grant(("iam:GetRole",), (_IAM + "role/*",)),),
    ("iam", "PutRolePolicy"): (Grant(("iam:PutRolePolicy",), (_IAM + "role/*",)),),
    ("iam", "PutUserPolicy"): (Grant(("iam:PutUserPolicy",), (_IAM + "user/*",)),),
    # S3's IAM actions are named after the bucket sub-resource, not the API.
    ("s3", "GetPublicAccessBlock"): (Grant(("s3:GetBucketPublicAccessBlock",), (_BUCKETS,)),),
    ("s3", "PutPublicAccessBlock"): (Grant(("s3:PutBucketPublicAccessBlock",), (_BUCKETS,)),),
    ("guardduty", "ArchiveFindings"): (Grant(("guardduty:ArchiveFindings",), (_DETECTORS,)),),
}

# Content built for the derivation only: the grants do not depend on the role or the approvers.
_SAMPLE_CONTEXTS: Final = (
    ContentContext("arn:aws:iam::123456789012:role/x"),
    ContentContext(
        "arn:aws:iam::123456789012:role/x",
        {"approvers": ["arn:aws:iam::123456789012:user/approver"], "topic_arn": "arn:aws:sns:us-east-1:123456789012:t"},
    ),
)


def api_calls(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (Service, Api) of the document's ``aws:executeAwsApi`` steps, in step order."""
    for step in document["mainSteps"]:
        if step["action"] == "aws:executeAwsApi":
            yield step["inputs"]["Service"], step["inputs"]["Api"]


def grants_for(runbook: Runbook) -> tuple[Grant, ...]:
    """The statements ``runbook``'s role needs: exactly those of the calls its steps make, each once."""
    grants: list[Grant] = []
    for context in _SAMPLE_CONTEXTS:
        for call in api_calls(runbook.content(context)):
            if call not in CALLS:
                raise KeyError(f"{runbook.name} calls {call[0]}.{call[1]}: add its grant to permissions.CALLS")
            grants.extend(grant for grant in CALLS[call] if grant not in grants)
    return tuple(grants)
