"""Response steps over every real finding of the corpus and every crafted newest-family finding:
steps that fit the band and what the type means, each idea once, the resource's own wording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from responder.domain import guidance, scan_alert, scan_result
from responder.domain.classify import (
    assess,
    choose_playbook,
    classify,
    parse_type,
    plan_steps,
    response_steps,
    verdict_for,
)
from responder.domain.evidence import connection_direction
from responder.domain.guidance import Intent, Posture
from responder.domain.models import Finding, GuardDutyEvent
from responder.domain.settings import Band, Settings
from tests.conftest import FIXTURES, finding_from, finding_types, load, minimal_event

CORPUS = sorted((FIXTURES / "corpus" / "events").glob("*.json"))
FAMILIES = sorted(
    path for path in (FIXTURES / "families").glob("*.json") if load(path).get("detail-type") == "GuardDuty Finding"
)
EVERY_FINDING = CORPUS + FAMILIES

# Our own reading of the words, independent of the guidance tables.
TERMINATE = re.compile(r"\bterminat|\brebuild|\breplace|\bredeploy|delete the compromised|stop the affected", re.I)
CONTAIN = re.compile(r"\bisolat|for forensics|\bpause\b|stop the function|suspend", re.I)
EC2_WORDING = re.compile(r"(?<!DB )\binstances?\b", re.I)
NOT_SUCCEEDED = re.compile(r"did not succeed|attempt succeeded|not only attempted\W*$", re.I)
# One idea, one step: each pattern may match at most one step of an email.
ONE_IDEA = {
    "isolate": re.compile(r"\bisolat", re.I),
    "terminate or rebuild": TERMINATE,
    "close ports": re.compile(r"\bclose\b.*\bports?\b", re.I),
    "rotate": re.compile(r"\brotat", re.I),
    "block the domain": re.compile(r"\bblock the (command-and-control )?domain", re.I),
    "snapshot": re.compile(r"\bsnapshot .*for forensics", re.I),
    "incident": re.compile(r"\bopen (an|one) incident|\bas one incident", re.I),
    "verify that no access succeeded": re.compile(
        r"\b(no|any)\b[^.;]*\b(access|attempt|of them)\b[^.;]*\bsucceeded|\bsuccessful (login|logon)\b", re.I
    ),
}
# Steps that change or destroy what a forensic snapshot keeps: the imperative verbs, and the ideas.
DESTRUCTIVE = re.compile(
    r"(^|[:;,]\s*|\b(and|then|or|to)\s+)"
    r"(scan|remove|delete|clean( up)?|wipe|kill|uninstall|terminate|rebuild|replace|redeploy)\b",
    re.I,
)
DESTRUCTIVE_IDEAS = frozenset({Intent.SCAN, Intent.CLEAN_UP, Intent.REBUILD})
ALL_TYPES = [row["finding_type"] for row in finding_types()]


def crafted(
    finding_type: str, severity: float, *, direction: str | None = None, role: str | None = None, **detail
) -> Finding:
    """A minimal finding of that type; with a direction, an outbound or inbound network connection."""
    service: dict = {"resourceRole": role} if role else {}
    if direction:
        service["action"] = {
            "actionType": "NETWORK_CONNECTION",
            "networkConnectionAction": {"connectionDirection": direction},
        }
    return GuardDutyEvent.model_validate(minimal_event(finding_type, severity, service=service, **detail)).detail


# Every documented type at every band on an instance (the resource the minimal event names).
EVERY_TYPE_AT_EVERY_BAND = [
    pytest.param(finding_type, severity, id=f"{finding_type}@{severity}")
    for finding_type in ALL_TYPES
    for severity in (2.0, 5.0, 8.0)
]


def compromise_by_type(finding: Finding) -> bool:
    """Types whose name alone means the resource is compromised (the issue's list)."""
    action = finding.service.action if finding.service else None
    outbound = bool(
        action
        and action.network_connection_action
        and str(action.network_connection_action.connection_direction).upper() == "OUTBOUND"
    )
    return bool(
        re.match(r"(Backdoor|CryptoCurrency|AttackSequence):", finding.type)
        or re.search(r"/MaliciousFile", finding.type)
        or (finding.type.startswith("Trojan:") and outbound)
        or re.match(r"Execution:Runtime/(ReverseShell|MaliciousFileExecuted)", finding.type)
    )


def is_ec2(finding: Finding) -> bool:
    resource_type = finding.resource.resource_type if finding.resource else None
    return resource_type == "Instance" or parse_type(finding.type).resource == "EC2"


def planned(finding: Finding) -> tuple[guidance.Step, ...]:
    return response_steps(finding, assess(finding, Settings()))


def ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def test_the_corpus_and_the_families_are_all_here():
    # Given the fixtures / Then 78 real findings and every newest family are checked below
    assert len(CORPUS) == 78
    assert len(FAMILIES) >= 15


@pytest.mark.parametrize("path", EVERY_FINDING, ids=ids(EVERY_FINDING))
def test_every_finding_gets_steps_that_fit_its_band_and_type(path):
    # Given a real (or crafted newest-family) finding
    finding = finding_from(path)
    triage = assess(finding, Settings())
    # When its steps are planned
    steps = [step.text for step in planned(finding)]
    # Then there are at least three
    assert len(steps) >= 3
    # And a Low finding, or a Medium one whose type does not mean compromise, is never told to
    # terminate, rebuild or replace anything, nor to isolate, snapshot for forensics or stop it
    if triage.band is Band.LOW or (triage.band is Band.MEDIUM and not compromise_by_type(finding)):
        assert not [step for step in steps if TERMINATE.search(step)], steps
        assert not [step for step in steps if CONTAIN.search(step)], steps


@pytest.mark.parametrize("path", EVERY_FINDING, ids=ids(EVERY_FINDING))
def test_every_idea_is_said_once(path):
    # Given a finding / When its steps are planned / Then each idea is said once
    assert_each_idea_once(planned(finding_from(path)))


@pytest.mark.parametrize(("finding_type", "severity"), EVERY_TYPE_AT_EVERY_BAND)
def test_every_idea_is_said_once_for_every_documented_type(finding_type, severity):
    # Given any documented type at any band / Then each idea is said once
    assert_each_idea_once(planned(crafted(finding_type, severity)))


def assert_each_idea_once(steps: tuple[guidance.Step, ...]) -> None:
    # No two steps share an idea: no step's idea was already said by an earlier step
    said: set[Intent] = set()
    for step in steps:
        assert step.intent not in said, (step.intent, [s.text for s in steps])
        said |= step.covers
    # And, read as words, no advice is repeated
    for idea, pattern in ONE_IDEA.items():
        matching = [step.text for step in steps if pattern.search(step.text)]
        assert len(matching) <= 1, (idea, matching)


NOT_EC2 = [path for path in EVERY_FINDING if not is_ec2(finding_from(path))]


@pytest.mark.parametrize("path", NOT_EC2, ids=ids(NOT_EC2))
def test_only_ec2_resources_get_ec2_wording(path):
    # Given a finding about something other than an EC2 instance
    finding = finding_from(path)
    # Then no step speaks of an instance
    steps = [step.text for step in planned(finding)]
    assert not [step for step in steps if EC2_WORDING.search(step)], steps


@pytest.mark.parametrize("path", EVERY_FINDING, ids=ids(EVERY_FINDING))
def test_the_first_step_agrees_with_the_type(path):
    # Given a finding
    finding = finding_from(path)
    triage = assess(finding, Settings())
    first = planned(finding)[0].text
    playbook = choose_playbook(triage.parts, triage.resource_type, finding.type)
    # Then the first step is the urgency line
    assert planned(finding)[0].intent is Intent.URGENCY
    # And an activity that succeeded is never called an attempt that did not succeed
    if re.search(r"Successful|^Stealth:|^Policy:", finding.type):
        assert not re.search(r"did not succeed|attempt succeeded", first), first
    # And an exposure (a probe, a brute force against us) is not called a compromise
    if re.match(r"Recon:EC2/PortProbe|UnauthorizedAccess:EC2/(SSH|RDP)BruteForce", finding.type):
        assert "likely compromised" not in first, first
    # And credentials, data and backups are not told to isolate a workload
    if not guidance.PLAYBOOKS[playbook].workload:
        assert not re.search(r"workload|isolat", first, re.I), first


def test_the_low_urgency_line_never_says_did_not_succeed_for_types_that_succeeded():
    # Given the corpus's Low findings that did succeed (logging disabled, successful brute force)
    for name in (
        "Stealth_IAMUser_CloudTrailLoggingDisabled__stix",
        "CredentialAccess_RDS_AnomalousBehavior.SuccessfulBruteForce__csa",
    ):
        finding = finding_from(FIXTURES / "corpus" / "events" / f"{name}.json")
        assert assess(finding, Settings()).band is Band.LOW
        # Then the first step says it succeeded and asks to confirm it, with no "no action needed"
        first = planned(finding)[0].text
        assert "succeeded" in first and "not only attempted" in first
        assert "No immediate action" not in first


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("DefenseEvasion_Runtime_PtraceAntiDebugging__csa", "standalone container"),
        ("DefenseEvasion_Runtime_PtraceAntiDebugging__csa_15780db4", "ECS task"),
        ("CryptoCurrency_Runtime_BitcoinTool.B_DNS__csa", "pod of an EKS cluster"),
        ("Backdoor_Runtime_CCActivity.B_DNS__csa", "EC2 instance"),
    ],
)
def test_runtime_steps_name_the_workload_the_process_ran_in(name, word):
    # Given a Runtime Monitoring finding on one kind of workload (resource.resourceType)
    finding = finding_from(FIXTURES / "corpus" / "events" / f"{name}.json")
    text = " ".join(step.text for step in planned(finding))
    # Then its steps name that kind, and not the others
    assert word in text
    others = {"standalone container", "ECS task", "pod", "EC2 instance"} - {word, "pod" if "pod" in word else ""}
    assert not [other for other in others if other in text], text


