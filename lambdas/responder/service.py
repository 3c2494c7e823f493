"""Triage: a GuardDuty event in; a decision; the finding queued to be emailed (or not).

Parsing, classification and the decisions are pure; the state store and the queues passed
in are the only I/O. A finding to email goes to the immediate queue (its band is at or
above the immediate band) or to the digest queue; ``responder.notifier`` sends from there.
Every outcome is logged (never the raw event) and counted as a metric.

The state table only refines the decision (is this update worth an email?). When it cannot
be read or written, triage fails open: the finding is queued as if seen for the first time,
without the table's exactly-once guard, and ``StateUnavailable`` is counted and logged. A
retry may then queue it twice; the notifier's delivered-markers keep it to one email.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import ValidationError

from responder.channels import Channel, SesChannel, SnsChannel
from responder.channels.ses import Pacer
from responder.classify import Classification, classify, decide
from responder.degrade import compose
from responder.limits import MAX_DEPTH, too_deep
from responder.models import Finding, GuardDutyEvent
from responder.observability import NAMESPACE, SERVICE, logger, metrics
from responder.once import Once
from responder.queues import SqsQueues
from responder.render import Email
from responder.routing import delivery_key, encode, route
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
        For anything else, including a finding without id, type, severity, accountId or region,
        and an event nested more than ``limits.MAX_DEPTH`` levels deep.
    """
    if not isinstance(event, dict):
        raise InvalidEventError("event is not a JSON object")
    source, detail_type = event.get("source"), event.get("detail-type")
    if source == SOURCE and detail_type in OTHER_DETAIL_TYPES:
        return None
    if source != SOURCE or detail_type != FINDING:
        raise InvalidEventError("not a GuardDuty Finding event (source aws.guardduty, detail-type GuardDuty Finding)")
    # Measured iteratively before anything recursive (pydantic, json, our helpers) walks it.
    if too_deep(event):
        raise InvalidEventError(f"event nested more than {MAX_DEPTH} levels deep (GuardDuty findings use about 12)")
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
    degraded: str | None = None  # the email shows the minimal form: why (the type of the rendering error)


class UnrenderableError(ValueError):
    """Not even the minimal form of the finding could be rendered (the notifier retries such a finding)."""


def prepare(finding: Finding, settings: Settings) -> Prepared:
    """Pure: classify, decide and render one finding as its email alone (the preview tool's contract too).

    Rendered through ``degrade.compose``, as the notifier renders it: a finding whose details
    cannot be shown gets its minimal form (``degraded`` says so).

    Raises
    ------
    UnrenderableError
        When even the minimal form cannot be rendered.
    """
    classification = classify(finding, settings)
    decision = decide(classification, settings)
    composed = compose(
        [classification],
        lambda c: (c, None),
        kind="ALERTS",
        lone_in_full=True,
        lang=settings.language,
        zone=settings.display_zone,
        minutes=settings.digest_minutes,
    )
    if composed.lost:
        raise UnrenderableError(f"cannot be rendered, not even without its details ({composed.lost[0].error})")
    [([shown], email)] = composed.emails
    return Prepared(classification, decision.notify, decision.reason, decision.detail, email, shown.error)


@dataclass
class Outcome:
    status: str  # "queued", "skipped", "ignored"
    reason: str
    finding_id: str | None = None
    route: str | None = None  # "immediate" or "digest" when queued

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "finding_id": self.finding_id, "route": self.route}


def build_channels(settings: Settings) -> list[Channel]:
    """The configured channels (their AWS clients are created on first send)."""
    channels: list[Channel] = []
    if "sns" in settings.channels and settings.topic_arn:
        channels.append(SnsChannel(settings.topic_arn))
    if "ses" in settings.channels and settings.sender:
        channels.append(
            SesChannel(
                settings.sender,
                settings.recipients,
                configuration_set=settings.configuration_set,
                pacer=Pacer(settings.ses_max_rate),
            )
        )
    return channels


def durable(settings: Settings) -> tuple[StateStore | None, Once | None]:
    """With a state table: finding state and delivered-markers, and exactly-once side effects."""
    table = settings.state_table
    return (DynamoStateStore(table), Once(table)) if table else (None, None)


