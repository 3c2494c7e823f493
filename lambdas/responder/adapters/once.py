"""Adapter: each side effect happens once, even when Lambda retries or delivers an event twice.

Every side effect (queueing a finding; each channel's send of an email) is its own
Powertools idempotent function on the DynamoDB table, keyed by what it does, so a retry
after a partial success only redoes the part that failed, and a lock left by a timed-out
invocation expires with the invocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Protocol

from responder.adapters.aws import client_config

if TYPE_CHECKING:
    from collections.abc import Callable

# A completed side effect blocks a repeat for this long: longer than Lambda's asynchronous
# retries (6 h) plus EventBridge's (24 h). A later occurrence of the finding has another key.
REMEMBER_SECONDS: Final = 48 * 3600


class Guard(Protocol):
    def register_context(self, context: Any) -> None: ...

    def run(self, request: dict[str, str], action: Callable[[], Any]) -> Any: ...


class EveryTime:
    """Without a state table: the side effect runs every time it is asked for."""

    def register_context(self, context: Any) -> None:
        return None

    def run(self, request: dict[str, str], action: Callable[[], Any]) -> Any:
        return action()


EVERY_TIME: Final[Guard] = EveryTime()


def guard(table: str | None) -> Guard:
    """Exactly-once side effects on the state table, or, without a table, every time."""
    return Once(table) if table else EVERY_TIME


class Once:
    def __init__(self, table: str) -> None:
        self.table = table
        self._context: Any = None
        self._config: Any = None
        self._run: Callable[..., Any] | None = None

    def register_context(self, context: Any) -> None:
        """Let a lock left by an invocation that timed out expire with it."""
        self._context = context
        if self._config is not None:
            self._config.register_lambda_context(context)

    def _build(self) -> Callable[..., Any]:
        # Imported on first use: the idempotency utility brings boto3 with it.
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
        def run_once(*, request: dict[str, str], action: Callable[[], Any]) -> Any:
            return action()

        return run_once  # type: ignore[no-any-return]

    def run(self, request: dict[str, str], action: Callable[[], Any]) -> Any:
        """``action()`` unless the side effect named by ``request`` already succeeded.

        The result must be JSON-serialisable: a repeat returns the first call's result.
        """
        if self._run is None:
            self._run = self._build()
        return self._run(request=request, action=action)


def table_failed(error: Exception) -> bool:
    """Whether the exactly-once bookkeeping failed on the table (not a lock held by another invocation)."""
    # Imported here: loaded already by Once.run when this can be true, and too heavy for the import path.
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
        IdempotencyPersistenceLayerError,
    )

    return isinstance(error, IdempotencyPersistenceLayerError)
