"""Pure triage: bands, type grammar, action details, resource, evidence, steps, links."""

from __future__ import annotations

import itertools

import pytest

from responder.domain import guidance
from responder.domain.classify import (
    Classification,
    assess,
    band_for,
    choose_playbook,
    classify,
    decide,
    parse_type,
    response_steps,
)
from responder.domain.models import GuardDutyEvent
from responder.domain.settings import Bands, Settings
from tests.conftest import FINDING_EVENTS, finding_from, finding_types, load, minimal_event


def classify_event(event, settings=None) -> Classification:
    return classify(GuardDutyEvent.model_validate(event).detail, settings or Settings())


def finding_from_event(event):
    return GuardDutyEvent.model_validate(event).detail


def intents(finding, settings=None) -> list[guidance.Intent]:
    return [step.intent for step in response_steps(finding, assess(finding, settings or Settings()))]


def facts(c: Classification, section: str) -> dict[str, str]:
    return {f.label: f.value for f in getattr(c.presentation, section)}


# --- severity bands -------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "band"),
    [
        (0.1, "Low"),
        (3.9, "Low"),
        (4.0, "Medium"),
        (6.9, "Medium"),
        (7.0, "High"),
        (8.9, "High"),
        (9.0, "Critical"),
        (10.0, "Critical"),
    ],
)
def test_default_bands_follow_aws(severity, band):
    assert band_for(severity, Settings().bands) == band


@pytest.mark.parametrize(
    ("severity", "band"),
    [(2.9, "Low"), (3.0, "Medium"), (5.9, "Medium"), (6.0, "High"), (7.9, "High"), (8.0, "Critical")],
)
def test_custom_band_boundaries(severity, band):
    assert band_for(severity, Bands(medium=3.0, high=6.0, critical=8.0)) == band


# --- finding type grammar -------------------------------------------------------


@pytest.mark.parametrize(
    ("finding_type", "parts"),
    [
        ("Backdoor:EC2/C&CActivity.B!DNS", ("Backdoor", "EC2", "C&CActivity", "B", "DNS")),
        ("Execution:EC2/MaliciousFile!AMI", ("Execution", "EC2", "MaliciousFile", None, "AMI")),
        ("Execution:EC2/MaliciousFile!Snapshot", ("Execution", "EC2", "MaliciousFile", None, "Snapshot")),
        ("Impact:EC2/MaliciousDomainRequest.Custom", ("Impact", "EC2", "MaliciousDomainRequest", "Custom", None)),
        ("Impact:EC2/AbusedDomainRequest.Reputation", ("Impact", "EC2", "AbusedDomainRequest", "Reputation", None)),
        (
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
            ("CredentialAccess", "RDS", "AnomalousBehavior", "SuccessfulBruteForce", None),
        ),
        (
            "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount",
            ("Persistence", "Kubernetes", "AnomalousBehavior", "WorkloadDeployed", "ContainerWithSensitiveMount"),
        ),
        ("AttackSequence:IAM/CompromisedCredentials", ("AttackSequence", "IAM", "CompromisedCredentials", None, None)),
        ("Execution:Runtime/ReverseShell", ("Execution", "Runtime", "ReverseShell", None, None)),
        ("Trojan:EC2/DGADomainRequest.C!DNS", ("Trojan", "EC2", "DGADomainRequest", "C", "DNS")),
        ("Future:Thing/Family.A.B.C", ("Future", "Thing", "Family", "A.B.C", None)),
    ],
)
def test_type_grammar(finding_type, parts):
    p = parse_type(finding_type)
    assert (p.purpose, p.resource, p.family, p.mechanism, p.artifact) == parts


@pytest.mark.parametrize("finding_type", ["", "NoColon", "Purpose:NoSlash", ":/", "a b:c/d", "Recon:EC2/"])
def test_unparseable_types_give_empty_parts(finding_type):
    p = parse_type(finding_type)
    assert (p.purpose, p.resource, p.family, p.mechanism, p.artifact) == (None,) * 5


ALL_TYPES = finding_types()
SEVERITY_BY_DEFAULT = {"Critical": 9.0, "High": 8.0, "Medium": 5.0, "Low": 2.0}


