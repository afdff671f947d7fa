"""The look-up at scale: what one search downloads, gzipped, from the sharded index (publish/lookup.py).

Run from the project folder:

    .venv/bin/python bench/lookup_bench.py [--certificates 1000 10000 100000] [--queries 50] [--seed S]

For each N it generates (or reuses) bench/bench.py's registry of N certificates, makes its public views and the
look-up's index in this process with the code a build uses (``Site.lookup_files``: the index, not the rest of the
site; a build of 100,000 certificates takes minutes and gigabytes), and asks it ``--queries`` searches of each kind
as the page does (``lookup.fetched``, the Python twin of lookup.js): a full number, a piece of a holder's name
(six characters from its third), a credit code, a piece of a product's name (four characters). It prints per kind
the most and the median bytes a search downloads (each file gzipped at level 6, as a web server sends it; the
target: at most 200 KB at 100,000 certificates), the searches that did not list the certificate they were made
from, though saying more may match (a piece of a name in more certificates than the page shows) and without (a
miss: none should be), the size of the whole index, and the files of the index a suspension of one certificate
changes.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import AS_OF, DEFAULT_SEED, generated  # noqa: E402

from certreg.publish import lookup  # noqa: E402
from certreg.publish.public import publish  # noqa: E402
from certreg.publish.site import Site  # noqa: E402
from certreg.rules.validate import check_registry  # noqa: E402

TARGET = 200_000  # bytes, gzipped, one search at 100,000 certificates


def queries(certificates: list[dict], k: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """(query, the certificate it was made from) of each kind, ``k`` of each."""
    rnd = random.Random(seed)
    sample = rnd.sample(certificates, min(k, len(certificates)))
    coded = [c for c in certificates if "credit_code" in c["content"]]
    return {
        "number": [(c["number"], c["number"]) for c in sample],
        "holder, 6 characters": [(c["holder"][2:8], c["number"]) for c in sample],
        "credit code": [(c["content"]["credit_code"], c["number"]) for c in rnd.sample(coded, min(k, len(coded)))],
        "product, 4 characters": [(c["product"][:4], c["number"]) for c in sample],
    }


def one(n: int, k: int, seed: int) -> dict:
    registry = generated(n, seed)
    start = time.perf_counter()
    checked = check_registry(registry, AS_OF)
    pub = publish(checked, "https://registry.example/", pdfs=False)
    made = time.perf_counter()
    site = Site(pub, schemes=checked.registry.schemes)
    files = site.lookup_files
    r: dict = {"n": n, "views_s": made - start, "index_s": time.perf_counter() - made, "files": len(files)}
    gz = {path: len(gzip.compress(data, 6)) for path, data in files.items()}
    r["raw_mb"], r["gz_mb"] = sum(map(len, files.values())) / 1e6, sum(gz.values()) / 1e6
    r["kinds"] = {}
    for kind, asked in queries(pub.certificates, k, seed).items():
        sizes, missed, more = [], 0, 0
        for query, number in asked:
            paths, shown, says_more = lookup.fetched(files, query)
            sizes.append(sum(gz[p] for p in paths))
            more += number not in shown and says_more
            missed += number not in shown and not says_more
        r["kinds"][kind] = (max(sizes), statistics.median(sizes), missed, more, len(asked))
    # one suspension: the files of the index it changes (each file's key is its bytes: only those are written)
    c = next(c for c in pub.certificates if c["status"] == "valid")
    c["status"] = "suspended"
    after = lookup.index_files(pub.certificates, checked.registry.schemes)
    r["changed"] = sorted(p for p in files if after[p] != files[p])
    return r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--certificates", "-n", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    rows = []
    for n in args.certificates:
        r = one(n, args.queries, args.seed)
        rows.append(r)
        print(f"\n{n:,} certificates: views {r['views_s']:.1f} s, index {r['index_s']:.1f} s; {r['files']:,} files, "
              f"{r['raw_mb']:.1f} MB ({r['gz_mb']:.1f} MB gzipped); a suspension changes {', '.join(r['changed'])}")
        for kind, (most, median, missed, more, asked) in r["kinds"].items():
            print(f"  {kind}: at most {most / 1000:.1f} KB, median {median / 1000:.1f} KB gzipped; of {asked}, "
                  f"{more} listed others and asked for more of the query, {missed} missed their certificate",
                  flush=True)
    kinds = list(rows[0]["kinds"])
    print("\n| certificates | " + " | ".join(f"{k}: most (median)" for k in kinds)
          + " | index files | index, gzipped | files a suspension changes |")
    print("|" + "---|" * (len(kinds) + 4))
    for r in rows:
        cells = [f"{r['kinds'][k][0] / 1000:.1f} KB ({r['kinds'][k][1] / 1000:.1f})" for k in kinds]
        print(f"| {r['n']:,} | " + " | ".join(cells)
              + f" | {r['files']:,} | {r['gz_mb']:.1f} MB | {len(r['changed'])} |")
    worst = max(r["kinds"][k][0] for r in rows if r["n"] >= 100_000 for k in kinds) if \
        any(r["n"] >= 100_000 for r in rows) else None
    if worst is not None:
        print(f"\nthe most one search downloads at 100,000 certificates or more: {worst / 1000:.1f} KB "
              f"(target: at most {TARGET / 1000:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
