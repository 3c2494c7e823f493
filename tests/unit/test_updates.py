"""Finding updates: when a finding already emailed is emailed again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from responder.domain.classify import classify
from responder.domain.models import GuardDutyEvent
from responder.domain.render import render
from responder.domain.settings import Band, Settings
from responder.domain.updates import FindingState, decide_update
from tests.conftest import minimal_event

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def c(severity=5.0, count=3, archived=False):
    event = minimal_event(
        severity=severity, service={"count": count, "archived": archived, "eventFirstSeen": "2026-11-20T08:00:00Z"}
    )
    return classify(GuardDutyEvent.model_validate(event).detail, Settings())


def state(band="Medium", hours_ago=1.0, count=2, archived=False):
    at = NOW - timedelta(hours=hours_ago)
    return FindingState(band=Band(band), notified_at=at, first_notified_at=at - DAY, count=count, archived=archived)


@pytest.mark.parametrize(
    ("finding", "previous", "renotify", "expected"),
    [
        (c(), None, DAY, (True, "first")),
        (c(archived=True), None, DAY, (False, "archived")),
        (c(count=9, archived=True), state(count=3), DAY, (True, "recurred")),
        (c(count=3, archived=True), state(count=3), DAY, (False, "archived")),
        (c(severity=8.0), state(band="Medium"), DAY, (True, "band_rose")),
        (c(severity=9.5), state(band="High"), DAY, (True, "band_rose")),
        (c(severity=5.0), state(band="High"), DAY, (False, "not_worse")),
        (c(), state(hours_ago=1), DAY, (False, "not_worse")),
        (c(), state(hours_ago=24), DAY, (True, "renotify_interval")),
        (c(), state(hours_ago=500), None, (False, "not_worse")),  # re-notify interval 0 = never
    ],
)
def test_update_rules(finding, previous, renotify, expected):
    decision = decide_update(finding.triage, previous, now=NOW, renotify_after=renotify)
    assert (decision.notify, decision.reason) == expected
    assert decision.previous is previous


def test_update_email_says_why_and_is_marked():
    finding = c(severity=8.0, count=57)
    decision = decide_update(finding.triage, state(band="Medium"), now=NOW, renotify_after=DAY)
    email = render(finding, update=decision)
    assert email.subject.startswith("[UPDATE] [GuardDuty HIGH 8.0]")
    assert "Why again: Severity rose from Medium to High; seen 57 times since 2026-11-20T08:00:00Z." in email.text
    assert "Severity rose from Medium to High" in email.html
    first = render(finding, update=decide_update(finding.triage, None, now=NOW, renotify_after=DAY))
    assert not first.subject.startswith("[UPDATE]")
    assert "Why again" not in first.text


def test_renotify_and_recurrence_wording():
    still = c(count=40)
    email = render(still, update=decide_update(still.triage, state(hours_ago=30), now=NOW, renotify_after=DAY))
    assert "Still active: seen 40 times since 2026-11-20T08:00:00Z (first emailed 2026-11-26 06:00 UTC)." in email.text
    back = c(count=9, archived=True)
    email = render(back, update=decide_update(back.triage, state(count=3), now=NOW, renotify_after=DAY))
    assert "It recurred after being archived: seen 9 times" in email.text


@pytest.mark.parametrize(("raw", "hours"), [(None, 24.0), ("0", 0.0), ("6", 6.0)])
def test_renotify_setting(raw, hours):
    env = {} if raw is None else {"RENOTIFY_HOURS": raw}
    assert Settings.from_env(env).renotify_hours == hours


@pytest.mark.parametrize("raw", ["-1", "never", "9000"])
def test_bad_renotify_setting(raw):
    from responder.domain.settings import SettingsError

    with pytest.raises(SettingsError, match="^RENOTIFY_HOURS"):
        Settings.from_env({"RENOTIFY_HOURS": raw})
