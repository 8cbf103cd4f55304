"""Upstreams for nginx: ``upstream {}`` blocks, and what a location (http) or server (stream)
writes to proxy to one.

Two forms. Normally an ``upstream name { server ...; }`` group and ``proxy_pass http://name``.
With a ``resolver``, nginx 1.22 cannot re-resolve the servers of an ``upstream {}`` group (that
arrived in 1.27.3), so the upstream becomes a variable ``proxy_pass`` that nginx resolves at run
time, using every address the name has; with several servers, ``split_clients`` picks one per
request at random in proportion to the weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ... import ir
from ...diagnostics import Diagnostics
from ..common import format_address, parse_address
from ..provenance import name_comment
from .provenance_names import server_comments, resolver_comment
from .quoting import Tok, lit, variable_key_problem, word
from .writer_limits import reported_if_unreadable
from .writer_out import Out

Context = Literal["http", "stream"]

# nginx rejects "backup" next to these balancing methods.
_NO_BACKUP = ("source", "hash", "random")
UPSTREAM_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# What split_clients hashes to pick a DNS server: a value new for each request (http) or
# connection (stream, which has no $request_id: nginx -t refuses it there).
SPLIT_KEYS: dict[Context, str] = {"http": "$request_id", "stream": "$connection"}


def left_out(things: list[str]) -> str:
    """'a is left out', 'a and b are left out'."""
    return f"{' and '.join(things)} {'are' if len(things) > 1 else 'is'} left out"


def duration(ms: int) -> Tok:
    return lit(ir.format_duration(ms))


def variable_suffix(name: str) -> str:
    """A name reduced to the characters of an nginx variable name."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in name)


@dataclass(eq=False)
class DnsTarget:
    variable: str  # pxc_dns_<upstream>
    resolver: ir.Resolver
    choices: list[tuple[str, int]]  # (host:port, weight) of the servers that may be chosen
    servers: list[ir.Server] = field(default_factory=list)  # those servers, for their names


@dataclass(eq=False)
class UpstreamPlan:
    """What one upstream becomes in one context."""

    upstream: ir.Upstream
    context: Context
    balance: list[Tok] = field(default_factory=list)  # e.g. [hash, $request_uri, consistent]
    servers: list[tuple[ir.Server, list[Tok] | None]] = field(default_factory=list)  # None: written
    dns: DnsTarget | None = None

    @property
    def empty(self) -> bool:
        """No server can answer (none, or all down): HAProxy and the IR answer 503, while an
        nginx upstream{} of down servers would answer 502, so none is written at all."""
        if self.dns is not None:
            return not self.dns.choices
        return not any(not srv.down and srv.weight > 0 for srv, _ in self.servers)


