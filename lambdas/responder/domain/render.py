"""Pure rendering: classification -> subject, plain-text body and HTML body.

Safety rules live here, in one place:
- every finding value goes through the one cleaning path, ``cleaning.shown`` (normalised,
  invisible characters made visible, bounded, defanged), before it reaches the subject or
  either body;
- the HTML template engine escapes every value (Jinja2 autoescape on);
- the subject is built only from validated identifiers, defanged, and is printable ASCII;
- the only links are the console and documentation URLs that ``classify`` builds;
- the Respond section shows only commands and console links of the shape ``respond`` builds
  from pattern-validated values (checked again here: anything else is left out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Final

from responder.domain.accounts import label as account_label
from responder.domain.catalog import EN, message
from responder.domain.classify import SAFE_ACCOUNT, SAFE_REGION, Classification, Triage
from responder.domain.cleaning import (
    INVISIBLE,
    defang,
    shown,
    shown_prose,
)
from responder.domain.facts import Fact
from responder.domain.guidance import ARCHIVE_NOTE, EXPORT_NOTE, NO_FINDING_NOTE
from responder.domain.i18n import Locale, translator
from responder.domain.runbooks import EXECUTION_ROLE_NAME, Offer, by_key
from responder.domain.settings import Band
from responder.domain.updates import AGAIN, UpdateDecision

if TYPE_CHECKING:
    import jinja2

MAX_SUBJECT: Final = 99  # SNS: printable ASCII, fewer than 100 characters
MAX_TEXT_BYTES: Final = 262_144  # SNS message limit, in UTF-8 bytes
# (field limit, description limit) tried in turn until the text body fits.
FIELD_LIMITS: Final = ((1_000, 4_000), (200, 1_000), (60, 200))

# Console-like severity colours: the one place an email colour is decided.
BAND_COLOURS: Final[dict[Band, str]] = {
    Band.CRITICAL: "#7a0000",
    Band.HIGH: "#d13212",
    Band.MEDIUM: "#e07700",
    Band.LOW: "#0073bb",
}
LINK_COLOUR: Final = "#0b5394"
# Fonts that render each language in common mail clients (macOS/iOS, Windows, Android/Linux).
FONT_STACKS: Final[dict[str, str]] = {
    "en": "Arial,Helvetica,sans-serif",
    "ja": "'Hiragino Kaku Gothic ProN','Hiragino Sans',Meiryo,'Yu Gothic','Noto Sans CJK JP',"
    "'Noto Sans JP',Arial,sans-serif",
}
MAX_LOCAL_SUBJECT: Final = 120  # characters of a translated (SES) subject; RFC 2047-encoded on the wire
# Facts whose value is an English sentence of ours (translated), and timestamps (shown in two zones).
PROSE_LABELS: Final = frozenset({"f.purpose_meaning"})
TIME_LABELS: Final = frozenset(
    {"f.first_seen", "f.last_seen", "f.created", "f.updated", "f.launch_time", "f.last_modified"}
    | {"f.modified_at", "f.scan_started", "f.scan_completed", "f.process_started"}
)
# The finding type: GuardDuty's own dotted names in it stay readable (``AnomalousBehavior.Write``).
TYPE_LABELS: Final = frozenset({"f.type"})

ENGLISH: Final = Locale()  # English, UTC only: the default of every renderer

# What an account name may show in a subject: letters, digits, spaces and the punctuation names
# are usually made of. Markup, quotes, ``@``, ``:`` and ``/`` never reach a subject line (a
# name with them shows in the body, escaped and defanged; the subject keeps the id alone).
SUBJECT_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+,-]{0,49}")

# Belt and braces over ``respond``'s validation: a command is the one CLI call made of characters
# that need no quoting in any shell, and a console link goes to a console host's Systems Manager
# pages. Anything else is not shown (never escaped into shape: escaping is shell-specific).
RESPOND_COMMAND: Final = re.compile(r"aws ssm start-automation-execution [A-Za-z0-9_.:/=+,@ -]{1,2000}")
# A member command's tail (``respond.command`` with a target): the execution role name, the operator's
# setting (never a finding value), twice. It passed EXECUTION_ROLE_NAME already; a dot or an ``@`` in it
# (``ops.exec``) is no link, so the link-like check skips it there, and only there.
_ROLE: Final = EXECUTION_ROLE_NAME.removeprefix("^").removesuffix("$")
_TARGET_TAIL: Final = re.compile(
    rf",AutomationAssumeRole=arn:aws(?:-[a-z]+)*:iam::[0-9]{{12}}:role/(?P<role>{_ROLE})"
    rf" --target-locations Accounts=[0-9]{{12}},Regions=[a-z0-9-]{{1,30}},ExecutionRoleName=(?P=role)"
    r",TargetLocationMaxConcurrency=1$"
)
RESPOND_CONSOLE: Final = re.compile(
    r"https://(?:[a-z0-9-]{1,30}\.)?(?:console\.aws\.amazon\.com|console\.amazonaws-us-gov\.com"
    r"|console\.amazonaws\.cn)/systems-manager/[A-Za-z0-9_./?=&-]{1,300}"
)
# The offers' labels, one per runbook key (a key without one is not shown: no label, no offer).
RESPOND_LABELS: Final = {
    "isolate": "r.isolate",
    "credentials": "r.credentials",
    "public_access": "r.public_access",
    "archive": "r.archive",
}
# Notes saying the runbook cannot act on this finding at all: its step gets no pointer to it.
RESPOND_REFUSALS: Final = frozenset({"r.note.root", "r.note.identity_center", "r.note.service_linked"})
RESPOND_NOTE_LIMIT: Final = 80  # characters of a value a note names (an account id, a Region, a field)

_WHITESPACE = re.compile(r"\s+")
_NOT_PRINTABLE_ASCII = re.compile(r"[^ -~]")


@dataclass(frozen=True)
class Email:
    subject: str  # printable ASCII (SNS accepts nothing else)
    text: str
    html: str
    local_subject: str | None = None  # the subject in the email's language (SES), when not English

    @property
    def display_subject(self) -> str:
        return self.local_subject or self.subject


def _head(c: Classification, update: UpdateDecision | None, lang: str, band: str) -> str:
    head = f"[GuardDuty {band} {c.triage.severity:.1f}]"
    if update is not None and update.reason in AGAIN:
        head = f"[{message('s.update', lang)}] " + head
    if c.triage.is_sample:
        head = f"[{message('s.sample', lang)}] " + head
    return head


def subject_name(name: str | None) -> str | None:
    """The account name when a subject may show it: ``SUBJECT_NAME`` characters only, and
    nothing the one cleaning path would change (no spaces to collapse, nothing to defang)."""
    if name is None or not SUBJECT_NAME.fullmatch(name):
        return None
    return name if shown(name, MAX_SUBJECT) == name else None


def _subject_parts(c: Classification, update: UpdateDecision | None) -> tuple[str, tuple[str, ...]]:
    """The finding type and the optional parts (resource name, account, Region, in that order of
    priority) that the English subject keeps within ``MAX_SUBJECT``.

    Decided once, on the English line, for every language: a subject names the same things in
    English and in Japanese (whose words are shorter), and a part that does not fit is dropped
    whole, never cut. The resource name is still at the top of the body when it is dropped here.
    The account is ``payments-prod (111122223333)`` when its name may be shown and fits, else
    its id alone (the name is at the top of the body either way).
    """
    t = c.triage
    head = _head(c, update, "en", t.band.upper())
    # Validated identifiers may still be URLs, hosts or path-shaped (a container named
    # https://evil.example/x@y, a type ./login.example): the one cleaning path, no path exemption.
    kind = shown(t.safe_type or "UnrecognisedFindingType", MAX_SUBJECT, finding_type=True)[
        : MAX_SUBJECT - len(head) - 1
    ]
    resource = shown(c.presentation.resource_label, MAX_SUBJECT) if c.presentation.resource_label else None
    account = t.account_id if SAFE_ACCOUNT.fullmatch(t.account_id) else None
    name = subject_name(t.account_name)
    named = account_label(account, name) if account and name else None
    region = t.region if SAFE_REGION.fullmatch(t.region) else None
    kept: list[str] = []
    length = len(head) + 1 + len(kind)
    # Each part's forms, the fullest first: the first that fits is kept.
    for forms in ((resource,), (named, account), (region,)):
        value = next((form for form in forms if form and length + 1 + len(form) <= MAX_SUBJECT), None)
        if value:
            kept.append(value)
            length += 1 + len(value)
    return kind, tuple(kept)


def _subject_line(c: Classification, update: UpdateDecision | None, lang: str, *, band: str) -> str:
    """``[GuardDuty <band> 8.0] Type resource account region`` from validated parts only."""
    kind, kept = _subject_parts(c, update)
    return " ".join((_head(c, update, lang, band), kind, *kept))


def subject(c: Classification, update: UpdateDecision | None = None) -> str:
    """``[GuardDuty HIGH 8.0] Type resource account region``: the ASCII subject (SNS, and SES in English)."""
    return safe_subject(_subject_line(c, update, "en", band=c.triage.band.upper()))


def local_subject(c: Classification, locale: Locale, update: UpdateDecision | None = None) -> str | None:
    """The subject in the locale's language (``None`` for English: the ASCII subject is already English).

    The same validated parts as ``subject``; only the words are translated.
    """
    if locale.lang == "en":
        return None
    band = message(f"band.{c.triage.band}", locale.lang)
    return safe_local_subject(_subject_line(c, update, locale.lang, band=band))


def safe_local_subject(text: str) -> str:
    """No control or format characters (so no header tricks), bounded; EmailMessage encodes it."""
    return _WHITESPACE.sub(" ", INVISIBLE.sub("", text))[:MAX_LOCAL_SUBJECT]


def account_shown(t: Triage, limit: int, marker: str) -> str | None:
    """``payments-prod (111122223333)`` through the one cleaning path, or None when the account
    has no name (the body then shows the id where it always did, and nothing more).

    Not shown as a ``name`` (``cleaning.shown``): a name that looks like a host, whatever its
    last label (``evil.example``), is defanged like any value a person may take for a link."""
    if not t.account_name:
        return None
    return shown(account_label(t.account_id, t.account_name), limit, marker=marker)


def when(value: str, locale: Locale, limit: int = 40) -> str:
    """An ISO timestamp as published (cleaned and defanged, marked in the locale's words where it
    is cut), plus the same instant in the locale's zone: ``... (JST 2026-11-28 18:00)``."""
    text = shown(value, limit, marker=message("l.truncated", locale.lang))
    zone = locale.zone
    if zone is None:
        return text
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return text  # redacted or not a timestamp: shown as published
    if instant.tzinfo is None:
        return text
    return text + _in_zone(instant, zone)


