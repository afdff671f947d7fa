"""The build after a change: it links from the published site every file whose inputs did not change and makes
the rest, and the site it publishes is byte for byte the one a build from nothing makes (publish/reuse.py).
The published site never changes under a build, and a published file edited since is made again."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from certreg.publish.build import build_site
from certreg.publish.reuse import MANIFEST
from conftest import ROOT

pytestmark = pytest.mark.publishes

CONFIG = ROOT / "mkdocs.yml"
DAY = dt.date(2025, 6, 30)


def files(site: Path) -> dict[str, bytes]:
    """Every file of a site, but its manifest (which holds the file system's inode numbers and times)."""
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file() and p.relative_to(site).as_posix() != MANIFEST}


def build(builder, out: Path, day=DAY, **kwargs):
    told = []
    build_site(CONFIG, out, day, registry=builder.root, report=told.append, **kwargs)
    (done,) = told
    return done


@pytest.fixture
def registry(builder):
    for i in range(1, 4):
        builder.zwl(f"CEC-ZWL-2024-000{i}", raw_material_source=f"来源{i}")
    builder.zcf()
    return builder


def test_a_build_over_an_unchanged_site_makes_nothing_anew(registry, tmp_path):
    out = tmp_path / "site"
    first = build(registry, out, pdfs=False)
    before = files(out)
    again = build(registry, out, pdfs=False)
    assert first.linked == 0 and first.written > 40
    assert (again.written, again.linked) == (0, first.written)
    assert files(out) == before


def test_after_one_decision_the_site_is_the_one_a_build_from_nothing_makes(registry, tmp_path):
    out, fresh = tmp_path / "site", tmp_path / "fresh"
    pdfs = tmp_path / "pdfs"
    build(registry, out, pdf_dir=pdfs)
    witness = tmp_path / "witness"  # the published files themselves (links to them), and their bytes
    shutil.copytree(out, witness, copy_function=os.link)
    published = files(witness)
    registry.decide("CEC-ZWL-2024-0002", "suspend", "2025-06-02", ground="holder-request",
                    facts_verified="2025-06-01")
    done = build(registry, out, pdf_dir=pdfs)
    assert files(out) == files(fresh_build(registry, fresh, pdfs))
    assert files(witness) == published  # nothing was written through a link into the published files
    made = {p for p, data in files(out).items() if published.get(p) != data}
    # the suspended certificate's pages, certificate.json and offered PDF; the lists its status moved between;
    # the new announcement's month; the open data and feeds; the home and list pages' counts; the sitemaps
    assert "certificates/CEC-ZWL-2024-0002/index.html" in made
    assert "certificates/CEC-ZWL-2024-0002/CEC-ZWL-2024-0002-v1.pdf" in made
    assert "certificates/CEC-ZWL-2024-0002/feed.atom" in made  # (its announcement, in its own feed)
    assert not any(p.startswith(("certificates/CEC-ZWL-2024-0001/", "certificates/CEC-ZWL-2024-0003/",
                                 "certificates/CEC-ZCF-2025-0001/", "en/certificates/CEC-ZWL-2024-0001/"))
                   for p in made)
    assert not any("/issued/" in p for p in made)  # the PDFs as issued are the archive: never made again
    assert done.written <= len(made) + 2, (done.written, sorted(made))  # (+ the sitemaps, always written)
    assert done.linked >= done.written


