"""nginx files → trees of statements, with includes resolved here rather than by crossplane.

crossplane 0.5.8 is used one file at a time (``single=True``) because its own include handling
tags statements with the wrong file when payloads are combined, checks an included file only in
the first context it is included from, and cannot follow includes of text that is not on disk
(DESIGN §8). Its context and argument checks are off (``check_ctx``/``check_args``): their
tables date from nginx 1.19, and a misplaced block makes them end the enclosing block early. What
remains of crossplane is its lexer and block structure, which are reliable; the reader checks
the arguments of every directive it converts.

Every problem is a diagnostic with a file and line, never an exception: unreadable files, bad
UTF-8, unbalanced braces, a missing ``;`` at the end, include cycles, missing includes.
"""
from __future__ import annotations

import glob
import os
import tempfile
from dataclasses import dataclass, field

import crossplane
from crossplane.lexer import lex as crossplane_lex

from ... import ir
from ...diagnostics import Diagnostics


@dataclass(eq=False)
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

    @property
    def span(self) -> ir.Span:
        return ir.Span(file=self.file, line=self.line)

    def text(self) -> str:
        """The directive as nginx text (with its block), for a Raw escape hatch."""
        return crossplane.build([self.source], indent=4).rstrip("\n")

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
        payload = crossplane.parse(path, single=True, strict=False, comments=True, check_ctx=False,
                                   check_args=False, onerror=lambda exc: exc)
        found_by_tokens = self._check_terminators(path, display) if payload["status"] == "ok" or any(
            not getattr(e.get("callback"), "strerror", None) for e in payload["errors"]) else False
        for error in payload["errors"]:
            self._syntax_error(error, display, found_by_tokens)
        if found_by_tokens:
            return []
        parsed = payload["config"][0]["parsed"] if payload["config"] else []
        return self._convert(parsed, display)

    def _syntax_error(self, error: dict, display: str | None, found_by_tokens: bool) -> None:
        exc = error.get("callback")
        reason = getattr(exc, "strerror", None)
        if not reason and found_by_tokens:
            return  # crossplane's StopIteration at the end of the text: located by the token check
        line = getattr(exc, "lineno", None) or error.get("line")
        self.diags.error(ir.Span(file=display, line=line or 0), "E201",
                         reason or 'unexpected end of file, expecting ";" or "}"')

    def _check_terminators(self, path: str, display: str | None) -> bool:
        """What crossplane accepts but nginx refuses: a directive ended by ``}`` (``listen 80 }``)
        or by the end of the text, and a stray ``;`` or ``{``. Reports the first; True if any."""
        in_args, line = False, 1
        try:
            for token, line, quoted in crossplane_lex(path):
                if not quoted and token.startswith("#"):
                    continue
                special = None if quoted else token if token in (";", "{", "}") else None
                if not in_args:
                    if special in (";", "{"):
                        return self._token_error(display, line, f'unexpected "{special}"')
                    in_args = special is None
                elif special == "}":
                    return self._token_error(display, line, 'unexpected "}"')
                elif special is not None:
                    in_args = False
        except Exception:  # noqa: BLE001 -- unbalanced braces: crossplane reported them with their line
            return False
        if in_args:
            return self._token_error(display, line, 'unexpected end of file, expecting ";" or "}"')
        return False

    def _token_error(self, display: str | None, line: int, message: str) -> bool:
        self.diags.error(ir.Span(file=display, line=line), "E201", message)
        return True

    def _check_utf8(self, data: bytes, display: str | None) -> None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.diags.warning(ir.Span(file=display, line=line), "E203",
                               "the file is not valid UTF-8; invalid bytes were read as U+FFFD",
                               hint="save it as UTF-8")

    def _convert(self, parsed: list[dict], display: str | None) -> list[Stmt]:
        """crossplane dicts → Stmts; comment lines above a directive become its comments."""
        out: list[Stmt] = []
        pending: list[str] = []
        for item in parsed:
            if item["directive"] == "#":
                text = item.get("comment", "").strip()
                if out and out[-1].line == item["line"] and not pending:
                    out[-1].comments.append(text)  # a trailing comment on the same line
                else:
                    pending.append(text)
                continue
            stmt = Stmt(name=item["directive"], args=list(item["args"]), file=display, line=item["line"],
                        comments=pending, source=item)
            pending = []
            if "block" in item:
                stmt.block = self._convert(item["block"], display)
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


