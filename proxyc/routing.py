"""The route simulator: the one executable definition of what an IR config means (DESIGN §2).

``route(cfg, request)`` answers: which frontend takes the request, which rule decides (with its
source span), which upstream and which servers can answer, and what status a client sees when
nothing is proxied. Writers and importers are tested against it, so every rule below is the
IR's meaning; where nginx or HAProxy natively differ, ``target=`` predicts that server instead.

Evaluation order in a frontend
    1. Frontend: by name, else by ``request.port`` (the first frontend, in IR order, with a
       listener on that port), else the only frontend. The listener decides TLS: a request to a
       TLS listener is TLS even when ``Request.tls`` was left False.
    2. HTTP mode only: the request target must start with "/" and contain no spaces or control
       characters, else 400 (both servers refuse it). Matchers see the path without the query.
    3. Stats: when the frontend has ``stats``, a request whose URI *starts with* the stats uri
       gets the stats page (200; 401 without valid credentials when users are set), before any
       rule. Prefix, not equality: measured on HAProxy 2.6, ``stats uri /stats`` also answers
       ``/statsx``. HAProxy itself runs ``http-request`` deny/return/redirect *before* stats, so a
       HAProxy writer must guard such rules for this order to hold.
    4. Rules in order; the first whose condition holds decides. Otherwise ``default``.
       Otherwise no route: 503 (HAProxy's answer, and the IR's); nginx answers 404.
    5. A ``use`` decision lists the candidate servers: primaries that are not down and have a
       weight, or the usable backups when no primary is (all of them, as nginx does; HAProxy
       needs ``option allbackups``). No candidate at all: 503 (nginx: 502).

Path normalisation
    nginx matches the normalised URI: every %XX escape decoded (%2F becomes "/"), "//" merged,
    "." and ".." resolved; a ".." above the root, a bad escape or %00 makes the request invalid
    (400). HAProxy matches the raw path unless ``http-request normalize-uri`` is configured.
    Hence ``normalize``:
      * ``None`` (default): normalise when the frontend sets ``normalize_uri``, the IR's meaning;
        with ``target="nginx"``, always (nginx cannot switch it off).
      * ``True``: always normalise; callers pass it for configs read from nginx.
      * ``False``: match the raw path, as HAProxy does by default.
    The normalisation is nginx's (measured against nginx 1.22). HAProxy's normalize-uri is
    narrower: percent-decode-unreserved keeps %2F, "/./" stays unless path-strip-dot is added,
    and a ".." above the root is kept rather than refused. Writers report that difference.

Matchers
    path: exact/prefix/suffix/regex; ``ignore_case`` folds case. Regexes are Python ``re``,
    searched (unanchored) as PCRE is by ``~`` and ``path_reg``: an approximation of PCRE.
    host: the Host header lower-cased, without ``:port`` (``[::1]:80`` gives ``[::1]``, as
    HAProxy's ``host_only`` and nginx's ``$host``; ``target="nginx"`` also drops one trailing
    dot, as nginx does); values compare case-insensitively. No Host header: the empty host.
    method: exact and case-sensitive, as HTTP methods are. header: names case-insensitive;
    ``ignore_case`` folds values. source: CIDRs or addresses, IPv4 and IPv6; an IPv4-mapped
    IPv6 client also matches IPv4 networks. tls: the connection is TLS. acl: a named condition;
    several ACLs with one name hold when any does (HAProxy's rule). HTTP matchers in a TCP
    frontend are a RoutingError; so are unknown ACLs, ACL cycles, bad regexes and networks.

``target``: None is the IR's meaning above. "haproxy" differs only in a scheme redirect, which
copies the Host header verbatim (port and case kept, measured); "nginx" normalises by default,
answers 404 without a route and 502 without a server, and drops a trailing dot from the host.

``balance_preview`` predicts which servers sequential requests reach (see its docstring).
Nothing here imports pydantic: nodes are told apart by their ``type`` field.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the IR imports pydantic; the simulator only reads its attributes
    from .ir.base import Span
    from .ir.models import Config, Frontend, Listen, Rule, Server, Stats, Upstream

Target = Literal["haproxy", "nginx"]
DecisionKind = Literal["rule", "default", "stats", "no_route", "invalid"]

BAD_REQUEST = 400
NO_ROUTE_STATUS = {None: 503, "haproxy": 503, "nginx": 404}
NO_SERVER_STATUS = {None: 503, "haproxy": 503, "nginx": 502}
HTTP_MATCHERS = ("path", "host", "method", "header")


class RoutingError(ValueError):
    """The config (or the request) cannot be routed: an unknown frontend, ACL or upstream, a
    regex Python cannot compile, an HTTP matcher in a TCP frontend. ``span`` locates it."""

    def __init__(self, message: str, span: Span | None = None):
        self.span = span
        super().__init__(f"{span}: {message}" if span is not None else message)


@dataclass(frozen=True)
class Request:
    """One client request. ``url`` is the request target as sent (``/a?b=c``)."""

    method: str = "GET"
    url: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    src: str = "127.0.0.1"
    port: int | None = None
    tls: bool = False


@dataclass
class Decision:
    """What happens to a request. ``kind`` says which step decided; ``status`` is what the client
    sees when nothing is proxied (None when proxied, or for a TCP connection that is closed)."""

    frontend: str
    kind: DecisionKind
    rule_index: int | None = None
    rule: Rule | None = None
    span: Span | None = None
    action: object | None = None
    upstream: Upstream | None = None
    servers: list[Server] = field(default_factory=list)
    status: int | None = None
    location: str | None = None
    trace: list[str] = field(default_factory=list)


# ====================================================================== the entry point


def route(cfg: Config, request: Request, *, frontend: str | None = None,
          normalize: bool | None = None, target: Target | None = None) -> Decision:
    """Route ``request`` through ``cfg`` (the module docstring gives the exact semantics).
    ``target`` predicts one server's native behaviour where it differs from the IR's (no-route
    and no-server statuses, default normalisation, the host of a scheme redirect). Raises
    RoutingError, and nothing else, when the config or the request cannot be routed."""
    fe, listen = select_frontend(cfg, request, frontend)
    trace = [_describe_selection(fe, listen, frontend)]
    tls = _connection_tls(fe, listen, request, trace)
    mode = fe.mode or cfg.defaults.mode
    if mode == "tcp":
        view = _RequestView.for_tcp(request, tls)
        return _route_rules(cfg, fe, view, mode, target, trace)
    view, problem = _RequestView.for_http(request, tls, _should_normalize(normalize, fe, target), target)
    if problem:
        trace.append(f"invalid request: {problem} -> {BAD_REQUEST}")
        return Decision(fe.name, "invalid", span=fe.span, status=BAD_REQUEST, trace=trace)
    trace.append(view.describe())
    if fe.stats is not None and view.uri.startswith(fe.stats.uri):
        return _stats_decision(fe, fe.stats, request, trace)
    return _route_rules(cfg, fe, view, mode, target, trace)


def _should_normalize(normalize: bool | None, fe: Frontend, target: Target | None) -> bool:
    if normalize is not None:
        return normalize
    return True if target == "nginx" else fe.normalize_uri


def _route_rules(cfg: Config, fe: Frontend, view: _RequestView, mode: str,
                 target: Target | None, trace: list[str]) -> Decision:
    evaluator = _Evaluator(fe, view, mode, trace)
    for index, rule in enumerate(fe.rules):
        span = rule.span or rule.action.span
        trace.append(f"rules[{index}] at {_where(span)}: {describe_rule(rule)}")
        if rule.condition is None or evaluator.holds(rule.condition, depth=1):
            trace.append(f"  -> rules[{index}] decides")
            decision = Decision(fe.name, "rule", rule_index=index, rule=rule, span=span, trace=trace)
            return _apply_action(decision, cfg, rule.action, view, mode, target)
    if fe.default is not None:
        trace.append(f"default at {_where(fe.default.span)}: {describe_action(fe.default)}")
        decision = Decision(fe.name, "default", span=fe.default.span, trace=trace)
        return _apply_action(decision, cfg, fe.default, view, mode, target)
    status = None if mode == "tcp" else NO_ROUTE_STATUS[target]
    trace.append("no rule matched and there is no default: "
                 + ("the connection is closed" if status is None else f"{status}"))
    return Decision(fe.name, "no_route", span=fe.span, status=status, trace=trace)


# ====================================================================== frontend selection


def select_frontend(cfg: Config, request: Request,
                    name: str | None = None) -> tuple[Frontend, Listen | None]:
    """The frontend a request reaches and the listener it arrived on (None when unknown)."""
    if name is not None:
        fe = cfg.frontend(name)
        if fe is None:
            known = ", ".join(f.name for f in cfg.frontends) or "none"
            raise RoutingError(f"no frontend named {name!r} (frontends: {known})")
        if request.port is None:
            return fe, None
        listen = _listen_on(fe, request.port)
        if listen is None:
            raise RoutingError(f"frontend {name!r} does not listen on port {request.port}", fe.span)
        return fe, listen
    if request.port is not None:
        for fe in cfg.frontends:
            listen = _listen_on(fe, request.port)
            if listen is not None:
                return fe, listen
        raise RoutingError(f"no frontend listens on port {request.port} ({_ports_summary(cfg)})")
    if len(cfg.frontends) == 1:
        return cfg.frontends[0], None
    if not cfg.frontends:
        raise RoutingError("the config has no frontends")
    raise RoutingError(f"give a frontend name or a port to choose among: {_ports_summary(cfg)}")


def _listen_on(fe: Frontend, port: int) -> Listen | None:
    return next((lst for lst in fe.listens if lst.port == port), None)


def _ports_summary(cfg: Config) -> str:
    if not cfg.frontends:
        return "the config has no frontends"
    parts = []
    for fe in cfg.frontends:
        ports = ", ".join(str(lst.port) for lst in fe.listens) or "no listeners"
        parts.append(f"{fe.name}: {ports}")
    return "; ".join(parts)


def _describe_selection(fe: Frontend, listen: Listen | None, by_name: str | None) -> str:
    how = "by name" if by_name is not None else ("by port" if listen is not None else "the only frontend")
    port = f" on port {listen.port}" if listen is not None else ""
    return f"frontend {fe.name}{port} ({how})"


def _connection_tls(fe: Frontend, listen: Listen | None, request: Request, trace: list[str]) -> bool:
    """The listener decides: a client cannot speak plain HTTP to a TLS port, nor TLS to a
    plain one, so a contradicting ``Request.tls=True`` is an error rather than a guess."""
    if listen is None:
        return request.tls
    listener_tls = listen.tls is not None
    if request.tls and not listener_tls:
        raise RoutingError(f"port {listen.port} of frontend {fe.name!r} is not TLS, "
                           "but the request says tls=True", listen.span)
    if listener_tls and not request.tls:
        trace.append(f"port {listen.port} is a TLS listener: the connection is TLS")
    return listener_tls


# ====================================================================== the request as matchers see it


@dataclass(eq=False)
class _RequestView:
    path: str               # what path matchers see (normalised or raw), without the query
    query: str | None       # None: no "?" in the target
    raw_target: str         # the target as sent, for redirects
    host: str               # Host without port, lower-cased ("" when absent)
    host_header: str | None
    method: str
    headers: dict[str, str]  # lower-cased names
    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    tls: bool
    raw_path: str = ""

    @property
    def uri(self) -> str:
        return self.path if self.query is None else f"{self.path}?{self.query}"

    @classmethod
    def for_tcp(cls, request: Request, tls: bool) -> _RequestView:
        return cls(path="", query=None, raw_target="", host="", host_header=None, method="",
                   headers={}, src=_client_address(request.src), tls=tls)

    @classmethod
    def for_http(cls, request: Request, tls: bool, normalize: bool,
                 target: Target | None) -> tuple[_RequestView | None, str | None]:
        problem = _target_problem(request.url)
        if problem:
            return None, problem
        raw_path, sep, query = request.url.partition("?")
        path = raw_path
        if normalize:
            path = normalize_path(raw_path)
            if path is None:
                return None, f"{raw_path!r} cannot be normalised (bad escape, %00 or '..' above the root)"
        headers = _lower_names(request.headers)
        host_header = headers.get("host")
        host = host_only(host_header or "")
        if target == "nginx" and host.endswith("."):
            host = host[:-1]  # nginx drops one trailing dot before choosing a server and in $host
        view = cls(path=path, query=query if sep else None, raw_target=request.url,
                   host=host, host_header=host_header, method=request.method,
                   headers=headers, src=_client_address(request.src), tls=tls, raw_path=raw_path)
        return view, None

    def describe(self) -> str:
        if self.path != self.raw_path:
            text = f"path {self.path!r} (normalised from {self.raw_path!r})"
        else:
            text = f"path {self.path!r}"
        return f"{text}, host {self.host!r}, {self.method} from {self.src}" + (", TLS" if self.tls else "")


def _target_problem(url: str) -> str | None:
    if not url.startswith("/"):
        return f"the request target {url!r} does not start with '/'"
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        return f"the request target {url!r} contains a space or a control character"
    return None


def _lower_names(headers: dict[str, str]) -> dict[str, str]:
    """Header names fold case; when a dict holds one name twice, the first spelling wins."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), value)
    return lowered


