"""Hostile strings in every string field of the IR (issue 5: no injection, DESIGN §9).

For each field (names, hosts, matcher values, regexes, header names and values, redirect
targets, return bodies, content types, certificate paths, stats settings, resolver and log
settings, cookie and hash key names), hypothesis draws hostile strings — ``;``, braces, ``#``,
quotes, backslashes, blanks, line breaks, NUL and every other control character, ``$``, ``${X}``,
``%[``, RTL marks, U+2028, long strings — and puts them, one probe per value, into a config
built from an example. For every value one of these holds:

* ``validate`` refuses it, or the writer reports an error located at that value's node;
* or the output reads back with our own reader to the same value, byte for byte (the DSL: the
  whole config, ``read(write(cfg)) == cfg``), and the real ``nginx -t`` / ``haproxy -c -dW``
  accepts it (after ``servers_to_loopback``).

The real servers are slow to start (``haproxy -c`` loads the system CA store: ~0.2 s), so the
values a writer accepted are collected and checked many at a time: one probe frontend per
value in one config; a rejected batch is split in halves until the offending values are found.

Where a reader cannot give a field back by design (nginx has no names for server blocks, keeps
a route map as raw text, ...), the field says so and why; those values are still written and
checked by the real server. ``pytest -s`` prints, per field and target, how many values were
tried, refused, read back and checked.

Regexes are also checked in the servers' dialect (PCRE2): see the table at the end.
"""
from __future__ import annotations

import ipaddress
import re
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxyc import ir
from proxyc.checkers import check_haproxy, check_nginx, test_certificate_files
from proxyc.dialects.haproxy import reader as haproxy_reader
from proxyc.dialects.haproxy import writer as haproxy_writer
from proxyc.dialects.nginx import reader as nginx_reader
from proxyc.dialects.nginx import writer as nginx_writer
from proxyc.dialects.pxc import reader as pxc_reader
from proxyc.dialects.pxc import writer as pxc_writer
from proxyc.validate import validate
from proxyc.verify.loopback import servers_to_loopback

try:  # tests/ as a plain directory (rootdir-relative) or as a package
    import strategies
    from golden_cases import EXAMPLES
    from helpers import require_binary
except ImportError:  # pragma: no cover
    from tests import strategies
    from tests.golden_cases import EXAMPLES
    from tests.helpers import require_binary

TARGETS = ("pxc", "nginx", "haproxy")
EXAMPLES_PER_FIELD = 20  # hypothesis examples per field and target; each draws 1-4 values
VALUES_PER_EXAMPLE = 4
CHECK_BATCH = 80  # values per real-server check
PROBE_FILE = "<hostile probe>"  # the span file of every node a probe adds; line = probe number
FIRST_PROBE_PORT = 20000
# nginx refuses a token longer than its 4 KiB read buffer (see test_nginx_token_longer_than_4k);
# long values stay below that even when every character is escaped as \x{1f} in a route map.
LONG = 600

# ------------------------------------------------------------------------------ hostile strings

CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f"
UNICODE_TRAPS = "\u200e\u200f\u202a\u202e\u2066\u2028\u2029\u200b\ufeff\x85\u00a0é日"
SYNTAX = ";{}#\"'\\ \t$%[]()`|&<>*?~^=,"
SPECIMENS = (
    "${X}", "$host", "$1", "%[src]", "%[req.hdr(host)]", "%%", "a;b", "}{", "};", "{}", "# x",
    "\\", "\\\\", "\\n", "\\x00", "'", '"', "''", "x'y\"z", "a\tb", "a\r\nb: c", "\r", "\n", "\0",
    "a\0b", "\u202egnp.exe", "\u2028", "\u200f\u200e", "\x1b[31m", "include /etc/passwd;",
    "}\nserver { listen 9999; }\n#", "\nbackend evil\n", "\" ; deny all; #", "'; return 200 pwned; '",
    "if", "unless", "default", "-dash", ".dot", "~tilde", "=eq", "^~", "@named", "/", "", " ",
)


@cache
def hostile() -> st.SearchStrategy[str]:
    """Any string, biased towards those that have broken config writers."""
    tricky = st.text(alphabet=CONTROL + UNICODE_TRAPS + SYNTAX + "aZ09", max_size=12)
    long = st.builds(lambda unit, n: (unit * n)[:LONG], st.text(alphabet=SYNTAX + UNICODE_TRAPS + "ab/", min_size=1,
                                                                   max_size=6), st.integers(50, LONG))
    return st.one_of(st.sampled_from(SPECIMENS), strategies.hostile_text(allow_nul=True), tricky, long)


@cache
def hostile_lower() -> st.SearchStrategy[str]:
    return strategies.lower_stable(hostile())


@cache
def hostile_upper() -> st.SearchStrategy[str]:
    return strategies.upper_stable(hostile())


@cache
def hostile_path() -> st.SearchStrategy[str]:
    """Hostile text, and hostile text after a leading '/' (what a real path looks like)."""
    return st.one_of(hostile(), hostile().map("/".__add__))


@cache
def hostile_url() -> st.SearchStrategy[str]:
    """Hostile text, and hostile text after a scheme and host or inside a host."""
    return st.one_of(hostile(), hostile().map("https://example.com/".__add__), hostile().map("https://".__add__))


