"""Tests for proxyc.dialects.haproxy.lexer (HAProxy 2.6 tokenizer rules)."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import corpus_dir
from proxyc.dialects.haproxy.lexer import (
    SECTION_KEYWORDS,
    LexError,
    Line,
    Section,
    Word,
    _lex_line,
    lex,
)

CORPUS_FILES = sorted((corpus_dir() / "haproxy").glob("*.cfg"))


# ---------------------------------------------------------------- helpers


def only_line(text: str) -> Line:
    """The single line of a one-line config (in the pseudo-section)."""
    sections = lex(text)
    assert len(sections) == 1
    lines = sections[0].lines if sections[0].keyword is None else [sections[0].header]
    assert len(lines) == 1
    return lines[0]


def texts(text: str) -> list[str]:
    return [w.text for w in only_line(text).words]


def as_tuples(words: list[Word]) -> list[tuple]:
    return [(w.text, w.raw, w.line, w.col, w.quoted) for w in words]


def check_raw_positions(text: str, sections: list[Section]) -> None:
    """Every word's raw text is found verbatim at its (line, col)."""
    src_lines = text.split("\n")
    for section in sections:
        lines = list(section.lines)
        if section.header is not None:
            lines.append(section.header)
        for line in lines:
            assert line.words, "a logical line always has at least one word"
            for w in line.words:
                assert w.line == line.line
                src = src_lines[w.line - 1]
                assert src[w.col - 1 : w.col - 1 + len(w.raw)] == w.raw
                if not w.quoted and "\\" not in w.raw:
                    assert w.text == w.raw


# ---------------------------------------------------------------- plain words


def test_plain_words_positions():
    line = only_line("  server  s1\t10.0.0.1:80   check")
    assert as_tuples(line.words) == [
        ("server", "server", 1, 3, False),
        ("s1", "s1", 1, 11, False),
        ("10.0.0.1:80", "10.0.0.1:80", 1, 14, False),
        ("check", "check", 1, 28, False),
    ]
    assert line.comment is None
    assert line.line == 1


@pytest.mark.parametrize("sep", [" ", "\t", "\v", "\f", " \t ", "\t\t"])
def test_separators(sep):
    assert texts(f"a{sep}b{sep}c") == ["a", "b", "c"]


@pytest.mark.parametrize(
    "char",
    ["\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u3000"],
    ids=["x1c", "x1f", "x85", "nbsp", "emsp", "ideographic"],
)
def test_non_ascii_whitespace_is_not_a_separator(char):
    # HAProxy splits on C isspace() only; Python's str.split() would split here
    assert texts(f"a{char}b c") == [f"a{char}b", "c"]
    assert texts(f'"q" a{char}b') == ["q", f"a{char}b"]


def test_dollar_outside_quotes_is_literal():
    assert texts("server backend $BACKEND_HOST") == ["server", "backend", "$BACKEND_HOST"]
    assert texts("x $1 ${") == ["x", "$1", "${"]


# ---------------------------------------------------------------- escapes


@pytest.mark.parametrize(
    "source, expected",
    [
        (r"a\ b", "a b"),
        (r"\#x", "#x"),
        (r"a\\b", "a\\b"),
        (r"a\"b", 'a"b'),
        (r"a\'b", "a'b"),
        (r"\x41\x62", "Ab"),
        (r"\x7E", "~"),
        (r"\xff", "\xff"),
        (r"a\tb", "a\tb"),
        (r"a\nb", "a\nb"),
        (r"a\rb", "a\rb"),
        (r"\1", "\\1"),  # not an escape: kept (regex back-references)
        (r"^/a\.b$", "^/a\\.b$"),
        (r"\$HOME", "\\$HOME"),  # \$ is an escape only inside double quotes
        ("ab\\", "ab\\"),  # trailing backslash: literal, no line continuation
        (r"\\x41", "\\x41"),
    ],
)
def test_escapes_outside_quotes(source, expected):
    line = only_line(f"k {source}")
    assert [w.text for w in line.words] == ["k", expected]
    assert line.words[1].raw == source
    assert line.words[1].quoted is False


def test_escaped_space_keeps_one_word_and_column():
    line = only_line(r"    stats realm Strictly\ Private")
    assert as_tuples(line.words)[-1] == ("Strictly Private", r"Strictly\ Private", 1, 17, False)


