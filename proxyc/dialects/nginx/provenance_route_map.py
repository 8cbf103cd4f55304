"""Route-map frontends read back as written (see ``proxyc/dialects/provenance.py``).

When a frontend's rules are not plain path matches, the nginx writer routes it with a *route
map*: a ``map``/``geo`` per matcher (``$pxc_m_N``, ``$pxc_src_N``), a ``map`` over their bit
string choosing the first rule that matches (``$pxc_route_<frontend>``), an ``if`` per route in
``location /`` handing the request to a named location (``error_page 418 = @pxc_<frontend>_rN;
return 418;``) that holds the route's action. Read as plain nginx, none of that is routing the IR
can hold; the writer's ``# proxyc:`` comments above the server block say which ACLs, rules and
default it was written from.

The comments are believed only after the nginx writer, given exactly that routing, writes
exactly the routing directives of the file: the matcher maps and the route map of the http
block, the ``if``s at the top of ``location /``, the set of named locations, and nothing else
that routes (no other location, no server-level rewrite, no ``allow``/``deny``). Directive trees
are compared, not text, so formatting and comments do not matter; variable and location names
must match. The writer is deterministic and its route maps are checked against real nginx by
the test suite, so equal directives mean the claimed conditions send every request to the route
the file sends it to. What each route *does* is not taken from the comments: the reader reads the
body of each named location (and the rest of ``location /``) as it reads any location, and the
rule gets that action. So a body edited by hand is read as edited, and a map, ``if`` or location
edited by hand makes the whole http block read as before, map by map (raw text and I001).

All or nothing per http block: the matcher variables are numbered across frontends and shared
between them, so one frontend's maps cannot be taken while another's stay raw text.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import ir
from ...diagnostics import Diagnostics
from .. import provenance
from .provenance import ROUTING_KEYWORDS, routing_from_comments, stats_closed
from .quoting import lit
from .reader_payload import Loader, Stmt

# Variables the writer's HTTP route maps define in the http block.
_ROUTE_VARIABLES = ("$pxc_m_", "$pxc_src_", "$pxc_route_")
_DEFINERS = frozenset({"map", "geo", "split_clients"})
# What the writer puts in a route's body (an action: proxy_pass, return, a redirect, a DNS
# upstream's resolver and set). Anything else in a body, and the check fails.
BODY_DIRECTIVES = frozenset({"proxy_pass", "return", "default_type", "absolute_redirect", "resolver",
                             "resolver_timeout", "set", "proxy_connect_timeout", "proxy_read_timeout",
                             "proxy_send_timeout"})
_SERVER_ROUTING = frozenset({"if", "return", "rewrite", "set", "break", "include", "allow", "deny"})
_BODY = "pxc_body"  # the skeleton writer's stand-in for a route's body


@dataclass(eq=False)
class RouteMapClaim:
    """A server block's routing as written, checked against its route map."""

    routing: ir.Frontend  # acls, rules, default and stats as the comments say
    # Per claimed rule: the route whose body decides its action ("default" is the rest of
    # ``location /``, else a named location's path), or None when nginx never reaches the rule.
    rule_bodies: list[str | None]
    default_body: str | None
    # The bodies that are exactly what the writer writes for the claimed action (a deny, a
    # return, a redirect): the claimed action is taken as it is. The others (proxying: the
    # writer needs the upstream for that) are read as any location is.
    exact_bodies: set[str] = field(default_factory=set)
    rule_comments: dict[int, list[str]] = field(default_factory=dict)  # from the route map's entries
    pieces: list[Stmt] = field(default_factory=list)  # the ifs and named locations, for reports


class RouteMaps:
    """The verdict for one file: which statements checked route maps account for."""

    def __init__(self) -> None:
        self._explained: set[int] = set()
        self._claims: dict[int, RouteMapClaim] = {}

    def explains(self, stmt: Stmt) -> bool:
        return id(stmt) in self._explained

    def claim_of(self, server: Stmt) -> RouteMapClaim | None:
        return self._claims.get(id(server))

    def _accept(self, server: Stmt, claim: RouteMapClaim, explained: list[Stmt]) -> None:
        self._claims[id(server)] = claim
        self._explained.update(id(stmt) for stmt in explained)


NONE = RouteMaps()  # for readers of a file without route maps


