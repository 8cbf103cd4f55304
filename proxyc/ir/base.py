"""The base every IR node shares: a source span that equality ignores, and leading comments.

Two configs that route the same way must compare equal even when one was read from a .pxc file
and the other from nginx.conf, so neither the span nor the comments take part in ``==``.
"""
from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Span(BaseModel):
    """Where a node was read from. Lines and columns are 1-based; col is None where the
    format does not give columns (crossplane only reports lines)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str | None = None
    line: int = 0
    col: int | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        return f"{where}:{self.line}:{self.col}" if self.col else f"{where}:{self.line}"


# Fields that describe where a node came from, not what it means.
_META_FIELDS = frozenset({"span", "comments"})


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False, defer_build=True)

    span: Span | None = Field(default=None, repr=False)
    comments: list[str] = Field(default_factory=list, repr=False)

    _meta: ClassVar[frozenset[str]] = _META_FIELDS

    def __eq__(self, other: Any) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        for name in type(self).model_fields:
            if name in _META_FIELDS:
                continue
            if getattr(self, name) != getattr(other, name):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def semantic_dump(self) -> dict[str, Any]:
        """The node as plain data without spans and comments: what round-trip tests compare."""
        return _strip_meta(self.model_dump(mode="json"))


def _strip_meta(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_meta(v) for k, v in value.items() if k not in _META_FIELDS}
    if isinstance(value, list):
        return [_strip_meta(v) for v in value]
    return value
