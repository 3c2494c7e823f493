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

Routing to owners (``responder.domain.owners``, the routes file read by
``responder.adapters.routes``): the findings of a batch or a digest run are split by audience
before they are grouped, so each owner's grouped email and digest hold only its own accounts.
The default audience (the security team) gets today's channels under today's delivered-marker
and exactly-once namespaces (``sns``, ``ses``: an upgrade re-sends nothing); a routed copy goes by
SES to the route's recipient set (one email per identical set) and, for a route with ``sns``, to
the route topic with the message attribute ``route``, each under its own namespace
(``ses@to-<set>``, ``sns@<route>``). A route whose addresses are the security team's sends no
second email, and a message received again (``ApproximateReceiveCount`` > 1) also goes to the
security team, so an exclusive owner's refused delivery reaches it on the first retry (its
own namespaces: what it already got is not sent twice). With a chat topic, each group of the default audience is
also published to chat (namespace ``chat``), after its email channels. A finding counts as
delivered (deleted, not retried) only when every audience and channel delivered it.

``DeliveryFailures`` (per channel, alarmed) counts a channel's refusal only. When the
state table fails around a send (delivered-markers, exactly-once records), the email is
retried and ``StateUnavailable`` is counted instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from responder.adapters.aws import make_client
from responder.adapters.channels import Channel, DeliveryError, SesChannel, SnsChannel
from responder.adapters.channels.chat import ChatChannel
from responder.adapters.channels.ses import Pacer
from responder.adapters.observability import count, emit, log_fields_of, logger, metrics, validation_summary
from responder.adapters.once import EVERY_TIME, Guard, guard, table_failed
from responder.adapters.queues import Message, SqsQueues
from responder.adapters.routes import RouteSource
from responder.adapters.state import NO_STATE, StateStore, state_store
from responder.app.settings import NotifierSettings
from responder.domain.chat import notification
from responder.domain.classify import Classification, classify
from responder.domain.degrade import Shown, compose
from responder.domain.digest import Kind, batches
from responder.domain.export import attachments, exported
from responder.domain.models import Finding
from responder.domain.owners import DEFAULT, Audience, Routes, route
from responder.domain.render import Email
from responder.domain.routing import MAX_PER_EMAIL, InvalidMessageError, Queued, decode

SCHEDULED: Final = ("aws.events", "Scheduled Event")
# The digest schedule's input (the stack's schedule target), the event ``SCHEDULED`` recognises.
SCHEDULED_EVENT: Final[dict[str, str]] = {"source": SCHEDULED[0], "detail-type": SCHEDULED[1]}
DIGEST_LIMIT: Final = 2_000  # findings read per digest run; the rest wait for the next run
VISIBILITY_MARGIN: Final = 60  # seconds a received digest message stays hidden beyond the function's run
CHAT: Final = "chat"  # the chat channel's name: metrics, logs, delivered-markers and exactly-once records


@dataclass(frozen=True)
class Ready:
    """A queued finding, read and classified; ``ids`` are its messages (duplicates included)."""

    ids: tuple[str, ...]
    queued: Queued
    c: Classification
    degraded: bool = False  # shown in its minimal safe form: its details could not be rendered
    redelivered: bool = False  # one of its messages was received before: a retry


