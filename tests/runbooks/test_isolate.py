"""The isolate and restore runbooks on the embedded AWS: quarantine, forensics, protection, and the way back."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.runbooks.documents import FINDING_TAG, PREVIOUS_GROUPS_TAG, QUARANTINE_TAG
from tests.runbooks.conftest import APPROVAL, FINDING_ID, document, make_instance
from tests.runbooks.runner import ParameterError, run


def _instance(session: boto3.Session, instance: str) -> dict[str, Any]:
    reservations = session.client("ec2").describe_instances(InstanceIds=[instance])["Reservations"]
    found: dict[str, Any] = reservations[0]["Instances"][0]
    return found


def _groups(session: boto3.Session, instance: str) -> list[str]:
    # moto keeps old groups on the ENI too (a moto gap): the instance's own list is the one it replaces.
    return [group["GroupId"] for group in _instance(session, instance)["SecurityGroups"]]


def _tags(session: boto3.Session, instance: str) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in _instance(session, instance).get("Tags", [])}


def _attribute(session: boto3.Session, instance: str, name: str) -> bool:
    answer = session.client("ec2").describe_instance_attribute(InstanceId=instance, Attribute=name)
    value: bool = answer[name[0].upper() + name[1:]]["Value"]
    return value


def _security_group(session: boto3.Session, group: str) -> dict[str, Any]:
    found: dict[str, Any] = session.client("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
    return found


def test_isolate_moves_the_instance_into_a_closed_quarantine_group(session: boto3.Session) -> None:
    # Given an instance with two groups and two volumes
    instance, original = make_instance(session)
    # When the isolate runbook runs for a finding
    execution = run(document("isolate"), {"InstanceId": instance, "FindingId": FINDING_ID}, session=session)
    # Then it succeeds and the instance's only group is a new quarantine group with no rule at all
    assert execution.status == "Success", [(s.name, s.error) for s in execution.steps]
    quarantine = execution.outputs["CreateQuarantineGroup.GroupId"]
    assert quarantine not in original
    assert _groups(session, instance) == [quarantine]
    group = _security_group(session, quarantine)
    assert group["IpPermissionsEgress"] == []
    assert group["IpPermissions"] == []
    assert group["GroupName"] == "GuardDutyResponder-Quarantine-exec-1"
    assert {tag["Key"]: tag["Value"] for tag in group["Tags"]} == {QUARANTINE_TAG: FINDING_ID}
    # And the previous groups, the finding and the quarantine group are recorded on the instance
    assert _tags(session, instance) == {
        PREVIOUS_GROUPS_TAG: " ".join(original),
        FINDING_TAG: FINDING_ID,
        QUARANTINE_TAG: quarantine,
    }
    assert execution.outputs["DescribeInstance.GroupIds"] == original
    # And termination and stop protection are on
    assert _attribute(session, instance, "disableApiTermination") is True
    assert _attribute(session, instance, "disableApiStop") is True


def test_isolate_snapshots_every_volume_tagged_with_the_finding(session: boto3.Session) -> None:
    # Given an instance with two volumes
    instance, _ = make_instance(session, volumes=2)
    volumes = {
        mapping["Ebs"]["VolumeId"]
        for mapping in _instance(session, instance)["BlockDeviceMappings"]
        if "Ebs" in mapping
    }
    # When it is isolated
    execution = run(document("isolate"), {"InstanceId": instance, "FindingId": FINDING_ID}, session=session)
    # Then there is one snapshot per volume, each tagged with the finding id, and the outputs name them
    snapshots = session.client("ec2").describe_snapshots(
        Filters=[{"Name": f"tag:{FINDING_TAG}", "Values": [FINDING_ID]}]
    )["Snapshots"]
    assert {snapshot["VolumeId"] for snapshot in snapshots} == volumes
    assert len(snapshots) == len(volumes) == 2
    assert sorted(execution.outputs["Snapshot.SnapshotIds"]) == sorted(s["SnapshotId"] for s in snapshots)


def test_a_forensics_cidr_opens_ssh_from_it_only(session: boto3.Session) -> None:
    # Given an instance / When isolated with a forensics CIDR
    instance, _ = make_instance(session)
    parameters = {"InstanceId": instance, "FindingId": FINDING_ID, "ForensicsCidr": "10.20.30.0/24"}
    execution = run(document("isolate"), parameters, session=session)
    # Then the quarantine group admits TCP 22 from that CIDR and nothing else, and still has no egress
    group = _security_group(session, execution.outputs["CreateQuarantineGroup.GroupId"])
    assert [
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], [r["CidrIp"] for r in rule["IpRanges"]])
        for rule in group["IpPermissions"]
    ] == [("tcp", 22, 22, ["10.20.30.0/24"])]
    assert group["IpPermissionsEgress"] == []


def test_without_a_cidr_the_forensics_rule_is_never_called(session: boto3.Session) -> None:
    # Given an instance / When isolated without a CIDR / Then no ingress call is made at all
    instance, _ = make_instance(session)
    execution = run(document("isolate"), {"InstanceId": instance, "FindingId": FINDING_ID}, session=session)
    assert "AuthorizeSecurityGroupIngress" not in [api for _, api, _ in execution.calls]


def test_an_instance_with_two_interfaces_is_refused_before_any_change(session: boto3.Session) -> None:
    # Given an instance with a second network interface
    instance, original = make_instance(session, interfaces=2)
    # When the isolate runbook runs
    execution = run(document("isolate"), {"InstanceId": instance, "FindingId": FINDING_ID}, session=session)
    # Then it fails at the check, having only read the instance: no tag, snapshot, protection or group change
    assert execution.status == "Failed"
    assert "network interfaces" in str(execution.step("Check").error)
    assert [api for _, api, _ in execution.calls] == ["DescribeInstances"]
    assert _groups(session, instance) == original
    assert _tags(session, instance) == {}
    assert _attribute(session, instance, "disableApiTermination") is False


def test_restore_brings_the_groups_back_and_removes_the_quarantine(session: boto3.Session) -> None:
    # Given an isolated instance
    instance, original = make_instance(session)
    isolated = run(document("isolate"), {"InstanceId": instance, "FindingId": FINDING_ID}, session=session)
    quarantine = isolated.outputs["CreateQuarantineGroup.GroupId"]
    # When the restore runbook runs
    execution = run(document("restore"), {"InstanceId": instance}, session=session, execution_id="exec-2")
    # Then the original groups are back, in order, the quarantine group is gone and so are the two tags
    assert execution.status == "Success", [(s.name, s.error) for s in execution.steps]
    assert _groups(session, instance) == original
    groups = session.client("ec2").describe_security_groups()["SecurityGroups"]
    assert quarantine not in {group["GroupId"] for group in groups}
    assert _tags(session, instance) == {FINDING_TAG: FINDING_ID}
    # And protection stays on until someone turns it off after forensics
    assert _attribute(session, instance, "disableApiTermination") is True


def test_restore_refuses_an_instance_the_runbook_never_isolated(session: boto3.Session) -> None:
    # Given an instance that was never isolated
    instance, original = make_instance(session)
    # When restore runs / Then it fails while reading and changes nothing
    execution = run(document("restore"), {"InstanceId": instance}, session=session)
    assert execution.status == "Failed"
    assert {api for _, api, _ in execution.calls} == {"DescribeTags"}
    assert _groups(session, instance) == original


def test_rejected_approval_makes_no_call(session: boto3.Session) -> None:
    # Given the isolate runbook deployed with approvers, and an instance
    instance, original = make_instance(session)
    asked: list[dict[str, Any]] = []

    def reject(inputs: dict[str, Any]) -> bool:
        asked.append(inputs)
        return False

    # When the approver rejects
    parameters = {"InstanceId": instance, "FindingId": FINDING_ID}
    execution = run(document("isolate", approval=APPROVAL), parameters, session=session, approve=reject)
    # Then the execution fails at the approval with no AWS call, and the approver saw the configured request
    assert execution.status == "Failed"
    assert [step.name for step in execution.steps] == ["Approve"]
    assert execution.calls == []
    assert _groups(session, instance) == original
    assert asked[0]["Approvers"] == APPROVAL["approvers"]
    assert asked[0]["NotificationArn"] == APPROVAL["topic_arn"]
    assert asked[0]["MinRequiredApprovals"] == 1
    assert "exec-1" in asked[0]["Message"]
    assert FINDING_ID not in asked[0]["Message"]  # no finding data on the approval topic


def test_approved_isolation_runs_after_the_approval(session: boto3.Session) -> None:
    # Given approvers / When the approver approves / Then isolation happens after the approval step
    instance, _ = make_instance(session)
    parameters = {"InstanceId": instance, "FindingId": FINDING_ID}
    execution = run(document("isolate", approval=APPROVAL), parameters, session=session)
    assert execution.status == "Success"
    assert execution.steps[0].name == "Approve"
    assert _groups(session, instance) == [execution.outputs["CreateQuarantineGroup.GroupId"]]


@pytest.mark.parametrize(
    "parameters",
    [
        {"InstanceId": "i-0123;rm -rf", "FindingId": FINDING_ID},
        {"InstanceId": "i-0123456789abcdef0", "FindingId": "a b"},
        {"InstanceId": "i-0123456789abcdef0", "FindingId": FINDING_ID, "ForensicsCidr": "0.0.0.0/0 "},
        {"FindingId": FINDING_ID},
    ],
    ids=["hostile-instance", "finding-space", "cidr-space", "missing-instance"],
)
def test_invalid_parameters_never_start(session: boto3.Session, parameters: dict[str, str]) -> None:
    # Given parameter values outside the document's patterns (or a required one missing)
    # When the runbook is started / Then it is refused before any step
    with pytest.raises(ParameterError):
        run(document("isolate"), parameters, session=session)
