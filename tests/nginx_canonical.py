"""An IR as the nginx writer can say it, so that ``read(write(cfg))`` can be compared with it.

``nginx_losses(cfg)`` leaves out what nginx 1.22 (open source) has no place for, exactly as
the writer does, and each of its steps is a loss the writer reports as a P001 warning (a slow
start is dropped, a weight 0 becomes ``down``, a backup server nginx refuses is not written).
The round-trip test checks that a canonical IR writes without any P001 that changes the IR,
so a loss the writer stops reporting, or a new one, shows up there.

``nginx_canonical(cfg)`` is that IR in nginx's spelling: the same config said the way nginx
says it (a default that is already nginx's, a setting nginx keeps in another place, the order
of nginx.conf). Spelling never changes where a request goes; a test routes both to check.
"""
from __future__ import annotations

from math import gcd

from proxyc import ir
from proxyc.dialects.nginx.logs import SEVERITY, SYSLOG_FACILITIES
from proxyc.dialects.nginx.provenance import closed_stats_rule
from proxyc.dialects.nginx.reader_upstreams import NGINX_FAIL_TIMEOUT, NGINX_MAX_FAILS
from proxyc.dialects.nginx.writer import _CONTEXT_OF_MODE
from proxyc.dialects.nginx.writer_upstreams import _NO_BACKUP


def nginx_losses(cfg: ir.Config) -> ir.Config:
    """``cfg`` without what the nginx writer leaves out (each step a P001 it reports)."""
    cfg = cfg.model_copy(deep=True)
    _modes(cfg)  # first (spelling): an upstream is written, and so limited, where it is used
    for up in cfg.upstreams:
        _upstream_losses(cfg, up)
    _dns_losses(cfg)
    _empty_upstreams(cfg)
    cfg.raw = [raw for raw in cfg.raw if raw.target == "nginx"]  # raw HAProxy text
    for fe in cfg.frontends:
        _frontend_losses(cfg, fe)
    _logs(cfg)
    _resolvers(cfg)
    return cfg


def nginx_canonical(cfg: ir.Config) -> ir.Config:
    """``nginx_losses(cfg)`` in nginx's spelling: what ``read(write(cfg))`` gives."""
    cfg = nginx_losses(cfg)
    given = cfg.model_copy(deep=True)  # the timeouts before they are spelled (_tcp_timeouts)
    for up in cfg.upstreams:
        _upstream_spelling(up)
        if up.resolver is not None and len(up.servers) == 1 and _mode(cfg, up) == "http":
            # one DNS server is 'set $pxc_dns_x host' and 'proxy_pass http://$pxc_dns_x': port 80
            up.servers[0].port = _first(up.servers[0].port, 80)
    for fe in cfg.frontends:
        # proxy_set_header (and so forwardfor) is read where the frontend proxies, and set per
        # server block: the defaults' forwardfor is each HTTP frontend's.
        proxies = any(isinstance(a, ir.UseUpstream) for a in _reachable_actions(cfg, fe))
        fe.forwardfor = proxies and (fe.forwardfor or cfg.defaults.forwardfor) and _mode(cfg, fe) == "http"
        fe.request_headers = _request_headers(fe) if proxies else []
        fe.response_headers = _response_headers(fe.response_headers)
        _frontend_spelling(cfg, fe)
    cfg.defaults.forwardfor = False
    _tls(cfg)
    _raw_spelling(cfg)
    for res in cfg.resolvers:
        # nameserver names come back from the writer's comment when they can name the
        # nameservers (distinct), else as ns1, ns2, ...
        if len({ns.name for ns in res.nameservers}) != len(res.nameservers):
            for index, ns in enumerate(res.nameservers, 1):
                ns.name = f"ns{index}"
    _tcp_timeouts(cfg, given)
    _default_timeouts(cfg)
    # the reader gives the http {} frontends first, then the stream {} ones
    cfg.frontends.sort(key=lambda fe: _mode(cfg, fe) == "tcp")
    _upstream_order(cfg)
    return cfg


def _first(*values):
    return next((v for v in values if v is not None), None)


