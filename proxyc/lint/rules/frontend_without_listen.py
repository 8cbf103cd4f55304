from __future__ import annotations

from ..registry import Rule


class FrontendWithoutListen(Rule):
    """## What it does
    Checks for frontends that have no `listen` address.

    ## Why is this bad?
    A frontend without a listener receives no traffic: its rules never run. HAProxy starts
    but the frontend is useless (and with no listener at all `haproxy -c` fails); nginx falls
    back to port 80, which is rarely what was meant.

    ## Example
    ```
    frontend api {
        default api
    }
    ```

    ## Use instead
    ```
    frontend api {
        listen :8080
        default api
    }
    ```
    """

    code = "S005"
    name = "frontend-without-listen"
    severity = "error"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if not fe.listens:
                yield self.finding(fe, f"frontend {fe.name} has no listen address", hint="add e.g. `listen :80`")
