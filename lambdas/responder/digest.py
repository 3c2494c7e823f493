"""Pure: many findings in one email (a storm of immediate findings, or the periodic digest).

Findings are grouped by finding type, then resource, most severe first. Each entry keeps
what a responder needs to act: band, severity, resource, account and Region, first and
last seen, the console link and the short form of its steps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from responder.catalog import message
from responder.classify import BANDS, Classification
from responder.render import BAND_COLOURS, LINK_COLOUR, Email, clean, defang, safe_subject, templates

SHORT_STEPS: Final = 2  # steps shown per finding in a digest: the most specific ones
FIELD_LIMIT: Final = 120  # characters of any finding value in a digest entry


@dataclass(frozen=True)
class Entry:
    band: str
    colour: str
    severity: str
    finding_type: str
    resource: str
    account: str
    region: str
    first_seen: str
    last_seen: str
    count: str
    title: str
    console_url: str | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    finding_type: str
    band: str  # the most severe band in the group
    entries: tuple[Entry, ...]


def _entry(c: Classification) -> Entry:
    # The urgency line is the same for a whole band; the next steps are specific.
    specific = tuple(step for step in c.steps[1:] if step)[:SHORT_STEPS]
    facts = {fact.label: fact.value for fact in c.frequency_facts}
    return Entry(
        band=c.band,
        colour=BAND_COLOURS[c.band],
        severity=f"{c.severity:.1f}",
        finding_type=defang(clean(c.finding_type, FIELD_LIMIT)),
        resource=defang(clean(c.resource_label or c.resource_type or "?", FIELD_LIMIT)),
        account=clean(c.account_id, 20),
        region=clean(c.region, 30),
        first_seen=clean(facts.get("f.first_seen", "?"), 40),
        last_seen=clean(facts.get("f.last_seen", "?"), 40),
        count=str(c.count) if c.count is not None else "?",
        title=defang(clean(c.title or "", FIELD_LIMIT)),
        console_url=c.console_url,
        steps=specific,
    )


def group(findings: Sequence[Classification]) -> list[Group]:
    """Findings grouped by type, most severe group first, most severe finding first."""
    by_type: dict[str, list[Classification]] = defaultdict(list)
    for c in findings:
        by_type[c.finding_type].append(c)
    groups = []
    for finding_type, members in by_type.items():
        members.sort(key=lambda c: (-c.severity, c.resource_label or "", c.finding_id))
        groups.append(Group(finding_type, members[0].band, tuple(_entry(c) for c in members)))
    rank = {band: index for index, band in enumerate(BANDS)}  # Critical first
    groups.sort(key=lambda g: (rank[g.band], -float(g.entries[0].severity), g.finding_type))
    return groups


def digest_subject(findings: Sequence[Classification], *, kind: str) -> str:
    """``[GuardDuty DIGEST] 12 findings: 2 HIGH, 10 MEDIUM`` (printable ASCII, at most 99)."""
    counts = {band: sum(c.band == band for c in findings) for band in BANDS}
    summary = ", ".join(f"{n} {band.upper()}" for band, n in counts.items() if n)
    samples = " [SAMPLE]" if findings and all(c.is_sample for c in findings) else ""
    text = f"[GuardDuty {kind}]{samples} {len(findings)} findings: {summary}"
    return safe_subject(text)


def render_digest(findings: Sequence[Classification], *, kind: str = "DIGEST", lang: str = "en") -> Email:
    """One email for many findings; the caller splits very large sets (see ``batches``)."""
    text_template, html_template = templates("digest")
    groups = group(findings)
    subject = digest_subject(findings, kind=kind)
    context = {
        "subject": subject,
        "lang": lang,
        "groups": groups,
        "total": len(findings),
        "intro": message("d.intro", lang).format(count=len(findings)),
        "h_steps": message("d.steps", lang),
        "l_resource": message("f.resource_type", lang),
        "l_seen": message("d.seen", lang),
        "l_count": message("f.count", lang),
        "console_label": message("f.console", lang),
        "link_colour": LINK_COLOUR,
        "footer": message("l.footer", lang),
        "band_names": {band: message(f"band.{band}", lang) for band in BANDS},
    }
    return Email(subject=subject, text=text_template.render(**context), html=html_template.render(**context))


def batches(findings: Sequence[Classification], *, size: int) -> list[list[Classification]]:
    """Split a storm into emails of at most ``size`` findings, most severe first."""
    ordered = sorted(findings, key=lambda c: -c.severity)
    return [list(ordered[start : start + size]) for start in range(0, len(ordered), size)]
