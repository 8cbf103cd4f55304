"""The HAProxy reader (proxyc/dialects/haproxy/reader.py): haproxy.cfg → IR.

* the seed configs import and route every path as the corresponding examples do;
* round trip: IR → HAProxy writer → reader gives the IR back (up to the writer's documented
  spellings), and writing what was read gives the same bytes;
* one table per construct: ACL fetches, conditions, rule phases, actions, listeners, balancing,
  servers, health checks, defaults, global, resolvers, other sections, listen;
* whatever cannot be represented is an I001 at the exact line and column, kept as raw text;
* quoting edge cases, lexer errors, and any input at all without a traceback.
"""
from __future__ import annotations

import posixpath
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxyc import ir
from proxyc.dialects.haproxy.provenance import NEVER, NotWritable, reader_shape
from proxyc.dialects.haproxy.reader import read, read_with_report
from proxyc.dialects.haproxy.reader_base import UNHANDLED
from proxyc.dialects.haproxy.writer import (
    LOG_LEVEL_ALIASES,
    NGINX_DEFAULT_TIMEOUT_MS,
    write,
)
from proxyc.dialects.haproxy.writer_backends import _is_ip as is_ip_address
from proxyc.dialects.haproxy.writer_context import MAX_TIMER_MS
from proxyc.dialects.haproxy.writer_frontends import DENY_STATUSES
from proxyc.dialects.pxc.reader import load
from proxyc.routing import Request, RoutingError, route

try:  # tests/ as a plain directory (rootdir-relative) or as a package
    from golden_cases import EXAMPLES, cases
    from helpers import client_view, sample_requests, without_raw
    from strategies import configs
except ImportError:  # pragma: no cover
    from tests.golden_cases import EXAMPLES, cases
    from tests.helpers import client_view, sample_requests, without_raw
    from tests.strategies import configs

SEEDS = EXAMPLES / "seed"
HTTP_DEFAULTS = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n"


# ============================================================================ helpers


def read_ok(text: str) -> tuple[ir.Config, list]:
    cfg, diags = read(text, "t.cfg")
    assert cfg is not None, [str(d) for d in diags]
    return cfg, diags


# Line numbers in these tests: HTTP_DEFAULTS is lines 1-5; "frontend f" (or "backend b") is line
# 6; a frontend body starts on line 8 (after "bind :80"), a backend body on line 7.
FRONTEND_BODY, BACKEND_BODY = 8, 7


def frontend_of(body: str, *, backends: str = "", defaults: str = HTTP_DEFAULTS) -> tuple[ir.Frontend, list]:
    """The frontend ``f`` (bind :80) with ``body`` indented under it."""
    text = defaults + "frontend f\n    bind :80\n" + textwrap.indent(textwrap.dedent(body), "    ") + backends
    cfg, diags = read_ok(text)
    return cfg.frontend("f"), diags


