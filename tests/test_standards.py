"""The site against the standards' own checkers, which nobody here wrote: axe-core (Deque's accessibility engine,
WCAG 2.2 A and AA) in Debian's Chromium on every kind of page, in both languages, on a phone and a desktop, and
the Nu HTML Checker (the W3C's validator, npm's vnu-jar run by Debian's Java) on every page of the site.

Each check is shown to find the defect it is for in a page of this site, so that a checker that silently checks
nothing cannot pass."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from browser import DESKTOP, PHONE, launch, serve
from conftest import ROOT

# WCAG 2.0, 2.1 and 2.2, levels A and AA, and Deque's best practices
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
VNU = ROOT / "tests" / "tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# certificates of each status in the sample registry, a superseded version's page, a month of announcements
VALID, SUSPENDED, REVOKED, CANCELLED, EXPIRED = ("CEC-ZWL-2025-0001", "CEC-ZCF-2026-0004", "CEC-ZWL-2025-0002",
                                                 "CEC-ZWL-2025-0004", "CEC-ZCF-2025-0001")
SUPERSEDED = "CEC-ZCF-2026-0001/v1/"
PAGES = ["", "certificates/", "announcements/", "announcements/2026-10/", "verify/", "schemes/zero-carbon-factory/",
         "schemes/zero-waste-low-carbon-water/", "mark/", "data/", "appeals/", "staff/", "about/", "lists/all-all/",
         "lists/renewal/", *(f"certificates/{n}/" for n in (VALID, SUSPENDED, REVOKED, CANCELLED, EXPIRED)),
         f"certificates/{SUPERSEDED}", f"certificates/{VALID}/?v=99"]
# what a member of the public reaches besides: a number the registry does not have (its 404 page), a version of a
# certificate that never existed, and the look-up's answers
NOT_FOUND = ["certificates/CEC-ZWL-2099-9999/", f"certificates/{VALID}/v9/"]


def _axe(page) -> list[dict]:
    return Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}}).response["violations"]


def _report(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {n['target']} {n['failureSummary']}" for v in violations for n in v["nodes"]]


@pytest.fixture(scope="module")
def served(built):
    with serve(built) as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.mark.parametrize("lang", ["", "en/"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_axe_finds_no_violation_of_wcag_2_2_aa_on_any_kind_of_page(chromium, served, built, size, lang):
    assert (built / "certificates" / SUPERSEDED / "index.html").read_text(encoding="utf-8").count("cr-paper--old")
    assert (built / "announcements" / "2026-10" / "index.html").is_file()
    context = chromium.new_context(**(PHONE if size == "phone" else DESKTOP))
    found = {}
    try:
        for path in [lang + p for p in PAGES] + NOT_FOUND:
            page = context.new_page()
            answer = page.goto(served + path)
            assert answer is not None and answer.status == (404 if path in NOT_FOUND else 200), path
            page.wait_for_load_state("load")  # (certreg.js has run: the page's scripts are not deferred)
            found[path] = _report(_axe(page))
            if path == lang:  # the home page's look-up, with answers shown
                page.locator("#cr-lookup").press_sequentially("回用水")
                page.locator("#cr-lookup-results a").first.wait_for()
                found[path + " (look-up)"] = _report(_axe(page))
            page.close()
    finally:
        context.close()
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_axe_finds_a_link_told_from_its_text_by_colour_alone(chromium, served):
    """The check above can fail: without the underline certreg.css gives links in running text, axe finds them
    (WCAG 1.4.1: the theme's green on black text is 2.05:1)."""
    context = chromium.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(served + "appeals/")
        assert _axe(page) == []
        page.add_style_tag(content=".md-typeset a { text-decoration: none !important; }")
        assert "link-in-text-block" in {v["id"] for v in _axe(page)}
    finally:
        context.close()


# --- the Nu HTML Checker -----------------------------------------------------------------------------------------

# Errors of mkdocs-material's own markup, allowed by name: its drawer and search toggles are checkboxes with
# autocomplete="off" (written by its base.html, not by a partial a theme can override), which HTML allows on text
# inputs only; the attribute keeps Firefox from restoring a toggle's state on reload
ALLOWED = [(re.compile(r"^Attribute “autocomplete” is only allowed when the input type is "),
            re.compile(r'<input class="md-toggle" data-md-toggle="(drawer|search)" type="checkbox"'))]


def nu_errors(folder: Path) -> list[str]:
    """Every error the Nu HTML Checker finds in the HTML files under ``folder``, but those ALLOWED."""
    if not VNU.is_file():
        pytest.fail(f"the Nu HTML Checker is not installed at {VNU}: run sh .ci/setup")
    if shutil.which("java") is None:
        pytest.fail("Java is not installed (apt-get install default-jre-headless): sh .ci/setup")
    done = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--errors-only", "--skip-non-html",
                           str(folder)], capture_output=True, text=True, check=False)
    messages = json.loads(done.stderr or done.stdout)["messages"]
    assert done.returncode in (0, 1), done.stderr[-2000:]
    out = []
    for m in messages:
        if m.get("type") == "error" and any(message.search(m.get("message", "")) and markup.search(m.get("extract", ""))
                                            for message, markup in ALLOWED):
            continue
        where = m.get("url", "").split(str(folder), 1)[-1]
        out.append(f"{where}:{m.get('lastLine')}: {m.get('type')}: {m.get('message')} [{m.get('extract', '')!r}]")
    return out


def test_the_nu_html_checker_finds_no_error_on_any_page(built):
    assert len(list(built.rglob("*.html"))) > 100
    assert nu_errors(built) == []


def test_the_nu_html_checker_finds_an_error_in_a_page_of_the_site(built, tmp_path):
    """The check above can fail: a certificate's page with an id used twice (what a template mistake gives), and a
    toggle of Material's with another error than the one allowed, are both found."""
    page = (built / "certificates" / VALID / "index.html").read_text(encoding="utf-8")
    broken = page.replace('id="cr-status-word"', 'id="cr-status-word" data-x="1"', 1)
    broken = broken.replace("</article>", '<p id="cr-status-word">again</p></article>', 1)
    broken = broken.replace('data-md-toggle="drawer" type="checkbox"', 'data-md-toggle="drawer" type="checkbox" '
                            'checked="yes"', 1)
    assert broken.count('id="cr-status-word"') == 2 and 'checked="yes"' in broken
    (tmp_path / "index.html").write_text(broken, encoding="utf-8")
    found = nu_errors(tmp_path)
    assert any("Duplicate ID “cr-status-word”" in line for line in found), found
    assert any("“checked”" in line for line in found), found
