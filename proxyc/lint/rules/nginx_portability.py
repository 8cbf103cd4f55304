from __future__ import annotations

from ..portability import as_finding, writer_portability
from ..registry import Rule


class NginxPortability(Rule):
    """## What it does
    Reports what the config uses that nginx (1.22, open source) cannot express, as found by
    proxyc's nginx writer: active health checks, slow start, `balance first`, sticky cookies,
    HAProxy-only raw blocks and similar.

    ## Why is this bad?
    Building the config for nginx silently changes its behaviour where a feature is
    approximated or dropped, or produces an nginx config that routes differently. Knowing it
    before a migration or a dual-target build avoids surprises in production. A .pxc file is
    meant for both targets, so this is checked on .pxc input; for a HAProxy file,
    `proxyc convert --to nginx` reports the same.

    ## Example
    ```
    upstream app {
        balance first
        server a1 10.0.0.1:8080 max_conns 50
    }
    ```

    ## Use instead
    Use constructs both targets share (`least_conn` instead of `first`), or accept the
    difference and ignore the finding for that line with `# proxyc: noqa: P101`.
    """

    code = "P101"
    name = "nginx-portability"
    formats = ("pxc",)

    def check(self, ctx):
        for diag in writer_portability(ctx, "nginx"):
            yield as_finding(self, diag, "nginx")

