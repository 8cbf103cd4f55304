"""How a frontend's first-match rule list (DESIGN §2) becomes nginx routing.

Two shapes, chosen per frontend:

* **locations** — when every condition is a case-sensitive exact or prefix path (through ACLs
  and ``or`` too), plain ``location = /p`` / ``location /p`` blocks. nginx picks an exact match,
  else the longest matching prefix. Once every alternative that an earlier one covers is removed
  (it can never win), that is first-match: the prefixes matching one path are prefixes of each
  other, and a longer one written after a shorter one has been removed, so the longest is also
  the earliest.
* **route map** — everything else. Each distinct matcher becomes a 0/1 variable, the frontend's
  variables are concatenated into a bit string, and one ``map`` over that string lists, in rule
  order, a regex per rule built from lookaheads that encodes its boolean condition. nginx tries a
  map's regexes in order and takes the first that matches, which is exactly first-match.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from ... import ir
from ...diagnostics import Diagnostics
from .quoting import pcre_escape

RouteAction = ir.UseUpstream | ir.Redirect | ir.Return | ir.Deny | ir.Stats | None


@dataclass(eq=False)
class Route:
    """One way a request can end. ``action`` None is a frontend without a default: HAProxy
    answers 503 there, and so does the nginx output."""

    key: str  # "r3" (the third rule), "stats" or "default"
    action: RouteAction
    node: ir.Node | None  # where it was written, for diagnostics
    label: str

    @property
    def where(self) -> str:
        span = self.node.span if self.node is not None else None
        return f"{self.label} (line {span.line})" if span and span.line else self.label


@dataclass(eq=False)
class Entry:
    """A route behind its condition, ACL references already expanded (None: always)."""

    route: Route
    condition: ir.Condition | None


# ------------------------------------------------------------------ from a frontend to entries


def frontend_entries(fe: ir.Frontend, diags: Diagnostics) -> tuple[list[Entry], Route]:
    """The frontend's routes in evaluation order, and its default route.

    The stats page comes first, as a prefix match on its path: HAProxy's ``stats uri`` is a
    prefix and is served before any ``use_backend``."""
    acls: dict[str, list[ir.Acl]] = {}
    for acl in fe.acls:  # several ACLs of one name hold when any does (HAProxy's rule)
        acls.setdefault(acl.name, []).append(acl)
    entries = []
    if fe.stats is not None:
        path = fe.stats.uri.split("?", 1)[0]
        matcher = ir.PathMatch(op="prefix", values=[path], span=fe.stats.span)
        entries.append(Entry(Route("stats", fe.stats, fe.stats, "stats page"), matcher))
    for number, rule in enumerate(fe.rules, 1):
        cond = None if rule.condition is None else expand_acls(rule.condition, acls, diags, ())
        entries.append(Entry(Route(f"r{number}", rule.action, rule, f"rule {number}"), cond))
    default = Route("default", fe.default, fe.default, "default")
    return entries, default


_NEVER = ir.AnyOf(items=[])  # an empty "or" is false: what an unusable ACL reference matches


def expand_acls(cond: ir.Condition, acls: dict[str, list[ir.Acl]], diags: Diagnostics,
                stack: tuple[str, ...]) -> ir.Condition:
    """``cond`` with every ACL reference replaced by the ACL's condition."""
    if isinstance(cond, ir.AclRef):
        found = acls.get(cond.name)
        if not found:
            diags.error(cond.span, "P001", f"unknown ACL {cond.name!r}: it never matches in the nginx output")
            return _NEVER
        if cond.name in stack:
            diags.error(cond.span, "P001", f"ACL {cond.name!r} refers to itself: it never matches in the nginx output")
            return _NEVER
        inner = (*stack, cond.name)
        if len(found) == 1:
            return expand_acls(found[0].condition, acls, diags, inner)
        return ir.AnyOf(items=[expand_acls(acl.condition, acls, diags, inner) for acl in found], span=cond.span)
    if isinstance(cond, ir.Not):
        return ir.Not(item=expand_acls(cond.item, acls, diags, stack), span=cond.span)
    if isinstance(cond, ir.All):
        return ir.All(items=[expand_acls(c, acls, diags, stack) for c in cond.items], span=cond.span)
    if isinstance(cond, ir.AnyOf):
        return ir.AnyOf(items=[expand_acls(c, acls, diags, stack) for c in cond.items], span=cond.span)
    return cond


def matchers_in(cond: ir.Condition | None) -> Iterator[ir.Node]:
    """The matchers of an expanded condition, in writing order."""
    if cond is None:
        return
    if isinstance(cond, ir.Not):
        yield from matchers_in(cond.item)
    elif isinstance(cond, (ir.All, ir.AnyOf)):
        for item in cond.items:
            yield from matchers_in(item)
    else:
        yield cond


