"""Inline suppression: ``# proxyc: noqa`` comments, the same in .pxc, nginx and HAProxy files
(all three use ``#`` comments).

    server s4 10.0.0.4:80        # proxyc: noqa            every finding on this line
    server s4 10.0.0.4:80        # proxyc: noqa: U001      only these codes (or prefixes)
    server s4 10.0.0.4:80        # proxyc: noqa U001,U004  the colon is optional

A finding on a block's header line (an unused upstream, a frontend without listen) can also be
suppressed by a comment line of its own directly above the header, which keeps long header
lines readable.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from ..diagnostics import Diagnostic, source_lines

_NOQA = re.compile(
    r"#\s*proxyc:\s*noqa\b(?:\s*:?\s*(?P<codes>[A-Za-z][0-9]*\b(?:\s*,\s*[A-Za-z][0-9]*\b)*))?",
    re.IGNORECASE,
)
# HAProxy section keywords (2.6); a line starting with one opens a block.
_HAPROXY_SECTIONS = frozenset({
    "global", "defaults", "frontend", "backend", "listen", "resolvers", "userlist", "peers",
    "mailers", "program", "http-errors", "ring", "cache", "fcgi-app",
})


def noqa_codes(line: str) -> frozenset[str] | None:
    """The codes a line's noqa comment names: None when the line has no noqa comment, an
    empty set for a bare ``noqa`` (every code)."""
    match = _NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes") or ""
    return frozenset(code.strip().upper() for code in codes.split(",") if code.strip())


def _covers(codes: frozenset[str] | None, code: str) -> bool:
    if codes is None:
        return False
    return not codes or any(code.startswith(c) for c in codes)


def is_block_header(line: str, fmt: str) -> bool:
    code = line.split("#", 1)[0].strip()
    if not code:
        return False
    if fmt == "haproxy":
        return code.split()[0].lower() in _HAPROXY_SECTIONS
    return code.endswith("{")


def is_suppressed(diag: Diagnostic, lines: list[str], fmt: str) -> bool:
    if not diag.line or not 1 <= diag.line <= len(lines):
        return False
    line = lines[diag.line - 1]
    if _covers(noqa_codes(line), diag.code):
        return True
    if diag.line >= 2 and is_block_header(line, fmt):
        above = lines[diag.line - 2]
        return above.lstrip().startswith("#") and _covers(noqa_codes(above), diag.code)
    return False


def filter_suppressed(diagnostics: list[Diagnostic], source_of: Callable[[str | None], str | None],
                      fmt_of: Callable[[str | None], str]) -> list[Diagnostic]:
    """The diagnostics that no noqa comment suppresses. ``source_of(file)`` gives a file's
    text (None when unavailable: nothing in it is suppressed); ``fmt_of(file)`` its format."""
    lines_of: dict[str | None, list[str] | None] = {}
    kept = []
    for diag in diagnostics:
        if diag.file not in lines_of:
            text = source_of(diag.file)
            lines_of[diag.file] = source_lines(text) if text is not None else None
        lines = lines_of[diag.file]
        if lines is None or not is_suppressed(diag, lines, fmt_of(diag.file)):
            kept.append(diag)
    return kept
