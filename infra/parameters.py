"""Every stack parameter, declared once: name, type, default, constraints, environment variable, text.

The deployable stack derives its CfnParameters and cross-parameter rules from ``PARAMETERS`` and
``REQUIREMENTS``; ``GuardDutyResponder`` takes one keyword per parameter (``NotifyThreshold`` ->
``notify_threshold``) and checks plain values against the same constraints; the functions'
environment is built from ``Parameter.env``; the README's "Stack parameters" table is
``markdown_table()`` (``.venv/bin/python -m infra.parameters`` prints it; a test compares).

No CDK import here: the table is plain data, cheap to read from tests and tools.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from infra import constants

Kind = Literal["String", "Number", "CommaDelimitedList"]

# An address the functions' settings accept too (lambdas/responder/domain/settings.py `_EMAIL`), and no more:
# a local part of 1 to 64 characters not starting or ending with a dot; a domain of labels of 1 to
# 63 letters, digits or inner hyphens (so no empty label: `a@b..com` is refused) and a TLD of letters.
# No look-arounds: CloudFormation evaluates AllowedPattern with Java's regex engine, the tests with
# Python's, and this subset means the same in both.
EMAIL: Final = (
    r"[A-Za-z0-9_%+-]([A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
# Every character Python's str.strip() removes (str.isspace()), written out: the functions strip
# values, so a tag key made only of these would be empty for them. Java's \s covers fewer of them.
WHITESPACE: Final = r"\t\n\x0b\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# One AccountNames entry as the functions read it (responder.domain.settings `_account_names`): a
# 12-digit id, "=", and a name an Organizations account may have (printable ASCII, 1 to 50
# characters, `SAFE_NAME`) without a comma (the list's separator). The name neither starts nor
# ends with a space: the functions strip it, so a name of spaces would be empty for them. [0-9],
# not \d: Python's \d also matches other scripts' digits, Java's does not.
ACCOUNT_NAME: Final = r"[0-9]{12}=[!-+\--~]([ -+\--~]{0,48}[!-+\--~])?"
# responder.domain.settings ROLE_ARN, with [0-9] for \d (see ACCOUNT_NAME).
ROLE_ARN: Final = r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}"
# Amazon Q Developer in chat applications' own patterns (chatbot API reference: SlackTeamId,
# SlackChannelId, TeamId, TenantId, TeamsChannelId), without their look-arounds.
SLACK_ID: Final = r"[A-Za-z0-9]{1,255}"
GUID: Final = r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
TEAMS_CHANNEL: Final = r"[A-Za-z0-9_=+/.,-]{0,200}%3[aA][A-Za-z0-9_=+/.,-]{0,200}%40[A-Za-z0-9_=+/.,-]{0,200}"
# An IAM user or role ARN, as aws:approve's Approvers take them (groups and assumed-role sessions refused).
APPROVER_ARN: Final = r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:(user|role)/[A-Za-z0-9+=,.@_/-]{1,512}"
# An execution role name as Automation's TargetLocation.ExecutionRoleName takes it ([\w+=,.@/-], 1 to 64),
# with [A-Za-z0-9_] for \w (Java's and Python's \w differ beyond ASCII), and without "," and "=": the
# CLI's shorthand syntax of the email's --target-locations command splits on them.
EXECUTION_ROLE: Final = r"[A-Za-z0-9+.@_/-]{1,64}"


@dataclass(frozen=True)
class Parameter:
    """One stack parameter and everything derived from it."""

    name: str  # the CloudFormation parameter (and its logical ID)
    kind: Kind
    description: str  # CloudFormation's Description (shown in the console)
    doc: str  # the README table's "meaning" column
    default: str | None = None  # None: the deploy must give a value
    allowed_values: tuple[str, ...] = ()
    pattern: str | None = None  # the whole AllowedPattern, anchors included
    constraint: str | None = None  # ConstraintDescription
    min_value: float | None = None
    max_value: float | None = None
    env: str | None = None  # the functions' environment variable; None: the stack alone uses it
    allowed_doc: str | None = None  # the README's "allowed" column where the constraints do not say it well
    # Most items of a CommaDelimitedList. CloudFormation cannot count a list's items (no rule function
    # does), so only plain values given to the construct are refused; the description states it.
    max_items: int | None = None

    @property
    def prop(self) -> str:
        """The keyword of ``GuardDutyResponder``: ``NotifyThreshold`` -> ``notify_threshold``."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()

    def to_text(self, value: object) -> str | list[str]:
        """A plain Python value as CloudFormation would pass it (``True`` -> ``"true"``, 7 -> ``"7.0"``)."""
        if self.kind == "CommaDelimitedList":
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise ValueError(f"{self.prop}: a list of strings, not {type(value).__name__}")
            return [str(item) for item in value]
        if isinstance(value, bool):
            choices = {("true", "false"): ("true", "false"), ("yes", "no"): ("yes", "no")}
            if self.allowed_values not in choices:
                raise ValueError(f"{self.prop}: not a yes/no parameter")
            return choices[self.allowed_values][0 if value else 1]
        if self.kind == "Number" and isinstance(value, int | float):
            # "7" would not be one of NotifyThreshold's allowed "7.0": take the allowed spelling.
            spelled = [v for v in self.allowed_values if float(v) == value]
            return spelled[0] if spelled else str(value)
        if self.kind == "String" and isinstance(value, int) and self.pattern is not None:
            return str(value)  # a whole number given for a String parameter that takes digits (DigestMinutes)
        if not isinstance(value, str):
            raise ValueError(f"{self.prop}: expected a {self.kind} value, not {type(value).__name__}")
        return value

    def refusal(self, value: str | list[str]) -> str | None:
        """Why CloudFormation would refuse ``value`` for this parameter, or None (and, for a list,
        more than ``max_items`` items, which only the construct can refuse).
        """
        if isinstance(value, list) and self.max_items is not None and len(value) > self.max_items:
            return f"{self.prop}: {len(value)} items, at most {self.max_items}"
        for item in value if isinstance(value, list) else [value]:
            if self.allowed_values and item not in self.allowed_values:
                return f"{self.prop}: {item!r} is not one of {', '.join(self.allowed_values)}"
            if self.pattern is not None and not re.fullmatch(self.pattern, item):
                return f"{self.prop}: {item[:80]!r} is not {self.constraint}"
            if self.kind == "Number":
                try:
                    number = float(item)
                except ValueError:
                    return f"{self.prop}: {item[:40]!r} is not a number"
                low = -math.inf if self.min_value is None else self.min_value
                high = math.inf if self.max_value is None else self.max_value
                if not low <= number <= high:
                    return f"{self.prop}: {item} is outside {self.range_text}"
        return None

    @property
    def range_text(self) -> str:
        return f"{_number(self.min_value)}-{_number(self.max_value)}"