def upstream_of(body: str, *, defaults: str = HTTP_DEFAULTS) -> tuple[ir.Upstream, list]:
    cfg, diags = read_ok(defaults + "backend b\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return cfg.upstream("b"), diags


def located(diags, code: str = "I001") -> list[tuple[int, int | None, str]]:
    return [(d.line, d.col, d.severity) for d in diags if d.code == code]


def messages(diags) -> str:
    return "\n".join(str(d) for d in diags)


def acl_condition(expression: str) -> tuple[ir.Condition, list]:
    fe, diags = frontend_of(f"acl a {expression}\nuse_backend x if a\n")
    assert [a.name for a in fe.acls] == ["a"], messages(diags)
    return fe.acls[0].condition, diags


# ============================================================================ the seed labs


@pytest.mark.parametrize("n", [1, 2, 3])
def test_seed_imports_without_loss(n):
    text = (SEEDS / f"haproxy-lab{n}.cfg").read_text()
    cfg, diags, stats = read_with_report(text, f"haproxy-lab{n}.cfg")
    assert cfg is not None
    assert not [d for d in diags if d.severity != "info"], messages(diags)
    # Only the runtime API socket is not modelled: kept as raw global text, with one info.
    assert [line for line, _ in stats.reported] == [2]
    assert cfg.raw == [ir.Raw(target="haproxy", context="global", text="stats socket /var/run/api.sock user "
                              "haproxy group haproxy mode 660 level admin expose-fd listeners\n")]


def test_seed_lab1_is_the_example():
    cfg, _ = read_ok((SEEDS / "haproxy-lab1.cfg").read_text())
    assert cfg == load((EXAMPLES / "haproxy-lab1-stats.pxc").read_text(), "lab1.pxc")


def test_seed_lab2_is_the_example_plus_the_socket():
    cfg, _ = read_ok((SEEDS / "haproxy-lab2.cfg").read_text())
    example = load((EXAMPLES / "haproxy-lab2-path-acls.pxc").read_text(), "lab2.pxc")
    assert cfg.model_copy(update={"raw": []}) == example


def test_seed_lab3_keeps_duplicates_as_written():
    """Two ACLs with the same condition and two servers at one address are the linter's
    business: the reader keeps them."""
    cfg, _ = read_ok((SEEDS / "haproxy-lab3.cfg").read_text())
    fe = cfg.frontend("myfrontend")
    assert [a.name for a in fe.acls] == ["echo-web1-item", "echo-web2-item", "echo-web3-basket", "echo-web4-basket"]
    assert fe.acls[0].condition == fe.acls[1].condition == ir.PathMatch(op="prefix", values=["/item"])
    assert [r.action.upstream for r in fe.rules] == ["echo-web1_backend"] * 2 + ["echo-web2_backend"] * 2
    web = cfg.upstream("webservers")
    assert [(s.host, s.port) for s in web.servers][2:] == [("echo-web3-basket", 8080)] * 2


SEED_PATHS = ["/", "/item", "/item/42", "/items", "/basket", "/basket/x", "/baskets", "/echo-web1", "/echo-web2/a",
              "/echo-web3x", "/other", "/ITEM", "/stats"]
# Lab 3's example renames the seed's backends; the seed's names map onto them.
RENAMED = {3: {"echo-web1_backend": "item_pool", "echo-web2_backend": "basket_pool"}}


@pytest.mark.parametrize("n,example", [(1, "haproxy-lab1-stats.pxc"), (2, "haproxy-lab2-path-acls.pxc"),
                                       (3, "haproxy-lab3-grouped.pxc")])
@pytest.mark.parametrize("port", [80, 8404])
def test_seed_routes_every_path_as_the_example(n, example, port):
    seed, _ = read_ok((SEEDS / f"haproxy-lab{n}.cfg").read_text())
    expected = load((EXAMPLES / example).read_text(), example)
    for path in SEED_PATHS:
        got, want = route(seed, Request(url=path, port=port)), route(expected, Request(url=path, port=port))
        assert (got.kind, got.status) == (want.kind, want.status), path
        if want.upstream is not None:
            assert RENAMED.get(n, {}).get(got.upstream.name, got.upstream.name) == want.upstream.name, path


# ============================================================================ round trip


def canonical(cfg: ir.Config) -> ir.Config:
    """``cfg`` as the HAProxy writer spells it, so ``read(write(cfg))`` can be compared with it.
    Each step is a documented choice of the writer (or a fact of HAProxy) that the reader
    cannot undo; each keeps the IR's meaning except where noted."""
    cfg = cfg.model_copy(deep=True)
    for fe in cfg.frontends:  # a stats user given twice: HAProxy keeps the first (P001)
        if fe.stats is not None:
            seen: set[str] = set()
            fe.stats.users = [u for u in fe.stats.users if not (u.user in seen or seen.add(u.user))]
    # 'option forwardfor' is written on every http frontend, not in defaults.
    if cfg.defaults.forwardfor:
        cfg.defaults.forwardfor = False
        for fe in cfg.frontends:
            if (fe.mode or cfg.defaults.mode) == "http":
                fe.forwardfor = True
    # HAProxy has no default server: a port's only frontend gets every request anyway.
    # A key apart from its certificate is combined into a PEM next to it (reported P001).
    for fe in cfg.frontends:
        for listen in fe.listens:
            listen.default_server = False
            tls = listen.tls
            if tls is not None and tls.key is not None:
                if tls.key != tls.cert + ".key":
                    tls.cert = posixpath.splitext(tls.cert)[0] + ".pem"
                tls.key = None
        _canonical_rules(cfg, fe)
    # An unset connect/client/server timeout means 60 s, and 60 s is read as unset.
    for key in ("connect", "client", "server"):
        if getattr(cfg.defaults.timeouts, key) == NGINX_DEFAULT_TIMEOUT_MS:
            setattr(cfg.defaults.timeouts, key, None)
    # 'log global' is written only when there is a log target; facility and level get
    # HAProxy's spelling; raw text for other targets is not written, HAProxy's is dedented.
    cfg.defaults.log = cfg.defaults.log and bool(cfg.logs)
    for log in cfg.logs:
        log.facility = log.facility or "local0"
        log.level = LOG_LEVEL_ALIASES.get(log.level, log.level)
    cfg.raw = _canonical_raw(cfg.raw)
    for up in cfg.upstreams:
        _canonical_upstream(up)
    # A nameserver needs an IP address in HAProxy; one given by name is left out (P001).
    for res in cfg.resolvers:
        res.nameservers = [ns for ns in res.nameservers if is_ip_address(ns.address)]
    # HAProxy's timers stop at 2**31 - 1 ms: a longer duration is written as that (P001).
    for node in ir.iter_nodes(cfg):
        for key in _DURATION_FIELDS.get(type(node), ()):
            value = getattr(node, key)
            if value is not None and value > MAX_TIMER_MS:
                setattr(node, key, MAX_TIMER_MS)
    # A proxy setting equal to what the defaults already say is redundant: read as unset.
    for node in [*cfg.frontends, *cfg.upstreams]:
        if node.mode == cfg.defaults.mode:
            node.mode = None
        for key in type(node.timeouts).model_fields:
            value = getattr(node.timeouts, key)
            if key in ("span", "comments") or value is None:
                continue
            default = getattr(cfg.defaults.timeouts, key)
            if value == (default if default is not None or key not in ("connect", "client", "server")
                         else NGINX_DEFAULT_TIMEOUT_MS):
                setattr(node.timeouts, key, None)
    return cfg


_DURATION_FIELDS = {
    ir.Timeouts: tuple(k for k in ir.Timeouts.model_fields if k not in ("span", "comments")),
    ir.HealthCheck: ("interval", "timeout"),
    ir.Resolver: ("hold_valid", "timeout"),
    ir.Stats: ("refresh",),
    ir.Server: ("slow_start",),
}


def _canonical_rules(cfg: ir.Config, fe: ir.Frontend) -> None:
    tcp = (fe.mode or cfg.defaults.mode) == "tcp"
    for holder, attribute in [(rule, "action") for rule in fe.rules] + [(fe, "default")]:
        action = getattr(holder, attribute)
        if isinstance(action, ir.Deny) and tcp:
            setattr(holder, attribute, ir.Deny())  # a TCP reject sends no status (P001)
        elif isinstance(action, ir.Deny) and action.status not in DENY_STATUSES:
            # A deny status HAProxy has no error page for is written as a bodiless return.
            setattr(holder, attribute, ir.Return(status=action.status))
    # A condition that can never hold (a contradiction in its DNF) is not written (P001).
    fe.rules = [r for r in fe.rules if not _never(r.condition, fe)]
    # Before the first 'use' rule, rules are http-request lines: after an unconditional one
    # HAProxy never runs another, so they are not written (they are shadowed in the IR too).
    first_use = next((i for i, r in enumerate(fe.rules) if isinstance(r.action, ir.UseUpstream)), len(fe.rules))
    answers = next((i for i, r in enumerate(fe.rules[:first_use]) if r.condition is None), None)
    if answers is not None:
        fe.rules = fe.rules[:answers + 1]
        fe.default = None
    # Request headers are never sent when an http-request line answers every request (the
    # stats page's guard keeps its lines conditional): not written.
    answering_default = first_use == len(fe.rules) and fe.default is not None \
        and not isinstance(fe.default, ir.UseUpstream)
    if (answers is not None or answering_default) and fe.stats is None:
        fe.request_headers = []
    # A default that answers by itself, in a frontend without 'use' rules, is the last
    # http-request line: it reads back as an unconditional rule.
    if fe.default is not None and not isinstance(fe.default, ir.UseUpstream) \
            and not any(isinstance(r.action, ir.UseUpstream) for r in fe.rules):
        fe.rules.append(ir.Rule(action=fe.default))
        fe.default = None
    fe.raw = _canonical_raw(fe.raw)


def _never(cond: ir.Condition | None, fe: ir.Frontend) -> bool:
    try:
        return reader_shape(cond, {a.name: a for a in fe.acls}, set()) is NEVER
    except NotWritable:
        return False


def _canonical_upstream(up: ir.Upstream) -> None:
    up.raw = _canonical_raw(up.raw)
    for server in up.servers:
        server.port = server.port or 80  # nginx's default port, written out
        if up.sticky_cookie is None:
            server.cookie = None  # without the upstream's sticky cookie it means nothing (P001)
    if not up.servers:
        up.resolver = None  # written on the server lines
    # 'timeout check' is the one place for a check timeout: with no other check setting it is
    # the upstream's check timeout, otherwise the health check's.
    health = up.health
    if health is not None and health.model_copy(update={"timeout": None}) == ir.HealthCheck():
        up.timeouts.check = health.timeout if health.timeout is not None else up.timeouts.check
        up.health = None
    elif health is not None:
        health.timeout = health.timeout if health.timeout is not None else up.timeouts.check
        up.timeouts.check = None
    # HAProxy's random draws 2 servers unless told otherwise.
    if up.balance.algorithm == "random" and up.balance.choices is None:
        up.balance.choices = 2
    # With passive checks every server gets 'check' (a marked-down server comes back only
    # through checks), except those whose 'inter' carries the fail timeout.
    # Passive checks are written on the servers as 'observe ... error-limit N' (N at least 1),
    # without the fail timeout, and every server gets 'check' (a marked-down server comes back
    # only through checks).
    passive = up.passive
    if passive is not None and passive.max_fails != 0 and up.servers:
        up.passive = ir.Passive(max_fails=passive.max_fails or 1)
        for server in up.servers:
            server.check = True
    elif passive is not None:
        up.passive = None  # switched off (max_fails 0) or no server to write it on
    if up.health == ir.HealthCheck():
        up.health = None  # a health check with no settings writes nothing


def _canonical_raw(raws: list[ir.Raw]) -> list[ir.Raw]:
    out = []
    for raw in raws:
        if raw.target == "haproxy" and raw.text.strip():  # blank raw text says nothing
            out.append(raw.model_copy(update={"text": textwrap.dedent(raw.text).rstrip("\n") + "\n"}))
    return out


# Cases whose IR the writer cannot spell back exactly: for them the routing must agree.
NOT_EXACT = {
    "haproxy-hostile": "names HAProxy cannot hold are renamed (P003)",
    "nginx-hostile": "names HAProxy cannot hold are renamed and a header with CRLF is not written (P003)",
}
CASES = cases()


@pytest.mark.parametrize("case,path", CASES, ids=[name for name, _ in CASES])
def test_round_trip_through_the_writer(case, path):
    original = load(path.read_text(encoding="utf-8"), path.name)
    text, _ = write(original)
    cfg, diags = read_ok(text)
    assert not [d for d in diags if d.severity == "error"], messages(diags)
    if case in NOT_EXACT:
        assert_same_routing(cfg, original)
    else:
        assert cfg == canonical(original)


@pytest.mark.parametrize("case,path", CASES, ids=[name for name, _ in CASES])
def test_writing_what_was_read_gives_the_same_bytes(case, path):
    """Comments included: the provenance comments and the generated backends' comments are
    derived from the IR, which reads back the same (from the writer's spelling, ``canonical``)."""
    text, _ = write(canonical(load(path.read_text(encoding="utf-8"), path.name)))
    again, _ = write(read_ok(text)[0])
    assert again == text


MATCHERS_CASE = EXAMPLES.parent / "tests" / "golden" / "haproxy-matchers" / "input.pxc"


def test_provenance_comments_give_back_acls_and_conditions_as_written():
    """haproxy-matchers has ACLs built from and/not and rules HAProxy can only write in DNF; the
    writer's ``# proxyc:`` comments carry them, and the reader takes them back exactly."""
    original = load(MATCHERS_CASE.read_text(encoding="utf-8"), "input.pxc")
    text, _ = write(original)
    assert "    # proxyc: if static and not (host exact admin.example.com or host suffix .internal)\n" in text
    assert read_ok(text)[0] == original


def test_without_provenance_comments_the_config_routes_the_same_in_dnf():
    """The comments change nothing HAProxy does: stripped, the config imports as any hand-written
    one (ACLs expanded, conditions in DNF) and routes every request the same."""
    original = load(MATCHERS_CASE.read_text(encoding="utf-8"), "input.pxc")
    text, _ = write(original)
    stripped = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("# proxyc:"))
    cfg = read_ok(stripped)[0]
    assert cfg != original and "beta" not in [acl.name for acl in cfg.frontends[0].acls]
    assert_same_routing(cfg, original)


