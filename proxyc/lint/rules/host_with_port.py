from __future__ import annotations

import re

from ... import ir
from ..registry import Rule

_PORT_SUFFIX = re.compile(r":\d*$")


class HostWithPort(Rule):
    """## What it does
    Checks for host matchers whose value ends with a port (`example.com:8080`).

    ## Why is this bad?
    Host matchers compare the Host header without its port (nginx `server_name`, and HAProxy
    `req.hdr(host),host_only` as proxyc writes it), so a value with a port never matches and
    the rule is dead.

    ## Example
    ```
    frontend web {
        listen :8080
        use api if host exact api.example.com:8080
        default app
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :8080
        use api if host exact api.example.com
        default app
    }
    ```
    """

    code = "R008"
    name = "host-with-port"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            for node in ctx.matchers(fe):
                if not isinstance(node, ir.HostMatch) or node.op == "regex":
                    continue
                for value in node.values:
                    # A bracketed IPv6 literal ("[::1]") has colons but no port after "]".
                    host_part = value.rsplit("]", 1)[-1]
                    if _PORT_SUFFIX.search(host_part):
                        yield self.finding(node, f"host {node.op} {value!r} never matches: the port is not "
                                                 "part of the compared host", fallback=fe,
                                           hint=f"write {_PORT_SUFFIX.sub('', value)}")
