"""The route simulator (proxyc/routing.py): the IR's routing meaning, table by table.

Most tables write conditions in the DSL (readable); cases the DSL cannot state (unknown ACLs,
cycles, upper-case host values) build the IR directly. The live tests at the end check the
simulator's claims about nginx and HAProxy against the real servers on loopback.
"""
from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxyc import ir
from proxyc.dialects.pxc.reader import load
from proxyc.routing import (
    Decision,
    Request,
    RoutingError,
    balance_preview,
    describe_condition,
    host_only,
    normalize_path,
    route,
    usable_servers,
)

try:  # tests/ as a plain directory (rootdir-relative) or as a package
    from helpers import require_binary
except ImportError:  # pragma: no cover
    from tests.helpers import require_binary

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

TWO_UPSTREAMS = """
upstream hit {
    server h 127.0.0.1:1001
}
upstream miss {
    server m 127.0.0.1:1002
}
"""


def one_rule_config(condition: str, acls: str = "") -> ir.Config:
    """A frontend on :80 whose only rule sends ``condition`` to ``hit``; the default is ``miss``."""
    return load(f"frontend f {{\n    listen :80\n{acls}\n    use hit if {condition}\n    default miss\n}}\n"
                + TWO_UPSTREAMS, "t.pxc")


def upstream_of(decision: Decision) -> str | None:
    return decision.upstream.name if decision.upstream is not None else None


def holds(condition: str, acls: str = "", **request) -> bool:
    decision = route(one_rule_config(condition, acls), Request(port=80, **request))
    assert upstream_of(decision) in ("hit", "miss"), decision.trace
    return upstream_of(decision) == "hit"


# ======================================================================== matchers

PATH_CASES = [
    ("path exact /a", "/a", True),
    ("path exact /a", "/a/", False),
    ("path exact /a", "/A", False),
    ("path exact nocase /a", "/A", True),
    ("path exact /a", "/a?x=1", True),              # the query string is not part of the path
    ("path prefix '/a?'", "/a?b", False),           # ... so a matcher cannot see it
    ("path prefix /api", "/api", True),
    ("path prefix /api", "/api/v1", True),
    ("path prefix /api", "/apix", True),            # a string prefix, not a segment prefix
    ("path prefix /api", "/ap", False),
    ("path prefix /api", "/API/v1", False),
    ("path prefix nocase /api", "/API/v1", True),
    ("path prefix /a /b", "/b/c", True),            # several values: any of them
    ("path suffix .php", "/x/index.php", True),
    ("path suffix .php", "/x/index.php?debug=1", True),
    ("path suffix .php", "/x/index.PHP", False),
    ("path suffix nocase .php", "/x/index.PHP", True),
    ("path regex '^/u/[0-9]+$'", "/u/42", True),
    ("path regex '^/u/[0-9]+$'", "/u/42/x", False),
    ("path regex '\\.jpg'", "/a.jpg/b", True),      # searched, not anchored (PCRE ~ and path_reg)
    ("path regex '\\.JPG$'", "/a.jpg", False),
    ("path regex nocase '\\.JPG$'", "/a.jpg", True),
    ("path exact /a%20b", "/a%20b", True),          # raw by default: no decoding
    ("path exact '/a b'", "/a%20b", False),
]

HOST_CASES = [
    ("host exact example.com", "example.com", True),
    ("host exact example.com", "Example.COM", True),
    ("host exact example.com", "example.com:8080", True),
    ("host exact example.com", "www.example.com", False),
    ("host exact example.com", None, False),
    ("host exact a.org b.org", "B.org", True),
    ("host prefix www.", "WWW.example.org", True),
    ("host prefix www.", "example.org", False),
    ("host suffix .example.com", "api.example.com:81", True),
    ("host suffix .example.com", "example.com", False),
    ("host regex '^api[0-9]+\\.'", "API7.example.com", True),
    ("host regex '^api[0-9]+\\.'", "api.example.com", False),
    ("host regex 'example\\.com$'", "example.com:443", True),   # the port is gone before matching
    ("host exact '[::1]'", "[::1]:8080", True),
    ("host exact '[::1]'", "[::1]", True),
    ("host exact '[2001:db8::1]'", "[2001:DB8::1]:80", True),
]

METHOD_CASES = [
    ("method GET", "GET", True),
    ("method GET POST", "POST", True),
    ("method GET", "HEAD", False),
    ("method GET", "get", False),                   # methods are case-sensitive
]

HEADER_CASES = [
    ("header X-Env exact prod", {"X-Env": "prod"}, True),
    ("header X-Env exact prod", {"x-env": "prod"}, True),       # names fold case
    ("header x-env exact prod", {"X-ENV": "prod"}, True),
    ("header X-Env exact prod", {"X-Env": "Prod"}, False),      # values do not ...
    ("header X-Env exact nocase prod", {"X-Env": "PROD"}, True),  # ... unless asked
    ("header X-Env exact prod", {}, False),
    ("header X-Env prefix pr", {"X-Env": "prod-eu"}, True),
    ("header X-Env prefix pr", {"X-Env": "dev"}, False),
    ("header X-Env suffix -eu", {"X-Env": "prod-eu"}, True),
    ("header X-Env suffix nocase -EU", {"X-Env": "prod-eu"}, True),
    ("header X-Env contains od", {"X-Env": "prod-eu"}, True),
    ("header X-Env contains qa", {"X-Env": "prod-eu"}, False),
    ("header User-Agent regex '(?:curl|wget)/'", {"User-Agent": "curl/8.0"}, True),
    ("header User-Agent regex nocase '^CURL/'", {"User-Agent": "curl/8.0"}, True),
    ("header User-Agent regex '^CURL/'", {"User-Agent": "curl/8.0"}, False),
    ("header X-Debug present", {"X-Debug": ""}, True),
    ("header X-Debug present", {"x-debug": "1"}, True),
    ("header X-Debug present", {"X-Other": "1"}, False),
    ("not header X-Debug present", {}, True),
]

