"""nginx tokens from one compiled regex: the tokens ``crossplane.lexer.lex`` gives, five to ten
times faster.

crossplane 0.5.8 lexes a character at a time through a chain of Python generators, which is
most of the time it takes to read a large config. ``lex`` yields the same ``(token, line,
quoted)`` tuples and raises the same ``NgxParserSyntaxError`` for unbalanced braces, quirks
included (tests/test_nginx_lexer.py compares the two on every config we have and on generated
hostile text). The quirks, as crossplane's ``_lex_file_object`` has them:

- the file is read as text with universal newlines and ``errors='replace'``;
- a backslash and the character after it are one unit: an escaped space, quote, brace, ``;`` or
  ``#`` is part of a token and kept as written; a backslash-newline counts as a line break;
  a lone backslash at the end of the file ends the input;
- ``#`` starts a comment only where a token would start; the comment token keeps the ``#``
  and ends before the line break (a backslash-newline ends it too, and is dropped);
- a quote starts a quoted token only where a token would start (inside a token it is an
  ordinary character); in a quoted token only the escaped quote of its own kind is unescaped;
- ``{`` right after a ``$`` inside a token starts a ``${...}`` expansion that takes every unit
  up to and including one ending in ``}`` or up to whitespace; the unit after it is part of the
  token even when it is whitespace;
- ``{``, ``}`` and ``;`` are tokens of their own; a token's line is the line of its first unit
  (so a token that starts with a backslash-newline is on the next line);
- a token that the end of the file cuts off (an unquoted one no whitespace follows, an open
  quote or a comment without a final line break) is lost, silently.

crossplane runs an external lexer (its Lua plugin, registered on import, for
``*_by_lua_block``) after the name of one; a file that mentions any such name is lexed by
crossplane itself, so that stays exactly crossplane's behaviour.
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from sys import intern

from crossplane.errors import NgxParserSyntaxError
from crossplane.lexer import EXTERNAL_LEXERS
from crossplane.lexer import lex as crossplane_lex

Token = tuple[str, int, bool]

# Python's \s is exactly str.isspace(), which is what crossplane tests. Units are a backslash
# with the next character, or one other character; every alternative below consumes whole units.
_TOKENS = re.compile(r"""
    (\s*+)
    (?:
        # An unquoted token: a first unit that is not a comment, quote or special character,
        # then ordinary units (quotes and '#' are ordinary here) and ${...} expansions. It must
        # end before whitespace, ';', '}' or a '{' that does not start an expansion, else the
        # end of the file cut it off. First the common case: plain characters, then an end.
        ( [^\s{};\\\#"'$]++ (?=[\s;{}])
        | (?> (?:\\[\s\S]|[^\s\#"'{};\\])
              (?: [^\s{};\\]++
                | \\[\s\S]
                | (?<=\$) \{ (?:[^\s}\\]++|\\[^}])*+ (?:\\?\}\s?|\s)
              )*+ )
          (?=[\s;}]|(?<!\$)\{) )
      | ([{};])
      | ( "(?:[^"\\]|\\[\s\S])*+" | '(?:[^'\\]|\\[\s\S])*+' )
      | ( \#(?:[^\\\n]|\\[^\n])*+ ) \\?\n
      | [\s\S]*+  # the end of the file, or a token it cut off: crossplane loses the rest
    )""", re.VERBOSE)


def lex(path: str) -> Iterator[Token]:
    """``crossplane.lexer.lex(path)``: tokens of the file, then the brace error if any. The
    file is read at once (crossplane reads it on the first ``next``); tokens are made as they
    are used, so a large file never holds all of them at once (memory at 50,000 backends)."""
    with io.open(path, mode="r", encoding="utf-8", errors="replace") as f:
        text = f.read()
    if any(directive in text for directive in EXTERNAL_LEXERS):
        return crossplane_lex(path)
    return _lex_text(text, path)


def _lex_text(text: str, path: str) -> Iterator[Token]:
    error: list[tuple[str, int]] = []
    yield from _tokens(text, error)
    if error:
        raise NgxParserSyntaxError(error[0][0], path, error[0][1])


def tokenize(text: str) -> tuple[list[Token], tuple[str, int] | None]:
    """The tokens of ``text`` (as ``lex`` reads it) up to the first brace error, and that error
    as (reason, line), None when braces balance. As in crossplane, a "}" too many is reported
    on its own line, a missing one on the line of the last token."""
    error: list[tuple[str, int]] = []
    tokens = list(_tokens(text, error))
    return tokens, error[0] if error else None


def _tokens(text: str, error: list[tuple[str, int]]) -> Iterator[Token]:
    """The tokens of ``text``; a brace error ends them and is put in ``error``."""
    line = 1
    depth = 0
    last_line = 1
    for match in _TOKENS.finditer(text):
        space, word, special, quoted, comment = match.groups()
        if "\n" in space:
            line += space.count("\n")
        if word:
            if "\n" in word:
                # A first unit that is a backslash-newline is counted before the token starts.
                last_line = line + 1 if word[:2] == "\\\n" else line
                yield (word, last_line, False)
                line += word.count("\n")
            else:
                last_line = line
                # Interned: directive names and arguments repeat (every "proxy_set_header Host
                # $host;"); one string each instead of one per occurrence (~30 MB at 50k backends).
                yield (intern(word), line, False)
        elif special:
            if special == "{":
                depth += 1
            elif special == "}":
                depth -= 1
                if depth < 0:
                    error.append(('unexpected "}"', line))
                    return
            last_line = line
            yield (special, line, False)
        elif quoted:
            quote = quoted[0]
            body = quoted[1:-1]
            if "\\" in body:
                body = body.replace("\\" + quote, quote)
            last_line = line
            yield (body, line, True)
            if "\n" in quoted:
                line += quoted.count("\n")
        elif comment:
            last_line = line
            yield (comment, line, False)
            line += 1  # the line break that ends it
        else:
            break
    if depth > 0:
        error.append(('unexpected end of file, expecting "}"', last_line))
