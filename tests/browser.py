"""Debian's Chromium driven by Playwright, and a built site served on 127.0.0.1: for the browser tests
(test_site_browser.py) and bench/screenshots.py. Playwright's own browsers are never downloaded."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# headless as root on a closed network: no sandbox, no GPU, none of Chromium's own background connections
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}
LOCAL = "http://127.0.0.1:"


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a browser dropping a connection is no failure of the page


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on 127.0.0.1 (a free port), from a daemon thread; yields the base URL."""
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
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
