"""Settings: each function's environment -> validated values, with errors naming the variable."""

from __future__ import annotations

import json

import pytest

from responder.app.settings import NotifierSettings, SesTarget, SnsTarget, TriageSettings
from responder.domain.i18n import Locale
from responder.domain.settings import Bands, RunbookSettings, Settings, SettingsError

TOPIC = "arn:aws:sns:us-east-1:123456789012:guardduty-alerts"
QUEUES = {
    "IMMEDIATE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/immediate",
    "DIGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/digest",
}
SNS = {"CHANNELS": "sns", "TOPIC_ARN": TOPIC, **QUEUES}


def test_defaults_are_aws_bands_and_threshold_4():
    s = Settings.from_env({})
    assert s.bands == Bands(4.0, 7.0, 9.0)
    assert s.threshold == 4.0
    assert s.include_samples is True
    assert s.language == "en"
    assert s.display_zone is None


def test_full_notifier_configuration():
    s = NotifierSettings.from_env(
        {
            "BAND_MEDIUM_MIN": "3",
            "BAND_HIGH_MIN": "6.5",
            "BAND_CRITICAL_MIN": "8.5",
            "NOTIFY_THRESHOLD": "6.5",
            "CHANNELS": "SNS, ses",
            "TOPIC_ARN": TOPIC,
            "SES_SENDER": "alerts@example.com",
            "SES_RECIPIENTS": "a@example.com, b@example.org,a@example.com",
            "SES_CONFIGURATION_SET": "security-mail",
            "INCLUDE_SAMPLES": "no",
            "LANGUAGE": "en",
            "IMMEDIATE_BAND": "Critical",
            "DIGEST_MINUTES": "15",
            **QUEUES,
        }
    )
    assert s.immediate_band == "Critical"
    assert s.digest_minutes == 15
    assert s.digest_queue == QUEUES["DIGEST_QUEUE_URL"]
    assert s.bands == Bands(3.0, 6.5, 8.5)
    assert s.threshold == 6.5
    assert s.channels == ("sns", "ses")
    assert s.sns == SnsTarget(TOPIC)
    # the sandbox's rate unless told otherwise
    assert s.ses == SesTarget("alerts@example.com", ("a@example.com", "b@example.org"), "security-mail", 1.0)
    assert s.include_samples is False
    assert s.state_table is None


def test_a_channel_not_chosen_has_no_settings():
    # Given SNS only, with the SES variables the stack sets anyway
    s = NotifierSettings.from_env({**SNS, "SES_SENDER": "alerts@example.com", "SES_RECIPIENTS": "a@example.com"})
    # Then only SNS is configured
    assert (s.channels, s.sns, s.ses) == (("sns",), SnsTarget(TOPIC), None)


def test_triage_reads_its_queues_and_table_and_needs_no_channel():
    s = TriageSettings.from_env({**QUEUES, "STATE_TABLE": "responder-state"})
    assert (s.immediate_queue, s.digest_queue, s.state_table) == (*QUEUES.values(), "responder-state")
    assert not hasattr(s, "channels")


