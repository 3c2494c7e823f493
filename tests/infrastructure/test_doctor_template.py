"""The doctor accepts what the stack deploys: its outputs, the rule at every threshold, the alarm path.

A doctor that failed a correct deployment would teach operators to ignore it; these tests run
its pure checks on the synthesized template's own documents, resolved as CloudFormation would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import constants
from infra.resolve import parameter_values, resolve
from responder.app import doctor
from responder.app.doctor import OUTPUTS, check_alarm_policy, check_keys, check_rule
from responder.domain.deployment import AlarmInfo, KeyInfo, RuleInfo
from tests.infrastructure.conftest import named

ACCOUNT = "123456789012"
REGION = "us-east-1"


def alarm_arn(logical_id: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{logical_id}"


def deployed(template: dict[str, Any], channels: str) -> dict[str, Any]:
    """Parameter, pseudo-parameter and attribute values of the stack deployed with ``Channels``."""
    values = parameter_values(template, {"Channels": channels})
    values |= {"AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::Region": REGION}
    topic_name, _topic = named(template, "AWS::SNS::Topic", "AlarmTopic")
    values[topic_name] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic_name}"
    for name, r in template["Resources"].items():
        if r["Type"] == "AWS::CloudWatch::Alarm":
            values[f"{name}.Arn"] = alarm_arn(name)
    return values


def test_every_output_the_doctor_reads_exists(template):
    # Given the synthesized stack
    # Then it has every output the doctor starts from
    assert set(OUTPUTS) <= set(template["Outputs"])


def test_the_doctor_subscribes_as_many_recipients_as_the_stack():
    # The Lambda package must not import infra: the doctor keeps its own copy of the number
    assert doctor.SNS_SUBSCRIPTIONS == constants.MAX_SNS_SUBSCRIPTIONS


def test_the_deployed_rule_passes_at_every_threshold(template):
    # Given the rule's pattern as CloudFormation resolves it for each NotifyThreshold
    _name, rule = named(template, "AWS::Events::Rule", "FindingsRule")
    for value in constants.THRESHOLD_VALUES:
        pattern = resolve(
            template, rule["Properties"]["EventPattern"], parameter_values(template, {"NotifyThreshold": value})
        )
        deployed_rule = RuleInfo("rule", "ENABLED", json.dumps(pattern), ("arn:aws:lambda:us-east-1:1:function:Fn",))
        # Then the doctor's rule check passes at that threshold, and fails at another
        assert check_rule(deployed_rule, threshold=value, function_name="Fn").status == "ok"
        other = "9.0" if value != "9.0" else "1.0"
        assert check_rule(deployed_rule, threshold=other, function_name="Fn").status == "FAIL"


@pytest.mark.parametrize("channels", ["sns", "ses", "sns,ses"])
def test_the_deployed_alarm_topic_policy_admits_every_alarm_of_the_stack_and_no_other(template, channels):
    # Given the alarm topic's policy as CloudFormation resolves it, and the alarms it creates, for Channels
    values = deployed(template, channels)
    topic_name, _topic = named(template, "AWS::SNS::Topic", "AlarmTopic")
    [document] = [
        r["Properties"]["PolicyDocument"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic_name} in r["Properties"]["Topics"]
    ]
    policy = json.dumps(resolve(template, document, values))
    topic_arn = values[topic_name]
    alarms = [
        AlarmInfo(name, alarm_arn(name), "OK", True, tuple(resolve(template, r["Properties"]["AlarmActions"], values)))
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and ("Condition" not in r or resolve(template, {"Condition": r["Condition"]}, values))
    ]
    names = [a.name for a in alarms]
    # (each channel in use has its own delivery-failure alarm, and the policy must admit it too)
    assert {c.capitalize() for c in channels.split(",")} == {
        n.removesuffix(n[n.index("DeliveryFailures") :]) for n in names if "DeliveryFailures" in n
    }
    # Then the doctor finds CloudWatch allowed to publish for each of them
    result = check_alarm_policy(policy, topic_arn=topic_arn, account=ACCOUNT, alarms=alarms, stack_alarms=names)
    assert (result.status, result.detail) == (
        "ok",
        f"cloudwatch.amazonaws.com may publish for every alarm that notifies the alarm topic ({len(alarms)} alarms)",
    )
    # And refused for an alarm of the operator's own pointed at the topic, or one of another account
    mine = AlarmInfo("Mine", alarm_arn("Mine"), "OK", True, (topic_arn,))
    stranger = AlarmInfo(names[0], alarm_arn(names[0]).replace(ACCOUNT, "210987654321"), "OK", True, (topic_arn,))
    for alarm in (mine, stranger):
        refused = check_alarm_policy(policy, topic_arn=topic_arn, account=ACCOUNT, alarms=[alarm], stack_alarms=[])
        assert refused.status == "FAIL" and alarm.name in refused.detail


def test_the_deployed_topic_keys_pass(template):
    # Given both topics' KMS keys, their policies as CloudFormation resolves them
    values = deployed(template, "sns")
    keys = {}
    for label, prefix in (("alert", "AlertTopic"), ("alarm", "AlarmTopic")):
        _name, topic = named(template, "AWS::SNS::Topic", prefix)
        key_name = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        policy = resolve(template, template["Resources"][key_name]["Properties"]["KeyPolicy"], values)
        keys[label] = KeyInfo(key_name, "Enabled", aws_managed=False, policy=json.dumps(policy))
    # Then they are two keys, and the doctor finds both enabled and CloudWatch allowed to use the alarm key
    assert keys["alert"].key_id.startswith("TopicKey") and keys["alarm"].key_id.startswith("AlarmTopicKey")
    assert check_keys(keys["alert"], keys["alarm"], account=ACCOUNT).status == "ok"
    # And the alert topic's key (finding data) does not let CloudWatch in
    assert check_keys(None, keys["alert"], account=ACCOUNT).status == "FAIL"
