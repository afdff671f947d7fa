"""The registry at scale: validate, full build, build after one decision, decide; memory, size, the I/O floor.

Run from the project folder:

    .venv/bin/python bench/scale.py [--certificates 1000 10000 100000] [--seed S]

For each N it generates (or reuses) a registry of N certificates with bench/bench.py's generator, copies it (hard
links: the decision the bench adds goes into the copy only) into ``bench/out/scale-N/``, and times, each as a fresh
``certreg`` process, in this order:

1. ``validate`` without the check cache (CERTREG_CACHE=off): every certificate loaded and judged;
2. ``build --no-pdfs`` into an empty folder (the check cache cold: it is filled);
3. the I/O floor: writing the same files (the same folders, names and sizes) into another empty folder, in this
   process: what any generator of this site must at least spend; and the CPU floor (``cpu_floor``): parsing every
   record and rendering every certificate page with the libraries certreg is built on, which no full build skips;
4. ``build --no-pdfs`` again, nothing changed (every file linked; the site it replaces is kept as the next
   build's starting folder, as on any published site after its second build);
5. ``decide suspend`` of one valid certificate (the cache warm);
6. ``build --no-pdfs`` again, after that decision (incremental: what is unchanged is linked, from that folder);
7. ``validate`` with the warm cache.

Each step starts once what the steps before it wrote is on disk (``sync``): the machine's page cache would
otherwise make a step pay for writing back another's files (the I/O floor once took 2 s after one build and 23 s
after another). It prints each time with its ratio to a reference measured in the same run (the machine is shared,
its speed varies): the full build to the I/O floor (target: at most 3x), the build after one decision to the full build
(target: at most a tenth), decide to validate without the cache (target: under a quarter). Also the peak memory of
each step (its largest process: ``wait4``'s maximum resident size), the site's size and file count, and the home
page's HTML (which must not grow with the registry).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import AS_OF, DEFAULT_SEED, ROOT, calibrate, generated  # noqa: E402

CERTREG = Path(sys.executable).parent / "certreg"


def run(args: list[str], cache: Path | None) -> tuple[float, float, str]:
    """A certreg command: wall time, peak resident memory of its largest process (MiB), its output."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "CERTREG_CACHE": str(cache) if cache else "off"}
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"certreg-scale-{os.getpid()}.log"
    with open(log, "w+", encoding="utf-8") as out:
        os.sync()  # (what an earlier step wrote is on disk: no step pays for another's writing back)
        start = time.perf_counter()
        proc = subprocess.Popen([str(CERTREG), *args], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    log.unlink()
    if proc.returncode != 0:
        sys.exit(f"certreg {' '.join(args)} failed ({proc.returncode}):\n{text[-3000:]}")
    return wall, usage.ru_maxrss / 1024, text


def linked_copy(source: Path, into: Path) -> None:
    shutil.copytree(source, into, copy_function=os.link, ignore=shutil.ignore_patterns(".bench-meta.json"))


def io_floor(site: Path, into: Path) -> float:
    """Seconds to write files of the same paths and sizes as ``site``'s into the empty folder ``into``."""
    files = [(p.relative_to(site), p.stat().st_size) for p in site.rglob("*") if p.is_file()]
    folders = sorted({rel.parent for rel, _ in files})
    os.sync()  # (as before each certreg step: run)
    start = time.perf_counter()
    for rel in folders:
        (into / rel).mkdir(parents=True, exist_ok=True)
    for rel, size in files:
        with open(into / rel, "wb") as f:
            f.write(b"\0" * size)
    return time.perf_counter() - start


CPU_FLOOR = r"""
import datetime as dt, json, os, random, sys, time
from pathlib import Path

import jinja2, yaml

from certreg.publish.public import publish
from certreg.publish.site import LANGS, Site
from certreg.rules.validate import check_registry

registry, day, sample = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
files = sorted(registry.glob("certificates/*/**/*.yml"))
some = random.Random(1).sample(files, min(sample, len(files)))
start = time.process_time()
for path in some:
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
parse = (time.process_time() - start) / len(some) * len(files)
checked = check_registry(registry, day, cache=True)
site = Site(publish(checked, "https://example.org/", pdfs=False), schemes=checked.registry.schemes)
pages = [(c, lang, paper) for lang in LANGS for c in site.pub.certificates
         for paper in [None] + [v["version"] for v in c["versions"][:-1]]]
chosen = random.Random(2).sample(pages, min(sample, len(pages)))
start = time.process_time()
for c, lang, paper in chosen:
    site.certificate_plan(c, lang, paper)[3]()
render = (time.process_time() - start) / len(chosen) * len(pages)
print(json.dumps({"files": len(files), "parse": parse, "pages": len(pages), "render": render,
                  "versions": (yaml.__version__, jinja2.__version__)}))
"""


def cpu_floor(registry: Path, cache: Path, sample: int = 4000) -> dict:
    """The CPU time that no full build of this registry can skip with the parser and the template engine it is made
    with: parsing every record file with PyYAML's libyaml loader (no checking), and rendering the content of every
    certificate page (not the list pages, stubs, feeds or data) with Jinja2; each from a random sample of ``sample``,
    extrapolated to all of them. Measured in a process of its own (the check cache warm: it is not counted)."""
    env = {**os.environ, "CERTREG_CACHE": str(cache), "PYTHONPATH": str(ROOT / "generator")}
    done = subprocess.run([sys.executable, "-c", CPU_FLOOR, str(registry), AS_OF.isoformat(), str(sample)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"the CPU floor could not be measured:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def valid_certificate(site: Path) -> str:
    data = json.loads((site / "data" / "certificates.json").read_text(encoding="utf-8"))
    return next(c["number"] for c in data["certificates"]
                if c["status"] == "valid" and c["scheme"] == "zero-waste-low-carbon-water")


def one(n: int, seed: int) -> dict:
    source = generated(n, seed)
    work = ROOT / "bench" / "out" / f"scale-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    registry, site, cache = work / "registry", work / "site", work / "cache"
    linked_copy(source, registry)
    day = AS_OF.isoformat()
    r: dict = {"n": n}
    r["validate"], r["validate_mib"], _ = run(["validate", "--registry", str(registry), "--as-of", day], None)
    r["build"], r["build_mib"], text = run(["build", "--no-pdfs", "--registry", str(registry), "--out", str(site),
                                            "--as-of", day, "--timings"], cache)
    r["build_stages"] = stages(text)
    r["floor"] = io_floor(site, work / "floor")
    shutil.rmtree(work / "floor")
    r["cpu"] = cpu_floor(registry, cache)
    files = [p for p in site.rglob("*") if p.is_file()]
    r["files"], r["site_mib"] = len(files), sum(p.stat().st_size for p in files) / 2**20
    r["home_kb"] = (site / "index.html").stat().st_size / 1024
    number = valid_certificate(site)
    r["same"], _, text = run(["build", "--no-pdfs", "--registry", str(registry), "--out", str(site), "--as-of", day,
                              "--timings"], cache)
    r["same_stages"] = stages(text)
    facts = (AS_OF - dt.timedelta(days=1)).isoformat()
    r["decide"], r["decide_mib"], _ = run(["decide", "suspend", number, "--registry", str(registry), "--date", day,
                                           "--ground", "holder-request", "--set", f"facts_verified={facts}",
                                           "--reason-zh", "应持证人申请暂停",
                                           "--reason-en", "Suspended at the holder's request", "--as-of", day], cache)
    r["again"], r["again_mib"], text = run(["build", "--no-pdfs", "--registry", str(registry), "--out", str(site),
                                            "--as-of", day, "--timings"], cache)
    r["again_stages"] = stages(text)
    r["again_files"] = next((line.strip() for line in text.splitlines() if "file(s) made" in line), "")
    r["validate_cached"], _, _ = run(["validate", "--registry", str(registry), "--as-of", day], cache)
    return r


def stages(text: str) -> str:
    """The --timings lines of a build, on one line."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "s" and parts[0] != "total":
            out.append(f"{parts[0]} {float(parts[1]):.1f}")
    return ", ".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certificates", "-n", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; speed now: {calibrate():.2f} s for the fixed loop of bench.py")
    rows = []
    for n in args.certificates:
        r = one(n, args.seed)
        rows.append(r)
        print(f"\n{n} certificates: build stages {r['build_stages']}; nothing changed: {r['same_stages']}; after one "
              f"decision: {r['again_stages']} ({r['again_files']})", flush=True)
    cores = os.cpu_count() or 1
    print(f"\nWhat a full build cannot skip, with PyYAML and Jinja2 on {cores} cores (CPU seconds, extrapolated from a "
          "sample): parsing every record file, rendering every certificate page's content; that CPU time spread over "
          "every core, as a multiple of the I/O floor (the full build's target is 3x):")
    for r in rows:
        c = r["cpu"]
        wall = (c["parse"] + c["render"]) / cores
        print(f"- {r['n']:,} certificates: parse {c['files']:,} files {c['parse']:.1f} s + render {c['pages']:,} pages "
              f"{c['render']:.1f} s = {c['parse'] + c['render']:.1f} CPU-s, at least {wall:.1f} s on {cores} cores = "
              f"{wall / r['floor']:.1f}x the I/O floor ({r['floor']:.1f} s) (PyYAML {c['versions'][0]}, "
              f"Jinja2 {c['versions'][1]})")
    print("\n| certificates | validate | validate, cache warm | full build (no PDFs) | I/O floor | build / floor "
          "| nothing changed | after one decision | / full build | decide | decide / validate "
          "| peak MiB (validate, build, decide) "
          "| site | home page |")
    print("|" + "---|" * 14)
    for r in rows:
        print(f"| {r['n']:,} | {r['validate']:.1f} s | {r['validate_cached']:.1f} s | {r['build']:.1f} s "
              f"| {r['floor']:.1f} s | {r['build'] / r['floor']:.1f}x | {r['same']:.1f} s | {r['again']:.1f} s "
              f"| {r['again'] / r['build']:.2f} | {r['decide']:.1f} s | {r['decide'] / r['validate']:.2f} "
              f"| {r['validate_mib']:.0f}, {r['build_mib']:.0f}, {r['decide_mib']:.0f} "
              f"| {r['site_mib']:.0f} MiB, {r['files']:,} files | {r['home_kb']:.1f} KB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
