"""Pure: a Malware Protection for S3 scan result as the finding it stands for.

Malware Protection for S3 used without a GuardDuty detector publishes no finding, only a
``GuardDuty Malware Protection Object Scan Result`` event per scanned object. ``finding_detail``
turns that event into the finding detail GuardDuty would have published, so it is classified,
routed, queued and rendered exactly like one:

- threats found: an ``Object:S3/MaliciousFile`` finding at GuardDuty's default severity for that
  type (High), with the object in ``s3BucketDetails`` and the threat names in
  ``malwareScanDetails``. When GuardDuty is enabled too, the same object also yields a real
  ``Object:S3/MaliciousFile`` finding: ``updates.incident_of`` gives both the same incident, so
  the recipient gets one email for one object.
- a scan skipped or failed: a Low notice (``NOTICES``) that goes to the digest only, whatever the
  band rules say; the object was not checked for malware, which is worth a line, not a page.
- no threats found: nothing (``None``).

The event carries no finding id, severity or detector: the id is derived from the object
(bucket, key, version, eTag) and the kind of result, so a redelivered event has the same id;
account, Region and time come from the envelope. Values are copied raw (they are
attacker-influenced: anyone allowed to upload chooses the key); ``render`` cleans them.
``statusReasons`` is not in GuardDuty's reference, so it is read from wherever and in whatever
shape it comes, bounded.

The title and description are ours, not GuardDuty's: whole sentences of the message catalogue
(``scan_alert.prose``), chosen by the kind of result and shown in the recipient's language
(``scan_alert.wording``, called by ``classify``). No value of the event is inside them: the bucket, key, version and
threats are facts of the email, and an object key is free text its uploader chose. The event
itself travels with the finding (``EVENT_MEMBER``, bounded) so the SES email attaches what
arrived, not this synthesised finding (``export.exported``).

Only the triage imports this module and builds its pydantic models; the types, ids and wording
every function needs are in ``scan_alert``.
"""

import hashlib
import json
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from responder.domain.model_base import Lenient, Model
from responder.domain.scan_alert import (
    DETAIL_TYPE,
    EVENT_MEMBER,
    ID_PREFIX,
    MALICIOUS_FILE,
    MALICIOUS_SEVERITY,
    MAX_REASONS,
    NOTICE_SEVERITY,
    REASON_LIMIT,
    SCAN_FAILED,
    SCAN_SKIPPED,
    wording,
)

# scanStatus / scanResultStatus values (GuardDuty UG, "Monitoring S3 object scans")
COMPLETED: Final = "COMPLETED"
THREATS_FOUND: Final = "THREATS_FOUND"
NO_THREATS_FOUND: Final = "NO_THREATS_FOUND"
SKIPPED_BY_STATUS: Final = frozenset({"SKIPPED"})
SKIPPED_BY_RESULT: Final = frozenset({"UNSUPPORTED"})
FAILED_BY_STATUS: Final = frozenset({"FAILED"})
FAILED_BY_RESULT: Final = frozenset({"ACCESS_DENIED", "FAILED"})

FIELD_LIMIT: Final = 64  # characters of a status or time copied from the event
# A scan result is about 1 KB (a key is at most 1 KiB); the bound keeps a freak one from filling
# the queue message (SQS: 256 KiB): a larger one is kept as its envelope, object and statuses.
MAX_EVENT_BYTES: Final = 65_536  # bytes of its compact ASCII JSON (non-ASCII escaped: an upper bound)
OBJECT_LIMIT: Final = 1_024  # characters of the key or version kept in a trimmed copy (S3's key limit)
ENVELOPE: Final = ("version", "id", "detail-type", "source", "account", "time", "region")
ENVELOPE_LIMIT: Final = 256  # characters of one envelope member kept in a trimmed copy
TRIM_NOTE: Final = "_trimmed"  # the member export's trimmed files use too: the reader sees one convention


class ScanResultError(ValueError):
    """A scan result whose statuses say neither threats found, nothing found, skipped nor failed."""


