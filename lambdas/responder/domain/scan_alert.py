"""Pure: what a Malware Protection for S3 scan-result alert is and says, for every function.

The kinds of result as finding types, their severities, the id prefix that tells such a finding
from GuardDuty's, where the event that arrived travels in the finding, and the alert's title and
description (whole sentences of the message catalogue, chosen by the kind of result, in the
recipient's language). ``scan_result`` reads the event (triage only, with its pydantic models);
``classify`` and ``export`` read only this module, so the notifier builds no scan-result model.
"""

from typing import Any, Final

from responder.domain.i18n import translator

DETAIL_TYPE: Final = "GuardDuty Malware Protection Object Scan Result"
MALICIOUS_FILE: Final = "Object:S3/MaliciousFile"
SCAN_SKIPPED: Final = "Object:S3/MalwareScanSkipped"
SCAN_FAILED: Final = "Object:S3/MalwareScanFailed"
NOTICES: Final = frozenset({SCAN_SKIPPED, SCAN_FAILED})  # a digest line, never an immediate alert
MALICIOUS_SEVERITY: Final = 8.0  # GuardDuty's default for Object:S3/MaliciousFile (High)
NOTICE_SEVERITY: Final = 2.0  # Low: nothing was found; something was not looked at
ID_PREFIX: Final = "s3-scan-"  # tells these ids from GuardDuty's (32 hex characters) in logs
# The event as it arrived, kept in the finding's ``service.additionalInfo`` for the SES attachment.
EVENT_MEMBER: Final = "scanResultEvent"
MAX_REASONS: Final = 10  # status reasons kept
REASON_LIMIT: Final = 100  # characters of one status reason

# What the recipient reads of a scan-result alert: msgids of the message catalogue (``prose``),
# with no value of the event inside (the facts of the email show the object and the threats).
TITLES: Final[dict[str, str]] = {
    MALICIOUS_FILE: "Malware Protection for S3 found malware in an uploaded object",
    SCAN_SKIPPED: "Malware Protection for S3 skipped the scan of an uploaded object",
    SCAN_FAILED: "Malware Protection for S3 could not scan an uploaded object",
}
DESCRIPTIONS: Final[dict[str, str]] = {
    MALICIOUS_FILE: "Malware Protection for S3 scanned this object when it was uploaded and found malware in it. "
    "The bucket, the object key and version, and the threats found are shown below.",
    SCAN_SKIPPED: "Malware Protection for S3 skipped the scan of this object, so it was not checked for malware. "
    "The bucket and the object key and version are shown below.",
    SCAN_FAILED: "Malware Protection for S3 could not scan this object, so it was not checked for malware. "
    "The bucket and the object key and version are shown below.",
}
# GuardDuty's own codes (scan status, result, reasons) after a skipped or failed scan's description.
STATUS_CODES: Final = "Scan status, result and reasons as Malware Protection reported them: {codes}."


def wording(finding_type: str, additional_info: Any, lang: str) -> tuple[str, str] | None:
    """The title and description of a scan-result alert in ``lang``; ``None`` for another type.

    ``additional_info`` is the finding's ``service.additionalInfo`` (``finding_detail`` wrote
    it): a skipped or failed scan's description ends with GuardDuty's codes from it.
    """
    if finding_type not in TITLES:
        return None
    tr = translator(lang)
    description = tr(DESCRIPTIONS[finding_type])
    info = additional_info if isinstance(additional_info, dict) else {}
    codes = _codes(info) if finding_type in NOTICES else ()
    if codes:
        description += " " + tr(STATUS_CODES).format(codes=", ".join(codes))
    return tr(TITLES[finding_type]), description


def prose() -> list[str]:
    """Every sentence of this module a recipient reads: msgids of the message catalogue."""
    return [*TITLES.values(), *DESCRIPTIONS.values(), STATUS_CODES]


def _codes(info: dict[str, Any]) -> tuple[str, ...]:
    """GuardDuty's scan status, result and reasons as ``finding_detail`` kept them (strings only)."""
    reasons = info.get("statusReasons")
    values = [info.get("scanStatus"), info.get("scanResultStatus"), *(reasons if isinstance(reasons, list) else [])]
    return tuple(dict.fromkeys(v[:REASON_LIMIT] for v in values[: MAX_REASONS + 2] if isinstance(v, str) and v))
