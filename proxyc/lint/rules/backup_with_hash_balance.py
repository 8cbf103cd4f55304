from __future__ import annotations

from ..registry import Rule

_NO_BACKUP = {"hash": "hash", "source": "ip_hash", "random": "random"}


class BackupWithHashBalance(Rule):
    """## What it does
    Checks for `backup` servers in an upstream balanced by `hash`, `source` or `random`.

    ## Why is this bad?
    nginx refuses the combination (`balancing method does not support the "backup"
    parameter`), so the config cannot be built for nginx. HAProxy accepts it, so a config
    that works there fails on the other target.

    ## Example
    ```
    upstream shop {
        balance source
        server shop1 10.0.2.10:8080
        server shop2 10.0.2.11:8080 backup
    }
    ```

    ## Use instead
    Drop `backup` (let the hash spread over every server), or balance by `round_robin` or
    `least_conn`:
    ```
    upstream shop {
        balance least_conn
        server shop1 10.0.2.10:8080
        server shop2 10.0.2.11:8080 backup
    }
    ```
    """

    code = "U003"
    name = "backup-with-hash-balance"
    severity = "error"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            nginx_word = _NO_BACKUP.get(up.balance.algorithm)
            if nginx_word is None:
                continue
            for srv in up.servers:
                if srv.backup:
                    yield self.finding(srv, f"backup server {srv.name} in upstream {up.name}, balanced by "
                                            f"{up.balance.algorithm}: nginx does not allow backup with {nginx_word}",
                                       fallback=up)
