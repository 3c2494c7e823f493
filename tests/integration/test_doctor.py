"""``python -m responder doctor`` against a deployed-like stack in moto: every FAIL path moto can produce.

The stack is created with CloudFormation in moto (the two topic keys, topics, queues and rule,
with the real stack's outputs and parameters). What moto's CloudFormation cannot create is
created with boto3 the way the deployed stack has it: the alarms (AWS::CloudWatch::Alarm, from
the template's own definitions, then listed among the stack's resources in moto's CloudFormation
backend, where ListStackResources finds them as it finds CloudFormation's), the alarm topic's
policy (the TLS Deny and CloudWatch's Allow for the stack's account and alarm ARNs), email
subscriptions, the detector and SES identities. moto 5.2 lacks SES's GetAccount: the
``ses_account`` fixture answers it with the shape AWS documents. moto confirms every
subscription at once: a pending one is made by marking it in moto's SNS backend, as AWS lists
it. AWS refusals moto cannot produce are answered through botocore (``botocore_hooks``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from responder.app.doctor import RUNBOOK_NAMES, probe_message
from responder.cli import main
from tests.conftest import run_responder
from tests.integration.conftest import REGION, SENDER, depth, mapping, sns_messages

ROOT = Path(__file__).resolve().parents[2]
STACK = "GuardDutyResponder"
RECIPIENTS = "secops@example.com,oncall@example.org"
OPERATOR = "ops@example.com"
FUNCTION = "GuardDutyResponder-Function1A2B3C-XYZ"
ALARMS = ("DeadLetterQueueNotEmpty", "FunctionErrors", "NotifierErrors")
OTHER_ACCOUNT = "210987654321"

# moto's CloudFormation warns for each resource type it skips (the alarms, created by deploy()).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS..CloudWatch..Alarm")


def alarm_name(logical_id: str) -> str:
    """The name CloudFormation gives an alarm of the stack."""
    return f"{STACK}-{logical_id}1A2B3C-XYZ"


def key_policy(*, cloudwatch: bool = True, account: str = DEFAULT_ACCOUNT_ID) -> dict[str, Any]:
    """A topic key's policy: the account's root and, for the alarm topic's key, CloudWatch from ``account``."""
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if cloudwatch:
        statements.append(
            {
                "Sid": "AllowCloudWatchAlarmsToUseTheKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def template(*, floor: float = 4, runbooks: bool = False) -> dict[str, Any]:
    """The deployed stack's shape: its parameters, the resources moto can create, its outputs
    (``RunbookNames`` with ``runbooks``: the documents themselves are created by ``deploy_runbooks``)."""
    queue = {"Type": "AWS::SQS::Queue"}
    function_arn = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:{FUNCTION}"
    text = {"Type": "String", "Default": ""}
    return {
        "Parameters": {
            "NotifyThreshold": {"Type": "String", "Default": "4.0"},
            "Channels": {"Type": "String", "Default": "sns"},
            # A CommaDelimitedList in the real stack; moto would describe it as a Python list's repr.
            "Recipients": {"Type": "String"},
            "SenderAddress": text,
            "SesMaxSendRate": {"Type": "String", "Default": "1"},
            "AlarmEmail": text,
            "Language": {"Type": "String", "Default": "en"},
        },
        "Resources": {
            # Key policies as JSON strings: moto stores an object as it is and then cannot serve it.
            # The alert topic's key protects finding data; the alarm topic has its own, which CloudWatch may use.
            "TopicKey": {
                "Type": "AWS::KMS::Key",
                "Properties": {"KeyPolicy": json.dumps(key_policy(cloudwatch=False))},
            },
            "AlarmTopicKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": json.dumps(key_policy())}},
            "AlertTopic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "TopicKey"}}},
            "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "AlarmTopicKey"}}},
            "DeadLetterQueue": queue,
            "ImmediateQueue": queue,
            "DigestQueue": queue,
            "FindingsRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "State": "ENABLED",
                    "EventPattern": {
                        "source": ["aws.guardduty"],
                        "detail-type": ["GuardDuty Finding"],
                        "detail": {"severity": [{"numeric": [">=", floor]}]},
                    },
                    "Targets": [{"Id": "Target0", "Arn": function_arn}],
                },
            },
            **{
                name: {
                    "Type": "AWS::CloudWatch::Alarm",
                    "Properties": {
                        "Namespace": "AWS/SQS",
                        "MetricName": "ApproximateNumberOfMessagesVisible",
                        "Statistic": "Maximum",
                        "Period": 300,
                        "EvaluationPeriods": 1,
                        "Threshold": 1,
                        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                        "TreatMissingData": "notBreaching",
                        "AlarmActions": [{"Ref": "AlarmTopic"}],
                    },
                }
                for name in ALARMS
            },
        },
        "Outputs": {
            "AlertTopicArn": {"Value": {"Ref": "AlertTopic"}},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
            "FunctionName": {"Value": FUNCTION},
            "NotifierName": {"Value": "GuardDutyResponder-Notifier4D5E6F-XYZ"},
            "ImmediateQueueUrl": {"Value": {"Ref": "ImmediateQueue"}},
            "DigestQueueUrl": {"Value": {"Ref": "DigestQueue"}},
            "DeadLetterQueueUrl": {"Value": {"Ref": "DeadLetterQueue"}},
            "RuleName": {"Value": {"Ref": "FindingsRule"}},
            **({"RunbookNames": {"Value": ",".join(RUNBOOK_NAMES)}} if runbooks else {}),
        },
    }


