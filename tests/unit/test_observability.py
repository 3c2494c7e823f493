"""Observability: tracing follows Powertools' rule; the stand-in provider is inert."""

from __future__ import annotations

import asyncio

import pytest

from responder.observability import _NoTracing, tracer, tracing_enabled


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "0"}, True),
    ],
)
def test_tracing_only_inside_lambda_unless_disabled(env, expected):
    assert tracing_enabled(env) is expected


def test_outside_lambda_the_tracer_uses_the_inert_provider():
    assert isinstance(tracer.provider, _NoTracing)
    assert tracer.disabled


def test_inert_provider_accepts_every_call():
    provider = _NoTracing()
    with provider.in_subsegment("## handler") as segment:
        segment.put_annotation("ColdStart", value=True)
        segment.put_metadata("response", {"a": 1})
        segment.add_exception(ValueError("x"), [])
        segment.add_subsegment(None)
        segment.remove_subsegment(None)
        segment.close()
    provider.put_annotation("k", "v")
    provider.put_metadata("k", "v")
    provider.patch(["boto3"])
    provider.patch_all()

    async def use_async() -> bool:
        async with provider.in_subsegment_async("## async") as segment:
            segment.put_annotation("k", "v")
        return True

    assert asyncio.run(use_async())


def test_a_dimensioned_count_has_exactly_its_dimensions_and_the_fixed_service(monkeypatch, capsys):
    import json

    from responder.service import emit

    # Given a service name in the environment that is not ours
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "something-else")
    # When a count is emitted with a Channel dimension
    emit("DeliveryFailures", Channel="ses")
    # Then its EMF line has exactly Channel and service, and service is the responder's
    [doc] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [directive] = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "GuardDutyResponder"
    assert [sorted(names) for names in directive["Dimensions"]] == [["Channel", "service"]]
    assert (doc["Channel"], doc["service"], doc["DeliveryFailures"]) == ("ses", "guardduty-responder", [1.0])