class Responder:
    def __init__(
        self,
        settings: Settings,
        queues: SqsQueues,
        *,
        state: StateStore | None = None,
        once: Once | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.queues = queues
        self.state = state
        self.once = once
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> Responder:
        """The queues, and with a state table, finding state and exactly-once queueing."""
        state, once = durable(settings)
        return cls(settings, SqsQueues(), state=state, once=once)

    def handle(self, event: Any, context: Any = None) -> Outcome:
        """Process one EventBridge event. Raises when the event is invalid or cannot be queued."""
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
        c = classify(parsed.detail, self.settings)
        decision = decide(c, self.settings)
        log_fields = log_fields_of(c)
        count(c, "FindingsReceived")
        # An archived finding is published again only when it recurs: that needs the state.
        maybe_recurred = decision.reason == "archived" and self.state is not None
        state = self.state
        previous: FindingState | None = None
        if state is not None and (decision.notify or maybe_recurred):
            try:
                previous = state.get(c.finding_id)
            except Exception as error:  # noqa: BLE001 (fail open: queueing matters more than the update rule)
                self._state_unavailable(c, "get", error)
                state = None  # neither written nor used as a guard while it fails
        if not decision.notify and previous is None:
            logger.info("finding skipped", extra={**log_fields, "reason": decision.reason, "rule": decision.detail})
            count(c, "FindingsSkipped", reason=decision.reason)
            return Outcome("skipped", decision.reason, c.finding_id)
        now = self.clock()
        renotify = timedelta(hours=self.settings.renotify_hours) if self.settings.renotify_hours else None
        update = decide_update(c, previous, now=now, renotify_after=renotify)
        if not update.notify:
            self._remember(state, c, previous, now=now, notified=False)
            reason = f"update_{update.reason}"
            logger.info("finding update skipped", extra={**log_fields, "reason": reason})
            count(c, "FindingsSkipped", reason=reason)
            return Outcome("skipped", reason, c.finding_id)
        where = route(c.band, self.settings)
        key = delivery_key(c.finding_id, c.updated_at or str(c.count))
        body = encode(key, event["detail"], update)  # the finding as published: the notifier re-reads it
        queue_url = self.settings.immediate_queue if where == "immediate" else self.settings.digest_queue
        if queue_url is None:
            raise RuntimeError(f"no {where} queue configured")  # Settings.from_env requires both
        request = {"key": key, "reason": update.reason, "route": where}
        if not self._queue(c, request, queue_url, body, guarded=state is not None):
            state = None  # the table just failed: do not wait on it again
        self._remember(state, c, previous, now=now, notified=True)
        logger.info("finding queued", extra={**log_fields, "route": where, "why": update.reason})
        count(c, "FindingsQueued", route=where)
        return Outcome("queued", update.reason if update.reason != "first" else "notify", c.finding_id, where)

    def _queue(self, c: Classification, request: dict[str, str], queue_url: str, body: str, *, guarded: bool) -> bool:
        """Put the message once (Powertools idempotency on the state table), or, when that table
        is unavailable, put it anyway: a queue failure still fails the invocation.

        Returns false when the table failed here.
        """
        attempted = succeeded = False

        def put() -> None:
            nonlocal attempted, succeeded
            attempted = True
            self.queues.put(queue_url, body)
            succeeded = True

        if self.once is None or not guarded:
            put()
            return True
        try:
            self.once.run(request, put)
        except Exception as error:
            # Imported here: loaded already by Once.run, and too heavy for the handler's import path.
            from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
                IdempotencyPersistenceLayerError,
            )

            if not isinstance(error, IdempotencyPersistenceLayerError) or (attempted and not succeeded):
                raise  # the queue failed, or another invocation holds the lock: retried
            self._state_unavailable(c, "idempotency", error)
            if not attempted:  # the table failed before the put: the put is ours to do
                put()
            return False
        return True

    def _remember(
        self,
        state: StateStore | None,
        c: Classification,
        previous: FindingState | None,
        *,
        now: datetime,
        notified: bool,
    ) -> None:
        """Record the last email (when one was sent) and the latest occurrence seen."""
        if state is None or (previous is None and not notified):
            return
        try:
            state.put(
                c.finding_id,
                FindingState(
                    band=c.band if notified or previous is None else previous.band,
                    notified_at=now if notified or previous is None else previous.notified_at,
                    first_notified_at=previous.first_notified_at if previous else now,
                    count=c.count,
                    archived=c.archived,
                ),
            )
        except Exception as error:  # noqa: BLE001 (the finding is queued; the next occurrence decides without it)
            self._state_unavailable(c, "put", error)

    @staticmethod
    def _state_unavailable(c: Classification, operation: str, error: Exception) -> None:
        """Logged (the error's type, never its text: it may quote the key) and counted."""
        fields = {**log_fields_of(c), "operation": operation, "error": type(error).__name__}
        logger.error("state table unavailable: deciding without it", extra=fields)
        metrics.add_metric(name="StateUnavailable", unit=MetricUnit.Count, value=1)


def log_fields_of(c: Classification) -> dict[str, Any]:
    """What a log line says about a finding: validated identifiers and numbers only."""
    return {
        "finding_id": c.finding_id[:300],
        "finding_type": c.safe_type or "unrecognised",
        "severity": c.severity,
        "band": c.band,
        "threat_purpose": c.purpose_key or "Unknown",
        "action_type": c.action_type if c.action_type and c.action_type.isidentifier() else None,
        "sample": c.is_sample,
        "count": c.count,
    }


def count(c: Classification, name: str, **extra: str) -> None:
    """``name``, and ``<name>ByClass`` by band, threat purpose and ``extra`` dimensions."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    # Bounded dimensions: band (4 values) and known ThreatPurposes (or "Other").
    dimensions = {"Band": c.band, "ThreatPurpose": c.purpose_key or "Other"}
    emit(f"{name}ByClass", **dimensions, **{key.capitalize(): value for key, value in extra.items()})


def emit(name: str, **dimensions: str) -> None:
    """One count with exactly these dimensions and ``service`` (an EMF line of its own, at once).

    ``service`` is set here, not taken from POWERTOOLS_SERVICE_NAME, so an alarm on these
    dimensions matches wherever the function runs.
    """
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)
