"""Pure: each finding's JSON as an email attachment (SES), so the record is kept without the console.

The file is the finding as GuardDuty sent it (the ``detail`` the queue message carries),
pretty-printed UTF-8 JSON, named ``guardduty-finding-<id>.json`` from a validated id only.
An alert made from a Malware Protection for S3 scan result has no GuardDuty finding: its file
is the scan-result event that arrived, ``guardduty-s3-scan-result-<id>.json`` (``exported``).
SNS sends plain text and cannot attach: its email keeps the ``get-findings`` command.

Bounds (why these): SES refuses a message over 40 MB, base64 included, and many receiving
servers refuse more than 10 MB. One file is at most ``MAX_FINDING_BYTES`` (1 MiB: an
EventBridge event is at most 256 KB, so a real finding fits pretty-printed and is never cut);
all the files of one email at most ``MAX_ATTACHED_BYTES`` (4 MiB, about 5.6 MB in base64),
at most ``MAX_ATTACHMENTS`` files (a grouped email's findings). With the text body (at most
256 KiB) and its HTML, the whole message stays under 10 MB. A file over its share is trimmed
and says so in a top-level ``"_trimmed"`` member, and is still valid JSON; a grouped email's
findings beyond ``MAX_ATTACHMENTS`` are not attached (the notifier never groups more).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from responder.domain import scan_alert
from responder.domain.cleaning import INVISIBLE
from responder.domain.limits import too_deep
from responder.domain.routing import MAX_PER_EMAIL

MAX_FINDING_BYTES: Final = 1_048_576  # one file, in UTF-8 bytes
MAX_ATTACHED_BYTES: Final = 4_194_304  # all the files of one email, in UTF-8 bytes (before base64)
MAX_ATTACHMENTS: Final = MAX_PER_EMAIL  # files in one email: every finding of a grouped email
# GuardDuty ids are 32 hex characters; 128 keeps the file name far below 255 bytes.
SAFE_FILE_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Every name this module makes matches this; the MIME builder checks it again before a header gets it.
SAFE_FILENAME: Final = re.compile(r"guardduty-(?:finding|s3-scan-result)[A-Za-z0-9_-]{0,140}\.json")
FIXED_NAME: Final = "guardduty-finding"  # the name when the id is not a safe one
TRIMMED: Final = " [trimmed]"  # ends a string that was cut
TRIM_NOTE: Final = "_trimmed"  # the top-level member that says a file was trimmed, and how
# Ever smaller cuts until the file fits: (characters kept of a string, items kept of a list).
CUTS: Final = ((4_096, 256), (1_024, 64), (256, 16), (64, 4))
MAX_MEMBERS: Final = 256  # members kept of one object once trimming (findings' objects have fewer than 50)
# The last resort: the finding's identity alone (each value cut to IDENTITY_CHARS).
IDENTITY: Final = (
    "schemaVersion",
    "accountId",
    "region",
    "partition",
    "id",
    "arn",
    "type",
    "severity",
    "createdAt",
    "updatedAt",
    "title",
)
IDENTITY_CHARS: Final = 256
GET_FINDINGS: Final = "the complete finding: the get-findings command in the email, or the GuardDuty console"


@dataclass(frozen=True)
class Record:
    """A document to attach: what it is (the file name's stem, one of ``STEMS``), its id and its JSON."""

    FINDING: ClassVar[str] = FIXED_NAME
    SCAN_RESULT: ClassVar[str] = "guardduty-s3-scan-result"
    STEMS: ClassVar[frozenset[str]] = frozenset({FINDING, SCAN_RESULT})

    stem: str
    record_id: Any  # named in the file only when it is a safe id
    document: dict[str, Any]

    @classmethod
    def finding(cls, detail: dict[str, Any]) -> Record:
        """A GuardDuty finding as the queue carries it."""
        return cls(cls.FINDING, detail.get("id"), detail)


@dataclass(frozen=True)
class Attachment:
    """One file of an email: a finding's JSON."""

    filename: str  # matches SAFE_FILENAME
    content: bytes  # UTF-8 JSON
    maintype: str = "application"
    subtype: str = "json"


def attachments(details: Sequence[dict[str, Any] | Record | None]) -> tuple[Attachment, ...]:
    """The JSON file of each finding of one email, within the bounds (module docstring).

    A finding is its ``detail`` (a GuardDuty finding) or the ``Record`` to attach in its
    place; ``None``: nothing to attach for it. Each of the first ``MAX_ATTACHMENTS`` gets a
    file; the files share ``MAX_ATTACHED_BYTES``: those smaller than an equal share keep
    their size, the larger ones share what is left equally (each at most
    ``MAX_FINDING_BYTES``), so one large finding does not cut the small ones.
    """
    records = [item if isinstance(item, Record) else Record.finding(item) for item in details if item is not None]
    kept = records[:MAX_ATTACHMENTS]
    full = [_serialised(record.document) for record in kept]
    budgets = [0] * len(kept)
    left, waiting = MAX_ATTACHED_BYTES, len(kept)
    for index in sorted(range(len(kept)), key=lambda i: len(full[i])):
        share = min(MAX_FINDING_BYTES, left // waiting)
        budgets[index] = min(len(full[index]), share)
        left -= budgets[index]
        waiting -= 1
    names = _names(kept)
    return tuple(
        Attachment(name, text if len(text) <= budget else _trimmed(record.document, budget))
        for name, record, text, budget in zip(names, kept, full, budgets, strict=True)
    )


def exported(detail: dict[str, Any]) -> Record | None:
    """What the SES email attaches for a queued finding ``detail``.

    A GuardDuty finding: itself. A scan-result alert: the event that arrived
    (``scan_alert.EVENT_MEMBER``), never the synthesised finding, which GuardDuty never held;
    ``None`` when it does not carry the event (queued by an earlier release): nothing rather
    than a made-up record.
    """
    finding_id = detail.get("id")
    if not (isinstance(finding_id, str) and finding_id.startswith(scan_alert.ID_PREFIX)):
        return Record.finding(detail)
    service = detail.get("service")
    info = service.get("additionalInfo") if isinstance(service, dict) else None
    event = info.get(scan_alert.EVENT_MEMBER) if isinstance(info, dict) else None
    if not isinstance(event, dict):
        return None
    return Record(Record.SCAN_RESULT, finding_id.removeprefix(scan_alert.ID_PREFIX), event)


def finding_json(detail: dict[str, Any], limit: int = MAX_FINDING_BYTES) -> bytes:
    """The finding as pretty-printed UTF-8 JSON of at most ``limit`` bytes (trimmed, and marked, if need be)."""
    text = _serialised(detail)
    return text if len(text) <= limit else _trimmed(detail, limit)


def file_name(finding_id: Any, stem: str = FIXED_NAME) -> str:
    """``<stem>-<id>.json`` (``guardduty-finding-<id>.json``) for a safe id, else the fixed ``<stem>.json``."""
    stem = stem if stem in Record.STEMS else FIXED_NAME
    if isinstance(finding_id, str) and SAFE_FILE_ID.fullmatch(finding_id):
        return f"{stem}-{finding_id}.json"
    return f"{stem}.json"


def _names(records: Sequence[Record]) -> list[str]:
    """One distinct name per file: a repeated name (two updates of a finding, or unsafe ids) is numbered."""
    names: list[str] = []
    for number, record in enumerate(records, start=1):
        name = stem = file_name(record.record_id, record.stem).removesuffix(".json")
        suffix = number
        while f"{name}.json" in names:
            name, suffix = f"{stem}-{suffix}", suffix + 1
        names.append(f"{name}.json")
    return names


def _json_escape(char: str) -> str:
    """A JSON escape of one character (a surrogate pair beyond U+FFFF)."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _serialised(document: Any) -> bytes:
    """Pretty-printed UTF-8 JSON. Invisible and control characters (bidirectional overrides,
    zero-width, lone surrogates) are written as ``\\u`` escapes: a reader's editor shows them,
    and the JSON still decodes to the same values. They can only occur inside strings."""
    if too_deep(document):  # json recurses once per level
        document = _identity(document, "it is nested too deeply to be kept")
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return INVISIBLE.sub(_json_escape, text).encode("utf-8")


def _cut(value: Any, chars: int, items: int) -> Any:
    """``value`` with its strings cut to ``chars`` characters and its lists to ``items`` items
    (``too_deep`` has bounded the recursion)."""
    if isinstance(value, str):
        return value if len(value) <= chars else value[:chars] + TRIMMED
    if isinstance(value, list):
        return [_cut(item, chars, items) for item in value[:items]]
    if isinstance(value, dict):
        members = list(value.items())[:MAX_MEMBERS]
        return {_cut(str(key), chars, items): _cut(item, chars, items) for key, item in members}
    return value


def _identity(detail: Any, why: str) -> dict[str, Any]:
    """The finding's identity alone (its scalar members of ``IDENTITY``), with the note."""
    members = detail if isinstance(detail, dict) else {}
    kept = {
        key: value[:IDENTITY_CHARS] if isinstance(value, str) else value
        for key in IDENTITY
        if isinstance(value := members.get(key), str | int | float | bool)
    }
    return {TRIM_NOTE: f"Only the identity is kept: {why}; {GET_FINDINGS}.", **kept}


def _trimmed(detail: dict[str, Any], limit: int) -> bytes:
    """The document cut until it fits ``limit`` bytes, with a top-level note saying how."""
    if not too_deep(detail):
        for chars, items in CUTS:
            note = (
                f"This JSON was larger than {limit} bytes, so it was trimmed: strings longer than "
                f"{chars} characters end in {TRIMMED.strip()!r}, lists keep their first {items} items and "
                f"objects their first {MAX_MEMBERS} members; {GET_FINDINGS}."
            )
            cut = _cut(detail, chars, items)
            text = _serialised({TRIM_NOTE: note, **{k: v for k, v in cut.items() if k != TRIM_NOTE}})
            if len(text) <= limit:
                return text
    return _serialised(_identity(detail, f"even trimmed, it was larger than {limit} bytes"))
