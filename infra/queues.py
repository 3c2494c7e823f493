"""Queues and state: the dead-letter queue, the immediate and digest queues, the state table."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants


class QueuesAndState:
    """Builds its resources into ``scope`` (the responder), like every part: see ``infra.responder``."""

    def __init__(self, scope: Construct) -> None:
        self.dead_letter_queue = dead_letter_queue(
            scope,
            sources="the rule targets, the functions' asynchronous invocations, the immediate and digest queues "
            "and the SNS subscriptions",
            watch="alarmed",
        )
        self.state_table = _state_table(scope)
        self.immediate_queue, self.digest_queue = _finding_queues(scope, self.dead_letter_queue)

    def allow_sns_redrive(self, *topics: sns.ITopic) -> None:
        """SNS may deliver the failed email notifications of these topics to the dead-letter queue."""
        allow_sns_redrive(self.dead_letter_queue, *topics)


def dead_letter_queue(scope: Construct, *, sources: str, watch: str) -> sqs.Queue:
    """The stack's dead-letter queue, ``DeadLetterQueue`` (SSE, SSL only, 14 days), of the full stack
    and the forwarding stack alike; ``sources`` and ``watch`` (what alarms on its depth) complete
    the reason its own dead-letter queue is waived.
    """
    queue = sqs.Queue(
        scope,
        "DeadLetterQueue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(constants.DLQ_RETENTION_DAYS),
    )
    Validations.of(queue).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SQS3",
            reason=f"This queue is the dead-letter queue of {sources}; "
            f"a DLQ of the DLQ would only move the same messages again. Its depth is {watch}.",
        ),
        Acknowledgment(
            id="Serverless-SQSRedrivePolicy",
            reason="This queue is itself the dead-letter queue; messages stay 14 days and its depth is alarmed.",
        ),
    )
    return queue


def allow_sns_redrive(queue: sqs.IQueue, *topics: sns.ITopic) -> None:
    """SNS may deliver the failed email notifications of these topics to ``queue``."""
    arns = [topic.topic_arn for topic in topics]
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowSnsRedrive",
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            # One topic's ARN as a string, several as a list (the templates as they were).
            conditions={"ArnEquals": {"aws:SourceArn": arns[0] if len(arns) == 1 else arns}},
        )
    )


def _state_table(scope: Construct) -> dynamodb.Table:
    """Per-finding state (last email, band, count) and the idempotency records of each send."""
    return dynamodb.Table(
        scope,
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


def _finding_queues(scope: Construct, dead_letter_queue: sqs.IQueue) -> tuple[sqs.Queue, sqs.Queue]:
    """Findings to email: the immediate queue (read in batches within a minute) and the digest queue."""
    redrive = sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=constants.QUEUE_MAX_RECEIVES)
    visibility = Duration.seconds(constants.TIMEOUT_SECONDS * 6)  # AWS's advice for a Lambda event source
    immediate, digest = (
        sqs.Queue(
            scope,
            name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(constants.QUEUE_RETENTION_DAYS),
            visibility_timeout=visibility,
            dead_letter_queue=redrive,
        )
        for name in ("ImmediateQueue", "DigestQueue")
    )
    return immediate, digest
