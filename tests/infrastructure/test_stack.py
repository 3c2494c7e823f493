"""The synthesized template, checked resource family by resource family."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from infra import constants, triggers
from infra.resolve import parameter_values, resolve
from tests.infrastructure.conftest import named, only, resources


@pytest.fixture(scope="module")
def t(template) -> Template:
    return Template.from_json(template)


def role_policy(template, prefix):
    """Action -> resources of a role's default policy."""
    _name, policy = named(template, "AWS::IAM::Policy", prefix)
    by_action = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            found = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            by_action.setdefault(action, []).extend(found)
    return by_action


# --- rule ---------------------------------------------------------------------------


def test_rule_matches_guardduty_findings_at_or_above_the_threshold(template):
    _name, rule = named(template, "AWS::Events::Rule", "FindingsRule")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.guardduty"]
    assert pattern["detail-type"] == ["GuardDuty Finding"]
    for value in constants.THRESHOLD_VALUES:
        params = parameter_values(template, {"NotifyThreshold": value})
        resolved = resolve(template, pattern, params)
        # A real JSON number, whatever CloudFormation does with a Ref to a Number parameter.
        assert resolved["detail"]["severity"] == [{"numeric": [">=", float(value)]}]
        assert not isinstance(resolved["detail"]["severity"][0]["numeric"][1], str)
    default = resolve(template, pattern, parameter_values(template))
    assert default["detail"]["severity"] == [{"numeric": [">=", 4]}]


def test_rule_target_retries_and_dead_letter_queue(template):
    _name, rule = named(template, "AWS::Events::Rule", "FindingsRule")
    [target] = rule["Properties"]["Targets"]
    dlq_name, _ = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    fn_name, _ = named(template, "AWS::Lambda::Function", "Function")
    assert target["Arn"] == {"Fn::GetAtt": [fn_name, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_name, "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86_400}


# --- parameters -----------------------------------------------------------------------


def test_every_parameter_has_description_and_constraints(template):
    params = {k: v for k, v in template["Parameters"].items() if k != "BootstrapVersion"}
    assert set(params) == {
        "NotifyThreshold", "BandMediumMin", "BandHighMin", "BandCriticalMin", "Channels", "Recipients",
        "SenderAddress", "CreateSenderIdentity", "SesConfigurationSet", "IncludeSampleFindings", "Language",
        "AlarmEmail", "SuppressFindingTypes", "SuppressAccounts", "SuppressTag", "RenotifyHours",
        "ImmediateBand", "DigestMinutes", "DisplayTimeZone", "SesMaxSendRate", "ObjectScanAlerts",
        "AccountNames", "OrganizationsRoleArn", "ChatNotifications", "ChatSlackWorkspaceId", "ChatSlackChannelId",
        "ChatTeamsTeamId", "ChatTeamsTenantId", "ChatTeamsChannelId", "RunbookApprovers", "MemberExecutionRoleName",
        "AutomationAdministrationRole",
    }  # fmt: skip
    for name, spec in params.items():
        assert spec.get("Description"), name
        assert {"AllowedValues", "AllowedPattern", "MinValue"} & set(spec), name


def test_parameter_defaults_and_ranges(template):
    p = template["Parameters"]
    assert p["NotifyThreshold"]["Default"] == "4.0"
    assert p["NotifyThreshold"]["AllowedValues"] == list(constants.THRESHOLD_VALUES)
    bands = [
        (p[n]["Default"], p[n]["MinValue"], p[n]["MaxValue"])
        for n in ("BandMediumMin", "BandHighMin", "BandCriticalMin")
    ]
    assert bands == [("4.0", 1, 5.9), ("7.0", 6, 8.4), ("9.0", 8.5, 10)]
    # Disjoint ranges keep Medium < High < Critical for every accepted value.
    assert bands[0][2] < bands[1][1] and bands[1][2] < bands[2][1]
    assert p["Channels"]["AllowedValues"] == ["sns", "ses", "sns,ses"]
    assert p["Recipients"]["Type"] == "CommaDelimitedList"
    assert "Default" not in p["Recipients"]
    assert p["IncludeSampleFindings"]["AllowedValues"] == ["true", "false"]
    assert p["Language"]["AllowedValues"] == ["en", "ja"]
    assert p["ImmediateBand"]["Default"] == "High"
    assert p["ImmediateBand"]["AllowedValues"] == ["Low", "Medium", "High", "Critical"]
    # Whole minutes only (a pattern, not a Number range: EventBridge's rate() takes no 7.5)
    digest = p["DigestMinutes"]
    assert (digest["Type"], digest["Default"]) == ("String", "60")
    accepted = [m for m in range(0, 2000) if re.fullmatch(digest["AllowedPattern"], str(m))]
    assert accepted == list(range(5, 1441))
    assert not re.fullmatch(digest["AllowedPattern"], "7.5")


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("Recipients", ["secops@example.com"], ["not-an-email", "a@b", "x@example.com\nBcc: y"]),
        ("SenderAddress", ["", "alerts@example.com"], ["Alerts <alerts@example.com>", "alerts@"]),
        ("AlarmEmail", ["", "ops@example.org"], ["ops"]),
        ("SesConfigurationSet", ["", "security-mail"], ["bad name", "x" * 65]),
        ("SuppressFindingTypes", ["", "Recon:EC2/PortProbe*"], ["Recon EC2", "<b>"]),
        ("SuppressAccounts", ["", "123456789012"], ["12345", "1234567890123"]),
        ("SuppressTag", ["", "guardduty=quiet", "scanner="], ["novalue", "a=b,c=d", "=x"]),
        ("DisplayTimeZone", ["", "Asia/Tokyo", "UTC", "America/Argentina/Buenos_Aires"], ["Asia Tokyo", "../etc"]),
    ],
)
def test_string_patterns_accept_and_refuse(template, name, good, bad):
    import re

    pattern = re.compile(template["Parameters"][name]["AllowedPattern"])
    for value in good:
        assert pattern.fullmatch(value), value
    for value in bad:
        assert not pattern.fullmatch(value), value


