"""proxyc's linter: a registry of small documented rules run on the IR of any input format.

    from proxyc.lint import lint_paths, LintOptions, render
    result = lint_paths(["site.pxc", "conf/"], LintOptions(select=["R", "S002"]))
    print(render(result.diagnostics, "text", result.sources))

Names are imported on first use: ``proxyc --help`` must not pay for the IR and the rules.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "lint_config": "engine", "lint_paths": "engine", "LintOptions": "engine", "LintResult": "engine",
    "render": "output", "all_rules": "registry", "get_rule": "registry", "rule_help": "registry",
    "Rule": "registry",
}
__all__ = ["LintOptions", "LintResult", "Rule", "all_rules", "get_rule", "lint_config", "lint_paths", "render",
           "rule_help"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
