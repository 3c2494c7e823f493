"""SNS and SES v2 delivery against moto, plus the SES error mapping via botocore's Stubber."""

from __future__ import annotations

import email
from email.policy import default

import boto3
import pytest
from botocore.stub import Stubber

from responder.adapters.aws import MAX_ATTEMPTS, client_config
from responder.adapters.channels import DeliveryError, SesChannel, SnsChannel, build_mime
from responder.domain.classify import classify
from responder.domain.render import Email, render
from responder.domain.settings import Settings
from tests.conftest import finding_from
from tests.integration.conftest import RECIPIENTS, REGION, SENDER, ses_messages, sns_messages


@pytest.fixture
def alert() -> Email:
    return render(classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), Settings()))


def test_sns_publishes_subject_and_text(aws, alert):
    ids = SnsChannel(aws["topic_arn"]).send(alert)
    assert len(ids) == 1
    assert sns_messages(aws["topic_arn"]) == [(alert.subject, alert.text)]


def test_ses_sends_multipart_to_all_recipients_from_sender(aws, alert):
    ids = SesChannel(SENDER, RECIPIENTS).send(alert)
    assert len(ids) == 1
    [sent] = ses_messages()
    assert sent.source == SENDER
    assert sorted(sent.destinations) == sorted(RECIPIENTS)
    # moto keeps the raw MIME: both parts are there, as a client would see them.
    parsed = email.message_from_string(sent.raw_data, policy=default)
    assert parsed["Subject"] == alert.subject
    assert parsed["From"] == SENDER
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and text.get_content().replace("\r\n", "\n").strip() == alert.text.strip()
    assert html is not None and html.get_content_charset() == "utf-8"
    assert html.get_content().replace("\r\n", "\n").strip() == alert.html.strip()


def test_both_channels_at_once(aws, alert):
    SnsChannel(aws["topic_arn"]).send(alert)
    SesChannel(SENDER, RECIPIENTS, configuration_set="security-mail").send(alert)
    assert len(sns_messages(aws["topic_arn"])) == 1
    assert len(ses_messages()) == 1


def test_more_than_50_recipients_are_split_into_batches(aws, alert):
    recipients = tuple(f"user{i}@example.com" for i in range(120))
    ids = SesChannel(SENDER, recipients).send(alert)
    assert len(ids) == 3
    sent = ses_messages()
    assert [len(m.destinations) for m in sent] == [50, 50, 20]
    assert {d for m in sent for d in m.destinations} == set(recipients)


def test_unverified_sender_raises(aws, alert):
    with pytest.raises(DeliveryError, match="MessageRejected"):
        SesChannel("nobody@unverified.example", RECIPIENTS).send(alert)
    assert ses_messages() == []


@pytest.mark.parametrize("code", ["MailFromDomainNotVerifiedException", "SendingPausedException", "MessageRejected"])
def test_non_retryable_ses_errors_fail_at_once(aws_env, alert, code):
    client = boto3.client("sesv2", region_name=REGION, config=client_config())
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code=code, http_status_code=400)
        with pytest.raises(DeliveryError, match=code):
            SesChannel(SENDER, RECIPIENTS, client=client).send(alert)
        stub.assert_no_pending_responses()  # exactly one attempt


def test_other_ses_errors_propagate_unchanged(aws_env, alert):
    from botocore.exceptions import ClientError

    client = boto3.client("sesv2", region_name=REGION, config=client_config())
    with Stubber(client) as stub:
        stub.add_client_error("send_email", service_error_code="TooManyRequestsException", http_status_code=429)
        with pytest.raises(ClientError, match="TooManyRequestsException"):
            SesChannel(SENDER, RECIPIENTS, client=client).send(alert)


def test_throttling_is_retried_with_backoff_by_botocore(aws_env):
    config = client_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}
    # botocore's standard mode treats SES throttling as retryable
    from botocore.retries.standard import ThrottledRetryableChecker

    checker = ThrottledRetryableChecker()
    from botocore.retries.standard import RetryContext

    context = RetryContext(
        attempt_number=1,
        parsed_response={"Error": {"Code": "TooManyRequestsException"}},
        http_response=None,
        caught_exception=None,
    )
    assert checker.is_retryable(context)


def test_mime_refuses_header_injection():
    bad = Email(subject="ok\r\nBcc: victim@example.com", text="t", html="<p>h</p>")
    with pytest.raises(ValueError, match="linefeed|newline|CR|LF"):
        build_mime(bad, SENDER, list(RECIPIENTS))


class FakeTime:
    """A clock that only moves when someone sleeps (no real waiting in tests)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_ses_sends_are_paced_to_the_account_rate(aws, alert):
    from responder.adapters.channels.ses import Pacer

    fake = FakeTime()
    channel = SesChannel(SENDER, RECIPIENTS, pacer=Pacer(2.0, clock=fake.clock, sleep=fake.sleep))
    for _ in range(3):
        channel.send(alert)
    assert len(ses_messages()) == 3
    assert fake.slept == [0.5, 0.5]  # 2 per second: the 2nd and 3rd wait half a second each
    fake.now += 10  # a quiet spell: the next send goes at once
    channel.send(alert)
    assert fake.slept == [0.5, 0.5]


def test_more_than_50_recipients_are_paced_per_message(aws, alert):
    from responder.adapters.channels.ses import Pacer

    fake = FakeTime()
    many = tuple(f"user{i}@example.com" for i in range(120))
    SesChannel(SENDER, many, pacer=Pacer(1.0, clock=fake.clock, sleep=fake.sleep)).send(alert)
    assert fake.slept == [1.0, 1.0]  # three messages (50 + 50 + 20), one per second
