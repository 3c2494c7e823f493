"""Triage: a GuardDuty event in; a decision; the finding queued to be emailed (or not).

Parsing, classification and the decisions are pure; the state store, the exactly-once guard
and the queues passed in are the only I/O. A finding to email goes to the immediate queue (its
band is at or above the immediate band) or to the digest queue; ``responder.app.notifier`` sends
from there. Every outcome is logged (never the raw event) and counted as a metric. Nothing
here renders an email: the triage function loads no templates and no channels.

The state table only refines the decision (is this update worth an email?). When it cannot
be read or written, triage fails open: the finding is queued as if seen for the first time,
without the table's exactly-once guard, and ``StateUnavailable`` is counted and logged. A
retry may then queue it twice; the notifier's delivered-markers keep it to one email.
Without a state table (``STATE_TABLE`` unset) every finding is new and queued every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from responder.adapters.observability import count, log_fields_of, logger, metrics, validation_summary
from responder.adapters.once import EVERY_TIME, Guard, guard, table_failed
from responder.adapters.queues import SqsQueues
from responder.adapters.state import NO_STATE, StateStore, state_store
from responder.app.settings import TriageSettings
from responder.domain.classify import Reason, Triage, assess, decide
from responder.domain.limits import MAX_DEPTH, too_deep
from responder.domain.models import GuardDutyEvent
from responder.domain.routing import Route, delivery_key, encode, route
from responder.domain.updates import FindingState, UpdateReason, decide_update

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


class Status(StrEnum):
    """What became of an event (the function's result, and the tests' and the demo's view of it)."""

    QUEUED = "queued"
    SKIPPED = "skipped"
    IGNORED = "ignored"


NOT_A_FINDING: Final = "not_a_finding"  # the reason of an ignored event


@dataclass
class Outcome:
    status: Status
    # a decision ``Reason``, ``update_<UpdateReason>`` for a skipped update, the update's reason
    # for a queued one (``notify`` for a first email), or ``not_a_finding``
    reason: str
    finding_id: str | None = None
    route: Route | None = None  # when queued

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "finding_id": self.finding_id, "route": self.route}


class Responder:
    """The triage use case: one EventBridge event in, at most one queue message out."""

    def __init__(
        self,
        settings: TriageSettings,
        queues: SqsQueues,
        *,
        state: StateStore = NO_STATE,
        once: Guard = EVERY_TIME,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.queues = queues
        self.state = state
        self.once = once
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: TriageSettings) -> Responder:
        """The queues, and with a state table, finding state and exactly-once queueing."""
        return cls(settings, SqsQueues(), state=state_store(settings.state_table), once=guard(settings.state_table))

    def handle(self, event: Any, context: Any = None) -> Outcome:
        """Process one EventBridge event. Raises when the event is invalid or cannot be queued."""
        if context is not None:
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
            return Outcome(Status.IGNORED, NOT_A_FINDING)
        c = assess(parsed.detail, self.settings)  # the triage facts: no email is built here
        decision = decide(c, self.settings)
        log_fields = log_fields_of(c)
        count(c, "FindingsReceived")
        # An archived finding is published again only when it recurs: the state says so.
        state, once = self.state, self.once
        previous: FindingState | None = None
        if decision.notify or decision.reason is Reason.ARCHIVED:
            try:
                previous = state.get(c.finding_id)
            except Exception as error:  # noqa: BLE001 (fail open: queueing matters more than the update rule)
                self._state_unavailable(c, "get", error)
                state, once = NO_STATE, EVERY_TIME  # neither written nor used as a guard while it fails
        if not decision.notify and previous is None:
            logger.info("finding skipped", extra={**log_fields, "reason": decision.reason, "rule": decision.detail})
            count(c, "FindingsSkipped", reason=decision.reason)
            return Outcome(Status.SKIPPED, decision.reason, c.finding_id)
        now = self.clock()
        renotify = timedelta(hours=self.settings.renotify_hours) if self.settings.renotify_hours else None
        update = decide_update(c, previous, now=now, renotify_after=renotify)
        if not update.notify:
            self._remember(state, c, previous, now=now, notified=False)
            reason = f"update_{update.reason}"
            logger.info("finding update skipped", extra={**log_fields, "reason": reason})
            count(c, "FindingsSkipped", reason=reason)
            return Outcome(Status.SKIPPED, reason, c.finding_id)
        where = route(c.band, self.settings)
        key = delivery_key(c.finding_id, c.updated_at or str(c.count))
        body = encode(key, event["detail"], update)  # the finding as published: the notifier re-reads it
        queue_url = self.settings.immediate_queue if where is Route.IMMEDIATE else self.settings.digest_queue
        request = {"key": key, "reason": update.reason, "route": where}
        if not self._queue(c, request, queue_url, body, once=once):
            state = NO_STATE  # the table just failed: do not wait on it again
        self._remember(state, c, previous, now=now, notified=True)
        logger.info("finding queued", extra={**log_fields, "route": where, "why": update.reason})
        count(c, "FindingsQueued", route=where)
        said = Reason.NOTIFY if update.reason is UpdateReason.FIRST else update.reason
        return Outcome(Status.QUEUED, said, c.finding_id, where)

    def _queue(self, c: Triage, request: dict[str, str], queue_url: str, body: str, *, once: Guard) -> bool:
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

        try:
            once.run(request, put)
        except Exception as error:
            if not table_failed(error) or (attempted and not succeeded):
                raise  # the queue failed, or another invocation holds the lock: retried
            self._state_unavailable(c, "idempotency", error)
            if not attempted:  # the table failed before the put: the put is ours to do
                put()
            return False
        return True

    def _remember(
        self,
        state: StateStore,
        c: Triage,
        previous: FindingState | None,
        *,
        now: datetime,
        notified: bool,
    ) -> None:
        """Record the last email (when one was sent) and the latest occurrence seen."""
        if previous is None and not notified:
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
    def _state_unavailable(c: Triage, operation: str, error: Exception) -> None:
        """Logged (the error's type, never its text: it may quote the key) and counted."""
        fields = {**log_fields_of(c), "operation": operation, "error": type(error).__name__}
        logger.error("state table unavailable: deciding without it", extra=fields)
        metrics.add_metric(name="StateUnavailable", unit=MetricUnit.Count, value=1)
