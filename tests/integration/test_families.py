"""Malware Protection's scan results and re-scans through triage, the state table and the notifier (moto):
one email per S3 object and per Backup artefact, skipped and failed scans as digest lines only."""

from __future__ import annotations

import copy
import email
import json
from datetime import timedelta
from email.policy import default

import boto3
import pytest

from responder.adapters.observability import metrics
from responder.adapters.once import EVERY_TIME
from responder.adapters.state import NO_STATE, PREFIX
from responder.app.notifier import Notifier
from responder.app.triage import InvalidEventError
from responder.domain.classify import classify
from responder.domain.models import Finding
from responder.domain.render import render
from responder.domain.scan_alert import ID_PREFIX, prose
from responder.domain.scan_result import finding_detail
from responder.domain.settings import Settings
from tests.conftest import load
from tests.integration.conftest import REGION, SCHEDULED_EVENT, depth, ses_messages, sns_messages
from tests.integration.test_handler import FakeContext, load_handler
from tests.integration.test_noise import T0, Clock, Pipeline

THREATS = "families/S3ObjectScan_THREATS_FOUND.json"
CLEAN = "families/S3ObjectScan_NO_THREATS_FOUND.json"
SKIPPED = "families/S3ObjectScan_SKIPPED.json"
FAILED = "families/S3ObjectScan_FAILED.json"
OBJECT_FINDING = "families/Object_S3_MaliciousFile_same_object.json"
SNAPSHOT = "families/Execution_EC2_MaliciousFile_Snapshot.json"
RESCAN = "families/Execution_EC2_MaliciousFile_Snapshot_rescan.json"
TITLE = "Malware Protection for S3 found malware in an uploaded object"


def ses_parts(message: object) -> tuple[str, list[tuple[str | None, bytes]]]:
    """The text body and the (file name, bytes) of each attachment of a message moto's SES sent."""
    parsed = email.message_from_string(message.raw_data, policy=default)  # type: ignore[attr-defined]
    text = parsed.get_body(("plain",)).get_content()
    return text, [(part.get_filename(), part.get_content()) for part in parsed.iter_attachments()]


def scan_file(path: str) -> str:
    """The name of the file a scan-result alert attaches: from the validated id, never a finding's name."""
    return f"guardduty-s3-scan-result-{finding_detail(load(path))['id'].removeprefix(ID_PREFIX)}.json"


# Our English sentences of scan-result alerts, cut before any placeholder ({codes}).
OURS = [sentence.split("{")[0] for sentence in prose()]


def state_items(table: str) -> list[str]:
    """The ids of the state table's incident items (not the delivery markers or idempotency records)."""
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    return sorted(item["id"]["S"] for item in items if item["id"]["S"].startswith(PREFIX))


def test_threats_found_is_emailed_once(aws):
    # Given ObjectScanAlerts routes a scan result with threats to triage
    run = Pipeline(aws, Clock())
    # When it arrives, and EventBridge delivers it again
    first = run(load(THREATS))
    again = run(load(THREATS))
    # Then it is queued at once as the High malware alert, and the copy is not
    assert (first.status, first.reason, first.route) == ("queued", "notify", "immediate")
    assert first.finding_id == finding_detail(load(THREATS))["id"]
    assert (again.status, again.reason) == ("skipped", "update_not_worse")
    # and the recipient gets one email on each channel, the malware alert for the object
    [(subject, text)] = sns_messages(aws["topic_arn"])
    assert "[GuardDuty HIGH 8.0]" in subject and "Object:S3/MaliciousFile" in subject
    assert TITLE in text and "Trojan" in text
    assert len(ses_messages()) == 1
    # and the SES email attaches the scan-result event that arrived, not the finding made from it
    [(name, content)] = ses_parts(ses_messages()[0])[1]
    assert name == scan_file(THREATS)
    assert json.loads(content) == load(THREATS)
    # and the state table remembers one incident: the object
    [item] = state_items(aws["table"])
    assert item.startswith(PREFIX + "s3_object#")


