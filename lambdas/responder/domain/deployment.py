"""A deployed stack as the doctor sees it: the records its adapter reads from AWS, the
protocol that adapter implements (``responder.adapters.doctor_aws``), and what a check finds.

Pure data, so the checks (``responder.app.doctor``) and the adapter both depend on it and
neither on the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

Status = Literal["ok", "WARN", "FAIL"]
RANK: Final[dict[Status, int]] = {"ok": 0, "WARN": 1, "FAIL": 2}


@dataclass(frozen=True)
class Verdict:
    """What one check found, and what to do about it; ``named`` makes it that check's line."""

    status: Status
    detail: str
    fix: str | None = None

    def named(self, check: str) -> Result:
        return Result(check, self.status, self.detail, self.fix)


@dataclass(frozen=True)
class Result:
    """One check's line: its name, its verdict, the evidence and the fix."""

    check: str
    status: Status
    detail: str
    fix: str | None = None

    def line(self) -> str:
        fix = f" -> fix: {self.fix}" if self.fix else ""
        return f"{self.status:<4} {self.check}: {self.detail}{fix}"


# --- what the adapter reads ---------------------------------------------------------------


@dataclass(frozen=True)
class StackInfo:
    name: str
    stack_id: str  # arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>
    status: str
    outputs: Mapping[str, str]
    parameters: Mapping[str, str]
    alarm_names: tuple[str, ...]  # its AWS::CloudWatch::Alarm resources

    def parameter(self, name: str, default: str = "") -> str:
        return self.parameters.get(name, default).strip()

    def listed(self, name: str) -> tuple[str, ...]:
        """A CommaDelimitedList parameter's items."""
        return tuple(item.strip() for item in self.parameter(name).split(",") if item.strip())

    @property
    def channels(self) -> tuple[str, ...]:
        return self.listed("Channels") or ("sns",)

    @property
    def account(self) -> str:
        return self.stack_id.split(":")[4]

    @property
    def partition(self) -> str:
        return self.stack_id.split(":")[1]


@dataclass(frozen=True)
class RuleInfo:
    name: str
    state: str
    pattern: str | None
    targets: tuple[str, ...]  # target ARNs


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    pending: bool  # SNS lists it as PendingConfirmation


@dataclass(frozen=True)
class TopicInfo:
    arn: str
    policy: str | None
    key_id: str | None  # KmsMasterKeyId
    subscriptions: tuple[Subscription, ...]


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    state: str  # Enabled, Disabled, PendingDeletion, ...
    aws_managed: bool
    policy: str | None


@dataclass(frozen=True)
class SesAccount:
    production: bool  # out of the sandbox
    sending_enabled: bool
    max_send_rate: float  # messages per second
    max_24h: float
    sent_24h: float


@dataclass(frozen=True)
class AlarmInfo:
    name: str
    arn: str  # what CloudWatch gives SNS as aws:SourceArn when the alarm publishes
    state: str  # OK, ALARM, INSUFFICIENT_DATA
    actions_enabled: bool
    actions: tuple[str, ...]


@dataclass(frozen=True)
class DetectorInfo:
    detector_id: str
    status: str
    frequency: str


class Deployment(Protocol):
    """What the checks read (and, for ``--send-test``, write); ``responder.adapters.doctor_aws`` is the real one."""

    region: str

    def stack(self, name: str) -> StackInfo | None: ...
    def rule(self, name: str) -> RuleInfo: ...
    def topic(self, arn: str) -> TopicInfo: ...
    def key(self, key_id: str) -> KeyInfo: ...
    def identities(self, names: Sequence[str]) -> dict[str, str]: ...
    def ses_account(self) -> SesAccount: ...
    def queue_depth(self, url: str) -> int: ...
    def alarms(self, names: Sequence[str], topic_arn: str) -> list[AlarmInfo]: ...
    def detectors(self) -> list[DetectorInfo]: ...
    def send_message(self, queue_url: str, body: str) -> str: ...
    def set_alarm_state(self, name: str, state: str, reason: str) -> None: ...


class AwsUnavailableError(RuntimeError):
    """AWS could not be asked at all: no credentials, no Region, the endpoint unreachable."""
