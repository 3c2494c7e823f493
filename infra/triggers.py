"""Rule and schedule: the EventBridge rule on GuardDuty findings and the digest schedule."""

from __future__ import annotations

from typing import Any, Final, cast

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.flags import choose, choose_text, equals, named

# What the digest schedule sends the notifier: the shape its entry point recognises as a digest run.
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event"}
OBJECT_SCAN_RESULT: Final = "GuardDuty Malware Protection Object Scan Result"
# The scan results worth a line: threats found (an alert), and scans that did not complete (the
# digest); the many clean results (NO_THREATS_FOUND) never invoke the function.
OBJECT_SCAN_DETAIL: Final = {
    "$or": [{"scanResultDetails": {"scanResultStatus": ["THREATS_FOUND"]}}, {"scanStatus": ["SKIPPED", "FAILED"]}]
}
FINDINGS_RULE_DESCRIPTION: Final = "GuardDuty findings at or above the notification threshold -> GuardDuty Responder"
OBJECT_SCAN_RULE_DESCRIPTION: Final = (
    "Malware Protection for S3: threats found, skipped or failed scans -> GuardDuty Responder"
)


class Triggers:
    """Builds its resources into ``scope`` (the responder), like every part: see ``infra.responder``."""

    def __init__(
        self,
        scope: Construct,
        *,
        threshold: str,
        digest_minutes: str,
        object_scans: str,
        triage: lambda_.IFunction,
        notifier: lambda_.IFunction,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        self.rule = findings_rule(scope, threshold, description=FINDINGS_RULE_DESCRIPTION)
        self.rule.add_target(_target(triage, dead_letter_queue))
        self.object_scan_rule = object_scan_rule(scope, object_scans, description=OBJECT_SCAN_RULE_DESCRIPTION)
        if self.object_scan_rule is not None:
            self.object_scan_rule.add_target(_target(triage, dead_letter_queue))
        self.digest_schedule = _digest_schedule(scope, digest_minutes, notifier, dead_letter_queue)


def _severity_floor(scope: Construct, threshold: str) -> Any:
    """The threshold as a literal JSON number: itself when plain, else chosen by condition.

    ``Ref`` to a Number parameter resolves to a string, and EventBridge rejects a string
    inside ``numeric``; nested ``Fn::If`` over literal numbers is exact either way.
    """
    floor: Any = float(constants.THRESHOLD_VALUES[0])
    for value in constants.THRESHOLD_VALUES[1:]:
        floor = choose(
            named(scope, f"ThresholdIs{value.replace('.', '')}", equals(threshold, value)), float(value), floor
        )
    return floor


def _target(function: lambda_.IFunction, dead_letter_queue: sqs.IQueue, **kwargs: Any) -> targets.LambdaFunction:
    """EventBridge's delivery to a function: its retries for up to a day, then the dead-letter queue."""
    return targets.LambdaFunction(
        function,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=constants.RULE_RETRY_ATTEMPTS,
        max_event_age=Duration.hours(constants.RULE_MAX_EVENT_AGE_HOURS),
        **kwargs,
    )


def findings_rule(scope: Construct, threshold: str, *, description: str) -> events.Rule:
    """The rule on GuardDuty findings at or above ``threshold``, without a target: the responder's
    rule targets the triage function, a forwarding stack's the home Region's event bus.
    """
    floor = _severity_floor(scope, threshold)
    rule = events.Rule(
        scope,
        "FindingsRule",
        description=description,
        event_pattern=events.EventPattern(source=["aws.guardduty"], detail_type=["GuardDuty Finding"]),
    )
    cfn_rule = cast(events.CfnRule, rule.node.default_child)
    cfn_rule.add_property_override("EventPattern.detail", {"severity": [{"numeric": [">=", floor]}]})
    return rule


def _digest_schedule(
    scope: Construct, minutes: str, notifier: lambda_.IFunction, dead_letter_queue: sqs.IQueue
) -> events.Rule:
    rule = events.Rule(
        scope,
        "DigestSchedule",
        description="GuardDuty Responder: email the digest of the findings below ImmediateBand",
        schedule=events.Schedule.expression(f"rate({minutes} minutes)"),
    )
    rule.add_target(_target(notifier, dead_letter_queue, event=events.RuleTargetInput.from_object(SCHEDULED_EVENT)))
    return rule


def object_scan_rule(scope: Construct, object_scans: str, *, description: str) -> events.Rule | None:
    """Malware Protection for S3 results, enabled when ObjectScanAlerts is yes; without a target
    (as ``findings_rule``). None when ``object_scans`` is a plain "no": nothing to build.

    Disabled rather than conditional: the invoke permission and the dead-letter queue's policy
    name the rule, so it always exists (a disabled rule costs nothing and invokes nothing).
    """
    flag = named(scope, "AlertsOnObjectScans", equals(object_scans, "yes"))
    if flag is False:
        return None
    rule = events.Rule(
        scope,
        "ObjectScanRule",
        description=description,
        event_pattern=events.EventPattern(source=["aws.guardduty"], detail_type=[OBJECT_SCAN_RESULT]),
    )
    cfn_rule = cast(events.CfnRule, rule.node.default_child)
    cfn_rule.add_property_override("EventPattern.detail", OBJECT_SCAN_DETAIL)
    cfn_rule.state = choose_text(flag, "ENABLED", "DISABLED")
    return rule
