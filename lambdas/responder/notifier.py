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

One finding never sinks the others: when an email cannot be rendered, each of its findings
is rendered alone in the form it takes there, and one that fails is shown in its minimal
safe form (``responder.degrade``: validated identifiers, links and "details could not be
shown"), counted (``FindingsDegraded``) and logged; one that fails even so is left out of
the email and retried (``FindingsNotRendered``), the others go out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from responder.channels import Channel, DeliveryError
from responder.classify import Classification, classify
from responder.degrade import minimal
from responder.digest import Kind, batches, render_digest
from responder.models import Finding
from responder.observability import logger, metrics
from responder.once import Once
from responder.queues import Message, SqsQueues
from responder.render import Email, render
from responder.routing import MAX_PER_EMAIL, InvalidMessageError, Queued, decode
from responder.service import build_channels, count, durable, emit, log_fields_of, validation_summary
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
    degraded: bool = False  # shown in its minimal safe form: its details could not be rendered


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
        for group in batches(ready, size=MAX_PER_EMAIL, severity=lambda r: r.c.severity):
            shown, email, lost = self._render(group, kind)
            unrendered += lost
            if email is not None:
                emails.append((shown, email))
        return emails, unrendered

    def _render(self, group: list[Ready], kind: Kind) -> tuple[list[Ready], Email | None, list[Ready]]:
        """The email of ``group``: (the findings in it, the email, the findings left out).

        Normally one render. If it raises, each finding is rendered alone in the form it takes
        in this email; one that fails is replaced by its minimal form, and left out if even
        that fails, so a finding's bad value only ever costs that finding its details.
        """
        try:
            return group, self._email(group, kind), []
        except Exception as error:  # noqa: BLE001 (a finding's value broke rendering: find which, below)
            fields = {"kind": kind, "findings": len(group), "error": type(error).__name__}
            logger.warning("email could not be rendered; rendering its findings one by one", extra=fields)
        grouped = self._grouped(group, kind)
        shown: list[Ready] = []
        lost: list[Ready] = []
        for r in group:
            if (failure := self._render_error([r], kind, grouped=grouped)) is None:
                shown.append(r)
                continue
            reduced = replace(r, c=minimal(r.c, self.settings.language), degraded=True)
            fields = {**log_fields_of(reduced.c), "kind": kind, "error": type(failure).__name__}
            if self._render_error([reduced], kind, grouped=grouped) is None:
                shown.append(reduced)
                logger.warning("finding shown without its details", extra=fields)
                count(reduced.c, "FindingsDegraded")
            else:
                lost.append(r)
                logger.error("finding could not be rendered", extra=fields)
                count(reduced.c, "FindingsNotRendered")
        if len(shown) < len(group):
            if not shown:
                return [], None, lost
            # Fewer findings may change the email's form (a lone immediate one is emailed in full).
            shown, email, more = self._render(shown, kind)
            return shown, email, lost + more
        try:
            return shown, self._email(shown, kind), []
        except Exception as error:  # noqa: BLE001 (each renders alone, not together: no one finding to blame)
            logger.error("email could not be rendered", extra={"kind": kind, "error": type(error).__name__})
            for r in shown:
                count(r.c, "FindingsNotRendered")
            return [], None, shown

    @staticmethod
    def _grouped(group: list[Ready], kind: Kind) -> bool:
        """A lone immediate finding gets its full email; anything else is grouped."""
        return not (kind == "ALERTS" and len(group) == 1)

    def _render_error(self, group: list[Ready], kind: Kind, *, grouped: bool) -> Exception | None:
        """The exception rendering ``group`` in that form raises, if any."""
        try:
            self._email(group, kind, grouped=grouped)
        except Exception as error:  # noqa: BLE001 (the caller decides what a failure costs)
            return error
        return None

    def _email(self, group: list[Ready], kind: Kind, *, grouped: bool | None = None) -> Email:
        """The full email of a lone immediate finding, otherwise the grouped one."""
        settings = self.settings
        if not (self._grouped(group, kind) if grouped is None else grouped):
            [only] = group
            return render(only.c, settings.language, only.queued.update, zone=settings.display_zone)
        items = [(r.c, r.queued.update) for r in group]
        return render_digest(
            items, kind=kind, lang=settings.language, minutes=settings.digest_minutes, zone=settings.display_zone
        )

    def _send(self, group: list[Ready], email: Email, *, kind: Kind) -> set[str]:
        """Send on every channel what it has not delivered yet; the keys not delivered everywhere."""
        undelivered: set[str] = set()
        keys = [r.queued.key for r in group]
        for channel in self.channels:
            sent: list[Ready] = []
            try:
                done = self.state.delivered(channel.name, keys) if self.state else set()
                pending = [r for r in group if r.queued.key not in done]
                if not pending:
                    continue
                sent, message = pending, email
                if len(pending) < len(group):
                    # A retry after a partial send: the email without what this channel already delivered.
                    sent, rendered, lost = self._render(pending, kind)
                    undelivered |= {r.queued.key for r in lost}
                    if rendered is None:
                        continue
                    message = rendered
                self._once(channel, message, [r.queued.key for r in sent])
                if self.state:
                    self.state.mark_delivered(channel.name, [r.queued.key for r in sent])
            except Exception as error:  # noqa: BLE001 (every channel gets its chance; failures are retried)
                undelivered |= set(keys)
                logger.error(
                    "delivery failed",
                    extra={
                        "channel": channel.name,
                        "kind": kind,
                        "findings": len(sent),
                        "error": type(error).__name__,
                        "detail": str(error)[:300],
                    },
                )
                # Per channel, for the alarm that says which channel cannot send.
                emit("DeliveryFailures", Channel=channel.name)
                continue
            metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
            for r in sent:
                count(r.c, "FindingsEmailed", channel=channel.name)
                fields = {**log_fields_of(r.c), "channel": channel.name, "kind": kind, "degraded": r.degraded}
                logger.info("finding emailed", extra=fields)
        return undelivered

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
