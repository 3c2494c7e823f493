"""Property-based: arbitrary and malformed findings never crash, never leak markup or bad subjects."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from responder.app.triage import InvalidEventError, parse_event
from responder.domain.classify import classify
from responder.domain.i18n import Locale
from responder.domain.models import GuardDutyEvent
from responder.domain.render import MAX_TEXT_BYTES, render
from responder.domain.settings import Settings
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
    assert re.fullmatch(r"[ -~]{1,99}", email.subject), email.subject
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


_PRE_CHECK_ALPHABET = st.sampled_from(
    [
        *"ab.:/@0129 -hHtTpPsSjavcriftmlo\\~=,\n\t\r",
        *("\u3002", "\uff0e", "\u0430", "\u2028", "\x85", "\u1160", "\u3164", "\u0301", "\uff53", "\u5199"),
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_PRE_CHECK_ALPHABET, max_size=40))
def test_the_cheap_pre_checks_never_change_what_defang_and_clean_do(text):
    from responder.domain.cleaning import _clean, _defang, clean, defang, shown

    # Given any text / When cleaned and defanged with and without the cheap shortcuts
    # Then the results are the same (each shortcut only skips work that would change nothing)
    assert defang(text) == _defang(text, indicator=False)
    assert defang(text, indicator=True) == _defang(text, indicator=True)
    assert defang(text, paths=True) == _defang(text, indicator=False, paths=True)
    assert clean(text, 30) == _clean(text, 30, multiline=False, marker="[truncated]")
    slow = _defang(_clean(text, 30, multiline=False, marker="[truncated]"), indicator=False)
    assert shown(text, 30) == slow


# --- the one cleaning path, through every email form (issue 10) ------------------------

_FORMS = st.sampled_from([("single", "en"), ("single", "ja"), ("grouped", "en"), ("grouped", "ja")])
_LABEL = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1, max_size=8)
_TLD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=12)
# Full stops a reader takes for "." (NFKC folds all but the ideographic one, which IDNA maps too).
_DOTS = st.sampled_from([".", "\uff0e", "\u3002", "\uff61", "\u2024", "\ufe52"])
_INVISIBLE_SAMPLE = st.sampled_from(
    [
        *("\x00", "\x1b", "\x7f", "\x85", "\u200b", "\u200d", "\u200e", "\u202a", "\u202e", "\u2066", "\ufeff"),
        *("\U000e0041", "\ue000", "\U000f0000"),
        # unassigned (Cn), default-ignorable ones among them, and noncharacters
        *("\u2065", "\ufff0", "\U000e0080", "\U000e01f0", "\U0010fffe", "\ufffe", "\U0003fffd"),
        # default-ignorable yet printable: Hangul fillers, variation selectors, CGJ, Khmer, Mongolian
        *("\u3164", "\u115f", "\u1160", "\uffa0", "\u034f", "\ufe0f", "\U000e0100", "\u17b4", "\u180b"),
    ]
)
_OUR_LINKS = re.compile(r"https://[a-z0-9.-]*console\.aws\.amazon\.com/\S*|https://docs\.aws\.amazon\.com/\S*")
_SCHEMES = st.sampled_from(["http", "https", "ftp", "javascript", "data", "vbscript", "file", "mailto", "tel"])


def _emails(form: str, lang: str, **detail: Any) -> list[str]:
    """The subject(s), text and HTML of a finding with ``detail`` emailed in ``form`` and ``lang``."""
    from responder.domain.digest import render_digest

    settings_ = Settings(language=lang)
    event = minimal_event(**detail)
    c = classify(GuardDutyEvent.model_validate(event).detail, settings_)
    if form == "single":
        email = render(c, settings_.locale)
    else:
        email = render_digest([(c, None)], kind="DIGEST", locale=settings_.locale)
    _assert_safe(email)
    parts = [email.subject, email.local_subject or "", email.text, email.html]
    return [_OUR_LINKS.sub("", part) for part in parts]  # the links we build are not finding values


def _places(value: str) -> dict[str, Any]:
    """The value in every displayed field that both email forms show: title, type, timestamps."""
    return {
        "finding_type": "Recon:EC2/" + value,
        "title": value,
        "service": {"eventFirstSeen": value, "eventLastSeen": value, "count": 1},
    }


@settings(max_examples=150, deadline=None)
@given(st.lists(_LABEL, min_size=1, max_size=3), _TLD, _DOTS, _FORMS)
def test_any_hostname_whatever_its_tld_and_dots_is_defanged_everywhere(labels, tld, dot, form):
    # Given a hostname under any TLD, written with any full stop a reader takes for "."
    from responder.domain.cleaning import _INSTANCE_TYPE, GUARDDUTY_DOTTED_NAMES

    host = ".".join([*labels, tld])
    assume(not _INSTANCE_TYPE.fullmatch(host) and host not in GUARDDUTY_DOTTED_NAMES)
    written = host.replace(".", dot)
    # When it is shown in the title, type and timestamps of a single or grouped email
    for part in _emails(*form, **_places(f"see {written} now")):
        # Then neither the host nor its look-alike shows; the defanged host does (in the bodies)
        assert host not in part and written not in part
    assert "[.]".join([*labels, tld]) in _emails(*form, **_places(f"see {written} now"))[2]


@settings(max_examples=150, deadline=None)
@given(
    # Letters of the scripts that can pass for Latin (Latin with marks, Greek, Cyrillic,
    # Armenian, Cherokee ...): below the CJK blocks, whose labels are shown as written.
    st.text(
        st.characters(whitelist_categories=["Ll", "Lu", "Lo"], min_codepoint=0x100, max_codepoint=0x2FFF),
        min_size=1,
        max_size=8,
    ),
    _TLD,
    st.sampled_from([".", "\u3002", "\uff61", "\uff0e"]),
    _FORMS,
)
def test_a_non_ascii_host_is_shown_as_punycode(label, tld, dot, form):
    # Given a host with a non-ASCII (homoglyph, IDN) label, written with any full stop
    import unicodedata

    from tests.unit.test_cleaning import invisible

    normal = unicodedata.normalize("NFKC", label)  # what is matched (Ŀ reads L and a middle dot)
    assume(not normal.isascii() and all(unicodedata.category(char)[0] == "L" for char in normal))
    assume(not any(invisible(char) for char in label))  # a Hangul filler is shown as [U+115F]
    host = f"{label}{dot}{tld}"
    # When it is emailed / Then the text shows its punycode form and never the look-alike
    parts = _emails(*form, title=f"at {host} now")
    assert "xn--" in parts[2]
    assert all(unicodedata.normalize("NFKC", host) not in part for part in parts)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=5) | _INVISIBLE_SAMPLE, min_size=1, max_size=8), _INVISIBLE_SAMPLE, _FORMS)
def test_invisible_characters_are_replaced_by_visible_markers_everywhere(pieces, forced, form):
    # Given a value with invisible characters (controls, bidi, zero-width, tags, private use,
    # unassigned, fillers, variation selectors)
    from tests.unit.test_cleaning import invisible

    value = "v" + forced + "".join(pieces)
    parts = _emails(*form, **_places(value))
    # When it is emailed / Then no invisible character is left anywhere (by Unicode's own
    # categories and default-ignorable list, not the implementation's), and the marker shows
    for part in parts:
        assert not [char for char in part if invisible(char)], part[:200]
    assert f"[U+{ord(forced):04X}]" in parts[2]


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from("aeoz\u0915\u3042"),
    st.lists(st.sampled_from("\u0301\u0308\u0336\u20dd\u0489\u0fb2"), min_size=4, max_size=60),
    _FORMS,
)
def test_a_stack_of_combining_marks_cannot_overlay_other_lines(base, marks, form):
    # Given a character with a stack of combining marks (Mn, Me) drawn over the lines around it
    import unicodedata

    value = "see " + base + "".join(marks) + " now"
    parts = _emails(*form, title=value)
    # When emailed / Then at most three marks stay on it and the rest is counted
    for part in parts:
        run = 0
        for char in part:
            run = run + 1 if unicodedata.category(char) in ("Mn", "Me") else 0
            assert run <= 3, part[:200]
    assert f"[+{len(marks) - 3} marks]" in parts[2]


@settings(max_examples=200, deadline=None)
@given(
    _SCHEMES,
    st.sampled_from([":", "://", ":/", ":\\\\"]),
    st.sampled_from(["", "+", ".", "1", "a.", "_", "-", "x+"]),
    st.randoms(use_true_random=False),
    _FORMS,
)
def test_every_scheme_is_neutralised_in_any_case(scheme, separator, prefix, rnd, form):
    # Given a URL with a scheme in random letter case, after anything but a letter
    written = "".join(c.upper() if rnd.random() < 0.5 else c for c in scheme)
    value = f"go {prefix}{written}{separator}x1.example/p"
    # When it is emailed / Then no live scheme is left (hxxp[://], javascript[:] ...), nor a
    # live "://" or ":\\" after anything
    for part in _emails(*form, **_places(value)):
        assert not re.search(rf"(?i)(?<![a-z]){scheme}:", part), part[:200]
        assert not re.search(r"(?<!\[):[/\\]", part), part[:200]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\r\r\n"]),
    st.text(max_size=10),
    _FORMS,
)
def test_no_line_break_in_a_displayed_value_can_forge_a_line(newline, filler, form):
    # Given a type, title and timestamps that try to start a header-like line
    value = f"x{filler}{newline}Bcc: victim@example.com"
    # When emailed / Then no line of the text body starts with the forged header
    text = _emails(*form, **_places(value))[2]
    assert not any(line.lstrip().startswith("Bcc:") for line in text.splitlines())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_LABEL, min_size=1, max_size=3),
    _TLD,
    st.sampled_from(
        [
            *("{host}", "x@{host}", "https://{host}/x@y", "ftp://{host}", "{host}:443"),
            *("C:/{host}", "a=/x/{host}", "x/{host}", "a/./{host}"),  # shaped like paths
        ]
    ),
    st.sampled_from(["bucket", "user", "container"]),
    st.sampled_from(["en", "ja"]),
)
def test_a_resource_named_like_a_host_url_or_address_is_defanged_in_the_subject(labels, tld, shape, kind, lang):
    # Given a resource whose valid identifier is a host, an address or a URL
    from responder.domain.cleaning import _INSTANCE_TYPE

    host = ".".join([*labels, tld])
    assume(not _INSTANCE_TYPE.fullmatch(host))
    name = shape.format(host=host)
    resource = {
        "bucket": {"resourceType": "S3Bucket", "s3BucketDetails": [{"name": name}]},
        "user": {"resourceType": "AccessKey", "accessKeyDetails": {"userName": name}},
        "container": {"resourceType": "Container", "containerDetails": {"name": name}},
    }[kind]
    settings_ = Settings(language=lang)
    event = minimal_event("Recon:EC2/Portscan", resource=resource)
    email = render(classify(GuardDutyEvent.model_validate(event).detail, settings_), Locale(lang))
    # When emailed / Then the subject (and the top of both bodies) never shows it live, and
    # shows it defanged when it is a valid name of its kind and fits (optional parts are kept
    # while the subject has room); the body always shows it, defanged
    from responder.domain import names

    valid = {"bucket": names.s3_bucket, "user": names.iam_name, "container": names.container_name}[kind](name)
    assert re.fullmatch(r"[ -~]{1,99}", email.subject)
    defanged = "[.]".join([*labels, tld])
    for top in (email.subject, email.display_subject, email.text.splitlines()[0]):
        assert host not in top and "://" not in top.replace("[://]", "") and "@" not in top.replace("[@]", "")
        assert defanged in top or not valid or len(email.subject) + len(defanged) > 80
    assert defanged in email.text.split("\n\n")[1]  # named at the top of the body, valid or not


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_LABEL, min_size=1, max_size=3),
    _TLD,
    st.sampled_from(["./", "~/", "C:/", "a=/x/", "Recon:EC2/x/", "/opt/x/", "../", "x/./"]),
    _FORMS,
)
def test_a_type_shaped_like_a_path_never_shows_a_live_host(labels, tld, prefix, form):
    # Given a finding type shaped like a path that ends in a host (no path exemption for types)
    from responder.domain.cleaning import _INSTANCE_TYPE, GUARDDUTY_DOTTED_NAMES

    host = ".".join([*labels, tld])
    assume(not _INSTANCE_TYPE.fullmatch(host) and host not in GUARDDUTY_DOTTED_NAMES)
    finding_type = prefix + host
    # When emailed alone or grouped, en or ja
    parts = _emails(*form, finding_type=finding_type)
    # Then the host is never live in the subject(s) or either body, and shows defanged in the text
    for part in parts:
        assert host not in part, part[:300]
    assert prefix + "[.]".join([*labels, tld]) in parts[2]
    if form[0] == "single" and re.fullmatch(r"[A-Za-z0-9:/._!&-]{1,100}", finding_type):
        assert prefix + "[.]".join([*labels, tld]) in parts[0]  # the subject shows the type defanged


@settings(max_examples=100, deadline=None)
@given(_LABEL, st.sampled_from(["", "(", "see ", '"']), _FORMS)
def test_a_unc_path_is_never_left_live(host, before, form):
    # Given a UNC path to any host, at a token's start
    value = f"{before}\\\\{host}\\share"
    # When emailed / Then its leading backslashes are neutralised everywhere
    for part in _emails(*form, **_places(value)):
        assert not re.search(r"(?<!\[)\\\\[a-z0-9]", part), part[:200]
    assert f"[\\\\]{host}\\share" in _emails(*form, **_places(value))[2]


_JAPANESE = st.text(st.sampled_from("写真請求書東京本番確認あいうえおしたアイウエオリージョン"), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(_JAPANESE, _JAPANESE, _TLD, _FORMS)
def test_japanese_stays_readable(left, right, tld, form):
    # Given Japanese prose (a full stop between Japanese words) and a Japanese name before a
    # Latin extension or top-level domain
    prose = f"{left}\u3002{right}"
    name = f"{left}.{tld}"
    parts = _emails(*form, title=f"{prose} {name}")
    # When emailed / Then the prose is unchanged and the name is defanged but never punycode
    assert f"{prose} {left}[.]{tld}" in parts[2]
    assert "xn--" not in parts[2]


_FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@settings(max_examples=100, deadline=None)
@given(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=2, max_size=10), _FORMS)
def test_a_fullwidth_word_is_never_shown_as_its_ascii_twin(word, form):
    # Given a word written in fullwidth letters (NFKC reads it as the ASCII word)
    written = "".join(_FULLWIDTH[char] for char in word)
    # When emailed / Then the text shows the raw form with a marker, never the bare ASCII word
    text = _emails(*form, title=f"run {written} now")[2]
    assert f"run {written}[\u2248{word}] now" in text
    assert f"run {word} now" not in text