def test_a_provenance_comment_that_disagrees_with_its_rule_is_ignored():
    """Edited by hand after it was written: the guard no longer is the comment's DNF, so the
    guard is what counts."""
    cfg = read_ok(textwrap.dedent("""\
        defaults
            mode http
        frontend web
            bind :80
            acl a path_beg /a
            # proxyc: acl a path prefix /a
            # proxyc: acl b path prefix /b
            # proxyc: if a and not b
            use_backend x if a !{ path_beg /c }
        backend x
            server s 10.0.0.1:80
        """))[0]
    fe = cfg.frontends[0]
    assert fe.rules[0].condition == ir.All(items=[ir.AclRef(name="a"),
                                                  ir.Not(item=ir.PathMatch(op="prefix", values=["/c"]))])
    # the ACL expanded where it was used is kept (it routes nothing by itself)
    assert [acl.name for acl in fe.acls] == ["a", "b"]


def test_a_provenance_acl_that_disagrees_with_its_acl_lines_is_ignored():
    cfg = read_ok(textwrap.dedent("""\
        defaults
            mode http
        frontend web
            bind :80
            # proxyc: acl a path prefix /a or path prefix /z
            acl a path_beg /a
            use_backend x if a
        backend x
            server s 10.0.0.1:80
        """))[0]
    assert cfg.frontends[0].acls == [ir.Acl(name="a", condition=ir.PathMatch(op="prefix", values=["/a"]))]


def _without_comments(text: str) -> str:
    """The writer's comments describe the IR they came from (a generated backend's comment
    names the action), so they are left out of the comparison."""
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))


def assert_same_routing(got: ir.Config, want: ir.Config) -> None:
    """Both configs route every request built from their own match values the same way."""
    for request in sample_requests(want):
        assert outcome(got, request) == outcome(want, request), request


def outcome(cfg: ir.Config, request: Request) -> tuple:
    """What a client sees: the decision, or that the config cannot be routed (a PCRE-only regex)."""
    try:
        d = route(cfg, request)
    except RoutingError:
        return ("cannot route",)
    servers = [(s.host, s.port) for s in d.upstream.servers] if d.upstream is not None else None
    return d.kind, d.status, d.location, servers


def writes_everything(diags) -> bool:
    """The writer wrote the whole IR in its spelling: nothing left out (an error) and no name
    changed (P003; HAProxy cannot hold every name). Every warning-level loss is a step of
    ``canonical``."""
    return not [d for d in diags if d.severity == "error" or d.code == "P003"]


# derandomize: the same examples on every run (CI); tests/fuzz_long.py --round-trips searches on.
@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configs(comments=False))
def test_generated_configs_read_back_exactly(cfg):
    """For any IR in the writer's spelling (``canonical``) that the writer writes completely,
    the reader gives back the same IR, and writing it again the same bytes, comments included.
    Raw blocks are left out: the writer copies them verbatim, and generated text is rarely
    HAProxy (the examples and the table tests cover raw text); so are the IR's own comments,
    which the reader attaches where HAProxy allows (the comment tests cover them)."""
    cfg = canonical(without_raw(cfg))
    text, written = write(cfg)
    if not writes_everything(written):
        # Something was left out or renamed: what the writer did write is the IR to start from.
        assert_fixed_point(read(text, "w.cfg")[0])
        return
    back, diags = read(text, "w.cfg")
    assert back == cfg, messages(diags)
    assert write(back)[0] == text


@settings(max_examples=40, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configs())
def test_the_writer_spelling_routes_as_the_ir(cfg):
    """``canonical`` changes how an IR is said, not where a request goes: the same upstream,
    redirect target and status for every request (a deny HAProxy has no page for is a bodiless
    return of the same status; a TCP reject sends no status at all)."""
    spelled = canonical(cfg)
    for request in sample_requests(cfg):
        assert client_view(spelled, request) == client_view(cfg, request), request


def assert_fixed_point(cfg: ir.Config) -> None:
    text, _ = write(canonical(cfg))
    first, diags = read(text, "w.cfg")
    assert first is not None, messages(diags)
    assert not [d for d in diags if d.message == UNHANDLED or d.severity == "error"], messages(diags)
    again, _ = write(first)
    assert _without_comments(again) == _without_comments(text)
    assert read(again, "w.cfg")[0] == first


# ============================================================================ ACLs


