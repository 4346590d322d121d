"""The web capture page (page/: plain HTML, JS and CSS, no build step, nothing from a CDN).

Served by the app at /liveness, with a Content-Security-Policy that lets it load only its
own files and talk only to this origin, and never cached. The tokens travel in the URL
fragment, which browsers never send to a server; the page removes them from the address bar
at once and sends them only as Authorization headers. The face detector's runtime
(page_assets.py) is fetched with the assets token and imported from a blob: URL, and it
compiles WebAssembly: hence `blob:` and 'wasm-unsafe-eval' in script-src, and nothing more.
"""
from __future__ import annotations

from pathlib import Path

PAGE_DIR = Path(__file__).parent / "page"
ASSETS = {
    "": ("index.html", "text/html; charset=utf-8"),
    "capture.js": ("capture.js", "text/javascript; charset=utf-8"),
    "camera.js": ("camera.js", "text/javascript; charset=utf-8"),
    "detector.js": ("detector.js", "text/javascript; charset=utf-8"),
    "guidance.js": ("guidance.js", "text/javascript; charset=utf-8"),
    "capture.css": ("capture.css", "text/css; charset=utf-8"),
}
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self' blob: 'wasm-unsafe-eval'; style-src 'self'; "
                                "img-src 'self' blob: data:; media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=()",
    "Cache-Control": "no-store",
}


def asset(name: str) -> tuple[bytes, str] | None:
    """(content, content type) of a page file, or None for anything else."""
    found = ASSETS.get(name.strip("/").lower())
    if found is None:
        return None
    file_name, content_type = found
    return (PAGE_DIR / file_name).read_bytes(), content_type
