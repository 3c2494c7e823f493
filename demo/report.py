"""What the demo shows: each event and each email of a run, as a table, a summary line and
``out/demo/`` (``index.html``, each email as ``.eml``, its HTML part as ``.html``, the
findings' JSON files the SES copy carries, each chat message as the JSON published, and
``summary.json``: one object per message sent, who it went to and which findings it holds; and
``runbook.json``: the isolate and restore runbooks run on an emailed finding's instance, demo/runbook.py).

Everything here is read from what the emulator really sent; nothing is predicted.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jinja2

from demo.emulator import SNS_SUBSCRIBER, Sent
from demo.lambdas import Invocation
from demo.organisation import Organisation
from responder.app.service import prepare
from responder.app.triage import InvalidEventError, parse_event
from responder.domain.catalog import message
from responder.domain.export import SAFE_FILENAME
from responder.domain.render import BAND_COLOURS
from responder.domain.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "demo"
TEMPLATES = ROOT / "demo" / "templates"
NO_BAND_COLOUR = "#687078"  # the grey of the emails' footer, for an event with no band
OUTCOMES = {  # the triage handler's status -> what the row says
    "queued": "queued: {route}",
    "skipped": "skipped by the function: {reason}",
    "ignored": "ignored by the function: not a finding event",
}


@dataclass
class Row:
    """One event of the run and what happened to it."""

    number: int
    source: str
    finding_id: str | None = None
    band: str = "-"
    severity: str = "-"
    type: str = "-"
    purpose: str = "-"
    action: str = "-"
    outcome: str = "filtered by the rule (below the threshold or not a finding)"
    status: str = "filtered"  # filtered | queued | sent | skipped | ignored | failed
    route: str | None = None  # immediate | digest, when queued
    emails: list[int] = field(default_factory=list)  # numbers of the emails it is in
    colour: str = NO_BAND_COLOUR
    files: list[tuple[str, str]] = field(default_factory=list)
    expected_failure: bool = False  # the event itself is invalid: failing is the right answer
    account_id: str = "-"
    account_name: str | None = None  # the account's name in the emulated organisation
    region: str = "-"
    chats: list[int] = field(default_factory=list)  # numbers of the chat messages it is in

    def describe(self, event: dict[str, Any], settings: Settings) -> None:
        """Band, type, purpose and action of the event as the responder sees them (the preview)."""
        try:
            parsed = parse_event(event)
        except InvalidEventError:
            self.expected_failure = True
            return
        if parsed is not None:
            t = prepare(parsed.detail, settings).classification.triage
            self.finding_id = t.finding_id
            self.account_id, self.region = t.account_id, t.region
            self.band, self.severity, self.type = t.band, f"{t.severity:.1f}", t.finding_type
            self.purpose, self.action = t.parts.purpose or "?", t.action_type or "(none)"
            self.colour = BAND_COLOURS[t.band]

    def triaged(self, invocation: Invocation) -> bool:
        """Record the triage invocation; True when it failed and should not have."""
        if invocation.result is None:
            self.status, self.outcome = "failed", f"invocation failed, event in the DLQ: {str(invocation.error)[:90]}"
            return not self.expected_failure
        result = invocation.result
        route = result.get("route")  # str() of the handler's enums: their values
        self.status, self.route = str(result["status"]), str(route) if route else None
        reason = str(result.get("reason") or "").replace("_", " ")
        self.outcome = OUTCOMES[result["status"]].format(route=self.route, reason=reason)
        return False


@dataclass
class Mail:
    """One email the notifier sent (its SNS and SES copies)."""

    number: int
    kind: str  # "immediate" (one finding or a grouped storm) or "digest"
    subject: str
    text: str
    files: list[tuple[str, str]] = field(default_factory=list)
    route: str | None = None  # the audience: None for the security team (Recipients), else the route
    copies: list[Sent] = field(default_factory=list)  # the messages that carried it (SES, SNS)

    @property
    def received_by(self) -> list[str]:
        """Every address this email reached, through any of its copies."""
        return list(dict.fromkeys(address for copy in self.copies for address in copy.reaches))


@dataclass
class Chat:
    """One chat message, as published to the chat topic."""

    number: int
    message: Sent
    file: str = ""


@dataclass
class Result:
    """A whole run: every event, every message the emulator sent, every dead letter."""

    rows: list[Row]
    sns_messages: list[tuple[str, str]]  # (subject, text) the AlertTopic really published
    ses_messages: list[str]  # raw MIME SES really sent (route copies too)
    dead_letters: list[dict[str, Any]]
    parameters: dict[str, Any]
    mails: list[Mail] = field(default_factory=list)
    unexpected_failures: int = 0
    notifier_invocations: int = 0
    throttled: int = 0  # SES sends refused for the sandbox rate (--ses-rate), each retried
    chats: list[Chat] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)  # every message, as the emulator sent it
    other_regions: str = ""  # how findings of other Regions reached the home Region, when there were any
    events: list[dict[str, Any]] = field(default_factory=list)  # each row's event as put (in the organisation)
    organisation: Organisation | None = None
    runbook: dict[str, Any] | None = None  # the isolate and restore runs (demo/runbook.py): runbook.json


def mails_sent(
    sent: Sequence[Sent], channels: str, lang: str, routes: Mapping[str, Sequence[str]] | None = None
) -> list[Mail]:
    """The emails as a recipient sees them: SES copies when SES is a channel, else SNS copies; each
    with its copies on the other channel (same audience, same text). ``routes``: each route's SES
    addresses, which tell a route's SES copy from the security team's."""
    by_addresses = {frozenset(addresses): name for name, addresses in (routes or {}).items()}
    mails: list[Mail] = []
    ses = "ses" in channels
    for one in sent:
        if one.channel != ("ses" if ses else "sns"):
            continue
        if ses:
            text, route = _plain(one.body), by_addresses.get(frozenset(one.to))
        else:
            text, route = one.body, one.route
        mails.append(Mail(len(mails) + 1, "immediate", one.subject, text, route=route, copies=[one]))
    # The SNS subject is always English (ASCII); the SES subject is in the email's language.
    digest_prefixes = tuple(f"[GuardDuty {message('s.digest', code)}]" for code in ("en", lang))
    for mail in mails:
        mail.kind = "digest" if mail.subject.startswith(digest_prefixes) else "immediate"
    if ses:  # each SNS copy joins its email: the first of its audience with the same text
        for copy in (m for m in sent if m.channel == "sns"):
            twin = next(
                (
                    mail
                    for mail in mails
                    if mail.route == copy.route
                    and _body(mail.text) == _body(copy.body)
                    and not any(c.channel == "sns" for c in mail.copies)
                ),
                None,
            )
            if twin is not None:
                twin.copies.append(copy)
    return mails


def chats_sent(sent: Sequence[Sent]) -> list[Chat]:
    """The chat messages, in the order the chat topic delivered them."""
    return [Chat(number, message) for number, message in enumerate((m for m in sent if m.channel == "chat"), 1)]


def attribute(rows: list[Row], mails: list[Mail], lang: str) -> None:
    """Which email(s) each queued finding is in, read from the emails really sent."""
    label = message("f.finding_id", lang)
    for row in rows:
        if row.status != "queued" or not row.finding_id:
            continue
        row.emails = [mail.number for mail in mails if f"{label}: {row.finding_id}" in mail.text]
        if row.emails:
            row.status = "sent"
            kind = "in the digest" if row.route == "digest" else "emailed at once"
            row.outcome = f"{kind}: email {', '.join(f'#{n}' for n in row.emails)}"
        else:
            row.outcome = f"queued ({row.route}) but in no email"


def attribute_chats(rows: list[Row], chats: list[Chat]) -> None:
    """Which chat message(s) each queued finding is in: its id appears in the message (the console
    link names it), or the message is its thread (``"gd-" + sha256(id)[:32]``)."""
    for row in rows:
        if not row.finding_id:
            continue
        marks = (row.finding_id, "gd-" + hashlib.sha256(row.finding_id.encode()).hexdigest()[:32])
        row.chats = [chat.number for chat in chats if any(mark in chat.message.body for mark in marks)]


def summary(result: Result) -> str:
    """One line: what happened to the events and how many emails and messages went out."""
    counts = {
        status: sum(r.status == status for r in result.rows)
        for status in ("sent", "queued", "skipped", "filtered", "ignored", "failed")
    }
    immediate = sum(m.kind == "immediate" for m in result.mails)
    digest = len(result.mails) - immediate
    routed = sum(m.route is not None for m in result.mails)
    route_sns = sum(m.channel == "sns" and m.route is not None for m in result.sent)
    owners = f", {routed} of them to route owners" if routed else ""
    chats = f" {len(result.chats)} chat messages." if result.chats else ""
    return (
        f"{len(result.rows)} events: {counts['sent']} emailed in {len(result.mails)} emails ({immediate} at once, "
        f"{digest} digest{owners}; {len(result.sns_messages) + route_sns} SNS and {len(result.ses_messages)} SES "
        f"messages), {counts['filtered']} filtered by the rule, {counts['skipped']} skipped by the function, "
        f"{counts['ignored']} ignored (not findings), {counts['failed']} failed (in the DLQ: "
        f"{len(result.dead_letters)}), {counts['queued']} queued but not emailed.{chats}"
    )


def print_table(rows: list[Row]) -> None:
    """Every event, one line each: band, severity, type and what happened to it."""
    print(f"{'#':>2}  {'band':<8} {'sev':>4}  {'finding type':<56} outcome")
    for row in rows:
        print(f"{row.number:>2}  {row.band:<8} {row.severity:>4}  {row.type[:56]:<56} {row.outcome}")


def write(result: Result, out: Path = OUT) -> None:
    """``out`` (``out/demo/``) afresh: every email, every chat message, summary.json and the index page."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = _write_emails(result, out)
    for chat in result.chats:
        chat.file = f"chat-{chat.number:02d}.json"
        (out / chat.file).write_text(chat.message.body, encoding="utf-8")
        files[id(chat.message)] = chat.file
    (out / "summary.json").write_text(json.dumps(messages(result, files), indent=2), encoding="utf-8")
    if result.runbook is not None:  # summary.json stays one object per message: the runbook runs apart
        (out / "runbook.json").write_text(json.dumps(result.runbook, indent=2), encoding="utf-8")
    _write_index(result, out)