def test_cross_parameter_rules(template):
    rules = template["Rules"]
    ses = rules["SesNeedsSender"]
    assert ses["RuleCondition"] == {"Fn::Contains": [["ses", "sns,ses"], {"Ref": "Channels"}]}
    [assertion] = ses["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SenderAddress"}, ""]}]}
    assert "SenderAddress" in assertion["AssertDescription"]
    assert rules["IdentityNeedsSender"]["RuleCondition"] == {"Fn::Equals": [{"Ref": "CreateSenderIdentity"}, "yes"]}


# --- function ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "handler", "reserved"),
    [
        ("Function", "responder.triage_handler.lambda_handler", constants.TRIAGE_CONCURRENCY),
        ("Notifier", "responder.notify_handler.lambda_handler", constants.NOTIFIER_CONCURRENCY),
    ],
)
def test_function_configuration(template, prefix, handler, reserved):
    _name, fn = named(template, "AWS::Lambda::Function", prefix)
    props = fn["Properties"]
    # The runtime the wheels are built for and `make test` runs the tests on (3.13 through pyenv).
    assert props["Runtime"] == f"python{constants.PYTHON_VERSION}" == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == handler
    assert props["MemorySize"] == constants.MEMORY_MB
    assert props["Timeout"] == constants.TIMEOUT_SECONDS
    assert props["ReservedConcurrentExecutions"] == reserved
    assert props["TracingConfig"] == {"Mode": "Active"}
    log_group, _ = named(template, "AWS::Logs::LogGroup", f"{prefix}Logs")
    assert props["LoggingConfig"] == {"LogFormat": "JSON", "LogGroup": {"Ref": log_group}}
    assert props["Code"] == named(template, "AWS::Lambda::Function", "Function")[1]["Properties"]["Code"]  # one asset


def test_log_groups_keep_a_year(template):
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) == 2
    assert all(g["Properties"]["RetentionInDays"] == 365 for g in groups.values())


def test_the_immediate_queue_feeds_the_notifier_in_batches_gathered_for_under_a_minute(template):
    immediate, _ = named(template, "AWS::SQS::Queue", "ImmediateQueue")
    notifier, _ = named(template, "AWS::Lambda::Function", "Notifier")
    _name, mapping = only(template, "AWS::Lambda::EventSourceMapping")
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [immediate, "Arn"]}
    assert props["FunctionName"] == {"Ref": notifier}
    assert props["BatchSize"] == constants.QUEUE_BATCH_SIZE
    assert props["MaximumBatchingWindowInSeconds"] == constants.QUEUE_BATCH_WINDOW_SECONDS < 60
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_finding_queues_are_encrypted_ssl_only_and_redriven_to_the_dlq(template):
    dlq, _ = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    for prefix in ("ImmediateQueue", "DigestQueue"):
        _name, queue = named(template, "AWS::SQS::Queue", prefix)
        props = queue["Properties"]
        assert props["SqsManagedSseEnabled"] is True
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
            "maxReceiveCount": constants.QUEUE_MAX_RECEIVES,
        }
        # Longer than the function may run (six times, as AWS advises for event sources).
        assert props["VisibilityTimeout"] == 6 * constants.TIMEOUT_SECONDS
        # Longer than the longest digest window.
        assert props["MessageRetentionPeriod"] > 1440 * 60
        _policy_name, policy = named(template, "AWS::SQS::QueuePolicy", prefix)
        assert any(
            st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for st in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def test_digest_schedule_runs_the_notifier_every_window(template):
    _name, rule = named(template, "AWS::Events::Rule", "DigestSchedule")
    for minutes in ("5", "60", "1440"):
        params = parameter_values(template, {"DigestMinutes": minutes})
        assert resolve(template, rule["Properties"]["ScheduleExpression"], params) == f"rate({minutes} minutes)"
    [target] = rule["Properties"]["Targets"]
    notifier, _ = named(template, "AWS::Lambda::Function", "Notifier")
    dlq, _ = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    assert target["Arn"] == {"Fn::GetAtt": [notifier, "Arn"]}
    # The event the notifier recognises as a digest run (the Lambda package cannot import infra: compared here)
    from responder.app.notifier import SCHEDULED_EVENT

    assert json.loads(target["Input"]) == SCHEDULED_EVENT == triggers.SCHEDULED_EVENT
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}


