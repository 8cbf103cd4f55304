"""The DSL reader: exact locations, messages and hints for malformed input, and one positive
test per construct of grammar/proxyc.lark (each compared with the IR it must produce)."""
from __future__ import annotations

import textwrap

import pytest

from proxyc import ir
from proxyc.dialects.pxc.reader import load, read


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def problems(text: str) -> list[tuple]:
    """(code, message, line, col, hint) of every diagnostic, and no IR when one is a syntax error."""
    cfg, diags = read(dedent(text), "site.pxc")
    assert all(d.file == "site.pxc" for d in diags)
    if any(d.code == "E001" for d in diags):
        assert cfg is None
    return [(d.code, d.message, d.line, d.col, d.hint) for d in diags]


# ------------------------------------------------------------------------------ errors

def test_missing_closing_brace_at_the_end_names_the_block():
    assert problems('''
        frontend web {
            listen :80
            default app
    ''') == [("E001", "unexpected end of file", 3, 16, "is a closing '}' missing for the block opened on line 1?")]


def test_missing_closing_brace_before_the_next_block():
    assert problems('''
        frontend a {
            listen :80

        upstream b {
            server s 127.0.0.1:80
        }
    ''') == [("E001", "unexpected 'upstream' inside a block", 4, 1, "is a closing '}' missing above?")]


def test_a_stray_closing_brace():
    assert problems('''
        frontend f {
            listen :80
        }
        }
    ''') == [("E001", "unexpected '}'", 4, 1,
              "expected defaults, end of line, frontend, log, raw, resolvers, upstream")]


@pytest.mark.parametrize("text, word, line, col, hint", [
    ("upstream u {\n    sever s1 127.0.0.1:80\n}\n", "sever", 2, 5, "did you mean server?"),
    ("frontend f {\n    lisen :80\n}\n", "lisen", 2, 5, "did you mean listen?"),
    ("frontnd web {\n}\n", "frontnd", 1, 1, "did you mean frontend?"),
    ("defaults {\n    timout connect 5s\n}\n", "timout", 2, 5, "did you mean timeout?"),
])
def test_unknown_keyword(text, word, line, col, hint):
    assert problems(text) == [("E001", f"unknown keyword {word!r}", line, col, hint)]


def test_misspelled_algorithm():
    d = read("upstream u {\n    balance least_con\n    server s1 127.0.0.1:80\n}\n", "site.pxc")[1]
    assert [(x.code, x.message, x.line, x.col, x.end_col, x.hint) for x in d] == [
        ("E005", "unknown balancing algorithm 'least_con'", 2, 13, 22, "did you mean least_conn?")]


@pytest.mark.parametrize("text, message, col, hint", [
    ("upstream u {\n    server s1 127.0.0.1:99999\n}\n", "port 99999 is out of range (1..65535)", 15,
     "e.g. 10.0.0.5:8080, app:8080 or [fd00::5]:80"),
    ("upstream u {\n    server s1 127.0.0.1:0\n}\n", "port 0 is out of range (1..65535)", 15,
     "e.g. 10.0.0.5:8080, app:8080 or [fd00::5]:80"),
    ("frontend f {\n    listen :http\n}\n", "port 'http' is not a number", 12, "e.g. :80, 127.0.0.1:8080 or [::]:443"),
    ("frontend f {\n    listen 127.0.0.1\n}\n", "listen address '127.0.0.1' needs a port", 12,
     "e.g. :80, 127.0.0.1:8080 or [::]:443"),
    ("upstream u {\n    server s ::1:80\n}\n",
     "an IPv6 address must be written in brackets, e.g. [::1:80] or [::1:80]:80", 14,
     "e.g. 10.0.0.5:8080, app:8080 or [fd00::5]:80"),
])
def test_bad_port_or_address(text, message, col, hint):
    assert problems(text) == [("E006", message, 2, col, hint)]


@pytest.mark.parametrize("text, quote, col", [
    ('frontend f {\n    listen :80\n    return 200 "ok\n}\n', '"', 16),
    ("frontend f {\n    listen :80\n    acl a path regex '^/x\n}\n", "'", 22),
])
def test_unterminated_string(text, quote, col):
    assert problems(text) == [("E001", f"unexpected character {quote!r}", 3, col, "is a closing quote missing?")]