SOURCE_CASES = [
    ("source 10.0.0.0/8", "10.1.2.3", True),
    ("source 10.0.0.0/8", "11.0.0.1", False),
    ("source 10.0.0.1/8", "10.9.9.9", True),        # host bits set: still the /8 network
    ("source 10.0.0.0/8 192.168.1.5", "192.168.1.5", True),
    ("source 10.0.0.0/8 192.168.1.5", "192.168.1.6", False),
    ("source 2001:db8::/32", "2001:db8:0:1::9", True),
    ("source 2001:db8::/32", "2001:db9::1", False),
    ("source ::1", "::1", True),
    ("source ::1", "127.0.0.1", False),
    ("source 10.0.0.0/8", "::ffff:10.0.0.1", True),  # IPv4-mapped clients match IPv4 networks
    ("source ::ffff:10.0.0.0/104", "10.1.1.1", True),
    ("source 10.0.0.0/8", "2001:db8::1", False),
]

COMBINATION_CASES = [
    ("path prefix /a and method GET", {"url": "/a", "method": "GET"}, True),
    ("path prefix /a and method GET", {"url": "/a", "method": "POST"}, False),
    ("path prefix /a or path prefix /b", {"url": "/b"}, True),
    ("not path prefix /a", {"url": "/a"}, False),
    ("not path prefix /a", {"url": "/b"}, True),
    # "and" binds tighter than "or": /a or (/b and POST)
    ("path prefix /a or path prefix /b and method POST", {"url": "/a", "method": "GET"}, True),
    ("path prefix /a or path prefix /b and method POST", {"url": "/b", "method": "GET"}, False),
    ("(path prefix /a or path prefix /b) and method POST", {"url": "/a", "method": "GET"}, False),
    ("not (path prefix /a or method POST)", {"url": "/c"}, True),
]

ACLS = "    acl api path prefix /api\n    acl write method POST PUT\n    acl office source 192.0.2.0/24\n"
ACL_CASES = [
    ("api", {"url": "/api/x"}, True),
    ("api and write", {"url": "/api/x", "method": "GET"}, False),
    ("api and write", {"url": "/api/x", "method": "PUT"}, True),
    ("api and not office", {"url": "/api", "src": "192.0.2.7"}, False),
    ("api and not office", {"url": "/api", "src": "198.51.100.7"}, True),
    ("{ path prefix /api } and write", {"url": "/api", "method": "POST"}, True),
]


def _case_id(case) -> str:
    return re.sub(r"\s+", " ", " ".join(map(str, case)))[:80]


@pytest.mark.parametrize("case", PATH_CASES, ids=_case_id)
def test_path_matchers(case):
    condition, url, expected = case
    assert holds(condition, url=url) is expected


@pytest.mark.parametrize("case", HOST_CASES, ids=_case_id)
def test_host_matchers(case):
    condition, host, expected = case
    headers = {} if host is None else {"Host": host}
    assert holds(condition, headers=headers) is expected


@pytest.mark.parametrize("case", METHOD_CASES, ids=_case_id)
def test_method_matchers(case):
    condition, method, expected = case
    assert holds(condition, method=method) is expected


@pytest.mark.parametrize("case", HEADER_CASES, ids=_case_id)
def test_header_matchers(case):
    condition, headers, expected = case
    assert holds(condition, headers=headers) is expected


@pytest.mark.parametrize("case", SOURCE_CASES, ids=_case_id)
def test_source_matchers(case):
    condition, src, expected = case
    assert holds(condition, src=src) is expected


@pytest.mark.parametrize("case", COMBINATION_CASES, ids=_case_id)
def test_and_or_not(case):
    condition, request, expected = case
    assert holds(condition, **request) is expected


@pytest.mark.parametrize("case", ACL_CASES, ids=_case_id)
def test_acl_references(case):
    condition, request, expected = case
    assert holds(condition, acls=ACLS, **request) is expected


def test_host_values_compare_case_insensitively_even_when_written_in_upper_case():
    # The DSL reader lower-cases host values; other readers might not.
    cfg = one_rule_config("host exact placeholder")
    cfg.frontends[0].rules[0].condition = ir.HostMatch(op="exact", values=["Example.COM"])
    assert upstream_of(route(cfg, Request(port=80, headers={"host": "example.com"}))) == "hit"


def test_acls_sharing_a_name_hold_when_any_does():
    cfg = one_rule_config("a", acls="    acl a path prefix /x\n")
    cfg.frontends[0].acls.append(ir.Acl(name="a", condition=ir.PathMatch(op="prefix", values=["/y"])))
    assert upstream_of(route(cfg, Request(port=80, url="/y"))) == "hit"
    assert upstream_of(route(cfg, Request(port=80, url="/z"))) == "miss"


@pytest.mark.parametrize("value, expected", [
    ("example.com", "example.com"), ("Example.COM:8080", "example.com"), ("example.com:", "example.com"),
    ("[::1]:80", "[::1]"), ("[::1]", "[::1]"), ("", ""), (" a.org ", "a.org"), ("10.0.0.1:80", "10.0.0.1"),
])
def test_host_only(value, expected):
    assert host_only(value) == expected


