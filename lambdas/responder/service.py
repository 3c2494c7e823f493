"""The responder's one use case: event in, triage, decision, emails out.

Parsing, classification and rendering are pure; the channels passed in are the only
I/O. Every outcome is logged (never the raw event) and counted as a metric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import ValidationError

from responder.channels import Channel, DeliveryError, SesChannel, SnsChannel
from responder.classify import Classification, classify, decide
from responder.models import Finding, GuardDutyEvent
from responder.observability import NAMESPACE, logger, metrics
from responder.once import OnceSender
from responder.render import Email, render
from responder.settings import Settings
from responder.state import DynamoStateStore, StateStore
from responder.updates import FindingState, decide_update

SOURCE: Final = "aws.guardduty"
FINDING: Final = "GuardDuty Finding"
# Other GuardDuty detail-types on the same source: recognised, logged, not alerts.
OTHER_DETAIL_TYPES: Final = frozenset(
    {
        "GuardDuty Runtime Protection Healthy",
        "GuardDuty Runtime Protection Unhealthy",
        "GuardDuty Malware Protection Object Scan Result",
        "GuardDuty Malware Protection Resource Status Active",
        "GuardDuty Malware Protection Resource Status Warning",
        "GuardDuty Malware Protection Resource Status Error",
        "GuardDuty Malware Protection Post Scan Action Failed",
        "AWS API Call via CloudTrail",
    }
)


class InvalidEventError(ValueError):
    """The event is not a usable GuardDuty finding. The invocation fails so the event
    goes to the dead-letter queue instead of vanishing."""


def validation_summary(error: ValidationError) -> str:
    """Where the event is wrong, without echoing any of its values."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    ]
    return "; ".join(problems[:5])


def parse_event(event: Any) -> GuardDutyEvent | None:
    """The typed event, ``None`` for a recognised non-finding GuardDuty event.

    Raises
    ------
    InvalidEventError
        For anything else, including a finding without id, type, severity, accountId or region.
    """
    if not isinstance(event, dict):
        raise InvalidEventError("event is not a JSON object")
    source, detail_type = event.get("source"), event.get("detail-type")
    if source == SOURCE and detail_type in OTHER_DETAIL_TYPES:
        return None
    if source != SOURCE or detail_type != FINDING:
        raise InvalidEventError("not a GuardDuty Finding event (source aws.guardduty, detail-type GuardDuty Finding)")
    try:
        return GuardDutyEvent.model_validate(event)
    except ValidationError as error:
        raise InvalidEventError(f"malformed GuardDuty finding: {validation_summary(error)}") from None


@dataclass(frozen=True)
class Prepared:
    """Everything decided about one finding before anything is sent."""

    classification: Classification
    notify: bool
    reason: str
    detail: str | None
    email: Email


def prepare(finding: Finding, settings: Settings) -> Prepared:
    """Pure: classify, decide and render one finding (the preview tool's contract too)."""
    classification = classify(finding, settings)
    decision = decide(classification, settings)
    email = render(classification, settings.language)
    return Prepared(classification, decision.notify, decision.reason, decision.detail, email)


@dataclass
class Outcome:
    status: str  # "sent", "skipped", "ignored"
    reason: str
    finding_id: str | None = None
    sent: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "finding_id": self.finding_id, "sent": self.sent}


def build_channels(settings: Settings) -> list[Channel]:
    """The configured channels (their AWS clients are created on first send)."""
    channels: list[Channel] = []
    if "sns" in settings.channels and settings.topic_arn:
        channels.append(SnsChannel(settings.topic_arn))
    if "ses" in settings.channels and settings.sender:
        channels.append(SesChannel(settings.sender, settings.recipients, configuration_set=settings.configuration_set))
    return channels


