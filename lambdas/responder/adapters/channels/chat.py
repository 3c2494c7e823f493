"""Amazon Q Developer in chat applications: a custom notification published to the chat topic.

Not a ``Channel``: those send an ``Email``; this one publishes the JSON that
``responder.domain.chat.notification`` builds, which the chat service renders in Slack or
Microsoft Teams (it drops anything that is not in its custom-notification format, silently).
"""

from __future__ import annotations

from typing import Any

from responder.adapters.aws import make_client


class ChatChannel:
    """Publishes chat notifications to the SNS topic the chat channel configuration listens to."""

    name = "chat"

    def __init__(self, topic_arn: str, *, client: Any = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    def send(self, message: str) -> list[str]:
        """Publish ``message`` (the notification's JSON) with no subject; return the message ids.

        Errors propagate as the email channels' do: the caller retries the finding.
        """
        if self._client is None:
            self._client = make_client("sns")
        # No Subject: the chat service reads only the message, and a subject is ASCII-limited.
        response = self._client.publish(TopicArn=self.topic_arn, Message=message)
        return [str(response["MessageId"])]