@pytest.mark.parametrize(
    ("model", "env", "variable"),
    [
        (Settings, {"NOTIFY_THRESHOLD": "high"}, "NOTIFY_THRESHOLD"),
        (Settings, {"NOTIFY_THRESHOLD": "11"}, "NOTIFY_THRESHOLD"),
        (Settings, {"NOTIFY_THRESHOLD": "nan"}, "NOTIFY_THRESHOLD"),
        (Settings, {"BAND_MEDIUM_MIN": "7", "BAND_HIGH_MIN": "7"}, "BAND_HIGH_MIN"),
        (Settings, {"INCLUDE_SAMPLES": "maybe"}, "INCLUDE_SAMPLES"),
        (Settings, {"LANGUAGE": "fr"}, "LANGUAGE"),
        (Settings, {"IMMEDIATE_BAND": "high"}, "IMMEDIATE_BAND"),
        (Settings, {"DIGEST_MINUTES": "4"}, "DIGEST_MINUTES"),
        (Settings, {"DIGEST_MINUTES": "1441"}, "DIGEST_MINUTES"),
        (Settings, {"DIGEST_MINUTES": "hourly"}, "DIGEST_MINUTES"),
        (Settings, {"SUPPRESS_ACCOUNTS": "123456789012,12345"}, "SUPPRESS_ACCOUNTS"),
        (Settings, {"SUPPRESS_TAG": "novalue"}, "SUPPRESS_TAG"),
        (Settings, {"DISPLAY_TIMEZONE": "../etc/passwd"}, "DISPLAY_TIMEZONE"),
        (NotifierSettings, {**SNS, "CHANNELS": "sns,slack"}, "CHANNELS"),
        (NotifierSettings, {**QUEUES}, "CHANNELS"),
        (NotifierSettings, {**QUEUES, "CHANNELS": "sns"}, "TOPIC_ARN"),
        (NotifierSettings, {**SNS, "TOPIC_ARN": "arn:aws:sqs:us-east-1:123456789012:q"}, "TOPIC_ARN"),
        (NotifierSettings, {**QUEUES, "CHANNELS": "ses", "SES_RECIPIENTS": "a@example.com"}, "SES_SENDER"),
        (NotifierSettings, {**QUEUES, "CHANNELS": "ses", "SES_SENDER": "a@example.com"}, "SES_RECIPIENTS"),
        # A malformed address is refused even when SES is not chosen: the stack refuses it too.
        (NotifierSettings, {**SNS, "SES_SENDER": "Evil <a@example.com>\r\nBcc: x@example.com"}, "SES_SENDER"),
        (NotifierSettings, {**SNS, "SES_RECIPIENTS": "ok@example.com, not-an-address"}, "SES_RECIPIENTS"),
        (NotifierSettings, {**SNS, "SES_CONFIGURATION_SET": "bad name"}, "SES_CONFIGURATION_SET"),
        (NotifierSettings, {**SNS, "SES_MAX_SEND_RATE": "0.5"}, "SES_MAX_SEND_RATE"),
        (NotifierSettings, {**SNS, "SES_MAX_SEND_RATE": "fast"}, "SES_MAX_SEND_RATE"),
        (NotifierSettings, {**SNS, "DIGEST_QUEUE_URL": "https://evil.example.com/queue"}, "DIGEST_QUEUE_URL"),
        (NotifierSettings, {"CHANNELS": "sns", "TOPIC_ARN": TOPIC}, "DIGEST_QUEUE_URL"),
        (NotifierSettings, {**SNS, "STATE_TABLE": "x"}, "STATE_TABLE"),
        (TriageSettings, {"DIGEST_QUEUE_URL": QUEUES["DIGEST_QUEUE_URL"]}, "IMMEDIATE_QUEUE_URL"),
        (TriageSettings, {"IMMEDIATE_QUEUE_URL": QUEUES["IMMEDIATE_QUEUE_URL"]}, "DIGEST_QUEUE_URL"),
        (TriageSettings, {**QUEUES, "NOTIFY_THRESHOLD": "-1"}, "NOTIFY_THRESHOLD"),
        (Settings, {"ACCOUNT_NAMES": "111122223333=   "}, "ACCOUNT_NAMES"),
        (
            TriageSettings,
            {**QUEUES, "ORGANIZATIONS_ROLE_ARN": "arn:aws:iam::999988887777:user/x"},
            "ORGANIZATIONS_ROLE_ARN",
        ),
        (TriageSettings, {**QUEUES, "ORGANIZATIONS_ROLE_ARN": "role/guardduty-org-read"}, "ORGANIZATIONS_ROLE_ARN"),
        (NotifierSettings, {**SNS, "CHAT_TOPIC_ARN": "https://hooks.example.com/x"}, "CHAT_TOPIC_ARN"),
        (NotifierSettings, {**SNS, "ROUTE_TOPIC_ARN": "arn:aws:sqs:us-east-1:123456789012:q"}, "ROUTE_TOPIC_ARN"),
        (NotifierSettings, {**SNS, "ROUTES_PARAMETER": "routes file"}, "ROUTES_PARAMETER"),
        (NotifierSettings, {**SNS, "RUNBOOK_APPROVALS": "true"}, "RUNBOOK_APPROVALS"),
        (NotifierSettings, {**SNS, "RUNBOOK_EXECUTION_ROLE": "a b"}, "RUNBOOK_EXECUTION_ROLE"),
        (NotifierSettings, {**SNS, "RUNBOOK_EXECUTION_ROLE": "x" * 65}, "RUNBOOK_EXECUTION_ROLE"),
        (NotifierSettings, {**SNS, "RUNBOOK_EXECUTION_ROLE": "a$b"}, "RUNBOOK_EXECUTION_ROLE"),
        (NotifierSettings, {**SNS, "RESPONDER_ACCOUNT": "12345678901"}, "RESPONDER_ACCOUNT"),
        (NotifierSettings, {**SNS, "AWS_REGION": "us-east-1;id"}, "AWS_REGION"),
    ],
)
def test_bad_values_name_the_variable(model, env, variable):
    with pytest.raises(SettingsError) as raised:
        model.from_env(env)
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")