# --- band and verdict ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("finding_type", "severity", "role", "contained"),
    [
        ("Recon:EC2/Portscan", 5.0, "ACTOR", False),  # Medium actor: find the process first
        ("Recon:EC2/Portscan", 8.0, "ACTOR", True),  # High actor: compromised
        ("UnauthorizedAccess:EC2/SSHBruteForce", 2.0, "TARGET", False),  # attacked: exposure
        ("UnauthorizedAccess:EC2/SSHBruteForce", 2.0, "ACTOR", True),  # attacking others: compromised
        ("Recon:EC2/PortProbeEMRUnprotectedPort", 8.0, "TARGET", False),  # High, but exposure
        ("Backdoor:EC2/Spambot", 5.0, "TARGET", True),  # Medium, but the type means compromise
        ("Trojan:EC2/BlackholeTraffic!DNS", 5.0, "TARGET", False),  # a lookup, no connection
        ("UnauthorizedAccess:EC2/TorClient", 8.0, "TARGET", True),  # High: compromised and misused
        ("Execution:EC2/SuspiciousFile", 5.0, "TARGET", False),  # suspicious, not malware
        ("Execution:EC2/MaliciousFile", 2.0, "TARGET", True),  # malware found, whatever the band
    ],
)
def test_containment_follows_the_band_and_what_the_type_means(finding_type, severity, role, contained):
    # Given an EC2 finding of that type, band and resource role
    event = minimal_event(finding_type, severity, service={"resourceRole": role})
    finding = GuardDutyEvent.model_validate(event).detail
    # When its steps are planned
    intents = {step.intent for step in planned(finding)}
    # Then it is told to isolate, snapshot and rebuild exactly when the resource is likely compromised
    assert bool(intents & guidance.CONTAINMENT) is contained
    assert (Intent.REBUILD in intents) is contained


