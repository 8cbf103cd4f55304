from __future__ import annotations

import ipaddress

from ... import ir
from ..registry import Rule


class InvalidSourceCidr(Rule):
    """## What it does
    Checks `source` matchers for values that are not an address or CIDR, and for CIDRs with
    bits set after the prefix length (`10.0.0.1/8`).

    ## Why is this bad?
    An invalid value makes HAProxy refuse the config. Host bits after the prefix are ignored
    (nginx warns "low address bits are meaningless"): `10.0.0.1/8` allows all of `10.0.0.0/8`,
    which is much more than the single host the author probably meant.

    ## Example
    ```
    frontend admin {
        listen :8080
        deny 403 unless source 10.0.0.1/8
        default admin
    }
    ```

    ## Use instead
    ```
    frontend admin {
        listen :8080
        deny 403 unless source 10.0.0.1
        default admin
    }
    ```
    """

    code = "R011"
    name = "invalid-source-cidr"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            for node in ctx.matchers(fe):
                if isinstance(node, ir.SourceMatch):
                    for value in node.values:
                        problem = _problem(value)
                        if problem:
                            yield self.finding(node, problem, fallback=fe)


def _problem(value: str) -> str | None:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"{value!r} is not an address or CIDR"
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return f"{value!r} has bits set after the prefix length: it means {network}"
    return None
