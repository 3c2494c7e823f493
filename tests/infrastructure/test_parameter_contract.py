"""The contract between the stack's parameters and the functions' settings: every value
CloudFormation accepts for a parameter (its allowed values, range boundaries, pattern examples,
under the template's rules) gives an environment the functions' settings accept, so a deploy that
succeeds never leaves a function failing at every cold start. Said the other way: what the
settings refuse, CloudFormation refuses.

Both sides are the real ones: the synthesized template's constraints and rules evaluated as
CloudFormation would (infra/resolve.py), and `responder.domain.settings.Settings` reading the
environment the template gives each function, resolved for those parameter values.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra import constants
from infra.parameters import PARAMETERS
from infra.resolve import UnresolvableError, check_parameters, check_rules, parameter_values, resolve
from responder.app.settings import NotifierSettings, TriageSettings
from responder.domain.settings import Settings, SettingsError

ACCOUNT = "123456789012"
# A deploy CloudFormation accepts; each case changes some of it.
BASE = {"Recipients": "secops@example.com", "SenderAddress": "guardduty@example.com"}

EMAILS = [
    "a@example.com", "first.last+tag@mail.example.co.jp", "o'brien@example.ie", "a_b%c-d@x-y.example.org",
    "a" * 64 + "@example.com", "a@" + "b" * 63 + ".com", "a@xn--fiq228c.jp",
    "a@b..com", "a@.example.com", "a@example.com.", "a" * 65 + "@example.com", "a@" + "b" * 64 + ".com",
    ".a@example.com", "a..b@example.com", "a@example", "a@x.c", "Alerts <a@example.com>", "a b@example.com",
    "a@example.com\nBcc: b@example.com", "ü@example.com", "a@[192.0.2.1]", "a@-x.example.com",
]  # fmt: skip
# Values to try beyond those the template itself names (allowed values, range boundaries).
CANDIDATES: dict[str, list[str]] = {
    "NotifyThreshold": ["4", "0.5", "10.0", "abc"],
    "Channels": ["SNS", "email", "ses,sns", ""],
    "Recipients": [*EMAILS, "a@example.com,b@example.org", ",".join(f"r{i}@example.com" for i in range(12)),
                   "a@example.com,a@b..com", "", " a@example.com",
                   ",".join(f"r{i}@example.com" for i in range(60))],  # more than one SES batch of 50
    "SenderAddress": ["", *EMAILS],
    "SesMaxSendRate": ["2.5", "0.5"],
    "CreateSenderIdentity": ["YES", "true"],
    "SesConfigurationSet": ["", "a", "security-mail_1", "x" * 64, "x" * 65, "bad name", "a.b"],
    "IncludeSampleFindings": ["yes", "1", "maybe", "TRUE"],
    "Language": ["fr", "EN", "jp"],
    "DisplayTimeZone": ["", "UTC", "Asia/Tokyo", "America/Argentina/Buenos_Aires", "Etc/GMT+9", "Europe/Paris",
                        "Asia Tokyo", "../etc", "Asia/", "/Tokyo", "a" * 32],
    "SuppressFindingTypes": ["", "Recon:EC2/PortProbe*", "Recon:EC2/PortProbe*,Recon:EC2/Portscan", "x" * 120,
                             "x" * 121, "Recon EC2", "<b>", "a,,b"],
    "SuppressAccounts": ["", ACCOUNT, f"{ACCOUNT},210987654321", "12345", "1234567890123", "12345678901a"],
    "SuppressTag": ["", "guardduty=quiet", "scanner=", "環境=本番", "k" * 128 + "=v", "k=" + "v" * 256,
                    "k =v", "k= v ", " =x", "\u3000=x", "\t=x", "\x1c=x", "novalue", "a=b,c=d", "=x", "k\n=v",
                    "k" * 129 + "=v", "k=" + "v" * 257],
    "RenotifyHours": ["0.5", "-1"],
    "ImmediateBand": ["high", "Urgent"],
    "DigestMinutes": ["7.5", "4.9", "1e3", "05", "1441", "5", "1440", " 60", "60.0"],
    "ObjectScanAlerts": ["YES", "true", ""],
    "AlarmEmail": ["", *EMAILS],
    "AccountNames": ["", "111122223333=payments-prod", "111122223333=payments-prod,444455556666=Sandbox (EU)",
                     "111122223333=a=b", "111122223333=<b>&'\"", "111122223333=" + "x" * 50,
                     "111122223333=pay ments", "111122223333=a,b", "1111=x", "111122223333=", "111122223333=" + "x" * 51,
                     "111122223333= x", "111122223333=x ", "111122223333=   ", "111122223333=本番", "111122223333 =x",
                     "1111222233334=x", "\u0661" * 12 + "=x", "111122223333=a\tb", "111122223333=a\nb"],
    "OrganizationsRoleArn": ["", "arn:aws:iam::111122223333:role/guardduty-org-read",
                             "arn:aws-cn:iam::111122223333:role/path/to/reader",
                             "arn:aws-us-gov:iam::111122223333:role/a+=,.@_-", "arn:aws:iam::111122223333:role/" + "r" * 512,
                             "arn:aws:iam::111122223333:role/" + "r" * 513, "arn:aws:iam::111122223333:user/x",
                             "arn:aws:iam::1111:role/x", "role/x", "arn:aws:iam::111122223333:role/a b",
                             "arn:aws:iam::111122223333:role/"],
    "ChatNotifications": ["YES", "true", ""],
    # Alone, each chat id is refused by the rules (test_chat_ids_are_accepted_only_together has the pairs)
    "ChatSlackWorkspaceId": ["", "T012ABCDEFG", "T-1", "T 1"],
    "ChatSlackChannelId": ["", "C0123ABCDEF", "#general"],
    "ChatTeamsTeamId": ["", "0123abcd-0123-4567-89ab-0123456789AB", "not-a-guid"],
    "ChatTeamsTenantId": ["", "0123abcd-0123-4567-89ab-0123456789AB", "{0123abcd-0123-4567-89ab-0123456789ab}"],
    "ChatTeamsChannelId": ["", "19%3a0123456789abcdef%40thread.tacv2", "19:0123456789abcdef@thread.tacv2"],
    "RunbookApprovers": ["", "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:role/path/to/SecOps",
                         "arn:aws-us-gov:iam::111122223333:role/Approver",
                         "arn:aws:iam::111122223333:user/alice,arn:aws:iam::444455556666:role/SecOps",
                         "arn:aws:iam::111122223333:group/Admins", "arn:aws:sts::111122223333:assumed-role/R/s",
                         "arn:aws:iam::1111:user/a", "arn:aws:iam::111122223333:user/a b"],
    "MemberExecutionRoleName": ["", "GuardDutyResponder-AutomationExecution", "path/Role", "r" * 64, "r" * 65,
                                "a b", "a$b", "Rôle", "a=b", "a,b"],
    "AutomationAdministrationRole": ["YES", "true", ""],
}  # fmt: skip
SLACK = {"ChatSlackWorkspaceId": "T012ABCDEFG", "ChatSlackChannelId": "C0123ABCDEF"}
TEAMS = {
    "ChatTeamsTeamId": "0123abcd-0123-4567-89ab-0123456789ab",
    "ChatTeamsTenantId": "89abcdef-0123-4567-89ab-0123456789ab",
    "ChatTeamsChannelId": "19%3a0123456789abcdef%40thread.tacv2",
}
# Well-formed names the time zone database lacks: no pattern can refuse them (a list of every
# zone as AllowedValues would tie the template to the deploying machine's tzdata), so the
# functions accept them and show UTC only.
UNKNOWN_ZONES = ("Mars/Olympus", "Asia/Atlantis")
# Each function reads its own settings model.
MODELS: dict[str, type[Settings]] = {
    constants.TRIAGE_HANDLER: TriageSettings,
    constants.NOTIFIER_HANDLER: NotifierSettings,
}


def _numbers(spec: dict[str, Any]) -> list[str]:
    low, high = float(spec["MinValue"]), float(spec["MaxValue"])
    step = 0.1 if not (low.is_integer() and high.is_integer()) else 1
    values = [low, high, (low + high) / 2, low - step, high + step]
    return [f"{value:g}" if float(value).is_integer() else f"{value:.1f}" for value in values]


def _cases(template: dict[str, Any]) -> list[tuple[str, str]]:
    cases = []
    for name, spec in template["Parameters"].items():
        if name == "BootstrapVersion":
            continue
        values = list(spec.get("AllowedValues", []))
        if "MinValue" in spec:
            values += _numbers(spec)
        values += CANDIDATES.get(name, [])
        cases += [(name, value) for value in dict.fromkeys(values)]
    return cases


def _cloudformation_accepts(template: dict[str, Any], overrides: dict[str, str]) -> bool:
    values = parameter_values(template, {**BASE, **overrides})
    try:
        check_parameters(template, values)
        check_rules(template, values)
    except UnresolvableError:
        return False
    return True


def _environments(template: dict[str, Any], overrides: dict[str, str]) -> list[dict[str, str]]:
    """Each function's environment as CloudFormation would set it for these parameter values."""
    resources = template["Resources"]

    def logical_id(kind: str, prefix: str) -> str:
        [name] = [n for n, r in resources.items() if r["Type"] == kind and n.startswith(prefix)]
        return name

    refs = {
        **parameter_values(template, {**BASE, **overrides}),
        logical_id("AWS::SNS::Topic", "AlertTopic"): f"arn:aws:sns:us-east-1:{ACCOUNT}:GuardDutyResponder-AlertTopic",
        logical_id("AWS::DynamoDB::Table", "StateTable"): "GuardDutyResponder-StateTable",
        logical_id("AWS::SQS::Queue", "ImmediateQueue"): f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/Immediate",
        logical_id("AWS::SQS::Queue", "DigestQueue"): f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/Digest",
        "ConfigurationSet": "GuardDutyResponder-ConfigurationSet",
        logical_id("AWS::SNS::Topic", "RouteTopic"): f"arn:aws:sns:us-east-1:{ACCOUNT}:GuardDutyResponder-RouteTopic",
        logical_id("AWS::SNS::Topic", "ChatTopic"): f"arn:aws:sns:us-east-1:{ACCOUNT}:GuardDutyResponder-ChatTopic",
        logical_id("AWS::SSM::Parameter", "RoutesParameter"): "CFN-RoutesParameter60C9DC97-AbCdEfGhIjKl",
        "AWS::AccountId": ACCOUNT,
    }
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    return [
        {key: str(resolve(template, value, refs)) for key, value in f["Properties"]["Environment"]["Variables"].items()}
        for f in functions
    ]