def messages(result: Result, files: Mapping[int, str]) -> list[dict[str, Any]]:
    """summary.json: one object per message sent (``files``: the file written for each, by ``id()``),
    with who it went to and the findings it holds."""
    label = message("f.finding_id", str(result.parameters.get("Language") or "en"))
    entries = []
    for sent in result.sent:
        if sent.channel == "chat":
            chat = next(c for c in result.chats if c.message is sent)
            held = [row for row in result.rows if chat.number in row.chats]
        else:
            text = sent.body if sent.channel == "sns" else _plain(sent.body)
            held = [row for row in result.rows if row.finding_id and f"{label}: {row.finding_id}" in text]
        entries.append(
            {
                "channel": sent.channel,
                "to": list(sent.to),
                "subject": sent.subject,
                "file": files.get(id(sent)),
                "findings": [
                    {"id": r.finding_id, "account_id": r.account_id, "account_name": r.account_name, "region": r.region}
                    for r in held
                ],
            }
        )
    return entries


def _plain(raw: str) -> str:
    """The text part of a raw MIME email."""
    body = message_from_string(raw, policy=policy.default).get_body(("plain",))
    return body.get_content() if body is not None else ""


def _sns_eml(subject: str, text: str, to: Sequence[str]) -> bytes:
    """The SNS email as its subscribers receive it (SNS sends the text alone)."""
    mail = EmailMessage(policy=policy.SMTP)
    mail["From"] = "AWS Notifications <no-reply@sns.amazonaws.com>"
    mail["To"] = ", ".join(to) or SNS_SUBSCRIBER
    mail["Subject"] = subject
    mail.set_content(text, charset="utf-8")
    return mail.as_bytes()