ACL_TABLE = [
    ("path /a", ir.PathMatch(op="exact", values=["/a"])),
    ("path_beg -i /a /b", ir.PathMatch(op="prefix", values=["/a", "/b"], ignore_case=True)),
    ("path_end .php", ir.PathMatch(op="suffix", values=[".php"])),
    ("path_reg ^/img/.*\\.png$", ir.PathMatch(op="regex", values=["^/img/.*\\.png$"])),
    ("path_sub a.b", ir.PathMatch(op="regex", values=["a\\.b"])),
    ("path -m beg /a", ir.PathMatch(op="prefix", values=["/a"])),
    ("path_dir api", ir.PathMatch(op="regex", values=["(?:^|[/\\?])api(?:[/\\?]|$)"])),
    ("path -- -weird", ir.PathMatch(op="exact", values=["-weird"])),
    ("path,lower -m beg /api", ir.PathMatch(op="prefix", values=["/api"], ignore_case=True)),
    ("req.hdr(host),host_only -m str -i Example.COM", ir.HostMatch(op="exact", values=["example.com"])),
    ("req.hdr(host),field(1,:) -m end -i .example.com", ir.HostMatch(op="suffix", values=[".example.com"])),
    ("hdr_beg(host) -i www.", ir.HostMatch(op="prefix", values=["www."])),
    ("hdr_dom(host) -i example.com",
     ir.HostMatch(op="regex", values=["(?:^|[/\\?\\.:])example\\.com(?:[/\\?\\.:]|$)"])),
    ("req.hdr(host),host_only -m reg -i ^api\\.", ir.HostMatch(op="regex", values=["^api\\."])),
    ("method GET HEAD", ir.MethodMatch(values=["GET", "HEAD"])),
    ("req.fhdr(X-Env) -m str prod", ir.HeaderMatch(name="X-Env", op="exact", values=["prod"])),
    ("req.fhdr(X-Env) -m sub -i beta", ir.HeaderMatch(name="X-Env", op="contains", values=["beta"], ignore_case=True)),
    ("req.fhdr(X-Beta) -m found", ir.HeaderMatch(name="X-Beta", op="present")),
    ("hdr_beg(X-A) a", ir.HeaderMatch(name="X-A", op="prefix", values=["a"])),
    ("req.fhdr(X-A),lower -m end abc", ir.HeaderMatch(name="X-A", op="suffix", values=["abc"], ignore_case=True)),
    ("src 10.0.0.0/8 127.0.0.1", ir.SourceMatch(values=["10.0.0.0/8", "127.0.0.1"])),
    ("ssl_fc", ir.TlsMatch()),
]


@pytest.mark.parametrize("expression,expected", ACL_TABLE, ids=[e for e, _ in ACL_TABLE])
def test_acl_fetches(expression, expected):
    condition, diags = acl_condition(expression)
    assert condition == expected
    assert not [d for d in diags if d.severity != "info"], messages(diags)


APPROXIMATIONS = [
    ("url_beg /a", ir.PathMatch(op="prefix", values=["/a"]), "query string"),
    ("hdr(host) -i Example.com", ir.HostMatch(op="exact", values=["example.com"]), "includes the port"),
    ("hdr_end(host) .example.com", ir.HostMatch(op="suffix", values=[".example.com"]), "case-sensitively"),
    ("hdr(X-Env) prod", ir.HeaderMatch(name="X-Env", op="exact", values=["prod"]), "comma-separated"),
]


@pytest.mark.parametrize("expression,expected,why", APPROXIMATIONS, ids=[e for e, _, _ in APPROXIMATIONS])
def test_acl_approximations_are_imported_with_an_info(expression, expected, why):
    condition, diags = acl_condition(expression)
    assert condition == expected
    infos = [d for d in diags if d.code == "I001" and why in d.message]
    assert [(d.line, d.col, d.severity) for d in infos] == [(FRONTEND_BODY, 11, "info")]


UNCONVERTIBLE_ACLS = [
    ("path_beg -f /etc/haproxy/paths.lst", "file"),
    ("base example.com/a", "base"),
    ("req.cook(sid) -m found", "req.cook"),
    ("path_len gt 3", "-m len"),
    ("path,lower -m str /API", "upper-case"),
    ("hdr_cnt(x) gt 1", "hdr_cnt"),
    ("req.hdr(host),regsub(a,b) -m str x", "regsub"),
]


@pytest.mark.parametrize("expression,why", UNCONVERTIBLE_ACLS, ids=[e for e, _ in UNCONVERTIBLE_ACLS])
def test_unconvertible_acl_and_its_rules_stay_raw(expression, why):
    fe, diags = frontend_of(f"acl a {expression}\nuse_backend x if a\ndefault_backend y\n")
    assert fe.acls == [] and fe.rules == []
    assert fe.raw[0].text == f"acl a {expression}\nuse_backend x if a\n"
    assert fe.default == ir.UseUpstream(upstream="y")
    first = next(d for d in diags if d.line == FRONTEND_BODY)
    assert first.code == "I001" and why in first.message
    assert any(d.line == FRONTEND_BODY + 1 and "ACL 'a'" in d.message for d in diags)


def test_acl_lines_of_one_name_are_ored_and_a_bad_line_keeps_them_all_raw():
    fe, _ = frontend_of("acl s path_beg /a\nacl s path_end .js\nuse_backend x if s\n")
    assert fe.acls == [ir.Acl(name="s", condition=ir.AnyOf(items=[ir.PathMatch(op="prefix", values=["/a"]),
                                                                   ir.PathMatch(op="suffix", values=[".js"])]))]
    fe, diags = frontend_of("acl s path_beg /a\nacl s base x\nuse_backend x if s\n")
    assert fe.acls == [] and fe.raw[0].text == "acl s path_beg /a\nacl s base x\nuse_backend x if s\n"
    assert {d.line for d in diags if d.code == "I001"} == {FRONTEND_BODY, FRONTEND_BODY + 1, FRONTEND_BODY + 2}


# ============================================================================ conditions


A, B = ir.AclRef(name="a"), ir.AclRef(name="b")
CONDITIONS = [
    ("if a b", ir.All(items=[A, B])),
    ("if a or b", ir.AnyOf(items=[A, B])),
    ("if a || !b", ir.AnyOf(items=[A, ir.Not(item=B)])),
    ("if !a", ir.Not(item=A)),
    ("if ! a", ir.Not(item=A)),
    ("unless a b", ir.Not(item=ir.All(items=[A, B]))),
    ("if a { path_beg /x } OR !{ src 10.0.0.0/8 }",
     ir.AnyOf(items=[ir.All(items=[A, ir.PathMatch(op="prefix", values=["/x"])]),
                     ir.Not(item=ir.SourceMatch(values=["10.0.0.0/8"]))])),
    ("if TRUE", None),
    ("if a TRUE", A),
    ("if FALSE or a", A),
    ("if METH_GET", ir.MethodMatch(values=["GET", "HEAD"])),
    ("if LOCALHOST !a", ir.All(items=[ir.SourceMatch(values=["127.0.0.1/8", "::1"]), ir.Not(item=A)])),
]


@pytest.mark.parametrize("guard,expected", CONDITIONS, ids=[g for g, _ in CONDITIONS])
def test_conditions(guard, expected):
    fe, diags = frontend_of(f"acl a path /a\nacl b path /b\nuse_backend x {guard}\n")
    assert fe.rules == [ir.Rule(condition=expected, action=ir.UseUpstream(upstream="x"))], messages(diags)


