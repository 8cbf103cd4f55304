"""The request set that ``proxyc verify`` sends: generated from a frontend's rules.

Every matcher contributes candidate values for one *dimension* of a request (path, Host,
method, one dimension per header name, client address): values that hit it, and values that
just miss it (exact vs prefix, trailing slash, case, Host with and without a port, query
strings, percent-encoded and dot-segment paths, header present/absent, inside/outside a CIDR).
The request set is the cross product of the dimensions a frontend actually uses, so a rule
that combines matchers (``api and path prefix /v2/``) is hit as well as just missed.

Nothing here predicts an answer: ``proxyc.routing.route`` does that for every probe.
"""
from __future__ import annotations

import ipaddress
import itertools
import re
from dataclasses import dataclass, field

from .. import ir

try:  # the regex parser behind ``re``; its module name differs across Python versions
    import re._parser as _sre_parse  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse as _sre_parse  # type: ignore[no-redef]

DEFAULT_HOST = "localhost"
DEFAULT_PATH = "/"
UNMATCHED_PATH = "/proxyc-unmatched"
DEFAULT_SOURCE = "127.0.0.1"
OTHER_SOURCE = "127.0.0.2"
# Upper bound on probes per listener: the cross product grows fast with many host names.
MAX_PROBES = 1200
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@dataclass(frozen=True)
class Probe:
    """One request: where it is sent (frontend, its listener's original port) and what it is."""

    frontend: str
    port: int  # the listener's port in the original config (mapped to a scratch port later)
    tls: bool = False
    method: str = "GET"
    path: str = DEFAULT_PATH  # the raw request target, query included, sent byte for byte
    host: str = DEFAULT_HOST
    headers: tuple[tuple[str, str], ...] = ()
    source: str = DEFAULT_SOURCE
    tcp: bool = False  # an L4 frontend: connect and read which stub answers

    def describe(self) -> str:
        if self.tcp:
            return f"TCP connect to {self.frontend}:{self.port} from {self.source}"
        scheme = "https" if self.tls else "http"
        text = f"{self.method} {scheme}://{self.host}{self.path}"
        extras = [f"{k}: {v}" for k, v in self.headers]
        if self.source != DEFAULT_SOURCE:
            extras.append(f"from {self.source}")
        return text + (f" [{'; '.join(extras)}]" if extras else "")