def test_trailing_backslash_does_not_continue_line():
    sections = lex("acl a path \\\nacl b path /b\n")
    assert [[w.text for w in l.words] for l in sections[0].lines] == [
        ["acl", "a", "path", "\\"],
        ["acl", "b", "path", "/b"],
    ]


# ---------------------------------------------------------------- double quotes


@pytest.mark.parametrize(
    "source, expected",
    [
        ('"a b"', "a b"),
        ('"a#b"', "a#b"),
        ('"it\'s"', "it's"),
        (r'"a\"b"', 'a"b'),
        (r'"a\\b"', "a\\b"),
        (r'"a\ b"', "a b"),
        (r'"\x41"', "A"),
        (r'"a\tb"', "a\tb"),
        (r'"\#"', "#"),
        (r'"\'"', "'"),
        (r'"cost \$5"', "cost $5"),
        (r'"\1 /\2"', "\\1 /\\2"),
        ('"${VAR}"', "${VAR}"),
        ('"$VAR"', "$VAR"),
        ('"fd@${FD_APP1}"', "fd@${FD_APP1}"),
        ('"${LOCAL_SYSLOG}:514"', "${LOCAL_SYSLOG}:514"),
        ('"$HAPROXY_HTTP_LOG_FMT dbg"', "$HAPROXY_HTTP_LOG_FMT dbg"),
        ('"$a.b"', "$a.b"),
        ('"${_X1}"', "${_X1}"),
        ('"${VAR-def ault}"', "${VAR-def ault}"),
        ('"${VAR-a"b#c}"', '${VAR-a"b#c}'),  # the default runs up to '}', quotes included
        ('"${VAR[*]}"', "${VAR[*]}"),
        ('"${VAR[*]-x}"', "${VAR[*]-x}"),
        ('"$.LINE ${.FILE} $.SECTION"', "$.LINE ${.FILE} $.SECTION"),
        ('""', ""),
        ("\"'\"", "'"),
        ('"\tx\v"', "\tx\v"),
    ],
)
def test_double_quotes(source, expected):
    line = only_line(f"k {source} z")
    assert [w.text for w in line.words] == ["k", expected, "z"]
    assert line.words[1].raw == source
    assert line.words[1].quoted is True
    assert line.words[1].col == 3
    assert line.words[2].col == 4 + len(source)


# ---------------------------------------------------------------- single quotes


@pytest.mark.parametrize(
    "source, expected",
    [
        ("'a b'", "a b"),
        ("'a#b'", "a#b"),
        (r"'a\ b'", r"a\ b"),
        (r"'\x'", r"\x"),  # no escape processing, so no error either
        (r"'\\'", r"\\"),
        ("'$1 ${X'", "$1 ${X"),
        ("'\"'", '"'),
        ("''", ""),
        ("'Basic realm=\"Access the webapp\"'", 'Basic realm="Access the webapp"'),
    ],
)
def test_single_quotes(source, expected):
    line = only_line(f"k {source}")
    assert [w.text for w in line.words] == ["k", expected]
    assert line.words[1].raw == source
    assert line.words[1].quoted is True


# ---------------------------------------------------------------- glued quotes


@pytest.mark.parametrize(
    "source, expected",
    [
        ('foo"bar baz"', "foobar baz"),
        ('"a"b\'c\'', "abc"),
        ("x'y z'\\ w", "xy z w"),
        ('"a""b"', "ab"),
        ("a\"\"'' b", None),  # two words: 'a' (with empty quotes) and 'b'
    ],
)
def test_glued_quotes(source, expected):
    words = only_line(source).words
    if expected is None:
        assert [w.text for w in words] == ["a", "b"]
        assert words[0].quoted and not words[1].quoted
    else:
        assert len(words) == 1
        assert (words[0].text, words[0].raw, words[0].col, words[0].quoted) == (
            expected,
            source,
            1,
            True,
        )


