"""AWS clients as every adapter creates them: on first use, with the same retries and timeouts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from botocore.config import Config

# Throttling (SES TooManyRequestsException, SNS Throttled, DynamoDB and SQS throttling) is
# absorbed by botocore's "standard" retry mode: exponential backoff with jitter, up to this
# many attempts.
MAX_ATTEMPTS: Final = 5  # attempts in all, the first included
CONNECT_TIMEOUT: Final = 5  # seconds
READ_TIMEOUT: Final = 10  # seconds


def client_config(
    *, max_attempts: int = MAX_ATTEMPTS, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT
) -> Config:
    """Standard retries and short timeouts (botocore is imported here, not at cold start); an
    adapter with a tighter time budget (the Organizations directory) passes its own limits."""
    from botocore.config import Config  # noqa: PLC0415 (botocore stays off the import path)

    return Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def make_client(service: str) -> Any:
    """A boto3 client created on first use (boto3 import kept off the cold path)."""
    import boto3  # noqa: PLC0415

    return boto3.client(service, config=client_config())  # type: ignore[call-overload]
