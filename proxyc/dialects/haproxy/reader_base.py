"""What every part of the HAProxy reader shares: positions, verbatim source text, diagnostics
and the ledger that proves no line was dropped silently.

Every logical line of the input ends up in exactly one of two states: *converted* (its meaning
is in the IR, possibly as raw HAProxy text) or *reported* (a diagnostic names it). The ledger
records both, so ``read_with_report`` can count them and a test can check that they add up to
the number of lines in the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import ir
from ...diagnostics import Diagnostics
from .lexer import Line, Word

IMPORT = "I001"  # something read could not be represented exactly
UNHANDLED = "internal: no part of the HAProxy reader handled this line"


class Unconvertible(Exception):
    """A line (or the part of it being parsed) that the IR cannot represent. Raised deep in
    condition or option parsing and caught where the whole line is kept as raw text."""

    def __init__(self, message: str, word: Word | None = None, severity: str = "warning",
                 hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.word = word
        self.severity = severity
        self.hint = hint


class Malformed(Unconvertible):
    """A line HAProxy itself would reject (a missing argument, an unknown ACL). Reported as an
    error; the line is kept as raw text so that HAProxy reports it the same way."""

    def __init__(self, code: str, message: str, word: Word | None = None, hint: str | None = None):
        super().__init__(message, word, "error", hint)
        self.code = code


@dataclass
class ImportStats:
    """How the lines of one file were accounted for: ``converted + len(reported) == total``."""

    total: int
    converted: int
    reported: list[tuple[int, str]] = field(default_factory=list)  # (line, first word)


class ReadContext:
    """Per-file state: the source for verbatim text, the diagnostics and the line ledger."""

    def __init__(self, text: str, filename: str | None):
        self.filename = filename
        # The same normalisation as the lexer, so line numbers and columns agree.
        text = text.removeprefix("\ufeff")
        self.source_lines = text.replace("\r\n", "\n").split("\n")
        self.diags = Diagnostics()
        self._keywords: dict[int, str] = {}
        self._converted: set[int] = set()
        self._reported: set[int] = set()

    # ------------------------------------------------------------------ positions and text
    def span(self, where: Line | Word | ir.Span | None) -> ir.Span | None:
        if where is None or isinstance(where, ir.Span):
            return where
        if isinstance(where, Line):
            return ir.Span(file=self.filename, line=where.line, col=where.words[0].col)
        return ir.Span(file=self.filename, line=where.line, col=where.col)

    def text_of(self, line: Line) -> str:
        """The line exactly as written, from its first word to the end of its last one (no
        indentation, no trailing comment)."""
        first, last = line.words[0], line.words[-1]
        source = self.source_lines[line.line - 1]
        return source[first.col - 1 : last.col - 1 + len(last.raw)]

    # ------------------------------------------------------------------ the ledger
    def track(self, line: Line) -> None:
        """Register a line that must be accounted for."""
        self._keywords.setdefault(line.line, line.words[0].text)

    def converted(self, line: Line) -> None:
        self.track(line)
        self._converted.add(line.line)

    def report(self, line: Line, message: str, *, severity: str = "warning", code: str = IMPORT,
               word: Word | None = None, hint: str | None = None) -> None:
        """A diagnostic at ``word`` (or the line's first word); the line counts as reported."""
        self.track(line)
        self._reported.add(line.line)
        self._add(code, severity, self.span(word or line), message, hint)

    def report_lines(self, lines: list[Line], message: str, *, severity: str = "info",
                     code: str = IMPORT, hint: str | None = None) -> None:
        """One diagnostic (at the first line) that accounts for several lines."""
        if not lines:
            return
        for line in lines:
            self.track(line)
            self._reported.add(line.line)
        self._add(code, severity, self.span(lines[0]), message, hint)

    def report_unconvertible(self, line: Line, exc: Unconvertible, suffix: str = "") -> None:
        code = exc.code if isinstance(exc, Malformed) else IMPORT
        self.report(line, exc.message + suffix, severity=exc.severity, code=code, word=exc.word,
                    hint=exc.hint)

    def note(self, where: Line | Word | ir.Span | None, message: str, *, severity: str = "info",
             hint: str | None = None) -> None:
        """A diagnostic that does not change how a line is counted (e.g. about a whole proxy)."""
        self._add(IMPORT, severity, self.span(where), message, hint)

    def _add(self, code: str, severity: str, span: ir.Span | None, message: str, hint: str | None) -> None:
        {"error": self.diags.error, "warning": self.diags.warning, "info": self.diags.info}[severity](
            span, code, message, hint)

    def stats(self) -> ImportStats:
        """Close the ledger. A tracked line nobody converted or reported would be a reader bug;
        it is reported here rather than lost."""
        for number in sorted(self._keywords):
            if number not in self._converted and number not in self._reported:
                self._reported.add(number)
                self._add(IMPORT, "warning", ir.Span(file=self.filename, line=number), UNHANDLED, None)
        reported = [(n, self._keywords[n]) for n in sorted(self._reported)]
        return ImportStats(total=len(self._keywords), converted=len(self._keywords) - len(reported),
                           reported=reported)


def comment_texts(comments: list[str]) -> list[str]:
    """Comments as the IR keeps them: without the ``#`` and the one space after it (the
    writers add ``# `` back)."""
    return [text.removeprefix(" ") for text in comments]


def raw_text(lines: list[str]) -> str:
    """Raw text in the IR's convention (the DSL's ``raw ... \"\"\"`` blocks): one line each,
    ending with a newline."""
    return "".join(line + "\n" for line in lines)


# Keywords whose second word says what the line is about ("option httplog", "timeout queue").
COMPOUND_KEYWORDS = frozenset({"option", "no", "timeout", "stats", "http-check", "tcp-check", "hold",
                               "http-request", "http-response", "tcp-request", "tcp-response"})


def line_subject(line: Line) -> str:
    """What a line is about, for messages: its keyword, or its first two words for compound
    keywords such as ``option``."""
    words = [w.text for w in line.words]
    if words[:2] == ["no", "option"] and len(words) > 2:
        return " ".join(words[:3])
    if words[0] in COMPOUND_KEYWORDS and len(words) > 1:
        return f"{words[0]} {words[1]}"
    return words[0]
