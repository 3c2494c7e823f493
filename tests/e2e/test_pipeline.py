"""The whole pipeline on the embedded AWS (moto's server on loopback), as `make demo` runs it
(in the emulated organisation: tests/e2e/test_organisation.py checks what it adds)."""

from __future__ import annotations

import email
import json
import shutil
from email.policy import default

import pytest

from demo.emulator import ACCOUNT, lambda_environment, optional_resource, synthesized_template
from demo.run import DEFAULT_EVENTS, FIXTURES, RECIPIENTS, run
from infra.triggers import OBJECT_SCAN_RESULT
from responder.app.service import prepare
from responder.app.settings import NotifierSettings
from responder.app.triage import parse_event
from responder.domain.cleaning import defang
from tests.conftest import load

pytestmark = pytest.mark.slow


# The bundled events hold other engineers' fixtures, whose triage may change: these tests check
# what holds for any content (each event's fate follows from the rule and the emails really
# sent), not how many emails a given set of fixtures makes.
DIGEST_PREFIX = "[GuardDuty DIGEST]"


SECURITY_TEAM = frozenset(RECIPIENTS.split(","))  # the Recipients: every finding, whatever the routes


@pytest.fixture(scope="module")
def result(demo_result):
    return demo_result  # as `make demo` runs (tests/e2e/conftest.py)


def _rule_delivers(event, *, object_scans: bool) -> bool:
    """What the stack's rules let through: findings at or above 4.0, and with ObjectScanAlerts
    scan results with threats found or that could not be scanned."""
    detail = event.get("detail", {})
    if event.get("detail-type") == "GuardDuty Finding":
        return detail.get("severity", 0) >= 4.0
    if event.get("detail-type") == OBJECT_SCAN_RESULT and object_scans:
        status = (detail.get("scanResultDetails") or {}).get("scanResultStatus")
        return status == "THREATS_FOUND" or detail.get("scanStatus") in ("SKIPPED", "FAILED")
    return False


def _original(row):
    folder = next(f for f in DEFAULT_EVENTS if (f / row.source).exists())
    return json.loads((folder / row.source).read_text())


def test_findings_below_the_threshold_never_reach_the_handler(result):
    for row in result.rows:
        delivered = _rule_delivers(_original(row), object_scans=True)
        assert (row.status != "filtered") == delivered, row
    assert any(row.status == "filtered" for row in result.rows)
    assert not any(row.status == "skipped" and "below" in row.outcome for row in result.rows)


def _settings(result):
    """The settings the emails were rendered with: the notifier's (its runbook settings shape the
    Respond section), the organisation's account names given as the AccountNames mapping (an email
    names an account the same whichever of the two named it)."""
    template = synthesized_template()
    names = {
        prefix: next(n for n in template["Resources"] if n.startswith(prefix))
        for prefix in ("AlertTopic", "ConfigurationSet", "StateTable", "ImmediateQueue", "DigestQueue")
    }
    refs = {
        names["AlertTopic"]: "arn:aws:sns:us-east-1:123456789012:t",
        names["ConfigurationSet"]: "c",
        names["StateTable"]: "state",
        names["ImmediateQueue"]: "https://sqs.us-east-1.amazonaws.com/123456789012/immediate",
        names["DigestQueue"]: "https://sqs.us-east-1.amazonaws.com/123456789012/digest",
    }
    for kind, prefix, ref in (
        ("AWS::SNS::Topic", "ChatTopic", "arn:aws:sns:us-east-1:123456789012:chat"),
        ("AWS::SNS::Topic", "RouteTopic", "arn:aws:sns:us-east-1:123456789012:route"),
        ("AWS::SSM::Parameter", "RoutesParameter", "/routes"),
    ):
        if name := optional_resource(template, kind, prefix):
            refs[name] = ref
    environment = lambda_environment(template, result.parameters, refs, "Notifier")
    if result.organisation:
        accounts = [*result.organisation.accounts, ACCOUNT]
        environment["ACCOUNT_NAMES"] = ",".join(f"{a}={result.organisation.name_of(a)}" for a in accounts)
    return NotifierSettings.from_env(environment)


def _put(result, row):
    """The event as the demo put it (moved into the organisation), with the envelope EventBridge sets."""
    return {"account": ACCOUNT, **result.events[row.number - 1]}