@pytest.mark.parametrize("text, message, col, hint", [
    ("defaults {\n    timeout connect 5\n}\n", "timeout must be a duration, got '5'", 21,
     "write it with a unit, e.g. 5s"),
    ("upstream u {\n    health interval 2\n}\n", "check interval must be a duration, got '2'", 21,
     "write it with a unit, e.g. 2s"),
    ("upstream u {\n    health interval fast\n}\n", "check interval must be a duration, got 'fast'", 21,
     "e.g. 500ms, 5s, 1m, 2h"),
    ("upstream u {\n    server s h:80 slow_start 30\n}\n", "slow_start must be a duration, got '30'", 30,
     "write it with a unit, e.g. 30s"),
])
def test_duration_without_unit(text, message, col, hint):
    assert problems(text) == [("E004", message, 2, col, hint)]


def test_a_unit_written_apart_is_an_extra_word():
    assert problems("defaults {\n    timeout connect 5 s\n}\n") == [
        ("E001", "unexpected 's'", 2, 23, "expected end of line")]


@pytest.mark.parametrize("text, expected", [
    ("frontend f {\n    timeout conect 5s\n}\n", ("E005", "unknown timeout 'conect'", 2, 13, "did you mean connect?")),
    ("frontend f {\n    timeout connect 5s\n}\n",
     ("E008", "timeout connect does not belong here", 2, 13, "allowed: client, http_request")),
    ("defaults {\n    mode htp\n}\n", ("E005", "unknown mode 'htp'", 2, 10, "did you mean http?")),
    ("upstream u {\n    server s h:80 weight heavy\n}\n",
     ("E003", "weight must be a number, got 'heavy'", 2, 26, None)),
    ("upstream u {\n    server s h:80 weight 300\n}\n", ("E003", "weight 300 is out of range (0..256)", 2, 26, None)),
    ("upstream u {\n    balance hash\n}\n",
     ("E009", "hash needs a key", 2, 13, "hash uri | hash header NAME | hash cookie NAME | hash param NAME")),
    ("frontend f {\n    listen\n}\n", ("E001", "unexpected end of line", 2, 11, "expected a value")),
    ("frontend f {\n    listen :80\n    redirect scheme https code 200\n}\n",
     ("E003", "redirect code 200 is out of range (301..308)", 3, 32, None)),
])
def test_bad_values(text, expected):
    assert problems(text) == [expected]


def test_every_value_error_is_reported_in_one_pass():
    found = problems('''
        upstream u {
            balance least_con
            server s1 127.0.0.1:99999 weight x
            health interval 5
        }
    ''')
    assert [(code, line) for code, _, line, _, _ in found] == [("E005", 2), ("E006", 3), ("E003", 3), ("E004", 4)]


# ------------------------------------------------------------------------------ positive: top level

def test_empty_input():
    assert load("") == ir.Config()


def test_defaults_block():
    cfg = load(dedent('''
        defaults {
            mode tcp
            timeout connect 5s
            timeout client 1m
            timeout server 1h
            timeout http_request 500ms
            timeout queue 2s
            timeout tunnel 1d
            timeout check 3s
            forwardfor
            log
        }
    '''))
    assert cfg.defaults == ir.Defaults(mode="tcp", forwardfor=True, log=True, timeouts=ir.Timeouts(
        connect=5000, client=60_000, server=3_600_000, http_request=500, queue=2000, tunnel=86_400_000, check=3000))


@pytest.mark.parametrize("line, log", [
    ("log stdout", ir.Log(target="stdout")),
    ("log stderr local0", ir.Log(target="stderr", facility="local0")),
    ("log stdout local0 info", ir.Log(target="stdout", facility="local0", level="info")),
    ("log syslog 127.0.0.1:514 local1 notice", ir.Log(target="syslog", address="127.0.0.1:514", facility="local1",
                                                       level="notice")),
])
def test_log(line, log):
    assert load(line).logs == [log]


def test_resolvers_block():
    cfg = load(dedent('''
        resolvers docker {
            nameserver dns 127.0.0.11:53
            nameserver other [fd00::53]
            hold_valid 10s
            timeout 1s
            retries 3
        }
    '''))
    assert cfg.resolvers == [ir.Resolver(
        name="docker", hold_valid=10_000, timeout=1000, retries=3,
        nameservers=[ir.Nameserver(name="dns", address="127.0.0.11"), ir.Nameserver(name="other", address="fd00::53")])]


