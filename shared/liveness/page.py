"""The web capture page (page/: plain HTML, JS and CSS, no build step, nothing from a CDN).

Served by the app at /liveness, with a Content-Security-Policy that lets it load only its
own files and talk only to this origin, and never cached. The token travels in the URL
fragment, which browsers never send to a server; the page removes it from the address bar
at once and sends it only as the Authorization header of its API calls.
"""
from __future__ import annotations

from pathlib import Path

PAGE_DIR = Path(__file__).parent / "page"
ASSETS = {
    "": ("index.html", "text/html; charset=utf-8"),
    "capture.js": ("capture.js", "text/javascript; charset=utf-8"),
    "capture.css": ("capture.css", "text/css; charset=utf-8"),
}
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                                "media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; "
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
