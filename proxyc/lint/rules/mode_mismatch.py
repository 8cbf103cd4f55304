from __future__ import annotations

from ..registry import Rule


class ModeMismatch(Rule):
    """## What it does
    Checks for a frontend that sends traffic to an upstream of the other mode (http or tcp).

    ## Why is this bad?
    HAProxy refuses to connect an http frontend to a tcp backend or the reverse (`unable to
    use proxy ... with wrong mode`); nginx keeps http upstreams and stream upstreams in
    separate blocks, so one upstream cannot serve both.

    ## Example
    ```
    frontend web {
        listen :80
        mode http
        default db
    }
    upstream db {
        mode tcp
        server pg1 10.0.4.10:5432
    }
    ```

    ## Use instead
    Give each mode its own upstream, or make the modes agree.
    """

    code = "U010"
    name = "mode-mismatch"
    severity = "error"

    def check(self, ctx):
        mode_of_first_user = {}
        upstreams = ctx.upstreams_by_name()
        for fe, action in ctx.upstream_uses():
            up = upstreams.get(action.upstream)
            if up is None:
                continue
            fe_mode = ctx.frontend_mode(fe)
            expected = up.mode or mode_of_first_user.setdefault(up.name, (fe_mode, fe))[0]
            if fe_mode == expected:
                continue
            reason = (f"upstream {up.name} is in {up.mode} mode" if up.mode else
                      f"upstream {up.name} is also used by {expected}-mode frontend "
                      f"{mode_of_first_user[up.name][1].name}")
            yield self.finding(action, f"{fe_mode}-mode frontend {fe.name} uses {up.name}, but {reason}",
                               fallback=fe)
