"""Pure: many findings in one email (a storm of immediate findings, or the periodic digest).

Findings are grouped by finding type, then resource, most severe first. Each entry keeps
what a responder needs to act: band, severity, resource, account and Region, first and
last seen, the finding id, why it is emailed again (for an update), the console link and
the short form of its steps. The most urgent finding of the email (the first entry of the first
group) also carries its Respond section: the runbooks it offers, as in a single email.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal, TypeVar

from responder.domain.catalog import message
from responder.domain.classify import Classification
from responder.domain.cleaning import shown, shown_prose
from responder.domain.i18n import Locale
from responder.domain.render import (
    BAND_COLOURS,
    ENGLISH,
    FONT_STACKS,
    LINK_COLOUR,
    Email,
    RespondItem,
    account_shown,
    offers,
    own_tokens,
    pointed_steps,
    respond_items,
    safe_local_subject,
    safe_subject,
    templates,
    update_note,
    when,
)
from responder.domain.settings import Band
from responder.domain.updates import UpdateDecision

SHORT_STEPS: Final = 2  # steps shown per finding in a digest: the most specific ones
FIELD_LIMIT: Final = 120  # characters of any finding value in a digest entry
ACCOUNT_LIMIT: Final = 70  # characters of ``payments-prod (111122223333)``: a 50-character name and its id fit
# ALERTS: immediate findings that arrived together; DIGEST: the periodic digest of the rest.
Kind = Literal["ALERTS", "DIGEST"]


@dataclass(frozen=True)
class Entry:
    band: Band
    colour: str
    severity: str
    finding_id: str
    resource: str
    account: str
    region: str
    first_seen: str
    last_seen: str
    count: str
    title: str
    note: str | None  # why an update is emailed again
    console_url: str | None
    steps: tuple[str, ...]
    respond: tuple[RespondItem, ...] = ()  # the most urgent entry's Respond section (empty for the rest)


@dataclass(frozen=True)
class Group:
    finding_type: str  # as shown: cleaned and defanged, one line (the type is attacker-controlled)
    band: Band  # the most severe band in the group
    entries: tuple[Entry, ...]


Item = tuple[Classification, UpdateDecision | None]
T = TypeVar("T")


def _entry(c: Classification, update: UpdateDecision | None, locale: Locale, *, respond: bool = False) -> Entry:
    t, shows = c.triage, c.presentation
    marker = message("l.truncated", locale.lang)
    own_type, own_paths = own_tokens(c)
    offered = offers(c) if respond else ()
    # The urgency line is the same for a whole band; the next steps are specific (and point to
    # the runbook below when this entry shows its Respond section).
    pointed = pointed_steps(shows.steps, shows.step_intents, offered, locale.lang)
    specific = tuple(text for step, text in zip(shows.steps[1:], pointed[1:], strict=True) if step)[:SHORT_STEPS]
    return Entry(
        band=t.band,
        colour=BAND_COLOURS[t.band],
        severity=f"{t.severity:.1f}",
        finding_id=shown(t.finding_id, FIELD_LIMIT, marker=marker),
        resource=shown(shows.resource_label or t.resource_type or "?", FIELD_LIMIT, marker=marker),
        account=account_shown(t, ACCOUNT_LIMIT, marker) or shown(t.account_id, 20, marker=marker),
        region=shown(t.region, 30, marker=marker),
        first_seen=when(shows.first_seen, locale) if shows.first_seen else "?",
        last_seen=when(shows.last_seen, locale) if shows.last_seen else "?",
        count=str(t.count) if t.count is not None else "?",
        title=shown_prose(shows.title or "", FIELD_LIMIT, marker=marker, own_type=own_type, own_paths=own_paths),
        note=update_note(c, update, locale),
        console_url=c.links.console_url,
        steps=specific,
        respond=respond_items(offered, locale.lang),
    )


def _severest_first(item: Item) -> tuple[float, str, str]:
    """Most severe first, then by resource and finding id (a stable order for equal severities)."""
    c = item[0]
    return (-c.triage.severity, c.presentation.resource_label or "", c.triage.finding_id)


def group(items: Sequence[Item], locale: Locale = ENGLISH) -> list[Group]:
    """Findings grouped by type, most severe group first, most severe finding first."""
    by_type: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_type[item[0].triage.finding_type].append(item)
    groups: list[tuple[Group, Item]] = []
    for members in by_type.values():
        members.sort(key=_severest_first)
        top = members[0][0].triage
        entries = tuple(_entry(c, update, locale) for c, update in members)
        # One type per group: shown once, from the group's own (raw, attacker-controlled) type.
        marker = message("l.truncated", locale.lang)
        finding_type = shown(top.finding_type, FIELD_LIMIT, marker=marker, finding_type=True)
        groups.append((Group(finding_type, top.band, entries), members[0]))
    groups.sort(key=lambda pair: (-pair[0].band.rank, -float(pair[0].entries[0].severity), pair[0].finding_type))
    if not groups:
        return []
    # The most urgent finding (first entry of the first group) gets the Respond section.
    first, (c, update) = groups[0]
    urgent = _entry(c, update, locale, respond=True)
    groups[0] = (replace(first, entries=(urgent, *first.entries[1:])), groups[0][1])
    return [g for g, _top in groups]


def _subject_line(
    findings: Sequence[Classification], kind: Kind, lang: str, *, found: str, band_item: Callable[[str, int], str]
) -> str:
    """``[GuardDuty <kind>] [<sample>] <found>: <band counts>``: the words of ``lang``."""
    counts = {band: sum(c.triage.band == band for c in findings) for band in Band}
    summary = ", ".join(band_item(band, n) for band, n in counts.items() if n)
    samples = f" [{message('s.sample', lang)}]" if findings and all(c.triage.is_sample for c in findings) else ""
    return f"[GuardDuty {message(f's.{kind.lower()}', lang)}]{samples} {found}: {summary}"


def digest_subject(findings: Sequence[Classification], *, kind: Kind) -> str:
    """``[GuardDuty DIGEST] 12 findings: 2 HIGH, 10 MEDIUM`` (printable ASCII, at most 99)."""
    found = f"{len(findings)} {'finding' if len(findings) == 1 else 'findings'}"
    line = _subject_line(findings, kind, "en", found=found, band_item=lambda band, n: f"{n} {band.upper()}")
    return safe_subject(line)


def local_digest_subject(findings: Sequence[Classification], *, kind: Kind, lang: str) -> str | None:
    """The digest subject in ``lang`` (``None`` for English)."""
    if lang == "en":
        return None
    found = message("s.findings", lang).format(n=len(findings))
    line = _subject_line(
        findings, kind, lang, found=found, band_item=lambda band, n: f"{message(f'band.{band}', lang)} {n}"
    )
    return safe_local_subject(line)


def render_digest(
    items: Sequence[Item], *, kind: Kind = "DIGEST", locale: Locale = ENGLISH, minutes: int = 60
) -> Email:
    """One email for many findings; the caller splits large sets (see ``batches``)."""
    lang = locale.lang
    text_template, html_template = templates("digest")
    findings = [c for c, _update in items]
    ascii_subject = digest_subject(findings, kind=kind)
    local = local_digest_subject(findings, kind=kind, lang=lang)
    subject = local or ascii_subject
    intro_key = "d.intro_alerts" if kind == "ALERTS" else "d.intro_digest"
    context = {
        "subject": subject,
        "lang": lang,
        "font_family": FONT_STACKS[lang],
        "groups": group(items, locale),
        "total": len(items),
        "intro": message(intro_key, lang).format(count=len(items), minutes=minutes),
        "h_steps": message("d.steps", lang),
        "l_resource": message("f.resource_type", lang),
        "l_seen": message("d.seen", lang),
        "l_count": message("f.count", lang),
        "l_id": message("f.finding_id", lang),
        "l_update": message("f.update", lang),
        "console_label": message("f.console", lang),
        "h_respond": message("h.respond", lang),
        "respond_intro": message("r.intro", lang),
        "respond_console": message("r.console", lang),
        "link_colour": LINK_COLOUR,
        "footer": message("l.footer", lang),
        "band_names": {band: message(f"band.{band}", lang) for band in Band},
    }
    return Email(
        subject=ascii_subject,
        text=text_template.render(**context),
        html=html_template.render(**context),
        local_subject=local,
    )


def batches(items: Sequence[T], *, size: int, severity: Callable[[T], float]) -> list[list[T]]:
    """Split many findings into as few emails as ``size`` allows, evenly, most severe first."""
    ordered = sorted(items, key=lambda item: -severity(item))
    if not ordered:
        return []
    emails = -(-len(ordered) // size)  # ceiling
    even = -(-len(ordered) // emails)
    return [list(ordered[start : start + even]) for start in range(0, len(ordered), even)]
