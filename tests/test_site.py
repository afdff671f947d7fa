"""The public site as built files: strict build, no broken link or anchor, open data that agrees with the
records, numbered announcements, feeds, nothing private, hostile text escaped everywhere, and a failed
build that leaves the published site alone. (tests/test_site_browser.py reads the pages in Chromium.)"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from array import array
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from certreg.publish import site as S
from certreg.publish.build import BuildError, build_site
from certreg.publish.public import publish
from certreg.records.model import texts
from certreg.rules.validate import check_registry
from conftest import REGISTRY, ROOT, SAMPLE_AS_OF, site_config

BASE_URL = "https://registry.cec-certification.example/"
CONFIG = ROOT / "mkdocs.yml"
ATOM = "{http://www.w3.org/2005/Atom}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "link" and a.get("rel") in ("canonical", "alternate") and a.get("href", "").startswith("http"):
            self.links.append(a["href"])
        elif tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("img", "script") and a.get("src"):
            self.links.append(a["src"])


def parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def broken_links(site: Path, base_url: str) -> list[str]:
    """Every internal link or anchor of every page that leads nowhere."""
    pages = {p: parse(p) for p in site.rglob("*.html")}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme in ("mailto", "data", "javascript"):
                continue
            if parts.scheme:
                if not link.startswith(base_url):
                    continue
                target = site / unquote(parts.path[len(urlsplit(base_url).path):])
            elif parts.path.startswith("/"):  # (the 404 page's links start at the site's root)
                target = site / unquote(parts.path[len(urlsplit(base_url).path):])
            elif parts.path:
                target = (page.parent / unquote(parts.path)).resolve()
            else:
                target = page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if parts.fragment not in ids:
                    broken.append(f"{page.relative_to(site)}: {link} (no anchor)")
    return broken


def test_the_sample_site_builds_strictly_with_no_broken_link_or_anchor(built):
    assert (built / "index.html").exists() and (built / "en" / "index.html").exists()
    pages = list(built.rglob("*.html"))
    assert len(pages) > 60
    assert broken_links(built, BASE_URL) == []
    assert not list(built.rglob(f"*{S.SHELL}*"))  # the shell pages are gone, from the sitemap too
    assert S.SHELL not in (built / "sitemap.xml").read_text(encoding="utf-8")


class _Head(HTMLParser):
    """A page's <html> lang and what its <head> says: meta names and properties, and its links (rel, attributes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang, self.meta, self.links, self._in_head = None, {}, [], True

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "body":
            self._in_head = False
        elif self._in_head and tag == "meta" and (a.get("name") or a.get("property") or a.get("http-equiv")):
            self.meta[a.get("name") or a.get("property") or a.get("http-equiv")] = a.get("content")
        elif self._in_head and tag == "link":
            self.links.append(a)


def head_of(page: Path) -> _Head:
    parser = _Head()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_every_page_says_what_it_is_to_search_engines_share_cards_and_feed_readers(built):
    data = json.loads((built / "data" / "certificates.json").read_text(encoding="utf-8"))
    pages = sorted(built.rglob("*.html"))
    assert len(pages) > 60
    for page in pages:
        rel = page.relative_to(built).as_posix()
        head = head_of(page)
        assert head.lang == ("en" if rel.startswith("en/") else "zh-CN"), rel
        text = page.read_text(encoding="utf-8")  # (what no page uses: overrides/main.html, mkdocs.yml)
        assert "javascripts/bundle." not in text and "/palette." not in text and "__config" not in text, rel
        description = head.meta.get("description")
        assert description and "CERTREG" not in description and "{" not in description, rel
        # a share card (WeChat reads Open Graph): a title, the page's description, an absolute image the site has
        assert head.meta.get("og:title") and "CERTREG" not in head.meta["og:title"], rel
        assert head.meta.get("og:description") == description, rel
        image = head.meta.get("og:image", "")
        assert image.startswith(BASE_URL) and (built / image[len(BASE_URL):]).is_file(), rel
        if rel != "404.html":  # (served at any address: it names none)
            assert head.meta.get("og:url", "").startswith(BASE_URL), rel
        icons = [link["href"] for link in head.links if link.get("rel") == "icon"]
        if icons:  # (every page but a current version's address, which leads on at once)
            icon = built / icons[0][1:] if icons[0].startswith("/") else page.parent / icons[0]  # (404: absolute)
            assert icon.resolve().is_file() and icons[0].endswith(".png"), rel
        feeds = [link["href"] for link in head.links if link.get("type") == "application/atom+xml"]
        if "refresh" not in head.meta and "noindex" not in str(head.meta.get("robots")):
            assert icons and feeds and feeds[0] == BASE_URL + "feeds/announcements.atom", rel
    # a certificate's pages point a feed reader to its own feed as well, and say whose certificate of what it is
    for c in data["certificates"]:
        for lang in ("", "en/"):
            head = head_of(built / lang / "certificates" / c["number"] / "index.html")
            feeds = [link["href"] for link in head.links if link.get("type") == "application/atom+xml"]
            assert feeds == [BASE_URL + "feeds/announcements.atom", c["url"] + "feed.atom"]
            assert (built / "certificates" / c["number"] / "feed.atom").is_file()
            for said in (c["number"], c["holder"], c["product"]):
                assert said in head.meta["description"], (c["number"], lang)
    # each page written by hand has a description of its own (its front matter), in its language, and its title
    # names the site in that language alone
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    hand_written = [p for p in pages if p.name == "index.html" and not re.match(
        r"(en/)?(certificates/C|lists/|announcements/2)", p.relative_to(built).as_posix())]
    assert len(hand_written) >= 22
    said = {}
    for page in hand_written:
        rel = page.relative_to(built).as_posix()
        english = rel.startswith("en/")
        description = head_of(page).meta["description"]
        assert description != config["site_description"], rel
        assert bool(re.search(r"[\u4e00-\u9fff]", description)) != english, rel
        assert said.setdefault(description, rel) == rel, (rel, said[description])
        title = re.search(r"<title>([^<]*)</title>", page.read_text(encoding="utf-8")).group(1)
        assert title.endswith(config["extra"]["short_title"]["en" if english else "zh"]), rel
        assert config["extra"]["short_title"]["zh" if english else "en"] not in title, rel
    # the 404 page names no address of its own
    not_found = head_of(built / "404.html")
    assert not [link for link in not_found.links if link.get("rel") in ("canonical",) or link.get("hreflang")]
    assert "og:url" not in not_found.meta
    assert (built / "favicon.ico").read_bytes()[:4] == b"\0\0\1\0"  # (an icon, for what asks the host's root)


def test_robots_txt_names_both_sitemaps_and_they_date_each_page_by_its_records(built):
    from certreg.publish.public import publish

    robots = (built / "robots.txt").read_text(encoding="utf-8").splitlines()
    sitemaps = [line.split(": ", 1)[1] for line in robots if line.startswith("Sitemap: ")]
    assert sitemaps == [BASE_URL + "sitemap.xml", BASE_URL + "en/sitemap.xml"]
    assert "User-agent: *" in robots and not [line for line in robots if line.startswith("Disallow: /")]
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    dated = {}
    for url in sitemaps:
        tree = ET.parse(built / url[len(BASE_URL):])
        for entry in tree.getroot().findall("s:url", ns):
            when = entry.find("s:lastmod", ns)
            dated[entry.find("s:loc", ns).text] = when.text if when is not None else None
    assert len(dated) > 60
    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    site = S.Site(publish(checked, BASE_URL), schemes=checked.registry.schemes)
    for c in site.pub.certificates:
        when = site.last_change(c)
        # its latest event, or the issue of a certificate that follows it, which its page names
        assert when >= max(e["date"] for e in c["timeline"])
        assert all(when >= site.by_number[n]["issued"] for n in c.get("followed_by") or ())
        for lang in ("", "en/"):
            assert dated[BASE_URL + lang + "certificates/" + c["number"] + "/"] == when
    assert site.last_change(site.by_number["CEC-ZCF-2025-0001"]) == site.by_number["CEC-ZCF-2026-0001"]["issued"]
    # every list and month page is dated: a list by the latest change of its scheme's certificates, a month by its
    # own latest announcement or its year's newest month's first
    for url, when in dated.items():
        if re.search(r"/(lists|announcements/\d{4}-\d\d)/", url):
            assert when is not None, url
    for scheme in ("zero-carbon-factory", "zero-waste-low-carbon-water"):
        assert dated[f"{BASE_URL}lists/{scheme}-all/"] == site.last_changes[scheme]
    month = [a for a in site.pub.announcements if f"{a.date:%Y-%m}" == "2026-09"]
    newest = min(a.date for a in site.pub.announcements if f"{a.date:%Y-%m}" == "2026-10").isoformat()
    assert dated[BASE_URL + "announcements/2026-09/"] == max(max(a.date for a in month).isoformat(), newest)
    latest = site.last_changes["all"]
    assert dated[BASE_URL] == dated[BASE_URL + "en/"] == latest  # (the home pages show the latest announcements)
    assert all(when is None or dt.date.fromisoformat(when) <= SAMPLE_AS_OF for when in dated.values())
    assert dated[BASE_URL + "about/"] is None  # (a page written by hand: no record dates it)