def _variables(template, prefix: str) -> dict:
    _name, fn = named(template, "AWS::Lambda::Function", prefix)
    return fn["Properties"]["Environment"]["Variables"]


def test_each_function_gets_exactly_the_variables_its_settings_model_reads(template):
    from responder.app.settings import NotifierSettings, TriageSettings
    from tests.deployed import NOTIFIER_ENV, RUNTIME_ENV, TRIAGE_ENV

    def read_by(model) -> set[str]:
        # What Lambda itself sets (AWS_REGION) is read but never set by the stack (Lambda reserves it)
        return {field.alias or name for name, field in model.model_fields.items()} - set(RUNTIME_ENV)

    # Given each function's environment in the template
    triage, notifier = _variables(template, "Function"), _variables(template, "Notifier")
    # Then each holds its own model's variables, Powertools' two and pydantic's, nothing of the other function
    powertools = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "PYDANTIC_DISABLE_PLUGINS"}
    assert set(triage) == read_by(TriageSettings) | powertools
    assert set(notifier) == read_by(NotifierSettings) | powertools
    assert not {"SES_RECIPIENTS", "SES_SENDER", "TOPIC_ARN"} & set(triage)
    # And the environment the entry-point tests and the benchmark use has exactly these names
    assert (set(TRIAGE_ENV), set(NOTIFIER_ENV)) == (set(triage), set(notifier))


def test_environment_is_wired_from_parameters(template):
    env = {**_variables(template, "Notifier"), **_variables(template, "Function")}
    for name in set(_variables(template, "Notifier")) & set(_variables(template, "Function")):
        assert _variables(template, "Notifier")[name] == _variables(template, "Function")[name], name
    immediate, _ = named(template, "AWS::SQS::Queue", "ImmediateQueue")
    digest, _ = named(template, "AWS::SQS::Queue", "DigestQueue")
    assert env["IMMEDIATE_BAND"] == {"Ref": "ImmediateBand"}
    assert env["DIGEST_MINUTES"] == {"Ref": "DigestMinutes"}
    assert env["IMMEDIATE_QUEUE_URL"] == {"Ref": immediate}
    assert env["DIGEST_QUEUE_URL"] == {"Ref": digest}
    alert_topic = next(n for n in resources(template, "AWS::SNS::Topic") if n.startswith("AlertTopic"))
    assert env["CHANNELS"] == {"Ref": "Channels"}
    assert env["NOTIFY_THRESHOLD"] == {"Ref": "NotifyThreshold"}
    assert env["BAND_MEDIUM_MIN"] == {"Ref": "BandMediumMin"}
    assert env["BAND_HIGH_MIN"] == {"Ref": "BandHighMin"}
    assert env["BAND_CRITICAL_MIN"] == {"Ref": "BandCriticalMin"}
    assert env["SES_SENDER"] == {"Ref": "SenderAddress"}
    assert env["SES_RECIPIENTS"] == {"Fn::Join": [",", {"Ref": "Recipients"}]}
    assert env["INCLUDE_SAMPLES"] == {"Ref": "IncludeSampleFindings"}
    assert env["LANGUAGE"] == {"Ref": "Language"}
    assert env["DISPLAY_TIMEZONE"] == {"Ref": "DisplayTimeZone"}
    assert env["SES_MAX_SEND_RATE"] == {"Ref": "SesMaxSendRate"}
    assert env["SUPPRESS_FINDING_TYPES"] == {"Fn::Join": [",", {"Ref": "SuppressFindingTypes"}]}
    assert env["SUPPRESS_ACCOUNTS"] == {"Fn::Join": [",", {"Ref": "SuppressAccounts"}]}
    assert env["SUPPRESS_TAG"] == {"Ref": "SuppressTag"}
    table, _ = only(template, "AWS::DynamoDB::Table")
    assert env["STATE_TABLE"] == {"Ref": table}
    assert env["RENOTIFY_HOURS"] == {"Ref": "RenotifyHours"}
    assert env["TOPIC_ARN"] == {"Ref": alert_topic}
    params = parameter_values(template, {"SesConfigurationSet": ""})
    assert resolve(template, env["SES_CONFIGURATION_SET"], {**params, "ConfigurationSet": "own-set"}) == "own-set"
    params = parameter_values(template, {"SesConfigurationSet": "corp-mail"})
    assert resolve(template, env["SES_CONFIGURATION_SET"], {**params, "ConfigurationSet": "own-set"}) == "corp-mail"


