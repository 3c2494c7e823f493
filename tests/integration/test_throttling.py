"""SES throttling is absorbed by botocore's retries, against a loopback stand-in for SES."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from responder.adapters.aws import MAX_ATTEMPTS, client_config
from responder.adapters.channels import SesChannel
from responder.domain.render import Email

EMAIL = Email(subject="[GuardDuty HIGH 8.0] Test", text="text", html="<p>html</p>")


class ThrottlingSes(BaseHTTPRequestHandler):
    """Answers SendEmail with 429 TooManyRequestsException ``throttle`` times, then succeeds."""

    throttle = 0
    calls = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).calls += 1
        if type(self).calls <= type(self).throttle:
            body = json.dumps({"message": "Maximum sending rate exceeded."}).encode()
            self.send_response(429)
            self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
        else:
            body = json.dumps({"MessageId": f"id-{type(self).calls}"}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def ses_endpoint(aws_env):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ThrottlingSes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ThrottlingSes.calls = 0
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def client(endpoint):
    return boto3.client("sesv2", region_name="us-east-1", endpoint_url=endpoint, config=client_config())


def test_throttled_sends_are_retried_until_they_succeed(ses_endpoint):
    ThrottlingSes.throttle = 2
    ids = SesChannel("a@example.com", ("b@example.com",), client=client(ses_endpoint)).send(EMAIL)
    assert ids == ["id-3"]
    assert ThrottlingSes.calls == 3


def test_throttling_beyond_the_retry_budget_raises_and_is_not_swallowed(ses_endpoint):
    from botocore.exceptions import ClientError

    ThrottlingSes.throttle = MAX_ATTEMPTS + 5
    with pytest.raises(ClientError, match="TooManyRequestsException"):
        SesChannel("a@example.com", ("b@example.com",), client=client(ses_endpoint)).send(EMAIL)
    assert ThrottlingSes.calls == MAX_ATTEMPTS
