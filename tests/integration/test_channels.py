"""SNS and SES v2 delivery against moto, plus the SES error mapping via botocore's Stubber."""

from __future__ import annotations

import email
import json
from email.policy import default

import boto3
import pytest
from botocore.stub import Stubber

from responder.adapters.aws import MAX_ATTEMPTS, client_config
from responder.adapters.channels import DeliveryError, SesChannel, SnsChannel, build_mime
from responder.domain.classify import classify
from responder.domain.export import (
    MAX_ATTACHED_BYTES,
    MAX_ATTACHMENTS,
    MAX_FINDING_BYTES,
    Attachment,
    attachments,
    exported,
)
from responder.domain.models import Finding
from responder.domain.render import Email, render
from responder.domain.scan_alert import EVENT_MEMBER, ID_PREFIX
from responder.domain.scan_result import finding_detail
from responder.domain.settings import Settings
from tests.conftest import finding_from, load
from tests.integration.conftest import (
    RECIPIENTS,
    REGION,
    SCHEDULED_EVENT,
    SENDER,
    ses_messages,
    sns_messages,
)
from tests.integration.test_handler import FakeContext
from tests.integration.test_noise import Clock, Pipeline


@pytest.fixture
def alert() -> Email:
    return render(classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), Settings()))


def test_sns_publishes_subject_and_text(aws, alert):
    ids = SnsChannel(aws["topic_arn"]).send(alert)
    assert len(ids) == 1
    assert sns_messages(aws["topic_arn"]) == [(alert.subject, alert.text)]


