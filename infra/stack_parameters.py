"""Parameters: the deployable stack's CfnParameters and cross-parameter rules, from ``infra.parameters``.

Everything users tune is a CloudFormation parameter (``cdk deploy --parameters ...``), so a bad
value fails the deploy with CloudFormation's message instead of breaking the function.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import CfnParameter, CfnRule, CfnRuleAssertion, Fn
from constructs import Construct

from infra.parameters import PARAMETERS, REQUIREMENTS, Parameter
from infra.props import ResponderProps


class StackParameters(Construct):
    """One CfnParameter per ``infra.parameters.PARAMETERS`` entry and one rule per ``REQUIREMENTS`` entry.

    Their logical IDs are the parameter and rule names (``--parameters NotifyThreshold=7.0``),
    whatever this construct's id.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.parameters = {parameter.name: cfn_parameter(self, parameter) for parameter in PARAMETERS}
        for requirement in REQUIREMENTS:
            subject = self.parameters[requirement.parameter].value_as_string
            if requirement.values is None:  # any value but the empty one
                applies = Fn.condition_not(Fn.condition_equals(subject, ""))
            elif len(requirement.values) == 1:
                applies = Fn.condition_equals(subject, requirement.values[0])
            else:
                applies = Fn.condition_contains(list(requirement.values), subject)
            given = Fn.condition_not(Fn.condition_equals(self.parameters[requirement.needs].value_as_string, ""))
            rule = CfnRule(
                self,
                requirement.rule_id,
                rule_condition=applies,
                assertions=[CfnRuleAssertion(assert_=given, assert_description=requirement.message)],
            )
            rule.override_logical_id(requirement.rule_id)

    def props(self) -> ResponderProps:
        """The responder's props, each the reference to its parameter."""
        props: dict[str, Any] = {
            parameter.prop: (
                self.parameters[parameter.name].value_as_list
                if parameter.kind == "CommaDelimitedList"
                else self.parameters[parameter.name].value_as_string
            )
            for parameter in PARAMETERS
        }
        return cast(ResponderProps, props)


def cfn_parameter(scope: Construct, parameter: Parameter) -> CfnParameter:
    """The CfnParameter of one declaration, under its own name whatever ``scope`` (the full stack's
    and the forwarding stack's parameters, one definition).
    """
    cfn = CfnParameter(
        scope,
        parameter.name,
        type=parameter.kind,
        description=parameter.description,
        default=parameter.default,
        allowed_values=list(parameter.allowed_values) or None,
        allowed_pattern=parameter.pattern,
        constraint_description=parameter.constraint,
        min_value=parameter.min_value,
        max_value=parameter.max_value,
    )
    cfn.override_logical_id(parameter.name)  # the name users pass: --parameters NotifyThreshold=7.0
    return cfn
