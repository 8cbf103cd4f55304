from __future__ import annotations

from ..registry import Rule


class FirstWithoutMaxConns(Rule):
    """## What it does
    Checks for servers without `max_conns` in an upstream balanced by `first`.

    ## Why is this bad?
    `first` sends every connection to the first server that still has a free slot, and a
    server's slots are its `max_conns`. Without it the first server takes all the traffic
    (up to the process-wide limit) and the others stay idle: there is no balancing at all.

    ## Example
    ```
    upstream batch {
        balance first
        server b1 10.0.5.1:9000
        server b2 10.0.5.2:9000
    }
    ```

    ## Use instead
    ```
    upstream batch {
        balance first
        server b1 10.0.5.1:9000 max_conns 50
        server b2 10.0.5.2:9000 max_conns 50
    }
    ```
    """

    code = "U006"
    name = "first-without-max-conns"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            if up.balance.algorithm != "first":
                continue
            for srv in up.servers:
                if srv.max_conns is None:
                    yield self.finding(srv, f"server {srv.name} in upstream {up.name} (balance first) has no "
                                            "max_conns: it takes every connection", fallback=up)
