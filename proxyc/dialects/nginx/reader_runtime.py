"""A ``proxy_pass`` through variables, in an http location or a stream server alike: the ``set``
values it can be read through, and the resolver its host name is resolved with.

nginx evaluates such a ``proxy_pass`` for each request (stream: connection) and resolves a host
name then, with the ``resolver`` in scope; an address needs none. The nginx writer's DNS
upstreams have this form (provenance_dns says which upstream one was written from).
"""
from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from .reader_ledger import Ledger
from .reader_payload import Stmt

if TYPE_CHECKING:
    from .reader_http import Level

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def substitute_sets(url: str, sets: list[Stmt], *, has_if: bool = False) -> tuple[str, list[Stmt]]:
    """``proxy_pass $scheme_var://$host_var:$port_var`` with each variable set once, to a
    literal, by one of ``sets`` (those of the same location or stream server; ``has_if``: an
    ``if`` there could set it otherwise): the URL with the values in, and the ``set`` lines
    used. Otherwise the URL unchanged."""
    names = [a or b for a, b in _VARIABLE.findall(url)]
    if not names or has_if:
        return url, []
    values: dict[str, list[Stmt]] = {}
    for stmt in sets:
        if len(stmt.args) == 2 and stmt.args[0].startswith("$"):
            values.setdefault(stmt.args[0][1:], []).append(stmt)
    used = [values[n][0] for n in names if len(values.get(n, [])) == 1 and "$" not in values[n][0].args[1]]
    if len(used) != len(names):
        return url, []
    by_name = {stmt.args[0][1:]: stmt.args[1] for stmt in used}
    return _VARIABLE.sub(lambda m: by_name[m.group(1) or m.group(2)], url), list(dict.fromkeys(used))


def run_time_resolver(stmt: Stmt, host: str, level: Level, ledger: Ledger) -> str | None:
    """The IR resolver in scope at ``level`` for a host name nginx resolves at run time (an
    address needs none); a name without one is reported."""
    if _is_address(host):
        return None
    resolver = level.resolver()
    if resolver is None:
        unread = level.unread_include()
        where = f"; it may be in {unread.args[0]}, which was not read" if unread is not None else ""
        ledger.lossy(stmt, f"nginx resolves {host} at run time and needs a resolver; none is in scope{where}")
    return resolver


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False
