"""http server blocks → IR frontends: one per set of sockets served by the same server blocks.

A frontend's rules are, in nginx's server selection order, each server block's routes guarded
by an ACL for its names, then the default server's routes unguarded; the default server's
fallthrough is the frontend's default. Settings the IR holds per frontend (request and response
headers, client timeouts, TLS certificate, raw text) must agree across the frontend's routes;
where they do not, the first one is kept and the others are reported.
"""
from __future__ import annotations

import re

from ... import ir
from ...validate import NAME
from ..provenance import take_name
from .provenance import (
    ROUTING_KEYWORDS,
    closed_stats_rule,
    routing_from_comments,
    same_first_match,
    stats_closed,
)
from .reader_actions import STATIC_STATUS, placeholder
from .reader_conditions import all_of
from .reader_headers import request_headers, response_headers
from .reader_http import ServerBlock, duration_of
from .reader_ledger import Ledger
from .reader_locations import PREFIX_KINDS
from .reader_payload import Stmt
from .reader_servers import ListenSpec, SocketGroup, group_sockets, host_entries

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class FrontendNames:
    """Deterministic frontend names from the first socket: ``http_80``, ``https_443``,
    ``http_127.0.0.1_8080``, ``tcp_5432``; a suffix when taken."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def name(self, kind: str, spec: ListenSpec) -> str:
        parts = [kind]
        if spec.address is not None:
            parts.append("v6" if spec.address == "::" else _UNSAFE.sub("_", spec.address).strip("_"))
        parts.append(str(spec.port))
        base = candidate = "_".join(p for p in parts if p)
        n = 2
        while candidate in self._taken:
            candidate, n = f"{base}_{n}", n + 1
        self._taken.add(candidate)
        return candidate

    def claim(self, name: str | None) -> bool:
        """Take ``name`` (from the writer's ``# proxyc: frontend`` comment) if it is a valid IR
        name nobody has yet."""
        if name is None or not NAME.fullmatch(name) or name in self._taken:
            return False
        self._taken.add(name)
        return True

    def of_block(self, kind: str, spec: ListenSpec, comments: list[str], alone: bool) -> tuple[str, list[str]]:
        """The frontend's name and its comments: the one the writer recorded when the frontend
        is this server block alone, else one made from the first socket."""
        said, kept = take_name(comments, "frontend")
        return (said if alone and self.claim(said) else self.name(kind, spec)), kept


class HttpFrontends:
    def __init__(self, ledger: Ledger, names: FrontendNames):
        self.ledger = ledger
        self.names = names

    def build(self, servers: list[ServerBlock]) -> list[ir.Frontend]:
        groups = group_sockets([(s, s.listens) for s in servers])
        frontends = [self._frontend(group) for group in groups]
        self._report_raw(servers, groups, frontends)
        return frontends

    def _frontend(self, group: SocketGroup[ServerBlock]) -> ir.Frontend:
        first = group.listens[0]
        kind = "https" if first.ssl else "http"
        default = group.default
        name, comments = self.names.of_block(kind, first, default.stmt.comments, alone=len(group.servers) == 1)
        fe = ir.Frontend(name=name, span=default.stmt.span, comments=comments)
        fe.listens = [ir.Listen(address=spec.address, port=spec.port, tls=self._tls(group, spec),
                                default_server=spec.default, span=spec.stmt.span) for spec in group.listens]
        self._routes(fe, group)
        if len(group.servers) == 1 and default.route_map is not None:
            self._route_map_as_written(fe, default)
        elif len(group.servers) == 1:
            self._routing_as_written(fe, default.stmt.comments, default)
        else:
            self._report_shared_route_maps(group)
        # nginx matches locations against the normalised URI; keep that meaning where paths matter
        fe.normalize_uri = any(isinstance(node, ir.PathMatch) for node in ir.iter_nodes(fe))
        self._stats(fe, group)
        self._headers(fe, group)
        self._client_timeouts(fe, group)
        if len(group.servers) == 1:
            fe.raw = [ir.Raw(target="nginx", text=stmt.text(), span=stmt.span) for stmt in default.unknown]
        return fe

    # -- routing -----------------------------------------------------------------------------
    def _routes(self, fe: ir.Frontend, group: SocketGroup[ServerBlock]) -> None:
        entries, conflicts = host_entries([(s, s.names) for s in group.servers], group.default)
        for conflict in conflicts:
            self.ledger.add(conflict.pattern.stmt, "I003", f'conflicting server name "{conflict.pattern.value}" '
                            f"on {_socket_text(group.listens[0])}, ignored (as nginx does): line "
                            f"{conflict.first.stmt.line} has it first")
        while entries and entries[-1].server is group.default:
            entries.pop()  # the default server gets these requests anyway
        acl_names: set[str] = set()
        for entry in entries:
            acl = ir.Acl(name=_acl_name(entry.condition, acl_names), condition=entry.condition,
                         span=entry.condition.span)
            fe.acls.append(acl)
            ref = ir.AclRef(name=acl.name, span=acl.span)
            routes = entry.server.routes
            for rule in routes.rules:
                fe.rules.append(_copy_rule(rule, all_of(ref, rule.condition)))
            if routes.fallthrough is not None:
                fe.rules.append(ir.Rule(condition=ref, action=routes.fallthrough.model_copy(),
                                        span=entry.server.stmt.span))
        routes = group.default.routes
        fe.rules += [_copy_rule(rule, rule.condition) for rule in routes.rules]
        fe.default = routes.fallthrough.model_copy() if routes.fallthrough is not None else None

    def _routing_as_written(self, fe: ir.Frontend, comments: list[str], server: ServerBlock) -> None:
        """The writer's ``# proxyc:`` routing (named ACLs, rule order), when it routes every
        path exactly as the locations read here (see nginx/provenance.py); a stats page it
        carries is one the writer closed (403), read as that deny."""
        said = routing_from_comments(comments, (*ROUTING_KEYWORDS, "stats"))
        closed = stats_closed(comments)
        if said is not None and said.stats is not None:
            if closed is None:
                return  # a plain-location frontend's open stats page is its stub_status location
            said.rules.insert(0, closed_stats_rule(said.stats))
        if said is not None and same_first_match(said, fe):
            if said.stats is not None:
                self._report_closed_stats(server.stmt, said.stats.uri, closed)
                said.stats = None
            for node in [*said.acls, *said.rules, *([said.default] if said.default else [])]:
                for item in ir.iter_nodes(node):
                    item.span = fe.span  # diagnostics about them point at the server block
            fe.acls, fe.rules, fe.default = said.acls, said.rules, said.default

    def _route_map_as_written(self, fe: ir.Frontend, server: ServerBlock) -> None:
        """A route map checked against the writer's ``# proxyc:`` routing (provenance_route_map):
        its conditions are the claimed ones; each rule does what the body it reaches does, which
        is the claimed action where the body is exactly what the writer writes for it."""
        claim = server.route_map
        said = claim.routing
        for node in ir.iter_nodes(said):
            node.span = server.stmt.span  # diagnostics about them point at the server block
        rules = []
        for number, (rule, body) in enumerate(zip(said.rules, claim.rule_bodies, strict=True), 1):
            rules.append(ir.Rule(condition=rule.condition, action=self._body_action(server, body, rule.action),
                                 span=rule.span, comments=claim.rule_comments.get(number, [])))
        fe.acls, fe.rules = said.acls, rules
        fe.default = self._body_action(server, claim.default_body, said.default)
        fe.stats = said.stats
        if said.stats is not None and said.stats.users:
            where = next((stmt for stmt in claim.pieces if stmt.name == "location"
                          and stmt.args[0].endswith("_stats")), server.stmt)  # the only route key ending so
            self._report_closed_stats(where, said.stats.uri, len(said.stats.users))
            fe.rules.insert(0, closed_stats_rule(said.stats))
            fe.stats = None

    def _report_closed_stats(self, where: Stmt, uri: str, users: int) -> None:
        """A stats page the writer closed because of its login reads as what nginx does there;
        the login itself is not in the file."""
        self.ledger.lossy(where, f"the stats page at {uri} had a login ({users} user{'s' * (users > 1)}) that "
                          "nginx.conf cannot hold; imported as what nginx answers there: deny (403)",
                          severity="info")

    @staticmethod
    def _body_action(server: ServerBlock, body: str | None, claimed):
        """What the route's body does: the claimed action when the body is the writer's for it
        (or the rule is never reached), else the body as read."""
        claim = server.route_map
        if body is None or body in claim.exact_bodies:
            return claimed
        if body == "default":
            read = server.routes.fallthrough
        else:
            read = next((r.action for r in server.routes.named.get(body, []) if r.condition is None), None)
            read = read if read is not None else placeholder(STATIC_STATUS, server.stmt.span)
        return claimed if read == claimed else read

    def _report_shared_route_maps(self, group: SocketGroup[ServerBlock]) -> None:
        """A route map serves its own server block only; shared with others, its sockets make
        one frontend of several blocks, which the claimed rules do not describe."""
        for server in group.servers:
            for stmt in server.route_map.pieces if server.route_map is not None else ():
                self.ledger.unsupported(stmt, f"the proxyc route map of this server block is not imported: "
                                        f"its sockets are shared with another server block")

    def _stats(self, fe: ir.Frontend, group: SocketGroup[ServerBlock]) -> None:
        for server in group.servers:
            if server.route_map is not None:
                continue  # the claimed stats page, at its named location
            for loc in server.routes.stats:
                if fe.stats is not None:
                    self.ledger.lossy(loc.stmt, f"a second stub_status on frontend {fe.name}; the IR has one "
                                      "stats page per frontend")
                    continue
                fe.stats = ir.Stats(uri=loc.path, span=loc.stmt.span)
                if loc.kind not in PREFIX_KINDS and loc.kind != "exact":
                    self.ledger.lossy(loc.stmt, f"stub_status in {loc.label}: imported as the stats page at "
                                      f"{loc.path}, which is not a path")
                elif len(group.servers) > 1 or loc.children:
                    self.ledger.lossy(loc.stmt, "stub_status: the IR stats page answers on every host of "
                                      f"frontend {fe.name}", severity="info")

    # -- settings the IR holds per frontend --------------------------------------------------
    def _headers(self, fe: ir.Frontend, group: SocketGroup[ServerBlock]) -> None:
        self._request_headers(fe, group)
        self._response_headers(fe, group)

    def _request_headers(self, fe: ir.Frontend, group: SocketGroup[ServerBlock]) -> None:
        """From the route that is the frontend's default (else the first that proxies); the
        other proxying routes must agree."""
        proxied = [p for s in group.servers for p in s.routes.proxied]
        if not proxied:
            return
        tls = {bool(listen.tls) for listen in fe.listens}
        scheme = ("https" if True in tls else "http") if len(tls) == 1 else None
        default_upstream = getattr(fe.default, "upstream", None)
        reference = next((p for p in reversed(proxied) if p.upstream == default_upstream), proxied[0])
        lines = reference.level.array("proxy_set_header")
        fe.request_headers, fe.forwardfor = request_headers(lines, self.ledger, scheme)
        if not any(line.args[0].lower() == "host" for line in lines):
            self.ledger.note(reference.stmt, "without proxy_set_header Host nginx sends the upstream's name as "
                             "Host; the IR passes the client's Host (as HAProxy does)")
        wanted = _dump(fe.request_headers, fe.forwardfor)
        for item in proxied:
            ops, forwardfor = request_headers(item.level.array("proxy_set_header"), self.ledger, scheme)
            if _dump(ops, forwardfor) != wanted:
                self._differs(item.stmt, "proxy_set_header", fe.name, reference.stmt)

    def _response_headers(self, fe: ir.Frontend, group: SocketGroup[ServerBlock]) -> None:
        """From the last route (the default one); every route must agree, returns included."""
        served = [pair for s in group.servers for pair in s.routes.served]
        if not served:
            return
        reference_stmt, reference_level = served[-1]
        fe.response_headers = _response_headers(reference_level, self.ledger)
        wanted = _dump(fe.response_headers)
        for stmt, level in served:
            if _dump(_response_headers(level, self.ledger)) != wanted:
                self._differs(stmt, "add_header/proxy_hide_header", fe.name, reference_stmt)

    def _differs(self, stmt: Stmt, directive: str, frontend: str, reference: Stmt) -> None:
        self.ledger.lossy(stmt, f"the {directive} headers in effect here differ from those of frontend "
                          f"{frontend} (taken from line {reference.line}); the IR has one set per frontend")

    def _client_timeouts(self, fe: ir.Frontend, group: SocketGroup[ServerBlock]) -> None:
        """Set at server level (http level goes to the defaults); server blocks sharing a
        frontend must agree, else the default server's value is kept."""
        for key, field_name in (("client_body_timeout", "client"), ("client_header_timeout", "http_request")):
            chosen = _own_value(group.default, key)
            for server in group.servers:
                stmt = _own_value(server, key)
                if _value_key(stmt) != _value_key(chosen):
                    self.ledger.lossy(stmt or server.stmt, f"{key} differs between the server blocks of frontend "
                                      f"{fe.name}; the IR has one per frontend (the default server's)")
            setattr(fe.timeouts, field_name, duration_of(chosen))

    def _tls(self, group: SocketGroup[ServerBlock], spec: ListenSpec) -> ir.Tls | None:
        if not spec.ssl:
            return None
        with_cert = [s for s in group.servers if s.level.array("ssl_certificate")]
        owner = group.default if group.default in with_cert else (with_cert[0] if with_cert else None)
        if owner is None:
            message = f'no "ssl_certificate" is defined for the listen ... ssl on {_socket_text(spec)}'
            unread = group.default.level.unread_include()
            if unread is None:
                self.ledger.add(spec.stmt, "E207", message, "error")
            else:  # most likely in that file; the listener is imported without TLS
                self.ledger.add(spec.stmt, "I001", f"{message} here; it may be in {unread.args[0]} (line "
                                f"{unread.line}), which was not read; imported without TLS")
            return None
        certs = owner.level.array("ssl_certificate")
        keys = owner.level.array("ssl_certificate_key")
        for extra in certs[1:]:
            self.ledger.lossy(extra, "a second certificate (e.g. ECDSA next to RSA) is not modelled")
        for server in with_cert:
            other = server.level.array("ssl_certificate")
            if server is not owner and [s.args for s in other] != [s.args for s in certs]:
                self.ledger.lossy(other[0], "nginx picks this server block's certificate by SNI; the IR "
                                  f"listener has one certificate (from line {certs[0].line})")
        cert = certs[0].args[0] if certs[0].args else ""
        key = keys[0].args[0] if keys and keys[0].args else None
        if "$" in cert or (key and "$" in key):
            self.ledger.lossy(certs[0], "certificate paths with variables are kept literally")
        return ir.Tls(cert=cert, key=key, span=certs[0].span)

    # -- raw ---------------------------------------------------------------------------------
    def _report_raw(self, servers: list[ServerBlock], groups, frontends: list[ir.Frontend]) -> None:
        """Server-level directives proxyc does not model are kept verbatim when their server
        block is a frontend of its own; in a frontend shared by several blocks they cannot be."""
        shared_by: dict[int, list[str]] = {}  # server block → frontends it shares with other blocks
        for group, fe in zip(groups, frontends, strict=True):
            if len(group.servers) > 1:
                for server in group.servers:
                    shared_by.setdefault(id(server), []).append(fe.name)
        for server in servers:
            shared = shared_by.get(id(server), [])
            for stmt in server.unknown:
                if shared:
                    message = (f"{_what(stmt)} is not modelled; not kept in frontend {shared[0]}, which "
                               "serves several server blocks")
                else:
                    message = f"{_what(stmt)} is not modelled; kept as raw nginx text"
                if stmt.is_unread_include:
                    continue  # the loader reported it; kept all the same
                self.ledger.unsupported(stmt, message)


def upstream_timeouts(servers: list[ServerBlock], upstreams: dict[str, ir.Upstream], ledger: Ledger) -> None:
    """proxy_connect_timeout / proxy_read_timeout set below http level become the upstream's,
    when every route to that upstream agrees (http level is the defaults)."""
    for key, field_name in (("proxy_connect_timeout", "connect"), ("proxy_read_timeout", "server")):
        seen: dict[str, tuple[Stmt | None, Stmt]] = {}
        for server in servers:
            for item in server.routes.proxied:
                stmt, level = item.level.value(key)
                own = stmt if level is not None and level.name != "http" else None
                first = seen.setdefault(item.upstream, (own, item.stmt))
                if _value_key(first[0]) != _value_key(own):
                    ledger.lossy(own or item.stmt, f"{key} for upstream {item.upstream} differs between its "
                                 f"routes (line {first[1].line}); the IR has one per upstream")
        for name, (stmt, _) in seen.items():
            if stmt is not None and name in upstreams:
                setattr(upstreams[name].timeouts, field_name, duration_of(stmt))
    _compare_send_timeouts(servers, ledger)


def _compare_send_timeouts(servers: list[ServerBlock], ledger: Ledger) -> None:
    """HAProxy's one server timeout covers both directions; nginx has two."""
    for server in servers:
        for item in server.routes.proxied:
            send, _ = item.level.value("proxy_send_timeout")
            read, _ = item.level.value("proxy_read_timeout")
            if send is not None and _value_key(send) != _value_key(read):
                ledger.lossy(send, "proxy_send_timeout differs from proxy_read_timeout; the IR has one "
                             "server timeout (proxy_read_timeout's)", severity="info")


def _response_headers(level, ledger: Ledger) -> list[ir.HeaderOp]:
    return response_headers(level.array("add_header"), level.array("proxy_hide_header"), ledger)


def _own_value(server: ServerBlock, key: str) -> Stmt | None:
    stmt, level = server.level.value(key)
    return stmt if level is server.level else None


def _value_key(stmt: Stmt | None):
    return duration_of(stmt) if stmt is not None else None


def _copy_rule(rule: ir.Rule, condition) -> ir.Rule:
    """A frontend's own rule node (a server block may serve several frontends). The action is
    copied shallowly: it holds plain values."""
    return ir.Rule(condition=condition, action=rule.action.model_copy(), span=rule.span,
                   comments=list(rule.comments))


def _acl_name(condition, taken: set[str]) -> str:
    """``host_example.com``, ``host_.example.com`` (leading wildcard), ``host_www.`` (trailing),
    ``host_regex``: named after the first name of the group."""
    first = next((node for node in ir.iter_nodes(condition) if isinstance(node, ir.HostMatch)), None)
    value = first.values[0] if first is not None and first.op != "regex" else "regex"
    base = "host_" + (_UNSAFE.sub("_", value).strip("_") or "regex")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _dump(ops: list[ir.HeaderOp], *flags) -> tuple:
    return tuple(str(op.semantic_dump()) for op in ops) + flags


def _socket_text(spec: ListenSpec) -> str:
    return f"{spec.address or '*'}:{spec.port}" if spec.address != "::" else f"[::]:{spec.port}"


def _what(stmt: Stmt) -> str:
    return f"{stmt.name} in a server block" if stmt.name != "include" else f"include {' '.join(stmt.args)}"