def drop_after_unconditional(entries: list[Entry], default: Route,
                             diags: Diagnostics) -> tuple[list[Entry], Route]:
    """The first route without a condition ends the list: nothing after it can match, so it
    takes the default's place. Returns the conditional entries before it and the default."""
    for i, entry in enumerate(entries):
        if entry.condition is None:
            for later in entries[i + 1:]:
                report_shadowed(diags, later.route, entry.route)
            if default.node is not None:
                report_shadowed(diags, default, entry.route)
            return entries[:i], entry.route
    return entries, default


def report_shadowed(diags: Diagnostics, route: Route, by: Route, detail: str = "") -> None:
    what = f"{route.label}{detail}"
    diags.warning(route.node.span if route.node else None, "P002",
                  f"{what} can never match: {by.where} always matches first; it is left out of the nginx output",
                  "reorder the rules or remove this one")


# ------------------------------------------------------------------ shape 1: path locations

PathOp = Literal["exact", "prefix"]


@dataclass(eq=False)
class PathLocation:
    op: PathOp
    path: str
    route: Route


def path_alternatives(cond: ir.Condition | None) -> list[tuple[PathOp, str]] | None:
    """The (op, path) alternatives an expanded condition is made of, or None when it is not
    a plain or-of-paths that nginx locations express (other matchers, not, and, nocase,
    suffix, regex, a path that cannot start an nginx location)."""
    if cond is None:
        return [("prefix", "/")]
    if isinstance(cond, ir.PathMatch):
        if cond.op not in ("exact", "prefix") or cond.ignore_case:
            return None
        if not all(v.startswith("/") for v in cond.values):
            return None
        return [(cond.op, v) for v in cond.values]
    if isinstance(cond, ir.AnyOf) and cond.items:
        found: list[tuple[PathOp, str]] = []
        for item in cond.items:
            alts = path_alternatives(item)
            if alts is None:
                return None
            found.extend(alts)
        return found
    if isinstance(cond, ir.All) and len(cond.items) == 1:
        return path_alternatives(cond.items[0])
    return None


class _KeptLocations:
    """The locations kept so far, indexed so that "which earliest location already matches
    every path this alternative matches?" costs one dict lookup per character of the path."""

    def __init__(self) -> None:
        self.locations: list[PathLocation] = []
        self._exact: dict[str, int] = {}
        self._prefix: dict[str, int] = {}

    def add(self, loc: PathLocation) -> None:
        index = self._exact if loc.op == "exact" else self._prefix
        index.setdefault(loc.path, len(self.locations))
        self.locations.append(loc)

    def covering(self, op: PathOp, path: str) -> PathLocation | None:
        """The earliest location matching every path that (op, path) matches: a prefix of
        ``path``, or for an exact alternative also an exact location of the same path."""
        found = [self._prefix[path[:n]] for n in range(len(path) + 1) if path[:n] in self._prefix]
        if op == "exact" and path in self._exact:
            found.append(self._exact[path])
        return self.locations[min(found)] if found else None


def plan_locations(entries: list[Entry], default: Route, diags: Diagnostics) -> list[PathLocation] | None:
    """Locations equivalent to the first-match list, or None when the frontend needs the map."""
    alternatives = [path_alternatives(e.condition) for e in entries]
    if any(alts is None for alts in alternatives):
        return None
    kept = _KeptLocations()
    for entry, alts in zip(entries, alternatives):
        _keep_uncovered(entry.route, alts, kept, diags)
    catch_all = kept.covering("prefix", "/")
    if catch_all is not None and catch_all.path == "/":
        if default.node is not None:
            report_shadowed(diags, default, catch_all.route)
    else:
        kept.add(PathLocation("prefix", "/", default))
    return _with_slash_guards(kept, default)


def _keep_uncovered(route: Route, alts: list[tuple[PathOp, str]], kept: _KeptLocations,
                    diags: Diagnostics) -> None:
    """Add the route's alternatives that no earlier location covers; report the others."""
    covered_by: list[tuple[str, Route]] = []
    own = 0
    for op, path in alts:
        by = kept.covering(op, path)
        if by is None:
            kept.add(PathLocation(op, path, route))
            own += 1
        elif by.route is not route:  # covered by the route's own alternative: just a repeat
            covered_by.append((path, by.route))
    if covered_by and not own:
        report_shadowed(diags, route, covered_by[0][1])
    else:
        for path, by in covered_by:
            report_shadowed(diags, route, by, f"'s path {path!r}")


def _with_slash_guards(kept: _KeptLocations, default: Route) -> list[PathLocation]:
    """nginx answers ``/api`` with a 301 to ``/api/`` when ``location /api/`` proxies (its
    "auto redirect"), unless an exact ``location = /api`` exists. First-match sends ``/api``
    elsewhere, so add that exact location, routed the way first-match routes ``/api``, right
    after the prefix location it guards."""
    result = []
    for loc in list(kept.locations):
        result.append(loc)
        if loc.op != "prefix" or len(loc.path) < 2 or not loc.path.endswith("/"):
            continue
        if not isinstance(loc.route.action, ir.UseUpstream):
            continue
        bare = loc.path[:-1]
        winner = kept.covering("exact", bare)
        if winner is not None and winner.op == "exact":
            continue  # nginx already has the exact location
        guard = PathLocation("exact", bare, winner.route if winner is not None else default)
        result.append(guard)
        kept.add(guard)
    return result


