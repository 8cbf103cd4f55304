"""The nginx reader: nginx.conf → IR.

The routing tests have two oracles. The IR's meaning is the route simulator; nginx's meaning is
nginx itself, run on loopback with a ``return 200 "<name>"`` in every location and server, so the
response body says which one answered. For every request the two must agree.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from proxyc import ir
from proxyc.dialects.nginx.reader import read, read_file, read_with_report
from proxyc.dialects.pxc.reader import load
from proxyc.routing import Request, route

try:
    from golden_cases import cases, load_case
    from helpers import require_binary, sample_requests, without_raw
    from nginx_canonical import nginx_canonical, nginx_losses
    from strategies import configs
except ImportError:  # run from the repository root
    from tests.golden_cases import cases, load_case
    from tests.helpers import require_binary, sample_requests, without_raw
    from tests.nginx_canonical import nginx_canonical, nginx_losses
    from tests.strategies import configs

ROOT = Path(__file__).resolve().parents[1]


def read_ok(text: str, filename: str = "nginx.conf", **kw) -> tuple[ir.Config, list]:
    cfg, diags = read(text, filename, **kw)
    assert cfg is not None, [str(d) for d in diags]
    assert not [d for d in diags if d.severity == "error"], [str(d) for d in diags]
    return cfg, diags


def http(body: str) -> str:
    return "events {}\nhttp {\n" + body + "\n}\n"


def codes_at(diags, code: str) -> list[tuple[int | None, str]]:
    return [(d.line, d.message) for d in diags if d.code == code]


def cond_text(cond) -> str:
    """A compact rendering of an IR condition, for asserting rule lists."""
    if cond is None:
        return "always"
    kind = cond.type
    if kind == "path":
        return f"path {cond.op}{' nocase' if cond.ignore_case else ''} {' '.join(cond.values)}"
    if kind == "host":
        return f"host {cond.op} {' '.join(cond.values)}"
    if kind == "source":
        return f"source {' '.join(cond.values)}"
    if kind == "acl":
        return cond.name
    if kind == "not":
        return f"not ({cond_text(cond.item)})"
    if kind == "all":
        return " and ".join(cond_text(i) for i in cond.items)
    if kind == "any":
        return "(" + " or ".join(cond_text(i) for i in cond.items) + ")"
    return kind


def body_of(action) -> str:
    return action.body if isinstance(action, ir.Return) else repr(action)


def rule_list(fe: ir.Frontend) -> list[tuple[str, str]]:
    return [(cond_text(r.condition), body_of(r.action)) for r in fe.rules] + [("default", body_of(fe.default))]


def ir_answer(cfg: ir.Config, path: str, host: str | None = None, port: int | None = None) -> str:
    request = Request(url=path, headers={"Host": host} if host else {}, port=port)
    return body_of(route(cfg, request).action)  # the IR's own meaning (normalize_uri decides)


# ------------------------------------------------------------------------------ seed labs


def anonymised(cfg: ir.Config) -> ir.Config:
    """nginx has no names for server blocks and upstream servers; both sides get positional ones."""
    copy = cfg.model_copy(deep=True)
    for i, fe in enumerate(copy.frontends, 1):
        fe.name = f"frontend{i}"
    for up in copy.upstreams:
        for i, server in enumerate(up.servers, 1):
            server.name = f"server{i}"
    return copy


@pytest.mark.parametrize("lab, example", [
    ("nginx-lab1.conf", "nginx-lab1-round-robin.pxc"),
    ("nginx-lab2.conf", "nginx-lab2-host-ip.pxc"),
    ("nginx-lab3.conf", "nginx-lab3-weighted.pxc"),
])
def test_seed_labs_import_to_the_example_irs(lab, example):
    # The IRs are equal except for names nginx does not have: frontends (http_80 here, "web" in
    # the example) and upstream servers (s1.. here, node1.. there).
    cfg, diags = read_file(str(ROOT / "examples" / "seed" / lab))
    expected = load((ROOT / "examples" / example).read_text(), example)
    assert cfg is not None and not [d for d in diags if d.severity != "info"], [str(d) for d in diags]
    assert anonymised(cfg) == anonymised(expected)
    assert [s.name for s in cfg.upstreams[0].servers] == ["s1", "s2", "s3"]
    assert cfg.frontends[0].name == "http_80"


def test_spans_point_at_the_directives():
    cfg, _ = read_ok(http("upstream u {\n  server 10.0.0.1:80;\n}\nserver {\n  listen 8080;\n"
                          "  location /a { proxy_pass http://u; }\n}"), "site.conf")
    fe, up = cfg.frontends[0], cfg.upstreams[0]
    assert (up.span.file, up.span.line, up.span.col) == ("site.conf", 3, None)
    assert up.servers[0].span.line == 4
    assert fe.listens[0].span.line == 7
    assert fe.rules[0].span.line == 8


# ------------------------------------------------------------------------------ locations

NINE_LOCATIONS = """
    location = /login { return 200 "exact-login"; }
    location ^~ /static/ { return 200 "noregex-static"; }
    location /static/img/ { return 200 "prefix-static-img"; }
    location ~ \\.php$ { return 200 "regex-php"; }
    location ~* \\.(png|jpg)$ { return 200 "regex-img"; }
    location /api/ { return 200 "prefix-api"; }
    location /api/v2/ { return 200 "prefix-api-v2"; }
    location / { return 200 "root"; }
    location ~ ^/api/v2/special { return 200 "regex-special"; }
"""

# (path, the location nginx picks); checked against the IR here and against nginx below.
NINE_PATHS = [
    ("/login", "exact-login"), ("/login/", "root"), ("/loginx", "root"),
    ("/static/a.php", "noregex-static"), ("/static/x.png", "noregex-static"), ("/static/", "noregex-static"),
    ("/static/img", "noregex-static"), ("/static/img/a.png", "regex-img"), ("/static/img/a.php", "regex-php"),
    ("/static/img/", "prefix-static-img"), ("/a.php", "regex-php"), ("/A.PHP", "root"), ("/x.PNG", "regex-img"),
    ("/api/", "prefix-api"), ("/api/x.php", "regex-php"), ("/api/v2/", "prefix-api-v2"),
    ("/api/v2/special", "regex-special"), ("/api/v2/special/x.png", "regex-img"), ("/api/v2/specialty", "regex-special"),
    ("/api", "root"), ("/apix", "root"), ("/", "root"), ("/static", "root"), ("/Static/x", "root"),
    ("/static/../api/x.php", "regex-php"), ("/static//img/", "prefix-static-img"), ("/%73tatic/a.php", "noregex-static"),
    ("/api/v2/../v2/special", "regex-special"), ("/api/v2/x.jpg?a=b", "regex-img"),
]


def test_nine_locations_become_the_design_first_match_order():
    cfg, _ = read_ok(http("server {\n listen 80;\n" + NINE_LOCATIONS + "\n}"))
    assert rule_list(cfg.frontends[0]) == [
        ("path exact /login", "exact-login"),
        ("path prefix /static/ and not (path prefix /static/img/)", "noregex-static"),
        ("path regex \\.php$", "regex-php"),
        ("path regex nocase \\.(png|jpg)$", "regex-img"),
        ("path regex ^/api/v2/special", "regex-special"),
        ("path prefix /static/img/", "prefix-static-img"),
        ("path prefix /api/v2/", "prefix-api-v2"),
        ("path prefix /api/", "prefix-api"),
        ("default", "root"),
    ]
    assert cfg.frontends[0].normalize_uri  # nginx matches locations against the normalised URI


@pytest.mark.parametrize("path, location", NINE_PATHS)
def test_nine_locations_route_as_nginx_selects(path, location):
    cfg, _ = read_ok(http("server {\n listen 80;\n" + NINE_LOCATIONS + "\n}"))
    assert ir_answer(cfg, path) == location


NESTED = """
    location /app/ {
        location ~ \\.php$ { return 200 "app-php"; }
        location /app/static/ { return 200 "app-static"; }
        location = /app/exact { return 200 "app-exact"; }
        return 200 "app";
    }
    location ^~ /lib/ {
        location ~ \\.txt$ { return 200 "lib-txt"; }
        location /lib/deep/ { return 200 "lib-deep"; }
        return 200 "lib";
    }
    location ~ \\.txt$ { return 200 "top-txt"; }
    location / { return 200 "root"; }
"""
NESTED_PATHS = [
    ("/app/x.php", "app-php"), ("/app/x.txt", "top-txt"), ("/app/static/x.php", "app-php"),
    ("/app/static/x.txt", "top-txt"), ("/app/static/x", "app-static"), ("/app/exact", "app-exact"),
    ("/app/exact.txt", "top-txt"), ("/app/other", "app"), ("/lib/a.txt", "lib-txt"), ("/lib/a", "lib"),
    ("/lib/deep/a.txt", "lib-txt"), ("/lib/deep/a", "lib-deep"), ("/a.txt", "top-txt"), ("/x", "root"),
]


@pytest.mark.parametrize("path, location", NESTED_PATHS)
def test_nested_locations_flatten_to_nginx_order(path, location):
    cfg, _ = read_ok(http("server {\n listen 80;\n" + NESTED + "\n}"))
    assert ir_answer(cfg, path) == location


def test_location_problems_nginx_refuses_are_errors():
    text = http("server {\n listen 80;\n location /a { location /b { } }\n location = /x { location /x/y { } }\n"
                " location /d { }\n location /d { }\n location ! /e { }\n}")
    _cfg, diags = read(text, "n.conf")
    assert codes_at(diags, "E207") == [
        (5, 'location "/b" is outside location "/a"'),
        (6, 'location "/x/y" cannot be inside the exact location "/x"'),
        (8, 'duplicate location "/d"'),
        (9, 'invalid location modifier "!"'),
    ]


def test_named_location_is_reported_not_routed():
    cfg, diags = read_ok(http("server {\n listen 80;\n location @fallback { return 200 'x'; }\n"
                              " location / { return 200 'root'; }\n}"))
    assert rule_list(cfg.frontends[0]) == [("default", "root")]
    assert (5, ("named location @fallback is reached only through try_files, error_page or similar; "
               "not imported")) in codes_at(diags, "I001")


# ------------------------------------------------------------------------------ server names

HOSTS = """
    server { listen {port}; server_name example.com www.example.com; return 200 "exact"; }
    server { listen {port}; server_name *.example.com; return 200 "wild-lead"; }
    server { listen {port}; server_name *.api.example.com; return 200 "wild-lead-long"; }
    server { listen {port}; server_name www.example.*; return 200 "wild-trail"; }
    server { listen {port}; server_name ~^([a-z]+)\\.regex\\.test$; return 200 "regex1"; }
    server { listen {port}; server_name ~^a; return 200 "regex2"; }
    server { listen {port} default_server; server_name default.test; return 200 "default"; }
    server { listen {port}; server_name .dot.test; return 200 "dot"; }
