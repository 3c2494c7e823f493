"""Pure: the minimal safe form of a finding whose details cannot be shown.

Rendering a finding can fail on a value nobody foresaw (a timestamp in the year 9999 shown
in a display time zone makes ``astimezone`` raise OverflowError). Such a finding must still
reach someone, without taking the other findings of its email down with it: it is shown
with what was validated only (band, severity, type, finding id, account, Region, the links
and commands built from validated parts, the response steps, which are our own text) and a
line saying its details could not be shown. Nothing else from the finding is kept, so the
minimal form renders through the normal templates with nothing left to fail.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from responder.catalog import message
from responder.classify import (
    SAFE_ACCOUNT,
    SAFE_ID,
    SAFE_REGION,
    Classification,
    Fact,
    parse_type,
)

UNKNOWN: Final = "?"  # a required identifier that did not pass its pattern (the digest's "absent" mark)
UNRECOGNISED_TYPE: Final = "UnrecognisedFindingType"  # as in the subject of a type that did not validate


def minimal(c: Classification, lang: str) -> Classification:
    """``c`` reduced to its validated identifiers, with "details could not be shown" as its title."""
    finding_type = c.safe_type or UNRECOGNISED_TYPE
    finding_id = c.finding_id if SAFE_ID.fullmatch(c.finding_id) else UNKNOWN
    account = c.account_id if SAFE_ACCOUNT.fullmatch(c.account_id) else UNKNOWN
    region = c.region if SAFE_REGION.fullmatch(c.region) else UNKNOWN
    # An action type that is not an identifier is hidden, but the email must not then claim
    # the finding has no action at all (render says so for a finding without one).
    action_type = c.action_type if c.action_type is None or c.action_type.isidentifier() else "UNKNOWN"
    return replace(
        c,
        finding_id=finding_id,
        finding_type=finding_type,
        parts=parse_type(c.safe_type or ""),
        action_type=action_type,
        resource_type=None,
        resource_label=None,
        account_id=account,
        region=region,
        title=message("v.details_unavailable", lang),
        description=None,
        first_seen=None,
        last_seen=None,
        updated_at=None,
        overview=(
            Fact("f.type", finding_type),
            Fact("f.account", account),
            Fact("f.region", region),
            Fact("f.finding_id", finding_id),
        ),
        resource_facts=(),
        action_facts=(),
        evidence_facts=(),
        frequency_facts=(),
    )
