"""The props of ``GuardDutyResponder``: one keyword per stack parameter, a plain value or a token.

Plain values are checked at synth time against the parameter's own constraints and rules
(``infra.parameters``), so a construct user gets the deploy-time refusal of the stack, earlier.
"""

# No `from __future__ import annotations`: TypedDict reads Required[...] at runtime (required keys).
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Required, TypedDict

from aws_cdk import Fn, Token

from infra.flags import is_token
from infra.parameters import PARAMETERS, Parameter, unmet_requirements


class ResponderProps(TypedDict, total=False):
    """Keyword props of ``GuardDutyResponder``; each is the stack parameter of the same name
    (``notify_threshold`` is ``NotifyThreshold``), with its default. See the README's table.
    """

    recipients: Required[Sequence[str]]
    channels: str
    notify_threshold: float | str
    band_medium_min: float | str
    band_high_min: float | str
    band_critical_min: float | str
    sender_address: str
    ses_max_send_rate: float | str
    create_sender_identity: bool | str
    ses_configuration_set: str
    include_sample_findings: bool | str
    language: str
    display_time_zone: str
    suppress_finding_types: Sequence[str]
    suppress_accounts: Sequence[str]
    suppress_tag: str
    renotify_hours: float | str
    immediate_band: str
    digest_minutes: int | str
    object_scan_alerts: bool | str
    alarm_email: str
    account_names: Sequence[str]
    organizations_role_arn: str
    chat_notifications: bool | str
    chat_slack_workspace_id: str
    chat_slack_channel_id: str
    chat_teams_team_id: str
    chat_teams_tenant_id: str
    chat_teams_channel_id: str
    runbook_approvers: Sequence[str]
    member_execution_role_name: str
    automation_administration_role: bool | str


Value = str | list[str]  # as CloudFormation passes a parameter: text, or a list for CommaDelimitedList


@dataclass(frozen=True)
class Values:
    """Every parameter's value by parameter name: plain text (checked), or a token."""

    by_name: Mapping[str, Value]

    def text(self, name: str) -> str:
        value = self.by_name[name]
        if not isinstance(value, str):
            raise TypeError(f"{name} is a list")
        return value

    def items(self, name: str) -> list[str]:
        value = self.by_name[name]
        if isinstance(value, str):
            raise TypeError(f"{name} is not a list")
        return value

    def joined(self, name: str) -> str:
        """A list parameter as one comma-separated string (how the functions read it)."""
        value = self.by_name[name]
        if isinstance(value, str):
            return value
        return Fn.join(",", value) if is_token(value) else ",".join(value)


def values_from(props: Mapping[str, object]) -> Values:
    """Defaults from the table, then ``props``; plain values checked as CloudFormation would.

    Raises
    ------
    TypeError
        An unknown keyword, or a required one missing.
    ValueError
        A plain value the parameter's constraints or the cross-parameter rules refuse.
    """
    known = {parameter.prop: parameter for parameter in PARAMETERS}
    unknown = sorted(set(props) - set(known))
    if unknown:
        raise TypeError(f"GuardDutyResponder got unknown props: {', '.join(unknown)}")
    by_name: dict[str, Value] = {}
    for prop, parameter in known.items():
        if prop in props:
            value = _value(parameter, props[prop])
        elif parameter.default is None:
            raise TypeError(f"GuardDutyResponder needs {prop}")
        else:
            value = _default(parameter)
        refusal = None if is_token(value) else parameter.refusal(_plain_items(value))
        if refusal:
            raise ValueError(refusal)
        by_name[parameter.name] = value
    values = Values(by_name)
    broken = unmet_requirements({name: None if is_token(v) else values.joined(name) for name, v in by_name.items()})
    if broken:
        raise ValueError(" ".join(broken))
    return values


def environment(values: Values) -> dict[str, str]:
    """The functions' environment variables that come straight from a parameter (``Parameter.env``)."""
    return {parameter.env: values.joined(parameter.name) for parameter in PARAMETERS if parameter.env}


def _value(parameter: Parameter, raw: object) -> Value:
    if isinstance(raw, int | float) and not isinstance(raw, bool) and is_token(raw):
        return Token.as_string(raw)  # a number token (value_as_number): CloudFormation passes text anyway
    if is_token(raw):
        return list(raw) if isinstance(raw, list) else str(raw)
    return parameter.to_text(raw)


def _default(parameter: Parameter) -> Value:
    default = parameter.default or ""
    if parameter.kind == "CommaDelimitedList":
        return [item for item in default.split(",") if item]
    return default


def _plain_items(value: Value) -> Value:
    """A list may mix plain items (checked now) with tokens (checked by the deploy)."""
    return value if isinstance(value, str) else [item for item in value if not is_token(item)]
