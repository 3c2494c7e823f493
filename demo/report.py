"""What the demo shows: each event and each email of a run, as a table, a summary line and
``out/demo/`` (``index.html``, each email as ``.eml``, its HTML part as ``.html`` and the
findings' JSON files the SES copy carries).

Everything here is read from what the emulator really sent; nothing is predicted.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jinja2

from demo.emulator import SNS_SUBSCRIBER
from demo.lambdas import Invocation
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


@dataclass
class Result:
    """A whole run: every event, every message the emulator sent, every dead letter."""

    rows: list[Row]
    sns_messages: list[tuple[str, str]]  # (subject, text) the topic really published
    ses_messages: list[str]  # raw MIME SES really sent
    dead_letters: list[dict[str, Any]]
    parameters: dict[str, Any]
    mails: list[Mail] = field(default_factory=list)
    unexpected_failures: int = 0
    notifier_invocations: int = 0
    throttled: int = 0  # SES sends refused for the sandbox rate (--ses-rate), each retried


def mails_sent(sns_sent: list[tuple[str, str]], ses_sent: list[str], channels: str, lang: str) -> list[Mail]:
    """The emails as a recipient sees them: SES copies when SES is a channel, else SNS copies."""
    if "ses" in channels:
        parsed = [message_from_string(raw, policy=policy.default) for raw in ses_sent]
        pairs = [(str(m["Subject"]), body.get_content() if (body := m.get_body(("plain",))) else "") for m in parsed]
    else:
        pairs = list(sns_sent)
    # The SNS subject is always English (ASCII); the SES subject is in the email's language.
    digest_prefixes = tuple(f"[GuardDuty {message('s.digest', code)}]" for code in ("en", lang))
    return [
        Mail(i + 1, "digest" if subject.startswith(digest_prefixes) else "immediate", subject, text)
        for i, (subject, text) in enumerate(pairs)
    ]


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


def summary(result: Result) -> str:
    """One line: what happened to the events and how many emails and messages went out."""
    counts = {
        status: sum(r.status == status for r in result.rows)
        for status in ("sent", "queued", "skipped", "filtered", "ignored", "failed")
    }
    immediate = sum(m.kind == "immediate" for m in result.mails)
    digest = len(result.mails) - immediate
    return (
        f"{len(result.rows)} events: {counts['sent']} emailed in {len(result.mails)} emails ({immediate} at once, "
        f"{digest} digest; {len(result.sns_messages)} SNS and {len(result.ses_messages)} SES messages), "
        f"{counts['filtered']} filtered by the rule, {counts['skipped']} skipped by the function, "
        f"{counts['ignored']} ignored (not findings), {counts['failed']} failed (in the DLQ: "
        f"{len(result.dead_letters)}), {counts['queued']} queued but not emailed."
    )


def print_table(rows: list[Row]) -> None:
    """Every event, one line each: band, severity, type and what happened to it."""
    print(f"{'#':>2}  {'band':<8} {'sev':>4}  {'finding type':<56} outcome")
    for row in rows:
        print(f"{row.number:>2}  {row.band:<8} {row.severity:>4}  {row.type[:56]:<56} {row.outcome}")


def write(result: Result, out: Path = OUT) -> None:
    """``out`` (``out/demo/``) afresh: every email and the index page."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    _write_emails(result, out)
    _write_index(result, out)


def _sns_eml(subject: str, text: str) -> bytes:
    """The SNS email as its subscriber receives it (SNS sends the text alone)."""
    mail = EmailMessage(policy=policy.SMTP)
    mail["From"] = "AWS Notifications <no-reply@sns.amazonaws.com>"
    mail["To"] = SNS_SUBSCRIBER
    mail["Subject"] = subject
    mail.set_content(text, charset="utf-8")
    return mail.as_bytes()


def _body(text: str) -> str:
    """A text body as both channels carry it (MIME writes CRLF line ends)."""
    return text.replace("\r\n", "\n").strip()


def _write_emails(result: Result, out: Path) -> None:
    """Each email's SES and SNS copies, its HTML part and its attached JSON files.

    An SNS copy is found by its text, the same on both channels: its subject is always English
    (ASCII), while the mail's subject is the SES one, in the email's language.
    """
    ses: dict[str, list[str]] = {}
    for raw in result.ses_messages:
        ses.setdefault(str(message_from_string(raw, policy=policy.default)["Subject"]), []).append(raw)
    sns: dict[str, list[tuple[str, str]]] = {}
    for subject, text in result.sns_messages:
        sns.setdefault(_body(text), []).append((subject, text))
    for mail in result.mails:
        stem = f"{mail.number:02d}-{mail.kind}"
        if sns.get(_body(mail.text)):
            subject, text = sns[_body(mail.text)].pop(0)
            (out / f"{stem}.sns.eml").write_bytes(_sns_eml(subject, text))
            mail.files.append(("SNS .eml", f"{stem}.sns.eml"))
        if ses.get(mail.subject):
            raw = ses[mail.subject].pop(0)
            (out / f"{stem}.ses.eml").write_text(raw, encoding="utf-8")
            parsed = message_from_string(raw, policy=policy.default)
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


def _write_index(result: Result, out: Path) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.get_template("index.html").render(rows=result.rows, mails=result.mails, summary=summary(result))
    (out / "index.html").write_text(html, encoding="utf-8")
