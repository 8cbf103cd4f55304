"""Small constructors for IR conditions that keep the imported rules readable.

``None`` stands for "always" throughout the nginx reader (an IR rule without a condition), so
the helpers drop it from conjunctions and flatten nested ``All``s.
"""
from __future__ import annotations

from ... import ir

Condition = ir.models.Condition


def all_of(*conditions: Condition | None, span: ir.Span | None = None) -> Condition | None:
    items: list[Condition] = []
    for cond in conditions:
        if cond is None:
            continue
        items.extend(cond.items if isinstance(cond, ir.All) else [cond])
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return ir.All(items=items, span=span or items[0].span)


def negate(cond: Condition) -> Condition:
    if isinstance(cond, ir.Not):
        return cond.item
    return ir.Not(item=cond, span=cond.span)


def path_prefix(path: str, span: ir.Span | None) -> Condition | None:
    """``/`` is every normalised URI, so it is no condition at all."""
    if path == "/":
        return None
    return ir.PathMatch(op="prefix", values=[path], span=span)
