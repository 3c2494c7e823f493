"""Amazon SES v2: a standard MIME message: text and HTML (multipart/alternative), and each
finding's JSON attached, or the scan-result event an alert was made from (multipart/mixed;
``responder.domain.export`` makes, names and bounds the files)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING, Any, Final

from responder.adapters.aws import make_client
from responder.adapters.channels.base import DeliveryError
from responder.domain.export import SAFE_FILENAME, Attachment
from responder.domain.settings import MAX_SES_RECIPIENTS

if TYPE_CHECKING:
    from responder.domain.render import Email

# Errors that retrying cannot fix: fail at once (and alarm), do not back off.
NON_RETRYABLE: Final = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
    }
)


def build_mime(
    email: Email,
    sender: str,
    recipients: list[str] | tuple[str, ...],
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The raw message. ``EmailMessage`` encodes headers and refuses CR/LF in them.

    Raises ``ValueError`` for an attachment whose name is not one ``export`` makes: no
    finding value reaches a MIME header unvalidated.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = email.display_subject  # RFC 2047-encoded when not ASCII
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    for item in attachments:
        if not SAFE_FILENAME.fullmatch(item.filename):
            raise ValueError("attachment name is not a safe finding file name")
        # Bytes: base64 on the wire, Content-Disposition attachment with the (ASCII) file name.
        message.add_attachment(item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename)
    return message.as_bytes()


class Pacer:
    """At most ``rate`` calls per second from this process: waits before a call that would
    come too early (SES counts messages per second; the sandbox allows 1)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self._next is not None and now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


class SesChannel:
    name = "ses"
    attaches = True  # the notifier hands it each finding's JSON

    def __init__(
        self,
        sender: str,
        recipients: tuple[str, ...],
        *,
        configuration_set: str | None = None,
        client: Any = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.sender = sender
        self.recipients = recipients
        self.configuration_set = configuration_set
        self._client = client
        self.pacer = pacer

    def send(self, email: Email, attachments: Sequence[Attachment] = ()) -> list[str]:
        if self._client is None:
            self._client = make_client("sesv2")
        from botocore.exceptions import ClientError  # noqa: PLC0415

        ids = []
        # SES accepts at most 50 recipients per message.
        for start in range(0, len(self.recipients), MAX_SES_RECIPIENTS):
            batch = list(self.recipients[start : start + MAX_SES_RECIPIENTS])
            # Recipients travel in the MIME To header only: with Raw content SES sends to the
            # header addresses when no Destination is given, and nothing is listed twice.
            request: dict[str, Any] = {
                "FromEmailAddress": self.sender,
                "Content": {"Raw": {"Data": build_mime(email, self.sender, batch, attachments)}},
            }
            if self.configuration_set:
                request["ConfigurationSetName"] = self.configuration_set
            if self.pacer is not None:
                self.pacer.wait()  # stay under the account's send rate instead of being throttled
            try:
                response = self._client.send_email(**request)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code in NON_RETRYABLE:
                    raise DeliveryError(
                        f"SES refused the message ({code}); fix the SES setup, retrying will not help"
                    ) from error
                raise
            ids.append(str(response["MessageId"]))
        return ids