def test_tls_matcher_follows_the_listener_and_the_request():
    cfg = load("frontend f {\n listen :80\n listen :443 tls cert c.pem\n use hit if tls\n default miss\n}\n"
               + TWO_UPSTREAMS)
    assert upstream_of(route(cfg, Request(port=80))) == "miss"
    assert upstream_of(route(cfg, Request(port=443))) == "hit"      # a TLS listener: TLS
    assert upstream_of(route(cfg, Request(tls=True))) == "hit"       # no port: as the request says
    with pytest.raises(RoutingError, match="not TLS"):
        route(cfg, Request(port=80, tls=True))


# ======================================================================== order

def test_first_match_wins_even_when_a_later_rule_is_more_specific():
    cfg = load("frontend f {\n listen :80\n use api if path prefix /api\n use api_v2 if path prefix /api/v2\n"
               " default web\n}\n" + "".join(f"upstream {n} {{\n server {n} 127.0.0.1:1\n}}\n"
                                           for n in ("api", "api_v2", "web")), "order.pxc")
    decision = route(cfg, Request(port=80, url="/api/v2/users"))
    assert (upstream_of(decision), decision.rule_index, decision.kind) == ("api", 0, "rule")
    assert decision.span == cfg.frontends[0].rules[0].span and decision.span.line == 3
    assert not any("rules[1]" in line for line in decision.trace), "evaluation stops at the first match"
    cfg.frontends[0].rules.reverse()
    assert upstream_of(route(cfg, Request(port=80, url="/api/v2/users"))) == "api_v2"
    assert upstream_of(route(cfg, Request(port=80, url="/api/v1"))) == "api"
    default = route(cfg, Request(port=80, url="/"))
    assert (upstream_of(default), default.kind, default.rule_index) == ("web", "default", None)
    assert default.span == cfg.frontends[0].default.span


# The nine nginx locations of one server block, as nginx would choose among them ...
NINE_LOCATIONS_NGINX = r"""
    location = / { return 200 "root"; }
    location ^~ /static/ { return 200 "static"; }
    location ^~ /static/img/ { return 200 "img"; }
    location /static/js/ { return 200 "js"; }
    location ~ \.php$ { return 200 "php"; }
    location ~* \.(png|jpe?g)$ { return 200 "images"; }
    location /api/ { return 200 "api"; }
    location /api/v2/ { return 200 "api_v2"; }
    location / { return 200 "fallback"; }
"""
# ... and as the IR first-match list in DESIGN §2 order: exact; ^~ longest first, each guarded
# by "not" every longer plain prefix extending it; regexes in file order; plain prefixes longest
# first; "location /" as the default.
NINE_LOCATIONS_PXC = r"""
frontend site {
    listen :80
    use root if path exact /
    use img if path prefix /static/img/
    use static if path prefix /static/ and not path prefix /static/js/
    use php if path regex '\.php$'
    use images if path regex nocase '\.(png|jpe?g)$'
    use js if path prefix /static/js/
    use api_v2 if path prefix /api/v2/
    use api if path prefix /api/
    default fallback
}
""" + "".join(f"upstream {n} {{\n    server {n} 127.0.0.1:1\n}}\n"
              for n in ("root", "static", "img", "js", "php", "images", "api", "api_v2", "fallback"))

NINE_LOCATION_REQUESTS = [
    ("/", "root"),
    ("/index.html", "fallback"),
    ("/index.php", "php"),
    ("/static/app.css", "static"),
    ("/static/app.php", "static"),           # ^~ stops the regex search
    ("/static/img/logo.png", "img"),         # the longer ^~ wins
    ("/static/img/x.php", "img"),
    ("/static/js/app.js", "js"),             # a longer plain prefix beats the ^~ ...
    ("/static/js/app.php", "php"),           # ... and so regexes are searched again
    ("/static/js/logo.PNG", "images"),
    ("/static/jsx", "static"),
    ("/api/v2/users", "api_v2"),
    ("/api/v2", "api"),
    ("/api/users.jpeg", "images"),
    ("/API/users", "fallback"),
    ("/static/js/../img/a.php", "img"),      # nginx matches the normalised path
    ("//static//img//a.png", "img"),
    ("/%73tatic/x.php", "static"),
]


@pytest.mark.parametrize("url, expected", NINE_LOCATION_REQUESTS)
def test_nine_nginx_locations_as_a_first_match_list(url, expected):
    cfg = load(NINE_LOCATIONS_PXC)
    assert upstream_of(route(cfg, Request(port=80, url=url), target="nginx")) == expected


# ======================================================================== normalisation

# Measured against nginx 1.22 ($uri); None is nginx's 400. The live test re-measures them.
NORMALISATION = [
    ("/a%2Fb", "/a/b"), ("/a//b", "/a/b"), ("/a/./b", "/a/b"), ("/a/../b", "/b"), ("/..", None),
    ("/a/..", "/"), ("/a/.", "/a/"), ("/%2e%2e/x", None), ("/a/%2e%2e/b", "/b"), ("/a%2F..%2Fb", "/b"),
    ("/%zz", None), ("/%00", None), ("/a%", None), ("/a%2", None), ("//..", None), ("/.", "/"),
    ("/a/b/../../..", None), ("/a%2f%2fb", "/a/b"), ("/a/...", "/a/..."), ("/a/..b", "/a/..b"),
    ("/a%2e/b", "/a./b"), ("/a/%2e/b", "/a/b"), ("/a/./", "/a/"), ("/a/b/..", "/a/"), ("/%23x", "/#x"),
    ("/%25", "/%"), ("/%2541", "/%41"), ("/a%3Fb", "/a?b"), ("/A%41", "/AA"), ("/a/b/../..", "/"),
    ("/a//../b", "/b"), ("/a/.%2e/b", "/b"), ("/%2F%2F", "/"), ("/", "/"), ("/caf%C3%A9", "/café"),
]


