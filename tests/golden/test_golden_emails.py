"""Golden emails: what a user receives stays byte for byte the same unless someone means it to change.

Every fixture finding's single email and the grouped storm and digest emails, in English and
Japanese, compared exactly with the copies under ``tests/golden/emails/``. An intended change
to an email: ``make golden``, then review ``git diff tests/golden/emails`` and commit it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.golden.goldens import (
    EMAILS,
    GROUPED,
    KINDS,
    LANGUAGES,
    email,
    fixture_paths,
    render_all,
    rendered,
    stem,
    stored,
)

REFRESH = "if the change is intended: make golden, then review git diff tests/golden/emails"


def differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    """One entry per file missing, unexpected or different, with a short diff of the text."""
    problems = [f"missing from {EMAILS.name}/: {name}" for name in sorted(actual.keys() - expected.keys())]
    problems += [f"stored but no longer rendered: {name}" for name in sorted(expected.keys() - actual.keys())]
    for name in sorted(expected.keys() & actual.keys()):
        if expected[name] != actual[name]:
            diff = difflib.unified_diff(
                # split, not splitlines: a lost or added final newline shows as a line of its own
                expected[name].decode("utf-8", "backslashreplace").split("\n"),
                actual[name].decode("utf-8", "backslashreplace").split("\n"),
                f"stored/{name}",
                f"rendered/{name}",
                lineterm="",
            )
            problems.append("\n".join(list(diff)[:40]))
    return problems


def assert_same(expected: dict[str, bytes], actual: dict[str, bytes]) -> None:
    """Fail with the diff of every file that differs, and how to refresh the goldens."""
    problems = differences(expected, actual)
    if problems:
        pytest.fail("\n".join([*problems, REFRESH]), pytrace=False)


@pytest.fixture(scope="module")
def goldens() -> dict[str, bytes]:
    """The stored goldens, read once for the module."""
    return stored()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", fixture_paths(), ids=stem)
def test_single_email_is_unchanged(goldens: dict[str, bytes], path: Path, lang: str) -> None:
    # Given the stored email of this fixture in this language (none for an event that is not a finding)
    name = f"{lang}/{stem(path)}"
    # When the product renders the fixture as the preview tool does
    actual = email(rendered(), name)
    # Then subject, local subject, text and HTML are the stored bytes, exactly
    assert_same(email(goldens, name), actual)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_grouped_email_of_every_fixture_finding_is_unchanged(goldens: dict[str, bytes], lang: str, kind: str) -> None:
    # Given the stored grouped email (every fixture finding in one storm or digest email)
    name = f"{lang}/{GROUPED}/{kind}"
    # When the product groups every fixture finding as the preview's --grouped does
    actual = email(rendered(), name)
    # Then it is the stored email, exactly
    assert actual, "no grouped email rendered"
    assert_same(email(goldens, name), actual)


def test_every_stored_file_is_an_email_rendered_now(goldens: dict[str, bytes]) -> None:
    # Given every file under tests/golden/emails/
    # When its names are compared with every email file the product renders
    missing, stale = rendered().keys() - goldens.keys(), goldens.keys() - rendered().keys()
    # Then none is missing and none is left over from a fixture or a form that is gone
    assert not missing, f"{sorted(missing)}: {REFRESH}"
    assert not stale, f"{sorted(stale)}: {REFRESH}"


def test_goldens_do_not_depend_on_the_callers_environment(
    goldens: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shell that exports settings the goldens must not pick up
    for name, value in {
        "LANGUAGE": "ja",
        "DISPLAY_TIMEZONE": "America/New_York",
        "NOTIFY_THRESHOLD": "9",
        "BAND_HIGH_MIN": "5",
        "DIGEST_MINUTES": "15",
        "TZ": "Pacific/Auckland",
    }.items():
        monkeypatch.setenv(name, value)
    # When the emails are rendered again
    # Then they are the same bytes as the stored goldens
    assert_same(goldens, render_all())


def test_a_one_character_change_is_caught(tmp_path: Path) -> None:
    # Given the emails rendered now, written out, with one character changed in one of them
    for name, content in rendered().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    victim = tmp_path / "ja" / GROUPED / "alerts.html"
    content = victim.read_bytes()
    victim.write_bytes(content[:-1] + (b"x" if content[-1:] != b"x" else b"y"))
    # When compared with what the product renders
    problems = differences(stored(tmp_path), rendered())
    # Then exactly that file is reported, with its diff
    assert len(problems) == 1
    assert problems[0].startswith(f"--- stored/ja/{GROUPED}/alerts.html")
