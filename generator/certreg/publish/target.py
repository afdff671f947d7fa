"""Where the built site is published: ``publication.yml`` beside mkdocs.yml, read once and checked.

Two kinds of target (README, "Hosting"):

- ``github-pages``: the registry's workflow deploys the site with GitHub Pages; certreg uploads nothing.
- ``s3``: an S3-compatible object store (Alibaba Cloud OSS, Tencent COS, ...), to which ``certreg upload``
  sends the files that changed (publish/upload.py).

The file says where the site goes, never how to get in: the store's keys come from the environment
(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or boto3's other usual sources), in CI from the repository's secrets.
The public address stays mkdocs.yml's site_url (its one source); it is checked here against the target.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import CertregError
from ..problems import FORMATTERS, Problem, Report
from ..records.schema import INVALID, Checker, Choice, Field, Forbidden, Map, Text
from ..records.yamlfile import YamlProblem, read

FILE = "publication.yml"
KINDS = ("github-pages", "s3")
ADDRESSING = ("virtual", "path")
RULE = "REG-SCHEMA"

_NO_KEYS = ("the store's keys are never written in a file of the repository: they come from the environment "
            "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), in CI from the repository's secrets")
_KIND = Field(Choice(KINDS), required=True, doc="github-pages, or s3 for an S3-compatible object store")
# a field that looks like a key or a password gets its own message rather than "unknown field"
_SECRET = re.compile(r"(?i).*(secret|access_?key|password|passwd|token|credential).*")

# Bucket names as S3, OSS and COS all accept them (COS adds its APPID: name-1250000000).
BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
# A folder inside the bucket: plain path segments, no leading or trailing slash, no . or ..
PREFIX = r"(?!\.{1,2}(/|$))[A-Za-z0-9_-][A-Za-z0-9._-]*(/(?!\.{1,2}(/|$))[A-Za-z0-9_-][A-Za-z0-9._-]*)*"

_S3 = Map({
    "kind": _KIND,
    "endpoint": Field(Text(pattern=r"https?://[^\s/?#]+/?", pattern_hint="https://HOST (no path)"),
                      required=True, doc="the store's S3 API address, e.g. https://s3.oss-cn-hangzhou.aliyuncs.com"),
    "bucket": Field(Text(pattern=BUCKET, pattern_hint="a bucket name: 3 to 63 lower-case letters, digits, - and ."),
                    required=True, doc="the bucket the site goes into"),
    "prefix": Field(Text(pattern=PREFIX, max_length=200, pattern_hint="a folder such as registry or a/b (no "
                                                                       "leading or trailing /)"),
                    doc="a folder inside the bucket (default: the bucket's top)"),
    "region": Field(Text(pattern=r"[a-z0-9][a-z0-9-]{1,40}", pattern_hint="a region id such as cn-hangzhou"),
                    required=True, doc="the store's region (it signs the requests): cn-hangzhou, ap-guangzhou..."),
    "addressing": Field(Choice(ADDRESSING),
                        doc="virtual (the default: BUCKET.HOST, which OSS and COS require) or path (HOST/BUCKET, "
                            "for a test server on 127.0.0.1)"),
})
SPECS = {
    "s3": _S3,
    "github-pages": Map({"kind": _KIND} | {name: Field(Forbidden(RULE, "a field of kind: s3 (an object store); "
                                                                       "GitHub Pages needs no other field"))
                                           for name in _S3.fields if name != "kind"}),
}

# The stores' own domains serve HTML as a download (OSS since 2018, COS for buckets made since 2024): a site
# there needs a domain of its own, bound to the bucket (README, "Hosting").
STORE_DOMAINS = {"aliyuncs.com": "Alibaba Cloud OSS", "myqcloud.com": "Tencent COS"}


class TargetError(CertregError):
    """Raised by ``load_target``: publication.yml is missing, unreadable, wrong, or disagrees with site_url."""


@dataclass(frozen=True)
class Target:
    """Where the site is published; the s3 fields are empty for GitHub Pages."""

    kind: str
    site_url: str
    endpoint: str = ""
    bucket: str = ""
    prefix: str = ""
    region: str = ""
    addressing: str = "virtual"
    path: Path | None = None  # the file it was read from

    def where(self) -> str:
        """s3://BUCKET/PREFIX/ at ENDPOINT, for messages."""
        folder = f"{self.prefix}/" if self.prefix else ""
        return f"s3://{self.bucket}/{folder} at {self.endpoint}"