def test_every_version_of_every_certificate_has_the_page_its_qr_code_opens(built):
    from certreg.publish.pdf import verification_url

    data = json.loads((built / "data" / "certificates.json").read_text(encoding="utf-8"))
    expected = set()
    for c in data["certificates"]:
        for v in c["versions"]:
            url = verification_url(BASE_URL, c["number"], v["version"])
            assert url.startswith(BASE_URL) and url.endswith(f"/v{v['version']}/")
            expected |= {f"{lang}{url[len(BASE_URL):]}index.html" for lang in ("", "en/")}
    pages = {p.relative_to(built).as_posix() for p in built.rglob("v*/index.html")
             if re.fullmatch(r"v[0-9]+", p.parent.name)}
    assert pages == expected  # every version's, in both languages, and no page of a version that never was
    assert sum(len(c["versions"]) for c in data["certificates"]) > len(data["certificates"])  # (some have two)


@pytest.mark.parametrize("path, url, absolute, want", [
    # a Chinese page deeper than the shell: every address that climbs to the root climbs one more folder
    ("CERTREG_SHELL/CERTREG_SHELL/", "certificates/N/v1/", None,
     ['"../../.."', '"../../../assets/a.css"', '"./"', '"#top"', '"https://x.example/"', '"../../../en/N/"']),
    # an English one: to the root, and to the root of the English pages (en/)
    ("en/CERTREG_SHELL/CERTREG_SHELL/", "en/certificates/N/v1/", None,
     ['"../../../.."', '"../../../../assets/a.css"', '"./"', '"#top"', '"https://x.example/"', '"../../../list/"']),
    # the 404 page, served at any address: absolute from the site's path on its host
    ("CERTREG_SHELL/CERTREG_SHELL/", "404.html", "/registry/",
     ['"/registry/"', '"/registry/assets/a.css"', '"./"', '"#top"', '"https://x.example/"', '"/registry/en/N/"']),
    ("en/CERTREG_SHELL/CERTREG_SHELL/", "404.html", "/",
     ['"/"', '"/assets/a.css"', '"./"', '"#top"', '"https://x.example/"', '"/en/list/"']),
])
def test_the_theme_shell_holds_at_any_depth_and_at_any_address(path, url, absolute, want):
    depth = path.count("/")
    up = "/".join([".."] * depth)
    up_lang = "/".join([".."] * (depth - 1))  # (en/'s root, from the English shell)
    last = f'"{up}/en/N/"' if not path.startswith("en/") else f'"{up_lang}/list/"'
    html = (f'<a href="{up}"></a><link href="{up}/assets/a.css"><a href="./"></a><a href="#top"></a>'
            f'<a href="https://x.example/"></a><a href={last}></a><p>{S.SHELL_CONTENT}</p><i>"../x"</i>')
    filled = S.Shell(html, path).fill(url, "T", "<b>C</b>", head=S.Head("D"), absolute=absolute)
    assert re.findall(r'"[^"]*"', filled.split("<b>C</b>")[0]) == want
    assert filled.endswith('<i>"../x"</i>')  # (an address that does not leave the shell's folders is left alone)


def test_every_page_switches_to_the_same_page_in_the_other_language(built):
    switches = re.compile(r'<a href="([^"]*)" hreflang="(zh-CN|en)" lang="\2" class="md-select__link"')
    alternates = re.compile(r'<link rel="alternate" hreflang="([^"]*)" href="([^"]*)">')
    base = BASE_URL
    pages = list(built.rglob("index.html"))  # every page, in both languages
    english = [p for p in pages if p.relative_to(built).parts[0] == "en"]
    assert len(pages) > 60 and 0 < len(english) < len(pages)
    for page in pages:
        rel = page.parent.relative_to(built).as_posix()
        rel = "" if rel == "." else rel + "/"
        zh = rel[3:] if rel.startswith("en/") else rel
        text = page.read_text(encoding="utf-8")
        if '<meta http-equiv="refresh" content="0; url=../?v=' in text:  # (a current version's address: it leads to
            continue  # its certificate's page, which has the switch)
        links = dict((lang[:2], href) for href, lang in switches.findall(text))
        assert sorted(links) == ["en", "zh"], rel
        # and the head names both (hreflang alternates, absolute), the Chinese one as the page for any other language
        want = [("zh-CN", base + zh), ("en", base + "en/" + zh), ("x-default", base + zh)]
        assert alternates.findall(text) == want, rel
        for lang, target in (("zh", zh), ("en", "en/" + zh)):
            resolved = (page.parent / links[lang]).resolve()
            assert resolved == (built / target).resolve(), (rel, lang, links[lang])
            assert (resolved / "index.html").exists(), (rel, lang)


def test_the_link_checker_finds_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text('<a href="a/">x</a><a href="b/">y</a><a href="a/#here">z</a>'
                                         '<a href="#top">t</a><p id="top"></p>', encoding="utf-8")
    (tmp_path / "a" / "index.html").write_text('<a href="../">up</a>', encoding="utf-8")
    assert broken_links(tmp_path, BASE_URL) == ["index.html: b/", "index.html: a/#here (no anchor)"]


def test_every_certificate_has_a_page_in_both_languages_and_its_json_and_pdf(built):
    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    for number, h in checked.histories.items():
        folder = built / "certificates" / number
        page = (folder / "index.html").read_text(encoding="utf-8")
        english = (built / "en" / "certificates" / number / "index.html").read_text(encoding="utf-8")
        status = h.status_on(SAMPLE_AS_OF)
        assert f'data-status="{status}"' in page and f'data-status="{status}"' in english
        assert '<html lang="zh-CN"' in page and '<html lang="en"' in english
        data = json.loads((folder / "certificate.json").read_text(encoding="utf-8"))
        assert data["number"] == number and data["status"] == status
        assert (folder / f"{number}-v{data['version']}.pdf").read_bytes()[:5] == b"%PDF-"
        assert data["url"] == f"{BASE_URL}certificates/{number}/"


def test_the_open_data_of_each_certificate_is_its_view_as_compact_json_whether_kept_or_made():
    """data/certificates.json puts each certificate's view on a line, as compact JSON: from the JSON kept with its
    public part (without followed_by, which the whole registry tells) where there is one, else encoded; the two
    are the same bytes (with certificates that are followed, and ones that are not)."""
    pub = publish(check_registry(REGISTRY, SAMPLE_AS_OF, jobs=1), BASE_URL)
    assert any(v["followed_by"] for v in pub.certificates) and any(not v["followed_by"] for v in pub.certificates)
    assert set(pub.texts) == {v["number"] for v in pub.certificates}
    kept = S.Site(pub, schemes={}).data_makers(None)["data/certificates.json"]()
    pub.texts = {}
    made = S.Site(pub, schemes={}).data_makers(None)["data/certificates.json"]()
    assert kept == made
    from certreg.publish.public import view_json

    assert view_json({"number": "A", "status": "valid"}, b'{"number":"A"}') == b'{"number":"A","status":"valid"}'
    lines = made.decode("utf-8").split("\n")
    for view in pub.certificates:
        assert f"  {json.dumps(view, ensure_ascii=False, separators=(',', ':'))}," in lines or \
            f"  {json.dumps(view, ensure_ascii=False, separators=(',', ':'))}" in lines


