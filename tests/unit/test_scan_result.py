"""Malware Protection for S3 scan results read as the finding they stand for (``domain.scan_result``)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from responder.app.triage import InvalidEventError, parse_event, read_event
from responder.domain.classify import SAFE_ID, classify
from responder.domain.models import Finding
from responder.domain.scan_alert import (
    DESCRIPTIONS,
    EVENT_MEMBER,
    MALICIOUS_FILE,
    MAX_REASONS,
    NOTICES,
    REASON_LIMIT,
    SCAN_FAILED,
    SCAN_SKIPPED,
    STATUS_CODES,
    TITLES,
    prose,
    wording,
)
from responder.domain.scan_result import MAX_EVENT_BYTES, ScanResultError, finding_detail
from responder.domain.settings import Settings
from tests.conftest import FIXTURES, finding_from, load

THREATS = "families/S3ObjectScan_THREATS_FOUND.json"
SKIPPED = "families/S3ObjectScan_SKIPPED.json"
FAILED = "families/S3ObjectScan_FAILED.json"
CLEAN = "families/S3ObjectScan_NO_THREATS_FOUND.json"
OBJECT_FINDING = "families/Object_S3_MaliciousFile_same_object.json"
PLAN = "arn:aws:guardduty:us-east-1:111122223333:malware-protection-plan/7cb4f1e2a9d35c08e6a1"
KEY = "incoming/2026/11/invoice-4471.pdf.exe"
VERSION = "Gx9dSPr2vCq0fQe8sZ1H7mJk3LtYw5Nb"
ETAG = "9b2cf535f27731c974343645a3985328"


def event(path: str = THREATS, **detail: Any) -> dict[str, Any]:
    """The fixture with ``detail`` keys replaced (``None`` removes one)."""
    value = copy.deepcopy(load(path))
    for key, item in detail.items():
        if item is None:
            value["detail"].pop(key, None)
        else:
            value["detail"][key] = item
    return value


def obj(**fields: Any) -> dict[str, Any]:
    """The THREATS_FOUND fixture's s3ObjectDetails with ``fields`` replaced (``None`` removes one)."""
    value = copy.deepcopy(load(THREATS)["detail"]["s3ObjectDetails"])
    for key, item in fields.items():
        if item is None:
            value.pop(key, None)
        else:
            value[key] = item
    return value


def test_threats_found_is_an_object_malware_finding_with_every_field():
    # Given the scan result of an object in which two threats were found
    # When it is read as a finding
    detail = finding_detail(load(THREATS))
    # Then it is the finding GuardDuty would publish: type, default severity (High), envelope facts
    assert detail is not None
    assert detail["type"] == MALICIOUS_FILE == "Object:S3/MaliciousFile"
    assert detail["severity"] == 8.0
    assert (detail["accountId"], detail["region"], detail["partition"]) == ("111122223333", "us-east-1", "aws")
    assert detail["createdAt"] == detail["updatedAt"] == "2026-11-20T09:41:07Z"
    assert re.fullmatch(r"s3-scan-[0-9a-f]{32}", detail["id"])
    # and the object as GuardDuty's S3Object findings name it
    assert detail["resource"] == {
        "resourceType": "S3Object",
        "s3BucketDetails": [
            {
                "name": "customer-uploads-111122223333",
                "arn": "arn:aws:s3:::customer-uploads-111122223333",
                "s3ObjectDetails": [
                    {
                        "objectArn": f"arn:aws:s3:::customer-uploads-111122223333/{KEY}",
                        "key": KEY,
                        "eTag": ETAG,
                        "versionId": VERSION,
                    }
                ],
            }
        ],
    }
    # and the threats as malwareScanDetails, with the scan's own facts kept for the record
    service = detail["service"]
    assert service["malwareScanDetails"] == {
        "uniqueThreatCount": 2,
        "threats": [{"name": "Trojan.Win32.Emotet.Example"}, {"name": "Trojan.GenericKD.71234567"}],
    }
    assert (service["count"], service["archived"]) == (1, False)
    assert service["eventFirstSeen"] == service["eventLastSeen"] == "2026-11-20T09:41:07Z"
    assert service["additionalInfo"] == {
        "source": "GuardDuty Malware Protection Object Scan Result",
        "malwareProtectionPlanArn": PLAN,
        "scanStatus": "COMPLETED",
        "scanResultStatus": "THREATS_FOUND",
        "statusReasons": [],
        "s3Throttled": False,
        EVENT_MEMBER: load(THREATS),  # the event as it arrived, for the SES attachment
    }
    # and title and description are our sentences for the kind of result, with no value of the event in them
    assert detail["title"] == "Malware Protection for S3 found malware in an uploaded object"
    assert detail["description"] == DESCRIPTIONS[MALICIOUS_FILE]
    for value in (KEY, "invoice", VERSION, "customer-uploads", "Trojan"):
        assert value not in detail["title"] and value not in detail["description"]
    # and the product's own models read it (no severity, id or type is missing)
    finding = Finding.model_validate(detail)
    assert finding.severity == 8.0 and SAFE_ID.fullmatch(finding.id)
    [bucket] = finding.resource.s3_bucket_details
    assert bucket.s3_object_details[0].version_id == VERSION


