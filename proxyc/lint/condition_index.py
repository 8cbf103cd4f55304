"""Finding the earlier rule that shadows a later one without comparing every pair.

Generated configs have thousands of rules in one frontend; comparing each rule with every
earlier one is quadratic. Instead, the earlier conditions are indexed by their atoms, and for
a later condition the index is asked only for the atoms it implies, which can be listed: a
path prefix ``/api/v2/`` implies the prefixes ``/``, ``/a``, ... ``/api/v2/`` and nothing
else of that kind, a source range implies its supernets, and so on.

A conjunction is indexed under its most selective part: an atom, or an alternative of atoms
(``host a or host b``, as nginx's ``server_name a b`` reads), under each of its atoms. A host
beats a path prefix, and a longer value a shorter one: anchoring every rule of a many-site
frontend on ``path prefix /`` made each later rule compare with all earlier ones. Candidates
are confirmed with the full implication test; conditions of other shapes (negations, nested
alternatives) are compared one by one, as before.

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
        self._atoms: dict[Term, tuple[int, object]] = {}  # conditions that are one atom
        # Keyed by an atom or anchor: (position, item, the whole condition). A candidate is
        # confirmed against the whole condition, not the part it was found by: with two
        # alternatives, a later rule may imply their "or" without implying either one.
        self._parts: dict[Term, list[tuple[int, object, Term]]] = {}
        self._others: list[tuple[int, object, Term]] = []
        self._count = 0

    def add(self, item, term: Term | None) -> None:
        position, self._count = self._count, self._count + 1
        if term is None:
            self._always = self._always or (position, item)
            return
        if is_atom(term):
            self._atoms.setdefault(term, (position, item))
            return
        # A request matching one alternative matches the condition: each is a way in.
        for alternative in alternatives(term):
            anchor = _anchor(conjuncts(alternative)) if alternative[0] == "all" else None
            if is_atom(alternative):
                self._parts.setdefault(alternative, []).append((position, item, term))
            elif anchor is not None:
                for key in anchor:
                    self._parts.setdefault(key, []).append((position, item, term))
            else:
                self._others.append((position, item, term))

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
        tried: set[int] = set()  # a condition found by several keys is confirmed once
        for key in implied_keys(alternative):
            # The keys are candidates (an alternative's first branch stands for all of it),
            # so every hit is confirmed with the full implication test.
            if key in self._atoms and implies(alternative, key):
                hits.append(self._atoms[key])
            for position, item, whole in self._parts.get(key, ()):
                if position not in tried:
                    tried.add(position)
                    if implies(alternative, whole):
                        hits.append((position, item))
        hits += [(position, item) for position, item, other in self._others if implies(alternative, other)]
        return min(hits, key=lambda hit: hit[0]) if hits else None



# Which kind of atom anchors a conjunction best: the one fewest other rules share.
_ANCHOR_RANK = {"host": 0, "header": 1, "source": 2, "path": 3, "method": 4, "tls": 5, "acl": 6, "opaque": 7}


def _anchor(parts: list[Term]) -> tuple[Term, ...] | None:
    """The atoms a conjunction is indexed under: one atom, or every atom of one alternative of
    atoms, whichever is most selective. Any condition implying the conjunction implies one of
    them (see ``implied_keys``)."""
    candidates = [(part,) for part in parts if is_atom(part)]
    candidates += [tuple(alts) for part in parts if part[0] == "any"
                   for alts in [alternatives(part)] if all(is_atom(alt) for alt in alts)]
    if not candidates:
        return None
    return min(candidates, key=lambda atoms: max(_specificity(atom) for atom in atoms))


def _specificity(atom: Term) -> tuple[int, int]:
    """Lower is more selective: the kind's rank, then the longer value first."""
    value = atom[-1] if isinstance(atom[-1], str) else ""
    return _ANCHOR_RANK.get(atom[0], len(_ANCHOR_RANK)), -len(value)


def implied_keys(term: Term) -> set[Term]:
    """Candidates: atoms among which every atom ``term`` implies is found (not all of them are
    implied: confirm with ``implies``), following ``conditions.implies``:
    a conjunction implies what any of its parts implies; an alternative implies an atom only if
    each of its alternatives does, so its first alternative's atoms cover it; a negation
    implies no positive atom."""
    kind = term[0]
    if kind == "all":
        keys: set[Term] = set()
        for part in term[1]:
            keys |= implied_keys(part)
        return keys
    if kind == "any":
        return implied_keys(term[1][0]) if term[1] else set()
    if is_atom(term):
        return set(implied_atoms(term))
    return set()


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
