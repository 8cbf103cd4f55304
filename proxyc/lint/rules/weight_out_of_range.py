from __future__ import annotations

from ..registry import Rule

HAPROXY_MAX_WEIGHT = 256


class WeightOutOfRange(Rule):
    """## What it does
    Checks for server weights outside the range both targets accept: 1 to 256.

    ## Why is this bad?
    nginx weights start at 1: weight 0 cannot be written for nginx, and in HAProxy it means
    "no traffic except persistent sessions", which is rarely what a reader of the file
    expects. HAProxy weights stop at 256: a larger nginx weight must be rescaled, changing
    the exact ratios.

    ## Example
    ```
    upstream app {
        server a1 10.0.0.1:8080 weight 0
        server a2 10.0.0.2:8080
    }
    ```

    ## Use instead
    Take the server out explicitly (or keep it as a spare):
    ```
    upstream app {
        server a1 10.0.0.1:8080 down
        server a2 10.0.0.2:8080
    }
    ```
    """

    code = "U004"
    name = "weight-out-of-range"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            for srv in up.servers:
                problem = _problem(srv.weight)
                if problem:
                    yield self.finding(srv, f"server {srv.name} in upstream {up.name}: {problem}", fallback=up)


def _problem(weight: int) -> str | None:
    if weight < 1:
        return f"weight {weight} cannot be written for nginx (weights start at 1)"
    if weight > HAPROXY_MAX_WEIGHT:
        return f"weight {weight} is above HAProxy's maximum of {HAPROXY_MAX_WEIGHT}"
    return None
