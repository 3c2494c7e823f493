"""The forwarding stack of a Region other than the home Region (``-c home_region=...``): the
responder's rules, their target the home Region's default bus; one alarm; no function, key or table."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra import constants
from infra.app import build_app
from infra.resolve import resolve
from tests.infrastructure.conftest import named, only, resources

ACCOUNT = "111122223333"
HOME, ORIGIN = "us-east-1", "eu-west-1"
HOME_BUS = f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/default"
RELEASED = json.loads((Path(__file__).parent / "released_resources.json").read_text())["resources"]
CONTEXT = {"regions": f"{HOME},{ORIGIN}", "home_region": HOME}


@pytest.fixture(scope="module")
def forwarder() -> dict[str, Any]:
    """eu-west-1's stack, as `cdk deploy --all -c regions=us-east-1,eu-west-1 -c home_region=us-east-1`
    synthesizes it in account 111122223333 (cdk-nag attached: a finding fails the synthesis).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_DEFAULT_ACCOUNT", ACCOUNT)
        app = build_app(CONTEXT)
        return Template.from_stack(app.node.find_child(f"GuardDutyResponder-{ORIGIN}")).to_json()


def _arn(template: dict[str, Any], fragment: Any) -> Any:
    return resolve(template, fragment, {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT})


def test_a_forwarder_has_no_function_key_table_or_log_group(forwarder):
    # Given the forwarder's resources by type
    kinds = Counter(resource["Type"] for resource in forwarder["Resources"].values())
    # Then exactly the rules, their role and dead-letter queue, one alarm and its topic, and the Region's
    # runbooks (six documents, their six roles, the approval topic with its subscription and publish policy)
    assert kinds == {
        "AWS::Events::Rule": 2,  # findings, scan results
        "AWS::IAM::Role": 1 + 6,
        "AWS::IAM::Policy": 1 + 1,
        "AWS::SQS::Queue": 1,
        "AWS::SQS::QueuePolicy": 1,
        "AWS::SNS::Topic": 1 + 1,
        "AWS::SNS::TopicPolicy": 1 + 1,
        "AWS::SNS::Subscription": 1 + 1,
        "AWS::CloudWatch::Alarm": 1,
        "AWS::SSM::Document": 6,
    }
    assert not {"AWS::Lambda::Function", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Logs::LogGroup"} & set(kinds)


def test_the_rules_keep_the_full_stacks_logical_ids_patterns_and_states(forwarder, template):
    # Given the full stack's template (the home Region's, and what this Region ran before)
    for prefix in ("FindingsRule", "ObjectScanRule"):
        home_id, home_rule = named(template, "AWS::Events::Rule", prefix)
        forward_id, forward_rule = named(forwarder, "AWS::Events::Rule", prefix)
        # Then the forwarder's rule has the same logical ID (a conversion updates it in place) ...
        assert forward_id == home_id
        # ... and the same pattern, severity floor and enabling condition, on the same conditions
        for key in ("EventPattern", "State"):
            assert forward_rule["Properties"][key] == home_rule["Properties"][key], (prefix, key)
    for condition in [f"ThresholdIs{v}0" for v in range(2, 10)] + ["AlertsOnObjectScans", "HasAlarmEmail"]:
        assert forwarder["Conditions"][condition] == template["Conditions"][condition], condition


def test_the_released_resources_it_keeps_have_their_ids_and_types(forwarder):
    # Given the resources a converted stack keeps rather than replaces
    kept = ["FindingsRuleA07B560A", "DeadLetterQueue9F481546", "DeadLetterQueuePolicyB1FB890C", "AlarmTopicD01E77F9",
            "AlarmTopicPolicy309DB5F8", "AlarmSubscription"]  # fmt: skip
    # Then each is in the forwarder under its released logical ID and type
    for logical_id in kept:
        assert forwarder["Resources"][logical_id]["Type"] == RELEASED[logical_id], logical_id


def test_the_alarm_subscription_is_unchanged_so_it_stays_confirmed(forwarder, template):
    # Given the AlarmEmail subscription of the full stack and of the forwarder
    # Then they are the same resource (no replacement, no new confirmation email)
    assert forwarder["Resources"]["AlarmSubscription"] == template["Resources"]["AlarmSubscription"]


def test_the_rules_target_the_home_default_bus_through_the_forward_role(forwarder):
    role_id, _ = named(forwarder, "AWS::IAM::Role", "ForwardRole")
    dlq_id, _ = only(forwarder, "AWS::SQS::Queue")
    for rule_id, rule in resources(forwarder, "AWS::Events::Rule").items():
        # Given each rule's one target
        [target] = rule["Properties"]["Targets"]
        # Then it is the home Region's default bus, put on with the forwarder's role, failures to the DLQ
        assert _arn(forwarder, target["Arn"]) == HOME_BUS, rule_id
        assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}, rule_id
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}, rule_id
        assert set(target) == {"Arn", "Id", "RoleArn", "DeadLetterConfig"}, rule_id