@pytest.mark.parametrize(("first", "second"), [(THREATS, OBJECT_FINDING), (OBJECT_FINDING, THREATS)])
def test_the_scan_result_and_the_finding_for_one_object_make_one_email(aws, first, second):
    # Given GuardDuty is enabled too: the object yields the scan result and an Object:S3/MaliciousFile finding
    clock = Clock()
    run = Pipeline(aws, clock)
    # When one arrives, is emailed, and the other follows (in either order)
    emailed = run(load(first))
    clock.now = clock.now.replace(second=28)
    later = run(load(second))
    # Then the first is emailed and the second is an update of the same incident, not worse: not emailed
    assert (emailed.status, emailed.route) == ("queued", "immediate")
    assert (later.status, later.reason) == ("skipped", "update_not_worse")
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1
    assert len(state_items(aws["table"])) == 1
    # and the one email attaches what arrived first: the scan-result event, or GuardDuty's finding
    [(name, content)] = ses_parts(ses_messages()[0])[1]
    if first == THREATS:
        assert (name, json.loads(content)) == (scan_file(THREATS), load(THREATS))
    else:
        assert (name, json.loads(content)) == (
            f"guardduty-finding-{load(first)['detail']['id']}.json",
            load(first)["detail"],
        )


@pytest.mark.parametrize(("first", "second"), [(THREATS, OBJECT_FINDING), (OBJECT_FINDING, THREATS)])
def test_arriving_together_they_are_queued_once(aws, first, second):
    # Given both triage invocations read the state table before either wrote it (they ran concurrently)
    run = Pipeline(aws, Clock())
    run.triage.state = NO_STATE  # neither sees the other's state: only the exactly-once guard stands
    # When both are triaged
    outcomes = [run.handle(load(first)), run.handle(load(second))]
    # Then both decided to email, but the incident's first email was queued once
    assert [o.reason for o in outcomes] == ["notify", "notify"]
    assert depth(aws["immediate"]) == 1
    run.send()
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1


def test_queued_twice_while_the_table_failed_they_are_emailed_once(aws):
    # Given triage failed open (state table unavailable: no state, no exactly-once guard)
    run = Pipeline(aws, Clock())
    run.triage.state, run.triage.once = NO_STATE, EVERY_TIME
    # When the scan result is emailed, then the finding for the same object is queued in a later batch
    run(load(THREATS))
    run.handle(load(OBJECT_FINDING))
    assert depth(aws["immediate"]) == 1
    run.send()
    # Then the notifier's delivered-markers know the incident's first email went out: no second email
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1
    assert depth(aws["immediate"]) == 0


@pytest.mark.parametrize("immediate_band", ["Low", "High"])
def test_skipped_and_failed_scans_are_digest_lines_only(aws, immediate_band):
    # Given band rules that would send a Low finding at once (Low) or drop it (threshold 9)
    run = Pipeline(aws, Clock(), immediate_band=immediate_band, threshold=9.0)
    # When a skipped and a failed scan result arrive
    outcomes = [run(load(SKIPPED)), run(load(FAILED))]
    # Then both are queued for the digest, never the immediate queue, and nothing is emailed yet
    assert [(o.status, o.route) for o in outcomes] == [("queued", "digest"), ("queued", "digest")]
    assert sns_messages(aws["topic_arn"]) == [] and ses_messages() == []
    # When the digest runs / Then they are two lines of one digest
    assert Notifier.from_settings(run.settings).handle(SCHEDULED_EVENT, FakeContext()) == {"findings": 2, "emails": 1}
    [(subject, text)] = sns_messages(aws["topic_arn"])
    assert subject == "[GuardDuty DIGEST] 2 findings: 2 LOW"
    assert "Object:S3/MalwareScanSkipped" in text and "Object:S3/MalwareScanFailed" in text
    assert "skipped the scan of an uploaded object" in text and "could not scan an uploaded object" in text
    # and the SES digest attaches the two scan-result events that arrived, no made-up finding
    [(_text, files)] = [ses_parts(message) for message in ses_messages()]
    assert sorted(files) == sorted(
        (scan_file(path), json.dumps(load(path), ensure_ascii=False, indent=2).encode()) for path in (SKIPPED, FAILED)
    )
    assert not any(name.startswith("guardduty-finding") for name, _ in files)


@pytest.mark.parametrize("path", [THREATS, SKIPPED, FAILED])
def test_the_english_scan_result_email_reads_our_sentences_and_keeps_the_key_out_of_them(path):
    # Given a scan-result alert rendered for an English recipient
    text = render(classify(Finding.model_validate(finding_detail(load(path))), Settings())).text
    # Then its title and description are whole sentences of ours (the Japanese tests look for these)
    assert sum(sentence in text for sentence in OURS) >= 2
    # and the object key is shown once, plainly, in the resource section, never defanged in free text
    key = load(path)["detail"]["s3ObjectDetails"]["objectKey"]
    assert text.count(key) == 1 and "[.]" not in text.split("== ")[1]