@pytest.mark.parametrize("raw, expected", NORMALISATION)
def test_normalize_path_like_nginx(raw, expected):
    assert normalize_path(raw) == expected


BYPASS = "frontend f {\n listen :80\n%s deny 403 if path prefix /admin\n default app\n}\n" \
         "upstream app {\n server a 127.0.0.1:1\n}\n"


@pytest.mark.parametrize("url", ["/static/../admin/users", "/%61dmin/users", "//admin", "/x/.%2e/admin"])
def test_encoded_paths_bypass_a_raw_matcher_but_not_a_normalised_one(url):
    raw_cfg, normalising_cfg = load(BYPASS % ""), load(BYPASS % " normalize_uri\n")
    assert route(raw_cfg, Request(port=80, url=url)).status is None              # HAProxy: proxied
    assert route(raw_cfg, Request(port=80, url=url), normalize=True).status == 403
    assert route(raw_cfg, Request(port=80, url=url), target="nginx").status == 403
    assert route(normalising_cfg, Request(port=80, url=url)).status == 403        # normalize_uri
    assert route(normalising_cfg, Request(port=80, url=url), normalize=False).status is None


def test_normalisation_is_reported_in_the_trace():
    decision = route(load(BYPASS % ""), Request(port=80, url="/static/../admin"), normalize=True)
    assert "path '/admin' (normalised from '/static/../admin')" in decision.trace[1]


@pytest.mark.parametrize("url, normalize", [
    ("/..", True), ("/a/%2e%2e/..", True), ("/%00", True), ("/a%zz", True),
    ("api/x", False), ("*", False), ("/a b", False), ("/a\tb", False), ("", False),
])
def test_invalid_requests_get_400(url, normalize):
    decision = route(load(BYPASS % ""), Request(port=80, url=url), normalize=normalize)
    assert (decision.kind, decision.status, decision.upstream) == ("invalid", 400, None)


def test_dot_dot_above_the_root_passes_a_raw_frontend():
    decision = route(load(BYPASS % ""), Request(port=80, url="/../admin"))
    assert (decision.kind, upstream_of(decision)) == ("default", "app")


# ======================================================================== stats, no route, actions

STATS = """
frontend f {
    listen :80
    stats uri /stats
    deny 403 if path prefix /
}
frontend secure {
    listen :81
    stats uri /admin/stats auth ops:s3cret
}
"""


@pytest.mark.parametrize("url, kind, status", [
    ("/stats", "stats", 200),
    ("/stats/", "stats", 200),
    ("/statsx", "stats", 200),      # HAProxy's stats uri is a prefix (measured, see the live test)
    ("/stats?refresh=5", "stats", 200),
    ("/Stats", "rule", 403),
    ("/", "rule", 403),
])
def test_stats_is_decided_before_rules(url, kind, status):
    cfg = load(STATS, "stats.pxc")
    decision = route(cfg, Request(port=80, url=url))
    assert (decision.kind, decision.status, decision.action is None) == (kind, status, kind == "stats")
    if kind == "stats":
        assert decision.rule_index is None and decision.span == cfg.frontends[0].stats.span


@pytest.mark.parametrize("authorization, status", [
    (None, 401),
    ("Basic " + base64.b64encode(b"ops:s3cret").decode(), 200),
    ("basic " + base64.b64encode(b"ops:s3cret").decode(), 200),
    ("Basic " + base64.b64encode(b"ops:wrong").decode(), 401),
    ("Basic !!!", 401),
    ("Bearer ops:s3cret", 401),
])
def test_stats_with_users_needs_credentials(authorization, status):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert route(load(STATS), Request(port=81, url="/admin/stats", headers=headers)).status == status


def test_examples_stats_uri_root_answers_every_path():
    cfg = load((EXAMPLES / "haproxy-lab1-stats.pxc").read_text())
    for url in ("/", "/;csv", "/anything?x"):
        assert route(cfg, Request(port=8404, url=url)).kind == "stats"


NO_DEFAULT = "frontend f {\n listen :80\n use app if path prefix /app\n}\nupstream app {\n server a 127.0.0.1:1\n}\n"


@pytest.mark.parametrize("target, status", [(None, 503), ("haproxy", 503), ("nginx", 404)])
def test_no_route(target, status):
    cfg = load(NO_DEFAULT, "nd.pxc")
    decision = route(cfg, Request(port=80, url="/other"), target=target)
    assert (decision.kind, decision.status, decision.action, decision.upstream) == ("no_route", status, None, None)
    assert decision.span == cfg.frontends[0].span
    assert route(cfg, Request(port=80, url="/app/x"), target=target).status is None


REDIRECTS = """
frontend f {
    listen :80
    redirect location https://example.org/moved code 301 if path prefix /old
    redirect prefix /v2 code 307 if path prefix /api
    redirect prefix / if path prefix /same
    redirect scheme https code 308
}
"""


