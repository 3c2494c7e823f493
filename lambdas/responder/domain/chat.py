"""Pure: one chat message for one finding or a group, in the custom-notification format that
Amazon Q Developer in chat applications renders in Slack and Microsoft Teams.

The service drops anything else silently, so the shape is fixed here: ``version`` "1.0",
``source`` "custom", ``id``, ``content`` (``textType`` "client-markdown", ``title``,
``description``, ``nextSteps``, ``keywords``) and ``metadata`` (``threadId``, ``summary``,
``eventType``, ``relatedResources``, ``additionalContext``). ``threadId`` is a hash of the
finding id, so a finding's updates thread under its first message; a group is one message.

Safety, as for the emails: every finding value goes through the one cleaning path
(``cleaning.shown``: bounded, invisible characters shown, defanged) and then
``escape_markdown``, so a value can make no link, mention or formatting. The only links are
the console URLs that ``classify`` builds from validated parts; keywords and related
resources hold validated identifiers only.

Size: no limit is documented for these messages; the bounds below keep one well inside what
Slack shows in one block (3,000 characters of text) and far below SNS's 256 KiB.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Final

from responder.domain.accounts import label
from responder.domain.catalog import message
from responder.domain.classify import SAFE_ACCOUNT, SAFE_REGION, Classification
from responder.domain.cleaning import shown, shown_prose
from responder.domain.degrade import UNRECOGNISED_TYPE, minimal
from responder.domain.digest import Kind, digest_subject, local_digest_subject
from responder.domain.facts import Fact
from responder.domain.i18n import Locale, translator
from responder.domain.render import local_subject, own_tokens, subject, update_note
from responder.domain.settings import Settings
from responder.domain.updates import AGAIN, UpdateDecision

VERSION: Final = "1.0"
SOURCE: Final = "custom"
TEXT_TYPE: Final = "client-markdown"  # the only type the service supports
EVENT_TYPE: Final = "GuardDutyFinding"
NEXT_STEPS: Final = 3  # the most specific steps: the first (urgency) line is the same for a whole band
FIELD_LIMIT: Final = 200  # characters of one finding value, before escaping
MAX_TITLE: Final = 150  # characters of the title (Slack shows a header of at most 150)
MAX_DESCRIPTION: Final = 3_000  # characters of the description (Slack shows 3,000 in one text block)
MAX_STEP: Final = 500  # characters of one next step
MAX_SUMMARY: Final = 150  # characters of the summary
MAX_KEYWORDS: Final = 10
MAX_RELATED: Final = 5  # ARNs in relatedResources
MAX_ARN: Final = 512  # characters: a longer ARN is left out rather than cut
# Upper bound of the whole message in UTF-8 bytes, from the bounds above: description, title,
# summary and steps (about 4,800 characters, at most 3 bytes each, a backslash 2 in JSON), five
# ARNs (2,560), keywords, context and keys (under 1,000): under 20 KiB. A test checks the corpus,
# the hostile fixtures and the largest values against it. SNS allows 256 KiB.
MAX_MESSAGE_BYTES: Final = 32 * 1024

# Characters markdown (CommonMark, Slack, Teams) gives a meaning to, shown with a backslash.
# Not needed, so not escaped (each would only clutter a type like ``PhishingDomainRequest!DNS``):
# ``(``, ``)`` and ``!`` make a link or an image only after an unescaped ``]`` or ``[``;
# ``-``, ``+`` and digits make a list only at a line's start, where no value ever stands.
_MARKDOWN: Final = re.compile(r"([\\`*_~|\[\]#])")
_ENTITIES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}  # Slack's own escaping: <!channel> is then text
_ENTITY: Final = re.compile("[&<>]")
# An @ that is not already the cleaning's defanged [@] (x[@]y): @here, @channel, @everyone, @user.
_AT: Final = re.compile(r"(?<!\[)@|@(?!\])")
_LINE_BREAKS: Final = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_UNIT: Final = re.compile(r"\\.|&(?:amp|lt|gt);|.", re.DOTALL)  # one shown character: escaped or not
# An ARN as AWS writes them: no spaces, brackets, quotes or @ (nothing a chat client could
# turn into a link or mention), and no "//" (no URL hidden in the resource part).
_ARN: Final = re.compile(r"arn:aws(?:-[a-z]+)*:[a-z0-9-]{1,63}:[a-z0-9-]{0,30}:(?:[0-9]{12})?:[A-Za-z0-9_+=,.:/-]+")


def escape_markdown(text: str) -> str:
    """``text`` (already cleaned) shown literally in chat markdown: no link, mention or formatting.

    One line; ``&<>`` become entities, every other markdown character is backslash-escaped and
    an ``@`` is defanged to ``[@]`` (as the cleaning defangs an address).
    """
    text = _LINE_BREAKS.sub(" ", text)
    if "@" in text:
        text = _AT.sub("[@]", text)
    text = _MARKDOWN.sub(r"\\\1", text)
    return _ENTITY.sub(lambda match: _ENTITIES[match[0]], text)


def notification(
    group: Sequence[Classification],
    settings: Settings,
    *,
    kind: Kind = "ALERTS",
    updates: Sequence[UpdateDecision | None] = (),
) -> str:
    """The chat message (JSON text) for one finding, or one message for a group of findings.

    ``kind`` names a group as the grouped email does (``ALERTS`` or ``DIGEST``); ``updates``,
    when given, is each finding's update decision, in the order of ``group``: a finding emailed
    again is marked as the email marks it, and says why (it threads under its first message).

    Never raises for a finding an email can show: a finding whose values break this rendering
    is shown in its minimal form (validated identifiers only, no update note), as the emails do
    (``degrade``).
    """
    locale = settings.locale
    again = {c.triage.finding_id: u for c, u in zip(group, updates, strict=False) if u and u.reason in AGAIN}
    try:
        payload = _payload(group, locale, kind, again)
    except Exception:  # noqa: BLE001 (a value nobody foresaw must not cost the alert)
        payload = _payload([minimal(c, locale) for c in group], locale, kind, {})
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def thread_id(group: Sequence[Classification]) -> str:
    """``gd-`` and a hash of the finding id (its updates thread together), or ``gd-group-`` and
    a hash of the sorted ids of a group."""
    ids = sorted({c.triage.finding_id for c in group})
    if len(ids) == 1:
        return "gd-" + _sha(ids[0])[:32]
    return "gd-group-" + _sha("\n".join(ids))[:32]


def _payload(
    group: Sequence[Classification], locale: Locale, kind: Kind, again: dict[str, UpdateDecision]
) -> dict[str, object]:
    ordered = sorted(group, key=lambda c: (-c.triage.severity, c.triage.finding_id))
    lang = locale.lang
    top = ordered[0] if ordered else None
    if top is not None and len(ordered) == 1:
        update = again.get(top.triage.finding_id)
        title = f"{_head(top, lang, update)} {_type(top)}"
        description = _finding_description(top, locale, update)
        summary = local_subject(top, locale, update) or subject(top, update)
        context = {
            "account": escape_markdown(_account(top)),
            "region": escape_markdown(_region(top)),
            "severity": f"{top.triage.severity:.1f}",
        }
    else:
        title = local_digest_subject(ordered, kind=kind, lang=lang) or digest_subject(ordered, kind=kind)
        description = _group_description(ordered, lang, again)
        summary = title
        context = {"findings": str(len(ordered))}
    return {
        "version": VERSION,
        "source": SOURCE,
        "id": _message_id(ordered, kind),
        "content": {
            "textType": TEXT_TYPE,
            "title": _cut(escape_markdown(title), MAX_TITLE),
            "description": description or escape_markdown(title),  # required: never empty
            "nextSteps": _steps(top, lang) if top is not None else [],
            "keywords": _keywords(ordered, lang),
        },
        "metadata": {
            "threadId": thread_id(ordered),
            "summary": _cut(escape_markdown(summary), MAX_SUMMARY),
            "eventType": EVENT_TYPE,
            "relatedResources": _related(ordered),
            "additionalContext": context,
        },
    }


# --- one finding --------------------------------------------------------------------


def _finding_description(c: Classification, locale: Locale, update: UpdateDecision | None) -> str:
    """Title, why again (an update), account, Region and primary resource, one per line, then
    the console link."""
    rows = _rows(c, locale.lang)
    if update is not None and (note := update_note(c, update, locale)):
        rows.insert(1 if c.presentation.title else 0, (message("f.update", locale.lang), note))
    lines = [f"**{escape_markdown(key)}:** {escape_markdown(value)}" for key, value in rows]
    link = _console_link(c, locale.lang)
    budget = MAX_DESCRIPTION - (len(link) + 1 if link else 0)
    kept = _whole_lines(lines, budget)
    return "\n".join([*kept, link] if link else kept)


def _rows(c: Classification, lang: str) -> list[tuple[str, str]]:
    """(label, value) rows of the description, values cleaned and defanged, not yet escaped."""
    t, shows = c.triage, c.presentation
    marker = message("l.truncated", lang)
    rows: list[tuple[str, str]] = []
    if shows.title:
        own_type, own_paths = own_tokens(c)
        title = shown_prose(shows.title, FIELD_LIMIT, marker=marker, own_type=own_type, own_paths=own_paths)
        rows.append((message("f.title", lang), title))
    rows.append((message("f.account", lang), _account(c)))
    rows.append((message("f.region", lang), _region(c)))
    primary = next((fact for fact in shows.resource_facts if fact.primary), None)
    if primary is not None:
        rows.append((message(primary.label, lang), _fact(primary, lang, marker)))
    elif t.resource_type:
        rows.append((message("f.resource_type", lang), shown(t.resource_type, FIELD_LIMIT, marker=marker)))
    return rows


def _fact(fact: Fact, lang: str, marker: str) -> str:
    if fact.translate:
        return message(fact.value, lang)
    return shown(fact.value, FIELD_LIMIT, marker=marker, indicator=fact.ioc, paths=fact.path, name=fact.name)


# --- a group ------------------------------------------------------------------------


def _group_description(ordered: Sequence[Classification], lang: str, again: dict[str, UpdateDecision]) -> str:
    """One line per finding, most severe first, as many as fit, then "and N more"."""
    lines = [f"- {_group_line(c, lang, again.get(c.triage.finding_id))}" for c in ordered]
    kept = _whole_lines(lines, MAX_DESCRIPTION)
    while len(kept) < len(lines):
        more = escape_markdown(message("l.more", lang).format(n=len(lines) - len(kept)))
        if len("\n".join([*kept, more])) <= MAX_DESCRIPTION:
            return "\n".join([*kept, more])
        kept.pop()
    return "\n".join(kept)


def _group_line(c: Classification, lang: str, update: UpdateDecision | None) -> str:
    resource = c.presentation.resource_label
    parts = [_head(c, lang, update), _type(c), *([shown(resource, 60)] if resource else []), _account(c), _region(c)]
    line = " · ".join(escape_markdown(part) for part in parts)
    link = _console_link(c, lang)
    return f"{line} {link}" if link else line


# --- shared -------------------------------------------------------------------------


def _head(c: Classification, lang: str, update: UpdateDecision | None = None) -> str:
    """``[GuardDuty HIGH 8.0]`` (the band in the reader's language), marked as the subject marks
    an update and a sample."""
    band = c.triage.band.upper() if lang == "en" else message(f"band.{c.triage.band}", lang)
    head = f"[GuardDuty {band} {c.triage.severity:.1f}]"
    if update is not None:
        head = f"[{message('s.update', lang)}] {head}"
    return f"[{message('s.sample', lang)}] {head}" if c.triage.is_sample else head


def _type(c: Classification) -> str:
    """The finding type when it validates (as in the subject), cleaned and defanged."""
    return shown(c.triage.safe_type or UNRECOGNISED_TYPE, FIELD_LIMIT, finding_type=True)


def _account(c: Classification) -> str:
    """``name (id)`` when the id validates and a name is known, else the id (cleaned)."""
    t = c.triage
    if not SAFE_ACCOUNT.fullmatch(t.account_id):
        return shown(t.account_id, 20)
    return shown(label(t.account_id, t.account_name), 70)


def _region(c: Classification) -> str:
    region = c.triage.region
    return region if SAFE_REGION.fullmatch(region) else shown(region, 30)


def _console_link(c: Classification, lang: str) -> str | None:
    """The finding's console link: the only link a message holds (built by ``classify``)."""
    url = c.links.console_url
    return f"[{escape_markdown(message('f.console', lang))}]({url})" if url else None


def _steps(c: Classification, lang: str) -> list[str]:
    """The three most specific response steps, as the emails word them (our text, escaped)."""
    tr = translator(lang)
    specific = [step for step in c.presentation.steps[1:] if step][:NEXT_STEPS]
    return [_cut(escape_markdown(tr(step)), MAX_STEP) for step in specific]


def _keywords(group: Sequence[Classification], lang: str) -> list[str]:
    """Band, Region and account id of each finding: validated values only (nothing to escape)."""
    words: list[str] = []
    for c in group:
        t = c.triage
        words.append(t.band.upper() if lang == "en" else message(f"band.{t.band}", lang))
        words += [t.region] if SAFE_REGION.fullmatch(t.region) else []
        words += [t.account_id] if SAFE_ACCOUNT.fullmatch(t.account_id) else []
    return list(dict.fromkeys(words))[:MAX_KEYWORDS]


def _related(group: Sequence[Classification]) -> list[str]:
    """ARNs the findings' resource facts hold, when each is an ARN and nothing else."""
    arns = (
        fact.value
        for c in group
        for fact in c.presentation.resource_facts
        if len(fact.value) <= MAX_ARN and "//" not in fact.value and _ARN.fullmatch(fact.value)
    )
    return list(dict.fromkeys(arns))[:MAX_RELATED]


def _whole_lines(lines: list[str], budget: int) -> list[str]:
    """The first lines that fit in ``budget`` characters joined by line breaks: a line is never
    cut (a cut could end inside an escape or a link)."""
    kept: list[str] = []
    length = -1
    for line in lines:
        if length + 1 + len(line) > budget:
            break
        kept.append(line)
        length += 1 + len(line)
    return kept


def _cut(text: str, limit: int) -> str:
    """``text`` (escaped) at most ``limit`` characters, cut between shown characters: never
    inside an escape (a lone backslash or half an entity would change what follows)."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    length = 1  # the ellipsis
    for unit in _UNIT.findall(text):
        if length + len(unit) > limit:
            break
        kept.append(unit)
        length += len(unit)
    return "".join(kept) + "…"


def _message_id(group: Sequence[Classification], kind: Kind) -> str:
    """The same for the same delivery (a retry), new for an update of the finding."""
    keys = sorted(f"{c.triage.finding_id}|{c.triage.updated_at}|{c.triage.count}|{c.triage.severity}" for c in group)
    return _sha("\n".join([kind, *keys]))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