def test_the_site_replaced_is_the_next_builds_starting_folder(registry, tmp_path):
    """The site a build replaces is kept (.site.spare) and brought up to date by the next build: its folders and
    the files it shares with the published site stay where they are; what it had and the new site has not goes;
    the site published is the one a build from nothing makes."""
    out, spare = tmp_path / "site", tmp_path / ".site.spare"
    build(registry, out, pdfs=False)
    assert not spare.exists()  # (nothing was replaced)
    registry.decide("CEC-ZWL-2024-0002", "suspend", "2025-06-02", ground="holder-request",
                    facts_verified="2025-06-01")
    build(registry, out, pdfs=False)
    assert spare.is_dir() and (spare / MANIFEST).is_file()
    unchanged = "certificates/CEC-ZWL-2024-0001"
    def made(path: Path) -> tuple[int, int]:  # (a folder made anew may get the number of one just removed)
        st = os.stat(path)
        return st.st_ino, st.st_ctime_ns

    folder, page = made(spare / unchanged), made(spare / unchanged / "index.html")
    stale = spare / "lists" / "gone" / "index.html"  # a page the spare's site had and the next one has not
    stale.parent.mkdir()
    stale.write_text("gone")
    listed(spare, "lists/gone/index.html")
    registry.decide("CEC-ZWL-2024-0003", "suspend", "2025-06-03", ground="holder-request",
                    facts_verified="2025-06-02")
    done = build(registry, out, pdfs=False)
    assert (made(out / unchanged), made(out / unchanged / "index.html")) == (folder, page)
    assert not (out / "lists" / "gone").exists()
    assert files(out) == files(fresh_build_without_pdfs(registry, tmp_path / "fresh"))
    assert done.written < done.linked


def listed(site: Path, path: str) -> None:
    """Add the file ``path`` of ``site`` to its manifest, as if the build had made it (its folders' lines too)."""
    from certreg.publish.reuse import FOLDER_KEY

    manifest = site / MANIFEST
    lines = manifest.read_text(encoding="utf-8").split("\n")[:-1]
    lines.append(f"{path}\t-\t{(site / path).stat().st_size}\t0\t0")
    folders = {"/"} | {"/".join(path.split("/")[:i]) + "/" for i in range(1, path.count("/") + 1)}
    lines = [line for line in lines if line.split("\t")[0] not in folders]
    for folder in sorted(folders):
        st = (site / folder.rstrip("/")).stat()  # (the site's own: "/")
        lines.append(f"{folder}\t{FOLDER_KEY}\t0\t{st.st_mtime_ns}\t{st.st_ino}")
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("damage", ["no manifest", "a damaged line", "a file it does not list",
                                    "a file beside the manifest"])
def test_a_spare_site_its_manifest_does_not_describe_is_not_a_starting_folder(registry, tmp_path, damage):
    """Only a site whose manifest lists every file in it and no other is brought up to date: a spare without one
    (of an older certreg), with a damaged one, or holding a file its manifest does not name, is removed, and the
    site is made from the engine's output (nothing it held survives)."""
    out, spare = tmp_path / "site", tmp_path / ".site.spare"
    build(registry, out, pdfs=False)
    build(registry, out, DAY + dt.timedelta(days=1), pdfs=False)
    manifest = spare / MANIFEST
    if damage == "a file beside the manifest":  # (its folder's time is not in the manifest: writing it changes it)
        (manifest.parent / "unlisted.html").write_text("not the build's")
    else:
        (spare / "unlisted.html").write_text("not the build's")
    if damage == "no manifest":
        manifest.unlink()
    elif damage == "a damaged line":
        lines = manifest.read_text(encoding="utf-8").split("\n")
        lines[-2] = lines[-2].replace("\t", " ", 1)  # (the last file's line)
        manifest.write_text("\n".join(lines), encoding="utf-8")
    build(registry, out, DAY + dt.timedelta(days=2), pdfs=False)
    assert not (out / "unlisted.html").exists() and not (out / ".certreg" / "unlisted.html").exists()
    assert files(out) == files(fresh_build_without_pdfs(registry, tmp_path / "fresh", DAY + dt.timedelta(days=2)))


def test_a_file_put_into_the_published_site_by_hand_is_not_published_again(registry, tmp_path):
    """A file put into the published site, which no build made, goes at the next build (as when every build made
    its site from nothing), and does not come back when that site, replaced, is the starting folder of another."""
    out = tmp_path / "site"
    build(registry, out, pdfs=False)
    build(registry, out, pdfs=False)
    (out / "by-hand.html").write_text("put there by hand")
    (out / "certificates" / "CEC-ZWL-2024-0001" / "by-hand").mkdir()  # (a folder in a folder of the site)
    for _ in range(2):
        build(registry, out, pdfs=False)
        assert not (out / "by-hand.html").exists()
        assert not (out / "certificates" / "CEC-ZWL-2024-0001" / "by-hand").exists()
    assert files(out) == files(fresh_build_without_pdfs(registry, tmp_path / "fresh"))


