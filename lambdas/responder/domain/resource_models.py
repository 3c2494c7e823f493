"""The ``resource`` block of a finding: one detail block per resource type GuardDuty fills
(see ``models`` for the leniency rules)."""

from pydantic import AliasChoices, Field

from responder.domain.model_base import Block, Instant, Lenient, Model

# --- resource ---------------------------------------------------------------


class Tag(Block):
    key: Lenient[str] = None
    value: Lenient[str] = None


class SecurityGroup(Block):
    group_id: Lenient[str] = None
    group_name: Lenient[str] = None


class NetworkInterface(Block):
    network_interface_id: Lenient[str] = None
    public_ip: Lenient[str] = None
    public_dns_name: Lenient[str] = None
    private_ip_address: Lenient[str] = None
    subnet_id: Lenient[str] = None
    vpc_id: Lenient[str] = None
    security_groups: Lenient[list[SecurityGroup]] = None


class IamInstanceProfile(Block):
    arn: Lenient[str] = None
    id: Lenient[str] = None


class InstanceDetails(Block):
    instance_id: Lenient[str] = None
    instance_type: Lenient[str] = None
    instance_state: Lenient[str] = None
    availability_zone: Lenient[str] = None
    image_id: Lenient[str] = None
    platform: Lenient[str] = None
    launch_time: Lenient[Instant] = None
    iam_instance_profile: Lenient[IamInstanceProfile] = None
    tags: Lenient[list[Tag]] = None
    network_interfaces: Lenient[list[NetworkInterface]] = None


class AccessKeyDetails(Block):
    access_key_id: Lenient[str] = None
    principal_id: Lenient[str] = None
    user_name: Lenient[str] = None
    user_type: Lenient[str] = None


class S3ObjectDetail(Block):
    key: Lenient[str] = None
    version_id: Lenient[str] = None
    e_tag: Lenient[str] = None
    hash: Lenient[str] = None


class Owner(Block):
    id: Lenient[str] = None


class PublicAccess(Block):
    effective_permission: Lenient[str] = None


class ServerSideEncryption(Block):
    encryption_type: Lenient[str] = None
    kms_master_key_arn: Lenient[str] = None


class S3BucketDetail(Block):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    type: Lenient[str] = None
    owner: Lenient[Owner] = None
    public_access: Lenient[PublicAccess] = None
    default_server_side_encryption: Lenient[ServerSideEncryption] = None
    s3_object_details: Lenient[list[S3ObjectDetail]] = None
    tags: Lenient[list[Tag]] = None


class EksClusterDetails(Block):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    status: Lenient[str] = None
    vpc_id: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class KubernetesUserDetails(Block):
    username: Lenient[str] = None
    groups: Lenient[list[str]] = None


class SecurityContext(Block):
    privileged: Lenient[bool] = None


class VolumeMount(Block):
    name: Lenient[str] = None
    mount_path: Lenient[str] = None


class ContainerDetails(Block):
    id: Lenient[str] = None
    name: Lenient[str] = None
    image: Lenient[str] = None
    container_runtime: Lenient[str] = None
    security_context: Lenient[SecurityContext] = None
    volume_mounts: Lenient[list[VolumeMount]] = None


class HostPath(Block):
    path: Lenient[str] = None


class Volume(Block):
    name: Lenient[str] = None
    host_path: Lenient[HostPath] = None


class KubernetesWorkloadDetails(Block):
    name: Lenient[str] = None
    type: Lenient[str] = None
    namespace: Lenient[str] = None
    service_account_name: Lenient[str] = None
    host_network: Lenient[bool] = None
    containers: Lenient[list[ContainerDetails]] = None
    volumes: Lenient[list[Volume]] = None


class KubernetesDetails(Block):
    kubernetes_user_details: Lenient[KubernetesUserDetails] = None
    kubernetes_workload_details: Lenient[KubernetesWorkloadDetails] = None


class TaskDetails(Block):
    arn: Lenient[str] = None
    definition_arn: Lenient[str] = None
    version: Lenient[str] = None
    started_by: Lenient[str] = None
    launch_type: Lenient[str] = None
    containers: Lenient[list[ContainerDetails]] = None
    volumes: Lenient[list[Volume]] = None


