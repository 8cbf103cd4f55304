"""nginx ``server`` blocks (http) → their listeners, names, and first-match routes.

Directive inheritance is nginx's: a value directive (a timeout, ``default_type``) is taken from
the innermost level that sets it; an array directive (``proxy_set_header``, ``add_header``,
``allow``/``deny``, ``ssl_certificate``) from the innermost level that has *any* of it — a level
that defines one inherits none. Levels are resolved when the whole block is read, because nginx
merges a level's settings after parsing it (a directive below a ``location`` still applies to it).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ... import ir
from ...ir.walk import parse_nginx_duration
from .reader_actions import (
    HANDLER_STATUS,
    NGINX_DEFAULT_TYPE,
    STATIC_STATUS,
    access_rules,
    placeholder,
    return_action,
    rewrite_always_redirects,
    rewrite_rule,
)
from .reader_ledger import Ledger, expand_includes
from .reader_locations import (
    PREFIX_KINDS,
    Location,
    duplicate_problem,
    nesting_problem,
    order,
    parse_location,
)
from .provenance_dns import set_target, use_dns_choice
from .provenance_route_map import NONE as NO_ROUTE_MAPS
from .reader_payload import Stmt
from .reader_runtime import substitute_sets
from .reader_servers import HostPattern, ListenSpec, parse_listen, parse_server_name
from .reader_upstreams import UpstreamNames, parse_proxy_pass

# Array directives: a level that has any of them replaces the inherited list.
ARRAYS = {"proxy_set_header": "proxy_set_header", "add_header": "add_header", "proxy_hide_header": "proxy_hide_header",
          "allow": "access", "deny": "access", "ssl_certificate": "ssl_certificate",
          "ssl_certificate_key": "ssl_certificate_key"}
VALUES = ("proxy_connect_timeout", "proxy_read_timeout", "proxy_send_timeout", "client_body_timeout",
          "client_header_timeout", "send_timeout", "default_type", "resolver_timeout", "ssl")
SETTINGS = frozenset(ARRAYS) | frozenset(VALUES)
NOT_IN_LOCATIONS = frozenset({"ssl_certificate", "ssl_certificate_key", "client_header_timeout", "ssl"})
CLIENT_TIMEOUTS = ("client_body_timeout", "send_timeout")
# Content handlers the IR has no action for: the route gets a placeholder.
HANDLERS = frozenset({"fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass", "js_content",
                      "content_by_lua", "content_by_lua_block", "content_by_lua_file", "perl", "empty_gif",
                      "flv", "mp4", "status", "api", "health_check_status"})
REWRITE_PHASE = ("return", "rewrite")

SERVER_HANDLED = SETTINGS | {"listen", "server_name", "location", "return", "rewrite", "resolver"}
LOCATION_HANDLED = SETTINGS | {"location", "return", "rewrite", "proxy_pass", "stub_status", "resolver"} | HANDLERS


class Level:
    """One level of settings (http, server, location) and its parent."""

    def __init__(self, parent: Level | None = None, name: str = ""):
        self.parent = parent
        self.name = name
        self.resolver_name: str | None = None  # the IR resolver a ``resolver`` here became
        self.unread_includes: list[Stmt] = []  # includes that could not be followed: settings may hide there
        self._items: dict[str, list[Stmt]] = {}

    def collect(self, stmt: Stmt, ledger: Ledger) -> None:
        """A setting written at this level; one nginx would refuse is reported and left out."""
        problem = setting_problem(stmt)
        if problem:
            ledger.invalid(stmt, problem)
            return
        self._items.setdefault(ARRAYS.get(stmt.name, stmt.name), []).append(stmt)
        ledger.converted(stmt)

    def own(self, key: str) -> list[Stmt]:
        return self._items.get(key, [])

    def array(self, key: str) -> list[Stmt]:
        level: Level | None = self
        while level is not None:
            if key in level._items:
                return level._items[key]
            level = level.parent
        return []

    def resolver(self) -> str | None:
        """The IR resolver of the innermost ``resolver`` at this level or above."""
        level: Level | None = self
        while level is not None:
            if level.resolver_name is not None:
                return level.resolver_name
            level = level.parent
        return None

    def unread_include(self) -> Stmt | None:
        """The first include at this level or above that was not read, if any."""
        level: Level | None = self
        while level is not None:
            if level.unread_includes:
                return level.unread_includes[0]
            level = level.parent
        return None

    def value(self, key: str) -> tuple[Stmt | None, Level | None]:
        """The statement in effect and the level it was written at."""
        level: Level | None = self
        while level is not None:
            if key in level._items:
                return level._items[key][-1], level
            level = level.parent
        return None, None


@dataclass
class LocationData:
    level: Level
    rewrites: list[Stmt] = field(default_factory=list)
    proxy_pass: Stmt | None = None
    stub_status: Stmt | None = None
    handler: Stmt | None = None
    sets: list[Stmt] = field(default_factory=list)  # ``set $var value``: only proxy_pass can use them
    has_if: bool = False  # an ``if`` may set variables at run time


@dataclass
class Proxied:
    """A route that proxies: where, with which settings, to which IR upstream."""

    stmt: Stmt
    level: Level
    upstream: str


@dataclass
class ServerRoutes:
    rules: list[ir.Rule]
    fallthrough: ir.models.Action | None  # for requests no rule takes; None: the stats page has them
    proxied: list[Proxied] = field(default_factory=list)
    served: list[tuple[Stmt, Level]] = field(default_factory=list)  # every route, for response headers
    stats: list[Location] = field(default_factory=list)
    named: dict[str, list[ir.Rule]] = field(default_factory=dict)  # a checked route map's bodies


@dataclass(eq=False)
class ServerBlock:
    stmt: Stmt
    level: Level
    listens: list[ListenSpec] = field(default_factory=list)
    names: list[HostPattern] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    rewrites: list[Stmt] = field(default_factory=list)
    unknown: list[Stmt] = field(default_factory=list)  # server-level directives for Raw
    routes: ServerRoutes | None = None
    route_map: object = None  # the checked routing of a route map (provenance_route_map.RouteMapClaim)
    named: list[Location] = field(default_factory=list)  # that route map's named locations

    @property
    def first_name(self) -> str | None:
        return next((p.value for p in self.names if p.kind == "exact"), None)


class ServerReader:
    """Reads http ``server`` blocks. ``on_resolver`` records a ``resolver`` directive wherever
    it appears (the IR keeps resolvers at the top)."""

    def __init__(self, ledger: Ledger, names: UpstreamNames, on_resolver):
        self.ledger = ledger
        self.names = names
        self.on_resolver = on_resolver
        self._location_keys: dict[int, tuple[list[Location], set[tuple[str, bool]]]] = {}
        self.route_maps = NO_ROUTE_MAPS  # what the writer's checked route maps account for
        self.dns_choices: dict[str, ir.Upstream] = {}  # "http://$pxc_dns_x" -> its checked upstream (provenance_dns)

    # -- reading -----------------------------------------------------------------------------
    def read(self, stmt: Stmt, parent: Level) -> ServerBlock:
        server = ServerBlock(stmt=stmt, level=Level(parent, "server"), route_map=self.route_maps.claim_of(stmt))
        body = expand_includes(stmt.block or [], self.ledger, SERVER_HANDLED, self._keep_unknown(server),
                               blocks=frozenset({"location"}))
        for child in body:
            self._server_directive(server, child)
        if not server.listens and not any(c.name == "listen" for c in stmt.walk()):
            self.ledger.note(stmt, "server block without listen: nginx listens on *:80 (as root)")
            server.listens.append(ListenSpec(address=None, port=80, stmt=stmt))
        self._ssl_on(server)
        self.ledger.converted(stmt)
        compare_send_timeout(server.level, self.ledger)
        server.routes = self._routes(server)
        return server

    def _ssl_on(self, server: ServerBlock) -> None:
        """The old ``ssl on;`` makes every listener of the server block TLS."""
        stmt, _ = server.level.value("ssl")
        if stmt is not None and stmt.args == ["on"]:
            for spec in server.listens:
                spec.ssl = True
            self.ledger.lossy(stmt, "ssl on is deprecated (nginx 1.15); imported as ssl on every listen of the "
                              "server block", severity="info")

    def _keep_unknown(self, server: ServerBlock):
        def keep(stmt: Stmt, message: str | None) -> None:
            server.unknown.append(stmt)  # kept or not once the frontends are known
            if stmt.is_unread_include:
                server.level.unread_includes.append(stmt)
        return keep

    def _server_directive(self, server: ServerBlock, stmt: Stmt) -> None:
        name = stmt.name
        if name == "listen":
            spec, problem = parse_listen(stmt, stream=False)
            if problem:
                self.ledger.unsupported(stmt, problem)
                return
            self._lost_listen_options(spec)
            server.listens.append(spec)
        elif name == "server_name":
            patterns, problems = parse_server_name(stmt)
            server.names += patterns
            for problem in problems:
                self.ledger.lossy(stmt, f"{problem}; not imported")
            self.ledger.converted(stmt)
        elif name == "location":
            loc = self._location(stmt, server.level, None)
            if loc is not None and loc.kind == "named":
                server.named.append(loc)
            elif loc is not None:
                self._add_location(server.locations, loc)
        elif name in REWRITE_PHASE:
            server.rewrites.append(stmt)
        elif name == "resolver":
            self.on_resolver(stmt, server.level)
        elif name in SETTINGS:
            server.level.collect(stmt, self.ledger)
        else:
            server.unknown.append(stmt)

    def _lost_listen_options(self, spec: ListenSpec) -> None:
        self.ledger.converted(spec.stmt)
        for option in spec.lost:
            base = option.split("=", 1)[0]
            severity = "warning" if base in ("proxy_protocol", "http2", "spdy", "quic", "http3") else "info"
            self.ledger.lossy(spec.stmt, f"listen option {option} is not modelled and was not imported",
                              severity=severity)

    def _add_location(self, level: list[Location], loc: Location) -> None:
        # One set of (path, exact) keys per level list, so duplicates are found in O(1).
        seen = self._location_keys.setdefault(id(level), (level, set()))[1]
        problem = duplicate_problem(seen, loc)
        if problem:
            self.ledger.invalid(loc.stmt, problem)
            return
        level.append(loc)

    def _location(self, stmt: Stmt, parent_level: Level, parent: Location | None) -> Location | None:
        loc, problem = parse_location(stmt)
        if loc is not None and parent is not None:
            problem = nesting_problem(parent, loc)
        if problem:
            self.ledger.invalid(stmt, problem)
            return None
        if loc.kind == "named" and not self.route_maps.explains(stmt):
            self.ledger.unsupported(stmt, f"named location {loc.path} is reached only through try_files, "
                                    "error_page or similar; not imported")
            return None
        data = LocationData(level=Level(parent_level, "location"))
        data.level.unread_includes = [c for c in stmt.block or [] if c.is_unread_include]
        loc.data = data
        for child in expand_includes(stmt.block or [], self.ledger, LOCATION_HANDLED,
                                     blocks=frozenset({"location"})):
            self._location_directive(loc, data, child)
        self.ledger.converted(stmt)
        return loc

    def _location_directive(self, loc: Location, data: LocationData, stmt: Stmt) -> None:
        name = stmt.name
        if name == "location":
            child = self._location(stmt, data.level, loc)
            if child is not None:
                self._add_location(loc.children, child)
        elif name in REWRITE_PHASE:
            data.rewrites.append(stmt)
        elif name == "set":
            data.sets.append(stmt)  # converted if a proxy_pass can be read through it, else reported
        elif name in ("proxy_pass", "stub_status"):
            self._content_directive(data, stmt)
        elif name in HANDLERS:
            data.handler = data.handler or stmt
            self.ledger.unsupported(stmt, f"{name} is not modelled; the route answers {HANDLER_STATUS} in the IR")
        elif name == "resolver":
            self.on_resolver(stmt, data.level)
        elif self.route_maps.explains(stmt):  # an if of a checked route map: its routing is the frontend's
            for inner in stmt.walk():
                self.ledger.converted(inner)
        elif name == "absolute_redirect" and stmt.args in (["off"], ["on"]):
            # off: a relative Location stays relative, as the IR's redirects send it (the writer
            # writes it for them); on is nginx's default.
            self.ledger.converted(stmt)
        elif name in CLIENT_TIMEOUTS:
            self.ledger.unsupported(stmt, f"{name} per location is not modelled (the IR sets client timeouts "
                                    "per frontend)")
        elif name in SETTINGS and name not in NOT_IN_LOCATIONS:
            data.level.collect(stmt, self.ledger)
        else:
            data.has_if = data.has_if or name == "if"
            self.ledger.unsupported(stmt, f"{name} in a location is not imported")

    def _content_directive(self, data: LocationData, stmt: Stmt) -> None:
        slot = "proxy_pass" if stmt.name == "proxy_pass" else "stub_status"
        if getattr(data, slot) is not None:
            self.ledger.invalid(stmt, f'"{stmt.name}" directive is duplicate')
            return
        setattr(data, slot, stmt)
        self.ledger.converted(stmt)

    # -- routes ------------------------------------------------------------------------------
    def _routes(self, server: ServerBlock) -> ServerRoutes:
        routes = ServerRoutes(rules=[], fallthrough=placeholder(STATIC_STATUS, server.stmt.span))
        routes.rules += self._rewrite_phase(server.rewrites, None, server.level, server)[0]
        entries = order(server.locations)
        for entry in entries:
            routes.rules += self._location_rules(entry.condition, entry.location, server, routes)
        for loc in server.named:
            routes.named[loc.path] = self._location_rules(None, loc, server, routes)
        for loc in [entry.location for entry in entries] + server.named:
            for stmt in loc.data.sets:
                self.ledger.unsupported(stmt, "set in a location is not imported")  # unless a proxy_pass used it
        if routes.rules and routes.rules[-1].condition is None:
            routes.fallthrough = routes.rules.pop().action
            return routes
        if entries and entries[-1].condition is None and entries[-1].location in routes.stats:
            routes.fallthrough = None  # "location / { stub_status; }": every request gets the stats page
            return routes
        # No location matched: nginx serves files with the server's own settings.
        access, denies_all = access_rules(server.level.array("access"), self.ledger, None)
        routes.rules += access
        if denies_all:
            routes.fallthrough = routes.rules.pop().action
        else:
            self.ledger.note(server.stmt, "requests that match no location are served from files by nginx; "
                             f"the IR answers {STATIC_STATUS}")
            routes.served.append((server.stmt, server.level))
        return routes

    def _rewrite_phase(self, stmts: list[Stmt], condition, level: Level,
                       server: ServerBlock) -> tuple[list[ir.Rule], bool]:
        """rewrite/return in order → (rules, whether a return ends the request there); what
        follows a return never runs."""
        rules: list[ir.Rule] = []
        for i, stmt in enumerate(stmts):
            if stmt.name == "rewrite":
                rule = rewrite_rule(stmt, self.ledger, condition, server.first_name)
                if rule is None:
                    continue
                rules.append(rule)
                if not rewrite_always_redirects(stmt):
                    continue
            else:
                action = return_action(stmt, self.ledger, content_type=_default_type(level),
                                       server_name=server.first_name)
                if action is None:
                    continue
                rules.append(ir.Rule(condition=condition, action=action, span=stmt.span,
                                     comments=list(stmt.comments)))
            for unreachable in stmts[i + 1:]:
                self.ledger.unsupported(unreachable, f"{unreachable.name} never runs: the {stmt.name} on line "
                                        f"{stmt.line} answers first", severity="info")
            return rules, True
        return rules, False

    def _location_rules(self, condition, loc: Location, server: ServerBlock, routes: ServerRoutes) -> list[ir.Rule]:
        data: LocationData = loc.data
        routes.served.append((loc.stmt, data.level))
        rules, returned = self._rewrite_phase(data.rewrites, condition, data.level, server)
        if returned:
            return rules
        access, denies_all = access_rules(data.level.array("access"), self.ledger, condition)
        rules += access
        if denies_all:
            return rules
        action = self._content(loc, data, routes)
        if action is not None:
            rules.append(ir.Rule(condition=condition, action=action, span=loc.stmt.span,
                                 comments=list(loc.stmt.comments)))
        return rules

    def _content(self, loc: Location, data: LocationData, routes: ServerRoutes) -> ir.models.Action | None:
        if data.proxy_pass is not None:
            return self._proxy(data.proxy_pass, loc, data, routes)
        if data.stub_status is not None:
            routes.stats.append(loc)
            return None
        if data.handler is not None:
            return placeholder(HANDLER_STATUS, loc.stmt.span)
        self.ledger.note(loc.stmt, f"{loc.label} serves files in nginx; the IR answers {STATIC_STATUS}")
        return placeholder(STATIC_STATUS, loc.stmt.span)

    def _proxy(self, stmt: Stmt, loc: Location, data: LocationData, routes: ServerRoutes) -> ir.models.Action:
        if len(stmt.args) != 1:
            self.ledger.invalid(stmt, 'invalid number of arguments in "proxy_pass" directive')
            return placeholder(HANDLER_STATUS, stmt.span)
        dns = self.dns_choices.get(stmt.args[0])
        if dns is not None:  # the writer's split_clients over an upstream's DNS names
            use_dns_choice(stmt, dns, data.level, self.ledger)
            routes.proxied.append(Proxied(loc.stmt, data.level, dns.name))
            return ir.UseUpstream(upstream=dns.name, span=stmt.span)
        url, used_sets = substitute_sets(stmt.args[0], data.sets, has_if=data.has_if)
        target = parse_proxy_pass(url, stream=False)
        if not used_sets:  # a literal target, not one read through set values
            target = self.names.named("http", target)
        if target.problem:
            self.ledger.unsupported(stmt, f"{target.problem}; the route answers {HANDLER_STATUS} in the IR")
            return placeholder(HANDLER_STATUS, stmt.span)
        explicit = self.names.explicit("http", target.host)
        if explicit is not None and target.port is not None:
            self.ledger.invalid(stmt, f'upstream "{target.host}" may not have port {target.port}')
            return placeholder(HANDLER_STATUS, stmt.span)
        resolver, said = set_target(stmt, target.host, used_sets if explicit is None else [], data.level, self.ledger)
        for used in used_sets:
            self.ledger.converted(used)
            data.sets.remove(used)
        name = explicit or self.names.implicit("http", target.host, target.port or (443 if target.tls else 80),
                                               stmt.span, mode=None, resolver=resolver, said=said)
        if target.tls:
            self.ledger.lossy(stmt, "TLS to the upstream (https://) is not modelled; imported as plain HTTP")
        if target.uri and not (loc.kind in PREFIX_KINDS and target.uri == loc.path):
            self.ledger.lossy(stmt, f"the URI part {target.uri} of proxy_pass replaces the matched part of the "
                              "URI in nginx; the IR passes the URI unchanged")
        routes.proxied.append(Proxied(loc.stmt, data.level, name))
        return ir.UseUpstream(upstream=name, span=stmt.span)



_ARG_COUNTS = {"proxy_set_header": (2,), "add_header": (2, 3), "proxy_hide_header": (1,), "allow": (1,),
               "deny": (1,), "default_type": (1,), "ssl_certificate": (1,), "ssl_certificate_key": (1,), "ssl": (1,)}


def setting_problem(stmt: Stmt) -> str | None:
    """What nginx says when it refuses a setting directive at start-up, or None."""
    args = stmt.args
    if len(args) not in _ARG_COUNTS.get(stmt.name, (1,)):
        return f'invalid number of arguments in "{stmt.name}" directive'
    if stmt.name == "add_header" and len(args) == 3 and args[2] != "always":
        return f'invalid parameter "{args[2]}"'
    if stmt.name in ("allow", "deny") and not _is_source(args[0]):
        return f'invalid parameter "{args[0]}"'
    if stmt.name == "ssl" and args[0] not in ("on", "off"):
        return f'invalid value "{args[0]}" in "ssl" directive, it must be "on" or "off"'
    if stmt.name.endswith("_timeout") and parse_nginx_duration(args[0]) is None:
        return f'"{stmt.name}" directive invalid value'
    return None


def _is_source(text: str) -> bool:
    if text == "all" or text.startswith("unix:"):
        return True
    try:
        ipaddress.ip_network(text, strict=False)
        return True
    except ValueError:
        return False


def compare_send_timeout(level: Level, ledger: Ledger) -> None:
    """nginx times out writes to the client (send_timeout) apart from reads (client_body_timeout);
    the IR has one client timeout, read from client_body_timeout."""
    send = level.own("send_timeout")
    if send and duration_of(send[-1]) != duration_of(level.value("client_body_timeout")[0]):
        ledger.lossy(send[-1], "send_timeout differs from client_body_timeout; the IR has one client timeout "
                     "(client_body_timeout's)", severity="info")


def duration_of(stmt: Stmt | None) -> int | None:
    """A one-argument time directive in milliseconds; None when absent or not a time."""
    if stmt is None or len(stmt.args) != 1:
        return None
    return parse_nginx_duration(stmt.args[0])


def _default_type(level: Level) -> str:
    stmt, _ = level.value("default_type")
    return stmt.args[0] if stmt is not None and len(stmt.args) == 1 else NGINX_DEFAULT_TYPE
