"""A render shared between machines: which shard renders a certificate's PDFs, and joining the shards' folders.

``certreg render --shard K/N`` renders the certificates of the K-th of N shards; ``certreg render --merge``
joins their folders (``merge``) and checks that every PDF is there and current (``up_to_date``). Kept apart from
pdf.py, whose source is part of every PDF's render key: sharing the work changes no PDF.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from .pdf import Job, _is_current

ISSUED_NAME = re.compile(r"^CEC-[A-Z]{3}-[0-9]{4}-[0-9]{4,6}-v[1-9][0-9]*(?:-r[1-9][0-9]*)?\.pdf$")


def shard_of(number: str, count: int) -> int:
    """The shard (0 to ``count`` - 1) that renders the PDFs of the certificate ``number``: from the sha256 of the
    number alone, so that a certificate stays in its shard as the registry grows (and the shard's cache of the
    last render still has its PDFs)."""
    return int.from_bytes(hashlib.sha256(number.encode()).digest()[:8], "big") % count


def shard_numbers(numbers: list[str], shard: tuple[int, int]) -> list[str]:
    """The certificates of ``numbers`` that the K-th of N shards renders (``shard``: (K, N), K from 1)."""
    return [n for n in numbers if shard_of(n, shard[1]) == shard[0] - 1]


def published_pdfs(site: Path) -> frozenset[str]:
    """The names of the PDFs as issued that the published site ``site`` has (the archive, ZCF-11.3: published
    again as they are, never rendered anew): the files under ``certificates/*/issued/``, and those its open data
    (``data/certificates.json``) lists as issued, so that a machine holding only the open data knows them too.
    A name of no certificate's PDF in the open data is ignored (it would name nothing to render anyway)."""
    names = {p.name for p in site.glob("certificates/*/issued/*.pdf")}
    try:
        data = json.loads((site / "data" / "certificates.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset(names)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{site / 'data' / 'certificates.json'}: not the registry's open data ({exc})") from None
    certificates = data.get("certificates") if isinstance(data, dict) else None
    for cert in certificates if isinstance(certificates, list) else []:
        for v in cert.get("versions", []) if isinstance(cert, dict) else []:
            if not isinstance(v, dict):
                continue
            for url in [v.get("pdf_issued")] + [r.get("pdf_issued") for r in v.get("reissues", [])
                                                 if isinstance(r, dict)]:
                name = url.rpartition("/")[2] if isinstance(url, str) else ""
                if ISSUED_NAME.match(name):
                    names.add(name)
    return frozenset(names)


MANIFEST = ".manifest.json"  # the render's manifest in a PDF folder (pdf.render writes it)


def _manifest(folder: Path) -> dict:
    """The render manifest of ``folder`` (name -> its key and sha256), or none if it lacks one or it is damaged.
    (pdf.render reads its own: its source is part of every PDF's key, so it is not edited to share this.)"""
    try:
        found = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def up_to_date(todo: list[Job], out: Path, archived: frozenset[str] = frozenset()) -> list[str]:
    """The names of ``todo``'s PDFs that ``out`` lacks, or has from other inputs or with other bytes (but those of
    ``archived``, published already and never rendered)."""
    manifest = _manifest(out)
    return [job.name for job in todo
            if job.name not in archived and not _is_current(out / job.name, manifest.get(job.name), job.key)]


def merge(shards: list[Path], out: Path) -> list[str]:
    """Join into ``out`` the folders of a sharded render (``render(shard=...)``): every PDF (copied) and the
    manifest entries of each. Returns the names found in more than one shard with different bytes (none when the
    shards come from one render); those are not merged."""
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    manifest = _manifest(out)
    seen: dict[str, str | None] = {}
    clashes = []
    for folder in shards:
        theirs = _manifest(folder)
        for name, entry in sorted(theirs.items()):
            if not (folder / name).is_file() or not isinstance(entry, dict):
                continue
            if name in seen and seen[name] != entry.get("sha256"):
                clashes.append(name)
                continue
            seen[name] = entry.get("sha256")
            if (out / name).resolve() != (folder / name).resolve():
                shutil.copyfile(folder / name, out / name)
            manifest[name] = entry
    tmp = manifest_path.with_name(f".manifest.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, manifest_path)
    return clashes