def test_a_japanese_scan_result_email_carries_none_of_our_english_sentences(aws):
    # Given a Japanese recipient, and the English email of the same scan result (which has our sentences)
    run = Pipeline(aws, Clock(), language="ja")
    english = render(classify(Finding.model_validate(finding_detail(load(THREATS))), Settings())).text
    assert [sentence for sentence in OURS if sentence in english]
    # When a scan result with threats arrives
    run(load(THREATS))
    # Then neither the SES email nor the SNS one carries any English sentence of ours
    [(japanese, _files)] = [ses_parts(message) for message in ses_messages()]
    [(_subject, sns_text)] = sns_messages(aws["topic_arn"])
    for text in (japanese, sns_text):
        assert [sentence for sentence in OURS if sentence in text] == []
        assert "Malware Protection for S3 found" not in text
    assert load(THREATS)["detail"]["s3ObjectDetails"]["objectKey"] in japanese  # the key is still a fact


def test_a_japanese_digest_of_skipped_and_failed_scans_carries_none_of_our_english_sentences(aws):
    # Given a Japanese recipient, a skipped and a failed scan result queued for the digest
    run = Pipeline(aws, Clock(), language="ja")
    run(load(SKIPPED))
    run(load(FAILED))
    # When the digest runs
    assert Notifier.from_settings(run.settings).handle(SCHEDULED_EVENT, FakeContext())["findings"] == 2
    # Then its lines name both types but no English sentence of ours, on either channel
    [(japanese, _files)] = [ses_parts(message) for message in ses_messages()]
    [(_subject, sns_text)] = sns_messages(aws["topic_arn"])
    for text in (japanese, sns_text):
        assert "Object:S3/MalwareScanSkipped" in text and "Object:S3/MalwareScanFailed" in text
        assert [sentence for sentence in OURS if sentence in text] == []
        assert "could not scan an uploaded object" not in text and "skipped the scan of" not in text


def test_a_skipped_scan_delivered_again_is_one_digest_line(aws):
    # Given a skipped scan result, delivered twice
    run = Pipeline(aws, Clock())
    run(load(SKIPPED))
    again = run(load(SKIPPED))
    # Then the copy is an update not worse, and the digest has one line
    assert (again.status, again.reason) == ("skipped", "update_not_worse")
    assert Notifier.from_settings(run.settings).handle(SCHEDULED_EVENT, FakeContext())["findings"] == 1


def test_a_skipped_scan_suppressed_by_type_is_not_queued(aws):
    # Given the operator suppresses the notices by type
    run = Pipeline(aws, Clock(), suppress_types=("Object:S3/MalwareScan*",))
    # When one arrives / Then the suppression rule holds (only the threshold does not apply to notices)
    outcome = run(load(SKIPPED))
    assert (outcome.status, outcome.reason) == ("skipped", "suppressed")
    assert depth(aws["digest"]) == 0


def test_each_scan_of_one_backup_artefact_does_not_page_again(aws):
    # Given the first scan of a snapshot was emailed
    clock = Clock()
    run = Pipeline(aws, clock, renotify_hours=24.0)
    first = run(load(SNAPSHOT))
    assert (first.status, first.route) == ("queued", "immediate")
    # When a re-scan of the same snapshot arrives (a new finding id) an hour later
    clock.now += timedelta(hours=1)
    rescan = run(load(RESCAN))
    # Then it is an update of the artefact's incident, not worse: not emailed
    assert (rescan.status, rescan.reason) == ("skipped", "update_not_worse")
    assert len(sns_messages(aws["topic_arn"])) == 1
    # When another scan arrives after RenotifyHours / Then it is emailed again, marked as an update
    clock.now += timedelta(hours=24)
    third = copy.deepcopy(load(RESCAN))
    third["detail"]["id"] = "3e7a1c5f9b3d7e1a5c9f3b7d1e5a9c3f"
    again = run(third)
    assert (again.status, again.reason) == ("queued", "renotify_interval")
    subjects = [subject for subject, _ in sns_messages(aws["topic_arn"])]
    assert len(subjects) == 2 and subjects[1].startswith("[UPDATE] ")
    assert len(ses_messages()) == 2


