"""nginx files → trees of statements, with includes resolved here rather than by crossplane.

Each file is lexed on its own (``lexer``: crossplane 0.5.8's tokens, faster) and this module
builds the statement tree from its tokens, in the shape ``crossplane.parse`` gives (so
``crossplane.build`` prints a directive back for a Raw escape hatch). ``crossplane.parse`` itself is not used: its include handling tags
statements with the wrong file when payloads are combined, checks an included file only in the
first context it is included from and cannot follow includes of text that is not on disk; its
context and argument tables date from nginx 1.19 (``http2``, ``keepalive_time`` are unknown)
and a misplaced block makes them end the enclosing block early; it silently accepts a directive
ended by ``}`` or by the end of the file (DESIGN §8). The reader checks the arguments of every
directive it converts.

Every problem is a diagnostic with a file and line, never an exception: unreadable files, bad
UTF-8, unbalanced braces, a missing ``;`` at the end, include cycles, missing includes.
"""
from __future__ import annotations

import glob
import os
import tempfile
from dataclasses import dataclass, field

import crossplane
from crossplane.errors import NgxParserSyntaxError
from crossplane.parser import _prepare_if_args

from ... import ir
from ...diagnostics import Diagnostics
from ...ir.base import NO_COMMENTS  # shared by statements without comments; refuses changes
from .lexer import lex
from .quoting import restore_dollars, unescape

_new_tuple = tuple.__new__


@dataclass(eq=False, slots=True)  # slots: a large config has a hundred thousand of these
class Stmt:
    """One directive, where it was written, its block and, for ``include``, what it pulled in.

    ``included`` is None when the include was not followed (missing file, cycle, no base
    directory); otherwise the statements of every matched file, in nginx's (sorted) order."""

    name: str
    args: list[str]
    file: str | None
    line: int
    block: list[Stmt] | None = None
    included: list[Stmt] | None = None
    comments: list[str] = field(default_factory=list)
    source: dict = field(default_factory=dict, repr=False)  # crossplane's dict, for build()
    # The config defines the nginx writer's literal-dollar variable (quoting.DOLLAR_VAR), so a
    # reference to it in this statement's text stands for "$" (see ``literal``).
    dollar_defined: bool = False
    span: ir.Span = field(init=False, repr=False)  # immutable, so one per statement is shared
    # What became of it (reader_ledger: "converted" or "reported"); on the statement rather
    # than in a dict by id, which cost ~45 MB at 50,000 backends.
    outcome: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # Made at once: nearly every statement's span is used, and tuple.__new__ skips the
        # keyword-argument constructor of a NamedTuple (the reader makes ~100,000 of these).
        self.span = _new_tuple(ir.Span, (self.file, self.line, None))
        self.outcome = None

    @property
    def is_unread_include(self) -> bool:
        """An ``include`` the loader could not follow (and has reported)."""
        return self.name == "include" and self.block is None and self.included is None

    def text(self) -> str:
        """The directive as nginx text (with its block), for a Raw escape hatch."""
        return crossplane.build([self.source], indent=4).rstrip("\n")

    def literal(self, index: int) -> str | None:
        """Argument ``index`` as literal text when it spells a "$" with the writer's dollar
        variable and uses no other variable; None otherwise (also when the config does not
        define that variable: then the reference is just a variable)."""
        if not self.dollar_defined or index >= len(self.args):
            return None
        return restore_dollars(self.args[index])

    def walk(self):
        """This statement and every statement in its block, depth first (not through includes)."""
        yield self
        for child in self.block or ():
            yield from child.walk()


@dataclass
class ParsedFile:
    display: str | None
    stmts: list[Stmt]


