from __future__ import annotations

from ...dialects.common import format_address
from ..registry import Rule


class DuplicateServerAddress(Rule):
    """## What it does
    Checks for two servers of one upstream that point at the same host and port.

    ## Why is this bad?
    The address gets twice its share of the traffic and the pool has one machine fewer than
    it appears to have; when that one machine fails, two "servers" go down together. It is
    almost always a copy-paste slip (the seed's HAProxy lab 3 has `s4` at `s3`'s address).

    ## Example
    ```
    upstream webservers {
        server s3 echo-web3-basket:8080 check
        server s4 echo-web3-basket:8080 check
    }
    ```

    ## Use instead
    ```
    upstream webservers {
        server s3 echo-web3-basket:8080 check
        server s4 echo-web4-basket:8080 check
    }
    ```
    """

    code = "U001"
    name = "duplicate-server-address"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            first_at = {}
            for srv in up.servers:
                key = (srv.host.lower(), srv.port)
                first = first_at.setdefault(key, srv)
                if first is not srv:
                    address = format_address(srv.host, srv.port)
                    yield self.finding(srv, f"server {srv.name} in upstream {up.name} has the same address "
                                            f"({address}) as server {first.name}", fallback=up)