@cache
def hostile_regex() -> st.SearchStrategy[str]:
    """Hostile text as a regex (most do not compile: validate refuses those), and valid
    regexes made of hostile text."""
    return st.one_of(hostile(), strategies.regexes())


@cache
def hostile_file_name() -> st.SearchStrategy[str]:
    """Hostile text that is one relative file name, so the checkers can be given the file."""
    return hostile().filter(lambda v: "/" not in v and v not in ("", ".", "..") and len(v.encode()) < 200)


# ------------------------------------------------------------------------------ fields

Place = Callable[[ir.Config, int, str], list[ir.Node]]


@dataclass(frozen=True)
class Loss:
    """Why a target's reader cannot give a field back by design, for the values ``applies``
    to: ``applies(value, text, probe)`` sees the written text and the probe's number."""

    reason: str
    applies: Callable[[str, str, int], bool] = lambda value, text, probe: True


def route_map(value: str, text: str, probe: int) -> bool:
    """Did the nginx writer route this probe's frontend through a route map (DESIGN §2)?"""
    return f"$pxc_route_probe{probe}" in text


@dataclass(frozen=True)
class Field:
    """One string field of the IR, and how to put a hostile value into it.

    ``place`` adds probe number ``index`` carrying ``value`` to a config and returns the nodes it
    added; ``harvest`` lists every value of this field found in a (read back) config. ``lost``
    maps a target to why its reader cannot give (some) values back; ``files`` gives the
    checkers the files the values name (certificates); ``fold`` is applied to both sides before
    comparing what a reader gives back (header names are case-insensitive)."""

    name: str
    place: Place
    harvest: Callable[[ir.Config], list[str]]
    values: Callable[[], st.SearchStrategy[str]] = hostile
    example: str = "nginx-lab1-round-robin"
    lost: dict[str, Loss] = field(default_factory=dict)
    files: Callable[[list[str]], dict[str, bytes]] | None = None
    fold: Callable[[str], str] = str  # what a reader may normalise (header names: case)


def collect(node_type: type, attribute: str, when: Callable[[ir.Node], bool] = lambda node: True):
    """A harvest: every ``attribute`` of every ``node_type`` node (lists flattened)."""

    def harvest(cfg: ir.Config) -> list[str]:
        found: list[str] = []
        for node in ir.iter_nodes(cfg):
            if isinstance(node, node_type) and when(node):
                value = getattr(node, attribute)
                found.extend(value if isinstance(value, list) else [] if value is None else [value])
        return found

    return harvest


def base_upstream(cfg: ir.Config) -> str:
    return cfg.upstreams[0].name


def probe_frontend(cfg: ir.Config, index: int, **fields) -> ir.Frontend:
    """A frontend of its own for probe ``index``, on its own loopback port; by default it
    sends everything to the example's first upstream."""
    fields.setdefault("default", ir.UseUpstream(upstream=base_upstream(cfg)))
    fields.setdefault("name", f"probe{index}")
    listen = ir.Listen(address="127.0.0.1", port=FIRST_PROBE_PORT + index)
    fe = ir.Frontend(listens=fields.pop("listens", [listen]), **fields)
    cfg.frontends.append(fe)
    return fe


def rule_frontend(condition: Callable[[str], ir.Condition], action: Callable[[ir.Config, str], ir.Node] | None = None
                  ) -> Place:
    """A probe frontend whose one rule has the value in its condition (or its action)."""

    def place(cfg: ir.Config, index: int, value: str) -> list[ir.Node]:
        act = action(cfg, value) if action else ir.UseUpstream(upstream=base_upstream(cfg))
        rule = ir.Rule(condition=condition(value), action=act)
        return [probe_frontend(cfg, index, rules=[rule], default=ir.Return(status=404))]

    return place


def action_frontend(action: Callable[[str], ir.Node]) -> Place:
    """A probe frontend whose rule for ``/probe`` carries the value in its action."""
    return rule_frontend(lambda value: ir.PathMatch(op="exact", values=["/probe"]), lambda cfg, value: action(value))


def frontend_with(**make: Callable[[str], object]) -> Place:
    """A probe frontend with fields computed from the value."""

    def place(cfg: ir.Config, index: int, value: str) -> list[ir.Node]:
        return [probe_frontend(cfg, index, **{key: build(value) for key, build in make.items()})]

    return place


def probe_upstream(**make: Callable[[str], object]) -> Place:
    """A probe upstream (fields computed from the value) and a probe frontend that uses it."""

    def place(cfg: ir.Config, index: int, value: str) -> list[ir.Node]:
        fields = {key: build(value) for key, build in make.items()}
        fields.setdefault("name", f"probe_pool{index}")
        fields.setdefault("servers", [ir.Server(name="s1", host="127.0.0.1", port=8000)])
        up = ir.Upstream(**fields)
        cfg.upstreams.append(up)
        return [up, probe_frontend(cfg, index, default=ir.UseUpstream(upstream=up.name))]

    return place


