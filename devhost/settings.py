"""App settings the way ``func start`` provides them: local.settings.json Values become
environment variables, and variables already set in the environment win."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

_EXPRESSION = re.compile(r"%([^%]+)%")


def load_local_settings(app_dir: Path) -> dict:
    """Apply local.settings.json (if present) to os.environ; returns the parsed file."""
    path = app_dir / "local.settings.json"
    if not path.exists():
        return {}
    settings = json.loads(path.read_text(encoding="utf-8"))
    for name, value in (settings.get("Values") or {}).items():
        os.environ.setdefault(name, str(value))
    return settings


def resolve(value: str) -> str:
    """Replace %Setting% binding expressions with app settings, as the host does."""

    def lookup(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise KeyError(f"binding expression %{name}% names an app setting that is not set")
        return os.environ[name]

    return _EXPRESSION.sub(lookup, value)


def max_outstanding_requests(app_dir: Path) -> int | None:
    """host.json extensions.http.maxOutstandingRequests: requests held at once (queued or
    running) before the host answers 429; None (or -1) for unbounded, the host's default."""
    path = app_dir / "host.json"
    if not path.exists():
        return None
    limit = json.loads(path.read_text(encoding="utf-8")).get("extensions", {}).get("http", {}).get(
        "maxOutstandingRequests", -1)
    return None if int(limit) < 0 else int(limit)
