"""Pure: routing findings to the teams that own their accounts (the routes file).

The routes file is JSON an operator edits (an SSM parameter; ``responder.adapters.routes``
reads it), validated here with one clear error that names where it is wrong, never the value::

    {"version": 1, "routes": [{"name": "payments",
      "match": {"accounts": ["111122223333"], "ous": ["ou-ab12-xxxxxxxx"], "tags": {"team": "payments"},
                "min_band": "Medium"},
      "ses": ["pay-sec@example.com"], "sns": true,
      "recipients_from_tag": "owner-email", "allowed_domains": ["example.com"], "exclusive": false}]}

A route matches a finding when its account is listed, or one of the account's OUs (any ancestor:
an account in a nested OU matches its parents, up to the root ``r-...``), or the account carries
every listed tag, and the finding's band is at least ``min_band``. Each match adds an audience;
the security team (``DEFAULT``: the channels of ``CHANNELS``, as without routes) keeps every
finding unless every route that matched it is ``exclusive`` and emails it (SES addresses for
this account: its ``ses`` list or allowed tag addresses). An SNS copy never replaces the
security team: publishing succeeds even when no subscription's filter takes the route. A
finding that no audience could receive goes to ``DEFAULT``: routing never drops an alert, and a
redelivered finding (its owner's delivery was refused) goes to ``DEFAULT`` too. A route whose
addresses are the security team's own ``Recipients`` sends no second email.

Addresses from an account tag (``recipients_from_tag``) are taken only within the route's
``allowed_domains``: whoever may tag an account must not be able to redirect its findings.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from responder.domain.accounts import Account
from responder.domain.settings import _EMAIL, Band

MAX_CHARACTERS: Final = 4_096  # an SSM Standard parameter's value
MAX_ROUTES: Final = 50
MAX_TAG_KEY: Final = 128  # Organizations tag limits
MAX_TAG_VALUE: Final = 256
MAX_MATCH_TAGS: Final = 50
# Between the addresses of one tag value: a tag value cannot hold a comma in AWS, a space it can.
_TAG_SEPARATORS: Final = re.compile(r"[\s,;]+")
_SAFE_FIELD: Final = re.compile(r"[A-Za-z_]{1,32}")  # an unknown field name shown in an error


class RoutesError(ValueError):
    """The routes file cannot be used; the message names where it is wrong, never the value."""


def _checked(regex: str, problem: str, *, fold: bool = False) -> AfterValidator:
    """A string that must match ``regex`` in full, else the error ``problem`` (no value in it)."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError("invalid", problem)
        return value.lower() if fold else value

    return AfterValidator(check)


RouteName = Annotated[StrictStr, _checked(r"[a-z0-9][a-z0-9-]{0,39}", "lower-case letters, digits and -, 1-40")]
AccountId = Annotated[StrictStr, _checked(r"[0-9]{12}", "not a 12-digit account id")]
OuId = Annotated[
    StrictStr,
    _checked(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}", "not an OU id (ou-...) or root id (r-...)"),
]
Address = Annotated[StrictStr, _checked(_EMAIL.strip("^$"), "not an email address")]
Domain = Annotated[StrictStr, _checked(r"[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+", "not a domain name", fold=True)]
TagKey = Annotated[StrictStr, _checked(r"[^\x00-\x1f\x7f]{1,128}", "not a tag key (1-128 printable characters)")]


def _tags(value: Any) -> Any:
    """A JSON object of tag key -> value; checked here so no key appears in an error's location."""
    if not isinstance(value, dict):
        raise PydanticCustomError("tags", "must be an object of tag key to value")
    if len(value) > MAX_MATCH_TAGS:
        raise PydanticCustomError("tags", f"at most {MAX_MATCH_TAGS} tags")
    for position, (key, tag_value) in enumerate(value.items(), start=1):
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY or not key.isprintable():
            raise PydanticCustomError("tags", f"entry {position}: not a tag key (1-128 printable characters)")
        if not isinstance(tag_value, str) or len(tag_value) > MAX_TAG_VALUE or not tag_value.isprintable():
            raise PydanticCustomError("tags", f"entry {position}: not a tag value (0-256 printable characters)")
    return tuple(sorted(value.items()))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Model):
    """Which findings a route takes: any of accounts / OUs / tags, and at least ``min_band``."""

    accounts: tuple[AccountId, ...] = ()
    ous: tuple[OuId, ...] = ()
    # every pair must be on the account; stored as sorted (key, value) pairs
    tags: Annotated[tuple[tuple[str, str], ...], BeforeValidator(_tags)] = ()
    min_band: Band | None = None

    @model_validator(mode="after")
    def _selects(self) -> Self:
        # An empty match would take every account: say so with the root id (r-...) instead.
        if not (self.accounts or self.ous or self.tags):
            raise PydanticCustomError(
                "match", "names no accounts, ous or tags (the root id r-... matches every account)"
            )
        return self


