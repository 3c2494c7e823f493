"""The doctor accepts what the stack deploys: its outputs, the rule at every threshold, the alarm path.

A doctor that failed a correct deployment would teach operators to ignore it; these tests run
its pure checks on the synthesized template's own documents.
"""

from __future__ import annotations

import json
from typing import Any

from infra import constants
from infra.resolve import parameter_values, resolve
from responder.doctor import OUTPUTS, KeyInfo, RuleInfo, check_alarm_policy, check_keys, check_rule


def resource(template: dict[str, Any], kind: str, prefix: str) -> tuple[str, dict[str, Any]]:
    [found] = [(n, r) for n, r in template["Resources"].items() if r["Type"] == kind and n.startswith(prefix)]
    return found


def test_every_output_the_doctor_reads_exists(template):
    # Given the synthesized stack
    # Then it has every output the doctor starts from
    assert set(OUTPUTS) <= set(template["Outputs"])


def test_the_deployed_rule_passes_at_every_threshold(template):
    # Given the rule's pattern as CloudFormation resolves it for each NotifyThreshold
    _name, rule = resource(template, "AWS::Events::Rule", "FindingsRule")
    for value in constants.THRESHOLD_VALUES:
        pattern = resolve(
            template, rule["Properties"]["EventPattern"], parameter_values(template, {"NotifyThreshold": value})
        )
        deployed = RuleInfo("rule", "ENABLED", json.dumps(pattern), ("arn:aws:lambda:us-east-1:1:function:Fn",))
        # Then the doctor's rule check passes at that threshold, and fails at another
        assert check_rule(deployed, threshold=value, function_name="Fn").status == "ok"
        other = "9.0" if value != "9.0" else "1.0"
        assert check_rule(deployed, threshold=other, function_name="Fn").status == "FAIL"


def test_the_deployed_alarm_topic_policy_and_key_pass(template):
    # Given the alarm topic's policy and its KMS key's policy as the stack deploys them
    topic_name, topic = resource(template, "AWS::SNS::Topic", "AlarmTopic")
    [policy] = [
        r["Properties"]["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic_name} in r["Properties"]["Topics"]
    ]
    key_name = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_policy = template["Resources"][key_name]["Properties"]["KeyPolicy"]
    key = KeyInfo(key_name, "Enabled", aws_managed=False, policy=json.dumps(key_policy))
    # Then the doctor finds CloudWatch allowed to publish and to use the key
    assert check_alarm_policy(json.dumps(policy)).status == "ok"
    assert check_keys(None, key).status == "ok"
