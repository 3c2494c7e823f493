"""The Respond section's domain: which runbooks fit a finding, and the exact command of each."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from responder.domain import guidance, respond, runbooks
from responder.domain.classify import Classification, assess, classify, response_steps
from responder.domain.models import Finding, GuardDutyEvent
from responder.domain.runbooks import Offer
from responder.domain.scan_result import finding_detail
from responder.domain.settings import RunbookSettings, Settings
from tests.conftest import FIXTURES, load, minimal_event

FINDING = "0123456789abcdef0123456789abcdef"  # minimal_event's id
DETECTOR = "abcdef0123456789abcdef0123456789"
ACCOUNT = "123456789012"  # minimal_event's account
MEMBER = "111122223333"
START = "aws ssm start-automation-execution"
ARCHIVE = (
    f"{START} --region us-east-1 --document-name GuardDutyResponder-ArchiveFinding"
    f" --parameters DetectorId={DETECTOR},FindingId={FINDING}"
)
ISOLATE = (
    f"{START} --region us-east-1 --document-name GuardDutyResponder-IsolateEc2Instance"
    f" --parameters InstanceId=i-0123456789abcdef0,FindingId={FINDING}"
)
COMPROMISED_EC2 = "Backdoor:EC2/C&CActivity.B"  # an instance in contact with a C&C server: isolate it
EVERY_FIXTURE = sorted(
    p
    for folder in ("events", "crafted", "families", "corpus/events", "hostile", "unrenderable")
    for p in (FIXTURES / folder).glob("*.json")
)


def classified(event: dict[str, Any]) -> Classification:
    return classify(GuardDutyEvent.model_validate(event).detail, Settings())


def offers_of(event: dict[str, Any], runbook_settings: RunbookSettings | None = None) -> dict[str, list[Offer]]:
    """The offers by runbook key: classify's (the preview's defaults), or respond.offers with the
    runbook settings a notifier would have, on the steps classify shows."""
    finding = GuardDutyEvent.model_validate(event).detail
    if runbook_settings is None:
        offered = classify(finding, Settings()).links.respond
    else:
        steps = response_steps(finding, assess(finding, Settings()))
        offered = respond.offers(finding, steps, runbook_settings)
    found: dict[str, list[Offer]] = {}
    for offer in offered:
        found.setdefault(offer.key, []).append(offer)
    return found


def access_key(key_id: str, user: str | None, user_type: str) -> dict[str, Any]:
    details = {"accessKeyId": key_id, "userType": user_type, "principalId": "AIDAEXAMPLE"}
    return {"resourceType": "AccessKey", "accessKeyDetails": details | ({"userName": user} if user else {})}


CREDENTIAL_THEFT = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"  # shows a ROTATE step
BUCKET_TYPE = "Policy:S3/BucketAnonymousAccessGranted"


# --- exact commands ----------------------------------------------------------------------


def test_a_compromised_instance_gets_the_isolate_and_archive_commands_exactly():
    # Given a High C&C finding about an instance of the responder's own account
    c = classified(minimal_event(COMPROMISED_EC2, 8.0))
    # Then the Respond section offers isolate, then archive, with these exact commands and console links
    assert [(o.key, o.intent, o.command, o.note) for o in c.links.respond] == [
        ("isolate", "isolate", ISOLATE, None),
        ("archive", None, ARCHIVE, None),
    ]
    assert c.links.respond[0].console_url == (
        "https://us-east-1.console.aws.amazon.com/systems-manager/automation/execute/"
        "GuardDutyResponder-IsolateEc2Instance?region=us-east-1"
    )
    # And the step the isolate offer answers is one the email shows (render marks it)
    assert "isolate" in c.presentation.step_intents
    assert len(c.presentation.step_intents) == len(c.presentation.steps)


@pytest.mark.parametrize(
    ("details", "parameters"),
    [
        (access_key("AKIAIOSFODNN7EXAMPLE", "alice", "IAMUser"), "AccessKeyId=AKIAIOSFODNN7EXAMPLE,UserName=alice"),
        (
            access_key("ASIAI44QH8DHBEXAMPLE", "web-role", "AssumedRole"),
            "AccessKeyId=ASIAI44QH8DHBEXAMPLE,RoleName=web-role",
        ),
        (access_key("ASIAI44QH8DHBEXAMPLE", "alice", "IAMUser"), "AccessKeyId=ASIAI44QH8DHBEXAMPLE,UserName=alice"),
    ],
    ids=["user key", "assumed role session", "user session token"],
)
def test_credentials_command_names_the_user_or_the_role(details, parameters):
    # Given a credential finding whose steps include rotating the credentials
    offers = offers_of(minimal_event(CREDENTIAL_THEFT, 8.0, resource=details))
    # Then the credentials runbook gets the key and the user (AKIA, GetSessionToken) or the role (assumed role)
    [offer] = offers["credentials"]
    assert offer.command == (
        f"{START} --region us-east-1 --document-name GuardDutyResponder-ContainIamCredentials"
        f" --parameters {parameters},FindingId={FINDING}"
    )
    assert offer.intent == "rotate" and offer.note is None


@pytest.mark.parametrize(
    ("details", "note"),
    [
        (access_key("ASIAI44QH8DHBEXAMPLE", "AWSReservedSSO_Admin_0123456789abcdef", "AssumedRole"), "identity_center"),
        (access_key("ASIAI44QH8DHBEXAMPLE", "AWSServiceRoleForSupport", "AssumedRole"), "service_linked"),
        (access_key("AKIAIOSFODNN7EXAMPLE", "Root", "Root"), "root"),
    ],
)
def test_credentials_iam_cannot_contain_get_a_note_and_no_command(details, note):
    # Given credentials of an Identity Center permission set, a service-linked role or root
    [offer] = offers_of(minimal_event(CREDENTIAL_THEFT, 8.0, resource=details))["credentials"]
    # Then no command, and the note says why (and where to act instead)
    assert (offer.command, offer.note, offer.note_args) == (None, f"r.note.{note}", ())


def test_a_federated_user_gets_no_credentials_runbook():
    # Given GetFederationToken credentials (no runbook contains them)
    offers = offers_of(
        minimal_event(CREDENTIAL_THEFT, 8.0, resource=access_key("ASIAI44QH8DHBEXAMPLE", "x", "FederatedUser"))
    )
    # Then only the archive runbook is offered
    assert list(offers) == ["archive"]


def test_buckets_get_one_public_access_offer_each_at_most_three():
    # Given a bucket finding naming four buckets
    buckets = [{"name": name} for name in ("logs-example", "b2", "data-example", "fourth-example")]
    offers = offers_of(
        minimal_event(BUCKET_TYPE, 8.0, resource={"resourceType": "S3Bucket", "s3BucketDetails": buckets})
    )
    # Then the first three are offered ("b2" is too short for S3: no command, a note), the fourth is not
    commands = [o.command for o in offers["public_access"]]
    assert commands == [
        f"{START} --region us-east-1 --document-name GuardDutyResponder-BlockS3PublicAccess"
        f" --parameters BucketName=logs-example,FindingId={FINDING}",
        None,
        f"{START} --region us-east-1 --document-name GuardDutyResponder-BlockS3PublicAccess"
        f" --parameters BucketName=data-example,FindingId={FINDING}",
    ]
    assert offers["public_access"][1].note_args == (("field", "BucketName"),)


def test_an_s3_object_scan_result_has_nothing_to_archive():
    # Given a Malware Protection for S3 scan result (no GuardDuty finding exists)
    detail = finding_detail(load("families/S3ObjectScan_THREATS_FOUND.json"))  # the triage's own conversion
    assert detail is not None
    finding = Finding.model_validate(detail)
    # Then no archive runbook is offered for it
    assert "archive" not in [o.key for o in classify(finding, Settings()).links.respond]


def test_runbooks_not_deployed_offer_nothing():
    # Given a stack without runbooks
    offers = offers_of(minimal_event(COMPROMISED_EC2, 8.0), RunbookSettings(enabled=False))
    # Then no offer at all
    assert offers == {}


# Per fixture: each offer's runbook and whether it has its command, or its note. Public samples with
# a redacted account or GuardDuty's placeholder key ids get the invalid-value note instead of a command.
PER_FIXTURE = [
    ("families/AttackSequence_EC2_CompromisedInstanceGroup.json", [("archive", "command")]),
    (
        "families/DefenseImpairment_Organizations_DisableOrModifyTools.json",
        [("credentials", "r.note.identity_center"), ("archive", "command")],
    ),
    (
        "families/DefenseImpairment_Route53Resolver_DisableOrModifyTools.json",
        [("credentials", "command"), ("archive", "command")],
    ),
    ("families/Execution_EC2_MaliciousFile_Snapshot.json", [("archive", "command")]),
    (
        "families/Execution_SageMaker_CommandAndScriptingInterpreter.json",
        [("credentials", "command"), ("archive", "command")],
    ),
    ("families/Impact_IAMUser_CostHarvesting.json", [("credentials", "command"), ("archive", "command")]),
    ("families/Object_S3_MaliciousFile_same_object.json", [("archive", "command")]),
    ("events/Backdoor_EC2_DenialOfService.Tcp.json", [("isolate", "command"), ("archive", "command")]),
    ("events/CryptoCurrency_EC2_BitcoinTool.B_DNS.json", [("isolate", "r.note.invalid"), ("archive", "command")]),
    (
        "events/Impact_S3_MaliciousIPCaller.json",
        [("credentials", "r.note.invalid"), ("public_access", "r.note.invalid"), ("archive", "command")],
    ),
    ("events/Policy_IAMUser_RootCredentialUsage.json", [("credentials", "r.note.root"), ("archive", "command")]),
    ("events/Recon_EC2_PortProbeUnprotectedPort.json", [("archive", "command")]),
    ("events/UnauthorizedAccess_EC2_SSHBruteForce.json", [("archive", "command")]),
    ("crafted/Execution_EC2_MaliciousFile.json", [("isolate", "command"), ("archive", "command")]),
    ("corpus/events/Recon_IAMUser_UserPermissions__awscli.json", [("credentials", "command"), ("archive", "command")]),
    ("hostile/resource_bucket.json", [("public_access", "command"), ("archive", "command")]),
]


@pytest.mark.parametrize(("fixture", "expected"), PER_FIXTURE, ids=[name for name, _ in PER_FIXTURE])
def test_which_runbooks_each_fixture_family_gets(fixture, expected):
    # Given a fixture of each family (own account: the preview's settings)
    offered = classified(load(fixture)).links.respond
    # Then exactly these runbooks are offered, each with its command or its note
    assert [(o.key, o.note or "command") for o in offered] == expected
    assert all((o.command is None) == (o.note is not None and o.note != "r.note.other_account") for o in offered)


# --- hostile values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "key", "field", "value"),
    [
        (
            minimal_event(
                COMPROMISED_EC2,
                8.0,
                resource={"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0123;rm -rf"}},
            ),
            "isolate",
            "InstanceId",
            "rm -rf",
        ),
        (
            minimal_event(
                BUCKET_TYPE, 8.0, resource={"resourceType": "S3Bucket", "s3BucketDetails": [{"name": "a..b"}]}
            ),
            "public_access",
            "BucketName",
            "a..b",
        ),
        (
            minimal_event(CREDENTIAL_THEFT, 8.0, resource=access_key("AKIAIOSFODNN7EXAMPLE", "x y", "IAMUser")),
            "credentials",
            "UserName",
            "x y",
        ),
        (
            minimal_event(CREDENTIAL_THEFT, 8.0, resource=access_key("AKIA$(id)", "alice", "IAMUser")),
            "credentials",
            "AccessKeyId",
            "$(id)",
        ),
        # A valid IAM name, but the CLI's shorthand would read the comma as a second list item
        (
            minimal_event(
                CREDENTIAL_THEFT, 8.0, resource=access_key("AKIAIOSFODNN7EXAMPLE", "a,UserName=root", "IAMUser")
            ),
            "credentials",
            "UserName",
            "UserName=root",
        ),
        (
            minimal_event(COMPROMISED_EC2, 8.0, service={"detectorId": "d;curl evil"}),
            "archive",
            "DetectorId",
            "curl",
        ),
    ],
    ids=["instance", "bucket", "user", "key", "comma", "detector"],
)
def test_a_value_failing_its_rule_gives_no_command_and_a_note_without_the_value(event, key, field, value):
    # Given a finding with an attacker-chosen value where a runbook parameter goes
    [offer] = offers_of(event)[key]
    # Then no command, a note naming the parameter, and the value appears nowhere in the offer
    assert offer.command is None
    assert (offer.note, offer.note_args) == ("r.note.invalid", (("field", field),))
    assert value not in repr(offer)


def test_a_hostile_region_or_partition_gives_no_command():
    # Given findings whose Region or partition is not one AWS has
    bad_region = offers_of(minimal_event(COMPROMISED_EC2, 8.0, region="us-east-1 --profile x"))
    bad_partition = offers_of(minimal_event(COMPROMISED_EC2, 8.0, partition="aws-evil"))
    # Then every offer lacks its command and says which value failed; no link is built either
    assert {(o.command, o.console_url, o.note_args) for offers in bad_region.values() for o in offers} == {
        (None, None, (("field", "Region"),))
    }
    assert {(o.command, o.console_url, o.note_args) for offers in bad_partition.values() for o in offers} == {
        (None, None, (("field", "Partition"),))
    }

    # And a redacted account (as some public samples have) leaves out the commands that act in it, not archiving
    bad_account = offers_of(minimal_event(COMPROMISED_EC2, 8.0, accountId="xxxxxxxxxxxx"))
    assert (bad_account["isolate"][0].command, bad_account["isolate"][0].note_args) == (None, (("field", "account"),))
    assert bad_account["archive"][0].command == ARCHIVE


# --- where it runs -----------------------------------------------------------------------


def member_event() -> dict[str, Any]:
    return minimal_event(COMPROMISED_EC2, 8.0, accountId=MEMBER, region="eu-west-1")


def test_a_member_finding_with_the_execution_role_runs_from_the_responder_through_target_locations():
    # Given a member account's finding, the members' execution role, no approvals, the responder in us-east-1
    settings = RunbookSettings(
        execution_role="GuardDutyResponder-AutomationExecution", responder_account=ACCOUNT, responder_region="us-east-1"
    )
    offers = offers_of(member_event(), settings)
    [isolate], [archive] = offers["isolate"], offers["archive"]
    # Then the command starts from the responder's Region and acts in the member account and the finding's Region
    assert isolate.command == (
        f"{START} --region us-east-1 --document-name GuardDutyResponder-IsolateEc2Instance"
        f" --parameters InstanceId=i-0123456789abcdef0,FindingId={FINDING},"
        f"AutomationAssumeRole=arn:aws:iam::{MEMBER}:role/GuardDutyResponder-AutomationExecution"
        f" --target-locations Accounts={MEMBER},Regions=eu-west-1,"
        "ExecutionRoleName=GuardDutyResponder-AutomationExecution,TargetLocationMaxConcurrency=1"
    )
    assert isolate.console_url.endswith("?region=us-east-1")
    assert (isolate.note, isolate.note_args) == (
        "r.note.member",
        (("account", MEMBER), ("role", "GuardDutyResponder-AutomationExecution")),
    )
    # And archiving stays local (the responder's detector holds its members' findings), in the finding's Region
    assert archive.command.startswith(f"{START} --region eu-west-1 --document-name GuardDutyResponder-ArchiveFinding")
    assert archive.note is None


@pytest.mark.parametrize(
    "settings",
    [
        RunbookSettings(responder_account=ACCOUNT, responder_region="us-east-1"),  # no execution role
        RunbookSettings(  # approvals: aws:approve refuses multi-account runs
            approvals=True, execution_role="X", responder_account=ACCOUNT, responder_region="us-east-1"
        ),
        RunbookSettings(execution_role="X", responder_account=ACCOUNT),  # the responder's Region unknown
    ],
    ids=["no role", "approvals", "no region"],
)
def test_a_member_finding_otherwise_gets_the_local_command_and_the_account_to_run_it_in(settings):
    # Given a member account's finding the responder cannot act on through target locations
    [isolate] = offers_of(member_event(), settings)["isolate"]
    # Then the local command for the finding's Region, and a note naming the account to sign in to
    assert isolate.command == ISOLATE.replace("us-east-1", "eu-west-1")
    assert (isolate.note, isolate.note_args) == ("r.note.other_account", (("account", MEMBER),))


def test_an_execution_role_name_the_shorthand_cannot_carry_gives_no_command():
    # Given an execution role name IAM accepts but the CLI's shorthand would split (a comma)
    settings = RunbookSettings(execution_role="a,b", responder_account=ACCOUNT, responder_region="us-east-1")
    [isolate] = offers_of(member_event(), settings)["isolate"]
    # Then no command, and the note names the role setting
    assert (isolate.command, isolate.note_args) == (None, (("field", "ExecutionRoleName"),))


def test_the_own_account_or_an_unknown_responder_account_gets_no_note():
    # Given findings of the responder's own account, and the preview (no responder account known)
    for settings in (
        RunbookSettings(responder_account=ACCOUNT, execution_role="X", responder_region="us-east-1"),
        None,
    ):
        [isolate] = offers_of(minimal_event(COMPROMISED_EC2, 8.0), settings)["isolate"]
        # Then the local command, no note
        assert (isolate.command, isolate.note) == (ISOLATE, None)


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws-cn", "cn-north-1", "https://console.amazonaws.cn"),
        ("aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com"),
        ("aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com"),
    ],
)
def test_console_link_per_partition_and_region(partition, region, host):
    # Given a finding of another partition
    [isolate] = offers_of(minimal_event(COMPROMISED_EC2, 8.0, partition=partition, region=region))["isolate"]
    # Then the link is that partition's console, on the finding's Region
    assert isolate.console_url == (
        f"{host}/systems-manager/automation/execute/GuardDutyResponder-IsolateEc2Instance?region={region}"
    )


def test_command_refuses_a_parameter_the_document_lacks_or_a_bad_target():
    # Given the isolate spec
    spec = runbooks.by_key("isolate")
    # Then an unknown parameter, a pattern failure, a bad Region or a bad target gives no command
    assert respond.command(spec, {"Nope": "x"}, region="us-east-1") is None
    assert respond.command(spec, {"InstanceId": "i-123"}, region="us-east-1") is None
    assert respond.command(spec, {"InstanceId": "i-0123456789abcdef0"}, region="us-east-1;id") is None
    target = respond.Target("11112222333", "eu-west-1", "X", "aws")  # 11 digits
    assert respond.command(spec, {"InstanceId": "i-0123456789abcdef0"}, region="us-east-1", target=target) is None


# --- every command of the corpus: shell- and CLI-safe, valid for StartAutomationExecution ---------


def _every_command() -> list[tuple[str, str]]:
    member = RunbookSettings(
        execution_role="GuardDutyResponder-AutomationExecution",
        responder_account="999999999999",
        responder_region="us-east-1",
    )
    commands = []
    for path in EVERY_FIXTURE:
        try:
            event = load(path)
            classified(event)  # the fixture is a GuardDuty finding event
        except Exception:  # noqa: BLE001, S112 (scan results and invalid events are not findings)
            continue
        for settings in (None, member):
            commands += [
                (path.name, o.command) for offers in offers_of(event, settings).values() for o in offers if o.command
            ]
    return commands


COMMANDS = _every_command()
SHORTHAND = re.compile(r"^[A-Za-z]+=[A-Za-z0-9_.:/+@-]+$")


def _api_params(command: str) -> dict[str, Any]:
    """The request the CLI sends, by a mirror of its shorthand syntax (values hold no ``,`` or ``=``)."""
    words = shlex.split(command)
    options = dict(zip(words[3::2], words[4::2], strict=True))
    params: dict[str, Any] = {"DocumentName": options["--document-name"], "Parameters": {}}
    for pair in options["--parameters"].split(","):
        assert SHORTHAND.fullmatch(pair), pair
        name, value = pair.split("=")
        params["Parameters"][name] = [value]
    if "--target-locations" in options:
        location = dict(pair.split("=") for pair in options["--target-locations"].split(","))
        params["TargetLocations"] = [
            {
                "Accounts": [location["Accounts"]],
                "Regions": [location["Regions"]],
                "ExecutionRoleName": location["ExecutionRoleName"],
                "TargetLocationMaxConcurrency": location["TargetLocationMaxConcurrency"],
            }
        ]
    return params


def test_the_corpus_yields_commands_of_every_kind():
    # Given every fixture (own account and member account)
    # Then commands of each offered runbook are among them (the checks below cover each kind)
    names = {shlex.split(c)[shlex.split(c).index("--document-name") + 1] for _, c in COMMANDS}
    assert {spec.name for spec in runbooks.SPECS[:4]} <= names
    assert any("--target-locations" in c for _, c in COMMANDS)


@pytest.mark.parametrize(("fixture", "command"), COMMANDS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(COMMANDS)])
def test_every_command_needs_no_quoting_and_is_a_valid_start_automation_execution(fixture, command):
    # Given a command the Respond section built from a fixture
    words = shlex.split(command)
    # Then a shell splits it exactly at its spaces (nothing to quote), with only harmless characters
    assert words == command.split(" ")
    assert re.fullmatch(r"[A-Za-z0-9_.:/=+,@ -]+", command)
    assert words[:3] == ["aws", "ssm", "start-automation-execution"]
    # And the request it makes is valid for ssm StartAutomationExecution (botocore's own model)
    model = botocore.session.get_session().get_service_model("ssm").operation_model("StartAutomationExecution")
    report = ParamValidator().validate(_api_params(command), model.input_shape)
    assert not report.has_errors(), report.generate_report()


AWSCLI_PARSE = """
import json, shlex, sys
from awscli.clidriver import create_clidriver
out = []
for line in json.load(sys.stdin):
    driver = create_clidriver()
    def grab(params, **kwargs):
        out.append(params)
        raise KeyboardInterrupt  # stop before any request is signed or sent
    driver.session.register("before-parameter-build.ssm.StartAutomationExecution", grab)
    try:
        driver.main(shlex.split(line)[1:])
    except KeyboardInterrupt:
        pass