def _settings_accept(template: dict[str, Any], overrides: dict[str, str]) -> bool:
    """Whether each function's own settings model accepts the environment the template gives it."""
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    models = [MODELS[f["Properties"]["Handler"]] for f in functions]
    try:
        for model, environment in zip(models, _environments(template, overrides), strict=True):
            model.from_env(environment)
    except SettingsError:
        return False
    return True


def test_every_value_cloudformation_accepts_is_accepted_by_the_functions(template):
    # Given every parameter's allowed values, range boundaries and pattern examples, each on a good deploy
    violations, accepted, refused = [], set(), set()
    for name, value in _cases(template):
        # When CloudFormation accepts the deploy
        if not _cloudformation_accepts(template, {name: value}):
            refused.add(name)
            continue
        accepted.add(name)
        # Then both functions start with the environment it gives them
        if not _settings_accept(template, {name: value}):
            violations.append((name, value))
    assert not violations
    # And the cases reach every parameter on both sides of its constraints
    parameters = {p.name for p in PARAMETERS}
    assert accepted == parameters
    assert refused == parameters


def test_what_the_functions_refuse_cloudformation_refuses(template):
    # Given the values the functions' settings refuse (the same cases, seen from the other side)
    refused_by_settings = [
        (name, value) for name, value in _cases(template) if not _settings_accept(template, {name: value})
    ]
    # Then CloudFormation refuses every one of them (a@b..com, " =x", 65-character local parts ...)
    assert refused_by_settings
    assert not [case for case in refused_by_settings if _cloudformation_accepts(template, dict([case]))]
    assert ("SenderAddress", "a@b..com") in refused_by_settings
    assert ("SuppressTag", " =x") in refused_by_settings


