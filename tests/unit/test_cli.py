"""The preview tool: every accepted input shape, every format, clean failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from responder.cli import camel_keys, main
from tests.conftest import FIXTURES, load

ROOT = Path(__file__).resolve().parents[2]
SSH = str(FIXTURES / "events/UnauthorizedAccess_EC2_SSHBruteForce.json")
TOR = str(FIXTURES / "events/UnauthorizedAccess_EC2_TorClient.json")
CONTRACT = {
    "id", "type", "severity", "severity_band", "threat_purpose", "resource_type", "threat_family",
    "detection_mechanism", "artifact", "action_type", "connection_direction", "notify", "subject",
    "text", "html", "steps",
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
    result = subprocess.run(
        [sys.executable, "-m", "responder", "preview", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "lambdas"), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
