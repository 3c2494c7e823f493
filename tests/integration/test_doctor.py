"""``python -m responder doctor`` against a deployed-like stack in moto: every FAIL path moto can produce.

The stack is created with CloudFormation in moto (topics, key, queues and rule, with the real
stack's outputs and parameters); what moto's CloudFormation cannot create (the alarm topic's
policy, email subscriptions, alarms, the detector, SES identities) is created with boto3 the
way the deployed stack has it. moto 5.2 lacks SES's GetAccount: the ``ses_account`` fixture
answers it with the shape AWS documents. moto confirms every subscription at once: a pending
one is made by marking it in moto's SNS backend, as AWS lists it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from responder.cli import main
from responder.doctor import probe_message
from tests.integration.conftest import REGION, SENDER, depth, mapping, sns_messages

ROOT = Path(__file__).resolve().parents[2]
STACK = "GuardDutyResponder"
RECIPIENTS = "secops@example.com,oncall@example.org"
OPERATOR = "ops@example.com"
FUNCTION = "GuardDutyResponder-Function1A2B3C-XYZ"
ALARMS = ("DeadLetterQueueNotEmpty", "FunctionErrors", "NotifierErrors")


def key_policy(*, cloudwatch: bool = True) -> dict[str, Any]:
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
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def template(*, floor: float = 4) -> dict[str, Any]:
    """The deployed stack's shape: its parameters, the resources moto can create, its outputs."""
    queue = {"Type": "AWS::SQS::Queue"}
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "TopicKey"}}}
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
            # A JSON string: moto stores an object as it is and then cannot serve it.
            "TopicKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": json.dumps(key_policy())}},
            "AlertTopic": topic,
            "AlarmTopic": topic,
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
        },
    }


