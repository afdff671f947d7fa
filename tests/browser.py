"""Debian's Chromium driven by Playwright, and a built site served on 127.0.0.1: for the browser tests
(test_site_browser.py), bench/screenshots.py and bench/weight.py (what a first visit downloads). Playwright's own
browsers are never downloaded."""

from __future__ import annotations

import functools
import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# headless as root on a closed network: no sandbox, no GPU, none of Chromium's own background connections
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}
LOCAL = "http://127.0.0.1:"
# what a server with gzip on compresses (nginx's gzip_types, GitHub Pages, a CDN): text; images and fonts go as
# they are
COMPRESSED = ("text/", "application/javascript", "application/json", "application/xml", "application/atom+xml",
              "image/svg+xml")


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves a folder as the site's hosts do (GitHub Pages, nginx with ``error_page 404 /404.html``, object
    storage with an error document): an address it does not have gets the site's 404.html, with status 404."""

    def log_message(self, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _GzipHandler(_QuietHandler):
    """The same, sending a text compressed (gzip -9) to a client that accepts it, as those hosts do."""

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        kind = self.guess_type(str(path))
        if not path.is_file() or "gzip" not in self.headers.get("Accept-Encoding", "") or not kind.startswith(
                COMPRESSED):
            super().do_GET()
            return
        body = gzip.compress(path.read_bytes(), 9, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a browser dropping a connection is no failure of the page


@contextmanager
def serve(folder: Path, *, compressed: bool = False) -> Iterator[str]:
    """``folder`` served over HTTP on 127.0.0.1 (a free port), from a daemon thread; yields the base URL.
    ``compressed``: texts are sent gzipped to a client that accepts it."""
    handler = _GzipHandler if compressed else _QuietHandler
    server = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, name=f"serve {folder.name}", daemon=True)
    thread.start()
    try:
        yield f"{LOCAL}{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def launch(playwright):
    """Debian's Chromium, headless; an error that says what to install when it is missing."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


# --- what a first visit downloads ---


@dataclass
class Fetched:
    """A response a page received: its address, its type, its body's bytes as they are and as gzip -9 sends them."""

    url: str
    content_type: str
    raw: int
    gzipped: int


def sent_size(body: bytes, content_type: str) -> int:
    """The bytes a server with gzip on sends of ``body``: gzip -9 of a text, an image or a font as it is."""
    if content_type.split(";")[0].strip().startswith(COMPRESSED):
        return len(gzip.compress(body, 9, mtime=0))
    return len(body)


def first_visit(browser, url: str, *, size: dict = PHONE) -> list[Fetched]:
    """Every response a first visit to ``url`` receives (a fresh context: an empty cache), in the order they came,
    once the network has been idle for half a second (what the page's scripts fetch is counted)."""
    context = browser.new_context(**size)
    try:
        page = context.new_page()
        responses = []
        page.on("response", lambda r: responses.append(r))
        page.goto(url, wait_until="networkidle")
        out = []
        for response in responses:
            kind = response.headers.get("content-type", "")
            body = response.body()
            out.append(Fetched(response.url, kind, len(body), sent_size(body, kind)))
        return out
    finally:
        context.close()
