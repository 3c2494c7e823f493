"""Per-owner digests against moto: each owner's digest holds only its own accounts, and a digest
message is deleted only when every audience got its finding."""

from __future__ import annotations

import email
from email.policy import default
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from responder.adapters.aws import client_config
from responder.adapters.channels import DeliveryError
from responder.adapters.queues import Message, SqsQueues
from tests.integration import test_routes
from tests.integration.conftest import RECIPIENTS, REGION, SCHEDULED_EVENT, depth, ses_messages, sns_messages
from tests.integration.test_handler import FakeContext
from tests.integration.test_routes import (
    PROD_A,
    PROD_B,
    SANDBOX,
    TEAM_A,
    TEAM_B,
    body,
    detail,
    mails,
    notifier,
    owner_copies,
    put_routes,
)

routed = test_routes.routed  # the fixture: the route topic, owner subscriptions and the routes file


class Recording(SqsQueues):
    """The notifier's queue adapter, remembering what it received (to end its visibility timeout)."""

    received: list[Message]

    def receive(self, *args: Any, **kwargs: Any) -> list[Message]:
        self.received = super().receive(*args, **kwargs)
        return self.received


def queue_for_digest(aws: dict[str, Any], *found: dict[str, Any]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for f in found:
        sqs.send_message(QueueUrl=aws["digest"], MessageBody=body(f))


def subjects_by_to() -> dict[frozenset[str], str]:
    return {
        frozenset(a.strip() for a in str(parsed["To"]).split(",")): str(parsed["Subject"])
        for parsed in (email.message_from_string(m.raw_data, policy=default) for m in ses_messages())
    }


def test_each_owner_gets_a_digest_of_its_own_accounts_only(routed):
    # Given Medium findings of three accounts in two OUs waiting for the digest: two Production, one Sandbox
    found = [detail(PROD_A, 1, 5.0), detail(PROD_B, 2, 5.0), detail(PROD_B, 3, 5.0), detail(SANDBOX, 4, 5.0)]
    queue_for_digest(routed, *found)
    # When the digest schedule fires
    summary = notifier(routed).handle(SCHEDULED_EVENT, FakeContext())
    # Then three digest emails: the security team's with all four, team A's with the three Production
    # findings, team B's with the Sandbox one
    ids = [f["id"] for f in found]
    by_to = {frozenset(to): files for to, files in mails()}
    assert by_to == {
        frozenset(RECIPIENTS): set(ids),
        frozenset({TEAM_A}): set(ids[:3]),
        frozenset({TEAM_B}): {ids[3]},
    }
    subjects = subjects_by_to()
    assert subjects[frozenset({TEAM_A})].startswith("[GuardDuty DIGEST] [SAMPLE] 3 findings")
    assert subjects[frozenset({TEAM_B})].startswith("[GuardDuty DIGEST] [SAMPLE] 1 finding")
    # ... each route's SNS copy holds its own findings only
    [(route, subject)] = owner_copies(routed["owner_queues"]["production"])
    assert (route, subject.startswith("[GuardDuty DIGEST] [SAMPLE] 3 findings")) == ("production", True)
    # ... and every message was deleted: every audience got every finding
    assert summary == {"findings": 4, "emails": 5}  # one per audience: 3 SES address sets, 2 route topic copies
    assert depth(routed["digest"]) == 0


def test_a_digest_message_stays_until_every_audience_got_its_finding(routed):
    # Given a Production and a Sandbox finding for the digest, and a route topic that does not exist yet
    found = [detail(PROD_A, 1, 5.0), detail(SANDBOX, 4, 5.0)]
    queue_for_digest(routed, *found)
    missing = {**routed, "route_topic_arn": routed["route_topic_arn"] + "-missing"}
    first = notifier(missing)
    first.queues = queues = Recording()
    # When the digest runs
    with pytest.raises(DeliveryError, match="digest"):
        first.handle(SCHEDULED_EVENT, FakeContext())
    # Then the emails went out, but both messages stay: each still owes its route topic copy
    assert len(mails()) == 3
    assert depth(routed["digest"]) == 2
    # When the topic exists and the next run comes, once the messages are visible again
    boto3.client("sns", region_name=REGION).create_topic(Name="guardduty-routes-missing")
    sqs = boto3.client("sqs", region_name=REGION)
    for message in queues.received:  # as their visibility timeout would end
        sqs.change_message_visibility(
            QueueUrl=routed["digest"], ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )
    notifier(missing).handle(SCHEDULED_EVENT, FakeContext())
    # Then only the route copies go out (no email twice) and the messages are deleted
    assert len(mails()) == 3
    assert len(sns_messages(routed["topic_arn"])) == 1
    assert len(sns_messages(missing["route_topic_arn"])) == 2
    assert depth(routed["digest"]) == 0


def test_an_exclusive_owners_refused_digest_reaches_the_security_team_on_the_next_run(routed):
    # Given a finding for the digest of an account routed exclusively to team A, whose SES sends are refused
    put_routes(
        {"version": 1, "routes": [{"name": "pay", "match": {"accounts": [PROD_A]}, "ses": [TEAM_A], "exclusive": True}]}
    )
    queue_for_digest(routed, detail(PROD_A, 1, 5.0))
    sender = notifier(routed)
    sender.queues = queues = Recording()
    client = boto3.client("sesv2", region_name=REGION, config=client_config())
    sender._clients["sesv2"] = client  # the routes' shared SES client (moto never refuses)
    sqs = boto3.client("sqs", region_name=REGION)
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_client_error("send_email", service_error_code="MessageRejected", http_status_code=400)
        # When the digest runs: the owner's email is refused, the security team is not involved
        with pytest.raises(DeliveryError, match="digest"):
            sender.handle(SCHEDULED_EVENT, FakeContext())
        assert mails() == [] and sns_messages(routed["topic_arn"]) == []
        # When the next run receives the message again
        for message in queues.received:  # as its visibility timeout would end
            sqs.change_message_visibility(
                QueueUrl=routed["digest"], ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
            )
        with pytest.raises(DeliveryError, match="digest"):
            sender.handle(SCHEDULED_EVENT, FakeContext())
    # Then the security team gets it on both channels, and the message stays for the owner's copy
    assert [to for to, _files in mails()] == [set(RECIPIENTS)]
    assert len(sns_messages(routed["topic_arn"])) == 1
    assert depth(routed["digest"]) == 1