@pytest.mark.parametrize("guard,code,col", [
    ("if nosuch", "E203", 22),
    ("if later", "E203", 22),
    ("if { path_beg /x", "E202", 22),
    ("if FALSE", "I001", 19),
    ("if", "E202", 19),
])
def test_condition_problems_keep_the_rule_raw(guard, code, col):
    fe, diags = frontend_of(f"use_backend x {guard}\nacl later path /l\n")
    assert fe.rules == [] and fe.raw[0].text.startswith(f"use_backend x {guard}\n")
    assert (FRONTEND_BODY, col) in [(d.line, d.col) for d in diags if d.code == code], messages(diags)


# ============================================================================ rules and actions


def test_rule_phases_follow_haproxy_not_the_file_order():
    """tcp-request, then http-request, then the older redirect, then use_backend."""
    fe, diags = frontend_of("""
        acl api path_beg /api
        use_backend api if api
        redirect prefix /new code 301 if { path_beg /old }
        http-request deny deny_status 429 if { src 10.0.0.0/8 }
        tcp-request content reject if { src 192.0.2.0/24 }
        default_backend web
    """)
    assert [type(r.action).__name__ for r in fe.rules] == ["Deny", "Deny", "Redirect", "UseUpstream"]
    assert fe.rules[1].action == ir.Deny(status=429)
    assert fe.rules[2].action == ir.Redirect(code=301, prefix="/new")
    assert any("without an HTTP response" in d.message for d in diags)


def test_http_request_allow_guards_the_rules_after_it():
    fe, _ = frontend_of("acl ok src 10.0.0.0/8\nhttp-request allow if ok\nhttp-request deny\n")
    assert fe.rules == [ir.Rule(condition=ir.Not(item=ir.AclRef(name="ok")), action=ir.Deny())]


ACTIONS = [
    ("http-request redirect scheme https code 301 unless { ssl_fc }",
     ir.Redirect(code=301, scheme="https"), ir.Not(item=ir.TlsMatch())),
    ("http-request redirect code 303 prefix /new", ir.Redirect(code=303, prefix="/new"), None),
    ("http-request redirect location if code 302", ir.Redirect(code=302, location="if"), None),
    ("http-request redirect location 'https://x/a b?p=50%%' code 308",
     ir.Redirect(code=308, location="https://x/a b?p=50%"), None),
    ("redirect location /100% code 302", ir.Redirect(code=302, location="/100%"), None),
    ("http-request return status 200 content-type 'text/html; charset=utf-8' string '<b>ok</b>'",
     ir.Return(status=200, content_type="text/html; charset=utf-8", body="<b>ok</b>"), None),
    ("http-request return status 503 lf-string 'down 100%%'", ir.Return(status=503, body="down 100%"), None),
    ("http-request return status 204", ir.Return(status=204), None),
    ("http-request deny", ir.Deny(status=403), None),
    ("http-request deny deny_status 401", ir.Deny(status=401), None),
]


@pytest.mark.parametrize("line,action,condition", ACTIONS, ids=[a for a, _, _ in ACTIONS])
def test_terminal_actions(line, action, condition):
    fe, diags = frontend_of(line + "\n")
    assert fe.rules == [ir.Rule(condition=condition, action=action)], messages(diags)


@pytest.mark.parametrize("line,why", [
    ("http-request redirect location %[hdr(host)]/x", "computed per request"),
    ("http-request redirect prefix /p drop-query", "drop-query"),
    ("http-request redirect location /x set-cookie A=1", "cookie"),
    ("http-request return status 200 file /etc/x", "file"),
    ("http-request return status 200 hdr X-A b", "response headers"),
    ("http-request deny deny_status 403 content-type text/plain string no", "content-type"),
    ("http-request set-var(txn.x) str(1)", "set-var"),
    ("http-request set-header X-A b if { path /a }", "conditional"),
    ("http-response set-header X-A %[res.hdr(x)]", "computed per request"),
    ("http-request normalize-uri fragment-strip", "normalize-uri"),
])
def test_unmodelled_actions_are_raw_with_an_i001_at_the_word(line, why):
    fe, diags = frontend_of(line + "\n")
    assert fe.rules == [] and fe.raw == [ir.Raw(target="haproxy", text=line + "\n")]
    found = [d for d in diags if d.line == FRONTEND_BODY and d.code == "I001"]
    assert found and why in found[0].message and found[0].col > 5


def test_header_changes_and_options():
    fe, _ = frontend_of("""
        option forwardfor
        http-request set-header X-Forwarded-Proto https
        http-request add-header X-Tag '50%% off'
        http-request del-header X-Debug
        http-response set-header Strict-Transport-Security "max-age=31536000"
        http-request normalize-uri percent-decode-unreserved
        http-request normalize-uri path-merge-slashes
        http-request normalize-uri path-strip-dot
        http-request normalize-uri path-strip-dotdot
    """)
    assert fe.forwardfor and fe.normalize_uri
    assert fe.request_headers == [ir.HeaderOp(action="set", name="X-Forwarded-Proto", value="https"),
                                  ir.HeaderOp(action="add", name="X-Tag", value="50% off"),
                                  ir.HeaderOp(action="delete", name="X-Debug")]
    assert fe.response_headers == [ir.HeaderOp(action="set", name="Strict-Transport-Security",
                                               value="max-age=31536000")]


def test_partial_normalize_uri_stays_raw():
    fe, diags = frontend_of("http-request normalize-uri path-merge-slashes\n")
    assert not fe.normalize_uri and fe.raw[0].text == "http-request normalize-uri path-merge-slashes\n"
    assert located(diags) == [(FRONTEND_BODY, 5, "warning")]


def test_stats():
    fe, _ = frontend_of("stats enable\n")
    assert fe.stats == ir.Stats(uri="/haproxy?stats")
    fe, diags = frontend_of("stats uri /s\nstats refresh 5s\nstats auth admin:p:w\nstats realm 'Admin\\ area'\n"
                            "stats show-legends\n")
    assert fe.stats == ir.Stats(uri="/s", refresh=5000, realm="Admin\\ area",
                                users=[ir.StatsUser(user="admin", password="p:w")])
    assert fe.raw[0].text == "stats show-legends\n" and located(diags) == [(FRONTEND_BODY + 4, 11, "info")]


def test_stats_before_http_request_rules_is_reported_unless_guarded():
    fe, diags = frontend_of("stats uri /s\nhttp-request deny if { src 10.0.0.0/8 } !{ path_beg /s }\n")
    assert fe.rules == [ir.Rule(condition=ir.SourceMatch(values=["10.0.0.0/8"]), action=ir.Deny())]
    assert not [d for d in diags if "stats page" in d.message]
    _, diags = frontend_of("stats uri /s\nhttp-request deny if { src 10.0.0.0/8 }\n")
    assert [(d.line, d.severity) for d in diags if "stats page" in d.message] == [(FRONTEND_BODY, "info")]


# ============================================================================ fixed-action backends


def test_fixed_action_backends_fold_into_the_rules_that_use_them():
    fe_text = ("acl v path_beg /v2\nuse_backend app if v\nuse_backend pxc:f:r2 if { path /gone }\n"
               "default_backend pxc:f:default\n")
    backends = ("backend app\n    server a 10.0.0.1:80\n"
                "backend pxc:f:r2\n    http-request return status 410 content-type text/plain string gone\n"
                "backend pxc:f:default\n    http-request redirect location https://example.com/ code 302\n")
    text = HTTP_DEFAULTS + "frontend f\n    bind :80\n" + textwrap.indent(fe_text, "    ") + backends
    cfg, _ = read_ok(text)
    assert [u.name for u in cfg.upstreams] == ["app"]
    fe = cfg.frontend("f")
    assert fe.rules[1].action == ir.Return(status=410, body="gone")
    assert fe.default == ir.Redirect(code=302, location="https://example.com/")


