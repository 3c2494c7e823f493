"""Emails seen in a real browser: headless Chromium renders them at 600 px, offline."""

from __future__ import annotations

import pytest
from PIL import Image

from demo.screenshots import WIDTH, screenshots
from responder.domain.classify import classify
from responder.domain.render import render
from responder.domain.settings import Settings
from tests.conftest import finding_from

pytestmark = pytest.mark.slow

EMAILS = [
    "crafted/AttackSequence_S3_CompromisedData_full.json",
    "crafted/Hostile_Injection_Attempt.json",
    "events/Recon_EC2_PortProbeUnprotectedPort.json",
]


def test_three_emails_render_non_blank_at_600px_with_no_request(tmp_path):
    pages = []
    for name in EMAILS:
        page = tmp_path / f"{name.split('/')[1].removesuffix('.json')}.html"
        page.write_text(render(classify(finding_from(name), Settings())).html, encoding="utf-8")
        pages.append(page)
    shots = screenshots(pages)
    assert len(shots) == 3
    for shot in shots:
        assert shot.blocked_requests == [], shot
        assert not shot.blank, shot
        assert shot.width <= WIDTH, shot  # no horizontal scrolling at the width clients give
        with Image.open(shot.png) as image:
            assert image.width == WIDTH
            assert image.height > 600  # the whole email, not just the first screen


def test_the_checks_detect_remote_content_and_blank_pages(tmp_path):
    remote = tmp_path / "remote.html"
    remote.write_text('<html><body><p>x</p><img src="https://tracker.invalid/pixel.png"></body></html>')
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    remote_shot, blank_shot = screenshots([remote, blank])
    assert remote_shot.blocked_requests == ["https://tracker.invalid/pixel.png"]
    assert blank_shot.blank


def test_a_digest_renders_at_600px_with_no_request(tmp_path):
    from responder.domain.digest import render_digest
    from tests.conftest import FINDING_EVENTS

    page = tmp_path / "digest.html"
    findings = [classify(finding_from(path), Settings()) for path in FINDING_EVENTS]
    page.write_text(render_digest([(f, None) for f in findings], kind="ALERTS").html, encoding="utf-8")
    [shot] = screenshots([page])
    assert shot.blocked_requests == []
    assert not shot.blank
    assert shot.width <= WIDTH


def test_a_japanese_email_renders_with_a_japanese_font(tmp_path):
    """The same page with Japanese glyphs: a missing CJK font would draw empty boxes (tofu)."""
    ja = Settings(language="ja")
    page = tmp_path / "ja.html"
    c = classify(finding_from("events/UnauthorizedAccess_EC2_TorClient.json"), ja)
    page.write_text(render(c, ja.locale).html, encoding="utf-8")
    [shot] = screenshots([page])
    assert shot.blocked_requests == []
    assert not shot.blank
    assert shot.width <= WIDTH
    # Distinct glyphs make many distinct pixel rows; boxes for missing glyphs would repeat one shape.
    with Image.open(shot.png) as image:
        rows = {image.crop((0, y, WIDTH, y + 1)).tobytes() for y in range(0, image.height, 2)}
    assert len(rows) > 150
