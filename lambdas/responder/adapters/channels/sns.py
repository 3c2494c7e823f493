"""Amazon SNS: plain-text email to the topic's subscribers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from responder.adapters.aws import make_client

if TYPE_CHECKING:
    from responder.domain.export import Attachment
    from responder.domain.render import Email


class SnsChannel:
    name = "sns"
    attaches = False  # plain text cannot attach: the email keeps the get-findings command

    def __init__(self, topic_arn: str, *, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    def send(self, email: Email, attachments: Sequence[Attachment] = ()) -> list[str]:
        """Publish the subject and the text; ``attachments`` are not sent (SNS email is plain text)."""
        del attachments
        if self._client is None:
            self._client = make_client("sns")
        response = self._client.publish(TopicArn=self.topic_arn, Subject=email.subject, Message=email.text)
        return [str(response["MessageId"])]
