"""Chat messages (Amazon Q Developer in chat applications): the custom-notification schema,
markdown escaping after the one cleaning path, threading, groups, Japanese, and every fixture.

What a chat client shows is computed here by a small reader written independently of the code
under test (``_reads``: markdown backslash escapes and HTML entities undone), so "renders
literally" is checked on what a reader would see.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from responder.domain.accounts import Account
from responder.domain.catalog import message
from responder.domain.chat import (
    MAX_DESCRIPTION,
    MAX_MESSAGE_BYTES,
    MAX_TITLE,
    escape_markdown,
    notification,
    thread_id,
)
from responder.domain.classify import Classification, classify
from responder.domain.cleaning import shown_prose
from responder.domain.digest import digest_subject, local_digest_subject
from responder.domain.facts import Fact
from responder.domain.i18n import translator
from responder.domain.models import Finding, GuardDutyEvent
from responder.domain.render import update_note
from responder.domain.scan_result import finding_detail
from responder.domain.settings import Band, Settings
from responder.domain.updates import FindingState, UpdateDecision, UpdateReason
from tests.conftest import FIXTURES, finding_from, load, minimal_event
from tests.unit.test_cleaning import HOSTILE

CRYPTO = "corpus/events/CryptoCurrency_EC2_BitcoinTool.B__csa.json"  # High 8.0, not a sample
TOR = "events/UnauthorizedAccess_EC2_TorClient.json"  # a sample finding
SSH = "events/UnauthorizedAccess_EC2_SSHBruteForce.json"
LAMBDA = "crafted/Backdoor_Lambda_CCActivity.B.json"
INJECTION = "[x](https://evil.example) <!channel> @here *b*"
# The schema of a custom notification, as the service documents it (every key we send).
TOP_KEYS = {"version", "source", "id", "content", "metadata"}
CONTENT_KEYS = {"textType", "title", "description", "nextSteps", "keywords"}
METADATA_KEYS = {"threadId", "summary", "eventType", "relatedResources", "additionalContext"}
CONSOLE = re.compile(r"https://[a-z0-9-]+\.console\.aws\.amazon\.com/guardduty/home\?region=[a-z0-9-]+#/findings\?\S+?")
URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s)\]]*")


def _finding_files() -> list[Path]:
    """Every finding fixture a GuardDuty event carries: corpus, samples, crafted, families, hostile, unrenderable."""
    return [
        *sorted((FIXTURES / "corpus" / "events").glob("*.json")),
        *sorted((FIXTURES / "events").glob("*.json")),
        *sorted((FIXTURES / "crafted").glob("*.json")),
        *sorted((FIXTURES / "families").glob("*.json")),
        *sorted((FIXTURES / "hostile").glob("*.json")),
        *sorted((FIXTURES / "unrenderable").glob("*.json")),
    ]


def _finding(path: Path) -> Finding | None:
    """The finding a fixture gives the notifier: a GuardDuty finding, or the alert made from a scan result."""
    event = load(path)
    if event.get("detail-type") == "GuardDuty Finding":
        return GuardDutyEvent.model_validate(event).detail
    detail = finding_detail(event)
    return Finding.model_validate(detail) if detail is not None else None


def _classified(path: str | Path, settings: Settings, account: Account | None = None) -> Classification:
    return classify(finding_from(path), settings, account)


def _message(group: list[Classification], settings: Settings) -> dict[str, Any]:
    text = notification(group, settings)
    payload: dict[str, Any] = json.loads(text)
    return payload


def _reads(markdown: str) -> str:
    """What a chat reader sees of escaped text: backslash escapes and entities undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


def _lines(payload: dict[str, Any]) -> dict[str, str]:
    """The description's ``**Label:** value`` lines as {label: escaped value}."""
    rows = {}
    for line in payload["content"]["description"].splitlines():
        if match := re.fullmatch(r"\*\*(.+?):\*\* (.*)", line):
            rows[match[1]] = match[2]
    return rows


def _hostile(title: str = INJECTION, **detail: Any) -> Finding:
    return GuardDutyEvent.model_validate(minimal_event(title=title, **detail)).detail


def _unescaped_markup(text: str) -> list[str]:
    """Markdown characters left unescaped in ``text``, our own markup (labels, console links) removed."""
    ours = re.sub(r"^\*\*[^*\n]+:\*\* |^- |\[[^\]\\]+\]\(https://[^)]+\)", "", text, flags=re.MULTILINE)
    return re.findall(r"(?<!\\)[`*_~|\[\]#<>]", re.sub(r"\\\\", "", ours))