def test_each_immediate_finding_is_one_sns_and_one_ses_email_identical_to_the_preview(result):
    # Given the demo's run: the security team's messages (the AlertTopic, SES to Recipients)
    settings = _settings(result)
    assert result.unexpected_failures == 0
    sent = [row for row in result.rows if row.status == "sent"]
    immediate = [row for row in sent if row.route == "immediate"]
    assert immediate  # High and Critical, emailed one by one as they trickled in
    expected = {}
    for row in immediate:
        email_ = prepare(parse_event(_put(result, row)).detail, settings).email
        expected[email_.subject] = email_
    sns = [(subject, text) for subject, text in result.sns_messages if not subject.startswith(DIGEST_PREFIX)]
    ses = [m for m in result.sent if m.channel == "ses" and not m.subject.startswith(DIGEST_PREFIX)]
    team = [m for m in ses if frozenset(m.to) == SECURITY_TEAM]
    # Then each finding is one message on each channel, exactly the email the preview renders
    assert sorted(subject for subject, _text in sns) == sorted(expected)
    assert sorted(m.subject for m in team) == sorted(expected)
    for subject, text in sns:
        assert text == expected[subject].text
    # And a route owner's copy of an immediate finding is that same email, sent to the owner alone
    assert len(ses) > len(team)
    for sent in ses:
        message = email.message_from_string(sent.body, policy=default)
        body = message.get_body(("plain",)).get_content().replace("\r\n", "\n").strip()
        assert body == expected[message["Subject"]].text.strip()
        assert frozenset(sent.to) == SECURITY_TEAM or not frozenset(sent.to) & SECURITY_TEAM


def test_medium_findings_arrive_together_in_one_digest(result):
    # Given the Medium findings, and the security team's digest and each route owner's
    [digest] = [mail for mail in result.mails if mail.kind == "digest" and mail.route is None]
    owners = {mail.route: mail for mail in result.mails if mail.kind == "digest" and mail.route}
    medium = [row for row in result.rows if row.status == "sent" and row.route == "digest"]
    assert medium
    assert "Medium" in {row.band for row in medium} and not {row.band for row in medium} & {"High", "Critical"}
    for row in medium:
        # Then each is in the security team's digest, and in the digest of each route that wants it
        routes = [route.name for route in result.organisation.routes_for(row.account_id, row.band)]
        assert sorted(row.emails) == sorted([digest.number, *(owners[name].number for name in routes)])
        assert f"Finding ID: {row.finding_id}" in digest.text
        # Shown as a finding type is: GuardDuty's own dotted names readable, any other dot defanged.
        assert defang(row.type, finding_type=True) in digest.text
    # And an owner's digest holds its own accounts' findings only
    assert owners  # the Production team wants Medium: its accounts' Medium findings are its digest
    for name, mail in owners.items():
        held = [row for row in medium if mail.number in row.emails]
        assert held and all(
            name in {r.name for r in result.organisation.routes_for(row.account_id, row.band)} for row in held
        )


def test_a_burst_of_the_same_events_is_grouped(tmp_path):
    for name in (
        "UnauthorizedAccess_EC2_TorClient.json",
        "Trojan_EC2_DNSDataExfiltration.json",
        "Impact_S3_MaliciousIPCaller.json",
    ):
        shutil.copy(FIXTURES / "events" / name, tmp_path / name)
    grouped = run([tmp_path], {"Channels": "sns"}, write=False, arrival="burst")
    [mail] = grouped.mails
    assert mail.subject.startswith("[GuardDuty ALERTS] [SAMPLE] 3 findings: 3 HIGH")
    assert {row.status for row in grouped.rows} == {"sent"}


def test_an_already_reported_object_or_snapshot_is_skipped_in_the_organisation_too(result):
    # Given a re-scan of a reported snapshot and the scan result of an object already reported as a
    # finding: the demo keeps each resource's events in one member account, as AWS would
    skipped = [row for row in result.rows if row.status == "skipped"]
    # Then the function recognises the second of each pair (whichever arrived second: the forwarded
    # one comes later) and sends nothing for it
    assert sorted(row.type for row in skipped) == ["Execution:EC2/MaliciousFile!Snapshot", "Object:S3/MaliciousFile"]
    assert all(row.emails == [] and row.chats == [] for row in skipped)


def test_malformed_event_fails_the_invocation_and_is_kept_in_the_dlq(result):
    [failed] = [row for row in result.rows if row.status == "failed"]
    assert failed.source == "PrivilegeEscalation_Runtime_CGroupsReleaseAgentModified.json"
    [record] = result.dead_letters
    original = load("invalid/PrivilegeEscalation_Runtime_CGroupsReleaseAgentModified.json")
    assert record["requestPayload"]["detail"] == original["detail"]
    assert "detail.id" in record["responsePayload"]["errorMessage"]
    assert result.unexpected_failures == 0


def test_dead_letter_queue_is_empty_after_a_clean_run():
    clean = run([FIXTURES / "events", FIXTURES / "crafted"], {"Channels": "sns"}, write=False)
    assert clean.dead_letters == []
    assert clean.ses_messages == []
    # One message per finding emailed at once (each alone as they trickled in), and one digest
    immediate = [row for row in clean.rows if row.status == "sent" and row.route == "immediate"]
    assert [mail.kind for mail in clean.mails].count("digest") == 1
    assert len(clean.sns_messages) == len(immediate) + 1


def test_threshold_parameter_moves_the_rule_floor():
    high_only = run([FIXTURES / "events"], {"NotifyThreshold": "7.0", "Channels": "sns"}, write=False)
    delivered = [row for row in high_only.rows if row.status != "filtered"]
    assert delivered
    assert all(float(row.severity) >= 7.0 for row in delivered)
    assert {row.band for row in delivered} <= {"High", "Critical"}


