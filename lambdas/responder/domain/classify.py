"""Pure triage of a finding: band, parsed type, action, resource, evidence, steps, links.

One place decides each fact, in three parts: ``Triage`` (what decisions, routing, logs and
metrics need: ``assessment.assess``, all the triage function computes, re-exported here),
``Presentation`` (what an email shows) and ``Links`` (commands, URLs and the runbooks the
Respond section offers); ``classify`` gives all three.

No I/O. Values copied from the finding stay raw here (they are attacker-influenced);
``render`` sends each through the one cleaning path (``cleaning.shown``) and escapes it.
Only the identifiers that pass a strict pattern (``SAFE_*``) are used to build subjects,
commands and links (and they are defanged too: a valid container name can be a URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Final
from urllib.parse import quote

from responder.domain import guidance, identifiers, respond, scan_alert
from responder.domain.accounts import Account, label
from responder.domain.assessment import (
    SAFE_TYPE,
    TYPE_RE,
    Decision,
    Reason,
    Triage,
    TypeParts,
    assess,
    band_for,
    canonical_purpose,
    decide,
    parse_type,
)
from responder.domain.evidence import action_facts, connection_direction, evidence_facts
from responder.domain.facts import Fact, labelled
from responder.domain.identifiers import console_base
from responder.domain.models import Finding
from responder.domain.resource_models import Resource
from responder.domain.resources import resource_facts, resource_label
from responder.domain.runbooks import Offer
from responder.domain.service_models import Action, Service
from responder.domain.settings import Band, Settings

# The public names, the triage facts of ``assessment`` included (the notifier, the preview and
# the tests read them here; the triage function imports ``assessment`` itself).
__all__ = [
    "CONSOLE_HOSTS",
    "SAFE_ACCOUNT",
    "SAFE_ID",
    "SAFE_REGION",
    "SAFE_TYPE",
    "TYPE_RE",
    "Classification",
    "Decision",
    "Links",
    "Presentation",
    "Reason",
    "Triage",
    "TypeParts",
    "assess",
    "band_for",
    "canonical_purpose",
    "choose_playbook",
    "classify",
    "decide",
    "parse_type",
    "plan_steps",
    "posture_for",
    "response_steps",
    "urgency_for",
    "verdict_for",
]

# Defined in ``identifiers`` (``respond`` needs them too); render, chat, degrade and the CLI import them from here.
SAFE_ACCOUNT: Final = identifiers.SAFE_ACCOUNT
SAFE_REGION: Final = identifiers.SAFE_REGION
SAFE_ID: Final = identifiers.SAFE_ID
CONSOLE_HOSTS: Final = identifiers.CONSOLE_HOSTS


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
    step_intents: tuple[str, ...] = ()  # the guidance.Intent value of each step, parallel to ``steps``


@dataclass(frozen=True)
class Links:
    """The commands and links an email offers, built from validated identifiers only."""

    archive_command: str | None  # None: no GuardDuty finding exists (a Malware Protection for S3 scan result)
    export_command: str | None
    console_url: str | None
    docs_url: str
    respond: tuple[Offer, ...] = ()  # the runbooks the Respond section offers (``respond.offers``)


@dataclass(frozen=True)
class Classification:
    """A finding as the notifier and the preview see it: its triage facts, what its email
    shows, and its links (``classify``)."""

    triage: Triage
    presentation: Presentation
    links: Links


def choose_playbook(parts: TypeParts, resource_type: str | None, finding_type: str = "") -> str:
    """Which remediation playbook applies: data tables in ``guidance`` decide."""
    if finding_type in guidance.TYPE_PLAYBOOK:
        return guidance.TYPE_PLAYBOOK[finding_type]
    if parts.purpose == "AttackSequence":
        return guidance.ATTACK_SEQUENCE_PLAYBOOK.get(parts.resource or "", "attack_sequence")
    if parts.family in guidance.MALWARE_FAMILIES:
        artifact = f"!{parts.artifact}" if parts.artifact else None
        for key in (f"{parts.resource}{artifact}" if artifact else None, artifact, parts.resource):
            if key and key in guidance.MALWARE_PLAYBOOK:
                return guidance.MALWARE_PLAYBOOK[key]
    if parts.resource == "Runtime":
        return guidance.RUNTIME_PLAYBOOK.get(resource_type or "", "runtime")
    playbook = guidance.SEGMENT_PLAYBOOK.get(parts.resource or "") or guidance.RESOURCE_TYPE_PLAYBOOK.get(
        resource_type or "", "generic"
    )
    # A workload playbook whose finding names the API caller, not the workload: a change made through the API.
    return (
        guidance.WORKLOAD_API_PLAYBOOK.get(playbook, playbook)
        if resource_type == guidance.API_CALLER_RESOURCE
        else playbook
    )


def verdict_for(
    finding_type: str, *, action_type: str | None, direction: str | None, resource_role: str | None
) -> guidance.Verdict | None:
    """What the type says about its resource (``guidance.VERDICTS``, first match), or None."""
    role = resource_role or "TARGET"  # GuardDuty's default reading
    for rule in guidance.VERDICTS:
        if (
            fnmatchcase(finding_type, rule.pattern)
            and rule.role in (None, role)
            and rule.action in (None, action_type)
            and rule.direction in (None, direction)
        ):
            return rule.verdict
    return None


def posture_for(verdict: guidance.Verdict | None, band: Band) -> guidance.Posture:
    """How far the resource is likely compromised: the type's verdict, else the band."""
    if verdict in guidance.VERDICT_POSTURE:
        return guidance.VERDICT_POSTURE[verdict]
    return guidance.BAND_POSTURE[band]


