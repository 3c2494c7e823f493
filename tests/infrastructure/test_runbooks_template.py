"""The runbooks in the synthesized template: six documents under their fixed names, one role each with
exactly the calls its document makes, the approval step only with approvers, the approval topic and the
administration role under their conditions, and nothing that starts a runbook by itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra import constants
from infra.resolve import parameter_values, resolve
from infra.runbooks import documents, permissions
from infra.runbooks.construct import Runbooks, pascal
from infra.runbooks.model import ContentContext
from tests.infrastructure.conftest import named, resources

ACCOUNT, REGION = "111122223333", "eu-west-1"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
APPROVERS = "arn:aws:iam::111122223333:user/alice,arn:aws:iam::444455556666:role/path/SecOps"
# S3's IAM actions are named after the bucket's sub-resource, not after the API.
RENAMED = {
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}
# Every action each runbook role may take, written out from the documents' steps (sns:Publish: the
# approval notice of an approvable runbook). Derived from nothing: a grant added to permissions.CALLS or a
# call added to a document fails here until this list is changed on purpose.
ROLE_ACTIONS: dict[str, set[str]] = {
    "isolate": {
        "ec2:DescribeInstances", "ec2:DescribeTags", "ec2:CreateTags", "ec2:CreateSnapshots",
        "ec2:ModifyInstanceAttribute", "ec2:CreateSecurityGroup", "ec2:RevokeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress", "sns:Publish",
    },
    "restore": {"ec2:DescribeTags", "ec2:ModifyInstanceAttribute", "ec2:DeleteTags", "ec2:DeleteSecurityGroup"},
    "credentials": {"iam:UpdateAccessKey", "iam:GetRole", "iam:PutRolePolicy", "iam:PutUserPolicy", "sns:Publish"},
    "reactivate": {"iam:UpdateAccessKey", "sns:Publish"},
    "public_access": {"s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "sns:Publish"},
    "archive": {"guardduty:ArchiveFindings"},
}  # fmt: skip


def _documents(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Runbook key -> (logical id, document resource)."""
    return {
        runbook.key: named(template, "AWS::SSM::Document", f"{pascal(runbook.key)}Runbook")
        for runbook in documents.RUNBOOKS
    }


def _role(template: dict[str, Any], key: str) -> tuple[str, dict[str, Any]]:
    return named(template, "AWS::IAM::Role", f"{pascal(key)}RunbookRole")


def _steps(node: Any) -> Iterator[dict[str, Any]]:
    """Every step anywhere in a synthesized content, both branches of any Fn::If included."""
    if isinstance(node, dict):
        if "action" in node and "name" in node:
            yield node
        for value in node.values():
            yield from _steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _steps(item)


