"""Pure: should an update of a finding we already emailed be emailed again?

GuardDuty republishes a finding (same id, higher count) every 15 minutes to 6 hours while
the activity continues. The first occurrence is emailed; an update only when its band
rises, when the re-notify interval has passed since the last email, or when a finding
that was archived recurs. Everything else is a skipped update (logged and counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from responder.domain.classify import Classification
from responder.domain.settings import BAND_RANK


@dataclass(frozen=True)
class FindingState:
    """What we remember of a finding: the last email about it and the last occurrence seen."""

    band: str
    notified_at: datetime
    first_notified_at: datetime
    count: int | None
    archived: bool


@dataclass(frozen=True)
class UpdateDecision:
    notify: bool
    # "first", "band_rose", "renotify_interval", "recurred", "not_worse", "archived"
    reason: str
    previous: FindingState | None = None


def decide_update(
    c: Classification, previous: FindingState | None, *, now: datetime, renotify_after: timedelta | None
) -> UpdateDecision:
    """The update rule, given what was last emailed about this finding (``None``: never)."""
    if previous is None:
        return UpdateDecision(not c.archived, "archived" if c.archived else "first")
    if c.archived:
        # GuardDuty publishes an archived finding again only when it recurs.
        recurred = (c.count or 0) > (previous.count or 0)
        return UpdateDecision(recurred, "recurred" if recurred else "archived", previous)
    if BAND_RANK[c.band] > BAND_RANK[previous.band]:
        return UpdateDecision(True, "band_rose", previous)
    if renotify_after is not None and now - previous.notified_at >= renotify_after:
        return UpdateDecision(True, "renotify_interval", previous)
    return UpdateDecision(False, "not_worse", previous)