def test_a_fixed_action_backend_nobody_uses_stays_a_backend():
    cfg, diags = read_ok(HTTP_DEFAULTS + "backend maintenance\n    http-request return status 503\n")
    up = cfg.upstream("maintenance")
    assert up.servers == [] and up.raw[0].text == "http-request return status 503\n"
    assert located(diags) == [(BACKEND_BODY, 5, "warning")]


# ============================================================================ listeners


BINDS = [
    (":80", [(None, 80)]),
    ("*:8080", [(None, 8080)]),
    ("0.0.0.0:80", [("0.0.0.0", 80)]),
    ("127.0.0.1:8080", [("127.0.0.1", 8080)]),
    (":::443", [("::", 443)]),
    ("[::1]:443", [("::1", 443)]),
    ("ipv4@:80", [(None, 80)]),
    ("ipv6@:80", [("::", 80)]),
    (":80,127.0.0.1:81", [(None, 80), ("127.0.0.1", 81)]),
]


@pytest.mark.parametrize("address,expected", BINDS, ids=[a for a, _ in BINDS])
def test_bind_addresses(address, expected):
    cfg, diags = read_ok(HTTP_DEFAULTS + f"frontend f\n    bind {address}\n")
    assert [(lst.address, lst.port) for lst in cfg.frontend("f").listens] == expected, messages(diags)


def test_bind_tls_and_dropped_options():
    cfg, diags = read_ok(HTTP_DEFAULTS + "frontend f\n    bind :443 ssl crt /etc/ssl/site.pem alpn h2,http/1.1\n")
    assert cfg.frontend("f").listens == [ir.Listen(port=443, tls=ir.Tls(cert="/etc/ssl/site.pem"))]
    assert [(d.line, d.col) for d in diags if "alpn" in d.message] == [(7, 41)]


@pytest.mark.parametrize("bind,why", [
    ("/var/run/haproxy.sock", "not a plain TCP port"),
    ("unix@/run/x.sock", "not a plain TCP port"),
    (":8000-8010", "port range"),
    (":443 ssl", "crt"),
])
def test_binds_the_ir_cannot_hold_stay_raw(bind, why):
    cfg, diags = read_ok(HTTP_DEFAULTS + f"frontend f\n    bind {bind}\n")
    assert cfg.frontend("f").listens == [] and cfg.frontend("f").raw[0].text == f"bind {bind}\n"
    assert why in next(d for d in diags if d.line == 7).message


# ============================================================================ upstreams


BALANCES = [
    ("roundrobin", ir.Balance()),
    ("leastconn", ir.Balance(algorithm="least_conn")),
    ("source", ir.Balance(algorithm="source")),
    ("first", ir.Balance(algorithm="first")),
    ("uri whole", ir.Balance(algorithm="hash", key="uri")),
    ("url_param foo", ir.Balance(algorithm="hash", key="param", key_name="foo")),
    ("hdr(X-User)", ir.Balance(algorithm="hash", key="header", key_name="X-User")),
    ("hash req.cook(sid)", ir.Balance(algorithm="hash", key="cookie", key_name="sid")),
    ("random", ir.Balance(algorithm="random", choices=2)),
    ("random(3)", ir.Balance(algorithm="random", choices=3)),
    ("random(1)", ir.Balance(algorithm="random")),
]


@pytest.mark.parametrize("balance,expected", BALANCES, ids=[b for b, _ in BALANCES])
def test_balance(balance, expected):
    up, diags = upstream_of(f"balance {balance}\n")
    assert up.balance == expected, messages(diags)
    assert not [d for d in diags if d.line == 7]


@pytest.mark.parametrize("balance,expected,why", [
    ("static-rr", ir.Balance(), "static-rr"),
    ("uri", ir.Balance(algorithm="hash", key="uri"), "without the query"),
    ("url_param foo check_post", ir.Balance(algorithm="hash", key="param", key_name="foo"), "check_post"),
])
def test_balance_approximations(balance, expected, why):
    up, diags = upstream_of(f"balance {balance}\n")
    assert up.balance == expected
    assert [d.severity for d in diags if d.line == 7 and why in d.message] == ["info"]


def test_hash_type_and_unknown_algorithm():
    up, _ = upstream_of("hash-type consistent\nbalance uri whole\n")
    assert up.balance == ir.Balance(algorithm="hash", key="uri", consistent=True)
    up, diags = upstream_of("balance rdp-cookie\n")
    assert up.balance == ir.Balance() and up.raw[0].text == "balance rdp-cookie\n"
    assert located(diags) == [(BACKEND_BODY, 13, "warning")]


def test_servers_and_default_server():
    up, diags = upstream_of("""
        default-server inter 2s rise 2 fall 3 weight 5
        server s1 10.0.0.1:8080 check maxconn 100 slowstart 30s
        server s2 app.internal check weight 20 backup
        server s3 [fd00::3]:80 disabled
        server-template tg 3 tg-net:80 check
    """)
    assert up.servers == [
        ir.Server(name="s1", host="10.0.0.1", port=8080, weight=5, check=True, max_conns=100, slow_start=30000),
        ir.Server(name="s2", host="app.internal", weight=20, check=True, backup=True),
        ir.Server(name="s3", host="fd00::3", port=80, weight=5, down=True),
        ir.Server(name="tg", host="tg-net", port=80, weight=5, check=True, count=3),
    ]
    assert up.health == ir.HealthCheck(interval=2000, rise=2, fall=3)
    assert not diags, messages(diags)


def test_server_options_override_default_server_ones():
    up, _ = upstream_of("default-server no-backup check disabled\nserver a 10.0.0.1:80 backup no-check enabled\n"
                        "server b 10.0.0.2:80\n")
    assert [(s.backup, s.check, s.down) for s in up.servers] == [(True, False, False), (False, True, True)]


def test_server_options_the_ir_does_not_model_are_reported():
    up, diags = upstream_of("server s1 10.0.0.1:443 ssl verify none check\n")
    assert up.servers == [ir.Server(name="s1", host="10.0.0.1", port=443, check=True)]
    assert [(d.line, d.col, d.message) for d in diags] == [
        (7, 28, "server options not imported: ssl, verify none")]


@pytest.mark.parametrize("line,why", [
    ("server s1 10.0.0.1:80 frobnicate", "unknown server option"),
    ("server s1 /run/app.sock", "not a host and port"),
    ("server s1 ${APP_HOST}:80", "environment variable"),
    ("server s1 10.0.0.1:+1000", "relative"),
])
def test_server_lines_the_ir_cannot_hold_stay_raw(line, why):
    up, diags = upstream_of(line + "\n")
    assert up.servers == [] and up.raw[0].text == line + "\n"
    assert why in next(d for d in diags if d.line == 7).message


