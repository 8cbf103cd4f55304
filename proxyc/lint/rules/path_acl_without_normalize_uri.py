from __future__ import annotations

from ... import ir
from ..conditions import walk_condition
from ..registry import Rule

_SECURITY_ACTIONS = (ir.UseUpstream, ir.Deny)


class PathAclWithoutNormalizeUri(Rule):
    """## What it does
    Checks for frontends that route or deny by exact or prefix path without `normalize_uri`.

    ## Why is this bad?
    HAProxy matches the raw request path, while the application (and nginx) resolve `..`,
    `//` and percent-encoding. `/static/../api/users` does not start with `/api`, so it
    escapes a `deny if path prefix /api` or an `/api` route, and still reaches `/api/users`
    on a server behind the default. `normalize_uri` makes HAProxy normalise the path first.
    (Not checked on nginx input: nginx always matches the normalised URI.)

    ## Example
    ```
    frontend web {
        listen :80
        acl admin path prefix /admin
        deny 403 if admin
        default app
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        normalize_uri
        acl admin path prefix /admin
        deny 403 if admin
        default app
    }
    ```
    """

    code = "X005"
    name = "path-acl-without-normalize-uri"
    formats = ("pxc", "haproxy")

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if fe.normalize_uri or ctx.frontend_mode(fe) != "http":
                continue
            matcher = _first_path_matcher(fe, ctx.acls_by_name(fe))
            if matcher is not None:
                yield self.finding(matcher, f"frontend {fe.name} routes or denies by path without normalize_uri: "
                                            "'/x/../' and '//' can bypass the match", fallback=fe,
                                   hint="add `normalize_uri` to the frontend")


def _first_path_matcher(fe: ir.Frontend, acls: dict) -> ir.PathMatch | None:
    """The first exact/prefix path matcher a routing or deny rule depends on, following ACLs."""
    for rule in fe.rules:
        if rule.condition is None or not isinstance(rule.action, _SECURITY_ACTIONS):
            continue
        found = _path_matcher_in(rule.condition, acls, set())
        if found is not None:
            return found
    return None


def _path_matcher_in(condition, acls: dict, seen: set) -> ir.PathMatch | None:
    for node in walk_condition(condition):
        if isinstance(node, ir.PathMatch) and node.op in ("exact", "prefix"):
            return node
        if isinstance(node, ir.AclRef) and node.name in acls and node.name not in seen:
            seen.add(node.name)
            found = _path_matcher_in(acls[node.name].condition, acls, seen)
            if found is not None:
                return found
    return None
