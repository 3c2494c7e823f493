"""The minimal safe form of a finding whose details cannot be shown."""

from __future__ import annotations

import pytest

from responder.domain.catalog import message
from responder.domain.classify import classify
from responder.domain.degrade import UNKNOWN, UNRECOGNISED_TYPE, Composed, Shown, compose, minimal
from responder.domain.digest import render_digest
from responder.domain.i18n import Locale
from responder.domain.models import GuardDutyEvent
from responder.domain.render import render
from responder.domain.settings import Settings
from tests.conftest import finding_from, minimal_event

HOSTILE = "evil.example\r\nBcc: victim@example.com"


def hostile_classification():
    event = minimal_event(
        "Backdoor:EC2/C&CActivity.B\r\nBcc: x",  # fails SAFE_TYPE
        8.0,
        id="not/a safe id",
        accountId="acct-" + HOSTILE,
        region="mars-" + HOSTILE,
        title=HOSTILE,
        description=HOSTILE,
        service={"count": 2, "eventFirstSeen": "9999-12-31T23:59:59Z", "action": {"actionType": "BAD TYPE!"}},
    )
    return classify(GuardDutyEvent.model_validate(event).detail, Settings())


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_only_validated_identifiers_and_the_note_are_kept(lang):
    # Given a finding whose identifiers all fail their patterns
    c = minimal(hostile_classification(), Locale(lang))
    # Then each is replaced by a placeholder, the title is the note, and no fact of the finding is left
    t, shows = c.triage, c.presentation
    assert (t.finding_type, t.finding_id, t.account_id, t.region) == (UNRECOGNISED_TYPE, UNKNOWN, UNKNOWN, UNKNOWN)
    assert shows.title == message("v.details_unavailable", lang)
    assert shows.first_seen is shows.last_seen is shows.resource_label is t.resource_type is t.updated_at is None
    assert t.action_type == "UNKNOWN"  # hidden, without claiming the finding has no action
    assert shows.resource_facts == shows.action_facts == shows.evidence_facts == shows.frequency_facts == ()
    assert {fact.value for fact in shows.overview} == {UNRECOGNISED_TYPE, UNKNOWN}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_minimal_form_renders_in_both_forms_without_any_finding_value(lang):
    # Given the minimal form of a hostile finding, in a display zone that breaks its timestamps
    c = minimal(hostile_classification(), Locale(lang))
    # When it is rendered as a single email and as a digest entry
    single = render(c, Locale(lang, "Asia/Tokyo"))
    grouped = render_digest([(c, None)], locale=Locale(lang, "Asia/Tokyo"))
    # Then both show the note and nothing the finding carried
    for email in (single, grouped):
        for body in (email.text, email.html):
            assert message("v.details_unavailable", lang) in body
            assert "evil" not in body and "Bcc" not in body and "9999" not in body


def test_valid_identifiers_and_the_console_link_are_kept():
    # Given a finding whose identifiers are valid
    event = minimal_event("UnauthorizedAccess:EC2/TorClient", 8.0, title=HOSTILE)
    c = classify(GuardDutyEvent.model_validate(event).detail, Settings())
    reduced = minimal(c, Locale())
    # Then what identifies it and the links built from validated parts stay
    kept = ("finding_id", "finding_type", "account_id", "region", "band", "severity")
    assert all(getattr(reduced.triage, name) == getattr(c.triage, name) for name in kept)
    assert reduced.presentation.steps == c.presentation.steps
    assert c.links.console_url is not None
    assert reduced.links == c.links
    assert reduced.presentation.title != c.presentation.title


# --- compose: the one place that decides what an email shows when rendering fails -----------

POISON = "unrenderable/Backdoor_EC2_OutOfRangeTimestamps.json"
TOR = "events/UnauthorizedAccess_EC2_TorClient.json"
STYLE = {"locale": Locale("en", "Asia/Tokyo"), "minutes": 30}


def findings(*paths):
    """(name, classification) per fixture: the item a caller keeps is its own record."""
    return [(path, classify(finding_from(path), Settings())) for path in paths]


def view(item):
    return item[1], None


def test_compose_renders_a_healthy_group_as_the_grouped_email_itself():
    # Given two findings that render
    items = findings(TOR, "events/UnauthorizedAccess_EC2_SSHBruteForce.json")
    # When they are composed as a storm
    composed = compose(items, view, kind="ALERTS", lone_in_full=True, **STYLE)
    # Then it is exactly the grouped email, with each item as given and nothing degraded or lost
    [(shown, email)] = composed.emails
    assert email == render_digest([view(item) for item in items], kind="ALERTS", **STYLE)
    assert [part.item for part in shown] == items and all(part.error is None for part in shown)
    assert composed.lost == []


