"""GuardDutyResponder inside someone else's stack: plain values, no CfnParameters, cdk-nag attached,
and two of them side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Stack, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra import GuardDutyResponder
from infra.resolve import resolve
from infra.runbooks.documents import RUNBOOKS
from responder.app.settings import NotifierSettings, TriageSettings

APPROVERS = ["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:role/SecOps"]


def _app() -> App:
    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app


@pytest.fixture(scope="module")
def foreign() -> dict[str, Any]:
    # Given a team's own stack holding two responders built from plain values, cdk-nag attached
    app = _app()
    stack = Stack(app, "SecurityTooling")
    GuardDutyResponder(
        stack, "Responder", recipients=["secops@example.com", "oncall@example.com"], runbook_approvers=APPROVERS
    )
    GuardDutyResponder(
        stack,
        "JapanResponder",
        runbooks=False,  # the runbooks' names are fixed: one set per account and Region, the first responder's
        recipients=["soc@example.jp"],
        channels="sns,ses",
        sender_address="guardduty@example.jp",
        notify_threshold=7,
        language="ja",
        include_sample_findings=False,
        suppress_accounts=["123456789012"],
        digest_minutes=30,
        alarm_email="ops@example.jp",
        account_names=["111122223333=payments-prod", "444455556666=sandbox"],
        organizations_role_arn="arn:aws:iam::999988887777:role/guardduty-org-read",
        chat_slack_workspace_id="T012ABCDEFG",
        chat_slack_channel_id="C0123ABCDEF",
    )
    # When it is synthesized (a cdk-nag finding would raise here)
    assembly = app.synth()
    return json.loads(Path(assembly.get_stack_by_name("SecurityTooling").template_full_path).read_text())


def _of(template: dict[str, Any], kind: str, prefix: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind and n.startswith(prefix)}


def _function(template: dict[str, Any], prefix: str) -> dict[str, Any]:
    [function] = _of(template, "AWS::Lambda::Function", prefix).values()
    return function


def test_both_responders_are_complete_and_apart(foreign):
    # Then each responder has its own copy of every key resource, logical IDs prefixed by its id
    # (the first one's approval topic apart: only it has runbooks, with approvers)
    for prefix, topics in (("Responder", 5), ("JapanResponder", 4)):
        counts = {
            kind: len(_of(foreign, kind, prefix))
            for kind in (
                "AWS::Lambda::Function", "AWS::DynamoDB::Table", "AWS::SNS::Topic", "AWS::KMS::Key",
                "AWS::SQS::Queue", "AWS::Events::Rule", "AWS::Logs::LogGroup", "AWS::Lambda::EventSourceMapping",
            )
        }  # fmt: skip
        assert counts == {
            "AWS::Lambda::Function": 2, "AWS::DynamoDB::Table": 1, "AWS::SNS::Topic": topics, "AWS::KMS::Key": 2,
            "AWS::SQS::Queue": 3, "AWS::Events::Rule": 2, "AWS::Logs::LogGroup": 2,
            "AWS::Lambda::EventSourceMapping": 1,
        }, prefix  # fmt: skip
    # And plain values need no parameter, condition or rule of the user's stack
    assert set(foreign.get("Parameters", {})) <= {"BootstrapVersion"}
    assert "Conditions" not in foreign
    assert set(foreign.get("Rules", {})) <= {"CheckBootstrapVersion"}


def test_decisions_on_plain_values_are_made_at_synth_time(foreign):
    # Given the first responder (defaults: sns only, threshold 4.0) and the second (sns,ses, 7, alarm email)
    # Then each recipient gets an unconditional SNS subscription, and only the operator's alarm address is added
    assert len(_of(foreign, "AWS::SNS::Subscription", "ResponderRecipientSubscription")) == 2
    assert not _of(foreign, "AWS::SNS::Subscription", "ResponderAlarmSubscription")
    assert len(_of(foreign, "AWS::SNS::Subscription", "JapanResponder")) == 2
    # And SES rights and the SES alarm exist only where ses is a channel
    assert not _of(foreign, "AWS::IAM::Policy", "ResponderSesSendPolicy")
    assert _of(foreign, "AWS::IAM::Policy", "JapanResponderSesSendPolicy")
    assert not _of(foreign, "AWS::CloudWatch::Alarm", "ResponderSesDeliveryFailures")
    assert _of(foreign, "AWS::CloudWatch::Alarm", "JapanResponderSesDeliveryFailures")
    # And the rule's floor is the literal threshold
    for prefix, floor in (("ResponderFindingsRule", 4), ("JapanResponderFindingsRule", 7)):
        [rule] = _of(foreign, "AWS::Events::Rule", prefix).values()
        assert rule["Properties"]["EventPattern"]["detail"] == {"severity": [{"numeric": [">=", floor]}]}
    [schedule] = _of(foreign, "AWS::Events::Rule", "JapanResponderDigestSchedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "rate(30 minutes)"
    # And chat exists where it is used: the second responder's Slack ids make its configuration,
    # its role and its alarm, without any Teams one; the first has the chat topic only
    assert _of(foreign, "AWS::Chatbot::SlackChannelConfiguration", "JapanResponder")
    assert not _of(foreign, "AWS::Chatbot::MicrosoftTeamsChannelConfiguration", "")
    assert not _of(foreign, "AWS::Chatbot::SlackChannelConfiguration", "ResponderSlack")
    assert not _of(foreign, "AWS::IAM::Role", "ResponderChatRole")
    assert _of(foreign, "AWS::IAM::Role", "JapanResponderChatRole")
    assert not _of(foreign, "AWS::CloudWatch::Alarm", "ResponderChatDeliveryFailures")
    assert _of(foreign, "AWS::CloudWatch::Alarm", "JapanResponderChatDeliveryFailures")
    assert _function(foreign, "ResponderNotifier")["Properties"]["Environment"]["Variables"]["CHAT_TOPIC_ARN"] == ""
    # And the organisation is read with the function's own role, or only through the role given
    assert _of(foreign, "AWS::IAM::Policy", "ResponderOrganizationsReadPolicy")
    assert not _of(foreign, "AWS::IAM::Policy", "ResponderOrganizationsRolePolicy")
    assert not _of(foreign, "AWS::IAM::Policy", "JapanResponderOrganizationsReadPolicy")
    [assume] = _of(foreign, "AWS::IAM::Policy", "JapanResponderOrganizationsRolePolicy").values()
    assert assume["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": "arn:aws:iam::999988887777:role/guardduty-org-read"}
    ]
    # And the two configurations of the account would not share a name
    [slack] = _of(foreign, "AWS::Chatbot::SlackChannelConfiguration", "JapanResponder").values()
    name = resolve(foreign, slack["Properties"]["ConfigurationName"], {"AWS::Region": "ap-northeast-1"})
    assert name.startswith("SecurityTooling-JapanResponder-SlackChannel-") and name.endswith("-ap-northeast-1")


def test_the_functions_accept_the_environment_built_from_plain_values(foreign):
    # Given the second responder's notifier environment, resolved as CloudFormation would
    env = _function(foreign, "JapanResponderNotifier")["Properties"]["Environment"]["Variables"]
    refs = {name: f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}" for name in foreign["Resources"]}
    for kind in ("Alert", "Route", "Chat"):
        [topic] = _of(foreign, "AWS::SNS::Topic", f"JapanResponder{kind}Topic")
        refs[topic] = f"arn:aws:sns:us-east-1:123456789012:{kind}"
    [parameter] = _of(foreign, "AWS::SSM::Parameter", "JapanResponderRoutesParameter")
    refs[parameter] = "CFN-JapanResponderRoutesParameter-AbCd"
    [table] = _of(foreign, "AWS::DynamoDB::Table", "JapanResponder")
    refs[table] = "responder-state"
    [config_set] = _of(foreign, "AWS::SES::ConfigurationSet", "JapanResponder")
    refs[config_set] = "responder-mail"
    refs["AWS::AccountId"] = "123456789012"
    resolved = {key: str(resolve(foreign, value, refs)) for key, value in env.items()}
    # Then the real settings read the plain values
    settings = NotifierSettings.from_env(resolved)
    assert settings.channels == ("sns", "ses")
    assert settings.threshold == 7.0
    assert settings.language == "ja"
    assert settings.include_samples is False
    assert settings.suppress_accounts == ("123456789012",)
    assert settings.digest_minutes == 30
    assert settings.configuration_set == "responder-mail"
    assert settings.account_names == {"111122223333": "payments-prod", "444455556666": "sandbox"}
    assert settings.chat_topic_arn == "arn:aws:sns:us-east-1:123456789012:Chat"  # the Slack ids turn chat on
    assert settings.route_topic_arn == "arn:aws:sns:us-east-1:123456789012:Route"
    assert settings.routes_parameter == "CFN-JapanResponderRoutesParameter-AbCd"
    # (no runbooks of its own, so no approval step of its own either)
    assert settings.runbook_approvals is False
    assert settings.responder_account == "123456789012"
    # And the triage function reads the role it assumes for the organisation
    triage_env = _function(foreign, "JapanResponderFunction")["Properties"]["Environment"]["Variables"]
    triage = TriageSettings.from_env({key: str(resolve(foreign, value, refs)) for key, value in triage_env.items()})
    assert triage.organizations_role_arn == "arn:aws:iam::999988887777:role/guardduty-org-read"


@pytest.mark.parametrize(
    ("props", "error", "message"),
    [
        ({"recipients": ["a@b..com"]}, ValueError, "recipients"),
        ({"recipients": ["a@example.com"], "channels": "ses"}, ValueError, "set SenderAddress"),
        ({"recipients": ["a@example.com"], "create_sender_identity": True}, ValueError, "set SenderAddress"),
        ({"recipients": ["a@example.com"], "notify_threshold": 4.5}, ValueError, "notify_threshold"),
        ({"recipients": ["a@example.com"], "digest_minutes": 2}, ValueError, "digest_minutes"),
        ({"recipients": ["a@example.com"], "suppress_tag": " =x"}, ValueError, "suppress_tag"),
        ({"recipients": ["a@example.com"], "account_names": ["1111=x"]}, ValueError, "account_names"),
        ({"recipients": ["a@example.com"], "organizations_role_arn": "role/x"}, ValueError, "organizations_role_arn"),
        ({"recipients": ["a@example.com"], "chat_slack_workspace_id": "T0"}, ValueError, "set ChatSlackChannelId"),
        ({"recipients": ["a@example.com"], "chat_teams_channel_id": "19%3ax%40y"}, ValueError, "set ChatTeamsTeamId"),
        ({"recipients": "a@example.com"}, ValueError, "list"),
        ({"recipients": ["a@example.com"], "recipient": ["b@example.com"]}, TypeError, "recipient"),
        ({}, TypeError, "recipients"),
    ],
)
def test_plain_values_are_refused_at_synth_as_the_deploy_would(props, error, message):
    # Given props CloudFormation would refuse as parameters (or that are not props at all)
    stack = Stack(App(), "Mistakes")
    # Then the construct refuses them before anything is built
    with pytest.raises(error, match=message):
        GuardDutyResponder(stack, "Responder", **props)


def test_tokens_become_conditions_named_under_the_construct():
    # Given a user's own parameter for the channels and the threshold
    app = _app()
    stack = Stack(app, "WithParameters")
    channels = CfnParameter(stack, "MyChannels", default="sns", allowed_values=["sns", "ses", "sns,ses"])
    threshold = CfnParameter(stack, "MyThreshold", type="Number", default="7.0")
    sender = CfnParameter(stack, "MySender", default="guardduty@example.com")
    GuardDutyResponder(
        stack,
        "Responder",
        recipients=["secops@example.com"],
        channels=channels.value_as_string,
        notify_threshold=threshold.value_as_number,
        sender_address=sender.value_as_string,
    )
    template = json.loads(Path(app.synth().get_stack_by_name("WithParameters").template_full_path).read_text())
    # Then CloudFormation decides them, with conditions prefixed by the construct's id
    conditions = set(template["Conditions"])
    assert {"UsesSns", "UsesSes", "ThresholdIs70"}.isdisjoint(conditions)
    assert any(name.startswith("ResponderUsesSes") for name in conditions)
    assert any(name.startswith("ResponderThresholdIs70") for name in conditions)
    [policy] = _of(template, "AWS::IAM::Policy", "ResponderSesSendPolicy").values()
    assert policy["Condition"].startswith("ResponderUsesSes")
    # And a plain recipient's subscription depends on the channel's condition alone
    [subscription] = _of(template, "AWS::SNS::Subscription", "ResponderRecipientSubscription").values()
    assert subscription["Condition"].startswith("ResponderUsesSns")
    assert not [name for name in conditions if "SubscribesRecipient" in name]
    # And the threshold reaches the rule as a number and the function as the parameter
    [rule] = _of(template, "AWS::Events::Rule", "ResponderFindingsRule").values()
    values = {"MyChannels": "sns", "MyThreshold": "7.0", "MySender": "guardduty@example.com"}
    assert resolve(template, rule["Properties"]["EventPattern"], values)["detail"] == {
        "severity": [{"numeric": [">=", 7.0]}]
    }
    env = _function(template, "ResponderNotifier")["Properties"]["Environment"]["Variables"]
    assert env["NOTIFY_THRESHOLD"] == {"Ref": "MyThreshold"}


def test_plain_approvers_bake_the_approval_step_in_and_a_second_responder_leaves_the_runbooks_to_the_first(foreign):
    # Given the first responder, built with two approver ARNs, and the second, built with runbooks=False
    documents = _of(foreign, "AWS::SSM::Document", "")
    by_key = {runbook.name: runbook for runbook in RUNBOOKS}
    # Then only the first has the six documents ...
    assert all(name.startswith("Responder") for name in documents) and len(documents) == 6
    assert not [name for name in _of(foreign, "AWS::IAM::Role", "JapanResponder") if "Runbook" in name]
    # ... each containment document starting with the approval step naming exactly those ARNs, decided at
    # synth time (no Fn::If), the others without one
    for name, document in documents.items():
        content = document["Properties"]["Content"]
        assert "Fn::If" not in json.dumps(content), name
        actions = [step["action"] for step in content["mainSteps"]]
        approvable = by_key[document["Properties"]["Name"]].approvable
        assert (actions[0] == "aws:approve") is approvable, name
        assert actions.count("aws:approve") == (1 if approvable else 0), name
        if approvable:
            [topic] = _of(foreign, "AWS::SNS::Topic", "ResponderApprovalTopic")
            assert content["mainSteps"][0]["inputs"]["Approvers"] == APPROVERS
            assert content["mainSteps"][0]["inputs"]["NotificationArn"] == {"Ref": topic}
    # And the notifier is told that runs wait for an approval
    env = _function(foreign, "ResponderNotifier")["Properties"]["Environment"]["Variables"]
    assert env["RUNBOOK_APPROVALS"] == "yes"
    assert (
        _function(foreign, "JapanResponderNotifier")["Properties"]["Environment"]["Variables"]["RUNBOOK_APPROVALS"]
        == "no"
    )
