"""What the HAProxy reader reads back for an IR condition, and the provenance comments that
carry the condition as it was written (see ``proxyc/dialects/provenance.py``).

HAProxy conditions are an ``or`` of ``and``s of (negated) ACLs, and a named ACL is an ``or`` of
matchers. The writer therefore puts every condition into disjunctive normal form and expands
named ACLs that are not an ``or`` of matchers where they are used. ``reader_shape`` computes,
in IR terms, exactly what the reader gets back from that: the writer adds a
``# proxyc: if <condition>`` comment above a rule only when the two differ, and the reader takes
the comment's condition only when ``reader_shape`` of it is exactly what it read from the line.
Both are then the same boolean function, so the comment changes the form, never the meaning.
"""
from __future__ import annotations

from ... import ir
from .. import provenance
from .writer_conditions import MATCHERS, Literal, Term, simplify


class NotWritable(Exception):
    """An ACL reference the writer cannot expand (unknown, or referring to itself)."""


class Never:
    """The shape of a condition that can never hold (the writer leaves such a rule out)."""


NEVER = Never()


def reader_shape(cond: ir.Condition | None, acls: dict[str, ir.Acl], declared: set[str]):
    """``cond`` as the reader reads the writer's guard for it back: None for always, NEVER,
    or a condition. ``declared`` are the ACL names written as ``acl`` lines (kept as
    references); every other ACL reference is expanded. Raises NotWritable."""
    if cond is None:
        return None
    atoms: dict[str, ir.Node] = {}
    terms = _dnf(cond, False, acls, declared, frozenset(), atoms)
    if terms == []:
        return NEVER
    alternatives = [_all([_literal(lit, atoms) for lit in term]) for term in terms]
    if any(alt is None for alt in alternatives):
        return None
    return alternatives[0] if len(alternatives) == 1 else ir.AnyOf(items=alternatives)


def declared_shape(cond: ir.Condition, acls: dict[str, ir.Acl]):
    """The condition the reader gives a declared ACL: its ``acl`` lines ORed, one per matcher,
    as the writer flattens nested ``or``s and references to other such ACLs (repeats kept).
    None when the ACL is not such an ``or``: the writer does not declare it."""
    matchers = _or_of_matchers(cond, acls, frozenset())
    if not matchers:
        return None
    copies = [m.model_copy(deep=True) for m in matchers]
    return copies[0] if len(copies) == 1 else ir.AnyOf(items=copies)


def _or_of_matchers(cond, acls: dict[str, ir.Acl], visiting: frozenset[str]) -> list | None:
    if isinstance(cond, MATCHERS):
        return [cond] if _has_patterns(cond) else None
    if isinstance(cond, ir.AclRef):
        acl = acls.get(cond.name)
        if acl is None or cond.name in visiting:
            return None
        return _or_of_matchers(acl.condition, acls, visiting | {cond.name})
    if isinstance(cond, ir.AnyOf):
        out: list = []
        for item in cond.items:
            part = _or_of_matchers(item, acls, visiting)
            if part is None:
                return None
            out += part
        return out
    return None


def _dnf(cond, negated: bool, acls, declared, visiting, atoms) -> list[Term]:
    if isinstance(cond, ir.Not):
        return _dnf(cond.item, not negated, acls, declared, visiting, atoms)
    if isinstance(cond, (ir.All, ir.AnyOf)):
        parts = [_dnf(item, negated, acls, declared, visiting, atoms) for item in cond.items]
        if isinstance(cond, ir.All) != negated:  # a conjunction, after De Morgan
            result: list[Term] = [()]
            for part in parts:
                result = simplify([a + b for a in result for b in part])
            return result
        return simplify([t for p in parts for t in p])
    if isinstance(cond, ir.AclRef):
        if cond.name in declared:
            return [(Literal("acl " + cond.name, negated),)]
        acl = acls.get(cond.name)
        if acl is None or cond.name in visiting:
            raise NotWritable(cond.name)
        return _dnf(acl.condition, negated, acls, declared, visiting | {cond.name}, atoms)
    if not isinstance(cond, MATCHERS):
        raise NotWritable(type(cond).__name__)
    if not _has_patterns(cond):
        return [()] if negated else []
    # Identity only (simplify keeps first-seen order): equal matchers give equal reprs.
    key = "m " + repr((type(cond).__name__, *[getattr(cond, f) for f in cond._semantic_fields]))
    atoms.setdefault(key, cond)
    return [(Literal(key, negated),)]