def check_route_maps(http_items: list[Stmt]) -> RouteMaps:
    """Check the route-map frontends of one http block (its statements, includes expanded)."""
    servers = [item for item in http_items if item.name == "server" and item.block and _route_mapped(item)]
    if not servers:
        return NONE
    claims = [_claimed(server) for server in servers]
    if any(claim is None for claim in claims):
        return NONE
    expected = _expected_http(claims)
    if expected is None:
        return NONE
    verdict = RouteMaps()
    defined = _definitions(http_items)
    expected_defs = _definitions(expected.items)
    if set(defined) != set(expected_defs) or any(len(stmts) != 1 for stmts in defined.values()):
        return NONE  # a variable defined twice, or a route map nobody claims
    if not all(_same(defined[var][0], expected_defs[var][0]) for var in defined):
        return NONE
    if any(item.name in ("allow", "deny") for item in http_items):
        return NONE  # inherited by every location: they would route before the claimed rules
    if len(expected.servers) != len(servers):
        return NONE
    for server, (name, routing), want in zip(servers, claims, expected.servers):
        checked = _check_server(server, want, routing, name, defined)
        if checked is None:
            return NONE
        claim, explained = checked
        verdict._accept(server, claim, explained)
    for stmts in defined.values():
        verdict._explained.update(id(stmt) for stmt in stmts[0].walk())
    return verdict


# -------------------------------------------------------------------------- what the file claims


def _route_mapped(server: Stmt) -> bool:
    """A server block the writer wrote as a route map with its routing in comments."""
    if not any((text := provenance.payload(c)) is not None and text.split(" ", 1)[0] in (*ROUTING_KEYWORDS, "stats")
               for c in server.comments):
        return False
    return any(child.name == "location" and child.args[:1] and child.args[0].startswith("@pxc_")
               for child in server.block)


def _claimed(server: Stmt) -> tuple[str, ir.Frontend] | None:
    name, _ = provenance.take_name(server.comments, "frontend")
    routing = routing_from_comments(server.comments, (*ROUTING_KEYWORDS, "stats"))
    if name is None or routing is None:
        return None
    closed = stats_closed(server.comments)
    if closed is not None and routing.stats is not None and not routing.stats.users:
        # Stand-ins: the writer closes a page with a login (return 403); the reader never
        # takes them (a closed page reads as the deny nginx answers with).
        routing.stats.users = [ir.StatsUser(user="proxyc", password="") for _ in range(closed)]
    return name, routing


# -------------------------------------------------------------------------- what the writer writes


@dataclass
class _Expected:
    items: list[Stmt]  # the http block
    servers: list[Stmt]


def _expected_http(claims) -> _Expected | None:
    """The writer's http block for the claimed frontends, route bodies left out."""
    from .writer import _Writer

    class SkeletonWriter(_Writer):
        def _write_route_body(self, out, parts, route, context):
            # Which route the body is, then the body, except a proxying one: without the
            # upstreams it cannot be written, so the reader reads it.
            proxies = isinstance(route.action, ir.UseUpstream)
            out.directive(_BODY, lit(route.key), lit("read" if proxies else "exact"))
            if not proxies:
                super()._write_route_body(out, parts, route, context)

    frontends = []
    for name, routing in claims:
        frontends.append(ir.Frontend(name=name, listens=[ir.Listen(port=80)], acls=routing.acls,
                                     rules=routing.rules, default=routing.default, stats=routing.stats))
    writer = SkeletonWriter(ir.Config(frontends=frontends))
    text = writer.write()
    if any(d.severity == "error" for d in writer.diagnostics()):
        return None
    stmts = Loader(Diagnostics(), None, None).load_text(text, "<proxyc route map check>")
    http = next((s for s in stmts if s.name == "http" and s.block is not None), None)
    if http is None:
        return None
    return _Expected(http.block, [s for s in http.block if s.name == "server"])


# -------------------------------------------------------------------------- comparing


def _definitions(items: list[Stmt]) -> dict[str, list[Stmt]]:
    """The http-level maps and geos that define route-map variables, by variable."""
    found: dict[str, list[Stmt]] = {}
    for item in items:
        if item.name in _DEFINERS and item.args and item.args[-1].startswith(_ROUTE_VARIABLES):
            found.setdefault(item.args[-1], []).append(item)
    return found


def _same(a: Stmt, b: Stmt) -> bool:
    """The same directive: name, arguments and block, comments aside."""
    if a.name != b.name or a.args != b.args or (a.block is None) != (b.block is None):
        return False
    return a.block is None or (len(a.block) == len(b.block) and all(map(_same, a.block, b.block)))