def _default_severity(text: str) -> float:
    return next((value for name, value in SEVERITY_BY_DEFAULT.items() if text.startswith(name)), 5.0)


@pytest.mark.parametrize("row", ALL_TYPES, ids=[row["finding_type"] for row in ALL_TYPES])
def test_every_reference_type_is_parsed_and_gets_steps(row):
    finding_type = row["finding_type"]
    # Given a finding of that type at its default severity
    c = classify_event(minimal_event(finding_type, _default_severity(row["default_severity"])))
    # Then the type is parsed back into exactly its parts
    p = c.triage.parts
    rebuilt = f"{p.purpose}:{p.resource}/{p.family}"
    rebuilt += f".{p.mechanism}" if p.mechanism else ""
    rebuilt += f"!{p.artifact}" if p.artifact else ""
    assert rebuilt == finding_type
    # And the purpose is a known one, the playbook matches the resource family,
    # and there are at least three concrete steps
    assert c.triage.purpose_key in guidance.PURPOSES
    assert c.presentation.playbook != "generic"
    assert len(c.presentation.steps) >= 3
    assert c.presentation.steps[0] in urgency_lines(c.triage.band)


def urgency_lines(band) -> set[str]:
    """The first steps a band may open with: its own, or one worded for what the type says."""
    lines = {guidance.URGENCY[band], *(text for (b, _), text in guidance.URGENCY_BY_VERDICT.items() if b == band)}
    return lines | ({guidance.URGENCY_NO_WORKLOAD[band]} if band in guidance.URGENCY_NO_WORKLOAD else set())


# Types whose docs link is a sibling of the page the reference lists: credentials exfiltrated from
# EC2 and used inside AWS are handled as compromised credentials.
SIBLING_PAGES = frozenset({"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS"})


def test_reference_remediation_page_matches_our_playbook_for_every_type():
    # Given every finding type and the remediation pages the reference lists for it
    mismatches = set()
    for row in ALL_TYPES:
        c = classify_event(minimal_event(row["finding_type"]))
        # A cell may carry a note: "compromised-ec2 (suppression guidance also given)".
        pages = {page.split(" (")[0].strip() for page in row["remediation_pages"].split(",")}
        if guidance.PLAYBOOKS[c.presentation.playbook].doc_slug not in pages:
            mismatches.add(row["finding_type"])
    # Then the docs link we send is one of them, except the named siblings (exactly those)
    assert mismatches == SIBLING_PAGES, mismatches ^ SIBLING_PAGES


def test_guidance_differs_between_resource_families():
    types = {
        "ec2": "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
        "credentials": "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom",
        "s3": "UnauthorizedAccess:S3/MaliciousIPCaller.Custom",
        "kubernetes": "Discovery:Kubernetes/MaliciousIPCaller.Custom",
        "lambda": "UnauthorizedAccess:Lambda/MaliciousIPCaller.Custom",
        "runtime": "Execution:Runtime/ReverseShell",
        "rds": "Discovery:RDS/MaliciousIPCaller",
    }
    steps = {name: set(classify_event(minimal_event(t)).presentation.steps) for name, t in types.items()}
    for a, b in itertools.combinations(steps, 2):
        # At least three steps of each differ from the other family's
        assert len(steps[a] - steps[b]) >= 3, (a, b)


def test_guidance_differs_between_purposes_on_the_same_resource():
    purposes = ["Backdoor", "Recon", "CryptoCurrency", "Trojan", "UnauthorizedAccess", "Impact", "Behavior"]
    findings = {p: finding_from_event(minimal_event(f"{p}:EC2/SomethingNew")) for p in purposes}
    planned = {p: response_steps(f, assess(f, Settings())) for p, f in findings.items()}
    steps = {p: {step.text for step in planned[p]} for p in purposes}
    for a, b in itertools.combinations(purposes, 2):
        assert steps[a] != steps[b], (a, b)
    for p in purposes:
        # Each purpose's advice is there, unless a more specific step already says the same idea
        purpose_step = guidance.PURPOSES[p].step
        assert purpose_step in planned[p] or any(purpose_step.intent in s.covers for s in planned[p]), p