def _tcp_timeouts(cfg: ir.Config, given: ir.Config) -> None:
    """spelling: a stream server has a connect timeout and one idle timeout (proxy_timeout),
    written where the frontend or its default's upstream sets one (from the given IR: the
    tunnel timeout, else the shorter side's), else inherited from stream {}, which the defaults
    are (without a tunnel timeout: http {} has none). A server that closes every connection has
    none. Read back, a TCP frontend's client timeout is that idle timeout and its default's
    upstream takes both; where stream {} is the defaults (TCP frontends only), only what a
    server sets itself. loss: the timeouts of other upstreams a route map chooses (P001)."""
    d = given.defaults.timeouts
    own = {up.name: up.timeouts for up in given.upstreams}
    tcp_only = _tcp_only(cfg)
    stream_connect = d.connect if tcp_only or "http" not in _contexts(cfg) else cfg.defaults.timeouts.connect
    stream_idle = _idle(d.client, d.server, None)
    read_by_upstream: dict[str, tuple[int | None, int | None]] = {}
    for fe, fe_given in zip(cfg.frontends, given.frontends):
        if _mode(cfg, fe) != "tcp":
            continue
        upstream = fe.default.upstream if isinstance(fe.default, ir.UseUpstream) else None
        connect = idle = None
        if upstream is not None or fe.rules:
            u = own.get(upstream) or ir.Timeouts()
            connect = u.connect if u.connect is not None and u.connect != d.connect else None
            if any(v is not None for v in (fe_given.timeouts.client, u.server, u.tunnel)):
                server = _first(u.server, d.server) if upstream is not None else None
                idle = _idle(_first(fe_given.timeouts.client, d.client), server, _first(u.tunnel, d.tunnel))
        if not tcp_only:
            connect, idle = _first(connect, stream_connect), _first(idle, stream_idle)
        fe.timeouts.client, fe.timeouts.http_request = idle, None  # http_request: HTTP only
        if upstream is not None:
            read_by_upstream.setdefault(upstream, (connect, idle))
    for up in cfg.upstreams:
        if _mode(cfg, up) == "tcp":
            up.timeouts.connect, up.timeouts.server = read_by_upstream.get(up.name, (None, None))
            up.timeouts.tunnel = None  # it was the idle timeout


def _tcp_only(cfg: ir.Config) -> bool:
    """A config whose frontends are all TCP: its stream block is the defaults."""
    modes = {_mode(cfg, fe) for fe in cfg.frontends}
    return modes == {"tcp"}


def _idle(client: int | None, server: int | None, tunnel: int | None) -> int | None:
    """nginx stream's one idle timeout: the tunnel timeout, else the shorter side's (P001
    when they differ)."""
    if tunnel is not None:
        return tunnel
    known = [v for v in (client, server) if v is not None]
    return min(known) if known else None


def _default_timeouts(cfg: ir.Config) -> None:
    """spelling: the defaults' timeouts are those of http {} (connect, server, client,
    http_request); in a config of TCP frontends only, stream {}'s connect and idle timeout.
    loss: http {} has no queue, tunnel or check timeout, stream {} only the two (P001)."""
    d = cfg.defaults.timeouts
    connect, idle = d.connect, _idle(d.client, d.server, d.tunnel)
    if "http" not in _contexts(cfg):
        d.connect = d.server = d.client = d.http_request = None
    if _tcp_only(cfg):
        d.connect = connect
        d.client = d.server = idle
    d.queue = d.tunnel = d.check = None


def _tls(cfg: ir.Config) -> None:
    """nginx needs a key: without one, the certificate file is the key file too."""
    for fe in cfg.frontends:
        for listen in fe.listens:
            if listen.tls is not None:
                listen.tls.key = listen.tls.key or listen.tls.cert


def _mode(cfg: ir.Config, node: ir.Frontend | ir.Upstream) -> str:
    return node.mode or cfg.defaults.mode


def _upstream_losses(cfg: ir.Config, up: ir.Upstream) -> None:
    up.health = None  # no active health checks in nginx OSS
    up.sticky_cookie = None  # nor sticky cookies
    # No queue or check timeout; the tunnel timeout is a stream server's proxy_timeout only.
    up.timeouts.queue = up.timeouts.check = None
    if _mode(cfg, up) == "http":
        up.timeouts.tunnel = None
    up.raw = [raw for raw in up.raw if raw.target == "nginx"]  # raw HAProxy text
    for server in up.servers:
        server.check = False
        server.slow_start = None  # no slow start
        server.cookie = None
        if server.weight == 0:  # no weight 0: such a server is marked down
            server.down = True
            server.weight = 1
    if _mode(cfg, up) == "tcp":  # a stream server needs a port
        up.servers = [s for s in up.servers if s.port is not None]
    bal = up.balance
    if bal.algorithm == "first":  # no 'first available': round robin
        up.balance = ir.Balance(span=bal.span, comments=bal.comments)
    elif bal.algorithm == "random" and bal.choices not in (None, 2):
        bal.choices = 2  # nginx's random picks the less loaded of two
    if bal.algorithm in _NO_BACKUP:  # nginx refuses backup servers with these
        up.servers = [s for s in up.servers if not s.backup]
    elif up.resolver is None and all(s.backup for s in up.servers):
        for server in up.servers:  # and an upstream of backups only: they are written as primaries
            server.backup = False
    if up.passive is not None and up.passive.fail_timeout is not None:
        up.passive.fail_timeout = _whole_seconds(up.passive.fail_timeout)


