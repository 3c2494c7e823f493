"""The package's fixed words (bands, decision and update reasons, outcomes, routes) as enums whose
values are the strings logs, metrics, queue messages, the state table and the stack already use."""

from __future__ import annotations

import base64
import json
import zlib

from responder.adapters.observability import count
from responder.app.triage import Outcome, Status
from responder.domain.catalog import EN
from responder.domain.classify import Reason, assess, classify
from responder.domain.guidance import URGENCY
from responder.domain.models import Finding
from responder.domain.render import BAND_COLOURS, render
from responder.domain.routing import Route, decode, encode
from responder.domain.settings import Band, Settings
from responder.domain.updates import UpdateReason
from tests.conftest import minimal_event


def _message_as_version_1_wrote_it(detail: dict[str, object]) -> str:
    """A queue message exactly as the notifier's previous release received it: plain strings."""
    packed = base64.b64encode(zlib.compress(json.dumps(detail, separators=(",", ":")).encode(), level=6))
    body = {
        "v": 1,
        "key": "abc@2026-11-28T09:00:00Z",
        "detail": packed.decode("ascii"),
        "reason": "band_rose",
        "previous": {
            "band": "Medium",
            "notified_at": "2026-11-28T08:00:00+00:00",
            "first_notified_at": "2026-11-27T08:00:00+00:00",
            "count": 3,
            "archived": False,
        },
    }
    return json.dumps(body, separators=(",", ":"))


def test_a_message_queued_before_the_upgrade_decodes_renders_and_re_encodes_unchanged():
    # Given a message already in the immediate queue when the new version is deployed
    detail = minimal_event(severity=8.0)["detail"]
    body = _message_as_version_1_wrote_it(detail)
    # When the new notifier decodes it
    queued = decode(body)
    # Then its reason and previous band are the enum members of those strings
    assert queued.update.reason is UpdateReason.BAND_ROSE
    assert queued.update.previous is not None and queued.update.previous.band is Band.MEDIUM
    # and it is emailed as the update it is
    c = classify(Finding.model_validate(detail), Settings())
    email = render(c, update=queued.update)
    assert email.subject.startswith("[UPDATE] [GuardDuty HIGH 8.0]")
    assert "Severity rose from Medium to High" in email.text
    # and the new triage writes the very same bytes for the same decision (the wire form is unchanged)
    assert encode(queued.key, detail, queued.update) == body


def test_the_bands_are_the_stacks_allowed_immediate_bands():
    from infra.parameters import PARAMETERS

    # Given the stack's ImmediateBand parameter
    [immediate] = [p for p in PARAMETERS if p.name == "ImmediateBand"]
    # Then CloudFormation accepts exactly the bands the functions know, and the default is one
    assert set(immediate.allowed_values) == {band.value for band in Band}
    assert Band(immediate.default) is Settings().immediate_band


def test_the_bands_are_ordered_and_each_has_its_colour_urgency_and_name():
    # Given the bands, most severe first
    assert [band.value for band in Band] == ["Critical", "High", "Medium", "Low"]
    assert [band.rank for band in Band] == [4, 3, 2, 1]
    # Then every band has an email colour, a first response step and a word in the catalogue
    for band in Band:
        assert band in BAND_COLOURS and band in URGENCY
        assert f"band.{band}" in EN


def test_reasons_outcomes_and_routes_keep_the_words_logs_and_metrics_use():
    # The values are dimensions of alarms and dashboards, and fields of log queries: never renamed
    assert {r.value for r in Reason} == {"notify", "below_threshold", "archived", "suppressed", "sample_excluded"}
    assert {r.value for r in UpdateReason} == {
        "first",
        "band_rose",
        "renotify_interval",
        "recurred",
        "not_worse",
        "archived",
    }
    assert {s.value for s in Status} == {"queued", "skipped", "ignored"}
    assert {r.value for r in Route} == {"immediate", "digest"}
    # and the triage function's result serialises to those plain strings
    outcome = Outcome(Status.QUEUED, Reason.NOTIFY, "abc", Route.IMMEDIATE)
    assert json.dumps(outcome.as_dict()) == (
        '{"status": "queued", "reason": "notify", "finding_id": "abc", "route": "immediate"}'
    )


def test_a_count_by_class_carries_the_band_as_its_plain_word(capsys):
    # Given a High finding
    t = assess(Finding.model_validate(minimal_event(severity=8.0)["detail"]), Settings())
    # When it is counted
    count(t, "FindingsReceived")
    # Then the ByClass line's Band dimension is the word the stack's alarms and dashboards use
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [by_class] = [doc for doc in docs if "FindingsReceivedByClass" in doc]
    assert by_class["Band"] == "High"
