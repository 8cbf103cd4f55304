from __future__ import annotations

from ... import ir
from ..registry import Rule

HTTP_ACTIONS = (ir.Redirect, ir.Return)


class HttpFeatureInTcpFrontend(Rule):
    """## What it does
    Checks for HTTP-only features in a tcp-mode frontend: `redirect` and `return` actions,
    header rewriting, `forwardfor`, `normalize_uri` and a stats page.

    ## Why is this bad?
    At layer 4 there are no requests, headers or status codes to write. HAProxy rejects most
    of these in a tcp proxy and ignores the rest with a warning; nginx's `stream` module has
    no equivalent. The author expects behaviour that will not happen.

    ## Example
    ```
    frontend db {
        listen :5432
        mode tcp
        forwardfor
        default pg_pool
    }
    ```

    ## Use instead
    ```
    frontend db {
        listen :5432
        mode tcp
        default pg_pool
    }
    ```
    """

    code = "R006"
    name = "http-feature-in-tcp-frontend"
    severity = "error"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if ctx.frontend_mode(fe) != "tcp":
                continue
            for action in ctx.actions(fe):
                if isinstance(action, HTTP_ACTIONS):
                    yield self.finding(action, f"{action.type} needs an http-mode frontend, {fe.name} is tcp",
                                       fallback=fe)
            features = _frontend_features(fe)
            if features:
                yield self.finding(fe, f"tcp-mode frontend {fe.name} uses HTTP features: {', '.join(features)}")


def _frontend_features(fe: ir.Frontend) -> list[str]:
    found = []
    if fe.stats is not None:
        found.append("stats")
    if fe.request_headers:
        found.append("request_header")
    if fe.response_headers:
        found.append("response_header")
    if fe.forwardfor:
        found.append("forwardfor")
    if fe.normalize_uri:
        found.append("normalize_uri")
    return found