class Route(_Model):
    """One owner: what it takes (``match``) and where its copies go."""

    name: RouteName
    match: Match
    ses: tuple[Address, ...] = ()
    sns: StrictBool = False  # a copy on the route topic, message attribute ``route`` = name
    recipients_from_tag: TagKey | None = None  # the account tag holding more addresses
    allowed_domains: tuple[Domain, ...] = ()
    exclusive: StrictBool = False  # the security team (Recipients) does not get these

    @model_validator(mode="after")
    def _sends(self) -> Self:
        if self.recipients_from_tag is not None and not self.allowed_domains:
            # Without it, whoever may tag an account could send its findings anywhere.
            raise PydanticCustomError("route", "recipients_from_tag needs allowed_domains")
        if not (self.ses or self.sns or self.recipients_from_tag):
            raise PydanticCustomError("route", "sends nowhere: give ses, sns or recipients_from_tag")
        return self


class Routes(_Model):
    """The routes file."""

    version: Literal[1]
    routes: tuple[Route, ...] = Field(default=(), max_length=MAX_ROUTES)


DEFAULT_ONLY: Final = Routes(version=1)  # no routes: everything to the security team, as before


@dataclass(frozen=True)
class Audience:
    """Who gets a copy: ``DEFAULT`` (today's channels), an SES recipient set, or a route's SNS copies.

    ``name`` keys delivered-markers and exactly-once records: a route's name for its SNS copies,
    ``to-<hash of the addresses>`` for an SES set (one email per identical set, whichever routes
    chose it).
    """

    name: str
    ses: tuple[str, ...] = ()
    sns: bool = False

    @property
    def is_default(self) -> bool:
        return not self.name


DEFAULT: Final = Audience("")


@dataclass(frozen=True)
class Routed:
    """Where one finding goes, and how many tag addresses each route left out (outside its domains)."""

    audiences: tuple[Audience, ...]
    dropped: tuple[tuple[str, int], ...] = ()  # (route name, addresses left out)
    untagged: tuple[str, ...] = ()  # routes whose recipients_from_tag gave no allowed address


def parse_routes(text: str) -> Routes:
    """The routes file, validated.

    Raises
    ------
    RoutesError
        Naming the first problem's location (``routes[2].ses[0]: not an email address``), never the value.
    """
    if len(text) > MAX_CHARACTERS:
        raise RoutesError(f"routes file: longer than {MAX_CHARACTERS} characters")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        # The decoder's message is fixed text (no value); line and column say where.
        raise RoutesError(f"routes file: not JSON ({error.msg}, line {error.lineno} column {error.colno})") from None
    except _DuplicateKeyError:
        raise RoutesError("routes file: a key appears twice in one object") from None
    if not isinstance(data, dict):
        raise RoutesError("routes file: must be a JSON object")
    try:
        routes = Routes.model_validate(data)
    except ValidationError as error:
        raise RoutesError(_first_problem(error)) from None
    seen: dict[str, int] = {}
    for index, route in enumerate(routes.routes):
        if route.name in seen:
            raise RoutesError(f"routes[{index}].name: used by routes[{seen[route.name]}] too")
        seen[route.name] = index
    return routes


def matches(route: Route, account: Account | None, account_id: str, band: Band) -> bool:
    """Whether ``route`` takes a finding of ``account_id`` in ``band`` (``account``: what the organisation says)."""
    rule = route.match
    if rule.min_band is not None and band.rank < rule.min_band.rank:
        return False
    if account_id in rule.accounts:
        return True
    if account is None or account.id != account_id:  # nothing known of this account beyond its id
        return False
    if rule.ous and not set(rule.ous).isdisjoint(account.ous):
        return True
    return bool(rule.tags) and all(account.tag(key) == value for key, value in rule.tags)


