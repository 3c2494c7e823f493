"""`make demo` and the emails' Respond section: the commands name the findings' own values, member
accounts get the note or the --target-locations command the stack's settings call for, and the isolate
and restore runbooks really change the emulated instance's security groups (out/demo/runbook.json)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from demo import organisation as org
from demo import report
from demo import runbook as demo_runbook
from demo.emulator import ACCOUNT, PSEUDO, REGION, lambda_environment, synthesized_template
from demo.report import Row
from demo.run import FIXTURES, run
from infra.constants import EXECUTION_ROLE_NAME
from infra.resolve import parameter_values

pytestmark = pytest.mark.slow

ISOLATE = "GuardDutyResponder-IsolateEc2Instance"
COMMAND = re.compile(r"aws ssm start-automation-execution (?P<options>[^\n]*)")
OTHER_ACCOUNT_NOTE = "Run it in account {account}: sign in there"
MEMBER_NOTE = "Run it from the responder's account: it acts in account {account} through the execution role {role}"
RUNBOOK_KEYS = {"document", "instance", "finding", "execution", "before", "after", "snapshots", "restore"}


def _commands(text: str, document: str) -> list[dict[str, str]]:
    """Each command of the email starting ``document``: its options, and its parameters by name."""
    found = []
    for match in COMMAND.finditer(text):
        words = match["options"].split()
        options = dict(zip(words[::2], words[1::2], strict=False))
        if options.get("--document-name") != document:
            continue
        parameters = dict(item.split("=", 1) for item in options["--parameters"].split(","))
        found.append({**options, **parameters})
    return found


def _instance_of(event):
    return (((event.get("detail") or {}).get("resource") or {}).get("instanceDetails") or {}).get("instanceId")


def _single_finding_mails(result):
    """(mail, row) for each security-team email holding exactly one finding."""
    for mail in (mail for mail in result.mails if mail.route is None):
        rows = [row for row in result.rows if mail.number in row.emails]
        if len(rows) == 1:
            yield mail, rows[0]


def test_the_notifier_runs_under_the_stacks_runbook_environment(demo_result):
    # Given the demo's stack parameters / When the notifier's environment is resolved as the emulator does
    template = synthesized_template()
    refs = {name: f"ref-of-{name}" for name in template["Resources"]}  # the resources' names do not matter here
    environment = lambda_environment(template, demo_result.parameters, refs, "Notifier")
    # Then the runbook settings come from the template: the stack's own account is the emulator's
    # (CloudFormation's AWS::AccountId), no approvals without RunbookApprovers, no execution role set;
    # and the Region is Lambda's own variable, as the runtime sets it
    assert environment["AWS_REGION"] == REGION
    assert environment["RESPONDER_ACCOUNT"] == ACCOUNT == PSEUDO["AWS::AccountId"]
    assert environment["RUNBOOK_APPROVALS"] == "no"
    assert environment["RUNBOOK_EXECUTION_ROLE"] == ""


def test_every_isolate_command_names_the_instance_and_finding_of_its_email(demo_result):
    # Given every email the demo sent
    checked = 0
    for mail in demo_result.mails:
        held = [row for row in demo_result.rows if mail.number in row.emails]
        instances = {_instance_of(demo_result.events[row.number - 1]) for row in held}
        # Then each isolate command names an instance and a finding id of a finding the email holds
        for command in _commands(mail.text, ISOLATE):
            assert command["InstanceId"] in instances, (mail.number, command)
            assert command["FindingId"] in {row.finding_id for row in held}, (mail.number, command)
            checked += 1
    assert checked  # the demo's emails do offer the isolate runbook


def test_member_accounts_get_the_note_to_run_it_there_without_an_execution_role(demo_result):
    # Given the demo's organisation (findings in member accounts) and no MemberExecutionRoleName
    members = 0
    for mail, row in _single_finding_mails(demo_result):
        commands = _commands(mail.text, ISOLATE)
        if not commands:
            continue
        # Then a member account's email gives the local command with the note naming the account,
        # never a --target-locations command; the stack's own account gets no such note
        assert all("--target-locations" not in command for command in commands)
        note = OTHER_ACCOUNT_NOTE.format(account=row.account_id)
        if row.account_id != ACCOUNT:
            members += 1
            assert note in mail.text, (mail.number, row.account_id)
        else:
            assert note not in mail.text
    assert members


def _one_ec2_finding(tmp_path, overrides):
    shutil.copy(FIXTURES / "events" / "UnauthorizedAccess_EC2_TorClient.json", tmp_path / "tor.json")
    result = run([tmp_path], {"Channels": "sns", **overrides}, write=False, organisation=org.DEMO)
    [(mail, row)] = list(_single_finding_mails(result))
    assert row.account_id != ACCOUNT  # placed in a member account
    return result, mail, row


def test_with_a_member_execution_role_the_command_runs_from_the_responders_account(tmp_path):
    # Given the stack's MemberExecutionRoleName and no approvers
    result, mail, row = _one_ec2_finding(tmp_path, {"MemberExecutionRoleName": EXECUTION_ROLE_NAME})
    # When the member account's finding is emailed
    [command] = _commands(mail.text, ISOLATE)
    # Then the command targets that account and Region through the execution role, from the home Region
    assert command["--target-locations"] == (
        f"Accounts={row.account_id},Regions={row.region},ExecutionRoleName={EXECUTION_ROLE_NAME},"
        "TargetLocationMaxConcurrency=1"
    )
    assert command["--region"] == REGION
    assert command["AutomationAssumeRole"] == f"arn:aws:iam::{row.account_id}:role/{EXECUTION_ROLE_NAME}"
    assert MEMBER_NOTE.format(account=row.account_id, role=EXECUTION_ROLE_NAME) in mail.text
    assert command["InstanceId"] == _instance_of(result.events[row.number - 1])


def test_with_approvers_a_member_account_runs_it_there_even_with_an_execution_role(tmp_path):
    # Given approvers (aws:approve does not cross accounts) and a MemberExecutionRoleName
    approver = f"arn:aws:iam::{ACCOUNT}:user/second-person"
    overrides = {"MemberExecutionRoleName": EXECUTION_ROLE_NAME, "RunbookApprovers": approver}
    assert parameter_values(synthesized_template(), overrides)["RunbookApprovers"]  # the parameter is real
    _result, mail, row = _one_ec2_finding(tmp_path, overrides)
    # Then the email gives the local command with the note to run it in the member account
    [command] = _commands(mail.text, ISOLATE)
    assert "--target-locations" not in command
    assert OTHER_ACCOUNT_NOTE.format(account=row.account_id) in mail.text


def test_the_isolate_runbook_quarantined_the_emailed_instance_and_restore_brought_its_group_back(demo_result):
    # Given the demo's runbook runs on the first emailed finding about an EC2 instance
    runbook = demo_result.runbook
    assert runbook is not None
    finding = runbook["finding"]
    row = next(row for row in demo_result.rows if row.finding_id == finding["id"])
    assert row.status == "sent" and finding["emails"] == row.emails
    first_ec2 = next(
        r for r in demo_result.rows if r.status == "sent" and _instance_of(demo_result.events[r.number - 1])
    )
    assert row is first_ec2
    # Then its email's isolate command names that finding's instance and id (the runbook ran with
    # moto's id for the instance created in its place)
    [command] = _commands(demo_result.mails[finding["emails"][0] - 1].text, ISOLATE)
    assert command["InstanceId"] == finding["instance"] == _instance_of(demo_result.events[row.number - 1])
    assert command["FindingId"] == finding["id"]
    assert command["--region"] == finding["region"]
    assert runbook["document"] == ISOLATE and re.fullmatch(r"i-[0-9a-f]{17}", runbook["instance"])
    # And the instance went from its one group, web, to the quarantine group alone, and back
    [web] = runbook["before"]
    assert web["name"] == demo_runbook.WEB_GROUP
    [quarantine] = runbook["after"]
    assert quarantine["name"] == f"GuardDutyResponder-Quarantine-{runbook['execution']}"
    assert quarantine["id"] != web["id"]
    assert runbook["restore"]["document"] == "GuardDutyResponder-RestoreEc2Instance"
    assert runbook["restore"]["after"] == [web]
    # And its volume was snapshotted
    assert runbook["snapshots"] and all(re.fullmatch(r"snap-[0-9a-f]+", s) for s in runbook["snapshots"])


def test_runbook_json_is_written_beside_summary_json_in_its_schema(demo_result, tmp_path):
    # Given the demo's run / When out/demo/ is written
    report.write(demo_result, tmp_path)
    # Then summary.json is still one object per message, and runbook.json holds the runbook runs
    assert isinstance(json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")), list)
    runbook = json.loads((tmp_path / "runbook.json").read_text(encoding="utf-8"))
    assert set(runbook) == RUNBOOK_KEYS
    assert set(runbook["finding"]) == {"id", "instance", "account_id", "region", "emails"}
    assert set(runbook["restore"]) == {"document", "execution", "after"}
    for groups in (runbook["before"], runbook["after"], runbook["restore"]["after"]):
        assert groups and all(set(group) == {"id", "name"} for group in groups)
        assert all(re.fullmatch(r"sg-[0-9a-f]+", group["id"]) for group in groups)
    assert all(isinstance(snapshot, str) for snapshot in runbook["snapshots"])
    assert runbook == demo_result.runbook


def _sent_row(instance_id: str, *, status: str = "sent") -> tuple[Row, dict[str, object]]:
    row = Row(number=1, source="x.json", finding_id="abc123", status=status, emails=[1], region="eu-west-1")
    event = {"detail": {"region": "eu-west-1", "resource": {"instanceDetails": {"instanceId": instance_id}}}}
    return row, event


def test_the_demo_acts_only_on_an_emailed_instance_id_the_runbook_accepts():
    # Given a hostile instance id, an unsent finding, then a valid emailed one
    hostile, hostile_event = _sent_row("i-1234abcd;reboot")
    unsent, unsent_event = _sent_row("i-1234abcd", status="filtered")
    valid, valid_event = _sent_row("i-0abc1234def567890")
    # When the demo picks the finding to act on / Then only the valid emailed one is picked
    picked = demo_runbook.pick([hostile, unsent, valid], [hostile_event, unsent_event, valid_event])
    assert picked is not None and picked.row is valid and picked.instance == "i-0abc1234def567890"
    assert demo_runbook.pick([hostile, unsent], [hostile_event, unsent_event]) is None
