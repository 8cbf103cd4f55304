"""HAProxy's conditional blocks (``.if``/``.elif``/``.else``/``.endif``, manual §2.4).

The lexer reads every line, inside a block or not. This pass decides, for HAProxy 2.6 (the
version proxyc targets), which lines HAProxy would read: a condition made of integers,
``version_atleast()``, ``version_before()``, ``streq()``/``strneq()`` on literal strings,
``!``, ``&&``, ``||`` and parentheses is evaluated; one that depends on the environment or the
build (``defined()``, ``feature()``, ``$VAR``) is unknown, and its block is read as if the
condition held, with a warning. Lines of blocks that are not taken are reported and dropped; a
section whose header is dropped gives its remaining lines to the section before it, as HAProxy
does. ``.notice``/``.warning``/``.alert``/``.diag`` print messages and are reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeAlias

from .lexer import Line, Section
from .reader_base import ReadContext

TARGET_VERSION = (2, 6, 12, 0, 0)  # HAProxy 2.6.12, Debian bookworm
CONDITIONAL = frozenset({".if", ".elif", ".else", ".endif"})
MESSAGES = frozenset({".notice", ".warning", ".alert", ".diag"})
_TOKENS = re.compile(r"\s*(\|\||&&|!|\(|\)|[A-Za-z_][A-Za-z0-9_]*\([^()]*\)|[^\s()!&|]+)")
_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-dev(\d+))?")

Truth: TypeAlias = "bool | None"  # None: cannot be known before HAProxy starts


# ------------------------------------------------------------------ conditions


def version_key(text: str) -> tuple[int, ...] | None:
    """``2.4-dev19`` → a tuple that orders versions (a -dev release before the release)."""
    m = _VERSION.match(text.strip())
    if m is None:
        return None
    major, minor, patch, dev = m.groups()
    development = (-1, int(dev)) if dev is not None else (0, 0)
    return (int(major), int(minor or 0), int(patch or 0), *development)


def _predicate(token: str) -> Truth:
    name, _, rest = token.partition("(")
    args = [a.strip().strip('"') for a in rest[:-1].split(",")] if rest else []
    if name in ("version_atleast", "version_before") and len(args) == 1:
        key = version_key(args[0])
        if key is None:
            return None
        return TARGET_VERSION >= key if name == "version_atleast" else TARGET_VERSION < key
    if name in ("streq", "strneq") and len(args) == 2 and not any("$" in a for a in args):
        return (args[0] == args[1]) == (name == "streq")
    return None  # defined(), feature(), environment variables: known only at start-up


class _Parser:
    """``or := and ('||' and)*``, ``and := unary ('&&' unary)*``, ``unary := '!' unary | atom``."""

    def __init__(self, text: str):
        self.tokens = [t for t in _TOKENS.findall(text) if t]
        self.i = 0

    def parse(self) -> Truth:
        if not self.tokens:
            return False  # an empty condition is false
        value = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.i]!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _or(self) -> Truth:
        values = [self._and()]
        while self._peek() == "||":
            self.i += 1
            values.append(self._and())
        return True if True in values else (None if None in values else False)

    def _and(self) -> Truth:
        values = [self._unary()]
        while self._peek() == "&&":
            self.i += 1
            values.append(self._unary())
        return False if False in values else (None if None in values else True)

    def _unary(self) -> Truth:
        token = self._peek()
        if token is None:
            raise ValueError("a condition ends too early")
        self.i += 1
        if token == "!":
            value = self._unary()
            return None if value is None else not value
        if token == "(":
            value = self._or()
            if self._peek() != ")":
                raise ValueError("missing ')'")
            self.i += 1
            return value
        if token.lstrip("-").isdigit():
            return int(token) != 0
        if "(" in token:
            return _predicate(token)
        raise ValueError(f"unknown term {token!r}")


def evaluate(text: str) -> Truth:
    """The condition's value for HAProxy 2.6; None when unknown. Raises ValueError if it cannot
    be parsed."""
    return _Parser(text).parse()


# ------------------------------------------------------------------ blocks


@dataclass
class _Block:
    opening: Line
    keep: Truth  # whether the current branch is read (None: maybe)
    taken: Truth = False  # whether an earlier branch was taken (None: maybe)
    else_seen: bool = False


@dataclass
class _Walk:
    ctx: ReadContext
    stack: list[_Block] = field(default_factory=list)
    skipped: list[Line] = field(default_factory=list)

    def active(self) -> Truth:
        """Whether lines here are read: False if any enclosing branch is not taken."""
        values = [block.keep for block in self.stack]
        return False if False in values else (None if None in values else True)

    def read(self, line: Line) -> bool:
        """Whether ``line`` is configuration HAProxy reads; directives and skipped lines are
        accounted for here."""
        keyword = line.words[0].text
        if keyword in CONDITIONAL:
            self._directive(line, keyword)
            return False
        if self.active() is False:
            self.skipped.append(line)
            return False
        if keyword in MESSAGES:
            self.ctx.report(line, f"{keyword} prints a message while HAProxy starts; not imported", severity="info")
            return False
        return True

    def _directive(self, line: Line, keyword: str) -> None:
        condition = " ".join(w.text for w in line.words[1:])
        if keyword == ".if":
            value = self._value(line, condition)
            # Inside a branch that is not read, nothing is, whatever the condition says.
            self.stack.append(_Block(line, keep=False if self.active() is False else value, taken=value))
        elif not self.stack:
            self.ctx.report(line, f"{keyword} without a matching .if", severity="error", code="E211")
        elif keyword == ".endif":
            self.stack.pop()
            self.ctx.converted(line)
        elif self.stack[-1].else_seen:
            self.ctx.report(line, f"{keyword} after .else", severity="error", code="E211")
        else:
            self._branch(line, keyword, condition if keyword == ".elif" else "1")

    def _branch(self, line: Line, keyword: str, condition: str) -> None:
        block = self.stack[-1]
        block.else_seen = keyword == ".else"
        if block.taken is True:
            block.keep = False
            self.ctx.converted(line)
            return
        value = self._value(line, condition)
        if block.taken is None:  # an earlier branch may have been taken: this one may be read
            value = False if value is False else None
        block.keep = value
        block.taken = True if value is True else (None if value is None or block.taken is None else False)

    def _value(self, line: Line, condition: str) -> Truth:
        try:
            value = evaluate(condition)
        except ValueError as exc:
            self.ctx.report(line, f"cannot read the condition: {exc}", severity="error", code="E211")
            return None
        if value is None:
            self.ctx.report(line, f"{line.words[0].text} {condition} depends on the environment or the build; "
                                  "the block is imported as if it held")
        else:
            self.ctx.converted(line)
        return value


def resolve_conditionals(ctx: ReadContext, sections: list[Section]) -> list[Section]:
    """The sections and lines HAProxy 2.6 reads, directives taken out (see the module doc)."""
    walk = _Walk(ctx)
    kept: list[Section] = []
    for section in sections:
        header_read = section.header is None or walk.active() is not False
        if not header_read:
            walk.skipped.append(section.header)
        lines = [line for line in section.lines if walk.read(line)]
        if header_read:
            section.lines = lines
            kept.append(section)
        elif lines:
            _give_to_previous_section(kept, lines)
    for block in walk.stack:
        ctx.report(block.opening, ".if without a matching .endif", severity="error", code="E211")
    if walk.skipped:
        ctx.report_lines(walk.skipped, "in a conditional block HAProxy 2.6 does not read; not imported")
    return kept


def _give_to_previous_section(kept: list[Section], lines: list[Line]) -> None:
    """Lines after a skipped section header belong to the section read before it (or to none)."""
    if kept:
        kept[-1].lines.extend(lines)
    else:
        kept.append(Section(None, None, [], None, lines, [], lines[0].line))
