"""Golden emails: every fixture finding's email, in English and Japanese, as the product renders it.

The emails come from the preview tool's own functions (``responder.cli.prepared`` for each
finding's single email, through ``service.prepare`` and its minimal-form fallback;
``responder.cli.grouped_record`` for the grouped storm and digest email, through
``degrade.compose``), so they are exactly what ``python -m responder preview`` prints and
the notifier sends. ``render_all()`` renders them and writes nothing (``rendered()``: the
same, once); ``stored()`` reads the committed copies under ``emails/``; ``refresh()`` (``make
golden``) rewrites those copies on purpose. This module is the only place the goldens name
the product's API: if the preview's functions or the settings move, adapt the imports and
``settings_for`` here, and the stored emails must still pass unchanged.

Layout, one email per stem: ``emails/<lang>/<fixture dir>/<fixture stem>.subject`` (the
ASCII subject), ``.local-subject`` (the subject in the email's language, Japanese only),
``.txt`` and ``.html``; ``emails/<lang>/grouped/{alerts,digest}.*`` for the grouped emails.
With the accounts named (``ACCOUNT_NAMES``: ``NAMED_ACCOUNTS``), one single email and the grouped
emails of ``NAMED_GROUPED_SOURCES`` again, each stem ending in ``-named-account``.
Each file holds the exact string, UTF-8, nothing added (no final newline of ours).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Final
from unittest import mock

from responder.cli import grouped_record, prepared
from responder.domain.settings import Settings

HERE: Final = Path(__file__).parent
EMAILS: Final = HERE / "emails"
FIXTURES: Final = HERE.parent / "fixtures"
# Every fixture directory of events; invalid/ is refused by design, so it has no email. The
# grouped emails gather the first four (the real corpus and the new families have single emails).
GROUPED_SOURCES: Final = ("events", "crafted", "hostile", "unrenderable")
SOURCES: Final = (*GROUPED_SOURCES, "corpus/events", "families")
LANGUAGES: Final = ("en", "ja")
KINDS: Final = ("alerts", "digest")
GROUPED: Final = "grouped"  # emails/<lang>/grouped/: not a fixture directory name
# The display zone each language is rendered with: English none, Japanese its readers' default.
ZONES: Final = {"en": None, "ja": "Asia/Tokyo"}
# Account names as an operator's ACCOUNT_NAMES gives them: plain names, one with a space, one
# hostile (markup and a domain: escaped and defanged in the body, never in a subject), and one
# for the unrenderable fixture's account (the minimal form names it too). 1234567891234 is no
# account id: its findings show the id alone.
NAMED_ACCOUNTS: Final = (
    "973743533182=payments-prod,123456789012=Security Tooling,"
    "123412341234=<b>ops</b> evil.com,210987654321=legacy-batch"
)
NAMED: Final = "-named-account"  # the stem suffix of an email whose accounts are named
NAMED_SINGLE: Final = "events/Impact_S3_MaliciousIPCaller.json"
NAMED_GROUPED_SOURCES: Final = ("events", "unrenderable")
# The files of one email: the ASCII subject, the local subject (when not English), text, HTML.
PARTS: Final = (".subject", ".local-subject", ".txt", ".html")


def fixture_paths(sources: tuple[str, ...] = SOURCES) -> list[Path]:
    """The fixture files, in a stable order (directory, then name)."""
    return [path for source in sources for path in sorted((FIXTURES / source).glob("*.json"))]


def stem(path: Path) -> str:
    """``<fixture dir>/<fixture stem>``: where a fixture's email lives under ``emails/<lang>/``."""
    return f"{path.parent.relative_to(FIXTURES).as_posix()}/{path.stem}"


@contextlib.contextmanager
def _product_defaults() -> Iterator[None]:
    """An empty environment and a silent stderr while rendering.

    Empty: whatever the caller's shell exports (LANGUAGE, DISPLAY_TIMEZONE, NOTIFY_THRESHOLD,
    TZ ...), even if the settings start reading it, cannot reach the goldens. Silent: the
    preview's terminal notes ("not a finding", "minimal form") are not part of any email.
    """
    with mock.patch.dict(os.environ, clear=True), contextlib.redirect_stderr(io.StringIO()):
        yield


