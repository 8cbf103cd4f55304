from __future__ import annotations

from ... import ir
from ..registry import Rule


class PathWithoutLeadingSlash(Rule):
    """## What it does
    Checks for exact and prefix path matchers whose value does not start with `/`.

    ## Why is this bad?
    Every request path starts with `/`, so `path prefix api` or `path exact health` never
    matches: the rule is dead and its traffic goes to the default. (`*`, the target of
    `OPTIONS *`, is allowed.)

    ## Example
    ```
    frontend web {
        listen :80
        use api if path prefix api/
        default app
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        use api if path prefix /api/
        default app
    }
    ```
    """

    code = "R007"
    name = "path-without-leading-slash"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            for node in ctx.matchers(fe):
                if not isinstance(node, ir.PathMatch) or node.op not in ("exact", "prefix"):
                    continue
                for value in node.values:
                    if not value.startswith("/") and value != "*":
                        yield self.finding(node, f"path {node.op} {value!r} never matches: paths start with '/'",
                                           hint=f"write /{value}", fallback=fe)