@pytest.mark.parametrize("head, target, context", [
    ("raw nginx", "nginx", None),
    ("raw nginx http", "nginx", "http"),
    ("raw nginx stream", "nginx", "stream"),
    ("raw haproxy global", "haproxy", "global"),
    ("raw haproxy sections", "haproxy", "sections"),
])
def test_raw_at_the_top_level(head, target, context):
    cfg = load(f'{head} """\nline one;\n  line "two" {{ }}\n"""\n')
    assert cfg.raw == [ir.Raw(target=target, context=context, text='line one;\n  line "two" { }\n')]


def test_statements_may_be_separated_by_semicolons():
    assert load("upstream u {\n    server a h:1; server b h:2\n}\n").upstreams[0].servers == [
        ir.Server(name="a", host="h", port=1), ir.Server(name="b", host="h", port=2)]


def test_comments_go_to_the_next_statement():
    cfg = load(dedent('''
        # the site
        frontend web {
            listen :80  # trailing
            # for the API
            acl api path prefix /api/
        }
    '''))
    fe = cfg.frontends[0]
    assert (fe.comments, fe.listens[0].comments, fe.acls[0].comments) == (["the site"], ["trailing"], ["for the API"])


# ------------------------------------------------------------------------------ positive: frontends

def frontend(*lines: str) -> ir.Frontend:
    body = "".join(f"    {line}\n" for line in lines)
    return load(f"frontend f {{\n{body}}}\n").frontends[0]


@pytest.mark.parametrize("line, listen", [
    ("listen :80", ir.Listen(port=80)),
    ("listen 8080", ir.Listen(port=8080)),
    ("listen *:81", ir.Listen(port=81)),
    ("listen 127.0.0.1:8080", ir.Listen(address="127.0.0.1", port=8080)),
    ("listen [::]:443", ir.Listen(address="::", port=443)),
    ("listen :80 default_server", ir.Listen(port=80, default_server=True)),
    ("listen :443 tls cert site.pem", ir.Listen(port=443, tls=ir.Tls(cert="site.pem"))),
    ('listen :443 tls cert "certs/a b.crt" key certs/a.key default_server',
     ir.Listen(port=443, tls=ir.Tls(cert="certs/a b.crt", key="certs/a.key"), default_server=True)),
])
def test_listen(line, listen):
    assert frontend(line).listens == [listen]


def test_frontend_settings():
    fe = frontend("mode tcp", "forwardfor", "normalize_uri", "timeout client 30s", "timeout http_request 5s",
                  'raw nginx """\nclient_max_body_size 1m;\n"""')
    assert fe == ir.Frontend(name="f", mode="tcp", forwardfor=True, normalize_uri=True,
                             timeouts=ir.Timeouts(client=30_000, http_request=5000),
                             raw=[ir.Raw(target="nginx", text="client_max_body_size 1m;\n")])


@pytest.mark.parametrize("line, stats", [
    ("stats", ir.Stats()),
    ("stats uri /stats refresh 10s", ir.Stats(uri="/stats", refresh=10_000)),
    ('stats auth admin:se:cret auth ops:x realm "Proxy stats"',
     ir.Stats(users=[ir.StatsUser(user="admin", password="se:cret"), ir.StatsUser(user="ops", password="x")],
              realm="Proxy stats")),
])
def test_stats(line, stats):
    assert frontend(line).stats == stats


def test_headers():
    fe = frontend("request_header set X-Forwarded-Proto https", "request_header add X-Via proxyc",
                  "request_header delete X-Internal", 'response_header set Strict-Transport-Security "max-age=1"')
    assert fe.request_headers == [ir.HeaderOp(action="set", name="X-Forwarded-Proto", value="https"),
                                  ir.HeaderOp(action="add", name="X-Via", value="proxyc"),
                                  ir.HeaderOp(action="delete", name="X-Internal")]
    assert fe.response_headers == [ir.HeaderOp(action="set", name="Strict-Transport-Security", value="max-age=1")]


@pytest.mark.parametrize("line, action", [
    ("use app", ir.UseUpstream(upstream="app")),
    ("redirect scheme https", ir.Redirect(scheme="https")),
    ("redirect location https://example.com/ code 301", ir.Redirect(location="https://example.com/", code=301)),
    ("redirect prefix /new code 308", ir.Redirect(prefix="/new", code=308)),
    ("return 204", ir.Return(status=204)),
    ('return 200 "ok"', ir.Return(status=200, body="ok")),
    ('return 200 "{}" type application/json', ir.Return(status=200, body="{}", content_type="application/json")),
    ("deny", ir.Deny()),
    ("deny 429", ir.Deny(status=429)),
])
def test_actions_as_rules_and_as_the_default(line, action):
    assert frontend(line).rules == [ir.Rule(action=action)]
    assert frontend(f"default {line}").default == action


