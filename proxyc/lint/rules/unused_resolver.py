from __future__ import annotations

from ..registry import Rule


class UnusedResolver(Rule):
    """## What it does
    Checks for `resolvers` sections that no upstream uses.

    ## Why is this bad?
    A resolvers section only takes effect through the upstreams that name it. An unused one
    usually means an upstream forgot its `resolver` line, so its server names are resolved
    once at start-up and never again: a container restarted with a new address is lost.

    ## Example
    ```
    resolvers docker {
        nameserver dns 127.0.0.11:53
    }
    upstream web {
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

    code = "S010"
    name = "unused-resolver"

    def check(self, ctx):
        used = {up.resolver for up in ctx.config.upstreams}
        for res in ctx.config.resolvers:
            if res.name not in used:
                yield self.finding(res, f"resolvers section {res.name} is not used by any upstream")