def alarm_topic_policy(
    topic_arn: str, alarm_arns: list[str], *, cloudwatch: bool = True, account: str = DEFAULT_ACCOUNT_ID
) -> str:
    """The stack's alarm topic policy: the TLS Deny (enforce_ssl) and CloudWatch's Allow for its alarms."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AllowPublishThroughSSLOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if cloudwatch:
        statements.append(
            {
                "Sid": "AllowThisStacksAlarmsToPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnEquals": {"aws:SourceArn": alarm_arns},
                },
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def create_stack_alarms(body: dict[str, Any], alarm_topic: str) -> list[str]:
    """Create the template's alarms as CloudFormation would (moto's CloudFormation skips them) and
    list them among the stack's resources in moto, as CloudFormation lists its own; their ARNs.
    """
    from moto.cloudformation.models import cloudformation_backends
    from moto.cloudwatch.models import cloudwatch_backends

    [stack] = [s for s in cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].stacks.values() if s.name == STACK]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    arns = []
    for logical_id, resource in body["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        name = alarm_name(logical_id)
        cloudwatch.put_metric_alarm(AlarmName=name, **{**resource["Properties"], "AlarmActions": [alarm_topic]})
        alarm = cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION].alarms[name]
        alarm.cf_resource_type, alarm.logical_resource_id, alarm.physical_resource_id = (
            resource["Type"],
            logical_id,
            name,
        )
        stack.resource_map._parsed_resources[logical_id] = alarm
        arns.append(alarm.alarm_arn)
    return arns


def deploy(parameters: dict[str, str] | None = None, *, floor: float = 4, runbooks: bool = False) -> dict[str, str]:
    """Create the deployed-like stack; return its outputs."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    values = {"Recipients": RECIPIENTS, "AlarmEmail": OPERATOR, **(parameters or {})}
    body = template(floor=floor, runbooks=runbooks)
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    )
    [stack] = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    alarm_arns = create_stack_alarms(body, out["AlarmTopicArn"])
    sns = boto3.client("sns", region_name=REGION)
    sns.set_topic_attributes(
        TopicArn=out["AlarmTopicArn"],
        AttributeName="Policy",
        AttributeValue=alarm_topic_policy(out["AlarmTopicArn"], alarm_arns),
    )
    if "sns" in values.get("Channels", "sns"):
        for address in RECIPIENTS.split(","):
            sns.subscribe(TopicArn=out["AlertTopicArn"], Protocol="email", Endpoint=address)
    if values["AlarmEmail"]:
        sns.subscribe(TopicArn=out["AlarmTopicArn"], Protocol="email", Endpoint=values["AlarmEmail"])
    boto3.client("guardduty", region_name=REGION).create_detector(
        Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES"
    )
    return out


@pytest.fixture
def ses_account(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """SES GetAccount for moto (which lacks it), answering with this dict: production access by default."""
    from moto.sesv2.responses import SESV2Response

    account: dict[str, Any] = {
        "ProductionAccessEnabled": True,
        "SendingEnabled": True,
        "SendQuota": {"Max24HourSend": 50_000.0, "MaxSendRate": 14.0, "SentLast24Hours": 10.0},
        "EnforcementStatus": "HEALTHY",
    }
    monkeypatch.setattr(SESV2Response, "get_account", lambda _self: json.dumps(account), raising=False)
    return account


@pytest.fixture
def cloud(aws_env: None, ses_account: dict[str, Any]) -> Iterator[None]:
    with mock_aws():
        yield


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str]]:
    """Run the doctor; its exit status and each check's line, by check name."""
    status = main(["doctor", "--region", REGION, *args])
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines()[1:-1]:
        check = line[5:].split(":", 1)[0]
        lines[check] = line
    return status, lines


def statuses(lines: dict[str, str]) -> dict[str, str]:
    return {check: line.split(" ", 1)[0] for check, line in lines.items()}


# --- a healthy deployment ---------------------------------------------------------------------


def test_a_healthy_deployment_passes_every_check(cloud, capsys):
    # Given a stack deployed as the README says, subscriptions confirmed, detector at 15 minutes
    deploy()
    # When the doctor checks it
    status, lines = doctor(capsys)
    # Then every check is ok and the exit status is 0
    assert statuses(lines) == {
        "stack": "ok",
        "rule": "ok",
        "alert subscriptions": "ok",
        "alarm subscriptions": "ok",
        "alarm topic policy": "ok",
        "topic keys": "ok",
        "queues": "ok",
        "alarms": "ok",
        "guardduty": "ok",
    }
    assert status == 0
    assert "passes severity >= 4 (NotifyThreshold) to " + FUNCTION in lines["rule"]
    assert "3 alarms, none in ALARM" in lines["alarms"]
    assert lines["alarm topic policy"].endswith("every alarm that notifies the alarm topic (3 alarms)")