@pytest.mark.parametrize(
    ("path", "kind", "verb", "codes"),
    [
        (SKIPPED, SCAN_SKIPPED, "skipped the scan of", "SKIPPED, UNSUPPORTED, PASSWORD_PROTECTED_FILE"),
        (FAILED, SCAN_FAILED, "could not scan", "FAILED, ACCESS_DENIED"),
    ],
)
def test_a_scan_skipped_or_failed_is_a_low_notice_naming_the_object_and_why(path, kind, verb, codes):
    # Given the scan result of an object that could not be scanned
    source = load(path)
    # When it is read as a finding
    detail = finding_detail(source)
    # Then it is a Low notice of its own type, naming the object in its resource
    assert detail is not None
    assert (detail["type"], detail["severity"]) == (kind, 2.0)
    item = source["detail"]["s3ObjectDetails"]
    assert detail["resource"]["s3BucketDetails"][0]["s3ObjectDetails"][0]["key"] == item["objectKey"]
    # and its title and description say what happened, and end with GuardDuty's own codes (statuses, reasons)
    assert detail["title"] == f"Malware Protection for S3 {verb} an uploaded object"
    assert detail["description"] == (
        f"{DESCRIPTIONS[kind]} Scan status, result and reasons as Malware Protection reported them: {codes}."
    )
    # and no value the uploader chose is inside our sentences
    for value in (item["objectKey"], item["versionId"], item["bucketName"]):
        assert value not in detail["title"] and value not in detail["description"]
    assert "malwareScanDetails" not in detail["service"]
    assert detail["service"]["additionalInfo"]["statusReasons"] == source["detail"]["statusReasons"]


def test_a_clean_object_is_no_finding():
    # Given the scan result of an object without threats
    # When it is read / Then there is nothing to tell
    assert finding_detail(load(CLEAN)) is None
    assert parse_event(load(CLEAN)) is None


@pytest.mark.parametrize(
    ("status", "result", "expected"),
    [
        ("COMPLETED", "THREATS_FOUND", MALICIOUS_FILE),
        ("SKIPPED", "UNSUPPORTED", SCAN_SKIPPED),
        ("SKIPPED", None, SCAN_SKIPPED),  # no scanResultDetails at all
        ("COMPLETED", "UNSUPPORTED", SCAN_SKIPPED),
        ("FAILED", "ACCESS_DENIED", SCAN_FAILED),
        ("FAILED", "FAILED", SCAN_FAILED),
        ("COMPLETED", "ACCESS_DENIED", SCAN_FAILED),
        ("COMPLETED", "FAILED", SCAN_FAILED),
    ],
)
def test_every_documented_status_pair(status, result, expected):
    # Given a scan result with these statuses
    results = None if result is None else {"scanResultStatus": result, "threats": None}
    source = event(scanStatus=status, scanResultDetails=results)
    # When it is read / Then it is the right kind of finding
    assert finding_detail(source)["type"] == expected


@pytest.mark.parametrize(
    ("status", "result"), [("COMPLETED", "QUARANTINED"), ("PENDING", None), ("completed", "threats_found")]
)
def test_an_unknown_status_fails_clearly(status, result):
    # Given statuses GuardDuty does not document (statuses are case-sensitive)
    results = None if result is None else {"scanResultStatus": result}
    # When it is read / Then it fails without guessing, naming no value
    with pytest.raises(ScanResultError, match="unknown status") as raised:
        finding_detail(event(scanStatus=status, scanResultDetails=results))
    assert status not in str(raised.value)


