from __future__ import annotations

from ... import ir
from ..registry import Rule


class RedirectToHttpFromTls(Rule):
    """## What it does
    Checks for redirects to a plain `http://` target in a frontend that serves TLS.

    ## Why is this bad?
    A client that arrived over HTTPS is sent to clear text: its next request, with cookies
    and credentials, can be read and changed on the network. It is usually a leftover from
    before the site moved to HTTPS.

    ## Example
    ```
    frontend https {
        listen :443 tls cert site.pem
        redirect location http://example.com/new/ if path prefix /old/
        default app
    }
    ```

    ## Use instead
    ```
    frontend https {
        listen :443 tls cert site.pem
        redirect location https://example.com/new/ if path prefix /old/
        default app
    }
    ```
    """

    code = "X006"
    name = "redirect-to-http-from-tls"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            if not ctx.is_tls(fe):
                continue
            for action in ctx.actions(fe):
                if isinstance(action, ir.Redirect) and _targets_plain_http(action):
                    yield self.finding(action, f"TLS frontend {fe.name} redirects to plain HTTP", fallback=fe,
                                       hint="redirect to an https:// target")


def _targets_plain_http(redirect: ir.Redirect) -> bool:
    if redirect.scheme is not None:
        return redirect.scheme == "http"
    target = redirect.location or redirect.prefix or ""
    return target.lower().startswith("http://")