def _in_zone(instant: datetime, zone: str | None) -> str:
    """`` (JST 2026-11-28 18:00)``, or nothing without a zone."""
    if zone is None:
        return ""
    local = instant.astimezone(_zone(zone))
    return f" ({local.strftime('%Z')} {local.strftime('%Y-%m-%d %H:%M')})"


@cache
def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    return ZoneInfo(name)


def safe_subject(text: str) -> str:
    """Belt and braces for every subject: printable ASCII only, never longer than the SNS limit."""
    return _NOT_PRINTABLE_ASCII.sub("", text)[:MAX_SUBJECT]


# A rendered row: (label, value), both already cleaned and translated.
_Row = tuple[str, str]


def own_tokens(c: Classification) -> tuple[str, tuple[str, ...]]:
    """The finding's own type, and the paths its path facts show one by one (an object key):
    what a title or description may name and show as its own line does (``shown_prose``)."""
    shows = c.presentation
    paths = tuple(
        dict.fromkeys(
            item
            for fact in (*shows.resource_facts, *shows.evidence_facts)
            if fact.path
            for item in fact.value.split(", ")
            if item and " " not in item
        )
    )
    return c.triage.finding_type, paths


def _rows(
    facts: tuple[Fact, ...],
    locale: Locale,
    limit: int,
    desc_limit: int,
    own: tuple[str, tuple[str, ...]] | None = None,
) -> list[_Row]:
    lang = locale.lang
    marker = message("l.truncated", lang)
    rows = []
    for fact in facts:
        if fact.translate:
            value = message(fact.value, lang)
        elif fact.label in PROSE_LABELS:
            value = translator(lang)(fact.value)
        elif fact.label in TIME_LABELS:
            value = when(fact.value, locale, limit)
        elif fact.label == "f.description" and own is not None:
            value = shown_prose(
                fact.value, desc_limit, multiline=True, marker=marker, own_type=own[0], own_paths=own[1]
            )
        else:
            multiline = fact.label == "f.description"
            value = shown(
                fact.value,
                desc_limit if multiline else limit,
                multiline=multiline,
                marker=marker,
                indicator=fact.ioc,
                paths=fact.path,
                finding_type=fact.label in TYPE_LABELS,
                name=fact.name,
            )
        rows.append((message(fact.label, lang), value))
    return rows


