"""Amazon SNS: plain-text email to the topic's subscribers.

A routed copy (``route`` set) carries the route's name as the String message attribute
``route``: SNS cannot address one message to some subscribers, so each owner subscribes to the
route topic with the filter policy ``{"route": ["<name>"]}``.
"""

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

    def __init__(self, topic_arn: str, *, route: str | None = None, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self.route = route
        self._client = client

    def send(self, email: Email, attachments: Sequence[Attachment] = ()) -> list[str]:
        """Publish the subject and the text; ``attachments`` are not sent (SNS email is plain text)."""
        del attachments
        if self._client is None:
            self._client = make_client("sns")
        request: dict[str, Any] = {"TopicArn": self.topic_arn, "Subject": email.subject, "Message": email.text}
        if self.route is not None:
            request["MessageAttributes"] = {"route": {"DataType": "String", "StringValue": self.route}}
        response = self._client.publish(**request)
        return [str(response["MessageId"])]
