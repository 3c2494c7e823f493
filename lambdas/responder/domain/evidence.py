"""What happened: the action (connection, probe, DNS, API call, ...) and the evidence (threat
intelligence, Runtime Monitoring process and context, attack sequences, malware scans) as facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from responder.domain import names
from responder.domain.facts import MAX_LIST_ITEMS, Fact, Msg, labelled
from responder.domain.service_models import (
    Action,
    AwsApiCallAction,
    DnsRequestAction,
    EbsVolumeScanDetails,
    IpDetails,
    KubernetesApiCallAction,
    KubernetesPermissionCheckedDetails,
    KubernetesRoleBindingDetails,
    KubernetesRoleDetails,
    LineageEntry,
    MalwareScanDetails,
    NetworkConnectionAction,
    PortDetails,
    PortProbeAction,
    Process,
    RdsLoginAttemptAction,
    RuntimeContext,
    RuntimeDetails,
    Sequence,
    Service,
)

KNOWN_DIRECTIONS: Final = ("INBOUND", "OUTBOUND", "UNKNOWN")
MAX_FILES_PER_THREAT: Final = 5  # file paths shown under each threat (the count says how many more)
# IANA protocol numbers a responder meets in Runtime Monitoring context (ianaProtocolNumber).
IANA_PROTOCOLS: Final[dict[int, str]] = {1: "ICMP", 6: "TCP", 17: "UDP", 41: "IPv6", 58: "ICMPv6", 132: "SCTP"}


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


def process_line(proc: Process | LineageEntry) -> str:
    """What a process entry has: ``name (pid 1; uid 0; euid 0) /path``, or its uuid when it has
    neither name nor path; never a placeholder. The keys are Unix's (pid, uid, euid) or
    GuardDuty's own field names (namespacePid, uuid, parentUuid), the same in every language:
    no English phrase for a Japanese email to carry."""
    ids = [
        f"{key} {value}"
        for key, value in (
            ("pid", proc.pid),
            ("namespacePid", proc.namespace_pid if proc.namespace_pid != proc.pid else None),
            ("uid", proc.user_id),
            ("euid", proc.euid if proc.euid != proc.user_id else None),
        )
        if value is not None
    ]
    user = proc.user if isinstance(proc, Process) else None
    if user:
        ids.insert(0, user)
    head = " ".join(p for p in (proc.name, f"({'; '.join(ids)})" if ids else None, proc.executable_path) if p)
    if proc.name or proc.executable_path:
        return head
    uuid = f"uuid {proc.uuid}" if proc.uuid else f"parentUuid {proc.parent_uuid}" if proc.parent_uuid else None
    return " ".join(p for p in (uuid, head) if p)


def _process_facts(proc: Process) -> tuple[Fact, ...]:
    return labelled(
        (
            "f.process",
            f"{proc.name or proc.executable_path or '-'} (pid {proc.pid})" if proc.pid is not None else proc.name,
        ),
        ("f.executable", proc.executable_path),
        ("f.executable_sha256", proc.executable_sha256),
        (
            "f.process_user",
            " ".join(
                p
                for p in (
                    proc.user,
                    f"(uid {proc.user_id})" if proc.user_id is not None else None,
                    f"(euid {proc.euid})" if proc.euid is not None and proc.euid != proc.user_id else None,
                )
                if p
            ),
        ),
        ("f.working_directory", proc.pwd),
        ("f.process_uuid", proc.uuid),
        ("f.process_started", proc.start_time),
        ("f.lineage", [line for entry in proc.lineage or [] if (line := process_line(entry))]),
        paths=("f.executable", "f.working_directory", "f.lineage"),
    )


def _protocol(number: int | None) -> str | None:
    if number is None:
        return None
    name = IANA_PROTOCOLS.get(number)
    return f"{number} ({name})" if name else str(number)


def _context_facts(ctx: RuntimeContext) -> tuple[Fact, ...]:
    """Every documented context field, each under its own label; paths as path facts."""
    return labelled(
        ("f.socket_path", ctx.socket_path),
        ("f.runc_binary", ctx.runc_binary_path),
        ("f.ld_preload", ctx.ld_preload_value),
        ("f.module_name", ctx.module_name),
        ("f.module_file", ctx.module_file_path),
        ("f.module_sha256", ctx.module_sha256),
        ("f.modifying_process", process_line(ctx.modifying_process) if ctx.modifying_process else None),
        ("f.modified_at", ctx.modified_at),
        ("f.target_process", process_line(ctx.target_process) if ctx.target_process else None),
        ("f.address_family", ctx.address_family),
        ("f.ip_protocol", _protocol(ctx.iana_protocol_number)),
        ("f.memory_regions", ctx.memory_regions),
        ("f.shell_history", ctx.shell_history_file_path),
        ("f.tool", ctx.tool_name),
        ("f.tool_category", ctx.tool_category),
        ("f.threat_file", ctx.threat_file_path),
        ("f.system_service", ctx.service_name),
        ("f.script", ctx.script_path),
        ("f.library", ctx.library_path),
        ("f.release_agent", ctx.release_agent_path),
        ("f.mount_source", ctx.mount_source),
        ("f.mount_target", ctx.mount_target),
        ("f.file_system", ctx.file_system_type),
        ("f.mount_flags", ctx.flags),
        ("f.command_line", ctx.command_line_example),
        ("f.file_operation", ctx.file_operation),
        ("f.file", ctx.file_path),
        ("f.related_files", ctx.related_file_paths),
        paths=_CONTEXT_PATHS,
    )


# Context labels whose value is a file path, or a process line that ends in one.
_CONTEXT_PATHS: Final = (
    *("f.socket_path", "f.runc_binary", "f.ld_preload", "f.module_file", "f.modifying_process"),
    *("f.target_process", "f.shell_history", "f.threat_file", "f.script", "f.library", "f.release_agent"),
    *("f.mount_source", "f.mount_target", "f.file", "f.related_files"),
)


def _runtime_facts(runtime: RuntimeDetails) -> tuple[Fact, ...]:
    facts = _process_facts(runtime.process) if runtime.process is not None else ()
    return facts + (_context_facts(runtime.context) if runtime.context is not None else ())


def _plain_threat(name: str | None) -> Fact:
    """A threat known by its name alone (no engine, severity or count to put in brackets)."""
    return _named_threat("f.threat_name", name or "-")


def _named_threat(label: str, text: str) -> Fact:
    """A threat line: its name is a name, never a hostname (``Trojan.GenericKD`` stays readable)."""
    return Fact(label, text, name=True)


def _file_rows(files: list[str], total: int) -> tuple[Fact, ...]:
    """At most ``MAX_FILES_PER_THREAT`` file rows, then how many more the finding lists."""
    rows = labelled(*(("f.threat_file_hash", f) for f in files[:MAX_FILES_PER_THREAT]), paths=("f.threat_file_hash",))
    more = max(total, len(files)) - min(len(files), MAX_FILES_PER_THREAT)
    return rows + labelled(("f.more_files", more if more > 0 else None))


def _ebs_scan_facts(scan: EbsVolumeScanDetails) -> tuple[Fact, ...]:
    """Malware Protection for EC2 (EBS volumes of instances, ECS tasks, containers)."""
    detections = scan.scan_detections
    by_name = detections.threat_detected_by_name if detections else None
    counted = detections.scanned_item_count if detections else None
    # GUARDDUTY_INITIATED scans start from another finding; an on-demand scan only names one.
    initiated = (scan.scan_type or "").upper() == "GUARDDUTY_INITIATED"
    facts = labelled(
        ("f.scan_type", scan.scan_type),
        ("f.scan_trigger" if initiated else "f.related_finding", scan.trigger_finding_id),
        ("f.scan_id", scan.scan_id),
        ("f.scan_started", scan.scan_started_at),
        ("f.scan_completed", scan.scan_completed_at),
        ("f.scan_sources", scan.sources),
        ("f.scanned_files", counted.files if counted else None),
        ("f.scanned_volume_count", counted.volumes if counted else None),
        ("f.scanned_gb", counted.total_gb if counted else None),
        ("f.threats_shortened", Msg("v.shortened") if by_name and by_name.shortened else None),
    )
    for threat in ((by_name.threat_names or []) if by_name else [])[:MAX_LIST_ITEMS]:
        counts = ", ".join(str(p) for p in (threat.severity, threat.item_count) if p is not None)
        facts += (
            _named_threat("f.threat", f"{threat.name or '-'} ({counts})") if counts else _plain_threat(threat.name),
        )
        files = [
            " ".join(p for p in (f.file_path or f.file_name, f.hash) if p)
            for f in threat.file_paths or []
            if f.file_path or f.file_name or f.hash
        ]
        facts += _file_rows(files, threat.item_count or 0)
    return facts


def _malware_scan_facts(scan: MalwareScanDetails) -> tuple[Fact, ...]:
    """Malware Protection for S3 and for AWS Backup."""
    config = scan.scan_configuration
    baseline = config.incremental_scan_details if config else None
    facts = labelled(
        ("f.scan_type", scan.scan_type),
        ("f.scan_category", scan.scan_category),
        ("f.scan_trigger_type", config.trigger_type if config else None),
        ("f.scan_baseline", baseline.baseline_resource_arn if baseline else None),
        ("f.scan_id", scan.scan_id),
        ("f.unique_threats", scan.unique_threat_count),
    )
    for threat in (scan.threats or [])[:MAX_LIST_ITEMS]:
        counts = ", ".join(str(p) for p in (threat.source, threat.count) if p is not None)
        facts += (
            _named_threat("f.threat_source", f"{threat.name or '-'} ({counts})")
            if counts
            else _plain_threat(threat.name),
        )
        facts += labelled(("f.threat_hash", threat.hash))
        files = [
            " ".join(p for p in (item.nested_item_path, item.hash) if p)
            for item in threat.item_paths or []
            if item.nested_item_path or item.hash
        ]
        for item in threat.item_details or []:
            extra = item.additional_info
            # Where the file came from (bucket, snapshot or volume) and the device or version,
            # first: after the path they would end the path's file name.
            where = "; ".join(
                p for p in (_source(item.resource_arn), (extra.device_name or extra.version_id) if extra else None) if p
            )
            files.append(" ".join(p for p in (f"({where})" if where else None, item.item_path, item.hash) if p))
        facts += _file_rows(files, 0)
    return facts


MAX_SOURCE: Final = 64  # characters of a file's source name (a bucket has 63 at most, a snapshot id 22)


def _source(arn: str | None) -> str | None:
    """The name of the resource an ARN names (``arn:aws:s3:::bucket`` -> bucket,
    ``...:snapshot/snap-0abc`` -> snap-0abc), bounded; never an ARN's colons in a path row."""
    if not arn:
        return None
    name = arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]
    return name[:MAX_SOURCE] or None