@dataclass(frozen=True)
class Requirement:
    """A cross-parameter rule: when ``parameter`` has one of ``values`` (``None``: any value but the
    empty one), ``needs`` must not be empty.
    """

    rule_id: str  # the logical ID of the template rule
    parameter: str
    values: tuple[str, ...] | None
    needs: str
    message: str

    def applies(self, value: str | None) -> bool:
        """Whether the rule holds for ``parameter`` = ``value`` (None: not known before the deploy)."""
        if value is None:
            return False
        return value != "" if self.values is None else value in self.values


def _number(value: float | None) -> str:
    return "" if value is None else str(value)  # 1.0 for a score, 10000 for a count: as declared


def choice(name: str, *, default: str, values: Sequence[str], description: str, doc: str, env: str | None) -> Parameter:
    """A String parameter with a fixed set of values."""
    return Parameter(name, "String", description, doc, default=default, allowed_values=tuple(values), env=env)


def optional(
    name: str, *, pattern: str, what: str, description: str, doc: str, env: str | None, allowed_doc: str | None = None
) -> Parameter:
    """A String parameter that is empty by default or matches ``pattern``."""
    return Parameter(
        name, "String", description, doc, default="", pattern=f"^$|^{pattern}$", constraint=f"empty, or {what}",
        env=env, allowed_doc=allowed_doc or what,
    )  # fmt: skip


def score(name: str, *, default: str, low: float, high: float, text: str, doc: str, env: str) -> Parameter:
    """A severity boundary; the bands' ranges are disjoint, so the bands always stay in order."""
    return Parameter(
        name, "Number", f"{text} From {low} to {high}; the ranges keep the bands in order.", doc, default=default,
        min_value=low, max_value=high, env=env,
    )  # fmt: skip


def number(name: str, *, default: str, low: int, high: int, description: str, doc: str, env: str) -> Parameter:
    """A Number parameter within ``low`` and ``high``."""
    return Parameter(name, "Number", description, doc, default=default, min_value=low, max_value=high, env=env)