def test_a_backup_scan_whose_band_rises_is_emailed_again(aws):
    # Given a Medium scan of a recovery point was emailed
    clock = Clock()
    run = Pipeline(aws, clock, threshold=1.0, immediate_band="Medium")
    run(load("families/Execution_EC2_MaliciousFile_RecoveryPoint.json"))
    # When a re-scan of it finds worse (High)
    rescan = copy.deepcopy(load("families/Execution_EC2_MaliciousFile_RecoveryPoint.json"))
    rescan["detail"].update(id="4b8f2d6a0c4e8b2f6d0a4c8e2b6f0d4a", severity=8.0)
    rose = run(rescan)
    # Then it is emailed again: the band rose
    assert (rose.status, rose.reason) == ("queued", "band_rose")
    assert len(sns_messages(aws["topic_arn"])) == 2


def test_a_clean_scan_result_is_ignored_and_counted(aws, monkeypatch, capsys, logs):
    # Given a scan result without threats (not routed by the stack's rule, but a hand-made rule may)
    handler = load_handler(monkeypatch, aws, STATE_TABLE=aws["table"])
    metrics.clear_metrics()  # counts other tests left in the process-wide Metrics
    # When triage receives it
    result = handler.lambda_handler(load(CLEAN), FakeContext())
    # Then it is ignored, counted, logged without its values, and nothing is queued or remembered
    assert (result["status"], result["reason"]) == ("ignored", "not_a_finding")
    assert depth(aws["immediate"]) == depth(aws["digest"]) == 0
    assert state_items(aws["table"]) == []
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]} == {
        "EventsIgnored"
    }
    assert "statement-4472" not in out + logs.getvalue()


def test_a_malformed_scan_result_fails_the_invocation(aws, monkeypatch, capsys, logs):
    # Given a scan result without its object key
    handler = load_handler(monkeypatch, aws, STATE_TABLE=aws["table"])
    event = copy.deepcopy(load(THREATS))
    del event["detail"]["s3ObjectDetails"]["objectKey"]
    # When triage receives it / Then the invocation fails (Lambda sends it to the DLQ), naming the field only
    with pytest.raises(InvalidEventError, match="detail.s3ObjectDetails.objectKey"):
        handler.lambda_handler(event, FakeContext())
    assert depth(aws["immediate"]) == depth(aws["digest"]) == 0
    [line] = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert line["level"] == "ERROR" and "detail.s3ObjectDetails.objectKey" in line["reason"]
    assert "customer-uploads" not in logs.getvalue()
    assert '"InvalidEvents"' in capsys.readouterr().out


def test_the_triage_log_names_the_incident_kind(aws, monkeypatch, logs):
    # Given the deployed triage function
    handler = load_handler(monkeypatch, aws, STATE_TABLE=aws["table"])
    # When a scan result and a Backup finding are queued
    handler.lambda_handler(load(THREATS), FakeContext())
    handler.lambda_handler(load(SNAPSHOT), FakeContext())
    # Then each log line says which incident the update rule used
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert [line["incident"] for line in lines if line["message"] == "finding queued"] == [
        "s3_object",
        "backup_artefact",
    ]


def test_state_written_by_the_previous_release_still_decides(aws):
    # Given items the previous release wrote, keyed by finding id: an ordinary finding and an
    # Object:S3/MaliciousFile finding, both emailed an hour before the upgrade
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    ordinary = load("events/UnauthorizedAccess_EC2_TorClient.json")
    malware = load(OBJECT_FINDING)
    at = (T0 - timedelta(hours=1)).isoformat()
    for event in (ordinary, malware):
        item = {
            "id": {"S": PREFIX + event["detail"]["id"]},
            "band": {"S": "High"},
            "notified_at": {"S": at},
            "first_notified_at": {"S": at},
            "archived": {"BOOL": False},
            "count": {"N": str(event["detail"]["service"]["count"])},
            "expiration": {"N": "4102444800"},
        }
        dynamodb.put_item(TableName=aws["table"], Item=item)
    run = Pipeline(aws, Clock())
    # When their next occurrences arrive after the upgrade
    outcomes = []
    for event in (ordinary, malware):
        later = copy.deepcopy(event)
        later["detail"]["updatedAt"] = "2026-11-28T09:30:00.000Z"
        outcomes.append(run(later))
    # Then the new release reads those items: both are updates not worse, and nothing is emailed
    assert [(o.status, o.reason) for o in outcomes] == [("skipped", "update_not_worse")] * 2
    assert sns_messages(aws["topic_arn"]) == []
