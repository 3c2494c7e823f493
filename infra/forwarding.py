"""One responder for every Region: the stack of a Region that only forwards its findings home.

With ``-c home_region=us-east-1`` (``infra/app.py``) the home Region runs the full responder and
every other Region this stack: the responder's own findings rule and scan-result rule (same
pattern, same severity floor, same logical IDs; ``infra/triggers.py``) whose target is the home
Region's default event bus instead of the triage function. A forwarded event keeps its source,
detail-type, ``region`` and ``detail``, so the home rule takes it like a local one and the emails
name and link the Region the finding came from. No function, key or table here: one alarm. The
Region's findings are acted on in the Region, so the stack deploys the runbooks too
(``infra/runbooks/construct.py``: documents, their roles, the approval topic with ``RunbookApprovers``).

The stack keeps the name and construct paths the full stack had in its Region (the ``Default``
construct, which CDK leaves out of logical IDs, then ``FindingsRule``, ``ObjectScanRule``,
``DeadLetterQueue``, ``AlarmTopic``, ``AlarmSubscription``), so ``cdk deploy --all`` converts a
full stack in place: the rules swap their target, the alarm subscription stays confirmed and
the dead-letter queue keeps its messages; CloudFormation deletes the rest, except what the
full stack retains (its two KMS keys and the functions' log groups: README, "One responder
for every Region").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from aws_cdk import Acknowledgment, CfnCondition, CfnOutput, Duration, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.alarms import alarm, allow_cloudwatch_to_publish
from infra.alerting import ALARM_TOPIC_DISPLAY_NAME, subscribe
from infra.flags import Named, equals, named, negate
from infra.parameters import BY_NAME
from infra.queues import allow_sns_redrive, dead_letter_queue
from infra.runbooks.construct import Runbooks
from infra.stack import RESPONDER_ID
from infra.stack_parameters import cfn_parameter
from infra.triggers import findings_rule, object_scan_rule

# The responder's parameters a forwarder reads, declared once in infra/parameters.py: a converted
# stack keeps their values (the CDK CLI's --previous-parameters default).
FORWARDER_PARAMETERS: Final = ("NotifyThreshold", "ObjectScanAlerts", "AlarmEmail", "RunbookApprovers")
HOME_BUS: Final = "default"  # GuardDuty publishes to the default bus; the home rule listens there


class ForwardingStack(Stack):
    """GuardDuty findings of this Region -> the home Region's default event bus (one alarm, no function)."""

    def __init__(self, scope: Construct, construct_id: str, *, home_region: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"GuardDuty Responder: forwards this Region's GuardDuty findings to {home_region}",
            **kwargs,
        )
        parameters = {name: cfn_parameter(self, BY_NAME[name]) for name in FORWARDER_PARAMETERS}
        self.forwarder = Forwarder(
            self,
            RESPONDER_ID,
            home_region=home_region,
            notify_threshold=parameters["NotifyThreshold"].value_as_string,
            object_scan_alerts=parameters["ObjectScanAlerts"].value_as_string,
            alarm_email=parameters["AlarmEmail"].value_as_string,
            runbook_approvers=parameters["RunbookApprovers"].value_as_list,
        )
        forwarder = self.forwarder
        outputs = {
            "HomeEventBusArn": (forwarder.home_bus_arn, "The event bus the findings are forwarded to"),
            "AlarmTopicArn": (forwarder.alarm_topic.topic_arn, "SNS topic the forwarding alarm goes to"),
            "DeadLetterQueueUrl": (forwarder.dead_letter_queue.queue_url, "Findings that could not be forwarded"),
            "RuleName": (forwarder.rule.rule_name, "EventBridge rule on GuardDuty findings"),
        }
        outputs["RunbookNames"] = (",".join(forwarder.runbooks.names), "SSM Automation runbooks of this Region")
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
        approval_topic = forwarder.runbooks.approval_topic
        if approval_topic is not None:
            approvals = CfnOutput(
                self,
                "ApprovalTopicArn",
                value=approval_topic.topic_arn,
                description="SNS topic of the runbooks' approval requests (with RunbookApprovers)",
            )
            if isinstance(forwarder.runbooks.has_approvers, CfnCondition):
                approvals.condition = forwarder.runbooks.has_approvers


