"""The stack for an organisation, in the synthesized template: the routes parameter and topic, the
chat topic and its Slack and Microsoft Teams channel configurations, the Organizations rights of
the triage function, and their alarms and outputs.

Deploy-time decisions are resolved as CloudFormation would (infra/resolve.py) for the parameter
values of each case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra import GuardDutyResponder, constants
from infra.resolve import UnresolvableError, check_rules, parameter_values, resolve
from tests.infrastructure.conftest import named, only, resources

ROOT = Path(__file__).resolve().parents[2]
SLACK = {"ChatSlackWorkspaceId": "T012ABCDEFG", "ChatSlackChannelId": "C0123ABCDEF"}
TEAMS = {
    "ChatTeamsTeamId": "0123abcd-0123-4567-89ab-0123456789ab",
    "ChatTeamsTenantId": "89abcdef-0123-4567-89ab-0123456789ab",
    "ChatTeamsChannelId": "19%3a0123456789abcdef%40thread.tacv2",
}
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333"}
CONFIGURATIONS = {
    "SlackChannel": "AWS::Chatbot::SlackChannelConfiguration",
    "TeamsChannel": "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
}


def _params(template: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, Any]:
    return {**parameter_values(template, {"Recipients": "secops@example.com", **(overrides or {})}), **PSEUDO}


def _exists(template: dict[str, Any], resource: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether CloudFormation creates the resource for these parameter values."""
    return "Condition" not in resource or bool(resolve(template, {"Condition": resource["Condition"]}, params))


# --- parameters and rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        {"ChatSlackWorkspaceId": "T012ABCDEFG"},
        {"ChatSlackChannelId": "C0123ABCDEF"},
        {"ChatTeamsTeamId": TEAMS["ChatTeamsTeamId"]},
        {"ChatTeamsTenantId": TEAMS["ChatTeamsTenantId"]},
        {"ChatTeamsChannelId": TEAMS["ChatTeamsChannelId"]},
        {"ChatTeamsTeamId": TEAMS["ChatTeamsTeamId"], "ChatTeamsTenantId": TEAMS["ChatTeamsTenantId"]},
        {"ChatTeamsTenantId": TEAMS["ChatTeamsTenantId"], "ChatTeamsChannelId": TEAMS["ChatTeamsChannelId"]},
        {"ChatTeamsTeamId": TEAMS["ChatTeamsTeamId"], "ChatTeamsChannelId": TEAMS["ChatTeamsChannelId"]},
    ],
)
def test_a_channel_configuration_with_an_id_missing_is_refused_before_anything_is_created(template, given):
    # Given the ids of a Slack or Teams configuration, one or more missing
    # When CloudFormation checks the template's rules
    # Then it refuses the deploy (a half-given configuration would fail at the resource, after the rest)
    with pytest.raises(UnresolvableError, match="set Chat"):
        check_rules(template, _params(template, given))


@pytest.mark.parametrize("given", [{}, SLACK, TEAMS, {**SLACK, **TEAMS}])
def test_complete_channel_ids_pass_the_rules(template, given):
    # Given no chat ids, or every id of one or both configurations
    # Then the rules let the deploy through
    check_rules(template, _params(template, given))


