from __future__ import annotations

from ..registry import Rule


class EmptyUpstream(Rule):
    """## What it does
    Checks for upstreams without any server.

    ## Why is this bad?
    nginx refuses an `upstream` block with no servers (`no servers are inside upstream`).
    HAProxy accepts an empty backend silently and answers every request routed to it with
    503, which looks like an outage of the application, not a config mistake.

    ## Example
    ```
    upstream api {
        balance least_conn
    }
    ```

    ## Use instead
    ```
    upstream api {
        balance least_conn
        server api1 10.0.0.5:9000 check
    }
    ```
    """

    code = "S006"
    name = "empty-upstream"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            # Raw target text may declare the servers (e.g. a HAProxy server-template).
            if not up.servers and not up.raw:
                yield self.finding(up, f"upstream {up.name} has no servers")