def _client_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise RoutingError(f"the client address {text!r} is not an IP address") from None


def host_only(value: str) -> str:
    """A Host header value lower-cased without its port: ``Example.COM:8080`` -> ``example.com``,
    ``[::1]:80`` -> ``[::1]`` (HAProxy ``host_only``, nginx ``$host`` keep the brackets)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value if end < 0 else value[: end + 1]
    host, sep, port = value.rpartition(":")
    if sep and ":" not in host and (port.isdigit() or not port):
        return host
    return value


# ====================================================================== path normalisation

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def normalize_path(path: str) -> str | None:
    """nginx's normalisation of a path (no query): decode every %XX, merge "//", resolve "."
    and "..". None when nginx answers 400: a bad escape, %00 or a ".." above the root.
    Decoded bytes are read as UTF-8; invalid bytes become surrogates so they match nothing."""
    if _BAD_ESCAPE.search(path):
        return None
    try:
        decoded = _ESCAPE_RUN.sub(_decode_escapes, path)
    except _NulByte:
        return None
    return _resolve_segments(decoded)


class _NulByte(Exception):
    pass


def _decode_escapes(match: re.Match) -> str:
    raw = bytes.fromhex(match.group(0).replace("%", ""))
    if b"\0" in raw:
        raise _NulByte
    return raw.decode("utf-8", "surrogateescape")


def _resolve_segments(path: str) -> str | None:
    """Merge empty segments and resolve dot segments; a trailing "/", "." or ".." leaves the
    result ending in "/" (``/a/b/..`` -> ``/a/``), exactly as nginx's ``$uri``."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if not kept:
                return None
            kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    text = "/" + "/".join(kept)
    ends_with_slash = segments[-1] in ("", ".", "..")
    return text + "/" if ends_with_slash and kept else text


