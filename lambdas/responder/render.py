"""Pure rendering: classification -> subject, plain-text body and HTML body.

Safety rules live here, in one place:
- every finding value is cleaned (control and format characters removed), bounded,
  and defanged (IPs, domains, URL schemes) before it reaches either body;
- the HTML template engine escapes every value (Jinja2 autoescape on);
- the subject is built only from validated identifiers and is printable ASCII;
- the only links are the console and documentation URLs that ``classify`` builds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

from responder.catalog import message
from responder.classify import SAFE_ACCOUNT, SAFE_REGION, Classification, Fact
from responder.guidance import ARCHIVE_NOTE, EXPORT_NOTE

if TYPE_CHECKING:
    import jinja2

MAX_SUBJECT: Final = 99  # SNS: printable ASCII, fewer than 100 characters
MAX_TEXT_BYTES: Final = 262_144  # SNS message limit, in UTF-8 bytes
# (field limit, description limit) tried in turn until the text body fits.
FIELD_LIMITS: Final = ((1_000, 4_000), (200, 1_000), (60, 200))

# Console-like severity colours: the one place an email colour is decided.
BAND_COLOURS: Final[dict[str, str]] = {
    "Critical": "#7a0000",
    "High": "#d13212",
    "Medium": "#e07700",
    "Low": "#0073bb",
}
LINK_COLOUR: Final = "#0b5394"

_SCHEME = re.compile(r"(?i)\b(?:(http)(s?)://|(ftp|file|javascript|data|mailto|vbscript):)")
_IPV4 = re.compile(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,3})\b")
# Only known TLDs, so finding types (AnomalousBehavior.SuccessfulLogin) stay intact.
_DOMAIN = re.compile(r"\b((?:[A-Za-z0-9-]{1,63}\.)+)([A-Za-z]{2,24})\b")
# Generic TLDs that mail clients turn into links (every two-letter ccTLD is covered too).
LINKIFIED_TLDS: Final = frozenset(
    {
        *("com", "net", "org", "info", "biz", "io", "co", "app", "dev", "xyz", "top", "online", "site"),
        *("club", "shop", "live", "tech", "store", "cloud", "name", "pro", "mobi", "asia", "tel"),
        *("travel", "email", "link", "click", "work", "space", "fun", "icu", "vip", "win", "bid", "loan"),
        *("download", "stream", "zip", "mov", "onion", "local", "internal", "arpa", "gov", "edu"),
        *("mil", "int", "aws", "amazon"),
    }
)
_SPACES = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def _defang_scheme(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)[0]}xx{match.group(1)[3]}{match.group(2)}[://]"
    return f"{match.group(3)}[:]"


def defang(text: str, *, indicator: bool = False) -> str:
    """Make IPs, domains and URLs unclickable: ``203.0.113[.]7``, ``evil[.]example``, ``hxxp``.

    ``indicator`` values (remote IPs, queried domains) are defanged whatever their TLD.
    """
    text = _SCHEME.sub(_defang_scheme, text)
    if indicator and not _IPV4.search(text):
        if "." in text:
            return text.replace(".", "[.]")
        head, sep, tail = text.rpartition(":")  # IPv6
        return f"{head}[:]{tail}" if sep else text
    text = _IPV4.sub(r"\1[.]\2", text)
    return _DOMAIN.sub(_defang_domain, text)


def _defang_domain(match: re.Match[str]) -> str:
    tld = match.group(2).lower()
    if len(tld) == 2 or tld in LINKIFIED_TLDS:
        return match.group(0).replace(".", "[.]")
    return match.group(0)


def clean(value: str, limit: int, *, multiline: bool = False, marker: str = "[truncated]") -> str:
    """Remove control, format and surrogate characters, collapse spaces, bound the length."""
    kept = []
    for char in value:
        if char == "\n" and multiline:
            kept.append(char)
        elif char in "\r\n\t":
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co"):
            kept.append(char)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in "".join(kept).split("\n")).strip()
    if len(text) > limit:
        text = text[:limit].rstrip() + " " + marker
    return text


def subject(c: Classification) -> str:
    """``[GuardDuty HIGH 8.0] Type resource account region`` from validated parts only."""
    head = f"[GuardDuty {c.band.upper()} {c.severity:.1f}]"
    if c.is_sample:
        head = "[SAMPLE] " + head
    account = c.account_id if SAFE_ACCOUNT.fullmatch(c.account_id) else None
    region = c.region if SAFE_REGION.fullmatch(c.region) else None
    kind = (c.safe_type or "UnrecognisedFindingType")[: MAX_SUBJECT - len(head) - 1]
    # Optional parts in priority order; each is kept only when it still fits.
    optional = {"account": account, "label": c.resource_label, "region": region}
    kept: dict[str, str] = {}
    length = len(head) + 1 + len(kind)
    for name, value in optional.items():
        if value and length + 1 + len(value) <= MAX_SUBJECT:
            kept[name] = value
            length += 1 + len(value)
    parts = (head, kind, kept.get("label"), kept.get("account"), kept.get("region"))
    text = " ".join(part for part in parts if part)
    # Belt and braces: printable ASCII only, never longer than the SNS limit.
    text = "".join(ch for ch in text if " " <= ch <= "~")
    return text[:MAX_SUBJECT]


@dataclass(frozen=True)
class _Row:
    label: str
    value: str


def _rows(facts: tuple[Fact, ...], lang: str, limit: int, desc_limit: int) -> list[_Row]:
    marker = message("l.truncated", lang)
    rows = []
    for fact in facts:
        if fact.translate:
            value = message(fact.value, lang)
        else:
            multiline = fact.label == "f.description"
            value = clean(fact.value, desc_limit if multiline else limit, multiline=multiline, marker=marker)
            value = defang(value, indicator=fact.ioc)
        rows.append(_Row(message(fact.label, lang), value))
    return rows


def _context(c: Classification, lang: str, limit: int, desc_limit: int) -> dict[str, object]:
    band_name = message(f"band.{c.band}", lang)
    how_bad = [
        _Row(message("f.band", lang), band_name),
        _Row(message("f.severity", lang), f"{c.severity:.1f}"),
    ]
    if c.title:
        how_bad.append(_Row(message("f.title", lang), defang(clean(c.title, limit))))
    if c.is_sample:
        how_bad.append(_Row(message("f.sample", lang), message("v.sample", lang)))
    if c.archived:
        how_bad.append(_Row(message("f.archived", lang), message("v.yes", lang)))
    action_rows = _rows(c.action_facts, lang, limit, desc_limit)
    if not c.action_type:
        action_rows.insert(0, _Row(message("f.action_type", lang), message("v.no_action", lang)))
    sections = [
        ("h.how_bad", how_bad),
        ("h.what", _rows(c.overview, lang, limit, desc_limit)),
        ("h.resource", _rows(c.resource_facts, lang, limit, desc_limit)),
        ("h.happened", action_rows),
        ("h.evidence", _rows(c.evidence_facts, lang, limit, desc_limit)),
        ("h.how_often", _rows(c.frequency_facts, lang, limit, desc_limit)),
    ]
    return {
        "lang": lang,
        "band": c.band,
        "band_name": band_name,
        "colour": BAND_COLOURS[c.band],
        "link_colour": LINK_COLOUR,
        "severity": f"{c.severity:.1f}",
        "sections": [(message(key, lang), rows) for key, rows in sections if rows],
        "h_todo": message("h.todo", lang),
        "steps": c.steps,
        "h_aftercare": message("h.aftercare", lang),
        "archive_note": ARCHIVE_NOTE,
        "archive_label": message("f.archive_cmd", lang),
        "archive_command": c.archive_command,
        "export_note": EXPORT_NOTE,
        "export_label": message("f.export_cmd", lang),
        "export_command": c.export_command,
        "h_links": message("h.links", lang),
        "console_label": message("f.console", lang),
        "console_url": c.console_url,
        "docs_label": message("f.docs", lang),
        "docs_url": c.docs_url,
        "footer": message("l.footer", lang),
    }


@cache
def _environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    import jinja2  # noqa: PLC0415 (kept off the handler's import path)

    def environment(*, autoescape: bool) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.PackageLoader("responder", "templates"),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=autoescape,  # noqa: S701 (False only for the text/plain body)
        )

    return environment(autoescape=False), environment(autoescape=True)


def render(c: Classification, lang: str = "en") -> Email:
    """Subject, text body (at most ``MAX_TEXT_BYTES``) and HTML body for a finding."""
    text_env, html_env = _environments()
    subj = subject(c)
    for limit, desc_limit in FIELD_LIMITS:
        context = _context(c, lang, limit, desc_limit)
        text = text_env.get_template("email.txt").render(subject=subj, **context)
        if len(text.encode("utf-8")) <= MAX_TEXT_BYTES:
            break
    html = html_env.get_template("email.html").render(subject=subj, **context)
    return Email(subject=subj, text=text, html=html)