class Loader:
    """Parses the main file and everything it includes, each file once.

    ``base_dir`` is where relative include paths start (nginx resolves them against the
    directory of the main configuration file); None means relative includes cannot be followed.
    """

    def __init__(self, diags: Diagnostics, base_dir: str | None, display_base: str | None):
        self.diags = diags
        self.base_dir = base_dir
        self.display_base = display_base
        self.files: dict[str, ParsedFile] = {}  # real path → parsed file, in parse order
        self._stack: list[str] = []

    # -- entry points ------------------------------------------------------------------------
    def load_text(self, text: str, display: str | None, real: str | None = None) -> list[Stmt]:
        """Text that may not be on disk; ``real`` is its file when it has one (for cycles)."""
        with tempfile.TemporaryDirectory(prefix="proxyc-nginx-") as tmp:
            path = os.path.join(tmp, "nginx.conf")
            with open(path, "w", encoding="utf-8", errors="replace") as f:
                f.write(text)
            stmts = self._parse(path, display)
        key = real or f"<text:{display}>"
        self.files[key] = ParsedFile(display, stmts)
        self._stack.append(key)
        try:
            self._resolve_includes(stmts)
        finally:
            self._stack.pop()
        return stmts

    def load_path(self, path: str, display: str | None) -> list[Stmt] | None:
        real = os.path.realpath(path)
        try:
            with open(real, "rb") as f:
                data = f.read()
        except OSError as exc:
            self.diags.error(ir.Span(file=display), "E202", f"cannot read the file: {exc.strerror or exc}")
            return None
        self._check_utf8(data, display)
        return self._load_real(real, display)

    # -- parsing -----------------------------------------------------------------------------
    def _load_real(self, real: str, display: str | None) -> list[Stmt]:
        if real in self.files:
            return self.files[real].stmts
        stmts = self._parse(real, display)
        self.files[real] = ParsedFile(display, stmts)
        self._stack.append(real)
        try:
            self._resolve_includes(stmts)
        finally:
            self._stack.pop()
        return stmts

    def _parse(self, path: str, display: str | None) -> list[Stmt]:
        with open(path, "rb") as f:
            ends_with_newline = f.read().endswith(b"\n")
        if ends_with_newline:
            return self._parse_complete(path, display)
        # crossplane's lexer drops a last token that no whitespace follows ("x {} y" loses "y")
        with tempfile.TemporaryDirectory(prefix="proxyc-nginx-") as tmp:
            copy = os.path.join(tmp, "nginx.conf")
            with open(path, "rb") as src, open(copy, "wb") as dst:
                dst.write(src.read() + b"\n")
            return self._parse_complete(copy, display)

    def _parse_complete(self, path: str, display: str | None) -> list[Stmt]:
        try:
            parsed = _statements(lex(path))  # crossplane's tokens, from a faster lexer
        except NgxParserSyntaxError as exc:
            self.diags.error(ir.Span(file=display, line=exc.lineno or 0), "E201", exc.strerror)
            return []  # nginx stops at the first syntax error too
        return self._convert(parsed, display)

    def _check_utf8(self, data: bytes, display: str | None) -> None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.diags.warning(ir.Span(file=display, line=line), "E203",
                               "the file is not valid UTF-8; invalid bytes were read as U+FFFD",
                               hint="save it as UTF-8")

    def _convert(self, parsed: list[dict], display: str | None, depth: int = 0) -> list[Stmt]:
        """crossplane dicts → Stmts; comment lines above a directive become its comments."""
        out: list[Stmt] = []
        pending: list[str] = NO_COMMENTS
        for item in parsed:
            directive = item["directive"]
            if directive == "#":
                text = item.get("comment", "").strip()
                if out and out[-1].line == item["line"] and not pending:
                    out[-1].comments = [*out[-1].comments, text]  # a trailing comment on the same line
                else:
                    pending = [*pending, text]
                continue
            # nginx decodes backslash escapes in every token; ``source`` keeps them as written,
            # which is what a Raw escape hatch prints back. Positional (name, args, file, line,
            # block, included, comments, source): keywords made this a third slower.
            raw_args = item["args"]
            args = list(map(unescape, raw_args))
            if args == raw_args:  # no escapes (nearly always): share the list, neither is ever changed
                args = raw_args
            stmt = Stmt(unescape(directive), args, display, item["line"],
                        None, None, pending, item)
            pending = NO_COMMENTS
            if "block" in item:
                if depth >= MAX_DEPTH:
                    self.diags.error(ir.Span(file=display, line=item["line"]), "E207",
                                     f"blocks nested more than {MAX_DEPTH} levels deep; this one is not read")
                    item["block"] = stmt.block = []  # in place: the enclosing items' raw text is built from it
                else:
                    stmt.block = self._convert(item["block"], display, depth + 1)
            out.append(stmt)
        return out

    # -- includes ----------------------------------------------------------------------------
    def _resolve_includes(self, stmts: list[Stmt]) -> None:
        for stmt in stmts:
            if stmt.name == "include" and stmt.block is None:
                stmt.included = self._include(stmt)
            elif stmt.block:
                self._resolve_includes(stmt.block)

    def _include(self, stmt: Stmt) -> list[Stmt] | None:
        if len(stmt.args) != 1:
            self.diags.error(stmt.span, "E204", "include takes exactly one file name or pattern")
            return None
        pattern = stmt.args[0]
        if not os.path.isabs(pattern):
            if self.base_dir is None:
                self.diags.warning(stmt.span, "E205", f"include {pattern} was not followed: the text has no "
                                   "file path to resolve it against", hint="read the file by its path")
                return None
            pattern = os.path.join(self.base_dir, pattern)
        if glob.has_magic(pattern):
            paths = sorted(glob.glob(pattern))  # nginx sorts glob matches too; none is not an error
        elif os.path.isfile(pattern):
            paths = [pattern]
        else:
            self.diags.warning(stmt.span, "E205", f"included file {stmt.args[0]} does not exist",
                               hint="nginx -t fails on this; the rest of the config was read")
            return None
        out: list[Stmt] = []
        if len(self._stack) >= MAX_DEPTH:
            self.diags.error(stmt.span, "E206", f"includes nested more than {MAX_DEPTH} files deep; "
                             f"{stmt.args[0]} is not read")
            return None
        for path in paths:
            real = os.path.realpath(path)
            if real in self._stack:
                self.diags.error(stmt.span, "E206", f"include cycle: {stmt.args[0]} includes itself "
                                 "(directly or through other files)")
                continue
            if not os.path.isfile(real):
                continue
            loaded = self.load_path(real, self._display(path))
            out.extend(loaded or [])
        return out

    def _display(self, path: str) -> str:
        """How an included file is named in spans: relative to the main file's directory when
        it lies inside it (prefixed like the main file's own name), else its absolute path."""
        if self.base_dir:
            rel = os.path.relpath(path, self.base_dir)
            if not rel.startswith(".."):
                return os.path.join(self.display_base, rel) if self.display_base else rel
        return os.path.abspath(path)