# ====================================================================== conditions


class _Evaluator:
    """Evaluates conditions for one request in one frontend, writing every step to the trace."""

    def __init__(self, fe: Frontend, view: _RequestView, mode: str, trace: list[str]):
        self.view = view
        self.mode = mode
        self.trace = trace
        self.acls: dict[str, list] = {}
        for acl in fe.acls:
            self.acls.setdefault(acl.name, []).append(acl)
        self.resolving: list[str] = []  # ACL names being evaluated, to catch cycles

    def holds(self, cond, depth: int) -> bool:
        kind = cond.type
        if kind == "acl":
            return self._acl(cond, depth)
        if kind == "not":
            result = not self.holds(cond.item, depth + 1)
            self._note(depth, "not", result)
            return result
        if kind == "all":
            result = all(self.holds(item, depth + 1) for item in cond.items)  # short-circuits
            self._note(depth, "and", result)
            return result
        if kind == "any":
            result = any(self.holds(item, depth + 1) for item in cond.items)
            self._note(depth, "or", result)
            return result
        return self._matcher(cond, depth)

    def _acl(self, ref, depth: int) -> bool:
        definitions = self.acls.get(ref.name)
        if definitions is None:
            raise RoutingError(f"unknown ACL {ref.name!r}", ref.span)
        if ref.name in self.resolving:
            cycle = " -> ".join([*self.resolving, ref.name])
            raise RoutingError(f"ACL {ref.name!r} refers to itself ({cycle})", ref.span)
        self.resolving.append(ref.name)
        try:
            result = any(self.holds(acl.condition, depth + 1) for acl in definitions)
        finally:
            self.resolving.pop()
        self._note(depth, f"acl {ref.name}", result)
        return result

    def _matcher(self, matcher, depth: int) -> bool:
        kind = matcher.type
        if self.mode == "tcp" and kind in HTTP_MATCHERS:
            raise RoutingError(f"{kind} matchers need HTTP, but the frontend is in tcp mode", matcher.span)
        subject, result = _MATCHERS[kind](matcher, self.view)
        self._note(depth, f"{describe_condition(matcher)} on {subject}", result)
        return result

    def _note(self, depth: int, what: str, result: bool) -> None:
        self.trace.append(f"{'  ' * depth}{what} -> {'true' if result else 'false'}")


