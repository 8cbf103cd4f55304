"""nginx header directives → IR header operations.

nginx states the end result per header; the IR lists operations (HAProxy's model). Request
side: ``proxy_set_header NAME VALUE`` lines replace what the client sent for NAME, one header per
line, and an empty value sends none; ``$http_<name>`` is the client's own value. So for each
name: no line → untouched; only the client's value → untouched; the client's value then more →
``add``; values of its own → ``set`` (then ``add``); only empty values → ``delete``. That is also
how the nginx writer encodes the operations, so its output reads back to them.

Response side: ``add_header`` adds to the upstream's headers, ``proxy_hide_header`` removes one
of them; hidden and added again is ``set``, hidden only is ``delete``. An empty value adds
nothing (nginx skips it).
"""
from __future__ import annotations

from ... import ir
from ...validate import HEADER_NAME
from .reader_ledger import Ledger
from .reader_payload import Stmt

_CLIENT_VALUE = object()  # the header as the client sent it
_WEBSOCKET = {"upgrade": ("$http_upgrade",), "connection": ("$connection_upgrade", "upgrade")}


def request_headers(stmts: list[Stmt], ledger: Ledger, scheme: str | None) -> tuple[list[ir.HeaderOp], bool]:
    """``proxy_set_header`` lines in effect → (header operations, forwardfor). ``scheme`` is the
    frontend's ("http"/"https"), or None when its listeners mix both."""
    ops: list[ir.HeaderOp] = []
    forwardfor = False
    for lower, group in _by_name(stmts, ledger).items():
        if lower == "x-forwarded-for" and [s.args[1] for s in group] in (["$proxy_add_x_forwarded_for"],
                                                                          ["$remote_addr"]):
            forwardfor = True
            _forwarded_for(group[0], ledger)
        elif lower in _WEBSOCKET and all(s.args[1] in _WEBSOCKET[lower] for s in group):
            for stmt in group:
                ledger.unsupported(stmt, f"{stmt.args[0]} {stmt.args[1]} passes WebSocket upgrades in nginx; not "
                                   "imported (HAProxy forwards upgrades by itself)", severity="info")
        else:
            ops += _operations(group, [_request_value(s, lower, scheme, ledger) for s in group], ledger)
    return ops, forwardfor


def response_headers(added: list[Stmt], hidden: list[Stmt], ledger: Ledger) -> list[ir.HeaderOp]:
    """``add_header`` and ``proxy_hide_header`` lines in effect → header operations."""
    hidden_names = {}
    for stmt in hidden:
        if _bad_name(stmt, ledger):
            continue
        hidden_names.setdefault(stmt.args[0].lower(), stmt)
        ledger.converted(stmt)
    adds = [stmt for stmt in added if _valid_add_header(stmt, ledger)]
    added_names = {stmt.args[0].lower() for stmt in adds}
    ops = [ir.HeaderOp(action="delete", name=stmt.args[0], span=stmt.span)
           for lower, stmt in hidden_names.items() if lower not in added_names]
    replaced: set[str] = set()
    for stmt in adds:
        lower = stmt.args[0].lower()
        action = "set" if lower in hidden_names and lower not in replaced else "add"
        replaced.add(lower)
        value = stmt.literal(1) or stmt.args[1]
        ops.append(ir.HeaderOp(action=action, name=stmt.args[0], value=value, span=stmt.span))
    return ops


def _by_name(stmts: list[Stmt], ledger: Ledger) -> dict[str, list[Stmt]]:
    groups: dict[str, list[Stmt]] = {}
    for stmt in stmts:  # argument counts were checked when the level collected them
        if not _bad_name(stmt, ledger):
            groups.setdefault(stmt.args[0].lower(), []).append(stmt)
    return groups


def _bad_name(stmt: Stmt, ledger: Ledger) -> bool:
    """nginx sends any name it is given; the IR holds HTTP header names (RFC 9110 tokens)."""
    if HEADER_NAME.match(stmt.args[0]):
        return False
    ledger.unsupported(stmt, f"{stmt.args[0]!r} is not a valid HTTP header name; not imported")
    return True


def _forwarded_for(stmt: Stmt, ledger: Ledger) -> None:
    if stmt.args[1] == "$remote_addr":
        ledger.lossy(stmt, "X-Forwarded-For set to the client address alone; imported as forwardfor, which "
                     "appends to the client's header", severity="info")
    else:
        ledger.converted(stmt)


def _request_value(stmt: Stmt, lower: str, scheme: str | None, ledger: Ledger):
    """One line's value: the client's value, a literal, "" (sends nothing) or None (reported)."""
    value = stmt.args[1]
    literal = stmt.literal(1)  # a "$" the nginx writer spelled with its dollar variable
    if literal is not None:
        return literal
    if value.lower() == "$http_" + lower.replace("-", "_") or (lower == "host" and value == "$host"):
        return _CLIENT_VALUE
    if lower == "x-forwarded-proto" and value == "$scheme" and scheme is not None:
        return scheme
    if "$" in value:
        ledger.unsupported(stmt, f"proxy_set_header {stmt.args[0]} uses nginx variables ({value}); not imported")
        return None
    return value


def _operations(group: list[Stmt], values: list, ledger: Ledger) -> list[ir.HeaderOp]:
    name, span = group[0].args[0], group[0].span
    for stmt, value in zip(group, values):
        if value is not None:
            ledger.converted(stmt)
    kept = [v for v in values if v is not None]
    sent = [v for v in kept if v != ""]
    if not kept:
        return []
    if not sent:
        return [ir.HeaderOp(action="delete", name=name, span=span)]
    literals = [v for v in sent if v is not _CLIENT_VALUE]
    if _CLIENT_VALUE in sent and sent[0] is not _CLIENT_VALUE:
        ledger.lossy(group[0], f"the client's {name} is sent after other values; the IR adds them after it")
    if _CLIENT_VALUE in sent:
        return [ir.HeaderOp(action="add", name=name, value=v, span=span) for v in literals]
    return [ir.HeaderOp(action="set" if i == 0 else "add", name=name, value=v, span=span)
            for i, v in enumerate(literals)]


def _valid_add_header(stmt: Stmt, ledger: Ledger) -> bool:
    args = stmt.args
    always = args[2:] == ["always"]
    if _bad_name(stmt, ledger):
        return False
    if args[1] == "":
        ledger.converted(stmt)
        ledger.note(stmt, f"add_header {args[0]} with an empty value adds nothing (nginx sends no empty header)")
        return False
    if "$" in args[1] and stmt.literal(1) is None:
        ledger.unsupported(stmt, f"add_header {args[0]} uses nginx variables ({args[1]}); not imported")
        return False
    if always:
        ledger.converted(stmt)
    else:
        ledger.lossy(stmt, "without `always` nginx adds this header to 2xx/3xx responses only; the IR adds it "
                     "to every response", severity="info")
    return True
