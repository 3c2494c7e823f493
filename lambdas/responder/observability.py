"""Powertools Logger, Tracer and Metrics, created once for the whole package."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Final

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

SERVICE: Final = "guardduty-responder"
NAMESPACE: Final = "GuardDutyResponder"


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class _NoTracing(BaseProvider):
    """Stands in for the X-Ray SDK where no trace can be sent (outside Lambda, or disabled).

    Importing the X-Ray SDK costs more than importing boto3 (it builds a botocore session),
    so the SDK is only loaded where tracing is actually on.
    """

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def tracing_enabled(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Powertools' own rule: trace only inside Lambda, unless POWERTOOLS_TRACE_DISABLED is true."""
    disabled = env.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(env.get("LAMBDA_TASK_ROOT")) and not disabled


logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE) if tracing_enabled() else Tracer(service=SERVICE, provider=_NoTracing(), disabled=True)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