def test_an_outbound_trojan_connection_means_compromise_but_a_dns_lookup_does_not():
    # Given the corpus's Medium trojan findings: an outbound connection and a DNS lookup
    connection = finding_from(FIXTURES / "corpus" / "events" / "Trojan_EC2_BlackholeTraffic__foxsec.json")
    lookup = finding_from(FIXTURES / "corpus" / "events" / "Trojan_EC2_BlackholeTraffic_DNS__elastic.json")
    # Then only the connection is contained
    assert {step.intent for step in planned(connection)} >= guidance.CONTAINMENT
    assert not {step.intent for step in planned(lookup)} & guidance.CONTAINMENT


def test_the_more_specific_step_wins_and_reading_order_is_kept():
    # Given a port probe: the type, the action, the purpose and the playbook all say "close the ports"
    steps = plan_steps(
        band=Band.LOW,
        finding_type="Recon:EC2/PortProbeUnprotectedPort",
        purpose_key="Recon",
        playbook="ec2",
        action_type="PORT_PROBE",
        direction=None,
        resource_role="TARGET",
    )
    # Then the type's own step says it, once, right after the urgency
    assert steps[1] == guidance.TYPE_STEPS["Recon:EC2/PortProbeUnprotectedPort"][0]
    assert [step.intent for step in steps].count(Intent.RESTRICT_ACCESS) == 1
    # And the playbook's identification step still follows
    assert guidance.EC2_IDENTIFY in steps


