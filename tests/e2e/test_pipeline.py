"""The whole pipeline on the embedded AWS (moto's server on loopback), as `make demo` runs it."""

from __future__ import annotations

import email
import json
import shutil
from email.policy import default

import pytest

from demo.emulator import function_environment, synthesized_template
from demo.run import DEFAULT_EVENTS, FIXTURES, run
from responder.app.service import prepare
from responder.app.triage import parse_event
from responder.domain.cleaning import defang
from responder.domain.settings import Settings
from tests.conftest import load

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result():
    return run(DEFAULT_EVENTS, {"Channels": "sns,ses"}, write=False)


def _original(row):
    folder = next(f for f in DEFAULT_EVENTS if (f / row.source).exists())
    return json.loads((folder / row.source).read_text())


def test_findings_below_the_threshold_never_reach_the_handler(result):
    for row in result.rows:
        event = _original(row)
        severity = event.get("detail", {}).get("severity", 0)
        is_finding = event.get("detail-type") == "GuardDuty Finding"
        if not is_finding or severity < 4.0:
            assert row.status == "filtered", row
        else:
            assert row.status != "filtered", row
    assert sum(row.status == "filtered" for row in result.rows) == 5
    assert not any(row.status == "skipped" and "below" in row.outcome for row in result.rows)


def _settings(result):
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
    return Settings.from_env(function_environment(template, result.parameters, refs))


def test_each_immediate_finding_is_one_sns_and_one_ses_email_identical_to_the_preview(result):
    settings = _settings(result)
    sent = [row for row in result.rows if row.status == "sent"]
    assert len(sent) == 19
    immediate = [row for row in sent if row.route == "immediate"]
    assert len(immediate) == 15  # High and Critical, emailed one by one as they trickled in
    expected = {}
    for row in immediate:
        email_ = prepare(parse_event(_original(row)).detail, settings).email
        expected[email_.subject] = email_
    digest_subject = "[GuardDuty DIGEST] 4 findings: 4 MEDIUM"
    sns_subjects = [subject for subject, _text in result.sns_messages]
    ses = [email.message_from_string(raw, policy=default) for raw in result.ses_messages]
    assert sorted(sns_subjects) == sorted([*expected, digest_subject])
    assert sorted(m["Subject"] for m in ses) == sorted([*expected, digest_subject])
    for subject, text in result.sns_messages:
        if subject != digest_subject:
            assert text == expected[subject].text
    for message in ses:
        if message["Subject"] != digest_subject:
            body = message.get_body(("plain",)).get_content().replace("\r\n", "\n").strip()
            assert body == expected[message["Subject"]].text.strip()


def test_medium_findings_arrive_together_in_one_digest(result):
    [digest] = [mail for mail in result.mails if mail.kind == "digest"]
    medium = [row for row in result.rows if row.status == "sent" and row.route == "digest"]
    assert {row.band for row in medium} == {"Medium"}
    assert len(medium) == 4
    for row in medium:
        assert row.emails == [digest.number]
        assert f"Finding ID: {row.finding_id}" in digest.text
        # Shown as a finding type is: GuardDuty's own dotted names readable, any other dot defanged.
        assert defang(row.type, finding_type=True) in digest.text


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
    assert len(clean.sns_messages) == 16  # 15 High/Critical one by one, and one digest of 4 Medium


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
    ja = run([FIXTURES / "events"], {"Channels": "sns,ses", "Language": "ja"}, write=False)
    assert ja.unexpected_failures == 0
    assert {row.status for row in ja.rows} <= {"sent", "filtered"}
    for subject, text in ja.sns_messages:
        assert subject.isascii() and subject.isprintable()
        assert "GuardDuty Responder から送信" in text  # the body is Japanese
        assert "今すぐ行うこと" in text or "直近 60 分間" in text  # an alert's steps, or the digest's window
    subjects = [str(email.message_from_string(raw, policy=default)["Subject"]) for raw in ja.ses_messages]
    assert any(s.startswith("[サンプル] [GuardDuty 高 8.0]") for s in subjects)
    assert any(s.startswith("[GuardDuty ダイジェスト]") for s in subjects)
    assert all(raw.isascii() for raw in ja.ses_messages)  # RFC 2047 and base64 on the wire