@pytest.mark.parametrize("url, host, target, status, location", [
    ("/old/page?x=1", "a.org", None, 301, "https://example.org/moved"),
    ("/api/users?id=7", "a.org", None, 307, "/v2/api/users?id=7"),
    ("/same/x?q", "a.org", None, 302, "/same/x?q"),               # a prefix of "/" adds nothing
    ("/a/b?c=d", "Example.COM:8080", None, 308, "https://example.com/a/b?c=d"),
    ("/a/b?c=d", "Example.COM:8080", "nginx", 308, "https://example.com/a/b?c=d"),
    ("/a/b?c=d", "example.com.", "nginx", 308, "https://example.com/a/b?c=d"),
    ("/a/b?c=d", "Example.COM:8080", "haproxy", 308, "https://Example.COM:8080/a/b?c=d"),
    ("/a/../b", "a.org", None, 308, "https://a.org/a/../b"),       # the URI as sent
])
def test_redirects(url, host, target, status, location):
    decision = route(load(REDIRECTS), Request(port=80, url=url, headers={"Host": host}), target=target)
    assert (decision.status, decision.location, decision.action.type) == (status, location, "redirect")


@pytest.mark.parametrize("url, status, body", [("/health", 200, "ok"), ("/private", 403, None)])
def test_return_and_deny(url, status, body):
    cfg = load('frontend f {\n listen :80\n return 200 ok if path exact /health\n'
               ' deny if path prefix /private\n}\n')
    decision = route(cfg, Request(port=80, url=url))
    assert (decision.status, decision.upstream, decision.servers) == (status, None, [])
    assert getattr(decision.action, "body", None) == body


# ======================================================================== servers

POOLS = """
upstream pool {
    server a 127.0.0.1:1 down
    server b 127.0.0.1:2 weight 3
    server c 127.0.0.1:3 weight 0
    server k 127.0.0.1:4 backup
}
upstream standby {
    server a 127.0.0.1:1 down
    server b 127.0.0.1:2 weight 0
    server k1 127.0.0.1:3 backup
    server k2 127.0.0.1:4 backup down
    server k3 127.0.0.1:5 backup
}
upstream dead {
    server a 127.0.0.1:1 down
    server k 127.0.0.1:2 backup down
}
"""


@pytest.mark.parametrize("upstream, servers", [
    ("pool", ["b"]),                  # down and weight-0 primaries are skipped, backups unused
    ("standby", ["k1", "k3"]),        # no usable primary: every usable backup (nginx's way)
    ("dead", []),
])
def test_candidate_servers(upstream, servers):
    cfg = load(f"frontend f {{\n listen :80\n default {upstream}\n}}\n" + POOLS)
    decision = route(cfg, Request(port=80))
    assert [s.name for s in decision.servers] == servers
    assert decision.status == (None if servers else 503)


@pytest.mark.parametrize("target, status", [(None, 503), ("haproxy", 503), ("nginx", 502)])
def test_an_upstream_without_usable_servers_fails_the_request(target, status):
    cfg = load("frontend f {\n listen :80\n default dead\n}\n" + POOLS)
    assert route(cfg, Request(port=80), target=target).status == status


def test_smooth_weighted_round_robin_spreads_picks_like_nginx():
    cfg = load("upstream u {\n server a h:1 weight 5\n server b h:2\n server c h:3\n}\n")
    # The sequence from the comment above ngx_http_upstream_get_peer in nginx's sources.
    assert balance_preview(cfg.upstreams[0], 7) == ["a", "a", "b", "a", "c", "a", "a"]


def test_balance_preview_predicts_the_weighted_split_of_the_seed_lab():
    up = load((EXAMPLES / "nginx-lab3-weighted.pxc").read_text()).upstreams[0]
    assert Counter(balance_preview(up, 100)) == {"node1": 60, "node2": 20, "node3": 20}
    assert balance_preview(up, 100) == balance_preview(up, 100)  # deterministic
    assert balance_preview(up, 0) == []


@pytest.mark.parametrize("upstream, picks", [
    ("pool", ["b"] * 4),
    ("standby", ["k1", "k3", "k1", "k3"]),
    ("dead", []),
])
def test_balance_preview_uses_backups_only_when_no_primary_is_usable(upstream, picks):
    up = load(POOLS).upstream(upstream)
    assert balance_preview(up, 4) == picks
    assert [s.name for s in usable_servers(up)] == sorted(set(picks))


def test_balance_preview_first_and_least_conn():
    cfg = load("upstream f {\n balance first\n server x h:1\n server y h:2\n}\n"
               "upstream l {\n balance least_conn\n server x h:1 weight 2\n server y h:2\n}\n")
    assert balance_preview(cfg.upstream("f"), 3) == ["x", "x", "x"]
    assert balance_preview(cfg.upstream("l"), 3) == ["x", "y", "x"]


def test_balance_preview_source_is_nginx_ip_hash():
    up = load("upstream u {\n balance source\n server a h:1\n server b h:2\n server c h:3\n}\n").upstreams[0]
    clients = ["10.0.0.1", "10.0.0.200", "10.0.1.1", "10.0.2.1", "10.0.3.1", "2001:db8::1"]
    picks = balance_preview(up, 6, clients=clients)
    assert picks[0] == picks[1], "ip_hash uses only the first three octets of IPv4"
    # By hand, as ngx_http_upstream_get_ip_hash_peer: h = 89, then h = (h * 113 + octet) % 6271
    # over 10, 0, N gives 2565 + N; the server is h % 3 (total weight): 10.0.1.x → 2566 → b.
    assert picks[:5] == ["a", "a", "b", "c", "a"]
    assert balance_preview(up, 4, clients=["10.0.1.1"]) == ["b"] * 4
    # b down: 10.0.1.x rehashes from 2566 (→ 2320 → b again → 800 → c); the others stay.
    up.servers[1].down = True
    assert balance_preview(up, 5, clients=clients[:5]) == ["a", "a", "c", "c", "a"]


