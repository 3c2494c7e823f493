"""Malware Protection for S3 scan results reach the triage function only when ObjectScanAlerts is yes,
and only the results worth a line (threats found; skipped or failed scans)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import App, Stack
from moto import mock_aws

from infra import GuardDutyResponder
from infra.resolve import parameter_values, resolve
from tests.infrastructure.conftest import named, resources

SCAN_RESULT = Path(__file__).parents[1] / "fixtures" / "corpus" / "edge"


def _scan_result(scan_status: str, result_status: str) -> dict[str, Any]:
    [path] = SCAN_RESULT.glob("MalwareProtectionObjectScanResult__*.json")
    event = copy.deepcopy(json.loads(path.read_text()))
    event["detail"]["scanStatus"] = scan_status
    event["detail"]["scanResultDetails"]["scanResultStatus"] = result_status
    return event


def _delivered(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether EventBridge (moto) delivers ``event`` to a target of a rule with ``pattern``."""
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="rule", EventPattern=json.dumps(pattern))
        events.put_targets(Rule="rule", Targets=[{"Id": "1", "Arn": arn}])
        events.put_events(
            Entries=[
                {"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}
            ]
        )
        return bool(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages"))


@pytest.mark.parametrize(
    ("scan_status", "result_status", "delivered"),
    [
        ("COMPLETED", "THREATS_FOUND", True),
        ("COMPLETED", "NO_THREATS_FOUND", False),  # the many clean objects never invoke the function
        ("SKIPPED", "UNSUPPORTED", True),
        ("FAILED", "FAILED", True),
    ],
)
def test_the_scan_rule_delivers_threats_and_scans_that_did_not_complete(
    template, scan_status, result_status, delivered
):
    # Given the deployed pattern of the scan-result rule
    _, rule = named(template, "AWS::Events::Rule", "ObjectScanRule")
    pattern = resolve(template, rule["Properties"]["EventPattern"], parameter_values(template))
    # When EventBridge matches a scan result against it
    # Then threats found, skipped and failed scans reach the function; clean results do not
    assert _delivered(pattern, _scan_result(scan_status, result_status)) is delivered


def test_the_findings_rule_never_takes_a_scan_result(template):
    # Given the findings rule's pattern as deployed with the defaults
    _, rule = named(template, "AWS::Events::Rule", "FindingsRule")
    pattern = resolve(template, rule["Properties"]["EventPattern"], parameter_values(template))
    # Then a scan result (no severity, another detail-type) is not delivered twice through it
    assert not _delivered(pattern, _scan_result("COMPLETED", "THREATS_FOUND"))


@pytest.mark.parametrize(("answer", "state"), [("no", "DISABLED"), ("yes", "ENABLED")])
def test_object_scan_alerts_enables_the_rule(template, answer, state):
    # Given the rule, which exists in every deployment (its permission and the DLQ policy name it)
    _, rule = named(template, "AWS::Events::Rule", "ObjectScanRule")
    assert template["Parameters"]["ObjectScanAlerts"]["Default"] == "no"
    # When ObjectScanAlerts is set
    params = parameter_values(template, {"ObjectScanAlerts": answer})
    # Then the rule is enabled exactly when it is yes, and it targets the triage function with the DLQ
    assert resolve(template, rule["Properties"]["State"], params) == state
    [target] = rule["Properties"]["Targets"]
    triage, _ = named(template, "AWS::Lambda::Function", "Function")
    assert target["Arn"] == {"Fn::GetAtt": [triage, "Arn"]}
    assert "DeadLetterConfig" in target


def test_a_construct_without_object_scans_builds_no_scan_rule():
    # Given the construct with plain values: scans off (the default) and on
    app = App()
    off = GuardDutyResponder(Stack(app, "Off"), "Responder", recipients=["a@example.com"])
    on = GuardDutyResponder(Stack(app, "On"), "Responder", recipients=["a@example.com"], object_scan_alerts=True)
    assembly = app.synth()
    # Then "off" has no such rule at all and "on" has it enabled
    assert off.object_scan_rule is None and on.object_scan_rule is not None
    rules = resources(assembly.get_stack_by_name("On").template, "AWS::Events::Rule")
    [scan_rule] = [r for name, r in rules.items() if name.startswith("ResponderObjectScanRule")]
    assert scan_rule["Properties"]["State"] == "ENABLED"


def test_the_rule_and_the_function_name_the_same_detail_type(template):
    # Given the detail-type the stack's rule routes and the one the triage function turns into alerts
    from infra.triggers import OBJECT_SCAN_RESULT
    from responder.domain.scan_alert import DETAIL_TYPE

    _, rule = named(template, "AWS::Events::Rule", "ObjectScanRule")
    # Then they are one name (each side writes it once; this ties them)
    assert rule["Properties"]["EventPattern"]["detail-type"] == [OBJECT_SCAN_RESULT] == [DETAIL_TYPE]
