"""The account of what happened to every directive read: converted into the IR, or reported.

"Nothing dropped silently" is checked, not hoped for: every statement of every file ends up
``converted`` (its meaning is in the IR, perhaps with a diagnostic about a detail) or
``reported`` (a diagnostic names it; it may be kept as a Raw escape hatch). A reported block
covers its whole body. ``file_stats`` counts the outcomes per file, and statements that got
neither are listed as ``unaccounted`` so that tests catch a reader path that forgets one.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ...diagnostics import Diagnostic, Diagnostics
from .reader_payload import Stmt, count_directives

CONVERTED = "converted"
REPORTED = "reported"


@dataclass
class FileStats:
    total: int = 0
    converted: int = 0
    reported: int = 0
    reported_directives: Counter = field(default_factory=Counter)
    unaccounted: list[str] = field(default_factory=list)  # "name:line" of statements nobody handled


class Ledger:
    def __init__(self, diags: Diagnostics):
        self.diags = diags
        self._seen: set[tuple] = set()

    # -- outcomes ----------------------------------------------------------------------------
    def converted(self, stmt: Stmt) -> None:
        if stmt.outcome is None:
            stmt.outcome = CONVERTED

    def covered(self, stmt: Stmt) -> None:
        """Reported as part of an enclosing statement's diagnostic (a block, an include)."""
        for inner in stmt.walk():
            inner.outcome = REPORTED
            for included in inner.included or ():
                self.covered(included)

    # -- diagnostics -------------------------------------------------------------------------
    def add(self, stmt: Stmt | None, code: str, message: str, severity: str = "warning",
            hint: str | None = None) -> None:
        """A diagnostic at the statement; the same one reached twice (an http-level directive
        inherited by many locations) is reported once."""
        span = stmt.span if stmt is not None else None
        key = (code, span.file if span else None, span.line if span else None, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.diags.add(Diagnostic.at(span, code, message, severity=severity, hint=hint))

    def unsupported(self, stmt: Stmt, message: str, *, severity: str = "warning", hint: str | None = None) -> None:
        """I001: the directive (and its block) is not in the IR."""
        self.add(stmt, "I001", message, severity, hint)
        self.covered(stmt)

    def lossy(self, stmt: Stmt, message: str, *, severity: str = "warning", hint: str | None = None) -> None:
        """I001 about a detail of a directive that is otherwise converted."""
        self.add(stmt, "I001", message, severity, hint)
        self.converted(stmt)

    def invalid(self, stmt: Stmt, message: str, *, code: str = "E207", hint: str | None = None) -> None:
        """Something nginx itself would refuse (nginx -t fails)."""
        self.add(stmt, code, message, "error", hint)
        self.covered(stmt)

    def note(self, stmt: Stmt | None, message: str, *, code: str = "I002") -> None:
        """I002: an implicit nginx behaviour approximated in the IR (no directive is lost)."""
        self.add(stmt, code, message, "info")

    # -- accounting --------------------------------------------------------------------------
    def file_stats(self, files) -> dict[str | None, FileStats]:
        out: dict[str | None, FileStats] = {}
        for display, stmts in count_directives(files).items():
            stats = out.setdefault(display, FileStats())
            for stmt in stmts:
                stats.total += 1
                outcome = stmt.outcome
                if outcome == CONVERTED:
                    stats.converted += 1
                elif outcome == REPORTED:
                    stats.reported += 1
                    stats.reported_directives[stmt.name] += 1
                else:
                    stats.unaccounted.append(f"{stmt.name}:{stmt.line}")
        return out


def expand_includes(stmts: list[Stmt], ledger: Ledger, handled: frozenset[str], keep_raw=None,
                    blocks: frozenset[str] = frozenset()):
    """The statements of a block with ``include``s replaced by what they include.

    ``handled`` are the directives this context models; of those, the ones in ``blocks`` must
    have a block and the others must not (nginx refuses both mistakes; they are reported here,
    once, rather than half-read). An include whose files hold nothing this context models
    (``include mime.types;``) is kept whole as one Raw line by ``keep_raw(stmt, message)`` when
    the context has a place for raw text (None: it has not, and its statements are read one by
    one). An include the loader could not follow (already diagnosed) is kept the same way, or
    only counted as reported."""
    for stmt in stmts:
        if stmt.name != "include" or stmt.block is not None:
            if stmt.name in handled and (stmt.block is not None) != (stmt.name in blocks):
                problem = "has no opening \"{\"" if stmt.name in blocks else "is not terminated by \";\""
                ledger.invalid(stmt, f'directive "{stmt.name}" {problem}')
                continue
            yield stmt
        elif stmt.is_unread_include:
            if keep_raw is not None:
                keep_raw(stmt, None)
            ledger.covered(stmt)
        elif keep_raw is not None and stmt.included and not _models_any(stmt.included, handled):
            keep_raw(stmt, f"include {' '.join(stmt.args)}: the included files hold only directives "
                           "proxyc does not model; kept as raw nginx text")
            ledger.covered(stmt)
        else:
            ledger.converted(stmt)
            yield from expand_includes(stmt.included, ledger, handled, keep_raw, blocks)


def _models_any(stmts: list[Stmt], handled: frozenset[str]) -> bool:
    for stmt in stmts:
        if stmt.name == "include" and stmt.block is None:
            if _models_any(stmt.included or [], handled):
                return True
        elif stmt.name in handled:
            return True
    return False
