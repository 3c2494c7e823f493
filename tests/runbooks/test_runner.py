"""The test-only step runner itself: its semantics are ours, so each one the runbook tests rely on is pinned
here (parameters, substitution, selectors, branches, failure handling, unknown actions)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.runbooks.runner import (
    ParameterError,
    StepError,
    check_parameters,
    choice_matches,
    run,
    select,
    substitute,
)


def _script(name: str, body: str, outputs: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "action": "aws:executeScript",
        "inputs": {"Runtime": "python3.11", "Handler": "handler", "Script": body, "InputPayload": {}},
        "outputs": outputs,
        **extra,
    }


RETURN_ONE = "def handler(events, context):\n    return {'n': 1}\n"
RAISE = "def handler(events, context):\n    raise ValueError('boom')\n"
ONE = [{"Name": "N", "Selector": "$.Payload.n", "Type": "Integer"}]
SESSION = boto3.Session(region_name="us-east-1")  # no call reaches AWS: scripts, or clients given


def test_parameters_are_typed_defaulted_and_checked() -> None:
    # Given declared parameters of each type
    document = {
        "parameters": {
            "Name": {"type": "String", "allowedPattern": "^[a-z]{1,5}$"},
            "Ids": {"type": "StringList", "allowedPattern": "^i-[0-9]$"},
            "Flag": {"type": "Boolean", "default": "false"},
            "Count": {"type": "Integer", "default": 3},
        }
    }
    # When the CLI's list-of-strings form is given / Then each takes its type, defaults fill the rest
    assert check_parameters(document, {"Name": ["abc"], "Ids": ["i-1", "i-2"]}) == {
        "Name": "abc",
        "Ids": ["i-1", "i-2"],
        "Flag": False,
        "Count": 3,
    }
    # And a pattern miss (whole value, each list item), a missing or unknown name, or a bad type is refused
    for given in (
        {"Name": "abc\n", "Ids": ["i-1"]},
        {"Name": "abc", "Ids": ["i-1", "x"]},
        {"Ids": ["i-1"]},
        {"Name": "abc", "Ids": ["i-1"], "Other": "x"},
        {"Name": ["a", "b"], "Ids": ["i-1"]},
        {"Name": "abc", "Ids": ["i-1"], "Flag": "yes"},
        {"Name": "abc", "Ids": ["i-1"], "Count": "many"},
    ):
        with pytest.raises(ParameterError):
            check_parameters(document, given)


def test_a_whole_placeholder_keeps_its_type_and_an_inner_one_is_interpolated() -> None:
    # Given variables of several types
    variables = {"List": ["a", "b"], "Flag": True, "Name": "web", "automation:EXECUTION_ID": "e-1"}
    # When substituted into nested inputs
    inputs = {"A": "{{ List }}", "B": ["{{Flag}}"], "C": {"D": "q-{{ automation:EXECUTION_ID }}-{{ Name }}-{{ Flag }}"}}
    # Then whole placeholders keep list/bool, inner ones become text
    assert substitute(inputs, variables) == {"A": ["a", "b"], "B": [True], "C": {"D": "q-e-1-web-true"}}
    # And a list cannot go inside a string, nor an unknown variable anywhere
    with pytest.raises(StepError):
        substitute("x-{{ List }}", variables)
    with pytest.raises(StepError):
        substitute("{{ Missing }}", variables)


def test_selectors_check_their_types_and_fail_when_nothing_matches() -> None:
    # Given a response
    response = {"Groups": [{"Id": "sg-1"}, {"Id": "sg-2"}], "Vpc": "vpc-1", "On": True, "N": 2, "Map": {"k": "v"}}

    def out(selector: str, kind: str) -> list[dict[str, str]]:
        return [{"Name": "X", "Selector": selector, "Type": kind}]

    # Then recursive, filtered and scalar selectors give typed values
    assert select(response, out("$.Groups..Id", "StringList")) == {"X": ["sg-1", "sg-2"]}
    assert select(response, out('$.Groups[?(@.Id=="sg-2")].Id', "String")) == {"X": "sg-2"}
    assert select(response, out("$.On", "Boolean")) == {"X": True}
    assert select(response, out("$.N", "Integer")) == {"X": 2}
    assert select(response, out("$.Map", "StringMap")) == {"X": {"k": "v"}}
    assert select(response, out("$.Groups", "MapList")) == {"X": response["Groups"]}
    # And no match, a type mismatch, several matches for a scalar, or a bad selector fail the step
    for selector, kind in (
        ("$.Nothing", "String"),
        ("$.N", "String"),
        ("$.On", "Integer"),
        ("$.Groups..Id", "String"),
        ("$.[[", "String"),
        ("$.Vpc", "Secret"),
    ):
        with pytest.raises(StepError):
            select(response, out(selector, kind))


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"Variable": "AKIA123", "StartsWith": "AKIA"}, True),
        ({"Variable": "ASIA123", "StartsWith": "AKIA"}, False),
        ({"Variable": "key", "StringEquals": "key"}, True),
        ({"Variable": "KEY", "EqualsIgnoreCase": "key"}, True),
        ({"Variable": "abc", "EndsWith": "bc"}, True),
        ({"Variable": "abc", "Contains": "x"}, False),
        ({"Variable": 2, "NumericEquals": 2}, True),
        ({"Variable": 3, "NumericGreater": 2}, True),
        ({"Variable": 1, "NumericLesser": 2}, True),
        ({"Variable": True, "BooleanEquals": True}, True),
        ({"Variable": "true", "BooleanEquals": True}, False),
        ({"And": [{"Variable": "a", "StringEquals": "a"}, {"Variable": 1, "NumericEquals": 2}]}, False),
        ({"Or": [{"Variable": "a", "StringEquals": "b"}, {"Variable": 1, "NumericEquals": 1}]}, True),
        ({"Not": {"Variable": "", "StringEquals": ""}}, False),
    ],
)
def test_branch_operators(choice: dict[str, Any], expected: bool) -> None:
    # Given a branch condition / When evaluated / Then it holds exactly when the operator says so
    assert choice_matches(choice) is expected


def test_an_unknown_branch_operator_is_not_guessed() -> None:
    # Given an operator the runner does not implement / Then it raises instead of picking a path
    with pytest.raises(NotImplementedError):
        choice_matches({"Variable": "a", "Matches": "a"})


def test_branch_default_and_is_end_drive_the_flow() -> None:
    # Given a branch on a parameter with a default path, and steps ending the run
    document = {
        "parameters": {"Mode": {"type": "String"}},
        "mainSteps": [
            {
                "name": "Route",
                "action": "aws:branch",
                "inputs": {
                    "Choices": [{"NextStep": "B", "Variable": "{{ Mode }}", "StringEquals": "b"}],
                    "Default": "A",
                },
            },
            _script("A", RETURN_ONE, ONE, isEnd=True),
            _script("B", RETURN_ONE, ONE, nextStep="C"),
            _script("Skipped", RETURN_ONE, ONE),
            _script("C", RETURN_ONE, ONE, isEnd=True),
        ],
    }
    # When run each way / Then only the chosen path runs
    assert [s.name for s in run(document, {"Mode": "a"}, session=SESSION).steps] == ["Route", "A"]
    assert [s.name for s in run(document, {"Mode": "b"}, session=SESSION).steps] == ["Route", "B", "C"]


def test_on_failure_abort_continue_and_jump() -> None:
    # Given failing steps with each onFailure
    def document(on_failure: str, critical: bool = True) -> dict[str, Any]:
        failing = _script("Fail", RAISE, [], onFailure=on_failure, isCritical=critical)
        return {
            "mainSteps": [failing, _script("Next", RETURN_ONE, ONE, isEnd=True), _script("Rescue", RETURN_ONE, ONE)]
        }

    # When run / Then Abort stops; Continue goes on; a non-critical failure leaves the run a Success;
    # step:<Name> jumps there; and the failed step records the script's error
    aborted = run(document("Abort"), {}, session=SESSION)
    assert (aborted.status, [s.name for s in aborted.steps]) == ("Failed", ["Fail"])
    assert aborted.step("Fail").error == "ValueError: boom"
    continued = run(document("Continue"), {}, session=SESSION)
    assert (continued.status, [s.name for s in continued.steps]) == ("Failed", ["Fail", "Next"])
    tolerated = run(document("Continue", critical=False), {}, session=SESSION)
    assert (tolerated.status, [s.name for s in tolerated.steps]) == ("Success", ["Fail", "Next"])
    jumped = run(document("step:Rescue", critical=False), {}, session=SESSION)
    assert [s.name for s in jumped.steps] == ["Fail", "Rescue"]


def test_outputs_flow_into_later_steps_and_the_document_outputs() -> None:
    # Given a script whose output a later script reads
    second = _script(
        "Second",
        "def handler(events, context):\n    return {'twice': events['n'] * 2}\n",
        [{"Name": "Twice", "Selector": "$.Payload.twice", "Type": "Integer"}],
        isEnd=True,
    )
    second["inputs"]["InputPayload"] = {"n": "{{ First.N }}"}
    document = {"mainSteps": [_script("First", RETURN_ONE, ONE), second], "outputs": ["Second.Twice", "Absent.X"]}
    # When run / Then the value flowed, and only outputs that exist are reported
    execution = run(document, {}, session=SESSION)
    assert execution.outputs == {"Second.Twice": 2}


def test_approval_waiting_stops_the_run_without_failing() -> None:
    # Given an approval nobody has answered yet
    approve = {"name": "Approve", "action": "aws:approve", "inputs": {"Approvers": ["a"], "MinRequiredApprovals": 1}}
    document = {"mainSteps": [approve, _script("After", RETURN_ONE, ONE, isEnd=True)]}
    # When run / Then the execution waits at the approval and nothing after it ran
    execution = run(document, {}, session=SESSION, approve=lambda inputs: None)
    assert (execution.status, [s.name for s in execution.steps]) == ("Waiting", ["Approve"])


@pytest.mark.parametrize(
    "step",
    [
        {"name": "Sleep", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}},
        {"name": "Js", "action": "aws:executeScript", "inputs": {"Runtime": "nodejs", "Handler": "h", "Script": ""}},
    ],
)
def test_an_unknown_action_or_runtime_is_never_skipped(step: dict[str, Any]) -> None:
    # Given an action (or script runtime) the runner does not implement / When run / Then it raises
    with pytest.raises(NotImplementedError):
        run({"mainSteps": [step]}, {}, session=SESSION)


def test_api_errors_fail_the_step_and_calls_are_recorded_as_sent() -> None:
    # Given an API step whose call AWS refuses (a stand-in client: no AWS needed)
    class Refusing:
        def describe_instances(self, **params: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeInstances")

    step = {
        "name": "Read",
        "action": "aws:executeAwsApi",
        "inputs": {"Service": "ec2", "Api": "DescribeInstances", "InstanceIds": ["{{ Id }}"]},
    }
    document = {"parameters": {"Id": {"type": "String"}}, "mainSteps": [step]}
    # When run / Then the call is recorded with substituted parameters and the step fails with AWS's error
    execution = run(document, {"Id": "i-1"}, session=SESSION, clients={"ec2": Refusing()})
    assert execution.calls == [("ec2", "DescribeInstances", {"InstanceIds": ["i-1"]})]
    assert execution.status == "Failed"
    assert "UnauthorizedOperation" in str(execution.step("Read").error)
