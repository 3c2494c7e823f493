"""Adapter: what AWS Organizations says of an account (name, organisational units, tags).

The triage function looks up the account of each finding it queues, so the notifier needs no
Organizations rights and every email, chat message and log line can name the account.
Organizations' API rate is low, so nothing here costs a call per finding:

- names: one ``ListAccounts`` sweep per ``CACHE_FOR``, shared by every instance of the function
  through the state table (item ``org#names``), with a copy in memory in front;
- per account: its parents walked to the root (``ListParents``) and its tags
  (``ListTagsForResource``), cached the same way (item ``org#account#<sha256 of the id>``); an
  account the sweep did not list (joined since, or the sweep stopped at ``MAX_PAGES``) is asked
  for once with ``DescribeAccount``; one that is not in the organisation is remembered as such.

``Directory.lookup`` never raises. Any failure (access denied, no organisation, throttling, the
network) gives ``Account(id)``, so the name comes from the operator's ``AccountNames`` mapping or
the id is shown alone; the directory is then not asked again for ``UNAVAILABLE_FOR``, which is
logged ("account directory unavailable", the error's type only) and counted
(``AccountDirectoryUnavailable``) once. A state table that fails only costs the sharing: the
directory then keeps its cache in memory, as it does without a table.

With ``ORGANIZATIONS_ROLE_ARN`` the calls use that role (in the management account or the
delegated administrator), assumed for 15 minutes and reused until 5 minutes before it expires.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from responder.adapters.observability import emit, logger
from responder.adapters.state import NO_STATE, StateStore
from responder.domain.accounts import ACCOUNT_ID, MAX_OUS, Account, bounded, valid_name

if TYPE_CHECKING:
    from botocore.config import Config

CACHE_FOR: Final = timedelta(hours=6)  # ORG_CACHE_HOURS: a renamed or moved account shows within this
UNAVAILABLE_FOR: Final = timedelta(minutes=15)  # after a failure, the directory is not asked again for this
NAMES_ITEM: Final = "org#names"
ACCOUNT_ITEM: Final = "org#account#"
SESSION_NAME: Final = "guardduty-responder"
SESSION_SECONDS: Final = 900  # the shortest session STS grants: the role is read-only and used briefly
RENEW_BEFORE: Final = timedelta(minutes=5)  # a call never starts on credentials about to expire
# Organizations throttles early (TooManyRequestsException): adaptive retries slow the client down,
# and three attempts keep a lookup within the triage function's time budget.
MAX_ATTEMPTS: Final = 3  # attempts in all, the first included
CONNECT_TIMEOUT: Final = 5  # seconds
READ_TIMEOUT: Final = 10  # seconds
PAGE_SIZE: Final = 20  # ListAccounts' largest page
MAX_PAGES: Final = 100  # 2,000 accounts a sweep; beyond, DescribeAccount names the rest one by one
MAX_REMEMBERED: Final = 10_000  # accounts kept in memory (an organisation has at most a few thousand)
NOT_FOUND: Final = "AccountNotFoundException"
OU_ID: Final = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
ROOT_ID: Final = re.compile(r"r-[0-9a-z]{4,32}")


class AccountDirectory(Protocol):
    def lookup(self, account_id: str) -> Account: ...


def client_config() -> Config:
    """Adaptive retries, three attempts, short timeouts (botocore imported here, on first use)."""
    from botocore.config import Config  # noqa: PLC0415 (botocore stays off the cold-start path)

    return Config(
        retries={"mode": "adaptive", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )


def account_item(account_id: str) -> str:
    """The state-table item of one account (fixed length, like the table's other items)."""
    return ACCOUNT_ITEM + hashlib.sha256(account_id.encode()).hexdigest()


class Directory:
    """Account names, OUs and tags from AWS Organizations, cached; ``lookup`` never raises."""

    def __init__(
        self,
        *,
        role_arn: str | None = None,
        state: StateStore = NO_STATE,
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.role_arn = role_arn
        self.state = state
        self.clock = clock
        self._client = client  # an Organizations client given (tests) is used as it is, for ever
        self._client_until = math.inf if client is not None else 0.0
        self._names: dict[str, str | None] | None = None  # account id -> name (None: not a valid name)
        self._names_until = 0.0
        self._accounts: dict[str, tuple[Account, float]] = {}  # account id -> (account, fresh until)
        self._unavailable_until = 0.0

    def lookup(self, account_id: str) -> Account:
        """What the organisation says of the account; ``Account(account_id)`` when it cannot say."""
        if not ACCOUNT_ID.fullmatch(account_id):
            return Account(account_id)  # not an account id: nothing to ask (and nothing to cache)
        now = self.clock()
        if now < self._unavailable_until:
            return Account(account_id)
        remembered = self._accounts.get(account_id)
        if remembered is not None and now < remembered[1]:
            return remembered[0]
        try:
            account, until = self._resolve(account_id, now)
        except Exception as error:  # noqa: BLE001 (a name is a nicety: the finding is queued without it)
            self._unavailable(error, now)
            return Account(account_id)
        if len(self._accounts) >= MAX_REMEMBERED:
            self._accounts.clear()
        self._accounts[account_id] = (account, until)
        return account

    def _resolve(self, account_id: str, now: float) -> tuple[Account, float]:
        """The account from the shared cache, else from Organizations (then shared)."""
        item = account_item(account_id)
        cached = self._read(item, now)
        if cached is not None:
            return _account_of(account_id, cached[0]), cached[1]
        names = self._names_now(now)
        listed = account_id in names
        account = self._details(account_id, names[account_id]) if listed else self._described(account_id)
        until = now + CACHE_FOR.total_seconds()
        self._write(item, _stored(account), until)
        return account, until

    def _names_now(self, now: float) -> dict[str, str | None]:
        """Every account's name: from memory, the shared cache, or one sweep (then shared)."""
        if self._names is not None and now < self._names_until:
            return self._names
        cached = self._read(NAMES_ITEM, now)
        if cached is not None:
            names, until = _names_of(cached[0]), cached[1]
        else:
            names, until = self._sweep(), now + CACHE_FOR.total_seconds()
            self._write(NAMES_ITEM, names, until)
        self._names, self._names_until = names, until
        return names

    def _sweep(self) -> dict[str, str | None]:
        """One ListAccounts pass. A page may be empty while a NextToken remains: the paginator
        follows the token, not the page's size."""
        names: dict[str, str | None] = {}
        pages = self._paginate(
            "list_accounts", PaginationConfig={"PageSize": PAGE_SIZE, "MaxItems": PAGE_SIZE * MAX_PAGES}
        )
        for page in pages:
            for found in page.get("Accounts") or ():
                account_id = found.get("Id")
                if isinstance(account_id, str) and ACCOUNT_ID.fullmatch(account_id):
                    names[account_id] = valid_name(found.get("Name"))
        return names

    def _described(self, account_id: str) -> Account:
        """An account the sweep did not list: DescribeAccount, or only its id when it is not a member."""
        from botocore.exceptions import ClientError  # noqa: PLC0415 (loaded by the client already)

        try:
            found = self._organizations().describe_account(AccountId=account_id)["Account"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == NOT_FOUND:
                return Account(account_id)  # an invited member outside the organisation: its id alone
            raise
        return self._details(account_id, valid_name(found.get("Name")))

    def _details(self, account_id: str, name: str | None) -> Account:
        """The account's OUs (parents walked to the root) and its tags."""
        ous: list[str] = []
        child = account_id
        for _level in range(MAX_OUS + 1):  # at most five OU levels, then the root
            pages = self._paginate("list_parents", ChildId=child)
            parents = [parent for page in pages for parent in page.get("Parents") or ()]
            if not parents:
                break
            parent_id = str(parents[0].get("Id"))  # an account or OU has exactly one parent
            if parents[0].get("Type") == "ROOT" and ROOT_ID.fullmatch(parent_id):
                ous.append(parent_id)
                break
            if not OU_ID.fullmatch(parent_id):
                break
            ous.append(parent_id)
            child = parent_id
        tags = [
            (tag["Key"], tag["Value"])
            for page in self._paginate("list_tags_for_resource", ResourceId=account_id)
            for tag in page.get("Tags") or ()
        ]
        return bounded(Account(account_id, name, tuple(ous), tuple(tags)))

    def _paginate(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        pages: Iterator[dict[str, Any]] = self._organizations().get_paginator(operation).paginate(**kwargs)
        return pages

    def _organizations(self) -> Any:
        """The Organizations client: the function's credentials, or the role's while they last."""
        now = self.clock()
        if self._client is not None and now < self._client_until:
            return self._client
        import boto3  # noqa: PLC0415 (boto3 stays off the cold-start path)

        if self.role_arn is None:
            self._client = boto3.client("organizations", config=client_config())
            self._client_until = math.inf
            return self._client
        sts = boto3.client("sts", config=client_config())
        credentials = sts.assume_role(
            RoleArn=self.role_arn, RoleSessionName=SESSION_NAME, DurationSeconds=SESSION_SECONDS
        )["Credentials"]
        self._client = boto3.client(
            "organizations",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=client_config(),
        )
        # The session's own length, not STS's clock: ours may differ from AWS's by a few seconds.
        lasts = min(SESSION_SECONDS, credentials["Expiration"].timestamp() - time.time())
        self._client_until = now + lasts - RENEW_BEFORE.total_seconds()
        return self._client

    def _read(self, item: str, now: float) -> tuple[Any, float] | None:
        """A shared cache item still fresh, decoded; None when absent, stale, damaged or unreadable."""
        try:
            cached = self.state.cached(item)
            if cached is None or cached.expiration <= now:
                return None
            return json.loads(zlib.decompress(cached.value)), float(cached.expiration)
        except Exception as error:  # noqa: BLE001 (the cache is an optimisation: ask Organizations instead)
            logger.warning("account cache unreadable", extra={"error": type(error).__name__})
            return None

    def _write(self, item: str, value: Any, until: float) -> None:
        """Share a result with the function's other instances; memory only if the table refuses it."""
        try:
            packed = zlib.compress(json.dumps(value, separators=(",", ":")).encode())
            self.state.cache(item, packed, expiration=int(until))
        except Exception as error:  # noqa: BLE001 (kept in memory: the next cold start asks again)
            logger.warning("account cache not written", extra={"error": type(error).__name__})

    def _unavailable(self, error: Exception, now: float) -> None:
        """Fall back to ids (and AccountNames) for a while: logged and counted once for that while."""
        self._unavailable_until = now + UNAVAILABLE_FOR.total_seconds()
        logger.warning("account directory unavailable", extra={"error": error_type(error)})
        emit("AccountDirectoryUnavailable")


def error_type(error: Exception) -> str:
    """The error's type, never its message (it may quote an ARN or an account): botocore names a
    modelled error (AccessDeniedException, TooManyRequestsException) by its class, and any other
    AWS error by its code."""
    name = type(error).__name__
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if name == "ClientError" else None
    return code if isinstance(code, str) and code.isidentifier() and len(code) <= 64 else name


def _stored(account: Account) -> dict[str, Any]:
    return {"name": account.name, "ous": list(account.ous), "tags": [list(tag) for tag in account.tags]}


def _names_of(data: Any) -> dict[str, str | None]:
    """A cached names item read back: only account ids with valid names (or none)."""
    if not isinstance(data, dict):
        return {}
    return {key: valid_name(name) for key, name in data.items() if ACCOUNT_ID.fullmatch(key)}


def _account_of(account_id: str, data: Any) -> Account:
    """A cached account item read back; anything malformed in it is dropped, never raised."""
    if not isinstance(data, dict):
        return Account(account_id)
    name = data.get("name")
    ous = tuple(ou for ou in data.get("ous") or () if isinstance(ou, str))
    tags = tuple(
        (tag[0], tag[1])
        for tag in data.get("tags") or ()
        if isinstance(tag, list) and len(tag) == 2 and isinstance(tag[0], str) and isinstance(tag[1], str)
    )
    return bounded(Account(account_id, valid_name(name), ous, tags))