def _calls(content: dict[str, Any]) -> set[tuple[str, str]]:
    return {(s["inputs"]["Service"], s["inputs"]["Api"]) for s in _steps(content) if s["action"] == "aws:executeAwsApi"}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    [policy] = role["Properties"]["Policies"]
    assert policy["PolicyName"] == "Runbook"
    return policy["PolicyDocument"]["Statement"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _refs(template: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Parameter values of a deploy, the pseudo parameters and the ARNs of the roles and the topic."""
    refs = {**parameter_values(template, overrides), **PSEUDO}
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            refs[f"{name}.Arn"] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        if resource["Type"] == "AWS::SNS::Topic":
            refs[name] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    return refs


# --- documents ------------------------------------------------------------------------------------


def test_six_automation_documents_under_their_fixed_names_updated_as_new_versions(template):
    # Given the SSM documents of the stack
    found = resources(template, "AWS::SSM::Document")
    # Then there is one per runbook, under the exact name the emails print, always deployed
    assert sorted(d["Properties"]["Name"] for d in found.values()) == sorted(r.name for r in documents.RUNBOOKS)
    assert {d["Properties"]["Name"] for d in found.values()} == {
        "GuardDutyResponder-IsolateEc2Instance", "GuardDutyResponder-RestoreEc2Instance",
        "GuardDutyResponder-ContainIamCredentials", "GuardDutyResponder-ReactivateAccessKey",
        "GuardDutyResponder-BlockS3PublicAccess", "GuardDutyResponder-ArchiveFinding",
    }  # fmt: skip
    for name, document in found.items():
        properties = document["Properties"]
        assert "Condition" not in document, name
        assert (properties["DocumentType"], properties["DocumentFormat"]) == ("Automation", "JSON"), name
        # A fixed name cannot be replaced: a changed content must become a new (default) version
        assert properties["UpdateMethod"] == "NewVersion", name
        assert properties["Content"]["schemaVersion"] == "0.3", name
        assert properties["Content"]["assumeRole"] == "{{ AutomationAssumeRole }}", name


def test_each_document_runs_by_default_with_its_own_role(template):
    for key, (name, document) in _documents(template).items():
        # Given the document's AutomationAssumeRole parameter
        parameter = document["Properties"]["Content"]["parameters"]["AutomationAssumeRole"]
        # Then its default is its own role's ARN, so a run needs no role argument
        role, _ = _role(template, key)
        assert parameter["default"] == {"Fn::GetAtt": [role, "Arn"]}, name


def test_the_synthesized_content_is_the_documents_content(template):
    # Given each document's content resolved for a deploy without approvers
    refs = _refs(template)
    for key, (name, document) in _documents(template).items():
        runbook = documents.by_key(key)
        role, _ = _role(template, key)
        # Then it is exactly what infra/runbooks/documents.py builds for that role (tested on moto there)
        expected = runbook.content(ContentContext(refs[f"{role}.Arn"]))
        assert resolve(template, document["Properties"]["Content"], refs) == expected, name


# --- roles ----------------------------------------------------------------------------------------


def test_each_role_allows_exactly_the_calls_its_document_makes(template):
    for key, (name, document) in _documents(template).items():
        # Given the API calls of the synthesized document, every branch included
        calls = _calls(document["Properties"]["Content"])
        assert calls, name
        # When the role's inline policy is read
        _role_id, role = _role(template, key)
        actions = {action for statement in _statements(role) for action in _listed(statement["Action"])}
        # Then it allows each call (by its IAM action) ...
        for service, api in calls:
            action = f"{service}:{api}"
            assert RENAMED.get(action, action) in actions, (name, action)
        # ... and nothing else of its inline policy than the actions written out below
        assert actions == ROLE_ACTIONS[key] - {"sns:Publish"}, name
        assert not any(action.endswith("*") for action in actions), name


def test_each_role_may_do_exactly_the_actions_written_out_here_no_more_no_less(template):
    # Given every policy of the template attached to a runbook role (its inline one, the approval one)
    attached: dict[str, set[str]] = {key: set() for key in ROLE_ACTIONS}
    for key in ROLE_ACTIONS:
        role_id, role = _role(template, key)
        for statement in _statements(role):
            attached[key] |= set(_listed(statement["Action"]))
        for policy in resources(template, "AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    attached[key] |= set(_listed(statement["Action"]))
    # Then each role's actions are exactly the literal set (not derived from permissions.CALLS), one role
    # per runbook, and every approvable runbook's role may publish the approval notice
    assert {runbook.key for runbook in documents.RUNBOOKS} == set(ROLE_ACTIONS)
    assert attached == ROLE_ACTIONS
    for runbook in documents.RUNBOOKS:
        assert ("sns:Publish" in ROLE_ACTIONS[runbook.key]) is runbook.approvable, runbook.key


def test_each_role_names_the_resources_and_conditions_of_its_grants(template):
    refs = _refs(template)
    for key in _documents(template):
        # Given the grants derived from the runbook, with this account and Region filled in
        grants = permissions.grants_for(documents.by_key(key))
        expected = [
            {
                "Action": _listed(list(grant.actions)),
                "Resource": sorted(
                    r.replace("${AWS::Partition}", "aws")
                    .replace("${AWS::Region}", REGION)
                    .replace("${AWS::AccountId}", ACCOUNT)
                    for r in grant.resources
                ),
                "Condition": json.loads(json.dumps(grant.conditions)) if grant.conditions else None,
            }
            for grant in grants
        ]
        # When the role's statements are resolved for that deploy
        _role_id, role = _role(template, key)
        found = [
            {
                "Action": _listed(statement["Action"]),
                "Resource": sorted(_listed(resolve(template, statement["Resource"], refs))),
                "Condition": statement.get("Condition"),
            }
            for statement in _statements(role)
        ]
        # Then they are those statements exactly, all Allow
        assert found == expected, key
        assert {statement["Effect"] for statement in _statements(role)} == {"Allow"}


def test_only_automation_of_this_account_assumes_a_runbook_role(template):
    refs = _refs(template)
    for key in _documents(template):
        _role_id, role = _role(template, key)
        # Given the role's trust policy
        [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        # Then Systems Manager alone assumes it, for this account's Automation executions only
        assert statement["Principal"] == {"Service": "ssm.amazonaws.com"}
        assert statement["Action"] == "sts:AssumeRole"
        assert resolve(template, statement["Condition"], refs) == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"},
        }
        # And it has no managed policy and no policy but its inline one
        assert "ManagedPolicyArns" not in role["Properties"], key


# --- approvals ------------------------------------------------------------------------------------


def test_the_approval_step_is_in_the_containment_documents_only_and_only_with_approvers(template):
    topic, _ = named(template, "AWS::SNS::Topic", "ApprovalTopic")
    for key, (name, document) in _documents(template).items():
        content = document["Properties"]["Content"]
        approvable = documents.by_key(key).approvable
        # Given the document as synthesized: the approval sits under the HasRunbookApprovers condition
        assert ("Fn::If" in json.dumps(content)) is approvable, name
        if approvable:
            condition, with_approval, without = content["mainSteps"]["Fn::If"]
            assert condition == "HasRunbookApprovers"
            assert with_approval[1:] == without
            assert with_approval[0]["action"] == "aws:approve"
            assert with_approval[0]["inputs"]["Approvers"] == {"Ref": "RunbookApprovers"}
            assert with_approval[0]["inputs"]["NotificationArn"] == {"Ref": topic}
        # When it is resolved for a deploy with approvers and one without
        for approvers, present in ((APPROVERS, approvable), ("", False)):
            steps = resolve(template, content, _refs(template, {"RunbookApprovers": approvers}))["mainSteps"]
            actions = [step["action"] for step in steps]
            # Then the approval comes first exactly where it must, naming those approvers
            assert ("aws:approve" in actions) is present, (name, approvers)
            if present:
                assert actions.index("aws:approve") == 0
                assert steps[0]["inputs"]["Approvers"] == APPROVERS.split(",")
                assert steps[0]["inputs"]["MinRequiredApprovals"] == 1


@pytest.mark.parametrize(
    ("approvers", "alarm_email", "topic", "subscribed"),
    [("", "", False, False), ("", "ops@example.com", False, False), (APPROVERS, "", True, False),
     (APPROVERS, "ops@example.com", True, True)],
)  # fmt: skip
def test_the_approval_topic_exists_with_approvers_and_reaches_the_alarm_address(
    template, approvers, alarm_email, topic, subscribed
):
    # Given a deploy with or without approvers and an alarm address
    refs = _refs(template, {"RunbookApprovers": approvers, "AlarmEmail": alarm_email})

    def exists(resource: dict[str, Any]) -> bool:
        return "Condition" not in resource or resolve(template, {"Condition": resource["Condition"]}, refs)

    topic_id, approval_topic = named(template, "AWS::SNS::Topic", "ApprovalTopic")
    _policy_id, topic_policy = named(template, "AWS::SNS::TopicPolicy", "ApprovalTopic")
    _sub_id, subscription = named(template, "AWS::SNS::Subscription", "ApprovalSubscription")
    _publish_id, publish = named(template, "AWS::IAM::Policy", "RunbookApprovalPolicy")
    # Then the topic, its SSL-only policy and the containment roles' right to publish exist with approvers only
    assert exists(approval_topic) is exists(topic_policy) is exists(publish) is topic
    # And the alarm address is subscribed when both are given
    assert exists(subscription) is subscribed
    # And aws:approve's rule holds: the topic's name starts with "Automation"
    assert approval_topic["Properties"]["TopicName"] == constants.APPROVAL_TOPIC_NAME
    assert constants.APPROVAL_TOPIC_NAME.startswith("Automation")
    assert resolve(template, subscription["Properties"]["Endpoint"], refs) == alarm_email
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    assert subscription["Properties"]["Protocol"] == "email"
    assert "RedrivePolicy" in subscription["Properties"]


def test_only_the_approvable_runbooks_roles_may_publish_the_approval_notice(template):
    # Given the approval publish policy
    topic, _ = named(template, "AWS::SNS::Topic", "ApprovalTopic")
    _name, policy = named(template, "AWS::IAM::Policy", "RunbookApprovalPolicy")
    # Then it allows sns:Publish on the approval topic alone, to the roles of the approvable runbooks
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic}}
    ]
    roles = [{"Ref": _role(template, key)[0]} for key in ("isolate", "credentials", "reactivate", "public_access")]
    assert sorted(policy["Properties"]["Roles"], key=json.dumps) == sorted(roles, key=json.dumps)


# --- administration role, environment, outputs ------------------------------------------------------


@pytest.mark.parametrize("create", ["yes", "no"])
def test_the_administration_role_may_only_assume_the_member_execution_role(template, create):
    # Given a deploy asking (or not) for the administration role, naming the members' execution role
    overrides = {"AutomationAdministrationRole": create, "MemberExecutionRoleName": constants.EXECUTION_ROLE_NAME}
    refs = _refs(template, overrides)
    _name, role = named(template, "AWS::IAM::Role", "AutomationAdministrationRole")
    # Then it exists only when asked for, under the name Automation's multi-account runs assume
    assert resolve(template, {"Condition": role["Condition"]}, refs) is (create == "yes")
    assert role["Properties"]["RoleName"] == "AWS-SystemsManager-AutomationAdministrationRole"
    # And Systems Manager of this account alone assumes it
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert resolve(template, trust["Condition"], refs) == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    # And it may assume that one role name in any account of its own organization, nothing else
    [policy] = role["Properties"]["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert resolve(template, statement, refs) == {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Resource": f"arn:aws:iam::*:role/{constants.EXECUTION_ROLE_NAME}",
        "Condition": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
    }
    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize(("approvers", "expected"), [("", "no"), (APPROVERS, "yes")])
def test_the_notifier_knows_approvals_execution_role_and_account(template, approvers, expected):
    from responder.app.settings import NotifierSettings

    # Given the notifier's runbook variables for a deploy
    _name, notifier = named(template, "AWS::Lambda::Function", "Notifier")
    env = notifier["Properties"]["Environment"]["Variables"]
    refs = _refs(template, {"RunbookApprovers": approvers, "MemberExecutionRoleName": "GuardDutyResponder-X"})
    runbooks = {
        key: resolve(template, env[key], refs)
        for key in ("RUNBOOK_APPROVALS", "RUNBOOK_EXECUTION_ROLE", "RESPONDER_ACCOUNT")
    }
    # Then they say whether runs wait for an approval, which role members run with, and this account
    assert runbooks == {
        "RUNBOOK_APPROVALS": expected,
        "RUNBOOK_EXECUTION_ROLE": "GuardDutyResponder-X",
        "RESPONDER_ACCOUNT": ACCOUNT,
    }
    # And the notifier's settings read them so
    from tests.deployed import NOTIFIER_ENV

    settings = NotifierSettings.from_env({**NOTIFIER_ENV, **runbooks})
    assert settings.runbook_approvals is (expected == "yes")
    assert settings.runbook_execution_role == "GuardDutyResponder-X"
    assert settings.responder_account == ACCOUNT
    # And the triage function is given none of them
    _name, triage = named(template, "AWS::Lambda::Function", "Function")
    assert not set(runbooks) & set(triage["Properties"]["Environment"]["Variables"])


def test_the_outputs_name_the_runbooks_and_the_approval_topic(template):
    outputs = template["Outputs"]
    assert outputs["RunbookNames"]["Value"].split(",") == [runbook.name for runbook in documents.RUNBOOKS]
    topic, _ = named(template, "AWS::SNS::Topic", "ApprovalTopic")
    assert outputs["ApprovalTopicArn"] == {**outputs["ApprovalTopicArn"], "Value": {"Ref": topic}}
    assert outputs["ApprovalTopicArn"]["Condition"] == "HasRunbookApprovers"


# --- never automatic --------------------------------------------------------------------------------


def _never_starts_a_runbook(template: dict[str, Any]) -> None:
    text = json.dumps(template["Resources"])
    # No scheduler, association or maintenance window of Systems Manager ...
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    assert not kinds & {
        "AWS::Scheduler::Schedule", "AWS::SSM::Association", "AWS::SSM::MaintenanceWindowTask",
        "AWS::Config::RemediationConfiguration",
    }  # fmt: skip
    # ... no rule targets Systems Manager ...
    for name, rule in resources(template, "AWS::Events::Rule").items():
        for target in rule["Properties"].get("Targets", []):
            assert ":ssm:" not in json.dumps(target["Arn"]) and "automation" not in json.dumps(target).lower(), name
    # ... and no policy anywhere may start an automation, a command or a change (the notifier reads its
    # routes parameter: ssm:GetParameter, nothing that acts)
    assert "ssm:StartAutomationExecution" not in text
    assert '"ssm:*"' not in text and '"Action": "*"' not in text
    for name, resource in template["Resources"].items():
        documents_ = [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
        if resource["Type"] == "AWS::IAM::Policy":
            documents_.append(resource["Properties"]["PolicyDocument"])
        for document in documents_:
            for statement in document["Statement"]:
                ssm = {str(a) for a in _listed(statement["Action"]) if str(a).startswith("ssm:")}
                assert ssm <= {"ssm:GetParameter"}, name


def test_nothing_in_the_stack_starts_a_runbook(template):
    _never_starts_a_runbook(template)


def test_nothing_in_the_forwarding_or_member_stacks_starts_a_runbook(forwarder_template, member_template):
    _never_starts_a_runbook(forwarder_template)
    _never_starts_a_runbook(member_template)


# --- the construct with plain values ------------------------------------------------------------------


def test_runbooks_with_plain_approvers_and_without_pass_the_nag_packs():
    # Given the construct alone in two stacks, with two approvers and with none, cdk-nag attached
    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    stacks = {}
    for stack_name, approvers in (("WithApprovers", APPROVERS.split(",")), ("WithoutApprovers", [])):
        stacks[stack_name] = Stack(app, stack_name)
        Runbooks(
            stacks[stack_name],
            approvers=approvers,
            alarm_email="ops@example.com",
            has_alarm_email=True,
            dead_letter_queue=None,
        )
    # When synthesized (a finding raises)
    built = {stack_name: Template.from_stack(stack).to_json() for stack_name, stack in stacks.items()}
    # Then with approvers the three containment documents start with the approval step naming them
    for stack_name, template in built.items():
        for key, (_name, document) in _documents(template).items():
            steps = document["Properties"]["Content"]["mainSteps"]
            approves = stack_name == "WithApprovers" and documents.by_key(key).approvable
            assert (steps[0]["action"] == "aws:approve") is approves, (stack_name, key)
            if approves:
                assert steps[0]["inputs"]["Approvers"] == APPROVERS.split(",")
    # And without approvers there is no approval topic, subscription or publish right at all
    assert not resources(built["WithoutApprovers"], "AWS::SNS::Topic")
    assert not resources(built["WithoutApprovers"], "AWS::IAM::Policy")
    assert resources(built["WithApprovers"], "AWS::SNS::Subscription")
