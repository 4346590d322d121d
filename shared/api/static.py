"""Static web pages the app serves itself (no build step, nothing from a CDN).

A ``Site`` is a folder and an allow-list of its files with their content types: a name not on
the list (``../function_app.py`` included) is not found, so nothing else on disk can be
reached. Every answer carries the site's security headers (a Content-Security-Policy that
names no other origin) and is never cached. The liveness capture page and the studio console
are two sites.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import azure.functions as func

from shared.api import render
from shared.api.versions import resource_not_found

HTML = "text/html; charset=utf-8"
SCRIPT = "text/javascript; charset=utf-8"
STYLE = "text/css; charset=utf-8"
SVG = "image/svg+xml"


def policy(extra: str = "", scripts: str = "") -> str:
    """A Content-Security-Policy allowing this origin only (``extra``: more directives;
    ``scripts``: more script-src sources)."""
    script_sources = f"'self' {scripts}" if scripts else "'self'"
    return (f"default-src 'none'; script-src {script_sources}; style-src 'self'; connect-src 'self'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'" + (f"; {extra}" if extra else ""))


BASE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


@dataclass(frozen=True)
class Site:
    folder: Path
    files: Mapping[str, tuple[str, str]]  # URL name (lower case, "" = the page) -> (file name, content type)
    headers: Mapping[str, str]

    def asset(self, name: str) -> tuple[bytes, str] | None:
        """(content, content type) of a listed file, or None for anything else."""
        found = self.files.get(name.strip("/").lower())
        if found is None:
            return None
        file_name, content_type = found
        return (self.folder / file_name).read_bytes(), content_type

    def response(self, name: str) -> func.HttpResponse:
        """The file with the site's headers, or Azure's 404 envelope."""
        found = self.asset(name)
        if found is None:
            return render.error_response(resource_not_found())
        content, content_type = found
        return func.HttpResponse(content, status_code=200, headers={**self.headers, "Content-Type": content_type})
