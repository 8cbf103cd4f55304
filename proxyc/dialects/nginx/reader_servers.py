"""nginx virtual servers: ``listen`` sockets and ``server_name`` selection, as IR conditions.

nginx first picks the listening socket (a specific address beats the wildcard on its port),
then among the server blocks on that socket (ngx_http_find_virtual_server): an exact name,
then the longest leading wildcard (``*.example.com``, ``.example.com``), then the longest
trailing wildcard (``www.example.*``), then the first matching regex in file order; otherwise
the socket's ``default_server``, or the first server block listening on it.

``host_entries`` writes that order out as first-match (condition, server) pairs. Each distinct
set of server blocks becomes one IR frontend with every socket that set serves.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from ... import ir
from ..common import parse_address, parse_listen_address
from .reader_payload import Stmt

HostKind = Literal["exact", "suffix", "prefix", "regex"]
S = TypeVar("S")

# listen options that change what arrives on the socket: losing them changes behaviour.
PROTOCOL_OPTIONS = ("proxy_protocol", "http2", "spdy", "quic", "http3", "udp")


@dataclass
class HostPattern:
    kind: HostKind
    value: str
    stmt: Stmt


@dataclass
class ListenSpec:
    address: str | None  # None: every IPv4 address
    port: int
    stmt: Stmt
    ssl: bool = False
    default: bool = False
    lost: list[str] = field(default_factory=list)  # options the IR has no place for

    @property
    def socket(self) -> tuple[str, int]:
        return (self.address or "*", self.port)


def parse_server_name(stmt: Stmt) -> tuple[list[HostPattern], list[str]]:
    """server_name arguments → patterns, and the names nginx would refuse or the IR cannot hold."""
    patterns: list[HostPattern] = []
    problems: list[str] = []
    for arg in stmt.args:
        if arg == "":
            continue  # matches requests without a Host header; every IR host condition is false there
        if arg.startswith("~"):
            patterns.append(HostPattern("regex", arg[1:], stmt))
            continue
        name = arg.lower()
        if "$" in name:
            problems.append(f"server name {arg!r} uses a variable")
        elif name.startswith("*.") and "*" not in name[1:]:
            patterns.append(HostPattern("suffix", name[1:], stmt))
        elif name.startswith(".") and "*" not in name:
            # ".example.com" is both "example.com" and "*.example.com"
            patterns += [HostPattern("exact", name[1:], stmt), HostPattern("suffix", name, stmt)]
        elif name.endswith(".*") and "*" not in name[:-1]:
            patterns.append(HostPattern("prefix", name[:-1], stmt))
        elif "*" in name:
            problems.append(f'invalid server name or wildcard "{arg}"')
        else:
            patterns.append(HostPattern("exact", name, stmt))
    return patterns, problems


def parse_listen(stmt: Stmt, *, stream: bool) -> tuple[ListenSpec | None, str | None]:
    """``listen`` → ListenSpec, or why it cannot be one."""
    if not stmt.args:
        return None, "listen needs an address or a port"
    where = stmt.args[0]
    if where.startswith("unix:"):
        return None, f"listen on a UNIX socket ({where}) has no IR equivalent"
    address, port, problem = _listen_address(where, stream=stream)
    if problem:
        return None, problem
    spec = ListenSpec(address=address, port=port, stmt=stmt)
    for option in stmt.args[1:]:
        if option in ("default_server", "default"):
            spec.default = True
        elif option == "ssl":
            spec.ssl = True
        else:
            spec.lost.append(option)
    return spec, None


def _listen_address(text: str, *, stream: bool) -> tuple[str | None, int | None, str | None]:
    """``80``, ``*:80``, ``127.0.0.1:8080``, ``[::]:443``; in http a port-less address
    (``127.0.0.1``, ``[::]``, ``*``) means port 80, in stream it is an error."""
    if text.isdigit() or text.startswith((":", "*:")):
        address, port, problem = parse_listen_address(text)
    elif text == "*":
        address, port, problem = None, None, None
    else:
        address, port, problem = parse_address(text)
    if problem:
        return None, None, problem
    if port is None:
        if stream:
            return None, None, f"listen address {text!r} needs a port"
        port = 80
    if address in ("0.0.0.0", "*"):
        address = None
    return address, port, None


@dataclass
class HostEntry(Generic[S]):
    server: S
    condition: ir.models.Condition


@dataclass
class Conflict:
    pattern: HostPattern
    first: HostPattern


def host_entries(servers: list[tuple[S, list[HostPattern]]], default: S) -> tuple[list[HostEntry[S]], list[Conflict]]:
    """First-match (condition, server) pairs in nginx's precedence, and the names nginx ignores
    because an earlier server on the same socket already has them. Names of the default server
    are left out where no later name of another server could take them: such requests reach the
    default server anyway."""
    kept, conflicts = _without_conflicts(servers)
    ordered: list[tuple[S, HostPattern]] = []
    ordered += [(s, p) for s, p in kept if p.kind == "exact"]
    for kind in ("suffix", "prefix"):  # the longest wildcard is the most specific one
        ordered += sorted(((s, p) for s, p in kept if p.kind == kind), key=lambda sp: len(sp[1].value), reverse=True)
    ordered += [(s, p) for s, p in kept if p.kind == "regex"]
    ordered = [(s, p) for i, (s, p) in enumerate(ordered)
               if s is not default or _taken_later(p, [q for t, q in ordered[i + 1:] if t is not default])]
    return _merge_adjacent(ordered), conflicts


def _taken_later(pattern: HostPattern, later: list[HostPattern]) -> bool:
    """Could a later pattern match a host this one matches? Exact only for exact names; any
    wildcard or regex is assumed to overlap (keeping the entry is always correct)."""
    if pattern.kind != "exact":
        return bool(later)
    return any(_matches(other, pattern.value) for other in later)


def _matches(pattern: HostPattern, host: str) -> bool:
    if pattern.kind == "exact":
        return host == pattern.value
    if pattern.kind == "suffix":
        return host.endswith(pattern.value)
    if pattern.kind == "prefix":
        return host.startswith(pattern.value)
    try:
        return re.search(pattern.value, host) is not None
    except re.error:  # PCRE syntax Python lacks: assume it may match
        return True


def _without_conflicts(servers):
    seen: dict[tuple[str, str], HostPattern] = {}
    kept, conflicts = [], []
    for server, patterns in servers:
        for pattern in patterns:
            key = (pattern.kind, pattern.value)
            if key in seen:
                if seen[key].stmt is not pattern.stmt:
                    conflicts.append(Conflict(pattern, seen[key]))
                continue
            seen[key] = pattern
            kept.append((server, pattern))
    return kept, conflicts


def _merge_adjacent(ordered) -> list[HostEntry]:
    """One condition per run of patterns of the same server: ``host exact a b`` rather than two
    entries, and ``any(...)`` when a run mixes kinds."""
    entries: list[HostEntry] = []
    run: list[HostPattern] = []
    owner = None
    for server, pattern in ordered + [(None, None)]:
        if run and (server is not owner or pattern is None):
            entries.append(HostEntry(owner, _host_condition(run)))
            run = []
        owner = server
        if pattern is not None:
            run.append(pattern)
    return entries


def _host_condition(run: list[HostPattern]) -> ir.models.Condition:
    matchers: list[ir.HostMatch] = []
    for pattern in run:
        last = matchers[-1] if matchers else None
        if last is not None and last.op == pattern.kind and pattern.kind != "regex":
            last.values.append(pattern.value)
        else:
            matchers.append(ir.HostMatch(op=pattern.kind, values=[pattern.value], span=pattern.stmt.span))
    if len(matchers) == 1:
        return matchers[0]
    return ir.AnyOf(items=matchers, span=matchers[0].span)


@dataclass
class SocketGroup(Generic[S]):
    """Sockets served by the same server blocks with the same default: one IR frontend."""

    listens: list[ListenSpec]
    servers: list[S]
    default: S


def group_sockets(servers: list[tuple[S, list[ListenSpec]]]) -> list[SocketGroup[S]]:
    """Per socket, the server blocks listening on it (file order) and its default server;
    sockets with identical server lists and default are one group, in order of first listen."""
    by_socket: dict[tuple[str, int], list] = {}  # socket → [listens, servers, default]
    for server, listens in servers:
        for spec in listens:
            slot = by_socket.setdefault(spec.socket, [[], [], None])
            slot[0].append(spec)
            if not slot[1] or slot[1][-1] is not server:  # a block's listens come together
                slot[1].append(server)
            if spec.default and slot[2] is None:
                slot[2] = server
    groups: dict[tuple, SocketGroup] = {}  # by identity of the server blocks and the default
    for specs, members, default in by_socket.values():
        default = default if default is not None else members[0]
        key = (tuple(id(m) for m in members), id(default))
        group = groups.setdefault(key, SocketGroup([], members, default))
        group.listens.append(_merged_listen(specs))
    return list(groups.values())


def _merged_listen(specs: list[ListenSpec]) -> ListenSpec:
    """nginx options of one socket hold for every server block on it (ssl on one is ssl on all)."""
    first = specs[0]
    return ListenSpec(address=first.address, port=first.port, stmt=first.stmt,
                      ssl=any(s.ssl for s in specs), default=any(s.default for s in specs))
