"""Property-based: arbitrary and malformed findings never crash, never leak markup or bad subjects."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from responder.classify import classify
from responder.models import GuardDutyEvent
from responder.render import MAX_TEXT_BYTES, render
from responder.service import InvalidEventError, parse_event
from responder.settings import Settings
from tests.conftest import minimal_event

MARKER = "<zq>"  # a tag no template produces; if it appears unescaped, escaping failed

text = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    [MARKER, f"{MARKER}\r\nBcc: x@example.com", "javascript:alert(1)", "http://evil.example/", "\u202e\x00\x1b"]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)


def ip_details() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "ipAddressV4": text,
            "country": st.fixed_dictionaries({"countryName": text}),
            "organization": st.fixed_dictionaries({"asnOrg": text, "asn": text}),
        },
    )


actions = st.one_of(
    st.fixed_dictionaries(
        {
            "actionType": st.just("NETWORK_CONNECTION"),
            "networkConnectionAction": st.fixed_dictionaries(
                {
                    "connectionDirection": text | st.sampled_from(["INBOUND", "OUTBOUND"]),
                    "remoteIpDetails": ip_details(),
                }
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "actionType": st.just("PORT_PROBE"),
            "portProbeAction": st.fixed_dictionaries(
                {"portProbeDetails": st.lists(st.fixed_dictionaries({"remoteIpDetails": ip_details()}), max_size=3)}
            ),
        }
    ),
    st.fixed_dictionaries(
        {"actionType": st.just("DNS_REQUEST"), "dnsRequestAction": st.fixed_dictionaries({"domain": text})}
    ),
    st.fixed_dictionaries(
        {
            "actionType": st.just("AWS_API_CALL"),
            "awsApiCallAction": st.fixed_dictionaries(
                {
                    "api": text,
                    "userAgent": text,
                    "remoteIpDetails": ip_details(),
                    "affectedResources": st.dictionaries(text, text, max_size=3),
                }
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "actionType": text,
            "kubernetesApiCallAction": st.fixed_dictionaries(
                {"requestUri": text, "sourceIPs": st.lists(text, max_size=3)}
            ),
        }
    ),
    json_values,
)

findings = st.fixed_dictionaries(
    {
        "id": text.filter(bool),
        "type": text.filter(bool) | st.sampled_from(["Recon:EC2/Portscan", "Backdoor:EC2/C&CActivity.B!DNS"]),
        "severity": st.floats(min_value=0, max_value=10),
        "accountId": text.filter(bool),
        "region": text.filter(bool),
    },
    optional={
        "title": text,
        "description": text,
        "partition": text,
        "resource": st.fixed_dictionaries(
            {"resourceType": text},
            optional={
                "instanceDetails": st.fixed_dictionaries(
                    {
                        "instanceId": text,
                        "tags": st.lists(st.fixed_dictionaries({"key": st.just("Name"), "value": text}), max_size=2),
                    }
                ),
                "accessKeyDetails": st.fixed_dictionaries({"userName": text, "accessKeyId": text}),
                "s3BucketDetails": st.lists(st.fixed_dictionaries({"name": text}), max_size=2),
            },
        )
        | json_values,
        "service": st.fixed_dictionaries(
            {},
            optional={
                "action": actions,
                "count": st.integers() | text,
                "archived": st.booleans() | text,
                "resourceRole": text,
                "detectorId": text,
                "additionalInfo": json_values,
                "runtimeDetails": json_values,
                "detection": json_values,
            },
        )
        | json_values,
    },
)


def _assert_safe(email) -> None:
    assert re.fullmatch(r"[ -~]{0,99}", email.subject), email.subject
    assert MARKER not in email.html
    assert len(email.text.encode("utf-8")) <= MAX_TEXT_BYTES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings)
def test_arbitrary_findings_never_crash_or_leak(detail):
    event = minimal_event()
    event["detail"] = detail
    try:
        parsed = parse_event(event)
    except InvalidEventError:
        return  # a clear rejection is an allowed outcome (e.g. unusable id or severity)
    assert parsed is not None
    email = render(classify(parsed.detail, Settings()))
    _assert_safe(email)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_detail_either_parses_or_is_rejected_clearly(detail):
    event = minimal_event()
    event["detail"] = detail
    try:
        parsed = parse_event(event)
    except InvalidEventError as error:
        assert str(error).startswith("malformed GuardDuty finding")
        return
    assert parsed is not None
    _assert_safe(render(classify(parsed.detail, Settings())))


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=2_000))
def test_any_string_in_any_text_field_is_escaped(value):
    event = minimal_event(title=MARKER + value, description=value + MARKER)
    event["detail"]["service"]["action"] = {
        "actionType": "AWS_API_CALL",
        "awsApiCallAction": {"userAgent": MARKER + value, "api": value},
    }
    email = render(classify(GuardDutyEvent.model_validate(event).detail, Settings()))
    _assert_safe(email)
    assert "&lt;zq&gt;" in email.html


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab.:/@0129 -hHtTpPsSjavcriftmlo\u3002\uff0e\u0430"), max_size=40))
def test_the_cheap_pre_checks_never_change_what_defang_and_clean_do(text):
    from responder.cleaning import _clean, _defang, clean, defang

    assert defang(text) == _defang(text, indicator=False)
    assert defang(text, indicator=True) == _defang(text, indicator=True)
    assert clean(text, 30) == _clean(text, 30, multiline=False, marker="[truncated]")
