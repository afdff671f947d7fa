"""What a phone downloads on a first visit to the site's pages, and the home page's size at each registry size.

Run from the project folder:

    .venv/bin/python bench/weight.py [--certificates 1000 10000 30000] [--seed S] [--lighthouse] [--site DIR]

The script

1. builds the sample site as of 2026-11-21 (``certreg build --no-pdfs``, into ``bench/out/weight-sample``), serves
   it on 127.0.0.1 and opens a verification page, the home page and a list page in Debian's headless Chromium
   (tests/browser.py: /usr/bin/chromium driven by Playwright) at a phone's size, each in a fresh context (an empty
   cache: a first visit); it records every response and prints, per resource and in total, the requests, the
   bytes as they are and as a server with gzip on sends them (gzip -9 of each text; an image as it is);
2. for each N of ``--certificates``, generates (or reuses) a registry of N certificates with bench/bench.py's
   generator, builds its site (``bench/out/weight-N``) and prints the home page's HTML, as it is and gzipped, in
   each language: it must not grow with the registry;
3. with ``--lighthouse``, runs Lighthouse's mobile audit (its default: a mid-range phone on a slow 4G link,
   simulated) of the verification page, served as it is and gzipped, and prints its performance score and
   paints. Lighthouse
   is not installed by the project: it is run by ``npx --yes lighthouse@12`` (npm fetches it once), with
   CHROME_PATH=/usr/bin/chromium.

The budget (a verification page at most 40 KB gzipped on a first visit, with its CSS and scripts) is a test:
tests/test_site_browser.py::test_a_first_visit_to_a_verification_page_downloads_at_most_the_budget.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench import AS_OF, DEFAULT_SEED, ROOT, generated  # noqa: E402

from browser import PHONE, first_visit, launch, serve  # noqa: E402

SAMPLE_AS_OF = "2026-11-21"  # the sample registry's date (tests/conftest.py)
PAGES = {  # what is measured: name -> path on the site
    "verification page": "certificates/CEC-ZCF-2025-0001/",
    "home page": "",
    "list page": "lists/all-valid/",
}
CERTREG = [sys.executable, "-c", "import sys; from certreg.cli import main; main(sys.argv[1:])"]


def build(out: Path, as_of: str, registry: Path | None = None) -> None:
    """``certreg build --no-pdfs`` of ``registry`` (default: the sample) into ``out``, in a process of its own."""
    shutil.rmtree(out, ignore_errors=True)
    args = ["build", "--no-pdfs", "--as-of", as_of, "--out", str(out)]
    if registry is not None:
        args += ["--registry", str(registry)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "generator"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([*CERTREG, *args], capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"certreg build failed:\n{done.stdout}{done.stderr}")


def kb(n: int) -> str:
    return f"{n / 1000:.1f} KB"


def first_visits(site: Path) -> None:
    from playwright.sync_api import sync_playwright

    with serve(site) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            for name, path in PAGES.items():
                fetched = first_visit(browser, base + path, size=PHONE)
                print(f"\n{name} ({path or '/'}), a first visit at a phone's size: {len(fetched)} requests, "
                      f"{kb(sum(f.raw for f in fetched))} raw, {kb(sum(f.gzipped for f in fetched))} gzipped")
                print(f"  {'raw':>9} {'gzipped':>9}  resource")
                for f in fetched:
                    print(f"  {f.raw:>9,} {f.gzipped:>9,}  {f.url.removeprefix(base) or '/'}")
        finally:
            browser.close()


def home_sizes(counts: list[int], seed: int) -> None:
    rows = []
    for n in counts:
        registry = generated(n, seed)
        out = ROOT / "bench" / "out" / f"weight-{n}"
        build(out, AS_OF.isoformat(), registry)
        sizes = []
        for page in ("index.html", "en/index.html"):
            data = (out / page).read_bytes()
            sizes.append((len(data), len(gzip.compress(data, 9, mtime=0))))
        rows.append((n, sizes))
        shutil.rmtree(out)  # (a site of 30,000 certificates is over a GB)
    print("\nthe home page's HTML by registry size (as of " + AS_OF.isoformat() + "):")
    print("| certificates | home page (zh), raw | gzipped | home page (en), raw | gzipped |")
    print("|---|---|---|---|---|")
    for n, ((zh, zh_gz), (en, en_gz)) in rows:
        print(f"| {n:,} | {zh:,} | {zh_gz:,} | {en:,} | {en_gz:,} |")


def lighthouse(site: Path) -> None:
    for compressed in (False, True):  # a host that sends files as they are; one with gzip on
        with serve(site, compressed=compressed) as base:
            url = base + PAGES["verification page"]
            env = {**os.environ, "CHROME_PATH": "/usr/bin/chromium"}
            done = subprocess.run(["npx", "--yes", "lighthouse@12", url, "--only-categories=performance",
                                   "--output=json", "--quiet",
                                   "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
                                  capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            print(f"\nLighthouse did not run ({done.returncode}): {done.stderr.strip()[-2000:]}")
            return
        report = json.loads(done.stdout)
        audits = report["audits"]
        print(f"\nLighthouse {report['lighthouseVersion']}, mobile, the verification page served "
              f"{'gzipped' if compressed else 'uncompressed'}: performance "
              f"{report['categories']['performance']['score'] * 100:.0f}; first contentful paint "
              f"{audits['first-contentful-paint']['displayValue']}, largest contentful paint "
              f"{audits['largest-contentful-paint']['displayValue']}, total blocking time "
              f"{audits['total-blocking-time']['displayValue']}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certificates", "-n", type=int, nargs="*", default=[1000, 10000, 30000])
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--lighthouse", action="store_true", help="also run Lighthouse (npx) on the verification page")
    p.add_argument("--site", type=Path, help="measure this site of the sample registry, built already (e.g. by "
                                             "another version of certreg), instead of building it")
    args = p.parse_args(argv)
    site = args.site or ROOT / "bench" / "out" / "weight-sample"
    if args.site is None:
        build(site, SAMPLE_AS_OF)
    first_visits(site)
    if args.lighthouse:
        lighthouse(site)
    if args.certificates:
        home_sizes(args.certificates, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
