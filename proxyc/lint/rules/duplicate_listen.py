from __future__ import annotations

from ..context import describe_listen, listen_key
from ..registry import Rule


class DuplicateListen(Rule):
    """## What it does
    Checks for two listeners on the same address and port, in one frontend or in two.

    ## Why is this bad?
    Two HAProxy frontends bound to one port both start (HAProxy sets `SO_REUSEPORT`) and the
    kernel hands each new connection to either of them: half the requests are routed by the
    wrong rules. `haproxy -c` does not report it. In one frontend, the second listener is
    redundant at best.

    ## Example
    ```
    frontend web {
        listen :80
        default app
    }
    frontend admin {
        listen :80
        default admin
    }
    ```

    ## Use instead
    One frontend per address and port; route inside it:
    ```
    frontend web {
        listen :80
        use admin if path prefix /admin/
        default app
    }
    ```
    """

    code = "S004"
    name = "duplicate-listen"
    severity = "error"

    def check(self, ctx):
        first_owner = {}
        for fe in ctx.config.frontends:
            for listen in fe.listens:
                key = listen_key(listen)
                if key not in first_owner:
                    first_owner[key] = (fe, listen)
                    continue
                other_fe, other = first_owner[key]
                owner = "this frontend" if other_fe is fe else f"frontend {other_fe.name}"
                line = f" on line {other.span.line}" if other.span else ""
                yield self.finding(listen, f"{describe_listen(listen)} is already listened on by {owner}{line}",
                                   fallback=fe)
