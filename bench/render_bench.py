"""Benchmark ``certreg render``: PDFs per second from cold, an incremental render, PDF sizes.

Run from the project folder:

    .venv/bin/python bench/render_bench.py [--certificates 500]

It generates (or reuses) a registry of N certificates with bench/bench.py's generator, then

1. renders every version of every certificate into an empty folder, on all cores, as a fresh
   ``certreg render`` process, and prints PDFs per second;
2. adds one decision (a change to one certificate) and renders again, printing the time of that
   incremental render (which must write exactly one PDF);
3. prints the median, largest and total PDF size;
4. in one warm process, renders the same certificates as certreg does (glyph check, font cuts, QR code,
   guidance page, PDF/A) and, as the reference measured in the same run, the certificate page's own HTML
   (its QR code included) with the same installed font through plain WeasyPrint (no glyph check, no font
   cut, no guidance page, no PDF/A), and
   prints certreg's CPU time per PDF as a ratio to the reference's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import AS_OF, DEFAULT_SEED, ROOT, calibrate, generated  # noqa: E402

CERTREG = Path(sys.executable).parent / "certreg"


def run_render(registry: Path, out: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([str(CERTREG), "render", "--registry", str(registry), "--as-of", AS_OF.isoformat(),
                           "--out", str(out), "--site", str(ROOT / "mkdocs.yml")],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"certreg render failed:\n{proc.stdout}{proc.stderr}")
    return wall, proc.stderr.strip().splitlines()[-1]


def add_a_change(registry: Path) -> str:
    """A change decision for the first valid ZWL certificate: one new version, one new PDF."""
    for folder in sorted((registry / "certificates").iterdir()):
        if "-ZWL-" not in folder.name:
            continue
        text = (folder / "certificate.yml").read_text(encoding="utf-8")
        valid_from = dt.date.fromisoformat(text.split("valid_from: ")[1][:10])
        day = valid_from + dt.timedelta(days=10)
        decisions = sorted(p.name for p in (folder / "decisions").iterdir())
        if len(decisions) != 1 or day > AS_OF:  # a certificate with nothing but its issue
            continue
        path = folder / "decisions" / f"{day.isoformat()}-change.yml"
        path.write_text(f"certificate: {folder.name}\naction: change\ndate: {day.isoformat()}\n"
                        "changes:\n  specification: 初始温度 ≥ 70 ℃（基准测试变更）\n"
                        "reason:\n  zh: 规格变更（基准测试）\n  en: Specification changed (benchmark)\n",
                        encoding="utf-8")
        return folder.name
    sys.exit("no certificate to change")


def ratio(registry: Path, count: int = 40) -> tuple[float, float]:
    """(certreg's CPU seconds per PDF, plain WeasyPrint's) on ``count`` certificate versions, warm, one core."""
    import re

    import weasyprint

    from certreg.publish import pdf as P
    from certreg.rules.validate import check_registry

    checked = check_registry(registry, AS_OF)
    jobs = P.jobs_for(checked, None, P.site_url(ROOT / "mkdocs.yml"))[:count]
    mark = P._mark_path(checked.registry)
    mark_dir = mark.parent if mark else None
    plain_css = weasyprint.CSS(filename=str(P.TEMPLATES / "certificate.css"))

    def ours(job):
        P.check_glyphs(job.number, job.context, P._visible_template_text() + job.extra_text)
        return P.render_pdf(job.number, job.context, mark_dir=mark_dir, identifier=job.key[:32].encode(),
                            extra_text=job.extra_text, fixed_text=job.fixed_text)

    def reference(job):  # the certificate page's HTML, the installed font by name, nothing else
        html = P.render_html(job.context)
        html = re.sub(r"<style>.*?</style>", f'<style>html {{ font-family: "{P.FONT_FAMILY}"; }}</style>', html,
                      flags=re.S)
        return weasyprint.HTML(string=html, base_url=str(P.TEMPLATES) + "/").write_pdf(stylesheets=[plain_css])

    figures = []
    for make in (ours, reference):
        make(jobs[0])  # warm: caches, the guidance page, fontconfig
        start = time.process_time()
        for job in jobs:
            make(job)
        figures.append((time.process_time() - start) / len(jobs))
    return figures[0], figures[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certificates", "-n", type=int, default=500)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    source = generated(args.certificates, args.seed)
    work = ROOT / "bench" / "out" / f"render-{args.certificates}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work / "registry")
    out = work / "certs"
    print(f"machine: {os.cpu_count()} cores; speed now: {calibrate():.2f} s for the fixed loop of bench.py")

    wall, line = run_render(work / "registry", out)
    pdfs = sorted(out.glob("*.pdf"))
    print(f"cold render: {len(pdfs)} PDFs of {args.certificates} certificates in {wall:.1f} s "
          f"= {len(pdfs) / wall:.1f} PDFs/s ({line})")

    number = add_a_change(work / "registry")
    wall, line = run_render(work / "registry", out)
    print(f"incremental render after one decision ({number}): {wall:.2f} s ({line})")

    sizes = [p.stat().st_size for p in out.glob("*.pdf")]
    print(f"PDF size: median {statistics.median(sizes) / 1024:.0f} KB, largest {max(sizes) / 1024:.0f} KB, "
          f"total {sum(sizes) / 2**20:.1f} MB for {len(sizes)} PDFs "
          f"(10,000 certificates at this median: {statistics.median(sizes) * 10000 / 2**30:.2f} GiB)")

    ours, reference = ratio(work / "registry")
    print(f"CPU per PDF, one warm process: certreg {ours * 1000:.0f} ms, plain WeasyPrint on the certificate page's "
          f"HTML {reference * 1000:.0f} ms: ratio {ours / reference:.2f}x (target at most 1.25x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
