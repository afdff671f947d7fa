"""Publication to an S3-compatible object store (Alibaba Cloud OSS, Tencent COS...): the built site's files that
the store lacks or holds otherwise are uploaded, the rest is left alone, and nothing is removed.

- What the store has is listed once (every page of the listing). A file is unchanged when the object has its size
  and either a plain MD5 ETag equal to the file's MD5 (a single-part upload: what this module makes), or, where
  the ETag is something else (a multipart upload by another tool, a store whose ETag is no MD5), the sha256 this
  module writes as the object's metadata (one HEAD); an object that has neither is uploaded again.
- Each upload is one PutObject (never multipart, so that its ETag stays the MD5) with Content-MD5 (the store
  checks the body), the sha256 as metadata, the Content-Type from an explicit table (the machine's mime.types
  differ), text in UTF-8, and a Cache-Control: a PDF as issued never changes (ZCF-11.3) and neither does an asset
  whose name holds its fingerprint, so those are kept a year; pages, certificate.json, the copies of PDFs offered
  (marked when a status changes) and the open data are revalidated on every visit.
- The order (an object store changes one object at a time): files and PDFs, then the pages, then the pages and
  files that list them (lists, announcements, feeds, sitemaps, data/*.json and data/*.csv), the deepest first,
  and the home page last of all, so that nothing links to a page before it is there.
- REG-APPEND: nothing published is lost. An object that the site no longer has is reported, never removed.
- The build's own files (``.certreg/``, its manifest) and any other dotfile stay out.
- A failure part way stops the upload after the files under way; what was uploaded stays, the message says how
  many remain, and a second run uploads only those (they are still missing or different).

Only this module talks to the store (boto3); the command (certreg upload) reads the configuration, calls
``upload_site`` and prints what it returns.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import CertregError
from .target import Target

WORKERS = 8  # uploads at once

UTF8 = "; charset=utf-8"
CONTENT_TYPES = {
    ".html": "text/html" + UTF8,
    ".css": "text/css" + UTF8,
    ".js": "text/javascript" + UTF8,
    ".mjs": "text/javascript" + UTF8,
    ".map": "application/json" + UTF8,
    ".json": "application/json" + UTF8,
    ".csv": "text/csv" + UTF8,
    ".txt": "text/plain" + UTF8,
    ".xml": "application/xml" + UTF8,
    ".atom": "application/atom+xml" + UTF8,
    ".svg": "image/svg+xml" + UTF8,
    ".webmanifest": "application/manifest+json" + UTF8,
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
REVALIDATE = "no-cache"  # (kept by browsers and CDNs, but asked for again each time: a 304 when unchanged)


def _glob(pattern: str) -> re.Pattern:
    """A path pattern of the site: ``*`` within one folder, ``**/`` any folders (none too)."""
    parts = re.split(r"(\*\*/|\*)", pattern)
    return re.compile("".join({"**/": "(?:[^/]+/)*", "*": "[^/]*"}.get(p, re.escape(p)) for p in parts))


# Cache-Control: the first rule that matches the path in the site, else REVALIDATE.
CACHE_RULES = (
    (_glob("certificates/*/issued/*.pdf"), IMMUTABLE),  # the PDF as issued (ZCF-11.3; REG-APPEND refuses a change)
    (re.compile(r"assets/(?:[^/]+/)*[^/]+\.[0-9a-f]{8}\.min\.(?:js|css)(?:\.map)?"), IMMUTABLE),  # the theme's,
    # fingerprinted: a new version has a new name
    (_glob("assets/**/*"), SHORT),  # certreg's script and style, the mark: new with a new certreg
    (_glob("data/schemas/*.json"), SHORT),
)

# The pages and files that list others (they go after what they link to), in Chinese and under en/.
ENTRIES = tuple(_glob(lang + p) for lang in ("", "en/") for p in (
    "index.html", "404.html", "sitemap*.xml", "feeds/*.atom", "data/*.json", "data/*.csv",
    "certificates/index.html", "lists/*/index.html", "announcements/index.html", "announcements/*/index.html"))
HOME = "index.html"


def content_type(rel: str) -> str:
    """The Content-Type of the site's file ``rel``; an UploadError for a kind of file the table lacks."""
    found = CONTENT_TYPES.get(PurePosixPath(rel).suffix.lower())
    if found is None:
        raise UploadError(f"{rel}: no Content-Type is known for this kind of file; add its extension to "
                          "CONTENT_TYPES in publish/upload.py (a guess could serve a page as a download); "
                          "nothing was uploaded")
    return found


def cache_control(rel: str) -> str:
    """The Cache-Control of the site's file ``rel`` (CACHE_RULES)."""
    return next((policy for pattern, policy in CACHE_RULES if pattern.fullmatch(rel)), REVALIDATE)


def stage(rel: str) -> tuple[int, int]:
    """When ``rel`` is uploaded: (0, 0) files and PDFs, (1, 0) pages, (2, -depth) what lists them, deepest first,
    (3, 0) the home page last of all."""
    if rel == HOME:
        return (3, 0)
    if any(p.fullmatch(rel) for p in ENTRIES):
        return (2, -rel.count("/"))
    return (1, 0) if rel.endswith(".html") else (0, 0)