def test_the_id_is_derived_from_the_object_and_the_result():
    # Given the same object's scan result, delivered twice
    first, again = finding_detail(load(THREATS)), finding_detail(load(THREATS))
    # Then it has the same id both times (a redelivery is recognised as such)
    assert first is not None and again is not None and first["id"] == again["id"]
    # and any other version, eTag, key, bucket or result has another id
    others = [
        event(s3ObjectDetails=obj(versionId="other")),
        event(s3ObjectDetails=obj(versionId=None)),
        event(s3ObjectDetails=obj(eTag="0" * 32)),
        event(s3ObjectDetails=obj(objectKey=KEY + "x")),
        event(s3ObjectDetails=obj(bucketName="customer-uploads-444455556666")),
        event(scanStatus="FAILED", scanResultDetails={"scanResultStatus": "ACCESS_DENIED"}),
    ]
    ids = {finding_detail(other)["id"] for other in others}
    assert len(ids) == len(others) and first["id"] not in ids
    # and no separator in a key can forge another object's id
    split = finding_detail(event(s3ObjectDetails=obj(bucketName="a", objectKey='b","c')))
    joined = finding_detail(event(s3ObjectDetails=obj(bucketName='a","b', objectKey="c")))
    assert split["id"] != joined["id"]


def test_hostile_values_are_kept_raw_and_bounded_where_they_are_ours():
    # Given a key anyone allowed to upload chooses: 1024 characters of markup, controls and newlines
    key = ("<script>alert(1)</script>\n\u202e\x00" * 40)[:1024]
    names = [{"name": f"Trojan.{i}\n<b>"} for i in range(12)] + [
        {"name": 7},
        "bare",
        {"name": "  "},
        {"name": "Trojan.0\n<b>"},
    ]
    source = event(
        s3ObjectDetails=obj(objectKey=key),
        scanResultDetails={"scanResultStatus": "THREATS_FOUND", "threats": names},
    )
    # When it is read
    detail = finding_detail(source)
    assert detail is not None
    # Then the key is the object's own, raw (render cleans every value it shows)
    assert detail["resource"]["s3BucketDetails"][0]["s3ObjectDetails"][0]["key"] == key
    # and the id stays a short, safe identifier
    assert SAFE_ID.fullmatch(detail["id"]) and len(detail["id"]) == 40
    # and threat names that are not strings are left out, repeats once
    threats = detail["service"]["malwareScanDetails"]["threats"]
    assert [t["name"] for t in threats] == [f"Trojan.{i}\n<b>" for i in range(12)]
    # and neither the key nor a threat name reaches our title or description
    assert detail["title"] == TITLES[MALICIOUS_FILE] and detail["description"] == DESCRIPTIONS[MALICIOUS_FILE]


@pytest.mark.parametrize(
    ("threats", "count"),
    [(None, 0), ([], 0), ({"name": "x"}, 0), ([{"name": "Eicar"}], 1)],
)
def test_threats_found_without_usable_names_is_still_an_alert(threats, count):
    # Given THREATS_FOUND whose threat list is null, empty, or not a list
    source = event(scanResultDetails={"scanResultStatus": "THREATS_FOUND", "threats": threats})
    # When it is read / Then it is still the malware alert, with the count it can tell
    detail = finding_detail(source)
    assert detail is not None and detail["type"] == MALICIOUS_FILE
    assert detail["service"]["malwareScanDetails"]["uniqueThreatCount"] == count
    assert detail["description"] == DESCRIPTIONS[MALICIOUS_FILE]


@pytest.mark.parametrize(
    ("reasons", "where", "expected"),
    [
        ("PASSWORD_PROTECTED_FILE", "detail", ["PASSWORD_PROTECTED_FILE"]),
        (["A", "A", "B", 3, None, ["nested"], "  "], "detail", ["A", "B"]),
        ([{"code": "FILE_TOO_LARGE", "message": "over 5 GB", "size": 9}], "detail", ["FILE_TOO_LARGE over 5 GB"]),
        ({"reason": "KMS_ACCESS_DENIED"}, "detail", ["KMS_ACCESS_DENIED"]),
        (17, "detail", []),
        (None, "detail", []),
        (["UNSUPPORTED_FILE_TYPE"], "scanResultDetails", ["UNSUPPORTED_FILE_TYPE"]),
    ],
)
def test_status_reasons_of_any_shape_are_read_defensively(reasons, where, expected):
    # Given a skipped scan whose statusReasons (undocumented) has this shape and place
    source = event(SKIPPED, statusReasons=None)
    if where == "detail":
        source["detail"]["statusReasons"] = reasons
    else:
        source["detail"]["scanResultDetails"]["statusReasons"] = reasons
    # When it is read
    detail = finding_detail(source)
    # Then the reasons it can read are kept as text; nothing else fails the notice
    assert detail is not None and detail["type"] == SCAN_SKIPPED
    assert detail["service"]["additionalInfo"]["statusReasons"] == expected
    assert detail["description"].endswith(", ".join(["SKIPPED", "UNSUPPORTED", *expected]) + ".")