@dataclass
class RequestSet:
    probes: list[Probe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ the frontend's matchers


def frontend_matchers(fe: ir.Frontend) -> list[ir.Node]:
    """Every leaf matcher a frontend's rules can evaluate, ACLs resolved, in rule order."""
    acls = {acl.name: acl.condition for acl in fe.acls}
    found: list[ir.Node] = []

    def walk(cond, seen: tuple[str, ...]) -> None:
        if cond is None:
            return
        if isinstance(cond, ir.AclRef):
            if cond.name in acls and cond.name not in seen:  # guard against ACL cycles
                walk(acls[cond.name], seen + (cond.name,))
        elif isinstance(cond, ir.Not):
            walk(cond.item, seen)
        elif isinstance(cond, (ir.All, ir.AnyOf)):
            for item in cond.items:
                walk(item, seen)
        else:
            found.append(cond)

    for rule in fe.rules:
        walk(rule.condition, ())
    return found


# ------------------------------------------------------------------ candidate values


def _add(pool: list, value) -> None:
    if value is not None and value not in pool:
        pool.append(value)


def _encode_first_letter(path: str) -> str | None:
    """``/api/`` → ``/%61pi/``: an encoded unreserved letter that nginx decodes before matching
    and HAProxy matches raw (unless normalize-uri)."""
    for i, ch in enumerate(path):
        if ch.isascii() and ch.isalpha():
            return f"{path[:i]}%{ord(ch):02X}{path[i + 1:]}"
    return None


def _path_variants(value: str, op: str) -> list[str]:
    """Hits and near misses for one path matcher value, hits first."""
    out: list[str] = []
    stem = value.rstrip("/") or "/"
    if op == "exact":
        for v in (value, value + "?q=1", value + "/" if not value.endswith("/") else stem,
                  value + "x", value.swapcase(), _encode_first_letter(value), "/" + value.lstrip("/") + "/x"):
            _add(out, v)
    elif op == "prefix":
        for v in (value, value + ("sub" if value.endswith("/") else "/sub"), value + "?q=1",
                  stem if value.endswith("/") else value + "/", value.swapcase(),
                  value[:-1] if len(value) > 1 else None, _encode_first_letter(value),
                  "/" + value if value.startswith("/") else None,  # //api: merged by nginx
                  "/x/.." + value if value.startswith("/") else None,  # dot segment
                  "/x" + value, "/?next=" + value.lstrip("/")):
            _add(out, v)
    elif op == "suffix":
        for v in ("/x" + value if not value.startswith("/") else value, "/x" + value + "?q=1",
                  "/x" + value.swapcase(), "/x" + value + "x", "/x" + value[:-1] if len(value) > 1 else None):
            _add(out, v if v is None or v.startswith("/") else "/" + v)
    return [v for v in out if v and v.startswith("/")]


def _regex_path_variants(pattern: str) -> list[str]:
    sample = regex_example(pattern)
    if sample is None:
        return []
    if not sample.startswith("/"):
        if pattern.startswith("^"):
            return []  # anchored at a non-slash start: no path can match
        sample = "/x" + ("/" if not sample else "") + sample
    out: list[str] = []
    for v in (sample, sample + "?q=1", sample.swapcase(), sample + "x", sample[:-1] or None, "/x" + sample):
        if v and v.startswith("/"):
            _add(out, v)
    return out


def _host_variants(value: str, op: str, port: int) -> list[str]:
    out: list[str] = []
    if op == "exact":
        variants = (value, f"{value}:{port}", value.upper(), "x" + value, value + "x")
    elif op == "suffix":
        bare = value.lstrip(".")
        variants = ("a" + value if value.startswith(".") else "a." + value, f"a.{bare}:{port}",
                    ("A" + value).upper(), bare if value.startswith(".") else None, "a" + bare + "x")
    elif op == "prefix":
        variants = (value + "x", f"{value}x:{port}", value[:-1] or None, "x" + value)
    else:  # regex
        sample = regex_example(value)
        variants = (sample, f"{sample}:{port}" if sample else None, sample.upper() if sample else None,
                    (sample + "x") if sample else None)
    for v in variants:
        if v and _safe_header_value(v):
            _add(out, v)
    return out


def _header_variants(m: ir.HeaderMatch) -> list[str | None]:
    """Values for one header; None means the header is absent."""
    out: list[str | None] = [None]
    for value in m.values or [""]:
        if m.op == "present":
            variants = ["1"]
        elif m.op == "exact":
            variants = [value, value.swapcase(), value + "x"]
        elif m.op == "prefix":
            variants = [value + "x", value.swapcase() + "x", value[:-1]]
        elif m.op == "suffix":
            variants = ["x" + value, "x" + value.swapcase(), value[1:]]
        elif m.op == "contains":
            variants = ["x" + value + "x", "x" + value.swapcase() + "x", "x"]
        else:
            sample = regex_example(value)
            variants = [sample, sample.swapcase() if sample else None, (sample or "") + "x"]
        for v in variants:
            if v is not None and _safe_header_value(v):
                _add(out, v)
    return out


def _method_variants(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        _add(out, v.upper())
    # One method that none of the matchers names: the "just missed" request.
    _add(out, next(m for m in ("POST", "DELETE", "PATCH", "PUT", "OPTIONS") if m not in out))
    return out


def _source_variants(values: list[str], notes: list[str]) -> list[str]:
    """Loopback client addresses inside and outside each CIDR. Ranges that do not overlap
    127.0.0.0/8 cannot be used as a source here; requests from outside them are still sent."""
    networks = []
    for v in values:
        try:
            net = ipaddress.ip_network(v, strict=False)
        except ValueError:
            notes.append(f"source {v!r} is not an address or CIDR; skipped")
            continue
        if net.version != 4 or not net.overlaps(LOOPBACK):
            notes.append(f"source {v}: addresses in it cannot be used on loopback; only clients outside it are tried")
            continue
        networks.append(net)
    out: list[str] = []
    for net in networks:
        inside = net.network_address if net.prefixlen >= 31 else net.network_address + 1
        if inside not in LOOPBACK:  # e.g. 0.0.0.0/0: take a loopback address inside it
            inside = ipaddress.ip_address(DEFAULT_SOURCE)
        _add(out, str(inside))
    outside = next((str(a) for a in _loopback_candidates() if not any(a in n for n in networks)), None)
    if outside is None:
        notes.append("every loopback address is inside the source ranges; no outside client can be tried")
    _add(out, outside)
    return out


def _loopback_candidates():
    for last in (2, 3, 4):
        yield ipaddress.ip_address(f"127.0.0.{last}")
    for second in (1, 2, 100, 255):
        yield ipaddress.ip_address(f"127.{second}.0.1")


def _safe_header_value(value: str) -> bool:
    return not any(c in value for c in "\r\n\0") and value.isascii()


# ------------------------------------------------------------------ regex samples


def regex_example(pattern: str, flags: int = 0) -> str | None:
    """A short string that ``pattern`` matches (re.search), or None when none is found.
    Walks Python's parse of the pattern: PCRE-style patterns in configs parse the same way."""
    try:
        parsed = _sre_parse.parse(pattern, flags)
        sample = _emit(parsed)
    except (re.error, _Unsupported, RecursionError, OverflowError, TypeError, ValueError):
        return None
    try:
        return sample if re.search(pattern, sample, flags) else None
    except re.error:
        return None


class _Unsupported(Exception):
    pass


_CATEGORY_SAMPLE = {
    "CATEGORY_DIGIT": "0", "CATEGORY_NOT_DIGIT": "a", "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": "-",
    "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a",
}


def _emit(items) -> str:
    return "".join(_emit_one(op, av) for op, av in items)


def _emit_one(op, av) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(av)
    if name == "NOT_LITERAL":
        return "a" if av != ord("a") else "b"
    if name == "ANY":
        return "a"
    if name == "IN":
        return _emit_class(av)
    if name == "BRANCH":
        return _emit(av[1][0])
    if name == "SUBPATTERN":
        return _emit(av[-1])
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, item = av
        return _emit(item) * low
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return ""
    if name == "CATEGORY":
        return _CATEGORY_SAMPLE.get(str(av), "a")
    raise _Unsupported(name)


def _emit_class(items) -> str:
    if items and str(items[0][0]) == "NEGATE":
        rest = items[1:]
        for ch in "a0_-xZ":
            if not _class_contains(rest, ch):
                return ch
        raise _Unsupported("negated class")
    op, av = items[0]
    name = str(op)
    if name == "LITERAL":
        return chr(av)
    if name == "RANGE":
        return chr(av[0])
    if name == "CATEGORY":
        return _CATEGORY_SAMPLE.get(str(av), "a")
    raise _Unsupported(name)


def _class_contains(items, ch: str) -> bool:
    code = ord(ch)
    for op, av in items:
        name = str(op)
        if name == "LITERAL" and av == code:
            return True
        if name == "RANGE" and av[0] <= code <= av[1]:
            return True
        if name == "CATEGORY" and _CATEGORY_SAMPLE.get(str(av)) == ch:
            return True
    return False


# ------------------------------------------------------------------ the request set


@dataclass
class _Dimensions:
    """Candidate values per request dimension, defaults first, in first-seen order."""

    paths: list[str] = field(default_factory=lambda: [DEFAULT_PATH, UNMATCHED_PATH])
    hosts: list[str] = field(default_factory=lambda: [DEFAULT_HOST])
    methods: list[str] = field(default_factory=lambda: ["GET"])
    headers: dict[str, list[str | None]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=lambda: [DEFAULT_SOURCE])

    def size(self) -> int:
        total = len(self.paths) * len(self.hosts) * len(self.methods) * len(self.sources)
        for values in self.headers.values():
            total *= len(values)
        return total

    def trim_largest(self) -> None:
        """Drop the last candidate of the largest pool (its most remote near-miss)."""
        pools = [self.paths, self.hosts, self.methods, self.sources, *self.headers.values()]
        largest = max(pools, key=len)
        largest.pop()


def as_request_target(path: str) -> str:
    """A path as a client sends it: ``#`` starts a fragment that never reaches the server, and
    spaces, control and non-ASCII characters cannot appear raw, so all are percent-encoded."""
    out = []
    for ch in path:
        if ch == "#" or not ch.isascii() or not ch.isprintable() or ch.isspace():
            out.append("".join(f"%{b:02X}" for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


def _dimensions(fe: ir.Frontend, port: int, notes: list[str]) -> _Dimensions:
    dims = _Dimensions()
    for m in frontend_matchers(fe):
        if isinstance(m, ir.PathMatch):
            for value in m.values:
                variants = _regex_path_variants(value) if m.op == "regex" else _path_variants(value, m.op)
                if m.op == "regex" and not variants:
                    notes.append(f"no sample path could be derived from regex {value!r}")
                for v in variants:
                    _add(dims.paths, as_request_target(v))
        elif isinstance(m, ir.HostMatch):
            for value in m.values:
                for v in _host_variants(value, m.op, port):
                    _add(dims.hosts, v)
        elif isinstance(m, ir.MethodMatch):
            for v in _method_variants(m.values):
                _add(dims.methods, v)
        elif isinstance(m, ir.HeaderMatch):
            pool = dims.headers.setdefault(m.name.lower(), [])
            for v in _header_variants(m):
                _add(pool, v)
        elif isinstance(m, ir.SourceMatch):
            for v in _source_variants(m.values, notes):
                _add(dims.sources, v)
    if any(isinstance(a, ir.Redirect) for a in _actions(fe)):
        # A redirect's Location carries the Host (with or without a port) and the query.
        _add(dims.hosts, f"{DEFAULT_HOST}:{port}")
        _add(dims.paths, "/a/b?q=1&r=%2F")
    return dims


def _actions(fe: ir.Frontend) -> list:
    return [rule.action for rule in fe.rules] + ([fe.default] if fe.default is not None else [])


def _listeners(fe: ir.Frontend) -> list[ir.Listen]:
    """One listener per kind (plain, TLS): the others of a kind behave the same."""
    chosen: dict[bool, ir.Listen] = {}
    for lst in fe.listens:
        chosen.setdefault(lst.tls is not None, lst)
    return [chosen[k] for k in sorted(chosen)]


def _header_names(fe: ir.Frontend) -> dict[str, str]:
    """Lower-case header name → the spelling the config uses (sent as written)."""
    names: dict[str, str] = {}
    for m in frontend_matchers(fe):
        if isinstance(m, ir.HeaderMatch):
            names.setdefault(m.name.lower(), m.name)
    return names


def frontend_requests(fe: ir.Frontend, mode: str) -> RequestSet:
    """The probes for one frontend (every kind of listener it has)."""
    result = RequestSet()
    for lst in _listeners(fe):
        tls = lst.tls is not None
        if mode == "tcp":
            result.probes += [Probe(fe.name, lst.port, tls=tls, tcp=True)]
            continue
        if fe.stats is not None:
            result.probes.append(Probe(fe.name, lst.port, tls=tls, path=fe.stats.uri))
            continue
        dims = _dimensions(fe, lst.port, result.notes)
        full = dims.size()
        while dims.size() > MAX_PROBES:
            dims.trim_largest()
        if dims.size() < full:
            result.notes.append(f"frontend {fe.name}: {full} candidate requests, trimmed to {dims.size()}")
        result.probes += _cross_product(fe, lst.port, tls, dims)
    return result


def _cross_product(fe: ir.Frontend, port: int, tls: bool, dims: _Dimensions) -> list[Probe]:
    spelled = _header_names(fe)
    header_keys = sorted(dims.headers)
    probes = []
    for path, host, method, source, *values in itertools.product(
            dims.paths, dims.hosts, dims.methods, dims.sources, *(dims.headers[k] for k in header_keys)):
        headers = tuple((spelled[k], v) for k, v in zip(header_keys, values) if v is not None)
        probes.append(Probe(fe.name, port, tls=tls, method=method, path=path, host=host,
                            headers=headers, source=source))
    return probes


def frontend_mode(cfg: ir.Config, fe: ir.Frontend) -> str:
    return fe.mode or cfg.defaults.mode


def request_set(cfg: ir.Config) -> RequestSet:
    """Probes for every frontend that has a listener, in config order."""
    total = RequestSet()
    for fe in cfg.frontends:
        part = frontend_requests(fe, frontend_mode(cfg, fe))
        total.probes += part.probes
        total.notes += part.notes
    return total
