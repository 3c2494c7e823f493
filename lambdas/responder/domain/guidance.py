"""Response guidance: what to do about a finding, as reviewable data.

Every step a recipient reads is in this module, keyed by severity band, playbook
(resource family), ThreatPurpose, action and direction, and finding type.
``classify.assemble_steps`` decides which rows apply; nothing here branches.
The English text is the source language of the message catalogue.
Sources: AWS GuardDuty remediation pages (summarised in our own words).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from responder.domain.settings import Band

DOCS_BASE: Final = "https://docs.aws.amazon.com/guardduty/latest/ug/"


class Playbook(NamedTuple):
    doc_slug: str  # page under DOCS_BASE, without ".html"
    steps: tuple[str, ...]


# Urgency by band: always the first step.
URGENCY: Final[dict[Band, str]] = {
    Band.CRITICAL: "Act now: an attack sequence is likely in progress or has just happened and "
    "one or more resources or credentials are probably compromised. Open an incident and "
    "triage this before anything else.",
    Band.HIGH: "Act immediately: the resource is likely compromised and being misused. Contain it "
    "(isolate the workload, revoke or rotate the credentials) before investigating further.",
    Band.MEDIUM: "Investigate today: the activity deviates from normal and may indicate compromise. "
    "Confirm whether it was authorised; if it cannot be explained, treat it as a compromise.",
    Band.LOW: "Review when convenient: suspicious activity was attempted but did not succeed. "
    "No immediate action is needed; keep it as context for other findings.",
}

# Remediation playbooks by resource family (AWS remediation pages, section 9 of the reference).
PLAYBOOKS: Final[dict[str, Playbook]] = {
    "ec2": Playbook(
        "compromised-ec2",
        (
            "Identify the instance (ID, account, Region) and scan it for malware, for example "
            "with a GuardDuty on-demand malware scan; remove what is found.",
            "If compromise is suspected, snapshot its EBS volumes for forensics, then isolate it: "
            "attach a dedicated security group that allows only your forensics addresses and "
            "remove all others; use a network ACL to cut connections that are already open.",
            "Find and remove the cause: close exposed ports, fix access policies, patch or "
            "upgrade vulnerable software.",
            "If the unauthorised activity cannot be identified and stopped, terminate the "
            "instance and rebuild it from a known-good image.",
        ),
    ),
    "credentials": Playbook(
        "compromised-creds",
        (
            "Identify the IAM entity and the API it called: user name, user type and access key "
            "(AKIA... keys are long-term user or root keys; ASIA... keys are temporary session "
            "credentials).",
            "Confirm with the owner of the identity whether they made these calls, at that time, from that address.",
            "If not authorised: deactivate and rotate the access key, reset the console password, "
            "revoke active role sessions, and remove any users, keys, roles or policies the "
            "attacker created.",
            "Review CloudTrail for everything this identity did since the first activity and "
            "clean up the resources it created or changed.",
        ),
    ),
    "s3": Playbook(
        "compromised-s3",
        (
            "Identify the bucket and the caller: the API called, the remote address and the "
            "access key or principal behind it.",
            "Decide whether that principal is allowed to do this; if the credentials may be "
            "compromised, follow the credential steps as well.",
            "Check whether the bucket holds sensitive data (for example with Amazon Macie).",
            "If data was exposed, enable S3 Block Public Access and tighten the bucket and IAM "
            "policies; check versioning and backups for deleted or overwritten objects.",
        ),
    ),
    "kubernetes": Playbook(
        "guardduty-remediate-kubernetes",
        (
            "Identify the cluster, the Kubernetes user or service account and the workload "
            "(namespace, pod, image) named in the finding.",
            "Compromised user: remove its aws-auth mapping or RBAC bindings, rotate its "
            "credentials and every secret it could read.",
            "Compromised pod: isolate it with a deny-all NetworkPolicy, fix the exploited "
            "weakness, start clean replacement pods and delete the compromised ones.",
            "Compromised image: stop using it, delete it from the registry, and find every pod that runs it.",
        ),
    ),
    "runtime": Playbook(
        "guardduty-remediate-runtime-monitoring",
        (
            "Identify where the process ran from the resource section: EC2 instance, EKS pod, "
            "ECS task or standalone container.",
            "Isolate that workload (deny all inbound and outbound traffic) and preserve evidence before stopping it.",
            "Review the process, its executable and its parent processes; remove the cause and "
            "replace the workload from a known-good image.",
            "If the host may have been reached, rotate the credentials of its instance role.",
        ),
    ),
    "ecs": Playbook(
        "compromised-ecs",
        (
            "Identify the ECS cluster and the task from the resource section.",
            "Isolate the affected tasks by blocking all inbound and outbound traffic.",
            "Check the container image for malware; list every running task that uses the same "
            "image (ecs list-tasks) and update their task definitions.",
            "Fix the exploited weakness, start a replacement task and stop the affected one.",
        ),
    ),
    "container": Playbook(
        "remediate-compromised-standalone-container",
        (
            "Identify the container (ID, name, image) and isolate it from other workloads.",
            "Pause the container to suspend its processes; stop it if pausing fails.",
            "Check whether the malware came with the image; if so, treat the image and every "
            "container started from it as compromised.",
        ),
    ),
    "lambda": Playbook(
        "remediate-lambda-protection-finding-types",
        (
            "Identify the function version (name, ARN, version) from the resource section.",
            "Review its code, libraries and layers, and use CloudTrail to see who last updated "
            "it and whether that was authorised.",
            "Disable the function's triggers, remove suspicious libraries or layers, redeploy "
            "clean code and review the execution role's permissions.",
        ),
    ),
    "rds": Playbook(
        "guardduty-remediate-compromised-database-rds",
        (
            "Identify the database and the database user, application and remote address from the finding.",
            "Confirm with the owner whether this login was expected.",
            "If not: change that user's password and any shared secrets, review its privileges "
            "and the database audit logs for what was read or changed.",
            "Keep the database in a private subnet and allow only the necessary sources in its security groups.",
        ),
    ),
    "malware_ec2": Playbook(
        "compromised-ec2",
        (
            "List the infected files (path, hash, volume) from the scan details and the highest "
            "severity threat detected.",
            "If the scan was triggered by another finding, handle both findings together.",
            "Isolate the affected workload, remove the malware or rebuild from a known-good "
            "image, and rotate the credentials it held.",
        ),
    ),
    "malware_s3_object": Playbook(
        "compromised-s3object-malware-protection-gdu",
        (
            "Identify the bucket, object key and version, and the threat detected.",
            "Block access to the object: delete it, move it to a quarantine bucket, or deny "
            "reads of objects tagged THREATS_FOUND with a bucket policy.",
            "Find who uploaded it (CloudTrail S3 data events) and treat that principal or "
            "application as possibly compromised.",
        ),
    ),
    "malware_backup": Playbook(
        "compromised-snapshot",
        (
            "Do not restore from the infected snapshot, AMI or recovery point.",
            "Identify the last clean recovery point and stop sharing the infected artefact.",
            "Investigate the source instance or bucket the backup was taken from.",
        ),
    ),
    "attack_sequence": Playbook(
        "guardduty_remediate",
        (
            "Review the sequence in the console: the signals, actors, endpoints and every "
            "resource listed, to scope the incident.",
            "Contain every credential and workload involved, following the credential, instance, "
            "S3 or Kubernetes steps for each resource type listed.",
            "Do not archive the contributing findings until the incident is closed: GuardDuty "
            "ignores archived findings when it correlates.",
        ),
    ),
    "generic": Playbook(
        "guardduty_remediate",
        (
            "Identify the affected resource and the identity or address behind the activity.",
            "Decide whether the activity was expected (authorised test, scanner, known "
            "automation); if so, create a suppression rule for it.",
            "If not expected, contain the resource and follow the AWS remediation guide for its resource type.",
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

# Malware scan findings by artifact / segment -> playbook (overrides the segment table).
MALWARE_FAMILIES: Final = frozenset({"MaliciousFile", "SuspiciousFile"})
MALWARE_PLAYBOOK: Final[dict[str, str]] = {
    "!AMI": "malware_backup",
    "!Snapshot": "malware_backup",
    "!RecoveryPoint": "malware_backup",
    "S3": "malware_s3_object",
    "EC2": "malware_ec2",
    "ECS": "ecs",
    "Kubernetes": "kubernetes",
    "Container": "container",
}


class Purpose(NamedTuple):
    meaning: str  # shown under "What it is"
    step: str  # purpose-specific advice


PURPOSES: Final[dict[str, Purpose]] = {
    "AttackSequence": Purpose(
        "Several related signals were correlated into a multi-stage attack (Extended Threat Detection).",
        "Treat this as one incident: the signals belong together, so respond to all of them at once.",
    ),
    "Backdoor": Purpose(
        "A resource appears to be compromised and remotely controlled (command and control, denial of service, spam).",
        "Assume an attacker controls the resource: contain it first, then investigate how it was compromised.",
    ),
    "Behavior": Purpose(
        "Activity differs from the baseline GuardDuty learned for this resource.",
        "Ask the owner whether a recent change (new software, new traffic) explains the new behaviour.",
    ),
    "CredentialAccess": Purpose(
        "Someone is trying to obtain secrets or credentials (passwords, keys, tokens, database logins).",
        "Rotate the credentials and secrets the actor could have reached.",
    ),
    "CryptoCurrency": Purpose(
        "The resource is mining cryptocurrency or talking to mining infrastructure.",
        "Unless mining is expected here, treat the workload as compromised and check the bill for unexpected compute.",
    ),
    "DefenseEvasion": Purpose(
        "Someone is hiding activity or weakening monitoring (unusual DNS resolvers, disabled "
        "logging, process injection).",
        "Restore the monitoring or logging that was changed and look for what it was hiding.",
    ),
    "Discovery": Purpose(
        "Someone is mapping your environment by listing and describing resources or permissions.",
        "Check what was enumerated: discovery usually precedes an attempt to use it.",
    ),
    "Execution": Purpose(
        "Malicious or unexpected code is running (malware, new binaries, reverse shells, suspicious tools).",
        "Identify the code that ran and how it got there; remove it and the way in.",
    ),
    "Exfiltration": Purpose(
        "Data may be leaving your environment.",
        "Determine which data was read and where it went; assess whether a disclosure process must start.",
    ),
    "Impact": Purpose(
        "Someone is manipulating, disrupting, destroying or abusing resources or data.",
        "Check for data loss or damage and for abuse that costs money; restore from backups if needed.",
    ),
    "InitialAccess": Purpose(
        "Activity typical of an attacker gaining a first foothold.",
        "Verify how the identity obtained access and close that path.",
    ),
    "PenTest": Purpose(
        "Calls came from a penetration-testing system (Kali, Parrot, Pentoo).",
        "Confirm whether an authorised penetration test is running; if not, treat the credentials as compromised.",
    ),
    "Persistence": Purpose(
        "Someone is trying to keep access (new users or keys, sensitive host mounts, persistence commands).",
        "Look for and remove every new user, key, role, workload or scheduled task the actor created.",
    ),
    "Policy": Purpose(
        "A configuration or usage that goes against security best practice.",
        "Correct the configuration, or record why it is intended and suppress the finding.",
    ),
    "PrivilegeEscalation": Purpose(
        "Someone is trying to obtain higher privileges.",
        "Review the permissions gained and revoke any that were not intended.",
    ),
    "Recon": Purpose(
        "Reconnaissance is in progress: probing ports or enumerating users and resources to find weaknesses.",
        "Reduce what is exposed: close ports and APIs that do not need to be reachable.",
    ),
    "Stealth": Purpose(
        "Someone is covering tracks, for example by disabling logging or weakening the password policy.",
        "Re-enable the logging or policy that was changed and review what happened while it was off.",
    ),
    "Trojan": Purpose(
        "Traffic typical of trojan malware (blackholed hosts, drop points, generated domains, DNS tunnelling).",
        "Look for malware on the workload and for data sent to the contacted hosts.",
    ),
    "UnauthorizedAccess": Purpose(
        "Suspicious access by an unauthorised party (brute force, Tor, malicious callers, stolen credentials).",
        "Block the source and verify that no access succeeded; rotate credentials if it did.",
    ),
    "Object": Purpose(
        "Malware Protection found a malicious object.",
        "Quarantine the object and find who uploaded it.",
    ),
    "DefenseImpairment": Purpose(
        "A custom detection rule saw defences being disabled or modified.",
        "Restore the defence that was changed and find who changed it.",
    ),
    "LateralMovement": Purpose(
        "A custom detection rule saw an attempt to move between systems.",
        "Check the systems reached from this resource for signs of compromise.",
    ),
    "ResourceDevelopment": Purpose(
        "A custom detection rule saw resources being prepared for abuse.",
        "Remove the resources prepared for abuse and find who created them.",
    ),
}

# Older or alternate purpose spellings seen in documented type names.
PURPOSE_ALIASES: Final[dict[str, str]] = {"S3Object": "Object"}

UNKNOWN_PURPOSE: Final = Purpose(
    "A finding type this version does not recognise yet.",
    "Read the finding title and description in the console, and check the GuardDuty "
    "finding types documentation for this type.",
)

# Advice by (actionType, connection direction or resource role). The direction decides
# whether our resource is being attacked (tighten access) or is attacking (compromised).
ACTION_STEPS: Final[dict[tuple[str, str], str]] = {
    ("NETWORK_CONNECTION", "INBOUND"): "The connection came in from the remote address: "
    "restrict the security group and network ACL to the sources that need access, and block "
    "the address if it keeps returning.",
    ("NETWORK_CONNECTION", "OUTBOUND"): "The connection was made by your resource to the remote "
    "address: something on it initiated the traffic, so treat it as compromised and block the "
    "destination.",
    ("NETWORK_CONNECTION", "UNKNOWN"): "The direction of the connection is unknown: review VPC "
    "flow logs for the local and remote addresses to see who started it.",
    ("NETWORK_CONNECTION", "ACTOR"): "Your resource is the actor: it is attacking or abusing "
    "other hosts, which means it is very likely compromised. Isolate it now.",
    ("PORT_PROBE", "TARGET"): "Ports on your resource were probed from the internet: close the "
    "probed ports in the security group unless they must be public.",
    ("DNS_REQUEST", "TARGET"): "Your resource looked up the domain: find the process that "
    "made the query and block the domain (for example with Route 53 Resolver DNS Firewall).",
    ("DNS_REQUEST", "ACTOR"): "Your resource generated the suspicious DNS traffic: find the "
    "process responsible and treat the workload as compromised.",
    ("AWS_API_CALL", "TARGET"): "Check in CloudTrail which calls this identity made from the "
    "remote address and whether any of them succeeded.",
    ("KUBERNETES_API_CALL", "TARGET"): "Check the EKS audit log for every request from this "
    "user and source address, and what it read or changed.",
    ("RDS_LOGIN_ATTEMPT", "TARGET"): "Check the database logs for logins from the remote "
    "address and block it in the database security group.",
    ("KUBERNETES_PERMISSION_CHECKED", "TARGET"): "Review which permissions the user checked: "
    "it is probing what it is allowed to do.",
    ("KUBERNETES_ROLE_BINDING", "TARGET"): "Review the new role binding and delete it if it was not intended.",
    ("KUBERNETES_ROLE", "TARGET"): "Review the new role and delete it if it was not intended.",
}

# Type-specific steps for the common finding types (placed right after the urgency).
TYPE_STEPS: Final[dict[str, tuple[str, ...]]] = {
    # EC2
    "UnauthorizedAccess:EC2/SSHBruteForce": (
        "If the instance is the target: allow SSH (port 22) only from known addresses or use "
        "Session Manager instead; check the auth log for a successful login. If it is the "
        "actor, it is brute-forcing others: isolate it.",
    ),
    "UnauthorizedAccess:EC2/RDPBruteForce": (
        "If the instance is the target: allow RDP (port 3389) only from known addresses or use "
        "Fleet Manager; check the Windows security log for a successful logon. If it is the "
        "actor, isolate it.",
    ),
    "Impact:EC2/WinRMBruteForce": (
        "Restrict WinRM (ports 5985/5986) to known addresses; if the instance is the actor, isolate it.",
    ),
    "Recon:EC2/PortProbeUnprotectedPort": (
        "Close the probed ports to the internet unless the service must be public; if it must, "
        "make sure it requires authentication and is patched (Elasticsearch ports 9200/9300 "
        "must never be public).",
    ),
    "Recon:EC2/PortProbeEMRUnprotectedPort": (
        "Close the EMR cluster's ports to the internet and enable EMR Block Public Access.",
    ),
    "Recon:EC2/Portscan": (
        "The instance is scanning other hosts: unless it is your own vulnerability scanner, "
        "isolate it and look for the process doing the scan.",
    ),
    "Impact:EC2/PortSweep": ("The instance is sweeping a port across many hosts: isolate it and find the process.",),
    "Backdoor:EC2/C&CActivity.B": (
        "Block the command-and-control address in security groups and network ACLs and find "
        "the process that contacted it.",
    ),
    "Backdoor:EC2/C&CActivity.B!DNS": (
        "Block the command-and-control domain with Route 53 Resolver DNS Firewall and find the "
        "process that queried it.",
    ),
    "Backdoor:EC2/DenialOfService.Tcp": (
        "The instance is sending a denial-of-service flood: isolate it now to stop harming others.",
    ),
    "Backdoor:EC2/DenialOfService.Udp": ("The instance is sending a UDP denial-of-service flood: isolate it now.",),
    "Backdoor:EC2/DenialOfService.Dns": (
        "The instance is sending a DNS-based denial-of-service flood: isolate it now.",
    ),
    "Backdoor:EC2/Spambot": (
        "The instance sends mail like a spam bot: block outbound port 25 and look for the sending process.",
    ),
    "Behavior:EC2/NetworkPortUnusual": (
        "Ask the owner whether the application recently started using this port; if not, "
        "block it and investigate the process.",
    ),
    "Behavior:EC2/TrafficVolumeUnusual": ("Check what the unusual volume of outbound data was and where it went.",),
    "CryptoCurrency:EC2/BitcoinTool.B": (
        "Find and kill the mining process, block the mining pool address, and check how it was installed.",
    ),
    "CryptoCurrency:EC2/BitcoinTool.B!DNS": (
        "Find the process resolving mining pool domains, remove it, and block the domain.",
    ),
    "Impact:EC2/BitcoinDomainRequest.Reputation": ("Find the process resolving cryptocurrency domains and remove it.",),
    "Impact:EC2/MaliciousDomainRequest.Reputation": (
        "Find the process that queried the malicious domain and block the domain.",
    ),
    "UnauthorizedAccess:EC2/TorClient": (
        "Find the process connecting to Tor; unless Tor use is approved, remove it and treat "
        "the instance as compromised.",
    ),
    "UnauthorizedAccess:EC2/TorRelay": (
        "The instance acts as a Tor relay: unless approved, stop the relay and treat the instance as compromised.",
    ),
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom": (
        "The remote address is on your own threat list: block it and check what it reached.",
    ),
    "UnauthorizedAccess:EC2/MetadataDNSRebind": (
        "Require IMDSv2 on the instance (HttpTokens=required) so rebinding cannot reach the "
        "metadata service, and rotate the instance role credentials.",
    ),
    "Trojan:EC2/DNSDataExfiltration": (
        "Data may be tunnelled out through DNS queries: find the querying process, block the "
        "domain and assess what data was on the instance.",
    ),
    "Trojan:EC2/DGADomainRequest.C!DNS": (
        "Generated domains point to malware looking for its controller: scan the instance for malware.",
    ),
    "Trojan:EC2/BlackholeTraffic": ("The instance contacted a black-holed address: look for malware.",),
    "Trojan:EC2/DropPoint": ("The instance contacted a known drop point for stolen data: check what was sent.",),
    "DefenseEvasion:EC2/UnusualDNSResolver": (
        "Check why the instance bypasses the VPC resolver; force DNS through Route 53 "
        "Resolver if this is not intended.",
    ),
    # IAM
    "Policy:IAMUser/RootCredentialUsage": (
        "Confirm that someone intended to use the root user; if not, reset the root password, "
        "enable MFA and delete any root access keys.",
    ),
    "Policy:IAMUser/ShortTermRootCredentialUsage": (
        "Confirm the centralised root access session was intended; if not, review who can "
        "obtain root sessions in your organisation.",
    ),
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": (
        "The instance role credentials were used outside AWS: revoke the role's active "
        "sessions and treat the source instance as compromised.",
    ),
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS": (
        "The instance role credentials were used from another AWS account: revoke the role's "
        "sessions and treat the source instance as compromised.",
    ),
    "UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B": (
        "Confirm the console sign-in with the user; if unexpected, reset the password, enforce "
        "MFA and revoke the session.",
    ),
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller": (
        "Calls came from a known malicious address: verify with the owner and rotate the key "
        "if they did not make them.",
    ),
    "UnauthorizedAccess:IAMUser/TorIPCaller": (
        "Calls came through Tor: verify with the owner and rotate the key if they did not make them.",
    ),
    "Recon:IAMUser/MaliciousIPCaller": (
        "A known malicious address is enumerating with these credentials: rotate the key.",
    ),
    "Recon:IAMUser/TorIPCaller": ("Someone enumerating through Tor holds these credentials: rotate the key.",),
    "Stealth:IAMUser/CloudTrailLoggingDisabled": (
        "Re-enable the CloudTrail trail at once and protect it (organisation trail, restricted permissions).",
    ),
    "Stealth:IAMUser/PasswordPolicyChange": ("Restore the account password policy and find who changed it.",),
    "PenTest:IAMUser/KaliLinux": (
        "Ask whether an authorised penetration test uses these credentials; if not, rotate them now.",
    ),
    "Exfiltration:IAMUser/AnomalousBehavior": (
        "Review the anomalous API calls for data-access or snapshot-sharing operations and "
        "revoke the credentials if unexpected.",
    ),
    "Impact:IAMUser/AnomalousBehavior": (
        "Review the anomalous API calls for destructive or cost-creating operations and "
        "revoke the credentials if unexpected.",
    ),
    "Persistence:IAMUser/AnomalousBehavior": (
        "Look for new users, access keys, roles or policies the identity created.",
    ),
    "PrivilegeEscalation:IAMUser/AnomalousBehavior": (
        "Review policies attached or changed by this identity and revert unintended ones.",
    ),
    "DefenseEvasion:IAMUser/BedrockLoggingDisabled": (
        "Re-enable Amazon Bedrock model invocation logging and find who disabled it.",
    ),
    # S3
    "Policy:S3/BucketBlockPublicAccessDisabled": (
        "Re-enable Block Public Access on the bucket unless it must be public.",
    ),
    "Policy:S3/AccountBlockPublicAccessDisabled": (
        "Re-enable account-level S3 Block Public Access unless a documented exception exists.",
    ),
    "Policy:S3/BucketPublicAccessGranted": (
        "Remove the public grant from the bucket policy or ACL unless the bucket must be public.",
    ),
    "Policy:S3/BucketAnonymousAccessGranted": ("Remove the anonymous grant from the bucket policy or ACL now.",),
    "Stealth:S3/ServerAccessLoggingDisabled": (
        "Re-enable server access logging on the bucket and find who disabled it.",
    ),
    "Exfiltration:S3/AnomalousBehavior": (
        "Review which objects were read and by whom; revoke the credentials if unexpected.",
    ),
    "Exfiltration:S3/MaliciousIPCaller": (
        "Objects were read from a malicious address: rotate the credentials and assess the data read.",
    ),
    "Impact:S3/AnomalousBehavior.Delete": (
        "Check versioning and backups and restore deleted objects; revoke the credentials if unexpected.",
    ),
    "Impact:S3/AnomalousBehavior.Permission": ("Review the bucket policy and ACL changes and revert unintended ones.",),
    "Impact:S3/MaliciousIPCaller": (
        "A malicious address changed or deleted data: rotate the credentials and restore from versions or backups.",
    ),
    "Discovery:S3/MaliciousIPCaller": ("A malicious address listed your buckets: rotate the credentials it used.",),
    "UnauthorizedAccess:S3/TorIPCaller": (
        "S3 was accessed through Tor: rotate the credentials unless this is expected.",
    ),
    # Kubernetes
    "Discovery:Kubernetes/TorIPCaller": (
        "A Kubernetes user made API calls through Tor: revoke its credentials and review the EKS audit log.",
    ),
    "Discovery:Kubernetes/MaliciousIPCaller": (
        "A malicious address called the Kubernetes API: restrict the cluster endpoint "
        "(private endpoint or public access CIDRs) and rotate the user's credentials.",
    ),
    "Discovery:Kubernetes/SuccessfulAnonymousAccess": (
        "Anonymous access to the API server succeeded: remove RBAC bindings that grant "
        "permissions to system:anonymous or system:unauthenticated.",
    ),
    "Persistence:Kubernetes/SuccessfulAnonymousAccess": (
        "An anonymous user changed the cluster: remove the anonymous bindings and review every object it created.",
    ),
    "Policy:Kubernetes/AnonymousAccessGranted": (
        "Delete the role binding that grants access to system:anonymous or system:unauthenticated.",
    ),
    "Policy:Kubernetes/ExposedDashboard": (
        "Remove the public exposure of the Kubernetes dashboard (LoadBalancer service) and require authentication.",
    ),
    "Policy:Kubernetes/AdminAccessToDefaultServiceAccount": (
        "Remove admin permissions from the default service account; give workloads dedicated "
        "least-privilege service accounts.",
    ),
    "Execution:Kubernetes/ExecInKubeSystemPod": (
        "Confirm who ran a command inside a kube-system pod and why; revoke the user's access if unexpected.",
    ),
    "CredentialAccess:Kubernetes/MaliciousIPCaller": (
        "A malicious address read secrets: rotate every secret in the namespaces it reached.",
    ),
    "CredentialAccess:Kubernetes/AnomalousBehavior.SecretsAccessed": (
        "Rotate the secrets that were read and review why this user read them.",
    ),
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.RoleBindingCreated": (
        "Review the new role binding, especially to admin or cluster-admin, and delete it if not intended.",
    ),
    "PrivilegeEscalation:Kubernetes/AnomalousBehavior.WorkloadDeployed!PrivilegedContainer": (
        "Delete the privileged workload unless it is approved, and enforce Pod Security "
        "Standards (restricted) on the namespace.",
    ),
    "Persistence:Kubernetes/AnomalousBehavior.WorkloadDeployed!ContainerWithSensitiveMount": (
        "Delete the workload that mounts sensitive host paths unless approved, and enforce "
        "Pod Security Standards on the namespace.",
    ),
    "Execution:Kubernetes/AnomalousBehavior.ExecInPod": (
        "Confirm who executed commands in the pod and why; revoke the user's access if unexpected.",
    ),
}

# After-care lines, in the order the origin guide gives them.
ARCHIVE_NOTE: Final = (
    "Once handled, archive the finding. In an organisation only the GuardDuty administrator "
    "account can archive; archiving is not a mute button (a recurring finding is published "
    "again), so use a suppression rule for expected activity."
)
EXPORT_NOTE: Final = "To keep the full finding JSON for your records, export it:"


def prose() -> list[str]:
    """Every sentence of this module a recipient reads: the msgids of the message catalogue."""
    texts: list[str] = list(URGENCY.values())
    for playbook in PLAYBOOKS.values():
        texts += playbook.steps
    for purpose in (*PURPOSES.values(), UNKNOWN_PURPOSE):
        texts += (purpose.meaning, purpose.step)
    texts += ACTION_STEPS.values()
    for steps in TYPE_STEPS.values():
        texts += steps
    texts += (ARCHIVE_NOTE, EXPORT_NOTE)
    return list(dict.fromkeys(texts))