class UploadError(CertregError):
    """Raised by ``upload_site``: the store refused or could not be reached, the site or a file cannot be read, or
    the credentials are missing (the message names the file and the store's error code)."""


@dataclass(frozen=True)
class LocalFile:
    rel: str  # the path in the site, with /
    path: Path
    size: int
    md5: str
    sha256: str


@dataclass
class Uploaded:
    """What ``upload_site`` did (or, with dry_run, would do)."""

    uploaded: list[tuple[str, str]] = field(default_factory=list)  # (path in the site, why), stage by stage
    unchanged: int = 0
    bytes: int = 0
    seconds: float = 0.0
    only_in_store: list[str] = field(default_factory=list)  # keys the site does not have: kept (REG-APPEND)
    dry_run: bool = False


def upload_site(site: Path, target: Target, *, dry_run: bool = False, workers: int = WORKERS, client=None,
                progress: Callable[[int, int], None] | None = None) -> Uploaded:
    """Upload to ``target`` (kind s3) every file of the built ``site`` that the store lacks or holds otherwise.

    ``client`` is a boto3 S3 client (default: ``make_client(target)``, the keys from the environment).
    ``progress``, if given, is told (done, total) as files are uploaded. With ``dry_run``, nothing is uploaded:
    the result says what would be. Any failure is an UploadError naming the file and the store's error code.
    """
    started = time.perf_counter()
    if target.kind != "s3":
        raise UploadError(f"the publication target ({target.path}) is {target.kind}: the registry's workflow "
                          "publishes it; certreg upload publishes to an object store (kind: s3)")
    files = scan(site)
    types = {f.rel: content_type(f.rel) for f in files}  # (an unknown kind of file stops everything here)
    with contextlib.ExitStack() as stack:
        if client is None:
            client = make_client(target)
            stack.callback(client.close)
        folder = f"{target.prefix}/" if target.prefix else ""
        remote = _listing(client, target, folder)
        done = Uploaded(dry_run=dry_run)
        plan: list[tuple[LocalFile, str]] = []
        for f in files:
            why = _changed(client, target, folder + f.rel, f, remote.get(folder + f.rel))
            if why:
                plan.append((f, why))
            else:
                done.unchanged += 1
        wanted = {folder + f.rel for f in files}
        done.only_in_store = sorted(k for k in remote if k not in wanted)
        plan.sort(key=lambda item: (stage(item[0].rel), item[0].rel))
        if dry_run:
            done.uploaded = [(f.rel, why) for f, why in plan]
            done.bytes = sum(f.size for f, _ in plan)
        else:
            _put_all(client, target, folder, plan, types, done, workers, progress)
    done.seconds = time.perf_counter() - started
    return done


def scan(site: Path) -> list[LocalFile]:
    """Every file of the built site but its dotfiles (``.certreg/``: the build's manifest), with its hashes."""
    if not site.is_dir():
        raise UploadError(f"{site}: no built site here (certreg build --out {site}); nothing was uploaded")
    files = []
    for root, dirs, names in os.walk(site):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(n for n in [*dirs, *names] if not n.startswith(".")):
            path = Path(root, name)
            rel = path.relative_to(site).as_posix()
            try:
                st = path.lstat()
                if stat.S_ISDIR(st.st_mode):
                    continue
                if not stat.S_ISREG(st.st_mode):
                    raise UploadError(f"{rel}: not a regular file or folder (a link, a device...): the build makes "
                                      "none; nothing was uploaded")
                md5, sha = _hashes(path)
            except OSError as exc:
                raise UploadError(f"{path}: cannot be read ({exc.strerror or exc}); nothing was uploaded") from None
            files.append(LocalFile(rel, path, st.st_size, md5, sha))
    return files


def _hashes(path: Path) -> tuple[str, str]:
    """The MD5 (what a store's ETag is) and the sha256 of the file's bytes, in hex."""
    md5, sha = hashlib.md5(), hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()


def make_client(target: Target, **session):
    """A boto3 S3 client for ``target``: the keys from boto3's usual sources (the environment first), an
    UploadError if there are none.

    ``request_checksum_calculation="when_required"``: boto3 1.36 and later otherwise send each upload as
    aws-chunked with a CRC32 trailer, which OSS and COS refuse; Content-MD5 is sent instead.
    """
    import boto3
    from botocore.config import Config

    maker = boto3.session.Session(**session)
    if maker.get_credentials() is None:
        raise UploadError(f"no keys for the object store ({target.where()}): set AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY in the environment (in the registry's workflow they come from "
                          "the secrets OBJECT_STORE_ACCESS_KEY_ID and OBJECT_STORE_SECRET_ACCESS_KEY); "
                          "nothing was uploaded")
    config = Config(region_name=target.region, signature_version="s3v4",
                    s3={"addressing_style": target.addressing},
                    request_checksum_calculation="when_required", response_checksum_validation="when_required",
                    retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60,
                    max_pool_connections=WORKERS)
    return maker.client("s3", endpoint_url=target.endpoint, config=config)


