"""Pure: one chat message for one finding or a group, in the custom-notification format that
Amazon Q Developer in chat applications renders in Slack and Microsoft Teams.

The service drops anything else silently, so the shape is fixed here: ``version`` "1.0",
``source`` "custom", ``content`` (``textType`` "client-markdown", ``title``, ``description``,
``nextSteps``, ``keywords``) and ``metadata`` (``threadId``, ``summary``, ``eventType``,
``relatedResources``, ``additionalContext``).

Safety, as for the emails: every finding value goes through the one cleaning path
(``cleaning.shown``: bounded, invisible characters shown, defanged) and then ``escape_markdown``,
so a value cannot make a link, a mention or formatting. The only link is the console URL that
``classify`` builds from validated parts.
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
from responder.domain.digest import digest_subject, local_digest_subject
from responder.domain.facts import Fact
from responder.domain.i18n import translator
from responder.domain.render import own_tokens, subject
from responder.domain.settings import Settings

VERSION: Final = "1.0"
SOURCE: Final = "custom"
TEXT_TYPE: Final = "client-markdown"
EVENT_TYPE: Final = "GuardDutyFinding"
NEXT_STEPS: Final = 3  # the most specific steps (the urgency line is the same for a whole band)
FIELD_LIMIT: Final = 200  # characters of any one finding value, before escaping
MAX_TITLE: Final = 250  # characters of the title, after escaping
MAX_DESCRIPTION: Final = 3_000  # characters of the description, after escaping (see README)
MAX_STEP: Final = 500  # characters of one next step, after escaping
MAX_LISTED: Final = 10  # findings a grouped message lists one by one
MAX_RELATED: Final = 10  # ARNs in relatedResources
MAX_KEYWORDS: Final = 10

# Characters markdown gives a meaning to, shown literally with a backslash. ``&<>`` are entities.
# ``-`` and ``+`` make a list only at a line's start, where no value ever stands (a label does).
_MARKDOWN: Final = re.compile(r"([\\`*_~|\[\]()#!])")
_ENTITIES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ENTITY: Final = re.compile("[&<>]")
# A mention (@here, @channel, @everyone, @user): its @ defanged as the cleaning defangs an
# address (x[@]y); an @ the cleaning already defanged is left as it is.
_AT: Final = re.compile(r"(?<!\[)@|@(?!\])")
_LINE_BREAKS: Final = re.compile(r"\s*[\r\n]+\s*")
# An ARN from a finding, shown only when it has this shape (no spaces, brackets or scheme).
_ARN: Final = re.compile(r"arn:aws(?:-[a-z]+)*:[a-z0-9-]{1,63}:[a-z0-9-]{0,30}:(?:\d{12})?:[A-Za-z0-9_+=,.:/-]{1,1024}")


def escape_markdown(text: str) -> str:
    """``text`` (already cleaned) shown literally in chat markdown: no link, mention or formatting.

    ``&<>`` become entities (Slack's own escaping; ``<!channel>`` is then text), every other
    markdown character is backslash-escaped, an ``@`` is defanged to ``[@]``.
    """
    text = _LINE_BREAKS.sub(" ", text)
    text = _AT.sub("[@]", text) if "@" in text else text
    text = _MARKDOWN.sub(r"\\\1", text)
    return _ENTITY.sub(lambda match: _ENTITIES[match[0]], text)


def notification(group: Sequence[Classification], settings: Settings) -> str:
    """The chat message (JSON text) for one finding, or one message for a group of findings."""
    payload = _one(group[0], settings) if len(group) == 1 else _many(group, settings)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def thread_id(group: Sequence[Classification]) -> str:
    """``gd-`` and a hash of the finding id (its updates thread together), or of the sorted ids."""
    ids = sorted(c.triage.finding_id for c in group)
    if len(ids) == 1:
        return "gd-" + _sha(ids[0])[:32]
    return "gd-group-" + _sha("\n".join(ids))[:32]


# --- one finding --------------------------------------------------------------------


def _one(c: Classification, settings: Settings) -> dict[str, object]:
    lang = settings.locale.lang
    t = c.triage
    title = _safe(f"{_head(c, lang)} {_type(c)}", MAX_TITLE)
    lines = [*(_line(key, value) for key, value in _facts(c, lang))]
    if c.links.console_url:
        lines.append(f"[{escape_markdown(message('f.console', lang))}]({c.links.console_url})")
    return _payload(
        group=(c,),
        title=title,
        description=_bounded_lines(lines),
        steps=_steps(c, lang),
        keywords=_keywords((c,), lang),
        summary=subject(c),
        context={
            "account": escape_markdown(_account(c)),
            "region": escape_markdown(_region(c)),
            "severity": f"{t.severity:.1f}",
        },
    )


def _head(c: Classification, lang: str) -> str:
    band = c.triage.band.upper() if lang == "en" else message(f"band.{c.triage.band}", lang)
    head = f"[GuardDuty {band} {c.triage.severity:.1f}]"
    return f"[{message('s.sample', lang)}] {head}" if c.triage.is_sample else head


def _type(c: Classification) -> str:
    return shown(c.triage.safe_type or "UnrecognisedFindingType", FIELD_LIMIT, finding_type=True)


def _facts(c: Classification, lang: str) -> list[tuple[str, str]]:
    """(label, value) rows of the description, values cleaned but not yet escaped."""
    shows = c.presentation
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
    return rows


def _fact(fact: Fact, lang: str, marker: str) -> str:
    if fact.translate:
        return message(fact.value, lang)
    return shown(fact.value, FIELD_LIMIT, marker=marker, indicator=fact.ioc, paths=fact.path, name=fact.name)


def _account(c: Classification) -> str:
    t = c.triage
    if not SAFE_ACCOUNT.fullmatch(t.account_id):
        return shown(t.account_id, 20)
    return shown(label(t.account_id, t.account_name), 70)


def _region(c: Classification) -> str:
    region = c.triage.region
    return region if SAFE_REGION.fullmatch(region) else shown(region, 30)


def _steps(c: Classification, lang: str) -> list[str]:
    tr = translator(lang)
    return [_safe(tr(step), MAX_STEP) for step in c.presentation.steps[1:] if step][:NEXT_STEPS]


# --- a group ------------------------------------------------------------------------


def _many(group: Sequence[Classification], settings: Settings) -> dict[str, object]:
    lang = settings.locale.lang
    ordered = sorted(group, key=lambda c: (-c.triage.severity, c.triage.finding_id))
    title = local_digest_subject(ordered, kind="ALERTS", lang=lang) or digest_subject(ordered, kind="ALERTS")
    lines = []
    for c in ordered[:MAX_LISTED]:
        entry = " · ".join(escape_markdown(part) for part in (_head(c, lang), _type(c), _account(c), _region(c)))
        if c.links.console_url:
            entry += f" ([{escape_markdown(message('f.console', lang))}]({c.links.console_url}))"
        lines.append(f"- {entry}")
    if len(ordered) > MAX_LISTED:
        lines.append(escape_markdown(message("l.more", lang).format(n=len(ordered) - MAX_LISTED)))
    top = ordered[0] if ordered else None
    return _payload(
        group=ordered,
        title=_safe(title, MAX_TITLE),
        description=_bounded_lines(lines),
        steps=_steps(top, lang) if top else [],
        keywords=_keywords(ordered, lang),
        summary=digest_subject(ordered, kind="ALERTS"),
        context={"findings": str(len(ordered))},
    )


# --- shared -------------------------------------------------------------------------


def _payload(
    *,
    group: Sequence[Classification],
    title: str,
    description: str,
    steps: list[str],
    keywords: list[str],
    summary: str,
    context: dict[str, str],
) -> dict[str, object]:
    return {
        "version": VERSION,
        "source": SOURCE,
        "id": _message_id(group),
        "content": {
            "textType": TEXT_TYPE,
            "title": title,
            "description": description,
            "nextSteps": steps,
            "keywords": keywords,
        },
        "metadata": {
            "threadId": thread_id(group),
            "summary": escape_markdown(summary),
            "eventType": EVENT_TYPE,
            "relatedResources": _related(group),
            "additionalContext": context,
        },
    }


def _line(key: str, value: str) -> str:
    return f"*{escape_markdown(key)}:* {escape_markdown(value)}"


def _safe(text: str, limit: int) -> str:
    """Clean, defang and escape ``text``; cut at ``limit`` characters without splitting an escape."""
    return _cut(escape_markdown(shown(text, limit)), limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Never end inside an escape: a lone backslash or a partial entity would change the next character.
    cut = re.sub(r"(\\|&[a-z]{0,3})$", "", cut)
    return cut + "…"


def _bounded_lines(lines: list[str]) -> str:
    """Whole lines up to ``MAX_DESCRIPTION`` characters (a cut line could break an escape or a link)."""
    kept: list[str] = []
    length = 0
    for line in lines:
        if length + len(line) + 1 > MAX_DESCRIPTION:
            kept.append("…")
            break
        kept.append(line)
        length += len(line) + 1
    return "\n".join(kept) or "…"


def _keywords(group: Sequence[Classification], lang: str) -> list[str]:
    """Band, Region and account id of each finding, validated values only (no escaping needed)."""
    words: list[str] = []
    for c in group:
        t = c.triage
        words.append(t.band.upper() if lang == "en" else message(f"band.{t.band}", lang))
        words += [
            value for value in (t.region, t.account_id) if SAFE_REGION.fullmatch(value) or SAFE_ACCOUNT.fullmatch(value)
        ]
    return list(dict.fromkeys(words))[:MAX_KEYWORDS]


def _related(group: Sequence[Classification]) -> list[str]:
    arns = (
        fact.value
        for c in group
        for fact in c.presentation.resource_facts
        if fact.label == "f.arn" and _ARN.fullmatch(fact.value) and "//" not in fact.value
    )
    return list(dict.fromkeys(arns))[:MAX_RELATED]


def _message_id(group: Sequence[Classification]) -> str:
    keys = sorted(f"{c.triage.finding_id}|{c.triage.updated_at}|{c.triage.count}" for c in group)
    return _sha("\n".join(keys))[:32]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
