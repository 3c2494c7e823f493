"""Pure: which queue a finding to email goes to, and the message that carries it there.

Findings at or above the immediate band go to the immediate queue, which Lambda hands to
the notifier in batches gathered for up to 45 seconds (infra/constants.py): one finding
becomes one email, a storm becomes a few grouped emails. Lower findings go to the digest queue, read
once per digest window, and so do notices that are never an alert (a skipped malware scan). The
message carries the finding exactly as GuardDuty published it (compressed: SQS messages are
limited to 256 KiB, EventBridge events too) and why it is emailed, so the notifier renders the
same email the preview shows.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from responder.domain.accounts import ACCOUNT_ID, Account, bounded
from responder.domain.limits import MAX_DEPTH, too_deep
from responder.domain.settings import Band, Settings
from responder.domain.updates import FindingState, Incident, IncidentKind, UpdateDecision, UpdateReason


class Route(StrEnum):
    """Which queue a finding to email goes to (logs and the ``Route`` metric dimension)."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"


VERSION: Final = 1
MAX_PER_EMAIL: Final = 40  # findings in one grouped email (keeps the text under SNS's 256 KiB)
MAX_DETAIL_BYTES: Final = 1_000_000  # refuse to inflate anything larger (a compression bomb)
MAX_PACKED_BYTES: Final = 192 * 1024  # the compressed finding, base64 included: room left in SQS's 256 KiB
TRIMMED: Final = " [truncated in the queue]"


class InvalidMessageError(ValueError):
    """A queue message we did not write, or that was damaged; it is retried, then dead-lettered."""


def route(band: Band, settings: Settings, *, digest_only: bool = False) -> Route:
    """``immediate`` at or above the immediate band, otherwise (and always for a notice) ``digest``."""
    if digest_only:
        return Route.DIGEST
    return Route.IMMEDIATE if band.rank >= settings.immediate_band.rank else Route.DIGEST


@dataclass(frozen=True)
class Queued:
    """One finding waiting to be emailed."""

    key: str  # finding id + occurrence: the same publication always has the same key
    detail: dict[str, Any]  # the finding as GuardDuty published it
    update: UpdateDecision
    account: Account | None = None  # what the organisation says of the finding's account, if known


def delivery_key(finding_id: str, occurrence: str) -> str:
    return f"{finding_id}@{occurrence}"


FIRST: Final = "first"  # the occurrence of an incident's first email


def incident_delivery_key(incident: Incident, occurrence: str, previous: FindingState | None) -> str:
    """The message's key: the exactly-once guard's and the notifier's delivered-markers' key.

    A finding that is its own incident keeps the key it always had (finding id + occurrence), so a
    message queued by an earlier release is still recognised. An incident of several findings (one
    S3 object, one Backup artefact) is keyed by the email it would be: its first, or the one after
    the last email the state table remembers. Two findings of one incident arriving together read
    the same state, so they make the same key and only one of them is queued and emailed.
    """
    if incident.kind is IncidentKind.FINDING:
        return delivery_key(incident.key, occurrence)
    return delivery_key(incident.key, previous.notified_at.isoformat() if previous else FIRST)


def _pack(detail: dict[str, Any]) -> str:
    """The finding as compact JSON, compressed, base64 (``fit`` has checked its depth: json recurses)."""
    packed = zlib.compress(json.dumps(detail, separators=(",", ":")).encode(), level=6)
    return base64.b64encode(packed).decode("ascii")


def _longest_string(value: Any) -> tuple[int, tuple[Any, ...]]:
    """(length, path) of a longest string inside ``value``, found without recursion."""
    parents: list[tuple[int, Any]] = [(-1, None)]  # node -> (its parent node, its key there)
    stack: list[tuple[Any, int]] = [(value, 0)]
    best_length, best_node = 0, 0
    while stack:
        item, node = stack.pop()
        if isinstance(item, str):
            if len(item) > best_length:
                best_length, best_node = len(item), node
            continue
        items = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        for key, child in items:
            parents.append((node, key))
            stack.append((child, len(parents) - 1))
    path: list[Any] = []
    while best_node > 0:
        best_node, key = parents[best_node]
        path.append(key)
    return best_length, tuple(reversed(path))