"""
HOST_CASES = [
    ("example.com", "exact"), ("www.example.com", "exact"), ("WWW.Example.COM", "exact"),
    ("example.com:8080", "exact"), ("foo.example.com", "wild-lead"), ("x.api.example.com", "wild-lead-long"),
    ("api.example.com", "wild-lead"), ("www.example.org", "wild-trail"), ("abc.regex.test", "regex1"),
    ("a.regex.test", "regex1"), ("abc.test", "regex2"), ("default.test", "default"), ("unknown.test", "default"),
    ("dot.test", "dot"), ("x.dot.test", "dot"), ("www.example.com.evil", "wild-trail"),
]


def test_server_names_in_nginx_precedence():
    cfg, _ = read_ok(http(HOSTS.replace("{port}", "80")))
    fe = cfg.frontends[0]
    assert [(a.name, cond_text(a.condition)) for a in fe.acls] == [
        ("host_example.com", "host exact example.com www.example.com"),
        ("host_dot.test", "host exact dot.test"),
        ("host_.api.example.com", "host suffix .api.example.com"),
        ("host_.example.com", "host suffix .example.com"),
        ("host_.dot.test", "host suffix .dot.test"),
        ("host_www.example.", "host prefix www.example."),
        ("host_regex", "host regex ^([a-z]+)\\.regex\\.test$"),
        ("host_regex_2", "host regex ^a"),
    ]
    assert body_of(fe.default) == "default"


@pytest.mark.parametrize("host, server", HOST_CASES)
def test_server_selection_routes_as_nginx(host, server):
    cfg, _ = read_ok(http(HOSTS.replace("{port}", "80")))
    assert ir_answer(cfg, "/", host) == server


def test_conflicting_server_name_is_ignored_as_nginx_does():
    cfg, diags = read_ok(http("server { listen 80; server_name a.test; return 200 one; }\n"
                              "server { listen 80; server_name a.test b.test; return 200 two; }"))
    assert ir_answer(cfg, "/", "a.test") == "one" and ir_answer(cfg, "/", "b.test") == "two"
    assert codes_at(diags, "I003") == [(4, ('conflicting server name "a.test" on *:80, ignored (as nginx does): '
                                           "line 3 has it first"))]


def test_one_frontend_per_distinct_socket_set():
    cfg, _ = read_ok(http(
        "server { listen 80; listen [::]:80; server_name a.test; return 200 a80; }\n"
        "server { listen 80; server_name b.test; return 200 b80; }\n"
        "server { listen 127.0.0.1:8080; listen 8081 default_server; return 200 other; }"))
    summary = [(fe.name, [(l.address, l.port, l.default_server) for l in fe.listens]) for fe in cfg.frontends]
    assert summary == [("http_80", [(None, 80, False)]), ("http_v6_80", [("::", 80, False)]),
                       ("http_127.0.0.1_8080", [("127.0.0.1", 8080, False), (None, 8081, True)])]
    # on *:80 the first server block is the default; [::]:80 has only a.test
    assert ir_answer(cfg, "/", "b.test", port=80) == "b80" and ir_answer(cfg, "/", "zzz", port=80) == "a80"


# ------------------------------------------------------------------------------ real nginx


MIXED = """
    server { listen {port}; server_name a.test;
        location / { return 200 "a-root"; }
        location /x/ { return 200 "a-x"; }
        location ~ \\.js$ { return 200 "a-js"; }
    }
    server { listen {port} default_server; server_name b.test;
        allow 127.0.0.1; allow 127.0.0.5; deny all;
        location / { return 200 "b-root"; }
        location /files/ { root /nonexistent; }
        location /adm/ { allow 127.0.0.2; deny all; root /nonexistent; }
    }
