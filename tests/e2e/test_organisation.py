"""`make demo` in its emulated organisation: account names, routes to owners, chat, other Regions,
and out/demo/summary.json (one object per message sent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from demo import report
from demo.emulator import ACCOUNT, REGION
from demo.organisation import DEMO, Organisation, place
from demo.run import FORWARDED, RECIPIENTS

pytestmark = pytest.mark.slow

SECURITY_TEAM = frozenset(RECIPIENTS.split(","))
SUMMARY_KEYS = {"channel", "to", "subject", "file", "findings"}
FINDING_KEYS = {"id", "account_id", "account_name", "region"}


@pytest.fixture(scope="module")
def written(demo_result, tmp_path_factory):
    """out/demo/ of the demo's run, and its summary.json."""
    out = tmp_path_factory.mktemp("demo")
    report.write(demo_result, out)
    return out, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _sent(result):
    return [row for row in result.rows if row.status == "sent"]


def test_the_demo_runs_in_an_organisation_with_named_accounts_in_nested_ous(demo_result):
    # Given the demo's organisation
    organisation = demo_result.organisation
    assert isinstance(organisation, Organisation)
    # Then it has the OUs of the design (Payments nested in Production) and every member is named
    assert set(organisation.ou_ids) == {"Production", "Production/Payments", "Sandbox"}
    assert sorted(m.name for m in organisation.accounts.values()) == sorted(m.name for m in DEMO.members)
    # And the findings emailed come from several member accounts, each named in the rows
    accounts = {row.account_id for row in _sent(demo_result)}
    assert len(accounts & set(organisation.accounts)) == len(DEMO.members)
    for row in _sent(demo_result):
        assert row.account_name == organisation.name_of(row.account_id), row


def test_summary_json_has_one_object_per_message_sent_in_its_schema(demo_result, written):
    # Given out/demo/summary.json
    out, summary = written
    # Then it is a list with one object per message the emulator sent, every channel there
    assert isinstance(summary, list)
    assert len(summary) == len(demo_result.sent)
    assert {entry["channel"] for entry in summary} == {"ses", "sns", "chat"}
    for entry in summary:
        assert set(entry) == SUMMARY_KEYS, entry
        assert entry["to"] and all(isinstance(to, str) and to for to in entry["to"]), entry
        assert isinstance(entry["subject"], str) and entry["subject"]
        # And the file it names is written, relative to out/demo
        assert not Path(entry["file"]).is_absolute() and (out / entry["file"]).is_file(), entry
        assert entry["findings"], entry  # every message is about some finding
        for finding in entry["findings"]:
            assert set(finding) == FINDING_KEYS
    # And SES messages list addresses, SNS the topic or the route, chat the chat topic
    routes = {route.name for route in DEMO.routes}
    for entry in summary:
        if entry["channel"] == "ses":
            assert all(re.fullmatch(r"[^@\s]+@[^@\s]+", to) for to in entry["to"]), entry
        elif entry["channel"] == "sns":
            assert entry["to"] == [entry["to"][0]] and (entry["to"][0] in routes or ":sns:" in entry["to"][0])
        else:
            assert len(entry["to"]) == 1 and entry["to"][0].endswith("-ChatTopic")


def test_every_finding_of_the_report_is_in_summary_json_with_its_account_and_region(demo_result, written):
    # Given every finding the demo emailed
    _out, summary = written
    listed = {(f["id"], f["account_id"], f["account_name"], f["region"]) for e in summary for f in e["findings"]}
    for row in _sent(demo_result):
        event = demo_result.events[row.number - 1]
        account = event["detail"].get("accountId") or event["account"]
        region = event["detail"].get("region") or event["region"]
        # Then summary.json lists it with the account it was put in, that account's name and its Region
        assert (row.finding_id, account, demo_result.organisation.name_of(account), region) in listed, row
    # And nothing else
    assert {item[0] for item in listed} == {row.finding_id for row in _sent(demo_result)}


def test_each_route_gets_the_findings_of_its_ous_accounts_from_its_band_and_the_team_everything(demo_result, written):
    # Given the routes file: Production (Payments nested in it) from Medium to prod-team, by SES and
    # SNS; Sandbox from High to sandbox-team, by SES
    _out, summary = written
    organisation = demo_result.organisation
    addresses = {route.name: frozenset(route.ses) for route in DEMO.routes}
    for row in _sent(demo_result):
        routes = organisation.routes_for(row.account_id, row.band)
        holding = [entry for entry in summary if row.finding_id in {f["id"] for f in entry["findings"]}]
        # Then its SES messages went to the security team and to the team of each matching route, apart
        ses = {frozenset(entry["to"]) for entry in holding if entry["channel"] == "ses"}
        assert ses == {SECURITY_TEAM, *(addresses[route.name] for route in routes)}, row
        # And its SNS copies: the AlertTopic's, and the RouteTopic's for each matching route with SNS on
        sns = sorted(entry["to"][0] for entry in holding if entry["channel"] == "sns")
        topic = [to for to in sns if ":sns:" in to]
        assert len(topic) == 1 and topic[0].endswith("-AlertTopic"), row
        assert sorted(set(sns) - set(topic)) == sorted(route.name for route in routes if route.sns), row
    # And both routes were used, the Production one by an account of the nested OU (Payments) too
    used = {
        (organisation.accounts[row.account_id].ou, route.name)
        for row in _sent(demo_result)
        if row.account_id in organisation.accounts
        for route in organisation.routes_for(row.account_id, row.band)
    }
    assert {name for _ou, name in used} == set(addresses)
    assert ("Production/Payments", "production") in used


