"""The GuardDuty Responder stack: it only composes resources, each built by a ``_build_*`` helper.

Everything users tune is a CloudFormation parameter (``cdk deploy --parameters ...``), so a
bad value fails the deploy with CloudFormation's message instead of breaking the function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Aws,
    BundlingOptions,
    CfnCondition,
    CfnOutput,
    CfnParameter,
    CfnRule,
    CfnRuleAssertion,
    DockerImage,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.asset import LocalBundling

ROOT = Path(__file__).resolve().parents[1]
# What Powertools idempotency and the finding state do with single items of the state table.
TABLE_ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"


class GuardDutyResponderStack(Stack):
    """EventBridge rule -> triage Lambda -> SQS (immediate | digest) -> notifier Lambda -> SNS and/or SES."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._build_parameters()
        self._build_conditions()
        self._build_parameter_rules()
        self.key = self._build_key()
        self.alarm_key = self._build_alarm_key()
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.topic = self._build_alert_topic()
        self.alarm_topic = self._build_alarm_topic()
        self._allow_sns_redrive(self.topic, self.alarm_topic)
        self.configuration_set = self._build_ses()
        self.state_table = self._build_state_table()
        self.immediate_queue, self.digest_queue = self._build_queues()
        self.code = self._build_code()
        self.function = self._build_triage_function()
        self.notifier = self._build_notifier_function()
        self.rule = self._build_rule()
        self.digest_rule = self._build_digest_schedule()
        self._build_alarms()
        self._build_outputs()

    # --- parameters -------------------------------------------------------------

    def _build_parameters(self) -> None:
        self.threshold = CfnParameter(
            self,
            "NotifyThreshold",
            type="Number",
            default="4.0",
            allowed_values=list(constants.THRESHOLD_VALUES),
            description="Findings with a lower severity are not emailed (the rule filters them out). "
            "4.0 = Medium and above, 7.0 = High and above, 9.0 = Critical only.",
        )
        self.band_medium = self._score("BandMediumMin", "4.0", 1.0, 5.9, "Lowest severity of the Medium band.")
        self.band_high = self._score("BandHighMin", "7.0", 6.0, 8.4, "Lowest severity of the High band.")
        self.band_critical = self._score("BandCriticalMin", "9.0", 8.5, 10.0, "Lowest severity of the Critical band.")
        self.channels = self._choice(
            "Channels",
            "sns",
            ["sns", "ses", "sns,ses"],
            "sns: plain-text email through the SNS topic; ses: HTML and text email through "
            "Amazon SES (needs SenderAddress); sns,ses: both.",
        )
        self.recipients = CfnParameter(
            self,
            "Recipients",
            type="CommaDelimitedList",
            allowed_pattern=f"^{EMAIL_PATTERN}$",
            constraint_description="a comma-separated list of email addresses",
            description=f"Who receives the alerts. With sns, the first {constants.MAX_SNS_SUBSCRIPTIONS} "
            "get an SNS email subscription (each must confirm it); with ses, all of them.",
        )
        self.sender = self._optional(
            "SenderAddress",
            EMAIL_PATTERN,
            "one email address",
            "SES sender (From) address; its address or domain must be verified in SES.",
        )
        self.ses_rate = CfnParameter(
            self,
            "SesMaxSendRate",
            type="Number",
            default="1",
            min_value=1,
            max_value=10000,
            description="Your account's SES maximum send rate, in messages per second (SES console, "
            "Account dashboard; the sandbox allows 1). The notifier paces its SES emails to it.",
        )
        self.create_identity = self._choice(
            "CreateSenderIdentity",
            "no",
            ["yes", "no"],
            "yes: create the SES email identity for SenderAddress (SES then emails a verification link to it).",
        )
        self.configuration_set_name = self._optional(
            "SesConfigurationSet",
            "[A-Za-z0-9_-]{1,64}",
            "an SES configuration set name",
            "Existing SES configuration set to send with; empty uses the one this stack "
            "creates (TLS required, no open or click tracking).",
        )
        self.include_samples = self._choice(
            "IncludeSampleFindings", "true", ["true", "false"], "Email GuardDuty sample findings (marked [SAMPLE])."
        )
        self.language = self._choice(
            "Language", "en", ["en", "ja"], "Email language: en (English) or ja (Japanese, 日本語)."
        )
        self.time_zone = self._optional(
            "DisplayTimeZone",
            "[A-Za-z][A-Za-z0-9_+-]{0,30}(/[A-Za-z0-9_+-]{1,30}){0,2}",
            "an IANA time zone such as Asia/Tokyo",
            "Time zone shown next to UTC for the timestamps in emails (IANA name, e.g. Asia/Tokyo); "
            "empty: Asia/Tokyo (JST) for ja, UTC only for en.",
        )
        self.suppress_types = CfnParameter(
            self,
            "SuppressFindingTypes",
            type="CommaDelimitedList",
            default="",
            allowed_pattern="^$|^[A-Za-z0-9:/._!&*?-]{1,120}$",
            constraint_description="finding types or glob patterns such as Recon:EC2/PortProbe*",
            description="Finding types not to email, as glob patterns (e.g. Recon:EC2/PortProbe*). Each "
            "suppressed finding is logged with the rule and counted.",
        )
        self.suppress_accounts = CfnParameter(
            self,
            "SuppressAccounts",
            type="CommaDelimitedList",
            default="",
            allowed_pattern=r"^$|^\d{12}$",
            constraint_description="12-digit account ids",
            description="Account ids whose findings are not emailed (logged and counted).",
        )
        self.suppress_tag = self._optional(
            "SuppressTag",
            "[^=,]{1,128}=[^,]{0,256}",
            "key=value",
            "Resource tag (key=value) that silences findings on the resources carrying it.",
        )
        self.renotify_hours = CfnParameter(
            self,
            "RenotifyHours",
            type="Number",
            default="24",
            min_value=0,
            max_value=8760,
            description="An update of a finding already emailed is emailed again when its band rises, or "
            "when this many hours have passed since the last email about it (0 = never).",
        )
        self.immediate_band = self._choice(
            "ImmediateBand",
            "High",
            ["Low", "Medium", "High", "Critical"],
            "Findings in this band and above are emailed within about a minute (several arriving "
            "together are grouped); lower ones go into the periodic digest.",
        )
        self.digest_minutes = CfnParameter(
            self,
            "DigestMinutes",
            type="Number",
            default="60",
            min_value=5,
            max_value=1440,
            description="Minutes between digest emails of the findings below ImmediateBand (5 to 1440); "
            "no email when there is nothing new.",
        )
        self.alarm_email = self._optional(
            "AlarmEmail",
            EMAIL_PATTERN,
            "one email address",
            "Operator address subscribed to the alarm topic (dead-letter queue, errors, throttles).",
        )

    def _choice(self, name: str, default: str, values: list[str], text: str) -> CfnParameter:
        return CfnParameter(self, name, type="String", default=default, allowed_values=values, description=text)

    def _optional(self, name: str, pattern: str, what: str, text: str) -> CfnParameter:
        """A string parameter that is empty by default or matches ``pattern``."""
        return CfnParameter(
            self,
            name,
            type="String",
            default="",
            allowed_pattern=f"^$|^{pattern}$",
            constraint_description=f"empty, or {what}",
            description=text,
        )

    def _score(self, name: str, default: str, low: float, high: float, text: str) -> CfnParameter:
        return CfnParameter(
            self,
            name,
            type="Number",
            default=default,
            min_value=low,
            max_value=high,
            description=f"{text} From {low} to {high}; the ranges keep the bands in order.",
        )

    def _build_conditions(self) -> None:
        channels = self.channels.value_as_string
        self.uses_sns = CfnCondition(
            self,
            "UsesSns",
            expression=Fn.condition_or(Fn.condition_equals(channels, "sns"), Fn.condition_equals(channels, "sns,ses")),
        )
        self.uses_ses = CfnCondition(
            self,
            "UsesSes",
            expression=Fn.condition_or(Fn.condition_equals(channels, "ses"), Fn.condition_equals(channels, "sns,ses")),
        )
        self.creates_identity = CfnCondition(
            self, "CreatesSenderIdentity", expression=Fn.condition_equals(self.create_identity.value_as_string, "yes")
        )
        self.own_configuration_set = CfnCondition(
            self, "UsesOwnConfigurationSet", expression=Fn.condition_equals(self.configuration_set_name, "")
        )
        self.has_alarm_email = CfnCondition(
            self, "HasAlarmEmail", expression=Fn.condition_not(Fn.condition_equals(self.alarm_email, ""))
        )
        self.threshold_is = {
            value: CfnCondition(
                self,
                f"ThresholdIs{value.replace('.', '')}",
                expression=Fn.condition_equals(self.threshold.value_as_string, value),
            )
            for value in constants.THRESHOLD_VALUES[1:]  # the lowest value is the fallback
        }

    def _build_parameter_rules(self) -> None:
        """Cross-parameter checks CloudFormation runs before creating anything."""
        sender_given = Fn.condition_not(Fn.condition_equals(self.sender.value_as_string, ""))
        CfnRule(
            self,
            "SesNeedsSender",
            rule_condition=Fn.condition_contains(["ses", "sns,ses"], self.channels.value_as_string),
            assertions=[
                CfnRuleAssertion(assert_=sender_given, assert_description="Channels includes ses: set SenderAddress.")
            ],
        )
        CfnRule(
            self,
            "IdentityNeedsSender",
            rule_condition=Fn.condition_equals(self.create_identity.value_as_string, "yes"),
            assertions=[
                CfnRuleAssertion(
                    assert_=sender_given, assert_description="CreateSenderIdentity is yes: set SenderAddress."
                )
            ],
        )

    # --- encryption, queue and topics ---------------------------------------------

    def _build_key(self) -> kms.Key:
        """The key of the alert topic, which carries finding data: only the notifier's role uses it."""
        return kms.Key(
            self,
            "TopicKey",
            description="GuardDuty Responder: encrypts the alert SNS topic (finding data)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _build_alarm_key(self) -> kms.Key:
        """The alarm topic's own key, so that a disabled or broken finding-data key cannot also silence
        the alarms that would report it. Alarm messages carry alarm names and metrics, no finding data.
        """
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="GuardDuty Responder: encrypts the alarm SNS topic (alarm names and states only)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch alarms publish to the encrypted alarm topic; an AWS-managed key cannot allow this.
        # The key is created before the alarms, so their ARNs cannot be named here (a dependency
        # cycle); the topic policy names them.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToUseTheKey",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        return key

    def _build_dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(constants.DLQ_RETENTION_DAYS),
        )
        Validations.of(queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is the dead-letter queue of the rule targets, the functions' "
                "asynchronous invocations, the immediate and digest queues and the SNS subscriptions; "
                "a DLQ of the DLQ would only move the same messages again. Its depth is alarmed.",
            ),
            Acknowledgment(
                id="Serverless-SQSRedrivePolicy",
                reason="This queue is itself the dead-letter queue; messages stay 14 days and its depth is alarmed.",
            ),
        )
        return queue

    def _encrypted_topic(self, construct_id: str, display_name: str, key: kms.Key) -> sns.Topic:
        return sns.Topic(self, construct_id, display_name=display_name, master_key=key, enforce_ssl=True)

    def _allow_sns_redrive(self, *topics: sns.Topic) -> None:
        """SNS may deliver the failed email notifications of these topics to the dead-letter queue."""
        self.dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSnsRedrive",
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": [topic.topic_arn for topic in topics]}},
            )
        )

    def _build_alert_topic(self) -> sns.Topic:
        topic = self._encrypted_topic("AlertTopic", "GuardDuty findings", self.key)
        # One email subscription per recipient, up to MAX_SNS_SUBSCRIPTIONS: the list is padded
        # with empty entries so Fn::Select never runs past its end.
        padded = Fn.split(
            ",", Fn.join("", [Fn.join(",", self.recipients.value_as_list), "," * constants.MAX_SNS_SUBSCRIPTIONS])
        )
        for index in range(constants.MAX_SNS_SUBSCRIPTIONS):
            address = Fn.select(index, padded)
            has_address = CfnCondition(
                self,
                f"SubscribesRecipient{index + 1}",
                expression=Fn.condition_and(self.uses_sns, Fn.condition_not(Fn.condition_equals(address, ""))),
            )
            subscription = sns.CfnSubscription(
                self,
                f"RecipientSubscription{index + 1}",
                topic_arn=topic.topic_arn,
                protocol="email",
                endpoint=address,
                redrive_policy={"deadLetterTargetArn": self.dead_letter_queue.queue_arn},
            )
            subscription.cfn_options.condition = has_address
        return topic

    def _build_alarm_topic(self) -> sns.Topic:
        topic = self._encrypted_topic("AlarmTopic", "GuardDuty Responder alarms", self.alarm_key)
        subscription = sns.CfnSubscription(
            self,
            "AlarmSubscription",
            topic_arn=topic.topic_arn,
            protocol="email",
            endpoint=self.alarm_email.value_as_string,
            redrive_policy={"deadLetterTargetArn": self.dead_letter_queue.queue_arn},
        )
        subscription.cfn_options.condition = self.has_alarm_email
        return topic

    # --- SES ------------------------------------------------------------------------

    def _build_ses(self) -> ses.CfnConfigurationSet:
        configuration_set = ses.CfnConfigurationSet(
            self,
            "ConfigurationSet",
            # TLS required; no TrackingOptions and no event destination, so links are never rewritten.
            delivery_options=ses.CfnConfigurationSet.DeliveryOptionsProperty(tls_policy="REQUIRE"),
        )
        identity = ses.CfnEmailIdentity(
            self,
            "SenderIdentity",
            email_identity=self.sender.value_as_string,
            configuration_set_attributes=ses.CfnEmailIdentity.ConfigurationSetAttributesProperty(
                configuration_set_name=configuration_set.ref
            ),
        )
        identity.cfn_options.condition = self.creates_identity
        return configuration_set

    def _configuration_set_in_use(self) -> str:
        return Fn.condition_if(
            self.own_configuration_set.logical_id,
            self.configuration_set.ref,
            self.configuration_set_name.value_as_string,
        ).to_string()

    # --- state ------------------------------------------------------------------------

    def _build_state_table(self) -> dynamodb.Table:
        """Per-finding state (last email, band, count) and the idempotency records of each send."""
        return dynamodb.Table(
            self,
            "StateTable",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute="expiration",
            # Nothing here outlives 90 days anyway (TTL); tearing the stack down removes it.
            removal_policy=RemovalPolicy.DESTROY,
        )

    # --- queues -------------------------------------------------------------------------

    def _build_queues(self) -> tuple[sqs.Queue, sqs.Queue]:
        """Findings to email: the immediate queue (read in batches within a minute) and the digest queue."""
        redrive = sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=constants.QUEUE_MAX_RECEIVES)
        visibility = Duration.seconds(constants.TIMEOUT_SECONDS * 6)  # AWS's advice for a Lambda event source
        queues = tuple(
            sqs.Queue(
                self,
                name,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(constants.QUEUE_RETENTION_DAYS),
                visibility_timeout=visibility,
                dead_letter_queue=redrive,
            )
            for name in ("ImmediateQueue", "DigestQueue")
        )
        return queues[0], queues[1]

    # --- functions ----------------------------------------------------------------------

    def _build_code(self) -> lambda_.Code:
        """One asset for both functions, built without Docker."""
        return lambda_.Code.from_asset(
            str(ROOT / "lambdas"),
            bundling=BundlingOptions(
                image=DockerImage.from_registry("unused-local-bundling-only"), local=LocalBundling()
            ),
        )

    def _environment(self) -> dict[str, str]:
        """Both functions read the same validated settings (responder/settings.py)."""
        return {
            "CHANNELS": self.channels.value_as_string,
            "TOPIC_ARN": self.topic.topic_arn,
            "SES_SENDER": self.sender.value_as_string,
            "SES_RECIPIENTS": Fn.join(",", self.recipients.value_as_list),
            "SES_CONFIGURATION_SET": self._configuration_set_in_use(),
            "SES_MAX_SEND_RATE": self.ses_rate.value_as_string,
            "NOTIFY_THRESHOLD": self.threshold.value_as_string,
            "BAND_MEDIUM_MIN": self.band_medium.value_as_string,
            "BAND_HIGH_MIN": self.band_high.value_as_string,
            "BAND_CRITICAL_MIN": self.band_critical.value_as_string,
            "INCLUDE_SAMPLES": self.include_samples.value_as_string,
            "LANGUAGE": self.language.value_as_string,
            "DISPLAY_TIMEZONE": self.time_zone.value_as_string,
            "SUPPRESS_FINDING_TYPES": Fn.join(",", self.suppress_types.value_as_list),
            "SUPPRESS_ACCOUNTS": Fn.join(",", self.suppress_accounts.value_as_list),
            "SUPPRESS_TAG": self.suppress_tag.value_as_string,
            "STATE_TABLE": self.state_table.table_name,
            "RENOTIFY_HOURS": self.renotify_hours.value_as_string,
            "IMMEDIATE_BAND": self.immediate_band.value_as_string,
            "IMMEDIATE_QUEUE_URL": self.immediate_queue.queue_url,
            "DIGEST_QUEUE_URL": self.digest_queue.queue_url,
            "DIGEST_MINUTES": self.digest_minutes.value_as_string,
            "POWERTOOLS_SERVICE_NAME": constants.SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
        }

    def _function(
        self, name: str, *, description: str, handler: str, reserved: int, role_description: str
    ) -> tuple[lambda_.Function, iam.Role]:
        """A function with its own log group and its own role (logs of that group only)."""
        log_group = logs.LogGroup(
            self, f"{name}Logs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN
        )
        role = iam.Role(
            self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=role_description
        )
        # Instead of the AWS managed AWSLambdaBasicExecutionRole: only this function's log group.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        function = lambda_.Function(
            self,
            name,
            description=description,
            runtime=lambda_.Runtime.PYTHON_3_13,  # constants.PYTHON_VERSION: the wheels are built for it
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=self.code,
            memory_size=constants.MEMORY_MB,
            timeout=Duration.seconds(constants.TIMEOUT_SECONDS),
            reserved_concurrent_executions=reserved,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            role=role,
            retry_attempts=constants.ASYNC_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(constants.ASYNC_MAX_EVENT_AGE_HOURS),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
            environment=self._environment(),
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

    def _build_triage_function(self) -> lambda_.Function:
        function, _role = self._function(
            "Function",
            description="GuardDuty Responder triage: classifies each finding, decides, queues it to email",
            handler="responder.handler.lambda_handler",
            reserved=constants.TRIAGE_CONCURRENCY,
            role_description="GuardDuty Responder triage: write its logs, read and write finding state, queue findings",
        )
        # Finding state and the idempotency records of queueing.
        self.state_table.grant(function, *TABLE_ITEM_ACTIONS)
        self.immediate_queue.grant_send_messages(function)
        self.digest_queue.grant_send_messages(function)
        return function

    def _build_notifier_function(self) -> lambda_.Function:
        function, role = self._function(
            "Notifier",
            description="GuardDuty Responder notifier: emails queued findings (grouped in a storm) and the digest",
            handler="responder.handler.notify_handler",
            reserved=constants.NOTIFIER_CONCURRENCY,
            role_description="GuardDuty Responder notifier: write logs, read its queues, publish alerts, send SES mail",
        )
        # Idempotency records of each send, and the delivered-markers of each finding (read and written in batches).
        self.state_table.grant(function, *TABLE_ITEM_ACTIONS, "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem")
        function.add_event_source(
            event_sources.SqsEventSource(
                self.immediate_queue,
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
        self.digest_queue.grant_consume_messages(function)
        # Publish to this topic only, with this key only (what SNS needs to encrypt the message).
        role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn]))
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )
        # In the SES sandbox SES also authorises each send against every recipient's identity, so
        # naming only the sender's identities refuses every send there: any identity of this
        # account, but only with the configured sender as From address.
        ses_policy = iam.Policy(
            self,
            "SesSendPolicy",
            statements=[
                iam.PolicyStatement(
                    sid="SendOnlyAsTheConfiguredSender",
                    actions=["ses:SendEmail"],  # SES v2 SendEmail, Raw content included (channels/ses.py)
                    resources=[self._ses_arn("identity/*")],
                    conditions={"StringEquals": {"ses:FromAddress": self.sender.value_as_string}},
                ),
                iam.PolicyStatement(
                    sid="SendWithTheConfigurationSet",
                    actions=["ses:SendEmail"],
                    resources=[self._ses_arn(Fn.join("", ["configuration-set/", self._configuration_set_in_use()]))],
                ),
            ],
        )
        Validations.of(ses_policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
                reason="In the SES sandbox every recipient's identity is authorised too; the statement is "
                "limited to the configured sender by the ses:FromAddress condition.",
            )
        )
        ses_policy.attach_to_role(role)
        # Only with the SES channel (whose sender CloudFormation has checked): no SES rights otherwise.
        assert isinstance(ses_policy.node.default_child, iam.CfnPolicy)  # noqa: S101 (construct shape)
        ses_policy.node.default_child.cfn_options.condition = self.uses_ses
        return function

    def _ses_arn(self, resource: str) -> str:
        return self.format_arn(service="ses", resource=resource)

    # --- rule ---------------------------------------------------------------------------

    def _severity_floor(self) -> Any:
        """The threshold as a literal JSON number, chosen by condition.

        ``Ref`` to a Number parameter resolves to a string, and EventBridge rejects a string
        inside ``numeric``; nested ``Fn::If`` over literal numbers is exact either way.
        """
        floor: Any = float(constants.THRESHOLD_VALUES[0])
        for value in constants.THRESHOLD_VALUES[1:]:
            floor = Fn.condition_if(self.threshold_is[value].logical_id, float(value), floor)
        return floor

    def _build_rule(self) -> events.Rule:
        rule = events.Rule(
            self,
            "FindingsRule",
            description="GuardDuty findings at or above the notification threshold -> GuardDuty Responder",
            event_pattern=events.EventPattern(source=["aws.guardduty"], detail_type=["GuardDuty Finding"]),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.function,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=constants.RULE_RETRY_ATTEMPTS,
                max_event_age=Duration.hours(constants.RULE_MAX_EVENT_AGE_HOURS),
            )
        )
        cfn_rule = rule.node.default_child
        assert isinstance(cfn_rule, events.CfnRule)  # noqa: S101 (construct shape)
        cfn_rule.add_property_override(
            "EventPattern.detail", {"severity": [{"numeric": [">=", self._severity_floor()]}]}
        )
        return rule

    def _build_digest_schedule(self) -> events.Rule:
        rule = events.Rule(
            self,
            "DigestSchedule",
            description="GuardDuty Responder: email the digest of the findings below ImmediateBand",
            schedule=events.Schedule.expression(
                Fn.join("", ["rate(", self.digest_minutes.value_as_string, " minutes)"])
            ),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.notifier,
                event=events.RuleTargetInput.from_object({"source": "aws.events", "detail-type": "Scheduled Event"}),
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=constants.RULE_RETRY_ATTEMPTS,
                max_event_age=Duration.hours(constants.RULE_MAX_EVENT_AGE_HOURS),
            )
        )
        return rule

    # --- alarms and outputs ------------------------------------------------------------------

    def _build_alarms(self) -> None:
        period = Duration.minutes(constants.ALARM_PERIOD_MINUTES)
        rule_metric = {"namespace": "AWS/Events", "dimensions_map": {"RuleName": self.rule.rule_name}, "period": period}
        metrics: dict[str, tuple[Any, ...]] = {
            "DeadLetterQueueNotEmpty": (
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=period, statistic="Maximum"
                ),
                "Events or emails the responder could not handle are waiting in the dead-letter queue.",
            ),
            "FunctionErrors": (
                self.function.metric_errors(period=period, statistic="Sum"),
                "The triage function failed (a malformed event, or the state table or a queue refused); see its logs.",
            ),
            "FunctionThrottles": (
                self.function.metric_throttles(period=period, statistic="Sum"),
                "The triage function was throttled (a finding storm); events wait and are retried.",
            ),
            "NotifierErrors": (
                self.notifier.metric_errors(period=period, statistic="Sum"),
                "The notifier failed (SES or SNS refused an email, or a digest could not be sent); "
                "the findings stay queued and are retried; see its logs.",
            ),
            "ImmediateQueueDelayed": (
                self.immediate_queue.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"),
                "A finding to email at once has waited 5 minutes or more in the immediate queue.",
                constants.IMMEDIATE_QUEUE_DELAYED_SECONDS,
            ),
            "DigestScheduleFailedInvocations": (
                cloudwatch.Metric(
                    namespace="AWS/Events",
                    metric_name="FailedInvocations",
                    statistic="Sum",
                    dimensions_map={"RuleName": self.digest_rule.rule_name},
                    period=period,
                ),
                "EventBridge could not start the digest run.",
            ),
            "RuleFailedInvocations": (
                cloudwatch.Metric(metric_name="FailedInvocations", statistic="Sum", **rule_metric),
                "EventBridge could not hand findings to the function.",
            ),
            "RuleDeadLetterInvocations": (
                cloudwatch.Metric(metric_name="InvocationsSentToDlq", statistic="Sum", **rule_metric),
                "EventBridge gave up on findings and sent them to the dead-letter queue.",
            ),
        }
        alarm_arns = [self._alarm(name, *spec).alarm_arn for name, spec in metrics.items()]
        # One alarm per channel in use on the notifier's DeliveryFailures metric: partial batch
        # failures are retried without failing the invocation, so NotifierErrors stays silent while
        # an SES identity or a KMS grant is broken.
        channels = {
            "sns": (self.uses_sns, "SNS refused the publish: the alert topic's KMS key disabled or not granted"),
            "ses": (
                self.uses_ses,
                "SES refused the send: an unverified sender, or a recipient not verified in the sandbox",
            ),
        }
        for channel, (condition, cause) in channels.items():
            metric = cloudwatch.Metric(
                namespace=constants.METRICS_NAMESPACE,
                metric_name="DeliveryFailures",
                dimensions_map={"Channel": channel, "service": constants.SERVICE},
                statistic="Sum",
                period=period,
            )
            alarm = self._alarm(
                f"{channel.capitalize()}DeliveryFailures",
                metric,
                f"An email could not be sent ({cause}, or throttling beyond the retries); the findings stay "
                "queued and are retried; see the notifier's logs.",
            )
            cfn_alarm = alarm.node.default_child
            assert isinstance(cfn_alarm, cloudwatch.CfnAlarm)  # noqa: S101 (construct shape)
            cfn_alarm.cfn_options.condition = condition
            alarm_arns.append(Fn.condition_if(condition.logical_id, alarm.alarm_arn, Aws.NO_VALUE).to_string())
        self._allow_cloudwatch_to_publish(alarm_arns)

    def _alarm(self, name: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> cloudwatch.Alarm:
        """An alarm on one period at or above ``threshold``, notifying the alarm topic; no data is not a breach."""
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
        return alarm

    def _allow_cloudwatch_to_publish(self, alarm_arns: list[str]) -> None:
        """A topic policy replaces SNS's default one, which let the account's services publish: without
        this statement every alarm action fails ("not authorized to perform SNS:Publish") unseen.
        Only this stack's alarms, named by ARN (the topic policy is created after them).
        """
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnEquals": {"aws:SourceArn": alarm_arns},
                },
            )
        )

    def _build_outputs(self) -> None:
        outputs = {
            "AlertTopicArn": (self.topic.topic_arn, "SNS topic the alerts are published to"),
            "AlarmTopicArn": (self.alarm_topic.topic_arn, "SNS topic the operational alarms go to"),
            "FunctionName": (self.function.function_name, "The triage Lambda function"),
            "NotifierName": (self.notifier.function_name, "The notifier Lambda function (sends the emails)"),
            "ImmediateQueueUrl": (self.immediate_queue.queue_url, "Findings waiting to be emailed at once"),
            "DigestQueueUrl": (self.digest_queue.queue_url, "Findings waiting for the next digest"),
            "DeadLetterQueueUrl": (self.dead_letter_queue.queue_url, "Events and emails that could not be handled"),
            "RuleName": (self.rule.rule_name, "EventBridge rule on GuardDuty findings"),
        }
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
