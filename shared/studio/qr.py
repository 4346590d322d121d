"""QR codes as SVG, made here with segno (pure Python, no dependencies, ~200 KB), so the
console needs no QR library in the browser and the deployment zip nothing beyond
requirements.txt. The text comes in a request body, never a URL: it may carry a liveness
session's token in its fragment.
"""
from __future__ import annotations

import io

import segno

from shared.errors import BadArgument

MAX_TEXT = 2048  # a capture-page URL with its token is ~700 characters


def svg(text: object) -> bytes:
    if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
        raise BadArgument(f"text must be a string of 1 to {MAX_TEXT} characters.")
    try:
        code = segno.make(text, error="m", micro=False)
    except segno.DataOverflowError:  # 2,048 characters of many-byte UTF-8 exceed version 40
        raise BadArgument("text is too long for a QR code.") from None
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, title="QR code", dark="#000",
              light="#fff")
    return out.getvalue()