def fit(detail: dict[str, Any], limit: int = MAX_PACKED_BYTES) -> str:
    """The packed finding, within ``limit``: GuardDuty findings compress tenfold, but an
    attacker-chosen value (a user agent, a request URI) may not compress at all. Then the
    longest string is halved, marked, until it fits: the alert is kept, the padding is not.

    Raises ``ValueError`` for a finding that cannot fit, or that nests more than
    ``limits.MAX_DEPTH`` levels (``triage.parse_event`` refuses those first)."""
    if too_deep(detail):
        raise ValueError(f"the finding is nested more than {MAX_DEPTH} levels deep")
    packed = _pack(detail)
    if len(packed) <= limit:
        return packed
    trimmed = json.loads(json.dumps(detail))  # a copy we may cut
    while len(packed) > limit:
        length, path = _longest_string(trimmed)
        if length <= len(TRIMMED) * 2 or not path:
            raise ValueError("the finding cannot be made to fit a queue message")
        parent = trimmed
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = parent[path[-1]][: length // 2] + TRIMMED
        packed = _pack(trimmed)
    return packed


def encode(key: str, detail: dict[str, Any], update: UpdateDecision, account: Account | None = None) -> str:
    """The message body: JSON with the finding compressed (see ``fit``), the update decision and,
    when the triage function looked it up, the finding's account (name, OUs, tags: bounded)."""
    previous = update.previous
    body: dict[str, Any] = {
        "v": VERSION,
        "key": key,
        "detail": fit(detail),
        "reason": update.reason,
        "previous": None
        if previous is None
        else {
            "band": previous.band,
            "notified_at": previous.notified_at.isoformat(),
            "first_notified_at": previous.first_notified_at.isoformat(),
            "count": previous.count,
            "archived": previous.archived,
        },
    }
    if account is not None:
        kept = bounded(account)
        body["account"] = {
            "id": kept.id,
            "name": kept.name,
            "ous": list(kept.ous),
            "tags": [list(t) for t in kept.tags],
        }
    return json.dumps(body, separators=(",", ":"))


def decode(body: str) -> Queued:
    """The queued finding. Raises ``InvalidMessageError`` (naming no value) for anything else."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise InvalidMessageError("not a GuardDuty Responder message (unknown version)")
        key, reason = data["key"], data["reason"]
        if not isinstance(key, str) or not key or not isinstance(reason, str):
            raise InvalidMessageError("message without a key or a reason")
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(data["detail"], validate=True), MAX_DETAIL_BYTES)
        if inflater.unconsumed_tail:
            raise InvalidMessageError("finding larger than an EventBridge event can be")
        detail = json.loads(raw)
        if not isinstance(detail, dict):
            raise InvalidMessageError("the finding is not a JSON object")
        if too_deep(detail):  # before pydantic and our helpers walk it
            raise InvalidMessageError(f"the finding is nested more than {MAX_DEPTH} levels deep")
        update = UpdateDecision(True, _reason(reason), _previous(data["previous"]))
        return Queued(key, detail, update, _account(data.get("account")))
    except InvalidMessageError:
        raise
    except RecursionError:  # json.loads recurses: a document nested about a thousand levels deep
        raise InvalidMessageError(f"a JSON document nested more than {MAX_DEPTH} levels deep") from None
    except (KeyError, TypeError, ValueError, binascii.Error, zlib.error) as error:
        raise InvalidMessageError(f"damaged message ({type(error).__name__})") from None


def _account(data: Any) -> Account | None:
    """The account block a message carries; absent (an earlier release's message) or damaged: None.

    A damaged block costs the account's name and routing by OU or tag, never the finding: the
    email still goes to the security team."""
    try:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not ACCOUNT_ID.fullmatch(data["id"]):
            return None
        name = data.get("name")
        ous = tuple(ou for ou in data.get("ous") or () if isinstance(ou, str))
        tags = tuple((k, v) for k, v in data.get("tags") or () if isinstance(k, str) and isinstance(v, str))
        return bounded(Account(data["id"], name if isinstance(name, str) else None, ous, tags))
    except (TypeError, ValueError):  # a tag that is not a pair
        return None


def _reason(value: str) -> UpdateReason:
    """The update reason a message carries (its value as written, by any version)."""
    try:
        return UpdateReason(value)
    except ValueError:
        raise InvalidMessageError("unknown reason in the message") from None


def _previous(data: Any) -> FindingState | None:
    if data is None:
        return None
    try:
        band = Band(data["band"])
    except ValueError:
        raise InvalidMessageError("unknown band in the message") from None
    return FindingState(
        band=band,
        notified_at=datetime.fromisoformat(data["notified_at"]),
        first_notified_at=datetime.fromisoformat(data["first_notified_at"]),
        count=int(data["count"]) if data["count"] is not None else None,
        archived=bool(data["archived"]),
    )
