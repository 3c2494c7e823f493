"""Pure: which runbooks the Respond section offers for a finding, and the exact command of each.

Nothing here acts: an offer is a command the engineer runs with their own credentials (and a
console link). Every value in a command comes from the finding, so it is attacker-controlled:
a value goes into a command only when it passes its runbook parameter's pattern, the AWS naming
rule of its kind (``names``) and ``COMMAND_VALUE`` (no comma or ``=``, which the CLI's shorthand
syntax would read as a list or a key). Such values need no quoting in any shell, so none is quoted.
A value that fails leaves the command out, with a note naming the parameter, never the value.

The steps decide: the isolate runbook is offered when a step to isolate (or preserve) the
instance is shown, the credentials runbook when a step to rotate them is, so a step and its
runbook always agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from responder.domain import guidance, names, runbooks, scan_alert
from responder.domain.identifiers import SAFE_ACCOUNT, SAFE_REGION, console_base
from responder.domain.models import Finding
from responder.domain.resource_models import AccessKeyDetails, Resource
from responder.domain.runbooks import Offer, Spec
from responder.domain.settings import RunbookSettings

# What a command value may hold: no shell metacharacter, no space, and no ``,`` or ``=`` (the
# shorthand syntax of ``--parameters`` splits on them).
COMMAND_VALUE: Final = re.compile(r"^[A-Za-z0-9_.:/+@-]{1,2048}$")
EXECUTION_ROLE: Final = re.compile(runbooks.EXECUTION_ROLE_NAME)
PARTITIONS: Final = frozenset({"aws", "aws-us-gov", "aws-cn"})
MAX_BUCKETS: Final = 3  # public-access offers per finding: the first buckets named
ROLE_PARAM: Final = runbooks.ASSUME_ROLE_PARAM  # every document's; locally its default, the runbook's role
ROLE_ARN: Final = re.compile(runbooks.ASSUME_ROLE_PATTERN)
ISOLATE_INTENTS: Final = (guidance.Intent.ISOLATE, guidance.Intent.PRESERVE)  # preferred first
INSTANCE: Final = "Instance"  # resourceType of a finding about an EC2 instance
BUCKET: Final = "S3Bucket"
NOTE_INVALID: Final = "r.note.invalid"  # {field}: a value failed its rule
NOTE_OTHER_ACCOUNT: Final = "r.note.other_account"  # {account}: sign in there and run it
NOTE_MEMBER: Final = "r.note.member"  # {account} {role}: run it from the responder's account
NOTE_ROOT: Final = "r.note.root"
NOTE_IDENTITY_CENTER: Final = "r.note.identity_center"
NOTE_SERVICE_LINKED: Final = "r.note.service_linked"
# Roles whose sessions the runbook cannot revoke (IAM refuses to edit them): the note says where instead.
REFUSED_ROLES: Final = (
    ("AWSReservedSSO_", NOTE_IDENTITY_CENTER),  # IAM Identity Center permission sets
    ("AWSServiceRoleFor", NOTE_SERVICE_LINKED),  # service-linked roles
)
ROLE_USER_TYPES: Final = frozenset({"AssumedRole", "Role"})


@dataclass(frozen=True)
class Target:
    """A run in a member account through Automation's multi-account execution (``--target-locations``)."""

    account: str  # where the runbook acts
    region: str  # the finding's Region
    execution_role: str  # the member account's execution role name
    partition: str


def invalid(spec: Spec, values: Mapping[str, str]) -> str | None:
    """The first parameter whose value cannot go into a command (unknown, pattern, characters), else None."""
    for param, value in values.items():
        known = param in dict(spec.params)
        rule = runbooks.pattern(spec, param)
        if not known or not COMMAND_VALUE.fullmatch(value) or (rule is not None and not rule.fullmatch(value)):
            return param
    return None