def probe_resolver(**make: Callable[[str], object]) -> Place:
    """A resolvers section (fields computed from the value) used by a probe upstream."""

    def place(cfg: ir.Config, index: int, value: str) -> list[ir.Node]:
        fields = {key: build(value) for key, build in make.items()}
        fields.setdefault("name", f"dns{index}")
        fields.setdefault("nameservers", [ir.Nameserver(name="dns", address="127.0.0.1", port=53)])
        resolver = ir.Resolver(**fields)
        cfg.resolvers.append(resolver)
        server = ir.Server(name="s1", host="app.internal", port=8000, count=2)
        return [resolver, *probe_upstream(resolver=lambda v: resolver.name, servers=lambda v: [server])(cfg, index, value)]

    return place


def probe_log(**make: Callable[[str], object]) -> Place:
    def place(cfg: ir.Config, index: int, value: str) -> list[ir.Node]:
        log = ir.Log(**{key: build(value) for key, build in make.items()})
        cfg.logs.append(log)
        return [log]

    return place


def tls_files(values: list[str], *, as_key: bool) -> dict[str, bytes]:
    """A certificate (and key) under each value's name, plus the fixed ones the probes use."""
    pair = test_certificate_files("site")
    files = dict(pair)
    for value in values:
        files[value] = pair["site.key"] if as_key else pair["site.pem"]
    return files


ROUTE_MAP = Loss("nginx routes this frontend through a route map, which the nginx reader keeps as raw text",
                 route_map)
ROUTE_MAP_OR_CATCH_ALL = Loss(
    ROUTE_MAP.reason + "; a prefix '/' matches every request, so nginx's location / reads back as the default",
    lambda value, text, probe: value == "/" or route_map(value, text, probe))
NO_SERVER_NAME = Loss("nginx has no name for a server block; the reader makes one up")
NO_UPSTREAM_SERVER_NAME = Loss("nginx has no name for an upstream server; the reader makes one up")
NO_RESOLVER_NAME = Loss("nginx's resolver directive has no name")
NO_ACLS = Loss("nginx has no named conditions; the writer expands ACLs")
NO_STICKY = Loss("nginx (open source) has no sticky cookie")
NO_HEALTH = Loss("nginx (open source) has no active health checks")
STUB_STATUS = Loss("nginx serves stats with stub_status, which has no uri setting")
NO_AUTH = Loss("nginx's auth_basic needs a password file nginx.conf cannot hold: the writer makes the stats page "
               "answer 403 (P001)")
ONE_PEM = Loss("HAProxy takes certificate and key in one PEM file: the writer combines them")
_SCHEME_HOST = re.compile(r"https?://[^$/?#\\\s\"']+")
PREFIX_REDIRECT = Loss("the nginx reader reads a prefix redirect back only as scheme://host$request_uri",
                       lambda value, text, probe: not _SCHEME_HOST.fullmatch(value))


def _path(op: str, ignore_case: bool = False) -> Callable[[str], ir.Condition]:
    return lambda value: ir.PathMatch(op=op, values=[value], ignore_case=ignore_case)


def _header_op(kind: str, action: str, *, name: Callable[[str], str], value: Callable[[str], str | None]) -> Place:
    def place(cfg: ir.Config, index: int, text: str) -> list[ir.Node]:
        op = ir.HeaderOp(action=action, name=name(text), value=value(text))
        return [probe_frontend(cfg, index, **{kind: [op]})]

    return place


def _stats(**make: Callable[[str], object]) -> Place:
    def place(cfg: ir.Config, index: int, value: str) -> list[ir.Node]:
        stats = ir.Stats(**{key: build(value) for key, build in make.items()})
        return [probe_frontend(cfg, index, stats=stats, default=None)]

    return place


def _balance(key: str) -> Place:
    return probe_upstream(balance=lambda v: ir.Balance(algorithm="hash", key=key, key_name=v))


def _health(**make: Callable[[str], object]) -> Place:
    return probe_upstream(health=lambda v: ir.HealthCheck(interval=2000, http=ir.HttpCheck(
        **{key: build(v) for key, build in make.items()})))


def _listen(**tls: Callable[[str], str | None]) -> Place:
    def place(cfg: ir.Config, index: int, value: str) -> list[ir.Node]:
        listen = ir.Listen(address="127.0.0.1", port=FIRST_PROBE_PORT + index,
                           tls=ir.Tls(**{key: build(value) for key, build in tls.items()}))
        return [probe_frontend(cfg, index, listens=[listen])]

    return place