# --- chat ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "slack", "teams", "chat"),
    [
        ({}, False, False, False),
        ({"ChatNotifications": "yes"}, False, False, True),
        (SLACK, True, False, True),
        (TEAMS, False, True, True),
        ({**SLACK, **TEAMS}, True, True, True),
    ],
)
def test_chat_resources_exist_where_the_parameters_ask_for_them(template, given, slack, teams, chat):
    # Given a deploy with these chat parameters
    params = _params(template, given)
    # Then the chat topic always exists (a configuration made in the console can use it) ...
    _name, topic = named(template, "AWS::SNS::Topic", "ChatTopic")
    assert _exists(template, topic, params)
    # ... each channel configuration exists only with its own ids, and the channels' role with either
    assert _exists(template, template["Resources"]["SlackChannel"], params) is slack
    assert _exists(template, template["Resources"]["TeamsChannel"], params) is teams
    _name, role = named(template, "AWS::IAM::Role", "ChatRole")
    assert _exists(template, role, params) is (slack or teams)
    # ... the notifier publishes to the chat topic exactly when chat is on, and its failures are alarmed then
    _name, notifier = named(template, "AWS::Lambda::Function", "Notifier")
    chat_topic_arn = notifier["Properties"]["Environment"]["Variables"]["CHAT_TOPIC_ARN"]
    topic_name, _ = named(template, "AWS::SNS::Topic", "ChatTopic")
    arn = "arn:aws:sns:eu-west-1:111122223333:chat"
    assert resolve(template, chat_topic_arn, {**params, topic_name: arn}) == (arn if chat else "")
    _name, alarm = named(template, "AWS::CloudWatch::Alarm", "ChatDeliveryFailures")
    assert _exists(template, alarm, params) is chat


@pytest.mark.parametrize("logical_id", list(CONFIGURATIONS))
def test_each_channel_configuration_is_read_only_receives_the_chat_topic_and_logs_errors(template, logical_id):
    # Given a channel configuration
    configuration = template["Resources"][logical_id]
    assert configuration["Type"] == CONFIGURATIONS[logical_id]
    props = configuration["Properties"]
    params = _params(template, {**SLACK, **TEAMS})
    # Then its guardrail is ReadOnlyAccess (without a guardrail the service applies AdministratorAccess)
    assert resolve(template, props["GuardrailPolicies"], params) == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    # And the channel role is used (no per-user roles), it posts what the chat topic carries, errors are logged
    role, _ = named(template, "AWS::IAM::Role", "ChatRole")
    topic, _ = named(template, "AWS::SNS::Topic", "ChatTopic")
    assert props["IamRoleArn"] == {"Fn::GetAtt": [role, "Arn"]}
    assert props["UserRoleRequired"] is False
    assert props["SnsTopicArns"] == [{"Ref": topic}]
    assert props["LoggingLevel"] == "ERROR"
    # And its name is the service's shape, and differs between Regions (names are not per Region)
    names = {
        resolve(template, props["ConfigurationName"], {**params, "AWS::Region": r}) for r in ("eu-west-1", "us-east-1")
    }
    assert len(names) == 2
    assert all(
        len(name) <= 128 and set(name) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for name in names
    )


def test_the_ids_reach_the_configurations_unchanged(template):
    # Given a deploy with both configurations
    role, _ = named(template, "AWS::IAM::Role", "ChatRole")
    topic, _ = named(template, "AWS::SNS::Topic", "ChatTopic")
    params = {
        **_params(template, {**SLACK, **TEAMS}),
        f"{role}.Arn": "arn:aws:iam::111122223333:role/chat",
        topic: "arn:aws:sns:eu-west-1:111122223333:chat",
    }
    slack = resolve(template, template["Resources"]["SlackChannel"]["Properties"], params)
    teams = resolve(template, template["Resources"]["TeamsChannel"]["Properties"], params)
    # Then each id is where the resource takes it
    assert (slack["SlackWorkspaceId"], slack["SlackChannelId"]) == tuple(SLACK.values())
    assert (teams["TeamId"], teams["TeamsTenantId"], teams["TeamsChannelId"]) == tuple(TEAMS.values())


def test_nothing_in_the_template_grants_administrator_access(template):
    # Given the whole template
    text = json.dumps(template)
    # Then no guardrail, role or policy names AdministratorAccess, nor any managed policy at all
    assert "AdministratorAccess" not in text
    assert "ManagedPolicyArns" not in text


