"""Japanese email: complete catalogues, no English prose, encoded subjects, local time."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from email.policy import default
from typing import Any

import pytest

from responder.adapters.channels.ses import build_mime
from responder.domain.catalog import EN, message, source_messages
from responder.domain.classify import classify
from responder.domain.cleaning import clean, defang
from responder.domain.digest import render_digest
from responder.domain.i18n import LANGUAGES, Locale, translator
from responder.domain.render import FONT_STACKS, render
from responder.domain.settings import Settings
from scripts.i18n import po_path, problems, read
from tests.conftest import FINDING_EVENTS, finding_from, load

JA = Settings(language="ja")
TOKYO = Locale("ja", "Asia/Tokyo")

# Names that Japanese documentation and the Japanese GuardDuty console write in English.
NAMES = frozenset(
    {
        *("GuardDuty", "Responder", "Amazon", "CloudTrail", "Macie", "Route", "Resolver", "Firewall", "Secrets"),
        *("Session", "Manager", "Fleet", "Kubernetes", "Pod", "NetworkPolicy", "Tor", "Bedrock"),
        *("Extended", "Threat", "Detection", "Malware", "Protection", "Security", "Standards"),
        *("Kali", "Parrot", "Pentoo", "Name", "Windows", "Elasticsearch", "Lambda", "LoadBalancer"),
        *("restricted", "admin", "default", "HttpTokens", "required", "DoS"),
        *("Systems", "Automation", "Identity", "Center"),  # AWS Systems Manager Automation, IAM Identity Center
        *("pid", "uid", "euid", "uuid"),  # Unix process identifiers, written so in Japanese too
    }
)
# Product names of several words that Japanese documentation keeps as they are.
PRODUCTS = re.compile(r"Malware Protection for (?:S3|EC2|AWS Backup)")
_URL = re.compile(r"https?://\S+")
# Identifiers: tokens with a digit or one of : / . _ @ - = inside, ALL-CAPS names (TCP, ACTOR) and
# API names in CamelCase (PutObject, CreateSnapshot), which Japanese documentation writes as they are.
_IDENTIFIER = re.compile(r"[\w.:/@=-]*[\d:/._@=-][\w.:/@=-]*|\b[A-Z][A-Z0-9_]+\b|\b[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+\b")
_WORD = re.compile(r"[A-Za-z]{2,}")
RUNBOOK_KEYS = ("isolate", "credentials", "public_access", "archive")  # the offers an email labels


def test_every_message_has_a_japanese_translation_and_the_mo_is_compiled():
    assert problems() == []


def test_translations_keep_every_placeholder_and_are_not_english():
    catalog = read(po_path("ja"), "ja")
    for text in source_messages():
        translated = catalog.get(text).string
        assert sorted(re.findall(r"\{\w+\}", translated)) == sorted(re.findall(r"\{\w+\}", text)), text
        if re.search(r"[a-z]{3,} [a-z]{3,}", text):  # a sentence, not a name such as "VPC"
            assert translated != text, text
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", translated), text


def test_the_console_vocabulary_is_used():
    ja = translator("ja")
    expected = {
        "Severity": "重大度", "High": "高", "Medium": "中", "Low": "低", "Critical": "クリティカル",
        "Finding type": "結果タイプ", "Resource type": "リソースタイプ", "Action type": "アクションタイプ",
        "Connection direction": "接続方向", "Inbound": "インバウンド", "Outbound": "アウトバウンド",
        "Unknown": "不明", "Protocol": "プロトコル", "Local IP": "ローカル IP", "Remote IP": "リモート IP",
        "Threat purpose": "脅威の目的", "Occurrences": "件数", "First seen": "最初の検出",
        "Last seen": "最後の検出", "Archive": "アーカイブ",
    }  # fmt: skip
    for english, japanese in expected.items():
        assert ja(english) == japanese
    assert "エクスポート" in ja(EN["f.export_cmd"])


def test_english_stays_the_source_and_an_unknown_language_is_refused():
    assert translator("en")("How bad") == "How bad"
    assert message("h.how_bad", "en") == EN["h.how_bad"]
    assert LANGUAGES == ("en", "ja")
    with pytest.raises(ValueError, match="unsupported language"):
        translator("fr")


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (str(key), *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [str(value)]


def english_prose(text: str, finding_values: list[str]) -> list[str]:
    """English words left once finding values, commands, links and identifiers are removed."""
    # Commands (aws guardduty ..., aws ssm start-automation-execution ...) are never translated.
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("aws ")]
    rest = _URL.sub(" ", "\n".join(lines)).replace("\n    ", "\n")  # the text body indents continuation lines
    rest = PRODUCTS.sub(" ", rest)
    variants = {
        v
        for raw in finding_values
        for cleaned in (clean(raw, 1000), clean(raw, 4000, multiline=True), clean(raw, 120, marker="[省略]"))
        for v in (raw, cleaned, defang(cleaned), *re.split(r"[:/.!]", raw))  # a finding type's parts too
    }
    for value in sorted(variants, key=len, reverse=True):
        if len(value) > 1:  # whole words only: "Object" (of a type) must not cut "PutObject" in two
            rest = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", " ", rest)
    rest = _IDENTIFIER.sub(" ", rest)
    return [word for word in _WORD.findall(rest) if word not in NAMES]


@pytest.mark.parametrize("path", FINDING_EVENTS, ids=lambda p: p.name)
def test_the_japanese_email_for_every_shared_sample_has_no_english_prose(path):
    event = load(path)
    email_ = render(classify(finding_from(path), JA), JA.locale)
    assert english_prose(email_.text, _strings(event["detail"])) == []
    assert 'lang="ja"' in email_.html
    assert FONT_STACKS["ja"].replace("'", "&#39;") in email_.html


def test_the_check_finds_english_prose():
    """The negative control: the English email of the same sample is full of it."""
    path = FINDING_EVENTS[0]
    english = render(classify(finding_from(path), Settings()))
    assert len(english_prose(english.text, _strings(load(path)["detail"]))) > 50


def test_ses_subject_is_japanese_in_rfc2047_and_round_trips_while_the_sns_subject_stays_ascii():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), JA)
    rendered = render(c, JA.locale)
    assert (
        rendered.local_subject == "[サンプル] [GuardDuty 高 8.0] UnauthorizedAccess:EC2/TorClient i-99999999 us-east-1"
    )
    assert re.fullmatch(r"[ -~]{1,99}", rendered.subject)  # SNS: printable ASCII only
    assert rendered.subject.startswith("[SAMPLE] [GuardDuty HIGH 8.0]")
    raw = build_mime(rendered, "alerts@example.com", ["secops@example.com"])
    raw.decode("ascii")  # every header and part is 7-bit on the wire
    header = re.search(rb"^Subject: (.*(?:\r\n[ \t].*)*)", raw, re.MULTILINE)
    assert header and b"=?utf-8?" in header.group(1).lower()
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == rendered.local_subject
    for part in parsed.walk():
        if part.get_content_maintype() == "text":
            assert part.get_content_charset() == "utf-8"
    assert parsed.get_body(("plain",)).get_content().startswith(rendered.local_subject)


def test_a_hostile_value_cannot_reach_the_japanese_subject():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), JA)
    forged = replace(
        c,
        triage=replace(c.triage, safe_type=None, account_id="1\r\nBcc: x", region="\u202eus"),
        presentation=replace(c.presentation, resource_label=None),
    )
    rendered = render(forged, Locale("ja"))
    assert "\r" not in rendered.local_subject and "\n" not in rendered.local_subject
    assert "Bcc" not in rendered.local_subject


def test_dates_show_utc_and_jst_for_japanese_and_the_zone_is_a_setting():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), JA)
    ja = render(c, JA.locale).text
    assert "最初の検出: 2025-08-22T01:40:10.000Z (JST 2025-08-22 10:40)" in ja
    english = render(c, Settings().locale).text
    assert "First seen: 2025-08-22T01:40:10.000Z\n" in english  # no zone chosen: UTC only
    new_york = Settings.from_env({"DISPLAY_TIMEZONE": "America/New_York"})
    assert "(EDT 2025-08-21 21:40)" in render(c, new_york.locale).text
    # A well-formed zone the time zone database does not know: UTC only, never a failed cold start.
    assert Settings.from_env({"DISPLAY_TIMEZONE": "Mars/Olympus"}).display_zone is None


def test_the_japanese_digest_is_translated():
    findings = [(classify(finding_from(path), JA), None) for path in FINDING_EVENTS]
    digest = render_digest(findings, kind="DIGEST", locale=TOKYO, minutes=60)
    assert digest.local_subject is not None
    assert digest.local_subject.startswith("[GuardDuty ダイジェスト]")
    assert f"{len(findings)} 件" in digest.local_subject
    assert re.fullmatch(r"[ -~]{1,99}", digest.subject)
    assert "直近 60 分間" in digest.text
    assert "(JST " in digest.text
    assert 'lang="ja"' in digest.html
    values = [s for path in FINDING_EVENTS for s in _strings(load(path)["detail"])]
    assert english_prose(digest.text, values) == []


def test_the_update_note_is_japanese_with_jst():
    from datetime import UTC, datetime

    from responder.domain.settings import Band
    from responder.domain.updates import FindingState, UpdateDecision, UpdateReason

    earlier = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    previous = FindingState(band=Band.MEDIUM, notified_at=earlier, first_notified_at=earlier, count=3, archived=False)
    c = classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), JA)
    rose = render(c, TOKYO, UpdateDecision(True, UpdateReason.BAND_ROSE, previous))
    assert "重大度が中から高に上がりました。2025-08-22T01:40:10.000Z (JST 2025-08-22 10:40) 以降 2 回" in rose.text
    assert rose.local_subject.startswith("[サンプル] [更新] [GuardDuty 高 8.0]")
    again = render(c, TOKYO, UpdateDecision(True, UpdateReason.RENOTIFY_INTERVAL, previous))
    assert "初回のメール送信: 2026-11-26 06:00 UTC (JST 2026-11-26 15:00)" in again.text


def test_the_translated_subject_sanitiser_removes_every_line_break():
    from responder.domain.render import safe_local_subject

    assert safe_local_subject("[GuardDuty 高 8.0] a\r\nBcc: x\u2028y\tz") == "[GuardDuty 高 8.0] a Bcc: x y z"


def test_every_respond_note_and_label_is_japanese_prose_free():
    # Given a finding offering every runbook the email labels, each with every note it may carry
    from responder.domain.runbooks import Offer

    path = "events/Backdoor_EC2_DenialOfService.Tcp.json"
    c = classify(finding_from(path), JA)
    args = (("account", "111122223333"), ("role", "GuardDutyResponder-AutomationExecution"), ("field", "Region"))
    notes = [key for key in EN if key.startswith("r.note.")]
    offers = tuple(Offer(key, "isolate", None, None, note, args) for key in RUNBOOK_KEYS for note in notes)
    forged = replace(c, links=replace(c.links, respond=offers))
    # When it is rendered in Japanese, in a single email and a grouped one
    single = render(forged, TOKYO).text
    grouped = render_digest([(forged, None)], kind="ALERTS", locale=TOKYO).text
    # Then no English prose is left: labels, notes, heading and pointer are all translated
    for text in (single, grouped):
        assert english_prose(text, _strings(load(path)["detail"])) == []
        assert "111122223333" in text and "リージョン" in text
