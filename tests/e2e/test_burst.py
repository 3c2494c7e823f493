"""`make demo-burst` as a test: a storm of every active finding type, updates and duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.burst import SEVERITY, TARGET_EMAILS, THRESHOLD, burst, scenario
from responder.routing import MAX_PER_EMAIL

pytestmark = pytest.mark.slow


def test_burst_loses_nothing_duplicates_nothing_and_fits_in_a_handful_of_emails(tmp_path: Path):
    result, figures = burst(tmp_path)
    first, updates, _duplicates = scenario()
    notified = [e for e in first if e["detail"]["severity"] >= THRESHOLD]
    immediate = [e for e in notified if e["detail"]["severity"] >= SEVERITY["High"]]
    assert len(first) == 189  # every active type of the reference list
    assert len(notified) == 167
    assert len(immediate) == 85
    assert figures["missing"] == 0
    assert figures["duplicated"] == 0
    assert figures["dlq"] == 0
    # 85 High/Critical + the update that rose to High, in emails of at most MAX_PER_EMAIL;
    # the 82 Medium ones in the digest.
    assert figures["immediate_emails"] == -(-86 // MAX_PER_EMAIL) == 3
    assert figures["digest_emails"] == -(-82 // MAX_PER_EMAIL) == 3
    assert figures["emails"] == 6 <= TARGET_EMAILS
    assert result.notifier_invocations == 1  # the storm arrived within one batching window
    # The SES sandbox refused sends faster than 1 per second; every refusal was retried.
    assert figures["throttled_retries"] > 0
    statuses = [row.status for row in result.rows]
    assert statuses.count("filtered") == len(first) - len(notified)
    assert statuses.count("skipped") == 4  # two unchanged updates, two duplicate deliveries
    assert statuses.count("sent") == len(notified) + 1
    # The update whose band rose says so, in the grouped immediate email.
    rose = updates[0]["detail"]["id"]
    [update_mail] = [m for m in result.mails if m.kind == "immediate" and f"Finding ID: {rose}" in m.text]
    assert "Severity rose from Medium to High; seen 40 times since" in update_mail.text
    # Every Critical finding is in the first email, ahead of the High ones.
    critical = [e["detail"]["id"] for e in first if e["detail"]["severity"] >= SEVERITY["Critical"]]
    assert critical and all(f"Finding ID: {fid}" in result.mails[0].text for fid in critical)
