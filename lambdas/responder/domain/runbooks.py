"""Pure: the runbooks the stack deploys, as the email sees them (names and parameter rules only),
and what the Respond section offers.

The documents themselves live in ``infra/runbooks`` (deployed by the stack); a contract test keeps
the names, parameters and patterns here identical to theirs. An email builds a command only from
values that pass their parameter's pattern, so nothing in a command needs quoting in any shell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "GuardDutyResponder-"
APPROVERS_MAX: Final = 10


@dataclass(frozen=True)
class Spec:
    """A runbook's name and its parameters (name, pattern or None) in document order."""

    key: str
    name: str
    params: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Offer:
    """One runbook the Respond section offers for a finding."""

    key: str  # Spec.key
    intent: str | None  # the guidance.Intent value the offer answers ("isolate", "rotate", ...), if any
    command: str | None  # the exact CLI command; None when a value failed its rule
    console_url: str | None  # the document in the Systems Manager console
    note: str | None = None  # catalogue key of a note (English msgid), e.g. "r.note.other_account"
    note_args: tuple[tuple[str, str], ...] = ()  # validated values the note names ({account}, {region})


def pattern(spec: Spec, param: str) -> re.Pattern[str] | None:
    """The compiled pattern of ``param`` (None: any value the document accepts)."""
    found = dict(spec.params).get(param)
    return re.compile(found) if found else None