@pytest.mark.parametrize("channels", ["sns", "ses", "sns,ses"])
@pytest.mark.parametrize("sender", ["", "guardduty@example.com"])
@pytest.mark.parametrize("identity", ["yes", "no"])
def test_channel_sender_and_identity_combinations(template, channels, sender, identity):
    # Given a combination of the parameters the template's rules tie together
    overrides = {"Channels": channels, "SenderAddress": sender, "CreateSenderIdentity": identity}
    # Then CloudFormation accepts it only where the functions do (ses needs a sender, as SES_SENDER)
    if _cloudformation_accepts(template, overrides):
        assert _settings_accept(template, overrides)
    else:
        assert sender == ""


@pytest.mark.parametrize(
    "bands",
    [("1.0", "6.0", "8.5"), ("5.9", "6.0", "8.5"), ("5.9", "8.4", "8.5"), ("4.0", "7.0", "10.0"), ("1", "6", "10")],
)
def test_every_band_combination_cloudformation_accepts_stays_in_order(template, bands):
    # Given band boundaries at the corners of their ranges
    overrides = dict(zip(("BandMediumMin", "BandHighMin", "BandCriticalMin"), bands, strict=True))
    # Then CloudFormation accepts them and the functions do too (the ranges are disjoint)
    assert _cloudformation_accepts(template, overrides)
    assert _settings_accept(template, overrides)