# In template order (the console lists them in this order too).
PARAMETERS: Final[tuple[Parameter, ...]] = (
    Parameter(
        "NotifyThreshold",
        "Number",
        "Findings with a lower severity are not emailed (the rule filters them out). "
        "4.0 = Medium and above, 7.0 = High and above, 9.0 = Critical only.",
        "lowest severity emailed; the EventBridge rule drops the rest before they reach the function",
        default="4.0",
        allowed_values=constants.THRESHOLD_VALUES,
        env="NOTIFY_THRESHOLD",
        allowed_doc=f"`{constants.THRESHOLD_VALUES[0]}` ... `{constants.THRESHOLD_VALUES[-1]}` (whole numbers)",
    ),
    score(
        "BandMediumMin",
        default="4.0", low=1.0, high=5.9,
        text="Lowest severity of the Medium band.",
        doc="lowest severity of Medium",
        env="BAND_MEDIUM_MIN",
    ),
    score(
        "BandHighMin",
        default="7.0", low=6.0, high=8.4,
        text="Lowest severity of the High band.",
        doc="lowest severity of High",
        env="BAND_HIGH_MIN",
    ),
    score(
        "BandCriticalMin",
        default="9.0", low=8.5, high=10.0,
        text="Lowest severity of the Critical band.",
        doc="lowest severity of Critical",
        env="BAND_CRITICAL_MIN",
    ),
    choice(
        "Channels",
        default="sns", values=["sns", "ses", "sns,ses"],
        description="sns: plain-text email through the SNS topic; ses: HTML and text email through "
        "Amazon SES (needs SenderAddress); sns,ses: both.",
        doc="how alerts are sent",
        env="CHANNELS",
    ),
    Parameter(
        "Recipients",
        "CommaDelimitedList",
        f"Who receives the alerts. With sns, the first {constants.MAX_SNS_SUBSCRIPTIONS} "
        "get an SNS email subscription (each must confirm it); with ses, all of them.",
        f"SES recipients (all, 50 per message); SNS email subscriptions (the first {constants.MAX_SNS_SUBSCRIPTIONS})",
        pattern=f"^{EMAIL}$",
        constraint="a comma-separated list of email addresses",
        env="SES_RECIPIENTS",
        allowed_doc="email addresses, comma-separated",
    ),
    optional(
        "SenderAddress",
        pattern=EMAIL, what="one email address",
        description="SES sender (From) address; its address or domain must be verified in SES.",
        doc="SES From address (required when `Channels` includes `ses`)",
        env="SES_SENDER",
    ),
    number(
        "SesMaxSendRate",
        default="1", low=1, high=10000,
        description="Your account's SES maximum send rate, in messages per second (SES console, "
        "Account dashboard; the sandbox allows 1). The notifier paces its SES emails to it.",
        doc="your account's SES maximum send rate (messages per second; the sandbox allows 1, see the SES "
        "console's account dashboard); the notifier paces its SES messages to it",
        env="SES_MAX_SEND_RATE",
    ),
    choice(
        "CreateSenderIdentity",
        default="no", values=["yes", "no"],
        description="yes: create the SES email identity for SenderAddress (SES then emails a verification link "
        "to it).",
        doc="create the SES identity for the sender",
        env=None,
    ),
    optional(
        "SesConfigurationSet",
        pattern="[A-Za-z0-9_-]{1,64}", what="an SES configuration set name",
        description="Existing SES configuration set to send with; empty uses the one this stack "
        "creates (TLS required, no open or click tracking).",
        doc="send with your own configuration set instead of the stack's",
        env="SES_CONFIGURATION_SET",  # empty: the responder fills in the configuration set it creates
    ),
    choice(
        "IncludeSampleFindings",
        default="true", values=["true", "false"],
        description="Email GuardDuty sample findings (marked [SAMPLE]).",
        doc="email GuardDuty sample findings (marked `[SAMPLE]`)",
        env="INCLUDE_SAMPLES",
    ),
    choice(
        "Language",
        default="en", values=["en", "ja"],
        description="Email language: en (English) or ja (Japanese, 日本語).",
        doc="email language (English, Japanese)",
        env="LANGUAGE",
    ),
    optional(
        "DisplayTimeZone",
        pattern="[A-Za-z][A-Za-z0-9_+-]{0,30}(/[A-Za-z0-9_+-]{1,30}){0,2}",
        what="an IANA time zone such as Asia/Tokyo",
        description="Time zone shown next to UTC for the timestamps in emails (IANA name, e.g. Asia/Tokyo); "
        "empty: Asia/Tokyo (JST) for ja, UTC only for en.",
        doc="shown next to UTC for every timestamp in the emails; empty: `Asia/Tokyo` (JST) for `ja`, UTC only "
        "for `en`",
        env="DISPLAY_TIMEZONE",
        allowed_doc="an IANA time zone, e.g. `Asia/Tokyo`",
    ),
    Parameter(
        "SuppressFindingTypes",
        "CommaDelimitedList",
        "Finding types not to email, as glob patterns (e.g. Recon:EC2/PortProbe*). Each "
        "suppressed finding is logged with the rule and counted.",
        "findings not to email, e.g. `Recon:EC2/PortProbe*`",
        default="",
        pattern="^$|^[A-Za-z0-9:/._!&*?-]{1,120}$",
        constraint="finding types or glob patterns such as Recon:EC2/PortProbe*",
        env="SUPPRESS_FINDING_TYPES",
        allowed_doc="finding types or glob patterns, comma-separated",
    ),
    Parameter(
        "SuppressAccounts",
        "CommaDelimitedList",
        "Account ids whose findings are not emailed (logged and counted).",
        "accounts whose findings are not emailed",
        default="",
        pattern=r"^$|^\d{12}$",
        constraint="12-digit account ids",
        env="SUPPRESS_ACCOUNTS",
        allowed_doc="12-digit account ids, comma-separated",
    ),
    optional(
        "SuppressTag",
        # The key starts with a character the functions do not strip, so it is never empty for them.
        pattern=rf"[^=,{WHITESPACE}][^=,\r\n]{{0,127}}=[^,\r\n]{{0,256}}",
        what="key=value",
        description="Resource tag (key=value) that silences findings on the resources carrying it.",
        doc="findings on resources carrying this tag are not emailed",
        env="SUPPRESS_TAG",
        allowed_doc="`key=value`",
    ),
    number(
        "RenotifyHours",
        default="24", low=0, high=8760,
        description="An update of a finding already emailed is emailed again when its band rises, or "
        "when this many hours have passed since the last email about it (0 = never).",
        doc="an unchanged finding still being republished is emailed again after this many hours since the last "
        "email (0 = never)",
        env="RENOTIFY_HOURS",
    ),
    choice(
        "ImmediateBand",
        default="High", values=["Low", "Medium", "High", "Critical"],
        description="Findings in this band and above are emailed within about a minute (several arriving "
        "together are grouped); lower ones go into the periodic digest.",
        doc="this band and above are emailed within about a minute (grouped when several arrive together); "
        "lower bands go into the digest",
        env="IMMEDIATE_BAND",
    ),
    Parameter(
        "DigestMinutes",
        "String",
        "Whole minutes between digest emails of the findings below ImmediateBand (5 to 1440); "
        "no email when there is nothing new.",
        "minutes between digest emails of the findings below `ImmediateBand` (no email when there is "
        "nothing new)",
        default="60",
        # A whole number from 5 to 1440: EventBridge's rate() takes whole minutes only, so a Number
        # parameter (7.5 allowed) would fail the deploy half-way, at the schedule.
        pattern=r"^([5-9]|[1-9][0-9]|[1-9][0-9][0-9]|1[0-3][0-9][0-9]|14[0-3][0-9]|1440)$",
        constraint="a whole number of minutes from 5 to 1440",
        env="DIGEST_MINUTES",
        allowed_doc="whole minutes, 5-1440",
    ),
    choice(
        "ObjectScanAlerts",
        default="no", values=["yes", "no"],
        description="yes: also alert on GuardDuty Malware Protection for S3 scan results (THREATS_FOUND; "
        "SKIPPED and FAILED scans as a digest line), for buckets protected without a GuardDuty detector. "
        "An object that also yields an Object:S3/MaliciousFile finding is emailed once.",
        doc="also alert on Malware Protection for S3 object scan results (threats found at once or in the "
        "digest by band; skipped or failed scans as a digest line); one email per object even when GuardDuty "
        "also reports it as a finding",
        env=None,
    ),
    optional(
        "AlarmEmail",
        pattern=EMAIL, what="one email address",
        description="Operator address subscribed to the alarm topic (dead-letter queue, errors, throttles).",
        doc="operator subscribed to the alarm topic",
        env=None,
    ),
    Parameter(
        "AccountNames",
        "CommaDelimitedList",
        "Account names as id=name (e.g. 111122223333=payments-prod), shown as 'payments-prod (111122223333)' "
        "for accounts AWS Organizations does not name (no access to it, or not in the organisation).",
        "account names (`111122223333=payments-prod`) shown next to the id where AWS Organizations does not "
        "name the account; the organisation's own name comes first. A few dozen at most: a function's "
        "environment holds 4 KB in all, and a longer one fails the deploy",
        default="",
        pattern=f"^$|^{ACCOUNT_NAME}$",
        constraint="12-digit account id=name entries (printable ASCII names of 1 to 50 characters, no comma)",
        env="ACCOUNT_NAMES",
        allowed_doc="`id=name` entries, comma-separated (names: printable ASCII, 1-50 characters)",
    ),
    optional(
        "OrganizationsRoleArn",
        pattern=ROLE_ARN, what="an IAM role ARN",
        description="Role in the Organizations management account (or its delegated administrator) the triage "
        "function assumes to read account names, OUs and tags; empty: its own role reads them.",
        doc="role the triage function assumes to read account names, OUs and tags (in the management account "
        "when this account is not it or its delegated administrator); empty: its own role",
        env="ORGANIZATIONS_ROLE_ARN",
    ),
    choice(
        "ChatNotifications",
        default="no", values=["yes", "no"],
        description="yes: publish each alert to the chat topic (ChatTopicArn output) for Amazon Q Developer in "
        "chat applications; also on when the Slack or Teams ids below are given.",
        doc="publish each alert to the chat topic (Amazon Q Developer in chat applications: Slack, Microsoft "
        "Teams); on by itself when Slack or Teams ids are given",
        env=None,  # the stack sets CHAT_TOPIC_ARN, empty when chat is off
    ),
    optional(
        "ChatSlackWorkspaceId",
        pattern=SLACK_ID, what="a Slack workspace id such as T012ABCDEFG",
        description="Slack workspace id, authorised first in the Amazon Q Developer console; with "
        "ChatSlackChannelId the stack creates the channel configuration.",
        doc="Slack workspace (authorised in the Amazon Q Developer console first); with `ChatSlackChannelId`",
        env=None,
    ),
    optional(
        "ChatSlackChannelId",
        pattern=SLACK_ID, what="a Slack channel id such as C0123ABCDEF",
        description="Slack channel id (the end of the channel's link); with ChatSlackWorkspaceId.",
        doc="Slack channel the alerts are posted to; with `ChatSlackWorkspaceId`",
        env=None,
    ),
    optional(
        "ChatTeamsTeamId",
        pattern=GUID, what="a Microsoft Teams team id (a GUID)",
        description="Microsoft Teams team id, authorised first in the Amazon Q Developer console; with "
        "ChatTeamsTenantId and ChatTeamsChannelId the stack creates the channel configuration.",
        doc="Microsoft Teams team (authorised in the Amazon Q Developer console first); with the tenant and "
        "channel ids",
        env=None,
    ),
    optional(
        "ChatTeamsTenantId",
        pattern=GUID, what="a Microsoft Teams tenant id (a GUID)",
        description="Microsoft Teams tenant id; with ChatTeamsTeamId and ChatTeamsChannelId.",
        doc="Microsoft Teams tenant; with the team and channel ids",
        env=None,
    ),
    optional(
        "ChatTeamsChannelId",
        pattern=TEAMS_CHANNEL, what="a Microsoft Teams channel id (URL-encoded, with %3a and %40)",
        description="Microsoft Teams channel id as the channel's link has it (URL-encoded: 19%3a...%40thread.tacv2); "
        "with ChatTeamsTeamId and ChatTeamsTenantId.",
        doc="Microsoft Teams channel the alerts are posted to (URL-encoded, as in its link); with the team and "
        "tenant ids",
        env=None,
        allowed_doc="a Teams channel id, URL-encoded (`19%3a...%40thread.tacv2`)",
    ),
    Parameter(
        "RunbookApprovers",
        "CommaDelimitedList",
        f"IAM user or role ARNs (at most {constants.RUNBOOK_APPROVERS_MAX}) of whom one must approve in the Systems "
        "Manager console before a containment runbook changes anything (two-person rule); empty: no approval step.",
        "when given, the containment runbooks (isolate, credentials, public access) start with an approval "
        "step one of them must approve in the "
        "Systems Manager console (notified through the approval topic, subscribed with `AlarmEmail`); runs in "
        "member accounts through the responder's account are then not offered (approvals do not cross accounts)",
        default="",
        pattern=f"^$|^{APPROVER_ARN}$",
        constraint="IAM user or role ARNs, comma-separated",
        env=None,  # the stack sets RUNBOOK_APPROVALS (yes/no) from the HasRunbookApprovers condition
        allowed_doc=f"IAM user or role ARNs, comma-separated (at most {constants.RUNBOOK_APPROVERS_MAX})",
        max_items=constants.RUNBOOK_APPROVERS_MAX,
    ),
    optional(
        "MemberExecutionRoleName",
        pattern=EXECUTION_ROLE, what="an IAM role name",
        description="Role the member accounts' stack (GuardDutyResponderMember) creates for runbooks started "
        f"from this account (its default name: {constants.EXECUTION_ROLE_NAME}); empty: emails about member "
        "accounts say to run the runbook in that account.",
        doc="execution role in member accounts (the member stack creates "
        f"`{constants.EXECUTION_ROLE_NAME}`); when given, emails about a member account's finding give a "
        "command run from this account with `--target-locations`; empty: the command to run in that account",
        env="RUNBOOK_EXECUTION_ROLE",
    ),
    choice(
        "AutomationAdministrationRole",
        default="no", values=["yes", "no"],
        description=f"yes: create {constants.ADMINISTRATION_ROLE_NAME}, which runbooks started from this account "
        "for member accounts assume (one per account: in one Region's stack only).",
        doc=f"create `{constants.ADMINISTRATION_ROLE_NAME}` (multi-account runbook runs; one per account, so "
        "in one Region's stack only)",
        env=None,
    ),
)  # fmt: skip