def _has_patterns(m) -> bool:
    if isinstance(m, ir.TlsMatch) or (isinstance(m, ir.HeaderMatch) and m.op == "present"):
        return True
    return bool(m.values)


def _literal(lit: Literal, atoms: dict[str, ir.Node]) -> ir.Node:
    if lit.atom.startswith("acl "):
        node: ir.Node = ir.AclRef(name=lit.atom[4:])
    else:
        node = atoms[lit.atom].model_copy(deep=True)
    return ir.Not(item=node) if lit.negated else node


def _all(items: list[ir.Node]):
    if not items:
        return None
    return items[0] if len(items) == 1 else ir.All(items=items)


# ------------------------------------------------------------------ comments


def acls_differ(fe: ir.Frontend, declared: set[str]) -> bool:
    """Whether the reader would not get ``fe.acls`` back from the ``acl`` lines alone."""
    acls = {a.name: a for a in fe.acls}
    for acl in fe.acls:
        if acl.name not in declared or declared_shape(acl.condition, acls) != acl.condition:
            return True
    return False


def acl_comments(fe: ir.Frontend) -> list[str]:
    """Every ACL of the frontend, in order, as provenance comment texts (all or nothing)."""
    lines = [provenance.acl_text(acl) for acl in fe.acls]
    if any(line is None for line in lines):
        return []
    return [provenance.comment(line) for line in lines]


def condition_comment(cond: ir.Condition, acls: dict[str, ir.Acl], declared: set[str]) -> list[str]:
    """``# proxyc: if ...`` for a rule whose guard does not read back as ``cond``."""
    if (isinstance(cond, ir.AclRef) and cond.name in declared) or (isinstance(cond, MATCHERS) and _has_patterns(cond)):
        return []  # read back as written: the common case, decided without building the shape
    try:
        if reader_shape(cond, acls, declared) == cond:
            return []
    except NotWritable:
        return []
    text = provenance.condition_text(cond)
    return [] if text is None else [provenance.comment("if " + text)]


def restore_acls(read: list[ir.Acl], lines: list[str]) -> list[ir.Acl]:
    """The ACLs the provenance comments list, in their order: a declared one only when its
    ``acl`` lines say the same, the others (expanded where used) as the comment says."""
    if not lines:
        return read
    fe = provenance.parse_frontend_lines(lines)
    if fe is None or len(fe.acls) != len(lines):
        return read
    by_name = {a.name: a for a in read}
    said = {a.name: a for a in fe.acls}
    out: list[ir.Acl] = []
    for acl in fe.acls:
        mine = by_name.get(acl.name)
        if mine is None:
            out.append(acl)
            continue
        same = declared_shape(acl.condition, said) == mine.condition
        out.append(mine.model_copy(update={"condition": acl.condition}) if same else mine)
    listed = set(said)
    out += [a for a in read if a.name not in listed]  # declared but not in the comments: added by hand
    return out


def restore_condition(read: ir.Condition | None, text: str, acls: list[ir.Acl], declared: set[str]):
    """The condition of a ``# proxyc: if`` comment when the rule's guard is exactly its
    reader shape; otherwise what was read."""
    cond = provenance.parse_condition(text)
    if cond is None:
        return read
    try:
        shape = reader_shape(cond, {a.name: a for a in acls}, declared)
    except NotWritable:
        return read
    return cond if shape == read and shape is not NEVER else read
