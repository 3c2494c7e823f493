"""Each function's environment as the stack sets it, with plain values in place of the names
CloudFormation fills in, and what the Lambda runtime adds. Used by the entry-point tests and
the benchmark (scripts/bench.py); tests/infrastructure/test_stack.py checks that the names are
exactly those of the synthesized template, function by function.
"""

from __future__ import annotations

from typing import Final

_SHARED: Final = {
    "NOTIFY_THRESHOLD": "4.0",
    "BAND_MEDIUM_MIN": "4.0",
    "BAND_HIGH_MIN": "7.0",
    "BAND_CRITICAL_MIN": "9.0",
    "INCLUDE_SAMPLES": "true",
    "LANGUAGE": "en",
    "DISPLAY_TIMEZONE": "",
    "SUPPRESS_FINDING_TYPES": "",
    "SUPPRESS_ACCOUNTS": "",
    "SUPPRESS_TAG": "",
    "RENOTIFY_HOURS": "24",
    "IMMEDIATE_BAND": "High",
    "DIGEST_MINUTES": "60",
    "ACCOUNT_NAMES": "",
    "STATE_TABLE": "GuardDutyResponder-StateTable",
    "DIGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/Digest",
    "POWERTOOLS_SERVICE_NAME": "guardduty-responder",
    "POWERTOOLS_METRICS_NAMESPACE": "GuardDutyResponder",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}
TRIAGE_ENV: Final = {
    **_SHARED,
    "IMMEDIATE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/Immediate",
    "ORGANIZATIONS_ROLE_ARN": "",
}
NOTIFIER_ENV: Final = {
    **_SHARED,
    "CHANNELS": "sns,ses",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:GuardDutyResponder-AlertTopic",
    "SES_SENDER": "guardduty@example.com",
    "SES_RECIPIENTS": "secops@example.com",
    "SES_CONFIGURATION_SET": "GuardDutyResponder-ConfigurationSet",
    "SES_MAX_SEND_RATE": "1",
    "CHAT_TOPIC_ARN": "",  # chat off, the default
    "ROUTE_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:GuardDutyResponder-RouteTopic",
    "ROUTES_PARAMETER": "CFN-RoutesParameter60C9DC97-AbCdEfGhIjKl",
    "RUNBOOK_APPROVALS": "no",  # RunbookApprovers empty, the default
    "RUNBOOK_EXECUTION_ROLE": "",  # MemberExecutionRoleName empty, the default
    "RESPONDER_ACCOUNT": "123456789012",
}
# What the Lambda runtime sets in every function's environment (tracing active, as deployed).
RUNTIME_ENV: Final = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=1",
}
