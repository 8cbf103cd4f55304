"""nginx location selection, rewritten as an equivalent first-match list (DESIGN §2).

nginx chooses a location per level like this (ngx_http_core_find_location):

1. an exact ``=`` location equal to the URI wins at once;
2. otherwise the longest matching prefix is remembered; if it has nested locations the search
   recurses into them; an exact or regex result found inside is final;
3. unless that longest prefix is ``^~``, the regex locations of the level are tried in file
   order, and the first that matches wins (after recursing into its own nested locations);
4. otherwise the remembered prefix (or what its nested locations refined it to) is used.

``order`` turns one level into entries ``(condition, location, final)``; evaluated first-match
they pick the same location for every URI. ``final`` marks what nginx would not let an enclosing
level's regexes override (exact and regex matches), which is how nested levels are spliced in.
"""
from __future__ import annotations

import bisect

from dataclasses import dataclass, field
from typing import Literal

from ... import ir
from .reader_conditions import Condition, all_of, negate, path_prefix
from .reader_payload import Stmt

Kind = Literal["exact", "prefix", "noregex", "regex", "named"]
PREFIX_KINDS = ("prefix", "noregex")


@dataclass(eq=False)
class Location:
    kind: Kind
    path: str  # the URI, prefix or regex, without its modifier
    stmt: Stmt
    nocase: bool = False
    children: list[Location] = field(default_factory=list)
    data: object = None  # what the reader attaches (its settings level)

    @property
    def label(self) -> str:
        modifier = {"exact": "= ", "noregex": "^~ ", "regex": "~* " if self.nocase else "~ "}.get(self.kind, "")
        return f"location {modifier}{self.path}"

    def condition(self) -> Condition | None:
        """The URIs this location can match at all (before nginx's precedence)."""
        span = self.stmt.span
        if self.kind == "exact":
            return ir.PathMatch(op="exact", values=[self.path], span=span)
        if self.kind == "regex":
            return ir.PathMatch(op="regex", values=[self.path], ignore_case=self.nocase, span=span)
        return path_prefix(self.path, span)


@dataclass
class Entry:
    condition: Condition | None
    location: Location
    final: bool


_MODIFIERS = {"=": ("exact", False), "^~": ("noregex", False), "~": ("regex", False), "~*": ("regex", True)}


def parse_location(stmt: Stmt) -> tuple[Location | None, str | None]:
    """``location [modifier] path`` → Location, or a problem as nginx would state it."""
    args = stmt.args
    if len(args) == 2:
        if args[0] not in _MODIFIERS:
            return None, f'invalid location modifier "{args[0]}"'
        kind, nocase = _MODIFIERS[args[0]]
        return Location(kind, args[1], stmt, nocase), None
    if len(args) != 1 or not args[0]:
        return None, "location takes an optional modifier and a path"
    name = args[0]
    if name.startswith("="):  # nginx also accepts the modifier glued to the path
        return Location("exact", name[1:], stmt), None
    if name.startswith("~*"):
        return Location("regex", name[2:], stmt, True), None
    if name.startswith("~"):
        return Location("regex", name[1:], stmt), None
    if name.startswith("@"):
        return Location("named", name, stmt), None
    return Location("prefix", name, stmt), None


def nesting_problem(parent: Location, child: Location) -> str | None:
    """Where nginx refuses a nested location (ngx_http_core_location)."""
    if parent.kind == "exact":
        return f'location "{child.path}" cannot be inside the exact location "{parent.path}"'
    if parent.kind == "named":
        return f'location "{child.path}" cannot be inside the named location "{parent.path}"'
    if child.kind == "named":
        return f'named location "{child.path}" can be on the server level only'
    if child.kind != "regex" and not child.path.startswith(parent.path):
        return f'location "{child.path}" is outside location "{parent.path}"'
    return None