def test_ses_channel_checks_sender_and_account(cloud, capsys, ses_account):
    # Given the SES channel with a verified sender and production access
    deploy({"Channels": "sns,ses", "SenderAddress": SENDER, "SesMaxSendRate": "14"})
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
    # When the doctor checks it
    status, lines = doctor(capsys)
    # Then the SES checks pass
    assert statuses(lines)["ses sender"] == "ok" and statuses(lines)["ses account"] == "ok"
    assert status == 0


# --- every FAIL moto can produce ------------------------------------------------------------------


def test_missing_stack_fails_and_stops(cloud, capsys):
    # Given no stack at all
    # When the doctor checks
    status, lines = doctor(capsys, "--stack-name", "Nope")
    # Then one FAIL naming the stack and the Region, nothing else checked
    assert status == 1
    assert list(lines) == ["stack"]
    assert lines["stack"].startswith(f"FAIL stack: no stack Nope in {REGION} -> fix: deploy it")


def test_disabled_rule_fails(cloud, capsys):
    # Given the rule disabled
    out = deploy()
    boto3.client("events", region_name=REGION).disable_rule(Name=out["RuleName"])
    # Then the rule check fails with the command that enables it
    status, lines = doctor(capsys)
    assert status == 1
    assert lines["rule"].startswith(f"FAIL rule: {out['RuleName']} is DISABLED")
    assert f"aws events enable-rule --name {out['RuleName']}" in lines["rule"]


def test_rule_pattern_not_at_the_threshold_fails(cloud, capsys):
    # Given NotifyThreshold 7.0 but a rule still filtering at 4
    deploy({"NotifyThreshold": "7.0"}, floor=4)
    # Then the rule check fails naming both
    status, lines = doctor(capsys)
    assert status == 1
    assert "passes severity >= 4 but NotifyThreshold is 7.0" in lines["rule"]


def test_pending_subscription_warns_and_none_confirmed_fails(cloud, capsys):
    # Given one alert recipient who has not confirmed, and the operator who has not either
    from moto.sns.models import sns_backends

    out = deploy()
    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    for subscription in backend.subscriptions.values():
        if subscription.endpoint in ("oncall@example.org", OPERATOR):
            subscription.arn = "PendingConfirmation"  # how SNS lists an unconfirmed subscription
    # When the doctor checks
    status, lines = doctor(capsys)
    # Then the alert topic warns (one still confirmed), the alarm topic fails (nobody confirmed)
    assert lines["alert subscriptions"].startswith(
        "WARN alert subscriptions: 1 pending confirmation (oncall@example.org)"
    )
    assert "aws sns confirm-subscription --topic-arn " + out["AlertTopicArn"] in lines["alert subscriptions"]
    assert lines["alarm subscriptions"].startswith(
        "FAIL alarm subscriptions: none of 1 subscription confirmed: it reaches no one"
    )
    assert status == 1


def test_unsubscribed_recipient_and_no_alarm_email(cloud, capsys):
    # Given a recipient who unsubscribed, and no AlarmEmail
    out = deploy({"AlarmEmail": ""})
    sns = boto3.client("sns", region_name=REGION)
    [gone] = [
        s["SubscriptionArn"]
        for s in sns.list_subscriptions_by_topic(TopicArn=out["AlertTopicArn"])["Subscriptions"]
        if s["Endpoint"] == "secops@example.com"
    ]
    sns.unsubscribe(SubscriptionArn=gone)
    # Then the alert topic warns with the subscribe command, the alarm topic warns nobody listens
    status, lines = doctor(capsys)
    assert "not subscribed: secops@example.com (unsubscribed?)" in lines["alert subscriptions"]
    assert lines["alarm subscriptions"].startswith("WARN alarm subscriptions: nobody is subscribed")
    assert "AlarmEmail=" in lines["alarm subscriptions"]
    assert status == 0


def test_unverified_sender_fails(cloud, capsys):
    # Given the SES channel and a sender never verified
    deploy({"Channels": "ses", "SenderAddress": SENDER})
    # Then the sender check fails with how to verify it; the SNS subscriptions are not checked
    status, lines = doctor(capsys)
    assert status == 1
    assert lines["ses sender"].startswith(f"FAIL ses sender: {SENDER} is not verified in SES in {REGION}")
    assert "alert subscriptions" not in lines