def _match_path(m, view: _RequestView) -> tuple[str, bool]:
    return repr(view.path), _match_text(m.op, m.values, view.path, m.ignore_case, m.span)


def _match_host(m, view: _RequestView) -> tuple[str, bool]:
    return repr(view.host), _match_text(m.op, m.values, view.host, True, m.span)


def _match_method(m, view: _RequestView) -> tuple[str, bool]:
    return repr(view.method), view.method in m.values


def _match_header(m, view: _RequestView) -> tuple[str, bool]:
    value = view.headers.get(m.name.lower())
    if m.op == "present" or value is None:
        return repr(value), value is not None
    return repr(value), _match_text(m.op, m.values, value, m.ignore_case, m.span)


def _match_source(m, view: _RequestView) -> tuple[str, bool]:
    addresses = _address_forms(view.src)
    networks = [_network(value, m.span) for value in m.values]
    hit = any(addr in net for net in networks for addr in addresses if addr.version == net.version)
    return str(view.src), hit


def _match_tls(m, view: _RequestView) -> tuple[str, bool]:
    return "the connection", view.tls


_MATCHERS = {
    "path": _match_path,
    "host": _match_host,
    "method": _match_method,
    "header": _match_header,
    "source": _match_source,
    "tls": _match_tls,
}


