"""The ``service`` block of a finding: the action, evidence, Runtime Monitoring details,
attack-sequence detection and malware scans (see ``models`` for the leniency rules)."""

import json
from typing import Any

from pydantic import AliasChoices, Field

from responder.domain.limits import too_deep
from responder.domain.model_base import Block, Instant, Lenient, Model

# --- remote endpoints -------------------------------------------------------


class City(Block):
    city_name: Lenient[str] = None


class Country(Block):
    country_code: Lenient[str] = None
    country_name: Lenient[str] = None


class Organization(Block):
    asn: Lenient[str] = None
    asn_org: Lenient[str] = None
    isp: Lenient[str] = None
    org: Lenient[str] = None


class IpDetails(Block):
    ip_address_v4: Lenient[str] = None
    ip_address_v6: Lenient[str] = None
    city: Lenient[City] = None
    country: Lenient[Country] = None
    organization: Lenient[Organization] = None


class PortDetails(Block):
    port: Lenient[int] = None
    port_name: Lenient[str] = None


class DomainDetails(Block):
    domain: Lenient[str] = None


class RemoteAccountDetails(Block):
    account_id: Lenient[str] = None
    affiliated: Lenient[bool] = None


# --- service.action ---------------------------------------------------------


class NetworkConnectionAction(Block):
    connection_direction: Lenient[str] = None
    protocol: Lenient[str] = None
    blocked: Lenient[bool] = None
    local_ip_details: Lenient[IpDetails] = None
    local_port_details: Lenient[PortDetails] = None
    remote_ip_details: Lenient[IpDetails] = None
    remote_port_details: Lenient[PortDetails] = None


class PortProbeDetail(Block):
    local_port_details: Lenient[PortDetails] = None
    local_ip_details: Lenient[IpDetails] = None
    remote_ip_details: Lenient[IpDetails] = None


class PortProbeAction(Block):
    blocked: Lenient[bool] = None
    port_probe_details: Lenient[list[PortProbeDetail]] = None


class DnsRequestAction(Block):
    domain: Lenient[str] = None
    protocol: Lenient[str] = None
    blocked: Lenient[bool] = None
    domain_with_suffix: Lenient[str] = None
    vpc_owner_account_id: Lenient[str] = None


class AwsApiCallAction(Block):
    api: Lenient[str] = None
    service_name: Lenient[str] = None
    caller_type: Lenient[str] = None
    error_code: Lenient[str] = None
    user_agent: Lenient[str] = None
    remote_ip_details: Lenient[IpDetails] = None
    domain_details: Lenient[DomainDetails] = None
    remote_account_details: Lenient[RemoteAccountDetails] = None
    affected_resources: Lenient[dict[str, str]] = None


class KubernetesApiCallAction(Model):
    request_uri: Lenient[str] = None
    verb: Lenient[str] = None
    resource: Lenient[str] = None
    subresource: Lenient[str] = None
    namespace: Lenient[str] = None
    resource_name: Lenient[str] = None
    source_ips: Lenient[list[str]] = Field(None, validation_alias=AliasChoices("sourceIPs", "sourceIps", "source_ips"))
    user_agent: Lenient[str] = None
    remote_ip_details: Lenient[IpDetails] = None
    status_code: Lenient[int] = None


class LoginAttribute(Block):
    user: Lenient[str] = None
    application: Lenient[str] = None
    failed_login_attempts: Lenient[int] = None
    successful_login_attempts: Lenient[int] = None


class RdsLoginAttemptAction(Model):
    remote_ip_details: Lenient[IpDetails] = None
    login_attributes: Lenient[list[LoginAttribute]] = Field(
        None, validation_alias=AliasChoices("LoginAttributes", "loginAttributes", "login_attributes")
    )


class KubernetesPermissionCheckedDetails(Block):
    verb: Lenient[str] = None
    resource: Lenient[str] = None
    namespace: Lenient[str] = None
    allowed: Lenient[bool] = None


class KubernetesRoleBindingDetails(Block):
    kind: Lenient[str] = None
    name: Lenient[str] = None
    role_ref_name: Lenient[str] = None
    role_ref_kind: Lenient[str] = None