"""
# (host, path, client address, what answers): host routing, locations and access together
MIXED_CASES = [
    ("a.test", "/", "127.0.0.1", "a-root"), ("a.test", "/x/1", "127.0.0.1", "a-x"),
    ("a.test", "/y.js", "127.0.0.1", "a-js"), ("a.test", "/x/y.js", "127.0.0.1", "a-js"),
    ("b.test", "/", "127.0.0.1", "b-root"), ("other.test", "/x/", "127.0.0.1", "b-root"),
    ("b.test", "/files/a", "127.0.0.1", "status 404"), ("b.test", "/files/a", "127.0.0.2", "status 403"),
    ("b.test", "/adm/", "127.0.0.2", "status 404"), ("b.test", "/adm/", "127.0.0.1", "status 403"),
    ("b.test", "/", "127.0.0.5", "b-root"),
]


def answer_of(status: int, body: str) -> str:
    return body if status == 200 else f"status {status}"


def ir_outcome(cfg: ir.Config, port: int, path: str, host: str | None, src: str = "127.0.0.1") -> str:
    request = Request(url=path, headers={"Host": host} if host else {}, port=port, src=src)
    action = route(cfg, request).action
    if isinstance(action, ir.Return):
        return answer_of(action.status, action.body)
    return answer_of(action.status if isinstance(action, ir.Deny) else action.code, "")


def test_mixed_host_location_and_access_routing():
    cfg, _ = read_ok(http(MIXED.replace("{port}", "80")))
    assert [ir_outcome(cfg, 80, path, host, src) for host, path, src, _ in MIXED_CASES] == [
        expected for *_, expected in MIXED_CASES]


def test_real_nginx_agrees_with_the_imported_routes(tmp_path):
    """The same config served by nginx and evaluated from the IR: every answer must match."""
    require_binary("nginx")
    from proxyc.verify.procs import http_get, run_nginx
    from proxyc.verify.stubs import free_port

    p_loc, p_nested, p_host, p_mixed = (free_port() for _ in range(4))
    text = http(f"server {{\n listen 127.0.0.1:{p_loc};\n{NINE_LOCATIONS}\n}}\n"
                f"server {{\n listen 127.0.0.1:{p_nested};\n{NESTED}\n}}\n"
                + HOSTS.replace("{port}", f"127.0.0.1:{p_host}") + MIXED.replace("{port}", f"127.0.0.1:{p_mixed}"))
    cfg, _ = read_ok(text)
    cases = ([(p_loc, path, None, "127.0.0.1") for path, _ in NINE_PATHS]
             + [(p_nested, path, None, "127.0.0.1") for path, _ in NESTED_PATHS]
             + [(p_host, "/", host, "127.0.0.1") for host, _ in HOST_CASES]
             + [(p_mixed, path, host, src) for host, path, src, _ in MIXED_CASES])
    with run_nginx(text, tmp_path, [p_loc, p_nested, p_host, p_mixed]):
        for port, path, host, src in cases:
            status, _, body = http_get(port, path, host_header=host, source_ip=src)
            real = answer_of(status, body.decode())
            assert real == ir_outcome(cfg, port, path, host, src), (port, path, host, src)


# ------------------------------------------------------------------------------ headers


def test_header_inheritance_a_level_that_defines_any_inherits_none():
    cfg, diags = read_ok(http(
        "proxy_set_header X-Http http;\n"
        "upstream u { server 127.0.0.1:81; }\n"
        "server {\n listen 80;\n proxy_set_header X-Server server;\n"
        " location / { proxy_pass http://u; }\n"
        " location /api/ { proxy_set_header X-Api api; proxy_pass http://u; }\n}\n"
        "server {\n listen 81;\n location / { proxy_pass http://u; }\n}"))
    by_name = {fe.name: [(h.action, h.name, h.value) for h in fe.request_headers] for fe in cfg.frontends}
    # port 80: the server level replaces the http level; /api/ would replace both (reported)
    assert by_name == {"http_80": [("set", "X-Server", "server")], "http_81": [("set", "X-Http", "http")]}
    assert codes_at(diags, "I001") == [(9, ("the proxy_set_header headers in effect here differ from those of "
                                           "frontend http_80 (taken from line 8); the IR has one set per frontend"))]


def test_special_request_headers():
    cfg, diags = read_ok(http(
        "server {\n listen 443 ssl;\n ssl_certificate c.pem;\n ssl_certificate_key k.pem;\n"
        " location / {\n  proxy_set_header Host $host;\n  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "  proxy_set_header X-Forwarded-Proto $scheme;\n  proxy_set_header Accept-Encoding \"\";\n"
        "  proxy_set_header X-Real-IP $remote_addr;\n  proxy_pass http://127.0.0.1:81;\n }\n}"))
    fe = cfg.frontends[0]
    assert fe.forwardfor is True
    assert [(h.action, h.name, h.value) for h in fe.request_headers] == [
        ("set", "X-Forwarded-Proto", "https"), ("delete", "Accept-Encoding", None)]
    assert codes_at(diags, "I001") == [(12, ("proxy_set_header X-Real-IP uses nginx variables ($remote_addr); "
                                            "not imported"))]


def test_request_header_values_of_the_client_and_of_their_own():
    cfg, diags = read_ok(http(
        "server {\n listen 80;\n proxy_set_header X-Keep $http_x_keep;\n"
        " proxy_set_header X-Add $http_x_add;\n proxy_set_header X-Add one;\n proxy_set_header X-Add two;\n"
        " proxy_set_header X-Set a;\n proxy_set_header X-Set b;\n proxy_set_header X-Drop \"\";\n"
        " proxy_set_header Host example.internal;\n location / { proxy_pass http://10.0.0.1; }\n}"))
    assert [(h.action, h.name, h.value) for h in cfg.frontends[0].request_headers] == [
        ("add", "X-Add", "one"), ("add", "X-Add", "two"), ("set", "X-Set", "a"), ("add", "X-Set", "b"),
        ("delete", "X-Drop", None), ("set", "Host", "example.internal")]
    assert not codes_at(diags, "I001")


def test_response_headers_hidden_and_replaced():
    cfg, _ = read_ok(http("server {\n listen 80;\n proxy_hide_header X-Powered-By;\n proxy_hide_header Server;\n"
                          " add_header Server proxy always;\n add_header X-Extra 1 always;\n"
                          " location / { proxy_pass http://10.0.0.1; }\n}"))
    assert [(h.action, h.name, h.value) for h in cfg.frontends[0].response_headers] == [
        ("delete", "X-Powered-By", None), ("set", "Server", "proxy"), ("add", "X-Extra", "1")]


def test_response_headers_and_always():
    cfg, diags = read_ok(http("server {\n listen 80;\n add_header X-A a always;\n add_header X-B b;\n"
                              " location / { return 200 ok; }\n}"))
    assert [(h.action, h.name, h.value) for h in cfg.frontends[0].response_headers] == [
        ("add", "X-A", "a"), ("add", "X-B", "b")]
    assert [line for line, _ in codes_at(diags, "I001")] == [6]  # without always: 2xx/3xx only in nginx


# ------------------------------------------------------------------------------ upstreams


@pytest.mark.parametrize("directive, balance", [
    ("", {"algorithm": "round_robin"}),
    ("least_conn;", {"algorithm": "least_conn"}),
    ("ip_hash;", {"algorithm": "source"}),
    ("hash $request_uri consistent;", {"algorithm": "hash", "key": "uri", "consistent": True}),
    ("hash $http_x_user;", {"algorithm": "hash", "key": "header", "key_name": "X-User"}),
    ("hash $cookie_sid consistent;", {"algorithm": "hash", "key": "cookie", "key_name": "sid", "consistent": True}),
    ("hash $arg_id;", {"algorithm": "hash", "key": "param", "key_name": "id"}),
    ("hash $remote_addr consistent;", {"algorithm": "source", "consistent": True}),
    ("random;", {"algorithm": "random"}),
    ("random two;", {"algorithm": "random", "choices": 2}),
    ("random two least_conn;", {"algorithm": "random", "choices": 2}),
])
def test_balancing_methods(directive, balance):
    cfg, diags = read_ok(http(f"upstream u {{ {directive} server 10.0.0.1:80; }}"))
    assert cfg.upstreams[0].balance == ir.Balance(**balance)
    assert not codes_at(diags, "I001")


def test_hash_on_another_key_is_kept_raw_and_reported():
    cfg, diags = read_ok(http("upstream u {\n hash $host$uri;\n server 10.0.0.1:80;\n}"))
    up = cfg.upstreams[0]
    assert up.balance == ir.Balance() and [r.text for r in up.raw] == ["hash $host$uri;"]
    assert [line for line, _ in codes_at(diags, "I001")] == [4]


def test_upstream_server_parameters():
    cfg, diags = read_ok(http(
        "upstream u {\n"
        " server 10.0.0.1:8080 weight=5 max_conns=100 max_fails=3 fail_timeout=30s;\n"
        " server app.internal max_fails=3 fail_timeout=30s backup;\n"
        " server [fd00::5]:81 down slow_start=20s max_fails=3 fail_timeout=30s;\n"
        " keepalive 16;\n}"))
    up = cfg.upstreams[0]
    assert up.servers == [
        ir.Server(name="s1", host="10.0.0.1", port=8080, weight=5, max_conns=100),
        ir.Server(name="s2", host="app.internal", port=None, backup=True),
        ir.Server(name="s3", host="fd00::5", port=81, down=True, slow_start=20_000),
    ]
    assert up.passive == ir.Passive(max_fails=3, fail_timeout=30_000)
    assert [r.text for r in up.raw] == ["keepalive 16;"]
    assert codes_at(diags, "I001") == [(7, "keepalive in an upstream is not modelled; kept as raw nginx text")]


def test_passive_settings_that_differ_per_server_are_reported():
    cfg, diags = read_ok(http("upstream u {\n server 10.0.0.1 max_fails=2;\n server 10.0.0.2;\n}"))
    assert cfg.upstreams[0].passive == ir.Passive(max_fails=2, fail_timeout=10_000)
    assert [line for line, _ in codes_at(diags, "I001")] == [5]


def test_proxy_pass_to_literal_urls_makes_deduplicated_upstreams():
    cfg, diags = read_ok(http(
        "upstream app { server 10.0.0.1:80; }\n"
        "server {\n listen 80;\n"
        " location /a/ { proxy_pass http://backend:8000; }\n"
        " location /b/ { proxy_pass http://backend:8000; }\n"
        " location /c/ { proxy_pass http://backend:9000; }\n"
        " location /d/ { proxy_pass http://app; }\n"
        " location /e/ { proxy_pass http://app.example; }\n"
        " location / { proxy_pass http://backend:8000/; }\n}"))
    assert [(u.name, [(s.host, s.port) for s in u.servers]) for u in cfg.upstreams] == [
        ("app", [("10.0.0.1", 80)]), ("backend", [("backend", 8000)]), ("backend_9000", [("backend", 9000)]),
        ("app.example", [("app.example", 80)])]
    fe = cfg.frontends[0]
    assert [(cond_text(r.condition), r.action.upstream) for r in fe.rules] == [
        ("path prefix /a/", "backend"), ("path prefix /b/", "backend"), ("path prefix /c/", "backend_9000"),
        ("path prefix /d/", "app"), ("path prefix /e/", "app.example")]
    assert fe.default.upstream == "backend"
    assert not codes_at(diags, "I001")  # "/" replacing "/" changes nothing


def test_proxy_pass_with_uri_part_or_variables_is_reported():
    cfg, diags = read(http(
        "upstream app { server 10.0.0.1:80; }\n"
        "server {\n listen 80;\n"
        " location /api/ { proxy_pass http://app/v1/; }\n"
        " location /x/ { proxy_pass http://$host; }\n"
        " location /y/ { proxy_pass http://app:8080; }\n}"), "n.conf")
    fe = cfg.frontends[0]
    assert [(cond_text(r.condition), body_of(r.action)) for r in fe.rules] == [
        ("path prefix /api/", "UseUpstream(type='use', upstream='app')"),
        ("path prefix /x/", ""), ("path prefix /y/", "")]
    assert [(r.action.status) for r in fe.rules[1:]] == [502, 502]
    assert [(d.code, d.line) for d in diags if d.code in ("I001", "E207")] == [
        ("I001", 6), ("I001", 7), ("E207", 8)]


# ------------------------------------------------------------------------------ actions


@pytest.mark.parametrize("directive, action", [
    ('return 200 "ok";', ir.Return(status=200, body="ok")),
    ("return 404;", ir.Deny(status=404)),  # no text: nginx's own error page, as a deny answers
    ("return 204;", ir.Return(status=204)),
    ("return 301 https://$host$request_uri;", ir.Redirect(code=301, scheme="https")),
    ("return 308 https://$http_host$request_uri;", ir.Redirect(code=308, scheme="https")),
    ("return 302 https://example.com$request_uri;", ir.Redirect(code=302, prefix="https://example.com")),
    ("return 302 /v2$request_uri;", ir.Redirect(code=302, prefix="/v2")),  # any fixed text before the URI
    ("return 307 $request_uri;", ir.Redirect(code=307, prefix="/")),
    ("return 301 https://example.com/new;", ir.Redirect(code=301, location="https://example.com/new")),
    ("return https://example.com/;", ir.Redirect(code=302, location="https://example.com/")),
    ("rewrite ^ https://$host$request_uri? permanent;", ir.Redirect(code=301, scheme="https")),
    ("rewrite ^(.*)$ https://example.com$1 redirect;", ir.Redirect(code=302, prefix="https://example.com")),
    ("rewrite ^/(.*)$ https://example.com/$1 permanent;", ir.Redirect(code=301, prefix="https://example.com")),
])
def test_return_and_redirect_forms(directive, action):
    cfg, _ = read_ok(http(f"server {{ listen 80; location / {{ {directive} }} }}"))
    assert cfg.frontends[0].default == action


def test_default_type_sets_the_content_type_of_a_return():
    cfg, _ = read_ok(http('default_type application/json;\nserver { listen 80; return 200 "{}"; }'))
    assert cfg.frontends[0].default == ir.Return(status=200, body="{}", content_type="application/json")


def test_conditional_rewrite_redirect_and_internal_rewrite():
    cfg, diags = read(http("server {\n listen 80;\n rewrite ^/old$ /new permanent;\n rewrite ^/(.*)$ /x/$1 last;\n"
                           " location / { return 200 root; }\n}"), "n.conf")
    fe = cfg.frontends[0]
    assert rule_list(fe) == [("path regex ^/old$", repr(ir.Redirect(code=301, location="/new"))), ("default", "root")]
    assert [(line, msg.split(" ")[0]) for line, msg in codes_at(diags, "I001")] == [(5, "nginx"), (6, "rewrite")]


def test_server_level_return_answers_before_locations():
    cfg, _diags = read_ok(http("server {\n listen 80;\n return 301 https://$host$request_uri;\n"
                              " location /x { return 200 x; }\n}"))
    fe = cfg.frontends[0]
    # the location's rule stays, shadowed (a lint finding), rather than being dropped
    assert [cond_text(r.condition) for r in fe.rules] == ["always", "path prefix /x"]
    assert ir_answer(cfg, "/x") == repr(ir.Redirect(code=301, scheme="https"))


def test_allow_deny_become_ordered_deny_rules():
    cfg, _ = read_ok(http(
        "upstream root { server 10.0.0.1; }\nupstream open { server 10.0.0.2; }\nupstream admin { server 10.0.0.3; }\n"
        "server {\n listen 80;\n allow 10.0.0.0/8;\n deny 10.1.0.0/16;\n allow 192.168.0.1;\n deny all;\n"
        " location / { proxy_pass http://root; }\n location /open/ { allow all; proxy_pass http://open; }\n"
        " location /admin/ { deny 127.0.0.2; proxy_pass http://admin; }\n}"))
    fe = cfg.frontends[0]
    # /admin/ and /open/ have lists of their own, so they inherit none of the server's
    assert [(cond_text(r.condition), r.action.type) for r in fe.rules] == [
        ("path prefix /admin/ and source 127.0.0.2", "deny"), ("path prefix /admin/", "use"),
        ("path prefix /open/", "use"),
        ("not (source 10.0.0.0/8) and source 10.1.0.0/16", "deny"),  # never true, as in nginx
        ("not (source 10.0.0.0/8 192.168.0.1)", "deny")]

    def answer(path, src):
        action = route(cfg, Request(url=path, src=src)).action
        return "deny" if isinstance(action, ir.Deny) else action.upstream

    # nginx: the first matching allow/deny decides
    assert [answer("/", s) for s in ("10.1.2.3", "10.2.0.1", "192.168.0.1", "8.8.8.8")] == ["root"] * 3 + ["deny"]
    assert [answer("/admin/", s) for s in ("127.0.0.2", "8.8.8.8")] == ["deny", "admin"]
    assert answer("/open/", "8.8.8.8") == "open"


@pytest.mark.parametrize("prefix", ["$", "/a$b", "https://x.example/$"])
def test_a_redirect_prefix_with_a_dollar_reads_back(prefix):
    """The writer spells a "$" of the prefix with its dollar variable, next to $request_uri."""
    from proxyc.dialects.nginx.writer import write

    cfg = load(f'frontend w {{\n    listen :80\n    default redirect prefix "{prefix}" code 301\n}}\n', "r.pxc")
    back, _ = read_ok(write(cfg)[0])
    assert back.frontends[0].default == ir.Redirect(code=301, prefix=prefix)


def test_an_upstream_named_as_no_host_is_still_the_upstream():
    """nginx takes 'upstream a.' and 'proxy_pass http://a.' (a literal host would be refused)."""
    cfg, diags = read_ok("events {}\nhttp { upstream a. { server 10.0.0.1; }\n"
                         " server { listen 80; location / { proxy_pass http://a.; } } }\n"
                         "stream { upstream b. { server 10.0.0.2:5432; } server { listen 5432; proxy_pass b.; } }\n")
    assert [fe.default for fe in cfg.frontends] == [ir.UseUpstream(upstream="a."), ir.UseUpstream(upstream="b.")]
    assert not [d for d in diags if d.code == "I001"]


def test_the_writers_relative_redirect_reads_back_without_a_word():
    """absolute_redirect off is what keeps a relative Location as the IR sends it."""
    from proxyc.dialects.nginx.writer import write

    cfg = load("frontend w {\n    listen :80\n    default redirect prefix /new code 301\n}\n", "r.pxc")
    back, diags = read_ok(write(cfg)[0])
    assert back.frontends[0].default == ir.Redirect(code=301, prefix="/new")
    assert [d for d in diags if d.severity != "info"] == []


@pytest.mark.parametrize("servers", [["10.0.0.1:80"], ["10.0.0.1:80", "db.internal:80"]])
def test_a_dns_upstream_of_addresses_keeps_its_resolver(servers):
    """The writer's set / split_clients is an upstream with a resolver even when nginx needs
    none to reach an address."""
    from proxyc.dialects.nginx.writer import write

    lines = "".join(f"    server n{i} {host}\n" for i, host in enumerate(servers, 1))
    cfg = load("resolvers dns {\n    nameserver ns1 10.0.0.53:53\n}\n"
               f"upstream app {{\n    resolver dns\n{lines}}}\n"
               "frontend w {\n    listen :80\n    default app\n}\n", "d.pxc")
    back, _ = read_ok(write(cfg)[0])
    assert back.upstreams[0].resolver == "dns"
    assert [s.name for s in back.upstreams[0].servers] == [f"n{i}" for i in range(1, len(servers) + 1)]


def test_return_wins_over_deny_in_the_same_location():
    cfg, _ = read_ok(http("server { listen 80; location / { deny all; return 200 ok; } }"))
    assert rule_list(cfg.frontends[0]) == [("default", "ok")]


def test_stub_status_becomes_stats():
    cfg, _ = read_ok(http("server {\n listen 8080;\n location = /basic_status { stub_status; allow 127.0.0.1; deny all; }\n"
                          " location / { proxy_pass http://127.0.0.1:81; }\n}"))
    fe = cfg.frontends[0]
    assert fe.stats == ir.Stats(uri="/basic_status")
    assert [cond_text(r.condition) for r in fe.rules] == ["path exact /basic_status and not (source 127.0.0.1)"]


# ------------------------------------------------------------------------------ settings


def test_timeouts_land_where_the_ir_keeps_them():
    cfg, _diags = read_ok(http(
        "proxy_connect_timeout 5s;\nproxy_read_timeout 1m;\nclient_body_timeout 30;\nclient_header_timeout 10s;\n"
        "upstream slow { server 10.0.0.1:80; }\n"
        "server {\n listen 80;\n client_body_timeout 45s;\n"
        " location /slow/ { proxy_read_timeout 5m; proxy_pass http://slow; }\n"
        " location / { proxy_pass http://10.0.0.2:80; }\n}"))
    assert cfg.defaults.timeouts == ir.Timeouts(connect=5000, server=60_000, client=30_000, http_request=10_000)
    assert cfg.frontends[0].timeouts == ir.Timeouts(client=45_000)
    assert cfg.upstream("slow").timeouts == ir.Timeouts(server=300_000)
    assert cfg.upstream("10.0.0.2").timeouts == ir.Timeouts()


def test_tls_listener_with_certificate_and_key():
    cfg, _ = read_ok(http("ssl_certificate_key certs/site.key;\n"
                          "server { listen 443 ssl http2; ssl_certificate certs/site.crt; return 200 ok; }"))
    assert cfg.frontends[0].listens == [ir.Listen(port=443, tls=ir.Tls(cert="certs/site.crt", key="certs/site.key"))]
    assert cfg.frontends[0].name == "https_443"


def test_resolver_and_access_log():
    cfg, _diags = read_ok(http("resolver 127.0.0.11 10.0.0.2:5353 valid=10s ipv6=off;\nresolver_timeout 2s;\n"
                              "access_log /dev/stdout;\naccess_log syslog:server=10.0.0.9:514,facility=local7,"
                              "severity=info;\nupstream u { server tg-net resolve; }"))
    assert cfg.resolvers == [ir.Resolver(name="resolver", hold_valid=10_000, timeout=2000, nameservers=[
        ir.Nameserver(name="ns1", address="127.0.0.11"), ir.Nameserver(name="ns2", address="10.0.0.2", port=5353)])]
    assert cfg.upstreams[0].resolver == "resolver"
    assert cfg.logs == [ir.Log(target="stdout"), ir.Log(target="syslog", address="10.0.0.9:514",
                                                          facility="local7", level="info")]
    assert cfg.defaults.log is True


# ------------------------------------------------------------------------------ stream


def test_stream_becomes_tcp_frontends_and_upstreams():
    cfg, _diags = read_ok(
        "load_module modules/ngx_stream_module.so;\nevents {}\nstream {\n proxy_connect_timeout 3s;\n"
        " upstream pg { least_conn; server 10.0.4.10:5432 max_conns=100; server 10.0.4.12:5432 backup; }\n"
        " server { listen 5432; proxy_pass pg; proxy_timeout 1h; deny 192.0.2.0/24; }\n"
        " server { listen 6379; proxy_pass 10.0.5.1:6379; }\n}\n")
    assert cfg.defaults.mode == "tcp"
    pg, redis = cfg.frontends
    assert (pg.name, pg.mode, pg.default, pg.timeouts.client) == ("tcp_5432", None, ir.UseUpstream(upstream="pg"), 3_600_000)
    assert [cond_text(r.condition) for r in pg.rules] == ["source 192.0.2.0/24"]
    assert redis.default == ir.UseUpstream(upstream="10.0.5.1")
    up = cfg.upstream("pg")
    assert up.balance.algorithm == "least_conn" and up.timeouts == ir.Timeouts(server=3_600_000)
    # stream-level settings of a tcp-only config are its defaults, as http-level ones are
    assert cfg.defaults.timeouts == ir.Timeouts(connect=3000)
    assert cfg.upstream("10.0.5.1").servers == [ir.Server(name="s1", host="10.0.5.1", port=6379)]


def test_http_and_stream_share_no_upstream_names():
    cfg, _ = read_ok("events {}\nhttp { upstream app { server 10.0.0.1:80; } server { listen 80; "
                     "location / { proxy_pass http://app; } } }\n"
                     "stream { upstream app { server 10.0.0.1:5432; } server { listen 5432; proxy_pass app; } }\n")
    assert [(u.name, u.mode) for u in cfg.upstreams] == [("app", None), ("app_tcp", "tcp")]
    assert [(fe.name, fe.mode, fe.default.upstream) for fe in cfg.frontends] == [
        ("http_80", None, "app"), ("tcp_5432", "tcp", "app_tcp")]


# ------------------------------------------------------------------------------ unknown directives and raw


def test_unknown_directives_are_reported_and_kept_raw_where_they_have_a_place():
    cfg, diags = read_ok(
        "worker_processes 2;\nevents {}\nhttp {\n gzip on;\n map $http_upgrade $c { default upgrade; }\n"
        " server {\n  listen 80;\n  client_max_body_size 10m;\n"
        "  location / {\n   try_files $uri /index.html;\n   proxy_pass http://127.0.0.1:81;\n  }\n }\n}\n")
    assert [(r.context, r.text) for r in cfg.raw] == [
        ("main", "worker_processes 2;"), ("http", "gzip on;"),
        ("http", "map $http_upgrade $c {\n    default upgrade;\n}")]
    assert [r.text for r in cfg.frontends[0].raw] == ["client_max_body_size 10m;"]
    assert [(line, msg) for line, msg in codes_at(diags, "I001")] == [
        (1, "worker_processes is not modelled; kept as raw nginx text"),
        (4, "gzip is not modelled; kept as raw nginx text"),
        (5, "map is not modelled; kept as raw nginx text"),
        (8, "client_max_body_size in a server block is not modelled; kept as raw nginx text"),
        (10, "try_files in a location is not imported"),
    ]


def test_server_level_raw_is_not_kept_in_a_frontend_shared_by_several_blocks():
    cfg, diags = read_ok(http("server { listen 80; server_name a; gzip on; return 200 a; }\n"
                              "server { listen 80; server_name b; return 200 b; }"))
    assert cfg.frontends[0].raw == []
    assert codes_at(diags, "I001") == [(3, ("gzip in a server block is not modelled; not kept in frontend http_80, "
                                           "which serves several server blocks"))]


@pytest.mark.parametrize("directive", ["http2 on;", "ssl_reject_handshake on;", "keepalive_time 1h;",
                                       "quic_retry on;"])
def test_directives_newer_than_crossplane_do_not_fail(directive):
    cfg, _diags = read_ok(http(f"server {{ listen 80; {directive} location / {{ return 200 ok; }} }}"))
    assert [r.text for r in cfg.frontends[0].raw] == [directive]


def test_lua_blocks_are_reported_and_kept():
    cfg, _diags = read_ok(http('init_by_lua_block { local x = "}" }\n'
                              "server { listen 80; location / { content_by_lua_block { ngx.say('{') } } }"))
    assert [r.text for r in cfg.raw] == ['init_by_lua_block { local x = "}" }']
    assert cfg.frontends[0].default == ir.Return(status=502)


# ------------------------------------------------------------------------------ fragments and includes


def test_conf_d_file_of_server_blocks_is_read_as_an_http_body():
    cfg, diags = read_ok("upstream u { server 10.0.0.1:80; }\nserver { listen 80; location / { proxy_pass http://u; } }\n")
    assert cfg.frontends[0].default == ir.UseUpstream(upstream="u")
    assert codes_at(diags, "I002")[0][0] == 1


def test_snippet_is_read_as_the_body_of_a_server_block():
    cfg, _diags = read_ok("allow 10.0.0.0/8;\ndeny all;\nlocation / { proxy_pass http://10.0.0.1; }\n")
    fe = cfg.frontends[0]
    assert fe.listens == [ir.Listen(port=80)]
    assert [cond_text(r.condition) for r in fe.rules] == ["not (source 10.0.0.0/8)"]


def test_includes_follow_globs_with_spans_in_the_included_files(tmp_path):
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "b.conf").write_text("server {\n  listen 81;\n  return 200 b;\n}\n")
    (tmp_path / "sites" / "a.conf").write_text("server {\n  listen 80;\n  return 200 a;\n}\n")
    (tmp_path / "mime.types").write_text("types {\n  text/html html;\n}\n")
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp {\n  include mime.types;\n  include sites/*.conf;\n}\n")
    cfg, diags, stats = read_with_report(None, str(main), path=str(main))
    assert [d for d in diags if d.severity == "error"] == []
    assert [(fe.name, fe.span.file.split("/")[-1], fe.span.line) for fe in cfg.frontends] == [
        ("http_80", "a.conf", 1), ("http_81", "b.conf", 1)]
    assert [(r.context, r.text) for r in cfg.raw] == [("http", "include mime.types;")]
    by_file = {Path(name).name: (s.total, s.converted, s.reported) for name, s in stats.items()}
    assert by_file == {"nginx.conf": (4, 3, 1), "mime.types": (2, 0, 2), "a.conf": (3, 3, 0), "b.conf": (3, 3, 0)}


def test_relative_include_of_text_without_a_path_is_reported():
    _cfg, diags = read("events {}\nhttp { include conf.d/*.conf; }\n", "n.conf")
    assert [(d.code, d.line, d.severity) for d in diags if d.code.startswith("E")] == [("E205", 2, "warning")]


@pytest.mark.parametrize("content, code, line", [
    ("http {\n server {\n", "E201", 2),
    ("events {}\n}\n", "E201", 2),
    ("events {}\nhttp { server { listen 80 } }", "E201", 2),
    ("events {} worker_processes 2", "E201", 1),
    ("events {};;", "E201", 1),
])
def test_syntax_errors_are_located_diagnostics(content, code, line):
    cfg, diags = read(content, "bad.conf")
    assert cfg is None
    assert (diags[0].code, diags[0].file, diags[0].line, diags[0].severity) == (code, "bad.conf", line, "error")


def test_hostile_files_give_diagnostics_not_tracebacks(tmp_path):
    (tmp_path / "loop.conf").write_text("include loop.conf;\n")
    (tmp_path / "binary.conf").write_bytes(b"\x00\xff\xfe{\x80;}\n\x01events {}")
    (tmp_path / "latin1.conf").write_bytes(b"events {}\nhttp { server { listen 80; return 200 \"caf\xe9\"; } }\n")
    (tmp_path / "empty.conf").write_text("")
    (tmp_path / "missing.conf").write_text("events {}\nhttp { include /nonexistent/x.conf; }\n")
    results = {name: read_file(str(tmp_path / name)) for name in
               ("loop.conf", "binary.conf", "latin1.conf", "empty.conf", "missing.conf", "absent.conf")}
    codes = {name: [(d.code, d.line) for d in diags if d.code.startswith("E")] for name, (_, diags) in results.items()}
    assert codes["loop.conf"] == [("E206", 1)]
    assert codes["latin1.conf"] == [("E203", 2)]
    assert codes["empty.conf"] == [] and results["empty.conf"][0] == ir.Config()
    assert codes["missing.conf"] == [("E205", 2)]
    assert codes["absent.conf"] == [("E202", None)] and results["absent.conf"][0] is None
    assert all(code != "E999" for found in codes.values() for code, _ in found)
    assert results["latin1.conf"][0].frontends[0].default.body == "caf\ufffd"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["http", "server", "location", "~", "/a", "{", "}", ";", "listen", "80",
                                 "return", "200", "upstream", "u", "proxy_pass", "http://u", "include", "x",
                                 '"', "'", "#", "\n", "allow", "all", "stream", "$x", "\\", "server_name"]),
                max_size=40))
def test_any_token_soup_reads_without_an_exception(tokens):
    _cfg, diags = read(" ".join(tokens), "fuzz.conf")
    assert all(d.code != "E999" for d in diags), [str(d) for d in diags]


_NAMES = ["http", "server", "location", "listen", "return", "upstream", "proxy_pass", "include", "allow", "deny",
          "stream", "server_name", "rewrite", "set", "if", "hash", "events", "proxy_set_header", "add_header",
          "stub_status", "resolver", "access_log", "ssl_certificate", "proxy_hide_header", "proxy_timeout",
          "least_conn", "random", "ip_hash", "ssl", "proxy_connect_timeout", "default_type", "map", "gzip"]
_ARGS = ["~", "~*", "=", "^~", "/a", "/", "/a/b", "80", "443", "127.0.0.1:81", "ssl", "default_server", "200", "301",
         "https://$host$request_uri", "u", "http://u", "http://u:8", "http://h/x", "$x", "all", "10.0.0.0/8", "*.a",
         "a.*", ".a", "~^a", "^", "^(.*)$", "https://e$1", "permanent", "$request_uri", "consistent", "backup",
         "max_fails=2", "Host", "$host", "always", "1h", "on", "two", "@n", "unix:/s", "[::]:80", "$http_x", "X/Y"]


def _directives(depth: int):
    """Well-formed nginx text from directive names and arguments that matter to the reader."""
    words = st.lists(st.sampled_from(_ARGS), max_size=3).map(lambda args: "".join(f" {a}" for a in args))
    simple = st.tuples(st.sampled_from(_NAMES), words).map(lambda t: f"{t[0]}{t[1]};")
    if depth == 0:
        return simple
    block = st.tuples(st.sampled_from(_NAMES), words, st.lists(_directives(depth - 1), max_size=4)).map(
        lambda t: f"{t[0]}{t[1]} {{\n" + "\n".join(t[2]) + "\n}")
    return st.one_of(simple, block)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_directives(3), max_size=5))
def test_any_well_formed_config_is_accounted_for_and_imports_a_valid_ir(stmts):
    from proxyc.validate import validate

    cfg, diags, stats = read_with_report("\n".join(stmts) + "\n", "fuzz.conf")
    assert all(d.code != "E999" for d in diags), [str(d) for d in diags]
    assert all(not s.unaccounted for s in stats.values()), stats
    if cfg is not None and not any(d.severity == "error" for d in diags):
        assert validate(cfg) == []


def test_output_is_deterministic_across_hash_seeds():
    script = ("import sys; from proxyc.dialects.nginx.reader import read_file; "
              "cfg, diags = read_file(sys.argv[1]); print(cfg.model_dump_json()); print([str(d) for d in diags])")
    conf = str(ROOT / "examples" / "seed" / "nginx-lab2.conf")
    outputs = {subprocess.run([sys.executable, "-c", script, conf], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1


def test_upstream_names_are_case_insensitive_and_unique():
    cfg, diags = read(http("upstream App { server 10.0.0.1; }\nupstream app { server 10.0.0.2; }\n"
                           "server { listen 80; location / { proxy_pass http://APP; } }"), "n.conf")
    assert [u.name for u in cfg.upstreams] == ["App"]
    assert cfg.frontends[0].default == ir.UseUpstream(upstream="App")
    assert codes_at(diags, "E207") == [(4, 'duplicate upstream "app"')]


def test_main_file_made_of_includes_is_read_as_main(tmp_path):
    (tmp_path / "base.conf").write_text("events {}\nhttp { server { listen 80; return 200 ok; } }\n")
    (tmp_path / "nginx.conf").write_text("include base.conf;\n")
    cfg, diags = read_file(str(tmp_path / "nginx.conf"))
    assert [fe.name for fe in cfg.frontends] == ["http_80"] and not codes_at(diags, "I002")


def test_what_the_nginx_writer_writes_routes_the_same_when_shaped_differently():
    """tls-site.pxc says "redirect ... if always" and names an ACL; nginx has a location / and an
    exact location. Different IR shapes, same routes and the same settings."""
    from proxyc.dialects.nginx.writer import write

    expected = load((ROOT / "examples" / "tls-site.pxc").read_text(), "tls-site.pxc")
    cfg, _ = read_ok(write(expected)[0], "written.conf")
    # not "/x/../healthz": nginx normalises it to /healthz, the example matches raw paths (the writer says so)
    requests = [(port, path) for port in (80, 443) for path in ("/", "/healthz", "/healthz/", "/a?b", "/healthzz")]
    for port, path in requests:
        assert route(cfg, Request(url=path, port=port)).action == route(expected, Request(url=path, port=port)).action
    for mine, theirs in zip(cfg.frontends, expected.frontends, strict=True):
        assert (mine.listens, mine.request_headers, mine.response_headers, mine.forwardfor, mine.timeouts) == (
            theirs.listens, theirs.request_headers, theirs.response_headers, theirs.forwardfor, theirs.timeouts)
    assert cfg.defaults == expected.defaults


def test_stub_status_at_the_root_is_the_whole_frontend():
    cfg, diags = read_ok(http("server { listen 8404; location / { stub_status; } }"))
    fe = cfg.frontends[0]
    assert (fe.stats, fe.default, fe.rules) == (ir.Stats(uri="/"), None, [])
    assert not codes_at(diags, "I002")


def test_proxy_pass_through_variables_set_to_literals_resolves_at_run_time():
    # the linuxserver/swag and proxyc-writer shape of Docker DNS proxying
    cfg, diags = read_ok(http(
        "server {\n listen 80;\n location / {\n  resolver 127.0.0.11 valid=10s;\n  set $app bitwarden;\n"
        "  set $port 8080;\n  set $proto http;\n  proxy_pass $proto://$app:$port;\n }\n"
        " location /ip/ { set $t 10.0.0.9:81; proxy_pass http://$t; }\n"
        " location /if/ { set $u a; if ($http_x) { set $u b; } proxy_pass http://$u; }\n}"))
    # in the order the routes are evaluated (/ip/ before /), like every upstream made for a proxy_pass
    assert [(u.name, u.resolver, [(s.host, s.port) for s in u.servers]) for u in cfg.upstreams] == [
        ("10.0.0.9", None, [("10.0.0.9", 81)]), ("bitwarden", "resolver", [("bitwarden", 8080)])]
    fe = cfg.frontends[0]
    assert fe.default == ir.UseUpstream(upstream="bitwarden")
    assert [body_of(r.action) for r in fe.rules] == ["UseUpstream(type='use', upstream='10.0.0.9')", ""]
    # an "if" may set the variable otherwise: not read through
    assert [line for line, msg in codes_at(diags, "I001") if "set" in msg or "variables" in msg] == [13, 13]


def test_values_the_ir_cannot_name_are_reported_not_imported_invalid():
    cfg, diags = read(http(
        "upstream my/pool { server 10.0.0.1; }\n"
        "server {\n listen 80;\n deny ~;\n add_header X/Y 1 always;\n proxy_set_header \"A B\" 1;\n"
        " location / { proxy_pass http://10.0.0.1; }\n}"), "n.conf")
    assert [u.name for u in cfg.upstreams] == ["my_pool", "10.0.0.1"]
    fe = cfg.frontends[0]
    assert (fe.rules, fe.response_headers, fe.request_headers) == ([], [], [])
    assert [(d.code, d.line) for d in diags if d.severity != "info"] == [
        ("E207", 6), ("I001", 7), ("I001", 8)]
    from proxyc.validate import validate
    assert validate(cfg) == []


# ------------------------------------------------------------------------------ token escapes and "$"

# Tokens as written in nginx.conf. nginx decodes \" \' \\ \t \r \n in every token, quoted or
# bare, and keeps any other backslash pair as written (ngx_conf_read_token).
ESCAPED_TOKENS = (r'"a\\b"', r'"a\tb"', r'"a\xb"', r'"a\"b"', r'"a\'b"', '"a\\\\"', r'a\tb', r'a\\b', r'a\ b',
                  r'a\;b', r'"a\nb"', r'a\xb', r"'a\\b\"c'", r'"\\\r"', r'"\\\\t"', r'"\/\\."')


def _escape_locations() -> str:
    return "\n".join(f"location = /t{i} {{ return 200 {token}; }}" for i, token in enumerate(ESCAPED_TOKENS))


def _bodies(cfg: ir.Config) -> list[str]:
    fe, = cfg.frontends
    by_path = {rule.condition.values[0]: rule.action.body for rule in fe.rules}
    return [by_path[f"/t{i}"] for i in range(len(ESCAPED_TOKENS))]


def test_backslash_escapes_are_decoded_as_nginx_decodes_them(tmp_path):
    """The reader's values against nginx's own: each token is served as a response body."""
    require_binary("nginx")
    from proxyc.verify.procs import http_get, run_nginx
    from proxyc.verify.stubs import free_port

    port = free_port()
    text = http(f"server {{\n listen 127.0.0.1:{port};\n{_escape_locations()}\n}}\n")
    cfg, _ = read_ok(text)
    with run_nginx(text, tmp_path, [port]):
        served = [http_get(port, f"/t{i}")[2].decode() for i in range(len(ESCAPED_TOKENS))]
    assert _bodies(cfg) == served
    assert served[:3] == ["a\\b", "a\tb", "a\\xb"]  # the oracle decodes, and keeps other pairs


def test_escaped_tokens_kept_as_raw_text_print_back_as_written():
    """A Raw escape hatch is nginx text: its tokens stay as written, not decoded twice."""
    cfg, _ = read_ok(http("server {\n listen 80;\n location / { return 200 x; }\n}\n"
                          r'log_format pxc "a\\tb";' "\n"))
    assert [raw.text for raw in cfg.raw] == [r"log_format pxc a\\tb;"]  # decoded, it would be a\tb: a tab


DOLLAR_GEO = 'geo $pxc_dollar {\n default "$";\n}\n'


def test_the_writers_dollar_variable_reads_back_as_a_dollar_sign():
    cfg, diags = read_ok(http(DOLLAR_GEO + """upstream u { server 127.0.0.1:1; }
