"""What Lambda's SQS event source mapping does, for the embedded AWS (which runs no Lambda).

It receives what is waiting in the queue (up to the batch size), invokes the handler with
an SQS event, deletes the messages the handler did not report as failed, and makes the
failed ones visible again, as their visibility timeout would. A message received more
often than the queue's maxReceiveCount is moved to the dead-letter queue, as SQS's redrive
policy would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.constants import QUEUE_MAX_RECEIVES  # the stack's redrive policy
from responder.adapters.queues import Message, SqsQueues


@dataclass
class Batches:
    """Counts of what the mapping did, for the demo's summary."""

    invocations: int = 0
    failed_records: int = 0
    dead_lettered: int = 0
    receives: dict[str, int] = field(default_factory=dict)


class EventSourceMapping:
    def __init__(self, queue_url: str, dlq_url: str, *, batch_size: int, region: str) -> None:
        self.sqs = boto3.client("sqs", region_name=region)
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self.batch_size = batch_size
        self.region = region
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn", "VisibilityTimeout"]
        )["Attributes"]
        self.arn = attributes["QueueArn"]
        self.visibility = int(attributes["VisibilityTimeout"])  # Lambda receives with the queue's own
        self.queues = SqsQueues(client=self.sqs)  # the product's adapter: the same receive loop
        self.stats = Batches()

    def poll(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]], context: Any) -> int:
        """One batch: invoke the handler; return the number of records it was given (0: queue empty)."""
        messages = self.queues.receive(self.queue_url, limit=self.batch_size, visibility_seconds=self.visibility)
        kept = []
        for message in messages:
            count = self.stats.receives.get(message.message_id, 0) + 1
            self.stats.receives[message.message_id] = count
            if count > QUEUE_MAX_RECEIVES:  # the redrive policy
                self.sqs.send_message(QueueUrl=self.dlq_url, MessageBody=message.body)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)
                self.stats.dead_lettered += 1
            else:
                kept.append(message)
        if not kept:
            return 0
        event = {"Records": [self._record(m) for m in kept]}
        self.stats.invocations += 1
        try:
            response = handler(event, context)
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 (a failed invocation fails the whole batch, as in Lambda)
            failed = {m.message_id for m in kept}
        self.stats.failed_records += len(failed)
        for message in kept:
            if message.message_id in failed:  # visible again at once (the visibility timeout, elapsed)
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
                )
        self.queues.delete(self.queue_url, [m for m in kept if m.message_id not in failed])
        return len(kept)

    def drain(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]], context: Any) -> None:
        """Poll until the queue is empty (a storm is handled in several batches)."""
        while self.poll(handler, context):
            pass

    def _record(self, message: Message) -> dict[str, Any]:
        return {
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": {"ApproximateReceiveCount": str(self.stats.receives[message.message_id])},
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(message.body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.arn,
            "awsRegion": self.region,
        }