class Responder:
    def __init__(
        self,
        settings: Settings,
        channels: list[Channel],
        *,
        state: StateStore | None = None,
        once: OnceSender | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.state = state
        self.once = once
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> Responder:
        """Channels, and with a state table, finding state and exactly-once sends."""
        table = settings.state_table
        return cls(
            settings,
            build_channels(settings),
            state=DynamoStateStore(table) if table else None,
            once=OnceSender(table) if table else None,
        )

    def handle(self, event: Any, context: Any = None) -> Outcome:
        """Process one EventBridge event. Raises when the event is invalid or a send fails."""
        if self.once is not None and context is not None:
            self.once.register_context(context)
        try:
            parsed = parse_event(event)
        except InvalidEventError as error:
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            logger.error("rejected event", extra={"reason": str(error)})
            raise
        if parsed is None:
            logger.info(
                "ignored non-finding GuardDuty event", extra={"detail_type": str(event.get("detail-type"))[:100]}
            )
            metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
            return Outcome("ignored", "not_a_finding")
        # Classify and decide first; the email is rendered only if one will be sent.
        c = classify(parsed.detail, self.settings)
        decision = decide(c, self.settings)
        log_fields = {
            "finding_id": c.finding_id[:300],
            "finding_type": c.safe_type or "unrecognised",
            "severity": c.severity,
            "band": c.band,
            "threat_purpose": c.purpose_key or "Unknown",
            "action_type": c.action_type if c.action_type and c.action_type.isidentifier() else None,
            "sample": c.is_sample,
            "count": c.count,
        }
        self._count("FindingsReceived", c)
        # An archived finding is published again only when it recurs: that needs the state.
        maybe_recurred = decision.reason == "archived" and self.state is not None
        previous = self.state.get(c.finding_id) if self.state and (decision.notify or maybe_recurred) else None
        if not decision.notify and previous is None:
            logger.info("finding skipped", extra={**log_fields, "reason": decision.reason, "rule": decision.detail})
            self._count("FindingsSkipped", c, reason=decision.reason)
            return Outcome("skipped", decision.reason, c.finding_id)
        now = self.clock()
        renotify = timedelta(hours=self.settings.renotify_hours) if self.settings.renotify_hours else None
        update = decide_update(c, previous, now=now, renotify_after=renotify)
        if not update.notify:
            self._remember(c, previous, now=now, notified=False)
            reason = f"update_{update.reason}"
            logger.info("finding update skipped", extra={**log_fields, "reason": reason})
            self._count("FindingsSkipped", c, reason=reason)
            return Outcome("skipped", reason, c.finding_id)
        email = render(c, self.settings.language, update)  # an update says why it is sent again
        key = {"finding_id": c.finding_id, "occurrence": c.updated_at or str(c.count), "reason": update.reason}
        sent, failures = self._deliver(email, log_fields, key)
        if failures:
            # Never swallowed: the invocation fails, Lambda retries, then the DLQ takes over.
            raise DeliveryError(f"delivery failed on {', '.join(failures)}")
        self._remember(c, previous, now=now, notified=True)
        logger.info("finding notified", extra={**log_fields, "channels": sorted(sent), "why": update.reason})
        self._count("FindingsNotified", c)
        return Outcome("sent", update.reason if update.reason != "first" else "notify", c.finding_id, sent)

    def _remember(self, c: Classification, previous: FindingState | None, *, now: datetime, notified: bool) -> None:
        """Record the last email (when one was sent) and the latest occurrence seen."""
        if self.state is None or (previous is None and not notified):
            return
        self.state.put(
            c.finding_id,
            FindingState(
                band=c.band if notified or previous is None else previous.band,
                notified_at=now if notified or previous is None else previous.notified_at,
                first_notified_at=previous.first_notified_at if previous else now,
                count=c.count,
                archived=c.archived,
            ),
        )

    def _deliver(
        self, email: Email, log_fields: dict[str, Any], key: dict[str, str]
    ) -> tuple[dict[str, list[str]], list[str]]:
        sent: dict[str, list[str]] = {}
        failures: list[str] = []
        for channel in self.channels:
            try:
                sent[channel.name] = self.once.send(channel, email, key) if self.once else channel.send(email)
            except Exception as error:  # noqa: BLE001 (every channel gets its chance; all failures re-raised)
                failures.append(channel.name)
                logger.error(
                    "delivery failed",
                    extra={
                        **log_fields,
                        "channel": channel.name,
                        "error": type(error).__name__,
                        "detail": str(error)[:300],
                    },
                )
                metrics.add_metric(name="DeliveryFailures", unit=MetricUnit.Count, value=1)
        return sent, failures

    @staticmethod
    def _count(name: str, c: Classification, **extra: str) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        # Bounded dimensions: band (4 values) and known ThreatPurposes (or "Other").
        with single_metric(name=f"{name}ByClass", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="Band", value=c.band)
            metric.add_dimension(name="ThreatPurpose", value=c.purpose_key or "Other")
            for key, value in extra.items():
                metric.add_dimension(name=key.capitalize(), value=value)
