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

from shared.api import static

PAGE_DIR = Path(__file__).parent / "page"
ASSETS = {
    "": ("index.html", static.HTML),
    "capture.js": ("capture.js", static.SCRIPT),
    "camera.js": ("camera.js", static.SCRIPT),
    "detector.js": ("detector.js", static.SCRIPT),
    "guidance.js": ("guidance.js", static.SCRIPT),
    "capture.css": ("capture.css", static.STYLE),
}
HEADERS = {
    **static.BASE_HEADERS,
    "Content-Security-Policy": static.policy("img-src 'self' blob: data:; media-src 'self' blob: mediastream:",
                                             scripts="blob: 'wasm-unsafe-eval'"),
    "Permissions-Policy": "camera=(self), microphone=()",
}
SITE = static.Site(PAGE_DIR, ASSETS, HEADERS)