server {
 listen 80;
 proxy_set_header X-A "${pxc_dollar}host";
 add_header X-B "a$pxc_dollar" always;
 location = /r { return 302 "/${pxc_dollar}{x}"; }
 location = /b { return 200 "${pxc_dollar}${pxc_dollar}1"; }
 location / { proxy_pass http://u; }
}"""))
    fe, = cfg.frontends
    assert [(op.name, op.value) for op in fe.request_headers] == [("X-A", "$host")]
    assert [(op.name, op.value) for op in fe.response_headers] == [("X-B", "a$")]
    assert [getattr(rule.action, "location", None) or rule.action.body for rule in fe.rules] == ["/${x}", "$$1"]
    assert not cfg.raw and not codes_at(diags, "I001")  # the geo is the writer's own, converted


def test_a_dollar_variable_is_a_dollar_only_where_the_writers_geo_defines_it():
    # Without the geo it is just a variable (nginx -t would refuse it as unknown).
    _, diags = read_ok(http('server {\n listen 80;\n location / { return 200 "${pxc_dollar}x"; }\n}\n'))
    assert "uses nginx variables" in str(diags)
    # With real variables too, the text depends on the request: not a literal.
    cfg, diags = read_ok(http(DOLLAR_GEO + 'server {\n listen 80;\n location / { return 200 "${pxc_dollar}$host"; }\n}\n'))
    assert cfg.frontends[0].default.body == "${pxc_dollar}$host"
    assert "uses nginx variables" in str(diags)
    # Any other geo holding "$" is a user's own: kept raw.
    cfg, _ = read_ok(http('geo $dollar {\n default "$";\n}\nserver {\n listen 80;\n location / { return 200 x; }\n}\n'))
    assert [raw.text.split()[0] for raw in cfg.raw] == ["geo"]


def test_an_empty_add_header_adds_nothing():
    """nginx skips a header whose value is empty (checked against nginx 1.22)."""
    cfg, diags = read_ok(http('server {\n listen 80;\n add_header X-E "" always;\n proxy_hide_header X-F;\n'
                              ' add_header X-F "" always;\n location / { return 200 x; }\n}\n'))
    fe, = cfg.frontends
    assert [(op.action, op.name) for op in fe.response_headers] == [("delete", "X-F")]
    assert "adds nothing" in str(diags)


# ============================================================================ round trip through the writer


ROUTE_MAP = ("the route map the writer uses when a rule is not a plain path match (map/geo variables, "
             "'if' and named locations) is not read back by the nginx reader: each map is an I001")
# Cases whose IR nginx cannot give back; everything else must come back exactly (``nginx_canonical``).
NGINX_NOT_EXACT = {
    "nginx-hostile": "the writer refuses part of the frontend (P003), so it carries no routing comments and the "
                     "route map is not read back (" + ROUTE_MAP + "); names the IR cannot hold are made up again",
}
CASES = cases()
EXACT_CASES = [(name, path) for name, path in CASES if name not in NGINX_NOT_EXACT]


@pytest.mark.parametrize("case,path", EXACT_CASES, ids=[name for name, _ in EXACT_CASES])
def test_round_trip_through_the_nginx_writer(case, path):
    """IR → nginx writer → this reader gives the IR back, in nginx's spelling: names and the
    routing as written travel in '# proxyc:' comments; what nginx has no place for at all is
    reported by the writer and left out by ``nginx_canonical``."""
    from proxyc.dialects.nginx.writer import write

    original = nginx_canonical(load_case(path))
    text, _ = write(original)
    cfg, _ = read_ok(text, "written.conf")
    assert cfg == original
    assert write(cfg)[0] == text  # and writing what was read gives the same bytes


def test_the_not_exact_list_is_exactly_the_cases_that_differ():
    """A case that becomes exact must leave NGINX_NOT_EXACT (and one that stops must be added)."""
    from proxyc.dialects.nginx.writer import write

    differ = set()
    for case, path in CASES:
        original = nginx_canonical(load_case(path))
        if read(write(original)[0], "written.conf")[0] != original:
            differ.add(case)
    assert differ == set(NGINX_NOT_EXACT)


# P001s about what nginx does differently, where the IR still comes back whole (a DNS
# upstream's message says "lost: ..." when something is lost).
BEHAVIOUR_ONLY = ("stub_status reports connection counters", "one idle timeout for both sides",
                  "cannot tell an empty",
                  "re-resolves DNS names only through a variable proxy_pass", "resolver has no retries setting")


def routing_not_carried(cfg: ir.Config) -> bool:
    """Whether a frontend has routing the writer cannot carry in '# proxyc:' comments (a value
    with an invisible character, a line too long, a backslash at the end): nginx then holds it
    in maps and locations the reader imports as nginx's own, reported (I001), which the route
    map test checks."""
    from proxyc.dialects.nginx.provenance import routing_comments

    return any((fe.acls or fe.rules or fe.stats) and not routing_comments(fe, with_stats=True)
               for fe in cfg.frontends)


# derandomize: the same examples on every run (CI); tests/fuzz_long.py --round-trips searches on.
@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configs(comments=False))
def test_generated_configs_read_back_exactly(cfg):
    """IR → nginx → IR on any generated IR: what the nginx writer writes whole (no error, no
    P003), the reader gives back exactly as ``nginx_canonical`` spells it, and writing that
    again gives the same bytes. The canonical IR writes without a loss (P001), so every step
    of ``nginx_losses`` is one the writer reports. Raw text is left out (``without_raw``), and
    so are IRs whose frontends share a socket (no meaning to keep) or whose routing the
    writer cannot carry (see ``routing_not_carried``)."""
    from proxyc.dialects.nginx.writer import write

    assume(not shares_sockets(cfg))
    spelled = nginx_canonical(without_raw(cfg))
    text, written = write(spelled)
    if any(d.severity == "error" or d.code == "P003" for d in written) or routing_not_carried(spelled):
        return
    lost = [str(d) for d in written if d.code == "P001" and d.severity != "info"
            and ("lost:" in d.message or not any(part in d.message for part in BEHAVIOUR_ONLY))]
    assert not lost, lost
    back, diags = read(text, "w.conf")
    assert back == spelled, [str(d) for d in diags]
    assert write(back)[0] == text


def shares_sockets(cfg: ir.Config) -> bool:
    """Whether two listeners are on one address and port: an IR without meaning (S004 refuses
    it; HAProxy splits the connections between the frontends at random, nginx gives them all to
    the first server block)."""
    from proxyc.lint.context import listen_key

    keys = [listen_key(listen) for fe in cfg.frontends for listen in fe.listens]
    return len(keys) != len(set(keys))


def nginx_view(cfg: ir.Config, request: Request) -> tuple:
    """What a client sees, as nginx matches it (the normalised path): which upstream (with
    which usable servers) is proxied to, or which status and Location it gets (none for a
    closed TCP connection). A page of the target's own (deny) and a bodiless return of the same
    status look alike; a stats page with a login answers 403 in nginx (P001)."""
    from proxyc.routing import RoutingError, usable_servers

    try:
        d = route(cfg, request, normalize=True)
    except RoutingError:
        return ("cannot route",)
    if isinstance(d.action, ir.Stats) or d.kind == "stats":
        stats = next(fe.stats for fe in cfg.frontends if fe.name == d.frontend)
        return ("answered", 403, None) if stats.users else ("stats",)
    if d.upstream is not None and d.servers:
        return ("proxied", d.upstream.name, sorted((s.host, s.port) for s in usable_servers(d.upstream)))
    return ("answered", d.status, d.location)


def test_nginx_canonical_keeps_every_route():
    """``nginx_canonical`` changes how an IR is said, not where its requests go (as nginx
    matches them: normalize_uri is the flag it sets, and the writer reports it)."""
    for _, path in CASES:
        original = load_case(path)
        spelled = nginx_canonical(original)
        for request in sample_requests(original):
            assert nginx_view(spelled, request) == nginx_view(original, request), (path.name, request)


@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configs())
def test_nginx_canonical_keeps_every_route_of_generated_configs(cfg):
    """The same for any IR: the spelling steps never change where a request goes. (A loss may:
    a backup server nginx refuses is not there when every primary is down; each is a P001, which
    the round trip checks.) So ``nginx_canonical(cfg)`` routes as ``nginx_losses(cfg)``. A
    request names only a port, so frontends are told apart by port here."""
    ports = [listen.port for fe in cfg.frontends for listen in fe.listens]
    assume(len(ports) == len(set(ports)))
    lost, spelled = nginx_losses(cfg), nginx_canonical(cfg)
    for request in sample_requests(cfg):
        assert nginx_view(spelled, request) == nginx_view(lost, request), request


def without_provenance(text: str) -> str:
    """A written config with its '# proxyc:' comments taken out, as if written by hand."""
    return "\n".join(line for line in text.split("\n") if "# proxyc:" not in line)


def _lab2_text() -> str:
    from proxyc.dialects.nginx.writer import write

    return write(load_case(dict(CASES)["haproxy-lab2-path-acls"]))[0]


def test_without_the_provenance_comments_a_written_config_imports_as_hand_written():
    """The comments change nothing nginx does: stripped, the config reads as any other (ACLs
    inlined, made-up names) and routes every request the same."""
    text = _lab2_text()
    stripped = without_provenance(text)
    cfg, _ = read_ok(stripped)
    original = nginx_canonical(load_case(dict(CASES)["haproxy-lab2-path-acls"]))
    assert [fe.name for fe in cfg.frontends] == ["http_8404", "http_80"]
    assert cfg.frontends[1].acls == []
    assert all(s.name == f"s{i}" for up in cfg.upstreams for i, s in enumerate(up.servers, 1))
    for url in ["/", "/echo-web1", "/echo-web2/x", "/echo-web3", "/other"]:
        request = Request(url=url, port=80)
        assert route(cfg, request).action == route(original, request).action


def test_provenance_routing_that_the_locations_contradict_is_ignored():
    """Edited by hand after it was written: the locations route /echo-web2 elsewhere now, so
    the comments no longer describe them and the locations are what is read."""
    text = _lab2_text().replace("location /echo-web2 {\n            proxy_pass http://echo-web2_backend;",
                                "location /echo-web2 {\n            proxy_pass http://echo-web1_backend;")
    cfg, _ = read_ok(text)
    fe = cfg.frontends[1]
    assert fe.name == "myfrontend" and fe.acls == []  # the name still holds; the routing is the locations'
    assert route(cfg, Request(url="/echo-web2", port=80)).upstream.name == "echo-web1_backend"


def test_provenance_names_that_the_ir_cannot_hold_or_that_clash_are_not_taken():
    cfg, _ = read_ok(http(
        "upstream u {\n # proxyc: server a\n server 10.0.0.1;\n # proxyc: server a\n server 10.0.0.2;\n}\n"
        "# proxyc: frontend \"a b\"\nserver { listen 80; location / { proxy_pass http://u; } }\n"
        "# proxyc: frontend web\nserver { listen 81; location / { proxy_pass http://u; } }\n"
        "# proxyc: frontend web\nserver { listen 82; location / { proxy_pass http://u; } }"))
    assert [fe.name for fe in cfg.frontends] == ["http_80", "web", "http_82"]
    assert [s.name for s in cfg.upstreams[0].servers] == ["s1", "s2"]
    assert all(not fe.comments for fe in cfg.frontends)  # provenance comments are not the IR's comments


# ---------------------------------------------------------------------- route maps read back as written


def _host_routing_text() -> str:
    from proxyc.dialects.nginx.writer import write

    return write(load_case(dict(CASES)["host-routing"]))[0]


def test_a_route_map_reads_back_as_its_rules_with_nothing_reported():
    """The writer's map/if/named-location routing, checked against its '# proxyc:' comments,
    is the frontend's rules again: no map, if or named location is left as raw or I001."""
    cfg, diags = read_ok(_host_routing_text())
    fe, = cfg.frontends
    assert [acl.name for acl in fe.acls] == ["api", "shop", "tenants", "admin", "internal"]
    assert len(fe.rules) == 6 and fe.rules[-1].condition is None and not cfg.raw  # as written
    assert not [d for d in diags if d.code == "I001"], [str(d) for d in diags]
    original = nginx_canonical(load_case(dict(CASES)["host-routing"]))
    for host, url, src in [("api.example.com", "/v2/x", "1.2.3.4"), ("example.com", "/admin", "8.8.8.8"),
                           ("example.com", "/admin", "10.1.1.1"), ("a.tenants.example.com", "/", "1.1.1.1")]:
        request = Request(url=url, headers={"Host": host}, src=src, port=80)
        assert route(cfg, request).action == route(original, request).action


@pytest.mark.parametrize("edit", [
    ('"~^\\/admin" 1;', '"~^\\/adm" 1;'),  # a matcher map
    ('"~^(?=.{2}1)" r3;', '"~^(?=.{4}1)" r3;'),  # the route map
    ("if ($pxc_route_edge = r2) {", "if ($pxc_route_edge = r3) {"),  # the dispatch
    ("location @pxc_edge_r1 {", "location /admin {\n            return 200;\n        }\n"
                                "        location @pxc_edge_r1 {"),  # a location that takes paths
])
def test_a_route_map_edited_by_hand_is_read_as_before(edit):
    """The comments no longer describe the directives: they are ignored, the maps are raw
    text and the if/named locations reported, as for any hand-written config."""
    text = _host_routing_text()
    assert edit[0] in text
    cfg, diags = read(text.replace(edit[0], edit[1]), "edited.conf")
    assert cfg.frontends[0].acls == []
    assert any("map is not modelled" in d.message for d in diags)
    assert any("if in a location is not imported" in d.message for d in diags)


def test_a_route_body_edited_by_hand_is_read_as_edited():
    """What a route does comes from its named location, not from the comments."""
    text = _host_routing_text().replace("location @pxc_edge_r4 {\n            proxy_pass http://shop;",
                                        "location @pxc_edge_r4 {\n            proxy_pass http://tenants;")
    cfg, diags = read_ok(text)
    fe, = cfg.frontends
    assert fe.rules[3].condition == ir.AclRef(name="shop")
    assert fe.rules[3].action == ir.UseUpstream(upstream="tenants")
    request = Request(url="/", headers={"Host": "shop.example.com"}, port=80)
    assert route(cfg, request).upstream.name == "tenants"


def test_a_route_map_without_its_comments_imports_as_hand_written():
    text = without_provenance(_host_routing_text())
    cfg, diags = read(text, "stripped.conf")
    assert cfg.frontends[0].rules == [] and len(cfg.raw) == 7
    assert any("named location @pxc_edge_r1" in d.message for d in diags)


def _tcp_source_text() -> str:
    from proxyc.dialects.nginx.writer import write

    return write(load_case(dict(CASES)["routing-tcp-source"]))[0]


def test_a_stream_route_map_reads_back_as_its_rules_with_nothing_reported():
    """The geo/map routing of a TCP frontend, checked against its '# proxyc:' comments, is the
    frontend's rules again; the group that closes connections is the writer's, not an upstream."""
    cfg, diags = read_ok(_tcp_source_text())
    fe, = cfg.frontends
    assert [(cond_text(rule.condition), rule.action) for rule in fe.rules] == [
        ("source 127.0.0.3", ir.Deny()), ("source 127.0.0.2 10.9.0.0/16", ir.UseUpstream(upstream="replica"))]
    assert fe.default == ir.UseUpstream(upstream="primary")
    assert [up.name for up in cfg.upstreams] == ["primary", "replica"] and not cfg.raw
    assert not [d for d in diags if d.code == "I001"], [str(d) for d in diags]


@pytest.mark.parametrize("edit", [
    ("127.0.0.3 1;", "127.0.0.4 1;"),  # a geo
    ('"~^(?=.{1}1)" replica;', '"~^(?=.{1}1)" primary;'),  # where a rule sends
    ("default primary;", "default replica;"),  # where the rest goes
    ("# proxyc: use replica if", "# proxyc: use primary if"),  # the claim
    ("proxy_pass $pxc_upstream_db;", "proxy_pass $pxc_upstream_db;\n        deny 127.0.0.5;"),  # routes first
    ("upstream pxc_closed {\n        server 127.0.0.1:9 down;", "upstream pxc_closed {\n        server 127.0.0.1:9;"),
])
def test_a_stream_route_map_edited_by_hand_is_read_as_before(edit):
    """The comments no longer describe the directives: ignored, the maps are raw text and the
    variable proxy_pass is reported, as for any hand-written config."""
    text = _tcp_source_text()
    assert edit[0] in text
    cfg, diags = read(text.replace(edit[0], edit[1]), "edited.conf")
    assert cfg.frontends[0].rules == [] or cfg.frontends[0].rules[0].condition != ir.SourceMatch(values=["127.0.0.3"])
    assert any("map is not modelled" in d.message for d in diags)
    assert any("uses variables" in d.message for d in diags)
    assert "pxc_closed" in [up.name for up in cfg.upstreams]  # a group like any other


def test_a_stream_route_map_numbered_after_the_http_blocks_reads_back():
    """The matcher variables are one sequence across http and stream: the stream check starts
    where the file's stream variables do."""
    from proxyc.dialects.nginx.writer import write

    cfg = ir.Config(
        frontends=[ir.Frontend(name="web", listens=[ir.Listen(port=80)], default=ir.UseUpstream(upstream="a"),
                               rules=[ir.Rule(condition=ir.HeaderMatch(name="X-A", op="exact", values=["b"]),
                                              action=ir.Deny())]),
                   ir.Frontend(name="db", mode="tcp", listens=[ir.Listen(port=5432)], default=ir.UseUpstream(upstream="pg"),
                               rules=[ir.Rule(condition=ir.SourceMatch(values=["10.0.0.0/8"]), action=ir.Deny())])],
        upstreams=[ir.Upstream(name="a", servers=[ir.Server(name="s1", host="127.0.0.1", port=8080)]),
                   ir.Upstream(name="pg", mode="tcp", servers=[ir.Server(name="s1", host="127.0.0.1", port=5432)])])
    text = write(cfg)[0]
    assert "geo $pxc_src_2 {" in text
    back, diags = read_ok(text)
    assert [(fe.name, fe.rules, fe.default) for fe in back.frontends] == [
        (fe.name, fe.rules, fe.default) for fe in cfg.frontends]
    assert not [d for d in diags if d.code == "I001"], [str(d) for d in diags]


def test_a_closing_group_that_another_server_uses_stays_an_upstream():
    text = _tcp_source_text().replace("    # proxyc: frontend db", "    server {\n        listen 6000;\n"
                                      "        proxy_pass pxc_closed;\n    }\n\n    # proxyc: frontend db")
    cfg, diags = read(text, "edited.conf")
    assert any("map is not modelled" in d.message for d in diags)
    assert {fe.default.upstream for fe in cfg.frontends if isinstance(fe.default, ir.UseUpstream)} == {"pxc_closed"}


def test_a_stream_route_map_without_its_comments_imports_as_hand_written():
    text = without_provenance(_tcp_source_text())
    cfg, diags = read(text, "stripped.conf")
    assert cfg.frontends[0].rules == [] and len(cfg.raw) == 3
    assert any("uses variables" in d.message for d in diags)


def _hostile_text() -> str:
    from proxyc.dialects.nginx.writer import write

    return write(load_case(dict(CASES)["haproxy-hostile"]))[0]


def test_a_stats_page_with_a_login_reads_back_as_the_403_nginx_answers_and_keeps_the_route_map():
    """nginx.conf cannot hold the password file, so the writer closes the page (403) and says
    only that it had a login: no password in the file. The rest of the route map reads back as
    written; the page is the deny nginx answers with, reported."""
    text = _hostile_text()
    assert "p#ss" not in text and "# proxyc: stats_closed 1" in text
    cfg, diags = read_ok(text)
    fe, = cfg.frontends
    assert fe.stats is None and [acl.name for acl in fe.acls] == ["weird"]
    assert fe.rules[0].condition == ir.PathMatch(op="prefix", values=["/st ats"])
    assert fe.rules[0].action == ir.Deny(status=403)
    assert [cond_text(rule.condition) for rule in fe.rules[1:3]] == ["weird", "path prefix /a b#c /{x}"]
    assert not [d for d in diags if "map is not modelled" in d.message or "named location" in d.message]
    assert any("had a login (1 user)" in d.message for d in diags)
    request = Request(url="/st%20ats/x", port=8080)
    assert route(cfg, request, normalize=True).action == ir.Deny(status=403)


def test_a_closed_stats_page_opened_by_hand_reads_as_before():
    """The page's location serves stub_status now: not what the writer writes for a closed page."""
    text = _hostile_text().replace("location @pxc_edge_1_stats {\n            return 403;",
                                   "location @pxc_edge_1_stats {\n            stub_status;")
    cfg, diags = read(text, "edited.conf")
    assert cfg.frontends[0].acls == [] and any("map is not modelled" in d.message for d in diags)


# ---------------------------------------------------------------------- names nginx has no place for


def _case_text(case: str) -> str:
    from proxyc.dialects.nginx.writer import write

    return write(load_case(dict(CASES)[case]))[0]


def test_a_resolvers_name_nameservers_and_retries_come_back_from_its_comment():
    text = _case_text("docker-dns-alias")
    assert "# proxyc: resolver docker nameservers dns retries 3" in text
    cfg, _ = read_ok(text)
    resolver, = cfg.resolvers
    assert (resolver.name, [ns.name for ns in resolver.nameservers], resolver.retries) == ("docker", ["dns"], 3)
    assert [up.resolver for up in cfg.upstreams] == ["docker"] and resolver.comments == []


@pytest.mark.parametrize("comment,name,nameservers", [
    ("resolver \"a b\" nameservers dns", "resolver", ["dns"]),  # not an IR name
    ("resolver docker nameservers dns dns2", "docker", ["ns1"]),  # two names for one address
    ("resolver docker retries many", "resolver", ["ns1"]),  # not in the comment's shape
])
def test_a_resolver_comment_the_ir_cannot_take_is_not_taken(comment, name, nameservers):
    cfg, _ = read_ok(http(f"server {{\n listen 80;\n location / {{\n  # proxyc: {comment}\n"
                          "  resolver 127.0.0.11 valid=10s;\n  set $b backend:80;\n  proxy_pass http://$b;\n }\n}"))
    resolver, = cfg.resolvers
    assert (resolver.name, [ns.name for ns in resolver.nameservers]) == (name, nameservers)


def test_two_resolvers_claiming_one_name_are_two_resolvers_with_two_names():
    location = ("location /{path} {{\n  # proxyc: resolver docker\n  resolver {address};\n"
                "  set $b{path} b:80;\n  proxy_pass http://$b{path};\n }}\n")
    cfg, _ = read_ok(http("server {\n listen 80;\n" + location.format(path="a", address="127.0.0.11")
                          + location.format(path="b", address="127.0.0.12") + "}"))
    assert [(r.name, r.nameservers[0].address) for r in cfg.resolvers] == [("docker", "127.0.0.11"),
                                                                           ("resolver", "127.0.0.12")]


def test_a_renamed_upstream_comes_back_under_its_own_name():
    text = _case_text("haproxy-hostile")
    assert "# proxyc: upstream api~v1\n    upstream pxc_api_v1 {" in text
    cfg, diags = read_ok(text)
    assert [up.name for up in cfg.upstreams] == ["api~v1"] and cfg.upstreams[0].comments == []
    assert cfg.frontends[0].default == ir.UseUpstream(upstream="api~v1")
    assert not [d for d in diags if "is named" in d.message]


@pytest.mark.parametrize("comment", ["upstream other~name", "upstream api_v1", "upstream \"a b\""])
def test_an_upstream_name_the_writer_would_not_have_renamed_so_is_not_taken(comment):
    """The group's name must be the writer's for the claimed name (pxc_ and its variable
    characters); a name nginx could have used as it is was never renamed."""
    cfg, _ = read_ok(http(f"# proxyc: {comment}\nupstream pxc_api_v1 {{ server 10.0.0.1; }}\n"
                          "server { listen 80; location / { proxy_pass http://pxc_api_v1; } }"))
    assert [up.name for up in cfg.upstreams] == ["pxc_api_v1"]


def test_an_upstream_name_someone_has_already_is_not_taken_again():
    cfg, _ = read_ok(http("# proxyc: upstream api~v1\nupstream pxc_api_v1 { server 10.0.0.1; }\n"
                          "# proxyc: upstream api~v1\nupstream pxc_api_v1_2 { server 10.0.0.2; }\n"
                          "server { listen 80; location / { proxy_pass http://pxc_api_v1_2; } }"))
    assert [up.name for up in cfg.upstreams] == ["api~v1", "pxc_api_v1_2"]
    assert cfg.frontends[0].default == ir.UseUpstream(upstream="pxc_api_v1_2")


def test_dns_upstreams_come_back_from_split_clients_and_set_with_their_names():
    """The writer's split_clients over DNS names (several servers) and set (one), checked by
    rewriting, are the upstreams they were written from; the routing that names them too."""
    cfg, diags = read_ok(_case_text("docker-network"))
    assert [(up.name, up.resolver, [(s.name, s.host, s.port, s.weight) for s in up.servers]) for up in cfg.upstreams] == [
        ("web", "docker", [("web1", "echo-web1", 8080, 1), ("web2", "echo-web2", 8080, 1)]),
        ("api", "docker", [("api1", "api-1", 9000, 1), ("api2", "api-2", 9000, 1)]),
        ("static", "docker", [("files", "static-files", 80, 1)])]
    assert [acl.name for acl in cfg.frontends[0].acls] == ["api", "static"] and not cfg.raw
    assert not [d for d in diags if d.code == "I001"], [str(d) for d in diags]


def _dns_text(weights: list[int]) -> str:
    from proxyc.dialects.nginx.writer import write

    servers = [ir.Server(name=f"n{i}", host=f"node-{i}", port=80, weight=w) for i, w in enumerate(weights, 1)]
    cfg = ir.Config(resolvers=[ir.Resolver(name="dns", nameservers=[ir.Nameserver(name="ns1", address="127.0.0.11")])],
                    upstreams=[ir.Upstream(name="pool", resolver="dns", servers=servers)],
                    frontends=[ir.Frontend(name="web", listens=[ir.Listen(port=80)],
                                           default=ir.UseUpstream(upstream="pool"))])
    return write(cfg)[0]


@pytest.mark.parametrize("weights,back", [([1, 3], [1, 3]), ([2, 2, 2], [1, 1, 1]), ([1, 2], [3333, 6667])])
def test_dns_shares_read_back_as_the_weights_nginx_uses(weights, back):
    """Equal weights, else the shares in lowest terms: what nginx picks by, to the hundredth."""
    cfg, _ = read_ok(_dns_text(weights))
    up, = cfg.upstreams
    assert [s.weight for s in up.servers] == back and up.name == "pool"


@pytest.mark.parametrize("edit,servers", [
    (("25%", "30%"), [("node-1", 3), ("node-2", 7)]),  # another share: the weights nginx now uses
    (("node-2:80", "node-3:80"), [("node-1", 1), ("node-3", 3)]),  # another address
])
def test_a_dns_choice_edited_by_hand_reads_as_edited(edit, servers):
    cfg, _ = read_ok(_dns_text([1, 3]).replace(*edit))
    assert [(s.host, s.weight) for s in cfg.upstreams[0].servers] == servers


@pytest.mark.parametrize("edit", [
    ("$pxc_dns_pool", "$pxc_dns_other"),  # not the variable the writer names after the upstream
    ("25% node-1:80;", "125% node-1:80;"),  # shares no weights give
])
def test_a_dns_choice_the_writer_would_not_write_reads_as_before(edit):
    text = _dns_text([1, 3])
    assert edit[0] in text
    cfg, diags = read(text.replace(*edit), "edited.conf")
    assert cfg.upstreams == [] and any("split_clients is not modelled" in d.message for d in diags)


@pytest.mark.parametrize("comment,count", [("count 3", 3), ("count 0", None), ("count three", None)])
def test_a_dns_servers_count_comes_back_from_its_comment(comment, count):
    """nginx uses every address the name resolves to (the writer's P001); the IR's count is
    carried for the way back, a positive number or nothing."""
    text = _case_text("docker-dns-alias")
    assert "# proxyc: server tg\n            # proxyc: count 3\n" in text
    cfg, _ = read_ok(text.replace("# proxyc: count 3", f"# proxyc: {comment}"))
    assert [(s.name, s.count) for s in cfg.upstreams[0].servers] == [("tg", count)]


def test_a_single_dns_server_keeps_its_host_name_when_the_variable_is_not_the_claimed_names():
    text = _dns_text([1]).replace("$pxc_dns_pool", "$pxc_dns_elsewhere")
    cfg, _ = read_ok(text)
    assert [(up.name, up.servers[0].name) for up in cfg.upstreams] == [("node-1", "s1")]


@settings(max_examples=80, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(configs(comments=False))
def test_generated_route_maps_come_back_exactly_or_are_reported(cfg):
    """IR → nginx → IR on generated IRs in nginx's spelling that the writer writes without an
    error: a frontend written as a route map (HTTP or TCP) comes back with exactly its routing
    (ACLs, conditions, actions, default, stats page; a page with a login as the 403 nginx
    answers there; see ``_routing``) when its sockets are its own; otherwise (its http block has
    a route map the comments cannot carry, or sockets shared with another frontend) the reader
    reports the named locations (for TCP: the variable proxy_pass) it did not import. Nothing
    in between: a route map is never read back as different routing without a word."""
    from proxyc.dialects.nginx.writer import write

    cfg = nginx_canonical(without_raw(cfg))
    text, written = write(cfg)
    if any(d.severity == "error" for d in written):
        return
    back, diags = read(text, "w.conf")
    assert back is not None, [str(d) for d in diags]
    reported = {d.line for d in diags if d.code == "I001" and ("named location" in d.message
                                                               or "uses variables" in d.message)
                or "route map of this server block is not imported" in d.message}
    by_name = {fe.name: fe for fe in back.frontends}
    for fe in cfg.frontends:
        named = _named_location_lines(text, fe.name)
        if not named:
            continue  # not a route map (plain locations, or a TCP frontend that proxies to one group)
        got = by_name.get(fe.name)
        empty = {up.name for up in cfg.upstreams if up.resolver is None
                 and not any(not srv.down and srv.weight > 0 for srv in up.servers)}
        exact = got is not None and _routing(got, empty) == _routing(fe, empty)
        assert exact or set(named) <= reported, fe.name


def _routing(fe: ir.Frontend, empty: set[str]) -> tuple:
    """ACLs, conditions, stats page and every action but proxying ones: a body that proxies is
    read as any location is (an upstream nginx cannot name, resolve or reach reads back as
    nginx has it), so its action is the upstream the reader found there; one with no usable
    server (``empty``) is the 503 nginx answers with. Actions compare as nginx holds them."""
    from proxyc.dialects.nginx.provenance import as_written

    def action(value):
        if isinstance(value, ir.UseUpstream):
            return as_written(ir.Return(status=503)) if value.upstream in empty else "proxies"
        return as_written(value)
    rules = [(rule.condition, action(rule.action)) for rule in fe.rules]
    stats = fe.stats
    if stats is not None and stats.users:  # nginx answers 403 there (no password file): read as that deny
        closed = ir.PathMatch(op="prefix", values=[stats.uri.split("?", 1)[0]])
        rules.insert(0, (closed, action(ir.Deny(status=403))))
        stats = None
    return fe.acls, rules, action(fe.default), stats


def _named_location_lines(text: str, frontend: str) -> list[int]:
    """The lines of the named locations of the server block written for ``frontend`` (of its
    variable proxy_pass when it is a stream route map)."""
    from proxyc.dialects.provenance import name_comment

    lines = text.split("\n")
    marker = "# " + name_comment("frontend", frontend)
    start = next((i for i, line in enumerate(lines) if line.strip() == marker), None)
    if start is None:
        return []
    found = []
    for number in range(start + 1, len(lines)):
        line = lines[number].strip()
        if line.startswith("# proxyc: frontend"):
            break
        if line.startswith(("location @pxc_", "proxy_pass $pxc_upstream_")):
            found.append(number + 1)
    return found
