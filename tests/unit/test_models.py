"""Parsing: tolerant of what GuardDuty may add or omit, strict on what the product needs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from responder.app.triage import InvalidEventError, parse_event
from responder.domain.limits import MAX_DEPTH
from responder.domain.models import GuardDutyEvent
from tests.conftest import FINDING_EVENTS, load, minimal_event


@pytest.mark.parametrize("path", FINDING_EVENTS, ids=lambda p: p.stem)
def test_every_bundled_finding_event_parses(path):
    # Given a real or crafted GuardDuty event
    event = load(path)
    # When it is parsed
    parsed = parse_event(event)
    # Then the finding keeps its identity fields
    assert parsed is not None
    assert parsed.detail.id == event["detail"]["id"]
    assert parsed.detail.type == event["detail"]["type"]
    assert parsed.detail.severity == float(event["detail"]["severity"])


def test_fragment_without_identity_fields_is_rejected_naming_them():
    event = load("invalid/PrivilegeEscalation_Runtime_CGroupsReleaseAgentModified.json")
    with pytest.raises(InvalidEventError) as raised:
        parse_event(event)
    message = str(raised.value)
    for name in ("detail.id", "detail.accountId", "detail.region"):
        assert name in message
    # The reason names fields, never echoes event values.
    assert "GeneratedFinding" not in message


@pytest.mark.parametrize("missing", ["id", "type", "severity", "accountId", "region"])
def test_each_required_field_is_enforced(missing):
    event = minimal_event()
    del event["detail"][missing]
    with pytest.raises(InvalidEventError, match=f"detail.{missing}"):
        parse_event(event)


@pytest.mark.parametrize("severity", [-1, 10.5, "high", None, float("nan")])
def test_invalid_severity_is_rejected(severity):
    with pytest.raises(InvalidEventError, match="severity"):
        parse_event(minimal_event(severity=severity))


def test_unknown_fields_and_absent_blocks_are_tolerated():
    event = minimal_event(futureBlock={"anything": [1, 2]}, resource={"resourceType": "Quantum"})
    del event["detail"]["service"]
    parsed = parse_event(event)
    assert parsed is not None
    assert parsed.detail.service is None
    assert parsed.detail.resource is not None
    assert parsed.detail.resource.resource_type == "Quantum"


def test_malformed_optional_block_degrades_instead_of_losing_the_alert():
    # Given a finding whose optional blocks have the wrong shape
    event = minimal_event(
        service={
            "count": "many",
            "archived": "false",
            "action": {"actionType": "PORT_PROBE", "portProbeAction": "not-an-object"},
        },
        resource=["not", "an", "object"],
    )
    parsed = parse_event(event)
    # Then the finding still parses; only the bad parts are dropped
    assert parsed is not None
    assert parsed.detail.resource is None
    assert parsed.detail.service is not None
    assert parsed.detail.service.count is None
    assert parsed.detail.service.archived is False
    assert parsed.detail.service.action is not None
    assert parsed.detail.service.action.action_type == "PORT_PROBE"
    assert parsed.detail.service.action.port_probe_action is None


def test_non_iso_and_redacted_timestamps_are_kept_as_text():
    crypto = parse_event(load("events/CryptoCurrency_EC2_BitcoinTool.B_DNS.json"))
    panther = parse_event(load("events/AttackSequence_IAM_CompromisedCredentials.json"))
    assert crypto is not None and panther is not None
    assert crypto.detail.created_at == "XXXX-XX-XXTXX:XX:XXZ"
    assert panther.detail.created_at == "2025-02-25 20:40:06.721"


def test_sample_flag_is_read_from_top_level_and_from_the_json_value():
    top = parse_event(load("events/Discovery_Kubernetes_TorIPCaller.json"))
    nested = parse_event(load("events/UnauthorizedAccess_EC2_SSHBruteForce.json"))
    real = parse_event(load("events/CryptoCurrency_EC2_BitcoinTool.B_DNS.json"))
    assert top is not None and nested is not None and real is not None
    assert top.detail.service and top.detail.service.is_sample
    assert nested.detail.service and nested.detail.service.is_sample
    assert real.detail.service and not real.detail.service.is_sample


def test_broken_additional_info_value_is_not_a_sample():
    event = minimal_event(service={"additionalInfo": {"value": '{"sample": tru', "type": "default"}})
    parsed = parse_event(event)
    assert parsed is not None and parsed.detail.service is not None
    assert parsed.detail.service.is_sample is False


def test_other_guardduty_detail_types_are_recognised_and_ignored():
    assert parse_event(load("crafted/Other_MalwareProtection_ObjectScanResult.json")) is None
    health = {"source": "aws.guardduty", "detail-type": "GuardDuty Runtime Protection Unhealthy", "detail": {}}
    assert parse_event(health) is None


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.ec2", "detail-type": "GuardDuty Finding", "detail": {}},
        {"source": "aws.guardduty", "detail-type": "Something New", "detail": {}},
        ["not", "a", "dict"],
        "text",
    ],
)
def test_events_that_are_not_findings_fail_clearly(event):
    with pytest.raises(InvalidEventError, match="not"):
        parse_event(event)


def test_model_validation_errors_surface_for_direct_use():
    with pytest.raises(ValidationError):
        GuardDutyEvent.model_validate({"detail-type": "GuardDuty Finding"})


def _deep(levels: int) -> object:
    """``levels`` of alternating objects and lists, built without recursion."""
    value: object = "leaf"
    for level in range(levels):
        value = {"k": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize("levels", [600, 5_000])
@pytest.mark.parametrize("where", ["additionalInfo", "futureBlock", "envelope"])
def test_deeply_nested_events_are_refused_with_one_clear_line(levels, where):
    # Given a finding with a value nested hundreds or thousands of levels deep
    # (inserted after minimal_event, whose deepcopy would itself recurse)
    event = minimal_event()
    if where == "envelope":
        event["resources"] = _deep(levels)
    elif where == "additionalInfo":
        event["detail"]["service"]["additionalInfo"] = {"value": _deep(levels)}
    else:
        event["detail"]["futureBlock"] = _deep(levels)
    # When it is parsed
    with pytest.raises(InvalidEventError) as raised:
        parse_event(event)
    # Then it is refused with one line naming the limit, not a RecursionError
    message = str(raised.value)
    assert f"nested more than {MAX_DEPTH} levels" in message
    assert "\n" not in message
    assert "leaf" not in message


def test_nesting_up_to_the_limit_is_accepted():
    # Given a vendor block nested as deep as allowed (the envelope and detail take two levels)
    event = minimal_event(futureBlock=_deep(MAX_DEPTH - 2))
    # Then it parses
    assert parse_event(event) is not None


@pytest.mark.parametrize("levels", [600, 5_000])
def test_a_deeply_nested_json_sample_marker_is_not_a_sample_and_does_not_crash(levels):
    # Given additionalInfo.value as a JSON string nested thousands of levels deep (a string: depth 1 to the model)
    raw = '{"sample": true, "x": ' + "[" * levels + "]" * levels + "}"
    event = minimal_event(service={"additionalInfo": {"value": raw, "type": "default"}})
    parsed = parse_event(event)
    assert parsed is not None and parsed.detail.service is not None
    # When the sample flag is read / Then it is read without a RecursionError: not a sample
    assert parsed.detail.service.is_sample is False


def test_boolean_severity_is_refused():
    # Given severity true (JSON true is not a number; lax parsing would read it as 1.0)
    for value in (True, False):
        with pytest.raises(InvalidEventError, match=r"detail\.severity"):
            parse_event(minimal_event(severity=value))


@pytest.mark.parametrize("severity", [0, 8, 5.5, 10])
def test_integer_and_float_severities_are_accepted(severity):
    parsed = parse_event(minimal_event(severity=severity))
    assert parsed is not None and parsed.detail.severity == float(severity)


def test_the_envelope_keeps_the_fields_of_powertools_eventbridge_model():
    # Given Powertools' EventBridge envelope, which GuardDutyEvent mirrors without importing it
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    # When their fields are compared / Then the same names, in the same order, under the same aliases
    def fields(model: type) -> list[tuple[str, str | None]]:
        return [(name, info.alias) for name, info in model.model_fields.items()]

    assert fields(GuardDutyEvent) == fields(EventBridgeModel)
    # And GuardDutyEvent requires only what the product needs from the envelope
    required = {name for name, info in GuardDutyEvent.model_fields.items() if info.is_required()}
    assert required == {"source", "detail_type", "detail"}


def test_importing_the_models_loads_no_parser_and_evaluates_no_annotation_strings():
    # Given a fresh interpreter (the notifier's cold start imports the models)
    import os
    import subprocess
    import sys
    from pathlib import Path

    import responder

    env = {**os.environ, "PYTHONPATH": str(Path(responder.__file__).parents[1])}
    code = (
        "import sys, pydantic\n"
        "from responder.domain import models\n"
        "classes = [c for c in vars(models).values() if isinstance(c, type) and issubclass(c, pydantic.BaseModel)]\n"
        "print('aws_lambda_powertools.utilities.parser' in sys.modules)\n"
        "print(any(isinstance(a, str) for c in classes for a in c.__dict__.get('__annotations__', {}).values()))\n"
    )
    # When the models are imported
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    # Then Powertools' parser utility is not loaded, and no field annotation is a string for
    # pydantic to evaluate (both cost cold-start time)
    assert done.stdout.split() == ["False", "False"]


def _finding_blocks() -> tuple[list[type], list[type]]:
    """Every model and every ``Block`` of the finding (sorted by name)."""
    from responder.domain import model_base, models, resource_models, scan_result, service_models

    modules = (models, resource_models, service_models, scan_result)
    classes = {c for m in modules for c in vars(m).values() if isinstance(c, type) and c.__module__ == m.__name__}
    found = [sorted((c for c in classes if issubclass(c, base)), key=lambda c: c.__qualname__)
             for base in (model_base.Model, model_base.Block)]  # fmt: skip
    assert len(found[0]) > 5 and len(found[1]) > 80  # not an empty comparison
    return found[0], found[1]


def _resolved(schema: object, definitions: dict[str, object] | None = None) -> object:
    """A core schema with every definition inlined, refs, JSON-schema hooks and ids dropped, each
    class by its name: what validation does, not how pydantic laid the schema out."""
    definitions = {} if definitions is None else definitions
    if isinstance(schema, list):
        return [_resolved(item, definitions) for item in schema]
    if isinstance(schema, type):
        return schema.__qualname__
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "definitions":
        definitions.update({d["ref"]: d for d in schema["definitions"]})
        return _resolved(schema["schema"], definitions)
    if schema.get("type") == "definition-ref":
        return _resolved(definitions[schema["schema_ref"]], definitions)
    return {k: _resolved(v, definitions) for k, v in schema.items() if k not in ("ref", "metadata")}


def test_every_field_reads_the_json_name_pydantics_to_camel_gives():
    from pydantic.alias_generators import to_camel

    models, blocks = _finding_blocks()
    # Given every field of every finding model
    for model in models:
        for name, info in model.model_fields.items():
            if info.alias_priority == 2:  # an alias of its own, not the generator's
                continue
            # Then its alias is the one to_camel would have given (our cheaper `camel` made it)
            assert info.alias == to_camel(name), f"{model.__qualname__}.{name}"
    # And so is every field of every block
    for block in blocks:
        for name, alias, _ in block._fields:
            assert alias == to_camel(name), f"{block.__qualname__}.{name}"


@pytest.mark.parametrize("block", _finding_blocks()[1], ids=lambda block: block.__qualname__)
def test_a_block_validates_as_the_model_pydantic_would_make_of_it(block):
    import pydantic

    from responder.domain.model_base import Model

    # Given a block and the Model pydantic makes of the same declarations
    fields = {name: (annotation, None) for name, annotation in block.__annotations__.items()}
    twin = pydantic.create_model(block.__name__, __base__=Model, __module__=block.__module__, **fields)
    twin.__qualname__ = block.__qualname__
    # Then their core schemas, resolved, are the same: same names, aliases, types, leniency, defaults
    assert _resolved(pydantic.TypeAdapter(block).core_schema) == _resolved(twin.__pydantic_core_schema__)


def test_a_block_reads_and_compares_like_a_frozen_model():
    from responder.domain.service_models import City, IpDetails

    # Given a block validated from a finding's JSON (its only maker)
    event = minimal_event()
    event["detail"]["service"] = {"action": {"networkConnectionAction": {"remoteIpDetails": {
        "ipAddressV4": "198.51.100.7", "city": {"cityName": "Oslo"}, "country": 7}}}}  # fmt: skip
    ip = GuardDutyEvent.model_validate(event).detail.service.action.network_connection_action.remote_ip_details
    # Then it reads by attribute, a bad shape is None, and an absent field is None
    assert isinstance(ip, IpDetails) and isinstance(ip.city, City)
    assert (ip.ip_address_v4, ip.city.city_name, ip.country, ip.organization) == ("198.51.100.7", "Oslo", None, None)
    # And it is frozen, equal to the same values, and not made directly
    with pytest.raises(AttributeError):
        ip.ip_address_v4 = "203.0.113.1"
    assert ip == GuardDutyEvent.model_validate(event).detail.service.action.network_connection_action.remote_ip_details
    assert hash(ip.city) == hash(
        GuardDutyEvent.model_validate(event).detail.service.action.network_connection_action.remote_ip_details.city
    )
    with pytest.raises(TypeError):
        City()


def test_lenient_is_the_optional_field_that_degrades_to_none():
    from typing import Annotated, get_args, get_origin

    from responder.domain.model_base import Lenient, NoneOnError

    # Given Lenient of a type, twice
    made = Lenient[int]
    # Then it is X | None marked NoneOnError, made once
    assert get_origin(made) is Annotated
    assert get_args(made)[0] == int | None
    assert isinstance(get_args(made)[1], NoneOnError)
    assert Lenient[int] is made
