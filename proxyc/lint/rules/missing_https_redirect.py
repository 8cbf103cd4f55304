from __future__ import annotations

from ... import ir
from ..registry import Rule


class MissingHttpsRedirect(Rule):
    """## What it does
    Checks for a config that serves HTTPS but has no plain-HTTP frontend redirecting to it.

    ## Why is this bad?
    Users and links that start with `http://` either get no answer or get the site in clear
    text, where cookies and credentials can be read and altered on the way. A TLS site should
    answer plain HTTP with a redirect to HTTPS (and then HSTS keeps browsers on HTTPS).

    ## Example
    ```
    frontend https {
        listen :443 tls cert site.pem
        default app
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

    code = "X002"
    name = "missing-https-redirect"

    def check(self, ctx):
        tls_frontends = [fe for fe in ctx.config.frontends
                         if ctx.frontend_mode(fe) == "http" and ctx.is_tls(fe)]
        if not tls_frontends or any(_redirects_to_https(ctx, fe) for fe in ctx.config.frontends):
            return
        for fe in tls_frontends:
            listen = next(listen for listen in fe.listens if listen.tls is not None)
            yield self.finding(listen, f"frontend {fe.name} serves HTTPS but no plain-HTTP frontend redirects "
                                       "to it", fallback=fe,
                               hint="add a frontend on :80 with `redirect scheme https code 301`")


def _redirects_to_https(ctx, fe: ir.Frontend) -> bool:
    if not ctx.has_plain_listen(fe):
        return False
    return any(isinstance(action, ir.Redirect) and _is_https(action) for action in ctx.actions(fe))


def _is_https(redirect: ir.Redirect) -> bool:
    if redirect.scheme is not None:
        return redirect.scheme == "https"
    return (redirect.location or "").lower().startswith("https://")