@pytest.mark.parametrize("kind", ["ALERTS", "DIGEST"])
def test_compose_shows_a_poison_finding_minimal_in_the_email_of_the_others(kind):
    # Given a finding whose timestamps overflow in the display zone, with a benign one
    items = findings(POISON, TOR)
    # When they are composed
    composed = compose(items, view, kind=kind, lone_in_full=True, **STYLE)
    # Then one email holds both: the poison one in its minimal form (and why), the other in full
    [(shown, email)] = composed.emails
    poison, benign = sorted(shown, key=lambda part: part.item[0] != POISON)
    assert (poison.item, poison.error, poison.c) == (items[0], "OverflowError", minimal(items[0][1], Locale()))
    assert (benign.item, benign.error, benign.c) == (items[1], None, items[1][1])
    assert email == render_digest([(poison.c, None), (benign.c, None)], kind=kind, **STYLE)
    assert email.text.count(message("v.details_unavailable", "en")) == 1
    assert composed.lost == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_compose_gives_a_lone_poison_finding_its_minimal_full_email(lang):
    # Given the poison finding alone, as an immediate finding (its full email) and in a digest
    [item] = findings(POISON)
    style = {**STYLE, "locale": Locale(lang, "Asia/Tokyo")}
    full = compose([item], view, kind="ALERTS", lone_in_full=True, **style)
    grouped = compose([item], view, kind="DIGEST", lone_in_full=False, **style)
    # Then each is the minimal form in that email's form
    reduced = minimal(item[1], Locale(lang))
    assert full.emails == [([Shown(item, reduced, None, "OverflowError")], render(reduced, Locale(lang, "Asia/Tokyo")))]
    [(_shown, email)] = grouped.emails
    assert email == render_digest([(reduced, None)], kind="DIGEST", **style)
    assert message("v.details_unavailable", lang) in email.text


def test_compose_of_nothing_is_no_email():
    assert compose([], view, kind="DIGEST", lone_in_full=False, **STYLE) == Composed([], [])


# --- account names (issue 13) -----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_minimal_form_keeps_the_accounts_validated_name(lang):
    # Given a finding of an account the operator's mapping names, reduced to its minimal form
    event = minimal_event("UnauthorizedAccess:EC2/TorClient", 8.0, title=HOSTILE)
    settings = Settings(language=lang, account_names={"123456789012": "payments-prod"})
    reduced = minimal(classify(GuardDutyEvent.model_validate(event).detail, settings), Locale(lang))
    # When it is rendered as a single email and as a digest entry
    single = render(reduced, Locale(lang, "Asia/Tokyo"))
    grouped = render_digest([(reduced, None)], locale=Locale(lang, "Asia/Tokyo"))
    # Then the name is kept beside its id, in the account fact and in both emails
    assert reduced.triage.account_name == "payments-prod"
    assert ("f.account", "payments-prod (123456789012)") in [(f.label, f.value) for f in reduced.presentation.overview]
    assert f"{message('f.account', lang)}: payments-prod (123456789012)" in single.text
    assert "| payments-prod (123456789012) us-east-1" in grouped.text


def test_the_minimal_form_drops_a_name_beside_an_unknown_id_or_one_that_is_not_valid():
    # Given the minimal form of a finding whose account id fails its pattern but has a name
    from dataclasses import replace

    c = hostile_classification()
    beside_unknown = minimal(replace(c, triage=replace(c.triage, account_name="payments-prod")), Locale())
    # And of a valid finding whose name was never validated (this form trusts nothing it did not check)
    event = minimal_event("UnauthorizedAccess:EC2/TorClient", 8.0)
    valid = classify(GuardDutyEvent.model_validate(event).detail, Settings())
    unvalidated = minimal(replace(valid, triage=replace(valid.triage, account_name="evil\r\nBcc: x")), Locale())
    # Then neither shows a name: the unknown id is the placeholder alone, the valid id is bare
    assert beside_unknown.triage.account_name is None
    assert ("f.account", UNKNOWN) in [(f.label, f.value) for f in beside_unknown.presentation.overview]
    assert unvalidated.triage.account_name is None
    assert ("f.account", "123456789012") in [(f.label, f.value) for f in unvalidated.presentation.overview]
    assert "Bcc" not in render(unvalidated).text


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_minimal_form_keeps_the_respond_section(lang):
    # Given a finding whose runbooks are offered (commands built from validated identifiers only)
    c = classify(finding_from("events/Backdoor_EC2_DenialOfService.Tcp.json"), Settings())
    assert any(offer.command for offer in c.links.respond)
    # When its details cannot be shown and it is rendered in its minimal form
    email = render(minimal(c, Locale(lang)), Locale(lang))
    # Then the responder can still act on it: every command and runbook link is there
    for offer in c.links.respond:
        assert offer.command in email.text and offer.command in email.html
        assert offer.console_url in email.text
    assert "GuardDutyResponder-IsolateEc2Instance" in email.text.split(message("h.respond", lang).upper())[0]
