"""Values too long for nginx to read, reported at the node they came from (DESIGN §9).

Every token the nginx writer emits is a ``Tok``, and ``Tok`` refuses one longer than nginx's
read buffer by raising ``TokenTooLong`` (quoting.py). The writer writes each node inside
``reported_if_unreadable``: such a token becomes a P003 error at that node and the node's part
of the output is left out, so a config ``nginx -t`` would refuse is never handed over silently.
Scopes nest; the innermost one, closest to the value, reports it.
"""
from __future__ import annotations

from collections.abc import Callable

from ... import ir
from ...diagnostics import Diagnostics
from .quoting import TokenTooLong


class reported_if_unreadable:  # noqa: N801 — used like a function, as a context manager
    """Run the body; a token too long for nginx stops it and is reported at ``node`` as P003
    ("<why>; <consequence>"), and ``fallback`` writes what stands in for the node. ``found``
    says, after the body, whether that happened. A class, not @contextmanager: the writer
    enters one per value, and a generator-based manager cost a third of a large write."""

    __slots__ = ("diags", "node", "consequence", "fallback", "found")

    def __init__(self, diags: Diagnostics, node: ir.Node | None, consequence: str,
                 fallback: Callable[[], None] | None = None) -> None:
        self.diags, self.node, self.consequence, self.fallback = diags, node, consequence, fallback
        self.found = False

    def __enter__(self) -> "reported_if_unreadable":
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if kind is None or not issubclass(kind, TokenTooLong):
            return False
        self.found = True
        self.diags.error(self.node.span if self.node is not None else None, "P003", f"{exc}; {self.consequence}")
        if self.fallback is not None:
            self.fallback()
        return True