def test_the_forward_role_may_only_put_events_on_the_home_bus(forwarder):
    # Given the role and every policy in the stack
    role_id, role = named(forwarder, "AWS::IAM::Role", "ForwardRole")
    _, policy = named(forwarder, "AWS::IAM::Policy", "ForwardRole")
    # Then EventBridge alone assumes it, no managed policy is attached ...
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role["Properties"]
    # ... and its one policy allows events:PutEvents on the home bus, nothing else
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {**statement, "Resource": _arn(forwarder, statement["Resource"])} == {
        "Action": "events:PutEvents",
        "Effect": "Allow",
        "Resource": HOME_BUS,
    }


def test_one_alarm_watches_the_dead_letter_queue_and_alone_may_publish(forwarder):
    # Given the one alarm, the dead-letter queue and the alarm topic
    alarm_id, alarm = only(forwarder, "AWS::CloudWatch::Alarm")
    dlq_id, _ = only(forwarder, "AWS::SQS::Queue")
    topic_id, topic = named(forwarder, "AWS::SNS::Topic", "AlarmTopic")
    _, topic_policy = named(forwarder, "AWS::SNS::TopicPolicy", "AlarmTopic")
    # Then it is ForwardingFailed: a message visible in the DLQ, to the alarm topic
    properties = alarm["Properties"]
    assert alarm_id.startswith("ForwardingFailed")
    assert (properties["Namespace"], properties["MetricName"], properties["Statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert properties["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert properties["TreatMissingData"] == "notBreaching"
    assert properties["AlarmActions"] == [{"Ref": topic_id}]
    # The topic: SSL only, no key (alarm names and states only), CloudWatch may publish for this alarm only
    assert "KmsMasterKeyId" not in topic["Properties"]
    deny, allow = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"] == {"aws:SourceArn": [{"Fn::GetAtt": [alarm_id, "Arn"]}]}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_the_dead_letter_queue_is_encrypted_kept_14_days_ssl_only_and_fed_by_the_stack_alone(forwarder):
    dlq_id, dlq = only(forwarder, "AWS::SQS::Queue")
    _, policy = only(forwarder, "AWS::SQS::QueuePolicy")
    topic_id, _ = named(forwarder, "AWS::SNS::Topic", "AlarmTopic")
    # Given the queue and its policy
    assert policy["Properties"]["Queues"] == [{"Ref": dlq_id}]
    assert dlq["Properties"] == {"MessageRetentionPeriod": 14 * 24 * 3600, "SqsManagedSseEnabled": True}
    deny, *allows = policy["Properties"]["PolicyDocument"]["Statement"]
    # Then plain HTTP is refused, and only the two rules, the alarm topic and the approval topic may send to it
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    sources = [(s["Principal"]["Service"], s["Condition"]["ArnEquals"]["aws:SourceArn"]) for s in allows]
    senders = {
        (
            service,
            json.dumps(arn if isinstance(arn, dict) and {"Fn::GetAtt", "Ref"} & set(arn) else _arn(forwarder, arn)),
        )
        for service, arn in sources
    }
    rules = resources(forwarder, "AWS::Events::Rule")
    approvals = f"arn:aws:sns:{ORIGIN}:{ACCOUNT}:{constants.APPROVAL_TOPIC_NAME}"
    assert senders == {
        *(("events.amazonaws.com", json.dumps({"Fn::GetAtt": [rule_id, "Arn"]})) for rule_id in rules),
        ("sns.amazonaws.com", json.dumps({"Ref": topic_id})),
        ("sns.amazonaws.com", json.dumps(approvals)),
    }
    assert {s["Action"] for s in allows} == {"sqs:SendMessage"}


def test_it_takes_the_responders_parameters_it_needs_as_declared(forwarder, template):
    # Given the forwarder's parameters (a converted stack keeps their previous values)
    parameters = {name: p for name, p in forwarder["Parameters"].items() if name != "BootstrapVersion"}
    # Then they are the threshold, the scan-result switch, the alarm address and the runbooks' approvers,
    # declared as in the full stack
    assert sorted(parameters) == ["AlarmEmail", "NotifyThreshold", "ObjectScanAlerts", "RunbookApprovers"]
    for name, parameter in parameters.items():
        assert parameter == template["Parameters"][name], name


def test_the_nag_packs_check_the_forwarder():
    # Given the app with a home Region, and a resource that breaks an AwsSolutions rule in a forwarder
    app = build_app(CONTEXT)
    forwarding = app.node.find_child(f"GuardDutyResponder-{ORIGIN}")
    assert isinstance(forwarding, Stack)
    sqs.Queue(forwarding, "PlainQueue")  # no SSL enforcement, no DLQ
    # Then synthesis refuses it (the forwarder's own resources pass: the fixture synthesized it)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(forwarding)
