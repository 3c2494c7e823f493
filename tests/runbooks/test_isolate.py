"""The isolate and restore runbooks on the embedded AWS: quarantine, forensics, protection, and the way back."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.runbooks.documents import FINDING_TAG, PREVIOUS_GROUPS_TAG, QUARANTINE_TAG
from tests.runbooks.conftest import APPROVAL, FINDING_ID, document, make_instance
from tests.runbooks.runner import ParameterError, run

READS = ["DescribeInstances", "DescribeTags"]  # all an isolation refused by its Check may call


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
    assert [api for _, api, _ in execution.calls] == READS
    assert _groups(session, instance) == original
    assert _tags(session, instance) == {}
    assert _attribute(session, instance, "disableApiTermination") is False


def test_isolation_changes_the_instance_containment_first(session: boto3.Session) -> None:
    # Given an instance / When isolated with a forensics CIDR
    instance, _ = make_instance(session)
    parameters = {"InstanceId": instance, "FindingId": FINDING_ID, "ForensicsCidr": "10.20.30.0/24"}
    execution = run(document("isolate"), parameters, session=session)
    # Then the calls read, build the closed group, move the instance into it, and only then tag,
    # snapshot and protect (the steps that may fail come after the containment)
    assert execution.status == "Success"
    assert [(api, sorted(params)) for _, api, params in execution.calls][2:] == [
        ("CreateSecurityGroup", ["Description", "GroupName", "TagSpecifications", "VpcId"]),
        ("RevokeSecurityGroupEgress", ["GroupId", "IpPermissions"]),
        ("AuthorizeSecurityGroupIngress", ["GroupId", "IpPermissions"]),
        ("ModifyInstanceAttribute", ["Groups", "InstanceId"]),
        ("CreateTags", ["Resources", "Tags"]),
        ("CreateSnapshots", ["CopyTagsFromSource", "Description", "InstanceSpecification", "TagSpecifications"]),
        ("ModifyInstanceAttribute", ["DisableApiTermination", "InstanceId"]),
        ("ModifyInstanceAttribute", ["DisableApiStop", "InstanceId"]),
    ]
    assert [api for _, api, _ in execution.calls][:2] == READS


class _NoProtection:
    """EC2 as for a Spot or instance-store-backed instance: protection refused, every other call to moto."""

    def __init__(self, ec2: Any) -> None:
        self._ec2 = ec2

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ec2, name)

    def modify_instance_attribute(self, **params: Any) -> Any:
        if "DisableApiStop" in params or "DisableApiTermination" in params:
            raise ClientError(
                {"Error": {"Code": "UnsupportedOperation", "Message": "not supported for spot instances"}},
                "ModifyInstanceAttribute",
            )
        return self._ec2.modify_instance_attribute(**params)


def test_the_instance_is_quarantined_even_when_protection_is_refused(session: boto3.Session) -> None:
    # Given an instance whose EC2 refuses termination and stop protection (Spot, instance store)
    instance, original = make_instance(session)
    ec2 = _NoProtection(session.client("ec2"))
    # When it is isolated
    execution = run(
        document("isolate"), {"InstanceId": instance, "FindingId": FINDING_ID}, session=session, clients={"ec2": ec2}
    )
    # Then both protection steps failed without failing the execution (not critical, continue)
    assert execution.status == "Success", [(s.name, s.error) for s in execution.steps]
    assert execution.step("ProtectTermination").status == "Failed"
    assert "UnsupportedOperation" in str(execution.step("ProtectStop").error)
    # And the instance is quarantined, recorded and snapshotted all the same
    quarantine = execution.outputs["CreateQuarantineGroup.GroupId"]
    assert _groups(session, instance) == [quarantine]
    assert _tags(session, instance)[PREVIOUS_GROUPS_TAG] == " ".join(original)
    assert len(execution.outputs["Snapshot.SnapshotIds"]) == 2
    assert _attribute(session, instance, "disableApiStop") is False


def test_isolating_twice_is_refused_and_restore_brings_the_original_groups_back(session: boto3.Session) -> None:
    # Given an isolated instance
    instance, original = make_instance(session)
    parameters = {"InstanceId": instance, "FindingId": FINDING_ID}
    first = run(document("isolate"), parameters, session=session, execution_id="exec-1")
    quarantine = first.outputs["CreateQuarantineGroup.GroupId"]
    tags = _tags(session, instance)
    # When the isolate runbook runs again (a retry, a second engineer, a second approval)
    second = run(document("isolate"), parameters, session=session, execution_id="exec-2")
    # Then it fails at the check with a clear message, having only read: the record of the original groups stays
    assert second.status == "Failed"
    error = str(second.step("Check").error)
    assert "isolated before" in error
    assert QUARANTINE_TAG in error
    assert [api for _, api, _ in second.calls] == READS
    assert _tags(session, instance) == tags
    assert _groups(session, instance) == [quarantine]
    # And restore gives the instance its original groups back
    restored = run(document("restore"), {"InstanceId": instance}, session=session, execution_id="exec-3")
    assert restored.status == "Success"
    assert _groups(session, instance) == original


def test_an_instance_carrying_only_the_previous_groups_tag_is_refused(session: boto3.Session) -> None:
    # Given an instance tagged with a previous-groups record by hand (or a half-finished run)
    instance, original = make_instance(session)
    session.client("ec2").create_tags(Resources=[instance], Tags=[{"Key": PREVIOUS_GROUPS_TAG, "Value": "sg-1"}])
    # When isolated / Then refused before any change, naming the tag
    execution = run(document("isolate"), {"InstanceId": instance, "FindingId": FINDING_ID}, session=session)
    assert execution.status == "Failed"
    assert PREVIOUS_GROUPS_TAG in str(execution.step("Check").error)
    assert [api for _, api, _ in execution.calls] == READS
    assert _groups(session, instance) == original


@pytest.mark.parametrize("cidr", ["999.1.1.1/32", "10.20.30.1/24", "256.0.0.0/16"])
def test_an_invalid_forensics_cidr_is_refused_before_any_change(session: boto3.Session, cidr: str) -> None:
    # Given a CIDR the pattern lets through but EC2 would refuse (a bad octet, host bits set)
    instance, original = make_instance(session)
    parameters = {"InstanceId": instance, "FindingId": FINDING_ID, "ForensicsCidr": cidr}
    # When isolated / Then the check refuses it, having only read: no group, tag, snapshot or protection
    execution = run(document("isolate"), parameters, session=session)
    assert execution.status == "Failed"
    assert "ForensicsCidr" in str(execution.step("Check").error)
    assert [api for _, api, _ in execution.calls] == READS
    assert _groups(session, instance) == original
    assert _tags(session, instance) == {}


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/15", "0.0.0.0/1"])
def test_a_forensics_cidr_wider_than_16_is_refused_by_the_pattern_and_the_check(
    session: boto3.Session, cidr: str
) -> None:
    # Given a network wider than /16 (0.0.0.0/0: the whole Internet on SSH)
    instance, original = make_instance(session)
    parameters = {"InstanceId": instance, "FindingId": FINDING_ID, "ForensicsCidr": cidr}
    # When started / Then the pattern refuses it
    with pytest.raises(ParameterError):
        run(document("isolate"), parameters, session=session)
    # And without the pattern the check still refuses it before any change (two guards, each enough)
    unguarded = document("isolate")
    del unguarded["parameters"]["ForensicsCidr"]["allowedPattern"]
    execution = run(unguarded, parameters, session=session)
    assert execution.status == "Failed"
    assert "wider than /16" in str(execution.step("Check").error)
    assert [api for _, api, _ in execution.calls] == READS
    assert _groups(session, instance) == original


def test_the_description_states_the_limits() -> None:
    # Given the isolate document / Then it says protection may not apply and names the CIDR limit
    description = document("isolate")["description"]
    assert "Spot or instance-store-backed" in description
    assert "/16 or longer" in description
    assert "0.0.0.0/0" in description


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
        {"InstanceId": "i-0123456789abcdef0", "FindingId": "a" * 201},
        {"InstanceId": "i-0123456789abcdef0", "FindingId": FINDING_ID, "ForensicsCidr": "0.0.0.0/0 "},
        {"FindingId": FINDING_ID},
    ],
    ids=["hostile-instance", "finding-space", "finding-201", "cidr-space", "missing-instance"],
)
def test_invalid_parameters_never_start(session: boto3.Session, parameters: dict[str, str]) -> None:
    # Given parameter values outside the document's patterns (or a required one missing)
    # When the runbook is started / Then it is refused before any step
    with pytest.raises(ParameterError):
        run(document("isolate"), parameters, session=session)