def test_type_specific_steps_cover_the_common_types():
    covered = set(guidance.TYPE_STEPS)
    reference = {row["finding_type"] for row in ALL_TYPES}
    assert len(covered) >= 40
    assert covered <= reference, covered - reference
    families = {t.split(":")[1].split("/")[0] for t in covered}
    assert {"EC2", "IAMUser", "S3", "Kubernetes"} <= families


def test_unknown_future_type_gets_generic_but_useful_guidance():
    c = classify_event(load("crafted/Future_Unknown_Type.json"))
    assert c.triage.purpose_key is None
    assert c.presentation.playbook == "generic"
    assert guidance.UNKNOWN_PURPOSE.step.text in c.presentation.steps
    assert len(c.presentation.steps) >= 3
    assert c.triage.action_type == "SATELLITE_UPLINK"


def test_type_with_unsafe_characters_is_classified_but_not_trusted():
    c = classify_event(minimal_event("Recon:EC2/Port\r\nBcc: x@example.com"))
    assert c.triage.safe_type is None
    assert len(c.presentation.steps) >= 3


@pytest.mark.parametrize(
    ("parts_type", "resource_type", "playbook"),
    [
        ("Execution:EC2/MaliciousFile!Snapshot", "Instance", "malware_backup_snapshot"),
        ("Execution:EC2/MaliciousFile!AMI", "EC2Image", "malware_backup_ami"),
        ("Execution:EC2/MaliciousFile!RecoveryPoint", "EC2RecoveryPoint", "malware_backup_ec2_recovery_point"),
        ("Execution:S3/MaliciousFile!RecoveryPoint", "S3Bucket", "malware_backup_s3_recovery_point"),
        ("Object:S3/MaliciousFile", "S3Object", "malware_s3_object"),
        ("Execution:ECS/MaliciousFile", "ECSCluster", "ecs"),
        ("Execution:Container/SuspiciousFile", "Container", "container"),
        ("Execution:EC2/MaliciousFile", "Instance", "malware_ec2"),
        ("AttackSequence:EKS/CompromisedCluster", "AttackSequence", "attack_sequence_eks"),
        ("AttackSequence:ECS/CompromisedCluster", "AttackSequence", "attack_sequence_ecs"),
        ("AttackSequence:EC2/CompromisedInstanceGroup", "AttackSequence", "attack_sequence_ec2"),
        ("AttackSequence:IAM/CompromisedCredentials", "AttackSequence", "attack_sequence"),
        ("Execution:Runtime/ReverseShell", "Instance", "runtime_ec2"),
        ("Execution:Runtime/ReverseShell", "EKSCluster", "runtime_eks"),
        ("Execution:Runtime/ReverseShell", "ECSCluster", "runtime_ecs"),
        ("Execution:Runtime/ReverseShell", "Container", "runtime_container"),
        ("Execution:Runtime/ReverseShell", None, "runtime"),
        ("DefenseImpairment:Organizations/DisableOrModifyTools", "AccessKey", "api_organizations"),
        ("Persistence:EC2/BootOrLogonInitializationScripts", "AccessKey", "api_ec2"),
        ("Persistence:EC2/BootOrLogonInitializationScripts", "Instance", "ec2"),
        ("Impact:SES/ResourceHijacking", "AccessKey", "api_ses"),
        ("Persistence:IAM/AccountManipulation", "AccessKey", "credentials"),
        ("Weird:Unknown/Thing", "AccessKey", "credentials"),
        ("Weird:Unknown/Thing", None, "generic"),
    ],
)
def test_playbook_choice(parts_type, resource_type, playbook):
    assert choose_playbook(parse_type(parts_type), resource_type) == playbook


# --- actions and direction --------------------------------------------------------


