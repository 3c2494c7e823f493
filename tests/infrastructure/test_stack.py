"""The synthesized template, checked resource family by resource family."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from infra import constants
from infra.resolve import parameter_values, resolve


@pytest.fixture(scope="module")
def t(template) -> Template:
    return Template.from_json(template)


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def only(template, kind):
    [(name, resource)] = resources(template, kind).items()
    return name, resource


# --- rule ---------------------------------------------------------------------------


def test_rule_matches_guardduty_findings_at_or_above_the_threshold(template):
    _name, rule = only(template, "AWS::Events::Rule")
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
    _name, rule = only(template, "AWS::Events::Rule")
    [target] = rule["Properties"]["Targets"]
    dlq_name, _ = only(template, "AWS::SQS::Queue")
    fn_name, _ = only(template, "AWS::Lambda::Function")
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
    assert p["Language"]["AllowedValues"] == ["en"]


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


def test_function_configuration(t):
    t.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "responder.handler.lambda_handler",
            "MemorySize": constants.MEMORY_MB,
            "Timeout": constants.TIMEOUT_SECONDS,
            "ReservedConcurrentExecutions": constants.RESERVED_CONCURRENCY,
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": Match.any_value()},
        },
    )
    t.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})


def test_environment_is_wired_from_parameters(template):
    _name, fn = only(template, "AWS::Lambda::Function")
    env = fn["Properties"]["Environment"]["Variables"]
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
    from responder.settings import Settings

    _name, fn = only(template, "AWS::Lambda::Function")
    env = fn["Properties"]["Environment"]["Variables"]
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
    refs = {**params, "ConfigurationSet": "own-set", table: "GuardDutyResponder-StateTable"}
    resolved = {k: (topic_arn if k == "TOPIC_ARN" else resolve(template, v, refs)) for k, v in env.items()}
    settings = Settings.from_env(resolved)
    assert settings.channels == ("sns", "ses")
    assert settings.recipients == ("a@example.com", "b@example.com")
    assert settings.threshold == 4.0
    assert settings.configuration_set == "own-set"
    assert settings.suppress_types == ("Recon:EC2/PortProbe*", "Recon:EC2/Portscan")
    assert settings.suppress_accounts == ()
    assert settings.suppress_tag == ("guardduty", "quiet")
    assert settings.state_table == "GuardDutyResponder-StateTable"
    assert settings.renotify_hours == 24.0


def test_asynchronous_invocation_retries_and_on_failure_destination(template):
    dlq_name, _ = only(template, "AWS::SQS::Queue")
    _name, config = only(template, "AWS::Lambda::EventInvokeConfig")
    props = config["Properties"]
    assert props["MaximumRetryAttempts"] == 2
    assert props["MaximumEventAgeInSeconds"] == 6 * 3600
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [dlq_name, "Arn"]}


# --- IAM -------------------------------------------------------------------------------------


def test_no_managed_policies_and_no_wildcards_except_xray(template):
    _name, role = only(template, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Resource"] == "*":
                assert set(actions) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, name
            assert not any(action.endswith("*") for action in actions), (name, actions)


def test_function_permissions_name_exact_resources(template):
    policy = next(p for n, p in resources(template, "AWS::IAM::Policy").items() if n.startswith("FunctionRoleDefault"))
    by_action = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            by_action[action] = statement["Resource"]
    topic = next(n for n in resources(template, "AWS::SNS::Topic") if n.startswith("AlertTopic"))
    key, _ = only(template, "AWS::KMS::Key")
    dlq, _ = only(template, "AWS::SQS::Queue")
    logs_group, _ = only(template, "AWS::Logs::LogGroup")
    assert by_action["sns:Publish"] == {"Ref": topic}
    assert by_action["kms:GenerateDataKey"] == {"Fn::GetAtt": [key, "Arn"]}
    assert by_action["sqs:SendMessage"] == {"Fn::GetAtt": [dlq, "Arn"]}
    assert by_action["logs:PutLogEvents"] == {"Fn::GetAtt": [logs_group, "Arn"]}
    table, _ = only(template, "AWS::DynamoDB::Table")
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert {"Fn::GetAtt": [table, "Arn"]} in (
            by_action[action] if isinstance(by_action[action], list) else [by_action[action]]
        )
    assert not any(
        a.startswith("dynamodb:")
        and a not in {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
        for a in by_action
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


def test_ses_permission_is_scoped_to_sender_and_configuration_set_and_conditional(template):
    ses_policy = next(p for n, p in resources(template, "AWS::IAM::Policy").items() if n.startswith("SesSendPolicy"))
    assert ses_policy["Condition"] == "UsesSes"
    [statement] = ses_policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "ses:SendEmail"
    params = {
        **parameter_values(template, {"SenderAddress": "gd@alerts.example.com", "Channels": "ses"}),
        "AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333",
        "ConfigurationSet": "own-set",
    }  # fmt: skip
    arns = resolve(template, statement["Resource"], params)
    assert arns == [
        "arn:aws:ses:eu-west-1:111122223333:identity/gd@alerts.example.com",
        "arn:aws:ses:eu-west-1:111122223333:identity/alerts.example.com",
        "arn:aws:ses:eu-west-1:111122223333:configuration-set/own-set",
    ]


# --- encryption, topics, queue -------------------------------------------------------------------


def test_customer_managed_key_with_rotation_and_cloudwatch_access(template):
    _name, key = only(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = next(s for s in statements if s.get("Sid") == "AllowCloudWatchAlarmsToUseTheKey")
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_topics_are_encrypted_and_ssl_only(template):
    key, _ = only(template, "AWS::KMS::Key")
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    policies = resources(template, "AWS::SNS::TopicPolicy").values()
    denies = [
        s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]  # fmt: skip
    assert len(denies) == 2


def test_dead_letter_queue(t, template):
    t.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600}
    )
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
    assert any("sns.amazonaws.com" in p for p in principals)


def test_recipient_subscriptions_are_conditional_and_redriven(template):
    dlq, _ = only(template, "AWS::SQS::Queue")
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
    metrics = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()}
    assert metrics == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Events", "FailedInvocations"),
        ("AWS/Events", "InvocationsSentToDlq"),
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": alarm_topic}]
        assert alarm["Properties"]["Threshold"] == 1
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
    _name, subscription = next(
        (n, s) for n, s in resources(template, "AWS::SNS::Subscription").items() if n.startswith("AlarmSubscription")
    )
    assert subscription["Condition"] == "HasAlarmEmail"


def test_outputs(template):
    assert {"AlertTopicArn", "AlarmTopicArn", "FunctionName", "DeadLetterQueueUrl", "RuleName"} <= set(
        template["Outputs"]
    )
