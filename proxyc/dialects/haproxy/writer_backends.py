"""IR upstreams → ``backend`` sections, IR resolvers → ``resolvers`` sections."""
from __future__ import annotations

import textwrap

from ... import ir
from ..common import format_address
from .quoting import NameTable, fetchable_header_name
from .writer_context import Context, Section, lines_or_none

# What an IR port of None means: nginx's default (80). HAProxy would otherwise connect to
# the port the client used, so the port is always written out.
DEFAULT_SERVER_PORT = 80
MAX_WEIGHT = 256
# Resolved at run time; a missing container must not stop HAProxy from starting.
RESOLVED_INIT_ADDR = "last,libc,none"

UPSTREAM_TIMEOUTS = (("connect", "connect"), ("server", "server"), ("queue", "queue"),
                     ("tunnel", "tunnel"))
FRONTEND_ONLY_TIMEOUTS = ("client", "http_request")
BALANCE_KEYWORDS = {"round_robin": "roundrobin", "least_conn": "leastconn", "source": "source", "first": "first"}


def backend_section(ctx: Context, up: ir.Upstream) -> Section:
    name = ctx.name_for(ctx.backends, ("upstream", up.name), up.name, up, "upstream")
    section = Section(f"backend {name}", comments=list(up.comments))
    mode = ctx.upstream_mode(up)
    if mode != ctx.cfg.defaults.mode:
        section.add(f"mode {mode}")
    section.add(*balance_lines(ctx, up, mode))
    section.add(*sticky_cookie_lines(ctx, up, mode))
    section.add(*health_lines(ctx, up))
    if sum(1 for s in up.servers if s.backup) > 1:
        # nginx spreads over all backups once the primaries are down; HAProxy uses only the
        # first backup unless told otherwise.
        section.add("option allbackups")
    section.add(*timeout_lines(ctx, up))
    if _passive(up) is not None:
        ctx.diags.info(up.passive.span, "P001",
                       "passive failure detection is approximated by 'observe ... on-error mark-down': "
                       "health checks, not fail_timeout, bring a marked-down server back")
    server_names = NameTable()
    server_names.reserve(s.name for s in up.servers)
    for srv in up.servers:
        section.add_comments(srv.comments)
        section.add(*server_lines(ctx, up, srv, mode, server_names))
    _report_first_without_maxconn(ctx, up)
    _report_queueing(ctx, up)
    section.add(*raw_lines(ctx, up.raw))
    return section


# ---------------------------------------------------------------------- balancing

@lines_or_none
def balance_lines(ctx: Context, up: ir.Upstream, mode: str) -> list[str]:
    bal = up.balance
    algorithm = BALANCE_KEYWORDS.get(bal.algorithm)
    if bal.algorithm == "random":
        # HAProxy's plain `random` draws 2 and keeps the less loaded; the IR's (nginx's) draws 1.
        algorithm = f"random({bal.choices or 1})"
    elif bal.algorithm == "hash" and mode == "tcp" and bal.key is not None:
        # HAProxy warns ("Layer 7 hash not possible") and balances round robin: said here.
        ctx.diags.error(bal.span or up.span, "P001", f"hash {bal.key} needs HTTP; TCP upstream {up.name!r} "
                        "balances round robin instead")
        return []
    elif bal.algorithm == "hash":
        algorithm = _hash_balance(ctx, bal)
        if algorithm is None:
            return []
    lines = [f"balance {algorithm}"]
    if bal.consistent:
        lines.append("hash-type consistent")
    return lines


def _hash_balance(ctx: Context, bal: ir.Balance) -> str | None:
    if bal.key == "uri":
        return "uri whole"  # nginx hashes $request_uri, query string included
    if bal.key in ("header", "cookie", "param") and bal.key_name:
        if bal.key == "param":
            return f"url_param {ctx.word(bal.key_name, bal, 'URL parameter name')}"
        if not fetchable_header_name(bal.key_name):
            ctx.diags.error(bal.span, "P003", f"{bal.key} name {bal.key_name!r} cannot be written in a HAProxy "
                            "fetch; balancing falls back to round robin")
            return None
        return f"hdr({bal.key_name})" if bal.key == "header" else f"hash req.cook({bal.key_name})"
    ctx.diags.error(bal.span, "P001", "hash balancing without a key; balancing falls back to round robin")
    return None


