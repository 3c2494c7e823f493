"""Adapter: what ``responder.app.doctor`` reads from a deployed stack, through boto3.

Read-only calls, except ``send_message`` and ``set_alarm_state`` (``--send-test`` only).
The operator's permissions for each are listed in the README (After deploying: doctor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError  # every connection failure

from responder.domain.deployment import (
    AlarmInfo,
    AwsUnavailableError,
    DetectorInfo,
    KeyInfo,
    Result,
    RuleInfo,
    SesAccount,
    StackInfo,
    Subscription,
    TopicInfo,
    Verdict,
)

MAX_ATTEMPTS: Final = 3  # attempts per call, the first included: a doctor should answer quickly
CONNECT_TIMEOUT: Final = 5  # seconds
READ_TIMEOUT: Final = 10  # seconds
# Error codes that mean the credentials themselves were refused: no check can run.
CREDENTIAL_CODES: Final = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "AuthFailure",
    }
)
DENIED_CODES: Final = frozenset(
    {"AccessDenied", "AccessDeniedException", "AuthorizationError", "AuthorizationErrorException"}
)
PERMISSIONS_FIX: Final = "grant the operator the read-only permissions in README (After deploying: doctor)"
# Without AlarmTypes, DescribeAlarms lists metric alarms only; a composite alarm can notify the topic too.
ALARM_TYPES: Final = ["MetricAlarm", "CompositeAlarm"]
ALARM_NAMES_PER_CALL: Final = 100  # DescribeAlarms takes at most 100 AlarmNames
SES_IDENTITIES_PER_CALL: Final = 100  # GetIdentityVerificationAttributes answers for at most 100
CREDENTIALS_HINT: Final = "configure the AWS CLI (aws configure, aws sso login) or set AWS_PROFILE"


def guard(check: str, run: Callable[[], Verdict]) -> Result:
    """Run one check; an AWS refusal becomes its FAIL line, a dead connection stops every check."""
    try:
        return run().named(check)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        if code in CREDENTIAL_CODES:
            raise AwsUnavailableError(f"AWS refused the credentials ({code}): refresh them (aws sso login)") from None
        if code in DENIED_CODES:
            return Result(check, "FAIL", f"not permitted ({code} on {error.operation_name})", PERMISSIONS_FIX)
        message = str(error.response.get("Error", {}).get("Message", ""))[:200]
        return Result(check, "FAIL", f"{code} on {error.operation_name}: {message}", None)
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, NoRegionError) as error:
        raise AwsUnavailableError(f"no usable AWS credentials ({type(error).__name__}): {CREDENTIALS_HINT}") from None
    except (BotoConnectionError, HTTPClientError) as error:
        raise AwsUnavailableError(f"AWS endpoint unreachable: {str(error)[:200]}") from None
    except BotoCoreError as error:
        return Result(check, "FAIL", f"{type(error).__name__}: {str(error)[:200]}", None)


class AwsDeployment:
    """The real ``responder.app.doctor.Deployment``: one boto3 client per service, created on first use."""

    def __init__(self, session: Any, region: str) -> None:
        self._session = session
        self.region = region
        self._clients: dict[str, Any] = {}

    @classmethod
    def connect(cls, region: str | None) -> AwsDeployment:
        """A session for ``region`` (default: the AWS CLI's); fails before any call without Region or credentials."""
        import boto3  # noqa: PLC0415 (boto3 stays off the import path of the preview)

        try:
            session = boto3.session.Session(region_name=region)
            credentials = session.get_credentials()
        except (BotoCoreError, ValueError) as error:  # a broken profile or config file
            raise AwsUnavailableError(f"cannot read the AWS configuration: {str(error)[:200]}") from None
        if not session.region_name:
            raise AwsUnavailableError("no AWS Region: pass --region or set AWS_REGION")
        if credentials is None:
            raise AwsUnavailableError(f"no AWS credentials: {CREDENTIALS_HINT}")
        return cls(session, session.region_name)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config  # noqa: PLC0415

            config = Config(
                retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
            )
            self._clients[service] = self._session.client(service, region_name=self.region, config=config)
        return self._clients[service]

    def stack(self, name: str) -> StackInfo | None:
        cloudformation = self._client("cloudformation")
        try:
            [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationError" and "does not exist" in str(error):
                return None
            raise
        alarms: list[str] = []
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=name):
            alarms += [
                r["PhysicalResourceId"]
                for r in page["StackResourceSummaries"]
                if r["ResourceType"] == "AWS::CloudWatch::Alarm" and r.get("PhysicalResourceId")
            ]
        return StackInfo(
            name=stack["StackName"],
            stack_id=stack["StackId"],
            status=stack["StackStatus"],
            outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
            parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
            alarm_names=tuple(alarms),
        )

    def rule(self, name: str) -> RuleInfo:
        events = self._client("events")
        rule = events.describe_rule(Name=name)
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        return RuleInfo(name, rule.get("State", "?"), rule.get("EventPattern"), tuple(t["Arn"] for t in targets))

    def topic(self, arn: str) -> TopicInfo:
        sns = self._client("sns")
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        subscriptions = [
            Subscription(s["Protocol"], s.get("Endpoint", ""), s["SubscriptionArn"] == "PendingConfirmation")
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
            for s in page["Subscriptions"]
        ]
        return TopicInfo(arn, attributes.get("Policy"), attributes.get("KmsMasterKeyId") or None, tuple(subscriptions))

    def key(self, key_id: str) -> KeyInfo:
        kms = self._client("kms")
        metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        aws_managed = metadata.get("KeyManager") == "AWS"
        policy = None if aws_managed else kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"]
        return KeyInfo(metadata["KeyId"], metadata.get("KeyState", "?"), aws_managed, policy)

    def identities(self, names: Sequence[str]) -> dict[str, str]:
        ses = self._client("ses")
        statuses: dict[str, str] = {}
        for start in range(0, len(names), SES_IDENTITIES_PER_CALL):
            batch = list(names[start : start + SES_IDENTITIES_PER_CALL])
            answer = ses.get_identity_verification_attributes(Identities=batch)
            statuses |= {name: a["VerificationStatus"] for name, a in answer["VerificationAttributes"].items()}
        return statuses

    def ses_account(self) -> SesAccount:
        account = self._client("sesv2").get_account()
        quota = account.get("SendQuota", {})
        return SesAccount(
            production=bool(account.get("ProductionAccessEnabled")),
            sending_enabled=bool(account.get("SendingEnabled")),
            max_send_rate=float(quota.get("MaxSendRate", 0)),
            max_24h=float(quota.get("Max24HourSend", 0)),
            sent_24h=float(quota.get("SentLast24Hours", 0)),
        )

    def queue_depth(self, url: str) -> int:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self._client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def alarms(self, names: Sequence[str], topic_arn: str) -> list[AlarmInfo]:
        """The stack's alarms (by name), and any other alarm, metric or composite, that notifies its alarm topic."""
        queries: list[dict[str, Any]] = [
            {"AlarmNames": list(names[start : start + ALARM_NAMES_PER_CALL])}
            for start in range(0, len(names), ALARM_NAMES_PER_CALL)
        ]
        queries.append({"ActionPrefix": topic_arn})
        paginator = self._client("cloudwatch").get_paginator("describe_alarms")
        found: dict[str, AlarmInfo] = {}
        for query in queries:
            for page in paginator.paginate(AlarmTypes=ALARM_TYPES, **query):
                for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                    actions = tuple(alarm.get("AlarmActions", []))
                    if "ActionPrefix" in query and topic_arn not in actions:
                        continue  # a prefix: the topic "alarms" also matches "alarms-other"
                    found.setdefault(
                        alarm["AlarmName"],
                        AlarmInfo(
                            alarm["AlarmName"],
                            alarm.get("AlarmArn", ""),
                            alarm["StateValue"],
                            bool(alarm.get("ActionsEnabled")),
                            actions,
                        ),
                    )
        return list(found.values())

    def detectors(self) -> list[DetectorInfo]:
        guardduty = self._client("guardduty")
        found = []
        for detector_id in guardduty.list_detectors()["DetectorIds"]:
            detector = guardduty.get_detector(DetectorId=detector_id)
            found.append(
                DetectorInfo(detector_id, detector.get("Status", "?"), detector.get("FindingPublishingFrequency", "?"))
            )
        return found

    def document_versions(self, name: str) -> tuple[str, str] | None:
        """An SSM document's (DefaultVersion, LatestVersion), or None when the Region has no such document."""
        try:
            document = self._client("ssm").describe_document(Name=name)["Document"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidDocument":  # SSM's "does not exist"
                return None
            raise
        return str(document.get("DefaultVersion", "?")), str(document.get("LatestVersion", "?"))

    def send_message(self, queue_url: str, body: str) -> str:
        return str(self._client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"])

    def set_alarm_state(self, name: str, state: str, reason: str) -> None:
        self._client("cloudwatch").set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
