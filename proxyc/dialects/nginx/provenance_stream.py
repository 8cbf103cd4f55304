"""TCP route maps read back as written (see ``proxyc/dialects/provenance.py``).

A TCP frontend whose rules the writer cannot say as one ``proxy_pass`` becomes a *stream route
map*: a ``geo`` per source matcher (``$pxc_src_N``), a ``map`` over their bit string whose
values are ``upstream {}`` group names (``$pxc_upstream_<frontend>``, the first rule that
matches wins), ``proxy_pass $pxc_upstream_<frontend>;`` in the server block, and a group that
closes connections (``upstream pxc_closed { server 127.0.0.1:9 down; }``) for a deny or no
default. The writer's ``# proxyc:`` comments above the server block say which ACLs, rules and
default it was written from.

As for HTTP route maps (provenance_route_map), the comments are believed only after the nginx
writer, given exactly that routing, writes exactly the routing of the file: the same ``geo``s and
``map``s, the same ``proxy_pass``, the same closing group, and nothing else that routes (no
``allow``/``deny``, no other definition of those variables). The writer is given a stand-in
upstream for every upstream the comments name; where each rule *goes* is then taken from the
file's map (the upstream block its value names, as the reader reads that block), so a routing
comment can never send a connection somewhere the map does not. Anything else, and the stream
block is read as before (raw maps, I001). All or nothing per stream block: the matcher
variables are numbered across its frontends.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from ... import ir
from ...diagnostics import Diagnostics
from .. import provenance
from .provenance import ROUTING_KEYWORDS
from .provenance_route_map import NONE, RouteMaps, _claimed, _same
from .reader_payload import Loader, Stmt

_VARIABLE = "$pxc_upstream_"
_ROUTE_VARIABLES = ("$pxc_m_", "$pxc_src_", _VARIABLE)  # what the writer's stream route maps define
_NUMBERED = re.compile(r"\$pxc_(?:src|m)_(\d+)\Z")
_CLOSED = re.compile(r"pxc_closed(?:_\d+)?")
_STAND_IN = ir.Server(name="s1", host="127.0.0.1", port=1)


@dataclass(eq=False)
class StreamClaim:
    """A stream server block's routing as written, checked against its route map."""

    routing: ir.Frontend  # acls, rules and default as the comments say
    # The group each claimed rule sends to in the file's map (None: the rule is never reached,
    # it comes after an unconditional one), and the default's.
    rule_targets: list[str | None]
    default_target: str | None  # None: never reached (an unconditional rule comes first)
    closed: str  # the name of the group that closes connections
    rule_comments: dict[int, list[str]] = field(default_factory=dict)


def check_stream_route_maps(items: list[Stmt], upstream_names: set[str]) -> RouteMaps:
    """Check the route-map servers of one stream block (its statements, includes expanded);
    ``upstream_names``: the upstream blocks declared in the file (the writer avoids them when
    it names its closing group)."""
    servers = [item for item in items if item.name == "server" and item.block and _route_mapped(item)]
    if not servers:
        return NONE
    claims = [_claimed(server) for server in servers]
    if any(claim is None or claim[1].stats is not None for claim in claims):
        return NONE
    expected = _expected_stream(claims, items, upstream_names)
    if expected is None:
        return NONE
    stream, recorder = expected
    defined, expected_defs = _definitions(items), _definitions(stream.block)
    if set(defined) != set(expected_defs) or any(len(stmts) != 1 for stmts in defined.values()):
        return NONE
    if not all(_same(defined[var][0], expected_defs[var][0]) for var in defined):
        return NONE
    if any(item.name in ("allow", "deny") for item in items):
        return NONE  # inherited by every server: they would route before the claimed rules
    closed = _closed_group(items, stream.block, recorder.closed, servers)
    if closed is False:
        return NONE
    wanted = [s for s in stream.block if s.name == "server"]
    if len(wanted) != len(servers):
        return NONE
    groups = {item.args[0].lower() for item in items if item.name == "upstream" and len(item.args) == 1}
    # The maps, geos and closing group serve the claims together: they count as converted.
    definitions = [stmts[0] for stmts in defined.values()] + ([closed] if closed is not None else [])
    explained = [stmt for definition in definitions for stmt in definition.walk()]
    verdict = RouteMaps()
    for server, (_, routing), want in zip(servers, claims, wanted):
        claim = _check_server(server, want, routing, recorder, defined, groups)
        if claim is None:
            return NONE
        verdict._accept(server, claim, explained)
    return verdict


def _route_mapped(server: Stmt) -> bool:
    """A stream server the writer wrote as a route map with its routing in comments."""
    if not any((text := provenance.payload(c)) is not None and text.split(" ", 1)[0] in ROUTING_KEYWORDS
               for c in server.comments):
        return False
    return any(child.name == "proxy_pass" and child.args[:1] and child.args[0].startswith(_VARIABLE)
               for child in server.block)


# -------------------------------------------------------------------------- what the writer writes


@dataclass
class _Recorder:
    """What the writer decided while writing the stand-in config."""

    written: dict[str, list[str]] = field(default_factory=dict)  # variable -> route keys of its map entries
    closed: str = ""


