"""Account names, OUs and tags from AWS Organizations (``adapters.organizations``), on moto's
Organizations, STS and DynamoDB, and the triage function that carries them in the queue message.

moto never refuses (it checks no access) and does not throttle: refusals come from botocore's
Stubber, on a real client, so the adapter runs unchanged. Calls are counted with a botocore event
hook on the client, before moto or the Stubber answers; time is a clock the test moves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import moto.organizations.utils
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from responder.adapters.organizations import (
    ACCOUNT_ITEM,
    CACHE_FOR,
    LOOKUP_BUDGET,
    SESSION_NAME,
    UNAVAILABLE_FOR,
    Directory,
    account_item,
    client_config,
)
from responder.adapters.queues import SqsQueues
from responder.adapters.state import DynamoStateStore
from responder.app.settings import TriageSettings
from responder.app.triage import Responder
from responder.domain.accounts import Account
from responder.domain.routing import decode
from tests.conftest import minimal_event
from tests.integration.conftest import REGION, STATE_TABLE
from tests.integration.test_handler import FakeContext

PAYMENTS_PROD = "111122223333"
SANDBOX_DEV = "444455556666"
MEMBERS = [f"2000000000{n:02d}" for n in range(3)]
LAST = MEMBERS[-1]  # directly under the root
OUTSIDE = "999988887777"  # a GuardDuty member invited from outside the organisation
MANAGEMENT_ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/guardduty-responder-organizations"
QUOTED_ARN = "arn:aws:iam::999988887777:role/do-not-log-me"  # in the refusals' messages: never logged


class Clock:
    """Epoch seconds that move only when the test says so (starting now: STS's expirations are real)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Org:
    root: str
    production: str
    payments: str
    sandbox: str
    immediate: str
    digest: str


def _create_account(client: Any, monkeypatch: pytest.MonkeyPatch, account_id: str, name: str, **tags: str) -> None:
    """An account with the id we choose (moto draws them at random), and its tags."""
    monkeypatch.setattr(moto.organizations.utils, "make_random_account_id", lambda: account_id)
    tag_list = [{"Key": key.replace("_", "-"), "Value": value} for key, value in tags.items()]
    client.create_account(AccountName=name, Email=f"{name}@example.com", Tags=tag_list)


@pytest.fixture
def org(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    """Production > Payments (nested) and Sandbox, 5 member accounts, the state table and the queues."""
    with mock_aws():
        client = boto3.client("organizations", region_name=REGION)
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]

        def ou(parent: str, name: str) -> str:
            return str(client.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"])

        production = ou(root, "Production")
        payments = ou(production, "Payments")
        sandbox = ou(root, "Sandbox")
        _create_account(client, monkeypatch, PAYMENTS_PROD, "payments-prod", owner_email="pay@example.com", team="pay")
        _create_account(client, monkeypatch, SANDBOX_DEV, "sandbox-dev", team="sandbox")
        for n, member in enumerate(MEMBERS):
            _create_account(client, monkeypatch, member, f"member-{n:02d}")
        for account, parent in ((PAYMENTS_PROD, payments), (SANDBOX_DEV, sandbox), (MEMBERS[0], production)):
            client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=STATE_TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name=REGION)
        immediate, digest = (sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("immediate", "digest"))
        yield Org(root, production, payments, sandbox, immediate, digest)


def counted(client: Any) -> dict[str, int]:
    """How many times the client called each Organizations operation (before the Stubber or moto answers)."""
    calls: dict[str, int] = {}

    def count(model: Any, **_kwargs: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1

    client.meta.events.register("before-parameter-build.organizations.*", count)
    return calls


def organizations() -> Any:
    return boto3.client("organizations", region_name=REGION)


def test_an_account_in_a_nested_ou_has_its_name_its_ous_to_the_root_and_its_tags(org):
    # Given the function's own credentials (it runs in the management account) and no state table
    directory = Directory()
    # When the accounts are looked up
    payments, sandbox, last = (directory.lookup(a) for a in (PAYMENTS_PROD, SANDBOX_DEV, LAST))
    # Then the nested account names its OUs nearest first, the root last, and its tags
    assert payments == Account(
        PAYMENTS_PROD,
        "payments-prod",
        (org.payments, org.production, org.root),
        (("owner-email", "pay@example.com"), ("team", "pay")),
    )
    assert sandbox == Account(SANDBOX_DEV, "sandbox-dev", (org.sandbox, org.root), (("team", "sandbox"),))
    # And an account directly under the root has the root alone, and no tags
    assert last == Account(LAST, "member-02", (org.root,))


@pytest.mark.parametrize(
    ("account_id", "parents"),
    [
        (PAYMENTS_PROD, 3),  # Payments, Production, the root
        (SANDBOX_DEV, 2),  # Sandbox, the root
        (LAST, 1),  # the root
    ],
)
def test_a_new_account_costs_one_describe_one_list_parents_a_level_and_one_list_tags(org, account_id, parents):
    # Given a directory whose Organizations calls are counted
    client = organizations()
    calls = counted(client)
    # When an account is looked up for the first time
    Directory(client=client).lookup(account_id)
    # Then it cost DescribeAccount, ListParents once a level up to the root, ListTagsForResource:
    # nothing that grows with the organisation (no ListAccounts)
    assert calls == {"DescribeAccount": 1, "ListParents": parents, "ListTagsForResource": 1}


def test_fifty_findings_of_three_accounts_cost_three_lookups(org):
    # Given the triage function with a directory (and the state table) whose Organizations calls are counted
    client = organizations()
    calls = counted(client)
    settings = TriageSettings(immediate_queue=org.immediate, digest_queue=org.digest, state_table=STATE_TABLE)
    triage = Responder(settings, SqsQueues(), directory=Directory(state=DynamoStateStore(STATE_TABLE), client=client))
    # When 50 findings arrive, of three accounts
    accounts = [PAYMENTS_PROD, SANDBOX_DEV, LAST]
    for n in range(50):
        event = minimal_event(severity=8.0, id=f"{n:032x}", accountId=accounts[n % 3])
        assert triage.handle(event).status == "queued"
    # Then each account was looked up once, not once per finding: 3 + 2 + 1 levels of parents
    assert calls == {"DescribeAccount": 3, "ListParents": 3 + 2 + 1, "ListTagsForResource": 3}


def test_the_shared_cache_survives_a_cold_start_and_expires(org):
    # Given one instance that looked up an account with the state table
    clock = Clock()
    Directory(state=DynamoStateStore(STATE_TABLE), clock=clock).lookup(PAYMENTS_PROD)
    items = boto3.client("dynamodb", region_name=REGION)
    stored = items.get_item(TableName=STATE_TABLE, Key={"id": {"S": account_item(PAYMENTS_PROD)}})["Item"]
    # (the item carries the table's TTL attribute: DynamoDB removes it in time)
    assert int(stored["expiration"]["N"]) == int(clock.now + CACHE_FOR.total_seconds())
    assert account_item(PAYMENTS_PROD).startswith(ACCOUNT_ITEM)
    assert PAYMENTS_PROD not in account_item(PAYMENTS_PROD)  # fixed length, like the table's other ids
    # When a new instance (a cold start) looks it up before the cache expires
    client = organizations()
    calls = counted(client)
    again = Directory(state=DynamoStateStore(STATE_TABLE), client=client, clock=clock)
    clock.advance(CACHE_FOR.total_seconds() - 60)
    # Then it is answered from the table, OUs and tags included: not one Organizations call
    account = again.lookup(PAYMENTS_PROD)
    assert (account.name, account.ous, account.tag("team")) == (
        "payments-prod",
        (org.payments, org.production, org.root),
        "pay",
    )
    assert calls == {}
    # When the cache has expired (the item may still be in the table: TTL deletion lags), Then
    # the same instance (its memory expired too) asks Organizations again, once
    clock.advance(120)
    assert again.lookup(PAYMENTS_PROD).name == "payments-prod"
    assert calls == {"DescribeAccount": 1, "ListParents": 3, "ListTagsForResource": 1}
    # And shares the new answer: a further cold start asks nothing
    Directory(state=DynamoStateStore(STATE_TABLE), client=client, clock=clock).lookup(PAYMENTS_PROD)
    assert calls == {"DescribeAccount": 1, "ListParents": 3, "ListTagsForResource": 1}


def test_without_a_state_table_or_with_a_broken_one_the_cache_is_in_memory(org, logs):
    # Given directories without a table and with a table that does not exist
    for state in (None, DynamoStateStore("no-such-table")):
        client = organizations()
        calls = counted(client)
        directory = Directory(client=client) if state is None else Directory(state=state, client=client)
        # When two findings of the account are looked up
        first, second = directory.lookup(PAYMENTS_PROD), directory.lookup(PAYMENTS_PROD)
        # Then both are named, and Organizations was asked once
        assert first == second
        assert first.name == "payments-prod"
        assert calls == {"DescribeAccount": 1, "ListParents": 3, "ListTagsForResource": 1}
    # And the broken table is logged by its error's type, never its name
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert {(line["message"], line["error"]) for line in lines} == {
        ("account cache unreadable", "ResourceNotFoundException"),
        ("account cache not written", "ResourceNotFoundException"),
    }
    assert "no-such-table" not in logs.getvalue()


def test_lookup_through_a_role_in_the_management_account(org, botocore_hooks, monkeypatch):
    # Given OrganizationsRoleArn, the AssumeRole calls recorded
    assumed = botocore_hooks.record("sts", "AssumeRole")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a new session takes the recording hook
    clock = Clock()
    directory = Directory(role_arn=MANAGEMENT_ROLE, clock=clock)
    # When an account is looked up
    account = directory.lookup(PAYMENTS_PROD)
    # Then it is named through the role, assumed for 15 minutes under the responder's session name
    assert account.name == "payments-prod"
    assert assumed == [{"RoleArn": MANAGEMENT_ROLE, "RoleSessionName": SESSION_NAME, "DurationSeconds": 900}]
    # When another account is looked up 9 minutes later, Then the credentials are reused
    clock.advance(9 * 60)
    assert directory.lookup(SANDBOX_DEV).name == "sandbox-dev"
    assert len(assumed) == 1
    # When one is looked up 11 minutes after the role was assumed (5 minutes before it expires), Then it is assumed again
    clock.advance(2 * 60)
    assert directory.lookup(LAST).name == "member-02"
    assert len(assumed) == 2


def test_the_role_s_credentials_are_the_ones_used(org):
    # Given a role in an account outside the organisation (moto: its credentials see no organisation)
    directory = Directory(role_arn=f"arn:aws:iam::{OUTSIDE}:role/guardduty-responder-organizations")
    # When an account is looked up, Then nothing is known of it: the calls were made as the role,
    # not with the function's own credentials (which see the organisation: the tests above)
    assert directory.lookup(PAYMENTS_PROD) == Account(PAYMENTS_PROD)


def test_an_account_outside_the_organisation_is_its_id_alone_remembered_and_no_failure(org, capsys, logs):
    # Given the directory with the state table, and an account the organisation does not know
    client = organizations()
    calls = counted(client)
    directory = Directory(state=DynamoStateStore(STATE_TABLE), client=client)
    # When it is looked up twice, and once more by a new instance
    first, second = directory.lookup(OUTSIDE), directory.lookup(OUTSIDE)
    third = Directory(state=DynamoStateStore(STATE_TABLE), client=client).lookup(OUTSIDE)
    # Then it is the id alone, asked once (AccountNotFoundException: remembered, shared), and no failure reported
    assert first == second == third == Account(OUTSIDE)
    assert calls == {"DescribeAccount": 1}
    assert "AccountDirectoryUnavailable" not in capsys.readouterr().out
    assert "account directory unavailable" not in logs.getvalue()
    # And the directory is still available for the members
    assert directory.lookup(PAYMENTS_PROD).name == "payments-prod"


def test_the_client_makes_three_attempts_with_short_timeouts():
    # Given the configuration of the Organizations (and STS) clients, When it is read, Then
    # standard retries (no client-side rate limiter that may sleep), 3 attempts, 2 s and 3 s timeouts
    config = client_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (2, 3)


@pytest.mark.parametrize(
    "code",
    [
        "AccessDeniedException",  # not the management account nor a delegated administrator
        "AWSOrganizationsNotInUseException",  # moto cannot say it: hence the Stubber
        "TooManyRequestsException",  # throttled after botocore's own retries
    ],
)
def test_a_directory_that_refuses_gives_the_id_reports_once_and_is_not_asked_again_for_a_while(
    aws_env, code, capsys, logs
):
    # Given Organizations answering DescribeAccount with an error
    client = boto3.client("organizations", region_name=REGION)
    calls = counted(client)
    stubber = Stubber(client)
    stubber.add_client_error("describe_account", service_error_code=code, service_message=f"no: {QUOTED_ARN}")
    clock = Clock()
    directory = Directory(client=client, clock=clock)
    with stubber:
        # When findings of two accounts are looked up
        first, second = directory.lookup(PAYMENTS_PROD), directory.lookup(SANDBOX_DEV)
        # Then each is its id alone, nothing raised, and Organizations was asked once
        assert (first, second) == (Account(PAYMENTS_PROD), Account(SANDBOX_DEV))
        stubber.assert_no_pending_responses()
    assert calls == {"DescribeAccount": 1}
    # And the failure is logged once by its type (never its message) and counted once
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert [(line["message"], line["error"]) for line in lines] == [("account directory unavailable", code)]
    assert QUOTED_ARN not in logs.getvalue()
    assert _unavailable_counts(capsys.readouterr().out) == 1
    # When the negative cache has expired, Then the directory is asked again, and a second failure is counted
    clock.advance(UNAVAILABLE_FOR.total_seconds() + 1)
    stubber.add_client_error("describe_account", service_error_code=code)
    with stubber:
        assert directory.lookup(PAYMENTS_PROD) == Account(PAYMENTS_PROD)
    assert calls == {"DescribeAccount": 2}
    assert _unavailable_counts(capsys.readouterr().out) == 1


def test_a_refusal_after_the_name_keeps_the_name_and_caches_nothing(aws_env, capsys):
    # Given Organizations naming the account, then throttling ListParents
    client = boto3.client("organizations", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("describe_account", {"Account": {"Id": PAYMENTS_PROD, "Name": "payments-prod"}})
    stubber.add_client_error("list_parents", service_error_code="TooManyRequestsException")
    clock = Clock()
    directory = Directory(client=client, clock=clock)
    with stubber:
        # When the account is looked up, Then it has the name it was given, and no OUs or tags
        assert directory.lookup(PAYMENTS_PROD) == Account(PAYMENTS_PROD, "payments-prod")
        stubber.assert_no_pending_responses()
    assert _unavailable_counts(capsys.readouterr().out) == 1
    # When the negative cache has expired, Then the partial answer was not remembered: it is asked again
    clock.advance(UNAVAILABLE_FOR.total_seconds() + 1)
    stubber.add_response("describe_account", {"Account": {"Id": PAYMENTS_PROD, "Name": "payments-prod"}})
    stubber.add_response("list_parents", {"Parents": [{"Id": "r-ab12", "Type": "ROOT"}]})
    stubber.add_response("list_tags_for_resource", {"Tags": [{"Key": "team", "Value": "pay"}]})
    with stubber:
        assert directory.lookup(PAYMENTS_PROD) == Account(
            PAYMENTS_PROD, "payments-prod", ("r-ab12",), (("team", "pay"),)
        )
        stubber.assert_no_pending_responses()


class Monotonic:
    """A monotonic clock each Organizations call moves by ``per_call`` seconds (no test sleeps)."""

    def __init__(self, client: Any, per_call: float) -> None:
        self.now = 1000.0
        client.meta.events.register("before-parameter-build.organizations.*", self._call)
        self.per_call = per_call

    def _call(self, **_kwargs: Any) -> None:
        self.now += self.per_call

    def __call__(self) -> float:
        return self.now


def test_a_lookup_makes_no_call_after_its_time_budget_and_keeps_what_it_has(org, logs, capsys):
    # Given Organizations taking 2 s a call (throttled, retrying) and the 5 s budget, and the state table
    assert LOOKUP_BUDGET.total_seconds() == 5
    client = organizations()
    calls = counted(client)
    clock = Clock()
    directory = Directory(
        state=DynamoStateStore(STATE_TABLE), client=client, clock=clock, monotonic=Monotonic(client, per_call=2.0)
    )
    # When the nested account (5 calls) is looked up
    account = directory.lookup(PAYMENTS_PROD)
    # Then the calls started at 0, 2 and 4 s were made and the one due at 6 s was not: the account
    # keeps the name DescribeAccount gave, without its OUs or tags
    assert calls == {"DescribeAccount": 1, "ListParents": 2}
    assert account == Account(PAYMENTS_PROD, "payments-prod")
    # And it counts as the directory being unavailable: logged by type, counted once, not asked for a while
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert [(line["message"], line["error"]) for line in lines] == [("account directory unavailable", "LookupTooSlow")]
    assert _unavailable_counts(capsys.readouterr().out) == 1
    assert directory.lookup(SANDBOX_DEV) == Account(SANDBOX_DEV)
    assert calls == {"DescribeAccount": 1, "ListParents": 2}
    # And nothing partial was cached: a new instance with fast answers looks the account up in full
    fresh = organizations()
    again = Directory(
        state=DynamoStateStore(STATE_TABLE), client=fresh, clock=clock, monotonic=Monotonic(fresh, per_call=0.9)
    )
    assert again.lookup(PAYMENTS_PROD).ous == (org.payments, org.production, org.root)


def test_a_lookup_within_its_time_budget_is_complete(org, logs):
    # Given Organizations taking 0.9 s a call: the fifth call starts at 3.6 s, inside the 5 s budget
    client = organizations()
    directory = Directory(client=client, monotonic=Monotonic(client, per_call=0.9))
    # When the nested account is looked up, Then it is complete and nothing is reported
    assert directory.lookup(PAYMENTS_PROD).tags == (("owner-email", "pay@example.com"), ("team", "pay"))
    assert logs.getvalue() == ""


def _unavailable_counts(out: str) -> int:
    docs = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    return sum(len(doc["AccountDirectoryUnavailable"]) for doc in docs if "AccountDirectoryUnavailable" in doc)


def test_a_finding_is_queued_with_its_account_and_every_log_line_names_it(org, logs, botocore_hooks, monkeypatch):
    # Given the triage function as deployed (its settings, the state table) in the management account
    described = botocore_hooks.record("organizations", "DescribeAccount")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a new session takes the recording hook
    settings = TriageSettings(
        immediate_queue=org.immediate, digest_queue=org.digest, state_table=STATE_TABLE, threshold=4.0
    )
    triage = Responder.from_settings(settings)
    # When a finding below the threshold arrives, Then it is skipped without asking Organizations
    assert triage.handle(minimal_event(severity=2.0, accountId=PAYMENTS_PROD), FakeContext()).status == "skipped"
    assert described == []
    # When a High finding of payments-prod arrives
    assert triage.handle(minimal_event(severity=8.0, accountId=PAYMENTS_PROD), FakeContext()).status == "queued"
    # Then the queued message carries what the organisation says of the account
    sqs = boto3.client("sqs", region_name=REGION)
    [message] = sqs.receive_message(QueueUrl=org.immediate, MaxNumberOfMessages=10)["Messages"]
    assert decode(message["Body"]).account == Account(
        PAYMENTS_PROD,
        "payments-prod",
        (org.payments, org.production, org.root),
        (("owner-email", "pay@example.com"), ("team", "pay")),
    )
    # And the log line names the account, by name and id
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    [queued] = [line for line in lines if line["message"] == "finding queued"]
    assert (queued["account"], queued["account_id"]) == ("payments-prod (111122223333)", PAYMENTS_PROD)
    [skipped] = [line for line in lines if line["message"] == "finding skipped"]
    assert (skipped["account"], skipped["account_id"]) == (PAYMENTS_PROD, PAYMENTS_PROD)  # not looked up


def test_without_organizations_access_the_account_names_mapping_names_the_account(aws_env, logs, capsys):
    # Given AccountNames, and Organizations refusing (the GuardDuty administrator is not delegated)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        immediate, digest = (sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("immediate", "digest"))
        settings = TriageSettings(
            immediate_queue=immediate, digest_queue=digest, account_names={PAYMENTS_PROD: "payments-prod"}
        )
        client = boto3.client("organizations", region_name=REGION)
        stubber = Stubber(client)
        stubber.add_client_error("describe_account", service_error_code="AccessDeniedException", http_status_code=403)
        triage = Responder(settings, SqsQueues(), directory=Directory(client=client))
        # When a finding of the mapped account arrives
        with stubber:
            outcome = triage.handle(minimal_event(severity=8.0, accountId=PAYMENTS_PROD))
        # Then it is queued, its message carrying the id alone, and its log line names it from the mapping
        assert outcome.status == "queued"
        [message] = sqs.receive_message(QueueUrl=immediate)["Messages"]
        assert decode(message["Body"]).account == Account(PAYMENTS_PROD)
    [queued] = [json.loads(line) for line in logs.getvalue().splitlines() if '"finding queued"' in line]
    assert queued["account"] == "payments-prod (111122223333)"
    assert _unavailable_counts(capsys.readouterr().out) == 1