def test_sandbox_with_unverified_recipient_and_rate_above_the_account(cloud, capsys, ses_account):
    # Given an account in the SES sandbox, one recipient verified, SesMaxSendRate above its rate
    ses_account.update(
        ProductionAccessEnabled=False,
        SendQuota={"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 190.0},
    )
    deploy({"Channels": "ses", "SenderAddress": SENDER, "SesMaxSendRate": "5"})
    sesv2 = boto3.client("sesv2", region_name=REGION)
    for identity in (SENDER, "secops@example.com"):
        sesv2.create_email_identity(EmailIdentity=identity)
    # Then the account check fails on the unverified recipient and warns on rate and quota
    status, lines = doctor(capsys)
    line = lines["ses account"]
    assert line.startswith("FAIL ses account: in the SES sandbox, recipients not verified (SES refuses them): ")
    assert "oncall@example.org" in line and "secops@example.com" not in line.split("->")[0]
    assert "SesMaxSendRate 5/s is above the account's 1/s" in line
    assert "190 of 200 emails of the 24-hour quota used" in line
    assert status == 1


def test_sandbox_with_every_recipient_verified_warns(cloud, capsys, ses_account):
    # Given the sandbox, but the recipients' domains verified
    ses_account["ProductionAccessEnabled"] = False
    deploy({"Channels": "ses", "SenderAddress": SENDER})
    sesv2 = boto3.client("sesv2", region_name=REGION)
    for identity in ("example.com", "example.org"):
        sesv2.create_email_identity(EmailIdentity=identity)
    # Then the sandbox is a warning only
    status, lines = doctor(capsys)
    assert lines["ses account"].startswith("WARN ses account: in the SES sandbox: verified recipients only")
    assert statuses(lines)["ses sender"] == "ok"
    assert status == 0


def test_ses_sending_paused_fails(cloud, capsys, ses_account):
    ses_account["SendingEnabled"] = False
    deploy({"Channels": "ses", "SenderAddress": SENDER})
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
    status, lines = doctor(capsys)
    assert lines["ses account"].startswith("FAIL ses account: sending is paused for this account")
    assert status == 1


def stack_alarm_arns() -> list[str]:
    alarms = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNamePrefix=STACK)["MetricAlarms"]
    return [alarm["AlarmArn"] for alarm in alarms]


def set_alarm_topic_policy(out: dict[str, str], document: str) -> None:
    boto3.client("sns", region_name=REGION).set_topic_attributes(
        TopicArn=out["AlarmTopicArn"], AttributeName="Policy", AttributeValue=document
    )


EVERY_ALARM = ", ".join(sorted(map(alarm_name, ALARMS)))


def with_deny(topic_arn: str, document: str, condition: dict[str, Any], sid: str = "Guard") -> str:
    """``document`` with a Deny of publishing to ``topic_arn`` for everyone under ``condition`` appended."""
    policy = json.loads(document)
    deny = {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": topic_arn}
    return json.dumps(policy | {"Statement": [*policy["Statement"], deny | {"Condition": condition}]})


@pytest.mark.parametrize(
    ("policy", "refused"),
    [
        pytest.param(
            lambda topic, arns: alarm_topic_policy(topic, arns, cloudwatch=False), EVERY_ALARM, id="tls-deny-only"
        ),
        pytest.param(
            lambda topic, arns: alarm_topic_policy(topic, arns, account=OTHER_ACCOUNT), EVERY_ALARM, id="other-account"
        ),
        pytest.param(
            lambda topic, arns: alarm_topic_policy(topic, arns[1:]),
            alarm_name("DeadLetterQueueNotEmpty"),
            id="an-alarm-left-out",
        ),
        pytest.param(
            lambda topic, arns: with_deny(
                topic, alarm_topic_policy(topic, arns), {"StringNotEquals": {"aws:SourceAccount": OTHER_ACCOUNT}}
            ),
            EVERY_ALARM,
            id="deny-all-but-another-account",
        ),
    ],
)
def test_alarm_topic_policy_that_refuses_the_stacks_alarms_fails(cloud, capsys, policy, refused):
    # Given the alarm topic policy as enforce_ssl alone leaves it, or CloudWatch allowed only for
    # another account, or for the stack's alarm ARNs but the first (DeadLetterQueueNotEmpty), or
    # the deployed policy with a Deny of every request not from another account
    out = deploy()
    set_alarm_topic_policy(out, policy(out["AlarmTopicArn"], sorted(stack_alarm_arns())))
    # When the doctor checks
    status, lines = doctor(capsys)
    # Then the policy check fails, naming exactly the alarms whose actions SNS refuses
    assert lines["alarm topic policy"] == (
        "FAIL alarm topic policy: the alarm topic's policy does not let cloudwatch.amazonaws.com publish for "
        f"the stack's alarms {refused}: their actions fail (not authorized to perform SNS:Publish) and they "
        "reach no one -> fix: npx cdk deploy --revert-drift (a plain deploy leaves changes made outside "
        "CloudFormation)"
    )
    assert status == 1


def test_alarm_topic_policy_with_a_deny_it_cannot_evaluate_warns(cloud, capsys):
    # Given the deployed alarm topic policy with a Deny on a condition key the doctor does not know
    out = deploy()
    document = alarm_topic_policy(out["AlarmTopicArn"], sorted(stack_alarm_arns()))
    set_alarm_topic_policy(
        out, with_deny(out["AlarmTopicArn"], document, {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}, "OrgOnly")
    )
    # When the doctor checks
    status, lines = doctor(capsys)
    # Then the policy check warns, naming that Deny: it may refuse CloudWatch, so it is never ok
    assert lines["alarm topic policy"].startswith(
        "WARN alarm topic policy: the alarm topic's policy lets cloudwatch.amazonaws.com publish, but Deny "
        "statements the doctor cannot evaluate may refuse it: OrgOnly -> fix: check that they do not apply"
    )
    assert status == 0


def test_alarms_not_of_the_stack_that_notify_its_topic_are_named_as_refused(cloud, capsys):
    # Given, besides the stack's alarms, a metric alarm and a composite alarm of the operator's own
    # whose actions notify the stack's alarm topic (whose policy admits only the stack's alarms),
    # and one that notifies a topic whose ARN merely starts with the alarm topic's
    from moto.cloudwatch.models import cloudwatch_backends

    out = deploy()
    topic = out["AlarmTopicArn"]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for name, action in (("MyCpuHigh", topic), ("MyOtherTopic", topic + "-other")):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/EC2",
            MetricName="CPUUtilization",
            Statistic="Average",
            Period=300,
            EvaluationPeriods=1,
            Threshold=90,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[action],
        )
    # moto lacks PutCompositeAlarm: its backend creates the composite as its PutMetricAlarm does with AlarmRule
    cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION].put_metric_alarm(
        name="MyComposite",
        namespace="",
        metric_name="",
        comparison_operator="",
        evaluation_periods=0,
        period=0,
        threshold=0,
        statistic="",
        description="",
        dimensions=[],
        alarm_actions=[topic],
        rule='ALARM("MyCpuHigh")',
    )
    # When the doctor checks
    status, lines = doctor(capsys)
    # Then the policy check names both of them as refused, with what to do; the stack's own pass
    line = lines["alarm topic policy"]
    assert line == (
        "FAIL alarm topic policy: alarms not of this stack notify the alarm topic, whose policy refuses them: "
        "MyComposite, MyCpuHigh -> fix: point them at a topic of your own (the stack's topic admits only the "
        "stack's alarms)"
    )
    # And the alarms check counts them with the stack's, but not the alarm of the other topic
    assert "5 alarms, none in ALARM" in lines["alarms"]
    assert status == 1


