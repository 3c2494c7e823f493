"""Routing to owners against moto: the routes file in SSM, SES per recipient set, the route topic's
filter policies, the fallback when the file cannot be used, and delivered-markers per audience."""

from __future__ import annotations

import copy
import email
import json
from email.policy import default
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from responder.adapters.aws import client_config
from responder.adapters.observability import metrics
from responder.adapters.routes import ROUTES_CACHE_SECONDS, RouteSource
from responder.app.notifier import Notifier
from responder.app.settings import NotifierSettings
from responder.domain.accounts import Account
from responder.domain.owners import DEFAULT_ONLY
from responder.domain.routing import delivery_key, encode
from responder.domain.updates import UpdateDecision, UpdateReason
from tests.conftest import load
from tests.integration.conftest import RECIPIENTS, REGION, SENDER, ses_messages, sns_messages
from tests.integration.test_handler import FakeContext

PARAMETER = "/guardduty-responder/routes"
PROD_A, PROD_B, SANDBOX = "111111111111", "222222222222", "333333333333"
ROOT, PRODUCTION, SANDBOX_OU = "r-ab12", "ou-ab12-prod0001", "ou-ab12-sand0001"
TEAM_A, TEAM_B = "team-a@example.com", "team-b@example.net"
ROUTES = {
    "version": 1,
    "routes": [
        {"name": "production", "match": {"ous": [PRODUCTION]}, "ses": [TEAM_A], "sns": True},
        {"name": "sandbox", "match": {"ous": [SANDBOX_OU]}, "ses": [TEAM_B], "sns": True},
    ],
}
ACCOUNTS = {
    PROD_A: Account(PROD_A, "payments-prod", ous=(PRODUCTION, ROOT)),
    PROD_B: Account(PROD_B, "web-prod", ous=(PRODUCTION, ROOT)),
    SANDBOX: Account(SANDBOX, "sandbox", ous=(SANDBOX_OU, ROOT)),
}


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def detail(account_id: str, n: int, severity: float = 8.0) -> dict[str, Any]:
    """The Tor-client finding (GuardDuty's ``detail``) of ``account_id``, with its own id."""
    found = copy.deepcopy(load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"])
    return {**found, "id": f"{n:032x}", "accountId": account_id, "severity": severity}


def body(found: dict[str, Any], *, account: bool = True) -> str:
    """The queue message the triage function writes, with the account as the organisation describes it."""
    key = delivery_key(found["id"], found["updatedAt"])
    known = ACCOUNTS.get(found["accountId"]) if account else None
    return encode(key, found, UpdateDecision(True, UpdateReason.FIRST), account=known)


def batch(*found: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch of the immediate queue, one message per finding."""
    return {"Records": [{"messageId": f"m-{f['id']}", "body": body(f)} for f in found]}


def failed(result: dict[str, Any]) -> set[str]:
    return {item["itemIdentifier"] for item in result["batchItemFailures"]}


def put_routes(value: str | dict[str, Any]) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    boto3.client("ssm", region_name=REGION).put_parameter(Name=PARAMETER, Value=text, Type="String", Overwrite=True)


def notifier(aws: dict[str, Any], clock: Ticks | None = None, **overrides: Any) -> Notifier:
    """The notifier as the stack wires it, on both channels, with the routes parameter and route topic."""
    values: dict[str, Any] = {
        "channels": ("sns", "ses"),
        "topic_arn": aws["topic_arn"],
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "state_table": aws["table"],
        "digest_queue": aws["digest"],
        "routes_parameter": PARAMETER,
        "route_topic_arn": aws["route_topic_arn"],
        **overrides,
    }
    settings = NotifierSettings(**values)
    built = Notifier.from_settings(settings)
    built.routes = RouteSource(settings.routes_parameter, clock=clock or Ticks())
    return built


def mails() -> list[tuple[set[str], set[str]]]:
    """Each SES email as (To addresses, ids of the findings it attaches)."""
    sent = []
    for message in ses_messages():
        parsed = email.message_from_string(message.raw_data, policy=default)
        to = {address.strip() for address in str(parsed["To"]).split(",")}
        files = {
            str(part.get_filename()).removeprefix("guardduty-finding-").removesuffix(".json")
            for part in parsed.iter_attachments()
        }
        sent.append((to, files))
    return sent


@pytest.fixture
def routed(aws: dict[str, Any]) -> dict[str, Any]:
    """The stack's route topic, with one SQS queue per owner subscribed through a filter policy,
    one subscribed without a policy, and the routes file in SSM."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="guardduty-routes")["TopicArn"]
    queues = {}
    for name, policy in (("production", ["production"]), ("sandbox", ["sandbox"]), ("everything", None)):
        url = sqs.create_queue(QueueName=f"owner-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {"RawMessageDelivery": "false"}
        if policy is not None:
            attributes["FilterPolicy"] = json.dumps({"route": policy})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
        queues[name] = url
    put_routes(ROUTES)
    return {**aws, "route_topic_arn": topic, "owner_queues": queues}


def owner_copies(queue_url: str) -> list[tuple[str, str]]:
    """(route attribute, subject) of each SNS copy an owner's queue received."""
    sqs = boto3.client("sqs", region_name=REGION)
    copies = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            envelope = json.loads(message["Body"])
            copies.append((envelope["MessageAttributes"]["route"]["Value"], envelope["Subject"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return copies


def metric_names(out: str) -> list[str]:
    """The EMF metric names printed (one per metric and line)."""
    docs = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    return [m["Name"] for doc in docs for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]


# --- SES: one email per recipient set, each owner only its own accounts ------------------------------------


def test_each_owner_gets_its_own_accounts_and_the_security_team_everything(routed):
    # Given findings of two Production accounts and a Sandbox account in one batch
    found = [detail(PROD_A, 1), detail(PROD_B, 2), detail(SANDBOX, 3)]
    # When the notifier handles the batch
    result = notifier(routed).handle(batch(*found), FakeContext())
    # Then nothing is retried, and three SES emails went out: the security team's with all three
    # findings, team A's with the Production two, team B's with the Sandbox one
    assert failed(result) == set()
    by_to = {frozenset(to): files for to, files in mails()}
    ids = [f["id"] for f in found]
    assert by_to == {
        frozenset(RECIPIENTS): set(ids),
        frozenset({TEAM_A}): {ids[0], ids[1]},
        frozenset({TEAM_B}): {ids[2]},
    }
    # ... no route's address was shown to another: each To holds one audience's addresses only
    for to, _files in mails():
        assert to in ({TEAM_A}, {TEAM_B}, set(RECIPIENTS))
    # ... and the security team's SNS topic got one grouped email, as without routes
    assert len(sns_messages(routed["topic_arn"])) == 1


def test_the_route_topic_carries_the_route_name_for_owner_filter_policies(routed):
    # Given one Production and one Sandbox finding
    notifier(routed).handle(batch(detail(PROD_A, 1), detail(SANDBOX, 3)), FakeContext())
    # Then each owner's subscription (filter policy on the route attribute) got only its route's copy,
    # and the subscription without a policy got both
    queues = routed["owner_queues"]
    [(route, subject)] = owner_copies(queues["production"])
    assert route == "production" and "UnauthorizedAccess:EC2/TorClient" in subject
    assert [route for route, _subject in owner_copies(queues["sandbox"])] == ["sandbox"]
    assert sorted(route for route, _subject in owner_copies(queues["everything"])) == ["production", "sandbox"]
    # ... and the security team's own topic carries no route attribute copies (one email, both findings)
    [(subject, _text)] = sns_messages(routed["topic_arn"])
    assert subject.startswith("[GuardDuty ALERTS]")


def test_an_exclusive_route_keeps_its_findings_from_the_security_team(routed):
    # Given Sandbox routed exclusively to team B
    routes = copy.deepcopy(ROUTES)
    routes["routes"][1]["exclusive"] = True
    put_routes(routes)
    # When a Sandbox and a Production finding arrive
    found = [detail(PROD_A, 1), detail(SANDBOX, 3)]
    notifier(routed).handle(batch(*found), FakeContext())
    # Then the security team gets only the Production one, team B the Sandbox one
    by_to = {frozenset(to): files for to, files in mails()}
    assert by_to[frozenset(RECIPIENTS)] == {found[0]["id"]}
    assert by_to[frozenset({TEAM_B})] == {found[1]["id"]}


def test_an_account_without_organisation_details_is_routed_by_its_id_only(routed):
    # Given a route by account id, and a finding queued without the account block (no Organizations access)
    put_routes({"version": 1, "routes": [{"name": "payments", "match": {"accounts": [PROD_A]}, "ses": [TEAM_A]}]})
    record = {"messageId": "m1", "body": body(detail(PROD_A, 1), account=False)}
    # When it is sent
    notifier(routed).handle({"Records": [record]}, FakeContext())
    # Then the route still takes it
    assert {frozenset(to) for to, _files in mails()} == {frozenset(RECIPIENTS), frozenset({TEAM_A})}


# --- a routes file that cannot be used: everything to the security team, alarmed --------------------


@pytest.mark.parametrize(
    "broken",
    [
        '{"version": 1, "routes": [{"name": "x", "match": {"ous": ["ou-ab12-prod0001"]}, "ses": ["nope"]}]}',
        '{"version": 1, "routes": [',
    ],
)
def test_a_broken_file_sends_everything_to_the_recipients_and_counts_the_fallback(routed, broken, capsys, logs):
    # Given an exclusive routes file an operator then breaks
    put_routes(broken)
    # When a Production finding arrives
    result = notifier(routed).handle(batch(detail(PROD_A, 1)), FakeContext())
    # Then it is sent, to the security team only, and nothing goes to the route topic
    assert failed(result) == set()
    assert [to for to, _files in mails()] == [set(RECIPIENTS)]
    assert owner_copies(routed["owner_queues"]["everything"]) == []
    # ... RoutesFallback is counted once (EMF) and the log names where the file is wrong, not its value
    assert metric_names(capsys.readouterr().out).count("RoutesFallback") == 1
    [line] = [json.loads(line) for line in logs.getvalue().splitlines() if "routes file unusable" in line]
    assert line["level"] == "ERROR" and line["parameter"] == PARAMETER
    assert line["reason"].startswith(("routes[0].ses[0]: not an email address", "routes file: not JSON"))
    assert "nope" not in logs.getvalue()


def test_routing_resumes_once_the_fixed_file_is_read_after_the_cache_period(routed, capsys):
    # Given a broken file read once (the fallback is cached like a good file)
    clock = Ticks()
    put_routes("{")
    sender = notifier(routed, clock)
    sender.handle(batch(detail(PROD_A, 1)), FakeContext())
    assert [to for to, _files in mails()] == [set(RECIPIENTS)]
    # When the operator fixes it, within the cache period nothing changes (and no second count)
    put_routes(ROUTES)
    clock.now += ROUTES_CACHE_SECONDS - 1
    sender.handle(batch(detail(PROD_A, 2)), FakeContext())
    assert [to for to, _files in mails()][1:] == [set(RECIPIENTS)]
    assert metric_names(capsys.readouterr().out).count("RoutesFallback") == 1
    # Then after it, team A gets its copy again
    clock.now += 2
    sender.handle(batch(detail(PROD_A, 3)), FakeContext())
    assert sorted(map(sorted, (to for to, _files in mails()[2:]))) == sorted([sorted(RECIPIENTS), [TEAM_A]])
    assert "RoutesFallback" not in metric_names(capsys.readouterr().out)


def test_a_missing_parameter_falls_back(aws_env, capsys):
    # Given no parameter of that name
    with mock_aws():
        routes = RouteSource("/not/there").current()
    assert routes == DEFAULT_ONLY
    assert metric_names(capsys.readouterr().out) == ["RoutesFallback"]


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException", "InternalServerError"])
def test_an_unreadable_parameter_falls_back_naming_the_error_code(aws_env, code, capsys, logs):
    # Given SSM refusing the read (moto never refuses: botocore's Stubber answers)
    client = boto3.client("ssm", region_name=REGION, config=client_config())
    with Stubber(client) as stub:
        stub.add_client_error("get_parameter", service_error_code=code, http_status_code=400)
        # When the routes are read
        routes = RouteSource(PARAMETER, client=client).current()
    # Then the default only, counted, and the log names the error code
    assert routes == DEFAULT_ONLY
    assert metric_names(capsys.readouterr().out) == ["RoutesFallback"]
    [line] = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert line["reason"] == code


def test_without_a_routes_parameter_nothing_is_read_or_counted(capsys):
    # Given no ROUTES_PARAMETER (the client would fail: nothing may call AWS)
    source = RouteSource(None, client=object())
    # Then the default only, silently
    assert source.current() == DEFAULT_ONLY
    assert "RoutesFallback" not in capsys.readouterr().out


# --- delivered-markers and exactly-once records per audience ------------------------------------------


def test_a_failed_route_copy_is_retried_without_resending_the_security_teams_email(routed):
    # Given a route topic that does not exist yet (its copy fails)
    missing = routed["route_topic_arn"] + "-missing"
    sender = notifier({**routed, "route_topic_arn": missing})
    found = detail(PROD_A, 1)
    # When the batch is handled
    first = sender.handle(batch(found), FakeContext())
    # Then the message is retried, while the security team and team A got their emails
    assert failed(first) == {f"m-{found['id']}"}
    assert len(sns_messages(routed["topic_arn"])) == 1
    assert sorted(map(sorted, (to for to, _files in mails()))) == sorted([sorted(RECIPIENTS), [TEAM_A]])
    # When the retry comes after the topic was fixed
    boto3.client("sns", region_name=REGION).create_topic(Name="guardduty-routes-missing")
    second = sender.handle(batch(found), FakeContext())
    # Then only the route copy goes out: no email is sent twice
    assert failed(second) == set()
    assert len(sns_messages(routed["topic_arn"])) == 1
    assert len(mails()) == 2
    assert len(sns_messages(missing)) == 1


def test_the_security_teams_markers_keep_their_namespace_so_an_upgrade_resends_nothing(routed):
    # Given a finding the release before routes already delivered (markers "sns" and "ses")
    found = detail(PROD_A, 1)
    key = delivery_key(found["id"], found["updatedAt"])
    before = notifier(routed, routes_parameter=None, route_topic_arn=None)
    before.handle(batch(found), FakeContext())
    assert before.state.delivered("sns", [key]) == before.state.delivered("ses", [key]) == {key}
    # When the same message is retried after the upgrade, with routes
    result = notifier(routed).handle(batch(found), FakeContext())
    # Then the security team is not emailed again; only the new route copies go out
    assert failed(result) == set()
    assert len(sns_messages(routed["topic_arn"])) == 1
    assert [to for to, _files in mails()] == [set(RECIPIENTS), {TEAM_A}]


def test_owner_addresses_from_an_account_tag_only_within_the_allowed_domains(routed, logs):
    # Given a route taking owners from the account's owner-email tag, and a tag naming an outsider too
    put_routes(
        {
            "version": 1,
            "routes": [
                {
                    "name": "owners",
                    "match": {"ous": [ROOT]},
                    "recipients_from_tag": "owner-email",
                    "allowed_domains": ["example.com"],
                }
            ],
        }
    )
    owner = "dev-lead@example.com"
    metrics.clear_metrics()
    tagged = Account(
        PROD_A, "payments-prod", ous=(PRODUCTION, ROOT), tags=(("owner-email", f"{owner} x@evil.example"),)
    )
    found = detail(PROD_A, 1)
    key = delivery_key(found["id"], found["updatedAt"])
    record = {"messageId": "m1", "body": encode(key, found, UpdateDecision(True, UpdateReason.FIRST), account=tagged)}
    # When it is sent
    notifier(routed).handle({"Records": [record]}, FakeContext())
    # Then the owner in the allowed domain is emailed, the outsider never, and the log counts without the address
    assert sorted(map(sorted, (to for to, _files in mails()))) == sorted([sorted(RECIPIENTS), [owner]])
    assert "evil.example" not in json.dumps([m.raw_data for m in ses_messages()])
    [line] = [json.loads(line) for line in logs.getvalue().splitlines() if "outside allowed_domains" in line]
    assert (line["route"], line["addresses"]) == ("owners", 1)
    assert "evil.example" not in logs.getvalue() and owner not in logs.getvalue()
    assert metrics.metric_set["RouteRecipientsDropped"]["Value"] == [1.0]  # flushed at the end of the invocation


# --- delivery safety: an exclusive owner never leaves a finding with nobody ----------------------------


def received(found: dict[str, Any], times: int, account: Account | None = None) -> dict[str, Any]:
    """A one-message batch as Lambda hands it over the ``times``-th time (``ApproximateReceiveCount``)."""
    key = delivery_key(found["id"], found["updatedAt"])
    known = account or ACCOUNTS.get(found["accountId"])
    text = encode(key, found, UpdateDecision(True, UpdateReason.FIRST), account=known)
    return {"Records": [{"messageId": "m1", "body": text, "attributes": {"ApproximateReceiveCount": str(times)}}]}


def test_an_exclusive_sns_route_never_takes_a_finding_from_the_security_team(routed, logs):
    # Given an exclusive route sending SNS copies and addresses from a tag that names only an outsider
    # (publishing succeeds even when no subscription's filter policy takes the route)
    put_routes(
        {
            "version": 1,
            "routes": [
                {
                    "name": "owners",
                    "match": {"ous": [ROOT]},
                    "sns": True,
                    "recipients_from_tag": "owner-email",
                    "allowed_domains": ["example.com"],
                    "exclusive": True,
                }
            ],
        }
    )
    tagged = Account(PROD_A, "payments-prod", ous=(PRODUCTION, ROOT), tags=(("owner-email", "x@evil.example"),))
    # When its finding is sent
    result = notifier(routed).handle(received(detail(PROD_A, 1), 1, tagged), FakeContext())
    # Then the security team gets it on both channels, and the route's SNS copy goes out besides
    assert failed(result) == set()
    assert [to for to, _files in mails()] == [set(RECIPIENTS)]
    assert len(sns_messages(routed["topic_arn"])) == 1
    assert [route for route, _subject in owner_copies(routed["owner_queues"]["everything"])] == ["owners"]
    # ... and the tag that gave no allowed address is logged by route name, without any address
    [line] = [json.loads(line) for line in logs.getvalue().splitlines() if "gave no allowed address" in line]
    assert line["route"] == "owners" and line["level"] == "WARNING"
    assert "evil.example" not in logs.getvalue()


def test_an_exclusive_owners_refused_delivery_reaches_the_security_team_on_the_first_retry(routed):
    # Given an exclusive route whose SES sends are refused (the routes' shared SES client; moto never refuses)
    put_routes(
        {"version": 1, "routes": [{"name": "pay", "match": {"accounts": [PROD_A]}, "ses": [TEAM_A], "exclusive": True}]}
    )
    sender = notifier(routed)
    client = boto3.client("sesv2", region_name=REGION, config=client_config())
    sender._clients["sesv2"] = client
    found = detail(PROD_A, 1)
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_client_error("send_email", service_error_code="MessageRejected", http_status_code=400)
        # When it is received the first time, then twice more (SQS redelivery)
        first = sender.handle(received(found, 1), FakeContext())
        # Then the first receive goes to the owner only (refused: retried)
        assert failed(first) == {"m1"}
        assert mails() == [] and sns_messages(routed["topic_arn"]) == []
        second = sender.handle(received(found, 2), FakeContext())
        third = sender.handle(received(found, 3), FakeContext())
    # Then the first retry reaches the security team on both its channels, once (its own markers),
    # while the owner's copy keeps being retried
    assert failed(second) == failed(third) == {"m1"}
    assert [to for to, _files in mails()] == [set(RECIPIENTS)]
    assert len(sns_messages(routed["topic_arn"])) == 1
    key = delivery_key(found["id"], found["updatedAt"])
    assert sender.state.delivered("ses", [key]) == sender.state.delivered("sns", [key]) == {key}


def test_a_route_to_the_security_teams_own_recipients_sends_one_email(routed):
    # Given a route to the very addresses of Recipients, in another order and case
    put_routes(
        {
            "version": 1,
            "routes": [
                {"name": "dup", "match": {"accounts": [PROD_A]}, "ses": [a.upper() for a in reversed(RECIPIENTS)]}
            ],
        }
    )
    # When its finding is sent
    result = notifier(routed).handle(batch(detail(PROD_A, 1)), FakeContext())
    # Then one email to those addresses, not two
    assert failed(result) == set()
    assert [to for to, _files in mails()] == [set(RECIPIENTS)]


@pytest.mark.parametrize(
    ("channels", "silent", "named"),
    [(("sns",), "topic", "mail"), (("ses",), "mail", "topic")],
)
def test_a_route_that_can_never_deliver_is_logged_once_per_load(routed, logs, channels, silent, named):
    # Given an SES-only and an SNS-only route, and only one of the channels in use
    put_routes(
        {
            "version": 1,
            "routes": [
                {"name": "mail", "match": {"accounts": [PROD_A]}, "ses": [TEAM_A]},
                {"name": "topic", "match": {"accounts": [PROD_B]}, "sns": True},
            ],
        }
    )
    clock = Ticks()
    sender = notifier(routed, clock, channels=channels)
    # When two batches are handled within the cache period, and one after it
    sender.handle(batch(detail(PROD_A, 1)), FakeContext())
    sender.handle(batch(detail(PROD_B, 2)), FakeContext())
    clock.now += ROUTES_CACHE_SECONDS + 1
    sender.handle(batch(detail(PROD_A, 3)), FakeContext())
    # Then the route whose channel is off is named in a warning once per read of the file, never an address
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if "can never deliver" in line]
    assert [(line["route"], line["level"]) for line in lines] == [(named, "WARNING")] * 2
    assert TEAM_A not in logs.getvalue() and silent not in {line["route"] for line in lines}