print(json.dumps(out))
"""


def test_the_aws_cli_parses_every_command_into_the_same_request(tmp_path: Path):
    # Given the system Python's AWS CLI (v1), when present (not a dependency of this project)
    python = shutil.which("python3")
    probe = subprocess.run([python or "python3", "-c", "import awscli"], capture_output=True, check=False)
    if python is None or probe.returncode != 0:
        pytest.skip("no system python3 with awscli: the shorthand mirror above still checks every command")
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    lines = sorted({c for _, c in COMMANDS})
    # When the CLI parses each command (stopped before the request is built)
    result = subprocess.run(
        [python, "-c", AWSCLI_PARSE], input=json.dumps(lines), capture_output=True, text=True, env=env, check=True
    )
    # Then each request is the one the shorthand mirror expects
    assert json.loads(result.stdout) == [_api_params(line) for line in lines]


# --- steps and runbooks agree --------------------------------------------------------------


ISOLATE_STEP = {guidance.Intent.ISOLATE.value, guidance.Intent.PRESERVE.value}


def _is_finding_event(path: Path) -> bool:
    """A GuardDuty Finding event the models accept (scan results and invalid events are not)."""
    event = load(path)
    if event.get("detail-type") != "GuardDuty Finding":
        return False
    try:
        GuardDutyEvent.model_validate(event)
    except ValueError:  # pydantic's ValidationError
        return False
    return True


FINDING_FIXTURES = [path for path in EVERY_FIXTURE if _is_finding_event(path)]


@pytest.mark.parametrize("path", FINDING_FIXTURES, ids=lambda p: p.name)
def test_isolate_is_offered_exactly_when_a_step_to_isolate_or_preserve_the_instance_is_shown(path):
    # Given a fixture finding
    c = classified(load(path))
    finding = GuardDutyEvent.model_validate(load(path)).detail
    instance = finding.resource and finding.resource.instance_details and finding.resource.instance_details.instance_id
    about_instance = finding.resource is not None and finding.resource.resource_type == "Instance" and bool(instance)
    isolate = [o for o in c.links.respond if o.key == "isolate"]
    # Then an instance finding gets the isolate runbook iff its email shows an isolate/preserve step,
    # and the step the offer names is one of those shown
    assert bool(isolate) == (about_instance and bool(ISOLATE_STEP & set(c.presentation.step_intents)))
    for offer in isolate:
        assert offer.intent in ISOLATE_STEP & set(c.presentation.step_intents)
    # And every offer answering a step names a step the email shows
    assert {o.intent for o in c.links.respond if o.intent} <= set(c.presentation.step_intents)


def test_an_invalid_account_keeps_the_console_link_its_note_points_to():
    # Given a public sample whose account id is redacted (XXXXXXXXXXXX)
    event = load("events/CryptoCurrency_EC2_BitcoinTool.B_DNS.json")
    # When its offers are built
    [isolate] = offers_of(event)["isolate"]
    # Then no command, the invalid-value note, and the console page the note sends the engineer to
    assert isolate.command is None and isolate.note == "r.note.invalid"
    assert isolate.console_url is not None
    assert isolate.console_url.endswith("/automation/execute/GuardDutyResponder-IsolateEc2Instance?region=us-east-1")


@pytest.mark.parametrize(
    ("field", "value"),
    [("region", "us-east-\u0661"), ("region", "eu-west-\uff11"), ("accountId", "\u0661" * 12)],
    ids=["arabic-indic digit", "fullwidth digit", "arabic-indic account"],
)
def test_a_region_or_account_with_non_ascii_digits_gives_no_command_and_no_link(field, value):
    # Given a finding whose Region or account uses digits of another script (Python's \d matches them)
    event = minimal_event(COMPROMISED_EC2, 8.0, **{field: value})
    # When the offers are built, for the responder's own account and as a member finding through target locations
    member = RunbookSettings(execution_role="X", responder_account=MEMBER, responder_region="us-east-1")
    for settings in (None, member):
        for offer in (o for offers in offers_of(event, settings).values() for o in offers):
            # Then the value appears in no command, console link or note argument
            assert value not in repr(offer), (settings, offer)
    # And the shared patterns themselves refuse it
    from responder.domain.identifiers import SAFE_ACCOUNT, SAFE_REGION

    assert not (SAFE_REGION if field == "region" else SAFE_ACCOUNT).fullmatch(value)
    assert SAFE_REGION.fullmatch("us-east-1") and SAFE_ACCOUNT.fullmatch(ACCOUNT)