def test_inbound_ssh_brute_force_means_tighten_access():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), Settings())
    assert c.triage.action_type == "NETWORK_CONNECTION"
    assert c.presentation.direction == "INBOUND"
    assert c.presentation.resource_role == "TARGET"
    # Tighten access, said once (the type's step is the most specific); no containment
    planned = intents(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"))
    assert planned.count(guidance.Intent.RESTRICT_ACCESS) == 1
    assert not guidance.CONTAINMENT & set(planned)
    assert guidance.ACTION_STEPS[("NETWORK_CONNECTION", "ACTOR")][0].text not in c.presentation.steps
    action = facts(c, "action_facts")
    assert action["f.direction"] == "dir.INBOUND"
    assert action["f.local_port"] == "22 (SSH)"
    assert action["f.protocol"] == "TCP"
    assert action["f.remote_ip"] == "198.51.100.0"


def test_actor_brute_force_means_our_instance_is_compromised():
    event = load("events/UnauthorizedAccess_EC2_SSHBruteForce.json")
    event["detail"]["service"]["resourceRole"] = "ACTOR"
    event["detail"]["service"]["action"]["networkConnectionAction"]["connectionDirection"] = "OUTBOUND"
    c = classify_event(event)
    assert guidance.ACTION_STEPS[("NETWORK_CONNECTION", "ACTOR")][0].text in c.presentation.steps
    assert guidance.ACTION_STEPS[("NETWORK_CONNECTION", "INBOUND")][0].text not in c.presentation.steps


def test_outbound_connection_without_role_means_finding_what_started_it():
    event = minimal_event(
        service={
            "action": {
                "actionType": "NETWORK_CONNECTION",
                "networkConnectionAction": {"connectionDirection": "outbound", "protocol": "UDP"},
            }
        }
    )
    c = classify_event(event)
    assert c.presentation.direction == "OUTBOUND"
    assert guidance.ACTION_STEPS[("NETWORK_CONNECTION", "OUTBOUND")][0].text in c.presentation.steps


def test_unexpected_direction_is_reported_as_unknown():
    event = minimal_event(
        service={
            "action": {
                "actionType": "NETWORK_CONNECTION",
                "networkConnectionAction": {"connectionDirection": "SIDEWAYS"},
            }
        }
    )
    assert classify_event(event).presentation.direction == "UNKNOWN"


def test_port_probe_details():
    c = classify(finding_from("events/Recon_EC2_PortProbeUnprotectedPort.json"), Settings())
    action = facts(c, "action_facts")
    assert c.triage.action_type == "PORT_PROBE"
    assert action["f.probed_ports"] == "80 (HTTP), 443 (HTTPS), 22 (SSH), 3306 (MySQL)"
    assert action["f.probe_sources"].startswith("198.51.100.0, 198.51.100.1")
    assert action["f.blocked"] == "v.no"
    assert action["f.asn"] == "9808"
    # The probed ports are closed once: the type's own step says it, the action's would repeat it
    assert guidance.TYPE_STEPS["Recon:EC2/PortProbeUnprotectedPort"][0].text in c.presentation.steps
    assert guidance.ACTION_STEPS[("PORT_PROBE", "TARGET")][0].text not in c.presentation.steps
    port_probe = minimal_event("Recon:EC2/SomethingNew", service={"action": {"actionType": "PORT_PROBE"}})
    assert guidance.ACTION_STEPS[("PORT_PROBE", "TARGET")][0].text in classify_event(port_probe).presentation.steps


def test_dns_request_details():
    c = classify(finding_from("events/CryptoCurrency_EC2_BitcoinTool.B_DNS.json"), Settings())
    action = facts(c, "action_facts")
    assert c.triage.action_type == "DNS_REQUEST"
    assert action["f.domain"]
    assert any(f.label == "f.domain" and f.ioc for f in c.presentation.action_facts)
    # The type's step finds the process and blocks the domain; the action's same advice is not repeated
    assert guidance.TYPE_STEPS["CryptoCurrency:EC2/BitcoinTool.B!DNS"][0].text in c.presentation.steps
    assert guidance.ACTION_STEPS[("DNS_REQUEST", "TARGET")][0].text not in c.presentation.steps


def test_aws_api_call_details():
    c = classify(finding_from("events/Recon_IAMUser_MaliciousIPCaller.json"), Settings())
    action = facts(c, "action_facts")
    assert c.triage.action_type == "AWS_API_CALL"
    assert action["f.api"]
    assert action["f.service"]
    assert action["f.caller_type"]
    assert "f.remote_ip" in action
    resource = facts(c, "resource_facts")
    assert resource["f.access_key"]
    assert resource["f.user_type"]


def test_kubernetes_api_call_details():
    c = classify(finding_from("events/Discovery_Kubernetes_TorIPCaller.json"), Settings())
    action = facts(c, "action_facts")
    assert c.triage.action_type == "KUBERNETES_API_CALL"
    assert action["f.verb"] == "list"
    assert action["f.request_uri"] == "GeneratedFindingRequestURI"
    assert action["f.source_ips"] == "175.16.199.1"
    assert action["f.status_code"] == "200"
    resource = facts(c, "resource_facts")
    assert resource["f.eks_cluster"] == "GeneratedFindingEKSClusterName"
    assert resource["f.k8s_user"] == "GeneratedFindingUserName"


def test_rds_login_details():
    c = classify(finding_from("events/CredentialAccess_RDS_AnomalousBehavior.SuccessfulLogin.json"), Settings())
    resource = facts(c, "resource_facts")
    assert c.triage.action_type == "RDS_LOGIN_ATTEMPT"
    assert resource["f.rds_instance"] == "GeneratedFindingDBInstanceId"
    assert resource["f.db_user"] == "GeneratedFindingUserName"
    assert resource["f.db_application"] == "GeneratedFindingApplicationName"
    assert resource["f.auth_method"] == "GeneratedFindingAuthMethod"
    assert facts(c, "action_facts")["f.remote_ip"] == "175.16.199.1"


def test_rds_login_attributes_are_listed():
    event = minimal_event(
        "CredentialAccess:RDS/TorIPCaller.FailedLogin",
        service={
            "action": {
                "actionType": "RDS_LOGIN_ATTEMPT",
                "rdsLoginAttemptAction": {
                    "LoginAttributes": [{"user": "admin", "application": "psql", "failedLoginAttempts": 12}]
                },
            }
        },
    )
    assert facts(classify_event(event), "action_facts")["f.login_result"] == "admin / psql: 12 / 0"


def test_kubernetes_permission_role_and_binding_details():
    perm = classify(finding_from("crafted/Discovery_Kubernetes_PermissionChecked.json"), Settings())
    assert perm.triage.action_type == "KUBERNETES_PERMISSION_CHECKED"
    assert (
        facts(perm, "action_facts").items()
        >= {"f.verb": "create", "f.namespace": "kube-system", "f.allowed": "v.yes"}.items()
    )
    binding = classify(finding_from("crafted/PrivilegeEscalation_Kubernetes_RoleBindingCreated.json"), Settings())
    assert facts(binding, "action_facts")["f.role"] == "ClusterRole cluster-admin"
    # The type's step about the new binding is the more specific one
    assert guidance.ACTION_STEPS[("KUBERNETES_ROLE_BINDING", "TARGET")][0].text not in binding.presentation.steps
    assert (
        intents(finding_from("crafted/PrivilegeEscalation_Kubernetes_RoleBindingCreated.json")).count(
            guidance.Intent.REVIEW_PERMISSIONS
        )
        == 1
    )
    role = classify(finding_from("crafted/PrivilegeEscalation_Kubernetes_RoleCreated.json"), Settings())
    assert facts(role, "action_facts")["f.role"] == "ClusterRole wide-open"


# --- resource --------------------------------------------------------------------


def test_instance_resource_details():
    c = classify(finding_from("crafted/Execution_EC2_MaliciousFile.json"), Settings())
    resource = facts(c, "resource_facts")
    assert resource["f.instance_id"] == "i-0abc1234def567890"
    assert resource["f.instance_name"] == "web-01"
    assert resource["f.instance_type"] == "t3.micro"
    assert resource["f.image_id"] == "ami-0123456789abcdef0"
    assert resource["f.vpc"] == "vpc-0bbb"
    assert resource["f.subnet"] == "subnet-0aaa"
    assert resource["f.security_groups"] == "sg-0ccc (web)"
    assert resource["f.public_ip"] == "203.0.113.10"
    assert c.presentation.resource_label == "i-0abc1234def567890"


def test_ecs_lambda_and_bucket_resources():
    ecs = facts(classify(finding_from("crafted/Execution_Runtime_ReverseShell_ECS.json"), Settings()), "resource_facts")
    assert ecs["f.ecs_cluster"] == "payments"
    assert ecs["f.ecs_task"].endswith("task/payments/0123456789abcdef")
    assert ecs["f.image"].endswith("api:1.4")
    fn = classify(finding_from("crafted/Backdoor_Lambda_CCActivity.B.json"), Settings())
    assert facts(fn, "resource_facts")["f.lambda"] == "image-resizer"
    assert fn.presentation.resource_role == "ACTOR"
    s3 = facts(classify(finding_from("events/Impact_S3_MaliciousIPCaller.json"), Settings()), "resource_facts")
    assert "f.bucket" in s3


def test_unsafe_resource_identifier_is_not_used_as_label():
    event = minimal_event(resource={"resourceType": "Instance", "instanceDetails": {"instanceId": "i-1\r\nBcc: x"}})
    assert classify_event(event).presentation.resource_label is None


# --- frequency, flags, decision, links ---------------------------------------------


def test_frequency_and_flags():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), Settings())
    often = facts(c, "frequency_facts")
    assert often["f.count"] == "2"
    assert often["f.first_seen"] == "2025-08-22T01:40:09.000Z"
    assert often["f.last_seen"] == "2025-10-01T18:05:37.000Z"
    assert c.triage.is_sample is True
    assert c.triage.archived is False


