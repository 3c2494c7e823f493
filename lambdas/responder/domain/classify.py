"""Pure triage of a finding: band, parsed type, action, resource, evidence, steps, links.

One place decides each fact, in three parts: ``Triage`` (what decisions, routing, logs and
metrics need: ``assess``, all the triage function computes), ``Presentation`` (what an email
shows) and ``Links`` (commands and URLs); ``classify`` gives all three.

No I/O. Values copied from the finding stay raw here (they are attacker-influenced);
``render`` sends each through the one cleaning path (``cleaning.shown``) and escapes it.
Only the identifiers that pass a strict pattern (``SAFE_*``) are used to build subjects,
commands and links (and they are defanged too: a valid container name can be a URL).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, NamedTuple
from urllib.parse import quote

from responder.domain import guidance
from responder.domain.models import (
    Action,
    AwsApiCallAction,
    DnsRequestAction,
    Finding,
    IpDetails,
    KubernetesApiCallAction,
    KubernetesPermissionCheckedDetails,
    KubernetesRoleBindingDetails,
    KubernetesRoleDetails,
    NetworkConnectionAction,
    PortDetails,
    PortProbeAction,
    RdsLoginAttemptAction,
    Resource,
    Service,
)
from responder.domain.settings import Band, Bands, Settings
from responder.domain.suppression import suppressed_by

MAX_LIST_ITEMS: Final = 10  # list-valued facts show at most this many entries

TYPE_RE: Final = re.compile(
    r"^(?P<purpose>[A-Za-z0-9]+):(?P<resource>[A-Za-z0-9]+)/(?P<family>[^.!]+)"
    r"(?:\.(?P<mechanism>[^!]+))?(?:!(?P<artifact>.+))?$"
)
SAFE_TYPE: Final = re.compile(r"^[A-Za-z0-9:/._!&-]{1,100}$")
SAFE_ACCOUNT: Final = re.compile(r"^\d{12}$")
SAFE_REGION: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
SAFE_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,300}$")
SAFE_RESOURCE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+=,/-]{0,79}$")
# Runtime context keys whose value is a file path (shown like the executable's path).
PATH_CONTEXT_KEYS: Final = frozenset(
    {"scriptPath", "libraryPath", "releaseAgentPath", "mountSource", "mountTarget", "threatFilePath", "filePath"}
)
KNOWN_DIRECTIONS: Final = ("INBOUND", "OUTBOUND", "UNKNOWN")
CONSOLE_HOSTS: Final[dict[str, str]] = {
    "aws": "console.aws.amazon.com",
    "aws-us-gov": "console.amazonaws-us-gov.com",
    "aws-cn": "console.amazonaws.cn",
}


@dataclass(frozen=True)
class TypeParts:
    purpose: str | None
    resource: str | None
    family: str | None
    mechanism: str | None
    artifact: str | None


class Fact(NamedTuple):
    """One labelled value for the email. Every value is cleaned and defanged when rendered;
    ``ioc`` values (indicators) have every dot defanged, hostname-like or not; only ``path``
    values (a list of file paths) keep the file name after a directory readable."""

    label: str  # catalogue key
    value: str
    ioc: bool = False
    translate: bool = False  # value is a catalogue key (yes/no, direction, role)
    path: bool = False  # value is one or more file paths (``, ``-separated)


class Msg(str):
    """A value that is a catalogue key rather than finding data."""


@dataclass(frozen=True)
class Triage:
    """What the decisions, the update rule, routing, logs and metrics need: all the triage
    function computes (``assess``). Values copied from the finding are raw."""

    finding_id: str
    finding_type: str
    safe_type: str | None  # the type when it passes SAFE_TYPE, for subjects and logs
    parts: TypeParts
    purpose_key: str | None  # canonical guidance.PURPOSES key
    severity: float
    band: Band
    action_type: str | None
    resource_type: str | None
    account_id: str
    region: str
    is_sample: bool
    archived: bool
    count: int | None
    updated_at: str | None  # with ``count``: which occurrence this is
    suppressed_by: str | None = None  # the operator's suppression rule that matched


@dataclass(frozen=True)
class Presentation:
    """What an email shows of a finding beyond its triage facts (raw: ``render`` cleans each value)."""

    title: str | None
    playbook: str  # guidance.PLAYBOOKS key: the response steps and the remediation page
    direction: str | None
    resource_role: str | None
    resource_label: str | None  # validated short identifier of the resource
    first_seen: str | None
    last_seen: str | None
    overview: tuple[Fact, ...]
    resource_facts: tuple[Fact, ...]
    action_facts: tuple[Fact, ...]
    evidence_facts: tuple[Fact, ...]
    frequency_facts: tuple[Fact, ...]
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Links:
    """The commands and links an email offers, built from validated identifiers only."""

    archive_command: str
    export_command: str
    console_url: str | None
    docs_url: str


@dataclass(frozen=True)
class Classification:
    """A finding as the notifier and the preview see it: its triage facts, what its email
    shows, and its links (``classify``)."""

    triage: Triage
    presentation: Presentation
    links: Links


class Reason(StrEnum):
    """Why a finding is emailed or not (logs, the ``Reason`` metric dimension, the preview's JSON)."""

    NOTIFY = "notify"
    BELOW_THRESHOLD = "below_threshold"
    ARCHIVED = "archived"
    SUPPRESSED = "suppressed"
    SAMPLE_EXCLUDED = "sample_excluded"


@dataclass(frozen=True)
class Decision:
    notify: bool
    reason: Reason
    detail: str | None = None  # the suppression rule that matched


def band_for(severity: float, bands: Bands) -> Band:
    """Severity band for a score under the configured boundaries."""
    if severity >= bands.critical:
        return Band.CRITICAL
    if severity >= bands.high:
        return Band.HIGH
    if severity >= bands.medium:
        return Band.MEDIUM
    return Band.LOW


def parse_type(finding_type: str) -> TypeParts:
    """Split ``ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact``.

    Unknown shapes give all-``None`` parts rather than an error.
    """
    match = TYPE_RE.match(finding_type)
    if not match:
        return TypeParts(None, None, None, None, None)
    return TypeParts(**match.groupdict())


_PURPOSE_BY_LOWER: Final = {key.lower(): key for key in guidance.PURPOSES} | {
    alias.lower(): key for alias, key in guidance.PURPOSE_ALIASES.items()
}


def canonical_purpose(purpose: str | None) -> str | None:
    """The guidance key for a ThreatPurpose, matching case-insensitively (Pentest/PenTest)."""
    return _PURPOSE_BY_LOWER.get(purpose.lower()) if purpose else None


def choose_playbook(parts: TypeParts, resource_type: str | None) -> str:
    """Which remediation playbook applies: data tables in ``guidance`` decide."""
    if parts.purpose == "AttackSequence":
        return "attack_sequence"
    if parts.family in guidance.MALWARE_FAMILIES:
        by_artifact = guidance.MALWARE_PLAYBOOK.get(f"!{parts.artifact}") if parts.artifact else None
        by_segment = guidance.MALWARE_PLAYBOOK.get(parts.resource or "")
        if by_artifact or by_segment:
            return by_artifact or by_segment or "generic"
    if parts.resource in guidance.SEGMENT_PLAYBOOK:
        return guidance.SEGMENT_PLAYBOOK[parts.resource]
    return guidance.RESOURCE_TYPE_PLAYBOOK.get(resource_type or "", "generic")


def assemble_steps(
    *,
    band: Band,
    finding_type: str,
    purpose_key: str | None,
    playbook: str,
    action_type: str | None,
    direction: str | None,
    resource_role: str | None,
) -> tuple[str, ...]:
    """Urgency, type-specific, action/direction, purpose, then playbook steps; no repeats."""
    steps: list[str] = [guidance.URGENCY[band]]
    steps += guidance.TYPE_STEPS.get(finding_type, ())
    if action_type:
        # ACTOR outranks the direction: our resource doing the attacking is the worse news.
        for key in (resource_role, direction, "TARGET"):
            step = guidance.ACTION_STEPS.get((action_type, key or ""))
            if step:
                steps.append(step)
                break
    purpose = guidance.PURPOSES.get(purpose_key or "", guidance.UNKNOWN_PURPOSE)
    steps.append(purpose.step)
    steps += guidance.PLAYBOOKS[playbook].steps
    return tuple(dict.fromkeys(steps))


def decide(triage: Triage, settings: Settings) -> Decision:
    """Whether this finding is emailed under the settings, and why not."""
    if triage.severity < settings.threshold:
        return Decision(False, Reason.BELOW_THRESHOLD)
    if triage.suppressed_by:
        return Decision(False, Reason.SUPPRESSED, triage.suppressed_by)
    if triage.archived:  # the service may still email it if it recurred
        return Decision(False, Reason.ARCHIVED)
    if triage.is_sample and not settings.include_samples:
        return Decision(False, Reason.SAMPLE_EXCLUDED)
    return Decision(True, Reason.NOTIFY)


def assess(finding: Finding, settings: Settings) -> Triage:
    """The triage facts of one finding: all the triage function needs (no email is built)."""
    parts = parse_type(finding.type)
    resource = finding.resource or Resource()
    service = finding.service or Service()
    action = service.action or Action()
    return Triage(
        finding_id=finding.id,
        finding_type=finding.type,
        safe_type=finding.type if SAFE_TYPE.fullmatch(finding.type) else None,
        parts=parts,
        purpose_key=canonical_purpose(parts.purpose),
        severity=finding.severity,
        band=band_for(finding.severity, settings.bands),
        action_type=(action.action_type or "").strip() or None,
        resource_type=resource.resource_type,
        account_id=finding.account_id,
        region=finding.region,
        is_sample=service.is_sample,
        archived=bool(service.archived),
        count=service.count,
        updated_at=finding.updated_at,
        suppressed_by=suppressed_by(finding, settings),
    )


def classify(finding: Finding, settings: Settings) -> Classification:
    """Triage one finding the way an experienced responder would, and what its email shows."""
    t = assess(finding, settings)
    parts = t.parts
    resource = finding.resource or Resource()
    service = finding.service or Service()
    action = service.action or Action()
    playbook = choose_playbook(parts, t.resource_type)
    direction = _direction(action.network_connection_action)
    role = service.resource_role if service.resource_role in ("TARGET", "ACTOR") else None
    region = finding.region if SAFE_REGION.fullmatch(finding.region) else None
    finding_id = finding.id if SAFE_ID.fullmatch(finding.id) else None
    detector = service.detector_id if service.detector_id and SAFE_ID.fullmatch(service.detector_id) else None
    purpose = guidance.PURPOSES.get(t.purpose_key or "", guidance.UNKNOWN_PURPOSE)
    presentation = Presentation(
        title=finding.title,
        playbook=playbook,
        direction=direction,
        resource_role=role,
        resource_label=_resource_label(resource),
        first_seen=service.event_first_seen,
        last_seen=service.event_last_seen,
        overview=_facts(
            ("f.type", finding.type),
            ("f.purpose", parts.purpose),
            ("f.purpose_meaning", purpose.meaning),
            ("f.resource_affected", parts.resource),
            ("f.family", parts.family),
            ("f.mechanism", parts.mechanism),
            ("f.artifact", parts.artifact),
            ("f.feature", service.feature_name),
            ("f.account", finding.account_id),
            ("f.region", finding.region),
            ("f.finding_id", finding.id),
            ("f.description", finding.description),
        ),
        resource_facts=_resource_facts(resource, role),
        action_facts=_action_facts(action, t.action_type),
        evidence_facts=_evidence_facts(service),
        frequency_facts=_facts(
            ("f.count", service.count),
            ("f.first_seen", service.event_first_seen),
            ("f.last_seen", service.event_last_seen),
            ("f.created", finding.created_at),
            ("f.updated", finding.updated_at),
        ),
        steps=assemble_steps(
            band=t.band,
            finding_type=finding.type,
            purpose_key=t.purpose_key,
            playbook=playbook,
            action_type=t.action_type,
            direction=direction,
            resource_role=role,
        ),
    )
    links = Links(
        archive_command=_cli("archive-findings", detector, finding_id, region),
        export_command=_cli("get-findings", detector, finding_id, region)
        + f" > guardduty-finding-{finding_id or 'FINDING_ID'}.json",
        console_url=_console_url(finding.partition, region, finding_id),
        docs_url=f"{guidance.DOCS_BASE}{guidance.PLAYBOOKS[playbook].doc_slug}.html",
    )
    return Classification(t, presentation, links)


# --- helpers -------------------------------------------------------------------


def _facts(*pairs: tuple[str, object], ioc: tuple[str, ...] = (), paths: tuple[str, ...] = ()) -> tuple[Fact, ...]:
    """Facts for the pairs whose value is present; labels in ``ioc`` are indicators, in ``paths`` file paths."""
    out = []
    for label, value in pairs:
        kind = type(value)  # exact types: this runs for every field of every finding
        if value is None or value == "":
            continue
        if kind is str:
            out.append(Fact(label, value, label in ioc, False, label in paths))  # type: ignore[arg-type]
        elif kind is Msg:
            out.append(Fact(label, str(value), False, True))
        elif kind is bool:
            out.append(Fact(label, "v.yes" if value else "v.no", False, True))
        elif kind is list or kind is tuple:
            items: list[object] | tuple[object, ...] = value  # type: ignore[assignment]
            if not items:
                continue
            shown = ", ".join(str(item) for item in items[:MAX_LIST_ITEMS])
            extra = len(items) - MAX_LIST_ITEMS
            out.append(Fact(label, shown + (f" (+{extra})" if extra > 0 else ""), label in ioc, False, label in paths))
        else:
            out.append(Fact(label, str(value), label in ioc, False, label in paths))
    return tuple(out)


def _direction(block: NetworkConnectionAction | None) -> str | None:
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
    return _facts(
        ("f.remote_ip", _ip(details)),
        ("f.country", details.country.country_name or details.country.country_code if details.country else None),
        ("f.city", details.city.city_name if details.city else None),
        ("f.organization", (org.asn_org or org.org or org.isp) if org else None),
        ("f.asn", org.asn if org else None),
        ioc=("f.remote_ip",),
    )


def _network_facts(net: NetworkConnectionAction) -> tuple[Fact, ...]:
    direction = _direction(net)
    return _facts(
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
    return _facts(
        ("f.blocked", probe.blocked),
        ("f.local_ip", _ip(details[0].local_ip_details) if details else None),
        ("f.probed_ports", ports),
        ("f.probe_sources", sources),
        ioc=("f.probe_sources",),
    ) + _remote_facts(details[0].remote_ip_details if details else None)


def _dns_facts(dns: DnsRequestAction) -> tuple[Fact, ...]:
    return _facts(("f.domain", dns.domain), ("f.protocol", dns.protocol), ("f.blocked", dns.blocked), ioc=("f.domain",))


def _api_call_facts(api: AwsApiCallAction) -> tuple[Fact, ...]:
    remote_account = api.remote_account_details
    return _facts(
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
    return _facts(
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
    return _facts(("f.login_result", logins)) + _remote_facts(rds.remote_ip_details)


def _permission_checked_facts(perm: KubernetesPermissionCheckedDetails) -> tuple[Fact, ...]:
    return _facts(("f.verb", perm.verb), ("f.namespace", perm.namespace), ("f.allowed", perm.allowed))


def _role_binding_facts(binding: KubernetesRoleBindingDetails) -> tuple[Fact, ...]:
    role_ref = f"{binding.role_ref_kind or ''} {binding.role_ref_name or ''}".strip()
    return _facts(("f.role_binding", binding.name), ("f.role", role_ref or None))


def _role_facts(role: KubernetesRoleDetails) -> tuple[Fact, ...]:
    return _facts(("f.role", f"{role.kind or ''} {role.name or ''}".strip() or None))


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


def _action_facts(action: Action, action_type: str | None) -> tuple[Fact, ...]:
    head = _facts(("f.action_type", action_type))
    for attribute, read in _ACTION_BLOCKS:
        block = getattr(action, attribute)
        if block is not None:
            return head + read(block)
    return head


def _evidence_facts(service: Service) -> tuple[Fact, ...]:
    facts: tuple[Fact, ...] = ()
    for intel in ((service.evidence.threat_intelligence_details or []) if service.evidence else [])[:MAX_LIST_ITEMS]:
        facts += _facts(("f.threat_list", intel.threat_list_name), ("f.threat_names", intel.threat_names))
    runtime = service.runtime_details
    if runtime is not None:
        proc = runtime.process
        if proc is not None:
            lineage = [
                str(entry.get("executablePath") or entry.get("name") or entry.get("pid") or "?")
                for entry in proc.lineage or []
            ]
            facts += _facts(
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
            facts += _facts(("f.runtime_context", files), paths=("f.runtime_context",))
            facts += _facts(("f.runtime_context", others))
    sequence = service.detection.sequence if service.detection else None
    if sequence is not None:
        facts += _facts(
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
    facts += _facts(
        ("f.detected_threats", threats),
        ("f.scan_trigger", scan.trigger_finding_id if scan else None),
    )
    return facts


def _name_tag(resource: Resource) -> str | None:
    tags = resource.instance_details.tags if resource.instance_details else None
    return next((tag.value for tag in tags or [] if tag.key == "Name"), None)


def _resource_facts(resource: Resource, role: str | None) -> tuple[Fact, ...]:
    facts = _facts(
        ("f.resource_type", resource.resource_type),
        ("f.resource_role", Msg(f"v.role.{role}") if role else None),
    )
    if (inst := resource.instance_details) is not None:
        nics = inst.network_interfaces or []
        facts += _facts(
            ("f.instance_id", inst.instance_id),
            ("f.instance_name", _name_tag(resource)),
            ("f.instance_type", inst.instance_type),
            ("f.instance_state", inst.instance_state),
            ("f.image_id", inst.image_id),
            ("f.vpc", list(dict.fromkeys(n.vpc_id for n in nics if n.vpc_id))),
            ("f.subnet", list(dict.fromkeys(n.subnet_id for n in nics if n.subnet_id))),
            (
                "f.security_groups",
                list(
                    dict.fromkeys(
                        f"{g.group_id} ({g.group_name})" if g.group_name else str(g.group_id)
                        for n in nics
                        for g in n.security_groups or []
                        if g.group_id
                    )
                ),
            ),
            ("f.public_ip", list(dict.fromkeys(n.public_ip for n in nics if n.public_ip))),
            ("f.private_ip", list(dict.fromkeys(n.private_ip_address for n in nics if n.private_ip_address))),
        )
    if (key := resource.access_key_details) is not None:
        facts += _facts(
            ("f.access_key", key.access_key_id),
            ("f.principal", key.principal_id),
            ("f.user_name", key.user_name),
            ("f.user_type", key.user_type),
        )
    for bucket in (resource.s3_bucket_details or [])[:MAX_LIST_ITEMS]:
        facts += _facts(
            ("f.bucket", f"{bucket.name} ({bucket.type})" if bucket.type else bucket.name),
            ("f.object", [o.key for o in bucket.s3_object_details or [] if o.key]),
            paths=("f.object",),  # a key is a path from its bucket's root
        )
    if (eks := resource.eks_cluster_details) is not None:
        facts += _facts(("f.eks_cluster", eks.name or eks.arn))
    if (k8s := resource.kubernetes_details) is not None:
        user, workload = k8s.kubernetes_user_details, k8s.kubernetes_workload_details
        facts += _facts(
            ("f.k8s_user", user.username if user else None),
            ("f.k8s_groups", user.groups if user else None),
            ("f.k8s_workload", f"{workload.type or ''} {workload.name or ''}".strip() if workload else None),
            ("f.namespace", workload.namespace if workload else None),
        )
    if (ecs := resource.ecs_cluster_details) is not None:
        facts += _facts(
            ("f.ecs_cluster", ecs.name or ecs.arn),
            ("f.ecs_task", ecs.task_details.arn if ecs.task_details else None),
        )
    if (ctr := resource.container_details) is not None:
        facts += _facts(("f.container", ctr.name or ctr.id), ("f.image", ctr.image))
    if (fn := resource.lambda_details) is not None:
        facts += _facts(("f.lambda", fn.function_name or fn.function_arn))
    if (db := resource.rds_db_instance_details) is not None:
        facts += _facts(
            ("f.rds_instance", db.db_instance_identifier),
            ("f.rds_cluster", db.db_cluster_identifier),
            ("f.engine", db.engine),
        )
    if (dbu := resource.rds_db_user_details) is not None:
        facts += _facts(
            ("f.db_user", dbu.user),
            ("f.db_application", dbu.application),
            ("f.db_name", dbu.database),
            ("f.auth_method", dbu.auth_method),
        )
    return facts


def _resource_label(resource: Resource) -> str | None:
    """The one identifier a subject line shows, when it passes ``SAFE_RESOURCE``."""
    buckets = resource.s3_bucket_details or []
    candidates = (
        resource.instance_details.instance_id if resource.instance_details else None,
        resource.access_key_details.user_name if resource.access_key_details else None,
        resource.access_key_details.access_key_id if resource.access_key_details else None,
        buckets[0].name if buckets else None,
        resource.eks_cluster_details.name if resource.eks_cluster_details else None,
        resource.ecs_cluster_details.name if resource.ecs_cluster_details else None,
        resource.container_details.name if resource.container_details else None,
        resource.lambda_details.function_name if resource.lambda_details else None,
        resource.rds_db_instance_details.db_instance_identifier if resource.rds_db_instance_details else None,
    )
    return next((c for c in candidates if c and SAFE_RESOURCE.fullmatch(c)), None)


def _cli(command: str, detector: str | None, finding_id: str | None, region: str | None) -> str:
    return (
        f"aws guardduty {command} --detector-id {detector or 'DETECTOR_ID'}"
        f" --finding-ids {finding_id or 'FINDING_ID'} --region {region or 'REGION'}"
    )


def _console_url(partition: str | None, region: str | None, finding_id: str | None) -> str | None:
    host = CONSOLE_HOSTS.get(partition or "aws")
    if host is None or region is None or finding_id is None:
        return None
    prefix = f"{region}." if host == CONSOLE_HOSTS["aws"] else ""
    return (
        f"https://{prefix}{host}/guardduty/home?region={region}"
        f"#/findings?macros=current&fId={quote(finding_id, safe='')}"
    )
