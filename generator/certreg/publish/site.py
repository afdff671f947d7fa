"""Stage 4c, site: the public site's generated pages, feeds and open data, from ``public.Published``.

The hand-written pages and the theme are the site engine's (mkdocs-material or Zensical; ``layer`` joins the
two). The pages made from the records are cheap to make by the thousand: the engine renders one *shell* page per
language at the depth of a certificate page, and every generated page is that shell with its title, path and
content put in. Every value from a record is escaped: by Jinja in HTML, by ``script_json`` in JSON
inside a page, by lxml in the feeds, and against formulas in the CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import yaml
from markupsafe import Markup, escape

from ..errors import CertregError
from ..records.specs import STATUSES
from .pdf import MONTHS, scheme_has_mark
from .public import (
    RECORDS_FORMAT,
    Published,
    announcement_path,
    certificate_path,
    compact_json,
    listed,
    view_digest,
    view_json,
)

TEMPLATES = Path(__file__).parent.parent / "templates" / "site"
# the JSON Schemas of the open data files (data/schemas/published-*.schema.json), beside those of the records
OPEN_DATA_SCHEMAS = TEMPLATES / "opendata"
LANGS = ("zh", "en")
SHELL = "CERTREG_SHELL"  # the shell page is SHELL/SHELL/, a path replaced by each generated page's path
SHELL_TITLE = "CERTREG_TITLE"
SHELL_CONTENT = "CERTREG_CONTENT"
SHELL_DESCRIPTION = "CERTREG_DESCRIPTION"
SHARE_IMAGE = "assets/share.png"  # (mkdocs.yml's extra.share_image: site_src/assets/)
SHELL_HEAD = "<!--CERTREG_HEAD-->"  # (site_src/overrides/main.html: what is one page's alone in its head)
LIST_PAGE = 200  # certificates per list page
LATEST = 20  # announcements on the home and announcements pages
RENEWAL_ON_HOME = 10  # certificates of the renewal window on the home page (all of them: lists/renewal/)
FEED_ENTRIES = 100  # the newest announcements in each feed (announcements.json has them all)
LOOKUP_FIELDS = ["number", "status", "holder", "product", "valid_until"]
CSV_COLUMNS = ["number", "scheme", "status", "as_of", "version", "version_date", "issued", "valid_from",
               "valid_until", "follows", "holder", "product", "url"]
# characters XML 1.0 does not allow (a YAML record may still carry them, escaped)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class SiteError(CertregError):
    """Raised by the site stage: the shell page is missing or malformed, or a template cannot be filled."""


def prefix(lang: str) -> str:
    """Where a language's pages live: Chinese at the root, English under en/."""
    return "" if lang == "zh" else f"{lang}/"


def root_of(url: str) -> str:
    """The relative path from a page (its URL, e.g. ``certificates/N/``) to the site root."""
    return "../" * url.count("/")


