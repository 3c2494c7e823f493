"""The embedded AWS the runbooks run against (moto, one Region, moto's default account) and their documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.runbooks import documents
from infra.runbooks.model import ContentContext

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/GuardDutyResponder-Runbook"
APPROVAL = {
    "approvers": [f"arn:aws:iam::{ACCOUNT}:user/second-person"],
    "topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:Automation-GuardDutyResponder-Approvals",
}
FINDING_ID = "1ab2c3d4e5f60718293a4b5c6d7e8f90"


def document(key: str, *, approval: dict[str, Any] | None = None) -> dict[str, Any]:
    """The runbook's content as the stack deploys it (a literal role ARN instead of the CFN token)."""
    return documents.by_key(key).content(ContentContext(ROLE, approval))


@pytest.fixture
def session(aws_env: None) -> Iterator[boto3.Session]:
    """A boto3 session on moto; every client the runner makes from it talks to the same embedded AWS."""
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def make_instance(
    session: boto3.Session, *, groups: tuple[str, ...] = ("web", "admin"), volumes: int = 2, interfaces: int = 1
) -> tuple[str, list[str]]:
    """An instance in a new VPC with ``groups`` (created) and ``volumes`` EBS volumes: (id, group ids)."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group_ids = [ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"] for name in groups]
    disks = [{"DeviceName": f"/dev/sd{chr(ord('a') + n)}", "Ebs": {"VolumeSize": 8}} for n in range(volumes)]
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        SecurityGroupIds=group_ids,
        BlockDeviceMappings=disks,
    )["Instances"][0]["InstanceId"]
    for index in range(1, interfaces):
        extra = ec2.create_network_interface(SubnetId=subnet, Groups=group_ids)["NetworkInterface"]
        ec2.attach_network_interface(
            NetworkInterfaceId=extra["NetworkInterfaceId"], InstanceId=instance, DeviceIndex=index
        )
    return instance, group_ids
