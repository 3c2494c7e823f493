"""Adapter: per-finding state in DynamoDB (the table the stack creates, with TTL).

The table also holds small cache items other adapters share across cold starts (the account
directory's ``org#`` items): an opaque value and the time it expires. DynamoDB deletes an
expired item only eventually (typically within days), so the reader compares the expiration
itself.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple, Protocol

from responder.adapters.aws import make_client
from responder.domain.settings import Band
from responder.domain.updates import FindingState

RETENTION: Final = timedelta(days=90)  # GuardDuty keeps findings 90 days; so do we
PREFIX: Final = "finding#"  # items share the table with Powertools' idempotency records
SENT_PREFIX: Final = "sent#"  # "this finding occurrence reached this channel"
SENT_RETENTION: Final = timedelta(hours=48)  # longer than any queue retry of the same message
GET_BATCH: Final = 100  # BatchGetItem limit
WRITE_BATCH: Final = 25  # BatchWriteItem limit
MAX_ROUNDS: Final = 5  # BatchGetItem/BatchWriteItem may leave items unprocessed under load


class StateStore(Protocol):
    def get(self, finding_id: str) -> FindingState | None: ...

    def put(self, finding_id: str, state: FindingState) -> None: ...

    def delivered(self, channel: str, keys: Iterable[str]) -> set[str]: ...

    def mark_delivered(self, channel: str, keys: Iterable[str]) -> None: ...

    def cached(self, item_id: str) -> Cached | None: ...

    def cache(self, item_id: str, value: bytes, *, expiration: int) -> None: ...


class Cached(NamedTuple):
    """A cache item as stored: the value, and when it expires (epoch seconds, the TTL attribute)."""

    value: bytes
    expiration: int


class NoState:
    """Without a state table: every finding is new, nothing is remembered or marked delivered."""

    def get(self, finding_id: str) -> FindingState | None:
        return None

    def put(self, finding_id: str, state: FindingState) -> None:
        return None

    def delivered(self, channel: str, keys: Iterable[str]) -> set[str]:
        return set()

    def mark_delivered(self, channel: str, keys: Iterable[str]) -> None:
        return None

    def cached(self, item_id: str) -> Cached | None:
        return None

    def cache(self, item_id: str, value: bytes, *, expiration: int) -> None:
        return None


NO_STATE: Final[StateStore] = NoState()


def state_store(table: str | None) -> StateStore:
    """The state table's store, or, without a table, the store that remembers nothing."""
    return DynamoStateStore(table) if table else NO_STATE


def sent_id(channel: str, key: str) -> str:
    """Fixed-length item id: finding ids come from the event and could be of any length."""
    return SENT_PREFIX + hashlib.sha256(f"{channel}\n{key}".encode()).hexdigest()


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
            band=Band(item["band"]["S"]),  # ValueError for a band we never wrote: the table is not ours
            notified_at=datetime.fromisoformat(item["notified_at"]["S"]),
            first_notified_at=datetime.fromisoformat(item["first_notified_at"]["S"]),
            count=int(item["count"]["N"]) if "count" in item else None,
            archived=item.get("archived", {}).get("BOOL", False),
        )

    def put(self, finding_id: str, state: FindingState) -> None:
        item: dict[str, Any] = {
            "id": {"S": PREFIX + finding_id},
            "band": {"S": state.band.value},
            "notified_at": {"S": state.notified_at.isoformat()},
            "first_notified_at": {"S": state.first_notified_at.isoformat()},
            "archived": {"BOOL": state.archived},
            "expiration": {"N": str(int((datetime.now(UTC) + RETENTION).timestamp()))},
        }
        if state.count is not None:
            item["count"] = {"N": str(state.count)}
        self.client.put_item(TableName=self.table, Item=item)

    def delivered(self, channel: str, keys: Iterable[str]) -> set[str]:
        """Which of these finding occurrences this channel already delivered."""
        by_id = {sent_id(channel, key): key for key in keys}
        found: set[str] = set()
        ids = list(by_id)
        for start in range(0, len(ids), GET_BATCH):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"id": {"S": item_id}} for item_id in ids[start : start + GET_BATCH]],
                    "ConsistentRead": True,
                    "ProjectionExpression": "id",
                }
            }
            for _round in range(MAX_ROUNDS):
                response = self.client.batch_get_item(RequestItems=request)
                found |= {by_id[item["id"]["S"]] for item in response.get("Responses", {}).get(self.table, [])}
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**_round)  # back off before asking for the rest
            else:
                raise RuntimeError("DynamoDB left delivery markers unread after retries")
        return found

    def mark_delivered(self, channel: str, keys: Iterable[str]) -> None:
        expiration = str(int((datetime.now(UTC) + SENT_RETENTION).timestamp()))
        ids = sorted({sent_id(channel, key) for key in keys})
        for start in range(0, len(ids), WRITE_BATCH):
            request: dict[str, Any] = {
                self.table: [
                    {"PutRequest": {"Item": {"id": {"S": item_id}, "expiration": {"N": expiration}}}}
                    for item_id in ids[start : start + WRITE_BATCH]
                ]
            }
            for _round in range(MAX_ROUNDS):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**_round)
            else:
                raise RuntimeError("DynamoDB left delivery markers unwritten after retries")

    def cached(self, item_id: str) -> Cached | None:
        """The cache item ``item_id`` whatever its expiration (the caller judges it), or None."""
        # Eventually consistent: half the read cost, and a cache may be a moment stale.
        item = self.client.get_item(TableName=self.table, Key={"id": {"S": item_id}}).get("Item")
        if not item or "value" not in item or "expiration" not in item:
            return None
        return Cached(bytes(item["value"]["B"]), int(item["expiration"]["N"]))

    def cache(self, item_id: str, value: bytes, *, expiration: int) -> None:
        """Store a cache item; DynamoDB's TTL removes it some time after ``expiration``."""
        item = {"id": {"S": item_id}, "value": {"B": value}, "expiration": {"N": str(expiration)}}
        self.client.put_item(TableName=self.table, Item=item)