def test_a_route_topic_copy_reaches_only_its_routes_subscribers(demo_result):
    # Given the RouteTopic's messages, each with the route attribute its subscriptions filter on
    copies = [m for m in demo_result.sent if m.channel == "sns" and m.route is not None]
    assert copies
    for copy in copies:
        # Then it reached the subscribers of its route only
        assert copy.reaches == demo_result.organisation.route_subscribers()[copy.route], copy.subject


def test_chat_messages_are_written_as_published_and_carry_the_immediate_findings(demo_result, written):
    # Given the chat messages (an SQS queue subscribed to the chat topic received them)
    out, summary = written
    chats = [entry for entry in summary if entry["channel"] == "chat"]
    assert chats
    for entry, chat in zip(chats, demo_result.chats, strict=True):
        # Then each file is the JSON published, in the custom-notification format Amazon Q renders
        assert (out / entry["file"]).read_text(encoding="utf-8") == chat.message.body
        message = json.loads(chat.message.body)
        assert message["version"] == "1.0" and message["source"] == "custom"
        assert message["content"]["textType"] == "client-markdown" and message["content"]["description"]
    # And every finding emailed at once to the security team is in a chat message
    in_chat = {f["id"] for entry in chats for f in entry["findings"]}
    immediate = {row.finding_id for row in _sent(demo_result) if row.route == "immediate"}
    assert immediate <= in_chat


def test_findings_of_other_regions_come_through_the_forwarding_stack_and_keep_their_region(demo_result):
    # Given the bundled findings of several Regions, the demo's home Region us-east-1
    sent = _sent(demo_result)
    regions = {row.region for row in sent}
    assert REGION in regions and len(regions) >= 2
    # Then those of other Regions were put in their own Region and forwarded by its forwarding stack
    assert demo_result.other_regions == FORWARDED
    # And each one's email links the console of its own Region
    for mail in demo_result.mails:
        held = [row for row in sent if mail.number in row.emails]
        if mail.kind == "immediate" and len(held) == 1 and held[0].region != REGION:
            region = held[0].region
            assert f"https://{region}.console.aws.amazon.com/guardduty/home?region={region}" in mail.text


def test_emails_name_the_member_account(demo_result):
    # Given the security team's immediate emails of one finding each
    organisation = demo_result.organisation
    for mail in demo_result.mails:
        held = [row for row in _sent(demo_result) if mail.number in row.emails]
        if mail.route is None and mail.kind == "immediate" and len(held) == 1:
            account = held[0].account_id
            # Then the email names its account as "name (id)"
            assert f"{organisation.name_of(account)} ({account})" in mail.text, mail.subject


def test_index_html_shows_who_received_each_email(demo_result, written):
    # Given out/demo/index.html
    out, _summary = written
    page = (out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr id="email-(\d+)">(.*?)</tr>', page, flags=re.DOTALL)
    assert len(rows) == len(demo_result.mails)
    # Then each email's row names every address it reached
    for (number, html), mail in zip(rows, demo_result.mails, strict=True):
        assert int(number) == mail.number
        assert mail.received_by
        for address in mail.received_by:
            assert address in html, (mail.number, address)


def test_place_keeps_a_resources_events_in_one_account_and_every_other_event_as_it_is():
    # Given an organisation of two members, two findings of one bucket, a scan result of that bucket,
    # a finding of another resource and a malformed event
    organisation = Organisation(
        DEMO, "r-root", {}, {"111111111111": DEMO.members[0], "222222222222": DEMO.members[1]}, "m"
    )
    bucket = {"resourceType": "S3Object", "s3BucketDetails": [{"name": "uploads-999988887777"}]}
    finding = {"detail-type": "GuardDuty Finding", "account": "999988887777"}
    events = [
        {**finding, "detail": {"id": "a", "accountId": "999988887777", "resource": bucket}},
        {**finding, "detail": {"id": "b", "accountId": "999988887777", "resource": {"resourceType": "Instance"}}},
        {**finding, "detail": {"id": "c", "accountId": "999988887777", "resource": bucket}},
        {
            "detail-type": "GuardDuty Malware Protection Object Scan Result",
            "account": "999988887777",
            "detail": {"s3ObjectDetails": {"bucketName": "uploads-999988887777"}},
        },
        {"detail-type": "GuardDuty Finding", "account": "UNKNOWN", "detail": {"severity": 5}},
    ]
    # When they are placed
    a, b, c, scan, malformed = place(events, organisation)
    # Then the bucket's events share an account (its id replaced in the bucket's name too), the other
    # finding has the next one, findings come through the administrator, and the malformed event is as it was
    assert a["detail"]["accountId"] == c["detail"]["accountId"] == scan["account"] == "111111111111"
    assert b["detail"]["accountId"] == "222222222222"
    assert a["detail"]["resource"]["s3BucketDetails"][0]["name"] == "uploads-111111111111"
    assert scan["detail"]["s3ObjectDetails"]["bucketName"] == "uploads-111111111111"
    assert a["account"] == b["account"] == ACCOUNT
    assert [e["detail"]["id"] for e in (a, b, c)] == ["a", "b", "c"]
    assert malformed == events[4]
