"""Adapter: each email is sent once, even when Lambda retries or delivers an event twice.

Every (finding, occurrence, channel) send is its own Powertools idempotent function on the
DynamoDB table, so a retry after a partial success only redoes the channel that failed,
and a lock left by a timed-out invocation expires with the invocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from responder.channels.base import client_config

if TYPE_CHECKING:
    from collections.abc import Callable

    from responder.channels import Channel
    from responder.render import Email

# A completed send blocks a repeat for this long: longer than Lambda's asynchronous retries
# (6 h) plus EventBridge's (24 h). A later occurrence of the finding has another key.
REMEMBER_SECONDS: Final = 48 * 3600


class OnceSender:
    def __init__(self, table: str) -> None:
        self.table = table
        self._context: Any = None
        self._config: Any = None
        self._send: Callable[..., list[str]] | None = None

    def register_context(self, context: Any) -> None:
        """Let a lock left by an invocation that timed out expire with it."""
        self._context = context
        if self._config is not None:
            self._config.register_lambda_context(context)

    def _build(self) -> Callable[..., list[str]]:
        # Imported on first send: the idempotency utility brings boto3 with it.
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(table_name=self.table, boto_config=client_config())
        self._config = IdempotencyConfig(expires_after_seconds=REMEMBER_SECONDS)
        if self._context is not None:
            self._config.register_lambda_context(self._context)

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="request", persistence_store=persistence, config=self._config
        )
        def send_once(*, request: dict[str, str], channel: Channel, email: Email) -> list[str]:
            return channel.send(email)

        return send_once  # type: ignore[no-any-return]

    def send(self, channel: Channel, email: Email, key: dict[str, str]) -> list[str]:
        """``channel.send(email)`` unless this exact send already succeeded."""
        if self._send is None:
            self._send = self._build()
        return self._send(request={**key, "channel": channel.name}, channel=channel, email=email)
