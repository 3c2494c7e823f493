"""Finding updates: when a finding already emailed is emailed again."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import pytest

from responder.domain.classify import classify
from responder.domain.models import Finding, GuardDutyEvent
from responder.domain.render import render
from responder.domain.scan_result import finding_detail
from responder.domain.settings import Band, Settings
from responder.domain.updates import FindingState, Incident, IncidentKind, decide_update, incident_of
from tests.conftest import load, minimal_event

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def c(severity=5.0, count=3, archived=False):
    event = minimal_event(
        severity=severity, service={"count": count, "archived": archived, "eventFirstSeen": "2026-11-20T08:00:00Z"}
    )
    return classify(GuardDutyEvent.model_validate(event).detail, Settings())


def state(band="Medium", hours_ago=1.0, count=2, archived=False):
    at = NOW - timedelta(hours=hours_ago)
    return FindingState(band=Band(band), notified_at=at, first_notified_at=at - DAY, count=count, archived=archived)


@pytest.mark.parametrize(
    ("finding", "previous", "renotify", "expected"),
    [
        (c(), None, DAY, (True, "first")),
        (c(archived=True), None, DAY, (False, "archived")),
        (c(count=9, archived=True), state(count=3), DAY, (True, "recurred")),
        (c(count=3, archived=True), state(count=3), DAY, (False, "archived")),
        (c(severity=8.0), state(band="Medium"), DAY, (True, "band_rose")),
        (c(severity=9.5), state(band="High"), DAY, (True, "band_rose")),
        (c(severity=5.0), state(band="High"), DAY, (False, "not_worse")),
        (c(), state(hours_ago=1), DAY, (False, "not_worse")),
        (c(), state(hours_ago=24), DAY, (True, "renotify_interval")),
        (c(), state(hours_ago=500), None, (False, "not_worse")),  # re-notify interval 0 = never
    ],
)
def test_update_rules(finding, previous, renotify, expected):
    decision = decide_update(finding.triage, previous, now=NOW, renotify_after=renotify)
    assert (decision.notify, decision.reason) == expected
    assert decision.previous is previous


def test_update_email_says_why_and_is_marked():
    finding = c(severity=8.0, count=57)
    decision = decide_update(finding.triage, state(band="Medium"), now=NOW, renotify_after=DAY)
    email = render(finding, update=decision)
    assert email.subject.startswith("[UPDATE] [GuardDuty HIGH 8.0]")
    assert "Why again: Severity rose from Medium to High; seen 57 times since 2026-11-20T08:00:00Z." in email.text
    assert "Severity rose from Medium to High" in email.html
    first = render(finding, update=decide_update(finding.triage, None, now=NOW, renotify_after=DAY))
    assert not first.subject.startswith("[UPDATE]")
    assert "Why again" not in first.text


def test_renotify_and_recurrence_wording():
    still = c(count=40)
    email = render(still, update=decide_update(still.triage, state(hours_ago=30), now=NOW, renotify_after=DAY))
    assert "Still active: seen 40 times since 2026-11-20T08:00:00Z (first emailed 2026-11-26 06:00 UTC)." in email.text
    back = c(count=9, archived=True)
    email = render(back, update=decide_update(back.triage, state(count=3), now=NOW, renotify_after=DAY))
    assert "It recurred after being archived: seen 9 times" in email.text


@pytest.mark.parametrize(("raw", "hours"), [(None, 24.0), ("0", 0.0), ("6", 6.0)])
def test_renotify_setting(raw, hours):
    env = {} if raw is None else {"RENOTIFY_HOURS": raw}
    assert Settings.from_env(env).renotify_hours == hours


@pytest.mark.parametrize("raw", ["-1", "never", "9000"])
def test_bad_renotify_setting(raw):
    from responder.domain.settings import SettingsError

    with pytest.raises(SettingsError, match="^RENOTIFY_HOURS"):
        Settings.from_env({"RENOTIFY_HOURS": raw})


# --- incidents: several findings about one thing -------------------------------------------------


def finding(path: str, **detail: object):
    """The fixture's finding, with ``detail`` keys replaced."""
    event = load(path)
    event["detail"].update(copy.deepcopy(detail))
    return GuardDutyEvent.model_validate(event).detail


def scan_finding(path: str = "families/S3ObjectScan_THREATS_FOUND.json", **object_fields: object):
    event = load(path)
    event["detail"]["s3ObjectDetails"].update(object_fields)
    return Finding.model_validate(finding_detail(event))


OBJECT_FINDING = "families/Object_S3_MaliciousFile_same_object.json"
SNAPSHOT = "families/Execution_EC2_MaliciousFile_Snapshot.json"
RESCAN = "families/Execution_EC2_MaliciousFile_Snapshot_rescan.json"


def test_a_scan_result_and_the_finding_for_the_same_object_are_one_incident():
    # Given the scan result and GuardDuty's finding for the same bucket, key and version
    scan, guardduty = scan_finding(), finding(OBJECT_FINDING)
    assert scan.id != guardduty.id
    # When each is assigned its incident / Then both are the object's
    assert incident_of(scan) == incident_of(guardduty)
    assert incident_of(scan).kind is IncidentKind.S3_OBJECT
    # and the key is a fixed-length digest, never a finding id (GuardDuty's ids have no '#')
    assert re.fullmatch(r"s3_object#[0-9a-f]{64}", incident_of(scan).key)


