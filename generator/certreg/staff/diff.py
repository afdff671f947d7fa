"""What a change to the records does in public: the working tree's public registry against a git ref's.

New certificates, certificates that would disappear (REG-APPEND), status changes and from when, new
announcements, and changed public fields, as text for a terminal or Markdown for a pull-request comment.
Both sides are made by ``public.publish``, so the diff shows exactly what the site would show.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..publish.public import Published, publish
from ..publish.site import strings
from ..records.model import number_order
from ..rules.validate import check_registry
from .gitbase import base_commit, registry_at


@dataclass
class PublicDiff:
    """The public effect of the working tree against ``ref`` on ``as_of``."""

    ref: str
    as_of: dt.date
    new: list[dict] = field(default_factory=list)  # certificate views
    gone: list[str] = field(default_factory=list)  # numbers published at ref and missing now
    status: list[tuple[dict, dict]] = field(default_factory=list)  # (before, after) views
    announcements: list = field(default_factory=list)  # public.Announcement, new ones
    withdrawn: list = field(default_factory=list)  # published announcements that would disappear (REG-APPEND)
    renumbered: list = field(default_factory=list)  # (published, now) announcements of one number (REG-APPEND)
    behind: str | None = None  # HEAD does not contain the ref: compared with the commit the branch started from
    fields: list[tuple[str, str, object, object]] = field(default_factory=list)  # (number, field, before, after)
    errors: int = 0  # errors of the working tree's registry (certreg validate lists them)

    @property
    def empty(self) -> bool:
        return not (self.new or self.gone or self.status or self.announcements or self.fields or self.withdrawn
                    or self.renumbered)


def public_diff(registry: Path, ref: str, as_of: dt.date, base_url: str) -> PublicDiff:
    """The branch's own public effect: against ``ref``, or the commit it started from if it lacks ``ref``."""
    commit, behind = base_commit(registry, ref)
    with tempfile.TemporaryDirectory(prefix="certreg-diff-") as tmp:
        before = _published(registry_at(registry, commit, Path(tmp)), as_of, base_url)
    after_checked = check_registry(registry, as_of, cache=True)
    after = publish(after_checked, base_url, pdfs=False)
    blocking = sum(1 for p in after_checked.report.problems if p.level == "error" and not p.overdue)
    d = PublicDiff(ref, as_of, errors=blocking, behind=behind)
    old = {c["number"]: c for c in before.certificates}
    new = {c["number"]: c for c in after.certificates}
    d.new = [c for n, c in new.items() if n not in old]
    d.gone = [n for n in old if n not in new]
    for n in sorted(set(old) & set(new), key=number_order):
        a, b = old[n], new[n]
        if a["status"] != b["status"]:  # (a suspension and restoration in between: the announcements tell)
            d.status.append((a, b))
        for name in sorted(set(a["content"]) | set(b["content"])):
            if a["content"].get(name) != b["content"].get(name):
                d.fields.append((n, name, a["content"].get(name), b["content"].get(name)))
    seen = {(x.certificate, x.record) for x in before.announcements}
    d.announcements = [x for x in after.announcements if (x.certificate, x.record) not in seen]
    kept = {(x.certificate, x.record) for x in after.announcements}
    d.withdrawn = [x for x in before.announcements if (x.certificate, x.record) not in kept]
    by_number = {x.number: x for x in after.announcements}
    d.renumbered = [(x, by_number[x.number]) for x in before.announcements if x.number in by_number
                    and (by_number[x.number].certificate, by_number[x.number].record) != (x.certificate, x.record)]
    return d


def _published(registry: Path, as_of: dt.date, base_url: str) -> Published:
    return publish(check_registry(registry, as_of, cache=True), base_url, pdfs=False)


# --- printing ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")  # (<, > and & become entities)


ZWSP = "\u200b"  # a zero-width space: breaks what GitHub would link, without changing what is read


def md(text) -> str:
    """Record text inert in GitHub Markdown: no HTML, no markup, no table break, one line, and no @mention, #issue
    reference or address that GitHub would turn into a link or a notification."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = s.replace("@", "@" + ZWSP).replace("#", "#" + ZWSP).replace("://", ":" + ZWSP + "//")
    s = re.sub(r"(?i)www\.", lambda m: m.group(0)[:3] + ZWSP + ".", s)
    return " ".join(s.split())


def _value(v) -> str:
    if isinstance(v, dict):
        return " / ".join(_value(x) for x in v.values())
    return "—" if v is None else str(v)


def lines(d: PublicDiff, markdown: bool = False) -> list[str]:
    """The diff as lines of text, or of Markdown (every record value escaped)."""
    esc = md if markdown else (lambda s: " ".join(str(s).split()))
    zh = strings()["zh"]
    out: list[str] = []

    def head(title: str):
        out.extend(["", f"### {title}" if markdown else f"{title}:"])

    def item(text: str):
        out.append(f"- {text}" if markdown else f"  {text}")

    if markdown:
        out.append(f"**certreg diff** against `{md(d.ref)}`, statuses as of {d.as_of}")
    else:
        out.append(f"public effect against {d.ref}, as of {d.as_of}")
    bold = "**" if markdown else ""
    if d.behind:
        item(f"{bold}{esc(d.behind)}{bold}; compared with the commit this branch started from")
    if d.errors:
        item(f"{bold}{d.errors} validation error(s): nothing is published until they are fixed "
             f"(certreg validate lists them){bold}")
    if d.empty:
        out.append("")
        out.append("No public change." if not markdown else "_No public change._")
    if d.gone:
        head("Certificates that would disappear (REG-APPEND: refused)")
        for n in d.gone:
            item(esc(n))
    if d.withdrawn or d.renumbered:
        head("Published announcements that would disappear or change (REG-APPEND: refused)")
        for x in d.withdrawn:
            item(f"{x.number} {esc(x.certificate)} {esc(x.record)}: gone")
        for x, y in d.renumbered:
            item(f"{x.number} {esc(x.certificate)} {esc(x.record)}: would name {esc(y.certificate)} {esc(y.record)}")
    if d.new:
        head("New certificates")
        for c in d.new:
            item(f"{esc(c['number'])} — {esc(c['holder'])} · {esc(c['product'])} — {c['status']} "
                 f"({zh['status'][c['status']]}), valid {c['valid_from']} to {c['valid_until']}")
    if d.status:
        head("Status changes")
        for a, b in d.status:
            item(f"{esc(b['number'])}: {a['status']} → {b['status']} ({zh['status'][b['status']]}) "
                 f"from {b['status_since']}")
    if d.announcements:
        head("New announcements (公告)")
        for x in d.announcements:
            reason = " / ".join(esc(x.reason[lang]) for lang in ("zh", "en") if x.reason and x.reason.get(lang))
            item(f"{x.number} {x.date} {esc(x.certificate)} {x.action} ({zh['actions'][x.action]})"
                 + (f": {reason}" if reason else ""))
    if d.fields:
        head("Changed public fields")
        for n, name, before, after in d.fields:
            item(f"{esc(n)} {esc(name)}: {esc(_value(before))} → {esc(_value(after))}")
    return out
