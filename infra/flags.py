"""Decisions the responder makes at synth time when its props are plain values, and leaves to
CloudFormation (as conditions) when they are tokens such as the deployable stack's parameters.

One code path for both: ``equals("sns", "sns")`` is ``True``; ``equals(Ref Channels, "sns")`` is a
condition expression. ``named`` turns an undecided flag into a CfnCondition; ``attach`` makes a
resource conditional on it; a flag decided ``False`` means the resource is not built at all.
"""

from __future__ import annotations

from typing import Any, TypeAlias, cast

from aws_cdk import CfnCondition, CfnResource, Fn, ICfnConditionExpression, Token
from constructs import Construct

# Decided (plain values), or CloudFormation's to decide: an expression, or a named condition.
Flag: TypeAlias = bool | ICfnConditionExpression | CfnCondition
Named: TypeAlias = bool | CfnCondition


def is_token(value: object) -> bool:
    """True for a value CloudFormation resolves at deploy time (a parameter, an attribute, ...)."""
    return bool(Token.is_unresolved(value))


def equals(value: str, literal: str) -> Flag:
    """``value == literal``, decided now when ``value`` is plain."""
    return Fn.condition_equals(value, literal) if is_token(value) else value == literal


def negate(flag: Flag) -> Flag:
    """Not ``flag``."""
    return (not flag) if isinstance(flag, bool) else Fn.condition_not(_expression(flag))


def any_of(*flags: Flag) -> Flag:
    """Or: ``True`` as soon as one is decided true."""
    if any(flag is True for flag in flags):
        return True
    open_flags = [_expression(flag) for flag in flags if not isinstance(flag, bool)]
    if not open_flags:
        return False
    return open_flags[0] if len(open_flags) == 1 else Fn.condition_or(*open_flags)


def all_of(*flags: Flag) -> Flag:
    """And: ``False`` as soon as one is decided false."""
    if any(flag is False for flag in flags):
        return False
    open_flags = [_expression(flag) for flag in flags if not isinstance(flag, bool)]
    if not open_flags:
        return True
    return open_flags[0] if len(open_flags) == 1 else Fn.condition_and(*open_flags)


def named(scope: Construct, logical_id: str, flag: Flag) -> Named:
    """A decided flag or an existing condition as it is; an expression as the condition ``logical_id``."""
    if isinstance(flag, bool | CfnCondition):
        return flag
    return CfnCondition(scope, logical_id, expression=_expression(flag))


def attach(resource: CfnResource, flag: Named) -> None:
    """Make ``resource`` conditional on ``flag`` (callers do not build it when ``flag`` is False)."""
    if flag is False:
        raise ValueError(f"{resource.node.path} is built although its flag is false")
    if isinstance(flag, CfnCondition):
        resource.cfn_options.condition = flag


def choose(flag: Named, when_true: Any, when_false: Any) -> Any:
    """``when_true`` or ``when_false``: picked now, or by ``Fn::If`` on the condition."""
    if isinstance(flag, bool):
        return when_true if flag else when_false
    return Fn.condition_if(flag.logical_id, when_true, when_false)


def choose_text(flag: Named, when_true: str, when_false: str) -> str:
    """``choose`` for strings (``Fn::If`` as a string token)."""
    chosen = choose(flag, when_true, when_false)
    return chosen if isinstance(chosen, str) else Token.as_string(chosen)


def _expression(flag: ICfnConditionExpression | CfnCondition) -> ICfnConditionExpression:
    # A CfnCondition is referenced as {"Condition": name} wherever an expression goes; jsii's type
    # hints do not say that it is one (it lacks the declared `type_hint`), hence the cast.
    return cast(ICfnConditionExpression, flag)
