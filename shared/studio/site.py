"""The console's files: plain ES modules and CSS, one module per screen, no build step.

Served at /studio with a policy that allows this origin only: scripts and styles from here,
API calls to here, photos the user picks as blob: URLs, QR codes as inline SVG. The
subscription key lives in the tab's sessionStorage and travels only as a request header.
"""
from __future__ import annotations

from pathlib import Path

from shared.api import static

WEB_DIR = Path(__file__).parent / "web"
FILES = {
    "": ("index.html", static.HTML),
    "studio.css": ("studio.css", static.STYLE),
    **{name: (name, static.SCRIPT) for name in ("app.js", "api.js", "ui.js", "detect.js", "galleries.js",
                                                "liveness.js", "inventory.js")},
}
HEADERS = {
    **static.BASE_HEADERS,
    "Content-Security-Policy": static.policy("img-src 'self' blob: data:"),
    "Permissions-Policy": "camera=(), microphone=()",
}
SITE = static.Site(WEB_DIR, FILES, HEADERS)