def route(
    routes: Routes,
    account: Account | None,
    account_id: str,
    band: Band,
    *,
    ses: bool = True,
    sns: bool = True,
    recipients: Sequence[str] = (),
    redelivered: bool = False,
) -> Routed:
    """Where a finding goes.

    ``ses`` / ``sns``: whether routed copies can go out on that channel; ``recipients``: the
    security team's SES addresses (a route with the same set sends no second email);
    ``redelivered``: the finding is being retried, so the security team gets it whatever the routes.
    """
    security = {address.lower() for address in recipients}
    audiences: dict[Audience, None] = {}
    dropped: list[tuple[str, int]] = []
    untagged: list[str] = []
    replaced = True  # every matching route is exclusive and emails its owner instead
    matched = False
    for candidate in routes.routes:
        if not matches(candidate, account, account_id, band):
            continue
        matched = True
        addresses, tagged, left_out = _recipients(candidate, account, account_id)
        if left_out:
            dropped.append((candidate.name, left_out))
        if candidate.recipients_from_tag is not None and not tagged and not candidate.ses:
            untagged.append(candidate.name)  # the owner gets no email at all (a fixed list still emails)
        # The security team's own set is covered by its email: the same email twice helps nobody.
        emailed = ses and bool(addresses) and set(addresses) != security
        if emailed:
            audiences[_ses_audience(addresses)] = None
        if sns and candidate.sns:
            audiences[Audience(candidate.name, sns=True)] = None
        # Only an email to the owner replaces the security team's: an SNS copy may reach no subscriber.
        replaced &= candidate.exclusive and emailed
    if not (matched and replaced) or redelivered:
        # Today's recipients unless an exclusive owner is emailed it; always on a retry (the owner's
        # delivery may be what failed: the security team must not learn of it only from the DLQ).
        audiences = {DEFAULT: None, **audiences}
    return Routed(tuple(audiences), tuple(dropped), tuple(untagged))


def audiences_for(
    routes: Routes,
    account: Account | None,
    account_id: str,
    band: Band,
    *,
    ses: bool = True,
    sns: bool = True,
    recipients: Sequence[str] = (),
) -> tuple[Audience, ...]:
    """The audiences of a finding (``route`` without the counts of addresses left out)."""
    return route(routes, account, account_id, band, ses=ses, sns=sns, recipients=recipients).audiences


def undeliverable(routes: Routes, *, ses: bool, sns: bool) -> tuple[str, ...]:
    """The routes that can send nothing with these channels (only SES without SES, only SNS without SNS)."""
    return tuple(r.name for r in routes.routes if not ((ses and (r.ses or r.recipients_from_tag)) or (sns and r.sns)))


def _recipients(candidate: Route, account: Account | None, account_id: str) -> tuple[tuple[str, ...], int, int]:
    """The route's addresses and its account tag's within ``allowed_domains``; how many came from
    the tag, and how many were left out."""
    addresses = list(candidate.ses)
    tagged = left_out = 0
    key = candidate.recipients_from_tag
    if key is not None and account is not None and account.id == account_id and (value := account.tag(key)):
        allowed = set(candidate.allowed_domains)
        email = re.compile(_EMAIL)
        for address in filter(None, _TAG_SEPARATORS.split(value)):
            if email.fullmatch(address) and address.rpartition("@")[2].lower() in allowed:
                addresses.append(address)
                tagged += 1
            else:
                left_out += 1
    # One copy per mailbox, and one audience per set however its addresses were written.
    return tuple(sorted({address.lower() for address in addresses})), tagged, left_out


def _ses_audience(addresses: tuple[str, ...]) -> Audience:
    digest = hashlib.sha256("\n".join(addresses).encode()).hexdigest()
    return Audience(f"to-{digest[:16]}", ses=addresses)


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is refused (which one wins is a guess a reviewer cannot see)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKeyError
    return result


_PROBLEMS: Final[dict[str, str]] = {
    "missing": "required",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "literal_error": "must be 1",
    "enum": "must be Critical, High, Medium or Low",
}


def _first_problem(error: ValidationError) -> str:
    """``routes[2].ses[0]: not an email address`` (and how many more), from pydantic's errors without input."""
    problems = error.errors(include_input=False, include_url=False)
    first = problems[0]
    location = list(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        field = location.pop() if location else ""
        shown = str(field) if _SAFE_FIELD.fullmatch(str(field)) else "a field"
        message = f"{shown} is not a known field"
    elif kind in ("too_long",):
        message = f"at most {first.get('ctx', {}).get('max_length', MAX_ROUTES)} entries"
    else:
        message = _PROBLEMS.get(kind, first["msg"])
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{_location(location) or 'routes file'}: {message}{more}"


def _location(parts: Sequence[int | str]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text
