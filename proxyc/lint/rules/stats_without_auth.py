from __future__ import annotations

from ..context import is_loopback
from ..registry import Rule


class StatsWithoutAuth(Rule):
    """## What it does
    Checks for a stats page without authentication on a frontend that listens on an address
    other clients can reach.

    ## Why is this bad?
    The stats page lists every backend, server address, health state and traffic figure:
    a map of the infrastructure for anyone who finds the port. Listening on every address
    (`listen :8404`) exposes it beyond the host.

    ## Example
    ```
    frontend stats {
        listen :8404
        stats uri / refresh 10s
    }
    ```

    ## Use instead
    ```
    frontend stats {
        listen 127.0.0.1:8404
        stats uri / refresh 10s auth admin:change-me
    }
    ```
    """

    code = "X001"
    name = "stats-without-auth"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if fe.stats is None or fe.stats.users:
                continue
            exposed = [listen for listen in fe.listens if not is_loopback(listen.address)]
            if exposed:
                yield self.finding(fe.stats, f"stats page of frontend {fe.name} has no authentication and "
                                             "listens on a non-loopback address", fallback=fe,
                                   hint="add `auth user:password` or listen on 127.0.0.1")