def _check_server(server: Stmt, want: Stmt, routing: ir.Frontend, name: str,
                  defined: dict[str, list[Stmt]]) -> tuple[RouteMapClaim, list[Stmt]] | None:
    """The claim and the statements it explains, when the server block routes exactly as the
    writer routes the claim."""
    if any(child.name in _SERVER_ROUTING for child in server.block):
        return None
    have = [child for child in server.block if child.name == "location"]
    wanted = [child for child in want.block if child.name == "location"]
    if len(have) != len(wanted) or any(h.args != w.args or h.block is None for h, w in zip(have, wanted)):
        return None
    explained: list[Stmt] = []
    bodies: dict[str, str] = {}  # route key -> where its body is
    exact: set[str] = set()
    for loc, expected in zip(have, wanted):
        found = _check_location(loc, expected, explained)
        if found is None:
            return None
        key, same = found
        where = "default" if loc.args == ["/"] else loc.args[0]
        bodies[key] = where
        if same:
            exact.add(where)
    route_map = _route_map(want)
    if route_map is None or route_map not in defined:
        return None
    claim = _claim(routing, bodies, defined[route_map][0])
    if claim is None or ("stats" in bodies and bodies["stats"] not in exact):
        return None  # the stats page is no rule: its location must be as written
    claim.exact_bodies = exact
    claim.pieces = [s for s in explained if s.name in ("if", "location")]
    return claim, explained


def _check_location(loc: Stmt, expected: Stmt, explained: list[Stmt]) -> tuple[str, bool] | None:
    """The route key whose body this location holds and whether the body is exactly the
    writer's, or None when the location routes differently from what the writer writes: other
    ``if``s, or a body with more than an action in it."""
    at = next((i for i, stmt in enumerate(expected.block or []) if stmt.name == _BODY), None)
    if at is None or len(loc.block) < at:
        return None
    marker, ifs, body = expected.block[at], expected.block[:at], expected.block[at + 1:]
    if not all(map(_same, loc.block[:at], ifs)):
        return None
    own = loc.block[at:]
    same = marker.args[1:] == ["exact"] and len(own) == len(body) and all(map(_same, own, body))
    if not same and any(child.name not in BODY_DIRECTIVES for child in own):
        return None
    explained.extend(stmt for stmt in loc.block[:at] for stmt in stmt.walk())
    if loc.args[0].startswith("@"):
        explained.append(loc)
    return marker.args[0], same


def _route_map(server: Stmt) -> str | None:
    """The route variable the writer's ``if``s read."""
    root = next((c for c in server.block if c.name == "location" and c.args == ["/"]), None)
    first_if = next((c for c in (root.block if root is not None else []) if c.name == "if"), None)
    return first_if.args[0] if first_if is not None and first_if.args else None


def _claim(routing: ir.Frontend, bodies: dict[str, str], route_map: Stmt) -> RouteMapClaim | None:
    """Which body decides each claimed rule, as the writer planned it (writer_routing)."""
    from .writer import _shared_targets
    from .writer_routing import drop_after_unconditional, frontend_entries

    diags = Diagnostics()
    entries, default = frontend_entries(routing, diags)
    reached, default = drop_after_unconditional(entries, default, diags)
    targets = _shared_targets(reached, default)

    def body_of(route) -> str | None:
        target = targets.get(route.key, route)
        if target is targets["default"]:
            return "default"
        return bodies.get(target.key)

    by_key = {entry.route.key: entry for entry in reached}
    rule_bodies: list[str | None] = []
    for number, _ in enumerate(routing.rules, 1):
        key = f"r{number}"
        if key in by_key:
            rule_bodies.append(body_of(by_key[key].route))
        else:
            rule_bodies.append("default" if default.key == key else None)
    if any(body is None and f"r{i}" in by_key for i, body in enumerate(rule_bodies, 1)):
        return None
    claim = RouteMapClaim(routing, rule_bodies, "default" if default.key == "default" else None)
    claim.rule_comments = _entry_comments(route_map, targets, reached, default)
    return claim


def _entry_comments(route_map: Stmt, targets, reached, default) -> dict[int, list[str]]:
    """The comments above each rule's entry of the route map (the IR rule's comments)."""
    written = list(reached)
    while written and targets[written[-1].route.key] is default:
        written.pop()  # the writer leaves out what falls through to the default
    out = {}
    for entry, stmt in zip(written, (route_map.block or [])[1:]):  # after "default"
        if entry.route.key.startswith("r"):
            out[int(entry.route.key[1:])] = provenance.strip(stmt.comments)
    return out
