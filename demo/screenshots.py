"""`make screenshots`: render each HTML email in headless Chromium and save a PNG beside it.

The email is set as the page's content with every request blocked and recorded, so a
screenshot also proves the email needs nothing from the network (no remote images,
fonts or scripts).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageStat
from playwright.sync_api import Route, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "out" / "demo"
WIDTH = 600  # px: the width email clients give a message
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class Shot:
    png: Path
    width: int
    blank: bool
    blocked_requests: list[str] = field(default_factory=list)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise FileNotFoundError("Chromium is not installed (Debian packages chromium and chromium-driver)")
    return path


def is_blank(png: Path) -> bool:
    """A render with (almost) a single colour is blank."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 16)
        spread = max(ImageStat.Stat(rgb).stddev)
    return spread < 5 or (colours is not None and len(colours) < 8)


def _refusing(log: list[str]) -> Callable[[Route], None]:
    def refuse(route: Route) -> None:
        log.append(route.request.url)
        route.abort()

    return refuse


def screenshots(pages: list[Path]) -> list[Shot]:
    """One full-page PNG per HTML file, at 600 px wide, beside it."""
    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            for page_path in pages:
                blocked: list[str] = []

                page = browser.new_page(viewport={"width": WIDTH, "height": 800})
                # The email is set as the page content: any request at all would leave the page.
                page.route("**/*", _refusing(blocked))
                page.set_content(page_path.read_text(encoding="utf-8"), wait_until="load")
                png = page_path.with_suffix(".png")
                page.screenshot(path=str(png), full_page=True)
                width = page.evaluate("document.documentElement.scrollWidth")
                page.close()
                shots.append(Shot(png=png, width=int(width), blank=is_blank(png), blocked_requests=blocked))
        finally:
            browser.close()
    return shots


def main() -> int:
    pages = sorted(p for p in OUT.glob("*.html") if p.name != "index.html")
    if not pages:
        print("no emails in out/demo: run `make demo` first", file=sys.stderr)
        return 1
    shots = screenshots(pages)
    bad = [s for s in shots if s.blank or s.blocked_requests or s.width > WIDTH]
    for shot in shots:
        note = "BLANK " if shot.blank else ""
        note += f"blocked {len(shot.blocked_requests)} requests " if shot.blocked_requests else ""
        note += f"wider than {WIDTH}px " if shot.width > WIDTH else ""
        print(f"{shot.png.relative_to(OUT.parents[1])}  {note or 'ok'}")
    print(f"{len(shots)} screenshots, {len(bad)} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
