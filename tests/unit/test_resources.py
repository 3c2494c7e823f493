"""The resource section: which block a finding is about, its name and AWS naming rules, the subject."""

from __future__ import annotations

import pytest

from responder.domain import names
from responder.domain.classify import classify
from responder.domain.i18n import Locale
from responder.domain.models import GuardDutyEvent
from responder.domain.render import local_subject, render
from responder.domain.resource_models import Resource
from responder.domain.resources import resource_facts, resource_label
from responder.domain.service_models import Service
from responder.domain.settings import Settings
from tests.conftest import minimal_event


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (names.s3_bucket, ["example-bucket1", "a.b-c", "abc"], ["bucketName", "ab", "a..b", "192.168.1.1", "-ab"]),
        (names.s3_bucket, ["my-s3alias-x"], ["xn--abc", "sthree-x", "amzn-s3-demo-bucket", "b-s3alias", "b--x-s3"]),
        (names.iam_name, ["testuser", "abc@abc.com", "a+b=c,d.e_f-g"], ["", "a/b", "a b", "x" * 65]),
        (names.access_key_id, ["AKIAIOSFODNN7EXAMPLE"], ["AKIA", "AKIA-IOSFODNN7EXAMPLE"]),
        (names.lambda_function, ["image-resizer", "a_b"], ["a.b", "x" * 65, "arn:aws:lambda:x"]),
        (names.eks_cluster, ["prod-payments", "a_b"], ["-a", "a.b", "x" * 101]),
        (names.ecs_cluster, ["orders-prod", "A_b"], ["a.b", "x" * 256]),
        (names.rds_identifier, ["prod-db-1", "a"], ["1db", "db-", "db--1", "x" * 64]),
        (names.rds_shard_group, ["dbshardgroupidentifier"], ["shard_group", "g-"]),
        (names.container_name, ["abcd1234", "web.1_a-b"], ["a", "-a", "https://evil.example/x@y", "C:/x"]),
        (names.cloudformation_stack, ["web-tier-prod"], ["1stack", "a_b"]),
        (names.auto_scaling_group, ["web-tier-prod-asg"], ["a:b", "[URGENT]", "x" * 256]),
        (names.backup_vault, ["prod-daily-vault"], ["a", "a.b"]),
    ],
)
def test_each_naming_rule_accepts_aws_names_and_refuses_the_rest(rule, good, bad):
    # Given names AWS accepts and names it refuses / Then the rule agrees
    assert all(rule(name) for name in good), [n for n in good if not rule(n)]
    assert not any(rule(name) for name in bad), [n for n in bad if rule(n)]


@pytest.mark.parametrize(
    ("value", "prefix", "ok"),
    [
        ("i-0618726e20846a8dc", "i", True),
        ("i-99999999", "i", True),
        ("i-blart", "i", False),
        ("i-0bc12345678910", "i", False),  # 14 characters: neither the old 8 nor the new 17
        ("i-0999999999999999", "i", False),  # 16
        ("snap-0c3a5e7f9b1d2468a", "snap", True),
        ("snap-0c3a5e7f9b1d2468a", "ami", False),
        ("ami-0D4B6F8A0C2E4F6A8", "ami", False),
    ],
)
def test_ec2_ids_have_their_prefix_and_8_or_17_hex_digits(value, prefix, ok):
    assert names.ec2_id(value, prefix) is ok


def _resource(**blocks: object) -> Resource:
    return Resource.model_validate(blocks)


