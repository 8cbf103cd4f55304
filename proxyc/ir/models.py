"""The neutral description of a proxy that every dialect reads into and writes from.

Meaning is defined here, once (DESIGN §2): a frontend's ``rules`` are evaluated in order, the
first whose condition holds decides, otherwise ``default``. Writers must reproduce exactly that.

Durations are integers in milliseconds; writers pick the largest unit that divides them.
Names (frontends, upstreams, ACLs, servers) are plain strings validated in ``validate.py``.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from .base import Field, Node, PrivateAttr

Mode = Literal["http", "tcp"]
Millis = int

# ---------------------------------------------------------------- conditions


class PathMatch(Node):
    """The request path (without the query string). nginx matches it normalised, HAProxy raw."""

    type: Literal["path"] = "path"
    op: Literal["exact", "prefix", "suffix", "regex"]
    values: list[str]
    ignore_case: bool = False


class HostMatch(Node):
    """The Host header without its port, compared case-insensitively."""

    type: Literal["host"] = "host"
    op: Literal["exact", "prefix", "suffix", "regex"]
    values: list[str]


class MethodMatch(Node):
    type: Literal["method"] = "method"
    values: list[str]


class HeaderMatch(Node):
    """A request header; ``present`` needs no values."""

    type: Literal["header"] = "header"
    name: str
    op: Literal["exact", "prefix", "suffix", "contains", "regex", "present"]
    values: list[str] = Field(default_factory=list)
    ignore_case: bool = False


class SourceMatch(Node):
    """The client address, as CIDRs or single addresses."""

    type: Literal["source"] = "source"
    values: list[str]


class TlsMatch(Node):
    """True when the client connection is TLS (HAProxy ``ssl_fc``, nginx ``$https``)."""

    type: Literal["tls"] = "tls"


class AclRef(Node):
    type: Literal["acl"] = "acl"
    name: str


class Not(Node):
    type: Literal["not"] = "not"
    item: Condition


class All(Node):
    type: Literal["all"] = "all"
    items: list[Condition]


class AnyOf(Node):
    type: Literal["any"] = "any"
    items: list[Condition]


Matcher = Union[PathMatch, HostMatch, MethodMatch, HeaderMatch, SourceMatch, TlsMatch]
Condition = Annotated[
    Union[PathMatch, HostMatch, MethodMatch, HeaderMatch, SourceMatch, TlsMatch, AclRef, Not, All, AnyOf],
    Field(discriminator="type"),
]

# ---------------------------------------------------------------- actions


class UseUpstream(Node):
    type: Literal["use"] = "use"
    upstream: str


class Redirect(Node):
    """Exactly one of ``location`` (a full target), ``scheme`` (same host and URI, other
    scheme) or ``prefix`` (the prefix put before the original URI) is set."""

    type: Literal["redirect"] = "redirect"
    code: int = 302
    location: str | None = None
    scheme: str | None = None
    prefix: str | None = None


class Return(Node):
    type: Literal["return"] = "return"
    status: int
    body: str = ""
    content_type: str = "text/plain"


class Deny(Node):
    type: Literal["deny"] = "deny"
    status: int = 403


Action = Annotated[Union[UseUpstream, Redirect, Return, Deny], Field(discriminator="type")]

# ---------------------------------------------------------------- frontends


class Acl(Node):
    name: str
    condition: Condition


class Rule(Node):
    """``condition`` None means always; only the last rule may sensibly be unconditional."""

    condition: Condition | None = None
    action: Action


class Tls(Node):
    cert: str
    key: str | None = None  # None: the key is inside the certificate file (HAProxy's PEM)


class Listen(Node):
    address: str | None = None  # None: every address ("*")
    port: int
    tls: Tls | None = None
    default_server: bool = False


class HeaderOp(Node):
    action: Literal["set", "add", "delete"]
    name: str
    value: str | None = None


class StatsUser(Node):
    user: str
    password: str


class Stats(Node):
    uri: str = "/"
    refresh: Millis | None = None
    users: list[StatsUser] = Field(default_factory=list)
    realm: str | None = None


class Timeouts(Node):
    connect: Millis | None = None
    client: Millis | None = None
    server: Millis | None = None
    http_request: Millis | None = None
    queue: Millis | None = None
    tunnel: Millis | None = None
    check: Millis | None = None


class Raw(Node):
    """Text for one target, emitted verbatim by that target and reported as not portable by
    the others. On a frontend or upstream it goes inside that proxy's block (nginx ``server``
    or ``upstream``, HAProxy section). On the config, ``context`` says where: nginx ``main``,
    ``http`` or ``stream``; HAProxy ``global``, ``defaults`` or ``sections`` (whole sections)."""

    target: Literal["nginx", "haproxy"]
    text: str
    context: Literal["main", "http", "stream", "global", "defaults", "sections"] | None = None


class Frontend(Node):
    name: str
    mode: Mode | None = None  # None: the defaults' mode
    listens: list[Listen] = Field(default_factory=list)
    acls: list[Acl] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    default: Action | None = None
    request_headers: list[HeaderOp] = Field(default_factory=list)
    response_headers: list[HeaderOp] = Field(default_factory=list)
    forwardfor: bool = False
    normalize_uri: bool = False
    stats: Stats | None = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    raw: list[Raw] = Field(default_factory=list)


# ---------------------------------------------------------------- upstreams

Algorithm = Literal["round_robin", "least_conn", "source", "hash", "random", "first"]


class Balance(Node):
    algorithm: Algorithm = "round_robin"
    # For ``hash``: what is hashed. ``header``/``cookie``/``param`` take ``key_name``.
    key: Literal["uri", "header", "cookie", "param"] | None = None
    key_name: str | None = None
    consistent: bool = False
    # For ``random``: pick the less loaded of N random servers ("power of two choices").
    choices: int | None = None


class HttpCheck(Node):
    method: str = "GET"
    path: str = "/"
    expect_status: int | None = None
    host: str | None = None


class HealthCheck(Node):
    interval: Millis | None = None
    rise: int | None = None
    fall: int | None = None
    timeout: Millis | None = None
    http: HttpCheck | None = None


class Passive(Node):
    max_fails: int | None = None
    fail_timeout: Millis | None = None


class Server(Node):
    name: str
    host: str
    port: int | None = None  # None: nginx uses 80, HAProxy the client's port
    weight: int = 1
    backup: bool = False
    down: bool = False
    check: bool = False
    max_conns: int | None = None
    slow_start: Millis | None = None
    cookie: str | None = None
    count: int | None = None  # a DNS name expanded to up to N servers at run time


class Upstream(Node):
    name: str
    mode: Mode | None = None
    balance: Balance = Field(default_factory=Balance)
    servers: list[Server] = Field(default_factory=list)
    health: HealthCheck | None = None
    passive: Passive | None = None
    resolver: str | None = None
    sticky_cookie: str | None = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    raw: list[Raw] = Field(default_factory=list)


# ---------------------------------------------------------------- the whole config


class Nameserver(Node):
    name: str
    address: str
    port: int = 53


class Resolver(Node):
    name: str
    nameservers: list[Nameserver]
    hold_valid: Millis | None = None
    timeout: Millis | None = None
    retries: int | None = None


class Log(Node):
    target: Literal["stdout", "stderr", "syslog"]
    address: str | None = None  # syslog only: host[:port]
    facility: str | None = None
    level: str | None = None


class Defaults(Node):
    mode: Mode = "http"
    timeouts: Timeouts = Field(default_factory=Timeouts)
    forwardfor: bool = False
    log: bool = False  # log requests to the global log targets


class Config(Node):
    defaults: Defaults = Field(default_factory=Defaults)
    logs: list[Log] = Field(default_factory=list)
    resolvers: list[Resolver] = Field(default_factory=list)
    frontends: list[Frontend] = Field(default_factory=list)
    upstreams: list[Upstream] = Field(default_factory=list)
    raw: list[Raw] = Field(default_factory=list)
    _index: dict = PrivateAttr(default_factory=dict)

    def upstream(self, name: str) -> Upstream | None:
        """The upstream called ``name`` (the first, if duplicated), in constant time: writers
        look one up per rule, and a linear search made 10,000-route configs quadratic."""
        return _lookup(self, "upstreams", name)

    def frontend(self, name: str) -> Frontend | None:
        return _lookup(self, "frontends", name)


def _lookup(cfg: Config, field: str, name: str):
    """A name index over ``cfg.<field>``, rebuilt whenever the list has changed since it was
    made (another list, another length, or an entry renamed), so edits never see a stale one."""
    items = getattr(cfg, field)
    index = cfg._index.get(field)
    node = index[1].get(name) if index is not None and index[0] is items and index[2] == len(items) else None
    if node is not None and node.name == name:
        return node
    built: dict = {}
    for item in items:
        built.setdefault(item.name, item)
    cfg._index[field] = (items, built, len(items))
    return built.get(name)