# The examples of the manual, section 2.2: each group yields the same words.
LOG_FORMAT_EXAMPLES = [
    r"log-format %{+Q}o\ %t\ %s\ %{-Q}r",
    r'log-format "%{+Q}o %t %s %{-Q}r"',
    r"log-format '%{+Q}o %t %s %{-Q}r'",
    r"""log-format "%{+Q}o %t"' %s %{-Q}r'""",
    r"""log-format "%{+Q}o %t"' %s'\ %{-Q}r""",
]
REQREP_EXAMPLES = [
    r'reqrep "^([^\ :]*)\ /static/(.*)" \1\ /\2',
    r"""reqrep "^([^ :]*)\ /static/(.*)" '\1 /\2'""",
    r'reqrep "^([^ :]*)\ /static/(.*)" "\1 /\2"',
    r'reqrep "^([^ :]*)\ /static/(.*)" "\1\ /\2"',
]


@pytest.mark.parametrize("source", LOG_FORMAT_EXAMPLES)
def test_manual_log_format_examples(source):
    assert texts(source) == ["log-format", "%{+Q}o %t %s %{-Q}r"]


@pytest.mark.parametrize("source", REQREP_EXAMPLES)
def test_manual_reqrep_examples(source):
    assert texts(source) == ["reqrep", "^([^ :]*) /static/(.*)", r"\1 /\2"]


# ---------------------------------------------------------------- comments


@pytest.mark.parametrize(
    "source, words, comment",
    [
        ("bind :80 # public", ["bind", ":80"], "public"),
        ("bind :80 #", ["bind", ":80"], ""),
        ("bind :80#x", ["bind", ":80"], "x"),
        ("bind :80 #  two  spaces  ", ["bind", ":80"], "two  spaces"),
        ('x "a # b" # c', ["x", "a # b"], "c"),
        ("x 'a # b' # c", ["x", "a # b"], "c"),
        (r"x a\#b # c", ["x", "a#b"], "c"),
        ('x "q"#c', ["x", "q"], "c"),
        ("x # 'unterminated \" quotes are fine here", ["x"], "'unterminated \" quotes are fine here"),
        ("x # \\xZZ", ["x"], "\\xZZ"),
        ("x", ["x"], None),
    ],
)
def test_trailing_comments(source, words, comment):
    line = only_line(source)
    assert [w.text for w in line.words] == words
    assert line.comment == comment


def test_full_line_comments_keep_inner_layout():
    text = "# header\n  #   indented\n#\n##double\t\n\nglobal\n"
    sections = lex(text)
    assert [s.keyword for s in sections] == [None, "global"]
    pseudo, glob = sections
    # only trailing whitespace is removed, so "#" + text rebuilds the comment
    assert pseudo.comments == [(1, " header"), (2, "   indented"), (3, ""), (4, "#double")]
    assert pseudo.lines == []
    assert pseudo.line == 1
    assert glob.leading_comments == []  # separated by a blank line


def test_leading_comment_block_stops_at_deeper_indentation():
    pseudo, glob = lex("# header\n  #   indented\n#\n##double\nglobal\n")
    assert glob.leading_comments == ["", "#double"]
    assert pseudo.comments == [(1, " header"), (2, "   indented")]


def test_leading_comments_attach_to_next_section():
    text = "\n".join(
        [
            "global",  # 1
            "    maxconn 10",  # 2
            "    # about maxconn",  # 3  (indented: stays in global)
            "",  # 4
            "# file note",  # 5  (separated by a blank line: stays in global)
            "",  # 6
            "# the web frontend",  # 7
            "# second line",  # 8
            "frontend web",  # 9
            "    # before bind",  # 10
            "    bind :80",  # 11
            "    # trailing body comment",  # 12
            "backend app",  # 13
            "    server a 127.0.0.1:1",  # 14
        ]
    )
    glob, web, app = lex(text)
    assert glob.comments == [(3, " about maxconn"), (5, " file note")]
    assert glob.leading_comments == []
    assert web.leading_comments == [" the web frontend", " second line"]
    assert web.comments == [(10, " before bind"), (12, " trailing body comment")]
    assert app.leading_comments == []
    assert app.comments == []
    assert [l.line for l in web.lines] == [11]


def test_leading_comments_of_first_section_leave_pseudo_section():
    sections = lex("# about global\nglobal\n    daemon\n")
    assert len(sections) == 1
    assert sections[0].keyword == "global"
    assert sections[0].leading_comments == [" about global"]
    assert sections[0].comments == []


def test_indented_comment_before_unindented_header_stays_in_body():
    a, b = lex("backend a\n    server s1 h:1\n    # server s2 h:2\nbackend b\n")
    assert a.comments == [(3, " server s2 h:2")]
    assert b.leading_comments == []


