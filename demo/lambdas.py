"""The Lambda service's part, for the embedded AWS (which runs no Lambda): the real handlers,
invoked as Lambda would invoke them.

- ``cold_start``: each function's entry module imported afresh under its own environment (the
  stack gives each function only the variables it reads), as a new execution environment does.
- ``invoke_triage``: an asynchronous invocation; a failure goes to the dead-letter queue,
  as the function's on-failure destination would send it.
- ``Notifier``: the notifier fed as the stack feeds it, by the SQS event source
  (``demo.poller``) and the digest schedule.
- ``FakeContext``: the context Lambda passes (the integration tests use it too).
"""

from __future__ import annotations

import contextlib
import importlib
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from demo.emulator import ACCOUNT, REGION, Deployed, dead_letter, environment
from demo.poller import EventSourceMapping
from infra.constants import MEMORY_MB, QUEUE_BATCH_SIZE, SERVICE, TIMEOUT_SECONDS
from responder.adapters.observability import logger
from responder.app.notifier import SCHEDULED_EVENT


@dataclass(frozen=True)
class FakeContext:
    """The Lambda context of a function that has just started (its whole timeout ahead)."""

    function_name: str = SERVICE
    memory_limit_in_mb: int = MEMORY_MB
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{SERVICE}"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        """The whole timeout: the demo never runs out of time."""
        return TIMEOUT_SECONDS * 1000


@dataclass(frozen=True)
class Handlers:
    """Both functions' entry points after a cold start, and the triage function's settings."""

    SETTINGS: Any  # the triage function's settings, as read at the cold start
    lambda_handler: Callable[[dict[str, Any], Any], dict[str, Any]]  # the triage function
    notify_handler: Callable[[dict[str, Any], Any], dict[str, Any]]  # the notifier function


def cold_start(environments: Mapping[str, Mapping[str, str]] | None = None) -> Handlers:
    """Each function's entry module imported afresh under its own environment (``environments``
    by ``emulator.FUNCTIONS`` name; None: the process's own, as the integration tests set it):
    its settings are read now, as a new execution environment does."""
    triage = _started("responder.triage_handler", (environments or {}).get("triage", {}))
    notify = _started("responder.notify_handler", (environments or {}).get("notifier", {}))
    return Handlers(triage.SETTINGS, triage.lambda_handler, notify.lambda_handler)


def _started(module: str, variables: Mapping[str, str]) -> ModuleType:
    """The entry module run again with the function's variables set (its settings are read at import)."""
    with environment(variables):
        return importlib.reload(importlib.import_module(module))


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The functions' own JSON logs and EMF metrics are CloudWatch's business, not the demo's."""
    stream = logger.registered_handler.setStream(io.StringIO())  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Invocation:
    """One triage invocation: what the handler returned, or what it raised (then in the DLQ)."""

    result: dict[str, Any] | None = None
    error: Exception | None = None


def invoke_triage(handlers: Handlers, event: dict[str, Any], dlq_url: str) -> Invocation:
    """Invoke the triage handler like Lambda's asynchronous invocation."""
    try:
        with quiet():
            return Invocation(result=handlers.lambda_handler(event, FakeContext()))
    except Exception as error:  # noqa: BLE001 (a failed invocation is a result of the run)
        dead_letter(dlq_url, event, error)
        return Invocation(error=error)


class Notifier:
    """The notifier function, fed as the stack feeds it: the SQS event source and the schedule."""

    def __init__(self, handlers: Handlers, deployed: Deployed) -> None:
        self.handlers = handlers
        self.mapping = EventSourceMapping(
            deployed.immediate_url, deployed.dlq_url, batch_size=QUEUE_BATCH_SIZE, region=REGION
        )
        self.dlq_url = deployed.dlq_url
        self.failures = 0  # failed digest runs

    def alerts(self) -> None:
        """Lambda's event source mapping: batches of the immediate queue until it is empty."""
        with quiet():
            self.mapping.drain(self.handlers.notify_handler, FakeContext())

    def digest(self) -> None:
        """The digest schedule fires; a failed run goes to the dead-letter queue."""
        try:
            with quiet():
                self.handlers.notify_handler(SCHEDULED_EVENT, FakeContext())
        except Exception as error:  # noqa: BLE001 (a failed invocation is a result of the run)
            dead_letter(self.dlq_url, SCHEDULED_EVENT, error)
            self.failures += 1