def test_the_certificates_page_and_the_home_page_count_what_the_open_data_lists(built):
    """Each cell of the certificates page's table (a scheme, or all, by status) and each count of the home page is
    the number of certificates of the open data with that scheme and status, and links the list of them."""
    from collections import Counter

    from certreg.records.specs import STATUSES

    certs = json.loads((built / "data" / "certificates.json").read_text(encoding="utf-8"))["certificates"]
    by = Counter((c["scheme"], c["status"]) for c in certs)
    html = (built / "certificates" / "index.html").read_text(encoding="utf-8")
    # each cell also names its status, for a phone, where the table is a card per scheme and has no header row
    found = re.findall(r'<a href="(?:\.\./)*lists/([a-z-]+)/"><span class="cr-grid__label">(.*?) </span>(\d+)</a>',
                       html)
    for key, label, _ in found:
        assert label == "全部" if key.endswith("-all") else f"cr-badge--{key.rsplit('-', 1)[1]}" in label, (key, label)
    cells = {key: n for key, _, n in found}
    schemes = {c["scheme"] for c in certs}
    assert len(schemes) >= 2 and len({s for _, s in by}) >= 2
    for scheme in schemes:
        assert cells[f"{scheme}-all"] == str(sum(n for (k, _), n in by.items() if k == scheme))
        for status in STATUSES:
            assert cells[f"{scheme}-{status}"] == str(by[scheme, status]), (scheme, status)
            assert cells[f"all-{status}"] == str(sum(n for (_, s), n in by.items() if s == status))
    assert cells["all-all"] == str(len(certs))
    home = (built / "index.html").read_text(encoding="utf-8").split('class="cr-counts"')[1].split("</p>")[0]
    for status in STATUSES:
        assert re.search(rf'lists/all-{status}/">.*? {sum(n for (_, s), n in by.items() if s == status)}</a>', home)


def test_open_data_agrees_with_the_records(built):
    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    data = json.loads((built / "data" / "certificates.json").read_text(encoding="utf-8"))
    assert data["as_of"] == SAMPLE_AS_OF.isoformat()
    assert {c["number"]: c["status"] for c in data["certificates"]} == {
        n: h.status_on(SAMPLE_AS_OF) for n, h in checked.histories.items()}
    rows = list(csv.DictReader(io.StringIO((built / "data" / "certificates.csv").read_text(encoding="utf-8-sig"))))
    assert [r["number"] for r in rows] == [c["number"] for c in data["certificates"]]
    assert list(rows[0]) == S.CSV_COLUMNS
    for key in ("certificate", "decision", "registry", "scheme"):
        assert (built / "data" / "schemas" / f"{key}.schema.json").read_bytes() == \
            (REGISTRY / "schemas" / f"{key}.schema.json").read_bytes()
    lookup = json.loads((built / "data" / "lookup.json").read_text(encoding="utf-8"))
    # each row is its certificate's fields, by content (not a count of rows)
    assert lookup["rows"] == [[c[k] for k in lookup["fields"]] for c in data["certificates"]]
    assert {"number", "holder", "product", "status"} <= set(lookup["fields"])
    documented = (ROOT / "site_src" / "data.md").read_text(encoding="utf-8")
    for key in {k for c in data["certificates"] for k in c}:
        assert f"`{key}`" in documented, f"the field {key} of certificates.json is not documented on data.md"


PUBLIC_DECISION_FIELDS = {"certificate", "action", "date", "reason", "ground", "outcome", "until", "corrects",
                          "changes"}


def private_texts(checked) -> set[str]:
    """Every text of a private content field, and of every decision field that is not published."""
    found = set()
    for h in checked.histories.values():
        for name, f in h.cert.scheme.fields.items():
            if not f["public"] and name in h.cert.content:
                found |= set(texts(h.cert.content[name]))
        for d in h.cert.decisions:
            for key, value in d.data.items():
                if key not in PUBLIC_DECISION_FIELDS:
                    found |= set(texts(value))
    # (numbers, units and the codes of roles and qualifications, e.g. "expert", also occur in public text)
    return {t for t in found if len(t) >= 2 and not re.fullmatch(r"[\d.,\s:-]+|[A-Za-z]{1,3}|kWh|m³|[a-z-]+", t)}


def test_no_private_value_leaves_the_registry(built):
    private = private_texts(check_registry(REGISTRY, SAMPLE_AS_OF))
    # what the search must include: contact names (three characters), e-mail addresses, the ZWL-A1 data sources
    assert {"孙德明", "王小明", "DCS 蒸汽流量历史数据"} <= private
    assert any(re.fullmatch(r"[a-z.]+@example\.com", t) for t in private)
    for path in built.rglob("*"):
        if path.suffix in (".html", ".json", ".csv", ".atom", ".xml"):
            text = path.read_text(encoding="utf-8")
            leaked = [p for p in private if p in text]
            assert leaked == [], (path, leaked)