def update_note(c: Classification, update: UpdateDecision | None, locale: Locale) -> str | None:
    """Why a finding already emailed is emailed again, e.g. "Severity rose from Medium to High"."""
    if update is None or update.reason not in AGAIN or update.previous is None:
        return None
    lang = locale.lang
    first_emailed = update.previous.first_notified_at
    return message(f"u.{update.reason}", lang).format(
        old=message(f"band.{update.previous.band}", lang),
        new=message(f"band.{c.triage.band}", lang),
        count=c.triage.count if c.triage.count is not None else "?",
        first=when(c.presentation.first_seen or first_emailed.isoformat(), locale),
        emailed=first_emailed.strftime("%Y-%m-%d %H:%M UTC") + _in_zone(first_emailed, locale.zone),
    )


@dataclass(frozen=True)
class RespondItem:
    """One runbook as the Respond section shows it: all translated, checked and cleaned."""

    label: str
    command: str | None  # the exact command, on a line of its own; never wrapped, never translated
    console_url: str | None
    notes: tuple[str, ...]  # why there is no command, where to run it


def offers(c: Classification) -> tuple[Offer, ...]:
    """The runbooks ``classify`` offers for this finding, those the email can label only."""
    return tuple(offer for offer in c.links.respond if offer.key in RESPOND_LABELS)


