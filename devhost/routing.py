"""Route templates as the Functions host (ASP.NET routing) understands them.

Segments: literal, ``{name}``, ``{name?}`` (optional, trailing), ``{*name}`` (catch-all,
last). Literal segments match without regard to case. When several templates match, the
most specific wins: per segment, literal beats parameter beats optional beats catch-all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_LITERAL, _PARAMETER, _OPTIONAL, _CATCH_ALL = range(4)
_PARAM = re.compile(r"^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(\?)?\}$")


@dataclass(frozen=True)
class Segment:
    kind: int
    text: str  # the literal (lower-cased) or the parameter name


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, template: str) -> RouteTemplate:
        parts = [part for part in template.strip("/").split("/") if part]
        segments = tuple(_segment(part) for part in parts)
        for index, segment in enumerate(segments):
            if segment.kind == _CATCH_ALL and index != len(segments) - 1:
                raise ValueError(f"route {template!r}: a catch-all must be the last segment")
        return cls(template, segments)

    @property
    def precedence(self) -> tuple[int, ...]:
        """Sort key: smaller is more specific and is tried first."""
        return tuple(segment.kind for segment in self.segments) + (_CATCH_ALL + 1,)

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for a URL path, or None when the template does not match."""
        parts = [unquote(part) for part in path.strip("/").split("/") if part]
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == _CATCH_ALL:
                values[segment.text] = "/".join(parts[index:])
                return values
            if index >= len(parts):
                return values if segment.kind == _OPTIONAL and self._rest_optional(index) else None
            if segment.kind == _LITERAL:
                if parts[index].lower() != segment.text:
                    return None
            else:
                values[segment.text] = parts[index]
        return values if len(parts) == len(self.segments) else None

    def _rest_optional(self, start: int) -> bool:
        return all(segment.kind in (_OPTIONAL, _CATCH_ALL) for segment in self.segments[start:])


def _segment(part: str) -> Segment:
    if "{" not in part and "}" not in part:
        return Segment(_LITERAL, part.lower())
    found = _PARAM.match(part)
    if not found:
        raise ValueError(f"unsupported route segment {part!r} (constraints and mixed segments are not supported)")
    star, name, optional = found.groups()
    if star:
        return Segment(_CATCH_ALL, name)
    return Segment(_OPTIONAL if optional else _PARAMETER, name)
