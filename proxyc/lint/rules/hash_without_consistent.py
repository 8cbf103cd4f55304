from __future__ import annotations

from ..registry import Rule

# With two servers, losing one leaves one: every key moves whatever the hash, so the finding
# starts at three servers, where consistent hashing moves a third of the keys instead of most.
MIN_SERVERS = 3


class HashWithoutConsistent(Rule):
    """## What it does
    Checks for key-based `hash` balancing without `consistent` over three or more servers.

    ## Why is this bad?
    Plain (modulo) hashing remaps most keys when a server is added, removed or fails: caches
    behind a URI hash go cold and sessions pinned by a header or cookie jump servers.
    Consistent hashing moves only the keys of the server that changed.

    ## Example
    ```
    upstream cache {
        balance hash uri
        server c1 10.0.6.1:80
        server c2 10.0.6.2:80
        server c3 10.0.6.3:80
    }
    ```

    ## Use instead
    ```
    upstream cache {
        balance hash uri consistent
        server c1 10.0.6.1:80
        server c2 10.0.6.2:80
        server c3 10.0.6.3:80
    }
    ```
    """

    code = "U007"
    name = "hash-without-consistent"

    def check(self, ctx):
        for up in ctx.config.upstreams:
            balance = up.balance
            if balance.algorithm != "hash" or balance.consistent:
                continue
            primaries = [srv for srv in up.servers if not srv.backup]
            if len(primaries) >= MIN_SERVERS:
                yield self.finding(balance, f"upstream {up.name} hashes by {_key(balance)} over {len(primaries)} servers "
                                            "without consistent hashing", fallback=up,
                                   hint="add `consistent` to the balance line")


def _key(balance) -> str:
    if balance.key is None:
        return "key"
    return f"{balance.key} {balance.key_name}" if balance.key_name else balance.key