@pytest.mark.parametrize(
    ("severity", "archived", "sample", "include_samples", "expected"),
    [
        (5.0, False, False, True, (True, "notify")),
        (3.9, False, False, True, (False, "below_threshold")),
        (4.0, False, False, True, (True, "notify")),
        (8.0, True, False, True, (False, "archived")),
        (8.0, False, True, True, (True, "notify")),
        (8.0, False, True, False, (False, "sample_excluded")),
    ],
)
def test_decide(severity, archived, sample, include_samples, expected):
    service = {"archived": archived, "additionalInfo": {"sample": sample}}
    c = classify_event(minimal_event(severity=severity, service=service))
    decision = decide(c.triage, Settings(include_samples=include_samples))
    assert (decision.notify, decision.reason) == expected


def test_threshold_is_a_setting():
    c = classify_event(minimal_event(severity=6.0))
    assert decide(c.triage, Settings(threshold=7.0)).reason == "below_threshold"
    assert decide(c.triage, Settings(threshold=6.0)).notify


def test_commands_and_links_are_built_from_validated_parts():
    c = classify(finding_from("events/UnauthorizedAccess_EC2_SSHBruteForce.json"), Settings())
    assert c.links.archive_command == (
        "aws guardduty archive-findings --detector-id 12cc51e1c99e833adf5924c71ac591b2"
        " --finding-ids 49514155ed6b4536b05649a87fc3c05a --region us-east-1"
    )
    assert c.links.export_command.startswith(
        "aws guardduty get-findings --detector-id 12cc51e1c99e833adf5924c71ac591b2"
    )
    assert c.links.console_url == (
        "https://us-east-1.console.aws.amazon.com/guardduty/home?region=us-east-1"
        "#/findings?macros=current&fId=49514155ed6b4536b05649a87fc3c05a"
    )
    assert c.links.docs_url == "https://docs.aws.amazon.com/guardduty/latest/ug/compromised-ec2.html"


