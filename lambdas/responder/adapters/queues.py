"""Adapter: the immediate and digest queues (Amazon SQS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from responder.adapters.aws import make_client

RECEIVE_BATCH: Final = 10  # SQS returns at most 10 messages per call
DELETE_BATCH: Final = 10  # and deletes at most 10 per call


@dataclass(frozen=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1  # SQS's ApproximateReceiveCount: above 1, an earlier run kept it


class SqsQueues:
    def __init__(self, *, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client("sqs")
        return self._client

    def put(self, queue_url: str, body: str) -> str:
        return str(self.client.send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"])

    def receive(self, queue_url: str, *, limit: int, visibility_seconds: int) -> list[Message]:
        """Up to ``limit`` messages, hidden from other readers for ``visibility_seconds``."""
        received: list[Message] = []
        while len(received) < limit:
            messages = self.client.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(RECEIVE_BATCH, limit - len(received)),
                VisibilityTimeout=visibility_seconds,
                WaitTimeSeconds=0,
                AttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            if not messages:
                break
            received += [
                Message(m["MessageId"], m["ReceiptHandle"], m["Body"], _count(m.get("Attributes", {})))
                for m in messages
            ]
        return received

    def delete(self, queue_url: str, messages: list[Message]) -> None:
        for start in range(0, len(messages), DELETE_BATCH):
            chunk = messages[start : start + DELETE_BATCH]
            response = self.client.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)],
            )
            if response.get("Failed"):
                # Not deleted: the message comes back after its visibility timeout and the
                # delivered-marker check keeps it from being emailed twice.
                raise RuntimeError(f"SQS could not delete {len(response['Failed'])} digest messages")


def _count(attributes: dict[str, str]) -> int:
    """``ApproximateReceiveCount`` as a number; 1 when SQS did not say."""
    value = attributes.get("ApproximateReceiveCount", "")
    return int(value) if value.isdigit() and len(value) < 10 else 1