class ScannedObject(Model):
    bucket_name: str = Field(min_length=1, max_length=255)
    object_key: str = Field(min_length=1, max_length=1024)  # S3: at most 1024 bytes of UTF-8
    e_tag: Lenient[str] = None
    version_id: Lenient[str] = None
    s3_throttled: Lenient[bool] = None


class ScanResultDetails(Model):
    scan_result_status: Lenient[str] = None
    threats: Any = None  # a list of {"name": ...}, or null: read item by item
    status_reasons: Any = None  # (U) in case GuardDuty puts them here


class ScanResult(Model):
    """The ``detail`` of a scan-result event: strict only on the object and the scan status."""

    schema_version: Lenient[str] = None
    scan_status: str = Field(min_length=1, max_length=FIELD_LIMIT)
    resource_type: Lenient[str] = None
    s3_object_details: ScannedObject
    scan_result_details: Lenient[ScanResultDetails] = None
    status_reasons: Any = None  # (U) not in the reference: any shape


class ScanResultEvent(BaseModel):
    """The EventBridge envelope: the account and Region stand in for the finding's own."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    source: str
    detail_type: str = Field(alias="detail-type")
    account: str = Field(min_length=1, max_length=64)
    region: str = Field(min_length=1, max_length=64)
    time: Lenient[str] = None
    resources: Lenient[list[str]] = None
    detail: ScanResult


def finding_detail(event: dict[str, Any]) -> dict[str, Any] | None:
    """The finding detail the scan-result ``event`` stands for; ``None`` when no threat was found.

    Raises
    ------
    pydantic.ValidationError
        When the event lacks the account, Region, scan status, bucket or object key, or one
        of them is not a string of a plausible length.
    ScanResultError
        When its statuses are none of those GuardDuty documents.
    """
    scan = ScanResultEvent.model_validate(event)
    detail = scan.detail
    status = detail.scan_status
    results = detail.scan_result_details or ScanResultDetails()
    result = results.scan_result_status
    if result == THREATS_FOUND:
        return _finding(scan, event, MALICIOUS_FILE, _threat_names(results.threats))
    if status in SKIPPED_BY_STATUS or (status == COMPLETED and result in SKIPPED_BY_RESULT):
        return _finding(scan, event, SCAN_SKIPPED, ())
    if status in FAILED_BY_STATUS or (status == COMPLETED and result in FAILED_BY_RESULT):
        return _finding(scan, event, SCAN_FAILED, ())
    if status == COMPLETED and result == NO_THREATS_FOUND:
        return None
    raise ScanResultError("scan result with an unknown status (neither threats found, clean, skipped nor failed)")


def _kept(event: dict[str, Any], scan: ScanResultEvent) -> dict[str, Any]:
    """The event as it arrived (a JSON copy); when larger than ``MAX_EVENT_BYTES``, its envelope,
    object and statuses (validated, bounded), first saying so."""
    # ASCII JSON: its length is its size, and a lone surrogate in a value cannot fail an encode.
    text = json.dumps(event)
    if len(text) <= MAX_EVENT_BYTES:
        copied: dict[str, Any] = json.loads(text)
        return copied
    item, results = scan.detail.s3_object_details, scan.detail.scan_result_details or ScanResultDetails()
    envelope = {key: value[:ENVELOPE_LIMIT] for key in ENVELOPE if isinstance(value := event.get(key), str)}
    obj = {"bucketName": item.bucket_name, "objectKey": item.object_key, "versionId": item.version_id}
    return {
        TRIM_NOTE: f"The scan-result event was larger than {MAX_EVENT_BYTES} bytes, so only its envelope, "
        "the object and the scan statuses were kept.",
        **envelope,
        "resources": [plan] if (plan := _plan(scan.resources)) else [],
        "detail": {
            "scanStatus": _bounded(scan.detail.scan_status),
            "s3ObjectDetails": {key: value[:OBJECT_LIMIT] for key, value in obj.items() if value},
            "scanResultDetails": {"scanResultStatus": _bounded(results.scan_result_status)},
        },
    }


def _finding(scan: ScanResultEvent, event: dict[str, Any], kind: str, threats: tuple[str, ...]) -> dict[str, Any]:
    detail, item = scan.detail, scan.detail.s3_object_details
    partition = _partition(scan.region)
    results = detail.scan_result_details or ScanResultDetails()
    result = _bounded(results.scan_result_status)
    reasons = _reasons(detail.status_reasons) or _reasons(results.status_reasons)
    time = _bounded(scan.time)
    service: dict[str, Any] = {"archived": False, "count": 1, "eventFirstSeen": time, "eventLastSeen": time}
    if kind == MALICIOUS_FILE:
        severity = MALICIOUS_SEVERITY
        service["malwareScanDetails"] = {
            "uniqueThreatCount": len(threats),
            "threats": [{"name": name} for name in threats],
        }
    else:
        severity = NOTICE_SEVERITY
    service["additionalInfo"] = {
        "source": DETAIL_TYPE,
        "malwareProtectionPlanArn": _plan(scan.resources),
        "scanStatus": _bounded(detail.scan_status),
        "scanResultStatus": result,
        "statusReasons": list(reasons),
        "s3Throttled": item.s3_throttled,
        EVENT_MEMBER: _kept(event, scan),
    }
    title, description = wording(kind, service["additionalInfo"], "en") or ("", "")
    s3_object: dict[str, Any] = {
        "objectArn": f"arn:{partition}:s3:::{item.bucket_name}/{item.object_key}",
        "key": item.object_key,
        "eTag": item.e_tag,
        "versionId": item.version_id,
    }
    return {
        "schemaVersion": "2.0",
        "accountId": scan.account,
        "region": scan.region,
        "partition": partition,
        "id": _finding_id(kind, scan),
        "type": kind,
        "severity": severity,
        "createdAt": time,
        "updatedAt": time,
        "title": title,
        "description": description,
        "resource": {
            "resourceType": "S3Object",
            "s3BucketDetails": [
                {
                    "name": item.bucket_name,
                    "arn": f"arn:{partition}:s3:::{item.bucket_name}",
                    "s3ObjectDetails": [{k: v for k, v in s3_object.items() if v is not None}],
                }
            ],
        },
        "service": service,
    }


def _finding_id(kind: str, scan: ScanResultEvent) -> str:
    """Deterministic: the same object and result always give the same id (a redelivery is a duplicate).

    JSON encodes the parts unambiguously (no separator can be forged inside a key)."""
    item = scan.detail.s3_object_details
    parts = [kind, scan.account, item.bucket_name, item.object_key, item.version_id, item.e_tag]
    return ID_PREFIX + hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _partition(region: str) -> str:
    """The AWS partition of a Region (the scan result names none)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _plan(resources: list[str] | None) -> str | None:
    """The malware-protection plan's ARN, the envelope's only resource."""
    for arn in resources or []:
        if arn.startswith("arn:") and ":malware-protection-plan/" in arn and len(arn) <= 300:
            return arn
    return None


def _bounded(value: str | None) -> str | None:
    return value[:FIELD_LIMIT] if value else None


def _threat_names(threats: Any) -> tuple[str, ...]:
    """The names of the threats, in order, each once; items of another shape are skipped."""
    names = [t.get("name") for t in threats if isinstance(t, dict)] if isinstance(threats, list) else []
    return tuple(dict.fromkeys(name for name in names if isinstance(name, str) and name.strip()))


def _reasons(value: Any) -> tuple[str, ...]:
    """Status reasons from a string, a list of strings, or objects of strings: bounded text."""
    items = value if isinstance(value, list) else [value]
    reasons: list[str] = []
    for item in items[:MAX_REASONS]:
        text = " ".join(v for v in item.values() if isinstance(v, str)) if isinstance(item, dict) else item
        if isinstance(text, str) and text.strip():
            reasons.append(text.strip()[:REASON_LIMIT])
    return tuple(dict.fromkeys(reasons))