def test_the_function_environment_is_accepted_by_the_settings_validator(template):
    """Resolve the environment for a typical deploy and feed it to the real settings code."""
    from responder.app.settings import NotifierSettings, TriageSettings

    params = parameter_values(
        template,
        {
            "Channels": "sns,ses",
            "Recipients": "a@example.com,b@example.com",
            "SenderAddress": "gd@example.com",
            "SuppressFindingTypes": "Recon:EC2/PortProbe*,Recon:EC2/Portscan",
            "SuppressTag": "guardduty=quiet",
        },
    )
    topic_arn = "arn:aws:sns:us-east-1:123456789012:GuardDutyResponder-AlertTopic"
    table, _ = only(template, "AWS::DynamoDB::Table")
    queue_urls = {
        named(template, "AWS::SQS::Queue", prefix)[0]: f"https://sqs.us-east-1.amazonaws.com/123456789012/{prefix}"
        for prefix in ("ImmediateQueue", "DigestQueue")
    }
    organisation = {
        named(template, "AWS::SNS::Topic", "RouteTopic")[0]: "arn:aws:sns:us-east-1:123456789012:Routes",
        named(template, "AWS::SNS::Topic", "ChatTopic")[0]: "arn:aws:sns:us-east-1:123456789012:Chat",
        named(template, "AWS::SSM::Parameter", "RoutesParameter")[0]: "CFN-RoutesParameter-AbCd",
    }
    refs = {
        **params,
        "AWS::AccountId": "123456789012",
        "ConfigurationSet": "own-set",
        table: "GuardDutyResponder-StateTable",
        **queue_urls,
        **organisation,
    }

    def resolved(prefix: str) -> dict[str, str]:
        env = _variables(template, prefix)
        return {k: (topic_arn if k == "TOPIC_ARN" else resolve(template, v, refs)) for k, v in env.items()}

    # Each function's own settings model accepts its environment.
    assert TriageSettings.from_env(resolved("Function")).immediate_queue.endswith("/ImmediateQueue")
    settings = NotifierSettings.from_env(resolved("Notifier"))
    assert settings.channels == ("sns", "ses")
    assert settings.recipients == ("a@example.com", "b@example.com")
    assert settings.threshold == 4.0
    assert settings.configuration_set == "own-set"
    assert settings.suppress_types == ("Recon:EC2/PortProbe*", "Recon:EC2/Portscan")
    assert settings.suppress_accounts == ()
    assert settings.suppress_tag == ("guardduty", "quiet")
    assert settings.state_table == "GuardDutyResponder-StateTable"
    assert settings.renotify_hours == 24.0
    assert settings.immediate_band == "High"
    assert settings.digest_minutes == 60
    assert settings.digest_queue == "https://sqs.us-east-1.amazonaws.com/123456789012/DigestQueue"
    # The organisation's settings: routes always readable, chat off by default
    assert settings.route_topic_arn == "arn:aws:sns:us-east-1:123456789012:Routes"
    assert settings.routes_parameter == "CFN-RoutesParameter-AbCd"
    assert settings.chat_topic_arn is None
    assert settings.account_names == {}
    # The runbooks: no approval step by default, runs in member accounts from their own account
    assert settings.runbook_approvals is False
    assert settings.runbook_execution_role is None
    assert settings.responder_account == "123456789012"


def test_asynchronous_invocation_retries_and_on_failure_destination(template):
    dlq_name, _ = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    configs = resources(template, "AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 2  # triage (EventBridge) and notifier (the digest schedule)
    for config in configs.values():
        props = config["Properties"]
        assert props["MaximumRetryAttempts"] == 2
        assert props["MaximumEventAgeInSeconds"] == 6 * 3600
        assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq_name, "Arn"]}


# --- IAM -------------------------------------------------------------------------------------