class KubernetesRoleDetails(Block):
    kind: Lenient[str] = None
    name: Lenient[str] = None


class Action(Model):
    action_type: Lenient[str] = None
    network_connection_action: Lenient[NetworkConnectionAction] = None
    port_probe_action: Lenient[PortProbeAction] = None
    dns_request_action: Lenient[DnsRequestAction] = None
    aws_api_call_action: Lenient[AwsApiCallAction] = None
    kubernetes_api_call_action: Lenient[KubernetesApiCallAction] = None
    rds_login_attempt_action: Lenient[RdsLoginAttemptAction] = None
    kubernetes_permission_checked_details: Lenient[KubernetesPermissionCheckedDetails] = None
    kubernetes_role_binding_details: Lenient[KubernetesRoleBindingDetails] = None
    kubernetes_role_details: Lenient[KubernetesRoleDetails] = None


# --- service evidence for findings without an action ------------------------


class ThreatIntelligenceDetail(Block):
    threat_list_name: Lenient[str] = None
    threat_names: Lenient[list[str]] = None
    threat_file_sha256: Lenient[str] = None


class Evidence(Block):
    threat_intelligence_details: Lenient[list[ThreatIntelligenceDetail]] = None


class LineageEntry(Block):
    name: Lenient[str] = None
    executable_path: Lenient[str] = None
    pid: Lenient[int] = None
    namespace_pid: Lenient[int] = None
    uuid: Lenient[str] = None
    parent_uuid: Lenient[str] = None
    user_id: Lenient[int] = None
    euid: Lenient[int] = None


class Process(Block):
    """``runtimeDetails.process`` and the processes of its context (``ProcessDetails``)."""

    name: Lenient[str] = None
    executable_path: Lenient[str] = None
    executable_sha256: Lenient[str] = None
    pid: Lenient[int] = None
    namespace_pid: Lenient[int] = None
    uuid: Lenient[str] = None
    parent_uuid: Lenient[str] = None
    pwd: Lenient[str] = None
    user: Lenient[str] = None
    user_id: Lenient[int] = None
    euid: Lenient[int] = None
    start_time: Lenient[Instant] = None
    lineage: Lenient[list[LineageEntry]] = None


class RuntimeContext(Block):
    """Every documented ``runtimeDetails.context`` field (GuardDuty API RuntimeContext)."""

    modifying_process: Lenient[Process] = None
    modified_at: Lenient[Instant] = None
    script_path: Lenient[str] = None
    library_path: Lenient[str] = None
    ld_preload_value: Lenient[str] = None
    socket_path: Lenient[str] = None
    runc_binary_path: Lenient[str] = None
    release_agent_path: Lenient[str] = None
    mount_source: Lenient[str] = None
    mount_target: Lenient[str] = None
    file_system_type: Lenient[str] = None
    flags: Lenient[list[str]] = None
    module_name: Lenient[str] = None
    module_file_path: Lenient[str] = None
    module_sha256: Lenient[str] = None
    shell_history_file_path: Lenient[str] = None
    target_process: Lenient[Process] = None
    address_family: Lenient[str] = None
    iana_protocol_number: Lenient[int] = None
    memory_regions: Lenient[list[str]] = None
    tool_name: Lenient[str] = None
    tool_category: Lenient[str] = None
    service_name: Lenient[str] = None
    command_line_example: Lenient[str] = None
    threat_file_path: Lenient[str] = None
    file_operation: Lenient[str] = None
    file_path: Lenient[str] = None
    related_file_paths: Lenient[list[str]] = None


class RuntimeDetails(Block):
    process: Lenient[Process] = None
    context: Lenient[RuntimeContext] = None


# --- attack sequences (Extended Threat Detection) ---------------------------


class ActorAccount(Block):
    uid: Lenient[str] = None


class ActorUser(Block):
    name: Lenient[str] = None
    uid: Lenient[str] = None
    type: Lenient[str] = None
    credential_uid: Lenient[str] = None
    account: Lenient[ActorAccount] = None


