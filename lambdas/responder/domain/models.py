"""Typed models of the GuardDuty EventBridge event and of the finding it carries.

GuardDuty adds finding families every year and public samples are often trimmed, so
the models are strict only on what the product cannot work without (``id``, ``type``,
``severity``, ``accountId``, ``region``). Every other field is optional, extra fields
are ignored, and an optional field whose value has an unexpected shape is dropped
(``Lenient``) rather than failing the whole alert.

Annotations are evaluated when each class is defined (no ``from __future__ import
annotations``): pydantic would otherwise evaluate each of the ~250 field annotations from its
string, a sixth of what building these models costs at cold start.
"""

import json
import math
from typing import Annotated, Any, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, StrictFloat, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

from responder.domain.limits import too_deep

T = TypeVar("T")


class _NoneOnError:
    """Keep a malformed optional value from sinking the alert: it becomes ``None``.

    Done in pydantic-core (``on_error="default"``), so leniency costs no Python call.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_default_schema(handler(source), default=None, on_error="default")


# An optional field that degrades to None instead of raising on a bad shape.
Lenient = Annotated[T | None, _NoneOnError()]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


# --- remote endpoints -------------------------------------------------------


class City(_Model):
    city_name: Lenient[str] = None


class Country(_Model):
    country_code: Lenient[str] = None
    country_name: Lenient[str] = None


class Organization(_Model):
    asn: Lenient[str] = None
    asn_org: Lenient[str] = None
    isp: Lenient[str] = None
    org: Lenient[str] = None


class IpDetails(_Model):
    ip_address_v4: Lenient[str] = None
    ip_address_v6: Lenient[str] = None
    city: Lenient[City] = None
    country: Lenient[Country] = None
    organization: Lenient[Organization] = None


class PortDetails(_Model):
    port: Lenient[int] = None
    port_name: Lenient[str] = None


class DomainDetails(_Model):
    domain: Lenient[str] = None


class RemoteAccountDetails(_Model):
    account_id: Lenient[str] = None
    affiliated: Lenient[bool] = None


# --- service.action ---------------------------------------------------------


class NetworkConnectionAction(_Model):
    connection_direction: Lenient[str] = None
    protocol: Lenient[str] = None
    blocked: Lenient[bool] = None
    local_ip_details: Lenient[IpDetails] = None
    local_port_details: Lenient[PortDetails] = None
    remote_ip_details: Lenient[IpDetails] = None
    remote_port_details: Lenient[PortDetails] = None


class PortProbeDetail(_Model):
    local_port_details: Lenient[PortDetails] = None
    local_ip_details: Lenient[IpDetails] = None
    remote_ip_details: Lenient[IpDetails] = None


class PortProbeAction(_Model):
    blocked: Lenient[bool] = None
    port_probe_details: Lenient[list[PortProbeDetail]] = None


class DnsRequestAction(_Model):
    domain: Lenient[str] = None
    protocol: Lenient[str] = None
    blocked: Lenient[bool] = None
    domain_with_suffix: Lenient[str] = None
    vpc_owner_account_id: Lenient[str] = None


class AwsApiCallAction(_Model):
    api: Lenient[str] = None
    service_name: Lenient[str] = None
    caller_type: Lenient[str] = None
    error_code: Lenient[str] = None
    user_agent: Lenient[str] = None
    remote_ip_details: Lenient[IpDetails] = None
    domain_details: Lenient[DomainDetails] = None
    remote_account_details: Lenient[RemoteAccountDetails] = None
    affected_resources: Lenient[dict[str, str]] = None


class KubernetesApiCallAction(_Model):
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


class LoginAttribute(_Model):
    user: Lenient[str] = None
    application: Lenient[str] = None
    failed_login_attempts: Lenient[int] = None
    successful_login_attempts: Lenient[int] = None


class RdsLoginAttemptAction(_Model):
    remote_ip_details: Lenient[IpDetails] = None
    login_attributes: Lenient[list[LoginAttribute]] = Field(
        None, validation_alias=AliasChoices("LoginAttributes", "loginAttributes", "login_attributes")
    )


class KubernetesPermissionCheckedDetails(_Model):
    verb: Lenient[str] = None
    resource: Lenient[str] = None
    namespace: Lenient[str] = None
    allowed: Lenient[bool] = None


class KubernetesRoleBindingDetails(_Model):
    kind: Lenient[str] = None
    name: Lenient[str] = None
    role_ref_name: Lenient[str] = None
    role_ref_kind: Lenient[str] = None


class KubernetesRoleDetails(_Model):
    kind: Lenient[str] = None
    name: Lenient[str] = None


class Action(_Model):
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


class ThreatIntelligenceDetail(_Model):
    threat_list_name: Lenient[str] = None
    threat_names: Lenient[list[str]] = None


class Evidence(_Model):
    threat_intelligence_details: Lenient[list[ThreatIntelligenceDetail]] = None


class Process(_Model):
    name: Lenient[str] = None
    executable_path: Lenient[str] = None
    executable_sha256: Lenient[str] = None
    pid: Lenient[int] = None
    pwd: Lenient[str] = None
    user: Lenient[str] = None
    lineage: Lenient[list[dict[str, Any]]] = None


class RuntimeContext(_Model):
    # Runtime context has dozens of optional keys; keep the ones worth an email line.
    modifying_process: Lenient[dict[str, Any]] = None
    script_path: Lenient[str] = None
    library_path: Lenient[str] = None
    release_agent_path: Lenient[str] = None
    mount_source: Lenient[str] = None
    mount_target: Lenient[str] = None
    module_name: Lenient[str] = None
    tool_name: Lenient[str] = None
    tool_category: Lenient[str] = None
    command_line_example: Lenient[str] = None
    threat_file_path: Lenient[str] = None
    file_path: Lenient[str] = None


class RuntimeDetails(_Model):
    process: Lenient[Process] = None
    context: Lenient[RuntimeContext] = None


class SequenceSignal(_Model):
    name: Lenient[str] = None
    type: Lenient[str] = None
    description: Lenient[str] = None
    count: Lenient[int] = None


class SequenceIndicator(_Model):
    key: Lenient[str] = None
    values: Lenient[list[str]] = None
    title: Lenient[str] = None


class SequenceResource(_Model):
    uid: Lenient[str] = None
    name: Lenient[str] = None
    resource_type: Lenient[str] = None


class Sequence(_Model):
    uid: Lenient[str] = None
    description: Lenient[str] = None
    signals: Lenient[list[SequenceSignal]] = None
    sequence_indicators: Lenient[list[SequenceIndicator]] = None
    resources: Lenient[list[SequenceResource]] = None


class Detection(_Model):
    sequence: Lenient[Sequence] = None


class ThreatName(_Model):
    name: Lenient[str] = None
    severity: Lenient[str] = None
    item_count: Lenient[int] = None


class ThreatDetectedByName(_Model):
    threat_names: Lenient[list[ThreatName]] = None


class ScanDetections(_Model):
    threat_detected_by_name: Lenient[ThreatDetectedByName] = None


class EbsVolumeScanDetails(_Model):
    scan_id: Lenient[str] = None
    trigger_finding_id: Lenient[str] = None
    scan_detections: Lenient[ScanDetections] = None


class MalwareThreat(_Model):
    name: Lenient[str] = None
    count: Lenient[int] = None


class MalwareScanDetails(_Model):
    threats: Lenient[list[MalwareThreat]] = None


class Service(_Model):
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


# --- resource ---------------------------------------------------------------


class Tag(_Model):
    key: Lenient[str] = None
    value: Lenient[str] = None


class SecurityGroup(_Model):
    group_id: Lenient[str] = None
    group_name: Lenient[str] = None


class NetworkInterface(_Model):
    public_ip: Lenient[str] = None
    private_ip_address: Lenient[str] = None
    subnet_id: Lenient[str] = None
    vpc_id: Lenient[str] = None
    security_groups: Lenient[list[SecurityGroup]] = None


class InstanceDetails(_Model):
    instance_id: Lenient[str] = None
    instance_type: Lenient[str] = None
    instance_state: Lenient[str] = None
    image_id: Lenient[str] = None
    platform: Lenient[str] = None
    tags: Lenient[list[Tag]] = None
    network_interfaces: Lenient[list[NetworkInterface]] = None


class AccessKeyDetails(_Model):
    access_key_id: Lenient[str] = None
    principal_id: Lenient[str] = None
    user_name: Lenient[str] = None
    user_type: Lenient[str] = None


class S3ObjectDetail(_Model):
    key: Lenient[str] = None
    version_id: Lenient[str] = None


class S3BucketDetail(_Model):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    type: Lenient[str] = None
    s3_object_details: Lenient[list[S3ObjectDetail]] = None
    tags: Lenient[list[Tag]] = None


class EksClusterDetails(_Model):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class KubernetesUserDetails(_Model):
    username: Lenient[str] = None
    groups: Lenient[list[str]] = None


class KubernetesWorkloadDetails(_Model):
    name: Lenient[str] = None
    type: Lenient[str] = None
    namespace: Lenient[str] = None


class KubernetesDetails(_Model):
    kubernetes_user_details: Lenient[KubernetesUserDetails] = None
    kubernetes_workload_details: Lenient[KubernetesWorkloadDetails] = None


class TaskDetails(_Model):
    arn: Lenient[str] = None
    definition_arn: Lenient[str] = None


class EcsClusterDetails(_Model):
    name: Lenient[str] = None
    arn: Lenient[str] = None
    task_details: Lenient[TaskDetails] = None
    tags: Lenient[list[Tag]] = None


class ContainerDetails(_Model):
    id: Lenient[str] = None
    name: Lenient[str] = None
    image: Lenient[str] = None


class LambdaDetails(_Model):
    function_name: Lenient[str] = None
    function_arn: Lenient[str] = None
    function_version: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class RdsDbInstanceDetails(_Model):
    db_instance_identifier: Lenient[str] = None
    db_cluster_identifier: Lenient[str] = None
    engine: Lenient[str] = None
    tags: Lenient[list[Tag]] = None


class RdsDbUserDetails(_Model):
    user: Lenient[str] = None
    application: Lenient[str] = None
    database: Lenient[str] = None
    auth_method: Lenient[str] = None


class Resource(_Model):
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


# --- finding and event -------------------------------------------------------


class Finding(_Model):
    """One GuardDuty finding (the ``detail`` of a ``GuardDuty Finding`` event)."""

    id: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=300)
    severity: StrictFloat  # a JSON number: ``true`` is not read as 1.0, nor "8" as 8.0
    account_id: str = Field(min_length=1, max_length=64)
    region: str = Field(min_length=1, max_length=64)
    partition: Lenient[str] = None
    arn: Lenient[str] = None
    title: Lenient[str] = None
    description: Lenient[str] = None
    created_at: Lenient[str] = None
    updated_at: Lenient[str] = None
    resource: Lenient[Resource] = None
    service: Lenient[Service] = None

    @field_validator("severity")
    @classmethod
    def _severity_in_range(cls, value: float) -> float:
        if not math.isfinite(value) or not 0.0 <= value <= 10.0:
            raise ValueError("severity must be a number from 0 to 10")
        return value


class GuardDutyEvent(BaseModel):
    """The EventBridge envelope with a typed GuardDuty finding as ``detail``.

    Powertools' ``EventBridgeModel`` with its fields in the same order, written here: only
    source, detail-type and the finding matter, the rest of the envelope is optional (samples
    carry redacted or non-ISO times; emulators omit fields), deliberately looser than that
    model. Importing it would load Powertools' parser utility (about 10 ms at cold start) for a
    base class whose fields are nearly all overridden.
    """

    model_config = ConfigDict(populate_by_name=True)

    version: Lenient[str] = None
    id: Lenient[str] = None
    source: str
    account: Lenient[str] = None
    time: Any = None
    region: Lenient[str] = None
    resources: Lenient[list[str]] = None
    detail_type: str = Field(alias="detail-type")
    detail: Finding
    replay_name: str | None = Field(None, alias="replay-name")
