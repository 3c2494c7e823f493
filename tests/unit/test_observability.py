"""Observability: counts with exactly their dimensions; no tracing SDK in the functions."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_entry_points import modules_loaded_by


@pytest.mark.parametrize("entry", ["responder.triage_handler", "responder.notify_handler"])
def test_inside_lambda_with_active_tracing_no_xray_sdk_is_loaded(entry):
    # Given the function's environment inside Lambda with active tracing (no POWERTOOLS_TRACE_DISABLED)
    # When its entry module is imported, as at a cold start
    loaded = modules_loaded_by(entry, LAMBDA_TASK_ROOT="/var/task", _X_AMZN_TRACE_ID="Root=1-0-0")
    # Then the X-Ray SDK is not loaded: the function segment is the Lambda service's own
    assert not [name for name in loaded if name.startswith("aws_xray_sdk")]


def test_a_dimensioned_count_has_exactly_its_dimensions_and_the_fixed_service(monkeypatch, capsys):
    from responder.adapters.observability import emit

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
