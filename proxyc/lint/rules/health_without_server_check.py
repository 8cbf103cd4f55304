from __future__ import annotations

from ..registry import Rule


class HealthWithoutServerCheck(Rule):
    """## What it does
    Checks for upstreams with `health` settings where no server has `check`.

    ## Why is this bad?
    The `health` line only sets how checks run (interval, rise, fall, HTTP request); the
    checks themselves are switched on per server with `check`. Without it the settings do
    nothing and dead servers keep receiving traffic, while the config looks monitored.

    ## Example
    ```
    upstream app {
        health interval 2s http GET /healthz expect 200
        server a1 10.0.0.1:8080
        server a2 10.0.0.2:8080
    }
    ```

    ## Use instead
    ```
    upstream app {
        health interval 2s http GET /healthz expect 200
        server a1 10.0.0.1:8080 check
        server a2 10.0.0.2:8080 check
    }
    ```
    """

    code = "U009"
    name = "health-without-server-check"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            if up.health is not None and up.servers and not any(srv.check for srv in up.servers):
                yield self.finding(up.health, f"upstream {up.name} has health settings but no server has `check`",
                                   fallback=up)