def test_unvalidated_parts_become_placeholders_and_no_console_link():
    event = minimal_event(id="bad id/../x", region="us-east-1\r\n")
    event["detail"]["service"]["detectorId"] = "<detector>"
    c = classify_event(event)
    assert c.links.archive_command == (
        "aws guardduty archive-findings --detector-id DETECTOR_ID --finding-ids FINDING_ID --region REGION"
    )
    assert c.links.console_url is None


@pytest.mark.parametrize(
    ("partition", "host"),
    [("aws-us-gov", "https://console.amazonaws-us-gov.com/"), ("aws-cn", "https://console.amazonaws.cn/")],
)
def test_console_link_per_partition(partition, host):
    c = classify_event(minimal_event(partition=partition))
    assert c.links.console_url is not None and c.links.console_url.startswith(host)


@pytest.mark.parametrize("path", FINDING_EVENTS, ids=lambda p: p.stem)
def test_every_bundled_finding_is_classified(path):
    c = classify(finding_from(path), Settings())
    assert c.triage.band in ("Critical", "High", "Medium", "Low")
    assert len(c.presentation.steps) >= 3
    assert c.links.docs_url.startswith(guidance.DOCS_BASE)


@pytest.mark.parametrize("path", FINDING_EVENTS, ids=lambda p: p.stem)
def test_the_triage_function_decides_on_the_very_facts_the_email_shows(path):
    # Given a finding, under settings that suppress, exclude samples and move the bands
    settings = Settings(
        band_high=6.0, include_samples=False, suppress_types=("Recon:*",), suppress_accounts=("123456789012",)
    )
    finding = finding_from(path)
    # When the triage function assesses it (no email built) and the notifier classifies it
    triage = assess(finding, settings)
    # Then both have the same triage facts: one place decides each of them
    assert triage == classify(finding, settings).triage
    assert decide(triage, settings) == decide(classify(finding, settings).triage, settings)