def urgency_for(band: Band, verdict: guidance.Verdict | None, playbook: str, finding_type: str = "") -> str:
    """The first step: the band's urgency, worded for what the type says and what it names."""
    if finding_type in guidance.URGENCY_BY_TYPE:
        return guidance.URGENCY_BY_TYPE[finding_type]
    if verdict and (band, verdict) in guidance.URGENCY_BY_VERDICT:
        return guidance.URGENCY_BY_VERDICT[(band, verdict)]
    if not guidance.PLAYBOOKS[playbook].workload and band in guidance.URGENCY_NO_WORKLOAD:
        return guidance.URGENCY_NO_WORKLOAD[band]
    return guidance.URGENCY[band]


def plan_steps(
    *,
    band: Band,
    finding_type: str,
    purpose_key: str | None,
    playbook: str,
    action_type: str | None,
    direction: str | None,
    resource_role: str | None,
) -> tuple[guidance.Step, ...]:
    """The steps that fit the finding, urgency first, each idea once.

    A step fits when the posture reaches what it needs and its role (if any) is the finding's.
    Sources, most specific first: type, action, resource playbook, purpose; an idea a more
    specific source already said is dropped. Shown in reading order: urgency, type, action,
    purpose, playbook.
    """
    verdict = verdict_for(finding_type, action_type=action_type, direction=direction, resource_role=resource_role)
    posture = posture_for(verdict, band)
    role = resource_role or "TARGET"

    def fits(step: guidance.Step) -> bool:
        return step.needs <= posture and step.role in (None, role)

    type_steps = [step for step in guidance.TYPE_STEPS.get(finding_type, ()) if fits(step)]
    action_steps: list[guidance.Step] = []
    if action_type:
        # ACTOR outranks the direction: our resource doing the attacking is the worse news.
        for key in dict.fromkeys((resource_role, direction, "TARGET")):
            action_steps = [s for s in guidance.ACTION_STEPS.get((action_type, key or ""), ()) if fits(s)][:1]
            if action_steps:
                break
    purpose = guidance.PURPOSES.get(purpose_key or "", guidance.UNKNOWN_PURPOSE)
    purpose_steps = [purpose.step] if fits(purpose.step) else []
    playbook_steps = [step for step in guidance.PLAYBOOKS[playbook].steps if fits(step)]

    # Reading order is type, action, purpose, playbook; precedence puts the playbook before the purpose.
    reading = (type_steps, action_steps, purpose_steps, playbook_steps)
    precedence = (0, 1, 3, 2)
    candidates = sorted(
        (
            (precedence[source], source, index, step)
            for source, steps in enumerate(reading)
            for index, step in enumerate(steps)
        ),
        key=lambda item: item[:3],
    )
    covered = {guidance.Intent.URGENCY}
    kept: list[tuple[int, int, guidance.Step]] = []
    for _, source, index, step in candidates:
        if step.intent not in covered:
            covered |= step.covers
            kept.append((source, index, step))
    first = guidance.Step(urgency_for(band, verdict, playbook, finding_type), guidance.Intent.URGENCY)
    return (first, *(step for _, _, step in sorted(kept, key=lambda item: item[:2])))


