"""Pure: should an update of an incident we already emailed be emailed again?

GuardDuty republishes a finding (same id, higher count) every 15 minutes to 6 hours while
the activity continues. The first occurrence is emailed; an update only when its band
rises, when the re-notify interval has passed since the last email, or when a finding
that was archived recurs. Everything else is a skipped update (logged and counted).

The rule remembers incidents (``incident_of``), not findings: usually a finding is its own
incident, but some products report one thing under several finding ids. Malware Protection
for S3 reports a malicious object both as a scan-result event and, with GuardDuty enabled, as
an ``Object:S3/MaliciousFile`` finding: one incident, the object. Malware Protection for
Backup makes a new finding for every scan of a snapshot, AMI or recovery point: one
incident, the artefact. Later findings of an incident are its updates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from responder.domain.assessment import Triage, parse_type
from responder.domain.settings import Band

if TYPE_CHECKING:
    from responder.domain.models import Finding
    from responder.domain.resource_models import Resource


class UpdateReason(StrEnum):
    """Why an occurrence is emailed or not, given the last email about its finding.

    The values travel in queue messages (``routing.encode``): a message written by an earlier
    version must still decode, so a value is never renamed.
    """

    FIRST = "first"
    BAND_ROSE = "band_rose"
    RENOTIFY_INTERVAL = "renotify_interval"
    RECURRED = "recurred"
    NOT_WORSE = "not_worse"
    ARCHIVED = "archived"


# The reasons that email a finding again (the first email is not an update): marked as updates.
AGAIN: Final = frozenset({UpdateReason.BAND_ROSE, UpdateReason.RENOTIFY_INTERVAL, UpdateReason.RECURRED})


@dataclass(frozen=True)
class FindingState:
    """What we remember of a finding: the last email about it and the last occurrence seen."""

    band: Band
    notified_at: datetime
    first_notified_at: datetime
    count: int | None
    archived: bool


@dataclass(frozen=True)
class UpdateDecision:
    notify: bool
    reason: UpdateReason
    previous: FindingState | None = None


def decide_update(
    c: Triage, previous: FindingState | None, *, now: datetime, renotify_after: timedelta | None
) -> UpdateDecision:
    """The update rule, given what was last emailed about this finding (``None``: never)."""
    if previous is None:
        return UpdateDecision(not c.archived, UpdateReason.ARCHIVED if c.archived else UpdateReason.FIRST)
    if c.archived:
        # GuardDuty publishes an archived finding again only when it recurs.
        recurred = (c.count or 0) > (previous.count or 0)
        return UpdateDecision(recurred, UpdateReason.RECURRED if recurred else UpdateReason.ARCHIVED, previous)
    if c.band.rank > previous.band.rank:
        return UpdateDecision(True, UpdateReason.BAND_ROSE, previous)
    if renotify_after is not None and now - previous.notified_at >= renotify_after:
        return UpdateDecision(True, UpdateReason.RENOTIFY_INTERVAL, previous)
    return UpdateDecision(False, UpdateReason.NOT_WORSE, previous)


class IncidentKind(StrEnum):
    """What an incident is keyed on (a log field)."""

    FINDING = "finding"
    S3_OBJECT = "s3_object"
    BACKUP_ARTEFACT = "backup_artefact"


# The S3 object malware types (the second is the name of the June 2024 launch documents).
S3_OBJECT_MALWARE: Final = frozenset({"Object:S3/MaliciousFile", "S3Object:S3/MaliciousFile"})
BACKUP_ARTEFACTS: Final = frozenset({"Snapshot", "AMI", "RecoveryPoint"})  # the type's ``!artifact``
NO_VERSION: Final = frozenset({"", "null"})  # S3's versionId of an object in an unversioned bucket


@dataclass(frozen=True)
class Incident:
    """What the update rule remembers: the finding id itself, or a fixed-length key of the thing
    several findings are about (it cannot be confused with a finding id: it has a ``#``)."""

    key: str
    kind: IncidentKind


def incident_of(finding: Finding) -> Incident:
    """The incident a finding belongs to (see the module's docstring); its own id otherwise.

    The S3 object is its bucket, key and version (the eTag is not in every finding); the
    Backup artefact its ARN, whichever block holds it (``resourceType`` strings are unverified).
    A finding that names no single object or artefact is its own incident.
    """
    resource = finding.resource
    if resource is not None and finding.type in S3_OBJECT_MALWARE:
        found = _one_object(resource)
        if found is not None:
            return Incident(_key(IncidentKind.S3_OBJECT, *found), IncidentKind.S3_OBJECT)
    if resource is not None and parse_type(finding.type).artifact in BACKUP_ARTEFACTS:
        arn = _artefact_arn(resource)
        if arn:
            return Incident(_key(IncidentKind.BACKUP_ARTEFACT, finding.account_id, arn), IncidentKind.BACKUP_ARTEFACT)
    return Incident(finding.id, IncidentKind.FINDING)


def _key(kind: IncidentKind, *parts: str) -> str:
    """``kind#sha256``: fixed length whatever the key's length (S3 keys reach 1024 bytes)."""
    return f"{kind}#" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _one_object(resource: Resource) -> tuple[str, str, str] | None:
    """(bucket, key, version) of the finding's only object, when it names exactly one."""
    found = [
        (bucket.name, item.key, item.version_id or "")
        for bucket in resource.s3_bucket_details or []
        for item in bucket.s3_object_details or []
        if bucket.name and item.key
    ]
    if len(found) != 1:
        return None
    bucket, key, version = found[0]
    return bucket, key, "" if version in NO_VERSION else version


def _artefact_arn(resource: Resource) -> str | None:
    """The scanned snapshot's, AMI's or recovery point's ARN."""
    snapshot, image, point = resource.ebs_snapshot_details, resource.ec2_image_details, resource.recovery_point_details
    arns = (
        snapshot.snapshot_arn if snapshot else None,
        image.image_arn if image else None,
        point.recovery_point_arn if point else None,
    )
    return next((arn for arn in arns if arn), None)