def test_a_spare_that_cannot_be_removed_does_not_fail_a_build_that_published(registry, tmp_path, monkeypatch):
    """Once the new site is in place, the build has published, whatever becomes of the site it replaced: a spare
    that is not to be started from and could not be removed stays in the way, and the site replaced is removed."""
    from certreg.publish import build as b

    out, spare = tmp_path / "site", tmp_path / ".site.spare"
    build(registry, out, pdfs=False)
    spare.mkdir()
    (spare / "left.html").write_text("no manifest")
    real = b._discard
    monkeypatch.setattr(b, "_discard", lambda path, say: None if path == spare else real(path, say))
    registry.decide("CEC-ZWL-2024-0002", "suspend", "2025-06-02", ground="holder-request",
                    facts_verified="2025-06-01")
    build(registry, out, pdfs=False)
    assert b"CEC-ZWL-2024-0002" in (out / "data" / "announcements.json").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site.")) == [".site.spare"]
    assert [p.name for p in spare.iterdir()] == ["left.html"]


def test_a_file_name_the_manifest_cannot_hold_is_refused():
    from certreg.errors import CertregError
    from certreg.publish.reuse import Reuse

    reuse = Reuse(None, Path("/nonexistent"))
    reuse.new["odd\tname.html"] = ("-", 1, 1, 1)
    with pytest.raises(CertregError, match="a tab or a line break"):
        reuse.save()


def fresh_build(builder, out: Path, pdfs: Path) -> Path:
    build(builder, out, pdf_dir=pdfs)
    return out


def test_a_published_file_changed_since_is_made_again(registry, tmp_path):
    out = tmp_path / "site"
    build(registry, out, pdfs=False)
    page = out / "certificates" / "CEC-ZWL-2024-0001" / "index.html"
    right = page.read_bytes()
    page.write_bytes(right.replace(b"CEC-ZWL-2024-0001", b"CEC-ZWL-2024-9999", 1))  # (same size)
    data = out / "data" / "certificates.csv"
    data.unlink()
    data.write_bytes(b"number\r\n")
    again = build(registry, out, pdfs=False)
    assert page.read_bytes() == right
    assert again.written == 2


@pytest.mark.parametrize("damage", [("\t", " "), ("\t0\t", "\t\u00b2\t")])  # (a field less; a digit int() refuses)
def test_a_damaged_manifest_reuses_nothing(registry, tmp_path, damage):
    out = tmp_path / "site"
    first = build(registry, out, pdfs=False)
    before = files(out)
    manifest = out / MANIFEST
    text = manifest.read_text(encoding="utf-8")
    assert damage[0] in text
    manifest.write_text(text.replace(*damage, 1), encoding="utf-8")
    again = build(registry, out, pdfs=False)
    assert (again.written, again.linked) == (first.written, 0)
    assert files(out) == before


def test_a_new_date_makes_the_pages_that_show_it_again(registry, tmp_path):
    """Every page states the date its status was computed on: a build as of another day makes them again (not the
    look-up's shards, which state no date: those of a day that changes no status are the same files)."""
    out = tmp_path / "site"
    first = build(registry, out, pdfs=False)
    shards = len(list((out / "data" / "lookup").rglob("*.json")))
    again = build(registry, out, DAY + dt.timedelta(days=1), pdfs=False)
    assert shards and (again.written, again.linked) == (first.written - shards, shards)


def test_a_file_is_never_written_through_a_link(tmp_path):
    """reuse.write replaces a link (to a published file) with a new file: the published one keeps its bytes."""
    from certreg.publish.reuse import write

    published, new = tmp_path / "published.html", tmp_path / "new" / "page.html"
    published.write_bytes(b"published")
    new.parent.mkdir()
    os.link(published, new)
    write(new, b"made anew")
    assert (published.read_bytes(), new.read_bytes()) == (b"published", b"made anew")
    assert not os.path.samefile(published, new)