def test_status_reasons_are_bounded():
    # Given a scan result with very many, very long reasons
    source = event(SKIPPED, statusReasons=[f"{i}" + "R" * 500 for i in range(50)])
    # When it is read / Then a few reasons of bounded length are kept
    reasons = finding_detail(source)["service"]["additionalInfo"]["statusReasons"]
    assert len(reasons) == MAX_REASONS and all(len(r) == REASON_LIMIT for r in reasons)


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("eu-west-1", "aws")]
)
def test_the_partition_follows_the_region(region, partition):
    # Given a scan result from this Region
    source = load(THREATS) | {"region": region}
    # When it is read / Then the partition and the ARNs are that Region's
    detail = finding_detail(source)
    assert detail is not None and detail["partition"] == partition and detail["region"] == region
    assert detail["resource"]["s3BucketDetails"][0]["arn"].startswith(f"arn:{partition}:s3:::")


def test_only_a_malware_protection_plan_is_named_as_the_plan():
    # Given an envelope whose resources hold something else
    source = load(THREATS) | {"resources": ["arn:aws:s3:::customer-uploads-111122223333", 7]}
    # When it is read / Then no plan is named (the finding is still made)
    detail = finding_detail(source)
    assert detail is not None and detail["service"]["additionalInfo"]["malwareProtectionPlanArn"] is None


def test_an_unversioned_object_has_no_version():
    # Given an object of an unversioned bucket (no versionId, no eTag)
    detail = finding_detail(event(s3ObjectDetails=obj(versionId=None, eTag=None)))
    # Then the object names no version
    assert detail is not None
    [item] = detail["resource"]["s3BucketDetails"][0]["s3ObjectDetails"]
    assert set(item) == {"objectArn", "key"}


def test_the_aws_documentation_example_is_read():
    # Given the example event of AWS's documentation (corpus edge event)
    [source] = [load(path) for path in sorted((FIXTURES / "corpus/edge").glob("MalwareProtection*.json"))]
    # When it is read / Then it is the malware alert for its object
    detail = finding_detail(source)
    assert detail is not None and detail["type"] == MALICIOUS_FILE
    assert detail["service"]["malwareScanDetails"]["threats"] == [{"name": "EICAR-Test-File (not a virus)"}]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda e: e["detail"]["s3ObjectDetails"].pop("bucketName"), "detail.s3ObjectDetails.bucketName"),
        (lambda e: e["detail"]["s3ObjectDetails"].update(bucketName=12), "detail.s3ObjectDetails.bucketName"),
        (lambda e: e["detail"]["s3ObjectDetails"].update(objectKey=""), "detail.s3ObjectDetails.objectKey"),
        (lambda e: e["detail"]["s3ObjectDetails"].update(objectKey="k" * 1025), "detail.s3ObjectDetails.objectKey"),
        (lambda e: e["detail"].pop("s3ObjectDetails"), "detail.s3ObjectDetails"),
        (lambda e: e["detail"].pop("scanStatus"), "detail.scanStatus"),
        (lambda e: e["detail"].update(scanStatus=["COMPLETED"]), "detail.scanStatus"),
        (lambda e: e.pop("account"), "account"),
        (lambda e: e.update(region=None), "region"),
        (lambda e: e.update(detail="COMPLETED"), "detail"),
    ],
)
def test_a_malformed_scan_result_fails_with_where_it_is_wrong(change, where):
    # Given a scan result missing what the alert cannot do without
    source = copy.deepcopy(load(THREATS))
    change(source)
    # When the conversion reads it / Then it names the field
    with pytest.raises(ValidationError) as raised:
        finding_detail(source)
    assert where in {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()}
    # and triage refuses the event with that location and none of its values (it goes to the DLQ)
    with pytest.raises(InvalidEventError, match=f"^malformed malware scan result: {re.escape(where)}") as refused:
        read_event(source)
    assert "customer-uploads" not in str(refused.value) and "invoice" not in str(refused.value)


def test_an_unknown_status_is_refused_by_triage():
    # Given a scan result with statuses no document names
    source = event(scanStatus="PENDING", scanResultDetails=None)
    # When triage reads it / Then the invocation fails (the DLQ keeps it for a look)
    with pytest.raises(InvalidEventError, match="^malformed malware scan result: scan result with an unknown status"):
        read_event(source)