FIELDS = (
    # ---------------------------------------------------------------- names
    Field("frontend name", frontend_with(name=str), collect(ir.Frontend, "name"),
          lost={"nginx": NO_SERVER_NAME}),
    Field("upstream name", probe_upstream(name=str), collect(ir.Upstream, "name")),
    Field("server name", probe_upstream(servers=lambda v: [ir.Server(name=v, host="127.0.0.1", port=8000)]),
          collect(ir.Server, "name"), lost={"nginx": NO_UPSTREAM_SERVER_NAME}),
    Field("acl name", lambda cfg, i, v: [probe_frontend(
        cfg, i, acls=[ir.Acl(name=v, condition=ir.PathMatch(op="prefix", values=["/acl"]))],
        rules=[ir.Rule(condition=ir.AclRef(name=v), action=ir.Return(status=200))])],
          collect(ir.Acl, "name"), lost={"nginx": NO_ACLS}),
    Field("resolver name", probe_resolver(name=str), collect(ir.Resolver, "name"), example="docker-dns-alias",
          lost={"nginx": NO_RESOLVER_NAME}),
    Field("nameserver name", probe_resolver(nameservers=lambda v: [ir.Nameserver(name=v, address="127.0.0.1")]),
          collect(ir.Nameserver, "name"), example="docker-dns-alias",
          lost={"nginx": NO_RESOLVER_NAME}),
    # ---------------------------------------------------------------- addresses
    Field("server host", probe_upstream(servers=lambda v: [ir.Server(name="s1", host=v, port=8000)]),
          collect(ir.Server, "host")),
    Field("listen address", lambda cfg, i, v: [probe_frontend(
        cfg, i, listens=[ir.Listen(address=v, port=FIRST_PROBE_PORT + i)])], collect(ir.Listen, "address")),
    Field("nameserver address", probe_resolver(nameservers=lambda v: [ir.Nameserver(name="dns", address=v)]),
          collect(ir.Nameserver, "address"), example="docker-dns-alias"),
    Field("source match", rule_frontend(lambda v: ir.SourceMatch(values=[v])), collect(ir.SourceMatch, "values"),
          lost={"nginx": ROUTE_MAP}),
    # ---------------------------------------------------------------- matchers
    Field("path exact", rule_frontend(_path("exact")), collect(ir.PathMatch, "values", lambda n: n.op == "exact"),
          values=hostile_path, lost={"nginx": ROUTE_MAP}),
    Field("path prefix", rule_frontend(_path("prefix")), collect(ir.PathMatch, "values", lambda n: n.op == "prefix"),
          values=hostile_path, lost={"nginx": ROUTE_MAP_OR_CATCH_ALL}),
    Field("path suffix", rule_frontend(_path("suffix")), collect(ir.PathMatch, "values", lambda n: n.op == "suffix"),
          lost={"nginx": ROUTE_MAP}),
    Field("path prefix nocase", rule_frontend(_path("prefix", ignore_case=True)),
          collect(ir.PathMatch, "values", lambda n: n.op == "prefix"), lost={"nginx": ROUTE_MAP}),
    Field("path regex", rule_frontend(_path("regex")), collect(ir.PathMatch, "values", lambda n: n.op == "regex"),
          values=hostile_regex, lost={"nginx": ROUTE_MAP}),
    Field("host exact", rule_frontend(lambda v: ir.HostMatch(op="exact", values=[v])),
          collect(ir.HostMatch, "values"), values=hostile_lower, lost={"nginx": ROUTE_MAP}),
    Field("host suffix", rule_frontend(lambda v: ir.HostMatch(op="suffix", values=[v])),
          collect(ir.HostMatch, "values"), values=hostile_lower, lost={"nginx": ROUTE_MAP}),
    Field("host regex", rule_frontend(lambda v: ir.HostMatch(op="regex", values=[v])),
          collect(ir.HostMatch, "values"), values=lambda: strategies.lower_stable(hostile_regex()),
          lost={"nginx": ROUTE_MAP}),
    Field("method", rule_frontend(lambda v: ir.MethodMatch(values=[v])), collect(ir.MethodMatch, "values"),
          values=hostile_upper, lost={"nginx": ROUTE_MAP}),
    Field("header match name", rule_frontend(lambda v: ir.HeaderMatch(name=v, op="present")),
          collect(ir.HeaderMatch, "name"), lost={"nginx": ROUTE_MAP}),
    Field("header match value", rule_frontend(lambda v: ir.HeaderMatch(name="X-Probe", op="exact", values=[v])),
          collect(ir.HeaderMatch, "values"), lost={"nginx": ROUTE_MAP}),
    Field("header match contains", rule_frontend(
        lambda v: ir.HeaderMatch(name="X-Probe", op="contains", values=[v], ignore_case=True)),
          collect(ir.HeaderMatch, "values"), lost={"nginx": ROUTE_MAP}),
    Field("header match regex", rule_frontend(lambda v: ir.HeaderMatch(name="X-Probe", op="regex", values=[v])),
          collect(ir.HeaderMatch, "values"), values=hostile_regex, lost={"nginx": ROUTE_MAP}),
    # ---------------------------------------------------------------- actions
    Field("return body", action_frontend(lambda v: ir.Return(status=200, body=v)), collect(ir.Return, "body")),
    Field("return content type", action_frontend(lambda v: ir.Return(status=200, body="x", content_type=v)),
          collect(ir.Return, "content_type")),
    Field("redirect location", action_frontend(lambda v: ir.Redirect(code=302, location=v)),
          collect(ir.Redirect, "location"), values=hostile_url),
    Field("redirect prefix", action_frontend(lambda v: ir.Redirect(code=302, prefix=v)),
          collect(ir.Redirect, "prefix"), values=hostile_url, lost={"nginx": PREFIX_REDIRECT}),
    Field("redirect scheme", action_frontend(lambda v: ir.Redirect(code=302, scheme=v)),
          collect(ir.Redirect, "scheme")),
    Field("default return body", frontend_with(default=lambda v: ir.Return(status=503, body=v)),
          collect(ir.Return, "body")),
    # ---------------------------------------------------------------- headers
    Field("request header name", _header_op("request_headers", "set", name=str, value=lambda v: "x"),
          collect(ir.HeaderOp, "name")),
    Field("request header value", _header_op("request_headers", "set", name=lambda v: "X-Probe", value=str),
          collect(ir.HeaderOp, "value")),
    Field("deleted header name", _header_op("request_headers", "delete", name=str, value=lambda v: None),
          collect(ir.HeaderOp, "name")),
    Field("response header value", _header_op("response_headers", "add", name=lambda v: "X-Probe", value=str),
          collect(ir.HeaderOp, "value")),
    # ---------------------------------------------------------------- TLS
    Field("tls cert (PEM with key)", _listen(cert=str, key=lambda v: None), collect(ir.Tls, "cert"),
          values=hostile_file_name, files=lambda values: tls_files(values, as_key=False)),
    Field("tls key", _listen(cert=lambda v: "site.crt", key=str), collect(ir.Tls, "key"),
          values=hostile_file_name, files=lambda values: tls_files(values, as_key=True),
          lost={"haproxy": ONE_PEM}),
    # ---------------------------------------------------------------- stats
    Field("stats uri", _stats(uri=str), collect(ir.Stats, "uri"), lost={"nginx": STUB_STATUS}),
    Field("stats user", _stats(users=lambda v: [ir.StatsUser(user=v, password="pw")]), collect(ir.StatsUser, "user"),
          lost={"nginx": NO_AUTH}),
    Field("stats password", _stats(users=lambda v: [ir.StatsUser(user="admin", password=v)]),
          collect(ir.StatsUser, "password"), lost={"nginx": NO_AUTH}),
    Field("stats realm", _stats(realm=str, users=lambda v: [ir.StatsUser(user="admin", password="pw")]),
          collect(ir.Stats, "realm"), lost={"nginx": NO_AUTH}),
    # ---------------------------------------------------------------- upstream settings
    Field("hash header name", _balance("header"), collect(ir.Balance, "key_name"), fold=str.lower),
    Field("hash cookie name", _balance("cookie"), collect(ir.Balance, "key_name")),
    Field("hash param name", _balance("param"), collect(ir.Balance, "key_name")),
    Field("sticky cookie", probe_upstream(sticky_cookie=str), collect(ir.Upstream, "sticky_cookie"),
          lost={"nginx": NO_STICKY}),
    Field("server cookie", probe_upstream(sticky_cookie=lambda v: "SRV", servers=lambda v: [
        ir.Server(name="s1", host="127.0.0.1", port=8000, cookie=v)]), collect(ir.Server, "cookie"),
          lost={"nginx": NO_STICKY}),
    Field("health check path", _health(path=str), collect(ir.HttpCheck, "path"),
          lost={"nginx": NO_HEALTH}),
    Field("health check method", _health(method=str), collect(ir.HttpCheck, "method"), values=hostile_upper,
          lost={"nginx": NO_HEALTH}),
    Field("health check host", _health(host=str), collect(ir.HttpCheck, "host"),
          lost={"nginx": NO_HEALTH}),
    # ---------------------------------------------------------------- logs
    Field("log facility", probe_log(target=lambda v: "syslog", address=lambda v: "127.0.0.1", facility=str),
          collect(ir.Log, "facility"),
          example="haproxy-lab1-stats"),
    Field("log level", probe_log(target=lambda v: "syslog", address=lambda v: "127.0.0.1", facility=lambda v: "local0",
                                 level=str),
          collect(ir.Log, "level"), example="haproxy-lab1-stats"),
    Field("syslog address", probe_log(target=lambda v: "syslog", address=str), collect(ir.Log, "address"),
          example="haproxy-lab1-stats"),
)



