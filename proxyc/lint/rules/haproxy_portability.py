from __future__ import annotations

from ..portability import as_finding, writer_portability
from ..registry import Rule


class HaproxyPortability(Rule):
    '''## What it does
    Reports what the config uses that HAProxy (2.6) cannot express, as found by proxyc's
    HAProxy writer: nginx-only raw blocks, constructs HAProxy can only approximate, and
    similar.

    ## Why is this bad?
    Building the config for HAProxy silently changes its behaviour where a feature is
    approximated or dropped. A .pxc file is meant for both targets, so this is checked on
    .pxc input; for an nginx file, `proxyc convert --to haproxy` reports the same.

    ## Example
    ```
    frontend web {
        listen :80
        raw nginx """
    client_max_body_size 10m;
    """
        default app
    }
    ```

    ## Use instead
    Use constructs both targets share, or accept the difference and ignore the finding for
    that line with `# proxyc: noqa: P102`.
    '''

    code = "P102"
    name = "haproxy-portability"
    formats = ("pxc",)

    def check(self, ctx):
        for diag in writer_portability(ctx, "haproxy"):
            yield as_finding(self, diag, "HAProxy")