# --- schema -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2])
def test_the_message_has_exactly_the_documented_keys_and_fixed_values(settings, size):
    # Given one finding, or two (a grouped message)
    group = [_classified(TOR, settings), _classified(SSH, settings)][:size]
    # When its chat message is built
    payload = _message(group, settings)
    # Then it is the custom-notification schema, no key more or less ...
    assert set(payload) == TOP_KEYS
    assert set(payload["content"]) == CONTENT_KEYS
    assert set(payload["metadata"]) == METADATA_KEYS
    assert (payload["version"], payload["source"]) == ("1.0", "custom")
    assert payload["content"]["textType"] == "client-markdown"
    assert payload["metadata"]["eventType"] == "GuardDutyFinding"
    # ... with the required description, strings everywhere the schema says String
    assert payload["content"]["description"].strip()
    for key in ("title", "description"):
        assert isinstance(payload["content"][key], str)
    for key in ("nextSteps", "keywords"):
        assert all(isinstance(item, str) for item in payload["content"][key])
    assert all(isinstance(value, str) for value in payload["metadata"]["additionalContext"].values())
    assert all(isinstance(arn, str) for arn in payload["metadata"]["relatedResources"])


def test_one_finding_names_band_type_account_region_resource_and_its_console_link():
    # Given a named account (the operator's mapping) and a High finding on an instance
    settings = Settings(ACCOUNT_NAMES="960603541212=payments-prod")
    c = _classified(CRYPTO, settings)
    # When its chat message is built
    payload = _message([c], settings)
    content = payload["content"]
    # Then the title is the band, score and type, as the subject starts
    assert _reads(content["title"]) == "[GuardDuty HIGH 8.0] CryptoCurrency:EC2/BitcoinTool.B"
    # ... the description names the account by name and id, the Region and the instance ...
    rows = _lines(payload)
    assert rows["Account"] == "payments-prod (960603541212)"
    assert rows["Region"] == c.triage.region == "us-east-1"
    primary = next(fact for fact in c.presentation.resource_facts if fact.primary)
    assert _reads(rows[message(primary.label)]) == primary.value
    # ... and its last line is the console link, the only link of the message
    assert c.links.console_url is not None
    assert content["description"].splitlines()[-1] == f"[Open in the GuardDuty console]({c.links.console_url})"
    assert URL.findall(json.dumps(payload, ensure_ascii=False)) == [c.links.console_url]
    # ... the next steps are the emails' steps after the urgency line, three of them
    assert content["nextSteps"] == [escape_markdown(step) for step in c.presentation.steps[1:4]]
    assert len(content["nextSteps"]) == 3
    # ... and the keywords are band, Region, account id; the context repeats them for filters
    assert content["keywords"] == ["HIGH", "us-east-1", "960603541212"]
    assert payload["metadata"]["additionalContext"] == {
        "account": "payments-prod (960603541212)",
        "region": c.triage.region,
        "severity": f"{c.triage.severity:.1f}",
    }


def test_the_organisations_name_is_shown_before_the_mapping():
    # Given the organisation names the account, the mapping says otherwise
    settings = Settings(ACCOUNT_NAMES="960603541212=old-name")
    c = _classified(CRYPTO, settings, Account("960603541212", "payments-prod"))
    # When its chat message is built / Then the organisation's name is shown
    assert _lines(_message([c], settings))["Account"] == "payments-prod (960603541212)"


def test_without_a_name_the_account_is_its_id(settings):
    # Given no name anywhere / When the message is built / Then the id alone (never an error)
    assert _lines(_message([_classified(CRYPTO, settings)], settings))["Account"] == "960603541212"


def test_related_resources_are_the_findings_validated_arns_only(settings):
    # Given a Lambda finding (its function ARN is a resource fact)
    c = _classified(LAMBDA, settings)
    # When its message is built / Then the ARN is a related resource
    assert _message([c], settings)["metadata"]["relatedResources"] == [
        "arn:aws:lambda:eu-west-1:111122223333:function:image-resizer"
    ]
    # Given ARN facts that carry a link, a mention or a space
    hostile = replace(
        c,
        presentation=replace(
            c.presentation,
            resource_facts=(
                Fact("f.arn", "arn:aws:lambda:eu-west-1:111122223333:function:x/https://evil.example"),
                Fact("f.arn", "arn:aws:iam::111122223333:user/@here"),
                Fact("f.arn", "arn:aws:s3:::bucket <!channel>"),
                Fact("f.arn", "arn:aws:s3:::" + "b" * 600),
            ),
        ),
    )
    # Then none is related
    assert _message([hostile], settings)["metadata"]["relatedResources"] == []