def test_http_health_check_cookie_resolvers_and_timeouts():
    cfg, diags = read_ok(HTTP_DEFAULTS + textwrap.dedent("""\
        resolvers docker
            nameserver dns 127.0.0.11:53
        backend b
            option httpchk
            http-check send meth GET uri /healthz hdr Host app.local
            http-check expect status 200
            cookie SRV insert indirect nocache
            option allbackups
            timeout connect 3s
            timeout check 1s
            timeout queue 10s
            default-server inter 5s
            server s1 app-1:80 check cookie s1 resolvers docker init-addr last,libc,none
            server s2 app-2:80 check cookie two resolvers docker init-addr last,libc,none
    """))
    up = cfg.upstream("b")
    assert up.health == ir.HealthCheck(interval=5000, timeout=1000, http=ir.HttpCheck(
        method="GET", path="/healthz", host="app.local", expect_status=200))
    assert up.sticky_cookie == "SRV" and [s.cookie for s in up.servers] == [None, "two"]
    assert up.resolver == "docker" and up.timeouts == ir.Timeouts(connect=3000, queue=10000)
    assert not diags, messages(diags)


@pytest.mark.parametrize("line,expected", [
    ("option httpchk", ir.HttpCheck(method="OPTIONS", path="/")),
    ("option httpchk /ping", ir.HttpCheck(method="OPTIONS", path="/ping")),
    ("option httpchk HEAD /ping HTTP/1.1", ir.HttpCheck(method="HEAD", path="/ping")),
])
def test_option_httpchk_forms(line, expected):
    up, _ = upstream_of(line + "\nserver s 10.0.0.1:80 check\n")
    assert up.health.http == expected


def test_passive_checks():
    up, diags = upstream_of("server a 10.0.0.1:80 check observe layer7 error-limit 3 on-error mark-down\n"
                            "server b 10.0.0.2:80 check observe layer4 on-error mark-down\n"
                            "server c 10.0.0.3:80 check observe layer7 on-error fastinter\n")
    assert up.passive == ir.Passive(max_fails=3)
    assert [(d.line, d.severity) for d in diags] == [(6, "info"), (8, "warning"), (9, "warning")]
    assert "error-limit" in diags[1].message and "on-error mark-down" in diags[2].message


def test_servers_that_disagree_on_check_timing_are_reported():
    up, diags = upstream_of("server a 10.0.0.1:80 check inter 2s\nserver b 10.0.0.2:80 check inter 9s\n")
    assert up.health == ir.HealthCheck(interval=2000)
    assert [(d.line, d.severity) for d in diags if "differ" in d.message] == [(8, "warning")]


def test_two_backups_without_allbackups_is_reported():
    _, diags = upstream_of("server a 10.0.0.1:80 backup\nserver b 10.0.0.2:80 backup\n")
    assert [d.line for d in diags if "first backup" in d.message] == [6]


# ============================================================================ defaults


def test_several_defaults_sections_and_from():
    cfg, diags = read_ok(textwrap.dedent("""\
        defaults base
            mode http
            timeout connect 5s
            timeout client 30s
            timeout server 30s
        defaults slow from base
            timeout server 5m
        frontend a from base
            bind :80
            default_backend x
        backend x from base
            server s 10.0.0.1:80
        backend y from slow
            server s 10.0.0.2:80
        backend z
            server s 10.0.0.3:80
        defaults tcp
            mode tcp
        frontend t
            bind :5432
            default_backend z
    """))
    assert cfg.defaults.mode == "http"
    assert cfg.defaults.timeouts == ir.Timeouts(connect=5000, client=30000, server=30000)
    assert cfg.upstream("x").timeouts == ir.Timeouts()
    assert cfg.upstream("y").timeouts == ir.Timeouts(server=300000)
    assert cfg.upstream("z").timeouts == ir.Timeouts(server=300000)  # the last defaults before it: slow
    assert cfg.frontend("t").mode == "tcp"
    warnings = [(d.line, d.message) for d in diags if d.severity == "warning"]
    assert (19, "frontend t has no timeout client in its defaults, but the IR's defaults set one (30s)") in warnings


def test_defaults_lines_the_ir_does_not_model_are_raw_and_listed_once():
    cfg, diags = read_ok("global\n    log stdout format raw local0\ndefaults\n    mode http\n    log global\n"
                         "    option httplog\n    retries 3\n    option redispatch\n    timeout connect 60s\n")
    assert cfg.defaults == ir.Defaults(mode="http", log=True)
    assert cfg.raw == [ir.Raw(target="haproxy", context="defaults", text="retries 3\noption redispatch\n")]
    assert [(d.line, d.message) for d in diags] == [
        (7, "defaults settings kept as raw HAProxy text: option redispatch, retries")]


def test_unused_defaults_and_unknown_from():
    cfg, diags = read_ok("defaults old\n    mode tcp\ndefaults\n    mode http\nfrontend f from nope\n    bind :80\n")
    assert cfg.defaults.mode == "http"
    assert [(d.line, d.col, d.code) for d in diags if "timeout" not in d.message] == [(1, 1, "I001"), (5, 17, "E205")]


def test_no_defaults_means_tcp_and_missing_timeouts_are_reported():
    cfg, diags = read_ok("frontend f\n    bind :80\n    default_backend b\nbackend b\n    server s 10.0.0.1:80\n")
    assert cfg.defaults == ir.Defaults(mode="tcp")
    assert sorted((d.line, d.message.split(":")[0]) for d in diags) == [
        (1, "no timeout client for f"), (4, "no timeout connect for b"), (4, "no timeout server for b")]


# ============================================================================ global, resolvers, sections


def test_global_logs_and_raw_lines():
    cfg, diags = read_ok(textwrap.dedent("""\
        global
            log stdout format raw local0 info
            log 127.0.0.1:514 local2
            log /dev/log len 2048 local0
            daemon
            stats socket /run/haproxy.sock mode 600 level admin
            lua-load /etc/haproxy/x.lua
    """))
    assert cfg.logs == [ir.Log(target="stdout", facility="local0", level="info"),
                        ir.Log(target="syslog", address="127.0.0.1:514", facility="local2")]
    assert cfg.raw == [ir.Raw(target="haproxy", context="global", text=(
        "log /dev/log len 2048 local0\ndaemon\nstats socket /run/haproxy.sock mode 600 level admin\n"
        "lua-load /etc/haproxy/x.lua\n"))]
    assert [(d.line, d.message) for d in diags] == [
        (4, "log option len 2048 is not modelled; kept as raw HAProxy text"),
        (5, "process and runtime settings kept as raw HAProxy text: daemon, stats socket"),
        (7, "global 'lua-load' is not modelled; kept as raw HAProxy text"),
    ]


def test_resolvers():
    cfg, diags = read_ok("resolvers dns\n    nameserver a 127.0.0.11:53\n    nameserver b 10.0.0.2\n"
                         "    hold valid 10s\n    hold nx 5s\n    timeout retry 1s\n    resolve_retries 3\n"
                         "    parse-resolv-conf\n")
    assert cfg.resolvers == [ir.Resolver(name="dns", hold_valid=10000, timeout=1000, retries=3, nameservers=[
        ir.Nameserver(name="a", address="127.0.0.11"), ir.Nameserver(name="b", address="10.0.0.2")])]
    assert [(d.line, d.severity) for d in diags] == [(5, "info"), (8, "warning")]