def test_same_event_delivered_twice_is_emailed_once(tmp_path):
    for copy in ("first.json", "second.json"):
        shutil.copy(FIXTURES / "events" / "UnauthorizedAccess_EC2_TorClient.json", tmp_path / copy)
    twice = run([tmp_path], {"Channels": "sns,ses"}, write=False)
    assert [row.status for row in twice.rows] == ["sent", "skipped"]
    assert "update not worse" in twice.rows[1].outcome
    assert len(twice.sns_messages) == 1
    assert len(twice.ses_messages) == 1


def test_the_demo_refuses_parameters_cloudformation_would_refuse():
    from infra.resolve import UnresolvableError

    with pytest.raises(UnresolvableError, match="NotifyThreshold"):
        run([FIXTURES / "events"], {"NotifyThreshold": "4.5"}, write=False)


def test_japanese_run_sends_japanese_ses_subjects_and_ascii_sns_subjects():
    # Given the bundled events, run in Japanese on both channels
    ja = run([FIXTURES / "events"], {"Channels": "sns,ses", "Language": "ja"}, write=False)
    assert ja.unexpected_failures == 0
    assert {row.status for row in ja.rows} <= {"sent", "filtered"}
    # Then SNS sent messages (the checks below would pass vacuously on none), each with an ASCII subject
    assert ja.sns_messages
    for subject, text in ja.sns_messages:
        assert subject.isascii() and subject.isprintable()
        assert "GuardDuty Responder から送信" in text  # the body is Japanese
        assert "今すぐ行うこと" in text or "直近 60 分間" in text  # an alert's steps, or the digest's window
    assert ja.ses_messages
    subjects = [str(email.message_from_string(raw, policy=default)["Subject"]) for raw in ja.ses_messages]
    assert any(s.startswith("[サンプル] [GuardDuty 高 8.0]") for s in subjects)
    assert any(s.startswith("[GuardDuty ダイジェスト]") for s in subjects)
    assert all(raw.isascii() for raw in ja.ses_messages)  # RFC 2047 and base64 on the wire


FAMILIES = {  # GuardDuty's newest finding families: a type (or event) of each, in the bundled events
    "S3 object scan result with threats": lambda e: (
        e.get("detail-type") == OBJECT_SCAN_RESULT
        and e["detail"]["scanResultDetails"]["scanResultStatus"] == "THREATS_FOUND"
    ),
    "Backup malware": lambda e: (
        e["detail"].get("type", "").startswith(("Execution:EC2/MaliciousFile!", "Execution:S3/"))
    ),
    "EKS attack sequence": lambda e: e["detail"].get("type") == "AttackSequence:EKS/CompromisedCluster",
    "ECS attack sequence": lambda e: e["detail"].get("type") == "AttackSequence:ECS/CompromisedCluster",
    "EC2 attack sequence": lambda e: e["detail"].get("type") == "AttackSequence:EC2/CompromisedInstanceGroup",
    "AI Protection": lambda e: (
        e["detail"].get("type", "").startswith("Impact:IAMUser/")
        and bool(
            e["detail"].get("resource", {}).get("modelDetails")
            or e["detail"].get("resource", {}).get("bedrockGuardrailDetails")
        )
    ),
    "custom detection rule": lambda e: (
        e["detail"]
        .get("type", "")
        .startswith(("DefenseImpairment:Organizations/", "DefenseImpairment:Route53Resolver/", "Execution:SageMaker/"))
    ),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_the_bundled_events_hold_each_new_family_and_it_reaches_the_function(result, family):
    # Given the demo's own run of its bundled events
    rows = [row for row in result.rows if FAMILIES[family](_original(row))]
    # Then the family is there, and the rule delivered at least one of its events to the function
    assert rows, family
    assert any(row.status != "filtered" for row in rows), [(row.source, row.outcome) for row in rows]


def test_scan_results_reach_the_function_only_with_object_scan_alerts(tmp_path):
    # Given the Malware Protection for S3 scan results: threats found, clean, skipped, failed
    for path in (FIXTURES / "families").glob("S3ObjectScan_*.json"):
        shutil.copy(path, tmp_path / path.name)
    # When the demo runs with ObjectScanAlerts no (the stack's default), then yes (the demo's)
    off = run([tmp_path], {"Channels": "sns", "ObjectScanAlerts": "no"}, write=False)
    on = run([tmp_path], {"Channels": "sns", "ObjectScanAlerts": "yes"}, write=False)
    # Then the disabled rule delivers none; the enabled one all but the clean result
    assert {row.status for row in off.rows} == {"filtered"}
    for row in on.rows:
        assert (row.status != "filtered") == _rule_delivers(_original(row), object_scans=True), row
    assert [row.source for row in on.rows if row.status == "filtered"] == ["S3ObjectScan_NO_THREATS_FOUND.json"]
    assert on.unexpected_failures == 0
