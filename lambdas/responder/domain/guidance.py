"""Response guidance: what to do about a finding, as reviewable data.

Every step a recipient reads is in this module. Each step names the one idea it covers
(``Intent``) and the least ``Posture`` it fits: containment, evidence snapshots and rebuilds
need a resource that is likely compromised. What a finding type says about its resource
(compromise, malware in stored data, exposure, a risky setting, an activity that
succeeded) is the ``VERDICTS`` table.
``classify.plan_steps`` decides which rows apply: the most specific source of an idea
wins (type, then action, then the resource playbook, then the purpose), so each idea is
said once. Nothing here branches. The English text is the source language of the message
catalogue. Sources: AWS GuardDuty remediation pages (summarised in our own words).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final, NamedTuple

from responder.domain.settings import Band

DOCS_BASE: Final = "https://docs.aws.amazon.com/guardduty/latest/ug/"


class Intent(StrEnum):
    """The one idea a step covers: an email says each idea once."""

    URGENCY = "urgency"
    IDENTIFY = "identify"  # name the resource, the identity, the artefact
    CONFIRM = "confirm"  # ask the owner whether it was expected
    RESTRICT_ACCESS = "restrict_access"  # close ports, tighten policies and network access
    BLOCK_REMOTE = "block_remote"  # block the remote address or domain
    FIND_PROCESS = "find_process"  # the process or code behind the activity
    SCAN = "scan"  # look for malware
    PRESERVE = "preserve"  # forensic snapshot before changing anything
    ISOLATE = "isolate"  # cut the resource off / stop it running
    REBUILD = "rebuild"  # terminate, replace, redeploy from a known-good source
    ROTATE = "rotate"  # rotate or revoke credentials and secrets
    REVIEW_ACTIVITY = "review_activity"  # logs of what the identity or address did
    REVIEW_PERMISSIONS = "review_permissions"
    RESTORE_CONTROL = "restore_control"  # re-enable logging, revert a change
    FIX_CAUSE = "fix_cause"  # how it happened, and closing that way in
    CLEAN_UP = "clean_up"  # remove what the actor created
    ASSESS_DATA = "assess_data"  # what data was read or sent
    ASSESS_IMPACT = "assess_impact"  # damage, deletions, cost
    SCOPE = "scope"  # related findings, one incident
    CHECK_IMAGE = "check_image"  # the image or artefact the workload came from
    QUARANTINE = "quarantine"  # keep an infected object or backup from being used
    FIND_SOURCE = "find_source"  # where an infected object or backup came from
    RESCAN = "rescan"  # confirm with a later scan
    KEEP_FINDINGS = "keep_findings"


# Ideas that contain or destroy a workload: only for a resource that is likely compromised.
CONTAINMENT: Final = frozenset({Intent.PRESERVE, Intent.ISOLATE, Intent.REBUILD})


class Posture(IntEnum):
    """How far the finding says its resource is compromised (ordered)."""

    EXPOSED = 1  # probed, attempted, or misconfigured: nothing shows the resource was reached
    SUSPECT = 2  # may be compromised: confirm before containing
    COMPROMISED = 3  # likely compromised: contain, keep evidence, rebuild


@dataclass(frozen=True)
class Step:
    """One response step: its text, the idea it covers, and when it fits."""

    text: str
    intent: Intent
    also: tuple[Intent, ...] = ()  # further ideas the text covers: later steps about them are dropped
    needs: Posture = Posture.EXPOSED  # the least posture it fits
    role: str | None = None  # only when GuardDuty's resourceRole is this (a missing role counts as TARGET)

    @property
    def covers(self) -> frozenset[Intent]:
        """Every idea this step says."""
        return frozenset((self.intent, *self.also))


class Playbook(NamedTuple):
    doc_slug: str  # page under DOCS_BASE, without ".html"
    steps: tuple[Step, ...]
    workload: bool = True  # names a running workload that can be isolated (the urgency line says so)


class Verdict(StrEnum):
    """What a finding type says about its resource, whatever the band."""

    COMPROMISE = "compromise"  # the type means the resource is compromised (malware, C&C, mining)
    INFECTED_DATA = "infected_data"  # malware in stored data (an object, a snapshot, an AMI, a backup): nothing ran
    EXPOSURE = "exposure"  # the resource was probed or attacked from outside; nothing shows it was reached
    CONFIGURATION = "configuration"  # a risky setting or change, not a compromise in itself
    OCCURRED = "occurred"  # the activity succeeded (a login, a change): never "an attempt"


@dataclass(frozen=True)
class VerdictRule:
    pattern: str  # finding type, shell-style (fnmatch, case-sensitive)
    verdict: Verdict
    role: str | None = None  # only for this resourceRole (missing counts as TARGET)
    action: str | None = None  # only for this actionType
    direction: str | None = None  # only for this connection direction


# First matching rule wins. Types not listed follow the band (``BAND_POSTURE``).
VERDICTS: Final[tuple[VerdictRule, ...]] = (
    # Brute force: our resource attacking others is compromised; being attacked is exposure.
    VerdictRule("UnauthorizedAccess:EC2/SSHBruteForce", Verdict.COMPROMISE, role="ACTOR"),
    VerdictRule("UnauthorizedAccess:EC2/RDPBruteForce", Verdict.COMPROMISE, role="ACTOR"),
    VerdictRule("Impact:EC2/WinRMBruteForce", Verdict.COMPROMISE, role="ACTOR"),
    VerdictRule("UnauthorizedAccess:EC2/SSHBruteForce", Verdict.EXPOSURE),
    VerdictRule("UnauthorizedAccess:EC2/RDPBruteForce", Verdict.EXPOSURE),
    VerdictRule("Impact:EC2/WinRMBruteForce", Verdict.EXPOSURE),
    VerdictRule("Recon:EC2/PortProbe*", Verdict.EXPOSURE),
    # The type itself means compromise.
    VerdictRule("Backdoor:*", Verdict.COMPROMISE),
    VerdictRule("CryptoCurrency:*", Verdict.COMPROMISE),
    VerdictRule("Trojan:*", Verdict.COMPROMISE, action="NETWORK_CONNECTION", direction="OUTBOUND"),
    # Malware in stored data: compromised too, but no workload to contain (the urgency line says so).
    VerdictRule("*/MaliciousFile!Snapshot", Verdict.INFECTED_DATA),
    VerdictRule("*/MaliciousFile!AMI", Verdict.INFECTED_DATA),
    VerdictRule("*/MaliciousFile!RecoveryPoint", Verdict.INFECTED_DATA),
    VerdictRule("Object:S3/MaliciousFile", Verdict.INFECTED_DATA),
    VerdictRule("S3Object:S3/MaliciousFile", Verdict.INFECTED_DATA),
    VerdictRule("Execution:*/MaliciousFile*", Verdict.COMPROMISE),  # malware found on a workload's EBS volumes
    VerdictRule("AttackSequence:*", Verdict.COMPROMISE),
    VerdictRule("Execution:Runtime/ReverseShell", Verdict.COMPROMISE),
    VerdictRule("Execution:Runtime/MaliciousFileExecuted*", Verdict.COMPROMISE),
    VerdictRule("Impact:Runtime/CryptoMinerExecuted", Verdict.COMPROMISE),
    VerdictRule("DefenseEvasion:Runtime/ProcessInjection.*", Verdict.COMPROMISE),
    # A setting against best practice.
    VerdictRule("Policy:*", Verdict.CONFIGURATION),
    # Activities that took place, whatever their band.
    VerdictRule("Stealth:*", Verdict.OCCURRED),
    VerdictRule("*/*.Successful*", Verdict.OCCURRED),
    VerdictRule("*:Kubernetes/SuccessfulAnonymousAccess", Verdict.OCCURRED),
)

# Posture by band for types without a verdict (AWS: High means compromised and actively misused).
BAND_POSTURE: Final[dict[Band, Posture]] = {
    Band.CRITICAL: Posture.COMPROMISED,
    Band.HIGH: Posture.COMPROMISED,
    Band.MEDIUM: Posture.SUSPECT,
    Band.LOW: Posture.EXPOSED,
}
VERDICT_POSTURE: Final[dict[Verdict, Posture]] = {
    Verdict.COMPROMISE: Posture.COMPROMISED,
    Verdict.INFECTED_DATA: Posture.COMPROMISED,
    Verdict.EXPOSURE: Posture.EXPOSED,
    Verdict.CONFIGURATION: Posture.EXPOSED,
}

# Urgency by band: always the first step. Below: what replaces it when the type says more.
URGENCY: Final[dict[Band, str]] = {
    Band.CRITICAL: "Act now: an attack sequence is likely in progress or has just happened and "
    "one or more resources or credentials are probably compromised. Open an incident and "
    "triage this before anything else.",
    Band.HIGH: "Act immediately: the resource is likely compromised and being misused. Contain it "
    "before investigating further; the steps below say how.",
    Band.MEDIUM: "Investigate today: the activity deviates from normal and may indicate compromise. "
    "Confirm whether it was authorised; if it cannot be explained, treat it as a compromise.",
    Band.LOW: "Review when convenient: GuardDuty rates this activity as low risk. No immediate "
    "action is needed; confirm it was expected and keep it as context for other findings.",
}
URGENCY_BY_VERDICT: Final[dict[tuple[Band, Verdict], str]] = {
    (Band.HIGH, Verdict.EXPOSURE): "Act today: a sensitive service on your resource is reachable "
    "and being probed or attacked from outside. Nothing in the finding shows that the resource "
    "is compromised yet: close the exposure first.",
    # Whether an attempt succeeded is the type's step (it says which log to read), not said twice.
    (Band.MEDIUM, Verdict.EXPOSURE): "Investigate today: your resource is being probed or attacked "
    "from outside, and nothing in the finding shows yet that an attempt succeeded. Reduce the exposure; "
    "the steps below say how.",
    (Band.LOW, Verdict.EXPOSURE): "Review when convenient: your resource was probed or attacked "
    "from outside, and nothing in the finding shows that the attempt succeeded. No immediate "
    "action is needed; reduce the exposure when you can.",
    (Band.HIGH, Verdict.CONFIGURATION): "Act today: a high-risk setting exposes your resources "
    "(for example public or anonymous access). Revert it unless it is intended; nothing in the "
    "finding shows that it has been abused yet.",
    (Band.MEDIUM, Verdict.CONFIGURATION): "Investigate today: a setting goes against security best "
    "practice. Confirm it is intended, or correct it.",
    (Band.LOW, Verdict.CONFIGURATION): "Review when convenient: a setting goes against security "
    "best practice, but nothing in the finding shows that it has been abused. Correct it or "
    "record why it is intended.",
    (Band.MEDIUM, Verdict.OCCURRED): "Investigate today: this activity succeeded (it was not only "
    "attempted). Confirm whether it was authorised; if it cannot be explained, treat it as a compromise.",
    (Band.LOW, Verdict.OCCURRED): "Review today: this activity succeeded (it was not only "
    "attempted), although GuardDuty rates it as low risk. Confirm that it was authorised.",
    (Band.MEDIUM, Verdict.COMPROMISE): "Act today: whatever the medium rating, this type of finding "
    "means the resource is probably compromised (malware, command and control, mining or a "
    "confirmed malicious connection). Contain it, then investigate.",
    (Band.LOW, Verdict.COMPROMISE): "Act today: whatever the low rating, this type of finding "
    "means the resource is probably compromised (for example malware was found). Contain it, "
    "then investigate.",
    # High: URGENCY_NO_WORKLOAD's line, which names the same things.
    (Band.MEDIUM, Verdict.INFECTED_DATA): "Act today: whatever the medium rating, malware was found in "
    "what this finding names (data or a backup). Contain it before investigating further; the steps "
    "below say how.",
    (Band.LOW, Verdict.INFECTED_DATA): "Act today: whatever the low rating, malware was found in what "
    "this finding names (data or a backup). Contain it before investigating further; the steps below "
    "say how.",
}
# Malware Protection for S3 without a detector publishes only "GuardDuty Malware Protection Object
# Scan Result" events; the triage turns them into findings (``scan_result``): THREATS_FOUND ->
# Object:S3/MaliciousFile (MALWARE_PLAYBOOK covers it); SKIPPED and FAILED -> the two notice types
# below (the same strings as ``scan_result.NOTICES``; a test keeps them equal).
S3_SCAN_NOT_COMPLETED_TYPES: Final = ("Object:S3/MalwareScanSkipped", "Object:S3/MalwareScanFailed")
# Types whose urgency line no band's wording fits.
URGENCY_BY_TYPE: Final[dict[str, str]] = dict.fromkeys(
    S3_SCAN_NOT_COMPLETED_TYPES,
    "Review when convenient: Malware Protection could not scan this object, so nothing is known "
    "about its content yet. Find out why and have it scanned again.",
)
# High findings about something that is not a running workload (credentials, data, backups).
URGENCY_NO_WORKLOAD: Final[dict[Band, str]] = {
    Band.HIGH: "Act immediately: what this finding names (credentials, data or a backup) is likely "
    "compromised or being misused. Contain it before investigating further; the steps below say how.",
}

# --- steps shared by several playbooks -----------------------------------------------

EC2_IDENTIFY: Final = Step(
    "Identify the instance (ID, name, account, Region) and its owner from the resource section.",
    Intent.IDENTIFY,
)
EC2_SCAN: Final = Step(
    "Scan the instance for malware, for example with a GuardDuty on-demand malware scan, and remove what is found.",
    Intent.SCAN,
    needs=Posture.SUSPECT,
)
EC2_PRESERVE: Final = Step(
    "Snapshot the instance's EBS volumes for forensics first, while they still hold the evidence.",
    Intent.PRESERVE,
    needs=Posture.COMPROMISED,
)
EC2_ISOLATE: Final = Step(
    "Isolate the instance: attach a dedicated security group that allows only your forensics "
    "addresses and remove all others; use a network ACL to cut connections that are already open.",
    Intent.ISOLATE,
    needs=Posture.COMPROMISED,
)
EC2_FIX: Final = Step(
    "Fix what let it happen: patch or upgrade vulnerable software and correct access policies.",
    Intent.FIX_CAUSE,
)
EC2_REBUILD: Final = Step(
    "If the unauthorised activity cannot be identified and stopped, terminate the instance and "
    "rebuild it from a known-good image.",
    Intent.REBUILD,
    needs=Posture.COMPROMISED,
)
EC2_ROLE: Final = Step(
    "If the instance's credentials may have been reached, revoke the sessions of its instance "
    "role and rotate any credentials stored on it.",
    Intent.ROTATE,
    needs=Posture.SUSPECT,
)
POD_ISOLATE: Final = Step(
    "Isolate the affected pods with a deny-all NetworkPolicy (ingress and egress).",
    Intent.ISOLATE,
    needs=Posture.COMPROMISED,
)
POD_REPLACE: Final = Step(
    "Fix the exploited weakness, start clean replacement pods and delete the compromised ones.",
    Intent.REBUILD,
    needs=Posture.COMPROMISED,
)
POD_IMAGE: Final = Step(
    "If the image is compromised: stop using it, delete it from the registry, and find every pod that runs it.",
    Intent.CHECK_IMAGE,
    needs=Posture.SUSPECT,
)
TASK_ISOLATE: Final = Step(
    "Isolate the affected tasks by blocking all inbound and outbound traffic.",
    Intent.ISOLATE,
    needs=Posture.COMPROMISED,
)
TASK_REPLACE: Final = Step(
    "Fix the exploited weakness, start a replacement task and stop the affected one.",
    Intent.REBUILD,
    needs=Posture.COMPROMISED,
)
TASK_IMAGE: Final = Step(
    "Check the container image for malware; list every running task that uses the same image "
    "(ecs list-tasks) and update their task definitions.",
    Intent.CHECK_IMAGE,
    needs=Posture.SUSPECT,
)
CONTAINER_ISOLATE: Final = Step(
    "Isolate the container from other workloads, then pause it to suspend its processes; stop it if pausing fails.",
    Intent.ISOLATE,
    needs=Posture.COMPROMISED,
)
CONTAINER_IMAGE: Final = Step(
    "Check whether the malware or tool came with the image; if so, treat the image and every "
    "container started from it as compromised.",
    Intent.CHECK_IMAGE,
    needs=Posture.SUSPECT,
)
RUNTIME_PROCESS: Final = Step(
    "Review the process, its executable and its parent processes in the evidence section, and find how it started.",
    Intent.FIND_PROCESS,
)
KEEP_CONTRIBUTING: Final = Step(
    "Do not archive the contributing findings until the incident is closed: GuardDuty ignores "
    "archived findings when it correlates.",
    Intent.KEEP_FINDINGS,
)
CREDENTIALS_IF_COMPROMISED: Final = Step(
    "If the identity's credentials may be compromised, deactivate or rotate its access keys and "
    "revoke its active sessions.",
    Intent.ROTATE,
)
CALLER_CONFIRM: Final = Step(
    "Confirm with the owner of that identity whether the change was intended (an approved change, known automation).",
    Intent.CONFIRM,
)
CALLER_IDENTIFY: Final = Step(
    "Identify who made the change: the API call, the caller (user or role, access key) and the "
    "remote address, from the finding.",
    Intent.IDENTIFY,
)
CALLER_REVIEW: Final = Step(
    "Review CloudTrail for everything this identity did around that time and revert what was not intended.",
    Intent.REVIEW_ACTIVITY,
)

# Remediation playbooks by resource family (AWS remediation pages, section 9 of the reference).
_CONTROL_PLANE_STEPS: Final = (CALLER_IDENTIFY, CALLER_CONFIRM, CALLER_REVIEW, CREDENTIALS_IF_COMPROMISED)

# Custom detection rules and other management-event findings about a service that has no
# workload playbook of its own (``Tactic:Service/Technique``): the change, then the caller.
SERVICE_STEPS: Final[dict[str, tuple[Step, ...]]] = {
    "Organizations": (
        Step(
            "Check the organization's policies and policy types (service control, tag and backup "
            "policies) and re-enable or re-attach any that were disabled or detached; confirm that "
            "every member account is still in the organization.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Route53Resolver": (
        Step(
            "Recreate the Resolver query logging configuration and its VPC associations, and note "
            "that DNS queries were not logged while it was missing.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "SageMaker": (
        Step(
            "Review the notebook lifecycle configuration script for added commands, restore the "
            "approved script, and find the notebooks that ran it: their execution role's "
            "credentials may have been exposed.",
            Intent.RESTORE_CONTROL,
            also=(Intent.FIND_SOURCE,),
        ),
    ),
    "SES": (
        Step(
            "Review Amazon SES sending status, verified identities and sending statistics; disable "
            "sending or delete identities you did not set up, and look for mail sent in your name.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "RolesAnywhere": (
        Step(
            "Review the new IAM Roles Anywhere trust anchor and its profiles and delete them unless "
            "approved: they let certificates from outside AWS obtain role credentials.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "EC2": (
        Step(
            "Review the EC2 change the call made (snapshot or AMI sharing, user data, security group "
            "rules, SSH keys, flow logs) and revert it unless approved.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "RDS": (
        Step(
            "Review the database change the call made (master password, IAM authentication, public "
            "accessibility, snapshot sharing) and revert it unless approved.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Lambda": (
        Step(
            "Review the function policy or function URL change and remove public access unless approved.",
            Intent.RESTORE_CONTROL,
        ),
    ),
}

PLAYBOOKS: Final[dict[str, Playbook]] = {
    "ec2": Playbook(
        "compromised-ec2",
        # The snapshot comes before the scan removes anything. Closing ports is not here: only traffic that
        # came in calls for it, and the action table (INBOUND, PORT_PROBE) and the exposure types say it.
        (EC2_IDENTIFY, EC2_PRESERVE, EC2_ISOLATE, EC2_SCAN, EC2_FIX, EC2_REBUILD),
    ),
    "credentials": Playbook(
        "compromised-creds",
        (
            Step(
                "Identify the IAM entity and the API it called: user name, user type and access key "
                "(AKIA... keys are long-term user or root keys; ASIA... keys are temporary session "
                "credentials).",
                Intent.IDENTIFY,
            ),
            Step(
                "Confirm with the owner of the identity whether they made these calls, at that time, from that "
                "address.",
                Intent.CONFIRM,
            ),
            Step(
                "If not authorised: deactivate and rotate the access key, reset the console password "
                "and revoke active role sessions.",
                Intent.ROTATE,
            ),
            Step(
                "Review CloudTrail for everything this identity did since the first activity; remove "
                "any users, keys, roles or policies it created and clean up the resources it changed.",
                Intent.REVIEW_ACTIVITY,
                also=(Intent.CLEAN_UP,),
            ),
        ),
        workload=False,
    ),
    "s3": Playbook(
        "compromised-s3",
        (
            Step(
                "Identify the bucket (name, ARN, owner) from the resource section and whether it holds "
                "sensitive data (for example with Amazon Macie).",
                Intent.IDENTIFY,
                also=(Intent.ASSESS_DATA,),
            ),
            Step("Decide whether the principal that made the calls is allowed to do this.", Intent.CONFIRM),
            CREDENTIALS_IF_COMPROMISED,  # said here: an email has no other credential steps to refer to
            Step(
                "If data was exposed, enable S3 Block Public Access and tighten the bucket and IAM policies.",
                Intent.RESTRICT_ACCESS,
            ),
            Step(
                "Check versioning and backups for deleted or overwritten objects.",
                Intent.ASSESS_IMPACT,
            ),
        ),
        workload=False,
    ),
    "kubernetes": Playbook(
        "guardduty-remediate-kubernetes",
        (
            Step(
                "Identify the cluster, the Kubernetes user or service account and the workload "
                "(namespace, pod, image) named in the finding.",
                Intent.IDENTIFY,
            ),
            Step(
                "If the user is compromised: remove its aws-auth mapping or RBAC bindings, rotate its "
                "credentials and every secret it could read.",
                Intent.ROTATE,
            ),
            POD_ISOLATE,
            POD_REPLACE,
            POD_IMAGE,
        ),
    ),
    # Runtime Monitoring: one playbook per kind of workload the process ran in (resourceType).
    "runtime_ec2": Playbook(
        "guardduty-remediate-runtime-monitoring",
        (
            Step(
                "The process ran on an EC2 instance (possibly an EKS or ECS node): identify it from the resource "
                "section.",
                Intent.IDENTIFY,
            ),
            RUNTIME_PROCESS,
            EC2_PRESERVE,
            EC2_ISOLATE,
            EC2_ROLE,
            EC2_REBUILD,
        ),
    ),
    "runtime_eks": Playbook(
        "guardduty-remediate-runtime-monitoring",
        (
            Step(
                "The process ran in a pod of an EKS cluster: identify the cluster, namespace, pod and "
                "image from the resource section.",
                Intent.IDENTIFY,
            ),
            RUNTIME_PROCESS,
            POD_ISOLATE,
            Step(
                "If the pod may have been escaped from or its credentials read, rotate the credentials "
                "of its service account and of the node's role.",
                Intent.ROTATE,
                needs=Posture.SUSPECT,
            ),
            POD_REPLACE,
            POD_IMAGE,
        ),
    ),
    "runtime_ecs": Playbook(
        "guardduty-remediate-runtime-monitoring",
        (
            Step(
                "The process ran in an ECS task: identify the cluster, the task and its image from the resource "
                "section.",
                Intent.IDENTIFY,
            ),
            RUNTIME_PROCESS,
            TASK_ISOLATE,
            Step(
                "If the task's credentials may have been read, revoke the sessions of its task role.",
                Intent.ROTATE,
                needs=Posture.SUSPECT,
            ),
            TASK_REPLACE,
            TASK_IMAGE,
        ),
    ),
    "runtime_container": Playbook(
        "guardduty-remediate-runtime-monitoring",
        (
            Step(
                "The process ran in a standalone container: identify it (ID, name, image) and the host "
                "it runs on from the resource section.",
                Intent.IDENTIFY,
            ),
            RUNTIME_PROCESS,
            CONTAINER_ISOLATE,
            CONTAINER_IMAGE,
            Step(
                "If the host may have been reached, handle the host as well and rotate its credentials.",
                Intent.ROTATE,
                needs=Posture.SUSPECT,
            ),
        ),
    ),
    "runtime": Playbook(  # resourceType missing or new: the workload kind is not known
        "guardduty-remediate-runtime-monitoring",
        (
            Step(
                "Identify where the process ran from the resource section: EC2 instance, EKS pod, "
                "ECS task or standalone container.",
                Intent.IDENTIFY,
            ),
            RUNTIME_PROCESS,
            Step(
                "Isolate that workload (deny all inbound and outbound traffic) and preserve evidence before stopping "
                "it.",
                Intent.ISOLATE,
                also=(Intent.PRESERVE,),
                needs=Posture.COMPROMISED,
            ),
            Step(
                "Remove the cause and replace the workload from a known-good image.",
                Intent.REBUILD,
                needs=Posture.COMPROMISED,
            ),
        ),
    ),
    "ecs": Playbook(
        "compromised-ecs",
        (
            Step("Identify the ECS cluster, the task and its image from the resource section.", Intent.IDENTIFY),
            TASK_IMAGE,
            TASK_ISOLATE,
            TASK_REPLACE,
        ),
    ),
    "container": Playbook(
        "remediate-compromised-standalone-container",
        (
            Step(
                "Identify the container (ID, name, image) and the host it runs on from the resource section.",
                Intent.IDENTIFY,
            ),
            CONTAINER_ISOLATE,
            CONTAINER_IMAGE,
        ),
    ),
    "lambda": Playbook(
        "remediate-lambda-protection-finding-types",
        (
            Step(
                "Identify the function version (name, ARN, version) and its execution role from the resource section.",
                Intent.IDENTIFY,
            ),
            Step(
                "Review its code, libraries and layers, and use CloudTrail to see who last updated it "
                "and whether that was authorised.",
                Intent.FIND_SOURCE,
            ),
            Step(
                "Stop the function from running: disable its triggers or set its reserved concurrency to zero.",
                Intent.ISOLATE,
                needs=Posture.COMPROMISED,
            ),
            Step(
                "Remove suspicious libraries or layers and redeploy clean code.",
                Intent.REBUILD,
                needs=Posture.COMPROMISED,
            ),
            Step("Review the execution role's permissions and what it could reach.", Intent.REVIEW_PERMISSIONS),
        ),
    ),
    "rds": Playbook(
        "guardduty-remediate-compromised-database-rds",
        (
            Step(
                "Identify the database (DB instance, or shard group and cluster) and the database user, "
                "application and remote address from the finding.",
                Intent.IDENTIFY,
            ),
            Step("Confirm with the owner whether this login was expected.", Intent.CONFIRM),
            Step(
                "If not: change that user's password and any shared secrets (for example in Secrets "
                "Manager) and review its privileges.",
                Intent.ROTATE,
            ),
            Step(
                "Review the database audit logs for what was read or changed after the login.",
                Intent.ASSESS_DATA,
            ),
            Step(
                "Keep the database in a private subnet and allow only the necessary sources in its security groups.",
                Intent.RESTRICT_ACCESS,
            ),
        ),
        workload=False,
    ),
    "malware_ec2": Playbook(
        "compromised-ec2",
        (
            Step(
                "List the infected files (path, hash, volume) from the scan details and the highest "
                "severity threat detected.",
                Intent.IDENTIFY,
            ),
            Step("If the scan was triggered by another finding, handle both findings together.", Intent.SCOPE),
            EC2_PRESERVE,
            EC2_ISOLATE,
            Step(
                "Remove the malware, or terminate the instance and rebuild it from a known-good image.",
                Intent.REBUILD,
                needs=Posture.COMPROMISED,
            ),
            EC2_ROLE,
        ),
    ),
    "malware_s3_object": Playbook(
        "compromised-s3object-malware-protection-gdu",
        (
            Step("Identify the bucket, object key and version, and the threat detected.", Intent.IDENTIFY),
            Step(
                "Block access to that object version: delete it, move it to a quarantine bucket, or deny "
                "reads of objects tagged THREATS_FOUND with a bucket policy.",
                Intent.QUARANTINE,
            ),
            Step(
                "Find who uploaded it (CloudTrail S3 data events, PutObject on that key) and treat that "
                "principal or application as possibly compromised.",
                Intent.FIND_SOURCE,
            ),
            Step(
                "After cleaning up, scan the object again (or upload a clean copy) and check that the new "
                "result finds no threats.",
                Intent.RESCAN,
            ),
        ),
        workload=False,
    ),
    # Scans of S3 objects that did not complete (SKIPPED, FAILED): a digest line, not an alert.
    "s3_object_not_scanned": Playbook(
        "compromised-s3object-malware-protection-gdu",
        (
            Step(
                "Identify the bucket, object key and version that could not be scanned, and the reason given.",
                Intent.IDENTIFY,
            ),
            Step(
                "Until it is scanned, treat the object as untrusted: keep applications from processing it.",
                Intent.QUARANTINE,
            ),
            Step(
                "Fix the cause if you can: when access was denied, let the Malware Protection plan's role "
                "read the object and use its KMS key; password-protected or oversized files cannot be "
                "scanned, so check them another way.",
                Intent.FIX_CAUSE,
            ),
            Step("Then scan the object again, or upload it again, and check the new result.", Intent.RESCAN),
        ),
        workload=False,
    ),
    # Malware Protection for AWS Backup: one playbook per artefact (each has its AWS page).
    "malware_backup_snapshot": Playbook(
        "compromised-snapshot",
        (
            Step(
                "Do not restore from the infected snapshot or create volumes from it, and stop sharing it with other "
                "accounts.",
                Intent.QUARANTINE,
            ),
            Step(
                "Find the snapshot's source volume and the instance it was attached to (the snapshot's "
                "description and tags, or CreateSnapshot in CloudTrail).",
                Intent.FIND_SOURCE,
            ),
            Step(
                "Scan that instance with a GuardDuty on-demand malware scan; if the threats are still "
                "there, handle it as a compromised EC2 instance.",
                Intent.SCAN,
            ),
            Step(
                "Before restoring, find the last clean snapshot of the volume: check the scans of older "
                "snapshots and whether later scans still find these threats.",
                Intent.RESCAN,
            ),
        ),
        workload=False,
    ),
    "malware_backup_ami": Playbook(
        "compromised-ami",
        (
            Step(
                "Do not launch instances from the infected AMI: deregister it or make it private, and "
                "stop sharing it with other accounts.",
                Intent.QUARANTINE,
            ),
            Step(
                "Find the instances already launched from this AMI (filter instances by image ID) and scan them for "
                "malware.",
                Intent.SCAN,
            ),
            Step(
                "Find how the AMI was built (source instance, build pipeline, base image) and remove the "
                "malware at its source.",
                Intent.FIND_SOURCE,
            ),
            Step(
                "Build a new AMI from a clean source and check that its next scan finds no threats.",
                Intent.RESCAN,
            ),
        ),
        workload=False,
    ),
    "malware_backup_ec2_recovery_point": Playbook(
        "compromised-ec2-recoverypoint",
        (
            Step(
                "Do not restore from the infected recovery point, and keep it out of restore tests and automated "
                "restores.",
                Intent.QUARANTINE,
            ),
            Step(
                "Identify the instance the recovery point was taken from (the backup vault's protected "
                "resource) and scan it with a GuardDuty on-demand malware scan.",
                Intent.FIND_SOURCE,
            ),
            Step(
                "Before restoring, find the last clean recovery point: incremental scans compare against "
                "the baseline named in the scan details; check the scans of earlier and later recovery points.",
                Intent.RESCAN,
            ),
        ),
        workload=False,
    ),
    "malware_backup_s3_recovery_point": Playbook(
        "compromised-s3-recoverypoint",
        (
            Step(
                "Do not restore the infected objects from this recovery point.",
                Intent.QUARANTINE,
            ),
            Step(
                "Identify the source bucket and the object keys and versions named in the threats, and "
                "check whether those objects are still in the bucket; quarantine them if so.",
                Intent.IDENTIFY,
            ),
            Step(
                "Find who uploaded those objects (CloudTrail S3 data events) and treat that principal as possibly "
                "compromised.",
                Intent.FIND_SOURCE,
            ),
            Step(
                "Before restoring, check the later scans of this backup to see whether the threats are still there.",
                Intent.RESCAN,
            ),
        ),
        workload=False,
    ),
    # Extended Threat Detection: one playbook per service the sequence is about.
    "attack_sequence": Playbook(
        "guardduty_remediate",
        (
            Step(
                "Review the sequence in the console: the signals, actors, endpoints and every resource "
                "listed, to scope the incident.",
                Intent.IDENTIFY,
            ),
            Step(
                "Contain every credential and workload involved, following the steps for each resource type listed.",
                Intent.ISOLATE,
                needs=Posture.COMPROMISED,
            ),
            KEEP_CONTRIBUTING,
        ),
    ),
    "attack_sequence_s3": Playbook(
        "compromised-s3",
        (
            Step(
                "Identify the buckets and the credentials in the sequence's resources and actors, and "
                "the data they read, deleted or made public.",
                Intent.IDENTIFY,
            ),
            Step(
                "Deactivate or rotate the credentials named as actors and revoke their active sessions.",
                Intent.ROTATE,
            ),
            Step(
                "Restore deleted or overwritten objects from versions or backups, and enable S3 Block "
                "Public Access where data was exposed.",
                Intent.ASSESS_IMPACT,
            ),
            KEEP_CONTRIBUTING,
        ),
        workload=False,
    ),
    "attack_sequence_eks": Playbook(
        "guardduty-remediate-kubernetes",
        (
            Step(
                "Identify the cluster and, from the sequence's resources, the workloads, containers and "
                "credentials involved.",
                Intent.IDENTIFY,
            ),
            Step(
                "Isolate the affected pods with a deny-all NetworkPolicy and cordon the nodes they ran on.",
                Intent.ISOLATE,
                needs=Posture.COMPROMISED,
            ),
            Step(
                "Revoke the Kubernetes and IAM credentials named as actors (aws-auth entries or access "
                "entries, node and pod roles) and rotate every secret they could read.",
                Intent.ROTATE,
            ),
            Step(
                "Stop using any image named in the sequence, start clean replacement pods and delete the compromised "
                "ones.",
                Intent.REBUILD,
                needs=Posture.COMPROMISED,
            ),
            KEEP_CONTRIBUTING,
        ),
    ),
    "attack_sequence_ecs": Playbook(
        "compromised-ecs",
        (
            Step(
                "Identify the ECS cluster and, from the sequence's resources, the tasks, containers and "
                "the hosts they run on.",
                Intent.IDENTIFY,
            ),
            TASK_IMAGE,
            TASK_ISOLATE,
            Step(
                "Revoke the sessions of the task roles named in the sequence and rotate the secrets the tasks could "
                "read.",
                Intent.ROTATE,
            ),
            TASK_REPLACE,
            KEEP_CONTRIBUTING,
        ),
    ),
    "attack_sequence_ec2": Playbook(
        "compromised-ec2",
        (
            Step(
                "Identify the instance group from the sequence's resources (Auto Scaling group, "
                "CloudFormation stack, launch template, AMI) and every instance in it.",
                Intent.IDENTIFY,
            ),
            Step(
                "Snapshot the EBS volumes of the affected instances for forensics first, "
                "while they still hold the evidence.",
                Intent.PRESERVE,
                needs=Posture.COMPROMISED,
            ),
            Step(
                "Isolate every affected instance with a security group that allows only your forensics "
                "addresses, and suspend the Auto Scaling group's processes so it launches no new "
                "instances meanwhile.",
                Intent.ISOLATE,
                needs=Posture.COMPROMISED,
            ),
            Step(
                "Revoke the sessions of the instance profile's role: the instances' credentials may have been used "
                "elsewhere.",
                Intent.ROTATE,
            ),
            Step(
                "Check the AMI and launch template for the cause, then replace the instances from a known-good image.",
                Intent.REBUILD,
                needs=Posture.COMPROMISED,
            ),
            KEEP_CONTRIBUTING,
        ),
    ),
    # A change made through the API to a service without a workload playbook (custom detection
    # rules, ``Tactic:Service/Technique``): the service's step comes first (see SERVICE_STEPS).
    **{
        f"api_{service.lower()}": Playbook("guardduty_remediate", (*steps, *_CONTROL_PLANE_STEPS), workload=False)
        for service, steps in SERVICE_STEPS.items()
    },
    "api": Playbook("guardduty_remediate", _CONTROL_PLANE_STEPS, workload=False),
    "generic": Playbook(
        "guardduty_remediate",
        (
            Step(
                "Identify the affected resource and the identity or address behind the activity.",
                Intent.IDENTIFY,
            ),
            Step(
                "Decide whether the activity was expected (authorised test, scanner, known "
                "automation); if so, create a suppression rule for it.",
                Intent.CONFIRM,
            ),
            Step(
                "Contain the resource before investigating further: cut its network access or disable the "
                "credentials involved.",
                Intent.ISOLATE,
                needs=Posture.COMPROMISED,
            ),
            Step("If not expected, follow the AWS remediation guide for its resource type.", Intent.FIX_CAUSE),
        ),
    ),
}

# Finding-type segment (ResourceTypeAffected) -> playbook.
SEGMENT_PLAYBOOK: Final[dict[str, str]] = {
    "EC2": "ec2",
    "IAMUser": "credentials",
    "IAM": "credentials",
    "S3": "s3",
    "Kubernetes": "kubernetes",
    "EKS": "kubernetes",
    "Runtime": "runtime",
    "ECS": "ecs",
    "Container": "container",
    "Lambda": "lambda",
    "RDS": "rds",
    # Services named only by custom detection rules.
    "Organizations": "api_organizations",
    "Route53Resolver": "api_route53resolver",
    "SageMaker": "api_sagemaker",
    "SES": "api_ses",
    "RolesAnywhere": "api_rolesanywhere",
}

# A workload playbook whose finding names an API caller (resourceType AccessKey) instead of the
# workload: a management event about that service (custom detection rules such as
# ``Persistence:EC2/BootOrLogonInitializationScripts``) -> its change-through-the-API playbook.
API_CALLER_RESOURCE: Final = "AccessKey"
WORKLOAD_API_PLAYBOOK: Final[dict[str, str]] = {"ec2": "api_ec2", "rds": "api_rds", "lambda": "api_lambda"}

# Runtime Monitoring: resource.resourceType -> the playbook for that kind of workload.
RUNTIME_PLAYBOOK: Final[dict[str, str]] = {
    "Instance": "runtime_ec2",
    "EKSCluster": "runtime_eks",
    "ECSCluster": "runtime_ecs",
    "Container": "runtime_container",
}

# resource.resourceType -> playbook, used when the type segment is unknown.
RESOURCE_TYPE_PLAYBOOK: Final[dict[str, str]] = {
    "Instance": "ec2",
    "AccessKey": "credentials",
    "S3Bucket": "s3",
    "S3Object": "malware_s3_object",
    "EKSCluster": "kubernetes",
    "ECSCluster": "ecs",
    "Container": "container",
    "Lambda": "lambda",
    "RDSDBInstance": "rds",
    "RDSLimitlessDB": "rds",
    "AttackSequence": "attack_sequence",
}

# Attack sequences by the service they are about (``AttackSequence:<segment>/...``).
ATTACK_SEQUENCE_PLAYBOOK: Final[dict[str, str]] = {
    "S3": "attack_sequence_s3",
    "EKS": "attack_sequence_eks",
    "ECS": "attack_sequence_ecs",
    "EC2": "attack_sequence_ec2",
}

# Malware scan findings: by segment and artifact, by artifact, then by segment (overrides the segment table).
MALWARE_FAMILIES: Final = frozenset({"MaliciousFile", "SuspiciousFile"})
MALWARE_PLAYBOOK: Final[dict[str, str]] = {
    "EC2!RecoveryPoint": "malware_backup_ec2_recovery_point",
    "S3!RecoveryPoint": "malware_backup_s3_recovery_point",
    "!AMI": "malware_backup_ami",
    "!Snapshot": "malware_backup_snapshot",
    "S3": "malware_s3_object",
    "EC2": "malware_ec2",
    "ECS": "ecs",
    "Kubernetes": "kubernetes",
    "Container": "container",
}

# Finding types whose playbook no segment or resource type decides.
TYPE_PLAYBOOK: Final[dict[str, str]] = dict.fromkeys(S3_SCAN_NOT_COMPLETED_TYPES, "s3_object_not_scanned")


class Purpose(NamedTuple):
    meaning: str  # shown under "What it is"
    step: Step  # purpose-specific advice


PURPOSES: Final[dict[str, Purpose]] = {
    "AttackSequence": Purpose(
        "Several related signals were correlated into a multi-stage attack (Extended Threat Detection).",
        Step(  # the urgency line already opens the incident
            "Respond to every signal and resource of the sequence together: they are stages of one attack.",
            Intent.SCOPE,
        ),
    ),
    "Backdoor": Purpose(
        "A resource appears to be compromised and remotely controlled (command and control, denial of service, spam).",
        Step(
            "Assume an attacker controls the resource: once it is contained, find out how it was compromised.",
            Intent.FIX_CAUSE,
        ),
    ),
    "Behavior": Purpose(
        "Activity differs from the baseline GuardDuty learned for this resource.",
        Step(
            "Ask the owner whether a recent change (new software, new traffic) explains the new behaviour.",
            Intent.CONFIRM,
        ),
    ),
    "CredentialAccess": Purpose(
        "Someone is trying to obtain secrets or credentials (passwords, keys, tokens, database logins).",
        Step("Rotate the credentials and secrets the actor could have reached.", Intent.ROTATE),
    ),
    "CryptoCurrency": Purpose(
        "The resource is mining cryptocurrency or talking to mining infrastructure.",
        Step(
            "Unless mining is expected here, check the bill for unexpected compute.",
            Intent.ASSESS_IMPACT,
        ),
    ),
    "DefenseEvasion": Purpose(
        "Someone is hiding activity or weakening monitoring (unusual DNS resolvers, disabled "
        "logging, process injection).",
        Step(  # most types change nothing (DNS over TLS, injected code): the types that do say so
            "Find out what this activity hides from your monitoring: review what the same process, identity "
            "or address did around that time.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    "Discovery": Purpose(
        "Someone is mapping your environment by listing and describing resources or permissions.",
        Step(
            "Check what was enumerated: discovery usually precedes an attempt to use it.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    "Execution": Purpose(
        "Malicious or unexpected code is running (malware, new binaries, reverse shells, suspicious tools).",
        # Removing the code is the playbook's step, after any forensic snapshot.
        Step("Identify the code that ran and how it got there, and close that way in.", Intent.FIND_SOURCE),
    ),
    "Exfiltration": Purpose(
        "Data may be leaving your environment.",
        Step(
            "Determine which data was read and where it went; assess whether a disclosure process must start.",
            Intent.ASSESS_DATA,
        ),
    ),
    "Impact": Purpose(
        "Someone is manipulating, disrupting, destroying or abusing resources or data.",
        Step(  # a check: many Impact types are a lookup or a connection, which damaged nothing
            "Check whether the activity changed or deleted data, or ran resources at your expense.",
            Intent.ASSESS_IMPACT,
        ),
    ),
    "InitialAccess": Purpose(
        "Activity typical of an attacker gaining a first foothold.",
        Step("Verify how the identity obtained access and close that path.", Intent.FIX_CAUSE),
    ),
    "PenTest": Purpose(
        "Calls came from a penetration-testing system (Kali, Parrot, Pentoo).",
        Step(
            "Confirm whether an authorised penetration test is running; if not, treat the credentials as compromised.",
            Intent.CONFIRM,
        ),
    ),
    "Persistence": Purpose(
        "Someone is trying to keep access (new users or keys, sensitive host mounts, persistence commands).",
        Step(  # removing them is the playbook's step, after any forensic snapshot
            "Find every new user, key, role, workload or scheduled task the actor created to keep its access.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    "Policy": Purpose(
        "A configuration or usage that goes against security best practice.",
        Step(
            "Correct the configuration, or record why it is intended and suppress the finding.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "PrivilegeEscalation": Purpose(
        "Someone is trying to obtain higher privileges.",
        Step("Review the permissions gained and revoke any that were not intended.", Intent.REVIEW_PERMISSIONS),
    ),
    "Recon": Purpose(
        "Reconnaissance is in progress: probing ports or enumerating users and resources to find weaknesses.",
        # Not "close ports": most recon is API enumeration, or our own resource probing others.
        Step(
            "Check which ports, APIs or resources were probed or listed: they show what the actor is looking for.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    "Stealth": Purpose(
        "Someone is covering tracks, for example by disabling logging or weakening the password policy.",
        Step(
            "Re-enable the logging or policy that was changed and review what happened while it was off.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Trojan": Purpose(
        "Traffic typical of trojan malware (blackholed hosts, drop points, generated domains, DNS tunnelling).",
        Step(
            "Find out what data the workload may have sent to the contacted hosts.",
            Intent.ASSESS_DATA,
        ),
    ),
    "UnauthorizedAccess": Purpose(
        "Suspicious access by an unauthorised party (brute force, Tor, malicious callers, stolen credentials).",
        # Whether access succeeded is the action's or the type's check; outbound types block the destination.
        Step("Block the source address where you can.", Intent.BLOCK_REMOTE),
    ),
    "Object": Purpose(
        "The finding is about an S3 object that Malware Protection for S3 scans on upload.",
        Step(
            "Check whether any user or application already downloaded or processed the object.",
            Intent.ASSESS_IMPACT,
        ),
    ),
    "DefenseImpairment": Purpose(
        "A custom detection rule saw defences being disabled or modified.",
        Step("Restore the defence that was changed and find who changed it.", Intent.RESTORE_CONTROL),
    ),
    "LateralMovement": Purpose(
        "A custom detection rule saw an attempt to move between systems.",
        Step("Check the systems reached from this resource for signs of compromise.", Intent.SCOPE),
    ),
    "ResourceDevelopment": Purpose(
        "A custom detection rule saw resources being prepared for abuse.",
        Step("Remove the resources prepared for abuse and find who created them.", Intent.CLEAN_UP),
    ),
}

# Older or alternate purpose spellings seen in documented type names.
PURPOSE_ALIASES: Final[dict[str, str]] = {"S3Object": "Object"}

UNKNOWN_PURPOSE: Final = Purpose(
    "A finding type this version does not recognise yet.",
    Step(
        "Read the finding title and description in the console, and check the GuardDuty "
        "finding types documentation for this type.",
        Intent.SCOPE,
    ),
)

# Advice by (actionType, resource role or connection direction): alternatives, the first that
# fits the posture wins. The direction decides whether our resource is being attacked (tighten
# access) or started the traffic (find what on it did).
ACTION_STEPS: Final[dict[tuple[str, str], tuple[Step, ...]]] = {
    ("NETWORK_CONNECTION", "INBOUND"): (
        Step(
            "The connection came in from the remote address: restrict the security group and network "
            "ACL to the sources that need access, and block the address if it keeps returning.",
            Intent.RESTRICT_ACCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    ("NETWORK_CONNECTION", "OUTBOUND"): (
        Step(
            "Your resource started this connection to the remote address: find the software on it that "
            "made the connection, and block the destination.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    ("NETWORK_CONNECTION", "UNKNOWN"): (
        Step(
            "The direction of the connection is unknown: review VPC flow logs for the local and remote "
            "addresses to see who started it.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    ("NETWORK_CONNECTION", "ACTOR"): (
        Step(
            "Your resource is the actor: it is attacking or abusing other hosts, which means it is very "
            "likely compromised. Isolate it now.",
            Intent.ISOLATE,
            also=(Intent.BLOCK_REMOTE,),  # isolation cuts its traffic to every destination
            needs=Posture.COMPROMISED,
        ),
    ),
    ("PORT_PROBE", "TARGET"): (
        Step(
            "Ports on your resource were probed from the internet: close the probed ports in the "
            "security group unless they must be public.",
            Intent.RESTRICT_ACCESS,
        ),
    ),
    ("DNS_REQUEST", "TARGET"): (
        Step(
            "Your resource looked up the domain: find the process that made the query and block the "
            "domain (for example with Route 53 Resolver DNS Firewall).",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    ("DNS_REQUEST", "ACTOR"): (
        Step(
            "Your resource generated the suspicious DNS traffic: find the process responsible.",
            Intent.FIND_PROCESS,
        ),
    ),
    ("AWS_API_CALL", "TARGET"): (
        Step(
            "Check in CloudTrail which calls this identity made from the remote address and whether any of them "
            "succeeded.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    ("KUBERNETES_API_CALL", "TARGET"): (
        Step(
            "Check the EKS audit log for every request from this user and source address, and what it read or changed.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    ("RDS_LOGIN_ATTEMPT", "TARGET"): (
        Step(
            "Check the database logs for logins from the remote address and block it in the database security group.",
            Intent.REVIEW_ACTIVITY,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    ("KUBERNETES_PERMISSION_CHECKED", "TARGET"): (
        Step(
            "Review which permissions the user checked: it is probing what it is allowed to do.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    ("KUBERNETES_ROLE_BINDING", "TARGET"): (
        Step("Review the new role binding and delete it if it was not intended.", Intent.REVIEW_PERMISSIONS),
    ),
    ("KUBERNETES_ROLE", "TARGET"): (
        Step("Review the new role and delete it if it was not intended.", Intent.REVIEW_PERMISSIONS),
    ),
}


def _steps(*steps: Step) -> tuple[Step, ...]:
    return steps


_TOR_IAM_CONFIRM: Final = Step(
    "Calls came through Tor: verify with the owner and rotate the key if they did not make them.",
    Intent.ROTATE,
    also=(Intent.CONFIRM,),
)

# Type-specific steps for the common finding types (placed right after the urgency).
TYPE_STEPS: Final[dict[str, tuple[Step, ...]]] = {
    # EC2
    "UnauthorizedAccess:EC2/SSHBruteForce": _steps(
        Step(
            "Allow SSH (port 22) only from known addresses or use Session Manager instead; check the "
            "auth log for a successful login.",
            Intent.RESTRICT_ACCESS,
            also=(Intent.REVIEW_ACTIVITY, Intent.BLOCK_REMOTE),  # only known addresses: the source is blocked
            role="TARGET",
        ),
        Step(
            "The instance is brute-forcing SSH on other hosts: find the process doing it.",
            Intent.FIND_PROCESS,
            role="ACTOR",
        ),
    ),
    "UnauthorizedAccess:EC2/RDPBruteForce": _steps(
        Step(
            "Allow RDP (port 3389) only from known addresses or use Fleet Manager; check the Windows "
            "security log for a successful logon.",
            Intent.RESTRICT_ACCESS,
            also=(Intent.REVIEW_ACTIVITY, Intent.BLOCK_REMOTE),  # only known addresses: the source is blocked
            role="TARGET",
        ),
        Step(
            "The instance is brute-forcing RDP on other hosts: find the process doing it.",
            Intent.FIND_PROCESS,
            role="ACTOR",
        ),
    ),
    "Impact:EC2/WinRMBruteForce": _steps(
        Step(
            "Allow WinRM (ports 5985/5986) only from known addresses; check the Windows security log for a "
            "successful logon.",
            Intent.RESTRICT_ACCESS,
            also=(Intent.REVIEW_ACTIVITY, Intent.BLOCK_REMOTE),  # only known addresses: the source is blocked
            role="TARGET",
        ),
        Step(
            "The instance is brute-forcing WinRM on other hosts: find the process doing it.",
            Intent.FIND_PROCESS,
            role="ACTOR",
        ),
    ),
    "Recon:EC2/PortProbeUnprotectedPort": _steps(
        Step(
            "Close the probed ports to the internet unless the service must be public; if it must, "
            "make sure it requires authentication and is patched (Elasticsearch ports 9200/9300 "
            "must never be public).",
            Intent.RESTRICT_ACCESS,
        ),
    ),
    "Recon:EC2/PortProbeEMRUnprotectedPort": _steps(
        Step(
            "Close the EMR cluster's ports to the internet and enable EMR Block Public Access.",
            Intent.RESTRICT_ACCESS,
        ),
    ),
    "Recon:EC2/Portscan": _steps(
        Step(
            "The instance is scanning other hosts: unless it is your own vulnerability scanner, find "
            "the process doing the scan.",
            Intent.FIND_PROCESS,
        ),
    ),
    "Impact:EC2/PortSweep": _steps(
        Step("The instance is sweeping a port across many hosts: find the process doing it.", Intent.FIND_PROCESS),
    ),
    "Backdoor:EC2/C&CActivity.B": _steps(
        Step(
            "Block the command-and-control address in security groups and network ACLs and find the "
            "process that contacted it.",
            Intent.BLOCK_REMOTE,
            also=(Intent.FIND_PROCESS,),
        ),
    ),
    "Backdoor:EC2/C&CActivity.B!DNS": _steps(
        Step(
            "Block the command-and-control domain with Route 53 Resolver DNS Firewall and find the "
            "process that queried it.",
            Intent.BLOCK_REMOTE,
            also=(Intent.FIND_PROCESS,),
        ),
    ),
    "Backdoor:EC2/DenialOfService.Tcp": _steps(
        Step(
            "The instance is sending a denial-of-service flood: isolate it now to stop harming others.",
            Intent.ISOLATE,
            needs=Posture.COMPROMISED,
        ),
    ),
    "Backdoor:EC2/DenialOfService.Udp": _steps(
        Step(
            "The instance is sending a UDP denial-of-service flood: isolate it now.",
            Intent.ISOLATE,
            needs=Posture.COMPROMISED,
        ),
    ),
    "Backdoor:EC2/DenialOfService.Dns": _steps(
        Step(
            "The instance is sending a DNS-based denial-of-service flood: isolate it now.",
            Intent.ISOLATE,
            needs=Posture.COMPROMISED,
        ),
    ),
    "Backdoor:EC2/Spambot": _steps(
        Step(
            "The instance sends mail like a spam bot: block outbound port 25 and look for the sending process.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    "Behavior:EC2/NetworkPortUnusual": _steps(
        Step(
            "Ask the owner whether the application recently started using this port; if not, block "
            "it and investigate the process.",
            Intent.CONFIRM,
            also=(Intent.FIND_PROCESS,),
        ),
    ),
    "Behavior:EC2/TrafficVolumeUnusual": _steps(
        Step("Check what the unusual volume of outbound data was and where it went.", Intent.ASSESS_DATA),
    ),
    "CryptoCurrency:EC2/BitcoinTool.B": _steps(
        Step(
            "Find the mining process and how it was installed, and block the mining pool address.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    "CryptoCurrency:EC2/BitcoinTool.B!DNS": _steps(
        Step(
            "Find the process resolving mining pool domains and block the domain.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    "Impact:EC2/BitcoinDomainRequest.Reputation": _steps(
        Step(
            "Find the process resolving cryptocurrency domains and block the domain.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    "Impact:EC2/MaliciousDomainRequest.Reputation": _steps(
        Step(
            "Find the process that queried the malicious domain and block the domain.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    "UnauthorizedAccess:EC2/TorClient": _steps(
        Step(
            "Find the process connecting to Tor and, unless Tor use is approved, block the instance's Tor traffic.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    "UnauthorizedAccess:EC2/TorRelay": _steps(
        Step(
            "The instance acts as a Tor relay: unless that is approved, find the relay process and block its "
            "Tor traffic.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE,),
        ),
    ),
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom": _steps(
        Step(
            "The remote address is on your own threat list: block it and check what it reached.",
            Intent.BLOCK_REMOTE,
            also=(Intent.REVIEW_ACTIVITY,),
        ),
    ),
    "UnauthorizedAccess:EC2/MetadataDNSRebind": _steps(
        Step(
            "Require IMDSv2 on the instance (HttpTokens=required) so rebinding cannot reach the "
            "metadata service, and rotate the instance role credentials.",
            Intent.FIX_CAUSE,
            also=(Intent.ROTATE,),
        ),
    ),
    "Trojan:EC2/DNSDataExfiltration": _steps(
        Step(
            "Data may be tunnelled out through DNS queries: find the querying process, block the "
            "domain and assess what data was on the instance.",
            Intent.FIND_PROCESS,
            also=(Intent.BLOCK_REMOTE, Intent.ASSESS_DATA),
        ),
    ),
    # DGA and black-holed traffic: the action's "find the process" and the playbook's scan (after the
    # snapshot) say it; a type step here would put the scan before the snapshot.
    "Trojan:EC2/DropPoint": _steps(
        Step("The instance contacted a known drop point for stolen data: check what was sent.", Intent.ASSESS_DATA),
    ),
    "DefenseEvasion:EC2/UnusualDNSResolver": _steps(
        Step(
            "Check why the instance bypasses the VPC resolver; force DNS through Route 53 Resolver if "
            "this is not intended.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    # Runtime
    "PrivilegeEscalation:Runtime/DockerSocketAccessed": _steps(
        Step(
            "The process opened the Docker daemon socket (its path is in the evidence section), which gives "
            "control of the host and every container on it: unless a tool here needs it, stop mounting the "
            "socket into that container.",
            Intent.FIX_CAUSE,
            # The privilege gained is the socket: the purpose's "review the permissions gained" adds nothing.
            also=(Intent.REVIEW_PERMISSIONS,),
        ),
    ),
    # IAM
    "Policy:IAMUser/RootCredentialUsage": _steps(
        Step(
            "Confirm that someone intended to use the root user; if not, reset the root password, "
            "enable MFA and delete any root access keys.",
            Intent.CONFIRM,
            also=(Intent.ROTATE,),
        ),
    ),
    "Policy:IAMUser/ShortTermRootCredentialUsage": _steps(
        Step(
            "Confirm the centralised root access session was intended; if not, review who can obtain "
            "root sessions in your organisation.",
            Intent.CONFIRM,
        ),
    ),
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": _steps(
        Step(
            "The instance role credentials were used outside AWS: revoke the role's active sessions "
            "and treat the source instance as compromised.",
            Intent.ROTATE,
        ),
    ),
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS": _steps(
        Step(
            "The instance role credentials were used from another AWS account: revoke the role's "
            "sessions and treat the source instance as compromised.",
            Intent.ROTATE,
        ),
    ),
    "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B": _steps(
        Step(
            "Confirm the console sign-in with the user; if unexpected, reset the password, enforce MFA "
            "and revoke the session.",
            Intent.ROTATE,
            also=(Intent.CONFIRM,),
        ),
    ),
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller": _steps(
        Step(
            "Calls came from a known malicious address: verify with the owner and rotate the key if "
            "they did not make them.",
            Intent.ROTATE,
            also=(Intent.CONFIRM,),
        ),
    ),
    "UnauthorizedAccess:IAMUser/TorIPCaller": _steps(_TOR_IAM_CONFIRM),
    "Recon:IAMUser/MaliciousIPCaller": _steps(
        Step("A known malicious address is enumerating with these credentials: rotate the key.", Intent.ROTATE),
    ),
    "Recon:IAMUser/TorIPCaller": _steps(
        Step("Someone enumerating through Tor holds these credentials: rotate the key.", Intent.ROTATE),
    ),
    "Stealth:IAMUser/CloudTrailLoggingDisabled": _steps(
        Step(
            "Re-enable the CloudTrail trail at once and protect it (organisation trail, restricted permissions).",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Stealth:IAMUser/PasswordPolicyChange": _steps(
        Step("Restore the account password policy and find who changed it.", Intent.RESTORE_CONTROL),
    ),
    "PenTest:IAMUser/KaliLinux": _steps(
        Step(
            "Ask whether an authorised penetration test uses these credentials; if not, rotate them now.",
            Intent.CONFIRM,
            also=(Intent.ROTATE,),
        ),
    ),
    "Exfiltration:IAMUser/AnomalousBehavior": _steps(
        Step(
            "Review the anomalous API calls for data-access or snapshot-sharing operations and revoke "
            "the credentials if unexpected.",
            Intent.REVIEW_ACTIVITY,
            also=(Intent.ROTATE,),
        ),
    ),
    "Impact:IAMUser/AnomalousBehavior": _steps(
        Step(
            "Review the anomalous API calls for destructive or cost-creating operations and revoke the "
            "credentials if unexpected.",
            Intent.REVIEW_ACTIVITY,
            also=(Intent.ROTATE,),
        ),
    ),
    "Persistence:IAMUser/AnomalousBehavior": _steps(
        Step("Look for new users, access keys, roles or policies the identity created.", Intent.CLEAN_UP),
    ),
    "DefenseEvasion:IAMUser/AnomalousBehavior": _steps(
        Step(
            "Restore the logging, monitoring or alarms these calls stopped or deleted (CloudTrail, flow "
            "logs, GuardDuty, alarms) and review what happened while they were off.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "PrivilegeEscalation:IAMUser/AnomalousBehavior": _steps(
        Step(
            "Review policies attached or changed by this identity and revert unintended ones.",
            Intent.REVIEW_PERMISSIONS,
        ),
    ),
    "DefenseEvasion:IAMUser/BedrockLoggingDisabled": _steps(
        Step("Re-enable Amazon Bedrock model invocation logging and find who disabled it.", Intent.RESTORE_CONTROL),
    ),
    # AI Protection (Amazon Bedrock): the identity, model access, guardrails, cost.
    "Impact:IAMUser/AnomalousModelInvocation": _steps(
        Step(
            "Ask the owner of the identity whether it should invoke these Amazon Bedrock models (the "
            "model IDs are in the resource section), at this volume and from this address.",
            Intent.CONFIRM,
        ),
        Step(
            "If not: limit the identity's Bedrock permissions (bedrock:InvokeModel and related actions) "
            "to the models it needs, and rotate or revoke its credentials.",
            Intent.ROTATE,
            also=(Intent.REVIEW_PERMISSIONS,),
        ),
        Step(
            "Review the Bedrock model invocation logs (if enabled) and CloudTrail for what was asked and "
            "answered: prompts and responses may contain sensitive data.",
            Intent.REVIEW_ACTIVITY,
            also=(Intent.ASSESS_DATA, Intent.ASSESS_IMPACT),
        ),
    ),
    "Impact:IAMUser/CostHarvesting": _steps(
        Step(
            "Check the Amazon Bedrock charges for these models in Cost Explorer and set a budget alert: "
            "stolen credentials are used to run models at your expense.",
            Intent.ASSESS_IMPACT,
        ),
        Step(
            "If the calls are not yours: deactivate or rotate the identity's keys, revoke its sessions, "
            "and remove the Bedrock permissions it does not need.",
            Intent.ROTATE,
            also=(Intent.REVIEW_PERMISSIONS,),
        ),
        Step(
            "Check who enabled access to these models or changed the Bedrock account settings, and when.",
            Intent.REVIEW_ACTIVITY,
        ),
    ),
    "Impact:IAMUser/PromptInjection.Direct": _steps(
        Step(
            "Review the guardrail result in the resource section (action, source, content filters) and "
            "the application's logs for the prompt that was sent.",
            Intent.REVIEW_ACTIVITY,
            also=(Intent.ASSESS_IMPACT,),
        ),
        Step(
            "Keep the guardrail's prompt-attack filter on at high strength for input, and make sure the "
            "application never passes user text as system instructions.",
            Intent.RESTORE_CONTROL,
        ),
        Step(
            "Find which user of the application sent the prompt; if the identity or its users are not "
            "expected, restrict access to the application and rotate the credentials.",
            Intent.CONFIRM,
            also=(Intent.ROTATE,),
        ),
    ),
    # S3
    "Policy:S3/BucketBlockPublicAccessDisabled": _steps(
        Step("Re-enable Block Public Access on the bucket unless it must be public.", Intent.RESTORE_CONTROL),
    ),
    "Policy:S3/AccountBlockPublicAccessDisabled": _steps(
        Step(
            "Re-enable account-level S3 Block Public Access unless a documented exception exists.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Policy:S3/BucketPublicAccessGranted": _steps(
        Step(
            "Remove the public grant from the bucket policy or ACL unless the bucket must be public.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Policy:S3/BucketAnonymousAccessGranted": _steps(
        Step("Remove the anonymous grant from the bucket policy or ACL now.", Intent.RESTORE_CONTROL),
    ),
    "Stealth:S3/ServerAccessLoggingDisabled": _steps(
        Step("Re-enable server access logging on the bucket and find who disabled it.", Intent.RESTORE_CONTROL),
    ),
    "Exfiltration:S3/AnomalousBehavior": _steps(
        Step(
            "Review which objects were read and by whom; revoke the credentials if unexpected.",
            Intent.ASSESS_DATA,
            also=(Intent.ROTATE,),
        ),
    ),
    "Exfiltration:S3/MaliciousIPCaller": _steps(
        Step(
            "Objects were read from a malicious address: rotate the credentials and assess the data read.",
            Intent.ROTATE,
            also=(Intent.ASSESS_DATA,),
        ),
    ),
    "Impact:S3/AnomalousBehavior.Delete": _steps(
        Step(
            "Check versioning and backups and restore deleted objects; revoke the credentials if unexpected.",
            Intent.ASSESS_IMPACT,
            also=(Intent.ROTATE,),
        ),
    ),
    "Impact:S3/AnomalousBehavior.Permission": _steps(
        Step("Review the bucket policy and ACL changes and revert unintended ones.", Intent.RESTORE_CONTROL),
    ),
    "Impact:S3/MaliciousIPCaller": _steps(
        Step(
            "A malicious address changed or deleted data: rotate the credentials and restore from versions or backups.",
            Intent.ROTATE,
            also=(Intent.ASSESS_IMPACT,),
        ),
    ),
    "Discovery:S3/MaliciousIPCaller": _steps(
        Step("A malicious address listed your buckets: rotate the credentials it used.", Intent.ROTATE),
    ),
    "UnauthorizedAccess:S3/TorIPCaller": _steps(
        Step("S3 was accessed through Tor: rotate the credentials unless this is expected.", Intent.ROTATE),
    ),
    # Kubernetes
    "Discovery:Kubernetes/TorIPCaller": _steps(
        Step(
            "A Kubernetes user made API calls through Tor: revoke its credentials and review the EKS audit log.",
            Intent.ROTATE,
            also=(Intent.REVIEW_ACTIVITY,),
        ),
    ),
    "Discovery:Kubernetes/MaliciousIPCaller": _steps(
        Step(
            "A malicious address called the Kubernetes API: restrict the cluster endpoint (private "
            "endpoint or public access CIDRs) and rotate the user's credentials.",
            Intent.RESTRICT_ACCESS,
            also=(Intent.ROTATE,),
        ),
    ),
    "Discovery:Kubernetes/SuccessfulAnonymousAccess": _steps(
        Step(
            "Anonymous access to the API server succeeded: remove RBAC bindings that grant permissions "
            "to system:anonymous or system:unauthenticated.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Persistence:Kubernetes/SuccessfulAnonymousAccess": _steps(
        Step(
            "An anonymous user changed the cluster: remove the anonymous bindings and review every object it created.",
            Intent.RESTORE_CONTROL,
            also=(Intent.CLEAN_UP,),
        ),
    ),
    "Policy:Kubernetes/AnonymousAccessGranted": _steps(
        Step(
            "Delete the role binding that grants access to system:anonymous or system:unauthenticated.",
            Intent.RESTORE_CONTROL,
        ),
    ),
    "Policy:Kubernetes/ExposedDashboard": _steps(
        Step(
            "Remove the public exposure of the Kubernetes dashboard (LoadBalancer service) and require authentication.",
            Intent.RESTRICT_ACCESS,
        ),
    ),
    "Policy:Kubernetes/AdminAccessToDefaultServiceAccount": _steps(
        Step(
            "Remove admin permissions from the default service account; give workloads dedicated "
            "least-privilege service accounts.",
            Intent.REVIEW_PERMISSIONS,
        ),
    ),
    "Execution:Kubernetes/ExecInKubeSystemPod": _steps(
        Step(
            "Confirm who ran a command inside a kube-system pod and why; revoke the user's access if unexpected.",
            Intent.CONFIRM,
        ),
    ),
    "CredentialAccess:Kubernetes/MaliciousIPCaller": _steps(
        Step("A malicious address read secrets: rotate every secret in the namespaces it reached.", Intent.ROTATE),
    ),
    "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed": _steps(
        Step("Rotate the secrets that were read and review why this user read them.", Intent.ROTATE),
    ),
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated": _steps(
        Step(
            "Review the new role binding, especially to admin or cluster-admin, and delete it if not intended.",
            Intent.REVIEW_PERMISSIONS,
        ),
    ),
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer": _steps(
        Step(
            "Delete the privileged workload unless it is approved, and enforce Pod Security Standards "
            "(restricted) on the namespace.",
            Intent.CLEAN_UP,
        ),
    ),
    "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount": _steps(
        Step(
            "Delete the workload that mounts sensitive host paths unless approved, and enforce Pod "
            "Security Standards on the namespace.",
            Intent.CLEAN_UP,
        ),
    ),
    "Execution:Kubernetes/AnomalousBehavior.ExecInPod": _steps(
        Step(
            "Confirm who executed commands in the pod and why; revoke the user's access if unexpected.",
            Intent.CONFIRM,
        ),
    ),
}

# After-care lines, in the order the origin guide gives them.
ARCHIVE_NOTE: Final = (
    "Once handled, archive the finding. In an organisation only the GuardDuty administrator "
    "account can archive; archiving is not a mute button (a recurring finding is published "
    "again), so use a suppression rule for expected activity."
)
EXPORT_NOTE: Final = (
    "The full finding JSON is attached to the HTML email (sent through SES) as guardduty-finding-<id>.json; "
    "to export it yourself:"
)
# An alert made from a Malware Protection for S3 scan result (no GuardDuty detector): no finding exists.
NO_FINDING_NOTE: Final = (
    "This alert comes from a Malware Protection for S3 scan result, not from a GuardDuty finding: "
    "there is no finding to archive or export, and the GuardDuty console does not list it; the HTML "
    "email (sent through SES) carries the scan-result event as it arrived."
)


def all_steps() -> list[Step]:
    """Every step of every table, in table order (repeats included)."""
    steps: list[Step] = []
    for playbook in PLAYBOOKS.values():
        steps += playbook.steps
    steps += (purpose.step for purpose in (*PURPOSES.values(), UNKNOWN_PURPOSE))
    for alternatives in ACTION_STEPS.values():
        steps += alternatives
    for type_steps in TYPE_STEPS.values():
        steps += type_steps
    return steps


def prose() -> list[str]:
    """Every sentence of this module a recipient reads: the msgids of the message catalogue."""
    texts: list[str] = [*URGENCY.values(), *URGENCY_BY_VERDICT.values(), *URGENCY_NO_WORKLOAD.values()]
    texts += URGENCY_BY_TYPE.values()
    texts += (step.text for step in all_steps())
    texts += (purpose.meaning for purpose in (*PURPOSES.values(), UNKNOWN_PURPOSE))
    texts += (ARCHIVE_NOTE, EXPORT_NOTE, NO_FINDING_NOTE)
    return list(dict.fromkeys(texts))
