"""Names, sizes, timeouts and retry settings of the stack: one place, units in comments."""

from __future__ import annotations

from typing import Final

STACK_NAME: Final = "GuardDutyResponder"
MEMBER_STACK_NAME: Final = "GuardDutyResponderMember"  # member accounts' runbooks (cdk synth -c member=1)
SERVICE: Final = "guardduty-responder"
METRICS_NAMESPACE: Final = "GuardDutyResponder"  # CloudWatch namespace of the functions' own metrics

# Lambda functions: the entry point of each (module.function in the asset)
TRIAGE_HANDLER: Final = "responder.triage_handler.lambda_handler"
NOTIFIER_HANDLER: Final = "responder.notify_handler.lambda_handler"
# Variables only one function reads (its settings model, responder/app/settings.py); the rest go to both.
NOTIFIER_ONLY_VARIABLES: Final = frozenset(
    {
        "CHANNELS", "TOPIC_ARN", "SES_SENDER", "SES_RECIPIENTS", "SES_CONFIGURATION_SET", "SES_MAX_SEND_RATE",
        "CHAT_TOPIC_ARN", "ROUTE_TOPIC_ARN", "ROUTES_PARAMETER",
        "RUNBOOK_APPROVALS", "RUNBOOK_EXECUTION_ROLE", "RESPONDER_ACCOUNT",
    }
)  # fmt: skip
TRIAGE_ONLY_VARIABLES: Final = frozenset({"IMMEDIATE_QUEUE_URL", "ORGANIZATIONS_ROLE_ARN"})
PYTHON_VERSION: Final = "3.13"  # the runtime of the functions (stack.py); `make test` runs the tests on it too
PIP_PLATFORM: Final = "manylinux2014_aarch64"  # wheels for arm64 (Graviton)
MEMORY_MB: Final = 256  # MB; measured peak is far below, more memory means a faster CPU
# seconds; covers botocore's standard retries (5 attempts, backoff up to 20 s) on one send
TIMEOUT_SECONDS: Final = 120
# Triage sends nothing (it queues); five concurrent invocations absorb a burst of findings,
# and throttled invocations wait in Lambda's asynchronous queue.
TRIAGE_CONCURRENCY: Final = 5
# The notifier sends. SES sandbox sends 1 message per second and a production account starts
# at 14 per second: at most two batches of the immediate queue at once (the least an SQS
# event source allows) plus the digest run stay under both, and botocore's backoff absorbs
# the rest.
NOTIFIER_CONCURRENCY: Final = 3
QUEUE_MAX_CONCURRENCY: Final = 2  # concurrent batches of the immediate queue (SQS minimum: 2)
# Immediate queue: Lambda gathers up to QUEUE_BATCH_SIZE messages for up to
# QUEUE_BATCH_WINDOW_SECONDS before invoking the notifier with them, so a storm becomes a few
# grouped emails and no alert waits more than about a minute.
QUEUE_BATCH_SIZE: Final = 100
QUEUE_BATCH_WINDOW_SECONDS: Final = 45
QUEUE_MAX_RECEIVES: Final = 5  # receives of a message before it goes to the dead-letter queue
QUEUE_RETENTION_DAYS: Final = 4  # days (SQS default); longer than the longest digest window
IMMEDIATE_QUEUE_DELAYED_SECONDS: Final = 300  # alarm when an immediate finding waits this long
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

# Routes to owners: the SSM parameter the stack creates holds this until the operator writes the
# routes. Never change it: CloudFormation would write the new value over the operator's routes
# at the next `cdk deploy` (tests/infrastructure/test_organisation_template.py pins it).
ROUTES_INITIAL_VALUE: Final = '{"version":1,"routes":[]}'

# Chat (Amazon Q Developer in chat applications): what a chat user may run from the channel, at
# most. Without a guardrail the service applies AdministratorAccess.
CHAT_GUARDRAIL_POLICY: Final = "ReadOnlyAccess"  # an AWS managed policy
CHAT_LOGGING_LEVEL: Final = "ERROR"  # the service's own CloudWatch logs: failures only

# Runbooks (SSM Automation documents, infra/runbooks/): fixed names, as the emails print them.
# A document name may not start with aws, amazon, amzn, AWSEC2, AWSConfigRemediation or AWSSupport.
RUNBOOK_PREFIX: Final = "GuardDutyResponder-"  # responder.domain.runbooks.PREFIX (a contract test compares)
# The role a member account's stack (infra/member.py) creates for multi-account runs from the responder's
# account; the responder's MemberExecutionRoleName names it.
EXECUTION_ROLE_NAME: Final = "GuardDutyResponder-AutomationExecution"
# The role Automation's multi-account runs assume in the central account: the name every AWS example uses.
ADMINISTRATION_ROLE_NAME: Final = "AWS-SystemsManager-AutomationAdministrationRole"
# aws:approve notifies an SNS topic whose name starts with "Automation".
APPROVAL_TOPIC_NAME: Final = "Automation-GuardDutyResponder-Approvals"
QUARANTINE_TAG: Final = "GuardDutyResponder:Quarantine"  # on the quarantine security group and the instance
PREVIOUS_GROUPS_TAG: Final = "GuardDutyResponder:PreviousGroups"  # the instance's groups before isolation
FINDING_TAG: Final = "GuardDutyFindingId"  # on snapshots and the isolated instance
RUNBOOK_APPROVERS_MAX: Final = 10  # aws:approve's Approvers (responder.domain.runbooks.APPROVERS_MAX)

# Alarms
ALARM_PERIOD_MINUTES: Final = 5  # minutes

# Threshold values the rule can filter on (see README: the rule floor is a literal number)
THRESHOLD_VALUES: Final = ("1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", "9.0")