def test_default_upstream_by_name():
    assert frontend("default app").default == ir.UseUpstream(upstream="app")


def test_guards():
    fe = frontend("acl a tls", "use x if a", "use y unless a")
    assert fe.rules == [ir.Rule(condition=ir.AclRef(name="a"), action=ir.UseUpstream(upstream="x")),
                        ir.Rule(condition=ir.Not(item=ir.AclRef(name="a")), action=ir.UseUpstream(upstream="y"))]


# ------------------------------------------------------------------------------ positive: conditions

def condition(text: str):
    return frontend("acl a tls", "acl b tls", "acl c tls", f"acl x {text}").acls[-1].condition


A, B, C = (ir.AclRef(name=n) for n in "abc")


@pytest.mark.parametrize("text, cond", [
    ("path exact /healthz", ir.PathMatch(op="exact", values=["/healthz"])),
    ("path prefix /api/ /v2/", ir.PathMatch(op="prefix", values=["/api/", "/v2/"])),
    ("path suffix .php", ir.PathMatch(op="suffix", values=[".php"])),
    (r"path regex nocase '\.(css|js)$'", ir.PathMatch(op="regex", values=[r"\.(css|js)$"], ignore_case=True)),
    ("host exact API.Example.com", ir.HostMatch(op="exact", values=["api.example.com"])),
    ("host suffix .example.com", ir.HostMatch(op="suffix", values=[".example.com"])),
    ("host prefix www.", ir.HostMatch(op="prefix", values=["www."])),
    ("host regex ^api[0-9]+\\.", ir.HostMatch(op="regex", values=["^api[0-9]+\\."])),
    ("method get POST", ir.MethodMatch(values=["GET", "POST"])),
    ("header X-Debug present", ir.HeaderMatch(name="X-Debug", op="present")),
    ("header X-Env exact prod", ir.HeaderMatch(name="X-Env", op="exact", values=["prod"])),
    ("header User-Agent contains nocase bot", ir.HeaderMatch(name="User-Agent", op="contains", values=["bot"],
                                                             ignore_case=True)),
    ("source 10.0.0.0/8 127.0.0.1", ir.SourceMatch(values=["10.0.0.0/8", "127.0.0.1"])),
    ("tls", ir.TlsMatch()),
    ("a", A),
    ('"a"', A),
    ("{ path prefix /x }", ir.PathMatch(op="prefix", values=["/x"])),
    ("not a", ir.Not(item=A)),
    ("not not a", ir.Not(item=ir.Not(item=A))),
    ("a and b", ir.All(items=[A, B])),
    ("a or b", ir.AnyOf(items=[A, B])),
    ("a or b and c", ir.AnyOf(items=[A, ir.All(items=[B, C])])),
    ("(a or b) and c", ir.All(items=[ir.AnyOf(items=[A, B]), C])),
    ("not a and b", ir.All(items=[ir.Not(item=A), B])),
    ("not (a and b)", ir.Not(item=ir.All(items=[A, B]))),
    ("a and (b and c)", ir.All(items=[A, ir.All(items=[B, C])])),
    ("path prefix /a /b and method GET or tls",
     ir.AnyOf(items=[ir.All(items=[ir.PathMatch(op="prefix", values=["/a", "/b"]), ir.MethodMatch(values=["GET"])]),
                     ir.TlsMatch()])),
    ('path exact "and" "or"', ir.PathMatch(op="exact", values=["and", "or"])),
])
def test_conditions(text, cond):
    assert condition(text) == cond


def test_quoted_values_and_escapes():
    cond = condition(r'''path exact "a b" "say \"hi\"" "tab\there" "back\\slash" 'single \n literal' plain\n''')
    assert cond.values == ["a b", 'say "hi"', "tab\there", "back\\slash", "single \\n literal", "plain\\n"]


# ------------------------------------------------------------------------------ positive: upstreams

def upstream(*lines: str) -> ir.Upstream:
    body = "".join(f"    {line}\n" for line in lines)
    return load(f"upstream u {{\n{body}}}\n").upstreams[0]


