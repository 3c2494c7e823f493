"""``python -m responder doctor``: prove that a deployed stack can deliver alerts and alarms.

Read-only checks, one line each: ``ok``, ``WARN`` or ``FAIL`` and the fix. Each check is a
pure function of what the adapter (``responder.adapters.doctor_aws``) read from AWS; ``diagnose``
runs them in order. ``--send-test`` also writes: one marked test finding on the immediate
queue (the deployed notifier emails it) and one test alarm (ALARM, then back to OK).
Exit status: 0 when nothing failed, 1 on any FAIL, 2 when AWS could not be asked at all
(no credentials, no Region, endpoint unreachable).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Protocol
from uuid import uuid4

from responder.domain.deployment import (
    RANK,
    AlarmInfo,
    Deployment,
    DetectorInfo,
    KeyInfo,
    Result,
    RuleInfo,
    SesAccount,
    StackInfo,
    Status,
    TopicInfo,
    Verdict,
)
from responder.domain.runbooks import SPECS

if TYPE_CHECKING:
    from responder.app.service import Prepared

DEFAULT_STACK: Final = "GuardDutyResponder"
# The stack's outputs (infra/stack.py, _build_outputs): every check starts from them.
OUTPUTS: Final = (
    "AlertTopicArn",
    "AlarmTopicArn",
    "FunctionName",
    "NotifierName",
    "ImmediateQueueUrl",
    "DigestQueueUrl",
    "DeadLetterQueueUrl",
    "RuleName",
)
SNS_SUBSCRIPTIONS: Final = 10  # recipients subscribed to the alert topic (infra.constants.MAX_SNS_SUBSCRIPTIONS)
CLOUDWATCH: Final = "cloudwatch.amazonaws.com"
FIFTEEN_MINUTES: Final = "FIFTEEN_MINUTES"
DELAYS: Final = {"ONE_HOUR": "1 hour", "SIX_HOURS": "6 hours"}
QUOTA_WARNING: Final = 0.9  # share of SES's 24-hour quota used that earns a warning
ALARM_HOLD_SECONDS: Final = 5  # seconds the test alarm stays in ALARM before going back to OK
TEST_TYPE: Final = "Test:Notification/GuardDutyResponderDoctorTest"  # no dot: nothing in it is defanged
TEST_ALARM: Final = "DeadLetterQueueNotEmpty"  # preferred for the test alarm: its text says what to look at
# A plain deploy of an unchanged template changes nothing: a drift-aware change set also puts back
# what was changed or deleted outside CloudFormation (the CDK CLI pinned in package.json has it).
REDEPLOY: Final = "npx cdk deploy --revert-drift (a plain deploy leaves changes made outside CloudFormation)"


# The output the stack has when it deploys the runbooks (infra/stack.py): their names, comma-separated.
RUNBOOKS_OUTPUT: Final = "RunbookNames"
RUNBOOK_NAMES: Final = tuple(spec.name for spec in SPECS)  # the six documents every email's commands name
VERSION: Final = re.compile(r"^[0-9]{1,10}$")  # an SSM document version (shown in a command only when one)


class RunbookDeployment(Deployment, Protocol):
    """A ``Deployment`` that also reads SSM documents (``responder.adapters.doctor_aws`` is the real one)."""

    def document_versions(self, name: str) -> tuple[str, str] | None: ...


# --- pure checks ---------------------------------------------------------------------------


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


Problem = tuple[Status, str, str | None]  # (status, detail, fix) of one thing a check found


def _worst(problems: list[Problem], fine: str) -> Verdict:
    """One verdict from several findings of one check: the worst status, every detail."""
    if not problems:
        return Verdict("ok", fine)
    status = max((p[0] for p in problems), key=RANK.__getitem__)
    fixes = [fix for _status, _detail, fix in problems if fix]
    return Verdict(status, "; ".join(p[1] for p in problems), "; ".join(fixes) or None)


def missing_outputs(stack: StackInfo) -> list[str]:
    """The outputs the checks start from that the stack lacks."""
    return [output for output in OUTPUTS if not stack.outputs.get(output)]


def check_stack(stack: StackInfo | None, name: str, region: str) -> Verdict:
    """The stack exists, is not failed or half-updated, and has every output the checks need."""
    if stack is None:
        return Verdict(
            "FAIL",
            f"no stack {name} in {region}",
            "deploy it (npx cdk deploy), or pass --stack-name and --region "
            f"(a multi-Region deploy names each stack {DEFAULT_STACK}-<region>)",
        )
    status, events = stack.status, f"aws cloudformation describe-stack-events --stack-name {stack.name}"
    # The status first: a failed or rolled-back stack also lacks outputs, and that is not its problem.
    failed = status.endswith(("_FAILED", "ROLLBACK_COMPLETE")) and status != "UPDATE_ROLLBACK_COMPLETE"
    if failed or status.startswith("DELETE"):
        return Verdict("FAIL", f"{stack.name} is {status}", f"read why ({events}), then deploy again")
    if missing := missing_outputs(stack):
        fix = f"wait until it completes ({events})" if status.endswith("_IN_PROGRESS") else REDEPLOY
        return Verdict("FAIL", f"{stack.name} ({status}) lacks outputs: {', '.join(missing)}", fix)
    if status.endswith("_IN_PROGRESS") or status == "UPDATE_ROLLBACK_COMPLETE":
        return Verdict("WARN", f"{stack.name} is {status} (the last change did not complete)", f"see {events}")
    return Verdict("ok", f"{stack.name} is {status}; its {len(OUTPUTS)} outputs resolve")


def severity_floor(pattern: Any) -> float | None:
    """``N`` of the pattern's ``detail.severity: [{"numeric": [">=", N]}]``, else ``None``."""
    try:
        [condition] = pattern["detail"]["severity"]
        operator, floor = condition["numeric"]
    except (KeyError, TypeError, ValueError):
        return None
    ok = operator == ">=" and isinstance(floor, int | float) and not isinstance(floor, bool)
    return float(floor) if ok else None


