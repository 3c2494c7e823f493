"""The template resolver the tests and the demo rely on."""

from __future__ import annotations

import pytest

from infra.resolve import UnresolvableError, check_parameters, check_rules, parameter_values, resolve

TEMPLATE = {
    "Parameters": {
        "Level": {"Type": "String", "Default": "4.0"},
        "People": {"Type": "CommaDelimitedList"},
    },
    "Conditions": {
        "IsFour": {"Fn::Equals": [{"Ref": "Level"}, "4.0"]},
        "NotFour": {"Fn::Not": [{"Condition": "IsFour"}]},
        "Both": {"Fn::And": [{"Condition": "IsFour"}, {"Fn::Or": [{"Condition": "NotFour"}, True]}]},
    },
}


def test_defaults_overrides_and_lists():
    assert parameter_values(TEMPLATE) == {"Level": "4.0"}
    assert parameter_values(TEMPLATE, {"People": "a,b"}) == {"Level": "4.0", "People": ["a", "b"]}


def test_intrinsics():
    params = parameter_values(TEMPLATE, {"People": "a@x.io,b@y.io"})
    fragment = {
        "pick": {"Fn::If": ["IsFour", 4, 1]},
        "both": {"Fn::If": ["Both", "yes", "no"]},
        "joined": {"Fn::Join": ["+", {"Ref": "People"}]},
        "domain": {"Fn::Select": [1, {"Fn::Split": ["@", {"Fn::Select": [0, {"Ref": "People"}]}]}]},
        "plain": [1, {"a": "b", "c": "d"}],
    }
    assert resolve(TEMPLATE, fragment, params) == {
        "pick": 4, "both": "yes", "joined": "a@x.io+b@y.io", "domain": "x.io", "plain": [1, {"a": "b", "c": "d"}],
    }  # fmt: skip
    assert resolve(TEMPLATE, {"Fn::If": ["IsFour", 4, 1]}, {"Level": "9.0"}) == 1


@pytest.mark.parametrize("fragment", [{"Ref": "Missing"}, {"Fn::GetAtt": ["X", "Arn"]}, {"Fn::Sub": "${Level}"}])
def test_unknown_things_raise_instead_of_guessing(fragment):
    with pytest.raises(UnresolvableError):
        resolve(TEMPLATE, fragment, {"Level": "4.0"})


def test_no_value_drops_the_item_and_get_att_reads_given_attributes():
    # Given a list and an object with conditional items, and an attribute supplied as "Id.Attr"
    fragment = {
        "arns": [{"Fn::GetAtt": ["Alarm", "Arn"]}, {"Fn::If": ["NotFour", "other", {"Ref": "AWS::NoValue"}]}],
        "maybe": {"Fn::If": ["IsFour", {"Ref": "AWS::NoValue"}, "kept"]},
    }
    params = {"Level": "4.0", "Alarm.Arn": "arn:alarm"}
    # When resolved with the condition true, then false
    # Then AWS::NoValue removes the list item or the key, as CloudFormation does
    assert resolve(TEMPLATE, fragment, params) == {"arns": ["arn:alarm"]}
    assert resolve(TEMPLATE, fragment, {**params, "Level": "9.0"}) == {"arns": ["arn:alarm", "other"], "maybe": "kept"}


def test_rules_are_checked_where_their_condition_holds():
    # Given a rule: when Mode is one of two values, Name must not be empty
    template = {
        "Parameters": {"Mode": {"Type": "String", "Default": "a"}, "Name": {"Type": "String", "Default": ""}},
        "Rules": {
            "NeedsName": {
                "RuleCondition": {"Fn::Contains": [["b", "c"], {"Ref": "Mode"}]},
                "Assertions": [
                    {"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Name"}, ""]}]}, "AssertDescription": "set Name"}
                ],
            }
        },
    }
    # Then it holds outside its condition, and refuses inside it until Name is given
    check_rules(template, parameter_values(template))
    with pytest.raises(UnresolvableError, match="set Name"):
        check_rules(template, parameter_values(template, {"Mode": "c"}))
    check_rules(template, parameter_values(template, {"Mode": "c", "Name": "x"}))


@pytest.mark.parametrize("value", ["abc", "nan", "11", "-1"])
def test_a_number_parameter_refuses_what_is_not_a_number_in_its_range(value):
    template = {"Parameters": {"N": {"Type": "Number", "Default": "1", "MinValue": 0, "MaxValue": 10}}}
    check_parameters(template, parameter_values(template))
    with pytest.raises(UnresolvableError):
        check_parameters(template, parameter_values(template, {"N": value}))
