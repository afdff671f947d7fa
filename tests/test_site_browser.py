"""The public site read in a real browser (Debian's Chromium, driven by Playwright), as a person would:
the QR code scanned off the printed certificate leads to a page that says the right status, with and
without JavaScript; the page re-checks the status against today's date in China; the look-up on the
home page finds certificates; hostile record text stays text; and the pages look, at phone and desktop
sizes, like their reference screenshots (tests/reference/screenshots). The site is served from 127.0.0.1;
every request to anywhere else is answered locally with an empty response (the network is closed), and
recorded."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter
from playwright.sync_api import Browser, Page, expect, sync_playwright

from browser import CHROMIUM, DESKTOP, LOCAL, PHONE, first_visit, launch, serve
from certreg.publish.build import build_site
from certreg.publish.pdf import site_url
from certreg.publish.site import strings
from certreg.rules.validate import check_registry
from conftest import REGISTRY, ROOT, SAMPLE_AS_OF

BASE_URL = site_url(ROOT / "mkdocs.yml")  # https://registry.cec-certification.example/, named by the QR codes
SAMPLE_NOON = "2026-11-21T12:00:00+08:00"  # SAMPLE_AS_OF at noon in China
ZWL = "zero-waste-low-carbon-water"

# one certificate of the sample registry in each status on SAMPLE_AS_OF
BY_STATUS = {"valid": "CEC-ZWL-2025-0001", "suspended": "CEC-ZCF-2026-0004", "revoked": "CEC-ZWL-2025-0002",
             "cancelled": "CEC-ZWL-2025-0004", "expired": "CEC-ZCF-2025-0001"}
# the words the verification page promises (templates/site/strings.yml must agree)
WORDS = {
    "zh": {"valid": "证书有效", "suspended": "证书已暂停", "revoked": "证书已撤销", "cancelled": "证书已注销",
           "expired": "证书已过期"},
    "en": {"valid": "Certificate valid", "suspended": "Certificate suspended", "revoked": "Certificate revoked",
           "cancelled": "Certificate cancelled", "expired": "Certificate expired"},
}


# --- serving a built site, and visiting it ---


@dataclass
class Log:
    """What a page did besides showing itself: console errors, uncaught exceptions, requests."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # requests to anywhere but 127.0.0.1, answered empty


@contextmanager
def visit(browser: Browser, url: str, *, size: dict = PHONE, js: bool = True, now: str | None = SAMPLE_NOON,
          timezone: str = "Asia/Shanghai", init_script: str | None = None, status: int = 200
          ) -> Iterator[tuple[Page, Log]]:
    """``url`` opened in a fresh context of ``size``; with JavaScript, the browser's clock fixed at ``now``. The
    answer's HTTP status is ``status`` (404: an address the site does not have, answered by its 404 page)."""
    context = browser.new_context(**size, java_script_enabled=js, timezone_id=timezone, locale="zh-CN")
    log = Log()

    def outside(route):
        log.outside.append(route.request.url)
        route.fulfill(status=200, body="", content_type="text/plain")

    try:
        context.route(lambda u: not u.startswith(LOCAL), outside)
        page = context.new_page()
        page.on("console", lambda m: log.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: log.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: log.requests.append(r.url))
        if init_script:
            page.add_init_script(init_script)
        if js and now is not None:
            page.clock.set_fixed_time(now)
        response = page.goto(url)
        assert response is not None and response.status == status, (url, response and response.status)
        yield page, log
    finally:
        context.close()


def local(url: str, base: str) -> str:
    """A public URL (as in a QR code) made to point at the local server."""
    assert url.startswith(BASE_URL), url
    return base + url[len(BASE_URL):]


def fmt(template: str, **values) -> str:
    return template.format(**values)


# --- fixtures ---


@dataclass
class Served:
    out: Path  # the built site
    url: str  # where it is served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module: Debian's, never one downloaded by Playwright."""
    with sync_playwright() as p:
        try:
            b = launch(p)
        except Exception as exc:  # not installed, or failing to start: the site tests need it
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}")
        yield b
        b.close()


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory) -> Iterator[Served]:
    """The sample site as of SAMPLE_AS_OF, with its PDFs, built once and served."""
    out = tmp_path_factory.mktemp("browser-site") / "site"
    build_site(ROOT / "mkdocs.yml", out, SAMPLE_AS_OF, pdf_dir=tmp_path_factory.mktemp("browser-pdfs"))
    with serve(out) as url:
        yield Served(out, url)


@pytest.fixture(scope="module")
def checked():
    return check_registry(REGISTRY, SAMPLE_AS_OF)


def qr_codes(pdf: Path, tmp: Path, dpi: int = 150) -> list[str]:
    """The QR codes on page 1 of ``pdf``, as a phone would read them off a print at ``dpi``."""
    stem = tmp / f"{pdf.stem}-{dpi}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", str(pdf), str(stem)], check=True)
    image = Image.open(next(tmp.glob(f"{stem.name}*.png")))
    return [c.text for c in zxingcpp.read_barcodes(image)]


def use_text(lang: str, status: str, scheme: str) -> str:
    t = strings()[lang]
    return fmt(t["use_yes"] if status == "valid" else t["use_no"], mark=t["use_mark"] if scheme == ZWL else "")


def test_the_promised_words_are_the_sites():
    for lang in WORDS:
        assert strings()[lang]["status_long"] == WORDS[lang]


# --- a. the QR code on the paper leads to a page that says the status ---


@pytest.mark.parametrize("status", list(BY_STATUS))
def test_scanning_the_certificate_opens_a_page_with_its_status(browser, sample_site, checked, tmp_path, status):
    number = BY_STATUS[status]
    h = checked.histories[number]
    assert h.status_on(SAMPLE_AS_OF) == status  # the records say so
    version = h.version_on(SAMPLE_AS_OF).number
    pdf = sample_site.out / "certificates" / number / f"{number}-v{version}.pdf"
    assert pdf.exists(), f"the site publishes no current PDF for {number} at {pdf}"
    scanned = f"{BASE_URL}certificates/{number}/v{version}/"  # (the page of that version: pdf.verification_url)
    assert qr_codes(pdf, tmp_path) == [scanned]

    with visit(browser, local(scanned, sample_site.url)) as (page, log):
        assert page.viewport_size == {"width": 390, "height": 844}
        box = page.locator("#cr-status")
        expect(page.locator("#cr-status-word")).to_be_visible()
        expect(page.locator("#cr-status-word")).to_have_text(WORDS["zh"][status])
        expect(box).to_have_attribute("data-status", status)
        expect(box).to_have_class(f"cr-status cr-status--{status}")
        when = page.locator("#cr-status-when")
        expect(when).to_be_visible()
        expect(when).to_contain_text(SAMPLE_AS_OF.isoformat())
        assert when.inner_text() == fmt(strings()["zh"]["computed_on"], date=SAMPLE_AS_OF.isoformat())
        use = page.locator("#cr-use")
        expect(use).to_be_visible()
        assert use.inner_text() == use_text("zh", status, h.cert.scheme.key)
        expect(use).to_have_class(f"cr-use cr-use--{'yes' if status == 'valid' else 'no'}")
        # (the current version's address leads to the certificate's page, naming the version)
        assert page.url == local(f"{BASE_URL}certificates/{number}/?v={version}", sample_site.url)
        expect(page.locator("#cr-version-paper")).to_have_text(fmt(strings()["zh"]["version_current"], v=version))
        # the title names no status: the script may find that time has changed it since the build
        assert page.title().startswith(f"{number} · {strings()['zh']['verify_title']}")
        assert log.errors == [] and log.outside == []  # (no web font or other host: the page loads on a closed network)


