"""Finding the earlier rule that shadows a later one without comparing every pair.

Generated configs have thousands of rules in one frontend; comparing each rule with every
earlier one is quadratic. Instead, the earlier conditions are indexed by their atoms, and for
a later condition the index is asked only for the atoms it implies, which can be listed: a
path prefix ``/api/v2/`` implies the prefixes ``/``, ``/a``, ... ``/api/v2/`` and nothing
else of that kind, a source range implies its supernets, and so on. A conjunction is indexed
under one of its atoms and confirmed with the full implication test; conditions of other
shapes (negations, nested alternatives) are compared one by one, as before.

The answers are the ones ``conditions.implies`` gives (the same soundness), found in time
linear in the number of rules for the shapes real configs have.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from .conditions import Term, implies

_ATOM_KINDS = frozenset({"path", "host", "method", "header", "source", "tls", "acl", "opaque"})
_MAX_SUBSTRING_SOURCE = 64  # header "contains" candidates: every substring of short values only


def is_atom(term: Term) -> bool:
    return term[0] in _ATOM_KINDS


def alternatives(term: Term) -> list[Term]:
    """The alternatives of a condition, nested ``any`` flattened."""
    if term[0] != "any":
        return [term]
    return [alt for item in term[1] for alt in alternatives(item)]


def conjuncts(term: Term) -> list[Term]:
    if term[0] != "all":
        return [term]
    return [part for item in term[1] for part in conjuncts(item)]


class ConditionIndex:
    """The conditions of the rules seen so far, in order. ``decider(term)`` is the first of
    them that matches every request ``term`` matches (None if none is known to)."""

    def __init__(self) -> None:
        self._always: tuple[int, object] | None = None
        self._atoms: dict[Term, tuple[int, object]] = {}
        self._conjunctions: dict[Term, list[tuple[int, object, Term]]] = {}
        self._others: list[tuple[int, object, Term]] = []
        self._count = 0

    def add(self, item, term: Term | None) -> None:
        position, self._count = self._count, self._count + 1
        if term is None:
            self._always = self._always or (position, item)
            return
        # A request matching one alternative matches the condition: each is indexed alone.
        for alternative in alternatives(term):
            parts = conjuncts(alternative)
            anchor = next((part for part in parts if is_atom(part)), None)
            if is_atom(alternative):
                self._atoms.setdefault(alternative, (position, item))
            elif alternative[0] == "all" and anchor is not None:
                self._conjunctions.setdefault(anchor, []).append((position, item, alternative))
            else:
                self._others.append((position, item, alternative))

    def decider(self, term: Term | None):
        """The first indexed item that decides every request matching ``term``, or None."""
        alternatives_of_term = [None] if term is None else alternatives(term)
        first = None
        for alternative in alternatives_of_term:
            found = self._decider_of(alternative)
            if found is None:
                return None
            first = found if first is None or found[0] < first[0] else first
        return None if first is None else first[1]

    def _decider_of(self, alternative: Term | None) -> tuple[int, object] | None:
        if alternative is None:
            return self._always
        hits = [self._always] if self._always else []
        for key in self._implied_keys(alternative):
            if key in self._atoms:
                hits.append(self._atoms[key])
            for position, item, conjunction in self._conjunctions.get(key, ()):
                if implies(alternative, conjunction):
                    hits.append((position, item))
        hits += [(position, item) for position, item, other in self._others if implies(alternative, other)]
        return min(hits, key=lambda hit: hit[0]) if hits else None

    @staticmethod
    def _implied_keys(alternative: Term) -> set[Term]:
        """Every atom the alternative implies (through any of its conjuncts)."""
        keys: set[Term] = set()
        for part in conjuncts(alternative):
            if is_atom(part):
                keys.update(implied_atoms(part))
        return keys


# ------------------------------------------------------------------------------ implied atoms

def implied_atoms(atom: Term) -> Iterator[Term]:
    """Every atom that ``atom`` implies, as ``conditions.implies`` decides it."""
    yield atom
    kind = atom[0]
    if kind == "path":
        _, op, ignore_case, value = atom
        for target_ci in (False, True):
            for target_op, target_value in _implied_text(op, value, ignore_case, target_ci, with_contains=False):
                yield ("path", target_op, target_ci, target_value)
    elif kind == "host":
        _, op, value = atom
        for target_op, target_value in _implied_text(op, value, False, False, with_contains=False):
            yield ("host", target_op, target_value)
    elif kind == "header":
        yield from _implied_header_atoms(atom)
    elif kind == "source":
        yield from _supernets(atom[1])


def _implied_header_atoms(atom: Term) -> Iterator[Term]:
    _, name, op, ignore_case, value = atom
    yield ("header", name, "present", False, None)
    if op == "present":
        return
    for target_ci in (False, True):
        for target_op, target_value in _implied_text(op, value, ignore_case, target_ci, with_contains=True):
            yield ("header", name, target_op, target_ci, target_value)


def _implied_text(op: str, value: str, ignore_case: bool, target_ci: bool, *, with_contains: bool):
    """(op, value) pairs of string matchers implied by ``op value``, for a target matcher
    that is case-insensitive or not (mirroring ``conditions._text_implies``)."""
    if op == "regex":
        if target_ci or not ignore_case:  # the same pattern, at least as permissive
            yield "regex", value
        return
    if ignore_case and not target_ci and value.lower() != value.upper():
        return  # other spellings match too, which a case-sensitive target may reject
    if target_ci and not ignore_case:
        value = value.lower()
    if op == "exact":
        yield "exact", value
    if op in ("exact", "prefix"):
        yield from (("prefix", value[:n]) for n in range(len(value) + 1))
    if op in ("exact", "suffix"):
        yield from (("suffix", value[n:]) for n in range(len(value) + 1))
    if with_contains and len(value) <= _MAX_SUBSTRING_SOURCE:
        substrings = {value[i:j] for i in range(len(value) + 1) for j in range(i, len(value) + 1)}
        yield from (("contains", part) for part in sorted(substrings))


def _supernets(text: str) -> Iterator[Term]:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return
    for prefix in range(network.prefixlen + 1):
        yield ("source", str(network.supernet(new_prefix=prefix)))
