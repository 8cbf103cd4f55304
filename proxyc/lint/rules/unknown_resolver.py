from __future__ import annotations

from ...diagnostics import did_you_mean
from ..registry import Rule


class UnknownResolver(Rule):
    """## What it does
    Checks for upstreams that name a `resolvers` section that does not exist.

    ## Why is this bad?
    HAProxy refuses the config; nginx gets no `resolver` and then cannot re-resolve the
    server names at run time, so a container that restarts with a new address is lost.

    ## Example
    ```
    resolvers docker {
        nameserver dns 127.0.0.11:53
    }
    upstream web {
        resolver dokcer
        server web1 echo-web1:8080
    }
    ```

    ## Use instead
    ```
    upstream web {
        resolver docker
        server web1 echo-web1:8080
    }
    ```
    """

    code = "S009"
    name = "unknown-resolver"
    severity = "error"

    def check(self, ctx):
        names = {res.name for res in ctx.config.resolvers}
        for up in ctx.config.upstreams:
            if up.resolver is not None and up.resolver not in names:
                yield self.finding(up, f"upstream {up.name} uses unknown resolvers section {up.resolver!r}",
                                   hint=did_you_mean(up.resolver, sorted(names)))