def test_the_names_of_private_fields_are_not_published_either(builder, tmp_path):
    n = builder.zwl("CEC-ZWL-2024-0001")
    builder.decide(n, "change", "2025-05-06", changes={"specification": "初始温度 ≥ 65 ℃",
                                                       "contact": {"name": "赵六", "phone": "010-12345678"}})
    out = tmp_path / "site"
    build_site(ROOT / "mkdocs.yml", out, dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    generated = [p for p in out.rglob("*") if p.suffix in (".html", ".json", ".csv", ".atom")
                 and p.relative_to(out).parts[0 if p.relative_to(out).parts[0] != "en" else 1]
                 in ("certificates", "announcements", "lists", "data", "feeds", "index.html")
                 and "schemas" not in p.parts]  # (the JSON Schemas name every field, as they must)
    assert len(generated) > 20
    for path in generated:
        text = path.read_text(encoding="utf-8")
        assert "contact" not in text and "赵六" not in text and "12345678" not in text, path
    cert = json.loads((out / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert cert["versions"][-1]["changed"] == ["specification"]


def test_announcements_are_numbered_from_the_records_alone(built):
    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    anns = json.loads((built / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    announced = sorted((d.date.isoformat(), n, d.action) for n, h in checked.histories.items()
                       for d in h.applied if d.action in ("suspend", "restore", "revoke", "cancel", "change")
                       or any(s.decision is d for s in h.suspensions))  # (a failed surveillance suspends)
    assert any(a == "surveillance" for _, _, a in announced)
    assert sorted((a["date"], a["certificate"], a["action"]) for a in anns) == announced
    for a in anns:  # YYYYMMDD-N: the date, then the rank that day
        day = [b for b in anns if b["date"] == a["date"]]
        assert a["number"] == f"{a['date'].replace('-', '')}-{day.index(a) + 1}"
        page = (built / "announcements" / a["date"][:7] / "index.html").read_text(encoding="utf-8")
        assert f'id="a{a["number"]}"' in page and a["url"].endswith(f"announcements/{a['date'][:7]}/#a{a['number']}")
        assert a["number"] in json.loads((built / "certificates" / a["certificate"] / "certificate.json")
                                         .read_text(encoding="utf-8"))["announcements"]


def test_published_announcements_keep_their_numbers_and_certificates_stay(builder, tmp_path):
    """REG-APPEND: a later decision adds an announcement and renumbers none; a build that would lose a published
    certificate or renumber a published announcement publishes nothing."""
    a = builder.zwl("CEC-ZWL-2024-0001")
    b = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    out, day = tmp_path / "site", dt.date(2025, 6, 30)
    build = functools.partial(build_site, CONFIG, out, day, pdfs=False, registry=builder.root)
    builder.decide(b, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    build()
    first = json.loads((out / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    assert [x["number"] for x in first] == ["20250303-1"]
    builder.decide(b, "restore", "2025-05-06", rectification_verified="2025-05-05")
    build()
    second = json.loads((out / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    assert [x["number"] for x in second] == ["20250303-1", "20250506-1"] and second[0] == first[0]
    # recorded later for a day that has a published announcement: the next number of that day, nothing moves
    late = builder.decide(a, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    build()
    third = json.loads((out / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    assert [(x["number"], x["certificate"]) for x in third] == [("20250303-1", b), ("20250303-2", a),
                                                                ("20250506-1", b)]
    assert third[0] == first[0] and third[2] == second[1]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # a published record edited: its announcement number, a reason, a product name; or deleted
    text = late.read_text(encoding="utf-8")
    for edited, what in ((text.replace("20250303-2", "20250303-3"), "decision"),
                         (text.replace("决定", "决定（已改）"), "decision")):
        late.write_text(edited, encoding="utf-8")
        with pytest.raises(BuildError, match=f"REG-APPEND the {what} {a}/2025-03-03-suspend.yml is published"):
            build()
    late.write_text(text, encoding="utf-8")
    cert_file = builder.root / "certificates" / a / "certificate.yml"
    record = cert_file.read_text(encoding="utf-8")
    cert_file.write_text(record.replace("product_name: 高温冷凝回用水", "product_name: 改名回用水"), encoding="utf-8")
    assert cert_file.read_text(encoding="utf-8") != record
    with pytest.raises(BuildError, match=f"REG-APPEND the certificate version {a}/v1 is published and its public "
                                         "fields would change"):
        build()
    cert_file.write_text(record, encoding="utf-8")
    restore = builder.root / "certificates" / b / "decisions" / "2025-05-06-restore.yml"
    kept = restore.read_bytes()
    restore.unlink()
    with pytest.raises(BuildError, match=f"REG-APPEND the decision {b}/2025-05-06-restore.yml is published and would "
                                         "disappear"):
        build()
    restore.write_bytes(kept)
    late.unlink()
    folder = builder.root / "certificates" / a
    folder.rename(tmp_path / "gone")
    with pytest.raises(BuildError, match=f"REG-APPEND certificate {a} is published but would disappear"):
        build()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not list(tmp_path.glob(".site.*"))  # no half-built folder is left behind


def test_the_look_up_index_is_put_together_from_each_certificates_terms_as_made_afresh():
    """Each certificate's terms (what the look-up finds it by) are made with its public view (public.Part, kept in the
    cache); the index put together from them is the index made from the views, byte for byte, and it is made from
    them (a term changed shows)."""
    from certreg.publish.lookup import _MASK as lookup_mask
    from certreg.publish.lookup import index_files, terms

    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    pub = publish(checked, BASE_URL)
    schemes = checked.registry.schemes
    assert sorted(pub.terms) == sorted(c["number"] for c in pub.certificates)
    assert all(pub.terms[c["number"]] == terms(c, schemes[c["scheme"]].fields) for c in pub.certificates)
    assert index_files(pub.certificates, schemes, pub.terms) == index_files(pub.certificates, schemes)
    first = pub.certificates[0]["number"]
    texts, joined, masks = pub.terms[first]
    changed = {**pub.terms, first: (texts, joined + "\0zzzz", masks + array(lookup_mask, [1]).tobytes())}
    assert index_files(pub.certificates, schemes, changed) != index_files(pub.certificates, schemes)


def test_reg_append_takes_the_published_numbers_from_the_look_up_index_or_else_from_the_open_data(tmp_path):
    """build.losses reads the certificates a site publishes from data/lookup.json (whatever the order of its
    fields), or from data/certificates.json where there is no index (the open data alone, as the workflow fetches
    them); an index that cannot be read stops the build."""
    from certreg.publish.build import losses

    def site(name: str, numbers: list[str], lookup: bool, fields=("status", "number")) -> Path:
        data = tmp_path / name / "data"
        data.mkdir(parents=True)
        (data / "certificates.json").write_text(json.dumps({"generated_by": "certreg 0.1.0",  # (before records.json)
                                                            "certificates": [{"number": n} for n in numbers]}))
        if lookup:
            rows = [["valid", n] if fields[1] == "number" else [n, "valid"] for n in numbers]
            (data / "lookup.json").write_text(json.dumps({"fields": list(fields), "rows": rows}))
        return tmp_path / name

    new = site("new", ["A"], lookup=True)
    for published in (site("indexed", ["A", "B"], lookup=True), site("plain", ["A", "B"], lookup=False),
                      site("other-order", ["A", "B"], lookup=True, fields=("number", "status"))):
        assert losses(published, new) == ["error REG-APPEND certificate B is published but would disappear (its "
                                          "records were removed, or the site is built as of a date before its issue)"]
    # the index is what is read where there is one: a site whose index lacks B is not said to publish it
    assert losses(site("index-first", ["A"], lookup=True), new) == []
    damaged = site("damaged", ["A"], lookup=True)
    (damaged / "data" / "lookup.json").write_text('{"rows": []}')
    with pytest.raises(BuildError, match="lookup.json: the published look-up index cannot be read"):
        losses(damaged, new)


def test_feeds_are_atom_with_every_announcement(built):
    anns = json.loads((built / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    everything = ET.parse(built / "feeds" / "announcements.atom").getroot()
    assert everything.tag == f"{ATOM}feed"
    ids = [e.find(f"{ATOM}id").text for e in everything.findall(f"{ATOM}entry")]
    assert sorted(ids) == sorted(a["url"] for a in anns)
    dates = [e.find(f"{ATOM}updated").text for e in everything.findall(f"{ATOM}entry")]
    assert dates == sorted(dates, reverse=True)  # newest first
    for scheme in ("zero-carbon-factory", "zero-waste-low-carbon-water"):
        feed = ET.parse(built / "feeds" / f"{scheme}.atom").getroot()
        entries = {e.find(f"{ATOM}id").text: e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")}
        mine = [a for a in anns if a["scheme"] == scheme]
        assert mine and sorted(entries) == sorted(a["url"] for a in mine)  # its scheme's announcements, by address
        for a in mine:  # each entry names its announcement and certificate
            assert a["number"] in entries[a["url"]] and a["certificate"] in entries[a["url"]]


def test_json_in_a_page_cannot_end_its_script():
    text = str(S.script_json({"x": "</script><script>alert(1)</script>", "y": "<!--", "z": "\u2028"}))
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text)["x"] == "</script><script>alert(1)</script>"


@pytest.mark.parametrize("value, shown", [("=1+1", "'=1+1"), ("+86 10", "'+86 10"), ("-2", "'-2"),
                                          ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("绍兴", "绍兴"), (None, "")])
def test_csv_cells_cannot_be_formulas(value, shown):
    assert S.csv_cell(value) == shown


HOSTILE = {
    # (and the placeholders of the theme's shell page, which must stay as typed: site.Shell.fill)
    "product_name": '<img src=x onerror="alert(1)">&amp;回用水 CERTREG_TITLE CERTREG_SHELL/CERTREG_SHELL/',
    "specification": "</script><script>alert(2)</script>{{ 7*7 }}",
    "manufacturer": {"name": '=HYPERLINK("http://127.0.0.1:9","x")', "address": "@SUM(1) ]]> <![CDATA["},
}


HOSTILE_REASON = {"zh": '暂停<script>alert(3)</script><img src=y onerror=alert(4)>', "en": "</script><!-- ]]> &amp;"}


def test_hostile_text_is_escaped_in_every_output(builder, tmp_path):
    n = builder.zwl(**HOSTILE)
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01",
                   reason=HOSTILE_REASON)
    builder.decide(n, "restore", "2025-04-07", rectification_verified="2025-04-03",
                   reason={"zh": "=cmd|' /C calc'!A0 恢复"})  # no English: the Chinese is shown
    out = tmp_path / "site"
    build_site(ROOT / "mkdocs.yml", out, dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    raw = ("<img src=x", "<img src=y", "<script>alert", "</script><script>", "<!-- ]]>")
    for path in out.rglob("*"):  # (JSON and CSV hold the text as data: their own tests read it back below)
        if path.suffix in (".html", ".atom", ".xml"):
            text = path.read_text(encoding="utf-8")
            assert not [r for r in raw if r in text], path
    page = (out / "certificates" / n / "index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=" in page and "{{ 7*7 }}" in page  # shown as text, not evaluated
    assert "=cmd|&#39; /C calc&#39;!A0 恢复" in (out / "en" / "certificates" / n / "index.html").read_text(
        encoding="utf-8")
    cert = json.loads((out / "certificates" / n / "certificate.json").read_text(encoding="utf-8"))
    assert cert["content"]["product_name"] == HOSTILE["product_name"]
    assert cert["timeline"][1]["reason"] == HOSTILE_REASON
    lookup = json.loads((out / "data" / "lookup.json").read_text(encoding="utf-8"))
    assert [HOSTILE["product_name"]] == [r[3] for r in lookup["rows"] if r[0] == n]
    row = next(csv.DictReader(io.StringIO((out / "data" / "certificates.csv").read_text(encoding="utf-8-sig"))))
    assert row["holder"] == "'" + HOSTILE["manufacturer"]["name"]
    feed = ET.parse(out / "feeds" / "announcements.atom").getroot()
    contents = [e.find(f"{ATOM}content").text for e in feed.findall(f"{ATOM}entry")]
    who = HOSTILE["manufacturer"]["name"] + " · " + HOSTILE["product_name"]  # (holder and product first)
    assert "\n".join([who, HOSTILE_REASON["zh"], HOSTILE_REASON["en"]]) in contents
    for path in [*out.glob("feeds/*.atom"), *out.glob("certificates/*/feed.atom")]:  # (its own feed too)
        assert atom_problems(path.read_bytes()) == [], path
    assert open_data_errors(out) == []  # (the open data keeps its published shape whatever the text)
    mine = ET.parse(out / "certificates" / n / "feed.atom").getroot()
    assert HOSTILE["manufacturer"]["name"] in mine.findtext(f"{ATOM}title")
    # the pages' heads (description, share card) say the holder and product as typed, escaped once
    for rel in (f"certificates/{n}/index.html", f"en/certificates/{n}/index.html", f"certificates/{n}/v1/index.html"):
        head = head_of(out / rel)
        for said in (HOSTILE["product_name"], HOSTILE["manufacturer"]["name"]):
            assert said in head.meta["description"] and said in head.meta["og:description"], rel
    assert broken_links(out, BASE_URL) == []


def test_renewal_window_lists_certificates_in_their_last_six_months(builder, tmp_path):
    soon = builder.zwl("CEC-ZWL-2024-0001")
    builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    checked = check_registry(builder.root, dt.date(2025, 6, 30))
    h = checked.histories[soon]
    inside = h.cert.valid_until - dt.timedelta(days=100)
    pub = publish(check_registry(builder.root, inside), BASE_URL)
    assert soon in pub.renewal_window
    before = publish(check_registry(builder.root, h.cert.valid_until - dt.timedelta(days=200)), BASE_URL)
    assert soon not in before.renewal_window


def test_the_home_page_shows_the_first_of_the_renewal_window_and_links_the_whole_of_it(builder, tmp_path,
                                                                                       monkeypatch):
    """The home page's size does not grow with the registry: it shows the RENEWAL_ON_HOME soonest certificates of the
    renewal window (ZWL-7.2) and links lists/renewal/, which lists all of them, soonest first, a page at a time; a
    list page links the first and the last pages and PAGES_AROUND pages either side of it, not every page."""
    from certreg.publish import site as site_module

    monkeypatch.setattr(site_module, "RENEWAL_ON_HOME", 1)
    monkeypatch.setattr(site_module, "LIST_PAGE", 1)
    monkeypatch.setattr(site_module, "PAGES_AROUND", 0)
    numbers = [f"CEC-ZWL-2024-000{i}" for i in range(1, 5)]
    for i, number in enumerate(numbers):
        builder.zwl(number, raw_material_source=f"蒸汽冷凝水 {i + 1} 号")
    out = tmp_path / "site"
    build_site(CONFIG, out, dt.date(2027, 6, 30), pdfs=False, registry=builder.root)

    def certificates_linked(page: str) -> list[str]:
        html = (out / page / "index.html").read_text(encoding="utf-8")
        return re.findall(r'href="(?:\.\./)*(?:en/)?certificates/(CEC-[A-Z]+-[0-9]+-[0-9]+)/"', html)

    home = (out / "index.html").read_text(encoding="utf-8")
    section = home.split('id="renewal"')[1].split("<h2")[0]
    assert re.findall(r"certificates/(CEC-[^/]+)/", section) == numbers[:1]
    assert 'href="lists/renewal/"' in section and "4" in section
    pages = ["lists/renewal", "lists/renewal-p2", "lists/renewal-p3", "lists/renewal-p4"]
    assert [certificates_linked(p) for p in pages] == [[n] for n in numbers]
    first = (out / "lists/renewal/index.html").read_text(encoding="utf-8").split('class="cr-pages"')[1]
    assert "renewal-p4/" in first and "renewal-p2/" not in first and "renewal-p3/" not in first and "…" in first
    third = (out / "lists/renewal-p3/index.html").read_text(encoding="utf-8").split('class="cr-pages"')[1]
    assert all(f"{p}/" in third for p in ("lists/renewal", "renewal-p3", "renewal-p4")) and "renewal-p2/" not in third
    assert certificates_linked("en/lists/renewal") == numbers[:1]
    assert broken_links(out, BASE_URL) == []


def test_a_certificate_that_joins_or_leaves_a_list_changes_its_own_page_not_every_page_after_it():
    """A list's pages are cut by the certificates' numbers (site.list_chunks), not every LIST_PAGE rows: a
    suspension takes a certificate out of the valid lists, and cut by position every later page would change
    (at 100,000 certificates, 900 pages after one decision). The pages keep about LIST_PAGE rows, none more than
    twice that, none but the last under half of it."""
    rows = [{"number": f"CEC-ZWL-{2020 + i // 2000}-{i % 2000 + 1:04d}"} for i in range(6000)]
    pages = S.list_chunks(rows)
    assert [c for page in pages for c in page] == rows
    sizes = [len(p) for p in pages]
    assert all(S.LIST_PAGE // 2 <= n <= 2 * S.LIST_PAGE for n in sizes[:-1]), sizes
    assert 0.75 * S.LIST_PAGE <= len(rows) / len(pages) <= 1.5 * S.LIST_PAGE, sizes
    changed_pages = []
    for at in range(37, len(rows), 97):  # 62 certificates, each taken out of the list, then each put in
        for other in (rows[:at] + rows[at + 1:], rows[:at] + [{"number": f"CEC-ZWL-2030-{at:04d}"}] + rows[at:]):
            again = S.list_chunks(other)
            changed = sum(1 for n, page in enumerate(again) if n >= len(pages) or page != pages[n])
            changed_pages.append(changed + abs(len(pages) - len(again)))
            on = next(n for n, page in enumerate(pages) if rows[at] in page)
            assert again[:on] == pages[:on]  # (the pages before it never change)
    # mostly its own page alone; where it moves where a page ends, the next few until the cut falls in line again
    assert sum(changed_pages) / len(changed_pages) <= 1.5, changed_pages
    assert S.list_chunks([]) == [[]]


def test_certificates_are_in_number_order_with_the_serial_as_a_number(builder):
    """Past 9999 a serial has five or six digits (REG-ID): the lists, the look-up, the open data, the renewal window
    and certreg status put CEC-ZWL-2024-10000 after CEC-ZWL-2024-9999, where a sort as text puts it first."""
    from certreg.publish.statustable import status_rows
    from certreg.records.specs import uscc_check_char

    zwl = ["CEC-ZWL-2024-100000", "CEC-ZWL-2024-9999", "CEC-ZWL-2024-0001", "CEC-ZWL-2024-10000"]
    for i, number in enumerate(zwl):
        builder.zwl(number, raw_material_source=f"蒸汽冷凝水 {i + 1} 号")  # one unit each (ZWL-4)
    code = "91330600MA2BYYYYY"
    builder.zcf("CEC-ZCF-2025-10000", credit_code=code + uscc_check_char(code))
    builder.zcf("CEC-ZCF-2025-0002")
    order = ["CEC-ZCF-2025-0002", "CEC-ZCF-2025-10000",
             "CEC-ZWL-2024-0001", "CEC-ZWL-2024-9999", "CEC-ZWL-2024-10000", "CEC-ZWL-2024-100000"]
    checked = check_registry(builder.root, dt.date(2025, 6, 30), jobs=1)
    assert checked.report.problems == []
    assert [c["number"] for c in publish(checked, BASE_URL).certificates] == order
    assert [row["number"] for row in status_rows(checked)] == order
    # in their last six months (ZWL-7.2) the four ZWL certificates expire on the same day: by number there too
    later = publish(check_registry(builder.root, dt.date(2027, 6, 30), jobs=1), BASE_URL)
    assert later.renewal_window == order[2:]


def test_a_failed_build_leaves_the_published_site_alone(builder, tmp_path):
    builder.zwl("CEC-ZWL-2024-0001")
    out = tmp_path / "site"
    build_site(CONFIG, out, dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = next(builder.root.rglob("certificate.yml"))
    bad.write_text(bad.read_text(encoding="utf-8").replace("valid_from:", "valid_frm:"), encoding="utf-8")
    with pytest.raises(BuildError, match=r"certificate\.yml:\d+:\d+: error REG-SCHEMA"):
        build_site(CONFIG, out, dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_zensical_builds_the_same_site(built, tmp_path):
    """Zensical, mkdocs-material's successor, builds the hand-written pages from the same mkdocs.yml; certreg's
    pages, data and feeds are the same bytes, and every hand-written page is there with its generated part."""
    out = tmp_path / "site"
    build_site(CONFIG, out, SAMPLE_AS_OF, pdf_dir=built.parent / "pdfs", engine="zensical")
    data = json.loads((out / "data" / "certificates.json").read_text(encoding="utf-8"))
    assert len(data["certificates"]) >= 10
    same = ["data/certificates.json", "data/announcements.json", "data/certificates.csv", "data/records.json",
            "data/lookup.json", "feeds/announcements.atom"]
    for c in data["certificates"]:
        n = c["number"]
        same += [f"certificates/{n}/certificate.json", *(p.relative_to(built).as_posix()
                                                         for p in (built / "certificates" / n).rglob("*.pdf"))]
        for page in (f"certificates/{n}/index.html", f"en/certificates/{n}/index.html"):
            html = (out / page).read_text(encoding="utf-8")
            assert f"<h1>{n}" in html or n in html, page
            # the engine's shell, not mkdocs-material's
            assert '<meta name="generator" content="zensical-' in html, page
            assert "© 2026 " in html and "beian.miit.gov.cn" in html, page  # its footer, from registry.yml
            assert "javascripts/bundle." not in html and "/palette." not in html, page  # (as in mkdocs-material)
    for rel in same:
        assert (out / rel).read_bytes() == (built / rel).read_bytes(), rel
    hand_written = sorted(p.relative_to(built) for p in built.rglob("index.html")
                          if not p.relative_to(built).as_posix().startswith(("certificates/C", "en/certificates/C",
                                                                             "lists/", "en/lists/",
                                                                             "announcements/2", "en/announcements/2")))
    assert len(hand_written) >= 20
    for rel in hand_written:
        html = (out / rel).read_text(encoding="utf-8")
        assert "data-certreg" not in html and "CERTREG" not in html, rel
    assert not broken_links(out, BASE_URL)
    assert not list(out.rglob("*CERTREG*"))
    # the head's overrides (lang, description, share card, languages, feeds) render in Zensical as in Material
    for rel in ("index.html", "about/index.html", f"certificates/{n}/index.html", f"en/certificates/{n}/index.html"):
        theirs, ours = head_of(out / rel), head_of(built / rel)
        assert (theirs.lang, theirs.meta["description"], theirs.meta["og:image"]) == \
            (ours.lang, ours.meta["description"], ours.meta["og:image"]), rel
        assert [link for link in theirs.links if link.get("rel") == "alternate"] == \
            [link for link in ours.links if link.get("rel") == "alternate"], rel


def test_a_build_with_an_empty_data_file_fails(builder, tmp_path, monkeypatch):
    """An open data file left empty (the placeholder the engine is given, or a maker that wrote nothing) is not a
    complete site: it is not published."""
    from certreg.publish.site import Site

    builder.zwl("CEC-ZWL-2024-0001")
    real = Site.data_makers
    monkeypatch.setattr(Site, "data_makers", lambda self, schemas: {**real(self, schemas),
                                                                     "data/lookup.json": lambda: b""})
    with pytest.raises(BuildError, match="the site lacks data/lookup.json"):
        build_site(CONFIG, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    assert not (tmp_path / "site").exists()


def test_a_build_leaves_nothing_frozen(builder, tmp_path, monkeypatch):
    """A build keeps the collector off its records while it runs (gc.freeze), and gives them back as it ends, built
    or not: a long-lived process that builds (a test run, a server) does not keep every build's objects."""
    import gc

    builder.zwl("CEC-ZWL-2024-0001")
    before = gc.get_freeze_count()
    build_site(CONFIG, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    assert gc.get_freeze_count() == before
    gc.freeze()  # a process that froze objects of its own keeps them frozen, and only them
    try:
        mine = gc.get_freeze_count()
        build_site(CONFIG, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
        assert 0 < gc.get_freeze_count() <= mine  # (not let go of, nor added to; some are freed meanwhile)
    finally:
        gc.unfreeze()
    from certreg.publish import public
    from certreg.publish.site import Site

    seen = []  # (while the view is made: the records just checked are out of the collector's scans)
    real_publish = public.publish
    monkeypatch.setattr(public, "publish", lambda *a, **k: seen.append(gc.get_freeze_count()) or real_publish(*a, **k))
    real = Site.certificate_pages
    monkeypatch.setattr(Site, "certificate_pages",
                        lambda self, c, lang, shell: real(self, c, lang, shell) if lang == "en" else [])
    with pytest.raises(BuildError, match="the site lacks"):  # (after the records are frozen)
        build_site(CONFIG, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    assert gc.get_freeze_count() == before and seen[0] > before


def test_a_build_without_a_certificate_page_fails(builder, tmp_path, monkeypatch):
    """Whatever the engine or a template does, a site that lacks one certificate's page is not published."""
    from certreg.publish.site import Site

    builder.zwl("CEC-ZWL-2024-0001")
    n = builder.zwl("CEC-ZWL-2024-0002", raw_material_source="另一来源")
    real = Site.certificate_pages

    def certificate_pages(self, c, lang, shell):  # every page but the Chinese one of n
        return [p for p in real(self, c, lang, shell) if lang == "en" or p[0] != f"certificates/{n}/"]

    monkeypatch.setattr(Site, "certificate_pages", certificate_pages)
    with pytest.raises(BuildError, match=rf"the site lacks certificates/{n}/index.html"):
        build_site(CONFIG, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False, registry=builder.root)
    assert not (tmp_path / "site").exists()


def test_an_overdue_action_is_listed_and_the_rest_is_published(builder, tmp_path):
    """A suspension past its limit (ZWL-7.4) is an error for staff, but holds back no other publication; the
    certificate's page says it is overdue."""
    n = builder.zwl("CEC-ZWL-2024-0001")
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    day = dt.date(2025, 9, 15)  # the 6-month limit ended 2025-09-03
    assert [p.rule for p in check_registry(builder.root, day).report.problems if p.overdue] == ["ZWL-7.4"]
    notices = build_site(CONFIG, tmp_path / "site", day, pdfs=False, registry=builder.root)
    assert [(p.rule, p.overdue) for p in notices] == [("ZWL-7.4", True)]
    page = (tmp_path / "site" / "certificates" / n / "index.html").read_text(encoding="utf-8")
    assert 'data-status="suspended"' in page and "暂停已超过期限（2025-09-03）" in page


def test_the_configurations_own_pages_outside_the_navigation_stay_allowed(builder, tmp_path):
    """mkdocs.yml's not_in_nav is kept beside the shell pages certreg leaves out of the navigation: a page it
    names builds strictly; one it does not name is refused (validation: omitted_files)."""
    builder.zwl("CEC-ZWL-2024-0001")
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "site_src", docs)
    (docs / "notice.md").write_text("# 通知\n\n临时通知。\n", encoding="utf-8")
    config = site_config(tmp_path, builder.root, docs)
    with pytest.raises(BuildError, match="notice.md"):
        build_site(config, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False)
    config.write_text(config.read_text(encoding="utf-8") + "not_in_nav: |\n  /notice.md\n", encoding="utf-8")
    build_site(config, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False)
    assert "临时通知" in (tmp_path / "site" / "notice" / "index.html").read_text(encoding="utf-8")


def test_an_unknown_generated_part_is_an_error(builder, tmp_path):
    builder.zwl("CEC-ZWL-2024-0001")
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "site_src", docs)
    (docs / "about.md").write_text('# x\n\n<div data-certreg="homepage"></div>\n', encoding="utf-8")
    with pytest.raises(BuildError, match="no generated part 'homepage'"):
        build_site(site_config(tmp_path, builder.root, docs), tmp_path / "site", dt.date(2025, 6, 30), pdfs=False)


# --- announcements name who and what; the feeds, a certificate's own among them, are valid Atom ---

ATOM_REFERENCE = Path(__file__).parent / "reference" / "atom"


@functools.cache
def _atom_checkers():
    """RFC 4287's RELAX NG grammar and its rules beyond the grammar (tests/reference/atom), run by libxml2 (lxml)."""
    from lxml import etree, isoschematron

    return (etree.RelaxNG(etree.parse(str(ATOM_REFERENCE / "rfc4287.rng"))),
            isoschematron.Schematron(etree.parse(str(ATOM_REFERENCE / "rfc4287.sch")), store_report=True))


def atom_problems(data: bytes) -> list[str]:
    """What RFC 4287 finds wrong with a feed: its grammar (an id, a title and a date as xsd:dateTime where they must
    be, links with an href...), its rules (one alternate link per type and hreflang, an author), and an entry id
    given twice in one feed (4.1.1: the same entry). A feed that is not well-formed XML raises."""
    from lxml import etree

    doc = etree.fromstring(data)
    grammar, rules = _atom_checkers()
    out = [] if grammar.validate(doc) else [f"line {e.line}: {e.message}" for e in grammar.error_log]
    if not rules.validate(doc):
        out += [" ".join(t.text.split()) for t in rules.validation_report.iter("{http://purl.oclc.org/dsdl/svrl}text")]
    ids = [e.findtext(f"{ATOM}id") for e in doc.iter(f"{ATOM}entry")]
    out += [f"entry id {i} twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return out


GOOD_FEED = ('<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:f</id><title>t</title>'
             '<updated>2025-01-01T00:00:00+08:00</updated><author><name>CEC</name></author>{entries}</feed>')
GOOD_ENTRY = ('<entry><id>{id}</id><title>t</title><updated>{updated}</updated><content type="text">c</content>'
              '{links}</entry>')


@pytest.mark.parametrize("entries, found", [
    ([("urn:a", "2025-01-01T00:00:00+08:00", '<link href="a" rel="alternate"/><link href="b" rel="related"/>')], ""),
    # what feedgen 1.0 wrote: two links without rel, that is two alternate links of one type
    ([("urn:a", "2025-01-01T00:00:00+08:00", '<link href="a"/><link href="b"/>')], "More than one alternate link"),
    ([("urn:a", "2025-01-01T00:00:00+08:00", '<link href="a"/><link href="b" rel="alternate"/>')],
     "More than one alternate link"),
    ([("urn:a", "2025-01-01", "")], "dateTime"),
    ([("urn:a", "2025-01-01T00:00:00+08:00", ""), ("urn:a", "2025-01-02T00:00:00+08:00", "")], "twice"),
])
def test_the_atom_checks_find_what_rfc_4287_forbids(entries, found):
    feed = GOOD_FEED.format(entries="".join(GOOD_ENTRY.format(id=i, updated=u, links=links)
                                            for i, u, links in entries)).encode()
    problems = atom_problems(feed)
    assert (problems == []) if not found else any(found in p for p in problems), problems


def test_every_feed_is_valid_atom_with_one_alternate_link_an_entry(built):
    feeds = sorted(built.glob("feeds/*.atom")) + sorted(built.glob("certificates/*/feed.atom"))
    certs = json.loads((built / "data" / "certificates.json").read_text(encoding="utf-8"))["certificates"]
    assert len(feeds) == 3 + len(certs)
    for path in feeds:
        assert atom_problems(path.read_bytes()) == [], path
        for entry in ET.parse(path).getroot().findall(f"{ATOM}entry"):
            rels = sorted(link.get("rel") for link in entry.findall(f"{ATOM}link"))
            assert rels == ["alternate", "related"], path  # (its announcement; its certificate's page)


def _listed(h, version: int) -> tuple[str, str]:
    """The holder and the product of a version of a certificate, as the scheme's listing names them."""
    content = h.versions[version - 1].content

    def dig(dotted):
        value = content
        for part in dotted.split("."):
            value = value[part] if isinstance(value, dict) and part in value else ""
        return value

    return dig(h.cert.scheme.listing["holder"]), dig(h.cert.scheme.listing["product"])


def test_every_announcement_names_the_holder_and_what_is_certified_as_they_stood(built):
    """Each announcement, in the open data, on its month's page, among the latest on the home and announcements
    pages in both languages, and in every feed, names the holder and the product (or the factory and its main
    products) of the version it leaves in force: a change of name is announced under the new name."""
    from markupsafe import escape

    checked = check_registry(REGISTRY, SAMPLE_AS_OF)
    anns = json.loads((built / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    renamed = False
    for a in anns:
        h = checked.histories[a["certificate"]]
        holder, product = _listed(h, a["version"])
        assert holder and (a["holder"], a["product"]) == (holder, product), a
        renamed |= a["version"] > 1 and holder != _listed(h, 1)[0]
        shown = f'<p class="cr-ann__who">{escape(holder)}' + (f" · {escape(product)}" if product else "") + "</p>"
        page = (built / "announcements" / a["date"][:7] / "index.html").read_text(encoding="utf-8")
        assert page.count(shown) >= 1, (a["number"], shown)
        for path in ("feeds/announcements.atom", f"feeds/{a['scheme']}.atom",
                     f"certificates/{a['certificate']}/feed.atom"):
            entry = next(e for e in ET.parse(built / path).getroot().findall(f"{ATOM}entry")
                         if e.findtext(f"{ATOM}id") == a["url"])
            assert holder in entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}content").startswith(
                " · ".join(filter(None, [holder, product]))), (path, a["number"])
    assert renamed  # (the sample renames a factory: CEC-ZCF-2026-0001)
    newest = sorted(anns, key=lambda a: (a["date"], int(a["number"].split("-")[1])), reverse=True)[:S.LATEST]
    for page in ("index.html", "en/index.html", "announcements/index.html", "en/announcements/index.html"):
        text = (built / page).read_text(encoding="utf-8")
        whos = re.findall(r'<p class="cr-ann__who">(.*?)</p>', text)
        assert whos == [str(escape(" · ".join(filter(None, [a["holder"], a["product"]])))) for a in newest], page


def test_an_announcement_shows_no_private_field_even_if_the_listing_named_one(builder):
    """REG-PUBLIC: the holder and product of an announcement are read from the public fields alone. (A scheme
    cannot name a private field in its listing: records.specs refuses it; here the field is made private after.)"""
    from certreg.publish.public import announcements

    n = builder.zwl()
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01")
    checked = check_registry(builder.root, dt.date(2025, 6, 30))
    h = checked.histories[n]
    (a,) = announcements({n: h}, dt.date(2025, 6, 30))
    assert (a.holder, a.product) == ("测试化工有限公司", "高温冷凝回用水")
    h.cert.scheme.fields["manufacturer"]["public"] = False
    try:
        (a,) = announcements({n: h}, dt.date(2025, 6, 30))
    finally:
        h.cert.scheme.fields["manufacturer"]["public"] = True
    assert (a.holder, a.product) == ("", "高温冷凝回用水")


def test_each_certificate_has_a_feed_of_its_own_announcements_linked_from_its_page(built):
    anns = json.loads((built / "data" / "announcements.json").read_text(encoding="utf-8"))["announcements"]
    certs = json.loads((built / "data" / "certificates.json").read_text(encoding="utf-8"))["certificates"]
    assert any(not c["announcements"] for c in certs) and any(c["announcements"] for c in certs)
    for c in certs:
        feed = ET.parse(built / "certificates" / c["number"] / "feed.atom").getroot()
        assert feed.findtext(f"{ATOM}id") == f"{c['url']}feed.atom" and c["holder"] in feed.findtext(f"{ATOM}title")
        ids = [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]
        assert ids == [a["url"] for a in reversed(anns) if a["certificate"] == c["number"]]  # newest first
        # (with no announcement, the feed's date is the certificate's issue: the same bytes on any later day)
        assert feed.findtext(f"{ATOM}updated")[:10] == (max(a["date"] for a in anns if a["certificate"] == c["number"])
                                                        if ids else c["issued"])
        for lang in ("", "en/"):
            page = (built / lang / "certificates" / c["number"] / "index.html").read_text(encoding="utf-8")
            assert f'href="{"../../" if not lang else "../../../"}certificates/{c["number"]}/feed.atom"' in page


def test_control_characters_and_markup_in_an_announcement_stay_text_in_every_feed(builder):
    """A record cannot carry a control character (REG-SCHEMA refuses it), but a feed would not break on one:
    it is shown as U+FFFD, and markup stays text."""
    n = builder.zwl(manufacturer={"name": "甲<乙>&amp;丙", "address": "x"})
    builder.decide(n, "suspend", "2025-03-03", ground="holder-request", facts_verified="2025-03-01",
                   reason=HOSTILE_REASON)
    checked = check_registry(builder.root, dt.date(2025, 6, 30))
    pub = publish(checked, BASE_URL, pdfs=False)
    (a,) = pub.announcements
    a.holder += "\x0b]]>"
    a.product = "<![CDATA[\x01"
    site = S.Site(pub, schemes=checked.registry.schemes)
    for feed in (site.feed(None), site.feed("zero-waste-low-carbon-water"), site.certificate_feed(pub.certificates[0])):
        assert atom_problems(feed) == []
        entry = ET.fromstring(feed).find(f"{ATOM}entry")
        assert entry.findtext(f"{ATOM}content").split("\n") == [
            "甲<乙>&amp;丙\ufffd]]> · <![CDATA[\ufffd", HOSTILE_REASON["zh"], HOSTILE_REASON["en"]]
        assert "甲<乙>&amp;丙\ufffd]]>" in entry.findtext(f"{ATOM}title")


def test_a_build_without_a_certificates_feed_fails(builder, tmp_path, monkeypatch):
    """A certificate's feed is part of a complete site, as its certificate.json is (layer.incomplete)."""
    from certreg.publish.reuse import Reuse

    n = builder.zwl("CEC-ZWL-2024-0001")
    real = Reuse.put_all

    def put_all(self, items, **kwargs):  # every file but n's feed
        return real(self, [i for i in items if i[0] != f"certificates/{n}/feed.atom"], **kwargs)

    monkeypatch.setattr(Reuse, "put_all", put_all)
    with pytest.raises(BuildError, match=rf"the site lacks certificates/{n}/feed.atom"):
        build_site(CONFIG, tmp_path / "site", dt.date(2025, 6, 30), pdfs=False, registry=builder.root)


# --- the open data files and their published JSON Schemas ---

OPEN_DATA = {"certificates": "published-certificates", "announcements": "published-announcements",
             "lookup": "published-lookup"}


def open_data_errors(site: Path, change=None) -> list[str]:
    """Where each open data file of ``site`` (data/NAME.json) differs from its published JSON Schema
    (data/schemas/published-NAME.schema.json, draft 2020-12), by the jsonschema package; ``change`` is called with
    the files read (name -> data) before they are checked."""
    import jsonschema

    files = {name: json.loads((site / "data" / f"{name}.json").read_text(encoding="utf-8")) for name in OPEN_DATA}
    if change is not None:
        change(files)
    out = []
    for name, schema_name in OPEN_DATA.items():
        schema = json.loads((site / "data" / "schemas" / f"{schema_name}.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        out += [f"{name}.json {e.json_path}: {e.message}"
                for e in jsonschema.Draft202012Validator(schema).iter_errors(files[name])]
    return out


def test_each_open_data_file_is_valid_against_its_published_schema(built):
    """The sample site, with its PDFs (each version's pdf, pdf_issued and marked) and its suspended, renewed and
    renamed certificates (the hostile site's: test_hostile_text_is_escaped_in_every_output). The data pages list
    the schemas of the open data files apart from those of the records."""
    certs = json.loads((built / "data" / "certificates.json").read_text(encoding="utf-8"))["certificates"]
    assert all(c["pdf"] and all("pdf_issued" in v for v in c["versions"]) for c in certs)
    assert open_data_errors(built) == []
    for page, folder in (("data/index.html", "schemas/"), ("en/data/index.html", "../../data/schemas/")):
        text = (built / page).read_text(encoding="utf-8")
        opened, records = text.index('id="json-schema'), text.index('href="' + folder + "certificate.schema.json")
        for name in OPEN_DATA.values():
            assert opened < text.index(f'href="{folder}{name}.schema.json"') < records, (page, name)


def _drop(files, name, key):
    del files[name][key]


@pytest.mark.parametrize("change, found", [
    (lambda f: f["announcements"]["announcements"][0].pop("holder"), "'holder' is a required property"),
    (lambda f: f["certificates"]["certificates"][0].pop("status"), "'status' is a required property"),
    (lambda f: f["certificates"]["certificates"][0].update(contact="x"), "Additional properties"),
    (lambda f: f["announcements"]["announcements"][0].update(version="1"), "is not of type 'integer'"),
    (lambda f: f["certificates"]["certificates"][0]["timeline"][0].update(date="2025/01/01"), "does not match"),
    (lambda f: f["certificates"]["certificates"][0]["versions"][0].update(secret=1), "Additional properties"),
    (lambda f: f["lookup"]["rows"][0].append("extra"), "is too long"),
    (lambda f: f["lookup"]["rows"][0].__setitem__(1, "valid?"), "is not one of"),
    (lambda f: _drop(f, "certificates", "schemes"), "'schemes' is a required property"),
])
def test_the_open_data_schemas_find_a_field_missing_added_or_of_another_type(built, change, found):
    errors = open_data_errors(built, change)
    assert any(found in e for e in errors), errors


def test_every_page_s_footer_names_the_publisher_how_to_reach_cec_and_the_icp_filing(built):
    """The footer of every kind of page, hand-written or made from the records, in either language: the publisher's
    copyright, registry.yml's enquiries (linked) and its ICP filing number, linked to the filing system, in the
    page's language."""
    import yaml

    registry = yaml.safe_load((REGISTRY / "registry.yml").read_text(encoding="utf-8"))
    enquiries = registry["enquiries"]
    pages = ["index.html", "about/index.html", "certificates/CEC-ZWL-2025-0001/index.html",
             "certificates/CEC-ZWL-2025-0003/v1/index.html", "lists/all-all/index.html",
             "announcements/2026-10/index.html"]
    for rel in ["404.html", *pages, *(f"en/{p}" for p in pages)]:
        footer = (built / rel).read_text(encoding="utf-8").split('<footer class="md-footer">')[1].split("</footer>")[0]
        lang = "en" if rel.startswith("en/") else "zh"
        t = S.strings()[lang]
        assert f"<p>© {SAMPLE_AS_OF.year} {registry['publisher'][lang]}</p>" in footer, rel
        assert f'{t["contact_email"]}{t["colon"]}<a href="mailto:{enquiries["email"]}">' in footer, rel
        assert f'<a href="tel:{enquiries["phone"].replace(" ", "")}">{enquiries["phone"]}</a>' in footer, rel
        assert f'{t["contact_address"]}{t["colon"]}{enquiries["address"][lang]}' in footer, rel
        assert f'<a href="https://beian.miit.gov.cn/" target="_blank" rel="noopener">{registry["icp_filing"]}</a>' \
            in footer, rel
        assert "Material for MkDocs" not in footer, rel


def test_the_footer_s_year_is_the_as_of_date_s_and_the_icp_line_is_optional(builder, tmp_path):
    """The copyright's year is the as-of date's, not the wall clock's (the same records and date make the same
    site); a registry with no ICP filing number shows no filing line."""
    import yaml

    builder.zwl("CEC-ZWL-2024-0001")
    settings = yaml.safe_load((builder.root / "registry.yml").read_text(encoding="utf-8"))
    settings.pop("icp_filing", None)
    (builder.root / "registry.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    build_site(CONFIG, tmp_path / "site", dt.date(2024, 6, 30), pdfs=False, registry=builder.root)
    footer = (tmp_path / "site" / "index.html").read_text(encoding="utf-8").split('<footer class="md-footer">')[1]
    assert f"<p>© 2024 {settings['publisher']['zh']}</p>" in footer
    assert "beian.miit.gov.cn" not in footer
