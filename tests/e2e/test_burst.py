"""`make demo-burst` as a test: a storm of every active finding type, updates and duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.burst import THRESHOLD, scenario, tally
from demo.run import run

pytestmark = pytest.mark.slow


def test_burst_loses_nothing_and_duplicates_nothing(tmp_path: Path):
    first, updates, duplicates = scenario()
    for name, events in (("1-first.json", first), ("2-updates.json", updates), ("3-duplicates.json", duplicates)):
        (tmp_path / name).write_text(json.dumps(events))
    result = run([tmp_path], {"Channels": "ses"}, write=False)
    figures = tally(result, first, updates)
    notified = sum(event["detail"]["severity"] >= THRESHOLD for event in first)
    assert len(first) == 189  # every active type of the reference list
    assert notified == 167
    assert figures["missing"] == 0
    assert figures["duplicated"] == 0
    assert figures["dlq"] == 0
    # One email per finding at or above the threshold, plus the one update whose band rose;
    # the two unchanged updates and the two duplicate deliveries send nothing.
    assert figures["emails"] == notified + 1
    statuses = [row.status for row in result.rows]
    assert statuses.count("filtered") == len(first) - notified
    assert statuses.count("skipped") == 4
    # Storm grouping and digests are the next step of noise control: not built yet.
    assert figures["digest_emails"] == 0