def _match_text(op: str, values: list[str], subject: str, ignore_case: bool, span) -> bool:
    if op == "regex":
        return any(_regex(value, ignore_case, span).search(subject) for value in values)
    if ignore_case:
        subject, values = subject.lower(), [value.lower() for value in values]
    if op == "exact":
        return subject in values
    if op == "prefix":
        return any(subject.startswith(value) for value in values)
    if op == "suffix":
        return any(subject.endswith(value) for value in values)
    if op == "contains":
        return any(value in subject for value in values)
    raise RoutingError(f"unknown match operator {op!r}", span)


def _regex(pattern: str, ignore_case: bool, span) -> re.Pattern:
    try:
        return _compile(pattern, ignore_case)
    except re.error as exc:
        raise RoutingError(f"regex {pattern!r} does not compile in Python: {exc}", span) from None


_PCRE_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


@lru_cache(maxsize=1024)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern:
    # PCRE (nginx, HAProxy) also spells named groups (?<name>...); Python only (?P<name>...).
    pattern = _PCRE_NAMED_GROUP.sub("(?P<", pattern)
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


def _address_forms(addr) -> list:
    """The client address and its other spelling: both servers match an IPv4-mapped IPv6 client
    (``::ffff:10.0.0.1``) against IPv4 networks."""
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return [addr, addr.ipv4_mapped]
    if addr.version == 4:
        return [addr, ipaddress.IPv6Address(f"::ffff:{addr}")]
    return [addr]


def _network(value: str, span):
    try:
        return _parse_network(value)
    except ValueError:
        raise RoutingError(f"{value!r} is not an address or CIDR network", span) from None


@lru_cache(maxsize=1024)
def _parse_network(value: str):
    return ipaddress.ip_network(value, strict=False)


# ====================================================================== actions


def _apply_action(decision: Decision, cfg: Config, action, view: _RequestView, mode: str,
                  target: Target | None) -> Decision:
    decision.action = action
    kind = action.type
    if kind == "use":
        return _use_upstream(decision, cfg, action, mode, target)
    if kind == "deny":
        decision.status = None if mode == "tcp" else action.status
        decision.trace.append("denied: the connection is closed" if mode == "tcp" else f"denied with {action.status}")
        return decision
    if mode == "tcp":
        raise RoutingError(f"{kind} needs HTTP, but the frontend is in tcp mode", action.span)
    decision.status = action.status if kind == "return" else action.code
    if kind == "redirect":
        decision.location = redirect_location(action, view, target)
        decision.trace.append(f"redirect {action.code} to {decision.location}")
    else:
        decision.trace.append(f"answered {action.status}")
    return decision