# --- escaping -----------------------------------------------------------------------


def test_escape_markdown_shows_every_markdown_character_literally():
    # Given text with every markdown, mention and HTML character / When escaped
    text = r"a*b_c~d`e|f[g]h(i)j#k!l\m &<> @here <@U123> <!channel> x[@]y"
    escaped = escape_markdown(text)
    # Then a reader sees it as written, mentions defanged like the cleaning defangs an address ...
    assert _reads(escaped) == r"a*b_c~d`e|f[g]h(i)j#k!l\m &<> [@]here <[@]U123> <!channel> x[@]y"
    # ... and nothing in it is markup: entities for &<>, a backslash before the rest
    assert "&amp;&lt;&gt;" in escaped and "<" not in escaped and ">" not in escaped
    assert re.findall(r"(?<!\\)[`*_~|\[\]#]", re.sub(r"\\\\", "", escaped)) == []


def test_escape_markdown_keeps_one_line():
    # Given a value with line breaks (a forged line) / When escaped / Then one line
    assert escape_markdown("a\r\n**Account:** 1\u2028b") == r"a \*\*Account:\*\* 1 b"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_title_cannot_inject_a_link_a_mention_or_formatting(lang):
    # Given a finding whose title is markdown with a link, a Slack mention and bold
    settings = Settings(LANGUAGE=lang)
    finding = _hostile()
    c = classify(finding, settings)
    # When its chat message is built
    payload = _message([c], settings)
    description = payload["content"]["description"]
    title = _lines(payload)[message("f.title", lang)]
    # Then the reader sees the cleaned title literally (the URL defanged as in the emails, @ defanged) ...
    cleaned = shown_prose(INJECTION, 200, own_type=finding.type)
    assert _reads(title) == cleaned.replace("@here", "[@]here")
    assert _reads(title) == "[x](hxxps[://]evil[.]example) <!channel> [@]here *b*"
    # ... and nothing of it is markup: no link but the console's, no mention, no bold
    assert _unescaped_markup(description) == []
    assert re.search(r"(?<!\\)\]\(", title) is None
    assert "<!" not in description and "@here" not in description
    assert URL.findall(json.dumps(payload, ensure_ascii=False)) == [c.links.console_url]


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_hostile_values_show_nothing_the_emails_forbid(name, lang):
    # Given a finding carrying one hostile class, alone and beside a benign one
    settings = Settings(LANGUAGE=lang)
    c = classify(finding_from(FIXTURES / "hostile" / f"{name}.json"), settings)
    benign = _classified(SSH, settings)
    for group in ([c], [c, benign]):
        # When its chat message is built
        text = notification(group, settings)
        payload = json.loads(text)
        seen = _reads(CONSOLE.sub("", text.replace("\\\\", "\\")))
        # Then nothing the emails may not show is seen (links we build removed) ...
        for bad in HOSTILE[name].forbidden:
            assert bad not in seen, (bad, seen[:300])
        # ... no URL but the console's, no markup but ours
        assert set(URL.findall(text)) <= {g.links.console_url for g in group}
        assert _unescaped_markup(payload["content"]["description"]) == []
        assert _unescaped_markup(payload["content"]["title"]) == []


# --- threading ----------------------------------------------------------------------


def test_a_findings_updates_thread_together_and_other_findings_do_not(settings):
    # Given a finding, the same finding updated (more occurrences, higher severity), and another
    first = minimal_event(severity=5.0, updatedAt="2026-11-20T10:00:00Z")
    again = minimal_event(severity=8.0, updatedAt="2026-11-20T11:00:00Z", service={"count": 7})
    other = minimal_event(id="fedcba9876543210fedcba9876543210")
    messages = [
        _message([classify(GuardDutyEvent.model_validate(event).detail, settings)], settings)
        for event in (first, again, other)
    ]
    threads = [m["metadata"]["threadId"] for m in messages]
    # Then the update threads under the first message but is a new message ...
    assert threads[0] == threads[1] == "gd-" + _sha256("0123456789abcdef0123456789abcdef")[:32]
    assert messages[0]["id"] != messages[1]["id"]
    # ... and another finding starts its own thread
    assert threads[2] != threads[0]


def test_the_same_delivery_is_the_same_message(settings):
    # Given one finding / When its message is built twice (a retry) / Then it is identical
    c = _classified(TOR, settings)
    assert notification([c], settings) == notification([c], settings)