def test_the_email_shows_the_planned_steps():
    # Given a finding / Then the email's steps are the planned steps' texts
    finding = finding_from(FIXTURES / "corpus" / "events" / "Recon_EC2_PortProbeUnprotectedPort__mozdef.json")
    assert classify(finding, Settings()).presentation.steps == tuple(step.text for step in planned(finding))


# --- the guidance tables --------------------------------------------------------------


def test_containment_steps_need_a_likely_compromised_resource():
    # Given every step of every table / Then isolating, snapshotting and rebuilding need COMPROMISED
    for step in guidance.all_steps():
        if step.intent in guidance.CONTAINMENT or TERMINATE.search(step.text):
            assert step.needs is Posture.COMPROMISED, step.text


def test_a_text_means_one_idea_everywhere():
    # Given every step of every table / Then the same sentence is never tagged with two ideas
    seen: dict[str, guidance.Step] = {}
    for step in guidance.all_steps():
        earlier = seen.setdefault(step.text, step)
        assert (earlier.intent, earlier.also) == (step.intent, step.also), step.text


def test_every_step_and_urgency_line_is_in_the_catalogue_source():
    # Given the sentences the catalogue is built from / Then every step and urgency line is one
    prose = set(guidance.prose())
    assert {step.text for step in guidance.all_steps()} <= prose
    assert {*guidance.URGENCY_BY_VERDICT.values(), *guidance.URGENCY_NO_WORKLOAD.values()} <= prose


# --- the newest families ----------------------------------------------------------------


def family(name: str) -> Finding:
    return finding_from(FIXTURES / "families" / f"{name}.json")


def text_of(finding: Finding) -> str:
    return " ".join(step.text for step in planned(finding))


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("Execution_EC2_MaliciousFile_Snapshot", "compromised-snapshot"),
        ("Execution_EC2_MaliciousFile_AMI", "compromised-ami"),
        ("Execution_EC2_MaliciousFile_RecoveryPoint", "compromised-ec2-recoverypoint"),
        ("Execution_S3_MaliciousFile_RecoveryPoint", "compromised-s3-recoverypoint"),
        ("AttackSequence_EKS_CompromisedCluster", "guardduty-remediate-kubernetes"),
        ("AttackSequence_ECS_CompromisedCluster", "compromised-ecs"),
        ("AttackSequence_EC2_CompromisedInstanceGroup", "compromised-ec2"),
        ("Object_S3_MaliciousFile_same_object", "compromised-s3object-malware-protection-gdu"),
    ],
)
def test_each_newest_family_links_its_own_aws_page(name, page):
    # Given a crafted finding / Then the remediation link is the page the reference names for its type
    assert classify(family(name), Settings()).links.docs_url == f"{guidance.DOCS_BASE}{page}.html"


@pytest.mark.parametrize(
    "name",
    [
        "Execution_EC2_MaliciousFile_Snapshot",
        "Execution_EC2_MaliciousFile_AMI",
        "Execution_EC2_MaliciousFile_RecoveryPoint",
        "Execution_S3_MaliciousFile_RecoveryPoint",
    ],
)
def test_backup_malware_steps(name):
    # Given a malware finding on a snapshot, AMI or recovery point
    steps = planned(family(name))
    intents = [step.intent for step in steps]
    text = " ".join(step.text for step in steps)
    # Then it says not to restore (or launch) from the artefact, to find its source, and to check later scans
    assert {Intent.QUARANTINE, Intent.FIND_SOURCE, Intent.RESCAN} <= set(intents)
    assert re.search(r"Do not (restore|launch)", text)
    assert "scan" in " ".join(step.text for step in steps if step.intent is Intent.RESCAN)
    # And says nothing of code that "ran" (nothing ran: a backup was scanned)
    assert "code that ran" not in text


