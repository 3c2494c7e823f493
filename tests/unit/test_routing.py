"""Which queue a finding goes to, and the message that carries it there."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime

import pytest

from responder.domain.accounts import Account
from responder.domain.routing import InvalidMessageError, decode, delivery_key, encode, incident_delivery_key, route
from responder.domain.settings import Band, Settings
from responder.domain.updates import FindingState, Incident, IncidentKind, UpdateDecision, UpdateReason
from tests.conftest import FINDING_EVENTS, load

T = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("immediate_band", "band", "expected"),
    [
        ("High", "Critical", "immediate"),
        ("High", "High", "immediate"),
        ("High", "Medium", "digest"),
        ("High", "Low", "digest"),
        ("Critical", "High", "digest"),
        ("Medium", "Medium", "immediate"),
        ("Low", "Low", "immediate"),
    ],
)
def test_route_by_the_immediate_band(immediate_band, band, expected):
    assert route(Band(band), Settings(immediate_band=immediate_band)) == expected


def test_every_shared_sample_round_trips_exactly():
    earlier = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    previous = FindingState(band=Band.MEDIUM, notified_at=earlier, first_notified_at=earlier, count=3, archived=False)
    for path in FINDING_EVENTS:
        detail = load(path)["detail"]
        for update in (
            UpdateDecision(True, UpdateReason.FIRST),
            UpdateDecision(True, UpdateReason.BAND_ROSE, previous),
        ):
            key = delivery_key(str(detail.get("id")), "2026-11-28T09:00:00Z")
            queued = decode(encode(key, detail, update))
            assert queued.detail == detail
            assert queued.key == key
            assert queued.update == update


def test_the_finding_is_compressed_well_under_the_sqs_limit():
    detail = load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"]
    # a finding padded to nearly EventBridge's 256 KiB event limit still fits one SQS message
    detail = {**detail, "description": "x" * 250_000}
    body = encode("k", detail, UpdateDecision(True, UpdateReason.FIRST))
    assert len(body.encode()) < 64 * 1024


def _body(**overrides):
    packed = base64.b64encode(zlib.compress(b'{"id": "x"}')).decode()
    return json.dumps({"v": 1, "key": "k", "detail": packed, "reason": "first", "previous": None, **overrides})


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"v": 2}),
        _body(key=""),
        _body(detail="***"),
        _body(detail=base64.b64encode(b"not zlib").decode()),
        _body(detail=base64.b64encode(zlib.compress(b"[1, 2]")).decode()),
        _body(previous={"band": "Severe", "notified_at": "x", "first_notified_at": "x", "count": 1, "archived": False}),
        _body(previous={"band": "High"}),
        _body(reason=None),
        _body(reason="because"),  # not a reason any version writes
    ],
)
def test_a_damaged_or_foreign_message_is_refused_with_a_clear_error(body):
    with pytest.raises(InvalidMessageError):
        decode(body)


def test_a_compression_bomb_is_refused_without_inflating_it():
    bomb = base64.b64encode(zlib.compress(b"[" + b" " * 50_000_000 + b"]", 9)).decode()
    with pytest.raises(InvalidMessageError, match="larger than"):
        decode(_body(detail=bomb))


def test_the_valid_minimal_message_decodes():
    assert decode(_body()).detail == {"id": "x"}


def test_an_incompressible_padded_finding_is_trimmed_to_fit_and_keeps_what_identifies_it():
    import os

    detail = load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"]
    noise = base64.b64encode(os.urandom(180_000)).decode()  # random: zlib cannot shrink it
    padded = {**detail, "description": noise, "title": noise[:40_000]}
    body = encode("k", padded, UpdateDecision(True, "first"))
    assert len(body.encode()) < 256 * 1024  # SQS's limit
    queued = decode(body)
    assert queued.detail["id"] == detail["id"]
    assert queued.detail["type"] == detail["type"]
    assert queued.detail["severity"] == detail["severity"]
    assert queued.detail["service"] == detail["service"]
    assert queued.detail["description"].endswith("[truncated in the queue]")
    assert padded["description"] == noise  # the caller's finding is not changed


def test_a_finding_that_compresses_is_never_trimmed():
    detail = load("events/UnauthorizedAccess_EC2_TorClient.json")["detail"]
    assert (
        decode(encode("k", {**detail, "description": "x" * 250_000}, UpdateDecision(True, "first"))).detail[
            "description"
        ]
        == "x" * 250_000
    )


def _deep(levels: int) -> object:
    value: object = "leaf"
    for level in range(levels):
        value = {"k": value} if level % 2 else [value]
    return value


def _packed(text: str) -> str:
    return base64.b64encode(zlib.compress(text.encode())).decode()


@pytest.mark.parametrize("levels", [600, 5_000])
def test_a_message_whose_finding_is_nested_too_deeply_is_refused(levels):
    # Given a queue message whose inflated finding nests hundreds or thousands of levels
    nested = '{"id": "x", "deep": ' + "[" * levels + "]" * levels + "}"
    # When it is decoded / Then it is an InvalidMessageError, not a RecursionError
    with pytest.raises(InvalidMessageError, match="nested"):
        decode(_body(detail=_packed(nested)))


@pytest.mark.parametrize("levels", [600, 5_000])
def test_a_message_body_nested_too_deeply_is_refused(levels):
    # Given a message body that is itself deeply nested JSON
    body = "[" * levels + "]" * levels
    with pytest.raises(InvalidMessageError):
        decode(body)


@pytest.mark.parametrize("levels", [600, 5_000])
def test_packing_a_deeply_nested_finding_fails_clearly(levels):
    # Given a finding nested deeper than any GuardDuty finding (parse_event refuses these first)
    detail = {"id": "x", "deep": _deep(levels)}
    # When it is encoded / Then a ValueError names the nesting, not a RecursionError
    with pytest.raises(ValueError, match="nested"):
        encode("k", detail, UpdateDecision(True, "first"))


def test_the_longest_string_is_found_without_recursion():
    # Given an incompressible string at the bottom of a structure nested 5,000 levels deep
    from responder.domain.routing import _longest_string

    value: object = "x" * 50
    for _ in range(5_000):
        value = [value]
    # When the longest string is looked for / Then it is found with its full path
    length, path = _longest_string(value)
    assert length == 50
    assert path == (0,) * 5_000


@pytest.mark.parametrize("immediate_band", list(Band))
@pytest.mark.parametrize("band", list(Band))
def test_a_notice_goes_to_the_digest_whatever_the_bands(immediate_band, band):
    # Given a notice (a skipped malware scan) under any immediate band, at any band
    # When it is routed / Then it goes to the digest, never the immediate queue
    assert route(band, Settings(immediate_band=immediate_band), digest_only=True) == "digest"


def test_a_finding_that_is_its_own_incident_keeps_its_key():
    # Given a finding that is its own incident, already emailed once
    previous = FindingState(band=Band.HIGH, notified_at=T, first_notified_at=T, count=1, archived=False)
    incident = Incident("0123abcd", IncidentKind.FINDING)
    # When its message key is made / Then it is the key every release has written: id@occurrence
    for known in (None, previous):
        assert incident_delivery_key(incident, "2026-11-28T09:00:00Z", known) == delivery_key(
            "0123abcd", "2026-11-28T09:00:00Z"
        )
    assert delivery_key("0123abcd", "2026-11-28T09:00:00Z") == "0123abcd@2026-11-28T09:00:00Z"


def test_an_incident_of_several_findings_is_keyed_by_the_email_it_would_be():
    # Given an S3 object's incident, never emailed, then emailed at T
    incident = Incident("s3_object#" + "a" * 64, IncidentKind.S3_OBJECT)
    previous = FindingState(band=Band.HIGH, notified_at=T, first_notified_at=T, count=1, archived=False)
    # When two of its findings (different occurrences) make their keys
    first = {incident_delivery_key(incident, occurrence, None) for occurrence in ("t1", "t2")}
    after = {incident_delivery_key(incident, occurrence, previous) for occurrence in ("t1", "t2")}
    # Then both make the same key (one is queued, one emailed), and the email after T another
    assert first == {f"{incident.key}@first"}
    assert after == {f"{incident.key}@{T.isoformat()}"}


def test_the_account_the_triage_looked_up_travels_with_the_finding():
    # Given an account the organisation named, with OUs and tags
    account = Account("111122223333", "payments-prod", ("ou-ab12-11111111", "r-ab12"), (("team", "payments"),))
    detail = load(FINDING_EVENTS[0])["detail"]
    # When it is queued and read back
    queued = decode(encode("k", detail, UpdateDecision(True, UpdateReason.FIRST), account))
    # Then the notifier knows it as the triage did
    assert queued.account == account


def test_a_message_without_an_account_decodes_as_an_earlier_release_wrote_it():
    # Given a message as the previous release wrote it (no account block)
    body = encode("k", load(FINDING_EVENTS[0])["detail"], UpdateDecision(True, UpdateReason.FIRST))
    assert '"account"' not in body
    # When the notifier reads it, Then the finding is there and the account unknown
    assert decode(body).account is None


@pytest.mark.parametrize(
    "block",
    [
        "not an object",
        {"id": "1111", "name": "x"},
        {"id": "111122223333", "tags": [["only-a-key"]]},
        {"id": "111122223333", "tags": 7},
    ],
)
def test_a_damaged_account_block_costs_the_name_never_the_finding(block):
    # Given a message whose account block is damaged
    data = json.loads(encode("k", load(FINDING_EVENTS[0])["detail"], UpdateDecision(True, UpdateReason.FIRST)))
    data["account"] = block
    # When it is read, Then the finding decodes and the account is unknown
    queued = decode(json.dumps(data))
    assert queued.account is None and queued.detail["id"]


def test_the_account_block_is_bounded():
    # Given an account with more tags than Organizations allows and an over-long name
    account = Account("111122223333", "x" * 51, (), tuple((f"k{i}", "v") for i in range(80)))
    # When it is queued
    queued = decode(encode("k", load(FINDING_EVENTS[0])["detail"], UpdateDecision(True, UpdateReason.FIRST), account))
    # Then at most 50 tags travel and the invalid name does not
    assert queued.account is not None
    assert len(queued.account.tags) == 50 and queued.account.name is None
