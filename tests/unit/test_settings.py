"""Settings: environment -> validated values, with errors naming the variable."""

from __future__ import annotations

import pytest

from responder.settings import Bands, Settings, SettingsError

TOPIC = "arn:aws:sns:us-east-1:123456789012:guardduty-alerts"
QUEUES = {
    "IMMEDIATE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/immediate",
    "DIGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/digest",
}


def test_defaults_are_aws_bands_and_threshold_4():
    s = Settings.from_env({}, for_delivery=False)
    assert s.bands == Bands(4.0, 7.0, 9.0)
    assert s.threshold == 4.0
    assert s.include_samples is True
    assert s.language == "en"
    assert s.channels == ()


def test_full_configuration():
    s = Settings.from_env(
        {
            "BAND_MEDIUM_MIN": "3",
            "BAND_HIGH_MIN": "6.5",
            "BAND_CRITICAL_MIN": "8.5",
            "NOTIFY_THRESHOLD": "6.5",
            "CHANNELS": "SNS, ses",
            "TOPIC_ARN": TOPIC,
            "SES_SENDER": "alerts@example.com",
            "SES_RECIPIENTS": "a@example.com, b@example.org,a@example.com",
            "SES_CONFIGURATION_SET": "security-mail",
            "INCLUDE_SAMPLES": "no",
            "LANGUAGE": "en",
            "IMMEDIATE_BAND": "Critical",
            "DIGEST_MINUTES": "15",
            **QUEUES,
        }
    )
    assert s.immediate_band == "Critical"
    assert s.ses_max_rate == 1.0  # the sandbox's rate unless told otherwise
    assert s.digest_minutes == 15
    assert s.immediate_queue == QUEUES["IMMEDIATE_QUEUE_URL"]
    assert s.bands == Bands(3.0, 6.5, 8.5)
    assert s.threshold == 6.5
    assert s.channels == ("sns", "ses")
    assert s.recipients == ("a@example.com", "b@example.org")
    assert s.configuration_set == "security-mail"
    assert s.include_samples is False


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"NOTIFY_THRESHOLD": "high"}, "NOTIFY_THRESHOLD"),
        ({"NOTIFY_THRESHOLD": "11"}, "NOTIFY_THRESHOLD"),
        ({"NOTIFY_THRESHOLD": "nan"}, "NOTIFY_THRESHOLD"),
        ({"BAND_MEDIUM_MIN": "7", "BAND_HIGH_MIN": "7"}, "BAND_HIGH_MIN"),
        ({"CHANNELS": "sns,slack"}, "CHANNELS"),
        ({"CHANNELS": "sns"}, "TOPIC_ARN"),
        ({"CHANNELS": "sns", "TOPIC_ARN": "arn:aws:sqs:us-east-1:123456789012:q"}, "TOPIC_ARN"),
        ({"CHANNELS": "ses", "SES_RECIPIENTS": "a@example.com"}, "SES_SENDER"),
        ({"CHANNELS": "ses", "SES_SENDER": "a@example.com"}, "SES_RECIPIENTS"),
        ({"SES_SENDER": "Evil <a@example.com>\r\nBcc: x@example.com"}, "SES_SENDER"),
        ({"SES_RECIPIENTS": "ok@example.com, not-an-address"}, "SES_RECIPIENTS"),
        ({"SES_CONFIGURATION_SET": "bad name"}, "SES_CONFIGURATION_SET"),
        ({"INCLUDE_SAMPLES": "maybe"}, "INCLUDE_SAMPLES"),
        ({"LANGUAGE": "fr"}, "LANGUAGE"),
        ({}, "CHANNELS"),
        ({"IMMEDIATE_BAND": "high"}, "IMMEDIATE_BAND"),
        ({"DIGEST_MINUTES": "4"}, "DIGEST_MINUTES"),
        ({"SES_MAX_SEND_RATE": "0.5"}, "SES_MAX_SEND_RATE"),
        ({"SES_MAX_SEND_RATE": "fast"}, "SES_MAX_SEND_RATE"),
        ({"DIGEST_MINUTES": "1441"}, "DIGEST_MINUTES"),
        ({"DIGEST_QUEUE_URL": "https://evil.example.com/queue"}, "DIGEST_QUEUE_URL"),
        ({"CHANNELS": "sns", "TOPIC_ARN": TOPIC}, "IMMEDIATE_QUEUE_URL"),
        (
            {"CHANNELS": "sns", "TOPIC_ARN": TOPIC, "IMMEDIATE_QUEUE_URL": QUEUES["IMMEDIATE_QUEUE_URL"]},
            "DIGEST_QUEUE_URL",
        ),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")


def test_preview_does_not_need_channel_settings():
    assert Settings.from_env({"CHANNELS": "sns,ses"}, for_delivery=False).channels == ("sns", "ses")


def test_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("NOTIFY_THRESHOLD", "7")
    assert Settings.from_env(for_delivery=False).threshold == 7.0
