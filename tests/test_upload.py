"""certreg upload against a real S3 server: moto's, run on 127.0.0.1 and spoken to over HTTP by boto3, as OSS or
COS would be (no client or function replaced in-process). Only what changed is uploaded, with its type and cache
policy, the pages that list others last and the home page last of all; nothing is removed; a failure is one line,
and the next run uploads the rest. And publication.yml, the choice of target, checked against site_url."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from click.testing import CliRunner

from certreg.cli import main
from certreg.publish.target import TargetError, load_target
from certreg.publish.upload import UploadError, make_client, upload_site
from conftest import ROOT, SAMPLE_AS_OF

REGION = "us-east-1"
SITE_URL = "https://registry.example.cn/"


# --- the server, the keys, the buckets -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint():
    """moto's S3 server on 127.0.0.1, a port the system chooses; its address."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # (a log line per request otherwise)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def keys(monkeypatch, tmp_path):
    """The keys from the environment, as in CI; nothing from this machine's AWS files or an instance's metadata."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def admin(endpoint):
    """The test's own client of the server (the store's console, as it were)."""
    config = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                    response_checksum_validation="when_required")
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, config=config,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    yield client
    client.close()


@pytest.fixture
def bucket(admin) -> str:
    name = f"site-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=name)
    return name


def project(folder: Path, endpoint: str, bucket: str, *, prefix: str = "", site_url: str = SITE_URL,
            **fields) -> Path:
    """A project folder: mkdocs.yml (its site_url) and publication.yml (an object store); its mkdocs.yml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mkdocs.yml").write_text(f"site_url: {site_url}\n", encoding="utf-8")
    target = {"kind": "s3", "endpoint": endpoint, "bucket": bucket, "region": REGION, "addressing": "path",
              **({"prefix": prefix} if prefix else {}), **fields}
    (folder / "publication.yml").write_text("".join(f"{k}: {v}\n" for k, v in target.items()), encoding="utf-8")
    return folder / "mkdocs.yml"


def keys_in(admin, bucket: str, prefix: str = "") -> set[str]:
    found = set()
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found |= {o["Key"] for o in page.get("Contents", ())}
    return found


def files_of(site: Path) -> set[str]:
    """The site's files that are published: all but the dotfiles (.certreg/, the build's manifest)."""
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(site).parts)}


def upload(config: Path, site: Path, *args: str):
    return CliRunner().invoke(main, ["upload", "--site", str(site), "--config", str(config), *args])