def script_json(data) -> Markup:
    """JSON safe inside a <script> element: no ``</script>``, ``<!--`` or line separators can break out."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)  # noqa: S704 - every character that could end the script is escaped above


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: no formula injection (=, +, -, @, tab, return)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def xml_text(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)


@cache
def strings() -> dict:
    return yaml.safe_load((TEMPLATES / "strings.yml").read_text(encoding="utf-8"))


def _format(template: str, **values) -> str:
    return template.format(**values)


def pick(text: dict | None, lang: str) -> str:
    """A bilingual text {zh, en} in ``lang``; Chinese where the record gives no English (only zh is required)."""
    return (text or {}).get(lang) or (text or {}).get("zh") or ""


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["f"] = _format
    env.filters["pick"] = pick
    env.filters["tojson_safe"] = script_json
    return env


def display_lines(value, ftype: str, unit: str = "", span: str = "{from} – {until}") -> list[str]:
    """A public field's value as the lines a page shows; a period's dates joined as ``span`` says (the page
    language's, as its validity: 2024-01-01 至 2024-12-31)."""
    if ftype == "party":
        return [value["name"], value["address"]]
    if ftype == "period":
        return [span.format(**{"from": value["start"], "until": value["end"]})]
    if ftype == "decimal":
        return [f"{Decimal(str(value)):,f} {unit}".strip()]
    return str(value).splitlines() or [""]


class Site:
    """The generated part of the public site for one ``Published`` registry."""

    def __init__(self, pub: Published, *, schemes: dict):
        """``schemes``: key -> Scheme (field types and units). The PDFs of each version are in its view."""
        self.pub = pub
        self.scheme_defs = schemes
        self.by_number = {c["number"]: c for c in pub.certificates}
        self.months: list[tuple[str, int]] = sorted(Counter(f"{a.date:%Y-%m}" for a in pub.announcements).items(),
                                                    reverse=True)
        self.years = [(year, [(m, n) for m, n in self.months if m[:4] == year])
                      for year in dict.fromkeys(m[:4] for m, _ in self.months)]
        # newest first: by date, then by the number's N as a number (20250303-10 after 20250303-9)
        self.newest = sorted(pub.announcements, key=lambda a: (a.date, int(a.number.split("-")[1])), reverse=True)
        self._digests: dict[str, str] = {}
        self._last_change: dict[str, str] = {}
        self._announcement_digests: dict[str, str] = {}
        self.announced: dict[str, set[str]] = {}  # certificate -> the numbers of its published announcements
        self._by_certificate: dict[str, list] = {}  # certificate -> its announcements, newest first
        for a in pub.announcements:
            self.announced.setdefault(a.certificate, set()).add(a.number)
        for a in self.newest:
            self._by_certificate.setdefault(a.certificate, []).append(a)

    # --- the context every template gets ---

    def _base(self, lang: str, url: str) -> dict:
        root = root_of(url)
        return {"t": strings()[lang], "lang": lang, "root": root, "home": root + prefix(lang),
                "schemes": self.pub.schemes, "sample": bool(self.pub.registry.get("sample")),
                "as_of": self.pub.as_of.isoformat(), "statuses": STATUSES, "month_abbr": [m[:3] for m in MONTHS]}

    def _render(self, template: str, lang: str, url: str, **values) -> str:
        try:
            return environment().get_template(template).render({**self._base(lang, url), **values})
        except jinja2.TemplateError as exc:
            raise SiteError(f"{template}: {exc}") from exc

    # --- fragments of hand-written pages (<div data-certreg="KIND"></div>) ---

    def fragment(self, kind: str, lang: str, url: str) -> str:
        """The generated part of a hand-written page: ``home``, ``certificates`` or ``announcements``."""
        if kind == "home":
            # (the soonest few: the home page is the same size whatever the size of the registry)
            renewal = [self.by_number[n] for n in self.pub.renewal_window[:RENEWAL_ON_HOME]]
            return self._render("home.html.j2", lang, url, counts=self._counts("all"),
                                renewal=renewal, renewal_count=len(self.pub.renewal_window),
                                renewal_months=self.renewal_months(), latest=self.newest[:LATEST])
        if kind == "certificates":
            counts = {key: {"all": len(self._lists.get((key, "all"), [])), **self._counts(key)}
                      for key in ["all", *self.pub.schemes]}
            names = [("all", strings()[lang]["all"])] + [(k, s["name"][lang]) for k, s in self.pub.schemes.items()]
            return self._render("certificates.html.j2", lang, url, counts=counts, scheme_rows=names)
        if kind == "announcements":
            return self._render("announcements.html.j2", lang, url, years=self.years, latest=self.newest[:LATEST])
        raise SiteError(f"no generated part {kind!r}; the parts are home, certificates, announcements")

    def renewal_months(self) -> str:
        return "/".join(map(str, sorted({d.validity["renewal_window_months"] for d in self.scheme_defs.values()
                                          if "renewal_window_months" in d.validity})))

    # --- generated pages: (URL, title, content) ---

    def plans(self, lang: str) -> Iterator[tuple[str, str, Head, tuple, Callable[[], str]]]:
        """Each generated page but the certificates' (``certificate_pages``) as (URL, title, what it says of itself,
        what its content is made from, how to make it): the inputs, with the templates and the shell, make a page's
        key (publish.reuse), so that an unchanged page is not made again."""
        yield from self.list_pages(lang)
        yield from self.month_pages(lang)

    def last_change(self, c: dict) -> str:
        """The date certificate view ``c``'s page last changed by the records and the calendar: its latest event, the
        issue of a certificate that follows it (the page names it), and the day after a limit it shows passed (a
        suspension's, a surveillance's, a closure's: the page says so from then on). ISO text; a page's lastmod in
        the sitemaps. (Found once a certificate.)"""
        found = self._last_change.get(c["number"])
        if found is not None:
            return found
        dates = [c["status_since"], c["version_date"], *(e["date"] for e in c["timeline"])]
        dates += [self.by_number[n]["issued"] for n in c.get("followed_by") or () if n in self.by_number]
        limit = c.get("suspension_limit")
        passed: list[str] = [limit] if limit and c["as_of"] > limit else []
        passed += [c["surveillance_due"]] if c.get("surveillance_overdue") else []
        passed += [x["due"] for x in c.get("closures_overdue", [])]
        dates += [(dt.date.fromisoformat(d) + dt.timedelta(days=1)).isoformat() for d in passed]
        found = self._last_change[c["number"]] = max(dates)
        return found

    @functools.cached_property
    def last_changes(self) -> dict[str, str]:
        """Scheme (and "all") -> the latest ``last_change`` of its certificates (an announcement's date is its
        decision's, in its certificate's timeline): the lastmod of its lists and of the hand-written pages that show
        what is made from the records."""
        out: dict[str, str] = {}
        for c in self.pub.certificates:
            when = self.last_change(c)
            for key in ("all", c["scheme"]):
                out[key] = max(out.get(key, when), when)
        return out

    def announcement_digest(self, a) -> str:
        """The digest of an announcement as the open data and its month's page show it (``as_dict``), found once."""
        found = self._announcement_digests.get(a.number)
        if found is None:
            from .reuse import digest

            found = self._announcement_digests[a.number] = digest(a.as_dict(self.pub.base_url))
        return found

    def announcements_of(self, number: str) -> list:
        """A certificate's announcements, newest first."""
        return self._by_certificate.get(number, [])

    def digest_of(self, number: str) -> str:
        """The sha256 of a certificate's public view (what every page and file showing it is made from)."""
        found = self._digests.get(number)
        if found is None:
            view = self.by_number[number]
            found = self._digests[number] = view_digest(view, self.pub.digests.get(number))
        return found

    def certificate_inputs(self, c: dict) -> tuple[str, ...]:
        """What every page of certificate view ``c`` (its own page, its superseded versions' and its current version's
        address: ``certificate_pages``) is made from, besides the templates, the shell, the schemes and the settings:
        its view (with the certificates that follow it), the numbers of its published announcements (which its
        timeline links) and the date it last changed (the pages' lastmod). One key serves all of them: a build after
        one decision finds the pages of every other certificate unchanged by one key each, not one a page."""
        return ("certificate", self.digest_of(c["number"]), " ".join(sorted(self.announced.get(c["number"], ()))),
                self.last_change(c))

    def certificate_pages(self, c: dict, lang: str, shell: Shell) -> list[tuple[str, Callable[[], bytes]]]:
        """The pages of certificate view ``c`` in ``lang`` as (URL, how to make its bytes): its own page, the page of
        each of its superseded versions (``certificates/N/vK/``: what the QR code of that version's paper opens,
        pdf.verification_url), and, last, its current version's address (``current_page``). All but the last are in
        the sitemaps. Each is made from ``certificate_inputs``, and put in ``shell`` (the page shell of ``lang``) when
        it is made."""
        url = prefix(lang) + certificate_path(c["number"])
        pages: list[tuple[str, Callable[[], bytes]]] = [
            (url, functools.partial(self._certificate_page_bytes, c, lang, shell, None))]
        pages += [(f"{url}v{v['version']}/",
                   functools.partial(self._certificate_page_bytes, c, lang, shell, v["version"]))
                  for v in c["versions"][:-1]]
        pages.append((f"{url}v{c['versions'][-1]['version']}/", functools.partial(self.current_page, c, lang)))
        return pages

    def certificate_plan(self, c: dict, lang: str, paper: int | None = None
                         ) -> tuple[str, str, Head, Callable[[], str]]:
        """The page of certificate view ``c`` (``paper`` None), or of its superseded version ``paper``, as (URL,
        title, what it says of itself, how to make its content)."""
        t = strings()[lang]
        url = prefix(lang) + certificate_path(c["number"])
        # (no status in the title: the page's script may find it changed since the build)
        feed = (self.pub.base_url + certificate_feed_path(c["number"]), f"{c['number']} · {t['announcements']}")
        lastmod = self.last_change(c)
        if paper is None:
            return (url, f"{c['number']} · {t['verify_title']}", Head(self._description(c, lang), feed, lastmod),
                    functools.partial(self.certificate_page, c, lang, url))
        holder = listed(self.scheme_defs[c["scheme"]], c["versions"][paper - 1]["content"])[0]
        page = f"{url}v{paper}/"
        return (page, t["paper_title"].format(number=c["number"], v=paper),
                Head(t["desc_paper"].format(holder=holder, v=paper, number=c["number"],
                                            scheme=self.pub.schemes[c["scheme"]]["name"][lang]), feed, lastmod),
                functools.partial(self.certificate_page, c, lang, page, paper))

    def _certificate_page_bytes(self, c: dict, lang: str, shell: Shell, paper: int | None) -> bytes:
        return page_bytes(shell, *self.certificate_plan(c, lang, paper))

    def _description(self, c: dict, lang: str) -> str:
        """What certificate view ``c``'s page says of itself (its meta description, a shared link's card)."""
        return strings()[lang]["desc_certificate"].format(holder=c["holder"], product=c["product"], number=c["number"],
                                                          scheme=self.pub.schemes[c["scheme"]]["name"][lang])

    def current_page(self, c: dict, lang: str) -> bytes:
        """The address of certificate view ``c``'s current version (``certificates/N/vK/``): a page of a few hundred
        bytes that leads at once, without any script (a meta refresh), to the certificate's page with the version
        named (``../?v=K``), where the page's script says the paper is the current one and, without a script, the
        current version's number is shown. Most certificates have one version: a full page for it would be the
        certificate's page again, doubling the site. Once superseded, the address is the version's own page
        (``certificate_pages``)."""
        t = strings()[lang]
        paper = c["versions"][-1]["version"]
        url = f"{prefix(lang)}{certificate_path(c['number'])}v{paper}/"
        # (a shared link's card is read from this page itself: what the certificate's page says of itself)
        return self._render_bytes("current.html.j2", lang, url, number=c["number"], v=paper,
                                  title=t["paper_title"].format(number=c["number"], v=paper),
                                  description=self._description(c, lang),
                                  page=self.pub.base_url + prefix(lang) + certificate_path(c["number"]),
                                  image=self.pub.base_url + SHARE_IMAGE)

    def _render_bytes(self, template: str, lang: str, url: str, **values) -> bytes:
        return self._render(template, lang, url, **values).encode()

    def certificate_page(self, c: dict, lang: str, url: str, paper: int | None = None) -> str:
        """The page of certificate ``c`` (its view), or of its superseded version ``paper``."""
        t = strings()[lang]
        scheme_def = self.scheme_defs[c["scheme"]]
        content = c["content"] if paper is None else c["versions"][paper - 1]["content"]
        fields = [(name, display_lines(value, scheme_def.fields[name]["type"], scheme_def.fields[name].get("unit", ""),
                                       t["valid_from_to"])) for name, value in content.items()]
        has_mark = scheme_has_mark(c["scheme"])
        why = next((e for e in reversed(c["timeline"])
                    if e["date"] == c["status_since"] and e["status"] == c["status"]), None)
        labels = self.pub.schemes[c["scheme"]]["fields"]
        listing = scheme_def.listing
        holder, product = listed(scheme_def, content)  # (what that paper says: an older one's may not be today's)
        glance = {"holder": holder, "product": product,
                  "holder_label": labels[listing["holder"].split(".")[0]][lang],
                  "product_label": labels[listing["product"].split(".")[0]][lang]}
        # the fields a later version changed, in the order of the changes (none on the certificate's own page)
        later = c["versions"][paper or len(c["versions"]):]
        changed_later = list(dict.fromkeys(f for v in later for f in v["changed"]))
        data = {
            "status": c["status"], "as_of": c["as_of"], "valid_until": c["valid_until"],
            "suspension_limit": c.get("suspension_limit"), "surveillance_due": c.get("surveillance_due"),
            "version": c["version"], "paper": paper,
            "versions": [{"version": v["version"], "date": v["date"],
                          "changed": [labels[f][lang] if f in labels else f for f in v["changed"]]}
                         for v in c["versions"]],
            "mark": has_mark,
            "t": {k: t[k] for k in ("status_long", "expired_by_date", "suspension_overdue", "surveillance_overdue",
                                    "checked_in_browser", "use_yes", "use_no", "use_mark", "use_none",
                                    "version_current", "version_superseded", "version_unknown",
                                    "version_unknown_word", "changed", "colon", "sep", "gap", "printed_at")},
        }
        registry_name = pick(self.pub.registry.get("name"), lang)
        return self._render("certificate.html.j2", lang, url, c=c, scheme=self.pub.schemes[c["scheme"]],
                            fields=fields, has_mark=has_mark, note=suspension_overdue(c, t), paper=paper,
                            glance=glance, changed_later=changed_later, overdue=overdue_lines(c, t),
                            restored=_restored(c),
                            reason=(why or {}).get("reason"), registry_name=registry_name,
                            page_url=self.pub.base_url + url,
                            announced=self.announced.get(c["number"], set()), data=data)

    def footer(self) -> dict[str, dict]:
        """Per language, what every page's footer says (site_src/overrides/partials/copyright.html shows it): the
        publisher's copyright in the year of the as-of date (not the wall clock's: the same records and date make the
        same site), how to reach CEC (registry.yml's enquiries) and the site's ICP filing number."""
        registry = self.pub.registry
        enquiries = registry.get("enquiries") or {}
        footer = {}
        for lang in LANGS:
            t = strings()[lang]
            contact = []
            if enquiries.get("email"):
                contact.append({"label": t["contact_email"], "text": enquiries["email"],
                                "href": f"mailto:{enquiries['email']}"})
            if enquiries.get("phone"):
                contact.append({"label": t["contact_phone"], "text": enquiries["phone"],
                                "href": "tel:" + enquiries["phone"].replace(" ", "")})
            if enquiries.get("address"):
                contact.append({"label": t["contact_address"], "text": pick(enquiries["address"], lang)})
            footer[lang] = {"copyright": f"© {self.pub.as_of.year} {pick(registry['publisher'], lang)}",
                            "colon": t["colon"], "contact": contact, "icp_filing": registry.get("icp_filing")}
        return footer

    def not_found_page(self) -> str:
        """The content of the site's 404 page, in both languages: the address of a certificate that is not in the
        registry (a forged QR code, a mistyped number) or of a version it never had."""
        return self._render("notfound.html.j2", "zh", "", root=self.site_path, home=self.site_path,
                            both={lang: strings()[lang] for lang in LANGS},
                            contact=self.pub.registry.get("enquiries") or {},
                            registry_name=self.pub.registry.get("name") or {})

    @property
    def site_path(self) -> str:
        """The site's path on its host (``/``, or ``/REPO/`` on GitHub Pages): where the addresses of a page served at
        any address (the 404 page) start."""
        return urlsplit(self.pub.base_url).path or "/"

    def list_pages(self, lang: str) -> Iterator[tuple[str, str, Head, tuple, Callable[[], str]]]:
        """A list per scheme (or all) and status (or all), about LIST_PAGE certificates a page (``list_chunks``: a
        decision changes the pages that show its certificate and each list's first page, not every page after it).
        A list's size is in its first page's title only."""
        t = strings()[lang]
        schemes = [("all", t["all"])] + [(k, s["name"][lang]) for k, s in self.pub.schemes.items()]
        statuses = [("all", t["all"])] + [(s, t["status"][s]) for s in STATUSES]
        lists = self._lists
        for scheme, scheme_label in schemes:
            for status, _ in statuses:
                rows = lists.get((scheme, status), [])
                label = t["list_of"][status] if scheme == "all" else f"{scheme_label} · {t['list_of'][status]}"
                yield from self._list(lang, f"{scheme}-{status}", label, rows, self.last_changes.get(scheme),
                                      by_scheme=[(f"{k}-{status}", lbl) for k, lbl in schemes],
                                      by_status=[(f"{scheme}-{k}", lbl) for k, lbl in statuses])
        # ZWL-7.2: the certificates in their renewal window, soonest expiry first (the home page shows the first few)
        rows = [self.by_number[number] for number in self.pub.renewal_window]
        yield from self._list(lang, "renewal", t["renewal_title"], rows, self.renewal_last_change,
                              by_scheme=[], by_status=[],
                              lead=t["renewal_lead"].format(months=self.renewal_months()))

    @functools.cached_property
    def _lists(self) -> dict[tuple[str, str], list[dict]]:
        """(scheme or "all", status or "all") -> the certificates of that list, in number order (those of no empty
        list), worked out once for both languages."""
        lists: dict[tuple[str, str], list[dict]] = {}
        for c in self.pub.certificates:
            for scheme in dict.fromkeys(("all", c["scheme"])):
                for status in dict.fromkeys(("all", c["status"])):
                    lists.setdefault((scheme, status), []).append(c)
        return lists

    def _counts(self, scheme: str) -> dict[str, int]:
        """status -> how many certificates of ``scheme`` (or "all") have it."""
        return {s: len(self._lists.get((scheme, s), [])) for s in STATUSES}

    @functools.cached_property
    def renewal_last_change(self) -> str | None:
        """The date the list of certificates in their renewal window last changed: a certificate leaves it by an
        event (``last_changes``) and enters it by the calendar alone, its expiry less the scheme's window (ZWL-7.2)."""
        from ..rules.dates import add_months

        dates = [self.last_changes["all"]] if self.last_changes else []
        for number in self.pub.renewal_window:
            c = self.by_number[number]
            months = self.scheme_defs[c["scheme"]].validity["renewal_window_months"]
            dates.append(add_months(dt.date.fromisoformat(c["valid_until"]), -months).isoformat())
        return max(dates, default=None)

    def _list(self, lang: str, key: str, label: str, rows: list[dict], lastmod: str | None, **links
              ) -> Iterator[tuple[str, str, Head, tuple, Callable[[], str]]]:
        """The pages of one list; ``lastmod``: the date its pages last changed (its certificates join and leave it by
        the events of its scheme's: ``last_changes``)."""
        t = strings()[lang]
        head = Head(t["desc_list"].format(label=label, registry=self.pub.registry["name"][lang]), lastmod=lastmod)
        chunks = list_chunks(rows)
        pages = [{"n": n, "key": key if n == 1 else f"{key}-p{n}"} for n in range(1, len(chunks) + 1)]
        for n, chunk in enumerate(chunks, 1):
            url = f"{prefix(lang)}lists/{pages[n - 1]['key']}/"
            title = label + t["list_count"].format(n=len(rows)) if n == 1 else f"{label} · {t['page'].format(n=n)}"
            inputs = ("list", key, n, len(pages), title, [self.digest_of(c["number"]) for c in chunk])
            yield url, title, head, inputs, functools.partial(
                self._render, "list.html.j2", lang, url, rows=chunk, pages=_window(pages, n), page_no=n,
                current=key, **links)

    def month_pages(self, lang: str) -> Iterator[tuple[str, str, Head, tuple, Callable[[], str]]]:
        """A page per month of announcements, newest first; its address never changes (announcement_path)."""
        t = strings()[lang]
        by_month: dict[str, list] = {}
        for a in self.newest:
            by_month.setdefault(f"{a.date:%Y-%m}", []).append(a)
        # a month's page lists its year's months: it changes with its own announcements and when a month of its year
        # gets its first (newest first: the year's newest month comes first, its first announcement last)
        newest_month: dict[str, str] = {}
        for month, items in by_month.items():
            newest_month.setdefault(month[:4], items[-1].date.isoformat())
        for month, _ in self.months:
            items = by_month[month]
            url = prefix(lang) + announcement_path(items[0])
            year = month[:4]
            siblings = next(ms for y, ms in self.years if y == year)
            name = MONTHS[int(month[5:])]
            inputs = ("month", month, siblings, [self.announcement_digest(a) for a in items])
            title = t["month_title"].format(year=year, month=int(month[5:]), name=name)
            lastmod = max(items[0].date.isoformat(), newest_month[year])
            yield url, title, Head(t["desc_month"].format(title=title), lastmod=lastmod), inputs, \
                functools.partial(self._render, "month.html.j2", lang, url, month=month, months=siblings,
                                  items=items)

    # --- open data and feeds: site path -> bytes ---

    def data_files(self, schemas_dir: Path | None = None) -> dict[str, bytes]:
        """Every open data file and feed: site path -> bytes (their paths alone: ``data_paths``)."""
        return {path: make() for path, make in self.data_makers(schemas_dir).items()}

    def data_paths(self, schemas_dir: Path | None = None) -> list[str]:
        return list(self.data_makers(schemas_dir))

    def data_makers(self, schemas_dir: Path | None) -> dict[str, Callable[[], bytes]]:
        """Every open data file and feed: site path -> how to make its bytes."""
        pub = self.pub
        head = {"as_of": pub.as_of.isoformat(), "generated_by": pub.generator, "registry": pub.registry}
        files: dict[str, Callable[[], bytes]] = {
            "data/certificates.json": lambda: _json({**head, "schemes": pub.schemes, "certificates": Encoded(
                view_json(c, pub.texts.get(c["number"])) for c in pub.certificates)}),
            "data/announcements.json": lambda: _json({**head, "announcements": [a.as_dict(pub.base_url)
                                                                                 for a in pub.announcements]}),
            "data/lookup.json": lambda: _json({"as_of": pub.as_of.isoformat(), "fields": LOOKUP_FIELDS,
                                               "rows": [[c[k] for k in LOOKUP_FIELDS] for c in pub.certificates]},
                                              compact=True),
            "data/certificates.csv": self.csv,
            # REG-APPEND: each published record's hash, which the next build compares with its own (build.losses)
            "data/records.json": lambda: _json({"format": RECORDS_FORMAT, "as_of": pub.as_of.isoformat(),
                                                "generated_by": pub.generator, "records": pub.records}),
        }
        if schemas_dir is not None:
            from ..records.safefile import read_regular

            for path in sorted(schemas_dir.glob("*.schema.json")):  # (a regular file of a record's size at most)
                files[f"data/schemas/{path.name}"] = functools.partial(read_regular, path, 1 << 20)
        for path in sorted(OPEN_DATA_SCHEMAS.glob("*.schema.json")):  # (certreg's own: the format of its files)
            if f"data/schemas/{path.name}" in files:
                raise SiteError(f"{schemas_dir}: a record schema is named {path.name}, the name of the schema of an "
                                "open data file; rename it")
            files[f"data/schemas/{path.name}"] = path.read_bytes
        files["feeds/announcements.atom"] = lambda: self.feed(None)
        for key in pub.schemes:
            files[f"feeds/{key}.atom"] = functools.partial(self.feed, key)
        return files

    @functools.cached_property
    def lookup_files(self) -> dict[str, bytes]:
        """The look-up's index, in shards (publish/lookup.py): site path -> bytes. Each file's key is its bytes, so
        that a decision rewrites the few shards it changes, not the index."""
        from .lookup import index_files

        return index_files(self.pub.certificates, self.scheme_defs, self.pub.terms)

    def certificate_json(self, c: dict) -> bytes:
        return _json({"generated_by": self.pub.generator, **c})

    def csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for c in self.pub.certificates:
            writer.writerow([csv_cell(c[k]) for k in CSV_COLUMNS])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    def feed(self, scheme: str | None) -> bytes:
        """An Atom feed of the announcements (all, or one scheme's), newest first."""
        pub = self.pub
        items = [a for a in self.newest if scheme in (None, a.scheme)][:FEED_ENTRIES]
        what = ("全部公告 · All announcements" if scheme is None
                else f"{pub.schemes[scheme]['name']['zh']} · {pub.schemes[scheme]['name']['en']}")
        return self._atom(f"feeds/{scheme or 'announcements'}.atom", what, "announcements/", items,
                          items[0].date if items else pub.as_of)

    def certificate_feed(self, c: dict) -> bytes:
        """An Atom feed of one certificate's announcements, newest first (``certificate_feed_path``): a buyer
        follows one supplier's certificate without reading every announcement. Its date is that of its newest
        announcement, else the certificate's issue: an unchanged certificate gives the same bytes on any day."""
        items = self.announcements_of(c["number"])
        what = f"{c['number']} {c['holder']} · 公告 · Announcements"
        return self._atom(certificate_feed_path(c["number"]), what, certificate_path(c["number"]), items,
                          items[0].date if items else dt.date.fromisoformat(c["issued"]))

    def _atom(self, path: str, what: str, alternate: str, items: list, updated: dt.date) -> bytes:
        """The Atom feed (RFC 4287) at ``path`` of the announcements ``items`` (newest first), whose page is
        ``alternate``. Each entry has one alternate link (its announcement, RFC 4287 4.1.2: one per type and
        hreflang) and a related one (the certificate's page), and names the holder and the product in its title and
        its text; every text from a record goes through ``xml_text`` and lxml's escaping."""
        from feedgen.feed import FeedGenerator

        pub = self.pub
        name = pub.registry.get("name", {"zh": "", "en": ""})
        fg = FeedGenerator()
        fg.id(pub.base_url + path)
        fg.title(xml_text(f"{name['zh']} · {name['en']}：{what}"))
        fg.author({"name": xml_text(pub.registry.get("publisher", {}).get("zh", "CEC"))})
        fg.link(href=pub.base_url + alternate, rel="alternate")
        fg.link(href=pub.base_url + path, rel="self")
        fg.language("zh-CN")
        fg.generator(pub.generator)
        fg.updated(_when(updated))
        for a in reversed(items):  # feedgen puts the last added first
            fe = fg.add_entry()
            fe.register_extension("certreg", _EntryLinks, atom=True, rss=False)
            url = a.as_dict(pub.base_url)["url"]
            t_zh, t_en = strings()["zh"]["actions"][a.action], strings()["en"]["actions"][a.action]
            who = " · ".join(filter(None, [a.holder, a.product]))
            fe.id(url)
            fe.title(xml_text(f"公告 {a.number}：{a.certificate} {t_zh} · {t_en}" + (f"（{a.holder}）" if a.holder
                                                                                       else "")))
            fe.certreg.links = [(url, "alternate"), (pub.base_url + certificate_path(a.certificate), "related")]
            fe.updated(_when(a.date))
            fe.published(_when(a.date))
            reason = a.reason or {}
            fe.content(xml_text("\n".join(filter(None, [who, reason.get("zh"), reason.get("en")])) or t_en),
                       type="text")
        return fg.atom_str(pretty=True)


def suspension_overdue(c: dict, t: dict) -> str:
    """That certificate view ``c``'s suspension has outlived its limit on its as-of date (ZCF-12.1.2, ZWL-7.4), or
    "": said in the verdict itself (the page's script says it too once the limit passes after the build)."""
    if c.get("suspension_limit") and c["as_of"] > c["suspension_limit"]:
        return t["suspension_overdue"].format(date=c["suspension_limit"])
    return ""


def overdue_lines(c: dict, t: dict) -> list[str]:
    """What else CEC has left undone past its limit for certificate view ``c`` on its as-of date, a line each, shown
    under the verdict: a surveillance (ZWL-6.1), nonconformity closures (ZWL-6.3). (A suspension past its limit is
    in the verdict: ``suspension_overdue``.)"""
    lines = []
    if c.get("surveillance_overdue"):
        lines.append(t["surveillance_overdue"].format(date=c["surveillance_due"]))
    lines += [t["closure_overdue"].format(found=x["found"], date=x["due"]) for x in c.get("closures_overdue", [])]
    return lines


def _restored(c: dict) -> str | None:
    """The date a valid certificate was last restored after a suspension, if it was."""
    if c["status"] != "valid":
        return None
    return next((e["date"] for e in reversed(c["timeline"]) if e["action"] == "restore"), None)


class _EntryLinks:
    """The links of a feed entry, each with its ``rel``, written by feedgen's extension hook: feedgen 1.0 drops the
    ``rel`` of every link it writes in an entry itself (lkiesow/python-feedgen#135, open), which made two alternate
    links of one type (RFC 4287 4.1.2 allows one). (A class of feedgen's entry extensions: ``extend_atom``.)"""

    def __init__(self):
        self.links: list[tuple[str, str]] = []

    def extend_ns(self) -> dict:
        return {}

    def extend_atom(self, entry):
        for href, rel in self.links:
            # (named as feedgen names its own elements: in the feed's default namespace, declared on <feed>)
            entry.append(entry.makeelement("link", {"href": href, "rel": rel}))
        return entry

    def extend_rss(self, item):
        return item


def certificate_feed_path(number: str) -> str:
    """The Atom feed of a certificate's announcements: beside its page and its certificate.json."""
    return f"{certificate_path(number)}feed.atom"


def list_chunks(rows: list[dict]) -> list[list[dict]]:
    """``rows`` (certificate views, in a list's order) cut into its pages, about LIST_PAGE each: a page ends after a
    certificate whose number's hash says so (one in LIST_PAGE / 2), once it has LIST_PAGE / 2 rows, and at twice
    LIST_PAGE rows in any case. Where a page ends depends on what is before it and on the certificates around its
    end, not on how many come before: a certificate that joins or leaves a list (a suspension, a new certificate)
    changes the page it is on, now and then the next one, and, about one time in LIST_PAGE / 2, the number of pages,
    which every page of the list links to (then the whole list is made again, and the pages after it are numbered
    anew). Cut every LIST_PAGE rows, every page after it would change each time (at 100,000 certificates, 900 pages
    made again after one decision). At least one page, empty for an empty list."""
    least, most = max(1, LIST_PAGE // 2), 2 * LIST_PAGE
    chunks: list[list[dict]] = []
    page: list[dict] = []
    for c in rows:
        page.append(c)
        if len(page) >= most or (len(page) >= least and _ends_page(c["number"])):
            chunks.append(page)
            page = []
    if page or not chunks:
        chunks.append(page)
    return chunks


def _ends_page(number: str) -> bool:
    """Whether a page may end after ``number`` (its hash, the same in every build, says so one time in LIST_PAGE /
    2)."""
    return zlib.crc32(number.encode()) % max(1, LIST_PAGE // 2) == 0


PAGES_AROUND = 3  # the pages a list page links to either side of itself (and the first and the last)


def _window(pages: list[dict], n: int) -> list[dict | None]:
    """The links of a list's page ``n`` to its other pages: the first, the last and PAGES_AROUND either side of it,
    None where pages are left out (a list of 500 pages does not link all 500 from each)."""
    out: list[dict | None] = []
    for p in pages:
        if p["n"] in (1, len(pages)) or abs(p["n"] - n) <= PAGES_AROUND:
            out.append(p)
        elif out and out[-1] is not None:
            out.append(None)
    return out


def _when(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.timezone(dt.timedelta(hours=8)))


class Encoded(tuple):
    """The items of a list, each encoded already as ``_json`` would, in UTF-8 (public.view_json)."""

    __slots__ = ()


def _json(data: dict, compact: bool = False) -> bytes:
    """``data`` as JSON in UTF-8: compact, or with each top-level key on a line of its own and each item of a list
    there on a line of its own (a certificate, an announcement), compact within it. (Python's indented JSON is made
    by pure Python, ten times slower than its compact JSON: this is made by the latter, a line at a time.)"""
    if compact:
        return compact_json(data).encode("utf-8")
    lines = []
    for key, value in data.items():
        if isinstance(value, Encoded):
            shown = b"[\n  " + b",\n  ".join(value) + b"\n ]" if value else b"[]"
        elif isinstance(value, list) and value:
            shown = ("[\n  " + ",\n  ".join(map(compact_json, value)) + "\n ]").encode("utf-8")
        else:
            shown = compact_json(value).encode("utf-8")
        lines.append(b" " + compact_json(key).encode("utf-8") + b": " + shown)
    return b"{\n" + b",\n".join(lines) + b"\n}\n"


# --- the shell: one page of the theme, filled in for each generated page ---


def robots(base_url: str) -> bytes:
    """robots.txt: every page may be crawled; the sitemaps of both languages. (Read only at a host's root: a site
    published under a path, ``/REPO/`` on GitHub Pages, needs the host's own to name them.)"""
    lines = ["User-agent: *", "Allow: /", ""] + [f"Sitemap: {base_url}{prefix(lang)}sitemap.xml" for lang in LANGS]
    return ("\n".join(lines) + "\n").encode("utf-8")


def shell_markdown() -> str:
    return f"---\ndescription: {SHELL_DESCRIPTION}\n---\n\n# {SHELL_TITLE}\n\n{SHELL_CONTENT}\n"


@dataclass(frozen=True)
class Head:
    """What a generated page says of itself besides its title: its description (the meta description and the
    share card's, og:description), the feed of what it shows if it has one of its own (a certificate's: linked
    from its head for a feed reader to find), and the date of the latest event it shows (its sitemap's lastmod:
    made from the records alone, so a build from scratch and an incremental one agree)."""

    description: str
    feed: tuple[str, str] | None = None  # (its address, its name)
    lastmod: str | None = None


# every relative address of the theme's that climbs out of its folder: to the site's root, or to the root of its
# language (en/), alone ("../..") or before a path, never climbing further
_CLIMB = re.compile(r"""(?<=["'])\.\.(?:/\.\.)*(?=/(?!\.\.)|["'])""")


def page_bytes(shell: Shell, url: str, title: str, head: Head, render: Callable[[], str]) -> bytes:
    """The page at ``url``: the content ``render`` makes, put in ``shell`` with its title and head, in UTF-8."""
    return shell.fill(url, title, render(), head=head).encode()


class Shell:
    """A page of the theme rendered by the engine at ``CERTREG_SHELL/CERTREG_SHELL/``, to be filled in.

    Its folder is one no other page is in, so that every relative link of the theme climbs to the site's
    root and holds from any page at the same depth (from lists/KEY/ as from certificates/NUMBER/).
    """

    def __init__(self, html: str, path: str):
        marker = f"<p>{SHELL_CONTENT}</p>"
        if html.count(marker) != 1:
            raise SiteError(f"the shell page {path} has no single content marker {marker}")
        self.head, self.tail = html.split(marker)
        self.path = path  # CERTREG_SHELL/CERTREG_SHELL/ or en/CERTREG_SHELL/CERTREG_SHELL/
        self._parts: dict[str, tuple[str, str]] = {}

    def _at(self, root: str) -> tuple[str, str]:
        """The head and tail with every address that climbs out of the shell's folders made to climb from a page
        ``root`` below the site's root instead (``../../../``: a page deeper than the shell), or made absolute from
        ``root`` (``/``: a page served at any address, the 404 page)."""
        found = self._parts.get(root)
        if found is None:
            folders = self.path.rstrip("/").split("/")
            outside = len(folders) - (1 if folders[0] == "en" else 0)  # (climbs shorter stay in the shell's folders)

            def swap(m: re.Match) -> str:
                climbs = m.group().count("..")
                if climbs < outside:
                    return m.group()
                to = "/".join(folders[:len(folders) - climbs])  # "" (the root) or "en"
                if root.startswith("/"):  # "/" or "/en/" alone, "" or "/en" before "/assets/..."
                    there = root + (to + "/" if to else "")
                    return there.rstrip("/") if m.string[m.end()] == "/" else there
                return ("../" * (root.count("../") - len(folders) + climbs)).rstrip("/") or "."

            found = self._parts[root] = (_CLIMB.sub(swap, self.head), _CLIMB.sub(swap, self.tail))
        return found

    def fill(self, url: str, title: str, content: str, *, head: Head, absolute: str | None = None) -> str:
        """The shell as the page at ``url``, with ``title`` (escaped), what ``head`` says of it, and ``content``
        (HTML). ``absolute`` (the site's path on its host, e.g. ``/``): the page may be served at any address (the
        404 page), so the theme's addresses are made absolute from there."""
        head_html, tail = self._at(absolute if absolute is not None else "../" * url.count("/"))
        if absolute is not None:  # (a page served at any address has no address of its own to name)
            head_html = re.sub(r'\s*<link rel="canonical"[^>]*>|\s*<link rel="alternate" hreflang="[^"]*"[^>]*>'
                               r'|\s*<meta property="og:url"[^>]*>', "", head_html)
            # its language switch names the page itself ("./", the address it was served at): the home page instead
            head_html = head_html.replace('<a href="./" hreflang=', f'<a href="{escape(absolute)}" hreflang=')
        own = "" if head.feed is None else ('<link rel="alternate" type="application/atom+xml" '
                                            f'href="{escape(head.feed[0])}" title="{escape(head.feed[1])}">')
        # every URL of the shell's own page (canonical, language switch) names it by this path, in either
        # language: it becomes the page's path without its language prefix
        target = "" if absolute is not None else url.split("/", 1)[1] if url.startswith("en/") else url
        # each placeholder replaced in one pass, so that none is looked for in what replaced another (a record's
        # text in the description may hold any of them)
        values = {f"{SHELL}/{SHELL}/": target, SHELL_TITLE: str(escape(title)),
                  SHELL_DESCRIPTION: str(escape(head.description)), SHELL_HEAD: own}
        return _PLACEHOLDERS.sub(lambda m: values[m.group()], head_html) + content + \
            _PLACEHOLDERS.sub(lambda m: values[m.group()], tail)


_PLACEHOLDERS = re.compile("|".join(re.escape(p) for p in (f"{SHELL}/{SHELL}/", SHELL_TITLE, SHELL_DESCRIPTION,
                                                            SHELL_HEAD)))


def sitemap(base_url: str, urls: list[tuple[str, str | None]]) -> bytes:
    """A sitemap of ``urls``: (site path, the date it last changed or None if unknown: lastmod)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"  <url><loc>{escape(base_url + url)}</loc>" + (f"<lastmod>{when}</lastmod>" if when else "")
              + "</url>" for url, when in urls]
    return ("\n".join(lines + ["</urlset>"]) + "\n").encode("utf-8")