def test_a_group_threads_by_its_sorted_ids(settings):
    # Given two findings in either order
    a, b = _classified(TOR, settings), _classified(SSH, settings)
    # Then their group has one thread id, whatever the order, unlike either alone
    ids = sorted([a.triage.finding_id, b.triage.finding_id])
    assert thread_id([a, b]) == thread_id([b, a]) == "gd-group-" + _sha256("\n".join(ids))[:32]
    assert thread_id([a, b]) not in (thread_id([a]), thread_id([b]))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


EMAILED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ROSE = UpdateDecision(True, UpdateReason.BAND_ROSE, FindingState(Band.MEDIUM, EMAILED, EMAILED, 1, False))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_update_is_marked_and_says_why_in_the_findings_thread(lang):
    # Given a finding emailed before whose band rose
    settings = Settings(LANGUAGE=lang)
    c = _classified(CRYPTO, settings)
    # When its chat message is built with its update decision
    payload = _message_with([c], settings, [ROSE])
    # Then it is marked as the subject marks an update, says why, and stays in the finding's thread
    assert _reads(payload["content"]["title"]).startswith(f"[{message('s.update', lang)}] [GuardDuty ")
    assert _lines(payload)[message("f.update", lang)] == escape_markdown(update_note(c, ROSE, settings.locale) or "")
    assert payload["metadata"]["threadId"] == _message([c], settings)["metadata"]["threadId"]
    # ... and a first email (no update again) is not marked
    first = UpdateDecision(True, UpdateReason.FIRST)
    assert _message_with([c], settings, [first]) == _message([c], settings)


def test_an_update_in_a_group_is_marked_on_its_line(settings):
    # Given two findings, the second an update / When they go out together
    group = [_classified(SSH, settings), _classified(CRYPTO, settings)]
    lines = _message_with(group, settings, [None, ROSE])["content"]["description"].splitlines()
    # Then only the update's line is marked
    marked = [line for line in lines if line.startswith(r"- \[UPDATE\]")]
    assert len(marked) == 1 and "CryptoCurrency:EC2/BitcoinTool.B" in marked[0]


def test_a_digest_is_titled_as_the_digest_email(settings):
    # Given two findings of the periodic digest / When their chat message is built
    group = [_classified(SSH, settings), _classified(CRYPTO, settings)]
    payload = json.loads(notification(group, settings, kind="DIGEST"))
    # Then its title is the digest email's subject
    assert _reads(payload["content"]["title"]) == digest_subject(group, kind="DIGEST")
    assert _reads(payload["content"]["title"]).startswith("[GuardDuty DIGEST]")


def _message_with(group: list[Classification], settings: Settings, updates: list[UpdateDecision | None]) -> Any:
    return json.loads(notification(group, settings, updates=updates))


# --- groups -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_group_is_one_message_listing_each_finding_with_its_link(lang):
    # Given two findings that arrived together
    settings = Settings(LANGUAGE=lang, ACCOUNT_NAMES="960603541212=payments-prod")
    group = [_classified(SSH, settings), _classified(CRYPTO, settings)]
    # When their chat message is built
    payload = _message(group, settings)
    content = payload["content"]
    # Then its title is the grouped email's subject, in the reader's language
    subject = local_digest_subject(group, kind="ALERTS", lang=lang) or digest_subject(group, kind="ALERTS")
    assert _reads(content["title"]) == subject
    # ... it lists every finding, most severe first, each with its account label, Region and link
    lines = content["description"].splitlines()
    assert len(lines) == 2
    ordered = sorted(group, key=lambda c: -c.triage.severity)
    for line, c in zip(lines, ordered, strict=True):
        assert line.startswith("- ")
        assert c.triage.safe_type is not None and escape_markdown(c.triage.safe_type) in line
        assert "payments-prod (960603541212)" in line or c.triage.account_id in line
        assert c.triage.region in line
        assert line.endswith(f"]({c.links.console_url})")
    # ... with the most severe finding's next steps and every band, Region and account as keywords
    assert content["nextSteps"] == [escape_markdown(translator(lang)(s)) for s in ordered[0].presentation.steps[1:4]]
    assert {c.triage.region for c in group} <= set(content["keywords"])
    assert payload["metadata"]["additionalContext"] == {"findings": "2"}


def test_even_no_findings_make_a_message_with_its_required_description(settings):
    # Given nothing (a caller's edge case) / When a message is built / Then the schema still holds
    payload = _message([], settings)
    assert set(payload) == TOP_KEYS
    assert _reads(payload["content"]["description"]) == digest_subject([], kind="ALERTS")