def one_error_line(result) -> str:
    """The command failed (exit 1) with one line of error, and no traceback."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    assert not result.stderr[result.stderr.index("Error:"):].strip().count("\n"), result.stderr
    return errors[0]


def moto_auth(endpoint: str, after: str) -> None:
    """moto's own switch (over HTTP, like every other request): IAM keys and policies are checked after ``after``
    more requests ("0": from now on; "inf": never, moto's default)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=after.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


# --- the sites -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory) -> Path:
    """The sample registry's site, built once (no PDFs: their cache policy is tried on a small site below)."""
    from certreg.publish.build import build_site

    out = tmp_path_factory.mktemp("sample") / "site"
    build_site(ROOT / "mkdocs.yml", out, SAMPLE_AS_OF, pdfs=False, say=lambda line: None)
    assert (out / ".certreg" / "manifest.tsv").is_file()  # (what the upload must leave out)
    return out


@pytest.fixture
def site(sample_site, tmp_path) -> Path:
    """A copy of the sample site that a test may change."""
    return Path(shutil.copytree(sample_site, tmp_path / "site"))


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
SMALL = {
    "index.html": "<!doctype html><title>证书公示</title>",
    "404.html": "<!doctype html><title>404</title>",
    "about/index.html": "<!doctype html><title>about</title>",
    "certificates/CEC-1/index.html": "<!doctype html><a href='CEC-1-v1.pdf'>PDF</a>",
    "certificates/CEC-1/certificate.json": '{"number": "CEC-1", "status": "valid"}',
    "certificates/CEC-1/CEC-1-v1.pdf": PDF + b"% the copy offered\n",
    "certificates/CEC-1/issued/CEC-1-v1.pdf": PDF,
    "data/certificates.csv": "number,status\nCEC-1,valid\n",
    "data/certificates.json": '{"certificates": []}',
    "data/schemas/certificate.schema.json": "{}",
    "feeds/announcements.atom": '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"/>',
    "sitemap.xml": '<?xml version="1.0"?><urlset/>',
    "assets/stylesheets/main.57a0d79d.min.css": "body{color:#000}",
    "assets/javascripts/bundle.a5f9d56c.min.js.map": "{}",
    "assets/certreg.js": "'use strict';",
    "assets/images/favicon.png": b"\x89PNG\r\n\x1a\n" + bytes(16),
    "assets/sample-mark.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    ".certreg/manifest.tsv": "# certreg-manifest/1\n",
    "assets/.hidden": "a dotfile",
}


def make_site(root: Path, files: dict) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


# --- what is uploaded ------------------------------------------------------------------------------------------


def test_the_first_upload_sends_every_file_but_the_builds_own(endpoint, admin, bucket, site, tmp_path):
    config = project(tmp_path / "project", endpoint, bucket)
    published = files_of(site)
    assert (site / ".certreg" / "manifest.tsv").is_file() and len(published) > 150

    done = upload_site(site, load_target(config))
    assert {rel for rel, _ in done.uploaded} == published and {why for _, why in done.uploaded} == {"new"}
    assert keys_in(admin, bucket) == published  # nothing else: no .certreg/
    assert done.unchanged == 0 and done.only_in_store == []
    assert done.bytes == sum((site / rel).stat().st_size for rel in published)


def test_a_second_upload_sends_nothing_and_one_changed_file_only_itself(endpoint, admin, bucket, site, tmp_path):
    config = project(tmp_path / "project", endpoint, bucket, prefix="registry",
                     site_url=SITE_URL + "registry/")
    target = load_target(config)
    upload_site(site, target)
    heads: list = []
    client = make_client(target)
    client.meta.events.register("before-call.s3.HeadObject", lambda **kw: heads.append(1) and None)
    again = upload_site(site, target, client=client)
    assert again.uploaded == [] and again.unchanged == len(files_of(site)) and heads == []  # (the listing told)

    # the same size, other bytes: only the MD5 (the ETag) tells
    page = site / "certificates" / "CEC-ZWL-2024-0001" / "certificate.json"
    text = page.read_text(encoding="utf-8")
    changed = text.replace('"valid"', '"VALID"', 1)
    assert changed != text and len(changed) == len(text)
    page.write_text(changed, encoding="utf-8")
    done = upload_site(site, target, client=client)
    assert done.uploaded == [("certificates/CEC-ZWL-2024-0001/certificate.json", "content")]
    assert done.unchanged == len(files_of(site)) - 1
    body = admin.get_object(Bucket=bucket, Key="registry/certificates/CEC-ZWL-2024-0001/certificate.json")["Body"]
    assert body.read().decode("utf-8") == changed
    client.close()


def test_types_and_cache_policies_as_sent_and_as_stored(endpoint, admin, bucket, tmp_path):
    site = make_site(tmp_path / "site", SMALL)
    config = project(tmp_path / "project", endpoint, bucket)
    target = load_target(config)
    sent: dict = {}

    def seen(request, **kw) -> None:  # (a handler of before-send that returned something would be the response)
        sent[urllib.parse.unquote(urllib.parse.urlsplit(request.url).path.split("/", 2)[2])] = dict(request.headers)

    client = make_client(target)
    client.meta.events.register("before-send.s3.PutObject", seen)
    upload_site(site, target, client=client)
    client.close()
    year, revalidate, short = "public, max-age=31536000, immutable", "no-cache", "public, max-age=300"
    expected = {
        "index.html": ("text/html; charset=utf-8", revalidate),
        "certificates/CEC-1/index.html": ("text/html; charset=utf-8", revalidate),
        "certificates/CEC-1/certificate.json": ("application/json; charset=utf-8", revalidate),
        "certificates/CEC-1/CEC-1-v1.pdf": ("application/pdf", revalidate),  # the copy: marked when status changes
        "certificates/CEC-1/issued/CEC-1-v1.pdf": ("application/pdf", year),  # as issued: never changes
        "data/certificates.csv": ("text/csv; charset=utf-8", revalidate),
        "data/certificates.json": ("application/json; charset=utf-8", revalidate),
        "data/schemas/certificate.schema.json": ("application/json; charset=utf-8", short),
        "feeds/announcements.atom": ("application/atom+xml; charset=utf-8", revalidate),
        "sitemap.xml": ("application/xml; charset=utf-8", revalidate),
        "assets/stylesheets/main.57a0d79d.min.css": ("text/css; charset=utf-8", year),
        "assets/javascripts/bundle.a5f9d56c.min.js.map": ("application/json; charset=utf-8", year),
        "assets/certreg.js": ("text/javascript; charset=utf-8", short),
        "assets/images/favicon.png": ("image/png", short),
        "assets/sample-mark.svg": ("image/svg+xml; charset=utf-8", short),
    }
    published = files_of(site)
    assert set(expected) <= published and set(sent) == published == keys_in(admin, bucket)
    for key, (kind, cache) in expected.items():
        head = admin.head_object(Bucket=bucket, Key=key)
        data = (site / key).read_bytes()
        assert (head["ContentType"], head["CacheControl"]) == (kind, cache), key
        assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', key  # one part: the ETag is the MD5
        assert head["Metadata"] == {"sha256": hashlib.sha256(data).hexdigest()}, key
    for key, headers in sent.items():
        # Content-MD5 (the store checks the body); none of boto3's newer checksums, which OSS and COS refuse
        assert base64.b64decode(headers["Content-MD5"]) == hashlib.md5((site / key).read_bytes()).digest(), key
        assert not [h for h in headers if h.lower().startswith("x-amz-checksum") or h.lower() == "x-amz-trailer"
                    or h.lower() == "content-encoding"], (key, headers)


def test_files_first_then_pages_then_what_lists_them_and_the_home_page_last(endpoint, bucket, site, tmp_path):
    config = project(tmp_path / "project", endpoint, bucket)
    target = load_target(config)
    order: list[str] = []
    client = make_client(target)

    def started(params, **kw) -> None:
        order.append(params["Key"])

    client.meta.events.register("before-parameter-build.s3.PutObject", started)  # as each upload starts
    upload_site(site, target, client=client, workers=8)
    client.close()
    at = {key: i for i, key in enumerate(order)}
    assert len(at) == len(order) == len(files_of(site))
    pages = [k for k in order if re.fullmatch(r"(en/)?certificates/[^/]+/index\.html", k)]
    lists = [k for k in order if re.fullmatch(r"(en/)?(index\.html|certificates/index\.html|lists/.+|announcements/.+"
                                              r"|sitemap\.xml|feeds/.+)|data/[^/]+\.(json|csv)", k)]
    files = [k for k in order if not k.endswith(".html") and k not in lists]
    assert len(pages) >= 20 and len(lists) >= 20 and "data/lookup.json" in lists and "feeds/announcements.atom" in lists
    assert max(at[k] for k in files) < min(at[k] for k in pages), "a page went up before what it shows"
    assert max(at[k] for k in pages) < min(at[k] for k in lists), "a list went up before a page it links to"
    assert order[-1] == "index.html", "the home page is the last"
    months = [k for k in order if re.fullmatch(r"announcements/[^/]+/index\.html", k)]
    assert months and max(at[k] for k in months) < at["announcements/index.html"]  # the deepest first


def test_a_plain_http_get_of_the_published_site(endpoint, admin, bucket, tmp_path):
    site = make_site(tmp_path / "site", SMALL)
    upload_site(site, load_target(project(tmp_path / "project", endpoint, bucket)))
    home = f"{endpoint}/{bucket}/index.html"
    with pytest.raises(urllib.error.HTTPError) as refused:  # (as on a real store: not public until it is made so)
        urllib.request.urlopen(home, timeout=10)
    assert refused.value.code == 403
    refused.value.close()
    admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    with urllib.request.urlopen(home, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.read().decode("utf-8") == SMALL["index.html"]
    with urllib.request.urlopen(f"{endpoint}/{bucket}/certificates/CEC-1/issued/CEC-1-v1.pdf", timeout=10) as response:
        assert (response.status, response.headers["Content-Type"], response.read()) == (200, "application/pdf", PDF)


def test_an_object_the_site_no_longer_has_is_listed_and_kept(endpoint, admin, bucket, tmp_path):
    site = make_site(tmp_path / "site", SMALL)
    config = project(tmp_path / "project", endpoint, bucket, prefix="registry", site_url=SITE_URL + "registry/")
    admin.put_object(Bucket=bucket, Key="registry/assets/javascripts/bundle.0123abcd.min.js", Body=b"old")
    admin.put_object(Bucket=bucket, Key="elsewhere/kept.txt", Body=b"not the site's")  # (outside the prefix)

    result = upload(config, site)
    assert result.exit_code == 0, result.output
    assert f"uploaded {len(files_of(site))} file(s)" in result.stdout
    assert "1 object(s) in the store that the site does not have, kept" in result.stdout
    assert "  registry/assets/javascripts/bundle.0123abcd.min.js\n" in result.stdout
    assert "elsewhere" not in result.stdout
    assert {"registry/assets/javascripts/bundle.0123abcd.min.js", "elsewhere/kept.txt"} <= keys_in(admin, bucket)
    assert upload(config, site).stdout.startswith(f"uploaded 0 file(s) (0 bytes), {len(files_of(site))} unchanged")


def test_a_dry_run_uploads_nothing_and_tells_what_it_would(endpoint, admin, bucket, tmp_path):
    site = make_site(tmp_path / "site", SMALL)
    result = upload(project(tmp_path / "project", endpoint, bucket), site, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would upload index.html (new)\n" in result.stdout
    assert f"would upload {len(files_of(site))} file(s)" in result.stdout
    assert keys_in(admin, bucket) == set()


def multipart(admin, bucket: str, key: str, body: bytes, metadata: dict) -> None:
    """An object uploaded in two parts, as another tool would (its ETag is no MD5: "…-2")."""
    started = admin.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata)
    half = 5 * 1024 * 1024  # (the smallest part but the last)
    parts = []
    for number, chunk in enumerate((body[:half], body[half:]), 1):
        part = admin.upload_part(Bucket=bucket, Key=key, UploadId=started["UploadId"], PartNumber=number, Body=chunk)
        parts.append({"ETag": part["ETag"], "PartNumber": number})
    admin.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=started["UploadId"],
                                    MultipartUpload={"Parts": parts})
    assert admin.head_object(Bucket=bucket, Key=key)["ETag"].endswith('-2"')


def test_an_etag_that_is_no_md5_is_judged_by_the_sha256_written_with_the_object(endpoint, admin, bucket, tmp_path):
    big = bytes(range(256)) * (6 * 4096)  # 6 MiB
    other = big[:-1] + b"\x00"  # the same size
    site = make_site(tmp_path / "site", {"a.pdf": big, "b.pdf": big, "c.pdf": big})
    sha = hashlib.sha256(big).hexdigest()
    multipart(admin, bucket, "a.pdf", big, {"sha256": sha})  # the same bytes, and says so
    multipart(admin, bucket, "b.pdf", big, {})  # the same bytes, but nothing tells
    multipart(admin, bucket, "c.pdf", other, {"sha256": hashlib.sha256(other).hexdigest()})  # other bytes
    done = upload_site(site, load_target(project(tmp_path / "project", endpoint, bucket)))
    assert done.uploaded == [("b.pdf", "unverifiable"), ("c.pdf", "content")] and done.unchanged == 1
    for key in ("b.pdf", "c.pdf"):
        head = admin.head_object(Bucket=bucket, Key=key)
        assert head["ETag"] == f'"{hashlib.md5(big).hexdigest()}"' and head["Metadata"] == {"sha256": sha}
    assert admin.get_object(Bucket=bucket, Key="c.pdf")["Body"].read() == big


def test_a_failure_part_way_keeps_what_was_uploaded_and_the_next_run_uploads_the_rest(endpoint, admin, bucket, site,
                                                                                       tmp_path, monkeypatch):
    """The store refuses one file (an access policy that denies it): the upload stops with one line saying how
    many remain; the home page, last, is not there yet; a run with the right keys uploads only the rest."""
    config = project(tmp_path / "project", endpoint, bucket, prefix="pub", site_url=SITE_URL + "pub/")
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    user = f"uploader-{bucket}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(UserName=user, PolicyName="site", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/pub/data/lookup.json"}]}))
    iam.close()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    moto_auth(endpoint, "0")
    try:
        result = upload(config, site)
    finally:
        moto_auth(endpoint, "inf")
    line = one_error_line(result)
    assert line.startswith("Error: data/lookup.json: the upload to s3://") and "AccessDenied" in line, line
    numbers = re.search(r"(\d+) of the (\d+) file\(s\) to upload were uploaded and (\d+) remain: run certreg "
                        r"upload again", line)
    assert numbers, line
    uploaded, total, left = map(int, numbers.groups())
    assert total == len(files_of(site)) and uploaded + left == total and 0 < left < total
    there = {k.removeprefix("pub/") for k in keys_in(admin, bucket, "pub/")}
    assert len(there) == uploaded and "data/lookup.json" not in there and "index.html" not in there
    assert {k for k in files_of(site) if re.fullmatch(r"(en/)?certificates/[^/]+/index\.html", k)} <= there

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # (the keys of an account the policy does not hold back)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    rest = upload_site(site, load_target(config))
    assert {rel for rel, _ in rest.uploaded} == files_of(site) - there and len(rest.uploaded) == left
    assert rest.unchanged == uploaded and rest.uploaded[-1] == ("index.html", "new")
    assert upload_site(site, load_target(config)).uploaded == []


