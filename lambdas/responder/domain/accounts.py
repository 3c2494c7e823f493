"""Pure: an AWS account as emails, chat and logs name it: ``payments-prod (111122223333)``.

The name comes from AWS Organizations (looked up by the triage function, carried in the queue
message) or, for accounts or set-ups without Organizations access, from the operator's
``AccountNames`` mapping. Names are attacker-influenced only as far as whoever may rename an
account, but they are validated like every other value: an Organizations account name is
printable ASCII of at most 50 characters, and anything else is not shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

SAFE_NAME: Final = re.compile(r"[ -~]{1,50}")  # Organizations: [\u0020-\u007E]+, at most 50 characters
ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")
MAX_OUS: Final = 5  # Organizations nests OUs at most five levels below the root
MAX_TAGS: Final = 50  # an account has at most 50 tags
MAX_TAG_KEY: Final = 128
MAX_TAG_VALUE: Final = 256


@dataclass(frozen=True)
class Account:
    """What the organisation says of one account (only ``id`` when nothing is known)."""

    id: str
    name: str | None = None
    ous: tuple[str, ...] = ()  # organisational unit ids, nearest first, the root last
    tags: tuple[tuple[str, str], ...] = ()  # the account's tags, as (key, value)

    def tag(self, key: str) -> str | None:
        """The value of the account's tag ``key``, if it has one."""
        return next((value for name, value in self.tags if name == key), None)


def valid_name(name: object) -> str | None:
    """``name`` stripped when it is a name an account can have, else None."""
    if not isinstance(name, str):
        return None
    name = name.strip()
    return name if SAFE_NAME.fullmatch(name) else None


def name_of(account_id: str, account: Account | None, mapping: Mapping[str, str]) -> str | None:
    """The account's name: the organisation's, else the operator's mapping, else None (the id alone)."""
    if account is not None and account.id == account_id and (name := valid_name(account.name)):
        return name
    return valid_name(mapping.get(account_id))


def label(account_id: str, name: str | None) -> str:
    """``name (id)``, or the id alone when there is no name."""
    return f"{name} ({account_id})" if name else account_id


def bounded(account: Account) -> Account:
    """The account with its lists cut to what Organizations allows (a queue message carries it)."""
    return Account(
        id=account.id,
        name=valid_name(account.name),
        ous=tuple(ou for ou in account.ous if isinstance(ou, str) and len(ou) <= 100)[: MAX_OUS + 1],
        tags=tuple(
            (key, value)
            for key, value in account.tags
            if isinstance(key, str)
            and isinstance(value, str)
            and len(key) <= MAX_TAG_KEY
            and len(value) <= MAX_TAG_VALUE
        )[:MAX_TAGS],
    )