def test_no_managed_policies_and_no_wildcards_except_xray_and_organizations(template):
    # Given the two functions' roles and the chat channels' role (only with a channel configuration);
    # the runbooks' roles and the automation administration role: test_runbooks_template.py
    roles = {n: r for n, r in resources(template, "AWS::IAM::Role").items() if "Runbook" not in n}
    assert len(roles) == 4
    assert [r.get("Condition") for r in roles.values()].count("CreatesAdministrationRole") == 1
    roles = {n: r for n, r in roles.items() if r.get("Condition") != "CreatesAdministrationRole"}
    assert [r.get("Condition") for r in roles.values()].count("HasChatChannel") == 1
    assert not any("ManagedPolicyArns" in role["Properties"] for role in roles.values())
    # Then "*" is only for what takes no resource ARN: X-Ray, and reading the organisation (whose ARNs
    # hold ids this stack cannot know); no action is a wildcard
    organizations = {
        "organizations:DescribeAccount", "organizations:ListParents",
        "organizations:ListTagsForResource",
    }  # fmt: skip
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Resource"] == "*":
                assert set(actions) in ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, organizations), name
            assert not any(action.endswith("*") for action in actions), (name, actions)


def test_triage_may_only_log_keep_state_and_queue(template):
    by_action = role_policy(template, "FunctionRoleDefault")
    dlq, _ = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    immediate, _ = named(template, "AWS::SQS::Queue", "ImmediateQueue")
    digest, _ = named(template, "AWS::SQS::Queue", "DigestQueue")
    logs_group, _ = named(template, "AWS::Logs::LogGroup", "FunctionLogs")
    table, _ = only(template, "AWS::DynamoDB::Table")
    assert not any(a.startswith(("sns:", "ses:", "kms:")) for a in by_action)  # triage sends nothing
    assert {json.dumps(r) for r in by_action["sqs:SendMessage"]} == {
        json.dumps({"Fn::GetAtt": [q, "Arn"]}) for q in (dlq, immediate, digest)
    }
    assert by_action["logs:PutLogEvents"] == [{"Fn::GetAtt": [logs_group, "Arn"]}]
    dynamodb = {a for a in by_action if a.startswith("dynamodb:")}
    assert dynamodb == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert all(by_action[a] == [{"Fn::GetAtt": [table, "Arn"]}] for a in dynamodb)


def test_notifier_may_only_log_read_its_queues_and_send(template):
    by_action = role_policy(template, "NotifierRoleDefault")
    topic = next(n for n in resources(template, "AWS::SNS::Topic") if n.startswith("AlertTopic"))
    key, _ = named(template, "AWS::KMS::Key", "TopicKey")
    immediate, _ = named(template, "AWS::SQS::Queue", "ImmediateQueue")
    digest, _ = named(template, "AWS::SQS::Queue", "DigestQueue")
    dlq, _ = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    logs_group, _ = named(template, "AWS::Logs::LogGroup", "NotifierLogs")
    # The alert topic, the route topic (copies for owners) and the chat topic, no other
    topics = [named(template, "AWS::SNS::Topic", prefix)[0] for prefix in ("AlertTopic", "RouteTopic", "ChatTopic")]
    assert by_action["sns:Publish"] == [{"Ref": name} for name in topics]
    assert topic == topics[0]
    # The alert topic's key only (the three topics share it): the alarm topic's key is CloudWatch's alone.
    assert by_action["kms:GenerateDataKey"] == [{"Fn::GetAtt": [key, "Arn"]}]
    assert by_action["kms:Decrypt"] == [{"Fn::GetAtt": [key, "Arn"]}]
    assert by_action["logs:PutLogEvents"] == [{"Fn::GetAtt": [logs_group, "Arn"]}]
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage"):
        assert {json.dumps(r) for r in by_action[action]} == {
            json.dumps({"Fn::GetAtt": [q, "Arn"]}) for q in (immediate, digest)
        }
    # The on-failure destination of the digest schedule's invocations only.
    assert by_action["sqs:SendMessage"] == [{"Fn::GetAtt": [dlq, "Arn"]}]
    table, _ = only(template, "AWS::DynamoDB::Table")
    dynamodb = {a for a in by_action if a.startswith("dynamodb:")}
    assert dynamodb == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
    }  # fmt: skip
    assert all(by_action[a] == [{"Fn::GetAtt": [table, "Arn"]}] for a in dynamodb)
    assert not any(a.startswith("ses:") for a in by_action)  # SES only in the conditional policy
    # The routes parameter, read only, and nothing else of SSM
    parameter, _ = named(template, "AWS::SSM::Parameter", "RoutesParameter")
    assert {a for a in by_action if a.startswith("ssm:")} == {"ssm:GetParameter"}
    params = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333"}
    [arn] = by_action["ssm:GetParameter"]
    assert resolve(template, arn, {**params, parameter: "CFN-RoutesParameter-x"}) == (
        "arn:aws:ssm:eu-west-1:111122223333:parameter/CFN-RoutesParameter-x"
    )