def _whole_seconds(ms: int) -> int:
    """nginx reads fail_timeout and a resolver's valid= in whole seconds: rounded up."""
    return -(-ms // 1000) * 1000


def _upstream_spelling(up: ir.Upstream) -> None:
    # The passive failure settings are max_fails/fail_timeout on each server line, where one
    # given alone reads back with nginx's default for the other.
    passive = up.passive
    if passive is not None:
        if passive.max_fails is None and passive.fail_timeout is None:
            up.passive = None
        else:
            passive.max_fails = _first(passive.max_fails, NGINX_MAX_FAILS)
            passive.fail_timeout = _first(passive.fail_timeout, NGINX_FAIL_TIMEOUT)
    bal = up.balance
    if bal.key == "header" and bal.key_name:
        # hashed on $http_<name>: header names are case-insensitive, nginx's variable is lower
        # case with "_" for "-", and reads back capitalised
        bal.key_name = "-".join(part.capitalize() for part in bal.key_name.lower().replace("_", "-").split("-"))
    if up.resolver is not None:  # a DNS upstream's weights, as split_clients' shares say them
        for server, weight in zip(up.servers, _dns_weights([s.weight for s in up.servers])):
            server.weight = weight


def _empty_upstreams(cfg: ir.Config) -> None:
    """An upstream no server of which can answer is not written: nginx answers 503 where it
    is used, as HAProxy does, and a TCP connection is closed."""
    empty = set()
    for up in cfg.upstreams:
        if not any(not s.down and s.weight > 0 for s in up.servers):
            empty.add(up.name)
    cfg.upstreams = [up for up in cfg.upstreams if up.name not in empty]
    for fe in cfg.frontends:
        # TCP: the connection is closed, as by a deny (or a frontend without a default).
        http = _mode(cfg, fe) == "http"
        for rule in fe.rules:
            if isinstance(rule.action, ir.UseUpstream) and rule.action.upstream in empty:
                rule.action = ir.Return(status=503) if http else ir.Deny()
        if isinstance(fe.default, ir.UseUpstream) and fe.default.upstream in empty:
            fe.default = ir.Return(status=503) if http else None


def _frontend_losses(cfg: ir.Config, fe: ir.Frontend) -> None:
    fe.raw = [raw for raw in fe.raw if raw.target == "nginx"]  # raw HAProxy text
    if _mode(cfg, fe) == "tcp":  # a TCP frontend has no headers, stats or forwardfor
        fe.forwardfor, fe.request_headers, fe.response_headers, fe.stats = False, [], [], None
        if not any(rule.condition is not None for rule in _until_unconditional(fe.rules)):
            fe.acls = []  # no named conditions, and no route map whose comments carry them
    if fe.stats is not None:
        fe.stats.refresh = None  # stub_status has no refresh
        fe.stats.uri = fe.stats.uri.split("?", 1)[0]  # a location matches the path, not the query
        if fe.stats.users:
            # nginx.conf cannot hold the password file, so the page answers 403, which reads
            # back as a deny in its place (the writer keeps the routing as written).
            fe.rules.insert(0, closed_stats_rule(fe.stats))
            fe.stats = None
    tls = [listen.tls for listen in fe.listens if listen.tls is not None]
    for listen in fe.listens:  # one certificate per server block
        if listen.tls is not None:
            listen.tls = tls[0].model_copy()


def _frontend_spelling(cfg: ir.Config, fe: ir.Frontend) -> None:
    for listen in fe.listens:
        if listen.address == "0.0.0.0":
            listen.address = None  # nginx's 'listen 0.0.0.0:80' is its 'listen 80'
    if fe.stats is not None:
        fe.stats.realm = None  # without a login a realm says nothing
    # An unconditional rule is where routing ends: it is nginx's 'location /', the default
    # (the rules after it never match: P002).
    rules = _until_unconditional(fe.rules)
    if len(rules) < len(fe.rules):
        fe.default = fe.rules[len(rules)].action
        fe.rules = rules
    if _mode(cfg, fe) == "http":
        _http_routing(fe)
    else:
        _tcp_routing(fe)


def _until_unconditional(rules: list[ir.Rule]) -> list[ir.Rule]:
    """The rules before the first one without a condition."""
    always = next((i for i, rule in enumerate(rules) if rule.condition is None), len(rules))
    return rules[:always]


def _http_routing(fe: ir.Frontend) -> None:
    if _stats_everywhere(fe):
        # spelling: a stats page at / answers every request; what comes after it is never
        # reached and not written (P002).
        fe.rules, fe.default = [], None
    else:
        if not _carries_routing(fe):
            # spelling: a deny is 'return N' (nginx's page), which reads back as a deny from 400
            # to 599 and otherwise as a return of that status without a body; a redirect
            # prefix "" is "/".
            for rule in fe.rules:
                rule.action = _as_read(rule.action)
            fe.default = _as_read(fe.default)
        if fe.default is None:
            fe.default = ir.Return(status=503)  # spelling: what the IR (and HAProxy) answer then
    # nginx always matches the normalised path (and forwards the path as received): a frontend
    # that matches paths reads back with normalize_uri, as the writer's P001 says, and one that
    # matches none without it (routing.py then agrees with nginx).
    fe.normalize_uri = any(isinstance(n, ir.PathMatch) for n in ir.iter_nodes(fe))


def _tcp_routing(fe: ir.Frontend) -> None:
    if isinstance(fe.default, ir.Deny):
        fe.default = None  # both close the connection
    for listen in fe.listens:
        # One frontend per socket, so default_server says nothing (nginx 1.22's stream has none).
        listen.default_server = False


def _logs(cfg: ir.Config) -> None:
    # loss: nginx has access logs only: targets nothing logs to are left out (P001).
    cfg.defaults.log = cfg.defaults.log and bool(cfg.logs) and bool(_contexts(cfg))
    if not cfg.defaults.log:
        cfg.logs = []
    for log in cfg.logs:
        if log.target != "syslog":
            # loss: a log to stdout/stderr is a file to nginx, with no facility or level (P001).
            log.facility = log.level = None
            continue
        if log.facility is not None and log.facility not in SYSLOG_FACILITIES:
            log.facility = None  # loss: nginx's default facility is used (P001)
        # spelling: nginx's names for the levels; loss: an unknown one is left out (P001).
        log.level = SEVERITY.get(log.level)


def _proxied(cfg: ir.Config) -> set[str]:
    """The upstreams some frontend proxies to, where nginx can reach it."""
    return {a.upstream for fe in cfg.frontends for a in _reachable_actions(cfg, fe) if isinstance(a, ir.UseUpstream)}


def _reachable_actions(cfg: ir.Config, fe: ir.Frontend) -> list:
    """The actions of the rules nginx can reach, and then of the default: none after a rule
    without a condition, nor behind a stats page every path reaches (they never match: P002)."""
    if _mode(cfg, fe) == "http" and _stats_everywhere(fe):
        return []
    rules = _until_unconditional(fe.rules)
    if _mode(cfg, fe) == "http":  # a rule every path matches is nginx's 'location /' too
        every = next((i for i, rule in enumerate(rules) if _every_path(rule.condition, fe)), None)
        if every is not None:
            return [rule.action for rule in rules[:every + 1]]
    last = fe.rules[len(rules)].action if len(rules) < len(fe.rules) else fe.default
    return [*(rule.action for rule in rules), last]


def _every_path(cond, fe: ir.Frontend, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a condition matches every request path (a prefix of "/" or "", or an ACL or
    "or" holding one)."""
    if isinstance(cond, ir.PathMatch):
        return cond.op == "prefix" and any(value in ("", "/") for value in cond.values)
    if isinstance(cond, ir.AnyOf):
        return any(_every_path(item, fe, seen) for item in cond.items)
    if isinstance(cond, ir.All) and len(cond.items) == 1:
        return _every_path(cond.items[0], fe, seen)
    if isinstance(cond, ir.AclRef) and cond.name not in seen:
        acls = [acl for acl in fe.acls if acl.name == cond.name]
        return len(acls) == 1 and _every_path(acls[0].condition, fe, seen | {cond.name})
    return False


def _stats_everywhere(fe: ir.Frontend) -> bool:
    """A stats page at / (or ""): every request's path starts there."""
    return fe.stats is not None and fe.stats.uri.split("?", 1)[0] in ("", "/")


def _contexts(cfg: ir.Config) -> set[str]:
    """The nginx contexts the writer writes: where frontends are, where upstreams are used
    (an unused one where its mode says), where raw text goes."""
    found = {_CONTEXT_OF_MODE[_mode(cfg, fe)] for fe in cfg.frontends}
    proxied = _proxied(cfg)
    found |= {_CONTEXT_OF_MODE[_mode(cfg, up)] for up in cfg.upstreams if up.name not in proxied}
    found |= {raw.context or "http" for raw in cfg.raw if raw.target == "nginx"} & {"http", "stream"}
    return found


def _resolvers(cfg: ir.Config) -> None:
    """loss: nginx writes a resolver only where it proxies: the resolver of an upstream no
    frontend uses, and a resolver no such upstream names, are left out (P001)."""
    proxied = _proxied(cfg)
    for up in cfg.upstreams:
        if up.name not in proxied:
            # loss: and so are its proxy timeouts (P001)
            up.resolver = up.timeouts.connect = up.timeouts.server = None
    used = {up.resolver for up in cfg.upstreams if up.resolver is not None}
    cfg.resolvers = [res for res in cfg.resolvers if res.name in used]
    for res in cfg.resolvers:
        if res.hold_valid is not None:
            res.hold_valid = _whole_seconds(res.hold_valid)


def _modes(cfg: ir.Config) -> None:
    """spelling: nginx has no defaults section. The defaults' mode is tcp when every frontend
    is TCP (a config of stream servers only), else http; a section says its own mode when it
    differs. An upstream's mode is the context it is written in: where it is used."""
    tcp_only = any(_mode(cfg, fe) == "tcp" for fe in cfg.frontends) and all(
        _mode(cfg, fe) == "tcp" for fe in cfg.frontends)
    mode = "tcp" if tcp_only else "http"
    used_from: dict[str, set[str]] = {}
    for fe in cfg.frontends:
        for action in [*(r.action for r in fe.rules), fe.default]:
            if isinstance(action, ir.UseUpstream):
                used_from.setdefault(action.upstream, set()).add(_mode(cfg, fe))
    for up in cfg.upstreams:
        modes = used_from.get(up.name) or {_mode(cfg, up)}
        up.mode = next(iter(modes)) if len(modes) == 1 else _mode(cfg, up)
    for node in [*cfg.frontends, *cfg.upstreams]:
        own = node.mode or cfg.defaults.mode
        node.mode = None if own == mode else own
    cfg.defaults.mode = mode


_CLIENT = object()  # the header as the client sent it


def _replay(ops: list[ir.HeaderOp], states: dict[str, tuple[str, list]]) -> None:
    """What each header is after the operations: (name as first said, values)."""
    for op in ops:
        name, values = states.setdefault(op.name.lower(), (op.name, [_CLIENT]))
        if op.action == "set":
            values[:] = [op.value]
        elif op.action == "add":
            values.append(op.value)
        else:
            values.clear()


def _request_headers(fe: ir.Frontend) -> list[ir.HeaderOp]:
    """spelling: nginx keeps each header's final value list (proxy_set_header lines), not the
    operations: read back, a header is deleted, set (then added to), or added to the client's.
    loss: an empty value sends nothing (P001)."""
    states: dict[str, tuple[str, list]] = {}
    _replay(fe.request_headers, states)
    ops = []
    for name, values in states.values():
        sent = [v for v in values if v != ""]
        if values == [_CLIENT]:
            continue
        if not sent:
            ops.append(ir.HeaderOp(action="delete", name=name))
        elif sent[0] is _CLIENT:
            ops += [ir.HeaderOp(action="add", name=name, value=v) for v in sent[1:]]
        else:
            ops += [ir.HeaderOp(action="set" if i == 0 else "add", name=name, value=v) for i, v in enumerate(sent)]
    return ops


def _response_headers(given: list[ir.HeaderOp]) -> list[ir.HeaderOp]:
    """spelling: nginx hides the upstream's header (proxy_hide_header) and adds values
    (add_header): read back, the hidden headers without values are deletes, then each value an
    add (a set where it replaces the upstream's). loss: an empty value adds nothing (P001)."""
    states: dict[str, tuple[str, list]] = {}
    _replay(given, states)
    deletes, adds = [], []
    for name, values in states.values():
        sent = [v for v in values if v is not _CLIENT and v != ""]
        hidden = _CLIENT not in values
        if hidden and not sent:
            deletes.append(ir.HeaderOp(action="delete", name=name))
        adds += [ir.HeaderOp(action="set" if hidden and i == 0 else "add", name=name, value=v)
                 for i, v in enumerate(sent)]
    return deletes + adds


def _carries_routing(fe: ir.Frontend) -> bool:
    """Whether the writer carries the frontend's routing as written in '# proxyc:' comments
    (then the reader takes its actions from them)."""
    return bool(fe.acls or fe.rules or (fe.stats is not None and fe.stats.users))


def _as_read(action):
    """An action as nginx's directives alone say it (without the routing comments)."""
    if isinstance(action, ir.Deny) and not (400 <= action.status <= 599 and action.status != 444):
        return ir.Return(status=action.status, span=action.span)
    if isinstance(action, ir.Redirect) and action.prefix == "":
        return action.model_copy(update={"prefix": "/"})  # both mean none
    return action


def _dns_losses(cfg: ir.Config) -> None:
    """An upstream with a resolver is a variable proxy_pass (nginx 1.22 re-resolves only so):
    one server is a 'set' where it is used, several a split_clients that picks one per request
    by weight. Its balancing, backup and down servers, max_conns and passive settings are lost,
    and an unused one with one server has no place at all."""
    kept = []
    for up in cfg.upstreams:
        if up.resolver is None:
            kept.append(up)
            continue
        servers = [s for s in up.servers if not s.backup and not s.down and s.weight > 0]
        if len(servers) == 1 and up.name not in _proxied(cfg):
            continue
        up.servers, up.balance, up.passive = servers, ir.Balance(span=up.balance.span), None
        for server in servers:
            server.max_conns = None
        kept.append(up)
    cfg.upstreams = kept


def _dns_weights(weights: list[int]) -> list[int]:
    """The weights a split_clients' shares (hundredths of a percent, rounded down, the last
    one '*') give back, as provenance_dns reads them: all 1 when equal (one server has 1)."""
    if len(set(weights)) <= 1:
        return [1] * len(weights)
    total = sum(weights)
    shares = [max(1, w * 10_000 // total) for w in weights[:-1]]
    shares.append(10_000 - sum(shares))
    divisor = 0
    for share in shares:
        divisor = gcd(divisor, share)
    return [share // divisor for share in shares]


def _upstream_order(cfg: ir.Config) -> None:
    """spelling: the reader gives upstreams in nginx.conf's order: http {} then stream {}, each
    with the split_clients of DNS upstreams before the upstream {} blocks, then the DNS
    upstreams of one server in the order the server blocks use them."""
    first_use: dict[str, int] = {}
    for fe in cfg.frontends:  # already in the reader's order
        for action in [*(r.action for r in fe.rules), fe.default]:
            if isinstance(action, ir.UseUpstream):
                first_use.setdefault(action.upstream, len(first_use))

    def key(item):
        position, up = item
        if up.resolver is not None and len(up.servers) == 1:
            return (2, 0, first_use.get(up.name, 0), position)
        return (_mode(cfg, up) == "tcp", up.resolver is None, 0, position)

    cfg.upstreams = [up for _, up in sorted(enumerate(cfg.upstreams), key=key)]


def _raw_spelling(cfg: ir.Config) -> None:
    """Raw nginx text is copied as written; read back, each directive is raw text of its own,
    as nginx's lexer gives it (crossplane's build)."""
    from proxyc.diagnostics import Diagnostics
    from proxyc.dialects.nginx.reader_payload import Loader

    def spelled(raws: list[ir.Raw]) -> list[ir.Raw]:
        out = []
        for raw in raws:
            stmts = Loader(Diagnostics(), None, None).load_text(raw.text, "<raw>")
            out += [raw.model_copy(update={"text": stmt.text()}) for stmt in stmts]
        return out

    cfg.raw = spelled(cfg.raw)
    for node in [*cfg.frontends, *cfg.upstreams]:
        node.raw = spelled(node.raw)
