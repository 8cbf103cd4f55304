from __future__ import annotations

from ..registry import Rule

_FRONTEND_SIDE = ("client",)
_UPSTREAM_SIDE = ("connect", "server")


class MissingTimeouts(Rule):
    """## What it does
    Checks for frontends without a client timeout and upstreams without a connect or server
    timeout, neither set on the object nor in `defaults`.

    ## Why is this bad?
    HAProxy has no default timeouts: without them a stalled client or server holds a
    connection forever, and `haproxy -c` warns. nginx has 60 s defaults, so the same file
    behaves differently on the two targets. Writing the timeouts out makes the behaviour
    explicit and equal on both. (Not checked on nginx input, where the 60 s defaults apply.)

    ## Example
    ```
    frontend web {
        listen :80
        default app
    }
    ```

    ## Use instead
    ```
    defaults {
        timeout connect 5s
        timeout client 30s
        timeout server 30s
    }
    ```
    """

    code = "S007"
    name = "missing-timeouts"
    formats = ("pxc", "haproxy")

    def check(self, ctx):
        defaults = ctx.config.defaults.timeouts
        for fe in ctx.config.frontends:
            missing = _missing(_FRONTEND_SIDE, fe.timeouts, defaults)
            if missing:
                yield self._finding(fe, "frontend", missing)
        for up in ctx.config.upstreams:
            missing = _missing(_UPSTREAM_SIDE, up.timeouts, defaults)
            if missing:
                yield self._finding(up, "upstream", missing)

    def _finding(self, node, what: str, missing: list[str]):
        names = " and ".join(f"timeout {m}" for m in missing)
        return self.finding(node, f"{what} {node.name} has no {names}",
                            hint="set them in defaults, e.g. " + "; ".join(f"timeout {m} 30s" for m in missing))


def _missing(keys, own, defaults) -> list[str]:
    return [key for key in keys if getattr(own, key) is None and getattr(defaults, key) is None]
