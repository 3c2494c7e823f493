"""The SES sandbox's sending rate, on the embedded AWS (moto never throttles).

While active, an SES SendEmail that comes clearly sooner than ``1 / per_second`` after the
last accepted one (by more than ``TOLERANCE``: SES measures its rate over short windows,
not to the millisecond) is answered as SES answers it: HTTP 429
``TooManyRequestsException`` ("Maximum sending rate exceeded"). The request never leaves
the process. Each refusal is counted: the product must absorb every one of them (botocore's
backoff, then the queue's retry) without losing an alert.
"""

from __future__ import annotations

import threading
import time
from io import BytesIO
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

TOLERANCE = 0.1  # of the interval
BODY = b'{"__type":"TooManyRequestsException","message":"Maximum sending rate exceeded."}'


class _Raw(BytesIO):
    def stream(self, **_kwargs: Any) -> Any:
        yield self.read()


class SesSandbox:
    def __init__(self, per_second: float = 1.0) -> None:
        self.interval = 1.0 / per_second
        self.last_accepted: float | None = None
        self.throttled = 0
        self.accepted = 0
        self._lock = threading.Lock()

    def install(self) -> None:
        """On a fresh default boto3 session: every client the functions create from now on."""
        boto3.setup_default_session()
        # A before-send handler may return a response (botocore then skips the request); the stubs say None.
        boto3.DEFAULT_SESSION.events.register("before-send.sesv2.SendEmail", self._before_send)  # type: ignore[union-attr,arg-type]

    @staticmethod
    def uninstall() -> None:
        boto3.setup_default_session()  # a fresh session: the hook is gone for later clients

    def _before_send(self, request: Any, **_kwargs: Any) -> AWSResponse | None:
        with self._lock:
            now = time.monotonic()
            if self.last_accepted is not None and now - self.last_accepted < self.interval * (1 - TOLERANCE):
                self.throttled += 1
                headers = {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"}
                return AWSResponse(request.url, 429, headers, _Raw(BODY))  # type: ignore[arg-type]  # any mapping does
            self.last_accepted = now
            self.accepted += 1
            return None  # sent to the emulator
