"""The public-access runbook on the embedded S3: the bucket blocked, the previous setting recorded."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.runbooks.conftest import ACCOUNT, APPROVAL, FINDING_ID, document
from tests.runbooks.runner import ParameterError, run

BUCKET = "exposed-reports"
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _block(session: boto3.Session) -> dict[str, bool]:
    answer = session.client("s3").get_public_access_block(Bucket=BUCKET)
    return dict(answer["PublicAccessBlockConfiguration"])


@pytest.fixture
def bucket(session: boto3.Session) -> str:
    session.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def test_a_bucket_without_a_setting_is_blocked_and_none_is_recorded(session: boto3.Session, bucket: str) -> None:
    # Given a bucket with no Block Public Access configuration
    # When the runbook runs
    execution = run(document("public_access"), {"BucketName": bucket, "FindingId": FINDING_ID}, session=session)
    # Then the execution succeeds (the failed read is not critical), all four settings are on,
    # and the history says there was none: the read failed with that error and recorded no value
    assert execution.status == "Success", [(s.name, s.error) for s in execution.steps]
    assert _block(session) == dict.fromkeys(FLAGS, True)
    read = execution.step("ReadPrevious")
    assert read.status == "Failed"
    assert read.error is not None
    assert "NoSuchPublicAccessBlockConfiguration" in read.error
    assert execution.outputs == {}


def test_a_partial_setting_is_recorded_then_completed(session: boto3.Session, bucket: str) -> None:
    # Given a bucket that blocks public ACLs only
    partial = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    session.client("s3").put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=partial)
    # When the runbook runs
    execution = run(document("public_access"), {"BucketName": bucket, "FindingId": FINDING_ID}, session=session)
    # Then the outputs hold the previous values (to restore by hand) and all four are now on
    assert execution.status == "Success"
    assert execution.outputs == {f"ReadPrevious.{flag}": value for flag, value in partial.items()}
    assert _block(session) == dict.fromkeys(FLAGS, True)


def test_both_calls_expect_the_bucket_in_this_account(session: boto3.Session, bucket: str) -> None:
    # Given a bucket / When the runbook runs
    execution = run(document("public_access"), {"BucketName": bucket, "FindingId": FINDING_ID}, session=session)
    # Then the read and the write both name this account (global:ACCOUNT_ID) as the expected owner, so a
    # same-named bucket of another account is refused by S3 instead of changed
    assert execution.status == "Success"
    assert [(api, params.get("ExpectedBucketOwner")) for _, api, params in execution.calls] == [
        ("GetPublicAccessBlock", ACCOUNT),
        ("PutPublicAccessBlock", ACCOUNT),
    ]


def test_the_description_does_not_read_every_failed_read_as_no_setting() -> None:
    # Given the description / Then it sends the reader to the step's error, naming errors that read nothing
    description = document("public_access")["description"]
    assert "see the step's error" in description
    assert "AccessDenied" in description
    assert "NoSuchBucket" in description


def test_rejected_approval_leaves_the_bucket_as_it_was(session: boto3.Session, bucket: str) -> None:
    # Given approvers / When the approver rejects / Then no call, and the bucket still has no configuration
    execution = run(
        document("public_access", approval=APPROVAL),
        {"BucketName": bucket, "FindingId": FINDING_ID},
        session=session,
        approve=lambda inputs: False,
    )
    assert execution.status == "Failed"
    assert execution.calls == []
    with pytest.raises(ClientError, match="NoSuchPublicAccessBlockConfiguration"):
        _block(session)


@pytest.mark.parametrize("name", ["a..b;ls", "Upper-Case", "ab", "-leading"])
def test_invalid_bucket_names_never_start(session: boto3.Session, name: str) -> None:
    # Given a name outside the pattern / When started / Then refused before any step
    with pytest.raises(ParameterError):
        run(document("public_access"), {"BucketName": name, "FindingId": FINDING_ID}, session=session)
