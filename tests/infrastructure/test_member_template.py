"""The member accounts' stack (``-c member=1``): the responder's runbooks, the execution role runs
started in the responder's account assume (in one Region only), a template a StackSet deploys as it is.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra import constants
from infra.app import build_app
from infra.member import execution_grants
from infra.resolve import parameter_values, resolve
from infra.runbooks import documents
from infra.runbooks.permissions import grants_for
from tests.infrastructure.conftest import named, resources

MEMBER, ADMINISTRATOR = "444455556666", "111122223333"

# Every action the execution role may take, written out from the six documents' steps (derived from
# nothing): the runbooks' calls and passing itself; no sns:Publish (aws:approve refuses multi-account runs).
EXECUTION_ACTIONS = {
    "ec2:DescribeInstances", "ec2:DescribeTags", "ec2:CreateTags", "ec2:DeleteTags", "ec2:CreateSnapshots",
    "ec2:ModifyInstanceAttribute", "ec2:CreateSecurityGroup", "ec2:RevokeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup",
    "iam:UpdateAccessKey", "iam:GetRole", "iam:PutRolePolicy", "iam:PutUserPolicy",
    "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
    "guardduty:ArchiveFindings",
    "iam:PassRole",
}  # fmt: skip


def _refs(template: dict[str, Any], region: str, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    values = parameter_values(template, {"AdministratorAccountId": ADMINISTRATOR, **(overrides or {})})
    return {**values, "AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": MEMBER}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _execution_role(template: dict[str, Any]) -> dict[str, Any]:
    _name, role = named(template, "AWS::IAM::Role", "AutomationExecutionRole")
    return role


def test_the_member_template_deploys_as_a_stackset_template(member_assembly, member_template):
    # Given the member stack's artifact
    stack = member_assembly.get_stack_by_name(constants.MEMBER_STACK_NAME)
    manifest = json.loads((Path(member_assembly.directory) / f"{stack.stack_name}.assets.json").read_text())
    # Then it has no asset to upload (nothing but the template itself), no bootstrap parameter or rule ...
    assert [asset["source"]["path"] for asset in manifest["files"].values()] == [f"{stack.stack_name}.template.json"]
    assert not manifest.get("dockerImages")
    assert "Rules" not in member_template
    # ... and exactly its own four parameters
    assert list(member_template["Parameters"]) == [
        "AdministratorAccountId", "ExecutionRoleRegion", "RunbookApprovers", "AlarmEmail"
    ]  # fmt: skip
    # And no function, queue, key or table: runbooks, their roles, the execution role, the approval topic
    kinds = Counter(resource["Type"] for resource in member_template["Resources"].values())
    assert kinds == {
        "AWS::SSM::Document": 6, "AWS::IAM::Role": 6 + 1, "AWS::IAM::Policy": 1, "AWS::SNS::Topic": 1,
        "AWS::SNS::TopicPolicy": 1, "AWS::SNS::Subscription": 1,
    }  # fmt: skip


def test_its_parameters_take_what_they_must(member_template, template):
    parameters = member_template["Parameters"]
    # The administrator account: 12 digits, required
    assert "Default" not in parameters["AdministratorAccountId"]
    assert re.fullmatch(parameters["AdministratorAccountId"]["AllowedPattern"], ADMINISTRATOR)
    assert not re.fullmatch(parameters["AdministratorAccountId"]["AllowedPattern"], "1111")
    # The execution role's Region: a Region name, us-east-1 by default
    region = parameters["ExecutionRoleRegion"]
    assert region["Default"] == "us-east-1"
    for good in ("us-east-1", "ap-northeast-1", "us-gov-west-1", "eu-central-2"):
        assert re.fullmatch(region["AllowedPattern"], good), good
    for bad in ("US-EAST-1", "us-east", "useast1", "us-east-1 "):
        assert not re.fullmatch(region["AllowedPattern"], bad), bad
    # The approvers and the alarm address: declared as in the responder's stack
    for name in ("RunbookApprovers", "AlarmEmail"):
        assert parameters[name] == template["Parameters"][name], name


def test_the_member_runbooks_are_the_responders(member_template, template):
    # Given the documents and their roles in both stacks, by name
    member = {d["Properties"]["Name"]: (n, d) for n, d in resources(member_template, "AWS::SSM::Document").items()}
    responder = {d["Properties"]["Name"]: (n, d) for n, d in resources(template, "AWS::SSM::Document").items()}
    # Then the same six, under the same names and logical IDs, with the same content and roles
    assert set(member) == set(responder) == {runbook.name for runbook in documents.RUNBOOKS}
    for name, (logical_id, document) in member.items():
        assert logical_id == responder[name][0]
        assert document == responder[name][1], name
    for role_id, role in resources(member_template, "AWS::IAM::Role").items():
        if "RunbookRole" in role_id:
            assert role == template["Resources"][role_id], role_id


@pytest.mark.parametrize(("region", "created"), [("us-east-1", True), ("eu-west-1", False)])
def test_the_execution_role_exists_once_in_the_execution_role_region(member_template, region, created):
    # Given the stack instance of one Region (a StackSet deploys one per Region), ExecutionRoleRegion the default
    role = _execution_role(member_template)
    refs = _refs(member_template, region)
    # Then the role (IAM is global, so a fixed name once) exists only in that Region, and its output with it
    assert resolve(member_template, {"Condition": role["Condition"]}, refs) is created
    assert member_template["Outputs"]["ExecutionRoleName"]["Condition"] == role["Condition"]
    assert role["Properties"]["RoleName"] == constants.EXECUTION_ROLE_NAME


def test_the_execution_role_is_assumed_by_the_responders_administration_role_and_automation(member_template):
    # Given the execution role's trust policy, for a member account and the responder's account
    role = _execution_role(member_template)
    statements = resolve(
        member_template,
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"],
        _refs(member_template, "us-east-1"),
    )
    # Then the responder account's administration role may assume it, and Systems Manager for either account
    assert sorted(statements, key=_canonical) == sorted(
        [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ADMINISTRATOR}:role/{constants.ADMINISTRATION_ROLE_NAME}"},
            },
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": [MEMBER, ADMINISTRATOR]},
                    # Automation executions of either account only, as the runbook roles' trust
                    "ArnLike": {
                        "aws:SourceArn": [
                            f"arn:aws:ssm:*:{MEMBER}:automation-execution/*",
                            f"arn:aws:ssm:*:{ADMINISTRATOR}:automation-execution/*",
                        ]
                    },
                },
            },
        ],
        key=_canonical,
    )
    assert "ManagedPolicyArns" not in role["Properties"]


def test_the_execution_role_runs_every_runbook_in_every_region_and_passes_only_itself(member_template):
    # Given the execution role's policy as deployed (in us-east-1, acting wherever runs are started)
    role = _execution_role(member_template)
    [policy] = role["Properties"]["Policies"]
    statements = resolve(member_template, policy["PolicyDocument"]["Statement"], _refs(member_template, "us-east-1"))
    *runbook_statements, pass_role = statements
    # Then it allows every runbook's calls, each grant once, on this account's resources in any Region ...
    grants = execution_grants()
    assert len(runbook_statements) == len(grants)
    for statement, grant in zip(runbook_statements, grants, strict=True):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert actions == list(grant.actions)
        found = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        expected = [
            r.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "*").replace("${AWS::AccountId}", MEMBER)
            for r in grant.resources
        ]
        assert found == expected
        assert statement.get("Condition") == (json.loads(json.dumps(grant.conditions)) if grant.conditions else None)
    every_call = {action for runbook in documents.RUNBOOKS for g in grants_for(runbook) for action in g.actions}
    allowed = {a for s in runbook_statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert allowed == every_call
    # ... exactly the actions written out above, no more, no less ...
    assert allowed | {pass_role["Action"]} == EXECUTION_ACTIONS
    # ... and passes itself, to Systems Manager only (a run's AutomationAssumeRole)
    assert pass_role == {
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": f"arn:aws:iam::{MEMBER}:role/{constants.EXECUTION_ROLE_NAME}",
        "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
    }


@pytest.mark.parametrize(("approvers", "approves"), [("", False), ("arn:aws:iam::444455556666:user/bob", True)])
def test_member_approvals_are_the_member_accounts_own(member_template, approvers, approves):
    # Given a member deploy with or without its own approvers and an alarm address
    refs = _refs(member_template, "us-east-1", {"RunbookApprovers": approvers, "AlarmEmail": "ops@example.com"})
    for refs_name in resources(member_template, "AWS::IAM::Role"):
        refs[f"{refs_name}.Arn"] = f"arn:aws:iam::{MEMBER}:role/{refs_name}"
    topic, approval_topic = named(member_template, "AWS::SNS::Topic", "ApprovalTopic")
    refs[topic] = f"arn:aws:sns:us-east-1:{MEMBER}:{constants.APPROVAL_TOPIC_NAME}"
    _sub, subscription = named(member_template, "AWS::SNS::Subscription", "ApprovalSubscription")
    # Then the topic and its subscription exist only with approvers, and the isolate runbook asks them
    assert resolve(member_template, {"Condition": approval_topic["Condition"]}, refs) is approves
    assert resolve(member_template, {"Condition": subscription["Condition"]}, refs) is approves
    _name, isolate = named(member_template, "AWS::SSM::Document", "IsolateRunbook")
    steps = resolve(member_template, isolate["Properties"]["Content"], refs)["mainSteps"]
    assert (steps[0]["action"] == "aws:approve") is approves


def test_the_nag_packs_check_the_member_stack():
    # Given the member app and a resource that breaks an AwsSolutions rule in it
    app = build_app({"member": "1"})
    member = app.node.find_child(constants.MEMBER_STACK_NAME)
    assert isinstance(member, Stack)
    sqs.Queue(member, "PlainQueue")  # no SSL enforcement, no DLQ
    # Then synthesis refuses it (the member's own resources pass: the fixture synthesized them)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        Template.from_stack(member)