def test_alarm_deleted_outside_cloudformation_fails(cloud, capsys):
    # Given one of the stack's alarms deleted in CloudWatch (CloudFormation still lists it)
    deploy()
    boto3.client("cloudwatch", region_name=REGION).delete_alarms(AlarmNames=[alarm_name("FunctionErrors")])
    # When the doctor checks
    status, lines = doctor(capsys)
    # Then the alarms check names it, with the deploy that restores it
    assert lines["alarms"] == (
        f"FAIL alarms: alarms of the stack deleted outside CloudFormation: {alarm_name('FunctionErrors')} -> fix: "
        "npx cdk deploy --revert-drift (a plain deploy leaves changes made outside CloudFormation)"
    )
    assert status == 1


def test_disabled_key_and_key_policy_without_cloudwatch_fail(cloud, capsys):
    # Given the alert topic's key disabled, and the alarm topic's own key with a policy without CloudWatch
    out = deploy()
    sns = boto3.client("sns", region_name=REGION)
    alert_key, alarm_key = (
        sns.get_topic_attributes(TopicArn=out[name])["Attributes"]["KmsMasterKeyId"]
        for name in ("AlertTopicArn", "AlarmTopicArn")
    )
    assert alert_key != alarm_key
    kms = boto3.client("kms", region_name=REGION)
    kms.disable_key(KeyId=alert_key)
    kms.put_key_policy(KeyId=alarm_key, PolicyName="default", Policy=json.dumps(key_policy(cloudwatch=False)))
    # Then the key check fails on both, naming each key
    status, lines = doctor(capsys)
    line = lines["topic keys"]
    assert line.startswith(f"FAIL topic keys: the alert topic's KMS key {alert_key} is Disabled: SNS cannot encrypt")
    assert f"aws kms enable-key --key-id {alert_key}" in line
    assert f"the alarm topic's key {alarm_key} does not let CloudWatch use it" in line
    assert status == 1


def test_alarm_key_policy_for_another_account_fails(cloud, capsys):
    # Given the alarm topic's key letting CloudWatch in only for requests from another account
    out = deploy()
    sns = boto3.client("sns", region_name=REGION)
    alarm_key = sns.get_topic_attributes(TopicArn=out["AlarmTopicArn"])["Attributes"]["KmsMasterKeyId"]
    policy = json.dumps(key_policy(account=OTHER_ACCOUNT))
    boto3.client("kms", region_name=REGION).put_key_policy(KeyId=alarm_key, PolicyName="default", Policy=policy)
    # Then the key check fails: CloudWatch's requests for this account's alarms are refused
    status, lines = doctor(capsys)
    assert lines["topic keys"].startswith(
        f"FAIL topic keys: the alarm topic's key {alarm_key} does not let CloudWatch use it"
    )
    assert status == 1


def test_dead_letter_queue_not_empty_fails(cloud, capsys):
    # Given two messages in the dead-letter queue
    out = deploy()
    sqs = boto3.client("sqs", region_name=REGION)
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=out["DeadLetterQueueUrl"], MessageBody=body)
    # Then the queues check fails, counting them
    status, lines = doctor(capsys)
    assert "2 messages in the dead-letter queue" in lines["queues"]
    assert lines["queues"].startswith("FAIL") and status == 1


