"""One Diagnostic type for everything proxyc reports: syntax errors, validation, lint findings,
import losses and portability problems.

Code families (ruff-style, a letter and three digits):
    E  syntax of the input              V  validation (the IR is invalid)
    P  portability (a target cannot express something; --strict makes these errors)
    I  import (something read could not be represented)
    S  structure   U  upstreams/balancing   R  routing/ACLs   X  security   (lint rules)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # keep start-up cheap: the IR imports pydantic
    from .ir.base import Span

Severity = Literal["error", "warning", "info"]


@dataclass(slots=True)
class Diagnostic:
    code: str
    message: str
    severity: Severity = "error"
    file: str | None = None
    line: int | None = None
    col: int | None = None
    hint: str | None = None
    end_col: int | None = None

    @classmethod
    def at(cls, span: "Span | None", code: str, message: str, **kw) -> "Diagnostic":
        if span is None:
            return cls(code, message, **kw)
        return cls(code, message, file=span.file, line=span.line or None, col=span.col, **kw)

    @classmethod
    def at_offset(cls, text: str, pos: int, filename: str | None, code: str, message: str, **kw) -> "Diagnostic":
        """A diagnostic at character offset ``pos`` of ``text`` (1-based line and column)."""
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return cls(code, message, file=filename, line=line, col=col, **kw)

    @property
    def location(self) -> str:
        where = self.file or "<input>"
        if self.line is None:
            return where
        return f"{where}:{self.line}:{self.col}" if self.col else f"{where}:{self.line}"

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}[{self.code}]: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def sort_key(self) -> tuple:
        return (self.file or "", self.line or 0, self.col or 0, self.code, self.message)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_col": self.end_col,
            "hint": self.hint,
        }


@dataclass
class Diagnostics:
    """A collector passed through readers, validators and writers (sqlglot's ``unsupported``):
    problems are recorded, never raised, so one run reports all of them."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diag: Diagnostic) -> Diagnostic:
        self.items.append(diag)
        return diag

    def error(self, span, code: str, message: str, hint: str | None = None) -> Diagnostic:
        return self.add(Diagnostic.at(span, code, message, severity="error", hint=hint))

    def warning(self, span, code: str, message: str, hint: str | None = None) -> Diagnostic:
        return self.add(Diagnostic.at(span, code, message, severity="warning", hint=hint))

    def info(self, span, code: str, message: str, hint: str | None = None) -> Diagnostic:
        return self.add(Diagnostic.at(span, code, message, severity="info", hint=hint))

    def extend(self, other) -> None:
        self.items.extend(other)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)


class ProxycError(Exception):
    """Raised when input cannot be turned into an IR at all; carries its diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


@lru_cache(maxsize=8)
def source_lines(source: str) -> list[str]:
    """The source's lines as the readers number them: split at "\n" only (``splitlines`` also
    splits at "\r", U+2028 and others, which would shift every line after one), without a
    "\r" before the "\n". Cached: a lint of a large file renders many frames from one source."""
    return [line[:-1] if line.endswith("\r") else line for line in source.split("\n")]


def _shown(text: str) -> str:
    """A source line as printed in a frame: a control character (an ANSI escape in a hostile
    file could rewrite the terminal) is shown as "?", keeping the caret's column."""
    return text if text.isprintable() else "".join(ch if ch.isprintable() or ch == "\t" else "?" for ch in text)


def code_frame(source: str, line: int | None, col: int | None, *, context: int = 1) -> str:
    """A few lines of source with a caret under the column, for text output."""
    if not line:
        return ""
    lines = source_lines(source)
    if not 1 <= line <= len(lines):
        return ""
    start = max(1, line - context)
    width = len(str(line))
    out = []
    for n in range(start, line + 1):
        out.append(f" {n:>{width}} | {_shown(lines[n - 1])}")
    if col:
        prefix = lines[line - 1][: col - 1]
        pad = "".join("\t" if ch == "\t" else " " for ch in prefix)
        out.append(f" {' ' * width} | {pad}^")
    return "\n".join(out)


def did_you_mean(word: str, choices) -> str | None:
    """A hint for a misspelled keyword, or None."""
    import difflib

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {match[0]}?" if match else None
