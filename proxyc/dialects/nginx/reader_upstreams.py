"""nginx ``upstream`` blocks and ``proxy_pass`` targets → IR upstreams.

Servers get positional names (``s1``, ``s2``, ...): nginx has none, HAProxy needs unique ones,
and the position is the only stable identity a server line has.

A ``proxy_pass`` to a literal ``http://host:port`` is an implicit one-server upstream in nginx;
the IR gets it as an upstream named after the host (``host_port`` when the host is used with
several ports), one per distinct target. http and stream upstreams live in separate nginx
namespaces but share the IR's, so a stream upstream whose name is taken gets a suffix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ... import ir
from ...ir.walk import parse_nginx_duration
from ...validate import NAME
from ..common import parse_address
from ..provenance import strip, take_name
from .provenance_names import count_said
from .reader_ledger import Ledger
from .reader_payload import Stmt

NGINX_MAX_FAILS = 1  # nginx's defaults for a server's passive failure settings
NGINX_FAIL_TIMEOUT = 10_000
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class UpstreamNames:
    """nginx upstream names per context (``http``/``stream``) → IR names, and the implicit
    upstreams made for literal proxy_pass targets."""

    def __init__(self) -> None:
        self._explicit: dict[tuple[str, str], str] = {}
        self._implicit: dict[tuple[str, str, int | None, str | None], str] = {}
        self._taken: set[str] = set()
        self.implicit_upstreams: list[ir.Upstream] = []

    def declare(self, context: str, name: str, said: str | None = None) -> bool:
        """An ``upstream NAME {}`` block (first pass, so proxy_pass may come before it); False
        when the name is taken already (nginx: duplicate upstream). nginx compares upstream
        names case-insensitively. ``said``: the IR name the writer renamed it from (checked by
        provenance_names), taken when nobody has it."""
        key = (context, name.lower())
        if key in self._explicit:
            return False
        if said is not None and said not in self._taken:
            self._taken.add(said)
            self._explicit[key] = said
            return True
        usable = name if NAME.match(name) else _safe_name(name)  # the IR's names are plainer than nginx's
        self._explicit[key] = self._unique(usable, suffix="tcp" if context == "stream" else "http")
        return True

    def reserve(self, name: str) -> str:
        """``name`` for an upstream the reader makes itself (a DNS choice), or a free variant."""
        return self._unique(name, suffix="dns")

    def declared(self) -> set[str]:
        """The IR names of the upstream blocks declared so far."""
        return set(self._explicit.values())

    def explicit(self, context: str, name: str) -> str | None:
        return self._explicit.get((context, name.lower()))

    def named(self, context: str, target: ProxyTarget) -> ProxyTarget:
        """``target`` as nginx reads it: a name that is no valid host (nginx takes
        'upstream a.' and 'proxy_pass http://a.') is still an ``upstream {}`` block of that name."""
        if target.problem and target.upstream and self.explicit(context, target.upstream) is not None:
            target.host, target.problem = target.upstream, None
        return target

    def implicit(self, context: str, host: str, port: int | None, span: ir.Span, mode: str | None,
                 resolver: str | None = None, said: tuple[str | None, str | None, int | None] = (None, None, None)
                 ) -> str:
        """The upstream for a literal target; with ``resolver``, one whose name nginx resolves
        at run time (a ``proxy_pass`` through variables). ``said``: the upstream's and its
        server's names and the server's count from the writer's comments (provenance_dns), for
        the first route to it."""
        key = (context, host.lower(), port, resolver)
        if key not in self._implicit:
            base = _safe_name(host)
            used_ports = {p for (c, h, p, _) in self._implicit if (c, h) == (context, host.lower())}
            if said[0] is not None and said[0] not in self._taken:
                name = self._unique(said[0], suffix="")
            else:
                name = self._unique(base if not used_ports else f"{base}_{port}", suffix=str(port or ""))
            self._implicit[key] = name
            server = ir.Server(name=said[1] or "s1", host=host, port=port, count=said[2], span=span)
            self.implicit_upstreams.append(ir.Upstream(name=name, mode=mode, servers=[server], resolver=resolver,
                                                       span=span))
        return self._implicit[key]

    def _unique(self, name: str, suffix: str) -> str:
        candidate = name
        if candidate in self._taken and suffix:
            candidate = f"{name}_{suffix}"
        n = 2
        while candidate in self._taken:
            candidate, n = f"{name}_{n}", n + 1
        self._taken.add(candidate)
        return candidate


def _safe_name(host: str) -> str:
    name = _NAME_CHARS.sub("_", host).strip("_") or "upstream"
    return name if name[0].isalnum() or name[0] == "_" else f"u{name}"


# ------------------------------------------------------------------------------ upstream blocks


@dataclass
class _ServerFailures:
    stmt: Stmt
    max_fails: int
    fail_timeout: int
    explicit: bool


class UpstreamReader:
    """One ``upstream`` block. ``resolver`` is the name of the IR resolver in scope, for
    servers marked ``resolve``."""

    def __init__(self, ledger: Ledger, *, stream: bool, resolver: str | None):
        self.ledger = ledger
        self.stream = stream
        self.resolver = resolver

    def read(self, stmt: Stmt, name: str, body: list[Stmt], mode: str | None) -> ir.Upstream:
        up = ir.Upstream(name=name, mode=mode, span=stmt.span, comments=strip(stmt.comments) if stmt.comments else [])
        failures: list[_ServerFailures] = []
        balance_stmt: Stmt | None = None
        for child in body:
            if child.name == "server":
                self._server(child, up, failures)
            elif child.name in _BALANCERS:
                if balance_stmt is not None:
                    self.ledger.lossy(child, f"load balancing method redefined (line {balance_stmt.line}); "
                                      "nginx uses the last one", severity="info")
                balance_stmt = child
                self._balance(child, up)
            elif child.name == "sticky" and child.args[:1] == ["cookie"] and len(child.args) >= 2:
                up.sticky_cookie = child.args[1]
                self._lost_params(child, child.args[2:], "sticky cookie")
            else:
                up.raw.append(ir.Raw(target="nginx", text=child.text(), span=child.span))
                self.ledger.unsupported(child, f"{child.name} in an upstream is not modelled; kept as raw nginx text")
        up.passive = self._passive(failures)
        if len({srv.name for srv in up.servers}) != len(up.servers):  # recorded names clash: number them all
            for index, srv in enumerate(up.servers, 1):
                srv.name = f"s{index}"
        self.ledger.converted(stmt)
        return up

    # -- servers -----------------------------------------------------------------------------
    def _server(self, stmt: Stmt, up: ir.Upstream, failures: list[_ServerFailures]) -> None:
        if not stmt.args:
            self.ledger.invalid(stmt, "server needs an address")
            return
        where = stmt.args[0]
        if where.startswith("unix:"):
            self.ledger.unsupported(stmt, f"upstream server on a UNIX socket ({where}) has no IR equivalent; "
                                    "the server is left out")
            return
        host, port, problem = parse_address(where)
        if problem is None and port is None and self.stream:
            problem = f'no port in upstream "{where}"'
        if problem:
            self.ledger.invalid(stmt, problem)
            return
        said, comments = take_name(stmt.comments, "server")
        server = ir.Server(name=_server_name(said, len(up.servers) + 1), host=host, port=port, span=stmt.span,
                           count=count_said(stmt.comments),
                           comments=comments)
        fails = _ServerFailures(stmt, NGINX_MAX_FAILS, NGINX_FAIL_TIMEOUT, False)
        for param in stmt.args[1:]:
            self._server_param(stmt, param, server, up, fails)
        failures.append(fails)
        up.servers.append(server)
        self.ledger.converted(stmt)

    def _server_param(self, stmt: Stmt, param: str, server: ir.Server, up: ir.Upstream,
                      fails: _ServerFailures) -> None:
        key, _, value = param.partition("=")
        if key in ("backup", "down") and not value:
            setattr(server, key, True)
        elif key == "resolve" and not value:
            if self.resolver is None:
                self.ledger.lossy(stmt, "server ... resolve needs a resolver; none is in scope", severity="error")
            up.resolver = self.resolver
        elif key in ("weight", "max_conns", "max_fails") and value.isdigit():
            number = int(value)
            if key == "weight":
                server.weight = number
            elif key == "max_conns":
                server.max_conns = number
            else:
                fails.max_fails, fails.explicit = number, True
        elif key in ("fail_timeout", "slow_start") and parse_nginx_duration(value) is not None:
            if key == "slow_start":
                server.slow_start = parse_nginx_duration(value)
            else:
                fails.fail_timeout, fails.explicit = parse_nginx_duration(value), True
        elif key in ("weight", "max_conns", "max_fails", "fail_timeout", "slow_start"):
            self.ledger.lossy(stmt, f'invalid parameter "{param}"', severity="error")
        else:
            self.ledger.lossy(stmt, f"server parameter {param} is not modelled and was not imported")

    def _passive(self, failures: list[_ServerFailures]) -> ir.Passive | None:
        """The IR holds passive failure settings per upstream; nginx per server."""
        if not any(f.explicit for f in failures):
            return None
        first = failures[0]
        for other in failures[1:]:
            if (other.max_fails, other.fail_timeout) != (first.max_fails, first.fail_timeout):
                self.ledger.lossy(other.stmt, "max_fails/fail_timeout differ between the servers of this upstream; "
                                  f"the IR keeps one setting per upstream (the first server's, line {first.stmt.line})")
        return ir.Passive(max_fails=first.max_fails, fail_timeout=first.fail_timeout, span=first.stmt.span)

    # -- balancing ---------------------------------------------------------------------------
    def _balance(self, stmt: Stmt, up: ir.Upstream) -> None:
        method = stmt.name
        if method == "least_conn" and not stmt.args:
            up.balance = ir.Balance(algorithm="least_conn", span=stmt.span)
        elif method == "ip_hash" and not stmt.args:
            up.balance = ir.Balance(algorithm="source", span=stmt.span)
        elif method == "random":
            self._random(stmt, up)
        elif method == "hash" and stmt.args:
            self._hash(stmt, up)
        else:
            self.ledger.invalid(stmt, f'invalid number of arguments in "{method}" directive')
            return
        self.ledger.converted(stmt)

    def _random(self, stmt: Stmt, up: ir.Upstream) -> None:
        up.balance = ir.Balance(algorithm="random", span=stmt.span)
        if stmt.args[:1] == ["two"]:
            up.balance.choices = 2  # nginx then picks the less loaded of the two (least_conn)
            if stmt.args[1:] not in ([], ["least_conn"]):
                self.ledger.lossy(stmt, f"random two {' '.join(stmt.args[1:])} is not modelled; "
                                  "imported as the less loaded of two random servers")
        elif stmt.args:
            self.ledger.lossy(stmt, f"random {' '.join(stmt.args)} is not modelled; imported as plain random")

    def _hash(self, stmt: Stmt, up: ir.Upstream) -> None:
        key, rest = stmt.args[0], stmt.args[1:]
        consistent = rest == ["consistent"]
        if rest and not consistent:
            self.ledger.invalid(stmt, f'invalid parameter "{rest[0]}"')
            return
        balance = _hash_balance(key, stmt.span)
        if balance is None:
            up.raw.append(ir.Raw(target="nginx", text=stmt.text(), span=stmt.span))
            self.ledger.unsupported(stmt, f"hash key {key} has no IR equivalent (uri, header, cookie, param or "
                                    "client address); kept as raw nginx text, balancing imported as round robin")
            return
        balance.consistent = consistent
        up.balance = balance

    def _lost_params(self, stmt: Stmt, params: list[str], what: str) -> None:
        if params:
            self.ledger.lossy(stmt, f"{what} parameters {' '.join(params)} are not modelled", severity="info")
        else:
            self.ledger.converted(stmt)


_BALANCERS = ("least_conn", "ip_hash", "hash", "random")
UPSTREAM_HANDLED = frozenset({"server", "sticky", *_BALANCERS})
_HASH_VARIABLE = re.compile(r"^\$(http|cookie|arg)_([A-Za-z0-9_]+)$")


def _hash_balance(key: str, span: ir.Span) -> ir.Balance | None:
    if key == "$request_uri":
        return ir.Balance(algorithm="hash", key="uri", span=span)
    if key in ("$remote_addr", "$binary_remote_addr"):
        return ir.Balance(algorithm="source", span=span)
    m = _HASH_VARIABLE.match(key)
    if m is None:
        return None
    kind, name = m.groups()
    if kind == "http":  # $http_x_user is the header X-User
        return ir.Balance(algorithm="hash", key="header", key_name=_header_name(name), span=span)
    return ir.Balance(algorithm="hash", key="cookie" if kind == "cookie" else "param", key_name=name, span=span)


def _header_name(variable_suffix: str) -> str:
    return "-".join(part.capitalize() for part in variable_suffix.split("_"))


# ------------------------------------------------------------------------------ proxy_pass


@dataclass
class ProxyTarget:
    upstream: str | None = None  # the nginx upstream name, or the literal host
    host: str | None = None
    port: int | None = None
    uri: str = ""  # the URI part of an http proxy_pass ("" when none)
    tls: bool = False
    problem: str | None = None


def parse_proxy_pass(url: str, *, stream: bool) -> ProxyTarget:
    """``http://name``, ``http://host:port/uri``, ``https://...``; in stream ``name`` or
    ``host:port``. Variables make the target a run-time value the IR cannot hold."""
    if "$" in url:
        return ProxyTarget(problem=f"proxy_pass {url} uses variables (resolved at run time)")
    rest, tls = url, False
    if not stream:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in ("http", "https"):
            return ProxyTarget(problem=f'invalid URL prefix in "{url}"')
        tls = scheme == "https"
    if rest.startswith("unix:"):
        return ProxyTarget(problem=f"proxy_pass to a UNIX socket ({url}) has no IR equivalent")
    hostport, slash, uri = rest.partition("/")
    host, port, problem = parse_address(hostport)
    if problem:
        # Still the name of an upstream {} block when one has it (nginx takes 'upstream a.'):
        # the caller asks (``upstream``), the problem stands for a literal host.
        return ProxyTarget(upstream=hostport, uri=slash + uri, tls=tls, problem=problem)
    return ProxyTarget(upstream=host, host=host, port=port, uri=slash + uri, tls=tls)



def _server_name(said: str | None, position: int) -> str:
    """The name the writer's ``# proxyc: server`` comment recorded, else ``s<position>``."""
    return said if said is not None and NAME.fullmatch(said) else f"s{position}"