# ------------------------------------------------------------------------------ regexes

# Fields whose values are regexes: the real servers compile them with PCRE2, which refuses some
# patterns Python's re accepts. Such a refusal must be a clear regex error (see the table below).
REGEX_FIELDS = frozenset({"path regex", "host regex", "header match regex"})
PCRE_REFUSAL = re.compile(r"pcre2?_compile|regex|regular expression", re.IGNORECASE)

# ------------------------------------------------------------------------------ writing and reading


def write_pxc(cfg: ir.Config) -> tuple[str, list]:
    text, diags = pxc_writer.write_with_diagnostics(cfg)
    return text or "", diags


WRITERS = {"pxc": write_pxc, "nginx": nginx_writer.write, "haproxy": haproxy_writer.write}
READERS = {"pxc": pxc_reader.read, "nginx": nginx_reader.read, "haproxy": haproxy_reader.read}
OUTPUT_NAMES = {"pxc": "out.pxc", "nginx": "nginx.conf", "haproxy": "haproxy.cfg"}


@cache
def example(name: str) -> ir.Config:
    """An example's IR; callers copy it before changing anything."""
    path = EXAMPLES / f"{name}.pxc"
    return pxc_reader.load(path.read_text(encoding="utf-8"), path.name)


def with_probes(fld: Field, values: list[str]) -> ir.Config:
    """The field's example with one probe per value; every node a probe adds has the span
    ``PROBE_FILE:<probe number>``, so a diagnostic says which value it is about."""
    cfg = example(fld.example).model_copy(deep=True)
    for index, value in enumerate(values):
        for top in fld.place(cfg, index, value):
            for node in ir.iter_nodes(top):
                node.span = ir.Span(file=PROBE_FILE, line=index + 1)
    return cfg