def alarm_topic_policy(topic_arn: str, *, cloudwatch: bool = True) -> str:
    """The stack's alarm topic policy: the TLS Deny (enforce_ssl) and, fixed, the CloudWatch Allow."""
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
                "Sid": "AllowCloudWatchAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": DEFAULT_ACCOUNT_ID}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def deploy(parameters: dict[str, str] | None = None, *, floor: float = 4) -> dict[str, str]:
    """Create the deployed-like stack; return its outputs."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    values = {"Recipients": RECIPIENTS, "AlarmEmail": OPERATOR, **(parameters or {})}
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template(floor=floor)),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    )
    [stack] = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    sns = boto3.client("sns", region_name=REGION)
    sns.set_topic_attributes(
        TopicArn=out["AlarmTopicArn"], AttributeName="Policy", AttributeValue=alarm_topic_policy(out["AlarmTopicArn"])
    )
    if "sns" in values.get("Channels", "sns"):
        for address in RECIPIENTS.split(","):
            sns.subscribe(TopicArn=out["AlertTopicArn"], Protocol="email", Endpoint=address)
    if values["AlarmEmail"]:
        sns.subscribe(TopicArn=out["AlarmTopicArn"], Protocol="email", Endpoint=values["AlarmEmail"])
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for name in ALARMS:
        cloudwatch.put_metric_alarm(
            AlarmName=f"{STACK}-{name}1A2B3C-XYZ",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[out["AlarmTopicArn"]],
        )
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


def test_alarm_topic_policy_without_cloudwatch_fails(cloud, capsys):
    # Given the alarm topic policy as enforce_ssl alone leaves it: the TLS Deny only
    out = deploy()
    boto3.client("sns", region_name=REGION).set_topic_attributes(
        TopicArn=out["AlarmTopicArn"],
        AttributeName="Policy",
        AttributeValue=alarm_topic_policy(out["AlarmTopicArn"], cloudwatch=False),
    )
    # Then the policy check fails: alarms reach no one
    status, lines = doctor(capsys)
    assert lines["alarm topic policy"].startswith(
        "FAIL alarm topic policy: the alarm topic's policy does not let cloudwatch.amazonaws.com publish"
    )
    assert status == 1


def test_disabled_key_and_key_policy_without_cloudwatch_fail(cloud, capsys):
    # Given the topics' key disabled, its policy without CloudWatch
    out = deploy()
    sns = boto3.client("sns", region_name=REGION)
    key_id = sns.get_topic_attributes(TopicArn=out["AlarmTopicArn"])["Attributes"]["KmsMasterKeyId"]
    kms = boto3.client("kms", region_name=REGION)
    kms.disable_key(KeyId=key_id)
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(key_policy(cloudwatch=False)))
    # Then the key check fails on both
    status, lines = doctor(capsys)
    line = lines["topic keys"]
    assert line.startswith("FAIL topic keys: the alert topic's KMS key ")
    assert "is Disabled: SNS cannot encrypt" in line and "aws kms enable-key --key-id" in line
    assert "does not let CloudWatch use it" in line
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
    return subprocess.run(
        [sys.executable, "-m", "responder", "doctor", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "lambdas"), "PATH": "/usr/bin:/bin", **env},
        check=False,
        timeout=120,
    )


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


def test_refused_permission_is_that_checks_fail(cloud, capsys, monkeypatch):
    # Given an operator without guardduty:ListDetectors (moto enforces no IAM: AWS's answer, raised by botocore)
    from botocore.exceptions import ClientError

    from responder.doctor_aws import AwsDeployment

    def refused(_self: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListDetectors")

    deploy()
    monkeypatch.setattr(AwsDeployment, "detectors", refused)
    # Then only that check fails, with the permissions to grant
    status, lines = doctor(capsys)
    assert lines["guardduty"] == (
        "FAIL guardduty: not permitted (AccessDeniedException on ListDetectors) -> fix: grant the operator "
        "the read-only permissions in README (After deploying: doctor)"
    )
    assert statuses(lines)["rule"] == "ok" and status == 1


# --- --send-test: through the deployed notifier path ----------------------------------------------


def test_send_test_queues_a_marked_alert_the_notifier_emails_and_fires_one_alarm(cloud, capsys, monkeypatch):
    # Given a healthy deployment
    out = deploy()
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    seen: list[str] = []

    def pause(_seconds: float) -> None:  # while the alarm is held, record its state
        [alarm] = cloudwatch.describe_alarms(AlarmNamePrefix=f"{STACK}-DeadLetterQueueNotEmpty")["MetricAlarms"]
        seen.append(alarm["StateValue"])

    monkeypatch.setattr("responder.doctor.time.sleep", pause)
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
    from responder.channels import SnsChannel
    from responder.notifier import Notifier
    from responder.queues import SqsQueues
    from responder.settings import Settings

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
    from responder.classify import classify
    from responder.doctor import StackInfo
    from responder.models import Finding
    from responder.render import render
    from responder.routing import decode
    from responder.settings import Settings

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
        classify(Finding.model_validate(queued.detail), Settings(language=language)), language, queued.update
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
    monkeypatch.setattr("responder.doctor.time.sleep", lambda _seconds: None)
    # When the doctor runs with --send-test
    status, lines = doctor(capsys, "--send-test")
    # Then no alarm is set back to OK, and the test alarm says why none was sent
    assert lines["test alarm"].startswith("WARN test alarm: no alarm that notifies the alarm topic is out of ALARM")
    states = {a["StateValue"] for a in cloudwatch.describe_alarms(AlarmNamePrefix=STACK)["MetricAlarms"]}
    assert states == {"ALARM"}
    assert status == 1  # the alarms themselves fail their check


def test_expired_credentials_stop_every_check_with_one_line(cloud, capsys, monkeypatch):
    # Given credentials AWS refuses (expired session; moto accepts any, so AWS's answer is raised by botocore)
    from botocore.exceptions import ClientError

    from responder.doctor_aws import AwsDeployment

    def expired(_self: Any, _name: str) -> Any:
        raise ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "DescribeStacks")

    monkeypatch.setattr(AwsDeployment, "stack", expired)
    # When the doctor runs
    assert main(["doctor", "--region", REGION]) == 2
    # Then one line says so, and no check line is printed
    captured = capsys.readouterr()
    assert captured.err == "error: AWS refused the credentials (ExpiredToken): refresh them (aws sso login)\n"
    assert captured.out.count("\n") == 1  # the header only
