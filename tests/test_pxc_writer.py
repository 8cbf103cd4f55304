"""The DSL writer (formatter): exact layout, quoting, comments, what it refuses, and round trips
(read(write(cfg)) == cfg, write(read(write(cfg))) == write(cfg)) on every example and on
generated IRs."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from golden_cases import case_ids, cases
from hypothesis import given, settings
from strategies import NASTY, configs

from proxyc import ir
from proxyc.diagnostics import ProxycError
from proxyc.dialects.pxc.reader import load, read, unquote
from proxyc.dialects.pxc.writer import format_text, quote, write, write_with_diagnostics
from proxyc.grammar_file import grammar_text
from proxyc.validate import validate


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def round_trip(cfg: ir.Config) -> str:
    """Write ``cfg``, check that it reads back equal and that a second pass writes the same bytes."""
    text = write(cfg)
    back = load(text, "written.pxc")
    assert back == cfg, f"read(write(cfg)) differs:\n{text}"
    assert write(back) == text, "writing twice changed the text"
    return text


def frontend(*rules: ir.Rule, acls=(), **kw) -> ir.Config:
    fe = ir.Frontend(name="f", listens=[ir.Listen(port=80)], acls=list(acls), rules=list(rules), **kw)
    return ir.Config(frontends=[fe])


def body_lines(text: str) -> list[str]:
    """The statements inside the first block, without indentation."""
    return [line.strip() for line in text.splitlines()[1:] if line.startswith("    ")]


# ------------------------------------------------------------------------------ examples

@pytest.mark.parametrize("case, path", cases(), ids=case_ids())
def test_formatting_an_example_keeps_its_meaning_and_is_stable(case, path):
    source = path.read_text(encoding="utf-8")
    cfg = load(source, str(path))
    formatted = round_trip(cfg)
    # Comments survive (they may only move up to the statement the reader gives them to).
    assert [c for n in ir.iter_nodes(load(formatted)) for c in n.comments] == \
           [c for n in ir.iter_nodes(cfg) for c in n.comments]
    assert format_text(formatted, str(path)) == (formatted, [])


def test_formatting_is_byte_identical_across_hash_seeds():
    """Nothing in the output may depend on set or dict iteration order."""
    example = next(path for _, path in cases() if path.name == "host-routing.pxc")
    script = ("import sys; from proxyc.dialects.pxc.writer import format_text; "
              "sys.stdout.write(format_text(open(sys.argv[1]).read())[0])")
    outputs = {
        subprocess.run([sys.executable, "-c", script, str(example)], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1 and outputs.pop()


# ------------------------------------------------------------------------------ properties

@settings(max_examples=120, derandomize=True, deadline=None)
@given(configs(hostile=True))
def test_any_config_round_trips_exactly(cfg):
    """Hostile names and values everywhere (quotes, braces, keywords, line breaks, NUL, ...):
    whatever the strings, the text reads back as the same IR, and formatting is idempotent."""
    text = round_trip(cfg)
    assert write(cfg.model_copy(deep=True)) == text  # deterministic


@settings(max_examples=60, derandomize=True, deadline=None)
@given(configs())
def test_valid_configs_validate_and_round_trip(cfg):
    """The default strategy gives configs that pass validation (other tests rely on it)."""
    assert validate(cfg) == []
    round_trip(cfg)


# ------------------------------------------------------------------------------ layout

def test_a_whole_config_is_laid_out_canonically():
    cfg = load(dedent('''
        upstream app {
            server a1 10.0.0.1:8080 weight 1 check
            server a2 10.0.0.2:8080 weight 3 backup
            balance round_robin
            health interval 2s http GET /healthz expect 200
        }
        frontend web {
            acl api path prefix /api/
            listen :80
            acl admin-area path prefix /admin
            deny 403 if admin-area
            use app if api
            redirect location https://example.com/ code 302
            default app
            forwardfor
        }
        defaults {
            timeout server 30s
            timeout connect 5000ms
            mode http
        }
        resolvers dns {
            nameserver local 127.0.0.11:53
        }
        log stdout local0 info
        raw haproxy global """
        maxconn 1000
        """
        log stderr
    '''))
    assert write(cfg) == dedent('''
        log stdout local0 info
        log stderr

        raw haproxy global """
        maxconn 1000
        """

        resolvers dns {
            nameserver local 127.0.0.11:53
        }

        defaults {
            mode http
            timeout connect 5s
            timeout server 30s
        }

        frontend web {
            listen :80
            forwardfor
            acl api        path prefix /api/
            acl admin-area path prefix /admin
            deny if admin-area
            use app if api
            redirect location https://example.com/
            default app
        }

        upstream app {
            health interval 2s http GET /healthz expect 200
            server a1 10.0.0.1:8080 check
            server a2 10.0.0.2:8080 weight 3 backup
        }
    ''')


def test_every_setting_is_written_once_and_in_a_fixed_order():
    cfg = load(dedent('''
        frontend f {
            raw nginx """
        gzip on;
        """
            normalize_uri
            timeout http_request 10s
            timeout client 1m
            stats realm "Stats page" auth admin:secret refresh 10s uri /stats
            response_header delete Server
            request_header add X-Via proxyc
            mode http
            listen 127.0.0.1:8443 tls cert site.pem default_server
            listen [::]:443 tls cert site.crt key site.key
            default return 404 "not here" type text/html
        }
        upstream u {
            server s host.example:80 down max_conns 10 slow_start 30s cookie s1 count 4 check
            sticky cookie SRV
            passive fail_timeout 10s max_fails 3
            resolver dns
            mode tcp
            balance random two
            timeout check 2s
            timeout connect 1s
            health host example.com fall 3 rise 2 timeout 1s
        }
    '''))
    text = round_trip(cfg)
    assert text == dedent('''
        frontend f {
            listen 127.0.0.1:8443 tls cert site.pem default_server
            listen [::]:443 tls cert site.crt key site.key
            mode http
            timeout client 1m
            timeout http_request 10s
            normalize_uri
            stats uri /stats refresh 10s auth admin:secret realm "Stats page"
            request_header add X-Via proxyc
            response_header delete Server
            default return 404 "not here" type text/html
            raw nginx """
        gzip on;
            """
        }

        upstream u {
            mode tcp
            resolver dns
            balance random 2
            health rise 2 fall 3 timeout 1s http GET / host example.com
            passive max_fails 3 fail_timeout 10s
            sticky cookie SRV
            timeout connect 1s
            timeout check 2s
            server s host.example:80 down check max_conns 10 slow_start 30s cookie s1 count 4
        }
    ''')


@pytest.mark.parametrize("node, line", [
    (ir.Server(name="s", host="h"), "server s h"),
    (ir.Server(name="s", host="::1", port=80, weight=0), "server s [::1]:80 weight 0"),
    (ir.Balance(), None),
    (ir.Balance(algorithm="hash", key="uri", consistent=True), "balance hash uri consistent"),
    (ir.Balance(algorithm="hash", key="cookie", key_name="sid"), "balance hash cookie sid"),
    (ir.Balance(algorithm="source"), "balance source"),
    (ir.Balance(algorithm="random"), "balance random"),
])
def test_upstream_lines_omit_ir_defaults(node, line):
    up = ir.Upstream(name="u", **({"servers": [node]} if isinstance(node, ir.Server) else {"balance": node}))
    text = round_trip(ir.Config(upstreams=[up]))
    assert body_lines(text) == ([line] if line else [])


@pytest.mark.parametrize("action, line", [
    (ir.UseUpstream(upstream="u"), "use u"),
    (ir.Deny(), "deny"),
    (ir.Deny(status=429), "deny 429"),
    (ir.Return(status=204), "return 204"),
    (ir.Return(status=200, body="ok"), "return 200 ok"),
    (ir.Return(status=200, content_type="application/json"), 'return 200 "" type application/json'),
    (ir.Redirect(scheme="https", code=301), "redirect scheme https code 301"),
    (ir.Redirect(prefix="/new"), "redirect prefix /new"),
])
def test_actions(action, line):
    text = round_trip(frontend(ir.Rule(action=action)))
    assert body_lines(text)[-1] == line


def test_an_empty_config_is_an_empty_file():
    assert round_trip(ir.Config()) == ""


# ------------------------------------------------------------------------------ conditions

A, B, C = (ir.AclRef(name=n) for n in "abc")
API = ir.PathMatch(op="prefix", values=["/api/"])
GET = ir.MethodMatch(values=["GET"])


@pytest.mark.parametrize("cond, written", [
    (ir.All(items=[API, GET]), "path prefix /api/ and method GET"),
    (ir.AnyOf(items=[ir.All(items=[A, B]), C]), "a and b or c"),
    (ir.All(items=[ir.AnyOf(items=[A, B]), C]), "(a or b) and c"),
    (ir.All(items=[A, ir.All(items=[B, C])]), "a and (b and c)"),  # nesting is part of the IR
    (ir.AnyOf(items=[ir.AnyOf(items=[A, B]), C]), "(a or b) or c"),
    (ir.Not(item=ir.All(items=[A, B])), "not (a and b)"),
    (ir.Not(item=ir.Not(item=A)), "not not a"),
    (ir.All(items=[ir.Not(item=API), A]), "not path prefix /api/ and a"),
    (ir.AnyOf(items=[ir.PathMatch(op="regex", values=[r"\.php$"], ignore_case=True), ir.TlsMatch()]),
     r"path regex nocase \.php$ or tls"),
    (ir.HeaderMatch(name="X-Debug", op="present"), "header X-Debug present"),
    (ir.HeaderMatch(name="User-Agent", op="contains", values=["bot", "crawl"], ignore_case=True),
     "header User-Agent contains nocase bot crawl"),
    (ir.All(items=[ir.SourceMatch(values=["10.0.0.0/8", "::1"]), ir.HostMatch(op="suffix", values=[".example.com"])]),
     "source 10.0.0.0/8 ::1 and host suffix .example.com"),
    # Values equal to keywords are quoted, so a greedy value list ends where it should.
    (ir.All(items=[ir.PathMatch(op="exact", values=["and", "or"]), ir.MethodMatch(values=["GET"])]),
     'path exact "and" "or" and method GET'),
    (ir.AclRef(name="path"), '"path"'),
])
def test_conditions_use_the_fewest_parentheses_that_keep_the_tree(cond, written):
    acls = [ir.Acl(name=n, condition=ir.TlsMatch()) for n in ("a", "b", "c", "path")]
    text = round_trip(frontend(ir.Rule(condition=cond, action=ir.Deny()), acls=acls))
    assert body_lines(text)[-1] == f"deny if {written}"


def test_a_one_item_all_is_written_as_its_item():
    cfg = frontend(ir.Rule(condition=ir.All(items=[ir.AnyOf(items=[A])]), action=ir.Deny()),
                   acls=[ir.Acl(name="a", condition=ir.TlsMatch())])
    text = write(cfg)
    assert body_lines(text)[-1] == "deny if a"
    assert load(text).frontends[0].rules[0].condition == A


# ------------------------------------------------------------------------------ quoting

def test_keywords_come_from_the_grammar():
    """Every word-like string literal of the grammar is quoted as a value; nobody keeps a list."""
    rules = "\n".join(line for line in grammar_text().splitlines() if not line.lstrip().startswith("//"))
    literals = set(re.findall(r'"([A-Za-z_]+)"', rules))
    assert {"and", "or", "not", "if", "unless", "nocase", "prefix", "http", "tls", "use"} <= literals
    for word in sorted(literals):
        assert quote(word) == f'"{word}"', word


@pytest.mark.parametrize("value, written", [
    ("api", "api"),
    ("/api/v1/", "/api/v1/"),
    (r"^/static/.*\.(css|js)$", r'"^/static/.*\\.(css|js)$"'),  # parentheses end a bare word
    (r"\.php$", r"\.php$"),  # backslashes are literal in bare words
    ("200", "200"),  # the reader unquotes before interpreting: "200" and 200 read the same
    ("a#b", "a#b"),  # '#' only starts a comment at the start of a word
    ("#a", '"#a"'),
    ("", '""'),
    ("a b", '"a b"'),
    ("'x'", "\"'x'\""),  # bare, it would lose its quotes
    ('say "hi"', r'"say \"hi\""'),
    ("C:\\dir\\", "C:\\dir\\"),
    ("C:\\my dir\\", r'"C:\\my dir\\"'),  # quoted, backslashes are escaped
    ("a\nb\tc\rd e", r'"a\nb\tc\rd e"'),
    ("x;y", '"x;y"'),
    ("}", '"}"'),
    ("{", '"{"'),
    ("zero\u200bwidth", '"zero\u200bwidth"'),  # invisible characters are never left bare
    ("café", "café"),
])
def test_quote(value, written):
    assert quote(value) == written
    assert unquote(written) == value


@pytest.mark.parametrize("value", NASTY)
def test_every_nasty_string_survives_in_every_kind_of_position(value):
    """A name, a matcher value, a header value and a return body, all the same hostile string."""
    cfg = ir.Config(
        frontends=[ir.Frontend(
            name=value, listens=[ir.Listen(port=80)],
            acls=[ir.Acl(name=value, condition=ir.PathMatch(op="prefix", values=[value, value]))],
            rules=[ir.Rule(condition=ir.All(items=[ir.AclRef(name=value), ir.MethodMatch(values=[value.upper()])]),
                           action=ir.Return(status=200, body=value, content_type=value))],
            request_headers=[ir.HeaderOp(action="set", name=value, value=value)],
            default=ir.UseUpstream(upstream=value),
        )],
        upstreams=[ir.Upstream(name=value, servers=[ir.Server(name=value, host="h", cookie=value)])],
    )
    text = round_trip(cfg)
    blocks = re.findall(r"^(frontend|upstream) ", text, re.MULTILINE)
    assert blocks == ["frontend", "upstream"]


def test_a_value_cannot_end_a_statement_or_open_a_block():
    evil = 'x\n}\nfrontend evil {\n    listen :81\n}\n#'
    cfg = frontend(ir.Rule(action=ir.Return(status=200, body=evil)))
    text = round_trip(cfg)
    assert len(text.splitlines()) == 4  # frontend f { / listen / return / }
    assert [fe.name for fe in load(text).frontends] == ["f"]


# ------------------------------------------------------------------------------ comments

def test_comments_are_written_above_their_statement():
    text = dedent('''
        # the edge
        frontend web {
            # plain HTTP
            listen :80
            # API traffic
            acl api path prefix /api/
            # route it
            use app if api
        }

        # pool
        upstream app {
            # first
            server a 10.0.0.1:80
        }
    ''')
    assert format_text(text) == (text, [])


def test_comments_of_nodes_without_a_line_of_their_own_go_above_the_nearest_statement():
    """The reader attaches a comment to the next statement that has a node; a comment on a
    balance line or a condition is therefore written above its upstream or rule, where it stays."""
    balance = ir.Balance(algorithm="least_conn", comments=["fewest connections"])
    up = ir.Upstream(name="app", balance=balance, servers=[ir.Server(name="a", host="h")], comments=["pool"])
    rule = ir.Rule(condition=ir.PathMatch(op="prefix", values=["/x"], comments=["legacy paths"]),
                   action=ir.UseUpstream(upstream="app"))
    cfg = frontend(rule, comments=[])
    cfg.upstreams.append(up)
    cfg.comments = ["file header"]
    text = round_trip(cfg)
    assert text == dedent('''
        # file header
        frontend f {
            listen :80
            # legacy paths
            use app if path prefix /x
        }

        # pool
        # fewest connections
        upstream app {
            balance least_conn
            server a h
        }
    ''')


def test_a_line_break_in_a_comment_cannot_inject_configuration():
    cfg = ir.Config(upstreams=[ir.Upstream(name="u", comments=["one\n}\nfrontend evil {\n  listen :1\n}", "  two  "])])
    text = round_trip(cfg)
    assert text == dedent('''
        # one
        # }
        # frontend evil {
        # listen :1
        # }
        # two
        upstream u {
        }
    ''')


def test_comments_of_an_otherwise_empty_config_are_kept():
    cfg = ir.Config(comments=["nothing here yet"])
    assert round_trip(cfg) == "# nothing here yet\ndefaults {\n    mode http\n}\n"


# ------------------------------------------------------------------------------ raw blocks

def test_raw_text_is_written_verbatim_and_the_closing_delimiter_indented():
    cfg = ir.Config(upstreams=[ir.Upstream(name="u", raw=[
        ir.Raw(target="nginx", text="keepalive 16;\n  # kept as is\n"),
        ir.Raw(target="haproxy", text="option redispatch"),
        ir.Raw(target="nginx", text=""),
    ])])
    assert round_trip(cfg) == dedent('''
        upstream u {
            raw nginx """
        keepalive 16;
          # kept as is
            """
            raw haproxy """
        option redispatch"""
            raw nginx """
            """
        }
    ''')


@pytest.mark.parametrize("text", ['say """hi"""', 'ends with a quote"', "ends with a space ", "tab\t", "nul\0"])
def test_raw_text_the_dsl_cannot_hold_is_reported_at_the_node(text):
    raw = ir.Raw(target="nginx", text=text, span=ir.Span(file="site.conf", line=12))
    out, diags = write_with_diagnostics(ir.Config(raw=[raw]))
    assert out is None
    assert [(d.code, d.severity, d.file, d.line) for d in diags] == [("P001", "error", "site.conf", 12)]
    with pytest.raises(ProxycError):
        write(ir.Config(raw=[raw]))


# ------------------------------------------------------------------------------ refusals

SPAN = ir.Span(file="in.conf", line=7)


def _frontend_with(**kw) -> ir.Config:
    return ir.Config(frontends=[ir.Frontend(name="f", listens=[ir.Listen(port=80)], span=SPAN, **kw)])


def _rule(cond=None, action=None) -> ir.Config:
    return _frontend_with(rules=[ir.Rule(condition=cond, action=action or ir.Deny())])


@pytest.mark.parametrize("cfg, message", [
    (_frontend_with(timeouts=ir.Timeouts(connect=5000)), "timeout connect in a frontend"),
    (ir.Config(upstreams=[ir.Upstream(name="u", span=SPAN, timeouts=ir.Timeouts(client=1000))]),
     "timeout client in an upstream"),
    (_rule(ir.All(items=[], span=SPAN)), "an empty All condition"),
    (_rule(ir.PathMatch(op="prefix", values=[], span=SPAN)), "a path matcher without values"),
    (_rule(ir.HeaderMatch(name="X", op="present", values=["v"], span=SPAN)), "values or nocase"),
    (_rule(action=ir.Redirect(location="/a", scheme="https", span=SPAN)), "exactly one of location"),
    (_rule(action=ir.Redirect(span=SPAN)), "exactly one of location"),
    (_frontend_with(request_headers=[ir.HeaderOp(action="set", name="X", span=SPAN)]), "without a value"),
    (_frontend_with(request_headers=[ir.HeaderOp(action="delete", name="X", value="v", span=SPAN)]), "a value for"),
    (_frontend_with(stats=ir.Stats(users=[ir.StatsUser(user="a:b", password="p", span=SPAN)])), "containing ':'"),
    (ir.Config(logs=[ir.Log(target="stdout", level="info", span=SPAN)]), "a log level without a facility"),
    (ir.Config(logs=[ir.Log(target="syslog", span=SPAN)]), "a syslog target without an address"),
    (ir.Config(logs=[ir.Log(target="stderr", address="h:514", span=SPAN)]), "an address for log target stderr"),
    (ir.Config(upstreams=[ir.Upstream(name="u", passive=ir.Passive(span=SPAN))]), "neither max_fails"),
    (ir.Config(upstreams=[ir.Upstream(name="u", balance=ir.Balance(consistent=True, span=SPAN))]),
     "consistent = True with balance round_robin"),
    (ir.Config(upstreams=[ir.Upstream(name="u", balance=ir.Balance(algorithm="hash", span=SPAN))]),
     "balance hash without a key"),
    (ir.Config(upstreams=[ir.Upstream(name="u", balance=ir.Balance(algorithm="hash", key="header", span=SPAN))]),
     "balance hash header without a name"),
    (ir.Config(upstreams=[ir.Upstream(name="u", balance=ir.Balance(algorithm="hash", key="uri", key_name="x",
                                                                   span=SPAN))]),
     "key_name = 'x' with balance hash"),
    (ir.Config(upstreams=[ir.Upstream(name="u", comments=["a\0b"], span=SPAN)]), "a NUL character in Upstream.comments"),
])
def test_what_the_dsl_cannot_express_is_an_error_at_the_node(cfg, message):
    out, diags = write_with_diagnostics(cfg)
    assert out is None
    assert len(diags) == 1, diags
    d = diags[0]
    assert (d.code, d.severity, d.file, d.line) == ("P001", "error", "in.conf", 7)
    assert message in d.message


# ------------------------------------------------------------------------------ format_text

def test_format_text_reports_syntax_errors_and_writes_nothing():
    out, diags = format_text("frontend f {\n    listen :80\n", "site.pxc")
    assert out is None
    assert [(d.code, d.file, d.line) for d in diags] == [("E001", "site.pxc", 2)]


def test_format_text_reports_value_errors_and_writes_nothing():
    out, diags = format_text("upstream u {\n    balance least_con\n}\n", "site.pxc")
    assert out is None
    assert [(d.code, d.line, d.col, d.hint) for d in diags] == [("E005", 2, 13, "did you mean least_conn?")]


def test_format_text_of_its_own_output_changes_nothing():
    text = "frontend   web{\n listen :80 ;default   app\n}\nupstream app {\n server a h:80 weight 1\n}"
    formatted, diags = format_text(text)
    assert diags == []
    assert formatted == "frontend web {\n    listen :80\n    default app\n}\n\nupstream app {\n    server a h:80\n}\n"
    assert format_text(formatted) == (formatted, [])


# ------------------------------------------------------------------------------ known gaps

def test_a_hash_key_named_consistent_round_trips():
    cfg = ir.Config(upstreams=[ir.Upstream(name="u", balance=ir.Balance(algorithm="hash", key="header",
                                                                         key_name="consistent"))])
    assert 'balance hash header "consistent"' in write(cfg)
    round_trip(cfg)


def test_output_reads_back_through_lark_too():
    """The reader has a fast path for plain files; the writer's output must mean the same to both."""
    for _, path in cases():
        text = write(load(path.read_text(encoding="utf-8")))
        fast, _ = read(text)
        slow, _ = read(text, fast=False)
        assert fast == slow, path


def test_a_nul_character_is_refused_at_its_node():
    cfg = ir.Config(upstreams=[ir.Upstream(name="u", servers=[
        ir.Server(name="s", host="h", span=ir.Span(file="f.pxc", line=3, col=5), cookie="a\0b")])])
    text, diags = write_with_diagnostics(cfg)
    assert text is None
    assert [(d.code, d.line, d.message) for d in diags] == [
        ("P001", 3, "the DSL cannot express a NUL character in Server.cookie")]