def test_every_threshold_cloudformation_accepts_is_a_rule_floor(template):
    # Given each threshold value the parameter allows
    for value in constants.THRESHOLD_VALUES:
        # Then the functions take it as their own threshold too
        [triage, notifier] = _environments(template, {"NotifyThreshold": value})
        assert Settings.from_env(triage).threshold == Settings.from_env(notifier).threshold == float(value)


@pytest.mark.parametrize("zone", UNKNOWN_ZONES)
def test_an_unknown_well_formed_time_zone_starts_both_functions_showing_utc_only(template, zone):
    # Given a time zone name of the right shape that is not in the time zone database
    overrides = {"DisplayTimeZone": zone, "Language": "ja"}
    # Then CloudFormation accepts it and so do both functions (no failure at every cold start)
    assert _cloudformation_accepts(template, overrides)
    assert _settings_accept(template, overrides)
    # And their emails show UTC only, not the zone nor the language's default
    assert {Settings.from_env(env).display_zone for env in _environments(template, overrides)} == {None}


@pytest.mark.parametrize("model", [TriageSettings, NotifierSettings])
def test_the_settings_defaults_are_the_parameters_defaults(model):
    # Given what the stack passes when every parameter keeps its default (an empty default is "unset")
    defaults = {p.env: p.default for p in PARAMETERS if p.env and p.default}
    # And the variables the model cannot do without (the stack always fills them in)
    required = {
        "CHANNELS": "sns",
        "TOPIC_ARN": f"arn:aws:sns:us-east-1:{ACCOUNT}:Alerts",
        "IMMEDIATE_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/Immediate",
        "DIGEST_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/Digest",
    }
    # When the model reads them, and when it reads nothing but the required ones
    from_stack = model.from_env({**required, **defaults})
    own_defaults = model.from_env(required)
    # Then every default the model writes for itself is the parameter's default (one source of truth)
    assert from_stack == own_defaults


@pytest.mark.parametrize("given", [{}, SLACK, TEAMS, {**SLACK, **TEAMS}, {"ChatNotifications": "yes"}])
@pytest.mark.parametrize("missing", [None, *SLACK, *TEAMS])
def test_chat_ids_are_accepted_only_together_and_turn_chat_on(template, given, missing):
    # Given the chat settings of a deploy, with one id left out
    overrides = {name: value for name, value in given.items() if name != missing}
    accepted = _cloudformation_accepts(template, overrides)
    # Then CloudFormation accepts a configuration's ids only all together (Slack: two, Teams: three)
    incomplete = missing in given
    assert accepted is not incomplete
    if not accepted:
        return
    # And the notifier publishes to the chat topic exactly when chat is on, which its settings accept
    assert _settings_accept(template, overrides)
    [notifier] = [env for env in _environments(template, overrides) if "CHANNELS" in env]
    chat_topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:GuardDutyResponder-ChatTopic"
    assert notifier["CHAT_TOPIC_ARN"] == (chat_topic if overrides else "")
    assert NotifierSettings.from_env(notifier).chat_topic_arn == (chat_topic if overrides else None)


def test_the_account_names_reach_both_functions_as_the_settings_read_them(template):
    # Given names for two accounts, one with spaces and punctuation inside its name
    overrides = {"AccountNames": "111122223333=payments-prod,444455556666=Sandbox (EU) #2"}
    assert _cloudformation_accepts(template, overrides)
    # Then both functions read the same mapping
    for environment in _environments(template, overrides):
        assert Settings.from_env(environment).account_names == {
            "111122223333": "payments-prod",
            "444455556666": "Sandbox (EU) #2",
        }


def test_an_account_named_twice_still_starts_both_functions(template):
    # Given the same account named twice (a copy-paste slip)
    overrides = {"AccountNames": "111122223333=payments-prod,111122223333=payments"}
    # When CloudFormation accepts it (it cannot compare list items)
    assert _cloudformation_accepts(template, overrides)
    # Then both functions still start
    assert _settings_accept(template, overrides)


def test_the_role_to_assume_reaches_the_triage_function_only(template):
    # Given a role in the management account
    role = "arn:aws:iam::999988887777:role/guardduty-org-read"
    overrides = {"OrganizationsRoleArn": role}
    assert _cloudformation_accepts(template, overrides)
    # Then the triage function reads it; the notifier is not given it
    triage, notifier = sorted(_environments(template, overrides), key=lambda env: "CHANNELS" in env)
    assert TriageSettings.from_env(triage).organizations_role_arn == role
    assert "ORGANIZATIONS_ROLE_ARN" not in notifier
