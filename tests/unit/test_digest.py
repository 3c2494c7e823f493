"""Many findings in one email: grouping, subject, safety and size."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from responder.domain.catalog import EN
from responder.domain.classify import classify
from responder.domain.digest import batches, digest_subject, group, render_digest
from responder.domain.i18n import Locale, translator
from responder.domain.models import GuardDutyEvent
from responder.domain.render import MAX_TEXT_BYTES, render
from responder.domain.routing import MAX_PER_EMAIL
from responder.domain.settings import Band, Settings
from responder.domain.updates import FindingState, UpdateDecision, UpdateReason
from tests.conftest import FINDING_EVENTS, finding_from, minimal_event


def items(findings, update=None):
    return [(f, update) for f in findings]


def c(finding_type, severity, finding_id, instance="i-0123456789abcdef0"):
    event = minimal_event(
        finding_type,
        severity,
        id=finding_id,
        resource={"resourceType": "Instance", "instanceDetails": {"instanceId": instance}},
    )
    return classify(GuardDutyEvent.model_validate(event).detail, Settings())


def test_groups_by_type_most_severe_first():
    findings = [
        c("Recon:EC2/Portscan", 5.0, "a1"),
        c("Backdoor:EC2/C&CActivity.B", 8.0, "b1", "i-0bbbbbbbbbbbbbbbb"),
        c("Recon:EC2/Portscan", 6.0, "a2", "i-0aaaaaaaaaaaaaaaa"),
        c("AttackSequence:IAM/CompromisedCredentials", 9.0, "s1"),
    ]
    groups = group(items(findings))
    assert [g.finding_type for g in groups] == [
        "AttackSequence:IAM/CompromisedCredentials",
        "Backdoor:EC2/C&CActivity.B",
        "Recon:EC2/Portscan",
    ]
    assert [g.band for g in groups] == ["Critical", "High", "Medium"]
    assert [e.severity for e in groups[2].entries] == ["6.0", "5.0"]
    assert groups[2].entries[0].resource == "i-0aaaaaaaaaaaaaaaa"


def test_subject_counts_bands_in_printable_ascii():
    findings = [c("Recon:EC2/Portscan", 5.0, f"m{i}") for i in range(10)] + [c("Backdoor:EC2/Spambot", 8.0, "h1")]
    subject = digest_subject(findings, kind="DIGEST")
    assert subject == "[GuardDuty DIGEST] 11 findings: 1 HIGH, 10 MEDIUM"
    assert re.fullmatch(r"[ -~]{1,99}", subject)


def test_each_entry_has_what_a_responder_needs():
    findings = [c("Recon:EC2/Portscan", 5.0, "abc123")]
    email = render_digest(items(findings))
    [entry] = group(items(findings))[0].entries
    assert "Medium 5.0 | i-0123456789abcdef0 | 123456789012 us-east-1" in email.text
    assert "Finding ID: abc123" in email.text and "Finding ID: abc123" in email.html
    assert (
        entry.console_url and entry.console_url in email.text and entry.console_url.replace("&", "&amp;") in email.html
    )
    assert len(entry.steps) == 2
    for step in entry.steps:
        assert step in email.text
    assert findings[0].presentation.steps[0] not in entry.steps  # the band's urgency line is not repeated per finding


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def test_every_bundled_finding_in_one_digest_is_safe_and_bounded():
    findings = [classify(finding_from(path), Settings()) for path in FINDING_EVENTS]
    email = render_digest(items(findings), kind="ALERTS")
    assert email.subject.startswith("[GuardDuty ALERTS]")
    links = Links()
    links.feed(email.html)
    # The findings' console links, and the runbook links of the most urgent one (its Respond section).
    ours = {f.links.console_url for f in findings if f.links.console_url}
    ours |= {o.console_url for f in findings for o in f.links.respond if o.console_url}
    assert set(links.urls) <= ours
    assert links.tags.isdisjoint({"script", "img", "svg", "iframe"})
    # The hostile finding: its title is cleaned and defanged, its unsafe user name never used
    assert "Call from hxxp[://]evil[.]example[.]com/login Subject: spoofed" in email.text
    assert "<script>" not in email.html
    assert "\u202e" not in email.text
    assert len(email.text.encode()) <= MAX_TEXT_BYTES


def test_a_storm_of_100_findings_fits_one_email_and_batches_split_larger_ones():
    findings = [c("Recon:EC2/Portscan", 5.0 + (i % 4), f"f{i}", f"i-0{i:016x}") for i in range(250)]
    split = batches(findings, size=100, severity=lambda f: f.triage.severity)
    assert [len(b) for b in split] == [84, 84, 82]  # three emails, evenly filled
    assert batches(findings[:100], size=100, severity=lambda f: f.triage.severity) == [
        sorted(findings[:100], key=lambda f: -f.triage.severity)
    ]
    assert batches([], size=100, severity=lambda f: f.triage.severity) == []
    assert split[0][0].triage.severity == 8.0  # most severe first
    email = render_digest(items(split[0]))
    assert len(email.text.encode()) < MAX_TEXT_BYTES // 4


def test_a_full_grouped_email_of_hostile_maximal_findings_stays_under_the_sns_limit():
    """Every finding value is clipped in a digest entry, so MAX_PER_EMAIL entries always fit."""
    huge = "\u00e9" * 5_000  # two UTF-8 bytes each
    findings = []
    for i in range(MAX_PER_EMAIL):
        event = minimal_event(
            "Recon:EC2/" + "X" * 90 + str(i),
            5.0,
            id=("\u00e9" * 290) + str(i),
            title=huge,
            resource={"resourceType": "Instance", "instanceDetails": {"instanceId": huge}},
            service={"eventFirstSeen": huge, "eventLastSeen": huge, "count": 10**12},
        )
        findings.append(classify(GuardDutyEvent.model_validate(event).detail, Settings()))
    email = render_digest(items(findings), kind="DIGEST")
    assert email.text.count("Finding ID:") == MAX_PER_EMAIL
    assert len(email.text.encode()) <= MAX_TEXT_BYTES


def test_an_update_in_a_grouped_email_says_why_it_is_sent_again():
    earlier = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    previous = FindingState(band=Band.MEDIUM, notified_at=earlier, first_notified_at=earlier, count=3, archived=False)
    update = UpdateDecision(True, UpdateReason.BAND_ROSE, previous)
    rose = c("Recon:EC2/Portscan", 8.0, "rose1")
    fresh = c("Recon:EC2/Portscan", 7.5, "new1")
    email = render_digest([(rose, update), (fresh, None)], kind="ALERTS")
    assert email.text.count("Severity rose from Medium to High") == 1
    assert "Severity rose from Medium to High" in email.html


def test_digest_intro_names_the_window():
    email = render_digest(items([c("Recon:EC2/Portscan", 5.0, "w1")]), kind="DIGEST", minutes=30)
    assert "from the last 30 minutes" in email.text


def test_a_long_timestamp_is_cut_with_the_marker_of_the_emails_language():
    # Given a finding whose first and last seen are far longer than a timestamp
    event = minimal_event(service={"eventFirstSeen": "2026-11-20T09:50:00Z" + "x" * 1200, "eventLastSeen": "y" * 1200})
    c = classify(GuardDutyEvent.model_validate(event).detail, Settings(language="ja"))
    # When shown in a Japanese digest / Then they are cut with the Japanese marker, never English
    for email in (render_digest([(c, None)], locale=Locale("ja")), render(c, Locale("ja"))):  # grouped and single
        assert "[省略]" in email.text
        assert "[truncated]" not in email.text and "[truncated]" not in email.html


# --- account names (issue 13) ---------------------------------------------------------


def named(finding_id, account_id, names, **detail):
    """A Recon finding of ``account_id`` classified under ACCOUNT_NAMES ``names``."""
    event = minimal_event("Recon:EC2/Portscan", 5.0, id=finding_id, accountId=account_id, **detail)
    return classify(GuardDutyEvent.model_validate(event).detail, Settings(account_names=names))


def test_each_entry_names_its_account_and_an_unnamed_one_keeps_its_id():
    # Given findings of a named account, of an account with a 50-character name, and of an unnamed one
    long_name = "n" * 50
    names = {"111122223333": "payments-prod", "444455556666": long_name}
    findings = [
        named("a1", "111122223333", names),
        named("a2", "444455556666", names),
        named("a3", "777788889999", names),
    ]
    # When grouped in one digest
    email = render_digest(items(findings))
    accounts = {e.finding_id: e.account for e in group(items(findings))[0].entries}
    # Then each entry shows its account's label in full (never cut), or the id alone
    assert accounts == {
        "a1": "payments-prod (111122223333)",
        "a2": f"{long_name} (444455556666)",
        "a3": "777788889999",
    }
    assert "| i-0123456789abcdef0 | payments-prod (111122223333) us-east-1" in email.text
    assert f"&middot; {long_name} (444455556666) us-east-1" in email.html
    assert "| i-0123456789abcdef0 | 777788889999 us-east-1" in email.text
    # And the digest subject counts findings, names no account
    assert email.subject == "[GuardDuty DIGEST] 3 findings: 3 MEDIUM"


def test_a_hostile_account_name_in_a_grouped_email_is_escaped_and_defanged():
    # Given a finding of an account named like markup and a domain, in a storm email
    finding = named("h1", "111122223333", {"111122223333": "<b>ops</b> evil.com"})
    # When grouped, in English and Japanese
    for locale in (Locale(), Locale("ja", "Asia/Tokyo")):
        email = render_digest([(finding, None)], kind="ALERTS", locale=locale)
        # Then the text shows it defanged, the HTML escaped, and neither subject carries it
        assert "<b>ops</b> evil[.]com (111122223333) us-east-1" in email.text
        assert "&lt;b&gt;ops&lt;/b&gt; evil[.]com (111122223333) us-east-1" in email.html
        links = Links()
        links.feed(email.html)
        assert "b" not in links.tags
        assert "evil" not in email.subject and "evil" not in (email.local_subject or "")


# --- the Respond section of the most urgent finding (issue 14) ---------------------------


def respond_lines(text):
    """The lines of the (only) Respond block of a grouped email's text body."""
    lines = text.splitlines()
    start = lines.index(f"  -- {EN['h.respond']} --")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ") or lines[i].startswith("- "))
    return lines[start:end]