@cache
def example_errors(name: str, target: str) -> frozenset[tuple[str, str]]:
    """Errors the untouched example already has for a target (none today; kept apart so that
    a future one is not blamed on a probe)."""
    cfg = example(name)
    diags = validate(cfg) + list(WRITERS[target](cfg.model_copy(deep=True))[1])
    return frozenset((d.code, d.message) for d in diags if d.severity == "error")


def refused_probes(diags, fld: Field, target: str, probes: int) -> set[int]:
    """The probes (0-based) that error diagnostics point at. An error located elsewhere is a
    failure: a refusal must name the value's node."""
    refused = set()
    for diag in diags:
        if diag.severity != "error":
            continue
        if diag.file == PROBE_FILE and diag.line and 1 <= diag.line <= probes:
            refused.add(diag.line - 1)
        else:
            assert (diag.code, diag.message) in example_errors(fld.example, target), \
                f"{target}: error not located at the hostile value's node: {diag}"
    return refused


# ------------------------------------------------------------------------------ tallies


@dataclass
class Tally:
    tried: int = 0
    refused_by_validate: int = 0
    refused_by_writer: int = 0
    read_back: int = 0
    not_readable: int = 0
    server_checked: int = 0
    server_runs: int = 0
    pcre_refused: int = 0
    reported_changed: int = 0

    def line(self, fld: Field, target: str) -> str:
        checked = f"{target}: {self.server_checked:3} in {self.server_runs} runs" if target != "pxc" else "-"
        return (f"hostile {fld.name:24} {target:8} tried {self.tried:3} | refused: validate {self.refused_by_validate:3}"
                f" writer {self.refused_by_writer:3} | read back {self.read_back:3}, changed with a warning "
                f"{self.reported_changed:2}, lost by design {self.not_readable:3} | checked by {checked}, "
                f"PCRE refused {self.pcre_refused}")


TOTALS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def print_totals():
    yield
    if TOTALS:
        print("\nhostile strings, all fields: " + ", ".join(f"{key} {TOTALS[key]}" for key in sorted(TOTALS)))


# ------------------------------------------------------------------------------ one batch of values


def survivors_of_validation(fld: Field, values: list[str], tally: Tally) -> list[str]:
    """The values validate accepts, each judged on its own."""
    kept = []
    for value in values:
        errors = [d for d in validate(with_probes(fld, [value])) if d.severity == "error"]
        if errors:
            assert all(d.file == PROBE_FILE for d in errors), [str(d) for d in errors]
            tally.refused_by_validate += 1
        else:
            kept.append(value)
    return kept


def write_accepted(fld: Field, target: str, values: list[str], tally: Tally):
    """Write the values; drop those the writer refuses and write again. Returns the values
    written without any error, the config, the text and the writer's diagnostics."""
    while values:
        cfg = with_probes(fld, values)
        text, diags = WRITERS[target](cfg)
        refused = refused_probes(diags, fld, target, len(values))
        if not refused:
            return values, cfg, text, diags
        tally.refused_by_writer += len(refused)
        values = [value for index, value in enumerate(values) if index not in refused]
    return [], None, "", []


def reported_probes(diags, values: list[str]) -> set[int]:
    """Probes whose value the writer says it changed (a warning at the probe naming the value:
    a name HAProxy cannot hold renamed, a syslog facility nginx lacks replaced)."""
    reported = set()
    for diag in diags:
        if diag.severity == "warning" and diag.file == PROBE_FILE and diag.line and diag.line <= len(values):
            value = values[diag.line - 1]
            if repr(value) in diag.message or (value and value in diag.message):
                reported.add(diag.line - 1)
    return reported


def assert_reads_back(fld: Field, target: str, values: list[str], cfg: ir.Config, text: str, write_diags,
                      tally: Tally) -> None:
    """The reader takes the writer's output without an error, and every value comes back byte
    for byte (the DSL: the whole config), unless the writer reported changing it or the reader
    loses it by design."""
    back, diags = READERS[target](text, OUTPUT_NAMES[target])
    errors = [str(d) for d in diags if d.severity == "error"]
    assert back is not None and not errors, f"{target} reader refuses the {target} writer's output: {errors}\n{text}"
    if target == "pxc":
        assert back == cfg, f"the DSL does not read back as written:\n{text}"
        tally.read_back += len(values)
        return
    loss = fld.lost.get(target)
    reported = reported_probes(write_diags, values)
    tally.reported_changed += len(reported)
    expected = [value for probe, value in enumerate(values)
                if probe not in reported and not (loss and loss.applies(value, text, probe))]
    tally.not_readable += len(values) - len(reported) - len(expected)
    missing = Counter(map(fld.fold, expected)) - Counter(map(fld.fold, fld.harvest(back)))
    assert not missing, f"{target}: {fld.name} values not read back byte for byte: {list(missing)!r}\n{text}"
    tally.read_back += len(expected)