def test_header_trailing_comment():
    (s,) = lex("frontend web # main entry\n")
    assert s.header is not None
    assert s.header.comment == "main entry"
    assert s.comments == []


# ---------------------------------------------------------------- sections


@pytest.mark.parametrize("keyword", sorted(SECTION_KEYWORDS))
def test_every_section_keyword(keyword):
    sections = lex(f"{keyword} name1 extra\n    some-directive 1\n")
    assert len(sections) == 1
    s = sections[0]
    assert (s.keyword, s.name, s.line) == (keyword, "name1", 1)
    assert [w.text for w in s.args] == ["name1", "extra"]
    assert s.header is not None and s.header.words[0].text == keyword
    assert [[w.text for w in l.words] for l in s.lines] == [["some-directive", "1"]]


@pytest.mark.parametrize("word", ["acme", "traces", "Frontend", "frontends", "ruleset", ".if"])
def test_unknown_section_keywords_stay_lines(word):
    sections = lex(f"global\n    daemon\n{word} x\n    foo\n")
    assert [s.keyword for s in sections] == ["global"]
    assert [l.words[0].text for l in sections[0].lines] == ["daemon", word, "foo"]


def test_sections_structure():
    text = (
        "chroot-ish stray line\n"  # 1: before any section
        "global\n"  # 2
        "    daemon\n"  # 3
        "\n"  # 4
        "defaults\n"  # 5
        "    mode http\n"  # 6
        "defaults named\n"  # 7
        '  frontend "my fe" 0.0.0.0:80\n'  # 8: indented, quoted name
        "    default_backend be\n"  # 9
        "backend be\n"  # 10
        "    server s1 10.0.0.1:80 check\n"  # 11
    )
    sections = lex(text, filename="h.cfg")
    assert [(s.keyword, s.name, s.line) for s in sections] == [
        (None, None, 1),
        ("global", None, 2),
        ("defaults", None, 5),
        ("defaults", "named", 7),
        ("frontend", "my fe", 8),
        ("backend", "be", 10),
    ]
    pseudo = sections[0]
    assert pseudo.header is None and pseudo.args == []
    assert [l.line for l in pseudo.lines] == [1]
    fe = sections[4]
    assert as_tuples(fe.args) == [
        ("my fe", '"my fe"', 8, 12, True),
        ("0.0.0.0:80", "0.0.0.0:80", 8, 20, False),
    ]
    assert [l.line for l in fe.lines] == [9]
    assert sections[2].args == [] and sections[2].name is None


def test_empty_inputs():
    assert lex("") == []
    assert lex("\n\n  \n\t\n") == []
    assert lex("\ufeff") == []


def test_bom_is_skipped():
    (s,) = lex("\ufeffglobal\n    daemon\n")
    assert s.keyword == "global"
    assert s.header.words[0].col == 1


def test_no_trailing_newline():
    (s,) = lex("backend b\n    server s 1.2.3.4:80")
    assert [w.text for w in s.lines[0].words] == ["server", "s", "1.2.3.4:80"]


# ---------------------------------------------------------------- CRLF


CRLF_SAMPLE = (
    "# top\n"
    "global\n"
    "    log \"${SYSLOG}:514\" local0 # send\n"
    "\n"
    "frontend web\n"
    "    bind :80\n"
    "    http-request return status 200 content-type text/plain string 'ok' # hi\n"
    "    stats realm Strictly\\ Private\n"
)


def dump(sections: list[Section]) -> list:
    out = []
    for s in sections:
        lines = ([s.header] if s.header else []) + s.lines
        out.append(
            (
                s.keyword,
                s.name,
                s.line,
                s.comments,
                s.leading_comments,
                [(as_tuples(l.words), l.line, l.comment) for l in lines],
            )
        )
    return out


@pytest.mark.parametrize(
    "variant",
    [
        CRLF_SAMPLE.replace("\n", "\r\n"),
        CRLF_SAMPLE.replace("\n", "\r\n").rstrip("\n"),  # ends with a lone "\r"
        CRLF_SAMPLE.replace("\n", "\r\r\n"),
        CRLF_SAMPLE.replace("global\n", "global\r\n"),  # mixed endings
    ],
    ids=["crlf", "final-cr", "cr-cr-lf", "mixed"],
)
def test_crlf_gives_same_result_as_lf(variant):
    assert dump(lex(variant)) == dump(lex(CRLF_SAMPLE))