def _report_first_without_maxconn(ctx: Context, up: ir.Upstream) -> None:
    if up.balance.algorithm != "first":
        return
    missing = [s.name for s in up.servers if s.max_conns is None]
    if missing:
        ctx.diags.warning(up.balance.span or up.span, "P001",
                          "balance first fills servers up to their maxconn; without max_conns "
                          f"({', '.join(missing)}) every request goes to the first server",
                          hint="set max_conns on every server")


def _report_queueing(ctx: Context, up: ir.Upstream) -> None:
    capped = next((s for s in up.servers if s.max_conns is not None), None)
    if capped is not None and up.balance.algorithm != "first":
        ctx.diags.info(capped.span, "P001", "a server at its max_conns makes HAProxy queue the request, "
                       "where nginx passes it to the next server")


# ---------------------------------------------------------------------- cookies and checks

@lines_or_none
def sticky_cookie_lines(ctx: Context, up: ir.Upstream, mode: str) -> list[str]:
    if up.sticky_cookie is None:
        return []
    if mode != "http":
        ctx.diags.error(up.span, "P001", f"sticky cookie on upstream {up.name!r} in tcp mode: ignored")
        return []
    return [f"cookie {ctx.header_word(up.sticky_cookie, up, 'cookie name')} insert indirect nocache"]


def health_lines(ctx: Context, up: ir.Upstream) -> list[str]:
    hc = up.health
    if hc is None:
        return []
    lines = _http_check_lines(ctx, hc.http) if hc.http is not None else []
    interval = ctx.duration(hc.interval, hc, "check interval") if hc.interval is not None else None
    timing = [("inter", interval), ("rise", hc.rise), ("fall", hc.fall)]
    timing_words = [f"{key} {value}" for key, value in timing if value is not None]
    if timing_words:
        lines.append("default-server " + " ".join(timing_words))
    return lines


@lines_or_none
def _http_check_lines(ctx: Context, http: ir.HttpCheck) -> list[str]:
    lines = ["option httpchk", _check_send(ctx, http)]
    if http.expect_status is not None:
        lines.append(f"http-check expect status {http.expect_status}")
    return lines


def _check_send(ctx: Context, http: ir.HttpCheck) -> str:
    words = ["http-check send meth", ctx.header_word(http.method, http, "check method"),
             "uri", ctx.header_word(http.path, http, "check path")]
    if http.host is not None:
        words += ["hdr Host", ctx.log_format_word(http.host, http, "check Host")]
    return " ".join(words)


def timeout_lines(ctx: Context, up: ir.Upstream) -> list[str]:
    lines = [ctx.timeout(hap, value, up.timeouts, up) for key, hap in UPSTREAM_TIMEOUTS
             if (value := getattr(up.timeouts, key)) is not None]
    check = up.health.timeout if up.health and up.health.timeout is not None else up.timeouts.check
    if check is not None:
        lines.append(ctx.timeout("check", check, up.health if up.health and up.health.timeout else up.timeouts, up))
    for key in FRONTEND_ONLY_TIMEOUTS:
        if getattr(up.timeouts, key) is not None:
            ctx.diags.warning(up.timeouts.span or up.span, "P001",
                              f"timeout {key} belongs to a frontend in HAProxy; ignored on upstream {up.name!r}")
    return lines


# ---------------------------------------------------------------------- servers

@lines_or_none
def server_lines(ctx: Context, up: ir.Upstream, srv: ir.Server, mode: str, names: NameTable) -> list[str]:
    """The server's line; an unwritable value leaves the server out (reported as an error)."""
    name = ctx.name_for(names, srv.name, srv.name, srv, "server")
    address = ctx.word(format_address(srv.host, srv.port or DEFAULT_SERVER_PORT), srv, "server address")
    if srv.count is not None:
        if ":" in name:  # a server name may hold ':', a server-template prefix may not
            prefix = names.fresh(("template", srv.name), name.replace(":", "_"))
            ctx.diags.warning(srv.span, "P003", f"server-template prefix {name!r} is written as {prefix!r}: "
                              "HAProxy allows no ':' there")
            name = prefix
        head = f"server-template {name} {srv.count} {address}"
        if up.resolver is None:
            ctx.diags.warning(srv.span, "P001", f"server {srv.name!r} has count {srv.count} but upstream "
                              f"{up.name!r} has no resolver: HAProxy resolves the name once, at start-up",
                              hint="add `resolver NAME` to the upstream")
    else:
        head = f"server {name} {address}"
    return [" ".join([head] + _server_options(ctx, up, srv, mode))]


