"""Sending: queued findings out as emails, each finding once per channel.

- ``alerts``: a batch of the immediate queue (Lambda gathers it for up to a minute). One
  finding is one full email; several (a storm) are grouped, at most ``MAX_PER_EMAIL`` per
  email. A failed email reports only its own messages as failed, so SQS retries them and,
  after ``maxReceiveCount`` receives, moves them to the dead-letter queue.
- ``digest``: on schedule, everything in the digest queue as digest emails; messages are
  deleted only after their email went out on every channel.

On a channel that attaches (SES), each email carries the JSON of each of its findings as
GuardDuty sent it (``responder.domain.export``: bounded, marked when trimmed), and for an
alert made from a Malware Protection for S3 scan result the scan-result event that arrived;
SNS sends plain text, whose after-care keeps the ``get-findings`` command.

Each channel's send of an email is a Powertools idempotent function (a retry of the same
batch does not resend on the channel that succeeded), and each finding occurrence delivered
on a channel is marked, so an SQS redelivery in another batch is not emailed twice.

One finding never sinks the others (``responder.domain.degrade.compose``, which the preview uses
too): when an email cannot be rendered, each of its findings is rendered alone in the form
it takes there, and one that fails is shown in its minimal safe form (validated
identifiers, links and "details could not be shown"), counted (``FindingsDegraded``) and
logged; one that fails even so is left out of the email and retried
(``FindingsNotRendered``), the others go out.

``DeliveryFailures`` (per channel, alarmed) counts a channel's refusal only. When the
state table fails around a send (delivered-markers, exactly-once records), the email is
retried and ``StateUnavailable`` is counted instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from responder.adapters.channels import Channel, DeliveryError, SesChannel, SnsChannel
from responder.adapters.channels.ses import Pacer
from responder.adapters.observability import count, emit, log_fields_of, logger, metrics, validation_summary
from responder.adapters.once import EVERY_TIME, Guard, guard, table_failed
from responder.adapters.queues import Message, SqsQueues
from responder.adapters.state import NO_STATE, StateStore, state_store
from responder.app.settings import NotifierSettings
from responder.domain.classify import Classification, classify
from responder.domain.degrade import Shown, compose
from responder.domain.digest import Kind, batches
from responder.domain.export import attachments, exported
from responder.domain.models import Finding
from responder.domain.render import Email
from responder.domain.routing import MAX_PER_EMAIL, InvalidMessageError, Queued, decode

SCHEDULED: Final = ("aws.events", "Scheduled Event")
# The digest schedule's input (the stack's schedule target), the event ``SCHEDULED`` recognises.
SCHEDULED_EVENT: Final[dict[str, str]] = {"source": SCHEDULED[0], "detail-type": SCHEDULED[1]}
DIGEST_LIMIT: Final = 2_000  # findings read per digest run; the rest wait for the next run
VISIBILITY_MARGIN: Final = 60  # seconds a received digest message stays hidden beyond the function's run


@dataclass(frozen=True)
class Ready:
    """A queued finding, read and classified; ``ids`` are its messages (duplicates included)."""

    ids: tuple[str, ...]
    queued: Queued
    c: Classification
    degraded: bool = False  # shown in its minimal safe form: its details could not be rendered


def build_channels(settings: NotifierSettings) -> list[Channel]:
    """The configured channels (their AWS clients are created on first send)."""
    channels: list[Channel] = []
    if settings.sns is not None:
        channels.append(SnsChannel(settings.sns.topic_arn))
    if settings.ses is not None:
        ses = settings.ses
        pacer = Pacer(ses.max_rate)
        channels.append(SesChannel(ses.sender, ses.recipients, configuration_set=ses.configuration_set, pacer=pacer))
    return channels


class Notifier:
    """The notify use case: queued findings out as emails on every channel."""

    def __init__(
        self,
        settings: NotifierSettings,
        channels: list[Channel],
        queues: SqsQueues,
        *,
        state: StateStore = NO_STATE,
        once: Guard = EVERY_TIME,
        timeout_seconds: int = 120,
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.queues = queues
        self.state = state
        self.once = once
        self.timeout_seconds = timeout_seconds

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> Notifier:
        """The channels and queues, and with a state table, exactly-once sends."""
        table = settings.state_table
        return cls(settings, build_channels(settings), SqsQueues(), state=state_store(table), once=guard(table))

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        """An SQS batch of the immediate queue, or the digest schedule."""
        if context is not None:
            self.once.register_context(context)
            # Digest messages stay hidden at least as long as this invocation may run.
            self.timeout_seconds = max(1, context.get_remaining_time_in_millis() // 1000)
        if isinstance(event, dict) and isinstance(event.get("Records"), list):
            return self.alerts(event["Records"])
        if isinstance(event, dict) and (event.get("source"), event.get("detail-type")) == SCHEDULED:
            return self.digest()
        metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
        raise ValueError("not an SQS batch or the digest schedule")

    # --- the immediate queue --------------------------------------------------------

    def alerts(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Email a batch; return the messages to retry (SQS partial batch response)."""
        failed: list[str] = []
        read: list[tuple[str, Queued, Classification]] = []
        for record in records:
            message_id = str(record.get("messageId", ""))
            item = self._read(message_id, record.get("body"))
            if item is None:
                failed.append(message_id)
            else:
                read.append((message_id, *item))
        ready = _unique(read)
        emails, unrendered = self._compose(ready, kind="ALERTS")
        failed += [message_id for r in unrendered for message_id in r.ids]
        for group, email in emails:
            undelivered = self._send(group, email, kind="ALERTS")
            failed += [message_id for r in group if r.queued.key in undelivered for message_id in r.ids]
        logger.info(
            "immediate batch handled",
            extra={"messages": len(records), "findings": len(ready), "emails": len(emails), "failed": len(failed)},
        )
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    # --- the digest queue -------------------------------------------------------------

    def digest(self) -> dict[str, Any]:
        """Email everything waiting in the digest queue. Raises if an email could not be sent."""
        queue = self.settings.digest_queue
        messages = self.queues.receive(
            queue, limit=DIGEST_LIMIT, visibility_seconds=self.timeout_seconds + VISIBILITY_MARGIN
        )
        by_id = {m.message_id: m for m in messages}
        read = []
        for m in messages:
            item = self._read(m.message_id, m.body)
            if item is not None:  # a bad message stays; its receive count takes it to the DLQ
                read.append((m.message_id, *item))
        ready = _unique(read)
        emails, unrendered = self._compose(ready, kind="DIGEST")
        done: list[Message] = []
        failures = 0
        for group, email in emails:
            undelivered = self._send(group, email, kind="DIGEST")
            done += [by_id[message_id] for r in group if r.queued.key not in undelivered for message_id in r.ids]
            failures += bool(undelivered)
        self.queues.delete(queue, done)
        metrics.add_metric(name="DigestFindings", unit=MetricUnit.Count, value=len(ready))
        logger.info(
            "digest handled",
            extra={"messages": len(messages), "findings": len(ready), "emails": len(emails), "failed": failures},
        )
        if failures or unrendered:
            # The invocation fails (alarmed, retried); the messages stay in the queue.
            raise DeliveryError(
                f"{failures} of {len(emails)} digest emails could not be sent; "
                f"{len(unrendered)} findings could not be rendered"
            )
        return {"findings": len(ready), "emails": len(emails)}

    # --- shared -------------------------------------------------------------------------

    def _read(self, message_id: str, body: Any) -> tuple[Queued, Classification] | None:
        try:
            if not isinstance(body, str):
                raise InvalidMessageError("message without a body")
            queued = decode(body)
            finding = Finding.model_validate(queued.detail)
        except (InvalidMessageError, ValidationError) as error:
            detail = validation_summary(error) if isinstance(error, ValidationError) else str(error)
            logger.error("unreadable queue message", extra={"message_id": message_id[:100], "reason": detail})
            metrics.add_metric(name="InvalidMessages", unit=MetricUnit.Count, value=1)
            return None
        return queued, classify(finding, self.settings)

    def _compose(self, ready: list[Ready], *, kind: Kind) -> tuple[list[tuple[list[Ready], Email]], list[Ready]]:
        """The emails of a batch or a digest run, at most ``MAX_PER_EMAIL`` findings each,
        and the findings that could not be rendered at all (retried)."""
        emails: list[tuple[list[Ready], Email]] = []
        unrendered: list[Ready] = []
        for group in batches(ready, size=MAX_PER_EMAIL, severity=lambda r: r.c.triage.severity):
            composed, lost = self._render(group, kind)
            emails += composed
            unrendered += lost
        return emails, unrendered

    def _render(self, group: list[Ready], kind: Kind) -> tuple[list[tuple[list[Ready], Email]], list[Ready]]:
        """The email(s) of ``group`` (``degrade.compose``: normally one) and the findings left out.

        A lone immediate finding gets its full email; anything else is grouped. A finding shown
        in its minimal form is logged and counted (``FindingsDegraded``) once, one left out is
        logged and counted (``FindingsNotRendered``) and retried.
        """
        settings = self.settings
        composed = compose(
            group,
            lambda r: (r.c, r.queued.update),
            kind=kind,
            lone_in_full=kind == "ALERTS",
            locale=settings.locale,
            minutes=settings.digest_minutes,
        )
        emails = [([self._shown(part, kind) for part in parts], email) for parts, email in composed.emails]
        for part in composed.lost:
            logger.error(
                "finding could not be rendered",
                extra={**log_fields_of(part.c.triage), "kind": kind, "error": part.error},
            )
            count(part.c.triage, "FindingsNotRendered")
        if len(emails) > 1:
            # Each finding renders alone but not with the others: no known input does this.
            logger.error(
                "findings could not be rendered together: one email each", extra={"kind": kind, "emails": len(emails)}
            )
        return emails, [part.item for part in composed.lost]

    def _shown(self, part: Shown[Ready], kind: Kind) -> Ready:
        """The queue entry as its email shows it; a finding newly reduced to its minimal form is logged and counted."""
        if part.error is None:
            return part.item
        if not part.item.degraded:  # not already reduced in an earlier render of this run
            fields = {**log_fields_of(part.c.triage), "kind": kind, "error": part.error}
            logger.warning("finding shown without its details", extra=fields)
            count(part.c.triage, "FindingsDegraded")
        return replace(part.item, c=part.c, degraded=True)

    def _send(self, group: list[Ready], email: Email, *, kind: Kind) -> set[str]:
        """Send on every channel what it has not delivered yet; the keys not delivered everywhere."""
        undelivered: set[str] = set()
        keys = [r.queued.key for r in group]
        for channel in self.channels:
            try:
                done = self.state.delivered(channel.name, keys)
            except Exception as error:  # noqa: BLE001 (retried: without the markers a send could repeat)
                _state_unavailable(channel, kind, "delivered", error)
                undelivered |= set(keys)
                continue
            pending = [r for r in group if r.queued.key not in done]
            outgoing = [(group, email)]
            if len(pending) < len(group):
                # A retry after a partial send: the email without what this channel already delivered.
                outgoing, lost = self._render(pending, kind) if pending else ([], [])
                undelivered |= {r.queued.key for r in lost}
            for sent, message in outgoing:
                undelivered |= self._deliver(channel, sent, message, kind=kind)
        return undelivered

    def _deliver(self, channel: Channel, sent: list[Ready], email: Email, *, kind: Kind) -> set[str]:
        """One email on one channel, then its findings marked delivered; the keys to retry.

        ``DeliveryFailures`` (the per-channel alarm) counts only the channel's own refusal; a
        state-table failure counts ``StateUnavailable`` and is retried like one.
        """
        keys = [r.queued.key for r in sent]
        refused: list[Exception] = []
        # Each finding's JSON as GuardDuty sent it (a scan result's event as it arrived), where the
        # channel can attach (SES), so the record is kept without the console; bounded by ``export``.
        files = attachments([exported(r.queued.detail) for r in sent]) if channel.attaches else ()

        def send() -> list[str]:
            try:
                return channel.send(email, files)
            except Exception as error:
                refused.append(error)
                raise

        try:
            self._once(channel, send, keys)
        except Exception as error:  # noqa: BLE001 (every channel gets its chance; failures are retried)
            if refused:
                _refused(channel, kind, len(sent), refused[0])
            elif table_failed(error):
                _state_unavailable(channel, kind, "once", error)
            else:  # e.g. another invocation holds this email's lock: neither the channel's fault nor the table's
                logger.error(
                    "email not sent: retried",
                    extra={"channel": channel.name, "kind": kind, "error": type(error).__name__},
                )
            return set(keys)
        metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
        for r in sent:
            count(r.c.triage, "FindingsEmailed", channel=channel.name)
            fields = {**log_fields_of(r.c.triage), "channel": channel.name, "kind": kind, "degraded": r.degraded}
            logger.info("finding emailed", extra=fields)
        try:
            self.state.mark_delivered(channel.name, keys)
        except Exception as error:  # noqa: BLE001 (sent, but unmarked: retried, as before the markers)
            _state_unavailable(channel, kind, "mark_delivered", error)
            return set(keys)
        return set()

    def _once(self, channel: Channel, send: Callable[[], list[str]], keys: Sequence[str]) -> None:
        digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
        self.once.run({"email": digest, "channel": channel.name}, send)