class UpstreamWriter:
    def __init__(self, cfg: ir.Config, diags: Diagnostics):
        self.cfg = cfg
        self.diags = diags
        self._plans: dict[tuple[str, str], UpstreamPlan] = {}
        self._dns_names: dict[str, str] = {}
        self._group_names: dict[str, str] = {}
        self.proxied: set[str] = set()  # upstreams a proxy_pass names (the DNS form brings its resolver there)
        self.resolvers_written: set[str] = set()

    # -------------------------------------------------------------- planning

    def group_name(self, up: ir.Upstream) -> str:
        """The ``upstream {}`` name: the upstream's own when nginx reads it back as one host
        name in ``proxy_pass http://<name>``, else a derived one, unique among all names."""
        if up.name not in self._group_names:
            if up.name and set(up.name) <= UPSTREAM_NAME_CHARS:
                self._group_names[up.name] = up.name
            else:
                taken = {u.name for u in self.cfg.upstreams} | set(self._group_names.values())
                base = "pxc_" + variable_suffix(up.name)
                name, n = base, 2
                while name in taken:
                    name, n = f"{base}_{n}", n + 1
                self._group_names[up.name] = name
        return self._group_names[up.name]

    def plan(self, up: ir.Upstream, context: Context) -> UpstreamPlan:
        key = (up.name, context)
        if key not in self._plans:
            self._plans[key] = self._make_plan(up, context)
        return self._plans[key]

    def _make_plan(self, up: ir.Upstream, context: Context) -> UpstreamPlan:
        plan = UpstreamPlan(up, context)
        self._report_unsupported(up, context)
        resolver = self._resolver(up)
        if resolver is not None:
            plan.dns = self._dns_target(up, resolver, context)
            return plan
        plan.balance = self._balance(up, context)
        forbids_backup = up.balance.algorithm in _NO_BACKUP and plan.balance != []
        # nginx refuses an upstream of backup servers only ("no servers in upstream"); with no
        # primary, HAProxy sends everything to the backups, so they are written as primaries.
        no_primary = not any(not srv.backup and (srv.port is not None or context == "http") for srv in up.servers)
        if no_primary and up.servers and not forbids_backup:
            self.diags.warning(up.span, "P001", f"upstream {up.name!r} has backup servers only, which nginx "
                               "refuses: they are written as primaries (HAProxy uses them so when there is none)")
        for srv in up.servers:
            if srv.backup and forbids_backup:
                # Lossy, not wrong: the output is valid and routes the same while a primary is
                # up. A warning like every other loss; --strict refuses it.
                self.diags.warning(srv.span, "P001",
                                   f"nginx rejects backup servers with balance {up.balance.algorithm}; "
                                   f"server {srv.name!r} is left out of the nginx output, so nginx answers "
                                   "502 when every primary is down")
                continue
            args = self._server_args(up, srv, context, backup=srv.backup and not no_primary)
            if args is not None:
                plan.servers.append((srv, args))
        if plan.empty:
            self.diags.warning(up.span, "P001", f"upstream {up.name!r} has no usable servers: "
                               "nginx answers requests routed to it with 503, as HAProxy does")
        return plan

    def _resolver(self, up: ir.Upstream) -> ir.Resolver | None:
        if up.resolver is None:
            return None
        found = next((r for r in self.cfg.resolvers if r.name == up.resolver), None)
        if found is None:
            self.diags.error(up.span, "P001", f"unknown resolver {up.resolver!r}: upstream {up.name!r} "
                             "is resolved once at start-up instead")
        return found

    def _report_unsupported(self, up: ir.Upstream, context: Context) -> None:
        if up.health is not None or any(s.check for s in up.servers):
            self.diags.warning((up.health or up).span, "P001",
                               "nginx (open source) has no active health checks: servers are only "
                               "marked failed by real requests (max_fails/fail_timeout)")
        for srv in up.servers:
            if srv.slow_start:
                self.diags.warning(srv.span, "P001", f"nginx (open source) has no slow start; "
                                   f"server {srv.name!r} takes its full weight at once")
        if up.sticky_cookie or any(s.cookie for s in up.servers):
            self.diags.warning(up.span, "P001", "nginx (open source) has no sticky cookie; "
                               "clients are balanced without it")
        # A stream server's proxy_timeout is HAProxy's tunnel timeout (UpstreamWriter's callers).
        for key in ("queue", "check") if context == "stream" else ("queue", "tunnel", "check"):
            if getattr(up.timeouts, key) is not None:
                self.diags.warning(up.timeouts.span or up.span, "P001",
                                   f"timeout {key} has no nginx equivalent and is ignored")
        for raw in up.raw:
            if raw.target == "haproxy":
                self.diags.warning(raw.span, "P001", "raw haproxy text is not portable to nginx and is left out")

    def _balance(self, up: ir.Upstream, context: Context) -> list[Tok]:
        bal = up.balance
        consistent = [lit("consistent")] if bal.consistent else []
        if bal.algorithm == "least_conn":
            return [lit("least_conn")]
        if bal.algorithm == "source":
            if context == "stream" or bal.consistent:
                return [lit("hash"), lit("$remote_addr"), *consistent]
            return [lit("ip_hash")]
        if bal.algorithm == "hash":
            key = self._hash_key(bal, context)
            return [lit("hash"), key, *consistent] if key else []
        if bal.algorithm == "random":
            if bal.choices is None:
                return [lit("random")]
            if bal.choices != 2:
                self.diags.warning(bal.span or up.span, "P001",
                                   f"nginx's random picks the less loaded of two servers, not of {bal.choices}")
            return [lit("random"), lit("two"), lit("least_conn")]
        if bal.algorithm == "first":
            self.diags.warning(bal.span or up.span, "P001",
                               "nginx has no 'first available' balancing; round robin is used instead")
        return []

    def _hash_key(self, bal: ir.Balance, context: Context) -> Tok | None:
        span = bal.span
        if context == "stream" and bal.key is not None:
            self.diags.error(span, "P001", f"hash {bal.key} needs HTTP; a TCP upstream uses round robin instead")
            return None
        if bal.key == "uri":
            return lit("$request_uri")
        if bal.key is None or not bal.key_name:
            self.diags.error(span, "P001", "hash without a key; round robin is used instead")
            return None
        kind = {"header": "header", "cookie": "cookie", "param": "query parameter"}[bal.key]
        name = bal.key_name.replace("-", "_").lower() if bal.key == "header" else bal.key_name
        if bal.key == "header" and "_" in bal.key_name:
            self.diags.warning(span, "P001", f"nginx names header {bal.key_name!r} $http_{name}, which is the "
                               f"header {bal.key_name.replace('_', '-')!r} (and nginx drops headers with '_' "
                               "by default): that one is hashed")
        problem = variable_key_problem(kind, name)
        if problem:
            self.diags.error(span, "P003", problem + "; round robin is used instead")
            return None
        with reported_if_unreadable(self.diags, bal, "round robin is used instead"):
            return lit({"header": "$http_", "cookie": "$cookie_", "param": "$arg_"}[bal.key] + name)
        return None

    def _address(self, srv: ir.Server, context: Context) -> str | None:
        if srv.port is None and context == "stream":
            # HAProxy reuses the client's port here; nginx cannot. A loss, reported; the rest stands.
            self.diags.warning(srv.span, "P001", f"server {srv.name!r} has no port: a TCP upstream in nginx "
                               "needs one; it is left out of the nginx output")
            return None
        address = format_address(srv.host, srv.port)
        if parse_address(address)[2] is not None:  # cached: the reader parsed the same text
            self.diags.error(srv.span, "P003", f"server address {address!r} cannot be written safely for nginx")
            return None
        with reported_if_unreadable(self.diags, srv, f"server {srv.name!r} is left out of the nginx output"):
            word(address)  # as it is written
            return address
        return None

    def _server_args(self, up: ir.Upstream, srv: ir.Server, context: Context, *, backup: bool) -> list[Tok] | None:
        address = self._address(srv, context)
        if address is None:
            return None
        args = [word(address)]
        if srv.weight > 1:
            args.append(lit(f"weight={srv.weight}"))
        if srv.max_conns is not None:
            args.append(lit(f"max_conns={srv.max_conns}"))
        if up.passive is not None:
            if up.passive.max_fails is not None:
                args.append(lit(f"max_fails={up.passive.max_fails}"))
            if up.passive.fail_timeout is not None:
                args.append(lit(f"fail_timeout={self._seconds(up.passive.fail_timeout, up.passive, 'fail_timeout')}"))
        if backup:
            args.append(lit("backup"))
        if srv.weight == 0 and not srv.down:
            self.diags.warning(srv.span, "P001", f"nginx has no weight 0; server {srv.name!r} is marked down")
        if srv.down or srv.weight == 0:
            args.append(lit("down"))
        return args

    def _seconds(self, ms: int, node: ir.Node, what: str) -> str:
        """A duration for a parameter nginx reads in whole seconds (fail_timeout, resolver
        valid=; "ms" makes nginx -t fail): rounded up, reported when that changes it."""
        seconds = -(-ms // 1000)
        if seconds * 1000 != ms:
            self.diags.warning(node.span, "P001", f"nginx's {what} takes whole seconds: "
                               f"{ir.format_duration(ms)} is written as {seconds}s")
        return f"{seconds}s"

    def _dns_target(self, up: ir.Upstream, resolver: ir.Resolver, context: Context) -> DnsTarget:
        lost = ["balancing" if up.balance.algorithm != "round_robin" else None,
                "backup servers" if any(s.backup for s in up.servers) else None,
                "max_conns" if any(s.max_conns for s in up.servers) else None,
                "passive failure settings" if up.passive else None]
        lost_text = ", ".join(x for x in lost if x)
        self.diags.warning(up.span, "P001",
                           f"nginx 1.22 re-resolves DNS names only through a variable proxy_pass: upstream "
                           f"{up.name!r} picks one server per request at random by weight, and every address "
                           f"the name resolves to in turn" + (f"; lost: {lost_text}" if lost_text else ""))
        if resolver.retries is not None:
            self.diags.warning(resolver.span, "P001", "nginx's resolver has no retries setting; it is ignored")
        choices, servers = [], []
        for srv in up.servers:
            if srv.backup or srv.down or srv.weight == 0:
                continue
            address = self._address(srv, context)
            if address is not None:
                choices.append((address, srv.weight))
                servers.append(srv)
        return DnsTarget(self._dns_variable(up.name), resolver, choices, servers)

    def _dns_variable(self, name: str) -> str:
        if name not in self._dns_names:
            base = "pxc_dns_" + variable_suffix(name)
            taken = set(self._dns_names.values())
            candidate, n = base, 2
            while candidate in taken:
                candidate, n = f"{base}_{n}", n + 1
            self._dns_names[name] = candidate
        return self._dns_names[name]

    # -------------------------------------------------------------- writing

    def write_block(self, out: Out, plan: UpstreamPlan) -> None:
        """``upstream name { ... }`` (nothing for the DNS form or an empty upstream)."""
        up = plan.upstream
        if plan.dns is not None or plan.empty:
            self._report_raw_without_block(up)
            return
        out.comments(up.comments)
        name = self.group_name(up)
        if name != up.name:
            out.comments([name_comment("upstream", up.name)])  # the reader takes it back (provenance_names)
        with out.block("upstream", word(name)):
            if plan.balance:
                out.directive(plan.balance[0], *plan.balance[1:])
            for index, (srv, args) in enumerate(plan.servers, 1):
                out.comments([*srv.comments, *server_comments(srv, index)])
                if args is None:
                    raise RuntimeError(f"upstream {up.name!r} written twice")  # its arguments are gone
                out.directive("server", *args)
            # Written once: the arguments are in the output now. Dropping them keeps a large
            # config's plans small (~15 MB of tokens per 10,000 upstreams until the end).
            plan.servers = [(srv, None) for srv, _ in plan.servers]
            for raw in up.raw:
                if raw.target == "nginx":
                    out.verbatim(raw.text)
        out.blank()

    def _report_raw_without_block(self, up: ir.Upstream) -> None:
        for raw in up.raw:
            if raw.target == "nginx":
                self.diags.error(raw.span, "P001", f"upstream {up.name!r} has no upstream {{}} block in the "
                                 "nginx output (DNS or no servers): its raw nginx text is left out")

    def report_unproxied(self) -> None:
        """nginx sets a ``resolver`` and the proxy timeouts only where it proxies (there are no
        named resolver sections): an upstream nothing proxies to has no place for them, and a
        resolver no proxied upstream uses has none at all."""
        for up in self.cfg.upstreams:
            if up.name in self.proxied:
                continue
            plans = [plan for (name, _), plan in self._plans.items() if name == up.name]
            if any(plan.dns is not None and len(plan.dns.choices) == 1 for plan in plans):
                # Its one server would be a 'set' where it is used: there is no such place.
                self.diags.warning(up.span, "P001", f"upstream {up.name!r} is used by no frontend and resolves its "
                                   "one server at run time, which nginx does only where it proxies: it is left out")
                continue
            lost = [f"its resolver {up.resolver!r}" if up.resolver is not None else None,
                    "its connect timeout" if up.timeouts.connect is not None else None,
                    "its server timeout" if up.timeouts.server is not None else None]
            lost = [x for x in lost if x]
            if lost:
                self.diags.warning(up.span, "P001", f"upstream {up.name!r} is used by no frontend, and nginx sets "
                                   "resolvers and proxy timeouts where it proxies: "
                                   + left_out(lost))
        for resolver in self.cfg.resolvers:
            if resolver.name not in self.resolvers_written:
                self.diags.warning(resolver.span, "P001", f"resolvers {resolver.name!r} serves no upstream a frontend "
                                   "proxies to: nginx has no named resolver sections, so it is left out")

    def closed_name(self) -> str:
        """The name of the stream upstream that closes every connection (see write_closed_block),
        distinct from every upstream of the config."""
        taken = {u.name for u in self.cfg.upstreams}
        name, n = "pxc_closed", 2
        while name in taken:
            name, n = f"pxc_closed_{n}", n + 1
        return name

    def write_closed_block(self, out: Out) -> None:
        """A stream route map cannot say "close the connection" (deny, no default); naming a group
        whose only server is down does: nginx finds no live server and closes the client's
        connection without contacting anything."""
        out.comment("TCP connections routed here are closed: its only server is marked down")
        with out.block("upstream", word(self.closed_name())):
            out.directive("server", lit("127.0.0.1:9"), lit("down"))
        out.blank()

    def write_dns_choice(self, out: Out, plan: UpstreamPlan) -> None:
        """``split_clients`` choosing a server per request (only with several servers)."""
        dns = plan.dns
        if dns is None or len(dns.choices) < 2:
            return
        total = sum(weight for _, weight in dns.choices)
        # The reader takes the upstream back from these (provenance_dns), checked by rewriting.
        out.comments([name_comment("upstream", plan.upstream.name)])
        with out.block("split_clients", lit(SPLIT_KEYS[plan.context]), lit("$" + dns.variable)):
            for index, ((address, weight), server) in enumerate(zip(dns.choices, dns.servers), 1):
                out.comments(server_comments(server, index))
                if index == len(dns.choices):
                    out.directive(lit("*"), word(address))
                    break
                # Two decimals at most; round down so the shares never pass 100%.
                hundredths = max(1, weight * 10_000 // total)
                out.directive(lit(_percent(hundredths)), word(address))
        out.blank()

    def write_proxy(self, out: Out, plan: UpstreamPlan) -> None:
        """The directives that send a request (http) or connection (stream) to the upstream."""
        up = plan.upstream
        self.proxied.add(up.name)
        if plan.empty:
            if plan.context == "http":
                out.directive("return", lit("503"))
            else:
                out.directive("return", lit('""'))
            return
        if plan.context == "http":
            self._write_http_timeouts(out, up.timeouts)
        if plan.dns is None:
            name = self.group_name(up)
            target = name if plan.context == "stream" else "http://" + name
            out.directive("proxy_pass", word(target))
            return
        self._write_resolver(out, plan.dns.resolver)
        if len(plan.dns.choices) == 1:
            # The reader takes the upstream's and its server's names back (provenance_dns).
            out.comments([name_comment("upstream", up.name), *server_comments(plan.dns.servers[0], 1)])
            out.directive("set", lit("$" + plan.dns.variable), word(plan.dns.choices[0][0]))
        scheme = "" if plan.context == "stream" else "http://"
        out.directive("proxy_pass", lit(f"{scheme}${plan.dns.variable}"))

    @staticmethod
    def _write_http_timeouts(out: Out, timeouts: ir.Timeouts) -> None:
        if timeouts.connect is not None:
            out.directive("proxy_connect_timeout", duration(timeouts.connect))
        if timeouts.server is not None:
            out.directive("proxy_read_timeout", duration(timeouts.server))
            out.directive("proxy_send_timeout", duration(timeouts.server))

    def _write_resolver(self, out: Out, resolver: ir.Resolver) -> None:
        addresses, names = [], []
        for ns in resolver.nameservers:
            address = format_address(ns.address, ns.port)
            if parse_address(address)[2] is not None:
                self.diags.error(ns.span, "P003", f"nameserver address {address!r} cannot be written safely")
                continue
            with reported_if_unreadable(self.diags, ns, "it is left out"):
                addresses.append(word(address))
                names.append(ns.name)
        if not addresses:
            self.diags.error(resolver.span, "P001", f"resolver {resolver.name!r} has no usable nameserver")
            return
        self.resolvers_written.add(resolver.name)
        valid = [lit(f"valid={self._seconds(resolver.hold_valid, resolver, 'valid')}")] if resolver.hold_valid else []
        # What nginx's resolver has no place for; it changes nothing nginx does.
        said = resolver_comment(resolver.name, names, resolver.retries)
        out.comments([said] if said is not None else [])
        out.directive("resolver", *addresses, *valid)
        if resolver.timeout is not None:
            out.directive("resolver_timeout", duration(resolver.timeout))


def _percent(hundredths: int) -> str:
    whole, frac = divmod(hundredths, 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"