@pytest.mark.parametrize("balance", ["hash uri", "random", "hash header X-User consistent"])
def test_balance_preview_refuses_key_and_chance_based_algorithms(balance):
    up = load(f"upstream u {{\n balance {balance}\n server a h:1\n}}\n", "u.pxc").upstreams[0]
    with pytest.raises(RoutingError, match="no split to preview") as err:
        balance_preview(up, 3)
    assert err.value.span is not None and err.value.span.line == 2


# ======================================================================== every example

EXAMPLE_REQUESTS = {
    "docker-dns-alias": [(dict(port=80, url="/"), "tg-net", ["tg"])],
    "docker-network": [
        (dict(port=8080, url="/api/users"), "api", ["api1", "api2"]),
        (dict(port=8080, url="/api"), "web", ["web1", "web2"]),        # the ACL wants "/api/"
        (dict(port=8080, url="/static/site.css"), "static", ["files"]),
        (dict(port=8080, url="/"), "web", ["web1", "web2"]),
    ],
    "haproxy-lab1-stats": [
        (dict(port=80, url="/anything"), "webservers", ["s1", "s2", "s3"]),
        (dict(port=8404, url="/"), None, 200),
    ],
    "haproxy-lab2-path-acls": [
        (dict(port=80, url="/echo-web1/x"), "echo-web1_backend", ["s1"]),
        (dict(port=80, url="/echo-web2"), "echo-web2_backend", ["s2"]),
        (dict(port=80, url="/echo-web3?x=1"), "echo-web3_backend", ["s3"]),
        (dict(port=80, url="/echo-web"), "webservers", ["s1", "s2", "s3"]),
        (dict(port=8404, url="/x"), None, 200),
    ],
    "haproxy-lab3-grouped": [
        (dict(port=80, url="/item/42"), "item_pool", ["s1", "s2"]),
        (dict(port=80, url="/basket"), "basket_pool", ["s3", "s4"]),
        (dict(port=80, url="/Item"), "webservers", ["s1", "s2", "s3", "s4"]),
    ],
    "host-routing": [
        (dict(port=80, url="/v2/x", headers={"Host": "API.example.com:80"}), "api_v2", ["v2a", "v2b"]),
        (dict(port=80, url="/v1/x", headers={"Host": "api.example.com"}), "api", ["api1", "api2"]),
        (dict(port=80, url="/", headers={"Host": "www.shop.example.com"}), "shop", ["shop1", "shop2"]),
        (dict(port=80, url="/", headers={"Host": "acme.tenants.example.com"}), "tenants", ["t1", "t2"]),
        (dict(port=80, url="/admin", headers={"Host": "api.example.com"}, src="203.0.113.9"), None, 403),
        (dict(port=80, url="/admin", headers={"Host": "api.example.com"}, src="10.2.3.4"), "api",
         ["api1", "api2"]),
        (dict(port=80, url="/", headers={"Host": "example.net"}), None, 404),
    ],
    "nginx-lab1-round-robin": [(dict(port=80, url="/"), "backend-alb", ["node1", "node2", "node3"])],
    "nginx-lab2-host-ip": [(dict(port=80, url="/x"), "backend-alb", ["node1", "node2", "node3"])],
    "nginx-lab3-weighted": [(dict(port=80, url="/"), "backend-alb", ["node1", "node2", "node3"])],
    "tcp-database": [(dict(port=5432), "pg_pool", ["pg1", "pg2"])],
    "tls-site": [
        (dict(port=80, url="/login?next=/", headers={"Host": "site.example"}), None, 301),
        (dict(port=443, url="/healthz"), None, 200),
        (dict(port=443, url="/healthz/deep"), "app", ["app1", "app2"]),
    ],
}


def test_every_example_has_routing_cases():
    assert sorted(EXAMPLE_REQUESTS) == sorted(p.stem for p in EXAMPLES.glob("*.pxc"))


@pytest.mark.parametrize("name, request_args, upstream, expected", [
    (name, *case) for name, cases in sorted(EXAMPLE_REQUESTS.items()) for case in cases
], ids=lambda v: v if isinstance(v, str) else None)
def test_examples_route_as_written(name, request_args, upstream, expected):
    path = EXAMPLES / f"{name}.pxc"
    decision = route(load(path.read_text(), str(path)), Request(**request_args))
    assert upstream_of(decision) == upstream, "\n".join(decision.trace)
    if upstream is None:
        assert decision.status == expected
    else:
        assert [s.name for s in decision.servers] == expected and decision.status is None
    assert decision.span is not None and decision.span.file == str(path)


def test_tls_site_redirects_to_https_with_host_and_uri():
    decision = route(load((EXAMPLES / "tls-site.pxc").read_text()),
                     Request(port=80, url="/login?next=/", headers={"Host": "Site.Example:80"}))
    assert decision.location == "https://site.example/login?next=/"


# ======================================================================== errors

def _config(frontend_body: str, mode: str = "http") -> ir.Config:
    return load(f"defaults {{\n mode {mode}\n}}\nfrontend f {{\n listen :80\n{frontend_body}\n}}\n" + TWO_UPSTREAMS,
                "e.pxc")


