"""The channel protocol; the AWS client settings every channel shares live in ``responder.adapters.aws``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from responder.adapters.aws import MAX_ATTEMPTS, client_config, make_client

if TYPE_CHECKING:
    from responder.domain.export import Attachment
    from responder.domain.render import Email

__all__ = ["MAX_ATTEMPTS", "Channel", "DeliveryError", "client_config", "make_client"]


class DeliveryError(RuntimeError):
    """A channel refused the message for a reason retrying will not fix."""


class Channel(Protocol):
    name: str
    attaches: bool  # whether it sends attachments (the notifier builds them only for such a channel)

    def send(self, email: Email, attachments: Sequence[Attachment] = ()) -> list[str]:
        """Send the email (with ``attachments`` where the channel can); return the provider's
        message ids. Raise on any failure."""
        ...
