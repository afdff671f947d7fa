"""What ``certreg status`` prints: one certificate in detail, or a table of all of them."""

from __future__ import annotations

from ..errors import UsageError
from ..records.model import number_order
from ..status import summary


def status_rows(checked, number: str | None = None) -> list[dict]:
    """Status summaries on the checked as-of date, one per issued certificate, ordered by number."""
    reg = checked.registry
    if not reg.root.is_dir():
        raise UsageError(f"no registry folder at {reg.root}; give one with --registry")
    if number is not None:
        if number in reg.broken:
            raise UsageError(f"{number} has invalid records; `certreg validate` lists them")
        if number not in checked.histories:
            raise UsageError(f"no certificate {number} in {reg.root}")
        h = checked.histories[number]
        if h.issued is None:
            raise UsageError(f"{number} has no issue decision; `certreg validate` lists its errors")
        row = summary(h, checked.as_of)
        if row is None:
            raise UsageError(f"{number} was not yet issued on {checked.as_of} (issued "
                             f"{reg.certificates[number].valid_from})")
        return [row]
    rows = (summary(checked.histories[n], checked.as_of) for n in sorted(checked.histories, key=number_order))
    return [r for r in rows if r is not None]


def status_text(rows: list[dict], detail: bool) -> str:
    if not rows:
        return "no certificate issued on that date"
    if not detail:
        head = ("number", "scheme", "status", "version", "valid_from", "valid_until")
        table = [head] + [tuple(str(r[k]) for k in head) for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(head))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table)
    r = rows[0]
    lines = [
        f"{r['number']}  ({r['scheme']})",
        f"status:      {r['status']} ({r['status_zh']}) on {r['as_of']}",
        f"version:     {r['version']} (since {r['version_date']})",
        f"validity:    {r['valid_from']} – {r['valid_until']}",
    ]
    if r.get("follows"):
        lines.append(f"follows:     {r['follows']}")
    if "suspended_since" in r:
        overdue = "  PAST ITS LIMIT" if r["suspension_overdue"] else ""
        lines.append(f"suspended:   since {r['suspended_since']}, limit {r['suspension_limit']}{overdue}")
    lines.append("timeline:")
    for e in r["timeline"]:
        extra = "".join(f"  {k}={e[k]}" for k in ("ground", "outcome", "until", "corrects") if k in e)
        reason = f"  “{e['reason']['zh']}”" if "reason" in e else ""
        lines.append(f"  {e['date']}  {e['action']:<12} -> {e['status']:<9} v{e['version']}{extra}{reason}")
    return "\n".join(lines)