def _use_upstream(decision: Decision, cfg: Config, action, mode: str, target: Target | None) -> Decision:
    upstream = cfg.upstream(action.upstream)
    if upstream is None:
        raise RoutingError(f"unknown upstream {action.upstream!r}", action.span)
    decision.upstream = upstream
    decision.servers = usable_servers(upstream)
    if decision.servers:
        decision.trace.append(f"upstream {upstream.name}: " + ", ".join(s.name for s in decision.servers))
    else:
        decision.status = None if mode == "tcp" else NO_SERVER_STATUS[target]
        decision.trace.append(f"upstream {upstream.name} has no usable server: "
                              + ("the connection is closed" if decision.status is None else f"{decision.status}"))
    return decision


def redirect_location(action, view: _RequestView, target: Target | None = None) -> str:
    """The Location header of a redirect. ``scheme`` keeps host and URI (``https://<host><uri>``,
    the host without port; HAProxy copies the Host header verbatim instead); ``prefix`` puts the
    prefix before the URI, a prefix of "/" meaning none (HAProxy's rule)."""
    if action.location is not None:
        return action.location
    if action.scheme is not None:
        host = (view.host_header or "") if target == "haproxy" else view.host
        return f"{action.scheme}://{host}{view.raw_target}"
    prefix = action.prefix or ""
    return view.raw_target if prefix == "/" else prefix + view.raw_target


def _stats_decision(fe: Frontend, stats: Stats, request: Request, trace: list[str]) -> Decision:
    status = 200 if _stats_authorized(stats, request) else 401
    trace.append(f"stats uri {stats.uri} is a prefix of the request URI: stats page ({status})")
    return Decision(fe.name, "stats", span=stats.span or fe.span, status=status, trace=trace)


def _stats_authorized(stats: Stats, request: Request) -> bool:
    if not stats.users:
        return True
    credentials = _basic_credentials(_lower_names(request.headers).get("authorization", ""))
    return any((user.user, user.password) == credentials for user in stats.users)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


# ====================================================================== servers and balancing


def usable_servers(upstream: Upstream) -> list[Server]:
    """The servers that can answer: primaries not down and with a weight; when there are none,
    the backups that are (all of them, nginx's behaviour)."""
    primaries = [s for s in upstream.servers if not s.backup and _usable(s)]
    if primaries:
        return primaries
    return [s for s in upstream.servers if s.backup and _usable(s)]


def _usable(server: Server) -> bool:
    return not server.down and server.weight > 0


def balance_preview(upstream: Upstream, n: int = 100, *, clients: list[str] | None = None) -> list[str]:
    """The names of the servers ``n`` sequential requests reach (each finishes before the next).

    * round_robin, least_conn: nginx's smooth weighted round robin over ``usable_servers``
      (least_conn with no concurrent connections is exactly that in nginx). HAProxy's
      roundrobin interleaves differently but gives the same split over a full cycle.
    * first: always the first usable server (sequential requests never fill it).
    * source: nginx's ``ip_hash`` (first three octets of IPv4, all of IPv6; a down server means
      rehash, up to 20 tries) for each address of ``clients``, cycled; one client,
      127.0.0.1, when not given. HAProxy's ``balance source`` assigns differently.
    * hash and random depend on the key or on chance: a RoutingError.
    An upstream with no usable server gives an empty list."""
    if n < 0:
        raise ValueError("n must be >= 0")
    algorithm = upstream.balance.algorithm
    servers = usable_servers(upstream)
    if not servers:
        return []
    if algorithm in ("round_robin", "least_conn"):
        rotation = SmoothWeightedRoundRobin(servers)
        return [rotation.pick().name for _ in range(n)]
    if algorithm == "first":
        return [servers[0].name] * n
    if algorithm == "source":
        return _ip_hash_preview(upstream, n, clients or ["127.0.0.1"])
    raise RoutingError(f"upstream {upstream.name!r} balances by {algorithm}: which server a request "
                       "reaches depends on its key or on chance, so there is no split to preview",
                       upstream.balance.span or upstream.span)


