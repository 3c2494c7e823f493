"""Each Lambda function's settings: the shared ``Settings`` plus only what that function needs.

- ``TriageSettings``: the two queues and the optional state table.
- ``NotifierSettings``: the channels (at least one, each with what it needs), the digest queue and
  the optional state table.

Both log and count, at cold start, a display time zone the time zone database lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Self

from pydantic import BeforeValidator, Field, PrivateAttr, model_validator

from responder.adapters.observability import emit, logger
from responder.domain.runbooks import EXECUTION_ROLE_NAME
from responder.domain.settings import (
    ROLE_ARN,
    SSM_PARAMETER,
    TOPIC_ARN,
    Account,
    Email,
    QueueUrl,
    RunbookSettings,
    Settings,
    SettingsError,
    TableName,
    comma_list,
    lower_list,
    pattern,
)

EXECUTION_ROLE: Final = EXECUTION_ROLE_NAME  # MemberExecutionRoleName's (domain.runbooks says why)
REGION: Final = r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$"


def _yes_no(value: Any) -> Any:
    """``yes``/``no`` (the stack's choice values) as a bool; other values pass to pydantic as given."""
    if isinstance(value, str) and value.lower() in ("yes", "no"):
        return value.lower() == "yes"
    if isinstance(value, str):
        raise ValueError("must be yes or no")
    return value


class _FunctionSettings(Settings):
    """A Lambda function's settings: what it cannot show is logged and counted at cold start."""

    @model_validator(mode="after")
    def _report(self) -> Self:
        if self.unknown_zone is not None:
            # The name matched the pattern (it is safe to log) but the database lacks it.
            fields = {"zone": self.unknown_zone}
            logger.warning("DISPLAY_TIMEZONE is not a known time zone: emails show UTC only", extra=fields)
            emit("DisplayTimeZoneUnknown")
        return self


class TriageSettings(_FunctionSettings):
    """The triage function: it decides and queues; the state table refines the decision."""

    immediate_queue: QueueUrl = Field(alias="IMMEDIATE_QUEUE_URL")  # findings to email at once
    digest_queue: QueueUrl = Field(alias="DIGEST_QUEUE_URL")  # findings for the periodic digest
    # per-finding state and exactly-once records; without it, every occurrence is new
    state_table: TableName | None = Field(None, alias="STATE_TABLE")
    # a role in the Organizations management account (or its delegated administrator) to read
    # account names, OUs and tags; unset: the function's own credentials
    organizations_role_arn: Annotated[str, pattern(ROLE_ARN)] | None = Field(None, alias="ORGANIZATIONS_ROLE_ARN")


@dataclass(frozen=True)
class SnsTarget:
    topic_arn: str


@dataclass(frozen=True)
class SesTarget:
    sender: str
    recipients: tuple[str, ...]
    configuration_set: str | None  # optional in SES too
    max_rate: float  # the account's SES maximum send rate (messages/s; sandbox: 1)


class NotifierSettings(_FunctionSettings):
    """The notifier: it sends on each chosen channel, which gets everything it needs."""

    channels: Annotated[tuple[Literal["sns", "ses"], ...], BeforeValidator(lower_list)] = Field(
        alias="CHANNELS", min_length=1
    )
    topic_arn: Annotated[str, pattern(TOPIC_ARN)] | None = Field(None, alias="TOPIC_ARN")
    sender: Email | None = Field(None, alias="SES_SENDER")
    # Any number: the SES channel sends in batches of MAX_SES_RECIPIENTS (CloudFormation sets no limit
    # either, and a limit here would stop the notifier at every cold start of such a deployment).
    recipients: Annotated[tuple[Email, ...], BeforeValidator(comma_list)] = Field((), alias="SES_RECIPIENTS")
    configuration_set: Annotated[str, pattern(r"^[A-Za-z0-9_-]{1,64}$")] | None = Field(
        None, alias="SES_CONFIGURATION_SET"
    )
    ses_max_rate: float = Field(1.0, ge=1.0, le=10_000.0, allow_inf_nan=False, alias="SES_MAX_SEND_RATE")
    digest_queue: QueueUrl = Field(alias="DIGEST_QUEUE_URL")  # read on the digest schedule
    # delivered-markers and exactly-once sends; without it, a retried batch may repeat an email
    state_table: TableName | None = Field(None, alias="STATE_TABLE")
    # the topic Amazon Q Developer in chat applications reads (custom notifications); unset: no chat
    chat_topic_arn: Annotated[str, pattern(TOPIC_ARN)] | None = Field(None, alias="CHAT_TOPIC_ARN")
    # the topic routed copies go to, with the route's name as the ``route`` message attribute
    route_topic_arn: Annotated[str, pattern(TOPIC_ARN)] | None = Field(None, alias="ROUTE_TOPIC_ARN")
    # the SSM parameter holding the routes file; unset: everything goes to the default recipients
    routes_parameter: Annotated[str, pattern(SSM_PARAMETER)] | None = Field(None, alias="ROUTES_PARAMETER")
    # RunbookApprovers is set: containment runbooks wait for an approval, which member-account runs refuse
    runbook_approvals: Annotated[bool, BeforeValidator(_yes_no)] = Field(False, alias="RUNBOOK_APPROVALS")
    # the member accounts' execution role (MemberExecutionRoleName); unset: members run runbooks themselves
    runbook_execution_role: Annotated[str, pattern(EXECUTION_ROLE)] | None = Field(None, alias="RUNBOOK_EXECUTION_ROLE")
    responder_account: Account | None = Field(None, alias="RESPONDER_ACCOUNT")  # the stack's own
    # set by Lambda itself: where multi-account runbook runs start (the stack's Region)
    responder_region: Annotated[str, pattern(REGION)] | None = Field(None, alias="AWS_REGION")
    _sns: SnsTarget | None = PrivateAttr(default=None)
    _ses: SesTarget | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _targets(self) -> Self:
        if "sns" in self.channels:
            if self.topic_arn is None:
                raise SettingsError("TOPIC_ARN", "required when CHANNELS includes sns")
            self._sns = SnsTarget(self.topic_arn)
        if "ses" in self.channels:
            if self.sender is None:
                raise SettingsError("SES_SENDER", "required when CHANNELS includes ses")
            if not self.recipients:
                raise SettingsError("SES_RECIPIENTS", "required when CHANNELS includes ses")
            self._ses = SesTarget(self.sender, self.recipients, self.configuration_set, self.ses_max_rate)
        return self

    @property
    def runbooks(self) -> RunbookSettings:
        """What the Respond section knows of the deployment, from this function's environment."""
        return RunbookSettings(
            approvals=self.runbook_approvals,
            execution_role=self.runbook_execution_role,
            responder_account=self.responder_account,
            responder_region=self.responder_region,
        )

    @property
    def sns(self) -> SnsTarget | None:
        """The SNS channel's settings when CHANNELS includes sns, else None."""
        return self._sns

    @property
    def ses(self) -> SesTarget | None:
        """The SES channel's settings when CHANNELS includes ses, else None."""
        return self._ses
