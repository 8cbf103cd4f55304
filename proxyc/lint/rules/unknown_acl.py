from __future__ import annotations

from ... import ir
from ...diagnostics import did_you_mean
from ..registry import Rule


class UnknownAcl(Rule):
    """## What it does
    Checks for conditions that refer to an ACL the frontend does not define.

    ## Why is this bad?
    HAProxy refuses the config (`no such ACL`), and a writer cannot guess what the missing
    condition was meant to be. It is usually a typo, or an ACL that was renamed in one place
    only.

    ## Example
    ```
    frontend web {
        listen :80
        acl api path prefix /api/
        use api if apl
        default app
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        acl api path prefix /api/
        use api if api
        default app
    }
    ```
    """

    code = "R001"
    name = "unknown-acl"
    severity = "error"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            names = {acl.name for acl in fe.acls}
            for node in ctx.matchers(fe):
                if isinstance(node, ir.AclRef) and node.name not in names:
                    yield self.finding(node, f"frontend {fe.name} refers to unknown ACL {node.name!r}",
                                       hint=did_you_mean(node.name, sorted(names)), fallback=fe)