def test_crlf_positions_and_comments():
    sections = lex("# a\r\nbackend b # c\r\n    server s h:1\r\n")
    assert sections[0].leading_comments == [" a"]
    assert sections[0].header.comment == "c"
    assert as_tuples(sections[0].lines[0].words)[-1] == ("h:1", "h:1", 3, 14, False)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text, line, col, fragment",
    [
        ('global\n    log "abc def\n', 2, 9, "unterminated double quote"),
        ("global\n\n  acl x path 'abc\n", 3, 14, "unterminated single quote"),
        ('x "a" "b\n', 1, 7, "unterminated double quote"),
        ('x "a\\"\n', 1, 3, "unterminated double quote"),  # the escaped quote does not close
        ('x "a\\\n', 1, 3, "unterminated double quote"),
        ("x 'it\\'s'\n", 1, 9, "unterminated single quote"),  # no escapes in single quotes
        ('x "a\' y\n', 1, 3, "unterminated double quote"),
        ("x \\xZZ\n", 1, 3, "invalid \\x escape"),
        ("x ab\\x4\n", 1, 5, "invalid \\x escape"),
        ("x ab\\x\n", 1, 5, "invalid \\x escape"),
        ('x "a\\x4g"\n', 1, 5, "invalid \\x escape"),
        ("ok\nx \x00y\n", 2, 3, "NUL"),
        ("ok\n# comment \x00\n", 2, 11, "NUL"),
        ('x "a \x00"\n', 1, 6, "NUL"),
        ('x "$1"\n', 1, 5, "invalid environment variable name"),
        ('x "price $"\n', 1, 11, "invalid environment variable name"),
        ('x "${ A}"\n', 1, 6, "invalid environment variable name"),
        ('x "${A"\n', 1, 5, "unmatched '{'"),
        ('x "${A-default"\n', 1, 5, "unmatched '{'"),
        ('x "${A x}"\n', 1, 5, "unmatched '{'"),
        ('x "${A[1]}"\n', 1, 7, "invalid word expansion"),
        ('x "$.FOO"\n', 1, 5, "unknown pseudo-variable"),
        ("x a\rb\n", 1, 4, "carriage return"),
        ('x "a\rb"\n', 1, 5, "carriage return"),
        ("x 'a\rb'\n", 1, 5, "carriage return"),
        ("x a\\\rb\n", 1, 5, "carriage return"),
    ],
)
def test_errors_have_exact_positions(text, line, col, fragment):
    with pytest.raises(LexError) as info:
        lex(text, filename="bad.cfg")
    err = info.value
    assert (err.line, err.col) == (line, col)
    assert fragment in err.message
    assert err.hint
    assert err.filename == "bad.cfg"
    assert str(err).startswith(f"bad.cfg:{line}:{col}: ")


def test_first_error_in_file_order_is_reported():
    with pytest.raises(LexError) as info:
        lex("a\nb 'x\nc \"y\n")
    assert (info.value.line, info.value.col) == (2, 3)


def test_crlf_error_positions():
    with pytest.raises(LexError) as info:
        lex('global\r\n    log "x\r\n')
    assert (info.value.line, info.value.col) == (2, 9)
    assert "double quote" in info.value.message


def test_lexerror_pickles_and_str_without_filename():
    err = LexError("boom", 3, 4, "do this")
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.message, clone.line, clone.col, clone.hint) == ("boom", 3, 4, "do this")
    assert str(err) == "<string>:3:4: boom (hint: do this)"


def test_bytes_input_is_rejected():
    with pytest.raises(TypeError):
        lex(b"global\n")  # type: ignore[arg-type]


def test_very_long_lines():
    long_word = "a" * 200_000
    (line,) = lex(f"x {long_word} 'q' \\ \n")[0].lines
    assert [len(w.text) for w in line.words] == [1, 200_000, 1, 1]
    quoted = '"' + "b c " * 50_000 + '"'
    (line,) = lex(f"x {quoted}\n")[0].lines
    assert line.words[1].text == "b c " * 50_000
    with pytest.raises(LexError) as info:
        lex("x " + "\\ " * 50_000 + '"open\n')
    assert info.value.col == 3 + 2 * 50_000