class ActorSession(Block):
    uid: Lenient[str] = None
    mfa_status: Lenient[str] = None
    issuer: Lenient[str] = None


class ActorProcess(Block):
    name: Lenient[str] = None
    path: Lenient[str] = None
    sha256: Lenient[str] = None


class Actor(Block):
    id: Lenient[str] = None
    user: Lenient[ActorUser] = None
    session: Lenient[ActorSession] = None
    process: Lenient[ActorProcess] = None


class EndpointLocation(Block):
    city: Lenient[str] = None
    country: Lenient[str] = None


class AutonomousSystem(Block):
    name: Lenient[str] = None
    number: Lenient[int] = None


class EndpointConnection(Block):
    direction: Lenient[str] = None


class Endpoint(Block):
    id: Lenient[str] = None
    ip: Lenient[str] = None
    domain: Lenient[str] = None
    port: Lenient[int] = None
    location: Lenient[EndpointLocation] = None
    autonomous_system: Lenient[AutonomousSystem] = None
    connection: Lenient[EndpointConnection] = None


class SequenceSignal(Block):
    uid: Lenient[str] = None
    name: Lenient[str] = None
    type: Lenient[str] = None
    description: Lenient[str] = None
    severity: Lenient[float] = None
    count: Lenient[int] = None
    first_seen_at: Lenient[Instant] = None
    last_seen_at: Lenient[Instant] = None
    resource_uids: Lenient[list[str]] = None
    actor_ids: Lenient[list[str]] = None
    endpoint_ids: Lenient[list[str]] = None


class SequenceIndicator(Block):
    key: Lenient[str] = None
    values: Lenient[list[str]] = None
    title: Lenient[str] = None


class MemberInstances(Block):
    """A ResourceV2 data block that groups instances (Auto Scaling group, stack, image, ...)."""

    ec2_instance_uids: Lenient[list[str]] = None
    version: Lenient[str] = None  # a launch template's


class ClusterData(Block):
    arn: Lenient[str] = None
    status: Lenient[str] = None
    vpc_id: Lenient[str] = None
    ec2_instance_uids: Lenient[list[str]] = None


class EcsTaskData(Block):
    task_definition_arn: Lenient[str] = None
    launch_type: Lenient[str] = None
    container_uids: Lenient[list[str]] = None


class WorkloadData(Block):
    namespace: Lenient[str] = None
    type: Lenient[str] = None
    container_uids: Lenient[list[str]] = None


class ContainerData(Block):
    image: Lenient[str] = None
    image_uid: Lenient[str] = None


class InstanceData(Block):
    instance_type: Lenient[str] = None
    instance_state: Lenient[str] = None
    availability_zone: Lenient[str] = None


class ResourceData(Block):
    autoscaling_auto_scaling_group: Lenient[MemberInstances] = None
    cloudformation_stack: Lenient[MemberInstances] = None
    ec2_image: Lenient[MemberInstances] = None
    ec2_launch_template: Lenient[MemberInstances] = None
    ec2_vpc: Lenient[MemberInstances] = None
    iam_instance_profile: Lenient[MemberInstances] = None
    eks_cluster: Lenient[ClusterData] = None
    ecs_cluster: Lenient[ClusterData] = None
    ecs_task: Lenient[EcsTaskData] = None
    kubernetes_workload: Lenient[WorkloadData] = None
    container: Lenient[ContainerData] = None
    ec2_instance: Lenient[InstanceData] = None


class SequenceResource(Block):
    uid: Lenient[str] = None
    name: Lenient[str] = None
    resource_type: Lenient[str] = None
    region: Lenient[str] = None
    data: Lenient[ResourceData] = None


class Sequence(Block):
    uid: Lenient[str] = None
    description: Lenient[str] = None
    actors: Lenient[list[Actor]] = None
    resources: Lenient[list[SequenceResource]] = None
    endpoints: Lenient[list[Endpoint]] = None
    signals: Lenient[list[SequenceSignal]] = None
    sequence_indicators: Lenient[list[SequenceIndicator]] = None
    additional_sequence_types: Lenient[list[str]] = None