def judge(fld: Field, target: str, values: list[str], tally: Tally) -> list[str]:
    """Refused with a located diagnostic, or written and read back: returns the values written."""
    tally.tried += len(values)
    kept = survivors_of_validation(fld, values, tally)
    kept, cfg, text, diags = write_accepted(fld, target, kept, tally)
    if kept:
        assert_reads_back(fld, target, kept, cfg, text, diags, tally)
    return kept


# ------------------------------------------------------------------------------ the real servers


def runnable_here(cfg: ir.Config) -> ir.Config:
    """``servers_to_loopback``, and listen, nameserver and syslog host names mapped to loopback:
    no name resolves on a test machine (the readers have compared the original values)."""
    copy = servers_to_loopback(cfg)
    for node in ir.iter_nodes(copy):
        if isinstance(node, (ir.Listen, ir.Nameserver, ir.Log)) and node.address is not None \
                and not is_ip(node.address):
            node.address = "127.0.0.1"
    return copy


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def run_check(fld: Field, target: str, values: list[str]):
    cfg = runnable_here(with_probes(fld, values))
    text, diags = WRITERS[target](cfg)
    assert not [d for d in diags if d.severity == "error"], [str(d) for d in diags]
    files = fld.files(values) if fld.files else None
    if target == "nginx":
        return check_nginx(text, files=files)
    return check_haproxy(text, strict=True, files=files)


def refused_by_server(fld: Field, target: str, values: list[str], tally: Tally) -> list[tuple[str, str]]:
    """(value, server output) for every value the real server refuses: the whole batch at once,
    then halves of a refused batch until single values are left."""
    result = run_check(fld, target, values)
    tally.server_runs += 1
    if result.ok:
        return []
    if len(values) == 1:
        return [(values[0], server_complaints(result))]
    half = len(values) // 2
    return refused_by_server(fld, target, values[:half], tally) + refused_by_server(fld, target, values[half:], tally)


_GENERIC = ("Error(s) found", "Fatal errors found", "Some warnings were found", "configuration file")


def server_complaints(result) -> str:
    """The server's own messages about the config, without the generic summary lines."""
    found = [f"{m.severity}: {m.message}" for m in result.messages
             if m.severity in ("error", "alert", "warning") and not m.message.startswith(_GENERIC)]
    return "; ".join(found) or result.output.strip()[-500:]


def check_on_server(fld: Field, target: str, values: list[str], tally: Tally) -> None:
    require_binary(target)
    refused = []
    for start in range(0, len(values), CHECK_BATCH):
        batch = values[start:start + CHECK_BATCH]
        refused += refused_by_server(fld, target, batch, tally)
        tally.server_checked += len(batch)
    if fld.name in REGEX_FIELDS:  # a regex PCRE refuses: clear, and counted
        clear = [(value, out) for value, out in refused if PCRE_REFUSAL.search(out)]
        tally.pcre_refused += len(clear)
        refused = [item for item in refused if item not in clear]
    assert not refused, f"{target} refuses values proxyc wrote without an error:\n" + "\n".join(
        f"{value!r}: {complaints}" for value, complaints in refused)


# ------------------------------------------------------------------------------ the property


def field_cases():
    for fld in FIELDS:
        for target in TARGETS:
            yield pytest.param(fld, target, id=f"{fld.name.replace(' ', '-')}-{target}")