def settings_for(lang: str, account_names: str = "") -> Settings:
    """The product's default settings in ``lang``, built explicitly (English: no display zone),
    with ``account_names`` as ``ACCOUNT_NAMES`` (none by default)."""
    settings = Settings(language=lang, account_names=account_names)
    if settings.display_zone != ZONES[lang]:
        raise AssertionError(f"{lang}: display zone {settings.display_zone!r}, goldens expect {ZONES[lang]!r}")
    return settings


def _files(name: str, *, subject: str, local_subject: str | None, text: str, html: str) -> dict[str, bytes]:
    parts = dict(zip(PARTS, (subject, local_subject, text, html), strict=True))
    return {f"{name}{part}": content.encode("utf-8") for part, content in parts.items() if content is not None}


def render_all() -> dict[str, bytes]:
    """Every golden file as the product renders it now (relative path -> bytes); writes nothing."""
    files: dict[str, bytes] = {}
    paths = fixture_paths()
    with _product_defaults():
        for lang in LANGUAGES:
            settings = settings_for(lang)
            for path in paths:
                emails = prepared([str(path)], settings)  # none for an event that is not a finding
                if len(emails) > 1:
                    raise AssertionError(f"{stem(path)}: {len(emails)} findings; goldens expect one per fixture")
                for email in (p.email for p in emails):
                    files |= _files(
                        f"{lang}/{stem(path)}",
                        subject=email.subject,
                        local_subject=email.local_subject,
                        text=email.text,
                        html=email.html,
                    )
            for kind in KINDS:
                grouped = fixture_paths(GROUPED_SOURCES)
                files |= _grouped(f"{lang}/{GROUPED}/{kind}", grouped, settings, kind)
            files |= _named(lang)
    return files


def _grouped(name: str, paths: list[Path], settings: Settings, kind: str) -> dict[str, bytes]:
    record = grouped_record([str(path) for path in paths], settings, kind=kind)
    return _files(
        name, subject=record["subject"], local_subject=record["local_subject"], text=record["text"], html=record["html"]
    )


def _named(lang: str) -> dict[str, bytes]:
    """The named-account emails in ``lang``: one finding's and the grouped ones."""
    settings = settings_for(lang, NAMED_ACCOUNTS)
    path = FIXTURES / NAMED_SINGLE
    [email] = [p.email for p in prepared([str(path)], settings)]
    files = _files(
        f"{lang}/{stem(path)}{NAMED}",
        subject=email.subject,
        local_subject=email.local_subject,
        text=email.text,
        html=email.html,
    )
    for kind in KINDS:
        files |= _grouped(f"{lang}/{GROUPED}/{kind}{NAMED}", fixture_paths(NAMED_GROUPED_SOURCES), settings, kind)
    return files


@cache
def rendered() -> dict[str, bytes]:
    """``render_all()``, once: rendering is pure, and the tests compare many files of one rendering."""
    return render_all()


def stored(root: Path = EMAILS) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def email(files: dict[str, bytes], name: str) -> dict[str, bytes]:
    """The files of the email ``name`` (``en/events/<stem>``, ``ja/grouped/alerts``) among ``files``."""
    return {name + part: files[name + part] for part in PARTS if name + part in files}


def refresh(root: Path = EMAILS) -> dict[str, list[str]]:
    """Rewrite ``root`` to the emails rendered now; the paths added, changed and removed."""
    new, old = render_all(), stored(root)
    for name in old.keys() - new.keys():
        (root / name).unlink()
    for name, content in new.items():
        if old.get(name) != content:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    return {
        "added": sorted(new.keys() - old.keys()),
        "changed": sorted(name for name in new.keys() & old.keys() if new[name] != old[name]),
        "removed": sorted(old.keys() - new.keys()),
    }