def test_the_triage_use_case_builds_no_email_facts():
    import responder.app.triage as triage_use_case

    # The triage function assesses (Triage only): presentation and links are the notifier's cost
    assert triage_use_case.assess is assess
    assert not hasattr(triage_use_case, "classify")


# --- account names (issue 13) -----------------------------------------------------------


def test_the_account_fact_is_the_accounts_label_when_it_has_a_name():
    # Given a finding whose account the organisation names, and the same finding unnamed
    from responder.domain.accounts import Account

    finding = finding_from_event(minimal_event())
    named = classify(finding, Settings(), Account("123456789012", "payments-prod"))
    unnamed = classify(finding, Settings())
    # Then the triage carries the name, and the account fact reads "name (id)", else the id alone
    assert named.triage.account_name == "payments-prod"
    assert facts(named, "overview")["f.account"] == "payments-prod (123456789012)"
    assert unnamed.triage.account_name is None
    assert facts(unnamed, "overview")["f.account"] == "123456789012"
    # And nothing else of the classification changes with the name
    assert facts(named, "overview") | {"f.account": "123456789012"} == facts(unnamed, "overview")
    assert named.links == unnamed.links and named.presentation.steps == unnamed.presentation.steps


def test_the_mapping_names_the_account_fact_when_the_organisation_does_not():
    # Given no organisation data, and the operator's ACCOUNT_NAMES naming the account
    c = classify_event(minimal_event(), Settings(account_names={"123456789012": "Security Tooling"}))
    # Then the fact shows the mapping's name
    assert facts(c, "overview")["f.account"] == "Security Tooling (123456789012)"


# --- the Respond section's offers ---------------------------------------------------------


def test_classify_offers_the_runbooks_under_the_notifiers_runbook_settings():
    from responder.app.settings import NotifierSettings

    # Given a member account's compromised instance and a notifier whose members have no execution role
    event = minimal_event("Backdoor:EC2/C&CActivity.B", 8.0, accountId="111122223333")
    env = {
        "CHANNELS": "sns",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
        "DIGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/digest",
        "RESPONDER_ACCOUNT": "123456789012",
        "AWS_REGION": "us-east-1",
    }
    c = classify_event(event, NotifierSettings.from_env(env))
    # Then the email offers isolate (run in the member account: the note names it) and archive (local)
    assert [(o.key, o.note, o.note_args) for o in c.links.respond] == [
        ("isolate", "r.note.other_account", (("account", "111122223333"),)),
        ("archive", None, ()),
    ]
    # And each step's intent is known, in step order, for the Respond section to point at
    assert len(c.presentation.step_intents) == len(c.presentation.steps)
    assert c.presentation.step_intents[0] == guidance.Intent.URGENCY
    assert c.links.respond[0].intent in c.presentation.step_intents
