"""What every part of the HAProxy writer shares: the section being built, the name tables and
the diagnostics collector."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from ... import ir
from ...diagnostics import Diagnostics
from .quoting import NameTable, escape_log_format, has_line_break, has_nul, quote

INDENT = "    "
MAX_TIMER_MS = 2**31 - 1
# The one name an ACL cannot have: HAProxy reads it as the disjunction in conditions.
ACL_RESERVED = frozenset({"or"})


class Unwritable(Exception):
    """A construct that cannot be written; its diagnostic is already recorded. The caller
    leaves out the enclosing statement (a rule, a server) and carries on."""


def lines_or_none(build: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """For a function that builds the lines of one statement: when a part of it is
    unwritable, the statement is left out (its diagnostic says so) instead of the section."""

    @functools.wraps(build)
    def wrapper(*args, **kwargs) -> list[str]:
        try:
            return build(*args, **kwargs)
        except Unwritable:
            return []

    return wrapper


@dataclass
class Section:
    """One HAProxy section: a header line, then indented lines."""

    header: str
    comments: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def add_comments(self, comments: list[str]) -> None:
        self.lines.extend(comment_lines(comments))

    def render(self) -> str:
        out = comment_lines(self.comments) + [self.header]
        out += [INDENT + line if line else "" for line in self.lines]
        return "\n".join(out) + "\n"


def comment_lines(comments: list[str]) -> list[str]:
    """IR comments as ``#`` lines. A comment holding a line break becomes several lines, each
    starting with ``#`` (HAProxy has no line continuation, so nothing can escape a comment)."""
    out = []
    for comment in comments:
        for line in comment.replace("\r", "\n").split("\n"):
            out.append(f"# {line}".rstrip())
    return out


@dataclass
class Context:
    cfg: ir.Config
    diags: Diagnostics = field(default_factory=Diagnostics)
    frontends: NameTable = field(default_factory=NameTable)
    backends: NameTable = field(default_factory=NameTable)
    resolvers: NameTable = field(default_factory=NameTable)
    log_requests: bool = False  # decided with the global section: needs a log target

    def frontend_mode(self, fe: ir.Frontend) -> str:
        return fe.mode or self.cfg.defaults.mode

    def upstream_mode(self, up: ir.Upstream) -> str:
        return up.mode or self.cfg.defaults.mode

    def backend_name(self, upstream: str) -> str:
        """The HAProxy name of the upstream called ``upstream`` (unknown ones are validation's
        business: they get a safe spelling, and HAProxy names the missing backend)."""
        return self.backends.assign(("upstream", upstream), upstream)

    def name_for(self, table: NameTable, key: object, name: str, node: ir.Node, what: str) -> str:
        """``table.assign`` that reports a rename (once), so the user can find the output's names."""
        known = table.lookup(key)
        if known is not None:
            return known
        chosen = table.assign(key, name)
        if chosen != name:
            self.diags.warning(node.span, "P003",
                               f"{what} name {name!r} is written as {chosen!r} for HAProxy",
                               hint="HAProxy names allow only letters, digits and _ . : -")
        return chosen

    def word(self, value: str, node: ir.Node | None, what: str) -> str:
        """A user string as one quoted word. NUL cannot be written (HAProxy strings are C
        strings), nor can an empty string: HAProxy drops empty words. Both raise Unwritable."""
        if has_nul(value):
            self._reject(node, f"{what} contains a NUL character; not written")
        if value == "":
            self._reject(node, f"{what} is empty, and HAProxy drops empty words; not written")
        return quote(value)

    def header_word(self, value: str, node: ir.Node | None, what: str) -> str:
        """A string HAProxy sends in an HTTP header or request line: CR and LF would split it
        (header injection), so they are rejected too."""
        if has_line_break(value):
            self._reject(node, f"{what} contains a CR, LF or NUL character; not written")
        return self.word(value, node, what)

    def log_format_word(self, value: str, node: ir.Node | None, what: str) -> str:
        """A literal string where HAProxy expects a log-format (set-header values, redirect
        targets): ``%`` is escaped, and the empty string is the empty sample ``%[str()]``."""
        if value == "":
            return "%[str()]"
        return self.header_word(escape_log_format(value), node, what)

    def duration(self, ms: int, node: ir.Node | None, what: str) -> str:
        """A duration in HAProxy's units; its timers stop at 2**31 - 1 ms (about 24.8 days)."""
        if ms > MAX_TIMER_MS:
            self.diags.warning(node.span if node else None, "P001",
                               f"{what} of {ir.format_duration(ms)} is longer than HAProxy's longest timer; "
                               f"written as {MAX_TIMER_MS}ms")
            return f"{MAX_TIMER_MS}ms"
        return ir.format_duration(ms)

    def timeout(self, keyword: str, ms: int, node: ir.Node | None, owner: ir.Node | None = None) -> str:
        """A ``timeout`` line. Zero is written, but it means "never" to HAProxy. Diagnostics
        point at ``node`` (a Timeouts block) or, when it has no span, at its ``owner``."""
        if node is None or node.span is None:
            node = owner
        if ms == 0:
            self.diags.warning(node.span if node else None, "P001",
                               f"timeout {keyword} 0 disables the timeout in HAProxy")
        return f"timeout {keyword} {self.duration(ms, node, f'timeout {keyword}')}"

    def _reject(self, node: ir.Node | None, message: str) -> None:
        self.diags.error(node.span if node else None, "P003", message)
        raise Unwritable(message)
