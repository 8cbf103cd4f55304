"""The bodies of ``proxyc lint`` and ``proxyc rule`` (the click commands live in proxyc/cli.py
and import this module only when they run)."""
from __future__ import annotations

import sys

from .engine import LintOptions, lint_paths
from .output import render
from .registry import all_rules, rule_help
from .selection import SelectionError, parse_selectors


def run_lint(paths, out_format: str, select: str | None, ignore: str | None, extend_select: str | None,
             exit_zero: bool) -> int:
    """Lint ``paths`` and print the report; the exit status: 0 clean, 1 findings, 2 errors."""
    try:
        options = LintOptions(select=parse_selectors(select), ignore=parse_selectors(ignore) or (),
                              extend_select=parse_selectors(extend_select) or ())
    except SelectionError as exc:
        print(f"proxyc: error: {exc}", file=sys.stderr)
        return 2
    result = lint_paths(paths, options)
    sys.stdout.write(render(result.diagnostics, out_format, result.sources))
    for error in result.errors:
        print(f"proxyc: error: {error}", file=sys.stderr)
    if result.errors:
        return 2
    return 0 if exit_zero else result.exit_code


def run_rule(code: str | None, show_all: bool) -> int:
    """Print one rule's documentation, or the list of every rule."""
    if show_all or not code:
        for rule in all_rules():
            print(f"{rule.code}  {rule.name:<34} {rule.severity:<8} {rule.summary()}")
        return 0
    text = rule_help(code)
    if text is None:
        print(f"proxyc: error: unknown rule {code!r}; `proxyc rule --all` lists them", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0