def _listing(client, target: Target, folder: str) -> dict[str, tuple[int, str]]:
    """key -> (size, ETag) of every object under ``folder``, every page of the listing read."""
    found = {}
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=folder):
            for obj in page.get("Contents", ()):
                found[obj["Key"]] = (obj["Size"], obj.get("ETag", ""))
    except Exception as exc:  # botocore's and the network's: one line
        raise UploadError(f"cannot list {target.where()}: {_reason(exc, target)}; nothing was uploaded") from None
    return found


_MD5_ETAG = re.compile(r'"?([0-9a-fA-F]{32})"?')


def _changed(client, target: Target, key: str, f: LocalFile, remote: tuple[int, str] | None) -> str:
    """Why ``f`` is to be uploaded ("" if the store has it): new, size, content, unverifiable."""
    if remote is None:
        return "new"
    size, etag = remote
    if size != f.size:
        return "size"
    plain = _MD5_ETAG.fullmatch(etag)
    if plain:  # (case-insensitive: OSS is said to write its ETags in capitals)
        return "" if plain.group(1).lower() == f.md5 else "content"
    try:  # a multipart or opaque ETag: the sha256 written with the object, if it was
        sha = client.head_object(Bucket=target.bucket, Key=key).get("Metadata", {}).get("sha256")
    except Exception as exc:
        raise UploadError(f"{f.rel}: cannot read {key} in {target.where()}: {_reason(exc, target)}; nothing was "
                          "uploaded") from None
    if sha is None:
        return "unverifiable"
    return "" if sha == f.sha256 else "content"


def _put_all(client, target: Target, folder: str, plan, types, done: Uploaded, workers: int, progress) -> None:
    """Upload ``plan`` stage after stage, each stage's files ``workers`` at a time; the home page alone, last. The
    first failure lets the uploads under way end, starts no other, and raises an UploadError."""
    total = len(plan)
    groups: dict[tuple[int, int], list] = {}
    for f, why in plan:
        groups.setdefault(stage(f.rel), []).append((f, why))

    def put(f: LocalFile) -> None:
        with f.path.open("rb") as body:
            client.put_object(Bucket=target.bucket, Key=folder + f.rel, Body=body, ContentLength=f.size,
                              ContentMD5=base64.b64encode(bytes.fromhex(f.md5)).decode("ascii"),
                              ContentType=types[f.rel], CacheControl=cache_control(f.rel),
                              Metadata={"sha256": f.sha256})

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for key in sorted(groups):
            futures = {pool.submit(put, f): (f, why) for f, why in groups[key]}
            failed = None
            sent = len(done.uploaded)
            for fut in as_completed(futures):
                if fut.cancelled():
                    continue
                exc = fut.exception()
                if exc is None:
                    done.bytes += futures[fut][0].size
                    sent += 1
                    if progress:
                        progress(sent, total)
                elif failed is None:
                    failed = (futures[fut][0], exc)
                    for other in futures:  # (those under way end; the others never start)
                        other.cancel()
            done.uploaded += [(f.rel, why) for fut, (f, why) in futures.items()
                              if not fut.cancelled() and fut.exception() is None]
            if failed is not None:
                f, exc = failed
                left = total - len(done.uploaded)
                raise UploadError(f"{f.rel}: the upload to {target.where()} failed: {_reason(exc, target)}; "
                                  f"{len(done.uploaded)} of the {total} file(s) to upload were uploaded and {left} "
                                  "remain: run certreg upload again to upload them")


def _reason(exc: BaseException, target: Target) -> str:
    """The store's error code and message, or what kept the store out of reach, in a few words."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
        SSLError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = error.get("Message") or ""
        hint = {"NoSuchBucket": f"there is no bucket {target.bucket} there (publication.yml: bucket, region)",
                "AccessDenied": "the keys may not do this (the store's access policy)",
                "InvalidAccessKeyId": "the store does not know this key (AWS_ACCESS_KEY_ID)",
                "SignatureDoesNotMatch": "the secret key does not match the key id (AWS_SECRET_ACCESS_KEY), or the "
                                         "region is wrong",
                "403": "access denied (the keys, or the store's access policy)",
                "404": f"there is no bucket {target.bucket} there"}.get(str(code), "")
        said = f" ({message})" if message and message != hint else ""
        return f"{code}{said}{f': {hint}' if hint else ''}"
    if isinstance(exc, NoCredentialsError):
        return "no keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, SSLError)):
        cause = exc.kwargs.get("error")
        why = _root(cause) if isinstance(cause, BaseException) else ""
        return f"the store at {target.endpoint} cannot be reached ({why or type(exc).__name__})"
    if isinstance(exc, BotoCoreError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def _root(exc: BaseException) -> str:
    """The deepest cause's words: 'Connection refused' rather than urllib3's wrapping of it."""
    while True:
        if isinstance(exc, OSError) and exc.strerror:
            return exc.strerror
        nxt = exc.__cause__ or exc.__context__ or next((a for a in exc.args if isinstance(a, BaseException)), None)
        if nxt is None:
            text = str(exc)
            match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
            return match.group(1).strip() if match else text
        exc = nxt
