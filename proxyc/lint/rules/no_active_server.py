from __future__ import annotations

from ..registry import Rule


class NoActiveServer(Rule):
    """## What it does
    Checks for upstreams whose servers are all `backup` or `down`.

    ## Why is this bad?
    An upstream needs at least one primary server in service. With every server down it
    answers every request with an error; with only backups, the two targets disagree on
    what happens (HAProxy serves from one backup, nginx from all of them), and the
    `backup` marks say nothing any more.

    ## Example
    ```
    upstream app {
        server a1 10.0.0.1:8080 down
        server a2 10.0.0.2:8080 backup
    }
    ```

    ## Use instead
    ```
    upstream app {
        server a1 10.0.0.1:8080
        server a2 10.0.0.2:8080 backup
    }
    ```
    """

    code = "U005"
    name = "no-active-server"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            if up.servers and all(srv.backup or srv.down for srv in up.servers):
                yield self.finding(up, f"every server of upstream {up.name} is backup or down")
