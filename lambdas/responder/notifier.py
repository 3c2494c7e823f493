"""Sending: queued findings out as emails, each finding once per channel.

- ``alerts``: a batch of the immediate queue (Lambda gathers it for up to a minute). One
  finding is one full email; several (a storm) are grouped, at most ``MAX_PER_EMAIL`` per
  email. A failed email reports only its own messages as failed, so SQS retries them and,
  after ``maxReceiveCount`` receives, moves them to the dead-letter queue.
- ``digest``: on schedule, everything in the digest queue as digest emails; messages are
  deleted only after their email went out on every channel.

Each channel's send of an email is a Powertools idempotent function (a retry of the same
batch does not resend on the channel that succeeded), and each finding occurrence delivered
on a channel is marked, so an SQS redelivery in another batch is not emailed twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from responder.channels import Channel, DeliveryError
from responder.classify import Classification, classify
from responder.digest import Kind, batches, render_digest
from responder.models import Finding
from responder.observability import logger, metrics
from responder.once import Once
from responder.queues import Message, SqsQueues
from responder.render import Email, render
from responder.routing import MAX_PER_EMAIL, InvalidMessageError, Queued, decode
from responder.service import build_channels, count, durable, log_fields_of, validation_summary
from responder.settings import Settings
from responder.state import StateStore

SCHEDULED: Final = ("aws.events", "Scheduled Event")
DIGEST_LIMIT: Final = 2_000  # findings read per digest run; the rest wait for the next run
VISIBILITY_MARGIN: Final = 60  # seconds a received digest message stays hidden beyond the function's run


@dataclass(frozen=True)
class Ready:
    """A queued finding, read and classified; ``ids`` are its messages (duplicates included)."""

    ids: tuple[str, ...]
    queued: Queued
    c: Classification


class Notifier:
    def __init__(
        self,
        settings: Settings,
        channels: list[Channel],
        queues: SqsQueues,
        *,
        state: StateStore | None = None,
        once: Once | None = None,
        timeout_seconds: int = 120,
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.queues = queues
        self.state = state
        self.once = once
        self.timeout_seconds = timeout_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        """The channels and queues, and with a state table, exactly-once sends."""
        state, once = durable(settings)
        return cls(settings, build_channels(settings), SqsQueues(), state=state, once=once)

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        """An SQS batch of the immediate queue, or the digest schedule."""
        if context is not None:
            if self.once is not None:
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
        emails = self._compose(ready, kind="ALERTS")
        for group, email in emails:
            if not self._send(group, email, kind="ALERTS"):
                failed += [message_id for r in group for message_id in r.ids]
        logger.info(
            "immediate batch handled",
            extra={"messages": len(records), "findings": len(ready), "emails": len(emails), "failed": len(failed)},
        )
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    # --- the digest queue -------------------------------------------------------------

    def digest(self) -> dict[str, Any]:
        """Email everything waiting in the digest queue. Raises if an email could not be sent."""
        queue = self.settings.digest_queue
        if queue is None:
            raise RuntimeError("no digest queue configured")  # Settings.from_env requires it
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
        emails = self._compose(ready, kind="DIGEST")
        done: list[Message] = []
        failures = 0
        for group, email in emails:
            if self._send(group, email, kind="DIGEST"):
                done += [by_id[message_id] for r in group for message_id in r.ids]
            else:
                failures += 1
        self.queues.delete(queue, done)
        metrics.add_metric(name="DigestFindings", unit=MetricUnit.Count, value=len(ready))
        logger.info(
            "digest handled",
            extra={"messages": len(messages), "findings": len(ready), "emails": len(emails), "failed": failures},
        )
        if failures:
            # The invocation fails (alarmed, retried); the messages stay in the queue.
            raise DeliveryError(f"{failures} of {len(emails)} digest emails could not be sent")
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

    def _compose(self, ready: list[Ready], *, kind: Kind) -> list[tuple[list[Ready], Email]]:
        """The emails of a batch or a digest run, at most ``MAX_PER_EMAIL`` findings each."""
        return [
            (group, self._email(group, kind))
            for group in batches(ready, size=MAX_PER_EMAIL, severity=lambda r: r.c.severity)
        ]

    def _email(self, group: list[Ready], kind: Kind) -> Email:
        """A lone immediate finding gets its full email; anything else is grouped."""
        settings = self.settings
        if kind == "ALERTS" and len(group) == 1:
            [only] = group
            return render(only.c, settings.language, only.queued.update, zone=settings.display_zone)
        items = [(r.c, r.queued.update) for r in group]
        return render_digest(
            items, kind=kind, lang=settings.language, minutes=settings.digest_minutes, zone=settings.display_zone
        )

    def _send(self, group: list[Ready], email: Email, *, kind: Kind) -> bool:
        """Send on every channel what it has not delivered yet; false if any channel failed."""
        ok = True
        keys = [r.queued.key for r in group]
        for channel in self.channels:
            pending: list[Ready] = []
            try:
                done = self.state.delivered(channel.name, keys) if self.state else set()
                pending = [r for r in group if r.queued.key not in done]
                if not pending:
                    continue
                # A retry after a partial send: the email without what this channel already delivered.
                message = email if len(pending) == len(group) else self._email(pending, kind)
                self._once(channel, message, [r.queued.key for r in pending])
                if self.state:
                    self.state.mark_delivered(channel.name, [r.queued.key for r in pending])
            except Exception as error:  # noqa: BLE001 (every channel gets its chance; failures are retried)
                ok = False
                logger.error(
                    "delivery failed",
                    extra={
                        "channel": channel.name,
                        "kind": kind,
                        "findings": len(pending),
                        "error": type(error).__name__,
                        "detail": str(error)[:300],
                    },
                )
                metrics.add_metric(name="DeliveryFailures", unit=MetricUnit.Count, value=1)
                continue
            metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
            for r in pending:
                count(r.c, "FindingsEmailed", channel=channel.name)
                logger.info("finding emailed", extra={**log_fields_of(r.c), "channel": channel.name, "kind": kind})
        return ok

    def _once(self, channel: Channel, email: Email, keys: Sequence[str]) -> None:
        send: Callable[[], list[str]] = lambda: channel.send(email)  # noqa: E731
        if self.once is None:
            send()
            return
        digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
        self.once.run({"email": digest, "channel": channel.name}, send)


def _unique(read: list[tuple[str, Queued, Classification]]) -> list[Ready]:
    """One entry per finding occurrence; the messages of a duplicate share its fate."""
    ids: dict[str, list[str]] = {}
    first: dict[str, tuple[Queued, Classification]] = {}
    for message_id, queued, c in read:
        ids.setdefault(queued.key, []).append(message_id)
        first.setdefault(queued.key, (queued, c))
    return [Ready(tuple(ids[key]), queued, c) for key, (queued, c) in first.items()]
