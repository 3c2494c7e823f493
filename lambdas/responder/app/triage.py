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

The update rule remembers incidents (``updates.incident_of``): a finding is its own, except that
every finding about one S3 object, or one Backup artefact, is one incident, so the recipient gets
one email for it. Malware Protection for S3 scan results (the stack routes them when
``ObjectScanAlerts`` is yes) are read as the finding they stand for (``domain.scan_result``):
threats found are an alert like any finding; a scan skipped or failed is a digest line only,
whatever the threshold and the immediate band; a clean result is ignored.

A finding to email has its account looked up (``adapters.organizations``: name, OUs and tags
from AWS Organizations, cached for hours, never a call per finding) and the account travels in
the queue message, so the notifier can name and route it without Organizations rights. Only
then: a skipped finding costs no lookup. The lookup never fails the finding: without an answer
the message carries the id alone and ``AccountNames`` names it. Every log line about a finding
names its account (``name (id)``).
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
from responder.adapters.organizations import AccountDirectory, Directory
from responder.adapters.queues import SqsQueues
from responder.adapters.state import NO_STATE, StateStore, state_store
from responder.app.settings import TriageSettings
from responder.domain import scan_alert, scan_result
from responder.domain.accounts import Account
from responder.domain.assessment import Decision, Reason, Triage, assess, decide
from responder.domain.limits import MAX_DEPTH, too_deep
from responder.domain.models import Finding, GuardDutyEvent
from responder.domain.routing import Route, encode, incident_delivery_key, route
from responder.domain.updates import FindingState, Incident, IncidentKind, UpdateReason, decide_update, incident_of