# ------------------------------------------------------------------ shape 2: the route map


class MatcherVariables:
    """One nginx variable per distinct matcher, shared by every frontend of one context (http
    or stream), so identical matchers are computed once."""

    def __init__(self, numbers: Iterator[int]):
        self._numbers = numbers
        self._by_key: dict[str, tuple[str, ir.Node]] = {}

    def name_for(self, matcher: ir.Node) -> str:
        key = json.dumps(matcher.semantic_dump(), sort_keys=True)
        if key not in self._by_key:
            prefix = "pxc_src" if isinstance(matcher, ir.SourceMatch) else "pxc_m"
            self._by_key[key] = (f"{prefix}_{next(self._numbers)}", matcher)
        return self._by_key[key][0]

    def items(self) -> list[tuple[str, ir.Node]]:
        """(variable, matcher) in the order the variables were handed out."""
        return list(self._by_key.values())


@dataclass(eq=False)
class RouteMap:
    bits: list[str]  # matcher variables, in the order of the bit string
    entries: list[tuple[str, Route]] = field(default_factory=list)  # (regex, route), in order


def plan_route_map(entries: list[Entry], variables: MatcherVariables) -> RouteMap:
    names: dict[int, str] = {}  # id(matcher) -> variable: one lookup per matcher object
    position: dict[str, int] = {}
    for entry in entries:
        for matcher in matchers_in(entry.condition):
            name = names[id(matcher)] = variables.name_for(matcher)
            position.setdefault(name, len(position))

    def bit(matcher: ir.Node) -> int:
        return position[names[id(matcher)]]

    route_map = RouteMap(list(position))
    for entry in entries:
        route_map.entries.append(("^" + condition_regex(entry.condition, bit), entry.route))
    return route_map


def condition_regex(cond: ir.Condition | None, bit) -> str:
    """A zero-width PCRE fragment, to be anchored at the start of the bit string, that matches
    exactly when ``cond`` holds. ``bit(matcher)`` is the matcher's position in the string."""
    if cond is None:
        return ""
    if isinstance(cond, ir.Not):
        inner = cond.item
        if _is_matcher(inner):
            return f"(?!{_skip(bit(inner))}1)"
        return f"(?!{condition_regex(inner, bit)})"
    if isinstance(cond, ir.All):
        return "".join(condition_regex(item, bit) for item in cond.items)
    if isinstance(cond, ir.AnyOf):
        if not cond.items:
            return "(?!)"
        return "(?:" + "|".join(condition_regex(item, bit) for item in cond.items) + ")"
    return f"(?={_skip(bit(cond))}1)"


def _skip(n: int) -> str:
    return f".{{{n}}}" if n else ""


def _is_matcher(cond) -> bool:
    return not isinstance(cond, (ir.Not, ir.All, ir.AnyOf, ir.AclRef))


# ------------------------------------------------------------------ matcher variables


@dataclass(eq=False)
class MatcherMap:
    """``map <source> $var { default 0; <pattern> 1; ... }``: ``patterns`` are (flag, regex)
    with flag ``~`` or ``~*`` (case-insensitive)."""

    source: str
    patterns: list[tuple[str, str]]


def literal_pattern(op: str, value: str) -> str:
    text = pcre_escape(value)
    return {"exact": f"^{text}\\z", "prefix": f"^{text}", "suffix": f"{text}\\z", "contains": text}[op]


def matcher_map(matcher: ir.Node) -> MatcherMap:
    """The map that computes one HTTP matcher (not source or tls, which use geo/$https)."""
    if isinstance(matcher, ir.PathMatch):
        flag = "~*" if matcher.ignore_case else "~"
        return MatcherMap("$uri", [(flag, _pattern(matcher.op, v)) for v in matcher.values])
    if isinstance(matcher, ir.HostMatch):
        # nginx's $host is lower-case and without the port; host regexes ignore case.
        if matcher.op == "regex":
            return MatcherMap("$host", [("~*", v) for v in matcher.values])
        return MatcherMap("$host", [("~", literal_pattern(matcher.op, v.lower())) for v in matcher.values])
    if isinstance(matcher, ir.MethodMatch):
        return MatcherMap("$request_method", [("~", literal_pattern("exact", v)) for v in matcher.values])
    if isinstance(matcher, ir.HeaderMatch):
        flag = "~*" if matcher.ignore_case else "~"
        source = "$http_" + matcher.name.lower().replace("-", "_")
        if matcher.op == "present":
            return MatcherMap(source, [("~", ".")])
        return MatcherMap(source, [(flag, _pattern(matcher.op, v)) for v in matcher.values])
    raise TypeError(f"no map for {type(matcher).__name__}")


def _pattern(op: str, value: str) -> str:
    return value if op == "regex" else literal_pattern(op, value)
