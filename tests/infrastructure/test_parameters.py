"""One declaration per parameter (infra/parameters.py): the template, the functions' environment,
the construct's props and the README table all come from it.
"""

from __future__ import annotations

import re
import sys
import typing
from pathlib import Path

import pytest

from infra import constants
from infra.parameters import BY_NAME, EMAIL, PARAMETERS, REQUIREMENTS, WHITESPACE, markdown_table, unmet_requirements
from infra.props import ResponderProps

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_template_parameter_is_the_declared_one(template):
    # Given the synthesized parameters, and the table
    synthesized = {name: spec for name, spec in template["Parameters"].items() if name != "BootstrapVersion"}
    # Then they are the table's, in its order, with exactly its constraints and texts
    assert list(synthesized) == [parameter.name for parameter in PARAMETERS]
    for parameter in PARAMETERS:
        expected = {
            "Type": parameter.kind,
            "Description": parameter.description,
            "Default": parameter.default,
            "AllowedValues": list(parameter.allowed_values) or None,
            "AllowedPattern": parameter.pattern,
            "ConstraintDescription": parameter.constraint,
            "MinValue": parameter.min_value,
            "MaxValue": parameter.max_value,
        }
        assert synthesized[parameter.name] == {key: value for key, value in expected.items() if value is not None}


def test_the_function_environment_reads_each_parameter_through_its_declared_variable(template):
    # Given both functions' environments (each holds only its own model's variables)
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 2
    for function in functions:
        env = function["Properties"]["Environment"]["Variables"]
        for parameter in PARAMETERS:
            if parameter.env is not None and parameter.env not in env:
                assert parameter.env in constants.NOTIFIER_ONLY_VARIABLES | constants.TRIAGE_ONLY_VARIABLES
            elif parameter.env is None:
                # Then a parameter the stack alone uses is not passed on ...
                assert {"Ref": parameter.name} not in env.values(), parameter.name
            elif parameter.name == "SesConfigurationSet":
                # ... the configuration set is the given one, else the stack's own ...
                assert env[parameter.env] == {
                    "Fn::If": ["UsesOwnConfigurationSet", {"Ref": "ConfigurationSet"}, {"Ref": parameter.name}]
                }
            else:
                # ... and every other one reaches its declared variable unchanged (lists comma-joined)
                ref = {"Ref": parameter.name}
                expected = {"Fn::Join": [",", ref]} if parameter.kind == "CommaDelimitedList" else ref
                assert env[parameter.env] == expected, parameter.name


def test_the_template_rules_are_the_declared_requirements(template):
    # Given the cross-parameter rules of the table
    # Then the template has exactly these (and CDK's bootstrap check), each asserting its parameter is not empty
    assert set(template["Rules"]) - {"CheckBootstrapVersion"} == {rule.rule_id for rule in REQUIREMENTS}
    for rule in REQUIREMENTS:
        [assertion] = template["Rules"][rule.rule_id]["Assertions"]
        assert assertion == {
            "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": rule.needs}, ""]}]},
            "AssertDescription": rule.message,
        }


def test_plain_requirements_are_checked_and_tokens_left_to_the_deploy():
    assert unmet_requirements({"Channels": "ses", "SenderAddress": ""}) == ["Channels includes ses: set SenderAddress."]
    assert unmet_requirements({"Channels": "sns", "SenderAddress": ""}) == []
    assert unmet_requirements({"Channels": "ses", "SenderAddress": None}) == []  # a token: the deploy decides
    assert unmet_requirements({"CreateSenderIdentity": "yes", "SenderAddress": ""}) == [
        "CreateSenderIdentity is yes: set SenderAddress."
    ]


def test_the_readme_table_is_the_declared_one():
    # Given the README's "Stack parameters" section
    text = README.read_text()
    section = text.split("### Stack parameters\n", 1)[1]
    lines = section.strip().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = "\n".join(lines[first : first + len(PARAMETERS) + 2]) + "\n"
    # Then it is the table generated from the declarations (refresh: .venv/bin/python -m infra.parameters)
    assert table == markdown_table()


def test_the_construct_props_mirror_the_parameters():
    # Given the props the construct takes
    hints = typing.get_type_hints(ResponderProps)
    # Then there is one per parameter, named after it, and only those without a default are required
    assert set(hints) == {parameter.prop for parameter in PARAMETERS}
    assert ResponderProps.__required_keys__ == {p.prop for p in PARAMETERS if p.default is None} == {"recipients"}
    assert BY_NAME["NotifyThreshold"].prop == "notify_threshold"
    assert BY_NAME["SesMaxSendRate"].prop == "ses_max_send_rate"


def test_the_whitespace_class_is_what_python_strips():
    # Given every character str.strip() removes
    stripped = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    # Then the class names each of them, and nothing else
    pattern = re.compile(f"[{WHITESPACE}]")
    assert {chr(code) for code in range(sys.maxunicode + 1) if pattern.fullmatch(chr(code))} == stripped


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("a@example.com", True),
        ("first.last+tag@mail.example.co.jp", True),
        ("a" * 64 + "@example.com", True),
        ("a@" + "b" * 63 + ".com", True),
        ("a@b..com", False),  # an empty label: the function refuses it at cold start
        ("a@.example.com", False),
        ("a@example.com.", False),
        ("a" * 65 + "@example.com", False),  # longer than a local part may be
        ("a@" + "b" * 64 + ".com", False),  # longer than a label may be
        (".a@example.com", False),
        ("a.@example.com", False),
        ("a@example", False),
        ("Alerts <a@example.com>", False),
    ],
)
def test_the_email_pattern(value, accepted):
    assert bool(re.fullmatch(EMAIL, value)) is accepted


def test_more_approvers_than_an_approval_step_takes_are_refused_when_given_as_plain_values():
    from infra.props import values_from

    # Given eleven approver ARNs given to the construct (CloudFormation cannot count a list's items)
    approvers = [f"arn:aws:iam::111122223333:user/approver{i}" for i in range(constants.RUNBOOK_APPROVERS_MAX + 1)]
    # Then the construct refuses them, and takes ten
    with pytest.raises(ValueError, match="at most 10"):
        values_from({"recipients": ["a@example.com"], "runbook_approvers": approvers})
    ten = approvers[: constants.RUNBOOK_APPROVERS_MAX]
    assert values_from({"recipients": ["a@example.com"], "runbook_approvers": ten}).items("RunbookApprovers") == ten


def test_the_administration_role_needs_the_execution_role_it_may_assume():
    # Given the administration role asked for, with and without the member accounts' role name
    # Then it is refused without a name (its policy names the role it may assume)
    assert unmet_requirements({"AutomationAdministrationRole": "yes", "MemberExecutionRoleName": ""}) == [
        "AutomationAdministrationRole is yes: set MemberExecutionRoleName."
    ]
    named = {"AutomationAdministrationRole": "yes", "MemberExecutionRoleName": constants.EXECUTION_ROLE_NAME}
    assert unmet_requirements(named) == []
