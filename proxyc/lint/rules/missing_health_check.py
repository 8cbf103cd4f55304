from __future__ import annotations

from ..registry import Rule


class MissingHealthCheck(Rule):
    """## What it does
    Checks for upstreams with several servers in service and no health check on any of them.

    ## Why is this bad?
    Without `check`, HAProxy keeps sending requests to a dead server: a share of all requests
    fails until someone notices. Balancing over several servers is meant to survive the loss
    of one; without checks it does not. (Not checked on nginx input: nginx OSS has no active
    checks and always applies its passive `max_fails`.) One server alone is fine: there is
    nothing to fail over to.

    ## Example
    ```
    upstream app {
        server a1 10.0.0.1:8080
        server a2 10.0.0.2:8080
    }
    ```

    ## Use instead
    ```
    upstream app {
        health interval 2s rise 2 fall 3
        server a1 10.0.0.1:8080 check
        server a2 10.0.0.2:8080 check
    }
    ```
    """

    code = "U002"
    name = "missing-health-check"
    formats = ("pxc", "haproxy")

    def check(self, ctx):
        for up in ctx.config.upstreams:
            in_service = [srv for srv in up.servers if not srv.down]
            if len(in_service) > 1 and not any(srv.check for srv in in_service):
                yield self.finding(up, f"upstream {up.name} balances over {len(in_service)} servers "
                                       "without a health check", hint="add `check` to its servers")
