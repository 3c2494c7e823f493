"""A test-only runner for the runbooks' steps: SSM Automation's execution is not in moto, so this plays
the documents' steps against the embedded AWS (or any client given) with the semantics below.

Its semantics are ours, not AWS's (a stand-in, kept small and strict): parameters checked against the
document (type, allowedPattern, required, defaults, unknown names refused); ``{{ Name }}``,
``{{ Step.Output }}``, ``{{ automation:EXECUTION_ID }}``, ``{{ global:REGION }}`` and
``{{ global:ACCOUNT_ID }}`` (the session's account, from STS, asked only when the document names it) substituted (a string
that is only a placeholder keeps the value's type; inside a string the value is interpolated; an unknown
variable fails the step); ``aws:executeAwsApi`` calls ``clients[Service]`` or ``session.client(Service)``;
outputs read with ``jsonpath_ng.ext`` and their ``Type`` checked (a selector matching nothing fails the
step); ``aws:executeScript`` runs the script's handler with ``InputPayload`` and reads outputs under
``$.Payload``; ``aws:branch`` evaluates ``Choices`` in order, then ``Default``, else fails;
``aws:approve`` asks ``approve(inputs)`` (False: rejected, None: still waiting); ``onFailure``
``Abort``/``Continue``/``step:<Name>``, ``isCritical``, ``nextStep``, ``isEnd``. Any other action raises
``NotImplementedError``: never silently skipped. Never imported by ``lambdas/`` or ``infra/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError
from jsonpath_ng.ext.parser import parse

ACTIONS = frozenset({"aws:executeAwsApi", "aws:executeScript", "aws:branch", "aws:approve"})
OUTPUT_TYPES = frozenset({"String", "StringList", "Integer", "Boolean", "StringMap", "MapList"})
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.:]+)\s*\}\}")
MAX_STEPS = 100  # a document that loops is a bug: stop it

Status = Literal["Success", "Failed", "Cancelled", "Waiting"]


class ParameterError(ValueError):
    """The parameters do not fit the document: SSM refuses to start the execution."""


class StepError(Exception):
    """A step failed (the execution follows the step's onFailure)."""


@dataclass
class StepResult:
    """What one step did: its inputs after substitution, its outputs, and why it failed."""

    name: str
    action: str
    status: Literal["Success", "Failed", "Waiting"]
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Execution:
    """The result of ``run``: status, the document's outputs, each step, and every AWS call as sent."""

    status: Status
    outputs: dict[str, Any]
    steps: list[StepResult]
    calls: list[tuple[str, str, dict[str, Any]]]

    def step(self, name: str) -> StepResult:
        """The result of the step named ``name`` (KeyError when it did not run)."""
        for result in self.steps:
            if result.name == name:
                return result
        raise KeyError(name)


def _typed(name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """A parameter value as its document type (the CLI sends every value as a list of strings)."""
    kind = spec.get("type", "String")
    if kind == "StringList":
        items = [value] if isinstance(value, str) else list(value)
        if not all(isinstance(item, str) for item in items):
            raise ParameterError(f"{name}: StringList items must be strings")
        return items
    if isinstance(value, list):
        if len(value) != 1:
            raise ParameterError(f"{name}: {kind} takes one value, got {len(value)}")
        value = value[0]
    if kind == "String":
        if not isinstance(value, str):
            raise ParameterError(f"{name}: String expected")
        return value
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ParameterError(f"{name}: Boolean expected")
    if kind == "Integer":
        if isinstance(value, bool):
            raise ParameterError(f"{name}: Integer expected")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{name}: Integer expected") from None
    raise NotImplementedError(f"parameter type {kind}")


def check_parameters(document: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The execution's parameter values: given ones typed and checked, defaults for the rest."""
    declared: Mapping[str, Any] = document.get("parameters", {})
    unknown = set(given) - set(declared)
    if unknown:
        raise ParameterError(f"unknown parameters {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in given:
            value = _typed(name, spec, given[name])
        elif "default" in spec:
            value = _typed(name, spec, spec["default"])
        else:
            raise ParameterError(f"{name} is required")
        rule = spec.get("allowedPattern")
        if rule is not None:
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, str) or not re.fullmatch(rule, item):
                    raise ParameterError(f"{name} does not match its allowedPattern")
        values[name] = value
    return values


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced (StepError for an unknown variable)."""
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole:
        return _lookup(whole.group(1), variables)

    def interpolate(match: re.Match[str]) -> str:
        found = _lookup(match.group(1), variables)
        if isinstance(found, (list, dict)):
            raise StepError(f"{match.group(1)} is a {type(found).__name__}: it cannot go inside a string")
        return str(found).lower() if isinstance(found, bool) else str(found)

    return PLACEHOLDER.sub(interpolate, value)


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    if name not in variables:
        raise StepError(f"unknown variable {name}")
    return variables[name]


def select(response: Any, outputs: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """The declared outputs read from ``response`` with their JSONPath selectors, types checked."""
    values: dict[str, Any] = {}
    for output in outputs:
        name, kind = output["Name"], output["Type"]
        if kind not in OUTPUT_TYPES:
            raise StepError(f"output {name}: unknown type {kind}")
        try:
            matches = [match.value for match in parse(output["Selector"]).find(response)]
        except Exception as error:  # jsonpath_ng raises several types for a bad selector
            raise StepError(f"output {name}: bad selector {output['Selector']!r}: {error}") from error
        if not matches:
            raise StepError(f"output {name}: selector {output['Selector']} matched nothing")
        values[name] = _output_value(name, kind, matches)
    return values


def _output_value(name: str, kind: str, matches: list[Any]) -> Any:
    if kind in ("StringList", "MapList"):
        items = matches[0] if len(matches) == 1 and isinstance(matches[0], list) else matches
        element: type = str if kind == "StringList" else dict
        if not all(isinstance(item, element) for item in items):
            raise StepError(f"output {name}: not a {kind}")
        return list(items)
    if len(matches) != 1:
        raise StepError(f"output {name}: {len(matches)} matches for a {kind}")
    value = matches[0]
    expected: dict[str, Callable[[Any], bool]] = {
        "String": lambda v: isinstance(v, str),
        "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "StringMap": lambda v: isinstance(v, dict),
    }
    if not expected[kind](value):
        raise StepError(f"output {name}: {type(value).__name__} is not a {kind}")
    return value


_STRING_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda a, b: a == b,
    "EqualsIgnoreCase": lambda a, b: a.lower() == b.lower(),
    "StartsWith": lambda a, b: a.startswith(b),
    "EndsWith": lambda a, b: a.endswith(b),
    "Contains": lambda a, b: b in a,
}
_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "NumericEquals": lambda a, b: a == b,
    "NumericGreater": lambda a, b: a > b,
    "NumericLesser": lambda a, b: a < b,
    "NumericGreaterOrEquals": lambda a, b: a >= b,
    "NumericLesserOrEquals": lambda a, b: a <= b,
}


def choice_matches(choice: Mapping[str, Any]) -> bool:
    """One (substituted) branch condition: ``Variable`` + an operator, or ``And``/``Or``/``Not``."""
    if "And" in choice:
        return all(choice_matches(item) for item in choice["And"])
    if "Or" in choice:
        return any(choice_matches(item) for item in choice["Or"])
    if "Not" in choice:
        return not choice_matches(choice["Not"])
    variable = choice["Variable"]
    for operator, test in _STRING_OPERATORS.items():
        if operator in choice:
            return isinstance(variable, str) and test(variable, choice[operator])
    for operator, compare in _NUMERIC_OPERATORS.items():
        if operator in choice:
            return compare(float(variable), float(choice[operator]))
    if "BooleanEquals" in choice:
        return isinstance(variable, bool) and variable is choice["BooleanEquals"]
    raise NotImplementedError(f"branch operator in {sorted(choice)}")


class _Run:
    def __init__(
        self,
        document: Mapping[str, Any],
        variables: dict[str, Any],
        session: boto3.Session,
        approve: Callable[[dict[str, Any]], bool | None],
        clients: Mapping[str, Any],
    ) -> None:
        self.document = document
        self.variables = variables
        self.session = session
        self.approve = approve
        self.clients = dict(clients)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self.clients[service]

    def execute(self, step: Mapping[str, Any], result: StepResult) -> str | None:
        """Run one step; return the branch's next step, if any. Raises StepError when it fails."""
        actions: dict[str, Callable[[Mapping[str, Any], dict[str, Any], StepResult], str | None]] = {
            "aws:executeAwsApi": self._api,
            "aws:executeScript": self._script,
            "aws:branch": self._branch,
            "aws:approve": self._approve,
        }
        if step["action"] not in actions:
            raise NotImplementedError(f"action {step['action']}")
        result.inputs = substitute(step.get("inputs", {}), self.variables)
        return actions[step["action"]](step, result.inputs, result)

    def _api(self, step: Mapping[str, Any], inputs: dict[str, Any], result: StepResult) -> None:
        params = {key: value for key, value in inputs.items() if key not in ("Service", "Api")}
        self.calls.append((inputs["Service"], inputs["Api"], params))
        try:
            response = getattr(self.client(inputs["Service"]), xform_name(inputs["Api"]))(**params)
        except (ClientError, BotoCoreError) as error:
            raise StepError(str(error)) from error
        result.outputs = select(response, step.get("outputs", []))

    def _script(self, step: Mapping[str, Any], inputs: dict[str, Any], result: StepResult) -> None:
        if not str(inputs.get("Runtime", "")).startswith("python3"):
            raise NotImplementedError(f"script runtime {inputs.get('Runtime')}")
        namespace: dict[str, Any] = {}
        try:
            exec(inputs["Script"], namespace)  # noqa: S102 - the document's own script, as SSM runs it
            payload = namespace[inputs["Handler"]](inputs.get("InputPayload", {}), {})
        except Exception as error:  # a script's exception fails its step, as in SSM
            raise StepError(f"{type(error).__name__}: {error}") from error
        result.outputs = select({"Payload": payload}, step.get("outputs", []))

    def _branch(self, step: Mapping[str, Any], inputs: dict[str, Any], result: StepResult) -> str:
        for choice in inputs["Choices"]:
            if choice_matches(choice):
                return str(choice["NextStep"])
        if "Default" in inputs:
            return str(inputs["Default"])
        raise StepError("no branch choice matched and there is no Default")

    def _approve(self, step: Mapping[str, Any], inputs: dict[str, Any], result: StepResult) -> None:
        decision = self.approve(inputs)
        if decision is None:
            result.status = "Waiting"
        elif not decision:
            raise StepError("approval rejected")


def run(
    document: dict[str, Any],
    parameters: Mapping[str, Any],
    *,
    session: boto3.Session,
    approve: Callable[[dict[str, Any]], bool | None] = lambda inputs: True,
    execution_id: str = "exec-1",
    clients: Mapping[str, Any] | None = None,
) -> Execution:
    """Run ``document``'s steps with ``parameters`` (ParameterError when SSM would refuse to start)."""
    variables: dict[str, Any] = dict(check_parameters(document, parameters))
    variables["automation:EXECUTION_ID"] = execution_id
    variables["global:REGION"] = session.region_name
    steps: list[Mapping[str, Any]] = document["mainSteps"]
    index = {step["name"]: position for position, step in enumerate(steps)}
    state = _Run(document, variables, session, approve, clients or {})
    if "global:ACCOUNT_ID" in json.dumps(steps):  # asked only when used: no STS call for other documents
        variables["global:ACCOUNT_ID"] = state.client("sts").get_caller_identity()["Account"]
    results: list[StepResult] = []
    status: Status = "Success"
    position: int | None = 0
    while position is not None and position < len(steps):
        if len(results) >= MAX_STEPS:
            raise RuntimeError("more than MAX_STEPS steps: the document loops")
        step = steps[position]
        result = StepResult(step["name"], step["action"], "Success")
        results.append(result)
        try:
            chosen = state.execute(step, result)
        except StepError as error:
            result.status, result.error = "Failed", str(error)
            on_failure = step.get("onFailure", "Abort")
            if step.get("isCritical", True):
                status = "Failed"
            if on_failure == "Abort":
                status = "Failed"
                break
            position = index[on_failure[len("step:") :]] if on_failure.startswith("step:") else position + 1
            continue
        if result.status == "Waiting":
            status = "Waiting"
            break
        for name, value in result.outputs.items():
            variables[f"{step['name']}.{name}"] = value
        if chosen is not None:
            position = index[chosen]
        elif step.get("isEnd"):
            position = None
        elif "nextStep" in step:
            position = index[step["nextStep"]]
        else:
            position += 1
    outputs = {name: variables[name] for name in document.get("outputs", []) if name in variables}
    return Execution(status, outputs, results, state.calls)
