"""DNS upstreams read back as written (see ``proxyc/dialects/provenance.py``).

nginx 1.22 re-resolves a name only through a variable ``proxy_pass``, so the writer turns an
upstream with a resolver and several servers into ``split_clients $request_id $pxc_dns_<name>``
(one share per server, by weight) and ``proxy_pass http://$pxc_dns_<name>`` where it is used.
Read as plain nginx that is a map and a proxy_pass the IR cannot follow. The writer's
``# proxyc: upstream NAME`` above the ``split_clients`` and ``# proxyc: server NAME`` above its
entries say which upstream it was.

Believed only when the writer, given that upstream (the entries' addresses, equal weights or
else the weights the shares say), writes exactly this ``split_clients``: same variable, same
addresses in the same order, same shares. Then each ``proxy_pass http://$pxc_dns_<name>``
proxies to the upstream, with the resolver in scope there. Anything else reads as before (raw
text, I001).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from math import gcd

from ... import ir
from ...diagnostics import Diagnostics
from ...validate import NAME
from ..common import parse_address
from ..provenance import take_name
from .provenance_names import count_said
from .provenance_route_map import _same
from .reader_payload import Loader, Stmt

_PREFIX = "$pxc_dns_"
_STAND_IN_RESOLVER = ir.Resolver(name="pxc", nameservers=[ir.Nameserver(name="ns1", address="127.0.0.1")])


@dataclass(eq=False)
class DnsChoice:
    """A checked ``split_clients``: the upstream it was written from (no resolver yet: that is
    the one in scope where it is used)."""

    variable: str  # without "$"
    upstream: ir.Upstream


def check_dns_choices(items: list[Stmt]) -> dict[int, DnsChoice]:
    """The writer's DNS choices among one http block's statements, by id of the statement."""
    found = {}
    for item in items:
        if (item.name == "split_clients" and len(item.args) == 2 and item.args[0] == "$request_id"
                and item.args[1].startswith(_PREFIX) and item.block and item.comments):
            upstream = _claimed(item)
            if upstream is not None:
                found[id(item)] = DnsChoice(item.args[1][1:], upstream)
    return found


def _claimed(item: Stmt) -> ir.Upstream | None:
    name, _ = take_name(item.comments, "upstream")
    entries = item.block
    if name is None or not NAME.fullmatch(name) or any(len(e.args) != 1 or e.block is not None for e in entries):
        return None
    servers = []
    for index, entry in enumerate(entries, 1):
        host, port, problem = parse_address(entry.args[0])
        said, _ = take_name(entry.comments, "server")
        if problem or host is None:
            return None
        servers.append(ir.Server(name=said if said and NAME.fullmatch(said) else f"s{index}", host=host, port=port,
                                 count=count_said(entry.comments), span=entry.span))
    if len({server.name for server in servers}) != len(servers):
        return None
    for weights in _candidate_weights(entries):
        upstream = ir.Upstream(name=name, resolver=_STAND_IN_RESOLVER.name, span=item.span,
                               servers=[s.model_copy(update={"weight": w}) for s, w in zip(servers, weights)])
        if _rewrites_to(upstream, item):
            upstream.resolver = None
            return upstream
    return None


def _candidate_weights(entries: list[Stmt]) -> list[list[int]]:
    """Equal weights (the common case), else the weights the shares say, in lowest terms."""
    candidates = [[1] * len(entries)]
    shares = []
    for entry in entries[:-1]:
        try:
            shares.append(round(float(entry.name.rstrip("%")) * 100))
        except ValueError:
            return candidates
    rest = 10_000 - sum(shares)
    if entries[-1].name == "*" and rest > 0 and all(share > 0 for share in shares):
        weights = [*shares, rest]
        divisor = 0
        for weight in weights:
            divisor = gcd(divisor, weight)
        candidates.append([weight // divisor for weight in weights])
    return candidates


def _rewrites_to(upstream: ir.Upstream, item: Stmt) -> bool:
    from .writer_out import Out
    from .writer_upstreams import UpstreamWriter

    writer = UpstreamWriter(ir.Config(upstreams=[upstream], resolvers=[_STAND_IN_RESOLVER]), Diagnostics())
    out = Out(1)
    writer.write_dns_choice(out, writer.plan(upstream, "http"))
    if any(d.severity == "error" for d in writer.diags):
        return False
    stmts = Loader(Diagnostics(), None, None).load_text("http {\n" + "\n".join(out.lines) + "\n}\n",
                                                        "<proxyc DNS upstream check>")
    written = stmts[0].block if stmts and stmts[0].block else []
    return len(written) == 1 and _same(written[0], item)


def single_dns_names(set_stmt: Stmt) -> tuple[str | None, str | None, int | None]:
    """The upstream's and its server's names and the server's count from the comments above
    the writer's ``set $pxc_dns_<name> host:port`` (an upstream with one DNS server), when the
    variable is the one the writer derives from that name; Nones otherwise."""
    if not set_stmt.comments:
        return None, None, None
    from .writer_upstreams import variable_suffix

    name, _ = take_name(set_stmt.comments, "upstream")
    server, _ = take_name(set_stmt.comments, "server")
    if name is None or not NAME.fullmatch(name) or not set_stmt.args:
        return None, None, None
    base = _PREFIX + variable_suffix(name)
    if not re.fullmatch(re.escape(base) + r"(?:_[2-9]|_[1-9]\d+)?", set_stmt.args[0]):
        return None, None, None
    return name, server if server is not None and NAME.fullmatch(server) else None, count_said(set_stmt.comments)
