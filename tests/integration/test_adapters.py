"""What moto does not do: DynamoDB leaving batch items unprocessed, SQS refusing a delete; and the
exact form of a finding's state item, which the previous release wrote and the next one reads.

botocore's Stubber plays the AWS responses on a real client; our adapters run unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from responder.adapters.queues import Message, SqsQueues
from responder.adapters.state import MAX_ROUNDS, PREFIX, DynamoStateStore, sent_id
from responder.domain.settings import Band
from responder.domain.updates import FindingState

TABLE = "state"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch, aws_env):
    """Fake credentials (the Stubber answers every call) and no waiting between rounds."""
    monkeypatch.setattr("responder.adapters.state.time.sleep", lambda _seconds: None)


def dynamodb():
    return boto3.client("dynamodb", region_name="us-east-1")


def test_a_state_item_keeps_the_band_as_its_plain_word_both_ways():
    client = dynamodb()
    at = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    stored = {
        "id": {"S": PREFIX + "abc"},
        "band": {"S": "Medium"},
        "notified_at": {"S": at.isoformat()},
        "first_notified_at": {"S": at.isoformat()},
        "archived": {"BOOL": False},
        "count": {"N": "3"},
    }
    with Stubber(client) as stub:
        # Given an item as the previous release wrote it
        stub.add_response("get_item", {"Item": stored}, {"TableName": TABLE, "Key": ANY, "ConsistentRead": True})
        # and the item this release must write for the same state: the band as the same word
        stub.add_response("put_item", {}, {"TableName": TABLE, "Item": {**stored, "expiration": ANY}})
        store = DynamoStateStore(TABLE, client=client)
        # When it is read and written back
        state = store.get("abc")
        assert state == FindingState(band=Band.MEDIUM, notified_at=at, first_notified_at=at, count=3, archived=False)
        store.put("abc", state)
        # Then both calls matched exactly
        stub.assert_no_pending_responses()


def test_unprocessed_keys_are_asked_for_again():
    client = dynamodb()
    a, b = sent_id("ses", "a@1"), sent_id("ses", "b@1")
    with Stubber(client) as stub:
        stub.add_response(
            "batch_get_item",
            {
                "Responses": {TABLE: [{"id": {"S": a}}]},
                "UnprocessedKeys": {TABLE: {"Keys": [{"id": {"S": b}}], "ConsistentRead": True}},
            },
            {"RequestItems": ANY},
        )
        stub.add_response("batch_get_item", {"Responses": {TABLE: [{"id": {"S": b}}]}}, {"RequestItems": ANY})
        assert DynamoStateStore(TABLE, client=client).delivered("ses", ["a@1", "b@1", "c@1"]) == {"a@1", "b@1"}
        stub.assert_no_pending_responses()


def test_keys_left_unprocessed_after_every_round_raise_instead_of_reporting_not_delivered():
    client = dynamodb()
    left = {TABLE: {"Keys": [{"id": {"S": sent_id("ses", "a@1")}}]}}
    with Stubber(client) as stub:
        for _ in range(MAX_ROUNDS):
            stub.add_response("batch_get_item", {"Responses": {}, "UnprocessedKeys": left}, {"RequestItems": ANY})
        with pytest.raises(RuntimeError, match="unread"):
            DynamoStateStore(TABLE, client=client).delivered("ses", ["a@1"])


def test_unprocessed_writes_are_retried_then_raise():
    client = dynamodb()
    item = {"PutRequest": {"Item": {"id": {"S": sent_id("sns", "a@1")}, "expiration": {"N": "1"}}}}
    with Stubber(client) as stub:
        stub.add_response("batch_write_item", {"UnprocessedItems": {TABLE: [item]}}, {"RequestItems": ANY})
        stub.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": ANY})
        DynamoStateStore(TABLE, client=client).mark_delivered("sns", ["a@1"])
        stub.assert_no_pending_responses()
    with Stubber(client) as stub:
        for _ in range(MAX_ROUNDS):
            stub.add_response("batch_write_item", {"UnprocessedItems": {TABLE: [item]}}, {"RequestItems": ANY})
        with pytest.raises(RuntimeError, match="unwritten"):
            DynamoStateStore(TABLE, client=client).mark_delivered("sns", ["a@1"])


def test_a_refused_delete_raises_so_the_digest_run_fails_loudly():
    client = boto3.client("sqs", region_name="us-east-1")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/digest"
    with Stubber(client) as stub:
        stub.add_response(
            "delete_message_batch",
            {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError"}]},
            {"QueueUrl": url, "Entries": ANY},
        )
        with pytest.raises(RuntimeError, match="could not delete 1"):
            SqsQueues(client=client).delete(url, [Message("m1", "r1", "{}")])
