"""`make demo-burst` as a test: a storm of every active finding type, updates and duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.burst import ORG_ACCOUNTS, ORG_UNITS, SECURITY_TEAM, SEVERITY, TARGET_EMAILS, THRESHOLD, burst, scenario
from responder.domain.routing import MAX_PER_EMAIL

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
    # SES held to the sandbox's 1 per second: the notifier paces itself to SesMaxSendRate (1),
    # so SES has (next to) nothing to refuse; any refusal was retried (nothing is missing).
    assert figures["throttled_retries"] <= 1
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


def test_a_rate_set_above_the_account_is_throttled_by_ses_and_absorbed(tmp_path: Path):
    """SesMaxSendRate=5 on an account allowed 1 per second: SES refuses, botocore backs off,
    the queue retries what still failed; every alert arrives, once."""
    from demo.run import FIXTURES, run

    for name in ("UnauthorizedAccess_EC2_TorClient.json", "Trojan_EC2_DNSDataExfiltration.json"):
        (tmp_path / name).write_bytes((FIXTURES / "events" / name).read_bytes())
    (tmp_path / "three.json").write_bytes((FIXTURES / "events" / "Impact_S3_MaliciousIPCaller.json").read_bytes())
    result = run([tmp_path], {"Channels": "ses", "SesMaxSendRate": "5"}, write=False, arrival="trickle", ses_rate=1.0)
    assert result.throttled > 0
    assert len(result.mails) == 3  # one email per High finding, none lost, none twice
    assert {row.status for row in result.rows} == {"sent"}
    assert result.dead_letters == []


def test_an_organisation_burst_gives_each_owner_its_own_findings_once(tmp_path: Path):
    """`make demo-burst ARGS=--org`: the storm over 50 accounts in 5 OUs, one route per OU."""
    # Given the storm spread over the organisation's accounts, each OU routed to its team
    result, figures = burst(tmp_path, organised=True)
    first, _updates, _duplicates = scenario()
    # Then every audience got what it is owed, once: the security team everything, each team its OU's
    assert (figures["accounts"], figures["ous"]) == (ORG_ACCOUNTS, ORG_UNITS) == (50, 5)
    assert figures["missing"] == 0
    assert figures["duplicated"] == 0  # counts a finding of another OU in a team's email too
    assert figures["dlq"] == 0
    # And the security team's emails are those of the storm without an organisation
    assert figures["mails_per_owner"][SECURITY_TEAM] == 6
    # And each team got one grouped email and one digest: its share fits in one of each
    assert {name: count for name, count in figures["mails_per_owner"].items() if name != SECURITY_TEAM} == {
        f"unit{n}": 2 for n in range(1, ORG_UNITS + 1)
    }
    assert figures["emails"] == sum(figures["mails_per_owner"].values()) == 16 <= TARGET_EMAILS
    # And a team's email names its accounts only: every account id in it belongs to its OU
    organisation = result.organisation
    for mail in result.mails:
        if mail.route is None:
            continue
        [route] = [r for r in organisation.design.routes if r.name == mail.route]
        named = {a for a in organisation.accounts if a in mail.text}
        assert named and all(organisation.accounts[a].ou == route.ou for a in named), mail.subject
    # And every finding of the storm was put in a member account
    assert {e["detail"]["accountId"] for e in result.events} <= set(organisation.accounts)
    assert len({e["detail"]["accountId"] for e in result.events}) == ORG_ACCOUNTS
    assert len(first) == 189
