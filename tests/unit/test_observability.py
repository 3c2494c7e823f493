"""Observability: counts with exactly their dimensions; log lines name the account; no tracing SDK in the functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from responder.adapters.observability import log_fields_of
from responder.domain.accounts import Account
from responder.domain.classify import Triage, assess
from responder.domain.models import GuardDutyEvent
from responder.domain.settings import Settings
from tests.conftest import minimal_event
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


def _triage(account_id: str, **settings: Any) -> Triage:
    event = minimal_event(accountId=account_id)
    return assess(GuardDutyEvent.model_validate(event).detail, Settings(**settings), None)


@pytest.mark.parametrize(
    ("account_id", "names", "expected"),
    [
        ("111122223333", {"111122223333": "payments-prod"}, ("111122223333", "payments-prod (111122223333)")),
        ("111122223333", {}, ("111122223333", "111122223333")),  # no name known: the id alone
        ("1111-2222-3333", {}, (None, None)),  # not an account id: not logged
        ('111122223333"\n{"level":"ERROR"', {}, (None, None)),
    ],
)
def test_every_log_line_about_a_finding_names_its_account(account_id, names, expected):
    # Given a finding's triage facts, the account named (here by AccountNames) or not
    c = _triage(account_id, account_names=names)
    # When a log line's fields are made
    fields = log_fields_of(c)
    # Then they name the account as "name (id)", and only a real account id is logged
    assert (fields["account_id"], fields["account"]) == expected


def test_the_organisation_s_name_is_the_one_logged():
    # Given the organisation's name for the account, and another in AccountNames
    event = minimal_event(accountId="111122223333")
    finding = GuardDutyEvent.model_validate(event).detail
    c = assess(finding, Settings(account_names={"111122223333": "old-name"}), Account("111122223333", "payments-prod"))
    # Then the log line names it by the organisation's name
    assert log_fields_of(c)["account"] == "payments-prod (111122223333)"