# --- b. without JavaScript, the status of the build is shown ---


@pytest.mark.parametrize("status", list(BY_STATUS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_without_javascript_the_page_shows_the_status_of_the_build(browser, sample_site, checked, status, lang):
    number = BY_STATUS[status]
    h = checked.histories[number]
    path = ("en/" if lang == "en" else "") + f"certificates/{number}/?v={h.version_on(SAMPLE_AS_OF).number}"
    with visit(browser, sample_site.url + path, js=False) as (page, log):
        expect(page.locator("#cr-status-word")).to_be_visible()
        expect(page.locator("#cr-status-word")).to_have_text(WORDS[lang][status])
        expect(page.locator("#cr-status")).to_have_attribute("data-status", status)
        when = page.locator("#cr-status-when")
        expect(when).to_be_visible()
        expect(when).to_have_text(fmt(strings()[lang]["computed_on"], date=SAMPLE_AS_OF.isoformat()))
        expect(page.locator("#cr-use")).to_have_text(use_text(lang, status, h.cert.scheme.key))
        expect(page.locator("#cr-version-paper")).to_be_hidden()  # it needs the script
        assert log.errors == []


# --- c. the version of the paper in hand ---


def test_the_page_says_whether_the_paper_is_the_current_version(browser, sample_site, checked):
    number = "CEC-ZWL-2025-0003"
    versions = checked.histories[number].versions
    assert [v.number for v in versions] == [1, 2]
    changed_on = versions[1].date.isoformat()
    assert changed_on == "2025-10-21"
    t = strings()["zh"]
    with visit(browser, f"{sample_site.url}certificates/{number}/?v=1") as (page, log):
        paper = page.locator("#cr-version-paper")
        expect(paper).to_be_visible()
        expect(paper).to_contain_text(f"已于 {changed_on} 被第 2 版取代")
        assert paper.inner_text().startswith(fmt(t["version_superseded"], v=1, date=changed_on, current=2))
        expect(page.locator("#cr-version")).to_have_class("cr-version cr-version--old")
        expect(page.locator("#cr-status")).to_have_attribute("data-status", "valid")
        assert log.errors == []
    with visit(browser, f"{sample_site.url}certificates/{number}/?v=2") as (page, log):
        paper = page.locator("#cr-version-paper")
        expect(paper).to_be_visible()
        expect(paper).to_have_text(fmt(t["version_current"], v=2))
        expect(paper).to_contain_text("是当前版本")
        expect(page.locator("#cr-version")).to_have_class("cr-version")
        assert log.errors == []
    with visit(browser, f"{sample_site.url}en/certificates/{number}/?v=1") as (page, log):
        expect(page.locator("#cr-version-paper")).to_contain_text(f"was superseded on {changed_on} by version 2")
        assert log.errors == []


@pytest.mark.parametrize("js", [True, False])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_of_a_superseded_version_says_so_with_or_without_javascript(browser, sample_site, checked, lang, js):
    number = "CEC-ZWL-2025-0003"
    h = checked.histories[number]
    old, new = h.versions
    t = strings()[lang]
    product = "product_name"
    assert old.content[product] != new.content[product]  # (what the old paper says is not today's)
    with visit(browser, f"{sample_site.url}{'en/' if lang == 'en' else ''}certificates/{number}/v1/", js=js) as (
            page, log):
        paper = page.locator("#cr-paper")
        expect(paper).to_be_visible()
        expect(paper.locator(".cr-paper__word")).to_have_text(fmt(t["paper_superseded_word"], current=2))
        expect(paper).to_contain_text(fmt(t["version_superseded"], v=1, date=new.date.isoformat(), current=2))
        expect(paper.get_by_role("link")).to_have_attribute("href", "../v2/")
        # what version 1 certified, marked where a later version changed it, and its PDF
        content = page.locator("table.cr-facts")
        expect(content).to_contain_text(old.content[product])
        expect(content).not_to_contain_text(new.content[product])
        expect(content.locator("tr.cr-changed")).to_have_count(len(set(new.changed)))
        expect(page.locator(f'a[href$="certificates/{number}/{number}-v1.pdf"]')).to_have_count(1)
        # the certificate itself is still valid (its current version)
        expect(page.locator("#cr-status")).to_have_attribute("data-status", "valid")
        assert log.errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_address_of_the_current_version_leads_to_the_certificate_without_javascript(browser, sample_site, checked,
                                                                                         lang):
    number = "CEC-ZWL-2025-0003"
    current = checked.histories[number].version_on(SAMPLE_AS_OF)
    assert current.number == 2
    page_of = f"{'en/' if lang == 'en' else ''}certificates/{number}/"
    with visit(browser, f"{sample_site.url}{page_of}v2/", js=False) as (page, log):
        expect(page.locator("#cr-version-now")).to_have_text(
            fmt(strings()[lang]["version_now"], current=2, date=current.date.isoformat()))
        assert page.url == f"{sample_site.url}{page_of}?v=2"
        expect(page.locator("#cr-paper")).to_have_count(0)  # (nothing says the paper is superseded)
        assert log.errors == []
    stub = (sample_site.out / page_of / "v2" / "index.html").read_bytes()
    assert len(stub) < 2000  # (not a second copy of the certificate's page: its head and a link)


def test_a_version_that_never_existed_is_said_not_to_exist_in_red(browser, sample_site, checked):
    number = BY_STATUS["valid"]
    assert len(checked.histories[number].versions) < 99
    t = strings()["zh"]
    with visit(browser, f"{sample_site.url}certificates/{number}/?v=99") as (page, log):
        box = page.locator("#cr-status")
        expect(box).to_have_attribute("data-status", "unknown")
        expect(box).to_have_class("cr-status cr-status--unknown")
        expect(page.locator("#cr-status-word")).to_have_text(t["version_unknown_word"])
        expect(page.get_by_text(WORDS["zh"]["valid"], exact=True)).to_have_count(0)  # never under a green verdict
        expect(page.locator("#cr-use")).to_have_text(t["use_none"])
        expect(page.locator("#cr-use")).to_have_class("cr-use cr-use--no")
        colour = box.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(163, 38, 27)", colour  # (--cr-unknown: the red of a revoked certificate)
        assert log.errors == []


def test_a_number_not_in_the_registry_gets_the_forgery_page(browser, sample_site, checked):
    number = "CEC-ZWL-2025-9999"
    assert number not in checked.histories
    contact = checked.registry.settings["enquiries"]
    with visit(browser, f"{sample_site.url}certificates/{number}/v1/", status=404) as (page, log):
        expect(page.locator("#cr-nf-word")).to_have_text(strings()["zh"]["nf_title"])
        expect(page.locator("#cr-nf-word-en")).to_have_text(strings()["en"]["nf_title"])
        expect(page.locator("#cr-notfound")).to_contain_text(strings()["zh"]["nf_forged"])
        expect(page.locator(f'#cr-notfound a[href="mailto:{contact["email"]}"]')).to_be_visible()
        expect(page.locator("#cr-notfound")).to_contain_text(contact["phone"])
        # the language switch leads to each language's home page, not to the address that was not found
        switch = page.locator(".md-select__link")
        assert [switch.nth(i).evaluate("a => a.href") for i in range(2)] == [sample_site.url, sample_site.url + "en/"]
        # the look-up works from there (the page's links and index are absolute: it is served at any address)
        page.locator("#cr-lookup").fill(BY_STATUS["valid"])
        expect(page.locator("#cr-lookup-results a").first).to_have_text(BY_STATUS["valid"])
        page.locator("#cr-lookup-results a").first.click()
        expect(page.locator("#cr-status")).to_have_attribute("data-status", "valid")
        expect(page.locator("#cr-nf-version")).to_have_count(0)
        # (the one error the console shows is the browser's own line about the 404 answer of the page itself)
        assert [e for e in log.errors if "404 (Not Found)" not in e] == [] and log.outside == []


def test_a_version_page_that_does_not_exist_names_the_certificate(browser, sample_site):
    number = BY_STATUS["valid"]
    with visit(browser, f"{sample_site.url}certificates/{number}/v9/", status=404) as (page, log):
        expect(page.locator("#cr-nf-word")).to_have_text(strings()["zh"]["nf_version_title"])
        expect(page.locator("#cr-nf-version")).to_be_visible()
        expect(page.locator("#cr-nf-version")).to_contain_text(fmt(strings()["zh"]["nf_version"], number=number, v=9))
        expect(page.locator("#cr-nf-version a").first).to_have_attribute("href", f"/certificates/{number}/")
        # (the one error the console shows is the browser's own line about the 404 answer of the page itself)
        assert [e for e in log.errors if "404 (Not Found)" not in e] == [] and log.outside == []


# --- one glance, and print ---


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("status", list(BY_STATUS))
def test_one_glance_on_a_phone_shows_verdict_holder_product_validity_and_use(browser, sample_site, checked, status,
                                                                             lang):
    number = BY_STATUS[status]
    h = checked.histories[number]
    data = json.loads((sample_site.out / "certificates" / number / "certificate.json").read_text(encoding="utf-8"))
    version = h.version_on(SAMPLE_AS_OF).number
    path = f"{'en/' if lang == 'en' else ''}certificates/{number}/v{version}/"
    with visit(browser, sample_site.url + path) as (page, log):
        glance = page.locator("#cr-glance")
        for shown in (page.locator("#cr-status-word"), page.locator("#cr-use"),
                      glance.get_by_text(data["holder"], exact=True), glance.get_by_text(data["product"], exact=True),
                      glance.get_by_text(fmt(strings()[lang]["valid_from_to"], **{"from": data["valid_from"],
                                                                                    "until": data["valid_until"]}))):
            expect(shown).to_be_visible()
            box = shown.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, (shown, box)
        header = page.locator(".md-header__topic").first
        assert header.evaluate("e => e.scrollWidth <= e.clientWidth"), "the header's title is cut"
        assert log.errors == []


def test_overdue_actions_are_on_the_page(browser, builder, tmp_path):
    n = builder.zwl("CEC-ZWL-2024-0001")
    builder.decide(n, "suspend", "2025-03-01", ground="holder-request", facts_verified="2025-02-28")
    m = builder.zwl("CEC-ZWL-2024-0002", product_name="另一种回用水")  # (no surveillance recorded)
    out = tmp_path / "site"
    build_site(ROOT / "mkdocs.yml", out, dt.date(2025, 12, 1), pdfs=False, registry=builder.root)
    data = json.loads((out / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert data["suspension_limit"] < "2025-12-01"  # (past its limit on the build's date: overdue)
    due = json.loads((out / "certificates" / m / "certificate.json").read_text(encoding="utf-8"))
    assert due["surveillance_overdue"] and due["surveillance_due"] < "2025-12-01"  # (ZWL-6.1: CEC is late)
    with serve(out) as url, visit(browser, f"{url}certificates/{m}/v1/", now="2025-12-01T12:00:00+08:00") as (
            page, log):
        overdue = page.locator("#cr-overdue")
        expect(overdue).to_have_text(fmt(strings()["zh"]["surveillance_overdue"], date=due["surveillance_due"]))
        box = overdue.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844  # (on the first screen)
        assert log.errors == []
    with serve(out) as url, visit(browser, f"{url}certificates/{n}/v1/", now="2025-12-01T12:00:00+08:00") as (
            page, log):
        # said once, in the verdict (site.suspension_overdue), not again in the list of other overdue actions
        expect(page.locator("#cr-status-note")).to_have_text(
            fmt(strings()["zh"]["suspension_overdue"], date=data["suspension_limit"]))
        said = fmt(strings()["zh"]["suspension_overdue"], date=data["suspension_limit"])
        assert page.locator(".cr-verify").inner_text().count(said) == 1
        box = page.locator("#cr-status-note").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844
        assert log.errors == []


@pytest.mark.parametrize("path", ["certificates/CEC-ZWL-2025-0003/v1/", f"certificates/{BY_STATUS['suspended']}/"])
def test_a_printed_page_is_one_a4_page_with_the_registry_the_address_and_when(browser, sample_site, checked, tmp_path,
                                                                             path):
    import pypdfium2

    settings = checked.registry.settings
    with visit(browser, sample_site.url + path, size=DESKTOP) as (page, log):
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        pdf = tmp_path / "printed.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
        status = page.locator("#cr-status-word").inner_text()
    doc = pypdfium2.PdfDocument(str(pdf))
    assert len(doc) == 1, f"{path} prints on {len(doc)} pages"
    text = doc[0].get_textpage().get_text_range().replace("\r\n", "\n")
    flat = "".join(text.split())
    assert "".join(settings["name"]["zh"].split()) in flat
    assert BASE_URL + path in flat  # the page's address (the public one, not where it was served from)
    assert status in text and SAMPLE_AS_OF.isoformat() in text
    assert "打印于2026-11-2112:00(UTC+8)" in flat  # when it was printed (the page's clock: noon in China)
    assert log.errors == []


# --- the weight of a first visit, on a slow mobile link ---

FIRST_VISIT_BUDGET = 40_000  # bytes, gzipped: a verification page with its stylesheets, scripts and icon
WEIGHED = [f"certificates/{number}/" for number in BY_STATUS.values()] + [
    f"en/certificates/{BY_STATUS['valid']}/", "certificates/CEC-ZWL-2025-0003/v1/"]


@pytest.mark.parametrize("path", WEIGHED)
def test_a_first_visit_to_a_verification_page_downloads_at_most_the_budget(browser, sample_site, path):
    """What a phone downloads on a first visit (an empty cache) to a verification page of each status, in English,
    and of a superseded version: the page, its stylesheets, its scripts and its icon, each text gzipped -9 as a
    server with gzip on sends it, FIRST_VISIT_BUDGET bytes at most (bench/weight.py prints the figures)."""
    fetched = first_visit(browser, sample_site.url + path)
    total = sum(f.gzipped for f in fetched)
    listed = "\n".join(f"  {f.gzipped:>7,}  {f.url.removeprefix(sample_site.url)}" for f in fetched)
    assert total <= FIRST_VISIT_BUDGET, f"{path}: {total:,} bytes gzipped in {len(fetched)} requests:\n{listed}"


@pytest.mark.parametrize("path", [f"certificates/{BY_STATUS['valid']}/", ""])
def test_the_navigation_works_without_materials_script(browser, sample_site, path):
    """A verification page, and the home page, load none of Material's script (site_src/overrides/main.html) nor its
    palette's stylesheet (mkdocs.yml sets no palette), and their header and navigation work: on a
    phone the menu opens the drawer and the overlay closes it; the header shows the page's title once
    its heading is scrolled away; a section of the navigation opens by the keyboard (Enter) and says so
    (aria-expanded); the language switch, reached by Tab, shows its focus ring and its
    list, and leads to the English page; the page has no error."""
    with visit(browser, sample_site.url + path) as (page, log):
        page.wait_for_load_state("networkidle")
        assert not [u for u in log.requests if "/javascripts/" in u or "palette" in u]
        drawer = page.locator(".md-sidebar--primary")
        expect(drawer).not_to_be_in_viewport()
        page.locator('label.md-header__button[for="__drawer"]').click()
        expect(drawer).to_be_in_viewport()
        section = page.locator('label.md-nav__link[tabindex="0"]').first
        rules = page.locator(f'[aria-labelledby="{section.get_attribute("id")}"]')
        expect(rules).to_have_attribute("aria-expanded", "false")
        section.focus()
        page.keyboard.press("Enter")
        expect(rules).to_have_attribute("aria-expanded", "true")
        expect(rules.locator("a").first).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(rules).to_have_attribute("aria-expanded", "false")
        page.mouse.click(380, 400)  # the overlay, beside the drawer
        expect(drawer).not_to_be_in_viewport()
        title = page.locator("[data-md-component=header-title]")
        expect(title).not_to_have_class(re.compile("md-header__title--active"))
        page.mouse.wheel(0, 600)
        expect(title).to_have_class(re.compile("md-header__title--active"))  # (the page's title in the header)
        page.mouse.wheel(0, -600)
        expect(title).not_to_have_class(re.compile("md-header__title--active"))
        page.locator(".md-skip").focus()  # (the first of the page's links; the switch comes next)
        page.keyboard.press("Tab")
        switch = page.locator(".md-select button")
        expect(switch).to_be_focused()
        expect(switch).to_have_class(re.compile(r"\bfocus-visible\b"))  # (Material's rings need it)
        assert switch.evaluate("b => getComputedStyle(b).outlineStyle") != "none"
        english = page.locator('.md-select__link[hreflang="en"]')
        expect(english).to_be_visible()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(english).to_be_focused()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{sample_site.url}en/{path}")
        if path:
            expect(page.locator("#cr-status-word")).to_have_text(WORDS["en"]["valid"])
        else:
            expect(page.locator("#cr-lookup")).to_have_attribute("placeholder", strings()["en"]["lookup_placeholder"])
        assert log.errors == []


def test_a_link_of_the_drawer_within_the_page_closes_it(browser, sample_site):
    """On a phone the table of contents is in the drawer: a heading's link in it scrolls the page to the heading
    and closes the drawer (as Material's script did: site_src/overrides/main.html leaves it out), on a long page
    written by hand."""
    with visit(browser, sample_site.url + "staff/") as (page, log):
        drawer = page.locator(".md-sidebar--primary")
        page.locator('label.md-header__button[for="__drawer"]').click()
        expect(drawer).to_be_in_viewport()
        toc = page.locator(".md-sidebar--primary label.md-nav__link[for='__toc']")
        if toc.count():  # (the page's own entry opens its table of contents)
            toc.first.click()
        link = page.locator(".md-sidebar--primary .md-nav--secondary a[href^='#']").last  # (below the screen)
        target = link.get_attribute("href")
        link.click()
        expect(drawer).not_to_be_in_viewport()
        page.wait_for_url(re.compile(re.escape(target) + "$"))
        expect(page.locator(f'[id="{target[1:]}"]')).to_be_in_viewport()
        assert log.errors == []
    # on a short desktop window, the table of contents keeps to the window and scrolls inside it (its last link
    # reachable without reaching the page's end)
    with visit(browser, sample_site.url + "staff/", size={"viewport": {"width": 1280, "height": 600}}) as (page, log):
        page.mouse.move(640, 300)
        page.mouse.wheel(0, 300)  # (the sidebar then sticks under the header)
        page.wait_for_function("window.scrollY >= 300")
        toc = page.locator(".md-sidebar--secondary .md-sidebar__scrollwrap")
        box = toc.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 600
        assert toc.evaluate("e => e.scrollHeight > e.clientHeight")  # (a long table: this page's)
        toc.evaluate("e => { e.scrollTop = e.scrollHeight; }")
        expect(toc.locator("a").last).to_be_in_viewport()


# --- d. the page re-checks the status against today's date in China ---


@pytest.fixture(scope="module")
def december_site(tmp_path_factory) -> Iterator[Served]:
    """The sample site as it was built on 2025-12-01 (no PDFs), served."""
    out = tmp_path_factory.mktemp("browser-december") / "site"
    build_site(ROOT / "mkdocs.yml", out, dt.date(2025, 12, 1), pdfs=False)
    with serve(out) as url:
        yield Served(out, url)


@pytest.mark.parametrize("now, timezone, today", [
    ("2026-01-15T12:00:00+08:00", "Asia/Shanghai", "2026-01-15"),
    # the date that counts is China's, whatever the phone's time zone: 2025-12-31 in Los Angeles and in UTC
    ("2025-12-31T16:30:00Z", "America/Los_Angeles", "2026-01-01"),
    ("2025-12-31T15:30:00Z", "America/Los_Angeles", "2025-12-31"),
])
def test_the_page_rechecks_the_status_against_todays_date(browser, december_site, now, timezone, today):
    number = "CEC-ZCF-2025-0001"
    built_on = dt.date(2025, 12, 1)
    h = check_registry(REGISTRY, built_on).histories[number]
    assert h.status_on(built_on) == "valid" and h.cert.valid_until == dt.date(2025, 12, 31)
    status = h.status_on(dt.date.fromisoformat(today))  # what the records say on China's date
    t = strings()["zh"]
    url = f"{december_site.url}certificates/{number}/?v=1"
    with visit(browser, url, now=now, timezone=timezone) as (page, log):
        assert page.evaluate("Date.now()") == dt.datetime.fromisoformat(now).timestamp() * 1000
        expect(page.locator("#cr-status-word")).to_have_text(WORDS["zh"][status])
        expect(page.locator("#cr-status")).to_have_attribute("data-status", status)
        expect(page.locator("#cr-status")).to_have_class(f"cr-status cr-status--{status}")
        when = page.locator("#cr-status-when")
        expect(when).to_be_visible()
        expect(when).to_have_text(fmt(t["checked_in_browser"], today=today, date=built_on.isoformat()))
        expect(page.locator("#cr-use")).to_have_text(use_text("zh", status, h.cert.scheme.key))
        note = page.locator("#cr-status-note")
        if status == "expired":
            expect(note).to_be_visible()
            expect(note).to_have_text(fmt(t["expired_by_date"], date="2025-12-31"))
        else:
            expect(note).to_be_hidden()
        assert log.errors == []
    with visit(browser, url, js=False) as (page, log):
        expect(page.locator("#cr-status-word")).to_have_text(WORDS["zh"]["valid"])
        expect(page.locator("#cr-status")).to_have_attribute("data-status", "valid")
        expect(page.locator("#cr-status-when")).to_have_text(fmt(t["computed_on"], date="2025-12-01"))
        expect(page.locator("#cr-use")).to_have_text(use_text("zh", "valid", h.cert.scheme.key))


def test_the_page_says_when_a_suspension_has_outlived_its_limit(browser, builder, tmp_path):
    """ZWL-7.4: suspended on 2025-03-03, at most until 2025-09-03; a page built before that, opened after it."""
    number = builder.zwl("CEC-ZWL-2024-0001")
    builder.decide(number, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    out = tmp_path / "site"
    build_site(ROOT / "mkdocs.yml", out, dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    t = strings()["zh"]
    with serve(out) as base:
        url = f"{base}certificates/{number}/?v=1"
        with visit(browser, url, now="2025-09-04T12:00:00+08:00") as (page, log):
            expect(page.locator("#cr-status")).to_have_attribute("data-status", "suspended")
            expect(page.locator("#cr-status-note")).to_have_text(fmt(t["suspension_overdue"], date="2025-09-03"))
            expect(page.locator("#cr-use")).to_have_text(use_text("zh", "suspended", "zero-waste-low-carbon-water"))
            assert log.errors == []
        with visit(browser, url, now="2025-09-03T12:00:00+08:00") as (page, log):  # its last day: not yet
            expect(page.locator("#cr-status")).to_have_attribute("data-status", "suspended")
            expect(page.locator("#cr-status-note")).to_be_hidden()
        with visit(browser, url, now="2027-10-08T12:00:00+08:00") as (page, log):  # and expiry comes first
            expect(page.locator("#cr-status")).to_have_attribute("data-status", "expired")
            expect(page.locator("#cr-status-since")).to_be_hidden()


def test_a_clock_behind_the_build_changes_nothing(browser, sample_site):
    url = f"{sample_site.url}certificates/{BY_STATUS['valid']}/"
    with visit(browser, url, now="2026-01-01T12:00:00+08:00") as (page, log):
        expect(page.locator("#cr-status")).to_have_attribute("data-status", "valid")
        expect(page.locator("#cr-status-when")).to_contain_text(SAMPLE_AS_OF.isoformat())
        assert log.errors == []


# --- e. the look-up on the home page ---


def unique_fragment(rows: list[list[str]], number: str) -> str:
    """A 2-4 character piece of ``number``'s product name (Chinese only) that no other certificate's number,
    holder or product contains."""
    product = next(r[3] for r in rows if r[0] == number)
    others = [" ".join(r[k].lower() for k in (0, 2, 3)) for r in rows if r[0] != number]
    for size in (2, 3, 4):
        for i in range(len(product) - size + 1):
            piece = product[i:i + size]
            if all("\u4e00" <= ch <= "\u9fff" for ch in piece) and not any(piece.lower() in o for o in others):
                return piece
    raise AssertionError(f"no piece of {product!r} names {number} alone")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_lookup_finds_a_certificate_by_a_piece_of_its_product_name(browser, sample_site, lang):
    number = "CEC-ZWL-2025-0003"
    lookup = json.loads((sample_site.out / "data" / "lookup.json").read_text(encoding="utf-8"))
    assert lookup["fields"] == ["number", "status", "holder", "product", "valid_until"]
    piece = unique_fragment(lookup["rows"], number)
    home = sample_site.url + ("en/" if lang == "en" else "")
    with visit(browser, home) as (page, log):
        assert log.errors == []  # the look-up's script started
        box = page.locator("#cr-lookup")
        expect(box).to_be_visible()
        box.press_sequentially(piece)
        results = page.locator("#cr-lookup-results")
        links = results.locator("a")
        expect(links).to_have_count(1)
        expect(links).to_have_text(number)
        assert links.evaluate("a => a.href") == f"{home}certificates/{number}/"
        links.click()
        page.wait_for_url(f"{home}certificates/{number}/")
        expect(page.locator("#cr-status-word")).to_have_text(WORDS[lang]["valid"])
        page.go_back()
        box = page.locator("#cr-lookup")
        box.fill("")
        box.press_sequentially("并无此证书zz")
        expect(results.locator("li")).to_have_count(1)
        expect(results.locator("li")).to_have_text(strings()[lang]["lookup_none"])
        expect(results.locator("a")).to_have_count(0)
        assert log.errors == []


def lookup_numbers(page: Page, query: str) -> list[str]:
    """The numbers the home page's look-up lists for ``query``, typed afresh."""
    box = page.locator("#cr-lookup")
    box.fill("")
    box.press_sequentially(query)
    results = page.locator("#cr-lookup-results")
    expect(results.locator("li").first).not_to_have_text(strings()["zh"]["lookup_loading"])
    return sorted(results.locator("a").all_inner_texts())


# What a person types, and the certificates of the sample registry it must find: a number typed in full-width
# characters or with spaces (and an ideographic space), a credit code in lower case, a client that is not the
# holder, a production site's name and its address (another than the holder's).
LOOKUPS = {
    "ＣＥＣ－ＺＷＬ－２０２５－０００３": ["CEC-ZWL-2025-0003"],
    "cec zwl 2025\u30000003": ["CEC-ZWL-2025-0003"],
    "CEC—ZWL – 2025‐0003": ["CEC-ZWL-2025-0003"],
    "91330603723615842p": ["CEC-ZCF-2025-0001", "CEC-ZCF-2026-0001"],
    "９１３３０６０３ ７２３６１５８４２Ｐ": ["CEC-ZCF-2025-0001", "CEC-ZCF-2026-0001"],
    "青岛海纳节能服务": ["CEC-ZWL-2025-0001"],
    "黄岛酿造厂": ["CEC-ZWL-2025-0001"],
    "岑河镇食品工业园": ["CEC-ZWL-2025-0004"],
    "苏州“清源”水务": ["CEC-ZWL-2025-0003"],
}


def test_the_lookup_finds_by_any_public_name_and_a_number_however_typed(browser, sample_site):
    with visit(browser, sample_site.url) as (page, log):
        found = {query: lookup_numbers(page, query) for query in LOOKUPS}
        assert found == LOOKUPS
        assert log.errors == []


def test_the_lookup_fetches_nothing_of_its_index_until_something_is_typed(browser, sample_site):
    with visit(browser, sample_site.url) as (page, log):
        page.wait_for_load_state("networkidle")
        assert not [u for u in log.requests if "/data/lookup" in u]
        assert lookup_numbers(page, "CEC-ZWL-2025-0003") == ["CEC-ZWL-2025-0003"]
        fetched = [u.removeprefix(sample_site.url) for u in log.requests if "/data/lookup" in u]
        assert "data/lookup/index.json" in fetched and "data/lookup.json" not in fetched
        shards = [u for u in fetched if u != "data/lookup/index.json"]
        assert shards and all(u.startswith(("data/lookup/g/", "data/lookup/r/")) for u in shards)


@pytest.fixture
def english_site(builder, tmp_path) -> Iterator[tuple[Served, str, str]]:
    """A registry of two certificates, one of a holder with an English name."""
    english = builder.zwl(manufacturer={"name": "ACME Water Technology Co., Ltd.", "address": "1 Harbour Road"})
    other = builder.zwl("CEC-ZWL-2024-0002", manufacturer={"name": "其他水务有限公司", "address": "江苏省南京市 2 号"})
    out = tmp_path / "site"
    build_site(ROOT / "mkdocs.yml", out, dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    with serve(out) as url:
        yield Served(out, url), english, other


def test_the_lookup_finds_an_english_name_in_any_case(browser, english_site):
    served, english, other = english_site
    with visit(browser, served.url, now="2025-06-30T12:00:00+08:00") as (page, log):
        assert lookup_numbers(page, "acme WATER technology") == [english]
        assert lookup_numbers(page, "ａｃｍｅ　water") == [english]
        assert lookup_numbers(page, "Co Ltd") == [english]
        expect(page.locator("#cr-lookup-results")).to_contain_text("ACME Water Technology Co., Ltd.")
        expect(page.locator("#cr-lookup-results")).to_contain_text(strings()["zh"]["valid_until"] + " 2027-10-07")
        assert lookup_numbers(page, "ac") == []  # too short: the page asks for more
        expect(page.locator("#cr-lookup-results li")).to_have_text(strings()["zh"]["lookup_short"])
        assert log.errors == []


# Tricky inputs for the look-up's normalisation, which Python (the index) and JavaScript (the query) must agree on.
NORMALISE = ["ＣＥＣ－ＺＷＬ－２０２５－０００１", "CEC ‐ ZWL ‑ 2025 – 0001 — x", "ー－―−",
             "“清源”‘水务’「环境」『科技』〝x〞",
             "海盐·禾丰・纸业･有限", "a\u3000b\u00a0c\u2003d\te\nf", "ＡＢＣ ａｂｃ Straße İstanbul ΣΑΣ",
             "（集团）【有限】公司，。、；：！？", "𠮷香园 䶮晟", "①②③ ㈱ ㎡ ｶﾞ ﬁ", "\u200b\u200d\ufeff零宽", "Ⅻ ⅻ ½",
             "<img src=x onerror=alert(1)>&amp;", "91330603723615842p", "=HYPERLINK(\"http://127.0.0.1:9\")"]


def test_python_and_javascript_normalise_grams_and_hash_alike(browser, sample_site):
    from certreg.publish import lookup

    with visit(browser, sample_site.url) as (page, log):
        meta = json.loads((sample_site.out / "data" / "lookup" / "index.json").read_text(encoding="utf-8"))
        js = page.evaluate("""([texts, meta]) => texts.map(t => {
            const q = window.certregLookup.norm(t, meta.extra_dropped), gs = window.certregLookup.grams(q, meta);
            return [q, gs, window.certregLookup.chosen(gs, 3), gs.map(window.certregLookup.hash)];
        })""", [NORMALISE, meta])
        py = []
        for text in NORMALISE:
            q = lookup.normalise(text)
            gs = lookup.query_grams(q)
            py.append([q, gs, lookup.chosen(gs, 3), [lookup.fnv1a(g) for g in gs]])
        assert js == py
        assert log.errors == []


# --- f. hostile record text stays text ---

HOSTILE = {
    "product_name": '<img src=x onerror="document.title=\'pwned\'">',
    "specification": "</script><script>document.title='pwned'</script>",
    "manufacturer": {"name": '=HYPERLINK("http://127.0.0.1:9")&"测试化工有限公司"',
                     "address": "江苏省南京市江北新区 1 号"},
}
# records every value given to document.title, before any script of the page runs
WATCH_TITLE = """(() => {
  window.__titles = [];
  const d = Object.getOwnPropertyDescriptor(Document.prototype, "title");
  Object.defineProperty(Document.prototype, "title", {configurable: true, get: d.get,
    set(v) { window.__titles.push(String(v)); d.set.call(this, v); }});
})();"""


@pytest.fixture
def hostile_site(builder, tmp_path) -> Iterator[tuple[Served, str]]:
    number = builder.zwl(**HOSTILE)
    on = dt.date(2025, 6, 30)  # the builder's certificate is valid from 2024-10-08 for three years
    assert check_registry(builder.root, on).histories[number].status_on(on) == "valid"
    out = tmp_path / "site"
    build_site(ROOT / "mkdocs.yml", out, on, pdfs=False, registry=builder.root)
    with serve(out) as url:
        yield Served(out, url), number


# The WCAG contrast of an element's text on what is behind it: its colour and the first opaque background of it
# or an element around it, each with its alpha laid over the one behind (the footer's greys are translucent)
CONTRAST = """e => {
  const rgba = c => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
  const layers = [];
  for (let n = e; n; n = n.parentElement) {
    const b = rgba(getComputedStyle(n).backgroundColor);
    if (b[3] > 0) layers.push(b);
    if (b[3] === 1) break;
  }
  let ground = [255, 255, 255];
  for (const b of layers.reverse()) ground = over(b, ground);
  const fg = over(rgba(getComputedStyle(e).color), ground);
  const lum = c => {
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(fg), lum(ground)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.mark.parametrize("path", ["", "en/certificates/CEC-ZWL-2025-0001/"])
def test_the_footer_is_legible_and_its_links_are_underlined(browser, sample_site, checked, path):
    """Every page's footer (the copyright, how to reach CEC, the ICP filing) at phone size: its text at least 4.5:1
    on its ground (WCAG AA), and its links underlined, told from the text by more than colour."""
    settings = checked.registry.settings
    with visit(browser, sample_site.url + path) as (page, log):
        footer = page.locator(".cr-footer")
        footer.scroll_into_view_if_needed()
        expect(footer).to_be_visible()
        expect(footer.locator('a[href="https://beian.miit.gov.cn/"]')).to_have_text(settings["icp_filing"])
        expect(footer.locator(f'a[href="mailto:{settings["enquiries"]["email"]}"]')).to_be_visible()
        for part in [*footer.locator("p").all(), *footer.locator("a").all()]:
            ratio = part.evaluate(CONTRAST)
            assert ratio >= 4.5, (part.inner_text(), ratio)
        for link in footer.locator("a").all():
            assert "underline" in link.evaluate("e => getComputedStyle(e).textDecorationLine"), link.inner_text()
        assert log.errors == []


def test_the_counts_by_scheme_and_status_fit_a_phone(browser, sample_site):
    """The certificates page's counts at 390 px: no number breaks inside, and a scheme's name is one line (it was a
    table of seven columns, "16" broken as 1/6 and names two characters a line)."""
    with visit(browser, sample_site.url + "certificates/") as (page, log):
        grid = page.locator("table.cr-grid")
        expect(grid).to_be_visible()
        line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.cr-grid tbody th')).lineHeight)")
        for name in grid.locator("tbody th").all():
            assert name.bounding_box()["height"] < 1.5 * line, name.inner_text()
        for cell in grid.locator("tbody td a").all():
            box = cell.bounding_box()
            assert box["height"] < 1.5 * line and box["x"] + box["width"] <= PHONE["viewport"]["width"], \
                cell.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def assert_nothing_ran(page: Page, log: Log) -> None:
    page.wait_for_load_state("networkidle")
    assert page.locator('img[src="x"]').count() == 0
    assert page.title() != "pwned"
    assert "pwned" not in page.evaluate("window.__titles")
    assert log.errors == []
    assert not [u for u in log.requests if u.split("?")[0].endswith("/x") or u.startswith(f"{LOCAL}9/")]


def test_hostile_text_on_the_verification_page_is_shown_as_text(browser, hostile_site):
    served, number = hostile_site
    with visit(browser, f"{served.url}certificates/{number}/?v=1", now="2025-06-30T12:00:00+08:00",
               init_script=WATCH_TITLE) as (page, log):
        expect(page.locator("#cr-status")).to_have_attribute("data-status", "valid")
        expect(page.locator("#cr-status-word")).to_have_text(WORDS["zh"]["valid"])
        text = page.locator("article").inner_text()
        for value in (HOSTILE["product_name"], HOSTILE["specification"], HOSTILE["manufacturer"]["name"]):
            assert value in text, value
        assert_nothing_ran(page, log)

    rows = list(csv.DictReader(io.StringIO((served.out / "data" / "certificates.csv").read_text(encoding="utf-8-sig"))))
    assert [r["number"] for r in rows] == [number]
    assert rows[0]["holder"].startswith("'=HYPERLINK")
    assert rows[0]["holder"] == "'" + HOSTILE["manufacturer"]["name"]
    feed = ET.parse(served.out / "feeds" / "announcements.atom").getroot()
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"


def test_hostile_text_in_the_lookup_is_shown_as_text(browser, hostile_site):
    served, number = hostile_site
    with visit(browser, served.url, now="2025-06-30T12:00:00+08:00", init_script=WATCH_TITLE) as (page, log):
        assert log.errors == []  # the look-up's script started
        page.locator("#cr-lookup").press_sequentially("onerror")
        results = page.locator("#cr-lookup-results")
        expect(results.locator("a")).to_have_count(1)
        expect(results.locator("a")).to_have_text(number)
        assert HOSTILE["product_name"] in results.inner_text()
        assert HOSTILE["manufacturer"]["name"] in results.inner_text()
        assert_nothing_ran(page, log)


# --- g. the pages at phone and desktop sizes, against reference screenshots ---

SCREENSHOTS = Path(__file__).resolve().parent / "reference" / "screenshots"
REFRESH_SCREENSHOTS = ".venv/bin/python -m pytest -q tests/test_site_browser.py -k screenshots --refresh-goldens"
# The tolerance of a screenshot (see test_screenshots_show_the_page for the figures it was chosen from): both
# images at CSS pixels, blurred by SHOT_BLUR px; a pixel differs when a channel differs by more than SHOT_LEVEL
# (of 255); the page differs when more than SHOT_SHARE of its pixels do.
SHOT_BLUR = 1
SHOT_LEVEL = 32
SHOT_SHARE = 0.0001  # 0.01 %: 33 pixels of a phone's 390×844, 115 of a desktop's 1280×900
# Hidden from screenshots: the look-up's placeholder, which Chromium sets 1 CSS pixel higher or lower from one load
# of the home page to the next (3 loads in 25 at a phone's size, after another page; a steady state of the page,
# which no waiting or new layout of the box changes: 0.071 % of the pixels). Its words are checked as text.
SHOT_STYLE = "#cr-lookup::placeholder { color: transparent !important; }"
SCREENS = [("phone", PHONE), ("desktop", DESKTOP)]
SHOT_PAGES = [("valid", f"certificates/{BY_STATUS['valid']}/?v=1"),
              ("suspended", f"certificates/{BY_STATUS['suspended']}/?v=1"),
              ("home", "")]


def screenshot(page: Page, size: dict) -> Image.Image:
    """What ``page`` shows on the screen, once nothing is left to change: loaded, the fonts ready (the reader's
    own: the site has no web font), CSS animations and transitions run to their end, no caret, SHOT_STYLE
    applied; the viewport only (``size``: device pixels). Its clock is pinned by ``visit``, so the script's
    recheck of the status gives the same date in every run."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.fonts.ready.then(() => document.fonts.status)") == "loaded"
    image = Image.open(io.BytesIO(page.screenshot(full_page=False, animations="disabled", caret="hide",
                                                   style=SHOT_STYLE)))
    scale = size.get("device_scale_factor", 1)
    assert image.format == "PNG"
    assert image.size == (size["viewport"]["width"] * scale, size["viewport"]["height"] * scale)
    return image


def at_css_pixels(image: Image.Image, size: dict) -> Image.Image:
    """``image`` (device pixels) in RGB at CSS pixels: a phone's 2×2 device pixels averaged into one."""
    return image.convert("RGB").reduce(size.get("device_scale_factor", 1))


def write_reference(image: Image.Image, path: Path) -> None:
    """``image`` stored small: 256 colours (a palette chosen by median cut, no dithering), PNG. Storing it so
    changes no pixel by more than 22 of 255 once blurred (measured on the six references): less than SHOT_LEVEL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def differing(actual: Image.Image, reference: Image.Image) -> Image.Image:
    """The pixels (255) where ``actual`` and ``reference`` (same size, CSS pixels), each blurred by SHOT_BLUR,
    differ by more than SHOT_LEVEL in some channel."""
    blurred = [i.convert("RGB").filter(ImageFilter.GaussianBlur(SHOT_BLUR)) for i in (actual, reference)]
    red, green, blue = ImageChops.difference(*blurred).split()
    return ImageChops.lighter(ImageChops.lighter(red, green), blue).point(lambda v: 255 if v > SHOT_LEVEL else 0)


def share_differing(mask: Image.Image) -> float:
    return mask.histogram()[255] / (mask.width * mask.height)


def diff_image(actual: Image.Image, mask: Image.Image) -> Image.Image:
    """``actual`` faded to grey, with the pixels that differ from the reference in red."""
    faded = actual.convert("L").point(lambda v: 128 + v // 2).convert("RGB")
    faded.paste((255, 0, 0), mask=mask)
    return faded


SHOT_ENVIRONMENT = SCREENSHOTS / "environment.json"


def shot_environment(browser) -> dict:
    """What draws the screenshots besides the site: Chromium's version and the fonts installed (fc-list), recorded
    beside the references, so that a failure can tell a changed page from a changed machine."""
    fonts = subprocess.run(["fc-list", "--format", "%{file}|%{family}|%{style}\n"], capture_output=True, text=True,
                           check=True).stdout
    return {"chromium": browser.version,
            "fonts_sha256": hashlib.sha256("\n".join(sorted(fonts.splitlines())).encode()).hexdigest()}


def environment_note(browser) -> str:
    """Why a screenshot may differ other than by a change of the site: the machine differs from the references'."""
    try:
        was = json.loads(SHOT_ENVIRONMENT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"(no record of the machine the references were taken on: {SHOT_ENVIRONMENT.name})"
    now = shot_environment(browser)
    changed = [f"{key}: {was.get(key)} → {value}" for key, value in now.items() if was.get(key) != value]
    return ("THE MACHINE DIFFERS from the one the references were taken on (" + "; ".join(changed) + "): the "
            "difference may be Chromium's or the fonts', not the site's" if changed else
            "the machine is the references' (same Chromium, same fonts): the site's pages changed")


def compare_with_reference(shot: Image.Image, size: dict, reference: Path, tmp: Path) -> float:
    """The share of pixels of ``shot`` (device pixels) differing from the reference PNG ``reference``; an
    AssertionError when it is over SHOT_SHARE, which leaves the screenshot and an image of the difference in
    ``tmp`` and names them."""
    actual = at_css_pixels(shot, size)
    assert reference.exists(), (f"no reference screenshot {reference}: make it with `{REFRESH_SCREENSHOTS}`, "
                                "look at it, and commit it")
    with Image.open(reference) as stored:
        assert stored.size == actual.size, f"{reference.name} is {stored.size}, the page {actual.size} CSS pixels"
        mask = differing(actual, stored)
    share = share_differing(mask)
    if share > SHOT_SHARE:
        tmp.mkdir(parents=True, exist_ok=True)
        saved, diff = tmp / f"actual-{reference.name}", tmp / f"diff-{reference.name}"
        shot.save(saved)
        diff_image(actual, mask).save(diff)
        print(f"screenshot: {saved}\ndifference (in red): {diff}\nreference: {reference}")
        raise AssertionError(
            f"the page differs from {reference.name}: {share:.3%} of its pixels (at most {SHOT_SHARE:.3%} may)\n"
            f"  screenshot: {saved}\n  difference (in red): {diff}\n"
            f"if the change is meant, look at the screenshot, then rewrite the references with `{REFRESH_SCREENSHOTS}`")
    return share


@pytest.mark.parametrize("size_name, size", SCREENS)
@pytest.mark.parametrize("name, path", SHOT_PAGES)
def test_screenshots_show_the_page(browser, sample_site, tmp_path, refresh_goldens, size_name, size, name, path):
    """The valid, the suspended and the home page of the sample site, at the top, at a phone's 390×844 and a
    desktop's 1280×900, look like their reference screenshots (tests/reference/screenshots: 256-colour PNGs at
    CSS pixels, 215,312 bytes for the six), within the tolerance of SHOT_BLUR, SHOT_LEVEL and SHOT_SHARE. With
    --refresh-goldens, the screenshots are written as the references instead.

    The tolerance lies between these shares of pixels differing, measured over the six pages (Chromium 156):

    noise, which passes:
      two runs, each in a Chromium of its own (the screenshots are byte-identical)     0 %
      a screenshot against itself stored as a reference (no channel off by over 22)   0 %
      (the look-up's placeholder 1 px off, in 3 loads of the home page in 25:          0.071 %,
      hidden from the screenshots by SHOT_STYLE: none in 90 loads since)
    a broken page, which fails:
      a line of text changed (three characters added to a field or the title)         0.023 to 0.217 %
      one character of the status word changed (证书有效 → 证书无效)                  0.046 to 0.355 %
      the status box of another colour (revoked's red)                                5.6 to 24.1 %
      the status box hidden                                                           5.7 to 27.9 %
      no CSS                                                                          39 to 57 %
      the clock at 2027-03-01, not pinned at SAMPLE_NOON (the status rechecked)        0.77 to 16.6 %
    either way:
      one digit of the small "状态依据 2026-11-21" changed                             0.003 to 0.011 %
      text set without subpixel positioning (as another Chromium may set it)         0.005 to 0.059 % phone,
                                                                                      0.75 to 1.35 % desktop

    The status colours differ by 52 to 136 of 255 in a channel, but by 4 to 20 in grey: greyscale references
    would miss a status of the wrong colour. After a new Chromium or new fonts, the desktop pages fail: look at
    the screenshots the failures name, then refresh the references."""
    with visit(browser, sample_site.url + path, size=size) as (page, log):
        page.wait_for_load_state("networkidle")
        if name != "home":
            expect(page.locator("#cr-status")).to_have_attribute("data-status", name)
            expect(page.locator("#cr-status")).to_be_in_viewport()
        else:  # (its placeholder is hidden from the screenshot: SHOT_STYLE)
            expect(page.locator("#cr-lookup")).to_have_attribute("placeholder", strings()["zh"]["lookup_placeholder"])
        # nothing wider than the screen: no sideways scrolling on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= size["viewport"]["width"]
        assert page.evaluate("Date.now()") == dt.datetime.fromisoformat(SAMPLE_NOON).timestamp() * 1000
        shot = screenshot(page, size)
        assert log.errors == []
    colours = shot.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 16, f"the {size_name} {name} page is nearly blank: {len(colours)} colours"
    reference = SCREENSHOTS / f"{size_name}-{name}.png"
    if refresh_goldens:
        write_reference(at_css_pixels(shot, size), reference)
        SHOT_ENVIRONMENT.write_text(json.dumps(shot_environment(browser), indent=1) + "\n", encoding="utf-8")
        return
    try:
        compare_with_reference(shot, size, reference, tmp_path)
    except AssertionError as failed:
        raise AssertionError(f"{failed}\n{environment_note(browser)}") from None


BROKEN = {  # name: a script that breaks the valid page visibly, and one that mends it
    "status of another colour": (
        "document.head.insertAdjacentHTML('beforeend', "
        "'<style id=x>.cr-status--valid { background: #8a5a00; }</style>')",
        "document.getElementById('x').remove()"),
    "status hidden": ("document.getElementById('cr-status').style.visibility = 'hidden'",
                      "document.getElementById('cr-status').style.visibility = ''"),
    "a line of text changed": (
        "(td => { td.dataset.was = td.textContent; td.textContent += '（改）'; })"
        "(document.querySelector('.cr-facts td'))",
        "(td => { td.textContent = td.dataset.was; })(document.querySelector('.cr-facts td'))"),
}
NO_CSS = "document.querySelectorAll('link[rel=stylesheet]').forEach(l => l.remove())"


def test_a_broken_page_differs_from_its_screenshot(browser, sample_site, tmp_path):
    """The comparison sees a broken page: the valid page at a phone's size, taken as a reference (stored as the
    references are), differs from it once broken in each way of BROKEN, or without its CSS; mended, it does not.
    Each failure leaves the screenshot and the image of the difference in the tmp folder, and names them."""
    reference = tmp_path / "reference.png"

    def fails(how: str) -> None:
        kept = tmp_path / how.replace(" ", "-")
        with pytest.raises(AssertionError, match="the page differs from reference.png") as failed:
            compare_with_reference(screenshot(page, PHONE), PHONE, reference, kept)
        assert f"difference (in red): {kept / 'diff-reference.png'}" in str(failed.value), how
        assert (kept / "diff-reference.png").exists() and (kept / "actual-reference.png").exists(), how

    with visit(browser, sample_site.url + SHOT_PAGES[0][1]) as (page, log):
        write_reference(at_css_pixels(screenshot(page, PHONE), PHONE), reference)
        assert compare_with_reference(screenshot(page, PHONE), PHONE, reference, tmp_path) == 0
        for how, (breaking, mending) in BROKEN.items():
            page.evaluate(breaking)
            fails(how)
            page.evaluate(mending)
        assert compare_with_reference(screenshot(page, PHONE), PHONE, reference, tmp_path) == 0  # (mended)
        page.evaluate(NO_CSS)
        fails("no CSS")
        assert log.errors == []
