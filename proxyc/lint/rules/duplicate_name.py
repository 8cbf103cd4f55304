from __future__ import annotations

from ..registry import Rule


class DuplicateName(Rule):
    """## What it does
    Checks for two frontends, upstreams or resolvers sections with the same name, two ACLs
    with the same name in one frontend, and two servers with the same name in one upstream.

    ## Why is this bad?
    HAProxy rejects duplicate proxy and server names; nginx rejects a duplicate upstream.
    Where a duplicate is accepted, only one of the two definitions is the one that counts, and
    which one is easy to get wrong when reading the file.

    ## Example
    ```
    upstream app {
        server a1 10.0.0.1:8080
        server a1 10.0.0.2:8080
    }
    ```

    ## Use instead
    ```
    upstream app {
        server a1 10.0.0.1:8080
        server a2 10.0.0.2:8080
    }
    ```
    """

    code = "S003"
    name = "duplicate-name"
    severity = "error"

    def check(self, ctx):
        cfg = ctx.config
        yield from self._duplicates(cfg.frontends, "frontend")
        yield from self._duplicates(cfg.upstreams, "upstream")
        yield from self._duplicates(cfg.resolvers, "resolvers section")
        for fe in cfg.frontends:
            yield from self._duplicates(fe.acls, f"ACL in frontend {fe.name}")
        for up in cfg.upstreams:
            yield from self._duplicates(up.servers, f"server in upstream {up.name}")

    def _duplicates(self, nodes, what: str):
        first_by_name = {}
        for node in nodes:
            first = first_by_name.setdefault(node.name, node)
            if first is not node:
                where = f" (first defined on line {first.span.line})" if first.span else ""
                yield self.finding(node, f"duplicate {what} name {node.name!r}{where}")