def duplicate_problem(seen: set[tuple[str, bool]], loc: Location) -> str | None:
    """nginx refuses two non-regex locations with the same path at one level (an exact and a
    prefix one may share it). ``seen`` holds the level's keys so far and gets this one."""
    if loc.kind == "regex":
        return None
    key = (loc.path, loc.kind == "exact")
    if key in seen:
        return f'duplicate location "{loc.path}"'
    seen.add(key)
    return None


def order(level: list[Location]) -> list[Entry]:
    """One level of locations as first-match entries (see the module docstring)."""
    exacts = [loc for loc in level if loc.kind == "exact"]
    prefixes = [loc for loc in level if loc.kind in PREFIX_KINDS]
    regexes = [loc for loc in level if loc.kind == "regex"]
    longest_first = sorted(prefixes, key=lambda loc: len(loc.path), reverse=True)  # stable: file order on ties
    index = _PrefixIndex(prefixes)

    out = [Entry(loc.condition(), loc, True) for loc in exacts]
    # ^~: once it is the longest prefix, no regex of this level is tried. Guarded by every longer
    # plain prefix that extends it, because that one would be the longest prefix instead.
    for loc in (p for p in longest_first if p.kind == "noregex"):
        longer_plain = [q for q in _longer(loc, prefixes, index) if q.kind == "prefix"]
        guard = all_of(loc.condition(), *(negate(q.condition()) for q in longer_plain))
        out += _guarded(order(loc.children), guard)
        out.append(Entry(guard, loc, False))
    # A plain prefix's nested exact/regex results are final: they come before this level's regexes.
    held_back: list[tuple[Location, list[Entry]]] = []
    for loc in (p for p in longest_first if p.kind == "prefix"):
        finals, tentative = _split_final(order(loc.children))
        region = all_of(loc.condition(), *(negate(q.condition()) for q in _longer(loc, prefixes, index)))
        out += _guarded(finals, region)
        held_back.append((loc, tentative))
    for loc in regexes:
        inner = order(loc.children)
        out += [Entry(e.condition, e.location, True) for e in _guarded(inner, loc.condition())]
        out.append(Entry(loc.condition(), loc, True))
    # No regex matched: the longest prefix decides. Longer ones come first, so each needs no guard.
    for loc, tentative in held_back:
        out += _guarded(tentative, loc.condition())
        out.append(Entry(loc.condition(), loc, False))
    return out


def _longer(loc: Location, prefixes: list[Location], index: "_PrefixIndex") -> list[Location]:
    """The prefixes that extend ``loc`` (longer, starting with its path), in ``prefixes`` order."""
    return [q for q in index.extending(loc.path) if len(q.path) > len(loc.path)]


class _PrefixIndex:
    """Prefixes sorted by path: those that start with a given path are one contiguous run, found
    by bisection, so a level of thousands of locations is ordered in n log n, not n²."""

    def __init__(self, prefixes: list[Location]):
        self._order = {id(loc): i for i, loc in enumerate(prefixes)}
        self._sorted = sorted(prefixes, key=lambda loc: loc.path)
        self._paths = [loc.path for loc in self._sorted]

    def extending(self, path: str) -> list[Location]:
        start = bisect.bisect_left(self._paths, path)
        end = bisect.bisect_left(self._paths, path + "\U0010ffff", lo=start)
        return sorted(self._sorted[start:end], key=lambda loc: self._order[id(loc)])


def _guarded(entries: list[Entry], guard: Condition | None) -> list[Entry]:
    return [Entry(all_of(guard, e.condition), e.location, e.final) for e in entries]


def _split_final(entries: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    """Final entries move ahead of the enclosing level's regexes, tentative ones stay behind.
    A final entry that jumps over tentative ones is guarded by "not" each of them, so the order
    within the nested level still holds. If a tentative entry matches everything, what follows
    it is unreachable in nginx too and is left in place (a shadowed rule, not a dropped one)."""
    finals: list[Entry] = []
    rest: list[Entry] = []
    for entry in entries:
        passed = [e.condition for e in rest]
        if entry.final and None not in passed:
            finals.append(Entry(all_of(entry.condition, *(negate(c) for c in passed)), entry.location, True))
        else:
            rest.append(entry)
    return finals, rest
