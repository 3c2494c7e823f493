"""Pure: the runbooks the stack deploys, as the email sees them (names and parameter rules only),
and what the Respond section offers.

The documents themselves live in ``infra/runbooks`` (deployed by the stack); a contract test keeps
the names, parameters and patterns here identical to theirs. An email builds a command only from
values that pass their parameter's pattern, so nothing in a command needs quoting in any shell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "GuardDutyResponder-"
APPROVERS_MAX: Final = 10
# A member account's execution role name: TargetLocation.ExecutionRoleName ([\w+=,.@/-], 1-64) without
# ``,`` and ``=``, which the CLI's shorthand syntax splits on (a name holding them could never be put in
# a command). The stack's MemberExecutionRoleName refuses them too (a contract test ties the two).
EXECUTION_ROLE_NAME: Final = r"^[A-Za-z0-9_.+@/-]{1,64}$"


@dataclass(frozen=True)
class Spec:
    """A runbook's name and its parameters (name, pattern or None) in document order."""

    key: str
    name: str
    params: tuple[tuple[str, str | None], ...]
    optional: frozenset[str] = frozenset()  # parameters with a default: a command may leave them out


@dataclass(frozen=True)
class Offer:
    """One runbook the Respond section offers for a finding."""

    key: str  # Spec.key
    intent: str | None  # the guidance.Intent value the offer answers ("isolate", "rotate", ...), if any
    command: str | None  # the exact CLI command; None when a value failed its rule
    console_url: str | None  # the document in the Systems Manager console
    note: str | None = None  # catalogue key of a note (English msgid), e.g. "r.note.other_account"
    note_args: tuple[tuple[str, str], ...] = ()  # validated values the note names ({account}, {region})


# Every document also takes this parameter (default: the runbook's own role); a member-account command
# names the execution role with it.
ASSUME_ROLE_PARAM: Final = "AutomationAssumeRole"
ASSUME_ROLE_PATTERN: Final = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"

_INSTANCE_ID: Final = r"^i-([0-9a-f]{8}|[0-9a-f]{17})$"
# 200, not more: the documents put the id into tag values (256) and descriptions (255 with text).
_FINDING_ID: Final = r"^[A-Za-z0-9_-]{1,200}$"
_IAM_NAME_OR_EMPTY: Final = r"^$|^[A-Za-z0-9+=,.@_-]{1,64}$"

# The six documents (infra/runbooks/documents.py), in email order then the reversals; parameters in
# document order. tests/infrastructure/test_runbook_catalogue.py keeps this equal to the documents.
SPECS: Final[tuple[Spec, ...]] = (
    Spec(
        "isolate",
        PREFIX + "IsolateEc2Instance",
        (
            ("InstanceId", _INSTANCE_ID),
            ("FindingId", _FINDING_ID),
            ("ForensicsCidr", r"^$|^([0-9]{1,3}\.){3}[0-9]{1,3}/(1[6-9]|2[0-9]|3[0-2])$"),
        ),
        frozenset({"ForensicsCidr"}),
    ),
    Spec(
        "credentials",
        PREFIX + "ContainIamCredentials",
        (
            ("AccessKeyId", r"^(AKIA|ASIA)[A-Z0-9]{12,124}$"),
            ("UserName", _IAM_NAME_OR_EMPTY),
            ("RoleName", _IAM_NAME_OR_EMPTY),
            ("FindingId", _FINDING_ID),
        ),
        frozenset({"UserName", "RoleName"}),
    ),
    Spec(
        "public_access",
        PREFIX + "BlockS3PublicAccess",
        (("BucketName", r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"), ("FindingId", _FINDING_ID)),
    ),
    Spec("archive", PREFIX + "ArchiveFinding", (("DetectorId", r"^[A-Za-z0-9_-]{1,300}$"), ("FindingId", _FINDING_ID))),
    Spec("restore", PREFIX + "RestoreEc2Instance", (("InstanceId", _INSTANCE_ID),)),
    Spec(
        "reactivate",
        PREFIX + "ReactivateAccessKey",
        (("AccessKeyId", r"^AKIA[A-Z0-9]{12,124}$"), ("UserName", r"^[A-Za-z0-9+=,.@_-]{1,64}$")),
    ),
)


def by_key(key: str) -> Spec:
    """The runbook spec with ``key`` (KeyError for an unknown key)."""
    for spec in SPECS:
        if spec.key == key:
            return spec
    raise KeyError(key)


def pattern(spec: Spec, param: str) -> re.Pattern[str] | None:
    """The compiled pattern of ``param`` (None: any value the document accepts)."""
    found = dict(spec.params).get(param)
    return re.compile(found) if found else None