def response_steps(finding: Finding, triage: Triage) -> tuple[guidance.Step, ...]:
    """The response steps of one finding (``plan_steps`` with the finding's facts)."""
    service = finding.service or Service()
    action = service.action or Action()
    return plan_steps(
        band=triage.band,
        finding_type=finding.type,
        purpose_key=triage.purpose_key,
        playbook=choose_playbook(triage.parts, triage.resource_type, finding.type),
        action_type=triage.action_type,
        direction=connection_direction(action.network_connection_action),
        resource_role=_resource_role(service),
    )


def classify(finding: Finding, settings: Settings, account: Account | None = None) -> Classification:
    """Triage one finding the way an experienced responder would, and what its email shows."""
    t = assess(finding, settings, account)
    parts = t.parts
    resource = finding.resource or Resource()
    service = finding.service or Service()
    action = service.action or Action()
    playbook = choose_playbook(parts, t.resource_type, finding.type)
    direction = connection_direction(action.network_connection_action)
    role = _resource_role(service)
    region = finding.region if SAFE_REGION.fullmatch(finding.region) else None
    finding_id = finding.id if SAFE_ID.fullmatch(finding.id) else None
    detector = service.detector_id if service.detector_id and SAFE_ID.fullmatch(service.detector_id) else None
    purpose = guidance.PURPOSES.get(t.purpose_key or "", guidance.UNKNOWN_PURPOSE)
    in_guardduty = not finding.id.startswith(scan_alert.ID_PREFIX)  # a scan result has no finding to act on
    # GuardDuty's title and description are its own text; a scan result's are ours, in the recipient's language.
    worded = None if in_guardduty else scan_alert.wording(finding.type, service.additional_info, settings.locale.lang)
    title, description = worded or (finding.title, finding.description)
    steps = response_steps(finding, t)
    presentation = Presentation(
        title=title,
        playbook=playbook,
        direction=direction,
        resource_role=role,
        resource_label=resource_label(resource, service),
        first_seen=service.event_first_seen,
        last_seen=service.event_last_seen,
        overview=labelled(
            ("f.type", finding.type),
            ("f.purpose", parts.purpose),
            ("f.purpose_meaning", purpose.meaning),
            ("f.resource_affected", parts.resource),
            ("f.family", parts.family),
            ("f.mechanism", parts.mechanism),
            ("f.artifact", parts.artifact),
            ("f.feature", service.feature_name),
            ("f.account", label(finding.account_id, t.account_name)),  # ``payments-prod (111122223333)``
            ("f.region", finding.region),
            ("f.finding_id", finding.id),
            ("f.description", description),
        ),
        resource_facts=resource_facts(resource, role, service),
        action_facts=action_facts(action, t.action_type),
        evidence_facts=evidence_facts(service),
        frequency_facts=labelled(
            ("f.count", service.count),
            ("f.first_seen", service.event_first_seen),
            ("f.last_seen", service.event_last_seen),
            ("f.created", finding.created_at),
            ("f.updated", finding.updated_at),
        ),
        steps=tuple(step.text for step in steps),
        step_intents=tuple(step.intent.value for step in steps),
    )
    links = Links(
        archive_command=_cli("archive-findings", detector, finding_id, region) if in_guardduty else None,
        export_command=_cli("get-findings", detector, finding_id, region)
        + f" > guardduty-finding-{finding_id or 'FINDING_ID'}.json"
        if in_guardduty
        else None,
        console_url=_console_url(finding.partition, region, finding_id) if in_guardduty else None,
        docs_url=f"{guidance.DOCS_BASE}{guidance.PLAYBOOKS[playbook].doc_slug}.html",
        respond=respond.offers(finding, steps, settings.runbooks),
    )
    return Classification(t, presentation, links)


# --- helpers -------------------------------------------------------------------


def _resource_role(service: Service) -> str | None:
    return service.resource_role if service.resource_role in ("TARGET", "ACTOR") else None


def _cli(command: str, detector: str | None, finding_id: str | None, region: str | None) -> str:
    return (
        f"aws guardduty {command} --detector-id {detector or 'DETECTOR_ID'}"
        f" --finding-ids {finding_id or 'FINDING_ID'} --region {region or 'REGION'}"
    )


def _console_url(partition: str | None, region: str | None, finding_id: str | None) -> str | None:
    base = console_base(partition, region) if region is not None else None
    if base is None or finding_id is None:
        return None
    return f"{base}/guardduty/home?region={region}#/findings?macros=current&fId={quote(finding_id, safe='')}"