@dataclass(frozen=True)
class Target:
    """One destination of a group: a channel, and the namespace of its delivered-markers and exactly-once
    records (the channel's name for the default audience, as before routes; ``<name>@<audience>`` for a route)."""

    namespace: str
    channel: Channel | ChatChannel
    audience: Audience = DEFAULT


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
        routes: RouteSource | None = None,
        route_topic: str | None = None,
        chat: ChatChannel | None = None,
    ) -> None:
        self.settings = settings
        self.channels = channels
        self.queues = queues
        self.state = state
        self.once = once
        self.timeout_seconds = timeout_seconds
        self.routes = routes if routes is not None else RouteSource(None)  # None: everything to the default
        self.route_topic = route_topic  # where a route's SNS copies go (with the ``route`` attribute)
        self.chat = chat
        # Routed copies go out on the channels in use: by SES as the security team's SES channel
        # sends (sender, configuration set, pacer: the same account send rate), by SNS to the
        # route topic when the SNS channel is in use.
        self._ses = next((c for c in channels if isinstance(c, SesChannel)), None)
        self._sns = route_topic is not None and any(isinstance(c, SnsChannel) for c in channels)
        # A route's channels, built once per audience, sharing one client per service.
        self._route_targets: dict[Audience, list[Target]] = {}
        self._clients: dict[str, Any] = {}
        self._reported: set[tuple[str, str]] = set()  # (what, finding key) logged and counted this run

    @classmethod
    def from_settings(cls, settings: NotifierSettings) -> Notifier:
        """The channels and queues, the routes file, the chat topic, and with a state table, exactly-once sends."""
        table = settings.state_table
        chat = ChatChannel(settings.chat_topic_arn) if settings.chat_topic_arn else None
        return cls(
            settings,
            build_channels(settings),
            SqsQueues(),
            state=state_store(table),
            once=guard(table),
            routes=RouteSource(settings.routes_parameter),
            route_topic=settings.route_topic_arn,
            chat=chat,
        )

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
        again: set[str] = set()
        for record in records:
            message_id = str(record.get("messageId", ""))
            attributes = record.get("attributes")
            if isinstance(attributes, dict) and _receive_count(attributes.get("ApproximateReceiveCount")) > 1:
                again.add(message_id)
            item = self._read(message_id, record.get("body"))
            if item is None:
                failed.append(message_id)
            else:
                read.append((message_id, *item))
        ready = _unique(read, again)
        self._reported.clear()
        emails = 0
        undelivered: set[str] = set()
        for audience, part in self._audiences(ready):
            composed, unrendered = self._compose(part, kind="ALERTS")
            undelivered |= {r.queued.key for r in unrendered}
            for group, email in composed:
                undelivered |= self._send(group, email, kind="ALERTS", audience=audience)
            emails += len(composed)
        failed += [message_id for r in ready if r.queued.key in undelivered for message_id in r.ids]
        logger.info(
            "immediate batch handled",
            extra={"messages": len(records), "findings": len(ready), "emails": emails, "failed": len(failed)},
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
        # A message kept by an earlier run (an audience failed) comes back with a higher receive count.
        again = {m.message_id for m in messages if m.receive_count > 1}
        ready = _unique(read, again)
        self._reported.clear()
        emails = failures = 0
        undelivered: set[str] = set()
        unrendered: set[str] = set()
        for audience, part in self._audiences(ready):
            composed, lost = self._compose(part, kind="DIGEST")
            unrendered |= {r.queued.key for r in lost}
            for group, email in composed:
                missed = self._send(group, email, kind="DIGEST", audience=audience)
                undelivered |= missed
                failures += bool(missed)
            emails += len(composed)
        # A message is deleted only when every audience got its finding: the others wait for the next run.
        kept = undelivered | unrendered
        done: list[Message] = [by_id[message_id] for r in ready if r.queued.key not in kept for message_id in r.ids]
        self.queues.delete(queue, done)
        metrics.add_metric(name="DigestFindings", unit=MetricUnit.Count, value=len(ready))
        logger.info(
            "digest handled",
            extra={"messages": len(messages), "findings": len(ready), "emails": emails, "failed": failures},
        )
        if failures or unrendered:
            # The invocation fails (alarmed, retried); the messages stay in the queue.
            raise DeliveryError(
                f"{failures} of {emails} digest emails could not be sent; "
                f"{len(unrendered)} findings could not be rendered"
            )
        return {"findings": len(ready), "emails": emails}

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
        return queued, classify(finding, self.settings, queued.account)

    def _audiences(self, ready: list[Ready]) -> list[tuple[Audience, list[Ready]]]:
        """The findings split by audience (the default first): each owner's emails hold only its findings."""
        ses, sns = self._ses is not None, self._sns
        routes: Routes = self.routes.current(ses=ses, sns=sns)
        recipients = self._ses.recipients if self._ses is not None else ()
        parts: dict[Audience, list[Ready]] = {DEFAULT: []}
        for r in ready:
            triage = r.c.triage
            routed = route(
                routes,
                r.queued.account,
                triage.account_id,
                triage.band,
                ses=ses,
                sns=sns,
                recipients=recipients,
                redelivered=r.redelivered,
            )
            for name in routed.untagged:
                # The tag is missing or names no address in allowed_domains: the owner is not emailed.
                fields = {**log_fields_of(triage), "route": name}
                logger.warning("route recipients_from_tag gave no allowed address", extra=fields)
            for name, left_out in routed.dropped:
                # Addresses in the account's tag outside the route's allowed domains: never sent to.
                fields = {**log_fields_of(triage), "route": name, "addresses": left_out}
                logger.warning("route recipients outside allowed_domains left out", extra=fields)
                metrics.add_metric(name="RouteRecipientsDropped", unit=MetricUnit.Count, value=left_out)
            for audience in routed.audiences:
                parts.setdefault(audience, []).append(r)
        return [(audience, part) for audience, part in parts.items() if part]

    def _targets(self, audience: Audience) -> list[Target]:
        """Where an audience's groups go: today's channels (then chat) for the default, a route's own otherwise."""
        if audience.is_default:
            targets = [Target(channel.name, channel) for channel in self.channels]
            return [*targets, Target(CHAT, self.chat)] if self.chat is not None else targets
        if audience not in self._route_targets:
            self._route_targets[audience] = self._route_channels(audience)
        return self._route_targets[audience]

    def _route_channels(self, audience: Audience) -> list[Target]:
        channels: list[Channel] = []
        if audience.ses and (ses := self._ses) is not None:
            client = self._client("sesv2")
            channels.append(
                SesChannel(
                    ses.sender, audience.ses, configuration_set=ses.configuration_set, client=client, pacer=ses.pacer
                )
            )
        if audience.sns and self._sns and self.route_topic is not None:
            channels.append(SnsChannel(self.route_topic, route=audience.name, client=self._client("sns")))
        return [Target(f"{channel.name}@{audience.name}", channel, audience) for channel in channels]

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = make_client(service)
        return self._clients[service]

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
            if not self._first_report("lost", part.item):
                continue  # already reported for another audience's email of this run
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
        # Not already reduced in an earlier render of this run (a retry, or another audience's email).
        if not part.item.degraded and self._first_report("degraded", part.item):
            fields = {**log_fields_of(part.c.triage), "kind": kind, "error": part.error}
            logger.warning("finding shown without its details", extra=fields)
            count(part.c.triage, "FindingsDegraded")
        return replace(part.item, c=part.c, degraded=True)

    def _first_report(self, what: str, item: Ready) -> bool:
        """Whether ``what`` is reported for this finding for the first time in this run."""
        key = (what, item.queued.key)
        if key in self._reported:
            return False
        self._reported.add(key)
        return True

    def _send(self, group: list[Ready], email: Email, *, kind: Kind, audience: Audience = DEFAULT) -> set[str]:
        """Send on every target of the audience what it has not delivered yet; the keys not delivered everywhere."""
        undelivered: set[str] = set()
        keys = [r.queued.key for r in group]
        for target in self._targets(audience):
            try:
                done = self.state.delivered(target.namespace, keys)
            except Exception as error:  # noqa: BLE001 (retried: without the markers a send could repeat)
                _state_unavailable(target, kind, "delivered", error)
                undelivered |= set(keys)
                continue
            pending = [r for r in group if r.queued.key not in done]
            outgoing = [(group, email)]
            if len(pending) < len(group):
                # A retry after a partial send: the message without what this target already delivered
                # (chat builds its own from the findings: no email to render again).
                if isinstance(target.channel, ChatChannel):
                    outgoing = [(pending, email)] if pending else []
                else:
                    outgoing, lost = self._render(pending, kind) if pending else ([], [])
                    undelivered |= {r.queued.key for r in lost}
            for sent, message in outgoing:
                undelivered |= self._deliver(target, sent, message, kind=kind)
        return undelivered

    def _deliver(self, target: Target, sent: list[Ready], email: Email, *, kind: Kind) -> set[str]:
        """One message on one target, then its findings marked delivered; the keys to retry.

        ``DeliveryFailures`` (the per-channel alarm) counts only the channel's own refusal; a
        state-table failure counts ``StateUnavailable`` and is retried like one.
        """
        channel = target.channel
        keys = [r.queued.key for r in sent]
        refused: list[Exception] = []

        def send() -> list[str]:
            try:
                if isinstance(channel, ChatChannel):
                    updates = [r.queued.update for r in sent]  # an update threads under its finding's first message
                    return channel.send(notification([r.c for r in sent], self.settings, kind=kind, updates=updates))
                # Each finding's JSON as GuardDuty sent it (a scan result's event as it arrived), where the
                # channel can attach (SES), so the record is kept without the console; bounded by ``export``.
                files = attachments([exported(r.queued.detail) for r in sent]) if channel.attaches else ()
                return channel.send(email, files)
            except Exception as error:
                refused.append(error)
                raise

        try:
            self._once(target, send, keys)
        except Exception as error:  # noqa: BLE001 (every channel gets its chance; failures are retried)
            if refused:
                _refused(target, kind, len(sent), refused[0])
            elif table_failed(error):
                _state_unavailable(target, kind, "once", error)
            else:  # e.g. another invocation holds this email's lock: neither the channel's fault nor the table's
                fields = {**_fields(target, kind), "error": type(error).__name__}
                logger.error("email not sent: retried", extra=fields)
            return set(keys)
        _sent(target, sent, kind)
        try:
            self.state.mark_delivered(target.namespace, keys)
        except Exception as error:  # noqa: BLE001 (sent, but unmarked: retried, as before the markers)
            _state_unavailable(target, kind, "mark_delivered", error)
            return set(keys)
        return set()

    def _once(self, target: Target, send: Callable[[], list[str]], keys: Sequence[str]) -> None:
        digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
        # Keys as before routes ("email", "channel"): the default audience's records are unchanged.
        self.once.run({"email": digest, "channel": target.namespace}, send)


def _fields(target: Target, kind: Kind) -> dict[str, Any]:
    """What a log line says of a target: the channel, and for a routed copy its audience."""
    fields: dict[str, Any] = {"channel": target.channel.name, "kind": kind}
    if not target.audience.is_default:
        fields["audience"] = target.audience.name  # a route's name, or a hash of its addresses (never one)
    return fields


def _sent(target: Target, sent: list[Ready], kind: Kind) -> None:
    """A message went out: counted, and each finding logged."""
    if isinstance(target.channel, ChatChannel):
        for r in sent:
            logger.info("finding sent to chat", extra={**log_fields_of(r.c.triage), **_fields(target, kind)})
        return
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
    for r in sent:
        count(r.c.triage, "FindingsEmailed", channel=target.channel.name)
        fields = {**log_fields_of(r.c.triage), **_fields(target, kind), "degraded": r.degraded}
        logger.info("finding emailed", extra=fields)


def _refused(target: Target, kind: Kind, findings: int, error: Exception) -> None:
    """The channel refused the message: logged, and counted per channel for its alarm."""
    fields = {**_fields(target, kind), "findings": findings, "error": type(error).__name__, "detail": str(error)[:300]}
    logger.error("delivery failed", extra=fields)
    emit("DeliveryFailures", Channel=target.channel.name)


def _state_unavailable(target: Target, kind: Kind, operation: str, error: Exception) -> None:
    """The state table failed around a send: logged (the error's type, never its text) and counted."""
    fields = {**_fields(target, kind), "operation": operation, "error": type(error).__name__}
    logger.error("state table unavailable: email retried", extra=fields)
    metrics.add_metric(name="StateUnavailable", unit=MetricUnit.Count, value=1)


def _unique(read: list[tuple[str, Queued, Classification]], again: Collection[str] = ()) -> list[Ready]:
    """One entry per finding occurrence; the messages of a duplicate share its fate.

    ``again``: the ids of messages received before (a finding is redelivered when any of its messages is).
    """
    ids: dict[str, list[str]] = {}
    first: dict[str, tuple[Queued, Classification]] = {}
    for message_id, queued, c in read:
        ids.setdefault(queued.key, []).append(message_id)
        first.setdefault(queued.key, (queued, c))
    return [
        Ready(tuple(ids[key]), queued, c, redelivered=any(message_id in again for message_id in ids[key]))
        for key, (queued, c) in first.items()
    ]


def _receive_count(value: Any) -> int:
    """SQS's ``ApproximateReceiveCount`` (a string of digits) as a number; 1 when absent or unreadable."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    return 1
