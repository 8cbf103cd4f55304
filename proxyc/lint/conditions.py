"""Sound implication between routing conditions: "every request that matches A matches B".

Shadowed rules and duplicate ACLs are decided here, so the answer must never be a false "yes":
when in doubt (regexes, matchers of different kinds, unknown ACLs) the answer is "no". A rule
the linter calls shadowed can really never fire.

Conditions are first turned into small tuples ("terms"): a matcher with several values becomes
an ``any`` of one-value atoms (its values are alternatives), ACL references are replaced by the
ACL's condition, and text is case-folded where the matcher ignores case. Terms are hashable and
compare structurally, which keeps the pairwise comparisons of a long rule list cheap.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping

from .. import ir

Term = tuple

_MAX_ACL_DEPTH = 32  # ACLs referring to ACLs; deeper (or cyclic) references stay opaque


# ------------------------------------------------------------------------------ walking

def walk_condition(condition: ir.Node) -> Iterator[ir.Node]:
    """Every node of a condition, parents first, left to right. (A dedicated walk: the
    generic ``ir.iter_nodes`` inspects every pydantic field and is several times slower.)"""
    stack = [condition]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ir.Not):
            stack.append(node.item)
        elif isinstance(node, (ir.All, ir.AnyOf)):
            stack.extend(reversed(node.items))


# ------------------------------------------------------------------------------ building terms

def to_term(condition: ir.Node | None, acls: Mapping[str, ir.Acl]) -> Term | None:
    """The term of a condition (None stays None: "always")."""
    if condition is None:
        return None
    return _term(condition, acls, ())


def _term(node: ir.Node, acls: Mapping[str, ir.Acl], seen: tuple[str, ...]) -> Term:
    if isinstance(node, ir.AclRef):
        acl = acls.get(node.name)
        if acl is None or node.name in seen or len(seen) >= _MAX_ACL_DEPTH:
            return ("acl", node.name)  # unknown or cyclic: equal only to itself
        return _term(acl.condition, acls, seen + (node.name,))
    if isinstance(node, ir.Not):
        return ("not", _term(node.item, acls, seen))
    if isinstance(node, ir.All):
        return _flat("all", [_term(item, acls, seen) for item in node.items])
    if isinstance(node, ir.AnyOf):
        return _flat("any", [_term(item, acls, seen) for item in node.items])
    return _matcher_term(node)


def _flat(kind: str, items: list[Term]) -> Term:
    return items[0] if len(items) == 1 else (kind, tuple(items))


def _matcher_term(node: ir.Node) -> Term:
    atoms = [_atom(node, value) for value in _values(node)]
    if not atoms:  # a matcher without values: nothing to reason about, equal only to itself
        return ("opaque", node.semantic_dump().__repr__())
    return _flat("any", atoms)


def _values(node: ir.Node) -> list[str | None]:
    if isinstance(node, ir.TlsMatch):
        return [None]
    if isinstance(node, ir.HeaderMatch) and node.op == "present":
        return [None]
    return list(getattr(node, "values", []))


def _atom(node: ir.Node, value: str | None) -> Term:
    if isinstance(node, ir.PathMatch):
        return ("path", node.op, node.ignore_case, _fold(value, node.op, node.ignore_case))
    if isinstance(node, ir.HostMatch):  # hosts compare case-insensitively
        return ("host", node.op, _fold(value, node.op, True))
    if isinstance(node, ir.MethodMatch):
        return ("method", value.upper())
    if isinstance(node, ir.HeaderMatch):
        if node.op == "present":
            return ("header", node.name.lower(), "present", False, None)
        return ("header", node.name.lower(), node.op, node.ignore_case, _fold(value, node.op, node.ignore_case))
    if isinstance(node, ir.SourceMatch):
        return ("source", _canonical_network(value))
    if isinstance(node, ir.TlsMatch):
        return ("tls",)
    return ("opaque", repr(node))


def _canonical_network(text: str) -> str:
    """``10.0.0.1`` and ``10.0.0.1/32`` are one network; unparsable text stays as written."""
    network = _network(text)
    return text if network is None else str(network)


def _fold(value: str, op: str, ignore_case: bool) -> str:
    # A regex is never folded: lower-casing a pattern changes it (\W is not \w).
    return value.lower() if ignore_case and op != "regex" else value


# ------------------------------------------------------------------------------ implication

def implies(a: Term | None, b: Term | None) -> bool:
    """True only when every request matching ``a`` certainly matches ``b``.
    None is the unconditional condition."""
    if b is None:
        return True
    if a is None:
        return False
    return _implies(a, b)


def equivalent(a: Term | None, b: Term | None) -> bool:
    return implies(a, b) and implies(b, a)


def canonical(term: Term | None) -> Term | None:
    """A term with alternatives and conjunctions flattened, deduplicated and sorted: two
    conditions with the same tests in another order get the same canonical term."""
    if term is None or term[0] not in ("any", "all"):
        return term if term is None or term[0] != "not" else ("not", canonical(term[1]))
    kind = term[0]
    items = set()
    for item in term[1]:
        item = canonical(item)
        items.update(item[1] if item[0] == kind else (item,))
    ordered = sorted(items, key=repr)
    return ordered[0] if len(ordered) == 1 else (kind, tuple(ordered))


def _implies(a: Term, b: Term) -> bool:
    if a == b:
        return True
    kind_a, kind_b = a[0], b[0]
    # Each step below is sound on its own; their order only decides how much is proven.
    if kind_a == "any":   # every alternative of a must lead to b
        return all(_implies(x, b) for x in a[1])
    if kind_b == "all":   # a must lead to every part of b
        return all(_implies(a, y) for y in b[1])
    if kind_a == "all":   # one part of a that leads to b is enough
        return any(_implies(x, b) for x in a[1])
    if kind_b == "any":   # leading to one alternative of b is enough
        return any(_implies(a, y) for y in b[1])
    if kind_a == "not" and kind_b == "not":
        return _implies(b[1], a[1])
    if kind_a == kind_b and kind_a in _ATOM_RULES:
        return _ATOM_RULES[kind_a](a, b)
    return False


def _path_implies(a: Term, b: Term) -> bool:
    _, op_a, ci_a, va = a
    _, op_b, ci_b, vb = b
    return _text_implies(op_a, va, ci_a, op_b, vb, ci_b)


def _host_implies(a: Term, b: Term) -> bool:
    _, op_a, va = a
    _, op_b, vb = b
    return _text_implies(op_a, va, False, op_b, vb, False)


def _header_implies(a: Term, b: Term) -> bool:
    _, name_a, op_a, ci_a, va = a
    _, name_b, op_b, ci_b, vb = b
    if name_a != name_b:
        return False
    if op_b == "present":  # any test of a header's value needs the header
        return True
    if op_a == "present":
        return False
    return _text_implies(op_a, va, ci_a, op_b, vb, ci_b)


def _source_implies(a: Term, b: Term) -> bool:
    net_a, net_b = _network(a[1]), _network(b[1])
    if net_a is None or net_b is None or net_a.version != net_b.version:
        return False
    return net_a.subnet_of(net_b)


def _network(text: str):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


_ATOM_RULES = {
    "path": _path_implies,
    "host": _host_implies,
    "header": _header_implies,
    "source": _source_implies,
    # method and tls atoms imply each other only when equal, which _implies checked first
}


def _text_implies(op_a: str, va: str, ci_a: bool, op_b: str, vb: str, ci_b: bool) -> bool:
    """String matchers: does ``op_a va`` imply ``op_b vb``? Values are already case-folded
    where their matcher ignores case (regexes excepted)."""
    if op_a == "regex" or op_b == "regex":
        # Regexes: only the very same pattern is known to match the same requests, and a
        # case-insensitive one matches more than a case-sensitive one.
        return op_a == op_b and va == vb and (ci_b or not ci_a)
    if ci_a and not ci_b and va.lower() != va.upper():
        # a also matches other spellings, which b (case-sensitive) may reject; only a value
        # without letters has a single spelling.
        return False
    if ci_b and not ci_a:
        va = va.lower()  # b compares folded text; fold a's value the same way
    return _TEXT_RULES.get((op_a, op_b), _never)(va, vb)


def _never(va: str, vb: str) -> bool:
    return False


_TEXT_RULES = {
    ("exact", "exact"): lambda va, vb: va == vb,
    ("exact", "prefix"): lambda va, vb: va.startswith(vb),
    ("exact", "suffix"): lambda va, vb: va.endswith(vb),
    ("exact", "contains"): lambda va, vb: vb in va,
    ("prefix", "prefix"): lambda va, vb: va.startswith(vb),
    ("prefix", "contains"): lambda va, vb: vb in va,
    ("suffix", "suffix"): lambda va, vb: va.endswith(vb),
    ("suffix", "contains"): lambda va, vb: vb in va,
    ("contains", "contains"): lambda va, vb: vb in va,
}