class SmoothWeightedRoundRobin:
    """nginx's peer selection: every pick adds each weight to its server's current weight,
    takes the highest (the first on ties) and subtracts the total from it. Weights 5,1,1 give
    a a b a c a a: spread out, not bunched."""

    def __init__(self, servers: list[Server]):
        self.servers = list(servers)
        self.current = [0] * len(self.servers)
        self.total = sum(s.weight for s in self.servers)

    def pick(self) -> Server:
        best = 0
        for i, server in enumerate(self.servers):
            self.current[i] += server.weight
            if self.current[i] > self.current[best]:
                best = i
        self.current[best] -= self.total
        return self.servers[best]


_IP_HASH_TRIES = 20


def _ip_hash_preview(upstream: Upstream, n: int, clients: list[str]) -> list[str]:
    # nginx hashes over every primary peer, down ones included (they make it rehash), and
    # falls back to round robin after 20 tries; backups are not allowed with ip_hash.
    peers = [s for s in upstream.servers if not s.backup]
    fallback = SmoothWeightedRoundRobin(usable_servers(upstream))
    picks = []
    for i in range(n):
        address = _client_address(clients[i % len(clients)])
        server = _ip_hash_pick(peers, address) if len(peers) > 1 else None
        picks.append((server or fallback.pick()).name)
    return picks


def _ip_hash_pick(peers: list[Server], address) -> Server | None:
    key = address.packed[:3] if address.version == 4 else address.packed
    total = sum(s.weight for s in peers)
    if total == 0:
        return None
    hash_value = 89
    for _ in range(_IP_HASH_TRIES):
        for byte in key:
            hash_value = (hash_value * 113 + byte) % 6271
        peer = _peer_at(peers, hash_value % total)
        if _usable(peer):
            return peer
    return None


def _peer_at(peers: list[Server], w: int) -> Server:
    for peer in peers:
        if w < peer.weight:
            return peer
        w -= peer.weight
    return peers[-1]  # unreachable: w < total weight


# ====================================================================== descriptions (trace, CLI)

_BARE_WORD = re.compile(r"[^\s\"'{}();#\\]+")


def _quote(value: str) -> str:
    if _BARE_WORD.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def describe_condition(cond) -> str:
    """A condition in DSL spelling, for traces and ``proxyc route``."""
    kind = cond.type
    values = " ".join(_quote(v) for v in getattr(cond, "values", []))
    if kind in ("path", "host"):
        nocase = " nocase" if getattr(cond, "ignore_case", False) else ""
        return f"{kind} {cond.op}{nocase} {values}"
    if kind == "header":
        if cond.op == "present":
            return f"header {_quote(cond.name)} present"
        nocase = " nocase" if cond.ignore_case else ""
        return f"header {_quote(cond.name)} {cond.op}{nocase} {values}"
    if kind in ("method", "source"):
        return f"{kind} {values}"
    if kind == "tls":
        return "tls"
    if kind == "acl":
        return cond.name
    if kind == "not":
        return f"not {_grouped(cond.item)}"
    joiner = " and " if kind == "all" else " or "
    return joiner.join(_grouped(item) for item in cond.items)


def _grouped(cond) -> str:
    text = describe_condition(cond)
    return f"({text})" if cond.type in ("all", "any") else text


def describe_action(action) -> str:
    kind = action.type
    if kind == "use":
        return f"use {action.upstream}"
    if kind == "deny":
        return f"deny {action.status}"
    if kind == "return":
        return f"return {action.status}" + (f" {_quote(action.body)}" if action.body else "")
    target = next((f"{k} {_quote(v)}" for k, v in (("location", action.location), ("scheme", action.scheme),
                                                    ("prefix", action.prefix)) if v is not None), "")
    return f"redirect {target} code {action.code}"


def describe_rule(rule) -> str:
    text = describe_action(rule.action)
    return text if rule.condition is None else f"{text} if {describe_condition(rule.condition)}"


def _where(span) -> str:
    return str(span) if span is not None else "<unknown location>"