def test_another_version_key_or_bucket_is_another_incident():
    # Given scan results of the same key in other versions, other keys, other buckets
    same = incident_of(scan_finding())
    others = [
        scan_finding(versionId="other-version"),
        scan_finding(objectKey="incoming/2026/11/invoice-4472.pdf.exe"),
        scan_finding(bucketName="customer-uploads-444455556666"),
    ]
    # Then each is an incident of its own
    assert len({incident_of(o).key for o in others} | {same.key}) == 4


def test_the_etag_and_the_null_version_do_not_split_an_object():
    # Given an object of an unversioned bucket: the scan result says "null", the finding says nothing;
    # and the eTag, which GuardDuty's finding model does not carry
    scan = scan_finding(versionId="null", eTag="0" * 32)
    bucket = copy.deepcopy(load(OBJECT_FINDING)["detail"]["resource"])
    bucket["s3BucketDetails"][0]["s3ObjectDetails"][0].pop("versionId")
    guardduty = finding(OBJECT_FINDING, resource=bucket)
    # Then they are still one incident
    assert incident_of(scan) == incident_of(guardduty)


def test_a_finding_naming_no_single_object_is_its_own_incident():
    # Given Object:S3/MaliciousFile findings naming two objects, or none
    resource = copy.deepcopy(load(OBJECT_FINDING)["detail"]["resource"])
    objects = resource["s3BucketDetails"][0]["s3ObjectDetails"]
    objects.append({**objects[0], "key": "another-key"})
    two = finding(OBJECT_FINDING, resource=resource)
    none = finding(OBJECT_FINDING, resource={"resourceType": "S3Object", "s3BucketDetails": [{"name": "b"}]})
    # Then each is keyed by its own id (which object would the other finding have to match?)
    for f in (two, none):
        assert incident_of(f) == Incident(f.id, IncidentKind.FINDING)


def test_each_scan_of_one_backup_artefact_is_one_incident():
    # Given two scans of one snapshot: two findings with different ids
    first, rescan = finding(SNAPSHOT), finding(RESCAN)
    assert first.id != rescan.id
    # Then they are one incident, the snapshot's
    assert incident_of(first) == incident_of(rescan)
    assert incident_of(first).kind is IncidentKind.BACKUP_ARTEFACT


@pytest.mark.parametrize(
    "path",
    [
        "families/Execution_EC2_MaliciousFile_AMI.json",
        "families/Execution_EC2_MaliciousFile_RecoveryPoint.json",
        "families/Execution_S3_MaliciousFile_RecoveryPoint.json",
    ],
)
def test_every_backup_artefact_is_keyed_by_its_arn(path):
    # Given a Backup malware finding, and a later scan of the same artefact with another id
    original = finding(path)
    again = finding(path, id="f" * 32, updatedAt="2026-12-01T00:00:00.000Z")
    # Then both are the artefact's incident; another artefact's is another
    assert incident_of(original) == incident_of(again)
    assert incident_of(original).kind is IncidentKind.BACKUP_ARTEFACT
    assert incident_of(original) != incident_of(finding(SNAPSHOT))


def test_a_backup_finding_without_its_artefact_block_is_its_own_incident():
    # Given a Backup malware finding whose artefact block is missing (resourceType strings are unverified)
    bare = finding(SNAPSHOT, resource={"resourceType": "EBSSnapshot"})
    # Then it falls back to its own id
    assert incident_of(bare) == Incident(bare.id, IncidentKind.FINDING)


@pytest.mark.parametrize(
    "path",
    [
        "events/UnauthorizedAccess_EC2_TorClient.json",
        "families/Execution_SageMaker_CommandAndScriptingInterpreter.json",
        "families/AttackSequence_EKS_CompromisedCluster.json",
        "families/S3ObjectScan_SKIPPED.json",
    ],
)
def test_any_other_finding_is_its_own_incident(path):
    # Given an ordinary finding, or a skipped-scan notice (one line per object and result)
    event = load(path)
    detail = finding_detail(event) if "S3ObjectScan" in path else event["detail"]
    f = Finding.model_validate(detail)
    # Then its incident is its finding id: the key the state table has always used for it
    assert incident_of(f) == Incident(f.id, IncidentKind.FINDING)


def test_a_later_scan_of_an_artefact_follows_the_update_rule():
    # Given the first scan of a snapshot was emailed an hour ago (High)
    previous = state(band="High", hours_ago=1)
    rescan = classify(finding(RESCAN), Settings())
    # When the re-scan arrives (same band) / Then it is not emailed; after the interval it is
    quiet = decide_update(rescan.triage, previous, now=NOW, renotify_after=DAY)
    assert (quiet.notify, quiet.reason) == (False, "not_worse")
    later = decide_update(rescan.triage, state(band="High", hours_ago=30), now=NOW, renotify_after=DAY)
    assert (later.notify, later.reason) == (True, "renotify_interval")
