"""Request and response header operations, replayed in order to the header lists nginx needs.

HAProxy applies ``set`` / ``add`` / ``del`` header operations in sequence; nginx states the end
result instead (``proxy_set_header`` per value sent, ``add_header`` / ``proxy_hide_header`` on
responses). So the operations are replayed on a model of each header — the list of values it
will carry — and the result is written out. ``proxy_set_header`` twice with one name sends both
values, which is how ``add`` keeps the client's value next to the new one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import ir
from ...diagnostics import Diagnostics
from .quoting import header_name_problem, header_value_problem, text, word
from .writer_limits import reported_if_unreadable


class _Original:
    """The value the header had before proxyc touched it (the client's or the upstream's)."""

    def __repr__(self) -> str:
        return "ORIGINAL"


class _ForwardedFor:
    """The client address that ``forwardfor`` appends to X-Forwarded-For."""

    def __repr__(self) -> str:
        return "FORWARDED_FOR"


ORIGINAL = _Original()
FORWARDED_FOR = _ForwardedFor()
Item = str | _Original | _ForwardedFor


@dataclass(eq=False)
class HeaderState:
    name: str  # as first written, for output
    items: list[Item] = field(default_factory=lambda: [ORIGINAL])


def _valid_ops(ops: list[ir.HeaderOp], diags: Diagnostics, where: str) -> list[ir.HeaderOp]:
    valid = []
    for op in ops:
        problem = header_name_problem(op.name)
        if problem is None and op.value is not None:
            problem = header_value_problem(op.value)
        if problem:
            diags.error(op.span, "P003", f"{where} header cannot be written safely: {problem}; it is left out")
            continue
        with reported_if_unreadable(diags, op, "it is left out") as unreadable:
            word(op.name), text(op.value or "")  # as the writer will write them
        if unreadable.found:
            continue
        if op.value == "":
            # proxy_set_header and add_header skip a header whose value is empty
            outcome = "removes the header instead" if op.action == "set" else "adds nothing"
            diags.warning(op.span, "P001", f"nginx will not send an empty header: {op.action} {where} header "
                          f"{op.name} to '' {outcome}")
        valid.append(op)
    return valid


def _replay(ops: list[ir.HeaderOp], states: dict[str, HeaderState]) -> None:
    for op in ops:
        state = states.setdefault(op.name.lower(), HeaderState(op.name))
        if op.action == "set":
            state.items = [op.value or ""]
        elif op.action == "add":
            state.items.append(op.value or "")
        else:
            state.items = []


def request_headers(ops: list[ir.HeaderOp], forwardfor: bool,
                    diags: Diagnostics) -> list[tuple[str, list[Item]]]:
    """(name, values) for every ``proxy_set_header`` to write. Host is always written: nginx
    would otherwise send the upstream's name, HAProxy passes the client's Host unchanged."""
    states = {"host": HeaderState("Host")}
    _replay(_valid_ops(ops, diags, "request"), states)
    if forwardfor:  # HAProxy adds the header after the frontend's own rules ran
        states.setdefault("x-forwarded-for", HeaderState("X-Forwarded-For")).items.append(FORWARDED_FOR)
    return [(s.name, s.items) for key, s in states.items() if key == "host" or s.items != [ORIGINAL]]


def response_headers(ops: list[ir.HeaderOp], diags: Diagnostics) -> tuple[list[str], list[tuple[str, str]]]:
    """(headers to hide from the upstream's response, (name, value) to add to every response)."""
    states: dict[str, HeaderState] = {}
    _replay(_valid_ops(ops, diags, "response"), states)
    hidden = [s.name for s in states.values() if ORIGINAL not in s.items]
    added = [(s.name, item) for s in states.values() for item in s.items if isinstance(item, str)]
    return hidden, added