def test_state_table(t, template):
    t.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        },
    )
    renotify = template["Parameters"]["RenotifyHours"]
    assert (renotify["Default"], renotify["MinValue"], renotify["MaxValue"]) == ("24", 0, 8760)


def _ses_statements(template):
    ses_policy = next(p for n, p in resources(template, "AWS::IAM::Policy").items() if n.startswith("SesSendPolicy"))
    assert ses_policy["Condition"] == "UsesSes"  # no SES rights without the SES channel
    return {st["Sid"]: st for st in ses_policy["Properties"]["PolicyDocument"]["Statement"]}


SES_PARAMS = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333"}


def test_ses_permission_works_in_the_sandbox_but_only_from_the_configured_sender(template):
    # Given an SES deploy with a sender address
    params = {**parameter_values(template, {"SenderAddress": "gd@alerts.example.com", "Channels": "ses"}), **SES_PARAMS}
    # When the send policy is resolved
    statement = _ses_statements(template)["SendOnlyAsTheConfiguredSender"]
    # Then SendEmail (SES v2, Raw content too) is allowed on every identity of the account (in the
    # sandbox SES also authorises the send against each recipient's identity) ...
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "ses:SendEmail"
    assert resolve(template, statement["Resource"], params) == "arn:aws:ses:eu-west-1:111122223333:identity/*"
    # ... but only with the configured sender as the From address
    assert resolve(template, statement["Condition"], params) == {
        "StringEquals": {"ses:FromAddress": "gd@alerts.example.com"}
    }


def test_ses_permission_covers_the_configuration_set_in_use(template):
    statement = _ses_statements(template)["SendWithTheConfigurationSet"]
    assert statement["Action"] == "ses:SendEmail"
    for name, expected in (("", "own-set"), ("corp-mail", "corp-mail")):
        params = {
            **parameter_values(template, {"SenderAddress": "gd@example.com", "SesConfigurationSet": name}),
            **SES_PARAMS,
            "ConfigurationSet": "own-set",
        }
        arn = resolve(template, statement["Resource"], params)
        assert arn == f"arn:aws:ses:eu-west-1:111122223333:configuration-set/{expected}"
    # Nothing else in the policy: sending needs the identity statement and its From condition.
    assert set(_ses_statements(template)) == {"SendOnlyAsTheConfiguredSender", "SendWithTheConfigurationSet"}


# --- encryption, topics, queue -------------------------------------------------------------------


def _key_statements(key):
    return {st.get("Sid"): st for st in key["Properties"]["KeyPolicy"]["Statement"]}


