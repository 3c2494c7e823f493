"""The ``service`` block of a finding: the action, evidence, Runtime Monitoring details,
attack-sequence detection and malware scans (see ``models`` for the leniency rules)."""

import json
from typing import Any

from pydantic import AliasChoices, Field

from responder.domain.limits import too_deep
from responder.domain.model_base import Lenient, Model

# --- remote endpoints -------------------------------------------------------


class City(Model):
    city_name: Lenient[str] = None


class Country(Model):
    country_code: Lenient[str] = None
    country_name: Lenient[str] = None


class Organization(Model):
    asn: Lenient[str] = None
    asn_org: Lenient[str] = None
    isp: Lenient[str] = None
    org: Lenient[str] = None


class IpDetails(Model):
    ip_address_v4: Lenient[str] = None
    ip_address_v6: Lenient[str] = None
    city: Lenient[City] = None
    country: Lenient[Country] = None
    organization: Lenient[Organization] = None


class PortDetails(Model):
    port: Lenient[int] = None
    port_name: Lenient[str] = None


class DomainDetails(Model):
    domain: Lenient[str] = None


class RemoteAccountDetails(Model):
    account_id: Lenient[str] = None
    affiliated: Lenient[bool] = None


# --- service.action ---------------------------------------------------------


class NetworkConnectionAction(Model):
    connection_direction: Lenient[str] = None
    protocol: Lenient[str] = None
    blocked: Lenient[bool] = None
    local_ip_details: Lenient[IpDetails] = None
    local_port_details: Lenient[PortDetails] = None
    remote_ip_details: Lenient[IpDetails] = None
    remote_port_details: Lenient[PortDetails] = None


class PortProbeDetail(Model):
    local_port_details: Lenient[PortDetails] = None
    local_ip_details: Lenient[IpDetails] = None
    remote_ip_details: Lenient[IpDetails] = None


class PortProbeAction(Model):
    blocked: Lenient[bool] = None
    port_probe_details: Lenient[list[PortProbeDetail]] = None


class DnsRequestAction(Model):
    domain: Lenient[str] = None
    protocol: Lenient[str] = None
    blocked: Lenient[bool] = None
    domain_with_suffix: Lenient[str] = None
    vpc_owner_account_id: Lenient[str] = None


class AwsApiCallAction(Model):
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


class LoginAttribute(Model):
    user: Lenient[str] = None
    application: Lenient[str] = None
    failed_login_attempts: Lenient[int] = None
    successful_login_attempts: Lenient[int] = None


class RdsLoginAttemptAction(Model):
    remote_ip_details: Lenient[IpDetails] = None
    login_attributes: Lenient[list[LoginAttribute]] = Field(
        None, validation_alias=AliasChoices("LoginAttributes", "loginAttributes", "login_attributes")
    )


class KubernetesPermissionCheckedDetails(Model):
    verb: Lenient[str] = None
    resource: Lenient[str] = None
    namespace: Lenient[str] = None
    allowed: Lenient[bool] = None


class KubernetesRoleBindingDetails(Model):
    kind: Lenient[str] = None
    name: Lenient[str] = None
    role_ref_name: Lenient[str] = None
    role_ref_kind: Lenient[str] = None


class KubernetesRoleDetails(Model):
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


class ThreatIntelligenceDetail(Model):
    threat_list_name: Lenient[str] = None
    threat_names: Lenient[list[str]] = None


class Evidence(Model):
    threat_intelligence_details: Lenient[list[ThreatIntelligenceDetail]] = None


class Process(Model):
    name: Lenient[str] = None
    executable_path: Lenient[str] = None
    executable_sha256: Lenient[str] = None
    pid: Lenient[int] = None
    pwd: Lenient[str] = None
    user: Lenient[str] = None
    lineage: Lenient[list[dict[str, Any]]] = None


class RuntimeContext(Model):
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


class RuntimeDetails(Model):
    process: Lenient[Process] = None
    context: Lenient[RuntimeContext] = None


class SequenceSignal(Model):
    name: Lenient[str] = None
    type: Lenient[str] = None
    description: Lenient[str] = None
    count: Lenient[int] = None


class SequenceIndicator(Model):
    key: Lenient[str] = None
    values: Lenient[list[str]] = None
    title: Lenient[str] = None


class SequenceResource(Model):
    uid: Lenient[str] = None
    name: Lenient[str] = None
    resource_type: Lenient[str] = None


class Sequence(Model):
    uid: Lenient[str] = None
    description: Lenient[str] = None
    signals: Lenient[list[SequenceSignal]] = None
    sequence_indicators: Lenient[list[SequenceIndicator]] = None
    resources: Lenient[list[SequenceResource]] = None


class Detection(Model):
    sequence: Lenient[Sequence] = None


class ThreatName(Model):
    name: Lenient[str] = None
    severity: Lenient[str] = None
    item_count: Lenient[int] = None


class ThreatDetectedByName(Model):
    threat_names: Lenient[list[ThreatName]] = None


class ScanDetections(Model):
    threat_detected_by_name: Lenient[ThreatDetectedByName] = None


class EbsVolumeScanDetails(Model):
    scan_id: Lenient[str] = None
    trigger_finding_id: Lenient[str] = None
    scan_detections: Lenient[ScanDetections] = None


class MalwareThreat(Model):
    name: Lenient[str] = None
    count: Lenient[int] = None


class MalwareScanDetails(Model):
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
