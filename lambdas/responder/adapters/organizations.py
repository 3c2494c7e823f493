"""Adapter: what AWS Organizations says of an account (name, organisational units, tags).

The triage function looks up the account of each finding it queues, so the notifier needs no
Organizations rights and every email, chat message and log line can name the account.
Organizations' API rate is low, so nothing here costs a call per finding, and nothing costs more
than the accounts that actually have findings: there is no sweep of the whole organisation.

A new account costs ``DescribeAccount`` (its name), ``ListParents`` once a level walked to the
root (its OUs) and ``ListTagsForResource`` (its tags): 3 calls at the root, 8 at most (five OU
levels). The result is cached for ``CACHE_FOR`` in the state table (item
``org#account#<sha256 of the id>``), shared by every instance of the function across cold
starts, with a copy in memory in front. An account that is not in the organisation
(``AccountNotFoundException``: a GuardDuty member invited from outside) is remembered as its id
alone for as long.

``Directory.lookup`` never raises. Any failure (access denied, no organisation, throttling, the
network) gives ``Account(id)`` (with the name, if ``DescribeAccount`` already gave it), so the
name comes from the operator's ``AccountNames`` mapping or the id is shown alone; the directory
is then not asked again for ``UNAVAILABLE_FOR``, which is logged ("account directory
unavailable", the error's type only) and counted (``AccountDirectoryUnavailable``) once. A lookup
that has taken ``LOOKUP_BUDGET`` makes no further call and counts as such a failure
(``LookupTooSlow``): slow answers mean throttling, and the triage function has other work. A
state table that fails only costs the sharing: the directory then keeps its cache in memory, as
it does without a table.

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
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from responder.adapters import aws
from responder.adapters.observability import emit, logger
from responder.adapters.state import NO_STATE, StateStore
from responder.domain.accounts import ACCOUNT_ID, MAX_OUS, Account, bounded, valid_name

if TYPE_CHECKING:
    from botocore.config import Config

CACHE_FOR: Final = timedelta(hours=6)  # ORG_CACHE_HOURS: a renamed or moved account shows within this
UNAVAILABLE_FOR: Final = timedelta(minutes=15)  # after a failure, the directory is not asked again for this
# No further call once a lookup has taken this long (on a monotonic clock). A healthy lookup is 3
# to 8 calls of a few hundred milliseconds; a slower one is being throttled or timing out.
LOOKUP_BUDGET: Final = timedelta(seconds=5)
ACCOUNT_ITEM: Final = "org#account#"
SESSION_NAME: Final = "guardduty-responder"
SESSION_SECONDS: Final = 900  # the shortest session STS grants: the role is read-only and used briefly
RENEW_BEFORE: Final = timedelta(minutes=5)  # a call never starts on credentials about to expire
# Standard retries (bounded backoff; adaptive mode's client-side rate limiter may sleep longer),
# three attempts and short timeouts: a call started just inside LOOKUP_BUDGET still ends well
# within the triage function's 120 s (3 x (2 + 3) s, plus two backoffs of at most 1 s and 2 s,
# each raised by at most 5 s when AWS sends x-amz-retry-after: about 30 s at worst).
MAX_ATTEMPTS: Final = 3  # attempts in all, the first included
CONNECT_TIMEOUT: Final = 2  # seconds
READ_TIMEOUT: Final = 3  # seconds
MAX_TAG_PAGES: Final = 5  # an account has at most 50 tags: one or two pages in practice
MAX_REMEMBERED: Final = 10_000  # accounts kept in memory (an organisation has at most a few thousand)
NOT_FOUND: Final = "AccountNotFoundException"
OU_ID: Final = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
ROOT_ID: Final = re.compile(r"r-[0-9a-z]{4,32}")


class AccountDirectory(Protocol):
    def lookup(self, account_id: str) -> Account: ...


class LookupTooSlowError(Exception):
    """A lookup reached ``LOOKUP_BUDGET``: no further call is made (logged as ``LookupTooSlow``)."""


def client_config() -> Config:
    """The adapters' client configuration with the directory's tighter limits (triage time budget)."""
    return aws.client_config(max_attempts=MAX_ATTEMPTS, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)


def account_item(account_id: str) -> str:
    """The state-table item of one account (fixed length, like the table's other items)."""
    return ACCOUNT_ITEM + hashlib.sha256(account_id.encode()).hexdigest()


class _Lookup:
    """One lookup in progress: its deadline, and the name once DescribeAccount has given it."""

    def __init__(self, account_id: str, deadline: float) -> None:
        self.account_id = account_id
        self.deadline = deadline
        self.name: str | None = None


class Directory:
    """Account names, OUs and tags from AWS Organizations, cached; ``lookup`` never raises."""

    def __init__(
        self,
        *,
        role_arn: str | None = None,
        state: StateStore = NO_STATE,
        client: Any = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.role_arn = role_arn
        self.state = state
        self.clock = clock  # epoch seconds: cache expirations (the table's TTL) and the role's session
        self.monotonic = monotonic  # the lookup's time budget: immune to the wall clock moving
        self._client = client  # an Organizations client given (tests) is used as it is, for ever
        self._client_until = math.inf if client is not None else 0.0
        self._accounts: dict[str, tuple[Account, float]] = {}  # account id -> (account, fresh until)
        self._unavailable_until = 0.0

    def lookup(self, account_id: str) -> Account:
        """What the organisation says of the account; ``Account(account_id)`` when it cannot say."""
        if not ACCOUNT_ID.fullmatch(account_id):
            return Account(account_id)  # not an account id: nothing to ask (and nothing to cache)
        now = self.clock()
        remembered = self._accounts.get(account_id)
        if remembered is not None and now < remembered[1]:
            return remembered[0]
        item = account_item(account_id)
        cached = self._read(item, now)
        if cached is not None:
            account, until = _account_of(account_id, cached[0]), cached[1]
        elif now < self._unavailable_until:
            return Account(account_id)  # what is cached is still answered; Organizations is not asked
        else:
            progress = _Lookup(account_id, self.monotonic() + LOOKUP_BUDGET.total_seconds())
            try:
                account = self._fetch(progress)
            except Exception as error:  # noqa: BLE001 (a name is a nicety: the finding is queued without it)
                self._unavailable(error, now)
                return Account(account_id, progress.name)  # not cached: asked again once available
            until = now + CACHE_FOR.total_seconds()
            self._write(item, _stored(account), until)
        if len(self._accounts) >= MAX_REMEMBERED:
            self._accounts.clear()
        self._accounts[account_id] = (account, until)
        return account

    def _fetch(self, progress: _Lookup) -> Account:
        """DescribeAccount, the parents walked to the root, the tags; the id alone for a non-member."""
        from botocore.exceptions import ClientError  # noqa: PLC0415 (loaded with the client)

        account_id = progress.account_id
        try:
            found = self._call(progress, "describe_account", AccountId=account_id)["Account"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == NOT_FOUND:
                return Account(account_id)  # an invited member outside the organisation: its id alone
            raise
        progress.name = valid_name(found.get("Name"))
        ous: list[str] = []
        child = account_id
        for _level in range(MAX_OUS + 1):  # at most five OU levels, then the root
            # An account or OU has exactly one parent: the first page that lists one is enough.
            parents = self._call(progress, "list_parents", ChildId=child).get("Parents") or ()
            if not parents:
                break
            parent_id = str(parents[0].get("Id"))
            if parents[0].get("Type") == "ROOT" and ROOT_ID.fullmatch(parent_id):
                ous.append(parent_id)
                break
            if not OU_ID.fullmatch(parent_id):
                break
            ous.append(parent_id)
            child = parent_id
        tags: list[tuple[str, str]] = []
        token: str | None = None
        for _page in range(MAX_TAG_PAGES):
            paging = {"NextToken": token} if token else {}
            page = self._call(progress, "list_tags_for_resource", ResourceId=account_id, **paging)
            tags += [(tag["Key"], tag["Value"]) for tag in page.get("Tags") or ()]
            token = page.get("NextToken")
            if not token:  # a page may be empty while a NextToken remains: follow the token
                break
        return bounded(Account(account_id, progress.name, tuple(ous), tuple(tags)))

    def _call(self, progress: _Lookup, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One Organizations call, unless the lookup's time is up (checked again after AssumeRole)."""
        self._within(progress)
        client = self._organizations()
        self._within(progress)
        response: dict[str, Any] = getattr(client, operation)(**kwargs)
        return response

    def _within(self, progress: _Lookup) -> None:
        if self.monotonic() >= progress.deadline:
            raise LookupTooSlowError

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
    AWS error by its code; a lookup out of time is ``LookupTooSlow``."""
    if isinstance(error, LookupTooSlowError):
        return "LookupTooSlow"
    name = type(error).__name__
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if name == "ClientError" else None
    return code if isinstance(code, str) and code.isidentifier() and len(code) <= 64 else name


def _stored(account: Account) -> dict[str, Any]:
    return {"name": account.name, "ous": list(account.ous), "tags": [list(tag) for tag in account.tags]}


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
