from __future__ import annotations

from ..context import is_ip_address
from ..registry import Rule


class ContainerNameWithoutResolver(Rule):
    """## What it does
    Checks for servers addressed by a bare container name (no dots, not an IP address) in an
    upstream that has no `resolver`.

    ## Why is this bad?
    Names such as `echo-web1` come from Docker's embedded DNS. Both nginx and HAProxy resolve
    them once at start-up and refuse to start if one is missing (a container that is not up
    yet stops the whole proxy); when a container is recreated with a new address, the proxy
    keeps using the old one. A resolver lets HAProxy start with the server down
    (`init-addr none`) and follow address changes.

    ## Example
    ```
    upstream web {
        server web1 echo-web1:8080 check
    }
    ```

    ## Use instead
    ```
    resolvers docker {
        nameserver dns 127.0.0.11:53
    }
    upstream web {
        resolver docker
        server web1 echo-web1:8080 check
    }
    ```
    """

    code = "U008"
    name = "container-name-without-resolver"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            if up.resolver is not None:
                continue
            for srv in up.servers:
                if _looks_like_container_name(srv.host):
                    yield self.finding(srv, f"server {srv.name} in upstream {up.name} uses container name "
                                            f"{srv.host!r} but the upstream has no resolver", fallback=up)


def _looks_like_container_name(host: str) -> bool:
    return "." not in host and host.lower() != "localhost" and not is_ip_address(host)