class _NoteArgs(dict[str, str]):
    """A note's values; one the note names but the offer lacks shows as ``?`` (never a failed email)."""

    def __missing__(self, key: str) -> str:
        return "?"


def _note(offer: Offer, lang: str) -> str | None:
    if offer.note is None:
        return None
    marker = message("l.truncated", lang)
    # The values are validated by ``respond``; they still go through the one cleaning path.
    args = _NoteArgs({name: shown(value, RESPOND_NOTE_LIMIT, marker=marker) for name, value in offer.note_args})
    # A field that is not a runbook parameter (InstanceId stays as it is) is a word: translated.
    if (field := f"r.field.{args.get('field')}") in EN:
        args["field"] = message(field, lang)
    text = message(offer.note if offer.note in EN else "r.note.unknown", lang)
    return text.format_map(args)


def _link_like(command: str) -> bool:
    """Whether defanging would change ``command``, a member command's target tail aside (its strict
    pattern leaves nothing link-like in it but the role name, which is exempt)."""
    checked = _TARGET_TAIL.sub("", command)
    return defang(checked) != checked


def respond_items(respond: tuple[Offer, ...], lang: str) -> tuple[RespondItem, ...]:
    """The Respond section of ``respond`` in ``lang`` (empty: no section).

    A command is shown exactly or not at all: one not of the shape ``respond`` builds, or holding
    a value a person or a mail client could take for a link (a bucket ``login.evil.example``, a
    user ``a@b.example``), is left out with a note; defanging it would break it, and an email
    shows no finding value as a link. The runbook's console link stays (it names no value).
    """
    items = []
    for offer in respond:
        notes = []
        command = offer.command if offer.command and RESPOND_COMMAND.fullmatch(offer.command) else None
        if offer.command and command is None:
            notes.append(message("r.note.unknown", lang))  # a command left out is never left out silently
        elif command is not None and _link_like(command):
            command = None
            notes.append(message("r.note.link_like", lang))
        if (note := _note(offer, lang)) is not None:
            notes.append(note)
        console = offer.console_url if offer.console_url and RESPOND_CONSOLE.fullmatch(offer.console_url) else None
        items.append(RespondItem(message(RESPOND_LABELS[offer.key], lang), command, console, tuple(notes)))
    return tuple(items)


