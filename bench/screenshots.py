"""Screenshots of the public site at phone and desktop sizes, for a person to look over.

Run from the project folder:

    .venv/bin/python bench/screenshots.py [--out DIR] [--full-page]

The script builds the sample site as of 2026-11-21 (the PDFs into a temporary folder), serves it on
127.0.0.1, opens it in Debian's Chromium (/usr/bin/chromium, driven by Playwright; no browser is ever
downloaded) with the browser's clock fixed at noon of that day in China, and saves PNG screenshots at
390×844 (device scale 2, a phone) and 1280×900 (a desktop) of the home page, certificate pages in each
kind of state, the announcements page, the counts by scheme and status and an English certificate page, as
``SIZE-NAME.png`` in ``--out`` (default ``bench/out/screenshots``, git-ignored). Requests to anywhere but
127.0.0.1 are answered with an empty response, as the network may be closed; their addresses are printed. The
files written are printed, one a line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser import DESKTOP, PHONE, launch, serve  # noqa: E402

AS_OF = dt.date(2026, 11, 21)
NOON = "2026-11-21T12:00:00+08:00"  # AS_OF at noon in China
SIZES = {"phone": PHONE, "desktop": DESKTOP}
NOT_FOUND = ("no-such-version-page", "not-in-registry")  # pages the site does not have: its 404 page
PAGES = {  # name -> path of the page on the site
    "home": "",
    "valid": "certificates/CEC-ZWL-2025-0001/v1/",
    "superseded": "certificates/CEC-ZWL-2025-0003/v1/",
    "current": "certificates/CEC-ZWL-2025-0003/v2/",
    "suspended": "certificates/CEC-ZCF-2026-0004/v1/",
    "revoked": "certificates/CEC-ZWL-2025-0002/v1/",
    "record": "certificates/CEC-ZWL-2025-0003/",
    "old-address": "certificates/CEC-ZWL-2025-0003/?v=1",
    "no-such-version": "certificates/CEC-ZWL-2025-0003/?v=9",
    "no-such-version-page": "certificates/CEC-ZWL-2025-0003/v9/",
    "not-in-registry": "certificates/CEC-ZWL-2025-9999/v1/",
    "announcements": "announcements/",
    "certificates": "certificates/",
    "en-valid": "en/certificates/CEC-ZWL-2025-0001/v1/",
}


def build(out: Path, pdfs: Path) -> None:
    sys.path.insert(0, str(ROOT / "generator"))
    from certreg.publish.build import build_site

    build_site(ROOT / "mkdocs.yml", out, AS_OF, pdf_dir=pdfs)


def shoot(base: str, out: Path, *, full_page: bool) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    outside: set[str] = set()
    problems: list[str] = []

    def answer_empty(route):
        outside.add(route.request.url)
        route.fulfill(status=200, body="", content_type="text/plain")

    with sync_playwright() as p:
        browser = launch(p)
        try:
            for size_name, size in SIZES.items():
                for name, path in PAGES.items():
                    context = browser.new_context(**size, timezone_id="Asia/Shanghai", locale="zh-CN")
                    try:
                        context.route(lambda u: not u.startswith(base), answer_empty)
                        page = context.new_page()
                        page.on("pageerror", lambda e, n=name: problems.append(f"{n}: uncaught {e}"))
                        page.on("console", lambda m, n=name: problems.append(f"{n}: console {m.text}")
                                if m.type == "error" else None)
                        page.clock.set_fixed_time(NOON)
                        response = page.goto(base + path)
                        expected = 404 if name.startswith(NOT_FOUND) else 200
                        if response is None or response.status != expected:
                            problems.append(f"{name}: HTTP {response and response.status} for {path}")
                        page.wait_for_load_state("networkidle")
                        png = out / f"{size_name}-{name}.png"
                        page.screenshot(path=png, full_page=full_page)
                        written.append(png)
                        print(png, flush=True)
                    finally:
                        context.close()
        finally:
            browser.close()
    for url in sorted(outside):
        print(f"note: the pages asked for {url} (answered empty)", file=sys.stderr)
    for problem in sorted(set(problems)):
        print(f"note: {problem}", file=sys.stderr)
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "screenshots",
                   help="folder for the PNG files (default: bench/out/screenshots)")
    p.add_argument("--full-page", action="store_true", help="the whole page, not just the first screen")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="certreg-screenshots-") as tmp:
        site = Path(tmp) / "site"
        build(site, Path(tmp) / "pdfs")
        with serve(site) as base:
            shoot(base, args.out.resolve(), full_page=args.full_page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
