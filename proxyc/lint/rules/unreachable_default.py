from __future__ import annotations

from ..registry import Rule


class UnreachableDefault(Rule):
    """## What it does
    Checks for a `default` in a frontend that also has an unconditional rule.

    ## Why is this bad?
    An unconditional rule matches every request that reaches it, so the default never
    applies. The reader of the file believes unmatched traffic goes to the default, while it
    goes to the unconditional rule's target.

    ## Example
    ```
    frontend web {
        listen :80
        use api if path prefix /api/
        return 404 "not found"
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

    code = "R010"
    name = "unreachable-default"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            catch_all = next((rule for rule in fe.rules if rule.condition is None), None)
            if fe.default is None or catch_all is None:
                continue
            line = f" on line {catch_all.span.line}" if catch_all.span else ""
            yield self.finding(fe.default, f"the default of frontend {fe.name} never applies: the "
                                           f"unconditional rule{line} matches every request first", fallback=fe)
