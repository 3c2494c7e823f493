"""Alerting: the alert and alarm topics with their keys and email subscriptions, the route topic and
the routes parameter (routing to owners), and SES's configuration set and optional sender identity.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import constants
from infra.flags import Named, all_of, attach, choose_text, equals, is_token, named, negate
from infra.props import Values

# The forwarding stack's alarm topic has the same one: a stack converted in place keeps its topic.
ALARM_TOPIC_DISPLAY_NAME = "GuardDuty Responder alarms"


class Alerting:
    """Builds its resources into ``scope`` (the responder), like every part: see ``infra.responder``."""

    def __init__(self, scope: Construct, *, values: Values, uses_sns: Named, dead_letter_queue: sqs.IQueue) -> None:
        creates_identity = named(scope, "CreatesSenderIdentity", equals(values.text("CreateSenderIdentity"), "yes"))
        configuration_set_name = values.text("SesConfigurationSet")
        own_configuration_set = named(scope, "UsesOwnConfigurationSet", equals(configuration_set_name, ""))
        alarm_email = values.text("AlarmEmail")
        has_alarm_email = named(scope, "HasAlarmEmail", negate(equals(alarm_email, "")))
        self.has_alarm_email = has_alarm_email  # the runbooks' approval topic is subscribed with it too

        self.key = _topic_key(scope)
        self.alarm_key = _alarm_topic_key(scope)
        self.topic = encrypted_topic(scope, "AlertTopic", "GuardDuty findings", self.key)
        _subscribe_recipients(scope, self.topic, values.items("Recipients"), uses_sns, dead_letter_queue)
        self.alarm_topic = encrypted_topic(scope, "AlarmTopic", ALARM_TOPIC_DISPLAY_NAME, self.alarm_key)
        if has_alarm_email is not False:
            subscribe(
                scope,
                "AlarmSubscription",
                topic=self.alarm_topic,
                address=alarm_email,
                flag=has_alarm_email,
                dead_letter_queue=dead_letter_queue,
            )
        # Routed copies: SNS cannot address a subscription per message, so they go to a topic of their
        # own with the route's name as the `route` message attribute; owners subscribe with a filter
        # policy on it. The alert topic and its subscriptions are left as they were.
        self.route_topic = encrypted_topic(scope, "RouteTopic", "GuardDuty findings routed to owners", self.key)
        self.routes_parameter = _routes_parameter(scope)
        self.configuration_set = _configuration_set(scope)
        if creates_identity is not False:
            _sender_identity(scope, values.text("SenderAddress"), self.configuration_set, creates_identity)
        # The configuration set the functions send with: the one given, or the one built here.
        self.configuration_set_in_use = choose_text(
            own_configuration_set, self.configuration_set.ref, configuration_set_name
        )


def _topic_key(scope: Construct) -> kms.Key:
    """The key of the alert topic, which carries finding data: only the notifier's role uses it."""
    return kms.Key(
        scope,
        "TopicKey",
        description="GuardDuty Responder: encrypts the alert SNS topic (finding data)",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


def _alarm_topic_key(scope: Construct) -> kms.Key:
    """The alarm topic's own key, so that a disabled or broken finding-data key cannot also silence
    the alarms that would report it. Alarm messages carry alarm names and metrics, no finding data.
    """
    key = kms.Key(
        scope,
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


def encrypted_topic(scope: Construct, construct_id: str, display_name: str, key: kms.IKey) -> sns.Topic:
    """A topic encrypted with ``key`` that refuses plain HTTP."""
    return sns.Topic(scope, construct_id, display_name=display_name, master_key=key, enforce_ssl=True)


def _routes_parameter(scope: Construct) -> ssm.StringParameter:
    """The routes file, edited by the operator (``aws ssm put-parameter --overwrite``), read by the notifier.

    Its value and description in the template never change (a test pins them): CloudFormation
    updates a resource whose template properties changed, and would write this value over the
    operator's routes at the next deploy.
    """
    return ssm.StringParameter(
        scope,
        "RoutesParameter",
        string_value=constants.ROUTES_INITIAL_VALUE,
        description="GuardDuty Responder routes to owners (JSON, see the README); edit the value, not the stack",
        tier=ssm.ParameterTier.STANDARD,
    )


def _subscribe_recipients(
    scope: Construct, topic: sns.ITopic, recipients: list[str], uses_sns: Named, dead_letter_queue: sqs.IQueue
) -> None:
    """One email subscription per recipient, up to MAX_SNS_SUBSCRIPTIONS (the first ones)."""
    addresses = recipients
    if is_token(recipients):
        # A list known only at deploy time: padded with empty entries so Fn::Select never runs
        # past its end, and each subscription exists only where its entry is not empty.
        padded = Fn.split(",", Fn.join("", [Fn.join(",", recipients), "," * constants.MAX_SNS_SUBSCRIPTIONS]))
        addresses = [Fn.select(index, padded) for index in range(constants.MAX_SNS_SUBSCRIPTIONS)]
    for index, address in enumerate(addresses[: constants.MAX_SNS_SUBSCRIPTIONS], start=1):
        has_address = named(scope, f"SubscribesRecipient{index}", all_of(uses_sns, negate(equals(address, ""))))
        if has_address is not False:
            subscribe(
                scope,
                f"RecipientSubscription{index}",
                topic=topic,
                address=address,
                flag=has_address,
                dead_letter_queue=dead_letter_queue,
            )


def subscribe(
    scope: Construct, construct_id: str, *, topic: sns.ITopic, address: str, flag: Named, dead_letter_queue: sqs.IQueue
) -> None:
    """An email subscription whose failed deliveries are redriven to the dead-letter queue."""
    subscription = sns.CfnSubscription(
        scope,
        construct_id,
        topic_arn=topic.topic_arn,
        protocol="email",
        endpoint=address,
        redrive_policy={"deadLetterTargetArn": dead_letter_queue.queue_arn},
    )
    attach(subscription, flag)


def _configuration_set(scope: Construct) -> ses.CfnConfigurationSet:
    return ses.CfnConfigurationSet(
        scope,
        "ConfigurationSet",
        # TLS required; no TrackingOptions and no event destination, so links are never rewritten.
        delivery_options=ses.CfnConfigurationSet.DeliveryOptionsProperty(tls_policy="REQUIRE"),
    )


def _sender_identity(scope: Construct, sender: str, configuration_set: ses.CfnConfigurationSet, flag: Named) -> None:
    identity = ses.CfnEmailIdentity(
        scope,
        "SenderIdentity",
        email_identity=sender,
        configuration_set_attributes=ses.CfnEmailIdentity.ConfigurationSetAttributesProperty(
            configuration_set_name=configuration_set.ref
        ),
    )
    attach(identity, flag)
