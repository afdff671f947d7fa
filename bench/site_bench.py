"""Benchmark ``certreg build`` of the public site (PDFs excluded): time, peak memory, size.

Run from the project folder:

    .venv/bin/python bench/site_bench.py [--certificates 1000 10000]

For each N it generates (or reuses) a registry of N certificates with bench/bench.py's generator, builds
its site as a fresh ``certreg build --no-pdfs`` process, and prints the wall time, the peak memory of
the largest process (the build or one of its workers), the site's total size and file count, and the size
of one verification page (its HTML, without the shared CSS, JavaScript and fonts that a browser caches).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import AS_OF, DEFAULT_SEED, ROOT, calibrate, generated  # noqa: E402

CERTREG = Path(sys.executable).parent / "certreg"


def peak_children_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux


def one(n: int, seed: int) -> None:
    source = generated(n, seed)
    work = ROOT / "bench" / "out" / f"site-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out = work / "site"
    start = time.perf_counter()
    proc = subprocess.run([str(CERTREG), "build", "--no-pdfs", "--as-of", AS_OF.isoformat(), "--registry", str(source),
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"certreg build failed:\n{proc.stdout}{proc.stderr}")
    files = [p for p in out.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    pages = sorted((out / "certificates").glob("*/index.html"))
    sizes = sorted(p.stat().st_size for p in pages)
    median = sizes[len(sizes) // 2] / 1024
    print(f"{n} certificates: built in {wall:.1f} s, peak memory {peak_children_mib():.0f} MiB (the largest process), "
          f"{total / 2**20:.1f} MiB in {len(files)} files; a verification page: median {median:.1f} KB, "
          f"largest {sizes[-1] / 1024:.1f} KB ({len(pages)} pages)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certificates", "-n", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; speed now: {calibrate():.2f} s for the fixed loop of bench.py")
    for n in args.certificates:
        one(n, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
