"""nginx ``stream {}`` (L4 proxying) → tcp-mode IR frontends.

A stream server has no names and no locations: its listeners, its ``allow``/``deny`` list (deny
rules on the source address, the only matcher a tcp frontend has) and one ``proxy_pass``, which
may go through ``set`` variables (reader_runtime) or a checked ``split_clients`` (the nginx
writer's DNS upstreams, provenance_dns). ``proxy_timeout`` is the idle timeout on both sides
(the frontend's client and the upstream's server timeout), ``proxy_connect_timeout`` the
upstream's connect timeout.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import ir
from .provenance_dns import set_target, use_dns_choice
from .provenance_route_map import NONE as NO_ROUTE_MAPS
from .provenance_stream import StreamClaim
from .reader_actions import HANDLER_STATUS, access_rules, placeholder
from .reader_frontends import FrontendNames
from .reader_http import Level, duration_of
from .reader_ledger import Ledger, expand_includes
from .reader_payload import Stmt
from .reader_runtime import substitute_sets
from .reader_servers import ListenSpec, group_sockets, parse_listen
from .reader_upstreams import UpstreamNames, parse_proxy_pass

STREAM_SETTINGS = frozenset({"allow", "deny", "proxy_timeout", "proxy_connect_timeout", "ssl_certificate",
                             "ssl_certificate_key", "resolver_timeout"})
STREAM_SERVER_HANDLED = STREAM_SETTINGS | {"listen", "proxy_pass", "resolver", "return", "set"}


@dataclass(eq=False)
class StreamServer:
    stmt: Stmt
    level: Level
    listens: list[ListenSpec] = field(default_factory=list)
    proxy_pass: Stmt | None = None
    upstream: str | None = None
    # Kept as raw text; 'set' lines too (in their place) unless the proxy_pass is read through them.
    unknown: list[Stmt] = field(default_factory=list)
    route_map: StreamClaim | None = None  # the checked routing of a route map (provenance_stream)
    close: Stmt | None = None  # 'return ""': nginx sends nothing and closes the connection
    # The upstream whose timeouts the server's are: the one it proxies to, or its route map's default.
    timed_upstream: str | None = None


class StreamReader:
    def __init__(self, ledger: Ledger, names: UpstreamNames, frontend_names: FrontendNames, on_resolver):
        self.ledger = ledger
        self.names = names
        self.frontend_names = frontend_names
        self.on_resolver = on_resolver
        self.route_maps = NO_ROUTE_MAPS  # what the writer's checked route maps account for
        self.dns_choices: dict[str, ir.Upstream] = {}  # "$pxc_dns_x" -> its checked upstream (provenance_dns)

    def read_server(self, stmt: Stmt, parent: Level) -> StreamServer:
        server = StreamServer(stmt=stmt, level=Level(parent, "server"), route_map=self.route_maps.claim_of(stmt))
        keep = lambda s, message: server.unknown.append(s)
        for child in expand_includes(stmt.block or [], self.ledger, STREAM_SERVER_HANDLED, keep):
            self._directive(server, child)
        if server.proxy_pass is not None and server.route_map is None:
            server.upstream = self._target(server)  # now: nginx sets variables whatever the order
        if server.close is not None:
            if server.proxy_pass is None:
                self.ledger.converted(server.close)  # what a TCP frontend without a default does
            else:  # two content handlers: nginx runs the last one given
                server.unknown.append(server.close)
                server.close = None
        if not server.listens:
            self.ledger.invalid(stmt, "a stream server needs a listen directive with a port")
        self.ledger.converted(stmt)
        return server

    def _directive(self, server: StreamServer, stmt: Stmt) -> None:
        if stmt.name == "listen":
            spec, problem = parse_listen(stmt, stream=True)
            if spec is not None and "udp" in spec.lost:
                problem = "UDP listeners have no IR equivalent (tcp only)"
            if problem:
                self.ledger.unsupported(stmt, problem)
                return
            server.listens.append(spec)
            self.ledger.converted(stmt)
            for option in spec.lost:
                self.ledger.lossy(stmt, f"listen option {option} is not modelled and was not imported",
                                  severity="warning" if option == "proxy_protocol" else "info")
        elif stmt.name == "proxy_pass":
            if server.proxy_pass is not None:
                self.ledger.invalid(stmt, '"proxy_pass" directive is duplicate')
                return
            server.proxy_pass = stmt
            if server.route_map is not None:
                self.ledger.converted(stmt)  # the checked route map's variable: routed by the claim
        elif stmt.name == "resolver":
            self.on_resolver(stmt, server.level)
        elif stmt.name == "return" and stmt.args == [""] and server.close is None:
            server.close = stmt
        elif stmt.name in STREAM_SETTINGS:
            server.level.collect(stmt, self.ledger)
        else:
            server.unknown.append(stmt)

    def _target(self, server: StreamServer) -> str | None:
        """The IR upstream of the server's proxy_pass, or None (reported)."""
        stmt = server.proxy_pass
        if len(stmt.args) != 1:
            self.ledger.invalid(stmt, 'invalid number of arguments in "proxy_pass" directive')
            return None
        dns = self.dns_choices.get(stmt.args[0])
        if dns is not None:  # the writer's split_clients over an upstream's DNS names
            use_dns_choice(stmt, dns, server.level, self.ledger)
            return dns.name
        url, used_sets = substitute_sets(stmt.args[0], [s for s in server.unknown if s.name == "set"])
        target = parse_proxy_pass(url, stream=True)
        if not used_sets:  # a literal target, not one read through set values
            target = self.names.named("stream", target)
        if target.problem:
            self.ledger.unsupported(stmt, f"{target.problem}; the frontend answers nothing useful in the IR")
            return None
        explicit = self.names.explicit("stream", target.host)
        if target.port is None and explicit is None:
            if used_sets:  # nginx cannot know before a connection comes
                self.ledger.unsupported(stmt, f'no port in upstream "{url}" (nginx fails each connection at run '
                                        "time); the frontend answers nothing useful in the IR")
            else:
                self.ledger.invalid(stmt, f'no port in upstream "{target.host}"')
            return None
        self.ledger.converted(stmt)
        for used in used_sets:
            self.ledger.converted(used)
            server.unknown.remove(used)
        if target.port is None:
            return explicit
        resolver, said = set_target(stmt, target.host, used_sets, server.level, self.ledger)
        return self.names.implicit("stream", target.host, target.port, stmt.span, mode="tcp", resolver=resolver,
                                   said=said)

    # -- frontends ---------------------------------------------------------------------------
    def frontends(self, servers: list[StreamServer], upstreams: dict[str, ir.Upstream],
                   defaults_level: Level | None) -> list[ir.Frontend]:
        """``defaults_level``: the stream level whose timeouts went to the IR defaults (a config
        with no http frontends), so that only what a server block sets itself is repeated."""
        out = []
        for group in group_sockets([(s, s.listens) for s in servers]):
            for extra in group.servers[1:]:
                self.ledger.invalid(extra.stmt, "duplicate listen in stream: this server block is never used")
            out.append(self._frontend(group.default, group.listens, defaults_level))
        self._upstream_timeouts(servers, upstreams, defaults_level)
        self._report_raw(servers)
        return out

    def _frontend(self, server: StreamServer, listens: list[ListenSpec], defaults_level: Level | None) -> ir.Frontend:
        name, comments = self.frontend_names.of_block("tcp", listens[0], server.stmt.comments, alone=True)
        fe = ir.Frontend(name=name, mode="tcp", span=server.stmt.span, comments=comments)
        fe.listens = [ir.Listen(address=spec.address, port=spec.port, tls=self._tls(server, spec),
                                span=spec.stmt.span) for spec in listens]
        fe.rules, denies_all = access_rules(server.level.array("access"), self.ledger, None)
        if server.route_map is not None:
            self._route_map_as_written(fe, server)
        elif denies_all:
            fe.default = fe.rules.pop().action
        elif server.upstream is not None:
            fe.default = ir.UseUpstream(upstream=server.upstream, span=server.proxy_pass.span)
        elif server.close is not None:
            fe.default = None
        else:
            fe.default = placeholder(HANDLER_STATUS, server.stmt.span)
        if isinstance(fe.default, ir.UseUpstream):
            server.timed_upstream = fe.default.upstream  # the writer writes its timeouts here
        fe.timeouts.client = duration_of(_below(server.level, "proxy_timeout", defaults_level))
        fe.raw = [ir.Raw(target="nginx", text=stmt.text(), span=stmt.span) for stmt in server.unknown]
        return fe

    def _route_map_as_written(self, fe: ir.Frontend, server: StreamServer) -> None:
        """A route map checked against the writer's ``# proxyc:`` routing: the claimed
        conditions, and each rule sends where the file's map sends it (the upstream block its
        value names, as read), which is the claimed upstream when the names agree."""
        claim = server.route_map
        said = claim.routing
        for node in ir.iter_nodes(said):
            node.span = server.stmt.span  # diagnostics about them point at the server block
        fe.acls = said.acls
        fe.rules = [ir.Rule(condition=rule.condition, action=self._sent_to(claim, target, rule.action),
                            span=rule.span, comments=claim.rule_comments.get(number, []))
                    for number, (rule, target) in enumerate(zip(said.rules, claim.rule_targets, strict=True), 1)]
        fe.default = self._sent_to(claim, claim.default_target, said.default)

    def _sent_to(self, claim: StreamClaim, target: str | None, claimed):
        """The action of a route whose map value is ``target`` (None: never reached)."""
        if target is None or target == claim.closed:
            return claimed  # the check made sure: closing is a deny or no default
        upstream = self.names.explicit("stream", target)
        if isinstance(claimed, ir.UseUpstream) and claimed.upstream == upstream:
            return claimed
        return ir.UseUpstream(upstream=upstream, span=claim.routing.span)

    def _tls(self, server: StreamServer, spec: ListenSpec) -> ir.Tls | None:
        if not spec.ssl:
            return None
        certs = server.level.array("ssl_certificate")
        keys = server.level.array("ssl_certificate_key")
        if not certs or not certs[0].args:
            self.ledger.add(spec.stmt, "E207", 'no "ssl_certificate" is defined for the listen ... ssl', "error")
            return None
        return ir.Tls(cert=certs[0].args[0], key=keys[0].args[0] if keys and keys[0].args else None,
                      span=certs[0].span)

    def _upstream_timeouts(self, servers: list[StreamServer], upstreams: dict[str, ir.Upstream],
                           defaults_level: Level | None) -> None:
        for key, field_name in (("proxy_timeout", "server"), ("proxy_connect_timeout", "connect")):
            seen: dict[str, Stmt | None] = {}
            for server in servers:
                if server.timed_upstream is None:
                    continue
                stmt = _below(server.level, key, defaults_level)
                first = seen.setdefault(server.timed_upstream, stmt)
                if duration_of(first) != duration_of(stmt):
                    self.ledger.lossy(stmt or server.stmt, f"{key} for upstream {server.timed_upstream} differs "
                                      "between the servers using it; the IR has one per upstream")
            for name, stmt in seen.items():
                if stmt is not None and name in upstreams:
                    setattr(upstreams[name].timeouts, field_name, duration_of(stmt))

    def _report_raw(self, servers: list[StreamServer]) -> None:
        for server in servers:
            for stmt in server.unknown:
                if stmt.is_unread_include:
                    continue
                self.ledger.unsupported(stmt, f"{stmt.name} in a stream server is not modelled; "
                                        "kept as raw nginx text")


def _below(level: Level, key: str, defaults_level: Level | None) -> Stmt | None:
    """The setting in effect, unless it comes from the level that became the defaults."""
    stmt, where = level.value(key)
    return None if where is not None and where is defaults_level else stmt
