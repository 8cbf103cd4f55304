from __future__ import annotations

import re
from collections import Counter

from ..registry import Rule


class UnusedUpstream(Rule):
    """## What it does
    Checks for upstreams that no frontend sends traffic to.

    ## Why is this bad?
    An unused upstream is dead configuration: usually a rule was removed or renamed and the
    pool stayed behind, or the rule that should use it was never written. Readers of the
    config assume it serves traffic, and HAProxy still health-checks its servers. (In nginx
    and HAProxy files, a name that appears on any other line counts as used: directives
    proxyc does not model may refer to it. Pools used only from other files, such as a SPOE
    agent's backend, are reported: suppress them with a noqa comment.)

    ## Example
    ```
    frontend web {
        listen :80
        default app
    }
    upstream app {
        server a1 10.0.0.1:8080
    }
    upstream app_old {
        server a0 10.0.0.9:8080
    }
    ```

    ## Use instead
    Remove `app_old`, or route to it:
    ```
    frontend web {
        listen :80
        use app_old if path prefix /old/
        default app
    }
    ```
    """

    code = "S002"
    name = "unused-upstream"

    def check(self, ctx):
        used = ctx.used_upstream_names()
        raw_texts = _raw_texts(ctx.config)
        definitions = Counter(up.name for up in ctx.config.upstreams)
        for up in ctx.config.upstreams:
            if up.name in used or _mentioned(up.name, raw_texts) \
                    or ctx.mentions_beyond_definitions(up.name, definitions[up.name]):
                continue
            yield self.finding(up, f"upstream {up.name} is never used by a frontend")


def _raw_texts(cfg) -> list[str]:
    """Verbatim target text may route to an upstream the IR does not see (e.g. a HAProxy
    `use_backend` with a map): an upstream named there counts as used."""
    texts = [raw.text for raw in cfg.raw]
    texts += [raw.text for fe in cfg.frontends for raw in fe.raw]
    return texts


def _mentioned(name: str, texts: list[str]) -> bool:
    word = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
    return any(word.search(text) for text in texts)
