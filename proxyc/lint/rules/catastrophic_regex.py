from __future__ import annotations

from ... import ir
from ..regexes import backtracking_risk
from ..registry import Rule

_REGEX_MATCHERS = (ir.PathMatch, ir.HostMatch, ir.HeaderMatch)


class CatastrophicRegex(Rule):
    """## What it does
    Checks regex matchers for shapes that make a backtracking engine take exponential time:
    nested quantifiers such as `(a+)+` or `(.*)*`, and repeated alternatives that can match
    the same text such as `(a|a)*` or `(\\w|\\d)+`.

    ## Why is this bad?
    nginx and HAProxy match with PCRE, which backtracks. A request crafted to almost match
    makes the worker spin for seconds or minutes per request (ReDoS): a few such requests
    stall the proxy for everyone. Possessive quantifiers and atomic groups are not reported,
    since they do not backtrack.

    ## Example
    ```
    frontend web {
        listen :80
        use files if path regex "^/files/([a-z0-9]+/?)+$"
        default app
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        use files if path regex "^/files/[a-z0-9/]+$"
        default app
    }
    ```
    """

    code = "X004"
    name = "catastrophic-regex"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            for node in ctx.matchers(fe):
                if not isinstance(node, _REGEX_MATCHERS) or node.op != "regex":
                    continue
                for pattern in node.values:
                    risk = backtracking_risk(pattern, ignore_case=getattr(node, "ignore_case", False))
                    if risk:
                        yield self.finding(node, f"regex {pattern!r} can take exponential time: it has {risk}",
                                           fallback=fe, hint="make the repeated parts unambiguous")
