"""What frontend and backend readers share: line dispatch, raw text and the fallback for
keywords the IR does not model."""
from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from ... import ir
from .lexer import Line, Word
from .reader_base import Malformed, ReadContext, Unconvertible, line_subject, raw_text

# Raw lines with these keywords can change which response a request gets: kept with a warning
# (the IR's route simulation does not see them). Other unmodelled lines (logging, tuning,
# connection handling) are kept with an info.
ROUTING_KEYWORDS = frozenset({
    "acl", "balance", "bind", "block", "cookie", "default_backend", "disabled", "dispatch", "errorfile",
    "errorfiles", "errorloc", "errorloc302", "errorloc303", "filter", "force-persist", "hash-type", "http-check",
    "http-request", "http-response", "http-after-response", "ignore-persist", "mode", "monitor", "monitor-uri",
    "persist", "redirect", "server", "server-template", "default-server", "stick", "stick-table", "tcp-check",
    "tcp-request", "tcp-response", "use-server", "use_backend", "reqadd", "reqallow", "reqdel", "reqdeny",
    "reqiallow", "reqidel", "reqideny", "reqipass", "reqirep", "reqitarpit", "reqpass", "reqrep", "reqtarpit",
    "rspadd", "rspdel", "rspdeny", "rspidel", "rspideny", "rspirep", "rsprep", "stats",
})

Handler = Callable[[Line], None]


class RawLines:
    """Lines of one proxy kept as raw HAProxy text, in file order."""

    def __init__(self) -> None:
        self._lines: dict[int, str] = {}

    def add(self, ctx: ReadContext, line: Line) -> None:
        self._lines[line.line] = ctx.text_of(line)

    def __bool__(self) -> bool:
        return bool(self._lines)

    def __contains__(self, line_number: int) -> bool:
        return line_number in self._lines

    def to_ir(self, span: ir.Span | None) -> list[ir.Raw]:
        if not self._lines:
            return []
        return [ir.Raw(target="haproxy", text=raw_text([self._lines[n] for n in sorted(self._lines)]), span=span)]


class ProxyPart:
    """One side (frontend or backend) of a proxy section being read."""

    kind = "proxy"

    def __init__(self, ctx: ReadContext, name: str):
        self.ctx = ctx
        self.name = name
        self.raw = RawLines()
        self._notes: list[tuple[Word, str]] = []
        self.handlers: dict[str, Handler] = {}

    # ------------------------------------------------------------------ dispatch
    def feed(self, line: Line) -> None:
        """Read one line: converted, or kept raw and reported; never lost."""
        self._notes = []
        handler = self.handlers.get(line.words[0].text, self.unmodelled)
        try:
            handler(line)
        except Unconvertible as exc:
            self.keep_raw(line, exc)
            return
        for word, message in self._notes:
            self.ctx.report(line, message, severity="info", word=word)
        self.ctx.converted(line)

    def note(self, word: Word, message: str) -> None:
        """An approximation made while converting the current line (reported if it succeeds)."""
        self._notes.append((word, message))

    def keep_raw(self, line: Line, exc: Unconvertible) -> None:
        self.raw.add(self.ctx, line)
        self.ctx.report_unconvertible(line, exc, "; kept as raw HAProxy text")

    def unmodelled(self, line: Line) -> NoReturn:
        """Keep the line raw: the IR has no place for it."""
        severity = "warning" if line.words[0].text in ROUTING_KEYWORDS else "info"
        raise Unconvertible(f"{line_subject(line)!r} is not modelled in a {self.kind}", line.words[0], severity)

    # ------------------------------------------------------------------ small argument readers
    def duration(self, word: Word | None, what: str) -> int:
        if word is None:
            raise Malformed("E206", f"{what} needs a duration")
        ms = ir.parse_duration(word.text)
        if ms is None:
            raise Malformed("E206", f"{what} must be a duration such as 500ms, 5s or 1m, got {word.text!r}", word)
        return ms

    def integer(self, word: Word | None, what: str, lo: int, hi: int) -> int:
        if word is None:
            raise Malformed("E206", f"{what} needs a number")
        if not word.text.isdigit() or not lo <= int(word.text) <= hi:
            raise Malformed("E206", f"{what} must be a number from {lo} to {hi}, got {word.text!r}", word)
        return int(word.text)


def arg(line: Line, index: int) -> Word | None:
    return line.words[index] if index < len(line.words) else None