def test_alarm_topic_has_its_own_key_only_cloudwatch_may_use(template):
    # Given the two customer-managed keys
    keys = resources(template, "AWS::KMS::Key")
    assert len(keys) == 2
    _name, alert_key = named(template, "AWS::KMS::Key", "TopicKey")
    _name, alarm_key = named(template, "AWS::KMS::Key", "AlarmTopicKey")
    assert all(k["Properties"]["EnableKeyRotation"] is True for k in keys.values())
    # Then CloudWatch may use the alarm key, from this account only ...
    cloudwatch = _key_statements(alarm_key)["AllowCloudWatchAlarmsToUseTheKey"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    # ... and no service may use the finding-data key (the notifier's role has it through IAM)
    for key in (alert_key, alarm_key):
        services = [st for st in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in st["Principal"]]
        assert services == ([cloudwatch] if key is alarm_key else [])


def test_topics_are_encrypted_each_with_its_key_and_ssl_only(template):
    # The alarm path does not depend on the key that protects finding data (alerts, routed copies, chat).
    expected = {
        "AlertTopic": "TopicKey",
        "AlarmTopic": "AlarmTopicKey",
        "RouteTopic": "TopicKey",
        "ChatTopic": "TopicKey",
    }
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 5
    # The approval topic (with approvers only) carries a document name and an execution id: SNS's own key
    _name, approvals = named(template, "AWS::SNS::Topic", "ApprovalTopic")
    assert approvals["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    for prefix, key_prefix in expected.items():
        _name, topic = named(template, "AWS::SNS::Topic", prefix)
        key, _ = named(template, "AWS::KMS::Key", key_prefix)
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    policies = resources(template, "AWS::SNS::TopicPolicy").values()
    denies = [
        s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]  # fmt: skip
    assert len(denies) == 5


def test_every_released_resource_keeps_its_logical_id_and_type(template):
    # Given the logical IDs and types of the released template (committed copy)
    released = json.loads((Path(__file__).parent / "released_resources.json").read_text())["resources"]
    # When the stack is synthesized now
    current = {name: resource["Type"] for name, resource in template["Resources"].items()}
    # Then none is renamed or retyped: `cdk deploy` updates an existing deployment in place
    # (a new name would replace the state table, the topics and their subscriptions, or orphan a retained key).
    missing = {name: kind for name, kind in released.items() if current.get(name) != kind}
    assert not missing


def test_dead_letter_queue(t, template):
    _name, dlq = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    statements = [
        s
        for p in resources(template, "AWS::SQS::QueuePolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    principals = {json.dumps(s.get("Principal")) for s in statements if s["Effect"] == "Allow"}
    assert any("events.amazonaws.com" in p for p in principals)
    # SNS redrives the failed email notifications of both topics: alerts and alarms are kept ...
    redrive, approvals = [s for s in statements if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert redrive["Action"] == "sqs:SendMessage"
    topics = [{"Ref": named(template, "AWS::SNS::Topic", prefix)[0]} for prefix in ("AlertTopic", "AlarmTopic")]
    assert redrive["Condition"] == {"ArnEquals": {"aws:SourceArn": topics}}
    # ... and the approval notices, by the approval topic's fixed ARN (the topic exists only with approvers)
    assert approvals["Action"] == "sqs:SendMessage"
    arn = resolve(template, approvals["Condition"]["ArnEquals"]["aws:SourceArn"], SES_PARAMS)
    assert arn == f"arn:aws:sns:eu-west-1:111122223333:{constants.APPROVAL_TOPIC_NAME}"


def test_recipient_subscriptions_are_conditional_and_redriven(template):
    dlq, _ = named(template, "AWS::SQS::Queue", "DeadLetterQueue")
    subs = {
        n: r for n, r in resources(template, "AWS::SNS::Subscription").items() if n.startswith("RecipientSubscription")
    }
    assert len(subs) == constants.MAX_SNS_SUBSCRIPTIONS
    for sub in subs.values():
        assert sub["Properties"]["Protocol"] == "email"
        assert sub["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}}
    params = parameter_values(template, {"Recipients": "a@example.com,b@example.com", "Channels": "sns"})
    created = [n for n, s in subs.items() if resolve(template, {"Condition": s["Condition"]}, params)]
    endpoints = [resolve(template, subs[n]["Properties"]["Endpoint"], params) for n in created]
    assert endpoints == ["a@example.com", "b@example.com"]
    ses_only = parameter_values(template, {"Recipients": "a@example.com", "Channels": "ses"})
    assert not any(resolve(template, {"Condition": s["Condition"]}, ses_only) for s in subs.values())


def test_ses_configuration_set_requires_tls_and_has_no_tracking(t, template):
    t.has_resource_properties("AWS::SES::ConfigurationSet", {"DeliveryOptions": {"TlsPolicy": "REQUIRE"}})
    _name, config_set = only(template, "AWS::SES::ConfigurationSet")
    assert "TrackingOptions" not in config_set["Properties"]
    assert not resources(template, "AWS::SES::ConfigurationSetEventDestination")
    _name, identity = only(template, "AWS::SES::EmailIdentity")
    assert identity["Condition"] == "CreatesSenderIdentity"


# --- alarms and outputs ------------------------------------------------------------------------


def test_alarms_notify_the_alarm_topic(template):
    alarm_topic = next(n for n in resources(template, "AWS::SNS::Topic") if n.startswith("AlarmTopic"))
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    metrics = sorted((a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values())
    assert metrics == sorted(
        [
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
            ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
            ("AWS/Lambda", "Errors"),  # triage
            ("AWS/Lambda", "Errors"),  # notifier
            ("AWS/Lambda", "Throttles"),
            ("AWS/Events", "FailedInvocations"),  # findings rule
            ("AWS/Events", "FailedInvocations"),  # digest schedule
            ("AWS/Events", "InvocationsSentToDlq"),
            ("GuardDutyResponder", "DeliveryFailures"),  # sns
            ("GuardDutyResponder", "DeliveryFailures"),  # ses
            ("GuardDutyResponder", "DeliveryFailures"),  # chat
            ("GuardDutyResponder", "RoutesFallback"),
        ]
    )
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": alarm_topic}]
        expected = constants.IMMEDIATE_QUEUE_DELAYED_SECONDS if name.startswith("ImmediateQueueDelayed") else 1
        assert alarm["Properties"]["Threshold"] == expected
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
    _name, subscription = next(
        (n, s) for n, s in resources(template, "AWS::SNS::Subscription").items() if n.startswith("AlarmSubscription")
    )
    assert subscription["Condition"] == "HasAlarmEmail"


@pytest.mark.parametrize(("channel", "condition"), [("sns", "UsesSns"), ("ses", "UsesSes"), ("chat", "UsesChat")])
def test_a_failed_email_alarms_within_one_period_per_channel(template, channel, condition):
    # Given the alarm of this channel (only where the channel is used)
    _name, alarm = named(template, "AWS::CloudWatch::Alarm", f"{channel.capitalize()}DeliveryFailures")
    assert alarm["Condition"] == condition
    props = alarm["Properties"]
    # Then it watches exactly the metric the notifier emits per failed send (Powertools single_metric
    # adds the service dimension): a different dimension set would be a different metric, never alarmed
    assert (props["Namespace"], props["MetricName"]) == (constants.METRICS_NAMESPACE, "DeliveryFailures")
    assert sorted(props["Dimensions"], key=lambda d: d["Name"]) == [
        {"Name": "Channel", "Value": channel},
        {"Name": "service", "Value": constants.SERVICE},
    ]
    # And one failed send in one 5-minute period is enough; no data is not a breach
    assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert props["TreatMissingData"] == "notBreaching"
    # And the functions publish into that namespace under that service name
    _fn, function = named(template, "AWS::Lambda::Function", "Notifier")
    env = function["Properties"]["Environment"]["Variables"]
    assert (env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]) == (
        props["Namespace"],
        constants.SERVICE,
    )


@pytest.mark.parametrize("channel", ["sns", "ses", "chat"])
def test_the_delivery_failure_alarm_watches_the_metric_the_notifier_emits(template, capsys, channel):
    from responder.adapters.observability import emit

    # Given the EMF record the notifier writes for one failed send on this channel (real code)
    capsys.readouterr()
    emit("DeliveryFailures", Channel=channel)
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    [dimension_names] = directive["Dimensions"]
    # Then CloudWatch files it under exactly the alarm's namespace, metric and dimensions
    _name, alarm = named(template, "AWS::CloudWatch::Alarm", f"{channel.capitalize()}DeliveryFailures")
    props = alarm["Properties"]
    assert directive["Namespace"] == props["Namespace"]
    assert [m["Name"] for m in directive["Metrics"]] == [props["MetricName"]]
    assert {name: record[name] for name in dimension_names} == {d["Name"]: d["Value"] for d in props["Dimensions"]}


@pytest.mark.parametrize("channels", ["sns", "ses", "sns,ses"])
def test_alarm_topic_policy_lets_exactly_this_stacks_alarms_publish(template, channels):
    # Given the alarm topic's policy (a topic policy replaces SNS's default one) for a deploy
    topic, _ = named(template, "AWS::SNS::Topic", "AlarmTopic")
    _name, policy = named(template, "AWS::SNS::TopicPolicy", "AlarmTopic")
    assert policy["Properties"]["Topics"] == [{"Ref": topic}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    params = {
        **parameter_values(template, {"Channels": channels, "SenderAddress": "gd@example.com"}),
        "AWS::AccountId": "111122223333",
        **{f"{name}.Arn": f"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}" for name in alarms},
    }
    # When its Allow is read for that deploy
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    condition = resolve(template, allow["Condition"], params)
    # Then CloudWatch may publish to this topic ...
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": topic}
    # ... for this account's alarms of this stack: every alarm this deploy creates, and no other
    created = [
        params[f"{name}.Arn"]
        for name, alarm in alarms.items()
        if "Condition" not in alarm or resolve(template, {"Condition": alarm["Condition"]}, params)
    ]
    # (eight always, RoutesFallback, and one per email channel; the chat alarm is off by default)
    assert len(created) == (11 if channels == "sns,ses" else 10)
    assert condition["StringEquals"] == {"aws:SourceAccount": "111122223333"}
    assert sorted(condition["ArnEquals"]["aws:SourceArn"]) == sorted(created)
    assert set(condition) == {"StringEquals", "ArnEquals"}
    # And plain-HTTP publishing stays refused
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_outputs(template):
    assert {
        "AlertTopicArn", "AlarmTopicArn", "FunctionName", "NotifierName", "DeadLetterQueueUrl", "RuleName",
        "ImmediateQueueUrl", "DigestQueueUrl", "ChatTopicArn", "RouteTopicArn", "RoutesParameterName",
        "RunbookNames", "ApprovalTopicArn",
    } <= set(template["Outputs"])  # fmt: skip
    assert template["Outputs"]["ApprovalTopicArn"]["Condition"] == "HasRunbookApprovers"
