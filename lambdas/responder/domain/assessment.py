"""Pure: the triage facts of a finding (``assess``) and whether it is emailed (``decide``).

All the triage function computes: band, parsed type, canonical ThreatPurpose, suppression and the
account's name. ``classify`` builds an email's presentation and links on top of these; the triage
function imports only this module, so it loads nothing that only emails need (the Respond section's
runbooks, the evidence tables' wording: import-linter's ``triage-lean``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from responder.domain import guidance
from responder.domain.accounts import Account, name_of
from responder.domain.models import Finding
from responder.domain.resource_models import Resource
from responder.domain.service_models import Action, Service
from responder.domain.settings import Band, Bands, Settings
from responder.domain.suppression import suppressed_by

TYPE_RE: Final = re.compile(
    r"^(?P<purpose>[A-Za-z0-9]+):(?P<resource>[A-Za-z0-9]+)/(?P<family>[^.!]+)"
    r"(?:\.(?P<mechanism>[^!]+))?(?:!(?P<artifact>.+))?$"
)
SAFE_TYPE: Final = re.compile(r"^[A-Za-z0-9:/._!&-]{1,100}$")


@dataclass(frozen=True)
class TypeParts:
    purpose: str | None
    resource: str | None
    family: str | None
    mechanism: str | None
    artifact: str | None


@dataclass(frozen=True)
class Triage:
    """What the decisions, the update rule, routing, logs and metrics need: all the triage
    function computes (``assess``). Values copied from the finding are raw."""

    finding_id: str
    finding_type: str
    safe_type: str | None  # the type when it passes SAFE_TYPE, for subjects and logs
    parts: TypeParts
    purpose_key: str | None  # canonical guidance.PURPOSES key
    severity: float
    band: Band
    action_type: str | None
    resource_type: str | None
    account_id: str
    region: str
    is_sample: bool
    archived: bool
    count: int | None
    updated_at: str | None  # with ``count``: which occurrence this is
    suppressed_by: str | None = None  # the operator's suppression rule that matched
    account_name: str | None = None  # validated (accounts.SAFE_NAME): the organisation's, else AccountNames


class Reason(StrEnum):
    """Why a finding is emailed or not (logs, the ``Reason`` metric dimension, the preview's JSON)."""

    NOTIFY = "notify"
    BELOW_THRESHOLD = "below_threshold"
    ARCHIVED = "archived"
    SUPPRESSED = "suppressed"
    SAMPLE_EXCLUDED = "sample_excluded"


@dataclass(frozen=True)
class Decision:
    notify: bool
    reason: Reason
    detail: str | None = None  # the suppression rule that matched


def band_for(severity: float, bands: Bands) -> Band:
    """Severity band for a score under the configured boundaries."""
    if severity >= bands.critical:
        return Band.CRITICAL
    if severity >= bands.high:
        return Band.HIGH
    if severity >= bands.medium:
        return Band.MEDIUM
    return Band.LOW


def parse_type(finding_type: str) -> TypeParts:
    """Split ``ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact``.

    Unknown shapes give all-``None`` parts rather than an error.
    """
    match = TYPE_RE.match(finding_type)
    if not match:
        return TypeParts(None, None, None, None, None)
    return TypeParts(**match.groupdict())


_PURPOSE_BY_LOWER: Final = {key.lower(): key for key in guidance.PURPOSES} | {
    alias.lower(): key for alias, key in guidance.PURPOSE_ALIASES.items()
}


def canonical_purpose(purpose: str | None) -> str | None:
    """The guidance key for a ThreatPurpose, matching case-insensitively (Pentest/PenTest)."""
    return _PURPOSE_BY_LOWER.get(purpose.lower()) if purpose else None


def decide(triage: Triage, settings: Settings) -> Decision:
    """Whether this finding is emailed under the settings, and why not."""
    if triage.severity < settings.threshold:
        return Decision(False, Reason.BELOW_THRESHOLD)
    if triage.suppressed_by:
        return Decision(False, Reason.SUPPRESSED, triage.suppressed_by)
    if triage.archived:  # the service may still email it if it recurred
        return Decision(False, Reason.ARCHIVED)
    if triage.is_sample and not settings.include_samples:
        return Decision(False, Reason.SAMPLE_EXCLUDED)
    return Decision(True, Reason.NOTIFY)


def assess(finding: Finding, settings: Settings, account: Account | None = None) -> Triage:
    """The triage facts of one finding: all the triage function needs (no email is built).

    ``account``: what the organisation says of the finding's account, when it was looked up."""
    parts = parse_type(finding.type)
    resource = finding.resource or Resource()
    service = finding.service or Service()
    action = service.action or Action()
    return Triage(
        finding_id=finding.id,
        finding_type=finding.type,
        safe_type=finding.type if SAFE_TYPE.fullmatch(finding.type) else None,
        parts=parts,
        purpose_key=canonical_purpose(parts.purpose),
        severity=finding.severity,
        band=band_for(finding.severity, settings.bands),
        action_type=(action.action_type or "").strip() or None,
        resource_type=resource.resource_type,
        account_id=finding.account_id,
        region=finding.region,
        is_sample=service.is_sample,
        archived=bool(service.archived),
        count=service.count,
        updated_at=finding.updated_at,
        suppressed_by=suppressed_by(finding, settings),
        account_name=name_of(finding.account_id, account, settings.account_names),
    )