def command(spec: Spec, values: Mapping[str, str], *, region: str, target: Target | None = None) -> str | None:
    """The exact ``aws ssm start-automation-execution`` command, or None when a value fails its rule.

    ``region``: where the command runs (the finding's Region; with ``target``, the responder's).
    Parameters in document order; ``AutomationAssumeRole`` only with ``target`` (locally the
    document's default, the runbook's own role).
    """
    given = {param: values[param] for param, _ in spec.params if param in values}
    if len(given) != len(values) or invalid(spec, values) or not SAFE_REGION.fullmatch(region):
        return None
    locations = ""
    if target is not None:
        if not _valid_target(target):
            return None
        role = f"arn:{target.partition}:iam::{target.account}:role/{target.execution_role}"
        if not ROLE_ARN.fullmatch(role) or not COMMAND_VALUE.fullmatch(role):
            return None
        given = {param: value for param, value in given.items() if param != ROLE_PARAM} | {ROLE_PARAM: role}
        locations = (
            f" --target-locations Accounts={target.account},Regions={target.region},"
            f"ExecutionRoleName={target.execution_role},TargetLocationMaxConcurrency=1"
        )
    parameters = ",".join(f"{param}={value}" for param, value in given.items())
    return (
        f"aws ssm start-automation-execution --region {region} --document-name {spec.name}"
        f" --parameters {parameters}{locations}"
    )


def console_url(spec: Spec, partition: str | None, region: str) -> str | None:
    """The runbook's "Execute automation" page in the Systems Manager console of ``region``."""
    base = console_base(partition, region) if SAFE_REGION.fullmatch(region) else None
    return f"{base}/systems-manager/automation/execute/{spec.name}?region={region}" if base else None


def offers(finding: Finding, steps: tuple[guidance.Step, ...], settings: RunbookSettings) -> tuple[Offer, ...]:
    """The runbooks that fit this finding, in the email's order: isolate, credentials, public
    access (at most ``MAX_BUCKETS``), archive. ``steps``: the response steps the email shows."""
    if not settings.enabled:
        return ()
    resource = finding.resource or Resource()
    found: list[Offer | None] = [_isolate(finding, resource, steps, settings)]
    found.append(_credentials(finding, resource.access_key_details, steps, settings))
    found += _public_access(finding, resource, settings)
    found.append(_archive(finding))
    return tuple(offer for offer in found if offer is not None)


# --- one function per runbook ------------------------------------------------------------


def _isolate(
    finding: Finding, resource: Resource, steps: tuple[guidance.Step, ...], settings: RunbookSettings
) -> Offer | None:
    instance = (resource.instance_details.instance_id if resource.instance_details else None) or None
    intent = _step_intent(steps, ISOLATE_INTENTS)
    if resource.resource_type != INSTANCE or instance is None or intent is None:
        return None
    values = {"InstanceId": instance if names.ec2_id(instance, "i") else None, "FindingId": finding.id}
    return _offer("isolate", intent, finding, values, settings)


def _credentials(
    finding: Finding, key: AccessKeyDetails | None, steps: tuple[guidance.Step, ...], settings: RunbookSettings
) -> Offer | None:
    intent = _step_intent(steps, (guidance.Intent.ROTATE,))
    if key is None or not key.access_key_id or intent is None:
        return None
    if key.user_type == "Root":  # root's permissions cannot be changed: only its owner can act
        return Offer("credentials", intent, None, None, NOTE_ROOT)
    key_id = key.access_key_id
    user = key.user_name or ""
    valid_key = names.access_key_id(key_id) and key_id.startswith(("AKIA", "ASIA"))
    values: dict[str, str | None] = {"AccessKeyId": key_id if valid_key else None}
    if key_id.startswith("ASIA") and key.user_type in ROLE_USER_TYPES:
        # Temporary credentials of a role: revoke the role's sessions (its name is GuardDuty's userName).
        refused = next((note for prefix, note in REFUSED_ROLES if user.startswith(prefix)), None)
        if refused:
            return Offer("credentials", intent, None, None, refused)
        values["RoleName"] = user if names.iam_name(user) else None
    elif key.user_type == "IAMUser":  # a user's key (AKIA) or session token (ASIA, GetSessionToken)
        values["UserName"] = user if names.iam_name(user) else None
    else:
        return None  # federated users and others: no runbook contains them
    values["FindingId"] = finding.id
    return _offer("credentials", intent, finding, values, settings)