def _sequence_facts(sequence: Sequence) -> tuple[Fact, ...]:
    """The incident as one story: who (actors), from or to where (endpoints), what was seen
    (signals, each with the resources, actors and endpoints it involves), and the indicators.
    The resources themselves are in the resource section, grouped."""
    users, processes = [], []
    for actor in sequence.actors or []:
        if actor.user is not None:
            user, session = actor.user, actor.session
            details = [
                p
                for p in (
                    user.type,
                    user.credential_uid,
                    user.account.uid if user.account else None,
                    f"MFA {session.mfa_status}" if session and session.mfa_status else None,
                )
                if p
            ]
            users.append(
                f"{user.name or user.uid or actor.id or '-'} ({'; '.join(details)})" if details else user.name or "-"
            )
        if actor.process is not None:
            proc = actor.process
            processes.append(" ".join(p for p in (proc.name, proc.path, proc.sha256) if p))
    endpoints = []
    for end in sequence.endpoints or []:
        where = ", ".join(p for p in ((end.location.city, end.location.country) if end.location else ()) if p)
        asn = end.autonomous_system
        details = [
            p
            for p in (
                end.connection.direction if end.connection else None,
                where or None,
                f"AS{asn.number} {asn.name or ''}".strip() if asn and asn.number is not None else None,
            )
            if p
        ]
        address = " ".join(p for p in (_socket(end.ip or end.domain, end.port), end.domain if end.ip else None) if p)
        if address:
            endpoints.append(f"{address} ({'; '.join(details)})" if details else address)
    facts = labelled(
        ("f.additional_sequence_types", sequence.additional_sequence_types),
        ("f.actor_user", users),
        ("f.actor_process", [p for p in processes if p]),
        ("f.endpoints", endpoints),
        paths=("f.actor_process",),
        ioc=("f.endpoints",),
    )
    for signal in (sequence.signals or [])[:MAX_LIST_ITEMS]:
        parts = [p for p in (signal.type, f"{signal.severity:.1f}" if signal.severity is not None else None) if p]
        if signal.count:
            parts.append(f"x{signal.count}")
        involved = [names.short_id(uid) for uid in signal.resource_uids or []][:MAX_LIST_ITEMS]
        line = f"{signal.name or signal.uid or '-'} ({'; '.join(parts)})" if parts else signal.name or "-"
        if involved:
            line += " -> " + ", ".join(involved)
        facts += (_named_threat("f.sequence_signal", line),)
    for indicator in (sequence.sequence_indicators or [])[:MAX_LIST_ITEMS]:
        values = ", ".join((indicator.values or [])[:MAX_LIST_ITEMS])
        # Only an IP's or a domain's values are indicators (every dot defanged); an API name
        # (s3:GetObject), a file or a technique reads as written, a file as a path fact.
        words = set((indicator.key or "").upper().split("_"))
        kind = "ioc" if words & _ADDRESS_WORDS else "path" if words & _PATH_WORDS else ""
        facts += (
            Fact(
                "f.sequence_indicators",
                f"{indicator.key or '-'} = {values}",
                ioc=kind == "ioc",
                path=kind == "path",
            ),
        )
    more = len(sequence.signals or []) - MAX_LIST_ITEMS
    return facts + labelled(("f.more_signals", more if more > 0 else None))


