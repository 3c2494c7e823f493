"""Functions: the triage and notifier Lambda functions, one code asset, their roles and log groups,
the notifier's SQS event source, its SES send policy and the triage's AWS Organizations read rights.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from aws_cdk import (
    Acknowledgment,
    BundlingOptions,
    DockerImage,
    Duration,
    Fn,
    ILocalBundling,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import constants
from infra.alerting import Alerting
from infra.asset import LocalBundling
from infra.flags import Named, attach, equals, named, negate
from infra.queues import QueuesAndState

ROOT = Path(__file__).resolve().parents[1]
# What Powertools idempotency and the finding state do with single items of the state table.
TABLE_ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# What the triage reads of the organisation: account names, each account's OUs (walked up to the
# root) and tags. Read-only; callable from the management account or a delegated administrator.
ORGANIZATIONS_READ_ACTIONS = (
    "organizations:DescribeAccount",
    "organizations:ListParents",
    "organizations:ListTagsForResource",
)


class Functions:
    """Builds its resources into ``scope`` (the responder), like every part: see ``infra.responder``."""

    def __init__(
        self,
        scope: Construct,
        *,
        environment: Mapping[str, str],  # every function variable; each function gets only its own
        queues: QueuesAndState,
        alerting: Alerting,
        chat_topic: sns.ITopic,
        sender: str,
        uses_ses: Named,
        organizations_role: str,
    ) -> None:
        self._scope = scope
        self._environment = dict(environment)
        self._queues = queues
        self._code = _code()
        self.triage, triage_role = self._triage()
        _allow_organizations(scope, triage_role, organizations_role)
        self.notifier, notifier_role = self._notifier()
        _allow_publishing(notifier_role, alerting, chat_topic)
        if uses_ses is not False:
            _allow_ses(scope, notifier_role, sender, alerting.configuration_set_in_use, uses_ses)

    def _triage(self) -> tuple[lambda_.Function, iam.Role]:
        function, role = self._function(
            "Function",
            environment=_only(self._environment, drop=constants.NOTIFIER_ONLY_VARIABLES),
            description="GuardDuty Responder triage: classifies each finding, decides, queues it to email",
            handler=constants.TRIAGE_HANDLER,
            reserved=constants.TRIAGE_CONCURRENCY,
            role_description="GuardDuty Responder triage: write its logs, read and write finding state, queue findings",
        )
        # Finding state and the idempotency records of queueing.
        self._queues.state_table.grant(function, *TABLE_ITEM_ACTIONS)
        self._queues.immediate_queue.grant_send_messages(function)
        self._queues.digest_queue.grant_send_messages(function)
        return function, role

    def _notifier(self) -> tuple[lambda_.Function, iam.Role]:
        function, role = self._function(
            "Notifier",
            environment=_only(self._environment, drop=constants.TRIAGE_ONLY_VARIABLES),
            description="GuardDuty Responder notifier: emails queued findings (grouped in a storm) and the digest",
            handler=constants.NOTIFIER_HANDLER,
            reserved=constants.NOTIFIER_CONCURRENCY,
            role_description="GuardDuty Responder notifier: write logs, read its queues, publish alerts, send SES mail",
        )
        # Idempotency records of each send, and the delivered-markers of each finding (read and written in batches).
        self._queues.state_table.grant(
            function, *TABLE_ITEM_ACTIONS, "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"
        )
        function.add_event_source(
            event_sources.SqsEventSource(
                self._queues.immediate_queue,
                batch_size=constants.QUEUE_BATCH_SIZE,
                max_batching_window=Duration.seconds(constants.QUEUE_BATCH_WINDOW_SECONDS),
                report_batch_item_failures=True,
                max_concurrency=constants.QUEUE_MAX_CONCURRENCY,
            )
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="Serverless-LambdaEventSourceMappingDestination",
                reason="SQS event sources take no on-failure destination (that is for streams); the "
                "immediate queue's redrive policy moves a message that failed 5 receives to the "
                "dead-letter queue, whose depth is alarmed.",
            )
        )
        self._queues.digest_queue.grant_consume_messages(function)
        return function, role

    def _function(
        self,
        name: str,
        *,
        environment: dict[str, str],
        description: str,
        handler: str,
        reserved: int,
        role_description: str,
    ) -> tuple[lambda_.Function, iam.Role]:
        """A function with its own log group and its own role (logs of that group only)."""
        log_group = logs.LogGroup(self._scope, f"{name}Logs", removal_policy=RemovalPolicy.RETAIN)
        # RetentionDays names its values (ONE_YEAR) and cannot be built from a number of days:
        # the number goes to the CloudFormation property itself.
        cast(logs.CfnLogGroup, log_group.node.default_child).retention_in_days = constants.LOG_RETENTION_DAYS
        role = iam.Role(
            self._scope,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=role_description,
        )
        # Instead of the AWS managed AWSLambdaBasicExecutionRole: only this function's log group.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        function = lambda_.Function(
            self._scope,
            name,
            description=description,
            runtime=lambda_.Runtime(f"python{constants.PYTHON_VERSION}", lambda_.RuntimeFamily.PYTHON),
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=self._code,
            memory_size=constants.MEMORY_MB,
            timeout=Duration.seconds(constants.TIMEOUT_SECONDS),
            reserved_concurrent_executions=reserved,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            role=role,
            retry_attempts=constants.ASYNC_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(constants.ASYNC_MAX_EVENT_AGE_HOURS),
            on_failure=destinations.SqsDestination(self._queues.dead_letter_queue),
            environment=environment,
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) support no "
                "resource-level permissions; every other statement names its exact resources.",
            )
        )
        latest = (
            f"Python {constants.PYTHON_VERSION} is the newest runtime our tests run on (make test runs the unit "
            "and integration tests on it); an untested newer runtime could fail at import, seen only as a DLQ "
            "filling up. Supported by Lambda until its deprecation date; move with the tests."
        )
        Validations.of(function).acknowledge(
            Acknowledgment(id="AwsSolutions-L1", reason=latest),
            Acknowledgment(id="Serverless-LambdaLatestVersion", reason=latest),
            Acknowledgment(
                id="Serverless-LambdaDLQ",
                reason="Failed asynchronous invocations go to the SQS on-failure destination, which "
                "keeps the event and the error; a separate function DLQ would hold the same event twice.",
            ),
        )
        return function, role


def _code() -> lambda_.Code:
    """One asset for both functions, built without Docker."""
    return lambda_.Code.from_asset(
        str(ROOT / "lambdas"),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),
            local=cast(ILocalBundling, LocalBundling()),  # jsii implements the interface at runtime
        ),
    )


def _allow_publishing(role: iam.Role, alerting: Alerting, chat_topic: sns.ITopic) -> None:
    """Publish to the alert, route and chat topics only, with their key only (what SNS needs to
    encrypt the message), and read the routes parameter only.
    """
    topics = [alerting.topic.topic_arn, alerting.route_topic.topic_arn, chat_topic.topic_arn]
    role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=topics))
    role.add_to_policy(
        iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[alerting.key.key_arn])
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[alerting.routes_parameter.parameter_arn])
    )


def _allow_organizations(scope: Construct, role: iam.Role, organizations_role: str) -> None:
    """Read the organisation with the function's own role, or only assume ``organizations_role``
    when it is given (then the organisation is read with that role's rights, and the function's
    own role needs none of its own): never both.
    """
    reads_itself = named(scope, "ReadsOrganizationsItself", equals(organizations_role, ""))
    assumes = named(scope, "HasOrganizationsRole", negate(equals(organizations_role, "")))
    if reads_itself is not False:
        read = iam.Policy(
            scope,
            "OrganizationsReadPolicy",
            statements=[iam.PolicyStatement(actions=list(ORGANIZATIONS_READ_ACTIONS), resources=["*"])],
        )
        Validations.of(read).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="DescribeAccount, ListParents and ListTagsForResource name "
                "accounts and OUs by ARNs holding the organisation id and the management account id, which this "
                "stack cannot know, and the triage looks up any account of the organisation. Read-only actions.",
            )
        )
        read.attach_to_role(role)
        attach(cast(iam.CfnPolicy, read.node.default_child), reads_itself)
    if assumes is not False:
        assume = iam.Policy(
            scope,
            "OrganizationsRolePolicy",
            statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[organizations_role])],
        )
        assume.attach_to_role(role)
        attach(cast(iam.CfnPolicy, assume.node.default_child), assumes)


def _allow_ses(scope: Construct, role: iam.Role, sender: str, configuration_set: str, flag: Named) -> None:
    """SES sending, only with the SES channel (whose sender has been checked): no SES rights otherwise.

    In the SES sandbox SES also authorises each send against every recipient's identity, so
    naming only the sender's identities refuses every send there: any identity of this
    account, but only with the configured sender as From address.
    """
    stack = Stack.of(scope)
    identities = stack.format_arn(service="ses", resource="identity/*")
    ses_policy = iam.Policy(
        scope,
        "SesSendPolicy",
        statements=[
            iam.PolicyStatement(
                sid="SendOnlyAsTheConfiguredSender",
                actions=["ses:SendEmail"],  # SES v2 SendEmail, Raw content included (channels/ses.py)
                resources=[identities],
                conditions={"StringEquals": {"ses:FromAddress": sender}},
            ),
            iam.PolicyStatement(
                sid="SendWithTheConfigurationSet",
                actions=["ses:SendEmail"],
                resources=[
                    stack.format_arn(service="ses", resource=Fn.join("", ["configuration-set/", configuration_set]))
                ],
            ),
        ],
    )
    Validations.of(ses_policy).acknowledge(
        Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::{nag_prints(stack, identities)}]",
            reason="In the SES sandbox every recipient's identity is authorised too; the statement is "
            "limited to the configured sender by the ses:FromAddress condition.",
        )
    )
    ses_policy.attach_to_role(role)
    attach(cast(iam.CfnPolicy, ses_policy.node.default_child), flag)


def nag_prints(stack: Stack, value: str) -> str:
    """A resource as cdk-nag names it in a finding: the Region and account literal in a stack
    deployed to one (``-c regions=...``), ``<AWS::Region>`` where they are pseudo parameters.
    """

    def text(node: Any) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and set(node) == {"Ref"}:
            return f"<{node['Ref']}>"
        if isinstance(node, dict) and set(node) == {"Fn::Join"}:
            separator, parts = node["Fn::Join"]
            return str(separator).join(text(part) for part in parts)
        raise ValueError(f"cannot name {node!r} as cdk-nag does")

    return text(stack.resolve(value))


def _only(environment: Mapping[str, str], *, drop: frozenset[str]) -> dict[str, str]:
    """A function's own variables: every variable but those only the other function reads."""
    return {name: value for name, value in environment.items() if name not in drop}
