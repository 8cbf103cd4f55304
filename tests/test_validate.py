"""Validation: each problem that makes an IR invalid is one diagnostic at the exact spot."""
import pytest

from proxyc.dialects.pxc.reader import read
from proxyc import ir
from proxyc.validate import validate

BASE = """defaults {
    mode %s
}
"""


def problems(body: str, mode: str = "http") -> list[tuple[str, int, int, str]]:
    text = BASE % mode + body
    cfg, diags = read(text, "t.pxc")
    assert cfg is not None, diags
    return [(d.code, d.line, d.col, d.message) for d in diags + validate(cfg)]


CASES = [
    (
        "unknown upstream",
        "frontend f {\n    listen :80\n    default nope\n}\nupstream nope2 {\n    server a 1.2.3.4:80\n}\n",
        ("V101", 6, 13, "unknown upstream 'nope'"),
    ),
    (
        "unknown acl",
        "frontend f {\n    listen :80\n    acl api path prefix /api\n    use u if apii\n    default u\n}\nupstream u {\n    server a 1.2.3.4:80\n}\n",
        ("V102", 7, 14, "unknown ACL 'apii'"),
    ),
    (
        "duplicate upstream",
        "frontend f {\n    listen :80\n    default u\n}\nupstream u {\n    server a 1.2.3.4:80\n}\nupstream u {\n    server b 1.2.3.4:81\n}\n",
        ("V103", 11, 10, "duplicate upstream name 'u' (first defined at line 8)"),
    ),
    (
        "duplicate server",
        "frontend f {\n    listen :80\n    default u\n}\nupstream u {\n    server a 1.2.3.4:80\n    server a 1.2.3.5:80\n}\n",
        ("V103", 10, 12, "duplicate server in upstream u name 'a' (first defined at line 9)"),
    ),
    (
        "unknown resolver",
        "frontend f {\n    listen :80\n    default u\n}\nupstream u {\n    resolver dockr\n    server a app:80\n}\n",
        ("V104", 8, 10, "unknown resolvers section 'dockr'"),
    ),
    (
        "bad cidr",
        "frontend f {\n    listen :80\n    deny if source 10.0.0.0/33\n    default u\n}\nupstream u {\n    server a 1.2.3.4:80\n}\n",
        ("V111", 6, 20, "'10.0.0.0/33' is not an address or CIDR"),
    ),
    (
        "bad regex",
        "frontend f {\n    listen :80\n    use u if path regex '(unclosed'\n    default u\n}\nupstream u {\n    server a 1.2.3.4:80\n}\n",
        ("V108", 6, 19, "invalid regex '(unclosed': missing ), unterminated subpattern at position 0"),
    ),
    (
        "header injection",
        'frontend f {\n    listen :80\n    request_header set X-A "a\\r\\nX-Evil: 1"\n    default u\n}\nupstream u {\n    server a 1.2.3.4:80\n}\n',
        ("V109", 6, 5, "header X-A value contains a line break or NUL"),
    ),
    (
        "bad name",
        "frontend f {\n    listen :80\n    default u\n}\nupstream \"u x\" {\n    server a 1.2.3.4:80\n}\n",
        ("V107", 8, 10, "upstream name 'u x' has characters that are not allowed"),
    ),
]


@pytest.mark.parametrize("body, expected", [(b, e) for _, b, e in CASES], ids=[c[0] for c in CASES])
def test_validation_problem_is_reported_at_its_spot(body, expected):
    assert expected in problems(body)


def test_http_matcher_in_tcp_frontend():
    body = "frontend f {\n    listen :5432\n    use u if path prefix /x\n    default u\n}\nupstream u {\n    server a 1.2.3.4:5432\n}\n"
    found = problems(body, mode="tcp")
    assert ("V105", 6, 19, "path matcher in a tcp-mode frontend") in found


def test_upstream_used_in_both_modes():
    body = ("frontend f {\n    listen :80\n    default u\n}\nfrontend g {\n    mode tcp\n    listen :81\n    default u\n}\n"
            "upstream u {\n    server a 1.2.3.4:80\n}\n")
    assert ("V106", 13, 10, "upstream u is used by both http and tcp frontends") in problems(body)


@pytest.mark.parametrize("path", sorted(__import__("pathlib").Path(__file__).resolve().parent.parent.joinpath("examples").glob("*.pxc")),
                         ids=lambda p: p.stem)
def test_examples_are_valid(path):
    cfg, diags = read(path.read_text(), str(path))
    assert cfg is not None and diags == []
    assert validate(cfg) == []


def test_deeply_nested_condition_is_a_diagnostic_not_a_crash():
    depth = 5000
    body = ("frontend f {\n    listen :80\n    acl a path prefix /a\n    acl x " + "not " * depth + "a\n"
            "    default u\n}\nupstream u {\n    server s 1.2.3.4:80\n}\n")
    found = problems(body)
    assert [p[:2] for p in found] == [("V114", 7)]  # line 7: the ACL, after the 3-line defaults


@pytest.mark.parametrize("body, expected", [
    ("frontend f {\n    listen :80\n    default u\n}\nupstream u {\n    server a 10.0.0.1:80\n    timeout connect 0s\n}\n",
     ("V118", 8, 10, "timeout connect is 0")),
    ("resolvers dns {\n    hold_valid 10s\n}\n", ("V115", 4, 11, "resolvers dns has no nameserver")),
    ('log syslog "bad host:514" local0\n', ("V117", 4, 5, "'bad host' is not a valid host name or address")),
], ids=["timeout-zero", "resolver-without-nameserver", "log-host"])
def test_more_validation_problems(body, expected):
    found = problems(body)
    assert expected in found, found


def test_a_name_ending_in_a_line_break_is_refused():
    from proxyc import ir

    cfg = ir.Config(upstreams=[ir.Upstream(name="u\n", servers=[ir.Server(name="a", host="h")])])
    assert [d.code for d in validate(cfg)] == ["V107"]


@pytest.mark.parametrize("field,value", [("upstream name", "web\n"), ("server host", "10.0.0.1\n"),
                                          ("server host", "app\n"), ("server host", "١.٢.٣.٤")])
def test_a_final_newline_or_foreign_digits_do_not_pass_as_names_or_addresses(field, value):
    """'$' in a pattern also matches before a final newline, and \\d matches digits of any script:
    neither may let a value through that the writers would then have to carry."""
    up = ir.Upstream(name="web", servers=[ir.Server(name="s", host="10.0.0.1", port=80)])
    if field == "upstream name":
        up.name = value
    else:
        up.servers[0].host = value
    cfg = ir.Config(upstreams=[up])
    assert {d.code for d in validate(cfg)} & {"V107", "V117"}


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4", "192.168.56.101",
                                  "256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4\n", "1.2.3.04"])
def test_the_dotted_quad_shortcut_agrees_with_the_full_address_check(host):
    from proxyc.dialects.common import parse_address
    from proxyc.dialects.common import PLAIN_IPV4 as _PLAIN_IPV4

    if _PLAIN_IPV4.fullmatch(host):
        assert parse_address(host)[2] is None