def load_target(config_file: Path) -> Target:
    """The publication target of the site configured by ``config_file`` (mkdocs.yml): publication.yml beside it,
    checked against its schema and against the site's public address (site_url)."""
    from .pdf import RenderError, site_url

    path = config_file.parent / FILE
    try:
        url = site_url(config_file)
    except RenderError as exc:
        raise TargetError(str(exc)) from None
    try:
        node = read(path)
    except YamlProblem as exc:
        if not path.exists():
            raise TargetError(f"{path}: no such file; it says where the site is published: `kind: github-pages`, "
                              "or `kind: s3` with the store's endpoint, bucket and region (README, Hosting)") from None
        raise TargetError(f"{path}:{exc.line}:{exc.column}: error {exc.rule} {exc.message}") from None
    kind = _top(node, "kind")
    chk = Checker(path)
    value = SPECS.get(kind or "", SPECS["s3"]).check(node, chk, ())
    problems = [Problem(p.path, p.level, p.rule, f"{p.key[0]}: {_NO_KEYS}", p.line, p.column, p.key)
                if len(p.key) == 1 and _SECRET.fullmatch(str(p.key[0])) else p for p in chk.problems]
    if kind not in KINDS:  # a kind missing or misspelt: that alone (which fields belong depends on it)
        problems = [p for p in problems if p.key[:1] == ("kind",) or '"kind"' in p.message] or problems
    if value is not INVALID:
        problems += _consistency(path, value, url)
    if problems:
        shown = FORMATTERS["text"](Report(problems).resolve().problems)
        raise TargetError(f"{shown}\n{path}: the publication target has {len(problems)} error(s); nothing was "
                          "published")
    return Target(kind=value["kind"], site_url=url, endpoint=value.get("endpoint", "").rstrip("/"),
                  bucket=value.get("bucket", ""), prefix=value.get("prefix", ""), region=value.get("region", ""),
                  addressing=value.get("addressing", "virtual"), path=path)


def _top(node, name: str) -> str | None:
    from yaml.nodes import MappingNode, ScalarNode

    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == name and isinstance(v, ScalarNode):
                return v.value
    return None


def _consistency(path: Path, value: dict, url: str) -> list[Problem]:
    """What the target and the public address (site_url) must agree on."""
    if value["kind"] != "s3":
        return []
    problems = []
    site = urlsplit(url)
    host = (site.hostname or "").lower()
    endpoint = urlsplit(value["endpoint"])
    if endpoint.scheme != "https" and not _loopback(endpoint.hostname or ""):
        problems.append(Problem(path, "error", RULE, f"endpoint {value['endpoint']} is plain http: the keys' "
                                "signatures and the site would cross the network in clear; use https:// (http only "
                                "for a test server on this machine, 127.0.0.1)", key=("endpoint",)))
    store = next((name for domain, name in STORE_DOMAINS.items() if host == domain or host.endswith("." + domain)),
                 None)
    api = (endpoint.hostname or "").lower()
    if store:
        problems.append(Problem(path, "error", RULE, f"mkdocs.yml's site_url {url} is the store's own domain "
                                f"({store}), which serves web pages as downloads: bind a domain of the registry's own "
                                "to the bucket and make it the site_url (README, Hosting)", key=("kind",)))
    elif host == api or host.endswith("." + api):
        problems.append(Problem(path, "error", RULE, f"mkdocs.yml's site_url {url} is the store's API address, "
                                "which serves no folder's index page (certificates/NUMBER/ would not be found): bind "
                                "a domain to the bucket's website and make it the site_url (README, Hosting)",
                                key=("kind",)))
    if host.endswith(".github.io"):
        problems.append(Problem(path, "error", RULE, f"mkdocs.yml's site_url {url} is a GitHub Pages address, but the "
                                "site is published to an object store (kind: s3): the QR codes would lead elsewhere; "
                                "make site_url the domain bound to the bucket", key=("kind",)))
    prefix = value.get("prefix")
    if prefix and not site.path.endswith(f"/{prefix}/"):
        problems.append(Problem(path, "error", RULE, f"the site goes into the folder {prefix}/ of the bucket, but "
                                f"mkdocs.yml's site_url {url} does not end with /{prefix}/: the QR codes would lead to "
                                "addresses the store does not serve", key=("prefix",)))
    return problems


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):  # (RFC 6761: names under localhost are this machine)
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
