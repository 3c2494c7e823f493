"""Adapter: per-finding state in DynamoDB (the table the stack creates, with TTL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from responder.channels.base import make_client
from responder.updates import FindingState

RETENTION: Final = timedelta(days=90)  # GuardDuty keeps findings 90 days; so do we
PREFIX: Final = "finding#"  # items share the table with Powertools' idempotency records


class StateStore(Protocol):
    def get(self, finding_id: str) -> FindingState | None: ...

    def put(self, finding_id: str, state: FindingState) -> None: ...


class DynamoStateStore:
    def __init__(self, table: str, *, client: Any = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client("dynamodb")
        return self._client

    def get(self, finding_id: str) -> FindingState | None:
        item = self.client.get_item(
            TableName=self.table, Key={"id": {"S": PREFIX + finding_id}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return FindingState(
            band=item["band"]["S"],
            notified_at=datetime.fromisoformat(item["notified_at"]["S"]),
            first_notified_at=datetime.fromisoformat(item["first_notified_at"]["S"]),
            count=int(item["count"]["N"]) if "count" in item else None,
            archived=item.get("archived", {}).get("BOOL", False),
        )

    def put(self, finding_id: str, state: FindingState) -> None:
        item: dict[str, Any] = {
            "id": {"S": PREFIX + finding_id},
            "band": {"S": state.band},
            "notified_at": {"S": state.notified_at.isoformat()},
            "first_notified_at": {"S": state.first_notified_at.isoformat()},
            "archived": {"BOOL": state.archived},
            "expiration": {"N": str(int((datetime.now(UTC) + RETENTION).timestamp()))},
        }
        if state.count is not None:
            item["count"] = {"N": str(state.count)}
        self.client.put_item(TableName=self.table, Item=item)