def test_deleted_queue_fails(cloud, capsys):
    out = deploy()
    boto3.client("sqs", region_name=REGION).delete_queue(QueueUrl=out["DigestQueueUrl"])
    status, lines = doctor(capsys)
    assert lines["queues"].startswith("FAIL queues: ") and "GetQueueAttributes" in lines["queues"]
    assert status == 1


def test_alarm_in_alarm_and_alarm_with_actions_disabled_fail(cloud, capsys):
    # Given one alarm firing and one whose actions were disabled
    deploy()
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    cloudwatch.set_alarm_state(AlarmName=f"{STACK}-NotifierErrors1A2B3C-XYZ", StateValue="ALARM", StateReason="t")
    cloudwatch.disable_alarm_actions(AlarmNames=[f"{STACK}-FunctionErrors1A2B3C-XYZ"])
    # Then the alarms check names both
    status, lines = doctor(capsys)
    line = lines["alarms"]
    assert line.startswith(f"FAIL alarms: in ALARM: {STACK}-NotifierErrors1A2B3C-XYZ")
    assert f"alarms that notify no one: {STACK}-FunctionErrors1A2B3C-XYZ" in line
    assert status == 1


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("none", f"FAIL guardduty: GuardDuty is not enabled in {REGION}"),
        ("disabled", "FAIL guardduty: detector "),
        ("six_hours", "WARN guardduty: detector "),
    ],
)
def test_detector_missing_disabled_or_slow(cloud, capsys, setup, expected):
    # Given the detector deleted, disabled, or publishing updates every 6 hours (GuardDuty's default)
    deploy()
    guardduty = boto3.client("guardduty", region_name=REGION)
    [detector] = guardduty.list_detectors()["DetectorIds"]
    if setup == "none":
        guardduty.delete_detector(DetectorId=detector)
    elif setup == "disabled":
        guardduty.update_detector(DetectorId=detector, Enable=False)
    else:
        guardduty.update_detector(DetectorId=detector, FindingPublishingFrequency="SIX_HOURS")
    # Then the GuardDuty check says so, with the command that fixes it
    status, lines = doctor(capsys)
    assert lines["guardduty"].startswith(expected)
    if setup == "six_hours":
        assert "reach the responder up to 6 hours late" in lines["guardduty"]
        assert f"--detector-id {detector} --finding-publishing-frequency FIFTEEN_MINUTES" in lines["guardduty"]
        assert status == 0
    else:
        assert status == 1


# --- AWS unreachable: one line, no traceback ---------------------------------------------------


