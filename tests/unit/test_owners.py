"""The routes file: its validation (every error names where, never the value) and every match rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from responder.domain.accounts import Account
from responder.domain.owners import (
    DEFAULT,
    DEFAULT_ONLY,
    MAX_CHARACTERS,
    Audience,
    RoutesError,
    audiences_for,
    parse_routes,
    route,
    undeliverable,
)
from responder.domain.settings import Band, Settings

PAYMENTS = "111122223333"
SANDBOX = "444455556666"
OTHER = "777788889999"
ROOT = "r-ab12"
PRODUCTION = "ou-ab12-prod0001"
PAYMENTS_OU = "ou-ab12-paym0001"  # nested in PRODUCTION


def file(*routes: dict[str, Any]) -> str:
    return json.dumps({"version": 1, "routes": list(routes)})


def one(**fields: Any) -> dict[str, Any]:
    """A valid route (payments account to one address), with ``fields`` changed."""
    return {"name": "payments", "match": {"accounts": [PAYMENTS]}, "ses": ["pay-sec@example.com"], **fields}


def ses_sets(audiences: tuple[Audience, ...]) -> list[tuple[str, ...]]:
    return [a.ses for a in audiences if a.ses]


# --- matching ------------------------------------------------------------------------------------


def test_a_route_takes_its_listed_account_and_the_security_team_keeps_it():
    # Given a route for one account
    routes = parse_routes(file(one()))
    # When a finding of that account, and one of another, are routed
    matched = audiences_for(routes, None, PAYMENTS, Band.HIGH)
    unmatched = audiences_for(routes, None, OTHER, Band.HIGH)
    # Then the first goes to the default and to the route's address, the second to the default only
    assert matched == (DEFAULT, Audience(matched[1].name, ses=("pay-sec@example.com",)))
    assert matched[1].name.startswith("to-")
    assert unmatched == (DEFAULT,)


def test_an_account_in_a_nested_ou_matches_each_ancestor_up_to_the_root():
    # Given an account in Payments, inside Production, under the root
    account = Account(PAYMENTS, "payments-prod", ous=(PAYMENTS_OU, PRODUCTION, ROOT))
    # Then a route on any of its OUs takes it
    for ou in (PAYMENTS_OU, PRODUCTION, ROOT):
        routes = parse_routes(file(one(match={"ous": [ou]})))
        assert ses_sets(audiences_for(routes, account, PAYMENTS, Band.LOW)) == [("pay-sec@example.com",)]
    # ... and a route on a sibling OU does not
    routes = parse_routes(file(one(match={"ous": ["ou-ab12-sand0001"]})))
    assert audiences_for(routes, account, PAYMENTS, Band.LOW) == (DEFAULT,)


def test_a_tag_match_needs_every_listed_pair():
    # Given a route on two tags
    routes = parse_routes(file(one(match={"tags": {"team": "payments", "env": "prod"}})))
    both = Account(PAYMENTS, tags=(("team", "payments"), ("env", "prod"), ("cost", "1")))
    half = Account(PAYMENTS, tags=(("team", "payments"), ("env", "dev")))
    # Then only the account with both pairs matches (values compared exactly)
    assert ses_sets(audiences_for(routes, both, PAYMENTS, Band.HIGH)) == [("pay-sec@example.com",)]
    assert audiences_for(routes, half, PAYMENTS, Band.HIGH) == (DEFAULT,)
    assert audiences_for(
        routes, Account(PAYMENTS, tags=(("team", "Payments"), ("env", "prod"))), PAYMENTS, Band.HIGH
    ) == (DEFAULT,)


def test_min_band_holds_back_the_lower_bands():
    # Given a route from Medium up
    routes = parse_routes(file(one(match={"accounts": [PAYMENTS], "min_band": "Medium"})))
    # Then Low stays with the default, Medium and above are routed
    assert audiences_for(routes, None, PAYMENTS, Band.LOW) == (DEFAULT,)
    for band in (Band.MEDIUM, Band.HIGH, Band.CRITICAL):
        assert len(audiences_for(routes, None, PAYMENTS, band)) == 2


def test_accounts_ous_and_tags_are_alternatives():
    # Given a route naming an account, an OU and a tag
    routes = parse_routes(file(one(match={"accounts": [OTHER], "ous": [PRODUCTION], "tags": {"team": "x"}})))
    # Then any one of them is enough
    assert len(audiences_for(routes, None, OTHER, Band.HIGH)) == 2
    assert len(audiences_for(routes, Account(PAYMENTS, ous=(PRODUCTION, ROOT)), PAYMENTS, Band.HIGH)) == 2
    assert len(audiences_for(routes, Account(SANDBOX, tags=(("team", "x"),)), SANDBOX, Band.HIGH)) == 2
    assert audiences_for(routes, Account(SANDBOX, ous=(ROOT,)), SANDBOX, Band.HIGH) == (DEFAULT,)


def test_what_the_organisation_says_of_another_account_is_not_used():
    # Given account details that belong to another account than the finding's
    routes = parse_routes(file(one(match={"ous": [PRODUCTION]})))
    # Then they do not route the finding
    assert audiences_for(routes, Account(SANDBOX, ous=(PRODUCTION,)), PAYMENTS, Band.HIGH) == (DEFAULT,)


def test_an_exclusive_route_takes_the_finding_from_the_security_team():
    routes = parse_routes(file(one(exclusive=True)))
    [only] = audiences_for(routes, None, PAYMENTS, Band.HIGH)
    assert only.ses == ("pay-sec@example.com",)


def test_the_security_team_keeps_a_finding_unless_every_matching_route_is_exclusive():
    # Given an exclusive route and a plain one on the same account
    routes = parse_routes(file(one(exclusive=True), one(name="audit", ses=["audit@example.com"])))
    # Then the default keeps it, and each route's set gets its copy
    audiences = audiences_for(routes, None, PAYMENTS, Band.HIGH)
    assert audiences[0] == DEFAULT
    assert sorted(ses_sets(audiences)) == [("audit@example.com",), ("pay-sec@example.com",)]


def test_two_routes_with_the_same_addresses_make_one_email():
    # Given two routes sending to the same mailbox (written differently)
    routes = parse_routes(file(one(), one(name="also", ses=["Pay-Sec@example.com"], match={"ous": [ROOT]})))
    account = Account(PAYMENTS, ous=(ROOT,))
    # Then one SES audience, not two
    assert len(ses_sets(audiences_for(routes, account, PAYMENTS, Band.HIGH))) == 1


def test_overlapping_routes_with_different_addresses_get_one_email_each():
    routes = parse_routes(file(one(), one(name="platform", ses=["platform@example.com"], match={"ous": [ROOT]})))
    audiences = audiences_for(routes, Account(PAYMENTS, ous=(ROOT,)), PAYMENTS, Band.HIGH)
    assert sorted(ses_sets(audiences)) == [("pay-sec@example.com",), ("platform@example.com",)]


def test_a_route_with_sns_adds_its_named_copy():
    routes = parse_routes(file(one(sns=True)))
    audiences = audiences_for(routes, None, PAYMENTS, Band.HIGH)
    assert Audience("payments", sns=True) in audiences


def test_recipients_from_a_tag_only_within_the_allowed_domains():
    # Given a route taking addresses from the account's owner-email tag, and a tag with three addresses
    routes = parse_routes(
        file(one(ses=[], recipients_from_tag="owner-email", allowed_domains=["Example.com"], match={"ous": [ROOT]}))
    )
    tag = "alice@example.com bob@evil.example carol@sub.example.com not-an-address"
    account = Account(PAYMENTS, ous=(ROOT,), tags=(("owner-email", tag),))
    # When it is routed
    routed = route(routes, account, PAYMENTS, Band.HIGH)
    # Then only the address in an allowed domain gets it (no subdomain), and the others are counted
    assert ses_sets(routed.audiences) == [("alice@example.com",)]
    assert routed.dropped == (("payments", 3),)


def test_accounts_with_different_tag_addresses_get_separate_audiences():
    routes = parse_routes(
        file(one(ses=[], recipients_from_tag="owner-email", allowed_domains=["example.com"], match={"ous": [ROOT]}))
    )
    first = audiences_for(
        routes, Account(PAYMENTS, ous=(ROOT,), tags=(("owner-email", "a@example.com"),)), PAYMENTS, Band.HIGH
    )
    second = audiences_for(
        routes, Account(SANDBOX, ous=(ROOT,), tags=(("owner-email", "b@example.com"),)), SANDBOX, Band.HIGH
    )
    assert ses_sets(first) == [("a@example.com",)] and ses_sets(second) == [("b@example.com",)]
    assert first[1].name != second[1].name


def test_an_exclusive_route_that_can_send_nothing_never_drops_the_finding():
    # Given an exclusive route whose only addresses come from a tag the account lacks
    routes = parse_routes(
        file(one(ses=[], exclusive=True, recipients_from_tag="owner-email", allowed_domains=["example.com"]))
    )
    # Then the security team gets it
    assert audiences_for(routes, Account(PAYMENTS), PAYMENTS, Band.HIGH) == (DEFAULT,)


def test_an_exclusive_route_whose_channel_is_off_never_drops_the_finding():
    # Given an exclusive SNS-only route while no route topic is configured (sns=False)
    routes = parse_routes(file(one(ses=[], sns=True, exclusive=True)))
    # Then the security team gets it; with the topic, the route's copy goes out besides
    assert audiences_for(routes, None, PAYMENTS, Band.HIGH, sns=False) == (DEFAULT,)
    assert audiences_for(routes, None, PAYMENTS, Band.HIGH, sns=True) == (DEFAULT, Audience("payments", sns=True))
    # ... and likewise an SES route without the SES channel
    routes = parse_routes(file(one(exclusive=True)))
    assert audiences_for(routes, None, PAYMENTS, Band.HIGH, ses=False) == (DEFAULT,)


def test_an_sns_copy_never_replaces_the_security_team():
    # Given exclusive routes whose only copy would be SNS (publishing succeeds even if no
    # subscription's filter takes the route): SNS alone, and SNS with a tag naming no allowed address
    sns_only = parse_routes(file(one(ses=[], sns=True, exclusive=True)))
    tagged = parse_routes(
        file(
            one(
                ses=[],
                sns=True,
                exclusive=True,
                recipients_from_tag="owner-email",
                allowed_domains=["example.com"],
                match={"ous": [ROOT]},
            )
        )
    )
    outsider = Account(PAYMENTS, ous=(ROOT,), tags=(("owner-email", "x@evil.example"),))
    # When they are routed, with both channels in use
    first = route(sns_only, None, PAYMENTS, Band.HIGH)
    second = route(tagged, outsider, PAYMENTS, Band.HIGH)
    # Then the security team keeps both findings, the SNS copies go out besides
    assert first.audiences == (DEFAULT, Audience("payments", sns=True))
    assert second.audiences == (DEFAULT, Audience("payments", sns=True))
    # ... and the tag that gave nothing is reported (by route name), with its outsider counted
    assert second.untagged == ("payments",) and second.dropped == (("payments", 1),)
    assert first.untagged == ()


def test_an_exclusive_route_emailing_a_tag_address_takes_the_finding():
    # Given an exclusive route whose addresses come from the account's tag, within its domains
    routes = parse_routes(
        file(
            one(
                ses=[],
                sns=True,
                exclusive=True,
                recipients_from_tag="owner-email",
                allowed_domains=["example.com"],
                match={"ous": [ROOT]},
            )
        )
    )
    owned = Account(PAYMENTS, ous=(ROOT,), tags=(("owner-email", "dev@example.com"),))
    # Then the owner is emailed in place of the security team; an untagged account stays with the security team
    routed = route(routes, owned, PAYMENTS, Band.HIGH)
    assert DEFAULT not in routed.audiences and ses_sets(routed.audiences) == [("dev@example.com",)]
    assert routed.untagged == ()
    untagged = route(routes, Account(PAYMENTS, ous=(ROOT,)), PAYMENTS, Band.HIGH)
    assert untagged.audiences[0] == DEFAULT and untagged.untagged == ("payments",)


def test_a_redelivered_finding_of_an_exclusive_owner_also_goes_to_the_security_team():
    # Given an exclusive route
    routes = parse_routes(file(one(exclusive=True)))
    # When the finding comes back (its owner's delivery was refused)
    first = audiences_for(routes, None, PAYMENTS, Band.HIGH)
    again = route(routes, None, PAYMENTS, Band.HIGH, redelivered=True).audiences
    # Then the retry adds the security team, keeping the owner's audience (its delivered-markers)
    assert DEFAULT not in first
    assert again == (DEFAULT, *first)


def test_a_route_to_the_security_teams_own_addresses_sends_no_second_email():
    # Given a route to the security team's recipients (written in another order and case)
    recipients = ("sec@example.com", "soc@example.com")
    routes = parse_routes(file(one(ses=["SOC@example.com", "sec@example.com"], exclusive=True)))
    # Then no routed SES audience: the security team's email covers it (and exclusive cannot drop it)
    assert audiences_for(routes, None, PAYMENTS, Band.HIGH, recipients=recipients) == (DEFAULT,)
    # ... while a set that only overlaps still gets its own email
    overlap = parse_routes(file(one(ses=["sec@example.com"])))
    assert ses_sets(audiences_for(overlap, None, PAYMENTS, Band.HIGH, recipients=recipients)) == [("sec@example.com",)]


def test_routes_that_can_never_deliver_with_the_channels_in_use_are_named():
    routes = parse_routes(
        file(
            one(),
            one(name="topic", ses=[], sns=True),
            one(name="both", sns=True),
            one(name="tagged", ses=[], recipients_from_tag="owner-email", allowed_domains=["example.com"]),
        )
    )
    assert undeliverable(routes, ses=True, sns=True) == ()
    assert undeliverable(routes, ses=False, sns=True) == ("payments", "tagged")
    assert undeliverable(routes, ses=True, sns=False) == ("topic",)
    assert undeliverable(routes, ses=False, sns=False) == ("payments", "topic", "both", "tagged")


def test_no_routes_is_the_default_only():
    assert audiences_for(DEFAULT_ONLY, Account(PAYMENTS, ous=(ROOT,)), PAYMENTS, Band.CRITICAL) == (DEFAULT,)
    assert parse_routes('{"version": 1, "routes": []}') == DEFAULT_ONLY


def test_the_full_example_of_the_plan_parses():
    text = file(
        {
            "name": "payments",
            "match": {"accounts": [PAYMENTS], "ous": [PRODUCTION], "tags": {"team": "payments"}, "min_band": "Medium"},
            "ses": ["pay-sec@example.com"],
            "sns": True,
            "recipients_from_tag": "owner-email",
            "allowed_domains": ["example.com"],
            "exclusive": False,
        }
    )
    [parsed] = parse_routes(text).routes
    assert parsed.match.tags == (("team", "payments"),) and parsed.match.min_band == Band.MEDIUM


# --- errors: each names its location, never the value -----------------------------------------

SECRET = "leak-me"  # noqa: S105 (a marker that must not appear in an error, not a password)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (file(one(ses=[f"{SECRET}-not-an-address"])), "routes[0].ses[0]: not an email address"),
        (file(one(), one(name="b", ses=["ok@example.com", SECRET])), "routes[1].ses[1]: not an email address"),
        (file(one(name=f"Bad {SECRET}")), "routes[0].name: lower-case letters, digits and -, 1-40"),
        (file(one(), one()), "routes[1].name: used by routes[0] too"),
        (file(one(match={"accounts": [f"1234{SECRET}"]})), "routes[0].match.accounts[0]: not a 12-digit account id"),
        (
            file(one(match={"ous": [f"ou-{SECRET}"]})),
            "routes[0].match.ous[0]: not an OU id (ou-...) or root id (r-...)",
        ),
        (file(one(match={"tags": {f"{SECRET}\n": "x"}})), "routes[0].match.tags: entry 1: not a tag key"),
        (file(one(match={"tags": {"team": f"{SECRET}" * 50}})), "routes[0].match.tags: entry 1: not a tag value"),
        (file(one(match={"tags": [SECRET]})), "routes[0].match.tags: must be an object"),
        (file(one(match={"accounts": [PAYMENTS], "min_band": SECRET})), "routes[0].match.min_band: must be Critical"),
        (file(one(match={})), "routes[0].match: names no accounts, ous or tags"),
        (file(one(ses=[])), "routes[0]: sends nowhere"),
        (file(one(recipients_from_tag="owner-email")), "routes[0]: recipients_from_tag needs allowed_domains"),
        (
            file(one(recipients_from_tag="o", allowed_domains=[f"{SECRET}"])),
            "routes[0].allowed_domains[0]: not a domain",
        ),
        (file(one(sns=SECRET)), "routes[0].sns: must be true or false"),
        (file(one(exclusive="true")), "routes[0].exclusive: must be true or false"),
        (file(one(ses=SECRET)), "routes[0].ses: must be a list"),
        (file(one(sends="x")), "routes[0]: sends is not a known field"),
        (file(one(**{f"{SECRET} x": 1})), "routes[0]: a field is not a known field"),
        (file(one(name=12)), "routes[0].name: must be a string"),
        (json.dumps({"version": 2, "routes": []}), "version: must be 1"),
        (json.dumps({"routes": []}), "version: required"),
        (
            json.dumps(
                {"version": 1, "routes": [{"name": f"r{n}", "match": {"ous": [ROOT]}, "sns": True} for n in range(51)]}
            ),
            "routes: at most 50 entries",
        ),
        (json.dumps({"version": 1, "routes": {SECRET: 1}}), "routes: must be a list"),
        (json.dumps([SECRET]), "routes file: must be a JSON object"),
        ('{"version": 1, "version": 1}', "routes file: a key appears twice in one object"),
        ('{"version": 1, "routes": [' + SECRET, "routes file: not JSON (Expecting value, line 1 column 27)"),
        ("version: 1\nroutes: []", "routes file: not JSON"),
        ("", "routes file: not JSON"),
    ],
)
def test_a_broken_file_is_refused_naming_where_never_the_value(text, expected):
    # When a broken file is parsed
    with pytest.raises(RoutesError) as error:
        parse_routes(text)
    # Then the error names the location and the problem, and none of the file's values
    assert str(error.value).startswith(expected)
    assert SECRET not in str(error.value)


def test_a_file_longer_than_an_ssm_parameter_is_refused():
    text = file(*(one(name=f"r{n}", ses=[f"{'x' * 40}{n}@example.com"]) for n in range(50)))
    assert len(text) > MAX_CHARACTERS
    with pytest.raises(RoutesError, match=f"^routes file: longer than {MAX_CHARACTERS} characters$"):
        parse_routes(text)


def test_more_problems_are_counted_after_the_first():
    with pytest.raises(RoutesError, match=r"^routes\[0\]\.ses\[0\]: not an email address \(and 1 more\)$"):
        parse_routes(file(one(ses=["x", "y"])))


def test_the_preview_names_the_account_as_the_notifier_does():
    # Given the organisation's details of the finding's account, as the queue message carries them
    from responder.app.service import prepare
    from tests.conftest import finding_from

    finding = finding_from("events/UnauthorizedAccess_EC2_TorClient.json")
    account = Account(finding.account_id, "payments-prod", ous=(PRODUCTION, ROOT))
    # When the preview prepares it with and without them
    named = prepare(finding, Settings(), account)
    plain = prepare(finding, Settings())
    # Then the organisation's name is used, and without it nothing changes
    assert named.classification.triage.account_name == "payments-prod"
    assert plain.classification.triage.account_name is None
    assert "payments-prod" in named.email.text and "payments-prod" not in plain.email.text


def test_the_readme_example_is_a_valid_routes_file():
    # Given the example in the README's routing section (operators copy it)
    from pathlib import Path

    readme = Path(__file__).parents[2].joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("### Routing findings to their owners", 1)[1]
    example = section.split("```json\n", 1)[1].split("```", 1)[0]
    # Then it parses, and routes as its table says: a nested OU's account, a tagged one, the band floor
    routes = parse_routes(example)
    member = "123456789012"  # in no route by id
    production = Account(member, ous=("ou-ab12-team0001", "ou-ab12-prod1234", ROOT))
    assert len(audiences_for(routes, production, member, Band.HIGH)) == 3  # security team, SES set, route topic
    assert audiences_for(routes, production, member, Band.MEDIUM) == (DEFAULT,)
    tagged = Account(OTHER, tags=(("team", "data"), ("env", "prod")))
    assert ses_sets(audiences_for(routes, tagged, OTHER, Band.LOW)) == [("data-security@example.com",)]
    owner = Account(OTHER, ous=("ou-ab12-sand5678", ROOT), tags=(("owner-email", "dev@example.com"),))
    # ... and the exclusive sandbox route takes its owner's address from the tag, without the security team
    [only] = audiences_for(routes, owner, OTHER, Band.LOW)
    assert only.ses == ("dev@example.com",)


def test_an_untagged_account_is_not_reported_when_the_routes_fixed_list_still_emails_its_owner():
    # Given a route with a fixed address list besides addresses from a tag
    routes = parse_routes(
        file(
            one(
                ses=["team@example.com"],
                recipients_from_tag="owner-email",
                allowed_domains=["example.com"],
                match={"ous": [ROOT]},
            )
        )
    )
    # When an account without the tag is routed
    routed = route(routes, Account(PAYMENTS, ous=(ROOT,)), PAYMENTS, Band.HIGH)
    # Then the fixed list is emailed and nothing is reported (a warning per finding would be noise)
    assert ses_sets(routed.audiences) == [("team@example.com",)]
    assert routed.untagged == ()
