"""Pure: the minimal safe form of a finding whose details cannot be shown.

Rendering a finding can fail on a value nobody foresaw (a timestamp in the year 9999 shown
in a display time zone makes ``astimezone`` raise OverflowError). Such a finding must still
reach someone, without taking the other findings of its email down with it: it is shown
with what was validated only (band, severity, type, finding id, account and its name, Region, the links
and commands built from validated parts, the response steps, which are our own text) and a
line saying its details could not be shown. Nothing else from the finding is kept, so the
minimal form renders through the normal templates with nothing left to fail.

``compose`` is the one place that decides what an email shows when rendering fails: the
notifier, ``service.prepare`` and the preview all call it, so the preview shows exactly
what the notifier sends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Generic, TypeVar

from responder.domain.accounts import label, valid_name
from responder.domain.catalog import message
from responder.domain.classify import (
    SAFE_ACCOUNT,
    SAFE_ID,
    SAFE_REGION,
    Classification,
    parse_type,
)
from responder.domain.digest import Item, Kind, render_digest
from responder.domain.facts import Fact
from responder.domain.i18n import Locale
from responder.domain.render import Email, render
from responder.domain.updates import UpdateDecision

UNKNOWN: Final = "?"  # a required identifier that did not pass its pattern (the digest's "absent" mark)
UNRECOGNISED_TYPE: Final = "UnrecognisedFindingType"  # as in the subject of a type that did not validate


def minimal(c: Classification, locale: Locale) -> Classification:
    """``c`` reduced to its validated identifiers, with "details could not be shown" as its title.

    Its links are kept: they are built from validated identifiers only.
    """
    t = c.triage
    finding_type = t.safe_type or UNRECOGNISED_TYPE
    finding_id = t.finding_id if SAFE_ID.fullmatch(t.finding_id) else UNKNOWN
    account = t.account_id if SAFE_ACCOUNT.fullmatch(t.account_id) else UNKNOWN
    # The account's name passes accounts.SAFE_NAME (checked again: this form trusts nothing
    # else), and is cleaned and defanged like any value when shown; never beside an unknown id.
    account_name = valid_name(t.account_name) if account != UNKNOWN else None
    region = t.region if SAFE_REGION.fullmatch(t.region) else UNKNOWN
    # An action type that is not an identifier is hidden, but the email must not then claim
    # the finding has no action at all (render says so for a finding without one).
    action_type = t.action_type if t.action_type is None or t.action_type.isidentifier() else "UNKNOWN"
    triage = replace(
        t,
        finding_id=finding_id,
        finding_type=finding_type,
        parts=parse_type(t.safe_type or ""),
        action_type=action_type,
        resource_type=None,
        account_id=account,
        account_name=account_name,
        region=region,
        updated_at=None,
    )
    presentation = replace(
        c.presentation,
        resource_label=None,
        title=message("v.details_unavailable", locale.lang),
        first_seen=None,
        last_seen=None,
        overview=(
            Fact("f.type", finding_type),
            Fact("f.account", label(account, account_name)),
            Fact("f.region", region),
            Fact("f.finding_id", finding_id),
        ),
        resource_facts=(),
        action_facts=(),
        evidence_facts=(),
        frequency_facts=(),
    )
    return Classification(triage, presentation, c.links)


T = TypeVar("T")


@dataclass(frozen=True)
class Shown(Generic[T]):
    """One finding as an email shows it: ``c`` is its own classification or its minimal form."""

    item: T  # the caller's own record of the finding (a queue entry, a prepared finding)
    c: Classification
    update: UpdateDecision | None
    error: str | None = None  # why its details are not shown: the type of the exception rendering raised


@dataclass(frozen=True)
class Composed(Generic[T]):
    """The emails of some findings, each with the findings it shows, and the findings that
    could not be rendered even in their minimal form (``error`` says why)."""

    emails: list[tuple[list[Shown[T]], Email]]
    lost: list[Shown[T]]


@dataclass(frozen=True)
class _Style:
    kind: Kind
    lone_in_full: bool
    locale: Locale
    minutes: int


def compose(
    items: Sequence[T],
    view: Callable[[T], Item],
    *,
    kind: Kind,
    lone_in_full: bool,
    locale: Locale,
    minutes: int = 60,
) -> Composed[T]:
    """The email(s) of ``items``: normally one; a finding that breaks rendering never costs the others.

    ``view`` gives each item's classification and update. One finding alone gets its full
    email when ``lone_in_full`` (an immediate finding), otherwise the findings share one
    grouped email of ``kind``. If that render raises, each finding is rendered alone in the
    same form: one that fails is shown in its minimal form, and is ``lost`` if even that
    fails. Should every finding render alone but not all together (no input is known to do
    this: the grouped email combines them only by sorting and counting), each goes out alone
    in the form just proven to render, so nothing is lost.
    """
    style = _Style(kind, lone_in_full, locale, minutes)
    return _compose([Shown(item, *view(item)) for item in items], style)


def _compose(parts: list[Shown[T]], style: _Style) -> Composed[T]:
    if not parts:
        return Composed([], [])
    grouped = not (style.lone_in_full and len(parts) == 1)
    together = _attempt(parts, style, grouped=grouped)
    if isinstance(together, Email):
        return Composed([(parts, together)], [])
    alone: list[tuple[Shown[T], Email]] = []
    lost: list[Shown[T]] = []
    for part in parts:
        email = together if len(parts) == 1 else _attempt([part], style, grouped=grouped)
        if isinstance(email, Exception):
            error = part.error or type(email).__name__
            reduced = replace(part, c=minimal(part.c, style.locale), error=error)
            email = _attempt([reduced], style, grouped=grouped)
            if isinstance(email, Exception):
                lost.append(replace(part, error=error))
                continue
            part = reduced  # noqa: PLW2901 (the finding as it is shown from here on)
        alone.append((part, email))
    shown = [part for part, _email in alone]
    if lost:
        # Fewer findings may change the form (a lone immediate one gets its full email).
        rest = _compose(shown, style)
        return Composed(rest.emails, lost + rest.lost)
    if len(shown) > 1 and any(part.error for part in shown):
        together = _attempt(shown, style, grouped=grouped)
        if isinstance(together, Email):
            return Composed([(shown, together)], [])
    # One finding, or several that render alone but not together: one email each, as proven.
    return Composed([([part], email) for part, email in alone], [])


def _attempt(parts: list[Shown[T]], style: _Style, *, grouped: bool) -> Email | Exception:
    """The email of ``parts`` in that form, or the exception rendering it raised."""
    try:
        if not grouped:
            [only] = parts
            return render(only.c, style.locale, only.update)
        items = [(part.c, part.update) for part in parts]
        return render_digest(items, kind=style.kind, locale=style.locale, minutes=style.minutes)
    except Exception as error:  # noqa: BLE001 (a finding's value broke rendering: the caller finds which)
        return error
