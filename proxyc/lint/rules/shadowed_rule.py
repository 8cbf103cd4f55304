from __future__ import annotations

from ..condition_index import ConditionIndex
from ..conditions import to_term
from ..registry import Rule


class ShadowedRule(Rule):
    """## What it does
    Checks for rules that can never fire because an earlier rule of the same frontend
    matches every request they match.

    ## Why is this bad?
    Rules are evaluated in order and the first match decides. A rule whose condition implies
    an earlier one is dead: `/api/v2/` requests go where the `/api/` rule sends them, never to
    the v2 pool. Neither `nginx -t` nor `haproxy -c` notices. The check is sound: it only
    reports what it can prove (exact and prefix paths, hosts, methods, headers, source
    ranges, identical conditions, and earlier rules without a condition); regexes are only
    compared for identity.

    ## Example
    ```
    frontend web {
        listen :80
        use api if path prefix /api/
        use api_v2 if path prefix /api/v2/
        default app
    }
    ```

    ## Use instead
    Put the more specific rule first:
    ```
    frontend web {
        listen :80
        use api_v2 if path prefix /api/v2/
        use api if path prefix /api/
        default app
    }
    ```
    """

    code = "R003"
    name = "shadowed-rule"

    def check(self, ctx):
        for fe in ctx.config.frontends:
            acls = ctx.acls_by_name(fe)
            earlier = ConditionIndex()
            for rule in fe.rules:
                term = to_term(rule.condition, acls)
                shadow = earlier.decider(term)
                if shadow is not None:
                    line = f" on line {shadow.span.line}" if shadow.span else ""
                    what = "an unconditional rule" if shadow.condition is None else "the rule"
                    yield self.finding(rule, f"this rule never fires: {what}{line} matches every request "
                                             "it matches", fallback=fe,
                                       hint="move the more specific rule first, or remove it")
                earlier.add(rule, term)