def test_s3_object_malware_steps():
    # Given the Object:S3/MaliciousFile finding
    text = text_of(family("Object_S3_MaliciousFile_same_object"))
    # Then the object version is quarantined or deleted, the uploader found in CloudTrail data events,
    # and the object scanned again
    assert "quarantine bucket" in text and "object version" in text
    assert "CloudTrail S3 data events" in text
    assert "scan the object again" in text


def test_the_scan_notice_types_are_the_triages():
    # Given the types the triage gives S3 object scans that were skipped or failed
    # Then the guidance has steps for exactly those types
    assert set(guidance.S3_SCAN_NOT_COMPLETED_TYPES) == set(scan_alert.NOTICES)


@pytest.mark.parametrize("name", ["S3ObjectScan_SKIPPED", "S3ObjectScan_FAILED"])
def test_s3_object_scans_that_did_not_complete_get_their_own_steps(name):
    # Given a scan result that was skipped or failed, read as the finding it stands for
    detail = scan_result.finding_detail(load(FIXTURES / "families" / f"{name}.json"))
    assert detail is not None
    finding = Finding.model_validate(detail)
    triage = assess(finding, Settings())
    # Then its steps are about an object that could not be scanned, not a malicious one
    assert choose_playbook(triage.parts, triage.resource_type, finding.type) == "s3_object_not_scanned"
    steps = planned(finding)
    assert steps[0].text == guidance.URGENCY_BY_TYPE[finding.type]
    text = " ".join(step.text for step in steps)
    assert "could not be scanned" in text and "scan the object again" in text.lower()
    assert "malicious" not in text.lower() and "uploaded it" not in text


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("AttackSequence_EKS_CompromisedCluster", ("cluster", "NetworkPolicy", "pods")),
        ("AttackSequence_ECS_CompromisedCluster", ("ECS cluster", "tasks", "task roles")),
        ("AttackSequence_EC2_CompromisedInstanceGroup", ("Auto Scaling group", "every instance", "launch template")),
    ],
)
def test_attack_sequence_steps_contain_the_sequence_resources(name, words):
    # Given an attack sequence about a cluster or an instance group
    steps = planned(family(name))
    text = " ".join(step.text for step in steps)
    # Then the steps name that service's resources and contain them, rotate the actors' credentials,
    # and keep the contributing findings
    for word in words:
        assert word in text
    assert {Intent.ISOLATE, Intent.ROTATE, Intent.KEEP_FINDINGS, Intent.SCOPE} <= {step.intent for step in steps}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Impact_IAMUser_AnomalousModelInvocation", ("Bedrock models", "rotate or revoke", "invocation logs")),
        ("Impact_IAMUser_CostHarvesting", ("Cost Explorer", "budget", "rotate", "enabled access to these models")),
        ("Impact_IAMUser_PromptInjection.Direct", ("guardrail", "prompt-attack filter", "rotate")),
    ],
)
def test_ai_protection_steps(name, words):
    # Given an AI Protection finding / Then its steps cover credentials, model access, guardrails or cost
    text = text_of(family(name))
    for word in words:
        assert word in text, word


@pytest.mark.parametrize(
    ("name", "service_words"),
    [
        ("DefenseImpairment_Organizations_DisableOrModifyTools", "organization's policies"),
        ("DefenseImpairment_Route53Resolver_DisableOrModifyTools", "Resolver query logging"),
        ("Execution_SageMaker_CommandAndScriptingInterpreter", "notebook lifecycle configuration"),
    ],
)
def test_custom_detection_rules_get_steps_for_their_service(name, service_words):
    # Given a custom detection rule finding (Tactic:Service/Technique) about a service
    text = text_of(family(name))
    # Then a step is about that service and the change, and the caller's credentials are handled
    assert service_words in text
    assert "Identify who made the change" in text
    assert "malware" not in text


def test_a_custom_detection_rule_on_ec2_is_about_the_change_not_an_instance():
    # Given a management-event finding about EC2 whose resource is the caller's access key
    event = minimal_event(
        "Persistence:EC2/BootOrLogonInitializationScripts",
        8.0,
        resource={"resourceType": "AccessKey", "accessKeyDetails": {"userName": "ops"}},
    )
    finding = GuardDutyEvent.model_validate(event).detail
    text = text_of(finding)
    # Then it is told to review and revert the change, and never to scan, isolate or terminate an instance
    assert "Review the EC2 change" in text
    assert not re.search(r"terminate|isolate|scan the instance", text, re.I)