def check_rule(rule: RuleInfo, *, threshold: str, function_name: str) -> Verdict:
    """The rule is enabled, filters at NotifyThreshold, and invokes the triage function."""
    if rule.state != "ENABLED":
        return Verdict(
            "FAIL",
            f"{rule.name} is {rule.state}: no finding reaches the responder",
            f"aws events enable-rule --name {rule.name}",
        )
    try:
        pattern = json.loads(rule.pattern or "")
    except ValueError:
        pattern = None
    floor = severity_floor(pattern)
    ours = (
        isinstance(pattern, dict)
        and pattern.get("source") == ["aws.guardduty"]
        and pattern.get("detail-type") == ["GuardDuty Finding"]
    )
    if not ours or floor is None:
        return Verdict("FAIL", f"{rule.name}'s pattern is not the stack's (GuardDuty findings by severity)", REDEPLOY)
    try:
        wanted = float(threshold)
    except ValueError:
        wanted = float("nan")
    if floor != wanted:
        return Verdict(
            "FAIL",
            f"{rule.name} passes severity >= {floor:g} but NotifyThreshold is {threshold or '?'}",
            REDEPLOY,
        )
    invoked = {target.split(":function:", 1)[-1].split(":")[0] for target in rule.targets if ":function:" in target}
    if function_name not in invoked:
        return Verdict("FAIL", f"{rule.name} does not invoke the triage function {function_name}", REDEPLOY)
    return Verdict(
        "ok", f"{rule.name} is ENABLED and passes severity >= {floor:g} (NotifyThreshold) to {function_name}"
    )


def check_subscriptions(topic: TopicInfo, expected: Sequence[str], *, missing_fix: str) -> Verdict:
    """Someone confirmed a subscription; name those pending confirmation or missing."""
    subscriptions = topic.subscriptions
    confirmed = [s for s in subscriptions if not s.pending]
    pending = sorted(s.endpoint for s in subscriptions if s.pending)
    endpoints = {s.endpoint.lower() for s in subscriptions}
    missing = [address for address in expected if address.lower() not in endpoints]
    confirm = (
        "each recipient confirms the 'AWS Notification - Subscription Confirmation' email (check spam), or "
        f"aws sns confirm-subscription --topic-arn {topic.arn} --token <Token> --authenticate-on-unsubscribe true"
    )
    subscribe = f"aws sns subscribe --topic-arn {topic.arn} --protocol email --notification-endpoint <address>"
    if not subscriptions:
        return Verdict("FAIL" if expected else "WARN", "nobody is subscribed: it reaches no one", missing_fix)
    problems: list[Problem] = []
    if not confirmed:
        problems.append(
            ("FAIL", f"none of {_count(len(subscriptions), 'subscription')} confirmed: it reaches no one", None)
        )
    if pending:
        problems.append(("WARN", f"{len(pending)} pending confirmation ({', '.join(pending)})", confirm))
    if missing:
        problems.append(("WARN", f"not subscribed: {', '.join(missing)} (unsubscribed?)", subscribe))
    return _worst(problems, f"{_count(len(confirmed), 'subscription')}, all confirmed")


def _verified(address: str, statuses: Mapping[str, str]) -> bool:
    domain = address.rpartition("@")[2]
    return "Success" in (statuses.get(address), statuses.get(domain), statuses.get(domain.lower()))


