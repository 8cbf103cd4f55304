"""DNS upstreams read back as written (see ``proxyc/dialects/provenance.py``).

nginx 1.22 re-resolves a name only through a variable ``proxy_pass``, so the writer turns an
upstream with a resolver and several servers into ``split_clients $request_id $pxc_dns_<name>``
(one share per server, by weight; ``$connection`` in stream {}) and ``proxy_pass
http://$pxc_dns_<name>`` (stream: ``proxy_pass $pxc_dns_<name>``) where it is used. Read as
plain nginx that is a map and a proxy_pass the IR cannot follow. The writer's
``# proxyc: upstream NAME`` above the ``split_clients`` and ``# proxyc: server NAME`` above its
entries say which upstream it was.

Believed only when the writer, given that upstream (the entries' addresses, equal weights or
else the weights the shares say), writes exactly this ``split_clients``: same variable, same
addresses in the same order, same shares, written in the same context (http or stream). Then
each ``proxy_pass`` to the variable proxies to the upstream, with the resolver in scope there.
Anything else reads as before (raw text, I001).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from math import gcd
from typing import TYPE_CHECKING

from ... import ir
from ...diagnostics import Diagnostics
from ...validate import NAME
from ..common import parse_address
from ..provenance import take_name
from .provenance_names import count_said
from .provenance_route_map import _same
from .reader_ledger import Ledger
from .reader_payload import Loader, Stmt
from .reader_runtime import run_time_resolver

if TYPE_CHECKING:
    from .reader_http import Level

_PREFIX = "$pxc_dns_"
_NO_NAMES: tuple[str | None, str | None, int | None] = (None, None, None)
_STAND_IN_RESOLVER = ir.Resolver(name="pxc", nameservers=[ir.Nameserver(name="ns1", address="127.0.0.1")])


@dataclass(eq=False)
class DnsChoice:
    """A checked ``split_clients``: the upstream it was written from (no resolver yet: that is
    the one in scope where it is used)."""

    variable: str  # without "$"
    upstream: ir.Upstream
    target: str  # what the writer's proxy_pass to it says: "http://$pxc_dns_x", in stream "$pxc_dns_x"


def check_dns_choices(items: list[Stmt], context: str) -> dict[int, DnsChoice]:
    """The writer's DNS choices among one http or stream block's statements (``context``), by
    id of the statement."""
    found = {}
    for item in items:
        # The key ($request_id, $connection) is the context's: the rewriting compares it.
        if (item.name == "split_clients" and len(item.args) == 2 and item.args[1].startswith(_PREFIX)
                and item.block and item.comments):
            upstream = _claimed(item, context)
            if upstream is not None:
                upstream.mode = "tcp" if context == "stream" else None  # as the context's upstream blocks read
                scheme = "http://" if context == "http" else ""
                found[id(item)] = DnsChoice(item.args[1][1:], upstream, scheme + item.args[1])
    return found


def _claimed(item: Stmt, context: str) -> ir.Upstream | None:
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
        if _rewrites_to(upstream, item, context):
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


def _rewrites_to(upstream: ir.Upstream, item: Stmt, context: str) -> bool:
    from .writer_out import Out
    from .writer_upstreams import UpstreamWriter

    writer = UpstreamWriter(ir.Config(upstreams=[upstream], resolvers=[_STAND_IN_RESOLVER]), Diagnostics())
    out = Out(1)
    writer.write_dns_choice(out, writer.plan(upstream, context))
    if any(d.severity == "error" for d in writer.diags):
        return False
    stmts = Loader(Diagnostics(), None, None).load_text(context + " {\n" + "\n".join(out.lines) + "\n}\n",
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


def set_target(stmt: Stmt, host: str, used_sets: list[Stmt], level: Level,
               ledger: Ledger) -> tuple[str | None, tuple[str | None, str | None, int | None]]:
    """For a ``proxy_pass`` target read through ``used_sets`` (none: a literal target): the
    resolver nginx resolves ``host`` with at run time, and the names ``single_dns_names``
    finds when the one ``set`` is the writer's, for ``UpstreamNames.implicit``."""
    if not used_sets:
        return None, _NO_NAMES
    said = single_dns_names(used_sets[0]) if len(used_sets) == 1 else _NO_NAMES
    if said[0] is not None and level.resolver() is not None:
        # The writer's DNS upstream: its resolver is the one written here, even for an address.
        return level.resolver(), said
    resolver = run_time_resolver(stmt, host, level, ledger)
    return resolver, said if resolver is not None else _NO_NAMES


def use_dns_choice(stmt: Stmt, upstream: ir.Upstream, level: Level, ledger: Ledger) -> None:
    """A ``proxy_pass`` to the writer's checked split_clients over an upstream's DNS names:
    that upstream, resolved by the resolver in scope (the first proxy_pass to it decides)."""
    ledger.converted(stmt)
    # The writer's split_clients is an upstream with a resolver: the one in scope, even when its
    # first server is an address (reported when there is none and a name needs one).
    resolver = level.resolver() or run_time_resolver(stmt, upstream.servers[0].host, level, ledger)
    if upstream.resolver is None:
        upstream.resolver = resolver
    elif resolver != upstream.resolver:
        ledger.lossy(stmt, f"a different resolver than the first proxy_pass to upstream {upstream.name}; "
                     "the IR has one per upstream")