def test_resolvers_from_resolv_conf_stay_raw():
    cfg, diags = read_ok(HTTP_DEFAULTS + "resolvers sys\n    parse-resolv-conf\n"
                         "backend b\n    server s app:80 resolvers sys\n")
    assert cfg.resolvers == [] and cfg.raw == [
        ir.Raw(target="haproxy", context="sections", text="resolvers sys\n    parse-resolv-conf\n")]
    assert cfg.upstream("b").resolver is None
    assert [(d.line, d.severity) for d in diags] == [(6, "warning"), (8, "warning")]


def test_other_sections_are_raw_whole():
    peers = "peers mesh\n    # the local node\n    peer a 127.0.0.1:1024\n"
    text = "userlist admins\n    user a insecure-password x\n\n" + peers
    cfg, diags = read_ok(text)
    assert cfg.raw == [
        ir.Raw(target="haproxy", context="sections", text="userlist admins\n    user a insecure-password x\n"),
        ir.Raw(target="haproxy", context="sections", text=peers),
    ]
    assert [(d.line, d.severity) for d in diags] == [(1, "info"), (4, "warning")]


def test_listen_is_a_frontend_and_an_upstream():
    cfg, diags = read_ok(HTTP_DEFAULTS + textwrap.dedent("""\
        listen app
            bind :8000
            mode http
            acl api path_beg /api
            use_backend api if api
            balance leastconn
            timeout client 1m
            timeout server 2m
            server a 10.0.0.1:80
        listen only_servers
            server b 10.0.0.2:80
    """))
    fe = cfg.frontend("app")
    assert fe.default == ir.UseUpstream(upstream="app") and fe.timeouts == ir.Timeouts(client=60000)
    assert [r.action.upstream for r in fe.rules] == ["api"]
    assert [u.name for u in cfg.upstreams] == ["app", "only_servers"]
    app = cfg.upstream("app")
    assert app.balance.algorithm == "least_conn" and app.timeouts == ir.Timeouts(server=120000)
    assert [f.name for f in cfg.frontends] == ["app"] and not diags, messages(diags)


# ============================================================================ quoting, errors, robustness


def test_quoted_values_and_raw_text_as_written():
    fe, _ = frontend_of(r"""
        acl sp path_beg '/a b' "/c\"d" /e\ f
        acl hash path_end "#frag" '#x'
        acl env path "${NOT_EXPANDED}"
        use_backend x if sp or hash or env
        capture request header "X-Weird #1" len 10
    """)
    assert fe.acls[0].condition.values == ["/a b", '/c"d', "/e f"]
    assert fe.acls[1].condition.values == ["#frag", "#x"]
    assert fe.acls[2].condition.values == ["${NOT_EXPANDED}"]
    assert fe.raw[0].text == 'capture request header "X-Weird #1" len 10\n'


def test_writer_helper_acls_are_inlined():
    """The writer names an ACL whose pattern is exactly '}' (an anonymous one would end there)."""
    fe, _ = frontend_of("acl pxc:acl1 path '}'\nuse_backend x if pxc:acl1\n")
    assert fe.acls == [] and fe.rules[0].condition == ir.PathMatch(op="exact", values=["}"])


def test_lexer_errors_are_e001_with_a_position():
    cfg, diags = read("frontend f\n    bind :80\n    acl a path 'unterminated\n", "bad.cfg")
    assert cfg is None
    assert [(d.code, d.file, d.line, d.col) for d in diags] == [("E001", "bad.cfg", 3, 16)]


def test_lines_before_any_section():
    cfg, diags = read_ok("maxconn 10\nglobal\n    daemon\n")
    assert [(d.line, d.code, d.severity) for d in diags] == [(1, "E210", "error"), (3, "I001", "info")]
    assert cfg.raw[0].text == "daemon\n"


def test_conditional_blocks_are_evaluated_for_haproxy_2_6():
    text = textwrap.dedent("""\
        .if version_before(2.4)
        global
            nbproc 2
        .elif version_atleast(2.6) && streq(a,a)
        global
            nbthread 4
        .else
        global
            daemon
        .endif
        frontend f
            bind :80
        .if 0
        backend old
            server s 10.0.0.1:80
        .endif
            default_backend web
        .if defined(HAPROXY_MWORKER)
        .notice "hello"
            maxconn 100
        .endif
        .if (
        .endif
        .endif
    """)
    cfg, diags, stats = read_with_report(text, "t.cfg")
    assert cfg.raw[0].text == "nbthread 4\n" and [u.name for u in cfg.upstreams] == []
    # Lines after a skipped section header belong to the section before it, as in HAProxy.
    fe = cfg.frontend("f")
    assert fe.default == ir.UseUpstream(upstream="web") and fe.raw[0].text == "maxconn 100\n"
    about_blocks = [(d.line, d.code) for d in diags
                    if d.code == "E211" or "conditional block" in d.message or d.message.startswith(".")]
    assert about_blocks == [(2, "I001"), (18, "I001"), (19, "I001"), (22, "E211"), (24, "E211")]
    assert {2, 3, 8, 9, 14, 15} <= {line for line, _ in stats.reported}


def test_ledger_accounts_for_every_line():
    text = HTTP_DEFAULTS + "frontend f\n    bind :80\n    maxconn 10\n    http-request deny if { base x }\n"
    _, _, stats = read_with_report(text, "t.cfg")
    assert (stats.total, stats.converted) == (9, 7)
    assert stats.reported == [(8, "maxconn"), (9, "http-request")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "global", "defaults", "frontend f", "backend b", "listen l", "resolvers r", "peers p", "defaults d from x",
    "bind :80", "bind", "mode http", "mode tcp", "acl a path /x", "acl", "acl a", "use_backend b if a",
    "use_backend b if { path", "use_backend", "default_backend b", "http-request deny", "http-request redirect",
    "http-request return status", "server s 10.0.0.1:80 check", "server s", "server-template t x h:1",
    "balance", "balance random(x)", "timeout client", "timeout client x", "log", "log global", "stats",
    "stats auth x", "option httpchk", "http-check send meth", "http-check expect status x", "cookie",
    "nameserver", "nameserver n x:y", "hold valid", "default-server inter", "redirect", "tcp-request content",
    "'", "\"a", "x#y", "\\x4", "!", "{", "}", "if", "or",
]), max_size=12).map("\n".join) | st.text(max_size=200))
def test_any_input_gives_diagnostics_not_a_traceback(text):
    cfg, diags, stats = read_with_report(text, "fuzz.cfg")
    assert cfg is not None or [d.code for d in diags] == ["E001"]
    assert stats.converted + len(stats.reported) == stats.total
    assert not [d for d in diags if d.message == UNHANDLED]
    assert all(d.line for d in diags if d.code.startswith(("I", "E2")))


def test_deterministic_output():
    text = (Path(__file__).resolve().parent.parent / "examples" / "seed" / "haproxy-lab3.cfg").read_text()
    first, second = read(text, "a.cfg"), read(text, "a.cfg")
    assert first[0].model_dump() == second[0].model_dump()
    assert [str(d) for d in first[1]] == [str(d) for d in second[1]]


def test_regexes_keep_their_backslashes():
    condition, _ = acl_condition(r"path_reg -i ^/static/.*\.(css|js)$")
    assert condition == ir.PathMatch(op="regex", values=[r"^/static/.*\.(css|js)$"], ignore_case=True)
    assert re.compile(condition.values[0])
