from __future__ import annotations

from ..registry import Rule


class MissingDefaultRoute(Rule):
    """## What it does
    Checks for frontends where a request can match no rule and there is no `default`.

    ## Why is this bad?
    A request that falls through gets HAProxy's 503 or nginx's 404 (or whatever `location`
    happens to be nearest), and the two targets disagree. The fallback should be a decision
    written in the config, not an accident of the target. Frontends that only serve a stats
    page are not checked.

    ## Example
    ```
    frontend web {
        listen :80
        use api if path prefix /api/
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        use api if path prefix /api/
        return 404 "not found"
    }
    ```
    """

    code = "S008"
    name = "missing-default-route"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if fe.default is not None or fe.stats is not None:
                continue
            if any(rule.condition is None for rule in fe.rules):
                continue
            what = "no rule" if not fe.rules else "no default"
            yield self.finding(fe, f"frontend {fe.name} has {what}: requests matching nothing get the "
                                   "target's fallback (HAProxy 503, nginx 404)",
                               hint="add `default UPSTREAM` or an unconditional rule such as `return 404`")
