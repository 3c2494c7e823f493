"""Pure: the strict patterns a finding's account, Region and ids pass before they go into a
command or a link, and the console host of each partition.

Shared by ``classify`` (archive and export commands, the finding's console link) and ``respond``
(the runbook commands); ``classify`` re-exports them, where the other modules import them from.
"""

from __future__ import annotations

import re
from typing import Final

# [0-9], never \d: \d matches the digits of every script ("us-east-\u0661" would pass).
SAFE_ACCOUNT: Final = re.compile(r"^[0-9]{12}$")
SAFE_REGION: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
SAFE_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,300}$")
CONSOLE_HOSTS: Final[dict[str, str]] = {
    "aws": "console.aws.amazon.com",
    "aws-us-gov": "console.amazonaws-us-gov.com",
    "aws-cn": "console.amazonaws.cn",
}


def console_base(partition: str | None, region: str) -> str | None:
    """``https://<host>`` of the console for a validated Region (the commercial console is per
    Region: ``<region>.console.aws.amazon.com``); None for an unknown partition."""
    host = CONSOLE_HOSTS.get(partition or "aws")
    if host is None:
        return None
    prefix = f"{region}." if host == CONSOLE_HOSTS["aws"] else ""
    return f"https://{prefix}{host}"