def test_the_organisation_settings_are_unset_unless_given():
    # Given a function environment of an earlier release (none of the organisation's variables)
    notifier, triage = NotifierSettings.from_env(SNS), TriageSettings.from_env(QUEUES)
    # Then no name, no role, no chat, no routes: today's behaviour
    assert (notifier.account_names, triage.account_names) == ({}, {})
    assert triage.organizations_role_arn is None
    assert (notifier.chat_topic_arn, notifier.route_topic_arn, notifier.routes_parameter) == (None, None, None)
    # And the stack's empty CHAT_TOPIC_ARN (chat off) is unset too
    assert NotifierSettings.from_env({**SNS, "CHAT_TOPIC_ARN": ""}).chat_topic_arn is None


def test_the_organisation_settings_as_the_stack_sets_them():
    # Given the variables the stack sets for an organisation (each function gets only its own)
    role = "arn:aws:iam::999988887777:role/guardduty/org-read"
    chat = "arn:aws:sns:us-east-1:123456789012:GuardDutyResponder-ChatTopic23F6C969-AbC"
    routes = "arn:aws:sns:us-east-1:123456789012:GuardDutyResponder-RouteTopic4FEF3899-AbC"
    notifier = NotifierSettings.from_env(
        {
            **SNS,
            "ACCOUNT_NAMES": "111122223333=payments-prod,444455556666=Sandbox (EU)",
            "CHAT_TOPIC_ARN": chat,
            "ROUTE_TOPIC_ARN": routes,
            "ROUTES_PARAMETER": "CFN-RoutesParameter60C9DC97-AbCdEfGhIjKl",
        }
    )
    triage = TriageSettings.from_env({**QUEUES, "ORGANIZATIONS_ROLE_ARN": role})
    # Then each reads them as given
    assert notifier.account_names == {"111122223333": "payments-prod", "444455556666": "Sandbox (EU)"}
    assert (notifier.chat_topic_arn, notifier.route_topic_arn) == (chat, routes)
    assert notifier.routes_parameter == "CFN-RoutesParameter60C9DC97-AbCdEfGhIjKl"
    assert triage.organizations_role_arn == role
    # And a path-style parameter name an operator may choose is accepted too
    assert NotifierSettings.from_env({**SNS, "ROUTES_PARAMETER": "/guardduty/routes"}).routes_parameter == (
        "/guardduty/routes"
    )


def test_the_runbook_settings_are_defaults_unless_given():
    # Given the preview's settings and a notifier of an earlier release (no RUNBOOK_* variables)
    preview, notifier = Settings(), NotifierSettings.from_env(SNS)
    # Then no approvals, no execution role, the responder's account and Region unknown, runbooks on
    assert preview.runbooks == notifier.runbooks == RunbookSettings()
    assert RunbookSettings() == RunbookSettings(False, None, None, None, True)