def count_directives(files: dict[str, ParsedFile]) -> dict[str | None, list[Stmt]]:
    """Every statement of every file (not through includes), keyed by display name."""
    out: dict[str | None, list[Stmt]] = {}
    for parsed in files.values():
        bucket = out.setdefault(parsed.display, [])
        for stmt in parsed.stmts:
            bucket.extend(stmt.walk())
    return out


# Far beyond real configs; keeps the recursive walks over blocks and includes within Python's stack.
MAX_DEPTH = 50


_ENDS = frozenset((";", "{", "}"))  # unquoted, these end a directive's arguments


class Item:
    """One directive as ``crossplane.parse`` gives it, read and written by key as crossplane's
    dict is (``crossplane.build`` takes either), but slotted: a dict per directive cost about
    170 bytes more, 80 MB at 50,000 backends. A key whose value is None is absent."""

    __slots__ = ("directive", "line", "args", "block")

    def __init__(self, directive: str, line: int, args: list[str]) -> None:
        self.directive, self.line, self.args = directive, line, args
        self.block: list | None = None

    def __getitem__(self, key: str):
        value = getattr(self, key, None)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value) -> None:
        setattr(self, key, value)

    def __contains__(self, key: str) -> bool:
        return getattr(self, key, None) is not None

    def get(self, key: str, default=None):
        value = getattr(self, key, None)
        return default if value is None else value


class CommentItem(Item):
    """A ``#`` comment among the directives (only these carry ``comment``)."""

    __slots__ = ("comment",)

    def __init__(self, line: int, comment: str) -> None:
        super().__init__("#", line, [])
        self.comment = comment


def _statements(tokens) -> list[Item]:
    """crossplane's tokens → the dicts ``crossplane.parse`` makes (so ``crossplane.build`` can
    print them back), in one pass that also refuses what nginx refuses and crossplane's parser
    lets through: a directive ended by ``}`` or by the end of the file, a stray ``;`` or ``{``.

    Building the tree here instead of calling ``crossplane.parse`` halves the time (its parse and
    a separate check would lex every file twice) and gives every error its line."""
    top: list[Item] = []
    block = top  # the block being filled
    blocks = [top]
    stmt: Item | None = None  # the directive whose arguments are being read
    args: list[str] = []  # its arguments
    comments_in_args: list[Item] = []
    line = 1
    for token, line, quoted in tokens:
        if quoted or (token not in _ENDS and token[:1] != "#"):  # most tokens: a name or an argument
            if stmt is None:
                args = []
                stmt = Item(token, line, args)
            else:
                args.append(token)
        elif token[:1] == "#":
            comment = CommentItem(line, token[1:])
            (comments_in_args if stmt is not None else block).append(comment)
        elif stmt is None:
            if token == "}":
                blocks.pop()  # the lexer has checked that braces balance
                block = blocks[-1]
            else:
                raise NgxParserSyntaxError(f'unexpected "{token}"', None, line)
        elif token == "}":
            raise NgxParserSyntaxError('unexpected "}"', None, line)
        else:
            if stmt["directive"] == "if":
                _prepare_if_args(stmt)
            block.append(stmt)
            if comments_in_args:
                block.extend(comments_in_args)
                comments_in_args = []
            if token == "{":
                block = stmt["block"] = []
                blocks.append(block)
            stmt = None
    if stmt is not None:
        raise NgxParserSyntaxError('unexpected end of file, expecting ";" or "}"', None, line)
    return top