def _server_options(ctx: Context, up: ir.Upstream, srv: ir.Server, mode: str) -> list[str]:
    opts = []
    passive = _passive(up)
    if srv.check or passive:
        # A server marked down by 'observe' only comes back through health checks.
        opts.append("check")
    if passive is not None:
        layer = "layer7" if mode == "http" else "layer4"
        opts.append(f"observe {layer} error-limit {passive.max_fails or 1} on-error mark-down")
    if srv.weight > MAX_WEIGHT:
        ctx.diags.warning(srv.span, "P001", f"weight {srv.weight} is above HAProxy's maximum; written as {MAX_WEIGHT}")
    if srv.weight != 1:
        opts.append(f"weight {min(srv.weight, MAX_WEIGHT)}")
    if srv.max_conns is not None:
        opts.append(f"maxconn {srv.max_conns}")
    if srv.slow_start is not None:
        opts.append(f"slowstart {ctx.duration(srv.slow_start, srv, 'slow_start')}")
    if srv.backup:
        opts.append("backup")
    if srv.down:
        opts.append("disabled")
    if up.sticky_cookie and mode == "http":
        if srv.cookie == "":  # HAProxy drops an empty word: `cookie` would take the next option
            ctx.diags.error(srv.span, "P003", f"server {srv.name!r} has an empty cookie value, which HAProxy "
                            "cannot hold", hint="give it a value, or none to use the server's name")
        # No IR cookie value: the server's name stands in, as HAProxy needs one per server.
        opts.append("cookie " + ctx.header_word(srv.cookie or srv.name, srv, "server cookie"))
    elif srv.cookie is not None:
        ctx.diags.warning(srv.span, "P001", f"server cookie {srv.cookie!r} without a sticky cookie on the "
                          "upstream: ignored")
    if up.resolver is not None:
        resolver = ctx.resolvers.assign(up.resolver, up.resolver)
        opts += [f"resolvers {resolver}", f"init-addr {RESOLVED_INIT_ADDR}"]
    return opts


@lines_or_none
def _nameserver_line(ctx: Context, ns: ir.Nameserver, names: NameTable) -> list[str]:
    if not _is_ip(ns.address):  # nginx resolves a resolver's name at start; HAProxy refuses one
        ctx.diags.warning(ns.span, "P001", f"HAProxy needs an IP address for a nameserver, not {ns.address!r}; "
                          "it is left out", hint="write the DNS server's address")
        return []
    name = ctx.name_for(names, id(ns), ns.name, ns, "nameserver")  # two of one name: the second is renamed
    return [f"nameserver {name} {ctx.word(format_address(ns.address, ns.port), ns, 'nameserver address')}"]


def _is_ip(address: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _passive(up: ir.Upstream) -> ir.Passive | None:
    """The passive settings, unless they switch failure accounting off (nginx max_fails=0)."""
    if up.passive is None or up.passive.max_fails == 0:
        return None
    return up.passive


# ---------------------------------------------------------------------- resolvers

def resolvers_section(ctx: Context, res: ir.Resolver) -> Section:
    name = ctx.name_for(ctx.resolvers, res.name, res.name, res, "resolvers")
    section = Section(f"resolvers {name}", comments=list(res.comments))
    if not res.nameservers:
        ctx.diags.warning(res.span, "P001", f"resolvers {res.name!r} has no nameserver: HAProxy warns and "
                          "resolves nothing through it")
    names = NameTable()
    names.reserve(ns.name for ns in res.nameservers)
    for ns in res.nameservers:
        section.add(*_nameserver_line(ctx, ns, names))
    if res.hold_valid is not None:
        section.add(f"hold valid {ctx.duration(res.hold_valid, res, 'hold_valid')}")
    if res.timeout is not None:
        section.add(f"timeout retry {ctx.duration(res.timeout, res, 'resolver timeout')}")
    if res.retries is not None:
        section.add(f"resolve_retries {res.retries}")
    return section


# ---------------------------------------------------------------------- raw text

def raw_lines(ctx: Context, raws: list[ir.Raw]) -> list[str]:
    """Raw HAProxy text inside a section, verbatim but re-indented; raw nginx text is
    reported as not portable."""
    lines: list[str] = []
    for raw in raws:
        if raw.target != "haproxy":
            report_foreign_raw(ctx, raw)
            continue
        lines += textwrap.dedent(raw.text).rstrip("\n").split("\n")
    return lines


def report_foreign_raw(ctx: Context, raw: ir.Raw) -> None:
    ctx.diags.warning(raw.span, "P001", "raw nginx block is not portable: not written to haproxy.cfg")
