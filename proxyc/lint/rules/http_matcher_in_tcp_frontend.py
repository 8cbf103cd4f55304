from __future__ import annotations

from ... import ir
from ..registry import Rule

HTTP_MATCHERS = (ir.PathMatch, ir.HostMatch, ir.MethodMatch, ir.HeaderMatch)


class HttpMatcherInTcpFrontend(Rule):
    """## What it does
    Checks for path, host, method and header matchers in a tcp-mode frontend.

    ## Why is this bad?
    A tcp frontend never parses HTTP, so these matchers have nothing to look at: HAProxy
    refuses them (or never matches), and an nginx `stream` server has no locations or
    `server_name` at all. Only `source` and `tls` can be tested at layer 4.

    ## Example
    ```
    frontend db {
        listen :5432
        mode tcp
        use replicas if path prefix /read
        default primary
    }
    ```

    ## Use instead
    ```
    frontend db {
        listen :5432
        mode tcp
        use replicas if source 10.0.8.0/24
        default primary
    }
    ```
    """

    code = "R005"
    name = "http-matcher-in-tcp-frontend"
    severity = "error"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if ctx.frontend_mode(fe) != "tcp":
                continue
            for node in ctx.matchers(fe):
                if isinstance(node, HTTP_MATCHERS):
                    yield self.finding(node, f"{node.type} matcher in tcp-mode frontend {fe.name}", fallback=fe,
                                       hint="tcp frontends can only match source and tls")