def run_module(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_responder("doctor", *args, env=env)


def no_files(tmp_path: Path) -> dict[str, str]:
    """No credentials or config from files, the metadata service or SSO."""
    return {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOME": str(tmp_path),
    }


def test_no_credentials_is_one_line(tmp_path):
    # Given a Region but no credentials anywhere
    result = run_module(no_files(tmp_path), "--region", REGION)
    # Then one line, exit 2, no traceback
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no AWS credentials: configure the AWS CLI")
    assert result.stderr.count("\n") == 1


def test_no_region_is_one_line(tmp_path):
    result = run_module({**no_files(tmp_path), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert result.returncode == 2
    assert result.stderr == "error: no AWS Region: pass --region or set AWS_REGION\n"


def test_unreachable_endpoint_is_one_line(tmp_path):
    # Given credentials and an endpoint nobody listens on (loopback, a port just released)
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **no_files(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    # When the doctor runs
    result = run_module(env, "--region", REGION)
    # Then one line naming the problem, exit 2
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: AWS endpoint unreachable: ")
    assert result.stderr.count("\n") == 1


def test_refused_permission_is_that_checks_fail(cloud, capsys, botocore_hooks):
    # Given an operator without guardduty:ListDetectors (moto enforces no IAM: AWS's answer, raised by botocore)
    deploy()
    botocore_hooks.refuse("guardduty", "ListDetectors", "AccessDeniedException", status=403)
    # Then only that check fails, with the permissions to grant
    status, lines = doctor(capsys)
    assert lines["guardduty"] == (
        "FAIL guardduty: not permitted (AccessDeniedException on ListDetectors) -> fix: grant the operator "
        "the read-only permissions in README (After deploying: doctor)"
    )
    assert statuses(lines)["rule"] == "ok" and status == 1


# --- runbooks ------------------------------------------------------------------------------------


def deploy_runbooks(names: tuple[str, ...] = RUNBOOK_NAMES) -> None:
    """The stack's SSM Automation documents (a one-step body: the doctor reads only names and versions)."""
    ssm = boto3.client("ssm", region_name=REGION)
    content = {
        "schemaVersion": "0.3",
        "mainSteps": [{"name": "Wait", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
    }
    for name in names:
        ssm.create_document(Name=name, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON")


def test_runbooks_deployed_pass(cloud, capsys):
    # Given a stack with runbooks (its RunbookNames output) and the six documents in its Region
    deploy(runbooks=True)
    deploy_runbooks()
    # When the doctor checks it
    status, lines = doctor(capsys)
    # Then the runbooks check passes
    assert lines["runbooks"] == f"ok   runbooks: 6 runbooks deployed in {REGION}, each at its latest version"
    assert status == 0


def test_a_runbook_missing_fails_and_one_not_at_its_latest_version_warns(cloud, capsys):
    # Given the isolate runbook missing, and the archive runbook updated without its new version made the default
    isolate, *others = RUNBOOK_NAMES
    archive = next(name for name in others if name.endswith("ArchiveFinding"))
    deploy(runbooks=True)
    deploy_runbooks(tuple(others))
    content = {
        "schemaVersion": "0.3",
        "mainSteps": [{"name": "Two", "action": "aws:sleep", "inputs": {"Duration": "PT2S"}}],
    }
    boto3.client("ssm", region_name=REGION).update_document(
        Name=archive, Content=json.dumps(content), DocumentVersion="$LATEST", DocumentFormat="JSON"
    )
    # When the doctor checks it
    status, lines = doctor(capsys)
    # Then FAIL naming the missing runbook, and the exact command that promotes the archive runbook's version 2
    line = lines["runbooks"]
    assert line.startswith(f"FAIL runbooks: runbooks not deployed in {REGION}: {isolate} ")
    assert f"{archive} runs version 1, not its latest (2)" in line
    assert f"aws ssm update-document-default-version --name {archive} --document-version 2 --region {REGION}" in line
    assert status == 1


def test_a_stack_without_runbooks_is_not_checked_for_them(cloud, capsys):
    # Given a stack without the RunbookNames output (deployed without runbooks, or before them)
    deploy()
    # Then no runbooks check
    _, lines = doctor(capsys)
    assert "runbooks" not in lines


def test_refused_describe_document_fails_that_check_only(cloud, capsys, botocore_hooks):
    # Given an operator without ssm:DescribeDocument
    deploy(runbooks=True)
    deploy_runbooks()
    botocore_hooks.refuse("ssm", "DescribeDocument", "AccessDeniedException", status=400)
    # Then only the runbooks check fails, with the permissions to grant
    status, lines = doctor(capsys)
    assert lines["runbooks"].startswith("FAIL runbooks: not permitted (AccessDeniedException on DescribeDocument)")
    assert statuses(lines)["guardduty"] == "ok" and status == 1


# --- --send-test: through the deployed notifier path ----------------------------------------------


def test_send_test_queues_a_marked_alert_the_notifier_emails_and_fires_one_alarm(cloud, capsys, monkeypatch):
    # Given a healthy deployment
    out = deploy()
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    seen: list[str] = []

    def pause(_seconds: float) -> None:  # while the alarm is held, record its state
        [alarm] = cloudwatch.describe_alarms(AlarmNamePrefix=f"{STACK}-DeadLetterQueueNotEmpty")["MetricAlarms"]
        seen.append(alarm["StateValue"])

    monkeypatch.setattr("responder.app.doctor.time.sleep", pause)
    # When the doctor runs with --send-test
    status, lines = doctor(capsys, "--send-test")
    # Then one test finding waits on the immediate queue and the alarm went to ALARM and back to OK
    assert status == 0
    assert depth(out["ImmediateQueueUrl"]) == 1
    assert lines["test alert"].startswith(
        "ok   test alert: queued: expect the email '[SAMPLE] [GuardDuty HIGH 8.0] "
        "Test:Notification/GuardDutyResponderDoctorTest"
    )
    assert seen == ["ALARM"]
    [alarm] = cloudwatch.describe_alarms(AlarmNamePrefix=f"{STACK}-DeadLetterQueueNotEmpty")["MetricAlarms"]
    assert alarm["StateValue"] == "OK"
    assert f"expect an 'ALARM: ...' email at {OPERATOR}" in lines["test alarm"]
    # And the deployed notifier's path reads it and emails it, marked as a test
    from responder.adapters.channels import SnsChannel
    from responder.adapters.queues import SqsQueues
    from responder.app.notifier import Notifier
    from responder.domain.settings import Settings

    notifier = Notifier(
        Settings(channels=("sns",), topic_arn=out["AlertTopicArn"]), [SnsChannel(out["AlertTopicArn"])], SqsQueues()
    )
    mapping({"immediate": out["ImmediateQueueUrl"], "dlq": out["DeadLetterQueueUrl"]}).drain(notifier.handle, None)
    [(subject, message)] = sns_messages(out["AlertTopicArn"])
    assert subject.startswith("[SAMPLE] [GuardDuty HIGH 8.0] Test:Notification/GuardDutyResponderDoctorTest")
    assert "TEST ALERT from python -m responder doctor --send-test: no action needed" in message
    assert depth(out["ImmediateQueueUrl"]) == 0 and depth(out["DeadLetterQueueUrl"]) == 0


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_test_message_decodes_and_renders(language):
    # Given the test alert's queue message, as the doctor builds it
    from responder.domain.classify import classify
    from responder.domain.deployment import StackInfo
    from responder.domain.i18n import Locale
    from responder.domain.models import Finding
    from responder.domain.render import render
    from responder.domain.routing import decode
    from responder.domain.settings import Settings

    stack = StackInfo(
        STACK,
        f"arn:aws:cloudformation:{REGION}:{DEFAULT_ACCOUNT_ID}:stack/{STACK}/1",
        "CREATE_COMPLETE",
        {},
        {"Language": language},
        (),
    )
    body, prepared = probe_message(stack, REGION, finding_id="doctortest1", now=datetime(2026, 11, 30, tzinfo=UTC))
    # When the notifier's decoder reads it
    queued = decode(body)
    email = render(
        classify(Finding.model_validate(queued.detail), Settings(language=language)), Locale(language), queued.update
    )
    # Then it is a first email of a sample finding, marked as a test, in the stack's language
    assert queued.key == "doctortest1@2026-11-30T00:00:00.000Z"
    assert queued.update.reason == "first" and queued.update.previous is None
    assert email.subject == prepared.email.subject
    assert email.subject.startswith("[SAMPLE] [GuardDuty HIGH 8.0] Test:Notification/GuardDutyResponderDoctorTest")
    assert "TEST ALERT" in email.text and "TEST ALERT" in email.html
    if language == "ja":
        assert email.local_subject is not None and email.local_subject.startswith("[サンプル]")


def test_send_test_leaves_alarms_already_in_alarm_alone(cloud, capsys, monkeypatch):
    # Given every alarm of the stack in ALARM (a real problem being worked on)
    deploy()
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for name in ALARMS:
        cloudwatch.set_alarm_state(AlarmName=f"{STACK}-{name}1A2B3C-XYZ", StateValue="ALARM", StateReason="real")
    monkeypatch.setattr("responder.app.doctor.time.sleep", lambda _seconds: None)
    # When the doctor runs with --send-test
    status, lines = doctor(capsys, "--send-test")
    # Then no alarm is set back to OK, and the test alarm says why none was sent
    assert lines["test alarm"].startswith("WARN test alarm: no alarm that notifies the alarm topic is out of ALARM")
    states = {a["StateValue"] for a in cloudwatch.describe_alarms(AlarmNamePrefix=STACK)["MetricAlarms"]}
    assert states == {"ALARM"}
    assert status == 1  # the alarms themselves fail their check


def test_expired_credentials_stop_every_check_with_one_line(cloud, capsys, botocore_hooks):
    # Given credentials AWS refuses (expired session; moto accepts any, so AWS's answer is raised by botocore)
    deploy()
    botocore_hooks.refuse("cloudformation", "DescribeStacks", "ExpiredToken", "The security token has expired", 403)
    # When the doctor runs
    assert main(["doctor", "--region", REGION]) == 2
    # Then one line says so, and no check line is printed
    captured = capsys.readouterr()
    assert captured.err == "error: AWS refused the credentials (ExpiredToken): refresh them (aws sso login)\n"
    assert captured.out.count("\n") == 1  # the header only


def test_alarms_are_asked_for_by_name_and_by_action_metric_and_composite(cloud, botocore_hooks):
    # Given 150 alarms of a stack, an alarm of another stack, and a composite alarm on the alarm topic
    from moto.cloudwatch.models import cloudwatch_backends

    from responder.adapters.doctor_aws import AwsDeployment

    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alarms")["TopicArn"]
    names = [f"{STACK}-Alarm{index}" for index in range(150)]
    backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION]
    for name, actions in [*((name, [topic]) for name in names), ("SomeoneElses", [])]:
        backend.put_metric_alarm(name, "N", "M", "GreaterThanThreshold", 1, 60, 1.0, "Sum", "", [], actions)
    # moto lacks PutCompositeAlarm: its backend creates the composite as its PutMetricAlarm does with AlarmRule
    backend.put_metric_alarm("Composite", "", "", "", 0, 0, 0.0, "", "", [], [topic], rule='ALARM("x")')
    calls = botocore_hooks.record("cloudwatch", "DescribeAlarms")
    # When the adapter reads the stack's alarms
    found = AwsDeployment.connect(REGION).alarms(names, topic)
    # Then it has every one of them and the composite, not the other stack's
    assert sorted(a.name for a in found) == sorted([*names, "Composite"])
    [composite] = [a for a in found if a.name == "Composite"]
    assert composite.arn == f"arn:aws:cloudwatch:{REGION}:{DEFAULT_ACCOUNT_ID}:alarm:Composite"
    # And it asked by name, at most 100 a call, and by the topic's action, each time for both alarm types
    # (without AlarmTypes AWS lists metric alarms only), never for every alarm of the account
    assert [sorted(call) for call in calls] == [["AlarmNames", "AlarmTypes"]] * 2 + [["ActionPrefix", "AlarmTypes"]]
    assert [len(call["AlarmNames"]) for call in calls[:2]] == [100, 50]
    assert calls[2]["ActionPrefix"] == topic
    assert all(call["AlarmTypes"] == ["MetricAlarm", "CompositeAlarm"] for call in calls)
