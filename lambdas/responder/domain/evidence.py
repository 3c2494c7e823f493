"""What happened: the action (connection, probe, DNS, API call, ...) and the evidence (threat
intelligence, Runtime Monitoring process and context, attack sequences, malware scans) as facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from responder.domain.facts import MAX_LIST_ITEMS, Fact, Msg, labelled
from responder.domain.service_models import (
    Action,
    AwsApiCallAction,
    DnsRequestAction,
    IpDetails,
    KubernetesApiCallAction,
    KubernetesPermissionCheckedDetails,
    KubernetesRoleBindingDetails,
    KubernetesRoleDetails,
    NetworkConnectionAction,
    PortDetails,
    PortProbeAction,
    RdsLoginAttemptAction,
    Service,
)

KNOWN_DIRECTIONS: Final = ("INBOUND", "OUTBOUND", "UNKNOWN")
# Runtime context keys whose value is a file path (shown like the executable's path).
PATH_CONTEXT_KEYS: Final = frozenset(
    {"scriptPath", "libraryPath", "releaseAgentPath", "mountSource", "mountTarget", "threatFilePath", "filePath"}
)


def connection_direction(block: NetworkConnectionAction | None) -> str | None:
    if block is None or block.connection_direction is None:
        return None
    value = block.connection_direction.upper()
    return value if value in KNOWN_DIRECTIONS else "UNKNOWN"


def _ip(details: IpDetails | None) -> str | None:
    if details is None:
        return None
    return details.ip_address_v4 or details.ip_address_v6


def _port(details: PortDetails | None) -> str | None:
    if details is None or details.port is None:
        return None
    return f"{details.port} ({details.port_name})" if details.port_name else str(details.port)


def _remote_facts(details: IpDetails | None) -> tuple[Fact, ...]:
    if details is None:
        return ()
    org = details.organization
    return labelled(
        ("f.remote_ip", _ip(details)),
        ("f.country", details.country.country_name or details.country.country_code if details.country else None),
        ("f.city", details.city.city_name if details.city else None),
        ("f.organization", (org.asn_org or org.org or org.isp) if org else None),
        ("f.asn", org.asn if org else None),
        ioc=("f.remote_ip",),
    )


def _network_facts(net: NetworkConnectionAction) -> tuple[Fact, ...]:
    direction = connection_direction(net)
    return labelled(
        ("f.direction", Msg(f"dir.{direction}") if direction else None),
        ("f.protocol", net.protocol),
        ("f.blocked", net.blocked),
        ("f.local_ip", _ip(net.local_ip_details)),
        ("f.local_port", _port(net.local_port_details)),
        ("f.remote_port", _port(net.remote_port_details)),
    ) + _remote_facts(net.remote_ip_details)


def _port_probe_facts(probe: PortProbeAction) -> tuple[Fact, ...]:
    details = probe.port_probe_details or []
    ports = list(dict.fromkeys(p for d in details if (p := _port(d.local_port_details))))
    sources = list(dict.fromkeys(ip for d in details if (ip := _ip(d.remote_ip_details))))
    return labelled(
        ("f.blocked", probe.blocked),
        ("f.local_ip", _ip(details[0].local_ip_details) if details else None),
        ("f.probed_ports", ports),
        ("f.probe_sources", sources),
        ioc=("f.probe_sources",),
    ) + _remote_facts(details[0].remote_ip_details if details else None)


def _dns_facts(dns: DnsRequestAction) -> tuple[Fact, ...]:
    return labelled(
        ("f.domain", dns.domain), ("f.protocol", dns.protocol), ("f.blocked", dns.blocked), ioc=("f.domain",)
    )


def _api_call_facts(api: AwsApiCallAction) -> tuple[Fact, ...]:
    remote_account = api.remote_account_details
    return labelled(
        ("f.api", api.api),
        ("f.service", api.service_name),
        ("f.caller_type", api.caller_type),
        ("f.error_code", api.error_code),
        ("f.user_agent", api.user_agent),
        ("f.domain", api.domain_details.domain if api.domain_details else None),
        ("f.remote_account", remote_account.account_id if remote_account else None),
        ("f.affected_resources", [f"{k}: {v}" for k, v in (api.affected_resources or {}).items()]),
        ioc=("f.domain",),
    ) + _remote_facts(api.remote_ip_details)


def _kubernetes_api_facts(k8s: KubernetesApiCallAction) -> tuple[Fact, ...]:
    return labelled(
        ("f.verb", k8s.verb),
        ("f.request_uri", k8s.request_uri),
        ("f.namespace", k8s.namespace),
        ("f.status_code", k8s.status_code),
        ("f.user_agent", k8s.user_agent),
        ("f.source_ips", k8s.source_ips),
        ioc=("f.source_ips",),
    ) + _remote_facts(k8s.remote_ip_details)


def _rds_login_facts(rds: RdsLoginAttemptAction) -> tuple[Fact, ...]:
    logins = [
        f"{a.user or '?'} / {a.application or '?'}: {a.failed_login_attempts or 0} / {a.successful_login_attempts or 0}"
        for a in rds.login_attributes or []
    ]
    return labelled(("f.login_result", logins)) + _remote_facts(rds.remote_ip_details)


def _permission_checked_facts(perm: KubernetesPermissionCheckedDetails) -> tuple[Fact, ...]:
    return labelled(("f.verb", perm.verb), ("f.namespace", perm.namespace), ("f.allowed", perm.allowed))


def _role_binding_facts(binding: KubernetesRoleBindingDetails) -> tuple[Fact, ...]:
    role_ref = f"{binding.role_ref_kind or ''} {binding.role_ref_name or ''}".strip()
    return labelled(("f.role_binding", binding.name), ("f.role", role_ref or None))


def _role_facts(role: KubernetesRoleDetails) -> tuple[Fact, ...]:
    return labelled(("f.role", f"{role.kind or ''} {role.name or ''}".strip() or None))


# The detail block of each action kind and how to read it; the first present block wins.
_ACTION_BLOCKS: Final[tuple[tuple[str, Callable[[Any], tuple[Fact, ...]]], ...]] = (
    ("network_connection_action", _network_facts),
    ("port_probe_action", _port_probe_facts),
    ("dns_request_action", _dns_facts),
    ("aws_api_call_action", _api_call_facts),
    ("kubernetes_api_call_action", _kubernetes_api_facts),
    ("rds_login_attempt_action", _rds_login_facts),
    ("kubernetes_permission_checked_details", _permission_checked_facts),
    ("kubernetes_role_binding_details", _role_binding_facts),
    ("kubernetes_role_details", _role_facts),
)


def action_facts(action: Action, action_type: str | None) -> tuple[Fact, ...]:
    head = labelled(("f.action_type", action_type))
    for attribute, read in _ACTION_BLOCKS:
        block = getattr(action, attribute)
        if block is not None:
            return head + read(block)
    return head


def evidence_facts(service: Service) -> tuple[Fact, ...]:
    facts: tuple[Fact, ...] = ()
    for intel in ((service.evidence.threat_intelligence_details or []) if service.evidence else [])[:MAX_LIST_ITEMS]:
        facts += labelled(("f.threat_list", intel.threat_list_name), ("f.threat_names", intel.threat_names))
    runtime = service.runtime_details
    if runtime is not None:
        proc = runtime.process
        if proc is not None:
            lineage = [
                str(entry.get("executablePath") or entry.get("name") or entry.get("pid") or "?")
                for entry in proc.lineage or []
            ]
            facts += labelled(
                ("f.process", f"{proc.name or '?'} (pid {proc.pid})" if proc.pid is not None else proc.name),
                ("f.executable", proc.executable_path),
                ("f.executable_sha256", proc.executable_sha256),
                ("f.process_user", proc.user),
                ("f.lineage", lineage),
                paths=("f.executable", "f.lineage"),
            )
        ctx = runtime.context
        if ctx is not None:
            shown = {k: v for k, v in ctx.model_dump(exclude_none=True, by_alias=True).items() if isinstance(v, str)}
            # Path-valued keys (scriptPath ...) apart from the rest (a command line is not a path).
            files = [f"{k}={v}" for k, v in shown.items() if k in PATH_CONTEXT_KEYS]
            others = [f"{k}={v}" for k, v in shown.items() if k not in PATH_CONTEXT_KEYS]
            facts += labelled(("f.runtime_context", files), paths=("f.runtime_context",))
            facts += labelled(("f.runtime_context", others))
    sequence = service.detection.sequence if service.detection else None
    if sequence is not None:
        facts += labelled(
            ("f.sequence_signals", [f"{s.name or s.type or '?'} ({s.count or 1})" for s in sequence.signals or []]),
            (
                "f.sequence_indicators",
                [f"{i.key or '?'}: {', '.join(i.values or [])}" for i in sequence.sequence_indicators or []],
            ),
            (
                "f.sequence_resources",
                [f"{r.resource_type or '?'} {r.name or r.uid or ''}".strip() for r in sequence.resources or []],
            ),
        )
    threats: list[str] = []
    scan = service.ebs_volume_scan_details
    if scan is not None and scan.scan_detections and scan.scan_detections.threat_detected_by_name:
        for threat in scan.scan_detections.threat_detected_by_name.threat_names or []:
            threats.append(f"{threat.name or '?'} ({threat.severity or '?'}, {threat.item_count or 0})")
    if service.malware_scan_details is not None:
        threats += [f"{t.name or '?'} (?, {t.count or 1})" for t in service.malware_scan_details.threats or []]
    facts += labelled(
        ("f.detected_threats", threats),
        ("f.scan_trigger", scan.trigger_finding_id if scan else None),
    )
    return facts
