"""Benchmark ``certreg render``: PDFs per second from cold, an incremental render, PDF sizes.

Run from the project folder:

    .venv/bin/python bench/render_bench.py [--certificates 500]

It generates (or reuses) a registry of N certificates with bench/bench.py's generator, then

1. renders every version of every certificate into an empty folder, on all cores, as a fresh
   ``certreg render`` process, and prints PDFs per second;
2. adds one decision (a change to one certificate) and renders again, printing the time of that
   incremental render (which must write exactly one PDF);
3. prints the median, largest and total PDF size.
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
from bench import AS_OF, DEFAULT_SEED, ROOT, calibrate, generate, is_current  # noqa: E402

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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certificates", "-n", type=int, default=500)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    source = ROOT / "bench" / "out" / f"registry-{args.certificates}"
    if not is_current(source, args.certificates, args.seed):
        generate(args.certificates, args.seed, source)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