class Forwarder(Construct):
    """The rules of the responder with the home Region's default bus as their target.

    Parameters
    ----------
    home_region
        Where the full responder runs (its default event bus receives the findings).
    notify_threshold, object_scan_alerts, alarm_email, runbook_approvers
        As the responder's parameters of those names: plain values or tokens.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        home_region: str,
        notify_threshold: str,
        object_scan_alerts: str,
        alarm_email: str,
        runbook_approvers: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.home_bus_arn = Stack.of(self).format_arn(
            service="events", region=home_region, resource="event-bus", resource_name=HOME_BUS
        )
        self.dead_letter_queue = dead_letter_queue(
            self, sources="the forwarding rules and the alarm subscription", watch="the ForwardingFailed alarm"
        )
        self.role = iam.Role(
            self,
            "ForwardRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"EventBridge puts this Region's GuardDuty findings on the default bus of {home_region}",
        )
        # The target grants the role events:PutEvents on the home bus, and nothing else.
        home_bus = events.EventBus.from_event_bus_arn(self, "HomeEventBus", self.home_bus_arn)
        # No retry policy: EventBridge takes none for an event bus target (it retries on its own);
        # what it gives up on lands in the dead-letter queue, which the alarm watches.
        target = targets.EventBus(home_bus, role=self.role, dead_letter_queue=self.dead_letter_queue)
        forwards = f"-> the GuardDuty Responder in {home_region}"
        self.rule = findings_rule(
            self, notify_threshold, description=f"GuardDuty findings at or above the notification threshold {forwards}"
        )
        self.rule.add_target(target)
        self.object_scan_rule = object_scan_rule(
            self,
            object_scan_alerts,
            description=f"Malware Protection for S3: threats found, skipped or failed scans {forwards}",
        )
        if self.object_scan_rule is not None:
            self.object_scan_rule.add_target(target)
        has_alarm_email = named(self, "HasAlarmEmail", negate(equals(alarm_email, "")))
        self.alarm_topic = _alarm_topic(self, alarm_email, has_alarm_email, self.dead_letter_queue)
        self.alarm = _forwarding_failed(self, self.dead_letter_queue, self.alarm_topic, home_region)
        self.runbooks = Runbooks(
            self,
            approvers=list(runbook_approvers),
            alarm_email=alarm_email,
            has_alarm_email=has_alarm_email,
            dead_letter_queue=self.dead_letter_queue,
        )


def _alarm_topic(scope: Construct, alarm_email: str, has_alarm_email: Named, dead_letter_queue: sqs.Queue) -> sns.Topic:
    """The alarm topic and the AlarmEmail subscription, at the full stack's paths (a converted
    stack keeps the topic and its confirmed subscription).
    """
    topic = sns.Topic(scope, "AlarmTopic", display_name=ALARM_TOPIC_DISPLAY_NAME, enforce_ssl=True)
    Validations.of(topic).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SNS2",
            reason="The topic carries the ForwardingFailed alarm's name and state, never finding data; a "
            "customer-managed key CloudWatch may use would cost USD 1.00 a month per Region, ten times the "
            "forwarder itself (AWS-managed SNS keys cannot be granted to CloudWatch).",
        )
    )
    if has_alarm_email is not False:
        subscribe(
            scope,
            "AlarmSubscription",
            topic=topic,
            address=alarm_email,
            flag=has_alarm_email,
            dead_letter_queue=dead_letter_queue,
        )
        allow_sns_redrive(dead_letter_queue, topic)
    return topic


def _forwarding_failed(
    scope: Construct, dead_letter_queue: sqs.Queue, alarm_topic: sns.Topic, home_region: str
) -> cloudwatch.Alarm:
    """One alarm (one metric, USD 0.10 a month): the dead-letter queue is not empty.

    EventBridge sends what it cannot forward (the home bus refused, the role lost its right,
    retries ran out) to the queue, so its depth covers the rules' failed deliveries; an alarm
    on each rule's FailedInvocations would add a metric each for the same events.
    """
    period = Duration.minutes(constants.ALARM_PERIOD_MINUTES)
    failed = alarm(
        scope,
        "ForwardingFailed",
        dead_letter_queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
        f"Findings of this Region could not be forwarded to {home_region} (or an alarm email "
        "could not be delivered): they wait in the dead-letter queue.",
        topic=alarm_topic,
    )
    allow_cloudwatch_to_publish(alarm_topic, [failed.alarm_arn])
    return failed