S3_WITH_CONTEXT = {
    "resourceType": "S3Bucket",
    "instanceDetails": {"instanceId": "i-0618726e20846a8dc", "instanceType": "t3.micro"},
    "accessKeyDetails": {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": "alice"},
    "s3BucketDetails": [
        {"name": "example-bucket1", "type": "Destination", "arn": "arn:aws:s3:::example-bucket1"},
        {"name": "example-bucket2"},
    ],
}


def test_the_block_resourcetype_names_comes_first_and_the_instance_is_related():
    # Given an S3 finding that also carries the caller's key and an instance
    facts = resource_facts(_resource(**S3_WITH_CONTEXT), "TARGET")
    labels = [f.label for f in facts]
    # When its resource facts are built / Then the bucket leads (marked primary), every bucket
    # is listed, and the instance comes after it under its own label
    assert labels[:3] == ["f.resource_type", "f.resource_role", "f.bucket"]
    assert facts[2].primary and facts[2].value == "example-bucket1"
    assert [f for f in facts if f.primary] == [facts[2]]
    assert ("f.bucket", "example-bucket2") in [(f.label, f.value) for f in facts]
    assert labels.index("f.related_instance") > labels.index("f.user_name") > labels.index("f.bucket")
    assert "f.instance_id" not in labels
    assert resource_label(_resource(**S3_WITH_CONTEXT)) == "example-bucket1"


def test_a_name_that_fails_its_rule_is_shown_but_never_the_label():
    # Given a bucket named against the S3 rules (capital letters)
    resource = _resource(resourceType="S3Bucket", s3BucketDetails=[{"name": "bucketName"}])
    # Then it still leads the resource section, but no subject may use it
    assert resource_facts(resource, None)[1][:2] == ("f.bucket", "bucketName")
    assert resource_label(resource) is None


def test_an_access_key_finding_is_named_by_the_user_or_else_the_key():
    user = _resource(resourceType="AccessKey", accessKeyDetails={"userName": "alice", "accessKeyId": "AKIAX"})
    key = _resource(
        resourceType="AccessKey", accessKeyDetails={"userName": "a/b", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"}
    )
    assert resource_label(user) == "alice"
    assert resource_label(key) == "AKIAIOSFODNN7EXAMPLE"


def test_backup_artefacts_are_recognised_by_their_block_not_by_resourcetype():
    # Given a snapshot finding whose resourceType string is one we have never seen
    snapshot = _resource(
        resourceType="SomethingNew",
        ebsSnapshotDetails={"snapshotArn": "arn:aws:ec2:us-west-2::snapshot/snap-0c3a5e7f9b1d2468a"},
    )
    point = _resource(
        recoveryPointDetails={
            "recoveryPointArn": "arn:aws:backup:us-west-2:111122223333:recovery-point:9b7e5c3a-1d2f-4e6a-8b0c-2e4f6a8c0e1d",
            "backupVaultName": "s3-continuous-vault",
        }
    )
    # Then the artefact names the finding
    assert resource_label(snapshot) == "snap-0c3a5e7f9b1d2468a"
    assert resource_label(point) == "9b7e5c3a-1d2f-4e6a-8b0c-2e4f6a8c0e1d"
    assert ("f.backup_vault", "s3-continuous-vault") in [(f.label, f.value) for f in resource_facts(point, None)]


def test_rds_limitless_and_lambda_details_are_shown():
    limitless = _resource(
        resourceType="RDSLimitlessDB",
        rdsLimitlessDbDetails={
            "dbShardGroupIdentifier": "orders-shards",
            "dbShardGroupArn": "arn:aws:rds:us-east-1:111122223333:shard-group:x",
            "dbClusterIdentifier": "orders-cluster",
            "engine": "aurora-postgresql",
            "engineVersion": "16.4",
        },
        rdsDbUserDetails={"user": "app", "ssl": "true"},
    )
    facts = {f.label: f.value for f in resource_facts(limitless, None)}
    assert facts["f.shard_group"] == "orders-shards"
    assert facts["f.rds_cluster"] == "orders-cluster"
    assert facts["f.engine"] == "aurora-postgresql 16.4"
    assert facts["f.db_ssl"] == "true"
    fn = _resource(
        resourceType="Lambda",
        lambdaDetails={
            "functionName": "image-resizer",
            "functionArn": "arn:aws:lambda:us-east-1:111122223333:function:image-resizer",
            "functionVersion": "$LATEST",
            "role": "arn:aws:iam::111122223333:role/resizer",
            "lastModifiedAt": 1700000000,
            "vpcConfig": {"vpcId": "vpc-0c1d2e3f4a5b6c7d8"},
        },
    )
    facts = {f.label: f.value for f in resource_facts(fn, None)}
    assert facts["f.arn"].endswith(":function:image-resizer")
    assert facts["f.function_version"] == "$LATEST"
    assert facts["f.execution_role"] == "arn:aws:iam::111122223333:role/resizer"
    assert facts["f.last_modified"] == "2023-11-14T22:13:20Z"  # epoch seconds as published by botocore
    assert facts["f.vpc"] == "vpc-0c1d2e3f4a5b6c7d8"


def test_attack_sequence_resources_are_grouped_under_their_group():
    # Given a sequence with an Auto Scaling group of two instances, the instances, and a key
    instances = ["i-0b2c4d6e8f0a1b3c5", "i-0b2c4d6e8f0a1b3c6"]
    service = Service.model_validate(
        {
            "detection": {
                "sequence": {
                    "resources": [
                        *({"uid": i, "name": i, "resourceType": "EC2_INSTANCE"} for i in instances),
                        {
                            "uid": "arn:aws:autoscaling:x:autoScalingGroupName/web-asg",
                            "name": "web-asg",
                            "resourceType": "AUTOSCALING_AUTO_SCALING_GROUP",
                            "data": {"autoscalingAutoScalingGroup": {"ec2InstanceUids": instances}},
                        },
                        {"uid": "ASIAX", "name": "ASIAX", "resourceType": "ACCESS_KEY"},
                    ]
                }
            }
        }
    )
    resource = _resource(resourceType="AttackSequence")
    facts = [(f.label, f.value) for f in resource_facts(resource, None, service)]
    # Then the group is named, lists its instances, and no instance has a line of its own
    assert ("f.auto_scaling_group", f"web-asg: {', '.join(instances)}") in facts
    assert not any(label == "f.instance" for label, _value in facts)
    assert ("f.access_key", "ASIAX") in facts
    assert resource_label(resource, service) == "web-asg"


def _subject_pair(name: str, lang: str = "ja") -> tuple[str, str | None]:
    event = minimal_event(
        "CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin",
        8.0,
        resource={"resourceType": "RDSLimitlessDB", "rdsLimitlessDbDetails": {"dbShardGroupIdentifier": name}},
    )
    c = classify(GuardDutyEvent.model_validate(event).detail, Settings(language=lang))
    return render(c).subject, local_subject(c, Locale(lang))


def test_the_subject_names_the_resource_before_account_and_region_in_every_language():
    # Given a name that fits / Then it comes right after the type, in English and Japanese alike
    subject, japanese = _subject_pair("orders")
    assert subject.startswith("[GuardDuty HIGH 8.0] CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin orders ")
    assert japanese is not None and " orders " in japanese
    # Given a valid name too long for the 99 characters / Then both subjects drop it whole (the
    # Japanese one has room for it, but names the same things as the English one)
    long_name = "a" * 40
    subject, japanese = _subject_pair(long_name)
    assert long_name[:5] not in subject and japanese is not None and long_name[:5] not in japanese
    assert subject.endswith("123456789012 us-east-1") or len(subject) <= 99


def test_an_attack_sequence_names_its_group_once_with_its_members():
    # Given the EC2 instance-group attack sequence (an Auto Scaling group of three instances)
    import json
    from pathlib import Path

    from responder.domain.classify import classify
    from responder.domain.models import GuardDutyEvent
    from responder.domain.settings import Settings

    event = json.loads(Path("tests/fixtures/families/AttackSequence_EC2_CompromisedInstanceGroup.json").read_text())
    c = classify(GuardDutyEvent.model_validate(event).detail, Settings())
    facts = c.presentation.resource_facts
    groups = [f for f in facts if f.label == "f.auto_scaling_group"]
    # Then the group is one line, first among its resources, naming it with its members, and it
    # is the primary resource (shown at the top too); the subject names the group
    [group] = groups
    assert group.primary
    assert group.value.startswith("web-tier-prod-asg: i-")
    assert c.presentation.resource_label == "web-tier-prod-asg"