def pointed_steps(steps: tuple[str, ...], intents: tuple[str, ...], respond: tuple[Offer, ...], lang: str) -> list[str]:
    """The steps in ``lang``; a step whose intent an offer answers ends with a pointer to the
    runbook below, so the step and the runbook that does it are read together."""
    tr = translator(lang)
    # Each runbook once per intent (three buckets are three offers of one runbook).
    names: dict[str, list[str]] = {}
    for offer in respond:
        if offer.note in RESPOND_REFUSALS or not offer.intent:
            continue
        if (name := by_key(offer.key).name) not in names.setdefault(offer.intent, []):
            names[offer.intent].append(name)
    shown_steps = []
    for index, step in enumerate(steps):
        text = tr(step)
        intent = intents[index] if index < len(intents) else None
        if intent in names:  # the first step of that intent only: one pointer per runbook
            text += " " + message("r.see_respond", lang).format(name=", ".join(names.pop(intent)))
        shown_steps.append(text)
    return shown_steps


def _context(
    c: Classification,
    locale: Locale,
    limit: int,
    desc_limit: int,
    update: UpdateDecision | None = None,
    *,
    respond: bool = True,
) -> dict[str, object]:
    t, shows, links = c.triage, c.presentation, c.links
    lang = locale.lang
    tr = translator(lang)
    offered = offers(c) if respond else ()
    band_name = message(f"band.{t.band}", lang)
    how_bad = [
        (message("f.band", lang), band_name),
        (message("f.severity", lang), f"{t.severity:.1f}"),
    ]
    if note := update_note(c, update, locale):
        how_bad.append((message("f.update", lang), note))
    own = own_tokens(c)  # what the title and description may name as the finding's own
    # The resource the finding is about, named at the top (the subject may have had no room).
    primary = next((fact for fact in shows.resource_facts if fact.primary), None)
    if primary is not None:
        how_bad += _rows((primary,), locale, limit, desc_limit)
    # Whose account, at the top: the subject may have had no room for its name.
    if account := account_shown(t, limit, message("l.truncated", lang)):
        how_bad.append((message("f.account", lang), account))
    if shows.title:
        own_type, own_paths = own
        title = shown_prose(
            shows.title, limit, marker=message("l.truncated", lang), own_type=own_type, own_paths=own_paths
        )
        how_bad.append((message("f.title", lang), title))
    if t.is_sample:
        how_bad.append((message("f.sample", lang), message("v.sample", lang)))
    if t.archived:
        how_bad.append((message("f.archived", lang), message("v.yes", lang)))
    action_rows = _rows(shows.action_facts, locale, limit, desc_limit)
    if not t.action_type:
        action_rows.insert(0, (message("f.action_type", lang), message("v.no_action", lang)))
    sections = [
        ("h.how_bad", how_bad),
        ("h.what", _rows(shows.overview, locale, limit, desc_limit, own)),
        ("h.resource", _rows(shows.resource_facts, locale, limit, desc_limit)),
        ("h.happened", action_rows),
        ("h.evidence", _rows(shows.evidence_facts, locale, limit, desc_limit)),
        ("h.how_often", _rows(shows.frequency_facts, locale, limit, desc_limit)),
    ]
    return {
        "lang": lang,
        "font_family": FONT_STACKS[lang],
        "band": t.band,
        "band_name": band_name,
        "colour": BAND_COLOURS[t.band],
        "link_colour": LINK_COLOUR,
        "severity": f"{t.severity:.1f}",
        "sections": [(message(key, lang), rows) for key, rows in sections if rows],
        "h_todo": message("h.todo", lang),
        "steps": pointed_steps(shows.steps, shows.step_intents, offered, lang),
        "h_respond": message("h.respond", lang),
        "respond_intro": message("r.intro", lang),
        "respond_console": message("r.console", lang),
        "respond": respond_items(offered, lang),
        "h_aftercare": message("h.aftercare", lang),
        "archive_note": tr(ARCHIVE_NOTE if links.archive_command else NO_FINDING_NOTE),
        "archive_label": message("f.archive_cmd", lang),
        "archive_command": links.archive_command,
        "export_note": tr(EXPORT_NOTE),
        "export_label": message("f.export_cmd", lang),
        "export_command": links.export_command,
        "h_links": message("h.links", lang),
        "console_label": message("f.console", lang),
        "console_url": links.console_url,
        "docs_label": message("f.docs", lang),
        "docs_url": links.docs_url,
        "footer": message("l.footer", lang),
    }


