"""The channel protocol; the AWS client settings every channel shares live in ``responder.adapters.aws``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from responder.adapters.aws import MAX_ATTEMPTS, client_config, make_client

if TYPE_CHECKING:
    from responder.domain.render import Email

__all__ = ["MAX_ATTEMPTS", "Channel", "DeliveryError", "client_config", "make_client"]


class DeliveryError(RuntimeError):
    """A channel refused the message for a reason retrying will not fix."""


class Channel(Protocol):
    name: str

    def send(self, email: Email) -> list[str]:
        """Send the email; return the provider's message ids. Raise on any failure."""
        ...
