"""Portability findings: what a target cannot express, as its writer reports it.

The writers are the authority on what they can write; the linter does not keep a second list.
Each target's writer runs on the config and its portability diagnostics (P0xx) become findings
of the target's lint rule, with the writer's location, message and severity. Writers do not
modify the IR they are given (a deep copy of a large config costs more than the linting; the
lint tests check that linting leaves the config unchanged).
"""
from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic


def writer_portability(ctx, target: str) -> Iterator[Diagnostic]:
    """The writer's P diagnostics for ``target``; nothing when that writer is not installed."""
    try:
        from ..api import write
        _, diagnostics = write(ctx.config, target)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("proxyc."):
            return  # the writer for this target is not part of this build
        raise
    for diag in diagnostics:
        if diag.code.startswith("P"):
            yield diag


def as_finding(rule, diag: Diagnostic, target_label: str) -> Diagnostic:
    """The writer's diagnostic as a finding of ``rule``, at the writer's location. An error from
    the writer means its output would be wrong, so it stays an error."""
    severity = "error" if diag.severity == "error" else rule.severity
    message = diag.message
    if target_label.lower() not in message.lower():
        message = f"{target_label}: {message}"
    return Diagnostic(rule.code, message, severity=severity, file=diag.file, line=diag.line, col=diag.col,
                      hint=diag.hint, end_col=diag.end_col)