@pytest.mark.parametrize("line, balance", [
    ("balance round_robin", ir.Balance()),
    ("balance least_conn", ir.Balance(algorithm="least_conn")),
    ("balance source", ir.Balance(algorithm="source")),
    ("balance first", ir.Balance(algorithm="first")),
    ("balance random", ir.Balance(algorithm="random")),
    ("balance random two", ir.Balance(algorithm="random", choices=2)),
    ("balance random 3", ir.Balance(algorithm="random", choices=3)),
    ("balance hash uri", ir.Balance(algorithm="hash", key="uri")),
    ("balance hash uri consistent", ir.Balance(algorithm="hash", key="uri", consistent=True)),
    ("balance hash header X-User", ir.Balance(algorithm="hash", key="header", key_name="X-User")),
    ("balance hash cookie sid consistent", ir.Balance(algorithm="hash", key="cookie", key_name="sid", consistent=True)),
    ("balance hash param id", ir.Balance(algorithm="hash", key="param", key_name="id")),
])
def test_balance(line, balance):
    assert upstream(line).balance == balance


@pytest.mark.parametrize("line, server", [
    ("server s h", ir.Server(name="s", host="h")),
    ("server s 10.0.0.1:8080", ir.Server(name="s", host="10.0.0.1", port=8080)),
    ("server s [fd00::1]:80", ir.Server(name="s", host="fd00::1", port=80)),
    ("server s h:80 weight 60", ir.Server(name="s", host="h", port=80, weight=60)),
    ("server s h:80 weight 0", ir.Server(name="s", host="h", port=80, weight=0)),
    ("server s h:80 backup down check", ir.Server(name="s", host="h", port=80, backup=True, down=True, check=True)),
    ("server s h:80 max_conns 100", ir.Server(name="s", host="h", port=80, max_conns=100)),
    ("server s h:80 slow_start 30s", ir.Server(name="s", host="h", port=80, slow_start=30_000)),
    ("server s h:80 cookie s1", ir.Server(name="s", host="h", port=80, cookie="s1")),
    ("server s h:80 count 3", ir.Server(name="s", host="h", port=80, count=3)),
])
def test_server(line, server):
    assert upstream(line).servers == [server]


@pytest.mark.parametrize("line, health", [
    ("health", ir.HealthCheck()),
    ("health interval 2s rise 2 fall 3 timeout 1s",
     ir.HealthCheck(interval=2000, rise=2, fall=3, timeout=1000)),
    ("health http head /healthz expect 204 host example.com",
     ir.HealthCheck(http=ir.HttpCheck(method="HEAD", path="/healthz", expect_status=204, host="example.com"))),
    ("health expect 200", ir.HealthCheck(http=ir.HttpCheck(expect_status=200))),
])
def test_health(line, health):
    assert upstream(line).health == health


def test_upstream_settings():
    up = upstream("mode tcp", "resolver docker", "sticky cookie SRV", "passive max_fails 3 fail_timeout 10s",
                  "timeout connect 1s", "timeout server 30s", "timeout queue 5s", "timeout tunnel 1h",
                  "timeout check 2s", 'raw haproxy """\noption redispatch\n    """')
    assert up == ir.Upstream(
        name="u", mode="tcp", resolver="docker", sticky_cookie="SRV",
        passive=ir.Passive(max_fails=3, fail_timeout=10_000),
        timeouts=ir.Timeouts(connect=1000, server=30_000, queue=5000, tunnel=3_600_000, check=2000),
        raw=[ir.Raw(target="haproxy", text="option redispatch\n")])


def test_spans_point_at_the_statement():
    cfg, _ = read("upstream u {\n    server s h:80\n}\n", "site.pxc")
    assert cfg.upstreams[0].servers[0].span == ir.Span(file="site.pxc", line=2, col=12)


# ------------------------------------------------------------------------------ known reader gaps

def test_host_regex_keeps_its_case():
    assert condition(r"host regex ^\D+$") == ir.HostMatch(op="regex", values=[r"^\D+$"])


def test_a_superscript_digit_is_a_located_error():
    assert problems("upstream u {\n    server s h:80 weight ²\n}\n") == [
        ("E003", "weight must be a number, got '²'", 2, 26, None)]


def test_a_repeated_balance_line_is_reported():
    assert problems("upstream u {\n    balance least_conn\n    balance first\n}\n") != []
