"""An indenting line buffer for nginx config text that only accepts safe tokens."""
from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from .quoting import Tok, comment_safe

INDENT = "    "
COMMENT_BYTES = 3000  # text per comment line, well inside nginx's 4096-byte read buffer


class Out:
    """Lines of nginx config. Directive arguments must be ``Tok``s (see quoting.py): a plain
    ``str`` is refused, so no user string reaches the output unquoted by accident."""

    def __init__(self, depth: int = 0):
        self.lines: list[str] = []
        self.depth = depth

    def directive(self, name: str, *args: Tok) -> None:
        self._put(" ".join((name, *self._checked(args))) + ";")

    @contextmanager
    def block(self, name: str, *args: Tok) -> Iterator[None]:
        self._put(" ".join((name, *self._checked(args))) + " {")
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            self._put("}")

    def empty_block(self, name: str) -> None:
        self._put(name + " {}")

    def comment(self, text: str) -> None:
        """A ``#`` line; a long one is split over several, because nginx reads a comment line into
        its 4 KiB read buffer like a token and refuses a longer one."""
        data = comment_safe(text).encode()
        while len(data) > COMMENT_BYTES:
            cut = COMMENT_BYTES
            while data[cut] & 0xC0 == 0x80:  # not inside a character's UTF-8 bytes
                cut -= 1
            self._put("# " + data[:cut].decode())
            data = data[cut:]
        self._put("# " + data.decode() if data else "#")

    def comments(self, texts: list[str]) -> None:
        for text in texts:
            self.comment(text)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def drop_trailing_blank(self) -> None:
        """No blank line before a closing brace."""
        while self.lines and self.lines[-1] == "":
            self.lines.pop()

    def verbatim(self, raw: str) -> None:
        """Raw nginx text (already checked by ``raw_block_problem``), re-indented to this level."""
        for line in textwrap.dedent(raw).strip("\n").splitlines():
            if line.strip():
                self._put(line.rstrip())
            else:
                self.lines.append("")

    def extend(self, other: Out) -> None:
        """Append another buffer's lines, indented by this buffer's depth."""
        pad = INDENT * self.depth
        self.lines.extend(pad + line if line else "" for line in other.lines)

    def text(self) -> str:
        self.drop_trailing_blank()
        self.lines.append("")  # the final newline, inside the one join (a "+" copied the text)
        try:
            return "\n".join(self.lines)
        finally:
            self.lines.pop()

    def __bool__(self) -> bool:
        return bool(self.lines)

    def _put(self, line: str) -> None:
        self.lines.append(INDENT * self.depth + line)

    @staticmethod
    def _checked(args: tuple) -> tuple[Tok, ...]:
        for arg in args:
            if not isinstance(arg, Tok):
                raise TypeError(f"directive argument {arg!r} is not a Tok: quote it with word() or text()")
        return args