# Words of a sequence indicator's key (CRYPTOMINING_IP, MALICIOUS_DOMAIN, TOR_IP_ADDRESS ...)
# that make its values indicators, and those that make them file paths (MALICIOUS_FILE).
_ADDRESS_WORDS: Final = frozenset({"IP", "IPV4", "IPV6", "DOMAIN", "HOST", "HOSTNAME", "ENDPOINT", "URL"})
_PATH_WORDS: Final = frozenset({"FILE", "PATH", "PROCESS", "EXECUTABLE"})


def _socket(host: str | None, port: int | None) -> str | None:
    """``host:port`` (``[2001:db8::1]:22`` for IPv6), the notation every tool reads: no word."""
    if port is None:
        return host
    if host is None:
        return f":{port}"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def evidence_facts(service: Service) -> tuple[Fact, ...]:
    facts: tuple[Fact, ...] = ()
    for intel in ((service.evidence.threat_intelligence_details or []) if service.evidence else [])[:MAX_LIST_ITEMS]:
        facts += labelled(
            ("f.threat_list", intel.threat_list_name),
            ("f.threat_names", intel.threat_names),
            ("f.threat_file_sha256", intel.threat_file_sha256),
        )
    if service.runtime_details is not None:
        facts += _runtime_facts(service.runtime_details)
    sequence = service.detection.sequence if service.detection else None
    if sequence is not None:
        facts += _sequence_facts(sequence)
    if service.ebs_volume_scan_details is not None:
        facts += _ebs_scan_facts(service.ebs_volume_scan_details)
    if service.malware_scan_details is not None:
        facts += _malware_scan_facts(service.malware_scan_details)
    return facts
