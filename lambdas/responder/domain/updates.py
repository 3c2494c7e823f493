"""Pure: should an update of a finding we already emailed be emailed again?

GuardDuty republishes a finding (same id, higher count) every 15 minutes to 6 hours while
the activity continues. The first occurrence is emailed; an update only when its band
rises, when the re-notify interval has passed since the last email, or when a finding
that was archived recurs. Everything else is a skipped update (logged and counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from responder.domain.classify import Triage
from responder.domain.settings import Band


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
