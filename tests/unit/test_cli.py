"""The preview tool: every accepted input shape, every format, clean failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from responder.cli import camel_keys, main
from tests.conftest import FIXTURES, load, run_responder

ROOT = Path(__file__).resolve().parents[2]
SSH = str(FIXTURES / "events/UnauthorizedAccess_EC2_SSHBruteForce.json")
TOR = str(FIXTURES / "events/UnauthorizedAccess_EC2_TorClient.json")
CONTRACT = {
    "id", "type", "severity", "severity_band", "threat_purpose", "resource_type", "threat_family",
    "detection_mechanism", "artifact", "action_type", "connection_direction", "notify", "subject",
    "text", "html", "steps", "local_subject",
}  # fmt: skip


def pascal(value):
    if isinstance(value, list):
        return [pascal(v) for v in value]
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    return value


def run_json(capsys, *args):
    assert main(["preview", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_contract(capsys, monkeypatch):
    monkeypatch.delenv("NOTIFY_THRESHOLD", raising=False)
    records = run_json(capsys, SSH, TOR)
    assert [r["type"] for r in records] == ["UnauthorizedAccess:EC2/SSHBruteForce", "UnauthorizedAccess:EC2/TorClient"]
    assert set(records[0]) >= CONTRACT
    ssh = records[0]
    assert ssh["severity"] == 2.0
    assert ssh["severity_band"] == "Low"
    assert ssh["threat_purpose"] == "UnauthorizedAccess"
    assert ssh["resource_type"] == "EC2"
    assert ssh["threat_family"] == "SSHBruteForce"
    assert ssh["detection_mechanism"] is None
    assert ssh["action_type"] == "NETWORK_CONNECTION"
    assert ssh["connection_direction"] == "INBOUND"
    assert ssh["notify"] is False
    assert records[1]["notify"] is True
    assert isinstance(ssh["steps"], list) and len(ssh["steps"]) >= 3


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_json_steps_are_in_the_chosen_language_as_the_email_shows_them(capsys, lang):
    # Given a finding previewed as JSON in each language
    [record] = run_json(capsys, TOR, "--lang", lang)
    # Then every step is the one the email's text shows, in the email's language
    assert len(record["steps"]) >= 3
    for step in record["steps"]:
        assert step in record["text"]
    japanese = [step for step in record["steps"] if any("\u3040" <= char <= "\u30ff" for char in step)]
    assert len(japanese) == (len(record["steps"]) if lang == "ja" else 0)


def test_json_records_carry_the_local_subject_as_grouped_records_do(capsys):
    # Given the same finding previewed in English and in Japanese
    [english] = run_json(capsys, TOR)
    [japanese] = run_json(capsys, TOR, "--lang", "ja")
    # Then the English record has no translated subject; the Japanese one has the SES subject
    assert english["local_subject"] is None
    assert japanese["subject"] == english["subject"] and japanese["subject"].isascii()
    assert japanese["local_subject"].startswith("[サンプル] [GuardDuty 高 8.0] UnauthorizedAccess:EC2/TorClient")
    # ... and the text preview prints it under the ASCII subject
    assert main(["preview", TOR, "--lang", "ja"]) == 0
    out = capsys.readouterr().out
    assert f"Subject: {japanese['subject']}\nSubject (SES): {japanese['local_subject']}\n" in out


def test_notify_follows_the_same_environment_as_the_lambda(capsys, monkeypatch):
    monkeypatch.setenv("NOTIFY_THRESHOLD", "1")
    assert run_json(capsys, SSH)[0]["notify"] is True


def test_get_findings_output_with_pascal_case_keys(capsys, tmp_path):
    finding = load("events/UnauthorizedAccess_EC2_SSHBruteForce.json")["detail"]
    path = tmp_path / "get-findings.json"
    path.write_text(json.dumps({"Findings": [pascal(finding)]}))
    record = run_json(capsys, str(path))[0]
    direct = run_json(capsys, SSH)[0]
    for key in ("id", "type", "severity_band", "action_type", "connection_direction", "steps", "subject"):
        assert record[key] == direct[key]


def test_bare_finding_console_export(capsys, tmp_path):
    path = tmp_path / "finding.json"
    path.write_text(json.dumps(load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"]))
    assert run_json(capsys, str(path))[0]["type"] == "UnauthorizedAccess:EC2/TorClient"


def test_camel_keys_leaves_map_keys_alone():
    assert camel_keys({"AffectedResources": {"AWS::S3::Bucket": "b"}, "Api": "x"}) == {
        "affectedResources": {"AWS::S3::Bucket": "b"},
        "api": "x",
    }


def test_text_and_html_formats(capsys):
    assert main(["preview", TOR]) == 0
    out = capsys.readouterr().out
    assert "would be sent" in out and "Subject: [SAMPLE] [GuardDuty HIGH 8.0]" in out
    assert main(["preview", TOR, "--format", "html", "--lang", "en"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")


def test_non_finding_event_is_reported_not_failed(capsys):
    assert (
        main(["preview", str(FIXTURES / "crafted/Other_MalwareProtection_ObjectScanResult.json"), "--format", "json"])
        == 0
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert "not a finding" in captured.err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"hello": 1}', "not an EventBridge event"),
        ('{"Findings": 3}', "Findings is not a list"),
        ("42", "expected a JSON object"),
        (None, "cannot read"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(tmp_path, capsys, content, reason):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    assert main(["preview", str(path)]) == 1
    err = capsys.readouterr().err
    assert reason in err
    assert err.count("\n") == 1


def test_invalid_finding_and_bad_settings(capsys, monkeypatch):
    assert (
        main(["preview", str(FIXTURES / "invalid/PrivilegeEscalation_Runtime_CGroupsReleaseAgentModified.json")]) == 1
    )
    assert "detail.id" in capsys.readouterr().err
    monkeypatch.setenv("BAND_HIGH_MIN", "x")
    assert main(["preview", SSH]) == 1
    assert capsys.readouterr().err.startswith("error: BAND_HIGH_MIN")


def test_module_entry_point_runs_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    result = run_responder("preview", str(bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")


# --- preview --grouped: the one email a storm or a digest makes -------------------------


def run_grouped(capsys, *args):
    assert main(["preview", *args, "--grouped", "--format", "json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_grouped_json_is_one_storm_email_of_every_finding(capsys, monkeypatch):
    # Given two findings, one High and one Low (below the default threshold)
    monkeypatch.delenv("NOTIFY_THRESHOLD", raising=False)
    # When they are previewed as one grouped email
    record, err = run_grouped(capsys, SSH, TOR)
    # Then one record holds the storm (ALERTS) email of both, the Low one noted on stderr
    assert set(record) >= {"subject", "text", "html"}
    assert record["kind"] == "alerts" and record["findings"] == 2
    assert record["subject"] == "[GuardDuty ALERTS] [SAMPLE] 2 findings: 1 HIGH, 1 LOW"
    for finding_type in ("UnauthorizedAccess:EC2/TorClient", "UnauthorizedAccess:EC2/SSHBruteForce"):
        assert f"== {finding_type} (1) ==" in record["text"]
        assert finding_type in record["html"]
    assert record["text"].index("TorClient") < record["text"].index("SSHBruteForce")  # most severe first
    assert record["html"].count("<!DOCTYPE html>") == 1
    assert "49514155ed6b4536b05649a87fc3c05a: included, but would NOT be sent (below_threshold)" in err


def test_grouped_digest_kind_uses_the_digest_window(capsys, monkeypatch):
    # Given a 30-minute digest window
    monkeypatch.setenv("DIGEST_MINUTES", "30")
    # When the findings are previewed as a digest
    assert main(["preview", SSH, TOR, "--grouped", "--kind", "digest", "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    # Then it is the digest email, naming its window
    assert record["subject"].startswith("[GuardDuty DIGEST] [SAMPLE] 2 findings")
    assert "30 minutes" in record["text"]


def test_grouped_in_japanese_has_the_translated_subject(capsys):
    # Given --lang ja
    record, _err = run_grouped(capsys, SSH, TOR, "--lang", "ja")
    # Then the SNS subject stays ASCII, the SES subject and the bodies are Japanese
    assert record["subject"].isascii()
    assert "[サンプル] 2 件: 高 1, 低 1" in record["local_subject"]
    assert "結果 ID" in record["text"] and 'lang="ja"' in record["html"]


def test_grouped_text_and_html_print_one_email(capsys):
    # When the grouped email is printed as text, then as HTML
    assert main(["preview", SSH, TOR, "--grouped"]) == 0
    text = capsys.readouterr().out
    assert main(["preview", SSH, TOR, "--grouped", "--format", "html"]) == 0
    html = capsys.readouterr().out
    # Then each is one email
    assert text.startswith("----- one grouped email (alerts, 2 findings)\nSubject: [GuardDuty ALERTS]")
    assert text.count("Subject:") == 1
    assert html.startswith("<!DOCTYPE html>") and html.count("<!DOCTYPE html>") == 1


def test_grouped_notes_when_the_notifier_would_split_it(tmp_path, capsys):
    # Given more findings than one grouped email holds
    from responder.domain.routing import MAX_PER_EMAIL

    event = load("events/UnauthorizedAccess_EC2_TorClient.json")
    events = []
    for index in range(MAX_PER_EMAIL + 1):
        copy = json.loads(json.dumps(event))
        copy["detail"]["id"] = f"{index:032x}"
        events.append(copy)
    path = tmp_path / "storm.json"
    path.write_text(json.dumps(events))
    # When they are previewed grouped
    record, err = run_grouped(capsys, str(path))
    # Then all are in the one email shown, and stderr says the notifier sends two
    assert record["findings"] == MAX_PER_EMAIL + 1
    assert f"at most {MAX_PER_EMAIL} per email (2 emails)" in err


def test_grouped_without_findings_and_kind_without_grouped_fail(capsys):
    # Given only a non-finding GuardDuty event
    other = str(FIXTURES / "crafted/Other_MalwareProtection_ObjectScanResult.json")
    # Then there is nothing to group: one line, exit 1
    assert main(["preview", other, "--grouped"]) == 1
    assert capsys.readouterr().err.endswith("error: no findings to group\n")
    # And --kind alone is a usage error
    with pytest.raises(SystemExit) as exit_info:
        main(["preview", SSH, "--kind", "digest"])
    assert exit_info.value.code == 2
    assert "--kind needs --grouped" in capsys.readouterr().err


# --- deeply nested JSON: one line, never a traceback ----------------------------------------


def nested(depth: int, shape: str) -> str:
    """JSON nested ``depth`` levels deep: bare lists, in an event's finding, in a PascalCase finding."""
    core = "[" * depth + "]" * depth
    if shape == "lists":
        return core
    if shape == "event":
        event = load("events/UnauthorizedAccess_EC2_TorClient.json")
        event["detail"]["service"]["additionalInfo"] = "DEEP"
        return json.dumps(event).replace('"DEEP"', core)
    finding = pascal(load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"])
    finding["Service"]["AdditionalInfo"] = "DEEP"
    return json.dumps({"Findings": [finding]}).replace('"DEEP"', core)


@pytest.mark.parametrize("depth", [600, 1_000, 5_000])
@pytest.mark.parametrize("shape", ["lists", "event", "pascal"])
def test_deeply_nested_input_is_refused_with_one_line(tmp_path, capsys, depth, shape):
    # Given a file nested hundreds to thousands of levels deep
    path = tmp_path / "deep.json"
    path.write_text(nested(depth, shape))
    # When it is previewed, single or grouped
    for extra in ([], ["--grouped"]):
        assert main(["preview", str(path), *extra]) == 1
        err = capsys.readouterr().err
        # Then one clear line, exit 1
        assert err == f"error: {path}: nested more than 64 levels deep: not a GuardDuty finding\n"


def test_deeply_nested_input_through_the_module_has_no_traceback(tmp_path):
    # Given JSON nested 5,000 levels deep
    path = tmp_path / "deep.json"
    path.write_text(nested(5_000, "pascal"))
    # When python -m responder previews it
    result = run_responder("preview", str(path), "--grouped")
    # Then one line on stderr and exit 1
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "nested more than 64 levels deep" in result.stderr


def test_camel_keys_handles_any_depth_without_recursion():
    # Given PascalCase keys nested 5,000 levels deep (deeper than the interpreter's stack)
    value: object = {"Leaf": [1, {"AffectedResources": {"Keep": "x"}}]}
    for _ in range(5_000):
        value = {"Level": value, "Other": ["x"]}
    # When the keys are converted
    result = camel_keys(value)
    # Then every level is converted, down to the leaf (map members kept as they are)
    for _ in range(5_000):
        assert set(result) == {"level", "other"} and result["other"] == ["x"]
        result = result["level"]
    assert result == {"leaf": [1, {"affectedResources": {"Keep": "x"}}]}


def test_camel_keys_later_duplicate_wins_as_in_a_dict():
    # Given a key and its camelCase twin (later one last)
    # Then the later value wins, as a dict literal would have it
    assert camel_keys({"Type": {"A": 1}, "type": {"B": 2}}) == {"type": {"b": 2}}
    assert camel_keys({"type": [1], "Type": [2]}) == {"type": [2]}


# --- a finding that cannot be rendered: previewed as the notifier sends it ------------------

POISON = str(FIXTURES / "unrenderable/Backdoor_EC2_OutOfRangeTimestamps.json")
POISON_ID = "p0" * 16
NOTE = {"en": "Details could not be shown", "ja": "詳細を表示できませんでした"}
FORMS = {"single": [], "grouped": ["--grouped"], "digest": ["--grouped", "--kind", "digest"]}


def in_display_zone(monkeypatch, lang):
    """English shows a display zone only when one is set; Japanese shows Asia/Tokyo by default."""
    monkeypatch.delenv("DISPLAY_TIMEZONE", raising=False)
    if lang == "en":
        monkeypatch.setenv("DISPLAY_TIMEZONE", "Asia/Tokyo")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_finding_that_cannot_be_rendered_is_previewed_minimal_beside_the_other(capsys, monkeypatch, lang, form):
    # Given the poison finding (its timestamps overflow in a display zone) and a benign one
    in_display_zone(monkeypatch, lang)
    # When they are previewed in each form
    assert main(["preview", POISON, TOR, "--lang", lang, *FORMS[form]]) == 0
    captured = capsys.readouterr()
    # Then the poison finding shows as the minimal alert, the benign one in full, and stderr says so
    assert captured.out.count(NOTE[lang]) == 1
    assert "Poison title with its own words" not in captured.out and "9999-12-31" not in captured.out
    assert POISON_ID in captured.out
    assert "The EC2 instance i-99999999 is communicating with a Tor entry node." in captured.out
    assert captured.err == (
        f"{POISON_ID}: its details could not be shown (OverflowError): "
        "shown in its minimal form, as the notifier would send it\n"
    )


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_finding_that_cannot_be_rendered_is_marked_in_the_json_records(capsys, monkeypatch, lang):
    # Given the poison finding and a benign one, in a display zone
    in_display_zone(monkeypatch, lang)
    # When they are previewed as JSON
    poison, benign = run_json(capsys, POISON, TOR, "--lang", lang)
    # Then the record names why its details are not shown; the benign one is shown in full
    assert (poison["id"], poison["degraded"], poison["notify"]) == (POISON_ID, "OverflowError", True)
    assert NOTE[lang] in poison["text"] and NOTE[lang] in poison["html"]
    assert benign["degraded"] is None and NOTE[lang] not in benign["text"]


def test_without_a_display_zone_the_same_finding_is_shown_in_full(capsys, monkeypatch):
    # Given English and no display zone: the timestamps are shown in UTC only, which works
    monkeypatch.delenv("DISPLAY_TIMEZONE", raising=False)
    # When the poison finding is previewed
    [record] = run_json(capsys, POISON, "--lang", "en")
    # Then nothing is degraded: only a finding that really fails is reduced
    assert record["degraded"] is None
    assert "Poison title with its own words" in record["text"]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("form", FORMS)
def test_a_finding_that_cannot_be_rendered_gives_no_traceback_through_the_module(form):
    # Given python -m responder in Japanese (display zone Asia/Tokyo)
    # When the poison finding is previewed in each form
    result = run_responder("preview", POISON, "--lang", "ja", *FORMS[form])
    # Then it exits 0 with the minimal alert and one note, no traceback
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "OverflowError" in result.stderr
    assert NOTE["ja"] in result.stdout


def test_doctor_defaults_to_the_doctor_modules_stack_name(aws_env, capsys):
    # Given an account (moto) without any stack
    from moto import mock_aws

    from responder.app.doctor import DEFAULT_STACK

    with mock_aws():
        # When doctor runs without --stack-name
        status = main(["doctor", "--region", "us-east-1"])
    # Then it looked for the stack the doctor module names by default
    assert status == 1
    assert f"FAIL stack: no stack {DEFAULT_STACK} in us-east-1" in capsys.readouterr().out


# --- account names (issue 13) -----------------------------------------------------------

IMPACT = str(FIXTURES / "events/Impact_S3_MaliciousIPCaller.json")  # account 973743533182


def test_preview_names_the_account_that_account_names_maps(capsys, monkeypatch):
    # Given ACCOUNT_NAMES naming the fixture's account, as the stack's AccountNames parameter would
    monkeypatch.setenv("ACCOUNT_NAMES", "973743533182=payments-prod,111122223333=other")
    # When the fixture is previewed as JSON
    [record] = run_json(capsys, IMPACT)
    # Then the record and the email name it
    assert (record["account_id"], record["account_name"]) == ("973743533182", "payments-prod")
    assert record["subject"].endswith(" payments-prod (973743533182) us-east-2")
    assert "Account: payments-prod (973743533182)\n" in record["text"]


def test_preview_without_a_name_shows_the_id_alone(capsys, monkeypatch):
    # Given no ACCOUNT_NAMES
    monkeypatch.delenv("ACCOUNT_NAMES", raising=False)
    # When previewed
    [record] = run_json(capsys, IMPACT)
    # Then the record has no name and the email the id alone
    assert (record["account_id"], record["account_name"]) == ("973743533182", None)
    assert record["subject"].endswith(" 973743533182 us-east-2")


def test_account_name_option_names_every_findings_account_single_and_grouped(capsys, monkeypatch):
    # Given two fixtures of two accounts, and ACCOUNT_NAMES naming one of them otherwise
    monkeypatch.setenv("ACCOUNT_NAMES", "973743533182=from-the-environment")
    # When previewed with --account-name, one by one and grouped
    records = run_json(capsys, IMPACT, SSH, "--account-name", "review-acct")
    grouped = run_json(capsys, IMPACT, SSH, "--grouped", "--kind", "digest", "--account-name", "review-acct")
    # Then the option names both accounts, over the environment's name
    assert [r["account_name"] for r in records] == ["review-acct", "review-acct"]
    assert "Account: review-acct (973743533182)\n" in records[0]["text"]
    assert "review-acct (973743533182) us-east-2" in grouped["text"]
    assert "review-acct (1234567891234) us-east-1" in grouped["text"]


@pytest.mark.parametrize("name", ["a\x01b", "n" * 51, "支払い", " "])
def test_account_name_option_refuses_a_name_no_account_can_have(capsys, name):
    # When previewed with a name Organizations would refuse
    with pytest.raises(SystemExit) as exit_info:
        main(["preview", IMPACT, "--account-name", name])
    # Then argparse refuses it with the rule, and nothing is previewed
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "--account-name: an account name is printable ASCII, 1-50 characters" in captured.err
    assert captured.out == ""