# --- contradictions that stay fixed -------------------------------------------------------


def assert_preserve_first(steps: tuple[guidance.Step, ...]) -> None:
    preserve = [i for i, step in enumerate(steps) if Intent.PRESERVE in step.covers]
    if preserve:
        before = [
            step.text
            for step in steps[1 : preserve[0]]
            if DESTRUCTIVE.search(step.text) or step.covers & DESTRUCTIVE_IDEAS
        ]
        assert not before, before


@pytest.mark.parametrize("path", EVERY_FINDING, ids=ids(EVERY_FINDING))
def test_the_forensic_snapshot_comes_before_anything_that_changes_the_evidence(path):
    # Given a finding whose email says to preserve evidence (a forensic snapshot)
    steps = planned(finding_from(path))
    # Then no earlier step scans, removes, cleans, kills, terminates or rebuilds anything
    assert_preserve_first(steps)


@pytest.mark.parametrize(("finding_type", "severity"), EVERY_TYPE_AT_EVERY_BAND)
def test_the_forensic_snapshot_comes_first_for_every_documented_type(finding_type, severity):
    # Given any documented type at any band / Then the snapshot precedes every destructive step
    assert_preserve_first(planned(crafted(finding_type, severity)))


# Types whose name says that monitoring, logging or a defence was changed.
SAYS_CHANGED = re.compile(r"^Stealth:|Disabled|Modified|Change|DisableOrModify|^DefenseEvasion:IAMUser/Anomalous")
RESTORE_MONITORING = re.compile(r"\b(restore|re-enable)\b[^.]*\b(monitoring|logging)\b", re.I)


def all_findings() -> list[Finding]:
    return [finding_from(path) for path in EVERY_FINDING] + [
        crafted(finding_type, severity) for finding_type in ALL_TYPES for severity in (2.0, 5.0, 8.0)
    ]


def test_monitoring_is_restored_only_when_the_type_says_it_was_changed():
    # Given every finding (corpus, families, every documented type at every band)
    for finding in all_findings():
        if SAYS_CHANGED.search(finding.type):
            continue
        # Then none is told to restore monitoring or logging that nothing says was changed
        steps = [step.text for step in planned(finding)]
        assert not [step for step in steps if RESTORE_MONITORING.search(step)], (finding.type, steps)


def direction_of(finding: Finding) -> str | None:
    action = finding.service.action if finding.service else None
    return connection_direction(action.network_connection_action) if action else None


def role_of(finding: Finding) -> str:
    return (finding.service.resource_role if finding.service else None) or "TARGET"


# Our resource started the traffic: crafted outbound and actor findings beside the corpus's.
OUTBOUND = [
    crafted(finding_type, severity, direction="OUTBOUND", role=role, **extra)
    for finding_type, role, extra in (
        ("UnauthorizedAccess:EC2/TorClient", None, {}),
        ("UnauthorizedAccess:EC2/TorRelay", None, {}),
        ("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", None, {}),
        ("UnauthorizedAccess:EC2/SSHBruteForce", "ACTOR", {}),
        ("UnauthorizedAccess:EC2/RDPBruteForce", "ACTOR", {}),
        ("Impact:EC2/WinRMBruteForce", "ACTOR", {}),
        ("UnauthorizedAccess:Runtime/TorClient", None, {}),
        (
            "UnauthorizedAccess:Lambda/TorClient",
            None,
            {"resource": {"resourceType": "Lambda", "lambdaDetails": {"functionName": "fn"}}},
        ),
    )
    for severity in (2.0, 5.0, 8.0)
]
BLOCK_SOURCE = re.compile(r"\bblock the source|\bno access succeeded", re.I)


def test_outbound_findings_are_not_told_to_block_the_source_or_check_for_access():
    # Given every finding where our resource started the traffic (outbound, or the actor)
    findings = [f for f in all_findings() if direction_of(f) == "OUTBOUND" or role_of(f) == "ACTOR"] + OUTBOUND
    assert len(findings) > len(OUTBOUND)
    for finding in findings:
        # Then no step speaks of blocking "the source" or checking that no access succeeded:
        # the remote address is the destination, and nobody got in
        steps = [step.text for step in planned(finding)]
        assert not [step for step in steps if BLOCK_SOURCE.search(step)], (finding.type, steps)