def check_sender(sender: str, statuses: Mapping[str, str], region: str) -> Verdict:
    """The SES sender's address or its domain is verified in this Region."""
    if not sender:
        return Verdict(
            "FAIL",
            "Channels includes ses but SenderAddress is empty",
            "npx cdk deploy --parameters SenderAddress=<verified address>",
        )
    if _verified(sender, statuses):
        return Verdict("ok", f"{sender} is verified in {region}")
    domain = sender.rpartition("@")[2]
    return Verdict(
        "FAIL",
        f"{sender} is not verified in SES in {region} (address: {statuses.get(sender, 'not set up')}, "
        f"domain {domain}: {statuses.get(domain, 'not set up')}): SES refuses every email",
        f"open the verification link SES emailed to {sender} (CreateSenderIdentity=yes creates the identity), "
        f"or aws sesv2 create-email-identity --email-identity {sender}, or verify the domain",
    )


def check_ses_account(
    account: SesAccount, *, configured_rate: str, recipients: Sequence[str], statuses: Mapping[str, str]
) -> Verdict:
    """Sending enabled; the sandbox and its unverified recipients; quota and rate against SesMaxSendRate."""
    problems: list[Problem] = []
    production = "request production access (SES console, Account dashboard)"
    if not account.sending_enabled:
        problems.append(("FAIL", "sending is paused for this account", "see the SES console, Reputation metrics"))
    if not account.production:
        unverified = [r for r in recipients if not _verified(r, statuses)]
        if unverified:
            problems.append(
                (
                    "FAIL",
                    f"in the SES sandbox, recipients not verified (SES refuses them): {', '.join(unverified)}",
                    f"verify each (aws sesv2 create-email-identity --email-identity <address>) or {production}",
                )
            )
        else:
            problems.append(
                (
                    "WARN",
                    f"in the SES sandbox: verified recipients only, {account.max_24h:g} emails a day",
                    production,
                )
            )
    try:
        rate = float(configured_rate)
    except ValueError:
        rate = 1.0  # the parameter's default
    if rate > account.max_send_rate:
        problems.append(
            (
                "WARN",
                f"SesMaxSendRate {rate:g}/s is above the account's {account.max_send_rate:g}/s: "
                "sends beyond it are throttled and retried",
                f"npx cdk deploy --parameters SesMaxSendRate={account.max_send_rate:g}",
            )
        )
    if account.max_24h > 0 and account.sent_24h >= QUOTA_WARNING * account.max_24h:
        problems.append(
            (
                "WARN",
                f"{account.sent_24h:g} of {account.max_24h:g} emails of the 24-hour quota used",
                "request a higher sending quota (Service Quotas, Amazon SES)",
            )
        )
    faster = f" (the account allows {account.max_send_rate:g}/s)" if rate < account.max_send_rate else ""
    return _worst(
        problems,
        f"production access, sending enabled, SesMaxSendRate {rate:g}/s{faster}, "
        f"{account.sent_24h:g} of {account.max_24h:g} sent in 24 hours",
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)  # a JSON false is the string "false"


def _statements(policy: str | None) -> list[Any]:
    try:
        document = json.loads(policy or "{}")
    except ValueError:
        return []
    return _as_list(document.get("Statement", [])) if isinstance(document, dict) else []


def _wildcard(value: str, pattern: str, *, ignore_case: bool = False) -> bool:
    """IAM's match: ``*`` any run of characters, ``?`` one character, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _arn_like(value: str, pattern: str) -> bool:
    """IAM's ArnEquals and ArnLike: each of the six colon-separated parts matched on its own."""
    parts, wanted = value.split(":", 5), pattern.split(":", 5)
    return len(parts) == len(wanted) == 6 and all(_wildcard(p, w) for p, w in zip(parts, wanted, strict=True))


# What the doctor can tell of a statement or one of its parts: True, False, or None when it cannot
# evaluate it (an operator or a condition key it does not know, a policy variable, a malformed element).
Truth = bool | None


def _all(truths: Iterable[Truth]) -> Truth:
    """Kleene's AND: one part that certainly does not hold decides; otherwise one unknown part leaves it unknown."""
    seen = list(truths)
    return False if False in seen else None if None in seen else True


