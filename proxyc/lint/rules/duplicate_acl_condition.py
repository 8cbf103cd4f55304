from __future__ import annotations

from ..conditions import canonical, to_term
from ..registry import Rule


class DuplicateAclCondition(Rule):
    """## What it does
    Checks for two ACLs of one frontend with the same condition: the same tests, in any order
    (ACLs they refer to are compared by their conditions).

    ## Why is this bad?
    Two names for one condition suggest that one of them was meant to test something else
    (the seed's HAProxy lab 3 declares `path_beg /item` twice, for two different servers,
    expecting the second to reach the other one). Rules using the second ACL after the first
    are shadowed and never fire.

    ## Example
    ```
    frontend web {
        listen :80
        acl item1 path prefix /item
        acl item2 path prefix /item
        use pool1 if item1
        use pool2 if item2
        default app
    }
    ```

    ## Use instead
    One ACL, routed to one upstream that balances over both servers:
    ```
    frontend web {
        listen :80
        acl item path prefix /item
        use item_pool if item
        default app
    }
    ```
    """

    code = "R004"
    name = "duplicate-acl-condition"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            acls = ctx.acls_by_name(fe)
            first_with = {}
            for acl in fe.acls:
                twin = first_with.setdefault(canonical(to_term(acl.condition, acls)), acl)
                if twin is not acl and twin.name != acl.name:
                    line = f" on line {twin.span.line}" if twin.span else ""
                    yield self.finding(acl, f"ACL {acl.name} has the same condition as ACL {twin.name}{line}",
                                       fallback=fe)
