"""proxyc's regex lexer for nginx gives exactly what crossplane's lexer gives: the same
(token, line, quoted) tuples and the same syntax error (message, file, line), on every nginx
file we have and on generated text built from the characters that lexers get wrong."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from crossplane.errors import NgxParserSyntaxError
from crossplane.lexer import EXTERNAL_LEXERS
from crossplane.lexer import lex as crossplane_lex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxyc.dialects.nginx import lexer

try:
    from conftest import corpus_dir
except ImportError:  # run from the repository root
    from tests.conftest import corpus_dir

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import nginx as generated_nginx  # noqa: E402
from generate import nginx_sites as generated_sites  # noqa: E402

NGINX_FILES = sorted(
    [*(corpus_dir() / "nginx").glob("*.conf"), *ROOT.glob("examples/**/*.conf"),
     *ROOT.glob("tests/golden/**/nginx.conf"), *ROOT.glob("tests/lint_fixtures/**/*.conf")])


def outcome(lex, path) -> list:
    """Every token, then the error (type, message, file, line) if lexing stopped with one."""
    out: list = []
    try:
        out.extend(lex(str(path)))
    except NgxParserSyntaxError as exc:
        out.append((type(exc).__name__, exc.strerror, exc.filename, exc.lineno))
    return out


def assert_same(path) -> None:
    ours, theirs = outcome(lexer.lex, path), outcome(crossplane_lex, path)
    assert ours == theirs


def test_the_files_are_there():
    assert len(NGINX_FILES) >= 40


@pytest.mark.parametrize("path", NGINX_FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_same_tokens_as_crossplane_on_real_files(path):
    assert_same(path)


@pytest.mark.parametrize("text", [generated_nginx(40), generated_sites(12)], ids=["backends", "sites"])
def test_same_tokens_as_crossplane_on_generated_configs(tmp_path, text):
    path = tmp_path / "nginx.conf"
    path.write_text(text)
    assert_same(path)
    assert len(outcome(lexer.lex, path)) > 1000


# Each case shows one quirk, so a failure names it; the generated test below covers mixtures.
QUIRKS = {
    "escaped specials stay in the token": b'a\\;b \\{ \\} \\" \\\' \\# x\\ y;\n',
    "backslash-newline is a line break inside a token": b"a\\\nb c;\nd;\n",
    "backslash-newline starts a token on the next line": b"x \\\nb;\ny;\n",
    "comment only at a token start": b"a#b #c d\n  # e ; f\ng;\n",
    "backslash-newline ends a comment": b"# c \\\nnext;\n",
    "quote inside a token is ordinary": b"a\"b c\"d;\n",
    "only the same quote is unescaped": b"\"a\\\"b\\'c\\\\\" 'x\\'y\\\"z';\n",
    "quoted tokens need no whitespace": b"\"a\"\"b\"'c'd;\n",
    "empty quoted token": b"a \"\" '';\n",
    "newline inside quotes": b"a \"x\ny\" b;\nc;\n",
    "parameter expansion": b"set $a ${b}c ${d e} ${f;g} ${h}\tx $${i} \\${j} ${k\\}l;\n",
    "expansion closed by a space": b"a ${b c}\n",
    "expansion then quote": b"a ${b}\"c\" ${d}'e';\n",
    "expansion at a line end": b"a ${b}\nc;\n",
    "braces": b"http { server { listen 80; } }\n",
    "one brace too many": b"a { } }\nb;\n",
    "a brace missing": b"a {\nb;\n# end\n",
    "brace errors after tokens": b"x;\n}\n",
    "CR and CRLF": b"a\rb;\r\nc \\\r\nd;\r\n",
    "unicode whitespace separates": b"a\xc2\xa0b\xe2\x80\xa8c\x0bd\x1ce;\n",
    "invalid UTF-8": b"a\xff b\xc3;\n\"\xe2\x82\";\n",
    "unterminated quote at the end": b"a;\n\"open",
    "unterminated comment at the end": b"a;\n# open",
    "token at the end": b"a;\nlast",
    "lone backslash at the end": b"a;\nb \\",
    "expansion at the end": b"a ${b",
    "expansion then a space at the end": b"a ${b} c",
    "empty file": b"",
    "only whitespace": b" \n\t\r\n",
}


@pytest.mark.parametrize("data", QUIRKS.values(), ids=QUIRKS.keys())
def test_same_tokens_as_crossplane_on_quirks(tmp_path, data):
    path = tmp_path / "nginx.conf"
    path.write_bytes(data)
    assert_same(path)


def test_lua_blocks_are_left_to_crossplane(tmp_path):
    # crossplane's Lua plugin lexes the block after the directive: tokens no regex would give.
    assert "content_by_lua_block" in EXTERNAL_LEXERS
    path = tmp_path / "nginx.conf"
    path.write_text('location / { content_by_lua_block { ngx.say("}") } }\n')
    assert_same(path)
    assert lexer.tokenize(path.read_text())[0] != outcome(crossplane_lex, path)  # so the fallback matters


def test_whitespace_is_what_crossplane_tests():
    # The regex's \s must be exactly str.isspace(), which crossplane uses.
    space = re.compile(r"\s")
    assert all(chr(c).isspace() == bool(space.match(chr(c))) for c in range(sys.maxunicode + 1))


# Fragments that hurt a lexer: every special character, escaped and not, line ends of all kinds,
# unicode and bytes that are not UTF-8.
FRAGMENTS = [
    b'"', b"'", b"\\", b'\\"', b"\\'", b"\\{", b"\\}", b"\\;", b"\\#", b"\\ ", b"\\\t", b"\\\n", b"\\\r\n",
    b"\\\r", b"\\\\", b"\\$", b"$", b"${", b"{", b"}", b"#", b";", b" ", b"\t", b"\n", b"\r", b"\r\n",
    b"a", b"b", b"location", b"x y", b"\xc3\xa9", b"\xe2\x80\xa8", b"\xc2\x85", b"\xc2\xa0", b"\x0b", b"\x0c",
    b"\x1c", b"\xff", b"\xc3", b"\xe2\x82", b"\x00",
]


@settings(max_examples=3000, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=40), end=st.sampled_from([b"", b"\n", b"\r\n", b";\n"]))
def test_same_tokens_as_crossplane_on_generated_text(tmp_path, parts, end):
    path = tmp_path / "nginx.conf"
    path.write_bytes(b"".join(parts) + end)
    assert_same(path)
