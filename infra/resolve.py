"""Resolve a fragment of the synthesized template the way CloudFormation would, for given
parameter values: ``Ref`` (parameters are strings, as CloudFormation passes them; ``AWS::NoValue``
drops the list item or key), conditions, ``Fn::If``/``Equals``/``Not``/``And``/``Or``/``Join``/
``Select``/``Split``/``Contains`` (rules), and ``Fn::GetAtt`` for the attributes given as ``"LogicalId.Attribute"``.

Used by the infrastructure tests and the local demo to turn the rule's EventPattern into
the exact pattern EventBridge receives. Anything else raises, never guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class UnresolvableError(ValueError):
    """The fragment uses something this resolver does not evaluate."""


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults from the template, replaced by ``overrides``; lists split like CommaDelimitedList."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        raw = (overrides or {}).get(name, spec.get("Default"))
        if raw is None:
            continue
        values[name] = str(raw).split(",") if spec.get("Type") == "CommaDelimitedList" else str(raw)
    return values


def check_parameters(template: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Refuse values CloudFormation would refuse (allowed values, ranges, patterns, required)."""
    import re  # noqa: PLC0415

    for name, spec in template.get("Parameters", {}).items():
        if name not in values:
            if "Default" not in spec and not name.startswith("BootstrapVersion"):
                raise UnresolvableError(f"parameter {name} must have a value")
            continue
        items = values[name] if isinstance(values[name], list) else [values[name]]
        for item in items:
            if "AllowedValues" in spec and item not in spec["AllowedValues"]:
                raise UnresolvableError(f"parameter {name}: {item!r} is not one of {spec['AllowedValues']}")
            if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], item):
                raise UnresolvableError(f"parameter {name}: {item!r} does not match {spec['AllowedPattern']}")
            if spec.get("Type") == "Number":
                _check_number(name, spec, item)


def _check_number(name: str, spec: Mapping[str, Any], item: str) -> None:
    try:
        number = float(item)
    except ValueError:
        raise UnresolvableError(f"parameter {name}: {item!r} is not a number") from None
    low, high = float(spec.get("MinValue", "-inf")), float(spec.get("MaxValue", "inf"))
    if not low <= number <= high:
        raise UnresolvableError(f"parameter {name}: {item} is outside {low}-{high}")


def check_rules(template: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Refuse values the template's rules refuse (each assertion, where its rule's condition holds)."""
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not resolve(template, rule["RuleCondition"], values):
            continue
        for assertion in rule["Assertions"]:
            if not resolve(template, assertion["Assert"], values):
                raise UnresolvableError(f"rule {name}: {assertion.get('AssertDescription', 'assertion failed')}")


Evaluate = Callable[[Any], Any]
_NO_VALUE = object()  # what Ref AWS::NoValue resolves to: removed from the list or object holding it

# Each intrinsic: (argument, evaluate, is-condition-true) -> value.
_INTRINSICS: dict[str, Callable[[Any, Evaluate, Callable[[str], bool]], Any]] = {
    "Condition": lambda arg, value, condition: condition(arg),
    "Fn::If": lambda arg, value, condition: value(arg[1] if condition(arg[0]) else arg[2]),
    "Fn::Equals": lambda arg, value, condition: str(value(arg[0])) == str(value(arg[1])),
    "Fn::Not": lambda arg, value, condition: not value(arg[0]),
    "Fn::And": lambda arg, value, condition: all(value(item) for item in arg),
    "Fn::Or": lambda arg, value, condition: any(value(item) for item in arg),
    "Fn::Join": lambda arg, value, condition: str(arg[0]).join(str(item) for item in value(arg[1])),
    "Fn::Select": lambda arg, value, condition: value(arg[1])[int(value(arg[0]))],
    "Fn::Split": lambda arg, value, condition: str(value(arg[1])).split(str(arg[0])),
    "Fn::Contains": lambda arg, value, condition: value(arg[1]) in value(arg[0]),  # rules only
}


def resolve(template: Mapping[str, Any], fragment: Any, parameters: Mapping[str, Any]) -> Any:
    """The value of ``fragment`` after CloudFormation's intrinsic functions."""
    conditions = template.get("Conditions", {})

    def condition(name: str) -> bool:
        return bool(value(conditions[name]))

    def reference(key: str, arg: Any) -> Any:
        if key == "Ref" and arg == "AWS::NoValue":
            return _NO_VALUE
        name = arg if key == "Ref" else ".".join(arg)
        if name not in parameters:
            raise UnresolvableError(f"{key} {name}")
        return parameters[name]

    def value(node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (value(item) for item in node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key in ("Ref", "Fn::GetAtt"):
                return reference(key, arg)
            if key in _INTRINSICS:
                return _INTRINSICS[key](arg, value, condition)
            if key.startswith("Fn::"):
                raise UnresolvableError(key)
        resolved = {key: value(item) for key, item in node.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    result = value(fragment)
    if result is _NO_VALUE:
        raise UnresolvableError("the whole fragment is AWS::NoValue")
    return result
