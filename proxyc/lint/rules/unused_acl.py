from __future__ import annotations

from collections import Counter

from ... import ir
from ..conditions import walk_condition
from ..registry import Rule


class UnusedAcl(Rule):
    """## What it does
    Checks for ACLs that no rule (and no other ACL) of their frontend uses.

    ## Why is this bad?
    An unused ACL does nothing. It often means the rule that should use it was deleted or
    refers to another ACL by mistake, so traffic the author meant to route or block passes
    through unchanged. `haproxy -c` does not report it. (In a haproxy.cfg, an ACL named on
    any other line counts as used: directives proxyc does not model may use it.)

    ## Example
    ```
    frontend web {
        listen :80
        acl admin path prefix /admin
        acl internal source 10.0.0.0/8
        deny 403 if admin
        default app
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        acl admin path prefix /admin
        acl internal source 10.0.0.0/8
        deny 403 if admin and not internal
        default app
    }
    ```
    """

    code = "R002"
    name = "unused-acl"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            used = _referenced(fe)
            definitions = Counter(acl.name for acl in fe.acls)
            for acl in fe.acls:
                if acl.name not in used and not ctx.mentions_beyond_definitions(acl.name, definitions[acl.name]):
                    yield self.finding(acl, f"ACL {acl.name} is never used in frontend {fe.name}", fallback=fe)


def _referenced(fe: ir.Frontend) -> set[str]:
    """Names referred to by the rules, and by ACLs other than the one itself."""
    names = set()
    for rule in fe.rules:
        if rule.condition is not None:
            names |= _refs(rule.condition)
    for acl in fe.acls:
        names |= _refs(acl.condition) - {acl.name}
    return names


def _refs(condition) -> set[str]:
    return {node.name for node in walk_condition(condition) if isinstance(node, ir.AclRef)}