class EcsClusterDetails(Block):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    status: Lenient[str] = None
    task_details: Lenient[TaskDetails] = None
    tags: Lenient[list[Tag]] = None


class VpcConfig(Block):
    vpc_id: Lenient[str] = None
    subnet_ids: Lenient[list[str]] = None
    security_groups: Lenient[list[SecurityGroup]] = None


class LambdaDetails(Block):
    function_name: Lenient[str] = None
    function_arn: Lenient[str] = None
    function_version: Lenient[str] = None
    revision_id: Lenient[str] = None
    role: Lenient[str] = None
    last_modified_at: Lenient[Instant] = None
    vpc_config: Lenient[VpcConfig] = None
    tags: Lenient[list[Tag]] = None


class RdsDbInstanceDetails(Block):
    db_instance_identifier: Lenient[str] = None
    db_cluster_identifier: Lenient[str] = None
    db_instance_arn: Lenient[str] = None
    engine: Lenient[str] = None
    engine_version: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class RdsLimitlessDbDetails(Block):
    db_shard_group_identifier: Lenient[str] = None
    db_shard_group_resource_id: Lenient[str] = None
    db_shard_group_arn: Lenient[str] = None
    db_cluster_identifier: Lenient[str] = None
    engine: Lenient[str] = None
    engine_version: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class RdsDbUserDetails(Block):
    user: Lenient[str] = None
    application: Lenient[str] = None
    database: Lenient[str] = None
    ssl: Lenient[str] = None
    auth_method: Lenient[str] = None


class VolumeDetail(Model):
    volume_arn: Lenient[str] = None
    volume_type: Lenient[str] = None
    device_name: Lenient[str] = None
    volume_size_in_gb: Lenient[int] = Field(
        None, validation_alias=AliasChoices("volumeSizeInGB", "volumeSizeInGb", "volume_size_in_gb")
    )
    encryption_type: Lenient[str] = None
    snapshot_arn: Lenient[str] = None
    kms_key_arn: Lenient[str] = None


class EbsVolumeDetails(Block):
    scanned_volume_details: Lenient[list[VolumeDetail]] = None
    skipped_volume_details: Lenient[list[VolumeDetail]] = None


class EbsSnapshotDetails(Block):
    snapshot_arn: Lenient[str] = None


class Ec2ImageDetails(Block):
    image_arn: Lenient[str] = None


class ContinuousScanDetails(Block):
    start_time: Lenient[Instant] = None
    end_time: Lenient[Instant] = None


class RecoveryPointDetails(Block):
    recovery_point_arn: Lenient[str] = None
    backup_vault_name: Lenient[str] = None
    continuous_scan_details: Lenient[ContinuousScanDetails] = None


class ModelDetail(Block):
    model_id: Lenient[str] = None


class Guardrail(Block):
    arn: Lenient[str] = None
    version: Lenient[str] = None


class ContentPolicyFilter(Block):
    type: Lenient[str] = None
    confidence: Lenient[str] = None
    action: Lenient[str] = None


class BedrockGuardrailDetails(Block):
    guardrails: Lenient[list[Guardrail]] = None
    guardrail_arn: Lenient[str] = None  # deprecated by GuardDuty in favour of ``guardrails``
    guardrail_version: Lenient[str] = None
    guardrail_action: Lenient[str] = None
    guardrail_source: Lenient[str] = None
    content_policy_filters: Lenient[list[ContentPolicyFilter]] = None


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
    rds_limitless_db_details: Lenient[RdsLimitlessDbDetails] = None
    rds_db_user_details: Lenient[RdsDbUserDetails] = None
    ebs_volume_details: Lenient[EbsVolumeDetails] = None
    # AI Protection: the model invoked and the guardrail that judged it
    model_details: Lenient[list[ModelDetail]] = None
    bedrock_guardrail_details: Lenient[BedrockGuardrailDetails] = None
    # Malware Protection for AWS Backup: the scanned artefact
    ebs_snapshot_details: Lenient[EbsSnapshotDetails] = None
    ec2_image_details: Lenient[Ec2ImageDetails] = None
    recovery_point_details: Lenient[RecoveryPointDetails] = None
