"""Alarms: one per way the responder can fail unseen, all to the alarm topic, which only they may use."""

from __future__ import annotations

from typing import cast

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.flags import Named, attach, choose_text

# The notifier's count of routes files it could not use (it sent to the default recipients
# instead): responder.adapters.routes.FALLBACK_METRIC, the same name (a test ties them).
ROUTES_FALLBACK = "RoutesFallback"


class Alarms:
    """Builds its resources into ``scope`` (the responder), like every part: see ``infra.responder``."""

    def __init__(
        self,
        scope: Construct,
        *,
        alarm_topic: sns.Topic,
        dead_letter_queue: sqs.Queue,
        immediate_queue: sqs.Queue,
        triage: lambda_.Function,
        notifier: lambda_.Function,
        rule: events.IRule,
        digest_schedule: events.IRule,
        channels: dict[str, Named],
    ) -> None:
        self._scope = scope
        self._alarm_topic = alarm_topic
        period = Duration.minutes(constants.ALARM_PERIOD_MINUTES)

        def events_metric(rule: events.IRule, metric_name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name=metric_name,
                statistic="Sum",
                dimensions_map={"RuleName": rule.rule_name},
                period=period,
            )

        alarms: dict[str, tuple[cloudwatch.IMetric, str] | tuple[cloudwatch.IMetric, str, float]] = {
            "DeadLetterQueueNotEmpty": (
                dead_letter_queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
                "Events or emails the responder could not handle are waiting in the dead-letter queue.",
            ),
            "FunctionErrors": (
                triage.metric_errors(period=period, statistic="Sum"),
                "The triage function failed (a malformed event, or the state table or a queue refused); see its logs.",
            ),
            "FunctionThrottles": (
                triage.metric_throttles(period=period, statistic="Sum"),
                "The triage function was throttled (a finding storm); events wait and are retried.",
            ),
            "NotifierErrors": (
                notifier.metric_errors(period=period, statistic="Sum"),
                "The notifier failed (SES or SNS refused an email, or a digest could not be sent); "
                "the findings stay queued and are retried; see its logs.",
            ),
            "ImmediateQueueDelayed": (
                immediate_queue.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"),
                "A finding to email at once has waited 5 minutes or more in the immediate queue.",
                constants.IMMEDIATE_QUEUE_DELAYED_SECONDS,
            ),
            "DigestScheduleFailedInvocations": (
                events_metric(digest_schedule, "FailedInvocations"),
                "EventBridge could not start the digest run.",
            ),
            "RuleFailedInvocations": (
                events_metric(rule, "FailedInvocations"),
                "EventBridge could not hand findings to the function.",
            ),
            "RuleDeadLetterInvocations": (
                events_metric(rule, "InvocationsSentToDlq"),
                "EventBridge gave up on findings and sent them to the dead-letter queue.",
            ),
            "RoutesFallback": (
                self._own_metric(ROUTES_FALLBACK, {}, period),
                "The routes parameter could not be read or is not a valid routes file: alerts go to the default "
                "recipients only, no owner gets a copy; the notifier's log names the error's location.",
            ),
        }
        alarm_arns = [alarm(scope, name, *spec, topic=alarm_topic).alarm_arn for name, spec in alarms.items()]
        alarm_arns += self._delivery_failure_alarms(channels, period)
        allow_cloudwatch_to_publish(alarm_topic, alarm_arns)

    def _delivery_failure_alarms(self, channels: dict[str, Named], period: Duration) -> list[str]:
        """One alarm per channel in use on the notifier's DeliveryFailures metric: partial batch
        failures are retried without failing the invocation, so NotifierErrors stays silent while
        an SES identity or a KMS grant is broken. Returns the ARNs of those that exist.
        """
        failures = {
            "sns": "An email could not be sent (SNS refused the publish: the alert topic's KMS key disabled or not "
            "granted",
            "ses": "An email could not be sent (SES refused the send: an unverified sender, or a recipient not "
            "verified in the sandbox",
            "chat": "A chat message could not be published (SNS refused the publish to the chat topic: its KMS key "
            "disabled or not granted",
        }
        arns = []
        for channel, failure in failures.items():
            uses = channels[channel]
            if uses is False:
                continue
            failing = alarm(
                self._scope,
                f"{channel.capitalize()}DeliveryFailures",
                self._own_metric("DeliveryFailures", {"Channel": channel}, period),
                f"{failure}, or throttling beyond the retries); the findings stay queued and are retried; see the "
                "notifier's logs.",
                topic=self._alarm_topic,
            )
            attach(cast(cloudwatch.CfnAlarm, failing.node.default_child), uses)
            # Dropped (AWS::NoValue) where the channel's condition is false at deploy time.
            arns.append(choose_text(uses, failing.alarm_arn, Aws.NO_VALUE))
        return arns

    @staticmethod
    def _own_metric(name: str, dimensions: dict[str, str], period: Duration) -> cloudwatch.Metric:
        """A count the functions emit (``responder.adapters.observability.emit``, which adds ``service``)."""
        return cloudwatch.Metric(
            namespace=constants.METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={**dimensions, "service": constants.SERVICE},
            statistic="Sum",
            period=period,
        )


def alarm(
    scope: Construct,
    name: str,
    metric: cloudwatch.IMetric,
    description: str,
    threshold: float = 1,
    *,
    topic: sns.ITopic,
) -> cloudwatch.Alarm:
    """An alarm on one period at or above ``threshold``, notifying ``topic``; no data is not a breach."""
    built = cloudwatch.Alarm(
        scope,
        name,
        metric=metric,
        threshold=threshold,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    built.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return built


def allow_cloudwatch_to_publish(alarm_topic: sns.ITopic, alarm_arns: list[str]) -> None:
    """A topic policy replaces SNS's default one, which let the account's services publish: without
    this statement every alarm action fails ("not authorized to perform SNS:Publish") unseen.
    Only these alarms, named by ARN (the topic policy is created after them).
    """
    alarm_topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowThisStacksAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[alarm_topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnEquals": {"aws:SourceArn": alarm_arns},
            },
        )
    )