def test_a_large_group_lists_what_fits_and_counts_the_rest(settings):
    # Given 60 findings that arrived together
    events = [minimal_event(id=f"{n:032x}", severity=7.0 + n / 100) for n in range(60)]
    group = [classify(GuardDutyEvent.model_validate(event).detail, settings) for event in events]
    # When their chat message is built
    payload = _message(group, settings)
    lines = payload["content"]["description"].splitlines()
    # Then the description stays within its bound, whole lines only ...
    assert len(payload["content"]["description"]) <= MAX_DESCRIPTION
    listed = [line for line in lines if line.startswith("- ")]
    assert all(line.endswith(")") for line in listed)
    # ... and the last line counts exactly the findings not listed
    assert 0 < len(listed) < 60
    assert lines[-1] == f"and {60 - len(listed)} more"
    # ... most severe first
    assert "7.6" in listed[0] or "7.5" in listed[0]


# --- Japanese -----------------------------------------------------------------------


def test_a_japanese_reader_gets_the_labels_band_and_steps_in_japanese():
    # Given the Japanese settings and a named account
    settings = Settings(LANGUAGE="ja", ACCOUNT_NAMES="960603541212=payments-prod")
    c = _classified(CRYPTO, settings)
    # When its chat message is built
    payload = _message([c], settings)
    content = payload["content"]
    # Then the title's band, the labels and the link text are Japanese
    band = message("band.High", "ja")
    assert band != "High"
    assert _reads(content["title"]).startswith(f"[GuardDuty {band} ")
    rows = _lines(payload)
    assert rows[message("f.account", "ja")] == "payments-prod (960603541212)"
    assert message("f.region", "ja") in rows
    assert f"[{escape_markdown(message('f.console', 'ja'))}]({c.links.console_url})" in content["description"]
    # ... and the steps are the emails' Japanese steps (each differs from the English)
    steps = c.presentation.steps[1:4]
    assert content["nextSteps"] == [escape_markdown(translator("ja")(step)) for step in steps]
    assert all(japanese != english for japanese, english in zip(content["nextSteps"], steps, strict=True))


# --- totality and size --------------------------------------------------------------


FILES = _finding_files()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_fixture_renders_alone_and_all_together_within_the_bound(lang):
    # Given every finding fixture (corpus, samples, crafted, families, hostile, unrenderable)
    settings = Settings(LANGUAGE=lang)
    group = [classify(finding, settings) for path in FILES if (finding := _finding(path)) is not None]
    assert len(group) > 100
    # When each is sent alone and all are sent together
    for c in [*([c] for c in group), group]:
        text = notification(c, settings)
        payload = json.loads(text)
        # Then each message is valid JSON of the schema, within the size bound, with a description ...
        assert len(text.encode("utf-8")) <= MAX_MESSAGE_BYTES
        assert payload["content"]["description"].strip()
        assert len(payload["content"]["description"]) <= MAX_DESCRIPTION
        assert len(payload["content"]["title"]) <= MAX_TITLE
        # ... and the only URLs are the console's
        assert set(URL.findall(text)) <= {g.links.console_url for g in c}


def test_a_finding_whose_values_break_the_message_is_shown_in_its_minimal_form(settings):
    # Given a finding whose primary resource fact nobody foresaw (no label in the catalogue)
    c = _classified(CRYPTO, settings)
    broken = replace(c, presentation=replace(c.presentation, resource_facts=(Fact("f.unforeseen", "x", primary=True),)))
    # When its chat message is built
    payload = _message([broken], settings)
    # Then it still goes out, with the validated identifiers and the note that details are missing
    rows = _lines(payload)
    assert rows["Title"] == escape_markdown(message("v.details_unavailable"))
    assert rows["Account"] == "960603541212"
    assert payload["content"]["description"].endswith(f"({c.links.console_url})")


def test_the_largest_values_stay_within_the_bound():
    # Given Japanese and a finding whose every value is as long and as escape-heavy as it gets
    settings = Settings(LANGUAGE="ja", ACCOUNT_NAMES="123456789012=" + "&" * 50)
    noisy = "&<>*_`[]()#!|~\\" * 2000 + "東京" * 5000
    finding = _hostile(
        title=noisy,
        description=noisy,
        resource={"resourceType": "Instance", "instanceDetails": {"instanceId": noisy}},
    )
    c = classify(finding, settings)
    # When its message is built alone and in a group of 200 such
    for group in ([c], [c] * 200):
        text = notification(group, settings)
        payload = json.loads(text)
        # Then it stays within every bound
        assert len(text.encode("utf-8")) <= MAX_MESSAGE_BYTES
        assert len(payload["content"]["title"]) <= MAX_TITLE
        assert len(payload["content"]["description"]) <= MAX_DESCRIPTION
        assert _unescaped_markup(payload["content"]["description"]) == []
