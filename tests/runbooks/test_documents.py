"""The runbook documents are well-formed schema-0.3 Automation documents, every AWS call they make is one
botocore's service model accepts, and the grants table covers exactly those calls."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from infra.runbooks import documents, permissions
from infra.runbooks.model import ContentContext, Runbook
from tests.runbooks.conftest import APPROVAL, ROLE
from tests.runbooks.runner import ACTIONS, OUTPUT_TYPES, PLACEHOLDER, StepError, substitute

ROOT = Path(__file__).resolve().parents[2]
STEP_NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")
PARAMETER_TYPES = {"String", "StringList", "Boolean", "Integer", "MapList", "StringMap"}
DOCUMENT_KEYS = {"schemaVersion", "description", "assumeRole", "parameters", "mainSteps", "outputs"}
STEP_KEYS = {"name", "action", "inputs", "outputs", "onFailure", "nextStep", "isEnd", "isCritical", "timeoutSeconds"}
INPUT_KEYS = {
    "aws:executeScript": {"Runtime", "Handler", "Script", "InputPayload"},
    "aws:branch": {"Choices", "Default"},
    "aws:approve": {"Approvers", "MinRequiredApprovals", "NotificationArn", "Message"},
}
VARIABLES = {"automation:EXECUTION_ID", "global:REGION", "global:ACCOUNT_ID"}
# A valid value per parameter (each checked against its pattern below), to stand in for placeholders.
SAMPLES = {
    "InstanceId": "i-0123456789abcdef0",
    "FindingId": "1ab2c3d4e5f60718293a4b5c6d7e8f90",
    "ForensicsCidr": "10.0.0.0/24",
    "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "UserName": "alice",
    "RoleName": "web-app",
    "BucketName": "exposed-reports",
    "DetectorId": "12abc34d567e8fa901bc2d34e56789f0",
    "AutomationAssumeRole": ROLE,
}
OUTPUT_SAMPLES: dict[str, Any] = {
    "String": "sample",
    "StringList": ["sample"],
    "Boolean": True,
    "Integer": 1,
    "StringMap": {},
    "MapList": [{}],
}
# Written by hand from the IAM Service Authorization Reference, not derived from permissions.CALLS: the
# complete IAM actions each API call needs (S3 names its actions after the bucket sub-resource; creating
# with TagSpecifications also needs ec2:CreateTags on the new resource).
CALL_ACTIONS: dict[tuple[str, str], set[str]] = {
    ("ec2", "DescribeInstances"): {"ec2:DescribeInstances"},
    ("ec2", "DescribeTags"): {"ec2:DescribeTags"},
    ("ec2", "CreateTags"): {"ec2:CreateTags"},
    ("ec2", "DeleteTags"): {"ec2:DeleteTags"},
    ("ec2", "CreateSnapshots"): {"ec2:CreateSnapshots", "ec2:CreateTags"},
    ("ec2", "ModifyInstanceAttribute"): {"ec2:ModifyInstanceAttribute"},
    ("ec2", "CreateSecurityGroup"): {"ec2:CreateSecurityGroup", "ec2:CreateTags"},
    ("ec2", "RevokeSecurityGroupEgress"): {"ec2:RevokeSecurityGroupEgress"},
    ("ec2", "AuthorizeSecurityGroupIngress"): {"ec2:AuthorizeSecurityGroupIngress"},
    ("ec2", "DeleteSecurityGroup"): {"ec2:DeleteSecurityGroup"},
    ("iam", "UpdateAccessKey"): {"iam:UpdateAccessKey"},
    ("iam", "GetRole"): {"iam:GetRole"},
    ("iam", "PutRolePolicy"): {"iam:PutRolePolicy"},
    ("iam", "PutUserPolicy"): {"iam:PutUserPolicy"},
    ("s3", "GetPublicAccessBlock"): {"s3:GetBucketPublicAccessBlock"},
    ("s3", "PutPublicAccessBlock"): {"s3:PutBucketPublicAccessBlock"},
    ("guardduty", "ArchiveFindings"): {"guardduty:ArchiveFindings"},
}
# Written from each document's executeAwsApi steps (read the documents, not the grants table): the whole
# action set each runbook's role may use, no more, no less.
RUNBOOK_ACTIONS: dict[str, set[str]] = {
    "isolate": {
        "ec2:DescribeInstances",
        "ec2:DescribeTags",
        "ec2:CreateSecurityGroup",
        "ec2:CreateTags",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:ModifyInstanceAttribute",
        "ec2:CreateSnapshots",
    },
    "restore": {"ec2:DescribeTags", "ec2:ModifyInstanceAttribute", "ec2:DeleteSecurityGroup", "ec2:DeleteTags"},
    "credentials": {"iam:UpdateAccessKey", "iam:GetRole", "iam:PutRolePolicy", "iam:PutUserPolicy"},
    "reactivate": {"iam:UpdateAccessKey"},
    "public_access": {"s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
    "archive": {"guardduty:ArchiveFindings"},
}
SESSION = botocore.session.get_session()

CASES = [
    pytest.param(runbook, approval, id=f"{runbook.key}-{'approval' if approval else 'plain'}")
    for runbook in documents.RUNBOOKS
    for approval in (None, APPROVAL)
]


def _content(runbook: Runbook, approval: dict[str, Any] | None = None) -> dict[str, Any]:
    return runbook.content(ContentContext(ROLE, approval))


def _placeholders(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from _placeholders(item)
    elif isinstance(value, str):
        yield from PLACEHOLDER.findall(value)


def _successors(step: dict[str, Any], position: int, steps: list[dict[str, Any]]) -> set[str]:
    names = set()
    if step["action"] == "aws:branch":
        names |= {choice["NextStep"] for choice in step["inputs"]["Choices"]}
        names |= {step["inputs"]["Default"]} if "Default" in step["inputs"] else set()
    elif "nextStep" in step:
        names.add(step["nextStep"])
    elif not step.get("isEnd") and position + 1 < len(steps):
        names.add(steps[position + 1]["name"])
    if str(step.get("onFailure", "")).startswith("step:"):
        names.add(step["onFailure"][len("step:") :])
    return names


@pytest.mark.parametrize(("runbook", "approval"), CASES)
def test_the_document_is_a_well_formed_schema_0_3_automation(runbook: Runbook, approval: dict[str, Any] | None) -> None:
    # Given the document as deployed
    content = _content(runbook, approval)
    json.dumps(content)  # CloudFormation receives it as JSON
    # Then the envelope is schema 0.3, acting as the AutomationAssumeRole parameter
    assert set(content) <= DOCUMENT_KEYS
    assert content["schemaVersion"] == "0.3"
    assert content["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert content["description"] == runbook.description
    assert "Reverse" in runbook.description
    # And every parameter is typed, described, and its default (if any) passes its pattern
    for name, spec in content["parameters"].items():
        assert spec["type"] in PARAMETER_TYPES
        assert spec["description"]
        if "allowedPattern" in spec and "default" in spec:
            assert re.fullmatch(spec["allowedPattern"], spec["default"]), name
    assert content["parameters"]["AutomationAssumeRole"]["default"] == ROLE
    # And steps have unique valid names, known actions, allowed keys, and targets that exist
    steps = content["mainSteps"]
    names = [step["name"] for step in steps]
    assert len(names) == len(set(names))
    for position, step in enumerate(steps):
        assert STEP_NAME.fullmatch(step["name"])
        assert step["action"] in ACTIONS
        assert set(step) <= STEP_KEYS, step["name"]
        if step["action"] in INPUT_KEYS:
            assert set(step["inputs"]) <= INPUT_KEYS[step["action"]], step["name"]
        assert step.get("onFailure", "Abort") in {"Abort", "Continue"} or step["onFailure"][len("step:") :] in names
        assert _successors(step, position, steps) <= set(names)
        for output in step.get("outputs", []):
            assert step["action"] in {"aws:executeAwsApi", "aws:executeScript"}
            assert output["Type"] in OUTPUT_TYPES
            assert output["Selector"].startswith("$.")
    assert steps[-1].get("isEnd") is True


@pytest.mark.parametrize(("runbook", "approval"), CASES)
def test_every_step_is_reachable_and_every_reference_resolves(
    runbook: Runbook, approval: dict[str, Any] | None
) -> None:
    # Given the document
    content = _content(runbook, approval)
    steps = content["mainSteps"]
    # When the flow is walked from the first step
    reached, todo = set(), [steps[0]["name"]]
    position = {step["name"]: n for n, step in enumerate(steps)}
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(_successors(steps[position[name]], position[name], steps))
    # Then no step is unreachable
    assert reached == set(position)
    # And every placeholder names a parameter, an output of an earlier step, or an automation variable
    known = set(content["parameters"]) | VARIABLES
    for step in steps:
        for variable in _placeholders(step.get("inputs", {})):
            assert variable in known, f"{step['name']} uses {variable}"
        known |= {f"{step['name']}.{output['Name']}" for output in step.get("outputs", [])}
    assert set(content.get("outputs", [])) <= known


@pytest.mark.parametrize(("runbook", "approval"), CASES)
def test_approval_comes_first_only_in_containment_runbooks_with_approvers(
    runbook: Runbook, approval: dict[str, Any] | None
) -> None:
    # Given the document with or without approvers
    steps = _content(runbook, approval)["mainSteps"]
    approvals = [step for step in steps if step["action"] == "aws:approve"]
    # Then an approval step exists only for containment with approvers, first, with one approver required
    if runbook.approvable and approval is not None:
        assert approvals == [steps[0]]
        assert steps[0]["inputs"]["Approvers"] == APPROVAL["approvers"]
        assert steps[0]["inputs"]["NotificationArn"] == APPROVAL["topic_arn"]
        assert steps[0]["inputs"]["MinRequiredApprovals"] == 1
    else:
        assert approvals == []
    # (reactivate too: re-enabling a possibly stolen key is a two-person decision under a two-person rule)
    assert {r.key for r in documents.RUNBOOKS if r.approvable} == {
        "isolate",
        "credentials",
        "public_access",
        "reactivate",
    }


def _api_steps() -> Iterator[Any]:
    for runbook in documents.RUNBOOKS:
        for step in _content(runbook, APPROVAL)["mainSteps"]:
            if step["action"] == "aws:executeAwsApi":
                yield pytest.param(runbook, step, id=f"{runbook.key}-{step['name']}")


@pytest.mark.parametrize(("runbook", "step"), list(_api_steps()))
def test_every_api_call_is_valid_for_botocore(runbook: Runbook, step: dict[str, Any]) -> None:
    # Given an executeAwsApi step
    inputs = dict(step["inputs"])
    service, api = inputs.pop("Service"), inputs.pop("Api")
    # Then Service is a boto3 client namespace and Api one of its operations
    assert service in SESSION.get_available_services()
    model = SESSION.get_service_model(service)
    assert api in model.operation_names
    shape = model.operation_model(api).input_shape
    assert shape is not None
    # And the inputs are members of the operation, with every required member present
    assert set(inputs) <= set(shape.members), set(inputs) - set(shape.members)
    assert set(shape.required_members) <= set(inputs)
    # And once the placeholders hold typed samples, botocore's own validator accepts the request
    content = _content(runbook, APPROVAL)
    variables: dict[str, Any] = {name: SAMPLES[name] for name in content["parameters"]}
    variables.update(dict.fromkeys(VARIABLES, "sample"))
    for earlier in content["mainSteps"]:
        for output in earlier.get("outputs", []):
            variables[f"{earlier['name']}.{output['Name']}"] = OUTPUT_SAMPLES[output["Type"]]
    report = ParamValidator().validate(substitute(inputs, variables), shape)
    assert not report.has_errors(), report.generate_report()


def test_the_samples_pass_the_documents_patterns() -> None:
    # Given every document parameter / Then its sample passes its pattern (so the validation above is honest)
    for runbook in documents.RUNBOOKS:
        for name, spec in _content(runbook)["parameters"].items():
            if "allowedPattern" in spec:
                assert re.fullmatch(spec["allowedPattern"], SAMPLES[name]), (runbook.key, name)


def _scripts() -> Iterator[Any]:
    for runbook in documents.RUNBOOKS:
        for step in _content(runbook)["mainSteps"]:
            if step["action"] == "aws:executeScript":
                yield pytest.param(step, id=f"{runbook.key}-{step['name']}")


@pytest.mark.parametrize("step", list(_scripts()))
def test_scripts_are_pure(step: dict[str, Any]) -> None:
    # Given a script step
    inputs = step["inputs"]
    tree = ast.parse(inputs["Script"])
    # Then it runs on Python 3.11, defines its handler, and imports nothing but datetime, json and ipaddress
    assert inputs["Runtime"] == "python3.11"
    assert inputs["Handler"] in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {str(node.module) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"datetime", "json", "ipaddress"}
    assert "boto3" not in inputs["Script"]
    assert "__import__" not in inputs["Script"]


def _calls(runbook: Runbook) -> set[tuple[str, str]]:
    calls: set[tuple[str, str]] = set()
    for approval in (None, APPROVAL):
        for step in _content(runbook, approval)["mainSteps"]:
            if step["action"] == "aws:executeAwsApi":
                calls.add((step["inputs"]["Service"], step["inputs"]["Api"]))
    return calls


def test_the_grants_table_has_every_call_and_nothing_else() -> None:
    # Given every call every document makes / Then the table has an entry for each and no other
    used = set().union(*(_calls(runbook) for runbook in documents.RUNBOOKS))
    assert set(permissions.CALLS) == used


def test_the_literal_call_map_names_every_call_of_the_table() -> None:
    # Given the hand-written map / Then it covers exactly the table's calls (so the check below sees each)
    assert set(CALL_ACTIONS) == set(permissions.CALLS)


@pytest.mark.parametrize("call", sorted(permissions.CALLS), ids=".".join)
def test_each_call_grants_exactly_the_actions_of_its_api(call: tuple[str, str]) -> None:
    # Given a call / Then its grants together allow exactly that API's IAM actions (an extra grant fails)
    grants = permissions.CALLS[call]
    assert {action for grant in grants for action in grant.actions} == CALL_ACTIONS[call]
    # And every resource is "*" or an ARN template CloudFormation's Fn::Sub resolves with pseudo parameters
    for grant in permissions.CALLS[call]:
        for resource in grant.resources:
            assert resource == "*" or resource.startswith("arn:${AWS::Partition}:")
            assert set(re.findall(r"\$\{([^}]*)\}", resource)) <= {"AWS::Partition", "AWS::Region", "AWS::AccountId"}
        if "*" in grant.resources:
            assert grant.actions[0].startswith("ec2:Describe")  # only describes take no resource


@pytest.mark.parametrize("runbook", documents.RUNBOOKS, ids=lambda r: r.key)
def test_grants_for_is_exactly_the_runbooks_calls(runbook: Runbook) -> None:
    # Given a runbook / When its grants are derived / Then they are its calls' grants, each once, no other
    expected = [grant for call in sorted(_calls(runbook)) for grant in permissions.CALLS[call]]
    derived = permissions.grants_for(runbook)
    assert len(derived) == len(set(map(repr, derived)))
    assert sorted(map(repr, derived)) == sorted(set(map(repr, expected)))


@pytest.mark.parametrize("runbook", documents.RUNBOOKS, ids=lambda r: r.key)
def test_each_role_holds_exactly_its_pinned_actions(runbook: Runbook) -> None:
    # Given a runbook / When its grants are derived / Then their actions are the pinned set, no more, no less
    derived = {action for grant in permissions.grants_for(runbook) for action in grant.actions}
    assert derived == RUNBOOK_ACTIONS[runbook.key]
    assert set(RUNBOOK_ACTIONS) == {r.key for r in documents.RUNBOOKS}


def test_the_reversals_cannot_touch_what_they_do_not_reverse() -> None:
    # Given the restore and reactivate runbooks / Then they hold no snapshot, IAM policy or S3 grant
    restore = {action for grant in permissions.grants_for(documents.by_key("restore")) for action in grant.actions}
    assert restore == {"ec2:DescribeTags", "ec2:ModifyInstanceAttribute", "ec2:DeleteSecurityGroup", "ec2:DeleteTags"}
    reactivate = {
        action for grant in permissions.grants_for(documents.by_key("reactivate")) for action in grant.actions
    }
    assert reactivate == {"iam:UpdateAccessKey"}


def test_an_unknown_call_has_no_grant() -> None:
    # Given a runbook calling an API the table does not know
    def content(context: ContentContext) -> dict[str, Any]:
        step = {"name": "Reboot", "action": "aws:executeAwsApi", "inputs": {"Service": "ec2", "Api": "RebootInstances"}}
        return {"mainSteps": [step]}

    rogue = Runbook("rogue", "GuardDutyResponder-Rogue", "", (), False, content)
    # When its grants are derived / Then it is refused, naming the call
    with pytest.raises(KeyError, match="RebootInstances"):
        permissions.grants_for(rogue)


def test_infra_and_the_lambda_package_never_import_the_test_runner() -> None:
    # Given every module of infra/ and lambdas/ / Then none imports from tests (the runner is test-only)
    for path in [*ROOT.joinpath("infra").rglob("*.py"), *ROOT.joinpath("lambdas").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            names += [str(node.module)] if isinstance(node, ast.ImportFrom) else []
            assert not any(name == "tests" or name.startswith("tests.") for name in names), path


def test_substitution_refuses_an_unknown_variable() -> None:
    # Given a placeholder nothing defines / When substituted / Then the step fails (the check above relies on it)
    with pytest.raises(StepError):
        substitute({"A": "{{ Nope.Value }}"}, {})
