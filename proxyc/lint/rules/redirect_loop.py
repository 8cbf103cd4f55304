from __future__ import annotations

from ... import ir
from ..registry import Rule


class RedirectLoop(Rule):
    """## What it does
    Checks for an unconditional scheme redirect to the scheme the frontend already serves:
    `redirect scheme https` on a frontend whose listeners all use TLS, or `redirect scheme
    http` on one without TLS.

    ## Why is this bad?
    Every request is redirected to the same frontend, which redirects it again: browsers stop
    with "too many redirects" and the site is down. It usually happens when a redirect meant
    for the port-80 frontend is copied into the TLS one.

    ## Example
    ```
    frontend https {
        listen :443 tls cert site.pem
        redirect scheme https code 301
    }
    ```

    ## Use instead
    ```
    frontend http {
        listen :80
        redirect scheme https code 301
    }
    frontend https {
        listen :443 tls cert site.pem
        default app
    }
    ```
    """

    code = "R009"
    name = "redirect-loop"
    severity = "error"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if not fe.listens:
                continue
            served = _served_scheme(fe)
            if served is None:
                continue
            for action in _unconditional_actions(fe):
                if isinstance(action, ir.Redirect) and action.scheme == served:
                    yield self.finding(action, f"frontend {fe.name} serves only {served} and redirects every "
                                               f"request to {served}: a redirect loop", fallback=fe)


def _served_scheme(fe: ir.Frontend) -> str | None:
    if all(listen.tls is not None for listen in fe.listens):
        return "https"
    if all(listen.tls is None for listen in fe.listens):
        return "http"
    return None


def _unconditional_actions(fe: ir.Frontend):
    """The action that takes every request no earlier rule caught: the first unconditional
    rule's, else the default. Conditional rules before it may catch some requests; the rest
    still loop."""
    for rule in fe.rules:
        if rule.condition is None:
            yield rule.action
            return
    if fe.default is not None:
        yield fe.default