# --- failures are one line ------------------------------------------------------------------------------------


def test_a_missing_bucket_is_one_line_and_exit_1(endpoint, admin, tmp_path):
    site = make_site(tmp_path / "site", SMALL)
    line = one_error_line(upload(project(tmp_path / "project", endpoint, "no-such-bucket-here"), site))
    assert "cannot list s3://no-such-bucket-here/" in line and "NoSuchBucket" in line
    assert line.endswith("nothing was uploaded")


def test_keys_the_store_does_not_know_are_one_line_and_exit_1(endpoint, admin, bucket, tmp_path):
    site = make_site(tmp_path / "site", SMALL)
    config = project(tmp_path / "project", endpoint, bucket)
    moto_auth(endpoint, "0")  # the server now checks every request's key and signature
    try:
        line = one_error_line(upload(config, site))
    finally:
        moto_auth(endpoint, "inf")
    assert "InvalidAccessKeyId" in line and "AWS_ACCESS_KEY_ID" in line, line
    assert keys_in(admin, bucket) == set()


def test_no_keys_at_all_is_one_line_naming_the_variables(endpoint, bucket, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    site = make_site(tmp_path / "site", SMALL)
    line = one_error_line(upload(project(tmp_path / "project", endpoint, bucket), site))
    assert "AWS_ACCESS_KEY_ID" in line and "AWS_SECRET_ACCESS_KEY" in line and "OBJECT_STORE_" in line, line


def test_a_store_out_of_reach_is_one_line_and_exit_1(bucket, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    site = make_site(tmp_path / "site", SMALL)
    line = one_error_line(upload(project(tmp_path / "project", f"http://127.0.0.1:{closed}", bucket), site))
    assert f"the store at http://127.0.0.1:{closed} cannot be reached (Connection refused)" in line, line


def test_a_file_of_an_unknown_kind_stops_everything_before_the_store_is_asked(endpoint, admin, bucket, tmp_path):
    site = make_site(tmp_path / "site", {**SMALL, "downloads/registry.xlsx": b"PK"})
    with pytest.raises(UploadError, match=r"downloads/registry\.xlsx: no Content-Type .* CONTENT_TYPES"):
        upload_site(site, load_target(project(tmp_path / "project", endpoint, bucket)))
    assert keys_in(admin, bucket) == set()


def test_virtual_hosted_addressing_the_default_that_oss_and_cos_require(endpoint, admin, tmp_path):
    """BUCKET.HOST as the Host of every request. (BUCKET.s3.localhost does not resolve here: each request is sent
    to 127.0.0.1 with its Host kept, which the signature covers.)"""
    port = urllib.parse.urlsplit(endpoint).port
    name = f"vh-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=name)
    config = project(tmp_path / "project", f"http://s3.localhost:{port}", name)
    text = (config.parent / "publication.yml").read_text(encoding="utf-8")
    (config.parent / "publication.yml").write_text(text.replace("addressing: path\n", ""), encoding="utf-8")
    target = load_target(config)
    assert target.addressing == "virtual"
    hosts = set()

    def to_this_machine(request, **kw):
        url = urllib.parse.urlsplit(request.url)
        hosts.add(url.netloc)
        request.headers["Host"] = url.netloc
        request.url = urllib.parse.urlunsplit(url._replace(netloc=f"127.0.0.1:{port}"))

    client = make_client(target)
    client.meta.events.register("before-send.s3", to_this_machine)
    site = make_site(tmp_path / "site", SMALL)
    assert len(upload_site(site, target, client=client).uploaded) == len(files_of(site))
    client.close()
    assert hosts == {f"{name}.s3.localhost:{port}"}
    assert keys_in(admin, name) == files_of(site)


# --- publication.yml -------------------------------------------------------------------------------------------


def test_the_repositorys_target_is_github_pages_and_certreg_upload_says_it_does_not_publish_it(tmp_path):
    result = CliRunner().invoke(main, ["upload", "--check", "--config", str(ROOT / "mkdocs.yml")])
    assert (result.exit_code, result.stdout) == (0, "github-pages\n"), result.output
    line = one_error_line(CliRunner().invoke(main, ["upload", "--config", str(ROOT / "mkdocs.yml")]))
    assert "is github-pages" in line and "kind: s3" in line


@pytest.mark.parametrize("fields,site_url,message", [
    ({"secret_access_key": "abc"}, SITE_URL, "secret_access_key: the store's keys are never written"),
    ({"prefix": "registry"}, SITE_URL, "does not end with /registry/"),
    ({}, "https://site-1.oss-cn-hangzhou.aliyuncs.com/", "store's own domain (Alibaba Cloud OSS)"),
    ({}, "https://cec.github.io/registry/", "is a GitHub Pages address"),
    ({"endpoint": "https://s3.example.com"}, "https://site-1.s3.example.com/", "is the store's API address"),
    ({"endpoint": "http://s3.oss-cn-hangzhou.aliyuncs.com"}, SITE_URL, "is plain http"),
    ({"addressing": "virtual-hosted"}, SITE_URL, 'addressing "virtual-hosted" is not one of: virtual, path'),
])
def test_a_target_that_cannot_serve_the_site_is_refused(tmp_path, fields, site_url, message):
    fields = dict(fields)
    endpoint = fields.pop("endpoint", "http://127.0.0.1:9")
    config = project(tmp_path, endpoint, "site-1", site_url=site_url, **fields)
    with pytest.raises(TargetError) as refused:
        load_target(config)
    assert message in str(refused.value)
    assert f"{tmp_path / 'publication.yml'}:" in str(refused.value)  # (file, line and column)
    result = CliRunner().invoke(main, ["upload", "--check", "--config", str(config)])
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output, result.output


def test_github_pages_takes_no_store_fields(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(f"site_url: {SITE_URL}\n", encoding="utf-8")
    (tmp_path / "publication.yml").write_text("kind: github-pages\nbucket: site-1\n", encoding="utf-8")
    with pytest.raises(TargetError, match="bucket: a field of kind: s3"):
        load_target(tmp_path / "mkdocs.yml")