def _expected_stream(claims, items: list[Stmt], upstream_names: set[str]):
    """The writer's stream block for the claimed frontends, with stand-in upstreams."""
    from .writer import _ContextParts, _Writer
    from .writer_routing import MatcherVariables

    recorder = _Recorder()
    numbers = [int(m.group(1)) for var in _definitions(items) if (m := _NUMBERED.match(var))]

    class RecordingWriter(_Writer):
        def __init__(self, cfg):
            super().__init__(cfg)
            # The file's variables continue the http block's numbering; start where they do.
            self.parts["stream"] = _ContextParts(MatcherVariables(itertools.count(min(numbers, default=1))))
            recorder.closed = self.upstreams.closed_name()

        def _write_route_map(self, parts, variable, entries, default_value, value_of):
            recorder.written[variable] = [entry.route.key for entry in entries]
            super()._write_route_map(parts, variable, entries, default_value, value_of)

    used = {action.upstream for _, routing in claims for action in _actions(routing)
            if isinstance(action, ir.UseUpstream)}
    # Renamed groups avoid every name the config has (only pxc_* can collide with one); the
    # file's closing group is the writer's, not an upstream of the config that it had to avoid.
    names = sorted(used | {name for name in upstream_names
                           if name.startswith("pxc_") and not _CLOSED.fullmatch(name)})
    upstreams = [ir.Upstream(name=name, mode="tcp", servers=[_STAND_IN.model_copy()]) for name in names]
    frontends = [ir.Frontend(name=name, mode="tcp", listens=[ir.Listen(port=1)], acls=routing.acls,
                             rules=routing.rules, default=routing.default) for name, routing in claims]
    writer = RecordingWriter(ir.Config(frontends=frontends, upstreams=upstreams))
    text = writer.write()
    if any(d.severity == "error" for d in writer.diagnostics()):
        return None
    stmts = Loader(Diagnostics(), None, None).load_text(text, "<proxyc stream route map check>")
    stream = next((s for s in stmts or [] if s.name == "stream" and s.block is not None), None)
    return None if stream is None else (stream, recorder)


def _actions(routing: ir.Frontend):
    yield from (rule.action for rule in routing.rules)
    yield routing.default


# -------------------------------------------------------------------------- comparing


def _definitions(items: list[Stmt]) -> dict[str, list[Stmt]]:
    """The stream-level maps and geos that define route-map variables, by variable."""
    found: dict[str, list[Stmt]] = {}
    for item in items:
        if item.name in ("map", "geo") and item.args and item.args[-1].startswith(_ROUTE_VARIABLES):
            found.setdefault(item.args[-1], []).append(item)
    return found


def _closed_group(items: list[Stmt], expected: list[Stmt], name: str, servers: list[Stmt]):
    """The file's closing group when the writer wrote one (None when it did not), or False when
    the file's differs or something other than the checked route maps sends to it."""
    want = next((s for s in expected if s.name == "upstream" and s.args == [name]), None)
    have = [s for s in items if s.name == "upstream" and s.args and s.args[0].lower() == name.lower()]
    if want is None:
        return None  # no route map closes: a group of that name is the file's own
    if len(have) != 1 or not _same(have[0], want):
        return False
    checked = {id(server) for server in servers}
    others = [item for item in items if item.name == "server" and id(item) not in checked and item.block]
    if any(child.name == "proxy_pass" and [a.lower() for a in child.args] == [name.lower()]
           for item in others for child in item.block):
        return False  # a server of the file's own uses it: it is an upstream of the IR
    return have[0]


def _check_server(server: Stmt, want: Stmt, routing: ir.Frontend, recorder: _Recorder,
                  defined: dict[str, list[Stmt]], groups: set[str]) -> StreamClaim | None:
    """The claim, when the server block routes exactly as the writer routes it; ``groups``: the
    file's stream upstream blocks (lower case, as nginx compares them)."""
    if any(child.name in ("allow", "deny", "return") for child in server.block):
        return None
    have = [child for child in server.block if child.name == "proxy_pass"]
    expected = [child for child in want.block if child.name == "proxy_pass"]
    if len(have) != 1 or len(expected) != 1 or have[0].args != expected[0].args:
        return None
    variable = have[0].args[0][1:]
    keys = recorder.written.get(variable)
    if keys is None or "$" + variable not in defined:
        return None
    route_map = defined["$" + variable][0]
    default_stmt, entries = route_map.block[0], route_map.block[1:]  # the same as the writer's
    by_key = {key: entry.args[0] for key, entry in zip(keys, entries)}  # "~regex" value
    default_target = default_stmt.args[0]
    if any(target.lower() not in groups for target in [*by_key.values(), default_target]):
        return None  # not an upstream block: nginx would look the name up in DNS
    targets: list[str | None] = []
    reached = True
    for number, rule in enumerate(routing.rules, 1):
        if not reached:
            targets.append(None)  # after an unconditional rule: never reached
        elif rule.condition is None:
            targets.append(default_target)  # the writer made it the map's default
            reached = False
        elif f"r{number}" in by_key:
            targets.append(by_key[f"r{number}"])
        else:
            return None
    comments = {int(key[1:]): provenance.strip(entry.comments)
                for key, entry in zip(keys, entries) if key.startswith("r")}
    return StreamClaim(routing, targets, default_target if reached else None, recorder.closed, comments)
