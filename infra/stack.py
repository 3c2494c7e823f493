"""The deployable stack: the responder fed by CloudFormation parameters, and its outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnCondition, CfnOutput, Stack
from constructs import Construct

from infra.responder import GuardDutyResponder
from infra.stack_parameters import StackParameters

# CDK leaves a construct named "Default" out of logical IDs: the responder's resources keep the IDs
# they had when this stack built them itself, so an existing deployment updates in place.
RESPONDER_ID = "Default"


class GuardDutyResponderStack(Stack):
    """EventBridge rule -> triage Lambda -> SQS (immediate | digest) -> notifier Lambda -> SNS and/or SES."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        parameters = StackParameters(self, "Parameters")
        self.responder = GuardDutyResponder(self, RESPONDER_ID, **parameters.props())
        self._outputs()

    def _outputs(self) -> None:
        responder = self.responder
        outputs = {
            "AlertTopicArn": (responder.topic.topic_arn, "SNS topic the alerts are published to"),
            "AlarmTopicArn": (responder.alarm_topic.topic_arn, "SNS topic the operational alarms go to"),
            "FunctionName": (responder.function.function_name, "The triage Lambda function"),
            "NotifierName": (responder.notifier.function_name, "The notifier Lambda function (sends the emails)"),
            "ImmediateQueueUrl": (responder.immediate_queue.queue_url, "Findings waiting to be emailed at once"),
            "DigestQueueUrl": (responder.digest_queue.queue_url, "Findings waiting for the next digest"),
            "DeadLetterQueueUrl": (
                responder.dead_letter_queue.queue_url,
                "Events and emails that could not be handled",
            ),
            "RuleName": (responder.rule.rule_name, "EventBridge rule on GuardDuty findings"),
            "ChatTopicArn": (
                responder.chat_topic.topic_arn,
                "SNS topic for Amazon Q Developer in chat applications (Slack, Microsoft Teams)",
            ),
            "RouteTopicArn": (
                responder.route_topic.topic_arn,
                "SNS topic of the copies routed to owners: subscribe with a filter policy on the route attribute",
            ),
            "RoutesParameterName": (
                responder.routes_parameter.parameter_name,
                "SSM parameter holding the routes to owners (JSON): edit it, not the stack",
            ),
        }
        runbooks = responder.runbooks
        if runbooks is not None:
            outputs["RunbookNames"] = (
                ",".join(runbooks.names),
                "SSM Automation runbooks the emails offer (aws ssm start-automation-execution --document-name ...)",
            )
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
        if runbooks is not None and runbooks.approval_topic is not None:
            approvals = CfnOutput(
                self,
                "ApprovalTopicArn",
                value=runbooks.approval_topic.topic_arn,
                description="SNS topic of the runbooks' approval requests (with RunbookApprovers)",
            )
            if isinstance(runbooks.has_approvers, CfnCondition):
                approvals.condition = runbooks.has_approvers