@pytest.mark.parametrize("body, mode, request_args, message", [
    (" use hit if nosuch", "http", {}, "unknown ACL 'nosuch'"),
    (" acl a b\n acl b a\n use hit if a", "http", {}, r"ACL 'a' refers to itself \(a -> b -> a\)"),
    (" use nowhere if path prefix /", "http", {}, "unknown upstream 'nowhere'"),
    (" use hit if path regex '(unclosed'", "http", {}, "does not compile"),
    (" use hit if source 10.0.0.300/8", "http", {}, "not an address or CIDR"),
    (" default hit", "http", {"src": "localhost"}, "client address 'localhost'"),
    (" use hit if path prefix /", "tcp", {}, "path matchers need HTTP"),
    (" use hit if header X present", "tcp", {}, "header matchers need HTTP"),
    (" return 200 ok", "tcp", {}, "return needs HTTP"),
])
def test_routing_errors_name_the_problem_and_where(body, mode, request_args, message):
    with pytest.raises(RoutingError, match=message) as err:
        route(_config(body, mode), Request(port=80, **request_args))
    assert isinstance(err.value, ValueError)


def test_routing_error_carries_the_span():
    with pytest.raises(RoutingError) as err:
        route(_config(" use hit if nosuch"), Request(port=80))
    assert (err.value.span.file, err.value.span.line) == ("e.pxc", 6)
    assert str(err.value).startswith("e.pxc:6:")


def test_tcp_frontends_route_by_source_and_close_connections():
    cfg = _config(" deny if source 192.0.2.0/24\n use hit if source 10.0.0.0/8", mode="tcp")
    assert upstream_of(route(cfg, Request(port=80, src="10.1.1.1"))) == "hit"
    denied = route(cfg, Request(port=80, src="192.0.2.1"))
    assert (denied.action.type, denied.status) == ("deny", None)  # no HTTP status in TCP
    unrouted = route(cfg, Request(port=80, url="not a path"))  # the URL plays no part in TCP
    assert (unrouted.kind, unrouted.status) == ("no_route", None)


@pytest.mark.parametrize("kwargs, message", [
    (dict(frontend="nosuch"), "no frontend named 'nosuch' \\(frontends: web, admin\\)"),
    (dict(frontend="web", request=Request(port=9000)), "does not listen on port 9000"),
    (dict(request=Request(port=9000)), "no frontend listens on port 9000 \\(web: 80, 8080; admin: 8080\\)"),
    (dict(request=Request()), "give a frontend name or a port"),
])
def test_frontend_selection_errors(kwargs, message):
    cfg = load("frontend web {\n listen :80\n listen :8080\n default hit\n}\n"
               "frontend admin {\n listen :8080\n default miss\n}\n" + TWO_UPSTREAMS)
    request = kwargs.pop("request", Request(port=80))
    with pytest.raises(RoutingError, match=message):
        route(cfg, request, **kwargs)


def test_frontend_selection_by_port_name_and_single_frontend():
    cfg = load("frontend web {\n listen :80\n listen :8080\n default hit\n}\n"
               "frontend admin {\n listen :8080\n default miss\n}\n" + TWO_UPSTREAMS)
    assert route(cfg, Request(port=8080)).frontend == "web"     # first in IR order on that port
    assert route(cfg, Request(port=8080), frontend="admin").frontend == "admin"
    assert route(cfg, Request(), frontend="admin").frontend == "admin"
    single = load("frontend only {\n listen :80\n default hit\n}\n" + TWO_UPSTREAMS)
    assert route(single, Request()).frontend == "only"
    with pytest.raises(RoutingError, match="the config has no frontends"):
        route(load(TWO_UPSTREAMS), Request())


def test_describe_condition_reads_like_the_dsl():
    cfg = one_rule_config("not (path prefix nocase /a '/b c' or header X-Y exact \"q\\\"\") and tls")
    assert describe_condition(cfg.frontends[0].rules[0].condition) == \
        'not (path prefix nocase /a "/b c" or header X-Y exact "q\\"") and tls'


# ======================================================================== properties

RICH = load(r"""
frontend rich {
    listen :80
    listen :443 tls cert c.pem
    normalize_uri
    stats uri /stats
    acl api host regex '^api\.' and path prefix /api
    acl staff source 10.0.0.0/8 2001:db8::/32 ::ffff:192.0.2.1
    deny 403 if path regex nocase '\.(git|env)' and not staff
    redirect scheme https code 301 if not tls and header X-Upgrade present
    redirect prefix /new if path suffix /old
    use hit if api or header Cookie contains nocase session= or method POST PUT
    use miss if host suffix .example.org or path exact / and tls
    return 204 if header X-Empty regex '^$'
}
""" + TWO_UPSTREAMS)
CONFIGS = [RICH] + [load(p.read_text()) for p in sorted(EXAMPLES.glob("*.pxc"))]

urls = st.one_of(st.text(max_size=40), st.text(max_size=40).map(lambda s: "/" + s),
                 st.from_regex(r"\A/[a-zA-Z0-9%./?=&-]{0,30}\Z"))
header_names = st.one_of(st.sampled_from(["Host", "host", "X-Upgrade", "Cookie", "X-Empty", "Authorization"]),
                         st.text(min_size=1, max_size=10))
addresses = st.one_of(st.ip_addresses().map(str), st.text(max_size=20))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=st.sampled_from(CONFIGS), method=st.sampled_from(["GET", "POST", "put", ""]) | st.text(max_size=8),
       url=urls, headers=st.dictionaries(header_names, st.text(max_size=30), max_size=4), src=addresses,
       port=st.sampled_from([None, 80, 443, 8080, 8404, 5432]) | st.integers(0, 70000), tls=st.booleans(),
       normalize=st.sampled_from([None, True, False]), target=st.sampled_from([None, "haproxy", "nginx"]))