def test_ports_are_closed_only_when_something_came_in():
    # Given every finding, and the crafted outbound ones
    for finding in [*all_findings(), *OUTBOUND]:
        triage = assess(finding, Settings())
        direction = direction_of(finding)
        verdict = verdict_for(
            finding.type, action_type=triage.action_type, direction=direction, resource_role=role_of(finding)
        )
        if direction == "INBOUND" or triage.action_type == "PORT_PROBE" or verdict is guidance.Verdict.EXPOSURE:
            continue
        # Then closing ports is advised only for inbound traffic, port probes and exposures
        steps = [step.text for step in planned(finding)]
        assert not [step for step in steps if ONE_IDEA["close ports"].search(step)], (finding.type, steps)


def test_no_step_points_at_credential_steps_the_email_does_not_have():
    # Given every finding
    for finding in all_findings():
        steps = planned(finding)
        # Then a step that refers to "the credential steps" comes with a step that rotates credentials
        if any("credential steps" in step.text for step in steps):
            assert any(Intent.ROTATE in step.covers for step in steps), [step.text for step in steps]


LAMBDA_TYPES = [t for t in ALL_TYPES if parse_type(t).resource == "Lambda"]


def test_lambda_steps_speak_of_code_not_processes():
    # Given every Lambda finding: the corpus's and each documented Lambda type at every band
    lambda_resource = {"resource": {"resourceType": "Lambda", "lambdaDetails": {"functionName": "fn"}}}
    findings = [f for f in all_findings() if parse_type(f.type).resource == "Lambda"] + [
        crafted(finding_type, severity, direction=direction, **lambda_resource)
        for finding_type in LAMBDA_TYPES
        for severity in (2.0, 5.0, 8.0)
        for direction in ("OUTBOUND", "INBOUND")
    ]
    assert LAMBDA_TYPES and len(findings) > 3 * len(LAMBDA_TYPES)
    for finding in findings:
        # Then no step sends the reader looking for a process (a function has code and layers)
        steps = [step.text for step in planned(finding)]
        assert not [step for step in steps if re.search(r"\bprocess", step, re.I)], (finding.type, steps)


@pytest.mark.parametrize(
    "name",
    [
        "PrivilegeEscalation_Runtime_DockerSocketAccessed__csa",
        "PrivilegeEscalation_Runtime_DockerSocketAccessed__elastic",
    ],
)
def test_docker_socket_access_is_told_about_the_socket(name):
    # Given a process that opened the Docker socket
    steps = planned(finding_from(FIXTURES / "corpus" / "events" / f"{name}.json"))
    text = " ".join(step.text for step in steps)
    # Then a step says what the socket gives (the host) and to stop mounting it, and the process is found
    assert re.search(r"Docker (daemon )?socket", text) and "mount" in text, text
    assert Intent.FIND_PROCESS in {step.intent for step in steps}
    # And the generic "review the permissions gained" is not its only advice
    assert "permissions gained" not in text


def test_traffic_alone_is_never_told_to_restore_from_backups():
    # Given every finding that saw only traffic (a lookup, a connection, a probe)
    for finding in [*all_findings(), *OUTBOUND]:
        if assess(finding, Settings()).action_type not in {"DNS_REQUEST", "NETWORK_CONNECTION", "PORT_PROBE"}:
            continue
        # Then nothing is restored from backups: traffic damaged nothing the finding shows
        steps = [step.text for step in planned(finding)]
        assert not [step for step in steps if re.search(r"restore from (versions or )?backups", step)], steps


def test_findings_without_a_workload_keep_their_wording_at_every_band():
    # Given malware found in what is not a running workload (a backup, an image, a snapshot, an object)
    names = [
        "Execution_EC2_MaliciousFile_RecoveryPoint",
        "Execution_EC2_MaliciousFile_Snapshot",
        "Execution_EC2_MaliciousFile_AMI",
        "Execution_S3_MaliciousFile_RecoveryPoint",
        "Object_S3_MaliciousFile_same_object",
    ]
    for name in names:
        detail = load(FIXTURES / "families" / f"{name}.json")["detail"]
        for severity in (2.0, 5.0, 8.0):
            finding = Finding.model_validate({**detail, "severity": severity})
            first = planned(finding)[0].text
            # Then its urgency line speaks of what the finding names, never of a compromised workload
            assert "what this finding names" in first, (name, severity, first)
            assert "command and control" not in first, (name, severity, first)
