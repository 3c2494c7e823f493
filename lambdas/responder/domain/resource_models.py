"""The ``resource`` block of a finding: one detail block per resource type GuardDuty fills
(see ``models`` for the leniency rules)."""

from responder.domain.model_base import Lenient, Model

# --- resource ---------------------------------------------------------------


class Tag(Model):
    key: Lenient[str] = None
    value: Lenient[str] = None


class SecurityGroup(Model):
    group_id: Lenient[str] = None
    group_name: Lenient[str] = None


class NetworkInterface(Model):
    public_ip: Lenient[str] = None
    private_ip_address: Lenient[str] = None
    subnet_id: Lenient[str] = None
    vpc_id: Lenient[str] = None
    security_groups: Lenient[list[SecurityGroup]] = None


class InstanceDetails(Model):
    instance_id: Lenient[str] = None
    instance_type: Lenient[str] = None
    instance_state: Lenient[str] = None
    image_id: Lenient[str] = None
    platform: Lenient[str] = None
    tags: Lenient[list[Tag]] = None
    network_interfaces: Lenient[list[NetworkInterface]] = None


class AccessKeyDetails(Model):
    access_key_id: Lenient[str] = None
    principal_id: Lenient[str] = None
    user_name: Lenient[str] = None
    user_type: Lenient[str] = None


class S3ObjectDetail(Model):
    key: Lenient[str] = None
    version_id: Lenient[str] = None


class S3BucketDetail(Model):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    type: Lenient[str] = None
    s3_object_details: Lenient[list[S3ObjectDetail]] = None
    tags: Lenient[list[Tag]] = None


class EksClusterDetails(Model):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class KubernetesUserDetails(Model):
    username: Lenient[str] = None
    groups: Lenient[list[str]] = None


class KubernetesWorkloadDetails(Model):
    name: Lenient[str] = None
    type: Lenient[str] = None
    namespace: Lenient[str] = None


class KubernetesDetails(Model):
    kubernetes_user_details: Lenient[KubernetesUserDetails] = None
    kubernetes_workload_details: Lenient[KubernetesWorkloadDetails] = None


class TaskDetails(Model):
    arn: Lenient[str] = None
    definition_arn: Lenient[str] = None


class EcsClusterDetails(Model):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    task_details: Lenient[TaskDetails] = None
    tags: Lenient[list[Tag]] = None


class ContainerDetails(Model):
    id: Lenient[str] = None
    name: Lenient[str] = None
    image: Lenient[str] = None


class LambdaDetails(Model):
    function_name: Lenient[str] = None
    function_arn: Lenient[str] = None
    function_version: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class RdsDbInstanceDetails(Model):
    db_instance_identifier: Lenient[str] = None
    db_cluster_identifier: Lenient[str] = None
    engine: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class RdsDbUserDetails(Model):
    user: Lenient[str] = None
    application: Lenient[str] = None
    database: Lenient[str] = None
    auth_method: Lenient[str] = None


class EbsSnapshotDetails(Model):
    snapshot_arn: Lenient[str] = None


class Ec2ImageDetails(Model):
    image_arn: Lenient[str] = None


class RecoveryPointDetails(Model):
    recovery_point_arn: Lenient[str] = None
    backup_vault_name: Lenient[str] = None


class Resource(Model):
    resource_type: Lenient[str] = None
    instance_details: Lenient[InstanceDetails] = None
    access_key_details: Lenient[AccessKeyDetails] = None
    s3_bucket_details: Lenient[list[S3BucketDetail]] = None
    eks_cluster_details: Lenient[EksClusterDetails] = None
    kubernetes_details: Lenient[KubernetesDetails] = None
    ecs_cluster_details: Lenient[EcsClusterDetails] = None
    container_details: Lenient[ContainerDetails] = None
    lambda_details: Lenient[LambdaDetails] = None
    rds_db_instance_details: Lenient[RdsDbInstanceDetails] = None
    rds_db_user_details: Lenient[RdsDbUserDetails] = None
    # Malware Protection for AWS Backup: the scanned artefact
    ebs_snapshot_details: Lenient[EbsSnapshotDetails] = None
    ec2_image_details: Lenient[Ec2ImageDetails] = None
    recovery_point_details: Lenient[RecoveryPointDetails] = None