def test_the_chat_role_can_do_nothing(template):
    # Given the channels' role
    role_name, role = named(template, "AWS::IAM::Role", "ChatRole")
    # Then only the chat service may assume it ...
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"}}
    ]
    # ... and it has no permission: no inline policy, no managed policy, no policy attached to it
    assert set(role["Properties"]) == {"AssumeRolePolicyDocument", "Description"}
    attached = [
        n for n, p in resources(template, "AWS::IAM::Policy").items() if {"Ref": role_name} in p["Properties"]["Roles"]
    ]
    assert attached == []


def test_no_webhook_anywhere(template):
    # Given the synthesized template (its parameters included) and the stack's code
    text = json.dumps(template).lower()
    code = "\n".join(path.read_text() for path in sorted((ROOT / "infra").glob("*.py"))).lower()
    # Then chat goes through the service's own integration: no webhook URL or secret to leak or rotate
    assert "webhook" not in text
    for host in ("hooks.slack.com", "outlook.office", "webhook.office.com"):
        assert host not in text
        assert host not in code


# --- routes --------------------------------------------------------------------------------


def test_the_routes_parameter_keeps_its_first_value_forever(template):
    # Given the routes parameter the operator edits in place (aws ssm put-parameter --overwrite)
    _name, parameter = named(template, "AWS::SSM::Parameter", "RoutesParameter")
    # Then its template properties are exactly these, written here and not taken from the code:
    # CloudFormation updates a resource whose template properties changed, and would then write
    # this value over the operator's routes at the next deploy. Never change this test.
    assert parameter["Properties"] == {
        "Type": "String",
        "Tier": "Standard",
        "Value": '{"version":1,"routes":[]}',
        "Description": "GuardDuty Responder routes to owners (JSON, see the README); edit the value, not the stack",
    }
    assert parameter["Properties"]["Value"] == constants.ROUTES_INITIAL_VALUE
    # And it is not a parameter CloudFormation may replace or delete with a changed name
    assert "Name" not in parameter["Properties"]


def test_the_first_routes_value_is_a_valid_routes_file_that_routes_nothing(template):
    from responder.domain.owners import DEFAULT_ONLY, parse_routes

    # Given the value the stack writes first
    _name, parameter = named(template, "AWS::SSM::Parameter", "RoutesParameter")
    # When the notifier's own parser reads it
    routes = parse_routes(parameter["Properties"]["Value"])
    # Then it is valid (no RoutesFallback alarm after a fresh deploy) and sends everything to the recipients
    assert routes == DEFAULT_ONLY


def test_the_notifier_reads_the_routes_parameter_and_publishes_route_copies(template):
    # Given the notifier's environment
    _name, notifier = named(template, "AWS::Lambda::Function", "Notifier")
    env = notifier["Properties"]["Environment"]["Variables"]
    parameter, _ = named(template, "AWS::SSM::Parameter", "RoutesParameter")
    route_topic, _ = named(template, "AWS::SNS::Topic", "RouteTopic")
    # Then it always has both (unconditional: an empty routes file routes nothing)
    assert env["ROUTES_PARAMETER"] == {"Ref": parameter}
    assert env["ROUTE_TOPIC_ARN"] == {"Ref": route_topic}
    # And the triage function has neither
    _name, triage = named(template, "AWS::Lambda::Function", "Function")
    assert not {"ROUTES_PARAMETER", "ROUTE_TOPIC_ARN", "CHAT_TOPIC_ARN"} & set(
        triage["Properties"]["Environment"]["Variables"]
    )


