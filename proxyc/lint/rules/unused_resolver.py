from __future__ import annotations

from collections import Counter

from ..registry import Rule


class UnusedResolver(Rule):
    """## What it does
    Checks for `resolvers` sections that no upstream uses.

    ## Why is this bad?
    A resolvers section only takes effect through the upstreams that name it. An unused one
    usually means an upstream forgot its `resolver` line, so its server names are resolved
    once at start-up and never again: a container restarted with a new address is lost.
    (Not checked on nginx input, where `resolver` applies to a whole block, not to upstreams.)

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
    # nginx's `resolver` serves the whole block it is in (variables in proxy_pass, runtime
    # re-resolution), not named upstreams: there is nothing to check.
    formats = ("pxc", "haproxy")

    def check(self, ctx):
        used = {up.resolver for up in ctx.config.upstreams}
        definitions = Counter(res.name for res in ctx.config.resolvers)
        for res in ctx.config.resolvers:
            # HAProxy's httpclient and Lua scripts name resolvers too (`httpclient.resolvers.id`).
            if res.name not in used and not ctx.mentions_beyond_definitions(res.name, definitions[res.name]):
                yield self.finding(res, f"resolvers section {res.name} is not used by any upstream")
