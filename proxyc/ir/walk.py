"""Helpers every dialect needs: walking the tree and reading/writing durations."""
from __future__ import annotations

import re
from collections.abc import Iterator

from .base import Node

_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^([0-9]+)(us|ms|s|m|h|d)?$")
# nginx also accepts compound times like "1m30s" and the units w, M, y.
_NGINX_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|M|y)?")
_NGINX_TIME = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+")
_NGINX_UNITS_MS = {**_UNITS_MS, "w": 7 * 86_400_000, "M": 30 * 86_400_000, "y": 365 * 86_400_000}


def iter_nodes(node: Node) -> Iterator[Node]:
    """Every node below ``node`` (itself included), parents before children, in field order.
    Iterative, so a condition nested thousands deep (which validation then refuses) is walked too."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children: list[Node] = []
        for name in type(current)._child_fields:
            value = getattr(current, name)
            if isinstance(value, Node):
                children.append(value)
            elif isinstance(value, list):
                children.extend(item for item in value if isinstance(item, Node))
        stack.extend(reversed(children))


def parse_duration(text: str, *, default_unit: str = "ms") -> int | None:
    """``"5s"`` → 5000. A bare number takes ``default_unit`` (HAProxy: ms, nginx: s).
    Returns None when the text is not a duration."""
    m = _DURATION.match(text)
    if m:
        value = int(m.group(1)) * _UNITS_MS[m.group(2) or default_unit]
        return int(value)
    return None


def parse_nginx_duration(text: str) -> int | None:
    """nginx times: ``30``, ``30s``, ``1m30s``, ``500ms``; a bare number is seconds."""
    if not _NGINX_TIME.fullmatch(text):
        return None
    total = 0
    for number, unit in _NGINX_PART.findall(text):
        total += int(number) * _NGINX_UNITS_MS[unit or "s"]
    return total


def format_duration(ms: int) -> str:
    """5000 → ``"5s"``; the largest unit that divides the value exactly (so it reads back)."""
    if ms == 0:
        return "0s"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def nul_fields(node: Node) -> Iterator[tuple[Node, str]]:
    """(node, field name) for every string field holding a NUL character. No target format can
    hold one."""
    for each in iter_nodes(node):
        for name in type(each).model_fields:
            value = getattr(each, name)
            if any(isinstance(v, str) and "\0" in v for v in (value if isinstance(value, list) else [value])):
                yield each, name
