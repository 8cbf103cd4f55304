from __future__ import annotations

from ...diagnostics import did_you_mean
from ..registry import Rule


class UnknownUpstream(Rule):
    """## What it does
    Checks for rules and defaults that send traffic to an upstream that is not defined.

    ## Why is this bad?
    nginx refuses to start (`host not found in upstream`) and HAProxy refuses the config
    (`unable to find required use_backend`). A typo in an upstream name takes the whole proxy
    down at the next reload.

    ## Example
    ```
    frontend web {
        listen :80
        default webservres
    }
    upstream webservers {
        server s1 10.0.0.1:8080
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        default webservers
    }
    ```
    """

    code = "S001"
    name = "unknown-upstream"
    severity = "error"

    def check(self, ctx):
        names = {up.name for up in ctx.config.upstreams}
        for fe, action in ctx.upstream_uses():
            if action.upstream not in names:
                yield self.finding(action, f"frontend {fe.name} uses unknown upstream {action.upstream!r}",
                                   hint=did_you_mean(action.upstream, sorted(names)), fallback=fe)