def test_the_engines_output_is_kept_and_linked_but_never_written_to(registry, tmp_path, monkeypatch):
    """With the cache on, a second build takes the hand-written pages and the theme from the engine's kept output
    (linked, not built again); the site is the one a build without the cache makes, and the kept output still
    has its pages as the engine wrote them (the generated parts are written into new files)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CERTREG_CACHE", str(cache))
    out = tmp_path / "site"
    build(registry, out, pdfs=False)
    (kept,) = (cache / "engine").iterdir()
    raw = {p: p.read_bytes() for p in kept.rglob("*") if p.is_file()}
    assert b'data-certreg="home"' in raw[kept / "index.html"]
    build(registry, out, pdfs=False)
    theme = next(p for p in (out / "assets" / "stylesheets").iterdir() if p.suffix == ".css")
    assert os.path.samefile(theme, kept / theme.relative_to(out))  # linked from the kept output
    assert {p: p.read_bytes() for p in kept.rglob("*") if p.is_file()} == raw
    monkeypatch.setenv("CERTREG_CACHE", "off")
    assert files(out) == files(fresh_build_without_pdfs(registry, tmp_path / "fresh"))


def fresh_build_without_pdfs(builder, out: Path, day=DAY) -> Path:
    build(builder, out, day, pdfs=False)
    return out


def test_pages_made_by_two_processes_are_those_one_makes(registry, tmp_path, monkeypatch):
    """A full build makes its pages in one process per core (forked): the same files as one process makes, and
    the manifest knows every one of them (a second build makes nothing anew)."""
    from certreg.publish import reuse

    one = tmp_path / "one"
    build(registry, one, pdfs=False)
    monkeypatch.setattr(reuse, "PARALLEL_FROM", 2)
    monkeypatch.setattr(reuse.os, "cpu_count", lambda: 2)
    two = tmp_path / "two"
    made = build(registry, two, pdfs=False)
    assert files(two) == files(one) and made.written > 40
    assert build(registry, two, pdfs=False).written == 0


def test_a_decision_remakes_the_list_pages_of_its_certificate_not_those_after_it(builder, tmp_path, monkeypatch):
    """Lists are cut into pages by their certificates' numbers (site.list_chunks): a suspension, which takes a
    certificate out of the valid lists and puts it into the suspended ones, remakes each list's first page (its
    title counts the list) and the page that shows it, and links every other page from the published site (but where
    a page ends after it: see below)."""
    from certreg.publish import site as site_module

    monkeypatch.setattr(site_module, "LIST_PAGE", 4)
    numbers = [builder.zwl(f"CEC-ZWL-2024-{i:04d}", raw_material_source=f"来源{i}") for i in range(1, 25)]
    out = tmp_path / "site"
    build(builder, out, pdfs=False)
    before = files(out)

    def pages_of(site: dict, number: str) -> set[str]:
        return {p for p, data in site.items() if p.startswith("lists/") and f"/{number}/".encode() in data}

    # (one whose leaving keeps the number of pages: where a page that ends after it joins the next, the pages after
    # it are numbered anew; one decision in about LIST_PAGE / 2)
    rows = [{"number": n} for n in numbers]
    suspended = next(n for n in numbers[3:] if len(site_module.list_chunks([r for r in rows if r["number"] != n]))
                     == len(site_module.list_chunks(rows)))
    builder.decide(suspended, "suspend", "2025-06-02", ground="holder-request", facts_verified="2025-06-01")
    build(builder, out, pdfs=False)
    after = files(out)
    made = {p for p in after if p.startswith("lists/") and before.get(p) != after[p]}
    first_pages = {f"lists/{key}/index.html" for key in ("all-valid", "zero-waste-low-carbon-water-valid",
                                                         "all-suspended", "zero-waste-low-carbon-water-suspended")}
    allowed = first_pages | pages_of(before, suspended) | pages_of(after, suspended)
    pages = sum(p.startswith("lists/all-valid") for p in before)
    assert pages >= 5 and made - allowed == set(), sorted(made - allowed)
    assert files(out) == files(fresh_build_without_pdfs(builder, tmp_path / "fresh"))