# ---------------------------------------------------------------- properties

# pieces that exercise every tokenizer rule (and its error paths)
LINE_PIECES = list(" \t\v\f\r#\"'\\$x{}[]*-.A09_\xa0") + [
    "\\x4",
    "\\x41",
    "${A}",
    "${A-b c}",
    "$.LINE",
    "global",
    "backend b",
]
SPECIAL_ALPHABET = st.sampled_from(LINE_PIECES + ["\n", "\r\n", "\x00"])
LINE_ALPHABET = st.sampled_from(LINE_PIECES)


@settings(max_examples=500, derandomize=True)
@given(st.text())
def test_lex_arbitrary_text_returns_or_raises_lexerror(text):
    try:
        sections = lex(text)
    except LexError as err:
        assert err.line >= 1 and err.col >= 1 and err.message and err.hint
    else:
        # a leading byte order mark is skipped and does not count as a column
        check_raw_positions(text[1:] if text.startswith("\ufeff") else text, sections)


@settings(max_examples=500, derandomize=True)
@given(st.lists(SPECIAL_ALPHABET, max_size=40).map("".join))
def test_lex_special_characters_returns_or_raises_lexerror(text):
    try:
        sections = lex(text)
    except LexError as err:
        assert err.line >= 1 and err.col >= 1 and err.message and err.hint
        assert err.line <= text.count("\n") + 1
    else:
        check_raw_positions(text, sections)


@settings(max_examples=500, derandomize=True)
@given(st.lists(LINE_ALPHABET, max_size=30).map("".join))
def test_fast_paths_agree_with_exact_tokenizer(line_text):
    """lex() takes shortcuts for simple lines; they must match the exact
    character-by-character tokenizer."""
    try:
        expected = _lex_line(line_text, 1, None)
    except LexError as err:
        with pytest.raises(LexError) as info:
            lex(line_text)
        assert (info.value.line, info.value.col, info.value.message) == (1, err.col, err.message)
        return
    words, comment, _ = expected
    sections = lex(line_text)
    if not words:
        assert all(not s.lines and s.header is None for s in sections)
        return
    (section,) = sections
    line = section.header if section.header is not None else section.lines[0]
    assert as_tuples(line.words) == as_tuples(words)
    assert line.comment == comment


# ---------------------------------------------------------------- corpus

_HEADER_RE = re.compile(r"^[ \t]*(" + "|".join(map(re.escape, SECTION_KEYWORDS)) + r")(?=[ \t]|$)")


def test_corpus_is_present():
    assert len(CORPUS_FILES) >= 20, f"corpus not found under {corpus_dir()}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_file_lexes(path):
    text = path.read_text(encoding="utf-8")
    sections = lex(text, filename=str(path))
    check_raw_positions(text, sections)

    # every header line found by a naive scan becomes a section, in order
    expected = []
    for number, src in enumerate(text.split("\n"), 1):
        m = _HEADER_RE.match(src)
        if m:
            expected.append((m.group(1), number))
    got = [(s.keyword, s.line) for s in sections if s.keyword is not None]
    assert got == expected
    assert sections

    for s in sections:
        if s.keyword in ("frontend", "backend", "listen"):
            assert s.name, f"{s.keyword} without a name at line {s.line}"
        # section lines never start with a section keyword
        assert all(l.words[0].text not in SECTION_KEYWORDS for l in s.lines)

    # nothing is lost: every non-blank source line is a header, a body line or a comment
    accounted = set()
    for s in sections:
        if s.header is not None:
            accounted.add(s.header.line)
        accounted.update(l.line for l in s.lines)
        accounted.update(n for n, _ in s.comments)
    leading = sum(len(s.leading_comments) for s in sections)
    non_blank = [n for n, src in enumerate(text.split("\n"), 1) if src.strip()]
    assert len(accounted) + leading == len(non_blank)
    assert accounted <= set(non_blank)


def test_corpus_sample_words():
    text = (corpus_dir() / "haproxy" / "haproxy-test-check-expect.cfg").read_text()
    words = [
        [w.text for w in l.words]
        for s in lex(text)
        for l in s.lines
        if l.words[0].text == "http-check" and len(l.words) > 3
    ]
    assert ["http-check", "expect", "string", "this is ok"] in words
    assert ["http-check", "expect", "!", "rstring", "this is ok"] in words
