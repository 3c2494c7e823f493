"""The archive runbook: GuardDuty's ArchiveFindings is not in moto, so botocore's Stubber checks the request."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from tests.runbooks.conftest import FINDING_ID, REGION, document
from tests.runbooks.runner import ParameterError, run

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"


def test_the_finding_is_archived_in_its_detector(aws_env: None) -> None:
    # Given a GuardDuty client that expects exactly this request
    guardduty = boto3.client("guardduty", region_name=REGION)
    with Stubber(guardduty) as stub:
        stub.add_response("archive_findings", {}, {"DetectorId": DETECTOR, "FindingIds": [FINDING_ID]})
        # When the archive runbook runs with it
        execution = run(
            document("archive"),
            {"DetectorId": DETECTOR, "FindingId": FINDING_ID},
            session=boto3.Session(region_name=REGION),
            clients={"guardduty": guardduty},
        )
        # Then the request was made, once, as expected, and the execution succeeded
        stub.assert_no_pending_responses()
    assert execution.status == "Success"
    assert execution.calls == [("guardduty", "ArchiveFindings", {"DetectorId": DETECTOR, "FindingIds": [FINDING_ID]})]


def test_a_refused_archive_fails_the_execution(aws_env: None) -> None:
    # Given GuardDuty refusing the request (e.g. a detector of another account)
    guardduty = boto3.client("guardduty", region_name=REGION)
    with Stubber(guardduty) as stub:
        stub.add_client_error("archive_findings", "BadRequestException", "The request is rejected", 400)
        # When the runbook runs / Then the execution fails with GuardDuty's error
        execution = run(
            document("archive"),
            {"DetectorId": DETECTOR, "FindingId": FINDING_ID},
            session=boto3.Session(region_name=REGION),
            clients={"guardduty": guardduty},
        )
    assert execution.status == "Failed"
    assert "BadRequestException" in str(execution.step("Archive").error)


def test_archive_needs_no_approval_even_when_approvers_are_configured() -> None:
    # Given approvers configured / When the archive document is built / Then it has no approval step
    assert [
        step["action"] for step in document("archive", approval={"approvers": ["x"], "topic_arn": "t"})["mainSteps"]
    ] == ["aws:executeAwsApi"]


def test_invalid_ids_never_start(aws_env: None) -> None:
    # Given a finding id with characters outside its pattern / When started / Then refused before any step
    with pytest.raises(ParameterError):
        run(
            document("archive"),
            {"DetectorId": DETECTOR, "FindingId": "abc,def"},
            session=boto3.Session(region_name=REGION),
        )