def _body(text: str) -> str:
    """A text body as both channels carry it (MIME writes CRLF line ends)."""
    return text.replace("\r\n", "\n").strip()


def _write_emails(result: Result, out: Path) -> dict[int, str]:
    """Each email's SES and SNS copies, its HTML part and its attached JSON files; returns the file
    of each message written, by ``id()`` (an SNS message no email took is written on its own)."""
    files: dict[int, str] = {}
    for mail in result.mails:
        audience = f"-{re.sub(r'[^a-z0-9-]', '_', mail.route)}" if mail.route else ""
        stem = f"{mail.number:02d}-{mail.kind}{audience}"
        for copy in mail.copies:
            if copy.channel == "sns":
                files[id(copy)] = f"{stem}.sns.eml"
                (out / f"{stem}.sns.eml").write_bytes(_sns_eml(copy.subject, copy.body, copy.reaches))
                mail.files.append(("SNS .eml", f"{stem}.sns.eml"))
                continue
            files[id(copy)] = f"{stem}.ses.eml"
            (out / f"{stem}.ses.eml").write_text(copy.body, encoding="utf-8")
            parsed = message_from_string(copy.body, policy=policy.default)
            html = parsed.get_body(("html",))
            if html is not None:
                (out / f"{stem}.html").write_text(html.get_content(), encoding="utf-8")
                mail.files.insert(0, ("HTML", f"{stem}.html"))
            mail.files.append(("SES .eml", f"{stem}.ses.eml"))
            for part in parsed.iter_attachments():
                name = part.get_filename() or ""
                if SAFE_FILENAME.fullmatch(name):  # only the names export makes reach the file system
                    (out / f"{stem}.{name}").write_bytes(part.get_content())
                    mail.files.append(("JSON", f"{stem}.{name}"))
    for number, sent in enumerate((m for m in result.sent if m.channel != "chat" and id(m) not in files), 1):
        files[id(sent)] = f"unmatched-{number:02d}.{sent.channel}.eml"
        data = _sns_eml(sent.subject, sent.body, sent.reaches) if sent.channel == "sns" else sent.body.encode()
        (out / files[id(sent)]).write_bytes(data)
    return files


def _write_index(result: Result, out: Path) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.get_template("index.html").render(
        rows=result.rows, mails=result.mails, chats=result.chats, summary=summary(result)
    )
    (out / "index.html").write_text(html, encoding="utf-8")