@cache
def templates(name: str = "email") -> tuple[jinja2.Template, jinja2.Template]:
    """The text and HTML templates ``name.txt`` and ``name.html`` (HTML autoescaped)."""
    import jinja2  # noqa: PLC0415 (kept off the handler's import path)

    def environment(*, autoescape: bool) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.PackageLoader("responder.domain", "templates"),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=autoescape,  # noqa: S701 (False only for the text/plain body)
            auto_reload=False,
        )

    text = environment(autoescape=False).get_template(f"{name}.txt")
    html = environment(autoescape=True).get_template(f"{name}.html")
    return text, html


def _attempts() -> list[tuple[int, int, bool]]:
    """(field limit, description limit, Respond section shown) in the order ``render`` tries them."""
    smallest, smallest_desc = FIELD_LIMITS[-1]
    return [(limit, desc, True) for limit, desc in FIELD_LIMITS] + [(smallest, smallest_desc, False)]


def render(c: Classification, locale: Locale = ENGLISH, update: UpdateDecision | None = None) -> Email:
    """Subject, text body (at most ``MAX_TEXT_BYTES``) and HTML body for a finding.

    ``update`` says why a finding already emailed is emailed again (marked in the subject
    and explained under "How bad"); the locale's zone is shown next to UTC for timestamps.
    """
    text_template, html_template = templates()
    subj = subject(c, update)
    local = local_subject(c, locale, update)
    heading = local or subj
    # Values are shortened first; the Respond section goes only when even the shortest values do
    # not fit (its commands are also one click away: the console link of the finding).
    for limit, desc_limit, respond in _attempts():
        context = _context(c, locale, limit, desc_limit, update, respond=respond)
        text = text_template.render(subject=heading, **context)
        if len(text.encode("utf-8")) <= MAX_TEXT_BYTES:
            break
    html = html_template.render(subject=heading, **context)
    return Email(subject=subj, text=text, html=html, local_subject=local)