class Detection(Block):
    sequence: Lenient[Sequence] = None


# --- malware scans ----------------------------------------------------------


class ThreatFilePath(Block):
    file_path: Lenient[str] = None
    file_name: Lenient[str] = None
    volume_arn: Lenient[str] = None
    hash: Lenient[str] = None


class ThreatName(Block):
    name: Lenient[str] = None
    severity: Lenient[str] = None
    item_count: Lenient[int] = None
    file_paths: Lenient[list[ThreatFilePath]] = None


class ThreatDetectedByName(Block):
    item_count: Lenient[int] = None
    unique_threat_name_count: Lenient[int] = None
    shortened: Lenient[bool] = None
    threat_names: Lenient[list[ThreatName]] = None


class ScannedItemCount(Block):
    total_gb: Lenient[int] = None
    files: Lenient[int] = None
    volumes: Lenient[int] = None


class ScanDetections(Block):
    scanned_item_count: Lenient[ScannedItemCount] = None
    threat_detected_by_name: Lenient[ThreatDetectedByName] = None


class EbsVolumeScanDetails(Block):
    scan_id: Lenient[str] = None
    scan_type: Lenient[str] = None
    scan_started_at: Lenient[Instant] = None
    scan_completed_at: Lenient[Instant] = None
    trigger_finding_id: Lenient[str] = None
    sources: Lenient[list[str]] = None
    scan_detections: Lenient[ScanDetections] = None


class ItemPath(Block):
    nested_item_path: Lenient[str] = None
    hash: Lenient[str] = None


class ItemAdditionalInfo(Block):
    version_id: Lenient[str] = None
    device_name: Lenient[str] = None


class ItemDetail(Block):
    resource_arn: Lenient[str] = None
    item_path: Lenient[str] = None
    hash: Lenient[str] = None
    additional_info: Lenient[ItemAdditionalInfo] = None


class MalwareThreat(Block):
    name: Lenient[str] = None
    source: Lenient[str] = None
    count: Lenient[int] = None
    hash: Lenient[str] = None
    item_paths: Lenient[list[ItemPath]] = None
    item_details: Lenient[list[ItemDetail]] = None


class IncrementalScanDetails(Block):
    baseline_resource_arn: Lenient[str] = None


class ScanConfiguration(Block):
    trigger_type: Lenient[str] = None
    incremental_scan_details: Lenient[IncrementalScanDetails] = None


class MalwareScanDetails(Block):
    scan_id: Lenient[str] = None
    scan_type: Lenient[str] = None
    scan_category: Lenient[str] = None
    scan_configuration: Lenient[ScanConfiguration] = None
    unique_threat_count: Lenient[int] = None
    threats: Lenient[list[MalwareThreat]] = None


class Service(Model):
    action: Lenient[Action] = None
    evidence: Lenient[Evidence] = None
    archived: Lenient[bool] = None
    count: Lenient[int] = None
    detector_id: Lenient[str] = None
    event_first_seen: Lenient[str] = None
    event_last_seen: Lenient[str] = None
    resource_role: Lenient[str] = None
    feature_name: Lenient[str] = None
    additional_info: Lenient[dict[str, Any]] = None
    runtime_details: Lenient[RuntimeDetails] = None
    detection: Lenient[Detection] = None
    ebs_volume_scan_details: Lenient[EbsVolumeScanDetails] = None
    malware_scan_details: Lenient[MalwareScanDetails] = None

    @property
    def is_sample(self) -> bool:
        """True for findings made by CreateSampleFindings (``additionalInfo.sample``)."""
        info = self.additional_info or {}
        if info.get("sample") is True:
            return True
        raw = info.get("value")
        if isinstance(raw, str) and '"sample"' in raw:
            try:
                parsed = json.loads(raw)
            except (ValueError, RecursionError):  # json recurses: a deeply nested string is not GuardDuty's
                return False
            return isinstance(parsed, dict) and parsed.get("sample") is True and not too_deep(parsed)
        return False