def _refused(channel: Channel, kind: Kind, findings: int, error: Exception) -> None:
    """The channel refused the email: logged, and counted per channel for its alarm."""
    fields = {
        "channel": channel.name,
        "kind": kind,
        "findings": findings,
        "error": type(error).__name__,
        "detail": str(error)[:300],
    }
    logger.error("delivery failed", extra=fields)
    emit("DeliveryFailures", Channel=channel.name)


def _state_unavailable(channel: Channel, kind: Kind, operation: str, error: Exception) -> None:
    """The state table failed around a send: logged (the error's type, never its text) and counted."""
    fields = {"channel": channel.name, "kind": kind, "operation": operation, "error": type(error).__name__}
    logger.error("state table unavailable: email retried", extra=fields)
    metrics.add_metric(name="StateUnavailable", unit=MetricUnit.Count, value=1)


def _unique(read: list[tuple[str, Queued, Classification]]) -> list[Ready]:
    """One entry per finding occurrence; the messages of a duplicate share its fate."""
    ids: dict[str, list[str]] = {}
    first: dict[str, tuple[Queued, Classification]] = {}
    for message_id, queued, c in read:
        ids.setdefault(queued.key, []).append(message_id)
        first.setdefault(queued.key, (queued, c))
    return [Ready(tuple(ids[key]), queued, c) for key, (queued, c) in first.items()]