def test_route_raises_nothing_but_routing_error(cfg, method, url, headers, src, port, tls, normalize, target):
    request = Request(method=method, url=url, headers=headers, src=src, port=port, tls=tls)
    try:
        decision = route(cfg, request, normalize=normalize, target=target)
    except RoutingError:
        return
    assert (decision.status is None) == (decision.upstream is not None and bool(decision.servers)) or \
        cfg.frontend(decision.frontend).mode == "tcp" or cfg.defaults.mode == "tcp"
    assert route(cfg, request, normalize=normalize, target=target) == decision  # deterministic


@settings(max_examples=500, deadline=None)
@given(path=st.from_regex(r"\A/[a-z./%2eEfF]{0,24}\Z") | st.text(max_size=24).map(lambda s: "/" + s))
def test_normalised_paths_are_canonical(path):
    result = normalize_path(path)
    if result is None:
        return
    assert result.startswith("/") and "//" not in result
    assert not re.search(r"/\.\.?(/|$)", result), result
    if "%" not in result:  # a decoded "%" would be decoded again: not idempotent, by design
        assert normalize_path(result) == result


# ======================================================================== against the real servers

def _nginx_conf(port: int, body: str, upstreams: str = "") -> str:
    return f"events {{}}\nhttp {{\n{upstreams}\n server {{\n  listen 127.0.0.1:{port};\n{body}\n }}\n}}\n"


def test_nginx_agrees_on_normalisation_and_the_nine_locations(tmp_path):
    require_binary("nginx")
    from proxyc.verify.procs import http_get, run_nginx
    from proxyc.verify.stubs import free_port

    uri_port, site_port = free_port(), free_port()
    conf = _nginx_conf(uri_port, '  location / { return 200 "$uri"; }')
    conf = conf[: conf.rindex("}")] + f" server {{\n  listen 127.0.0.1:{site_port};\n{NINE_LOCATIONS_NGINX}\n }}\n}}\n"
    cfg = load(NINE_LOCATIONS_PXC)
    with run_nginx(conf, tmp_path, [uri_port, site_port]):
        for raw, expected in NORMALISATION:
            status, _, body = http_get(uri_port, raw)
            nginx_saw = body.decode() if status == 200 else None
            assert (raw, normalize_path(raw)) == (raw, nginx_saw)
        for url, expected in NINE_LOCATION_REQUESTS:
            status, _, body = http_get(site_port, url)
            predicted = upstream_of(route(cfg, Request(port=80, url=url), target="nginx"))
            assert (url, status, predicted) == (url, 200, body.decode())


def test_nginx_follows_the_predicted_round_robin_and_ip_hash(tmp_path):
    require_binary("nginx")
    from proxyc.verify.procs import http_get, run_nginx
    from proxyc.verify.stubs import StubBackends, free_port

    cfg = load("upstream rr {\n server a h:1 weight 5\n server b h:2 weight 2\n server c h:3\n server d h:4 down\n}\n"
               "upstream ih {\n balance source\n server a h:1\n server b h:2 down\n server c h:3 weight 2\n}\n")
    clients = [f"127.{i}.{j}.1" for i in range(3) for j in range(4)]
    with StubBackends(["a", "b", "c", "d"]) as stubs:
        def servers(upstream, extra=""):
            lines = "".join(f"  server 127.0.0.1:{stubs.port(s.name)}" + f" weight={s.weight}"
                            + (" down" if s.down else "") + ";\n" for s in upstream.servers)
            return f" upstream {upstream.name} {{\n{extra}{lines} }}\n"
        rr_port, ih_port = free_port(), free_port()
        conf = _nginx_conf(rr_port, "  location / { proxy_pass http://rr; }",
                           servers(cfg.upstream("rr")) + servers(cfg.upstream("ih"), "  ip_hash;\n"))
        conf = conf[: conf.rindex("}")] + (f" server {{\n  listen 127.0.0.1:{ih_port};\n"
                                            "  location / { proxy_pass http://ih; }\n }\n}\n")
        with run_nginx(conf, tmp_path, [rr_port, ih_port]):
            seen = [http_get(rr_port, "/")[1]["x-stub"] for _ in range(16)]
            assert seen == balance_preview(cfg.upstream("rr"), 16)
            seen = [http_get(ih_port, "/", source_ip=c)[1]["x-stub"] for c in clients]
            assert seen == balance_preview(cfg.upstream("ih"), len(clients), clients=clients)


def test_haproxy_agrees_on_stats_prefix_and_scheme_redirect_host(tmp_path):
    require_binary("haproxy")
    from proxyc.verify.procs import http_get, run_haproxy
    from proxyc.verify.stubs import free_port

    stats_port, redirect_port = free_port(), free_port()
    conf = f"""
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend s
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
frontend r
    bind 127.0.0.1:{redirect_port}
    http-request redirect scheme https code 301
"""
    cfg = load("frontend s {\n listen :1\n stats uri /stats\n}\nfrontend r {\n listen :2\n"
               " redirect scheme https code 301\n}\n")
    with run_haproxy(conf, tmp_path, [stats_port, redirect_port]):
        for url in ("/stats", "/statsx", "/stats/x?y", "/Stats", "/"):
            predicted = route(cfg, Request(port=1, url=url), target="haproxy").status
            assert (url, http_get(stats_port, url)[0]) == (url, predicted)
        for host in ("example.com", "Example.COM:8080", "[::1]:80"):
            status, headers, _ = http_get(redirect_port, "/a/b?c=d", host_header=host)
            predicted = route(cfg, Request(port=2, url="/a/b?c=d", headers={"Host": host}), target="haproxy")
            assert (status, headers["location"]) == (predicted.status, predicted.location)
