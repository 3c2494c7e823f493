"""Names, sizes, timeouts and retry settings of the stack: one place, units in comments."""

from __future__ import annotations

from typing import Final

STACK_NAME: Final = "GuardDutyResponder"
SERVICE: Final = "guardduty-responder"

# Lambda function
PYTHON_VERSION: Final = "3.14"  # must match the runtime below (newest in aws-cdk-lib 2.275)
PIP_PLATFORM: Final = "manylinux2014_aarch64"  # wheels for arm64 (Graviton)
MEMORY_MB: Final = 256  # MB; measured peak is far below, more memory means a faster CPU
# seconds; covers botocore's standard retries (5 attempts, backoff up to 20 s) on one send
TIMEOUT_SECONDS: Final = 120
# SES sandbox sends 1 message per second and a production account starts at 14 per
# second; two concurrent invocations (each about 0.3 s per email) stay under both, and
# throttled invocations wait in Lambda's asynchronous queue instead of hitting SES.
RESERVED_CONCURRENCY: Final = 2
LOG_RETENTION_DAYS: Final = 365  # days (CloudWatch Logs retention of the function's log group)

# Asynchronous invocation and EventBridge delivery
ASYNC_RETRY_ATTEMPTS: Final = 2  # Lambda retries of a failed invocation (the maximum)
ASYNC_MAX_EVENT_AGE_HOURS: Final = 6  # hours an event may wait (throttling) before the DLQ
RULE_RETRY_ATTEMPTS: Final = 185  # EventBridge attempts to hand the event to Lambda (the maximum)
RULE_MAX_EVENT_AGE_HOURS: Final = 24  # hours (the maximum)

# Dead-letter queue
DLQ_RETENTION_DAYS: Final = 14  # days (the SQS maximum)

# SNS email subscriptions created from the Recipients parameter
MAX_SNS_SUBSCRIPTIONS: Final = 10

# Alarms
ALARM_PERIOD_MINUTES: Final = 5  # minutes

# Threshold values the rule can filter on (see README: the rule floor is a literal number)
THRESHOLD_VALUES: Final = ("1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", "9.0")