def test_triage_reads_a_scan_result_as_its_finding_and_a_notice_as_a_notice():
    # Given the three kinds of scan results triage is sent
    threats, skipped, failed = (read_event(load(path)) for path in (THREATS, SKIPPED, FAILED))
    # Then each is the typed finding, and the detail queued is the converted finding
    assert threats is not None and skipped is not None and failed is not None
    assert threats.event.detail.type == MALICIOUS_FILE and not threats.notice
    assert threats.detail == finding_detail(load(THREATS))
    assert skipped.notice and failed.notice
    assert json.loads(json.dumps(threats.detail)) == threats.detail  # queueable as JSON


def test_a_guardduty_finding_of_a_notice_type_is_not_a_notice():
    # Given a GuardDuty Finding event (not a scan result) whose type happens to be a notice type
    source = load("families/Object_S3_MaliciousFile_same_object.json")
    source["detail"]["type"] = SCAN_SKIPPED
    # When triage reads it / Then it is an ordinary finding, held to the band rules
    incoming = read_event(source)
    assert incoming is not None and not incoming.notice
    assert incoming.detail is source["detail"]  # queued exactly as GuardDuty published it


def test_the_event_kept_for_the_attachment_is_bounded_and_says_so():
    # Given a scan result far larger than a real one (very many long status reasons, kept in the event)
    source = event(SKIPPED, statusReasons=["R" * 5_000 for _ in range(100)])
    # When it is read
    kept = finding_detail(source)["service"]["additionalInfo"][EVENT_MEMBER]
    # Then the copy kept is bounded, says first that it was trimmed, and keeps the event's envelope and object
    assert len(json.dumps(kept).encode()) <= MAX_EVENT_BYTES
    assert next(iter(kept)) == "_trimmed" and "scan-result event was larger" in kept["_trimmed"]
    assert (kept["id"], kept["account"], kept["detail-type"]) == (
        source["id"],
        source["account"],
        source["detail-type"],
    )
    item = source["detail"]["s3ObjectDetails"]
    assert kept["detail"]["s3ObjectDetails"] == {k: item[k] for k in ("bucketName", "objectKey", "versionId")}
    assert kept["detail"]["scanStatus"] == "SKIPPED" and kept["resources"] == [PLAN]


def test_every_sentence_a_recipient_reads_is_a_catalogue_message():
    # Given the sentences of scan-result alerts
    sentences = [*TITLES.values(), *DESCRIPTIONS.values(), STATUS_CODES]
    # Then prose() lists them all (make i18n collects it), and every kind of result has a title and a description
    assert prose() == sentences
    assert set(TITLES) == set(DESCRIPTIONS) == {MALICIOUS_FILE, *NOTICES}
    # and the catalogue tools collect them (catalog.source_messages), so each gets its Japanese translation
    from responder.domain.catalog import source_messages

    assert set(sentences) <= set(source_messages())


@pytest.mark.parametrize("path", [THREATS, SKIPPED, FAILED])
def test_classify_shows_our_sentences_in_the_recipients_language(path):
    # Given a scan-result alert, classified for an English and for a Japanese recipient
    detail = finding_detail(load(path))
    finding = Finding.model_validate(detail)
    english = classify(finding, Settings()).presentation
    japanese = classify(finding, Settings(language="ja")).presentation
    # Then each shows the title and description worded for its language, from the same codes
    info = detail["service"]["additionalInfo"]
    for shows, lang in ((english, "en"), (japanese, "ja")):
        title, description = wording(detail["type"], info, lang)
        assert shows.title == title
        assert [f.value for f in shows.overview if f.label == "f.description"] == [description]
    assert english.title == detail["title"]


def test_a_guardduty_finding_keeps_its_own_title_and_description():
    # Given GuardDuty's own finding for the object (its title and description are GuardDuty's text)
    finding = finding_from(OBJECT_FINDING)
    # When it is classified for a Japanese recipient
    shows = classify(finding, Settings(language="ja")).presentation
    # Then the title and description are GuardDuty's, unchanged
    assert shows.title == finding.title
    assert [f.value for f in shows.overview if f.label == "f.description"] == [finding.description]


def test_a_lone_surrogate_in_the_event_is_kept_for_the_attachment():
    # Given a value JSON can carry but UTF-8 cannot encode (a lone surrogate from a \ud800 escape)
    source = event(scanResultDetails={"scanResultStatus": "THREATS_FOUND", "threats": [{"name": "a\ud800b"}]})
    # When it is read / Then the event is kept as it arrived, nothing fails
    assert finding_detail(source)["service"]["additionalInfo"][EVENT_MEMBER] == source
