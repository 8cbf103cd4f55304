"""Values too long for nginx to read, reported at the node they came from (DESIGN §9).

Every token the nginx writer emits is a ``Tok``, and ``Tok`` refuses one longer than nginx's
read buffer by raising ``TokenTooLong`` (quoting.py). The writer writes each node inside
``reported_if_unreadable``: such a token becomes a P003 error at that node and the node's part
of the output is left out, so a config ``nginx -t`` would refuse is never handed over silently.
Scopes nest; the innermost one, closest to the value, reports it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ... import ir
from ...diagnostics import Diagnostics
from .quoting import TokenTooLong


class Unreadable:
    """Whether a ``reported_if_unreadable`` scope found a token nginx cannot read."""

    found = False


@contextmanager
def reported_if_unreadable(diags: Diagnostics, node: ir.Node | None, consequence: str,
                           fallback: Callable[[], None] | None = None) -> Iterator[Unreadable]:
    """Run the body; a token too long for nginx stops it and is reported at ``node`` as P003
    ("<why>; <consequence>"), and ``fallback`` writes what stands in for the node."""
    result = Unreadable()
    try:
        yield result
    except TokenTooLong as exc:
        result.found = True
        diags.error(node.span if node is not None else None, "P003", f"{exc}; {consequence}")
        if fallback is not None:
            fallback()
