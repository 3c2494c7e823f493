"""Pure: AWS naming rules, one function per rule, for the names a subject line may show.

A finding's resource names are attacker-influenced free text as far as we know; a name goes
into a subject only when it is a name AWS itself would accept for that kind of resource (the
body still shows any value, cleaned and defanged). Each rule cites where AWS states it.
"""

from __future__ import annotations

import re
from typing import Final

# S3 User Guide, "General purpose bucket naming rules": 3-63 characters; lowercase letters,
# digits, dots and hyphens; begins and ends with a letter or digit; no two adjacent dots; not
# formatted as an IPv4 address; reserved prefixes xn--, sthree-, amzn-s3-demo-; reserved
# suffixes -s3alias, --ol-s3, .mrap, --x-s3, --table-s3. (Legacy us-east-1 names with capitals
# or underscores no longer exist for new buckets: such a name stays in the body only.)
_BUCKET: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4: Final = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_BUCKET_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

# IAM User Guide, "IAM and AWS STS quotas" (names of IAM entities): user and role names are
# 1-64 characters of letters, digits and ``+=,.@_-`` (the IAM API's ``[\w+=,.@-]+``).
_IAM_NAME: Final = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
# IAM API reference, AccessKey: AccessKeyId is 16-128 characters, pattern ``[\w]+``.
_ACCESS_KEY_ID: Final = re.compile(r"[A-Za-z0-9_]{16,128}")
# Lambda API reference, CreateFunction FunctionName: a bare name is 1-64 characters of letters,
# digits, hyphens and underscores.
_LAMBDA_FUNCTION: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
# EKS API reference, CreateCluster name: 1-100 characters, pattern ``^[0-9A-Za-z][A-Za-z0-9\-_]*``.
_EKS_CLUSTER: Final = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
# ECS API reference, CreateCluster clusterName: up to 255 letters (upper and lower case),
# digits, underscores and hyphens.
_ECS_CLUSTER: Final = re.compile(r"[A-Za-z0-9_-]{1,255}")
# RDS API reference, CreateDBInstance DBInstanceIdentifier / CreateDBCluster DBClusterIdentifier:
# 1-63 letters, digits or hyphens; the first a letter; no hyphen at the end nor two in a row.
_RDS_IDENTIFIER: Final = re.compile(r"[A-Za-z](?:-?[A-Za-z0-9])*")
_RDS_MAX: Final = 63
# RDS API reference, CreateDBShardGroup DBShardGroupIdentifier: 1-63 characters, pattern
# ``[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*`` (the same shape as the rule above).
_RDS_SHARD_GROUP: Final = _RDS_IDENTIFIER
# Docker Engine (moby), daemon/names.go: a container name is ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``.
_CONTAINER_NAME: Final = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
# Docker Engine: a container ID is 64 lowercase hex digits; tools show a prefix (12 in docker ps).
_CONTAINER_ID: Final = re.compile(r"[0-9a-f]{1,64}")
# EC2 User Guide, "Resource IDs": a prefix (i-, snap-, ami-, vol-, eni-, ...) then 8 hex
# characters (resources created before 2016) or 17.
_EC2_ID: Final = re.compile(r"(?P<prefix>[a-z]+)-(?:[0-9a-f]{8}|[0-9a-f]{17})")
# EC2 Auto Scaling API reference, CreateAutoScalingGroup AutoScalingGroupName: 1-255 ASCII
# characters 33-126 except the colon. We accept the subset of letters, digits, ``._-``: a name
# with other punctuation is valid to AWS but stays in the body only (brackets read as tags).
_AUTO_SCALING_GROUP: Final = re.compile(r"[A-Za-z0-9._-]{1,255}")
# CloudFormation User Guide, stack name: starts with a letter, then letters, digits and hyphens,
# at most 128 characters.
_STACK: Final = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
# AWS Backup API reference, CreateBackupVault BackupVaultName: 2-50 letters, digits, ``-`` and ``_``.
_BACKUP_VAULT: Final = re.compile(r"[A-Za-z0-9_-]{2,50}")
# AWS Backup: a recovery point of a resource type with its own ARNs ends in
# ``recovery-point:<id>``; the id is a UUID (Backup API RecoveryPointByBackupVault).
_RECOVERY_POINT_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def s3_bucket(name: str) -> bool:
    """A general purpose S3 bucket name (S3 naming rules, reserved prefixes and suffixes)."""
    return (
        _BUCKET.fullmatch(name) is not None
        and ".." not in name
        and _IPV4.fullmatch(name) is None
        and not name.startswith(_BUCKET_PREFIXES)
        and not name.endswith(_BUCKET_SUFFIXES)
    )


def iam_name(name: str) -> bool:
    """An IAM user or role name."""
    return _IAM_NAME.fullmatch(name) is not None


def access_key_id(key: str) -> bool:
    """An IAM access key ID."""
    return _ACCESS_KEY_ID.fullmatch(key) is not None


def lambda_function(name: str) -> bool:
    """A Lambda function name (the bare name, not an ARN)."""
    return _LAMBDA_FUNCTION.fullmatch(name) is not None


def eks_cluster(name: str) -> bool:
    """An EKS cluster name."""
    return _EKS_CLUSTER.fullmatch(name) is not None


def ecs_cluster(name: str) -> bool:
    """An ECS cluster name."""
    return _ECS_CLUSTER.fullmatch(name) is not None


def rds_identifier(name: str) -> bool:
    """An RDS DB instance or DB cluster identifier."""
    return len(name) <= _RDS_MAX and _RDS_IDENTIFIER.fullmatch(name) is not None


def rds_shard_group(name: str) -> bool:
    """An Aurora Limitless DB shard group identifier."""
    return len(name) <= _RDS_MAX and _RDS_SHARD_GROUP.fullmatch(name) is not None


def container_name(name: str) -> bool:
    """A Docker container name."""
    return _CONTAINER_NAME.fullmatch(name) is not None


def container_id(value: str) -> bool:
    """A Docker container ID or a prefix of one."""
    return _CONTAINER_ID.fullmatch(value) is not None


def ec2_id(value: str, prefix: str) -> bool:
    """An EC2 resource ID with this prefix (``i``, ``snap``, ``ami``, ``vol``, ``eni``)."""
    match = _EC2_ID.fullmatch(value)
    return match is not None and match["prefix"] == prefix


def auto_scaling_group(name: str) -> bool:
    """An Auto Scaling group name (the conservative subset described above)."""
    return _AUTO_SCALING_GROUP.fullmatch(name) is not None


def cloudformation_stack(name: str) -> bool:
    """A CloudFormation stack name."""
    return _STACK.fullmatch(name) is not None


def backup_vault(name: str) -> bool:
    """An AWS Backup vault name."""
    return _BACKUP_VAULT.fullmatch(name) is not None


def recovery_point_id(value: str) -> bool:
    """The id part of an AWS Backup recovery point ARN."""
    return _RECOVERY_POINT_ID.fullmatch(value) is not None


def short_id(uid: str) -> str:
    """An instance or container uid as a responder reads it: the id after an ARN's last ``/``
    (attack sequences give either form)."""
    return uid.rsplit("/", 1)[-1] if uid.startswith("arn:") else uid