@pytest.mark.parametrize("prefix", ["RouteTopic", "ChatTopic"])
def test_the_route_and_chat_topics_carry_finding_data_encrypted_over_tls_only(template, prefix):
    # Given the topic
    topic_name, topic = named(template, "AWS::SNS::Topic", prefix)
    key, _ = named(template, "AWS::KMS::Key", "TopicKey")
    # Then it is encrypted with the alert topic's key (which only the notifier's role may use) ...
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    # ... and refuses plain HTTP
    [policy] = [
        p
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": topic_name}]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


# --- Organizations ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["", "arn:aws:iam::999988887777:role/guardduty-org-read"])
def test_the_triage_reads_the_organisation_itself_or_only_through_the_given_role(template, role):
    # Given a deploy with or without a role in the management account
    params = _params(template, {"OrganizationsRoleArn": role})
    triage_role, _ = named(template, "AWS::IAM::Role", "FunctionRole")
    _name, read = named(template, "AWS::IAM::Policy", "OrganizationsReadPolicy")
    _name, assume = named(template, "AWS::IAM::Policy", "OrganizationsRolePolicy")
    # Then exactly one of the two policies exists, on the triage function's role only
    assert _exists(template, read, params) is (role == "")
    assert _exists(template, assume, params) is (role != "")
    for policy in (read, assume):
        assert policy["Properties"]["Roles"] == [{"Ref": triage_role}]
    # And each holds exactly its statement: the read-only calls the directory makes, or assuming that role
    assert read["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": [
                "organizations:DescribeAccount",
                "organizations:ListParents",
                "organizations:ListTagsForResource",
            ],
            "Effect": "Allow",
            "Resource": "*",
        }
    ]
    [statement] = assume["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Effect"]) == ("sts:AssumeRole", "Allow")
    if role:
        assert resolve(template, statement["Resource"], params) == role
    # And the notifier has no Organizations or STS right at all
    notifier_role, _ = named(template, "AWS::IAM::Role", "NotifierRole")
    notifier_policies = [
        p
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": notifier_role} in p["Properties"]["Roles"]
    ]
    actions = {
        action
        for policy in notifier_policies
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not {a for a in actions if a.startswith(("organizations:", "sts:"))}


def test_the_read_policy_allows_what_the_directory_calls():
    from infra.functions import ORGANIZATIONS_READ_ACTIONS

    # Given every Organizations call of the triage function's directory (its source: paginated or direct)
    source = (ROOT / "lambdas/responder/adapters/organizations.py").read_text()
    calls = set(re.findall(r'_call\(\s*progress,\s*"(\w+)"', source))
    # Then the read policy allows exactly those (one missing would leave every account unnamed)
    assert calls
    as_actions = {"organizations:" + "".join(part.capitalize() for part in call.split("_")) for call in calls}
    assert as_actions == set(ORGANIZATIONS_READ_ACTIONS)


# --- alarms and outputs ----------------------------------------------------------------------


def test_a_broken_routes_file_alarms_on_the_metric_the_notifier_emits(template, capsys):
    from responder.adapters.observability import emit
    from responder.adapters.routes import FALLBACK_METRIC

    # Given the EMF record the notifier writes when it cannot use the routes file (real code, its own name)
    capsys.readouterr()
    emit(FALLBACK_METRIC)
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    [dimension_names] = directive["Dimensions"]
    # Then the RoutesFallback alarm watches exactly that namespace, metric and dimensions, always
    _name, alarm = named(template, "AWS::CloudWatch::Alarm", "RoutesFallback")
    props = alarm["Properties"]
    assert "Condition" not in alarm
    assert directive["Namespace"] == props["Namespace"]
    assert [m["Name"] for m in directive["Metrics"]] == [props["MetricName"]] == ["RoutesFallback"]
    assert {name: record[name] for name in dimension_names} == {d["Name"]: d["Value"] for d in props["Dimensions"]}
    # And one fallback in one period is enough; no data is not a breach
    assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert props["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(("given", "count"), [({}, 10), ({"ChatNotifications": "yes"}, 11), (SLACK, 11)])
def test_the_alarm_topic_takes_the_new_alarms_and_only_those_created(template, given, count):
    # Given the alarm topic's policy for a deploy with the SNS channel, with or without chat
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    params = {
        **_params(template, given),
        **{f"{n}.Arn": f"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{n}" for n in alarms},
    }
    _name, policy = named(template, "AWS::SNS::TopicPolicy", "AlarmTopic")
    [allow] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    allowed = resolve(template, allow["Condition"], params)["ArnEquals"]["aws:SourceArn"]
    # Then every alarm created may publish (RoutesFallback always, the chat alarm with chat), no other
    created = [params[f"{n}.Arn"] for n, alarm in alarms.items() if _exists(template, alarm, params)]
    assert sorted(allowed) == sorted(created)
    assert len(created) == count
    assert any(
        arn.endswith(":alarm:" + named(template, "AWS::CloudWatch::Alarm", "RoutesFallback")[0]) for arn in allowed
    )


def test_the_outputs_name_the_chat_topic_the_route_topic_and_the_routes_parameter(template):
    # Given the stack's outputs
    outputs = template["Outputs"]
    # Then an operator finds what to subscribe, to configure and to edit
    assert outputs["ChatTopicArn"]["Value"] == {"Ref": named(template, "AWS::SNS::Topic", "ChatTopic")[0]}
    assert outputs["RouteTopicArn"]["Value"] == {"Ref": named(template, "AWS::SNS::Topic", "RouteTopic")[0]}
    assert outputs["RoutesParameterName"]["Value"] == {
        "Ref": named(template, "AWS::SSM::Parameter", "RoutesParameter")[0]
    }


def test_the_new_resources_keep_the_logical_ids_they_are_released_with(template):
    # Given the resources this version adds (released with these ids: renaming one later replaces it)
    current = {name: r["Type"] for name, r in template["Resources"].items()}
    # Then the channel configurations have the ids the README names, the rest the responder's usual
    assert current["SlackChannel"] == "AWS::Chatbot::SlackChannelConfiguration"
    assert current["TeamsChannel"] == "AWS::Chatbot::MicrosoftTeamsChannelConfiguration"
    for prefix, kind in (
        ("RouteTopic", "AWS::SNS::Topic"),
        ("ChatTopic", "AWS::SNS::Topic"),
        ("RoutesParameter", "AWS::SSM::Parameter"),
        ("ChatRole", "AWS::IAM::Role"),
        ("RoutesFallback", "AWS::CloudWatch::Alarm"),
        ("ChatDeliveryFailures", "AWS::CloudWatch::Alarm"),
        ("OrganizationsReadPolicy", "AWS::IAM::Policy"),
        ("OrganizationsRolePolicy", "AWS::IAM::Policy"),
    ):
        named(template, kind, prefix)  # exactly one of each


# --- in your own stack ------------------------------------------------------------------------


def test_teams_and_a_role_from_plain_values_pass_the_nag_packs():
    # Given a team's own stack with a responder posting to Teams and reading the organisation through a role
    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    stack = Stack(app, "ChatTooling")
    GuardDutyResponder(
        stack,
        "Responder",
        recipients=["secops@example.com"],
        organizations_role_arn="arn:aws:iam::999988887777:role/guardduty-org-read",
        chat_teams_team_id=TEAMS["ChatTeamsTeamId"],
        chat_teams_tenant_id=TEAMS["ChatTeamsTenantId"],
        chat_teams_channel_id=TEAMS["ChatTeamsChannelId"],
    )
    # When it is synthesized (a cdk-nag finding would raise here)
    template = json.loads(Path(app.synth().get_stack_by_name("ChatTooling").template_full_path).read_text())
    # Then the Teams configuration, its role and the chat alarm exist unconditionally; no Slack one
    _name, teams = only(template, "AWS::Chatbot::MicrosoftTeamsChannelConfiguration")
    assert "Condition" not in teams
    assert teams["Properties"]["TeamsChannelId"] == TEAMS["ChatTeamsChannelId"]
    assert not resources(template, "AWS::Chatbot::SlackChannelConfiguration")
    assert named(template, "AWS::CloudWatch::Alarm", "ResponderChatDeliveryFailures")
    assert "Conditions" not in template