@pytest.mark.parametrize("fld,target", list(field_cases()))
def test_hostile_value_is_refused_or_kept_exactly(fld: Field, target: str):
    tally = Tally()
    written: list[str] = []

    @settings(max_examples=EXAMPLES_PER_FIELD, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(st.lists(fld.values(), min_size=1, max_size=VALUES_PER_EXAMPLE, unique=True))
    def values_are_refused_or_kept(values: list[str]) -> None:
        written.extend(judge(fld, target, values, tally))

    values_are_refused_or_kept()
    if target != "pxc" and written:
        check_on_server(fld, target, list(dict.fromkeys(written)), tally)
    print(tally.line(fld, target))
    TOTALS.update({f"{target} {key}": value for key, value in vars(tally).items()})


FIELDS_BY_NAME = {fld.name: fld for fld in FIELDS}


def assert_refused_or_kept(field_name: str, target: str, value: str) -> None:
    """The whole property for one value."""
    fld, tally = FIELDS_BY_NAME[field_name], Tally()
    values = survivors_of_validation(fld, [value], tally)
    values, cfg, text, diags = write_accepted(fld, target, values, tally)
    if values:
        assert_reads_back(fld, target, values, cfg, text, diags, tally)
        if target != "pxc":
            check_on_server(fld, target, values, tally)


# Long values: nginx reads a token into a 4 KiB buffer, HAProxy keeps a reply within its buffer.
def test_nginx_token_longer_than_4k():
    """Refused by the nginx writer (P003 at the value's node), not written for nginx -t to refuse."""
    assert_refused_or_kept("path exact", "nginx", "/" + "a" * 5000)
    _, diags = nginx_writer.write(with_probes(FIELDS_BY_NAME["path exact"], ["/" + "a" * 5000]))
    assert [(d.code, d.file, d.line) for d in diags if d.severity == "error"] == [("P003", PROBE_FILE, 1)]
    assert "tokens are limited to 4096 bytes" in str(diags)


# Every field, not just the example above: the writer makes every token in one place (quoting.Tok).
# "$" is written as ${pxc_dollar} (13 bytes) where nginx expands variables; "\x01" as \x{01} in a map.
OVERSIZED = ("a" * 5000, "/" + "a" * 5000, "$" * 400, "\x01" * 1000)


@pytest.mark.parametrize("fld", [fld for fld in FIELDS if fld.files is None],  # file names: the OS limits them
                         ids=lambda fld: fld.name.replace(" ", "-"))
def test_nginx_values_too_long_for_its_buffer_are_refused_or_kept(fld: Field):
    for value in OVERSIZED:
        assert_refused_or_kept(fld.name, "nginx", value)


def test_haproxy_return_body_larger_than_its_buffer():
    assert_refused_or_kept("return body", "haproxy", "x" * 20000)


def test_long_values_within_the_limits_are_kept():
    """Just below the limits above, long values are written, read back and accepted."""
    assert_refused_or_kept("path exact", "nginx", "/" + "a" * 4000)
    assert_refused_or_kept("return body", "haproxy", "x" * 4000)
    assert_refused_or_kept("return body", "pxc", "x" * 100_000)


def test_validate_refuses_a_name_ending_in_a_line_break():
    """Names end up in nginx and HAProxy configs; a trailing line break is not a name character
    (found by this file: validate's pattern ended in '$', which matches before a final newline)."""
    cfg = example("nginx-lab1-round-robin").model_copy(deep=True)
    cfg.upstreams[0].name += "\n"
    cfg.frontends[0].default = ir.UseUpstream(upstream=cfg.upstreams[0].name)
    assert any(d.code == "V107" for d in validate(cfg))


# ------------------------------------------------------------------------------ regexes: Python re vs PCRE2
#
# validate compiles regexes with Python's re; nginx and HAProxy compile them with PCRE2. Each row
# states what proxyc and the real servers do with a pattern where the two dialects differ:
# "ok" (written and accepted by the server), "writer" (a writer error), "server" (proxyc writes
# it and the server refuses it with a PCRE error: clear, but only at `--check` time).

@dataclass(frozen=True)
class RegexCase:
    pattern: str
    validate_refuses: bool
    nginx: str
    haproxy: str
    note: str


REGEX_CASES = (
    RegexCase(r"^/caf\u00e9$", True, "server", "server",
              "Python's \\u escape; PCRE2 has no \\u: validate refuses it (V108)"),
    RegexCase(r"^/\N{EM DASH}", True, "server", "server",
              "Python's \\N{name}; PCRE2 has none: validate refuses it (V108)"),
    RegexCase(r"(?a)^/x", True, "server", "server", "Python's ASCII flag; PCRE2 has no (?a): validate refuses it"),
    RegexCase(r"^/x\z", True, "ok", "ok", "PCRE's end of subject \\z; Python has no \\z: refused although valid"),
    RegexCase(r"^/\x{41}", True, "ok", "ok", "PCRE's \\x{hh}; Python needs \\xhh: refused although valid"),
    RegexCase(r"^/x(?<=a|bx)", True, "ok", "ok", "lookbehind alternatives of different lengths: PCRE only"),
    RegexCase(r"^/(?<name>x)", True, "writer", "ok", "PCRE's (?<name>...): Python 3.11 refuses it; nginx "
                                                      "would set a variable $name, so its writer refuses named groups"),
    RegexCase(r"^/(?P<name>x)", False, "writer", "ok", "both dialects; nginx's writer refuses named groups"),
    RegexCase(r"^/a++b", False, "ok", "ok", "possessive quantifier: both (Python 3.11+)"),
    RegexCase(r"^/x\Z", False, "ok", "ok", "both accept, but PCRE's \\Z also matches before a final newline"),
    RegexCase(r"^/x{,3}$", False, "ok", "ok", "both accept, but PCRE2 10.42 reads {,3} literally, Python as {0,3}"),
    RegexCase(r"[[:alpha:]]", False, "ok", "ok", "both accept: a POSIX class in PCRE, a set of ':alph' in Python"),
)


def regex_outcome(target: str, pattern: str) -> str:
    fld = FIELDS_BY_NAME["path regex"]
    _, diags = WRITERS[target](with_probes(fld, [pattern]))
    if any(d.severity == "error" and d.file == PROBE_FILE for d in diags):
        return "writer"
    result = run_check(fld, target, [pattern])
    if result.ok:
        return "ok"
    assert PCRE_REFUSAL.search(server_complaints(result)), server_complaints(result)
    return "server"


@pytest.mark.parametrize("case", REGEX_CASES, ids=[case.pattern for case in REGEX_CASES])
def test_regex_dialects(case: RegexCase):
    require_binary("nginx")
    require_binary("haproxy")
    cfg = with_probes(FIELDS_BY_NAME["path regex"], [case.pattern])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # Python's "possible nested set" for [[:alpha:]]
        refused = any(d.code == "V108" for d in validate(cfg))
    assert refused == case.validate_refuses, case.note
    assert (regex_outcome("nginx", case.pattern), regex_outcome("haproxy", case.pattern)) == \
        (case.nginx, case.haproxy), case.note