def test_the_runbook_settings_as_the_stack_and_lambda_set_them():
    # Given the variables the stack sets for the notifier, and the Region Lambda sets
    env = {
        **SNS,
        "RUNBOOK_APPROVALS": "yes",
        "RUNBOOK_EXECUTION_ROLE": "GuardDutyResponder-AutomationExecution",
        "RESPONDER_ACCOUNT": "123456789012",
        "AWS_REGION": "eu-west-1",
    }
    # Then the notifier's runbook settings carry them
    assert NotifierSettings.from_env(env).runbooks == RunbookSettings(
        approvals=True,
        execution_role="GuardDutyResponder-AutomationExecution",
        responder_account="123456789012",
        responder_region="eu-west-1",
    )
    # And "no" and the stack's empty role name (MemberExecutionRoleName unset) are no approvals, no role
    quiet = NotifierSettings.from_env({**env, "RUNBOOK_APPROVALS": "no", "RUNBOOK_EXECUTION_ROLE": ""}).runbooks
    assert (quiet.approvals, quiet.execution_role) == (False, None)
    # And the triage reads none of them
    assert TriageSettings.from_env({**QUEUES, **env}).runbooks == RunbookSettings()


def test_an_error_does_not_echo_the_value():
    with pytest.raises(SettingsError) as raised:
        NotifierSettings.from_env({**SNS, "SES_SENDER": "<script>@evil"})
    assert "script" not in str(raised.value)


def test_the_preview_reads_no_delivery_settings():
    # Given an environment with channels but none of what they need
    s = Settings.from_env({"CHANNELS": "sns,ses", "LANGUAGE": "ja"})
    # Then the shared settings read only their own variables
    assert s.language == "ja"
    assert not hasattr(s, "channels")


def test_the_domain_settings_read_no_process_state():
    # Given the shared settings module (pure domain) / Then it reads only the mapping it is given:
    # the entry modules and the CLI pass os.environ (tests/unit/test_entry_points.py starts them)
    import inspect

    import responder.domain.settings as module

    assert "os.environ" not in inspect.getsource(module)
    with pytest.raises(TypeError):
        Settings.from_env()  # type: ignore[call-arg]


def test_an_empty_variable_is_unset():
    assert Settings.from_env({"NOTIFY_THRESHOLD": " ", "DISPLAY_TIMEZONE": ""}).threshold == 4.0


@pytest.mark.parametrize(("zone", "lang", "shown"), [("America/New_York", "en", "America/New_York"),
                                                     (None, "ja", "Asia/Tokyo"), (None, "en", None),
                                                     ("UTC", "ja", "UTC")])  # fmt: skip
def test_the_display_zone_is_the_setting_else_the_languages(zone, lang, shown):
    env = {"LANGUAGE": lang} | ({"DISPLAY_TIMEZONE": zone} if zone else {})
    settings = Settings.from_env(env)
    assert settings.display_zone == shown
    # and the one locale every email is rendered with carries both, built once
    assert settings.locale == Locale(lang, shown)
    assert settings.locale is settings.locale


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("model", [TriageSettings, NotifierSettings])
def test_an_unknown_well_formed_time_zone_means_utc_only_with_a_warning_and_a_count(model, lang, capsys, caplog):
    # Given a time zone of the right shape that the time zone database lacks (the stack's pattern passes it)
    env = {**SNS, "DISPLAY_TIMEZONE": "Asia/Atlantis", "LANGUAGE": lang}
    # When a function's settings are read
    settings = model.from_env(env)
    # Then the function starts and emails show UTC only (not even the language's zone)
    assert settings.display_zone is None
    assert settings.locale == Locale(lang, None)
    # And a warning is logged and DisplayTimeZoneUnknown counted, naming the zone
    [warning] = [record for record in caplog.records if record.levelname == "WARNING"]
    assert "not a known time zone" in warning.getMessage() and warning.zone == "Asia/Atlantis"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [metric] = lines
    assert metric["DisplayTimeZoneUnknown"] == [1.0]


def test_the_preview_learns_of_an_unknown_time_zone_without_a_log_line_or_a_count(capsys, caplog):
    # Given the preview's settings with a well-formed zone the database lacks
    settings = Settings.from_env({"DISPLAY_TIMEZONE": "Mars/Olympus"})
    # Then it is named for the preview to note, and nothing is written to stdout (the preview's output)
    assert (settings.display_zone, settings.unknown_zone) == (None, "Mars/Olympus")
    assert capsys.readouterr().out == ""
    assert not caplog.records