@pytest.mark.parametrize("kind", ["ALERTS", "DIGEST"])
def test_only_the_most_urgent_finding_of_a_grouped_email_has_its_respond_section(kind):
    # Given a High finding with an isolate runbook, and lower ones of another type and of the same type
    urgent = classify(finding_from("events/Backdoor_EC2_DenialOfService.Tcp.json"), Settings())
    lower = [c("Recon:EC2/Portscan", 5.0, "low1"), c("Backdoor:EC2/DenialOfService.Tcp", 4.0, "low2")]
    assert all(f.links.respond for f in lower)  # they offer runbooks too (archive at least)
    # When they share one email
    email = render_digest(items([*lower, urgent]), kind=kind)
    # Then one Respond section, in the most urgent entry, with that finding's commands and links
    assert email.text.count(f"-- {EN['h.respond']} --") == 1
    assert email.html.count(EN["h.respond"]) == 1
    block = respond_lines(email.text)
    for offer in urgent.links.respond:
        assert f"    {offer.command}" in block
        assert f"    {EN['r.console']}: {offer.console_url}" in block
        assert f"<code>{offer.command}</code>" in email.html
    entry = email.text[email.text.index(urgent.triage.finding_id) :]
    assert entry.index(f"-- {EN['h.respond']} --") < entry.index("\n- ")  # inside the urgent entry
    # and none of the lower findings' commands
    for other in lower:
        assert all(offer.command not in email.text for offer in other.links.respond)
    # the urgent entry's short steps point to the runbook (its isolate step is among them); no other entry's
    shown = [entry for g in group(items([*lower, urgent])) for entry in g.entries]
    assert shown[0].finding_id == urgent.triage.finding_id and shown[0].respond
    assert all(not entry.respond for entry in shown[1:])
    pointer = EN["r.see_respond"].format(name="GuardDutyResponder-IsolateEc2Instance")
    assert "isolate" in urgent.presentation.step_intents[1:3] and any(pointer in step for step in shown[0].steps)
    assert email.text.count(pointer) == 1


def test_the_grouped_respond_section_is_japanese_with_the_same_commands():
    # Given the most urgent finding in a Japanese grouped email
    ja = Settings(language="ja")
    urgent = classify(finding_from("events/Backdoor_EC2_DenialOfService.Tcp.json"), ja)
    # When rendered
    email = render_digest([(urgent, None)], kind="ALERTS", locale=ja.locale)
    # Then the heading and labels are Japanese and the commands unchanged
    assert "-- 対応 (あなたが実行するまで何も実行されません) --" in email.text
    assert translator("ja")(EN["r.isolate"]) in email.text
    assert all(offer.command in email.text for offer in urgent.links.respond)