# The condition operators the doctor evaluates (their ...IfExists forms too): the comparison, and
# whether the operator negates it (a negated operator holds when no listed value matches).
OPERATORS: Final[dict[str, tuple[Callable[[str, str], bool], bool]]] = {
    "StringEquals": (lambda value, wanted: value == wanted, False),
    "StringNotEquals": (lambda value, wanted: value == wanted, True),
    "StringEqualsIgnoreCase": (lambda value, wanted: value.casefold() == wanted.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda value, wanted: value.casefold() == wanted.casefold(), True),
    "StringLike": (_wildcard, False),
    "StringNotLike": (_wildcard, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (lambda value, wanted: value == wanted.lower(), False),
}


def _test(operator: str, key: str, wanted: Any, context: Mapping[str, str]) -> Truth:
    """One condition key's test. ``context`` holds every key the doctor knows, each present in the
    request; any other key may be present or not, so a test of it (``Null`` included) is unknown.
    """
    value = context.get(key.lower())
    values = [_text(w) for w in _as_list(wanted)]
    if value is None or any("${" in w for w in values):  # policy variables are not resolved here
        return None
    if operator == "Null":  # "true": the key is absent; every known key is present
        return False if values == ["true"] else True if values == ["false"] else None
    compare, negated = OPERATORS.get(operator.removesuffix("IfExists"), (None, False))
    if compare is None:
        return None
    return any(compare(value, w) for w in values) != negated


def _holds(condition: Any, context: Mapping[str, str]) -> Truth:
    """Every condition of a statement holds for a request with ``context`` (keys in lower case, as IAM
    compares them); None when one the doctor cannot evaluate decides it.
    """
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return None
    truths: list[Truth] = []
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            truths.append(None)  # malformed: SNS and KMS refuse to store it, so this is unexpected
            continue
        truths.extend(_test(operator, str(key), wanted, context) for key, wanted in tests.items())
    return _all(truths)


def _names_cloudwatch(principal: Any) -> Truth:
    """A Principal element includes CloudWatch's service principal (``*`` includes everyone)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return None
    return "*" in _as_list(principal.get("AWS")) or CLOUDWATCH in _as_list(principal.get("Service"))


def _principal(statement: Mapping[str, Any]) -> Truth:
    """The statement's Principal names CloudWatch, or its NotPrincipal leaves CloudWatch out."""
    if "Principal" in statement:
        return _names_cloudwatch(statement["Principal"])
    named = _names_cloudwatch(statement["NotPrincipal"]) if "NotPrincipal" in statement else None
    return None if named is None else not named


def _listed(statement: Mapping[str, Any], element: str, value: str, *, ignore_case: bool = False) -> Truth:
    """``value`` is named by the statement's ``element`` (Action, Resource) or left out by its Not form."""
    for name, negated in ((element, False), (f"Not{element}", True)):
        if name in statement:
            named = any(_wildcard(value, _text(p), ignore_case=ignore_case) for p in _as_list(statement[name]))
            return named != negated
    return None


def _applies(statement: Any, effect: str, *, action: str, resource: str | None, context: Mapping[str, str]) -> Truth:
    """The statement has ``effect`` on CloudWatch's ``action`` on ``resource`` in ``context``.

    ``resource`` None is the key a key policy belongs to, which its ``Resource`` (always ``*``) names
    and a ``NotResource`` may or may not; a statement without either names every resource.
    """
    if not isinstance(statement, dict) or statement.get("Effect") != effect:
        return False
    if resource is None:
        on_resource: Truth = None if "NotResource" in statement else True
    elif "Resource" in statement or "NotResource" in statement:
        on_resource = _listed(statement, "Resource", resource)
    else:
        on_resource = True
    return _all(
        (
            _principal(statement),
            _listed(statement, "Action", action, ignore_case=True),  # IAM action names ignore case
            on_resource,
            _holds(statement.get("Condition"), context),
        )
    )


def _sid(statement: Any, position: int) -> str:
    """How the operator finds a statement: its Sid (printable, bounded), else its position."""
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    shown = "".join(c for c in sid if c.isprintable())[:64] if isinstance(sid, str) else ""
    return shown or f"statement {position}"


@dataclass(frozen=True)
class Access:
    """What a policy does to one CloudWatch request."""

    allowed: bool  # an Allow certainly applies and no Deny certainly does
    unsure: tuple[str, ...]  # the Deny statements that may apply but cannot be evaluated, by Sid


def _permits(policy: str | None, *, action: str, resource: str | None, context: Mapping[str, str]) -> Access:
    """Whether the policy lets CloudWatch do ``action``: an Allow that applies and no Deny (a Deny wins).

    Only what can be evaluated counts: an Allow that may apply does not allow; a Deny that may apply is
    named in ``unsure``, never ignored.
    """
    statements = _statements(policy)

    def truths(effect: str) -> list[Truth]:
        return [_applies(s, effect, action=action, resource=resource, context=context) for s in statements]

    denies = truths("Deny")
    allowed = True in truths("Allow") and True not in denies
    unsure = tuple(_sid(s, i) for i, (s, t) in enumerate(zip(statements, denies, strict=True), 1) if t is None)
    return Access(allowed, unsure)


def _unsure(sids: Iterable[str]) -> str:
    """The unevaluated Deny statements, each once, in policy order."""
    return ", ".join(dict.fromkeys(sids))


def cloudwatch_request(account: str, alarm_arn: str | None = None) -> dict[str, str]:
    """What SNS and KMS know of CloudWatch's request when an alarm of ``account`` acts (TLS, as it always is)."""
    context = {
        "aws:sourceaccount": account,
        "aws:sourceowner": account,
        "aws:securetransport": "true",
        "aws:principalservicename": CLOUDWATCH,
    }
    return context | ({"aws:sourcearn": alarm_arn} if alarm_arn else {})


def check_alarm_policy(
    policy: str | None, *, topic_arn: str, account: str, alarms: Sequence[AlarmInfo], stack_alarms: Collection[str]
) -> Verdict:
    """CloudWatch may publish to the alarm topic for every alarm that notifies it.

    A topic policy replaces SNS's default; the stack's admits only its own alarms, by ``aws:SourceArn``
    and ``aws:SourceAccount``, so any other alarm pointed at the topic is refused.
    """
    publishing = [a for a in alarms if topic_arn in a.actions]
    if not publishing:
        return Verdict("WARN", "no alarm notifies the alarm topic: nothing to check its policy against (see alarms)")
    access = {
        a.name: _permits(policy, action="sns:Publish", resource=topic_arn, context=cloudwatch_request(account, a.arn))
        for a in publishing
    }
    refused = [name for name, a in access.items() if not a.allowed]
    unsure = {name: a.unsure for name, a in access.items() if a.allowed and a.unsure}
    ours = sorted(name for name in refused if name in stack_alarms)
    others = sorted(name for name in refused if name not in stack_alarms)
    problems: list[Problem] = []
    if ours:
        problems.append(
            (
                "FAIL",
                f"the alarm topic's policy does not let {CLOUDWATCH} publish for the stack's alarms "
                f"{', '.join(ours)}: their actions fail (not authorized to perform SNS:Publish) and they reach no one",
                REDEPLOY,
            )
        )
    if others:
        problems.append(
            (
                "FAIL",
                f"alarms not of this stack notify the alarm topic, whose policy refuses them: {', '.join(others)}",
                "point them at a topic of your own (the stack's topic admits only the stack's alarms)",
            )
        )
    if unsure:
        problems.append(
            (
                "WARN",
                f"the alarm topic's policy lets {CLOUDWATCH} publish, but Deny statements the doctor cannot "
                f"evaluate may refuse it: {_unsure(sid for sids in unsure.values() for sid in sids)}",
                f"check that they do not apply to {CLOUDWATCH} publishing with aws:SourceAccount {account} and "
                f"aws:SourceArn of the alarms ({', '.join(sorted(unsure))}); otherwise alarm actions fail",
            )
        )
    count = _count(len(publishing), "alarm")
    return _worst(problems, f"{CLOUDWATCH} may publish for every alarm that notifies the alarm topic ({count})")


def check_keys(alert: KeyInfo | None, alarm: KeyInfo | None, *, account: str) -> Verdict:
    """The topics' KMS keys are enabled, and CloudWatch may use the alarm topic's key."""
    problems: list[Problem] = []
    for label, key in (("alert", alert), ("alarm", alarm)):
        if key is not None and key.state != "Enabled":
            fix = "aws kms cancel-key-deletion --key-id {id} && aws kms enable-key --key-id {id}"
            fix = fix if key.state == "PendingDeletion" else "aws kms enable-key --key-id {id}"
            problems.append(
                (
                    "FAIL",
                    f"the {label} topic's KMS key {key.key_id} is {key.state}: SNS cannot encrypt, delivers nothing",
                    fix.format(id=key.key_id),
                )
            )
    if alarm is not None and alarm.aws_managed:
        problems.append(("FAIL", "the alarm topic uses an AWS managed key, which CloudWatch cannot use", REDEPLOY))
    elif alarm is not None:
        access = [
            _permits(alarm.policy, action=action, resource=None, context=cloudwatch_request(account))
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ]
        if not all(a.allowed for a in access):
            problems.append(
                (
                    "FAIL",
                    f"the alarm topic's key {alarm.key_id} does not let CloudWatch use it: alarm actions fail",
                    REDEPLOY,
                )
            )
        elif unsure := _unsure(sid for a in access for sid in a.unsure):
            problems.append(
                (
                    "WARN",
                    f"the alarm topic's key {alarm.key_id} lets CloudWatch use it, but Deny statements the "
                    f"doctor cannot evaluate may refuse it: {unsure}",
                    f"check that they do not apply to {CLOUDWATCH} using the key (kms:GenerateDataKey, "
                    f"kms:Decrypt) with aws:SourceAccount {account}; otherwise alarm actions fail",
                )
            )
    used = "; CloudWatch may use the alarm topic's key" if alarm is not None else " (the alarm topic has no KMS key)"
    return _worst(problems, f"enabled{used}")


def check_dead_letter_queue(depth: int) -> Verdict:
    """Nothing waits in the dead-letter queue."""
    if depth:
        return Verdict(
            "FAIL",
            f"{_count(depth, 'message')} in the dead-letter queue (events or emails that could not be handled)",
            "read them, fix the cause and redrive (README: The dead-letter queue)",
        )
    return Verdict("ok", "empty")


def check_alarms(alarms: Sequence[AlarmInfo], *, stack_alarms: Sequence[str], topic_arn: str) -> Verdict:
    """Every alarm the stack lists still exists, none is in ALARM, and each notifies the alarm topic."""
    found = {a.name for a in alarms}
    deleted = sorted(name for name in stack_alarms if name not in found)
    if not alarms and not deleted:
        return Verdict("FAIL", "no alarm of this stack found", REDEPLOY)
    problems: list[Problem] = []
    if deleted:
        # CloudFormation still lists them: someone deleted them in CloudWatch, and nothing watches those metrics.
        problems.append(("FAIL", f"alarms of the stack deleted outside CloudFormation: {', '.join(deleted)}", REDEPLOY))
    firing = sorted(a.name for a in alarms if a.state == "ALARM")
    if firing:
        problems.append(
            (
                "FAIL",
                f"in ALARM: {', '.join(firing)}",
                "read each alarm's description (aws cloudwatch describe-alarms --state-value ALARM) "
                "and README: Troubleshooting",
            )
        )
    silent = sorted(a.name for a in alarms if not a.actions_enabled or topic_arn not in a.actions)
    if silent:
        problems.append(
            (
                "FAIL",
                f"alarms that notify no one: {', '.join(silent)}",
                f"aws cloudwatch enable-alarm-actions --alarm-names {' '.join(silent)}, or {REDEPLOY}",
            )
        )
    return _worst(problems, f"{_count(len(alarms), 'alarm')}, none in ALARM, each notifies the alarm topic")


def check_detector(detectors: Sequence[DetectorInfo], region: str) -> Verdict:
    """GuardDuty is enabled here and publishes finding updates every 15 minutes."""
    if not detectors:
        return Verdict(
            "FAIL",
            f"GuardDuty is not enabled in {region}: no findings are produced",
            f"aws guardduty create-detector --enable --finding-publishing-frequency {FIFTEEN_MINUTES}",
        )
    detector = detectors[0]  # GuardDuty allows one detector per account and Region
    if detector.status != "ENABLED":
        return Verdict(
            "FAIL",
            f"detector {detector.detector_id} is {detector.status}: no findings are produced",
            f"aws guardduty update-detector --detector-id {detector.detector_id} --enable",
        )
    if detector.frequency != FIFTEEN_MINUTES:
        delay = DELAYS.get(detector.frequency, detector.frequency)
        return Verdict(
            "WARN",
            f"detector {detector.detector_id} publishes finding updates every {delay}: updates and severity "
            f"rises reach the responder up to {delay} late",
            f"aws guardduty update-detector --detector-id {detector.detector_id} --finding-publishing-frequency "
            f"{FIFTEEN_MINUTES} (in an organisation the delegated administrator sets it)",
        )
    return Verdict("ok", f"detector {detector.detector_id} is ENABLED and publishes updates every 15 minutes")


def check_runbooks(versions: Mapping[str, tuple[str, str] | None], region: str) -> Verdict:
    """Every runbook the emails name exists here, and runs its latest content.

    ``versions``: each document's (DefaultVersion, LatestVersion), None when missing. The stack updates
    a document as a new version made the default (UpdateMethod NewVersion); a reported CloudFormation
    bug can leave the old version the default, so an email's command would run the old content.
    """
    problems: list[Problem] = []
    if missing := [name for name, found in versions.items() if found is None]:
        problems.append(
            ("FAIL", f"runbooks not deployed in {region}: {', '.join(missing)} (the emails' commands fail)", REDEPLOY)
        )
    for name, found in versions.items():
        if found is None or found[0] == found[1]:
            continue
        default, latest = found
        fix = (
            f"aws ssm update-document-default-version --name {name} --document-version {latest} --region {region}"
            if VERSION.fullmatch(latest)
            else f"aws ssm describe-document --name {name} --region {region}"
        )
        problems.append(("WARN", f"{name} runs version {default}, not its latest ({latest})", fix))
    return _worst(problems, f"{_count(len(versions), 'runbook')} deployed in {region}, each at its latest version")


# --- the test alert ----------------------------------------------------------------------------


def probe_finding(stack: StackInfo, region: str, *, finding_id: str, now: datetime) -> dict[str, Any]:
    """A clearly marked test finding (a sample, of a type no detector emits) as GuardDuty would publish it."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "schemaVersion": "2.0",
        "accountId": stack.account,
        "region": region,
        "partition": stack.partition,
        "id": finding_id,
        "arn": f"arn:{stack.partition}:guardduty:{region}:{stack.account}:detector/doctor/finding/{finding_id}",
        "type": TEST_TYPE,
        "severity": 8.0,
        "title": "TEST ALERT from python -m responder doctor --send-test: no action needed",
        "description": "Not a real finding: GuardDuty Responder's doctor queued it to prove that alerts reach you.",
        "createdAt": stamp,
        "updatedAt": stamp,
        "service": {
            "serviceName": "guardduty",
            "count": 1,
            "archived": False,
            "eventFirstSeen": stamp,
            "eventLastSeen": stamp,
            "additionalInfo": {"sample": True, "type": "default", "value": '{"sample":true}'},
        },
    }


def probe_message(stack: StackInfo, region: str, *, finding_id: str, now: datetime) -> tuple[str, Prepared]:
    """The queue message of the test finding (what triage would queue) and its email as rendered."""
    from responder.app.service import prepare  # noqa: PLC0415
    from responder.domain.models import Finding  # noqa: PLC0415 (pydantic and jinja2 only with --send-test
    from responder.domain.routing import delivery_key, encode  # noqa: PLC0415
    from responder.domain.settings import Settings  # noqa: PLC0415
    from responder.domain.updates import UpdateDecision, UpdateReason  # noqa: PLC0415

    detail = probe_finding(stack, region, finding_id=finding_id, now=now)
    language = stack.parameter("Language", "en")
    prepared = prepare(Finding.model_validate(detail), Settings(language=language if language == "ja" else "en"))
    body = encode(delivery_key(finding_id, detail["updatedAt"]), detail, UpdateDecision(True, UpdateReason.FIRST, None))
    return body, prepared


def send_test_alert(aws: Deployment, stack: StackInfo, *, now: datetime) -> Verdict:
    """Queue the test finding on the immediate queue: the deployed notifier emails it."""
    body, prepared = probe_message(stack, aws.region, finding_id=f"doctortest{uuid4().hex}", now=now)
    aws.send_message(stack.outputs["ImmediateQueueUrl"], body)
    return Verdict(
        "ok",
        f"queued: expect the email '{prepared.email.display_subject}' within about a minute; if none arrives, "
        f"read the notifier's log ({stack.outputs['NotifierName']}, 'delivery failed')",
    )


def send_test_alarm(
    aws: Deployment, alarms: Sequence[AlarmInfo], stack: StackInfo, *, pause: Callable[[float], None]
) -> Verdict:
    """One alarm of the stack to ALARM (its action emails the operator), then back to OK."""
    topic = stack.outputs["AlarmTopicArn"]
    quiet = [a for a in alarms if a.state != "ALARM" and a.actions_enabled and topic in a.actions]
    if not quiet:
        return Verdict("WARN", "no alarm that notifies the alarm topic is out of ALARM: none was set")
    alarm = next((a for a in quiet if TEST_ALARM in a.name), quiet[0])
    reason = "Test alarm from python -m responder doctor --send-test: no action needed"
    aws.set_alarm_state(alarm.name, "ALARM", reason)
    pause(ALARM_HOLD_SECONDS)  # lets CloudWatch run the alarm action before the state changes back
    aws.set_alarm_state(alarm.name, "OK", reason)
    who = stack.parameter("AlarmEmail") or "the alarm topic's subscribers"
    return Verdict("ok", f"{alarm.name} set to ALARM, then back to OK: expect an 'ALARM: ...' email at {who}")


# --- running the checks --------------------------------------------------------------------


Guard = Callable[[str, Callable[[], Verdict]], Result]  # runs one named check (responder.adapters.doctor_aws.guard)


def diagnose(
    aws: RunbookDeployment,
    stack_name: str,
    *,
    send_test: bool = False,
    guard: Guard,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    pause: Callable[[float], None] | None = None,
) -> list[Result]:
    """Every check, in order. ``guard`` turns an AWS refusal of one check into its FAIL line."""
    found: list[StackInfo | None] = []

    def stack_check() -> Verdict:
        found.append(aws.stack(stack_name))
        return check_stack(found[0], stack_name, aws.region)

    first = guard("stack", stack_check)
    stack = found[0] if found else None
    if stack is None or missing_outputs(stack):
        return [first]  # every other check starts from the stack's outputs
    out = stack.outputs
    alert_topic = cache(lambda: aws.topic(out["AlertTopicArn"]))
    alarm_topic = cache(lambda: aws.topic(out["AlarmTopicArn"]))
    alarms = cache(lambda: aws.alarms(stack.alarm_names, out["AlarmTopicArn"]))
    alarm_email = stack.parameter("AlarmEmail")
    checks: list[tuple[str, Callable[[], Verdict]]] = [
        (
            "rule",
            lambda: check_rule(
                aws.rule(out["RuleName"]),
                threshold=stack.parameter("NotifyThreshold", "4.0"),
                function_name=out["FunctionName"],
            ),
        )
    ]
    if "sns" in stack.channels:
        checks.append(
            (
                "alert subscriptions",
                lambda: check_subscriptions(
                    alert_topic(),
                    stack.listed("Recipients")[:SNS_SUBSCRIPTIONS],
                    missing_fix="npx cdk deploy --parameters Recipients=<addresses>",
                ),
            )
        )
    checks += [
        (
            "alarm subscriptions",
            lambda: check_subscriptions(
                alarm_topic(),
                [alarm_email] if alarm_email else [],
                missing_fix="npx cdk deploy --parameters AlarmEmail=<operator address>",
            ),
        ),
        (
            "alarm topic policy",
            lambda: check_alarm_policy(
                alarm_topic().policy,
                topic_arn=out["AlarmTopicArn"],
                account=stack.account,
                alarms=alarms(),
                stack_alarms=stack.alarm_names,
            ),
        ),
        ("topic keys", lambda: _keys(aws, alert_topic(), alarm_topic(), account=stack.account)),
    ]
    if "ses" in stack.channels:
        checks += _ses(aws, stack)
    checks += [
        ("queues", lambda: _queues(aws, out)),
        (
            "alarms",
            lambda: check_alarms(alarms(), stack_alarms=stack.alarm_names, topic_arn=out["AlarmTopicArn"]),
        ),
        ("guardduty", lambda: check_detector(aws.detectors(), aws.region)),
    ]
    if out.get(RUNBOOKS_OUTPUT):  # a stack deployed without runbooks (or before them) has none to check
        checks.append(
            ("runbooks", lambda: check_runbooks({n: aws.document_versions(n) for n in RUNBOOK_NAMES}, aws.region))
        )
    if send_test:
        checks += [
            ("test alert", lambda: send_test_alert(aws, stack, now=now())),
            ("test alarm", lambda: send_test_alarm(aws, alarms(), stack, pause=pause or time.sleep)),
        ]
    return [first, *(guard(name, run) for name, run in checks)]


def _keys(aws: Deployment, alert: TopicInfo, alarm: TopicInfo, *, account: str) -> Verdict:
    return check_keys(
        aws.key(alert.key_id) if alert.key_id else None,
        aws.key(alarm.key_id) if alarm.key_id else None,
        account=account,
    )


def _ses(aws: Deployment, stack: StackInfo) -> list[tuple[str, Callable[[], Verdict]]]:
    sender = stack.parameter("SenderAddress")
    recipients = stack.listed("Recipients")
    names = [sender, *recipients]
    identities = sorted({n for name in names if name for n in (name, name.rpartition("@")[2])})
    statuses = cache(lambda: aws.identities(identities))
    return [
        ("ses sender", lambda: check_sender(sender, statuses(), aws.region)),
        (
            "ses account",
            lambda: check_ses_account(
                aws.ses_account(),
                configured_rate=stack.parameter("SesMaxSendRate", "1"),
                recipients=recipients,
                statuses=statuses(),
            ),
        ),
    ]


def _queues(aws: Deployment, outputs: Mapping[str, str]) -> Verdict:
    aws.queue_depth(outputs["ImmediateQueueUrl"])  # reachable (a deleted queue raises)
    aws.queue_depth(outputs["DigestQueueUrl"])
    result = check_dead_letter_queue(aws.queue_depth(outputs["DeadLetterQueueUrl"]))
    return Verdict(
        result.status, f"immediate and digest queues reachable; dead-letter queue {result.detail}", result.fix
    )


def report(results: Sequence[Result]) -> tuple[str, int]:
    """The lines to print and the exit status (1 when any check failed)."""
    counts = {status: sum(r.status == status for r in results) for status in RANK}
    summary = f"{counts['FAIL']} FAIL, {counts['WARN']} WARN, {counts['ok']} ok"
    return "\n".join([*(r.line() for r in results), summary]), 1 if counts["FAIL"] else 0