def _public_access(finding: Finding, resource: Resource, settings: RunbookSettings) -> list[Offer | None]:
    if resource.resource_type != BUCKET:
        return []
    buckets = [b.name for b in resource.s3_bucket_details or () if b.name][:MAX_BUCKETS]
    return [
        _offer(
            "public_access",
            None,
            finding,
            {"BucketName": name if names.s3_bucket(name) else None, "FindingId": finding.id},
            settings,
        )
        for name in buckets
    ]


def _archive(finding: Finding) -> Offer | None:
    if finding.id.startswith(scan_alert.ID_PREFIX):  # a Malware Protection for S3 scan result: no finding
        return None
    detector = (finding.service.detector_id if finding.service else None) or None
    spec = runbooks.by_key("archive")
    values = {"DetectorId": detector, "FindingId": finding.id}
    # The responder's own detector holds its members' findings too: archive always runs locally.
    return _build(spec, None, finding, values, target=None, note=None)


# --- helpers -----------------------------------------------------------------------------


def _step_intent(steps: tuple[guidance.Step, ...], wanted: tuple[guidance.Intent, ...]) -> str | None:
    """The intent of the shown step the runbook answers (the first of ``wanted`` any step covers)."""
    for intent in wanted:
        for step in steps:
            if intent in step.covers:
                return step.intent.value
    return None


def _offer(
    key: str, intent: str | None, finding: Finding, values: Mapping[str, str | None], settings: RunbookSettings
) -> Offer:
    """An offer acting in the finding's account: locally, through the member's execution role, or
    locally with a note naming the account to sign in to."""
    spec = runbooks.by_key(key)
    account = finding.account_id
    if not SAFE_ACCOUNT.fullmatch(account):
        # The note sends the engineer to the console: its link stays (built from validated values only).
        return Offer(
            key,
            intent,
            None,
            console_url(spec, finding.partition or "aws", finding.region),
            NOTE_INVALID,
            (("field", "account"),),
        )
    if settings.responder_account in (None, account):
        return _build(spec, intent, finding, values, target=None, note=None)
    region = settings.responder_region
    if settings.execution_role and not settings.approvals and region and SAFE_REGION.fullmatch(region):
        # aws:approve is refused in multi-account runs: with approvals the member runs it itself.
        target = Target(account, finding.region, settings.execution_role, finding.partition or "aws")
        note = (NOTE_MEMBER, (("account", account), ("role", settings.execution_role)))
        return _build(spec, intent, finding, values, target=target, note=note, region=region)
    return _build(spec, intent, finding, values, target=None, note=(NOTE_OTHER_ACCOUNT, (("account", account),)))


def _build(
    spec: Spec,
    intent: str | None,
    finding: Finding,
    values: Mapping[str, str | None],
    *,
    target: Target | None,
    note: tuple[str, tuple[tuple[str, str], ...]] | None,
    region: str | None = None,
) -> Offer:
    """The offer, or its invalid-value note naming the first parameter that failed (never the value).

    The console link stays with the note: the engineer can check the values by hand and run it there.
    """
    partition = finding.partition or "aws"
    run_in = region or finding.region
    link = console_url(spec, partition, run_in)
    checked = {param: value for param, value in values.items() if value is not None}
    failed = next((param for param, value in values.items() if value is None), None) or invalid(spec, checked)
    if failed is None and not SAFE_REGION.fullmatch(finding.region):
        failed = "Region"
    if failed is None and partition not in PARTITIONS:
        failed = "Partition"
    line = None if failed else command(spec, checked, region=run_in, target=target)
    if line is None:  # a value failed, else the execution role name (the only value not checked above)
        return Offer(spec.key, intent, None, link, NOTE_INVALID, (("field", failed or "ExecutionRoleName"),))
    text, args = note if note else (None, ())
    return Offer(spec.key, intent, line, link, text, args)


def _valid_target(target: Target) -> bool:
    return (
        SAFE_ACCOUNT.fullmatch(target.account) is not None
        and SAFE_REGION.fullmatch(target.region) is not None
        and EXECUTION_ROLE.fullmatch(target.execution_role) is not None
        and target.partition in PARTITIONS
    )