BY_NAME: Final = {parameter.name: parameter for parameter in PARAMETERS}

REQUIREMENTS: Final = (
    Requirement("SesNeedsSender", "Channels", ("ses", "sns,ses"), "SenderAddress",
                "Channels includes ses: set SenderAddress."),
    Requirement("IdentityNeedsSender", "CreateSenderIdentity", ("yes",), "SenderAddress",
                "CreateSenderIdentity is yes: set SenderAddress."),
    # A channel configuration needs all of its ids: each one given asks for the next, round the circle.
    Requirement("SlackNeedsChannel", "ChatSlackWorkspaceId", None, "ChatSlackChannelId",
                "ChatSlackWorkspaceId is set: set ChatSlackChannelId."),
    Requirement("SlackNeedsWorkspace", "ChatSlackChannelId", None, "ChatSlackWorkspaceId",
                "ChatSlackChannelId is set: set ChatSlackWorkspaceId."),
    Requirement("TeamsNeedsTenant", "ChatTeamsTeamId", None, "ChatTeamsTenantId",
                "ChatTeamsTeamId is set: set ChatTeamsTenantId."),
    Requirement("TeamsNeedsChannel", "ChatTeamsTenantId", None, "ChatTeamsChannelId",
                "ChatTeamsTenantId is set: set ChatTeamsChannelId."),
    Requirement("TeamsNeedsTeam", "ChatTeamsChannelId", None, "ChatTeamsTeamId",
                "ChatTeamsChannelId is set: set ChatTeamsTeamId."),
    # The administration role may assume only the member accounts' execution role: it must be named.
    Requirement("AdministrationNeedsExecutionRole", "AutomationAdministrationRole", ("yes",),
                "MemberExecutionRoleName", "AutomationAdministrationRole is yes: set MemberExecutionRoleName."),
)  # fmt: skip


def unmet_requirements(values: Mapping[str, str | None]) -> list[str]:
    """The messages of the requirements broken by ``values`` (parameter name -> text; None: not
    known before the deploy, so not checked here).
    """
    return [
        rule.message
        for rule in REQUIREMENTS
        if rule.applies(values.get(rule.parameter)) and values.get(rule.needs) == ""
    ]


def _allowed_doc(parameter: Parameter) -> str:
    if parameter.allowed_doc:
        return parameter.allowed_doc
    if parameter.allowed_values:
        return ", ".join(f"`{value}`" for value in parameter.allowed_values)
    return parameter.range_text


def _default_doc(parameter: Parameter) -> str:
    return {None: "(required)", "": "empty"}.get(parameter.default, f"`{parameter.default}`")


def markdown_table() -> str:
    """The README's "Stack parameters" table."""
    rows = ["| parameter | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    rows += [
        f"| `{p.name}` | {_default_doc(p)} | {_allowed_doc(p)} | {p.doc} |" for p in PARAMETERS
    ]  # fmt: skip
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")  # the table to paste into the README