def _attributes(topic_arn: str) -> list[object]:
    """The message attributes moto recorded for each publication to the topic."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    topic = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[topic_arn]
    return [attributes for _id, _message, _subject, attributes, _group in topic.sent_notifications]


def test_a_routed_sns_copy_carries_the_route_name_as_a_message_attribute(aws, alert):
    # Given the channel of a route (owners subscribe with a filter policy on "route")
    SnsChannel(aws["topic_arn"], route="payments").send(alert)
    # Then the copy carries the route's name as a String attribute, with the same subject and text
    assert _attributes(aws["topic_arn"]) == [{"route": {"Type": "String", "Value": "payments"}}]  # as moto keeps it
    assert sns_messages(aws["topic_arn"]) == [(alert.subject, alert.text)]


def test_the_security_teams_sns_email_carries_no_message_attribute(aws, alert):
    SnsChannel(aws["topic_arn"]).send(alert)
    assert _attributes(aws["topic_arn"]) in ([{}], [None])


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


# --- each finding's JSON attached to the SES email ---------------------------------------------


def _attachments(raw: str) -> list[tuple[str | None, str, bytes]]:
    """(file name, content type, bytes) of every attachment of a raw MIME message."""
    parsed = email.message_from_string(raw, policy=default)
    return [(part.get_filename(), part.get_content_type(), part.get_content()) for part in parsed.iter_attachments()]


def _header_lines(raw: str) -> str:
    """Every header line of every part of a raw MIME message (bodies left out)."""
    parsed = email.message_from_string(raw, policy=default)
    return "\n".join(f"{name}: {value}" for part in parsed.walk() for name, value in part.items())


def _tor(**changes: object) -> dict[str, object]:
    """The Tor-client finding (the ``detail`` GuardDuty sends), with ``changes``."""
    return {**load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"], **changes}


def test_ses_attaches_the_finding_as_guardduty_sent_it(aws, alert):
    # Given the finding as the queue carries it
    detail = _tor()
    # When SES sends its email with the file the notifier makes
    SesChannel(SENDER, RECIPIENTS).send(alert, attachments([detail]))
    # Then the message is text and HTML plus one JSON file named after the finding's id
    [sent] = ses_messages()
    parsed = email.message_from_string(sent.raw_data, policy=default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == alert.text.strip()
    assert parsed.get_body(("html",)) is not None
    [(name, content_type, content)] = _attachments(sent.raw_data)
    assert name == f"guardduty-finding-{detail['id']}.json"
    assert content_type == "application/json"
    # ... pretty-printed UTF-8 JSON equal to the finding, not trimmed
    text = content.decode("utf-8")
    assert text.startswith('{\n  "')
    assert json.loads(text) == detail
    assert "_trimmed" not in text


def test_sns_keeps_the_plain_text_and_attaches_nothing(aws, alert):
    # Given the same file handed to the SNS channel (plain text cannot attach)
    SnsChannel(aws["topic_arn"]).send(alert, attachments([_tor()]))
    # Then SNS publishes exactly the subject and the text, whose after-care keeps the get-findings command
    assert sns_messages(aws["topic_arn"]) == [(alert.subject, alert.text)]
    assert "aws guardduty get-findings" in alert.text


@pytest.mark.parametrize(
    "hostile_id",
    ["x\r\nBcc: victim@example.com", '"; filename="evil.exe', "../../etc/passwd", "a" * 129, "", 12345],
)
def test_a_hostile_finding_id_never_reaches_a_mime_header(aws, alert, hostile_id):
    # Given a finding whose id is not a safe one
    detail = _tor(id=hostile_id)
    # When SES sends it
    SesChannel(SENDER, RECIPIENTS).send(alert, attachments([detail]))
    # Then the file has the fixed name and still holds the finding, and no header carries the id
    [sent] = ses_messages()
    [(name, _type, content)] = _attachments(sent.raw_data)
    assert name == "guardduty-finding.json"
    assert json.loads(content) == detail
    headers = _header_lines(sent.raw_data)
    assert "victim" not in headers and "evil" not in headers and "passwd" not in headers
    if isinstance(hostile_id, str) and hostile_id:
        assert hostile_id not in headers


def test_mime_refuses_an_attachment_name_export_does_not_make():
    # Given an attachment whose name did not come from export (the adapter checks again)
    bad = Attachment(filename='x.json"\r\nBcc: victim@example.com', content=b"{}")
    # Then the message is refused before any header is written
    with pytest.raises(ValueError, match="safe finding file name"):
        build_mime(Email(subject="s", text="t", html="<p>h</p>"), SENDER, list(RECIPIENTS), [bad])


def test_an_oversized_finding_is_trimmed_with_a_marker_and_stays_valid_json(aws, alert):
    # Given a finding larger than one file may be (an attacker-sized user agent, a long list)
    detail = _tor(title="T" * (MAX_FINDING_BYTES + 10))
    detail["service"] = {**detail["service"], "evidence": {"items": list(range(50_000))}}
    # When SES sends it
    SesChannel(SENDER, RECIPIENTS).send(alert, attachments([detail]))
    # Then the file is within the bound, valid JSON, says first that it was trimmed, and keeps the identity
    [sent] = ses_messages()
    [(name, _type, content)] = _attachments(sent.raw_data)
    assert name == f"guardduty-finding-{detail['id']}.json"
    assert len(content) <= MAX_FINDING_BYTES
    trimmed = json.loads(content)
    assert next(iter(trimmed)) == "_trimmed"
    assert "trimmed" in trimmed["_trimmed"] and "get-findings" in trimmed["_trimmed"]
    assert (trimmed["id"], trimmed["type"], trimmed["severity"]) == (detail["id"], detail["type"], detail["severity"])
    assert trimmed["title"].endswith("[trimmed]") and len(trimmed["title"]) < len(detail["title"])
    assert len(trimmed["service"]["evidence"]["items"]) < 50_000


def test_a_japanese_email_carries_the_same_file(aws):
    # Given a Japanese email, and a finding with Japanese and invisible characters in its values
    detail = _tor(description="東京リージョンの検証用インスタンス \u202eexe.txt")
    settings = Settings(language="ja")
    japanese = render(classify(Finding.model_validate(detail), settings), settings.locale)
    assert japanese.local_subject and not japanese.local_subject.isascii()
    # When SES sends it
    SesChannel(SENDER, RECIPIENTS).send(japanese, attachments([detail]))
    # Then the subject and body are Japanese, and the file is the finding, readable UTF-8 JSON
    [sent] = ses_messages()
    parsed = email.message_from_string(sent.raw_data, policy=default)
    assert parsed["Subject"] == japanese.local_subject
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == japanese.text.strip()
    [(name, _type, content)] = _attachments(sent.raw_data)
    assert name == f"guardduty-finding-{detail['id']}.json"
    text = content.decode("utf-8")
    assert "東京リージョン" in text  # written as itself, not \\u-escaped
    assert "\u202e" not in text and "\\u202e" in text  # the bidirectional override shown as an escape
    assert json.loads(text) == detail


def test_a_storm_email_attaches_every_finding_and_the_sns_copy_none(aws):
    # Given three immediate findings arriving in one batching window
    run = Pipeline(aws, Clock())
    details = [_tor(id=f"{n:032x}", title=f"Storm finding {n}") for n in (1, 2, 3)]
    for detail in details:
        assert run.handle({**load("events/UnauthorizedAccess_EC2_TorClient.json"), "detail": detail}).route == (
            "immediate"
        )
    # When the notifier handles the batch
    run.send()
    # Then the one SES email carries each finding's file, and SNS sent the same email as plain text
    [sent] = ses_messages()
    files = {name: json.loads(content) for name, _type, content in _attachments(sent.raw_data)}
    assert files == {f"guardduty-finding-{d['id']}.json": d for d in details}
    [(subject, _text)] = sns_messages(aws["topic_arn"])
    assert subject.startswith("[GuardDuty ALERTS]")


def test_a_digest_email_attaches_every_finding(aws):
    # Given two Medium findings waiting for the digest
    run = Pipeline(aws, Clock())
    details = [_tor(id=f"{n:032x}", severity=5.0) for n in (7, 8)]
    for detail in details:
        assert run.handle({**load("events/UnauthorizedAccess_EC2_TorClient.json"), "detail": detail}).route == (
            "digest"
        )
    # When the digest schedule fires
    run.notifier.handle(SCHEDULED_EVENT, FakeContext())
    # Then the digest email carries both files
    [sent] = ses_messages()
    names = sorted(name for name, _type, _content in _attachments(sent.raw_data))
    assert names == sorted(f"guardduty-finding-{d['id']}.json" for d in details)


def test_a_grouped_email_bounds_the_files_in_count_and_total_size():
    # Given more findings than one email holds, each near the size of a whole file
    details = [_tor(id=f"{n:032x}", title="T" * (MAX_FINDING_BYTES // 2)) for n in range(MAX_ATTACHMENTS + 5)]
    # When their files are made for one email
    files = attachments(details)
    # Then only MAX_ATTACHMENTS are attached, within the total, each named once and valid JSON
    assert len(files) == MAX_ATTACHMENTS
    assert sum(len(f.content) for f in files) <= MAX_ATTACHED_BYTES
    assert len({f.filename for f in files}) == MAX_ATTACHMENTS
    assert all(json.loads(f.content)["_trimmed"] for f in files)
    # ... and the whole MIME message stays far below SES's 40 MB (and the 10 MB many servers take)
    raw = build_mime(Email(subject="s", text="t" * 262_144, html="<p>h</p>" * 50_000), SENDER, list(RECIPIENTS), files)
    assert len(raw) < 10_000_000


def test_a_small_finding_keeps_its_whole_file_beside_a_large_one():
    # Given one finding too large to share equally, and a small one, in one email
    small, large = _tor(id="a" * 32), _tor(id="b" * 32, title="T" * (MAX_ATTACHED_BYTES * 2))
    # When their files are made
    first, second = attachments([small, large])
    # Then the small one is whole, the large one trimmed within the bound
    assert json.loads(first.content) == small
    assert json.loads(second.content)["_trimmed"]
    assert len(second.content) <= MAX_FINDING_BYTES


def test_a_scan_result_alert_attaches_the_event_that_arrived(aws, alert):
    # Given the finding made from a scan-result event, as the queue carries it, beside a GuardDuty finding
    arrived = load("families/S3ObjectScan_THREATS_FOUND.json")
    detail = json.loads(json.dumps(finding_detail(arrived)))
    # When SES sends one email with the files the notifier makes for both
    SesChannel(SENDER, RECIPIENTS).send(alert, attachments([exported(detail), exported(_tor())]))
    # Then the scan result's file is the event that arrived, named from the validated id, and no finding
    # file is made for it (GuardDuty holds no such finding); the GuardDuty finding keeps its own file
    [sent] = ses_messages()
    [(name, content_type, content), (other, _type, _content)] = _attachments(sent.raw_data)
    assert name == f"guardduty-s3-scan-result-{detail['id'].removeprefix(ID_PREFIX)}.json"
    assert content_type == "application/json"
    assert json.loads(content) == arrived
    assert other == f"guardduty-finding-{_tor()['id']}.json"


def test_a_scan_result_alert_without_its_event_attaches_nothing(aws, alert):
    # Given a scan-result alert queued without the event (an earlier release), and one with a hostile id
    detail = finding_detail(load("families/S3ObjectScan_THREATS_FOUND.json"))
    del detail["service"]["additionalInfo"][EVENT_MEMBER]
    hostile = finding_detail(load("families/S3ObjectScan_THREATS_FOUND.json")) | {"id": ID_PREFIX + "x\r\nBcc: v"}
    # When SES sends them
    SesChannel(SENDER, RECIPIENTS).send(alert, attachments([exported(detail), exported(hostile)]))
    # Then the first attaches nothing (no made-up finding file), the second its event under the fixed name
    [sent] = ses_messages()
    assert [name for name, _type, _content in _attachments(sent.raw_data)] == ["guardduty-s3-scan-result.json"]
    assert "Bcc" not in _header_lines(sent.raw_data)