SOURCE: Final = "aws.guardduty"
FINDING: Final = "GuardDuty Finding"
SCAN_RESULT: Final = scan_alert.DETAIL_TYPE  # read as the finding it stands for
# Other GuardDuty detail-types on the same source: recognised, logged, not alerts.
OTHER_DETAIL_TYPES: Final = frozenset(
    {
        "GuardDuty Runtime Protection Healthy",
        "GuardDuty Runtime Protection Unhealthy",
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


@dataclass(frozen=True)
class Incoming:
    """An event read as a finding: the typed event, the finding detail to queue (as GuardDuty
    published it, or as ``scan_result`` wrote it for a scan result), and whether it is a notice
    (a digest line only)."""

    event: GuardDutyEvent
    detail: dict[str, Any]
    notice: bool = False


def read_event(event: Any) -> Incoming | None:
    """The event as a finding to triage, ``None`` for a recognised event that is no alert.

    Raises
    ------
    InvalidEventError
        For anything else, including a finding without id, type, severity, accountId or region,
        a scan result without account, Region, scan status, bucket or key, and an event nested
        more than ``limits.MAX_DEPTH`` levels deep.
    """
    if not isinstance(event, dict):
        raise InvalidEventError("event is not a JSON object")
    source, detail_type = event.get("source"), event.get("detail-type")
    if source == SOURCE and detail_type in OTHER_DETAIL_TYPES:
        return None
    if source != SOURCE or detail_type not in (FINDING, SCAN_RESULT):
        raise InvalidEventError("not a GuardDuty Finding event (source aws.guardduty, detail-type GuardDuty Finding)")
    # Measured iteratively before anything recursive (pydantic, json, our helpers) walks it.
    if too_deep(event):
        raise InvalidEventError(f"event nested more than {MAX_DEPTH} levels deep (GuardDuty findings use about 12)")
    detail: Any = event.get("detail")
    if detail_type == SCAN_RESULT:
        try:
            detail = scan_result.finding_detail(event)
        except ValidationError as error:
            raise InvalidEventError(f"malformed malware scan result: {validation_summary(error)}") from None
        except scan_result.ScanResultError as error:
            raise InvalidEventError(f"malformed malware scan result: {error}") from None
        if detail is None:
            return None  # no threat found
    try:
        parsed = GuardDutyEvent.model_validate({**event, "detail": detail})
    except ValidationError as error:
        raise InvalidEventError(f"malformed GuardDuty finding: {validation_summary(error)}") from None
    return Incoming(parsed, detail, detail_type == SCAN_RESULT and parsed.detail.type in scan_alert.NOTICES)


def parse_event(event: Any) -> GuardDutyEvent | None:
    """The typed event (a scan result carries the finding it stands for), ``None`` for a
    recognised event that is no alert. Raises ``InvalidEventError`` as ``read_event``."""
    incoming = read_event(event)
    return None if incoming is None else incoming.event


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
        directory: AccountDirectory | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.queues = queues
        self.state = state
        self.once = once
        self.directory = directory  # None: no lookup, the message carries no account (as before)
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: TriageSettings) -> Responder:
        """The queues, the account directory (Organizations), and with a state table, finding
        state, exactly-once queueing and the directory's shared cache."""
        state = state_store(settings.state_table)
        directory = Directory(role_arn=settings.organizations_role_arn, state=state)
        return cls(settings, SqsQueues(), state=state, once=guard(settings.state_table), directory=directory)

    def handle(self, event: Any, context: Any = None) -> Outcome:
        """Process one EventBridge event. Raises when the event is invalid or cannot be queued."""
        if context is not None:
            self.once.register_context(context)
        try:
            incoming = read_event(event)
        except InvalidEventError as error:
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            logger.error("rejected event", extra={"reason": str(error)})
            raise
        if incoming is None:
            logger.info(
                "ignored non-finding GuardDuty event", extra={"detail_type": str(event.get("detail-type"))[:100]}
            )
            metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
            return Outcome(Status.IGNORED, NOT_A_FINDING)
        finding = incoming.event.detail
        c = assess(finding, self.settings)  # the triage facts: no email is built here
        decision = _decide(c, incoming, self.settings)
        incident = incident_of(finding)
        log_fields = {**log_fields_of(c), "incident": incident.kind}
        count(c, "FindingsReceived")
        # An archived finding is published again only when it recurs: the state says so.
        state, once = self.state, self.once
        previous: FindingState | None = None
        if decision.notify or decision.reason is Reason.ARCHIVED:
            try:
                previous = _previous(state, incident, c.finding_id)
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
            self._remember(state, incident, c, previous, now=now, notified=False)
            reason = f"update_{update.reason}"
            logger.info("finding update skipped", extra={**log_fields, "reason": reason})
            count(c, "FindingsSkipped", reason=reason)
            return Outcome(Status.SKIPPED, reason, c.finding_id)
        account, c = self._account(finding, c)  # only for a finding to email: Organizations' rate is low
        log_fields = {**log_fields_of(c), "incident": incident.kind}
        where = route(c.band, self.settings, digest_only=incoming.notice)
        key = incident_delivery_key(incident, c.updated_at or str(c.count), previous)
        # the finding as published (the notifier re-reads it) and what the organisation says of its account
        body = encode(key, incoming.detail, update, account=account)
        queue_url = self.settings.immediate_queue if where is Route.IMMEDIATE else self.settings.digest_queue
        request = {"key": key, "reason": update.reason, "route": where}
        if not self._queue(c, request, queue_url, body, once=once):
            state = NO_STATE  # the table just failed: do not wait on it again
        self._remember(state, incident, c, previous, now=now, notified=True)
        logger.info("finding queued", extra={**log_fields, "route": where, "why": update.reason})
        count(c, "FindingsQueued", route=where)
        said = Reason.NOTIFY if update.reason is UpdateReason.FIRST else update.reason
        return Outcome(Status.QUEUED, said, c.finding_id, where)

    def _account(self, finding: Finding, c: Triage) -> tuple[Account | None, Triage]:
        """What the organisation says of the finding's account, and the triage facts naming it.

        The directory's caches keep Organizations to one lookup per account every few hours, whatever the
        finding rate; without a directory the message carries no account, as before."""
        if self.directory is None:
            return None, c
        account = self.directory.lookup(c.account_id)
        return account, assess(finding, self.settings, account)

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
        incident: Incident,
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
                incident.key,
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


def _decide(c: Triage, incoming: Incoming, settings: TriageSettings) -> Decision:
    """``classify.decide``, except that a notice is not held to the threshold: it has no severity
    of GuardDuty's to compare, and the operator asked for these lines (``ObjectScanAlerts``)."""
    decision = decide(c, settings)
    if incoming.notice and decision.reason is Reason.BELOW_THRESHOLD:
        return decide(c, settings.model_copy(update={"threshold": 0.0}))
    return decision


def _previous(state: StateStore, incident: Incident, finding_id: str) -> FindingState | None:
    """What was last emailed about the incident. An incident of several findings falls back to
    its finding's own item, which a release before incidents wrote, so an upgrade emails no
    finding twice."""
    previous = state.get(incident.key)
    if previous is None and incident.kind is not IncidentKind.FINDING:
        previous = state.get(finding_id)
    return previous
