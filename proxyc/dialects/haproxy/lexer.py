"""Lexer for HAProxy configuration files (HAProxy 2.6 tokenizer rules).

Turns configuration text into a list of :class:`Section` objects, each holding
its logical lines, each line a list of :class:`Word` objects that carry their
unquoted value, their exact source text and their position.

The word rules follow HAProxy's own tokenizer (``parse_line()`` in
``src/tools.c``, documented in section 2.2 "Quoting and escaping" of the
configuration manual):

* words are separated by unquoted spaces, tabs, vertical tabs and form feeds;
* ``#`` outside quotes starts a comment, even in the middle of a word
  (``foo#bar`` is the word ``foo`` followed by the comment ``bar``);
* double quotes (weak quoting) protect spaces, ``#`` and ``'``; backslash
  escapes still work inside them and ``$VAR`` / ``${VAR}`` environment
  references are recognised there;
* single quotes (strong quoting) protect everything; nothing is interpreted
  inside them, not even backslashes;
* a backslash outside single quotes escapes ``\\ `` (space), ``\\\\``,
  ``\\#``, ``\\'``, ``\\"``, ``\\t``, ``\\n``, ``\\r`` and ``\\xNN`` (two hex
  digits, anything else is an error); ``\\$`` is an escape only inside double
  quotes; any other backslash is kept literally (``\\1``, ``\\.``), which is
  what regular expressions rely on.  There is no line continuation;
* quoted and unquoted parts glue together into one word:
  ``foo"bar baz"`` is the single word ``foobar baz``.

Environment variables are **not** expanded: a valid reference such as
``"${HOST}"``, ``"$HOST"``, ``"${HOST-default value}"`` or ``"${ARGS[*]}"``
is kept verbatim in :attr:`Word.text`.  References HAProxy itself would
reject (``"$1"``, ``"${HOST"``) raise :class:`LexError`.  ``"\\$"`` yields
``$`` in ``text`` (as HAProxy does), so a literal dollar and a reference can
only be told apart through :attr:`Word.raw`.

Deliberate differences from HAProxy, chosen for a linter and formatter:

* an empty quoted word (``""`` or ``''``) is always kept as a word with
  ``text == ""``; HAProxy drops it when it is the last word of a line;
* a carriage return that is not part of the line ending raises
  :class:`LexError` (HAProxy silently ignores the rest of the line); ``\\r\\n``
  line endings are accepted;
* a UTF-8 byte order mark at the start of the text is skipped;
* HAProxy's limit of 64 words per line is not enforced here.

Columns are 1-based and count characters (a tab counts as one column).
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field

__all__ = [
    "SECTION_KEYWORDS",
    "LexError",
    "Line",
    "Section",
    "Word",
    "lex",
]

#: First words that open a section (HAProxy 2.6 plus ``crt-store``).  Any other
#: first word, even one that opens a section in a later HAProxy version, is a
#: plain line of the current section.
SECTION_KEYWORDS = frozenset(
    {
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "resolvers",
        "userlist",
        "peers",
        "mailers",
        "program",
        "http-errors",
        "ring",
        "cache",
        "fcgi-app",
        "log-forward",
        "crt-store",
    }
)


@dataclass(slots=True)
class Word:
    """One word of a line."""

    text: str  #: unquoted, unescaped value (environment references kept as written)
    raw: str  #: exactly as written in the source
    line: int  #: 1-based line number
    col: int  #: 1-based column of the word's first character
    quoted: bool  #: True if any part of the word was quoted


@dataclass(slots=True)
class Line:
    """One logical line: its words and its trailing comment."""

    words: list[Word]
    line: int
    #: trailing ``# ...`` comment without the ``#``, stripped; ``""`` for a bare
    #: ``#``; ``None`` when the line has no comment.
    comment: str | None = None


@dataclass(slots=True)
class Section:
    """A section (``frontend``, ``backend``, ...) or the pseudo-section of the
    lines written before the first section (``keyword is None``)."""

    keyword: str | None
    name: str | None
    args: list[Word]
    header: Line | None
    lines: list[Line]
    #: full-line comments in this section as ``(line, text)``; ``text`` is what
    #: follows the ``#`` with trailing whitespace removed (leading spaces are
    #: kept, so ``"#" + text`` rebuilds the comment).
    comments: list[tuple[int, str]]
    line: int
    #: full-line comments directly before the header (no blank line between
    #: them and the header, and not indented deeper than the header), same text
    #: convention as ``comments``.  They are not repeated in the previous
    #: section's ``comments``.
    leading_comments: list[str] = field(default_factory=list)


class LexError(Exception):
    """A configuration text HAProxy's tokenizer would reject."""

    def __init__(
        self,
        message: str,
        line: int,
        col: int,
        hint: str | None = None,
        filename: str | None = None,
    ) -> None:
        super().__init__(message, line, col, hint, filename)
        self.message = message
        self.line = line
        self.col = col
        self.hint = hint
        self.filename = filename

    def __str__(self) -> str:
        where = f"{self.filename or '<string>'}:{self.line}:{self.col}"
        if self.hint:
            return f"{where}: {self.message} (hint: {self.hint})"
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------
# tokenizer

# A line without any of these characters is split with str.split().  Besides
# HAProxy's special characters, the set holds every character str.split()
# treats as whitespace but HAProxy (C isspace) does not, so that such lines go
# through the exact tokenizer.
_SPECIAL = re.compile(
    "[\"'\\\\#\r\x00\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
).search

# Lines whose only special characters are double quotes (without backslashes
# or '$' inside) and '#': their words are the raw words minus the quotes.
_NOT_DQ_SIMPLE = re.compile(
    "['\\\\$\r\x00\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
).search
_DQ_SIMPLE_TOKENS = re.compile('(?:[^ \t\v\f#"]+|"[^"]*")+|#|"').finditer

_SEPARATORS = " \t\v\f"
_WS_RUN = re.compile("[ \t\v\f]+").match
_PLAIN_RUN = re.compile("[^ \t\v\f#\"'\\\\\r\x00]+").match
_DQ_RUN = re.compile("[^\"\\\\$\r\x00]+").match
_VAR_NAME = re.compile("[A-Za-z_.][A-Za-z0-9_]*").match
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_PSEUDO_VARS = frozenset({".LINE", ".FILE", ".SECTION"})

# backslash escapes valid both inside double quotes and outside quotes
_ESCAPES = {
    " ": " ",
    "\\": "\\",
    "t": "\t",
    "n": "\n",
    "r": "\r",
    "#": "#",
    "'": "'",
    '"': '"',
}

_HINT_CR = (
    "HAProxy stops reading a line at a carriage return and ignores the rest; "
    "use LF or CRLF line endings"
)


def _lex_line(
    s: str, lineno: int, filename: str | None
) -> tuple[list[Word], str | None, int]:
    """Exact tokenizer for one line (without its ``\\n``).

    Returns ``(words, comment, comment_col)``; ``comment_col`` is the 1-based
    column of ``#`` or 0 when there is no comment.
    """

    def fail(message: str, pos: int, hint: str | None = None) -> LexError:
        return LexError(message, lineno, pos + 1, hint, filename)

    nul = s.find("\x00")
    if nul >= 0:
        raise fail(
            "NUL character in configuration text",
            nul,
            "the file contains binary data or a NUL byte; HAProxy refuses it",
        )
    # Extra carriage returns at the end of the line ("\r\r\n", or a final "\r"
    # without "\n") belong to the line ending.
    s = s.rstrip("\r")

    n = len(s)
    words: list[Word] = []
    comment: str | None = None
    comment_col = 0
    parts: list[str] | None = None
    start = 0
    quoted = False
    i = 0
    while i < n:
        c = s[i]
        if c in _SEPARATORS:
            if parts is not None:
                words.append(Word("".join(parts), s[start:i], lineno, start + 1, quoted))
                parts = None
            i = _WS_RUN(s, i).end()  # type: ignore[union-attr]
            continue
        if c == "#":
            comment = s[i + 1 :].strip()
            comment_col = i + 1
            break
        if parts is None:
            parts = []
            start = i
            quoted = False
        if c == '"':
            quoted = True
            q = i
            i += 1
            while True:
                m = _DQ_RUN(s, i)
                if m is not None:
                    parts.append(m.group())
                    i = m.end()
                if i >= n:
                    raise fail(
                        "unterminated double quote",
                        q,
                        'close the string with " on the same line; a quoted '
                        "string cannot span lines",
                    )
                c = s[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    i = _escape(s, i, n, parts, True, fail)
                elif c == "$":
                    i = _env_ref(s, i, n, parts, fail)
                else:  # "\r"
                    raise fail("carriage return inside a quoted string", i, _HINT_CR)
        elif c == "'":
            quoted = True
            end = s.find("'", i + 1)
            cr = s.find("\r", i + 1, end if end >= 0 else n)
            if cr >= 0:
                raise fail("carriage return inside a quoted string", cr, _HINT_CR)
            if end < 0:
                raise fail(
                    "unterminated single quote",
                    i,
                    "close the string with ' on the same line; a quoted string "
                    "cannot span lines",
                )
            parts.append(s[i + 1 : end])
            i = end + 1
        elif c == "\\":
            i = _escape(s, i, n, parts, False, fail)
        elif c == "\r":
            raise fail("carriage return in the middle of a line", i, _HINT_CR)
        else:
            m = _PLAIN_RUN(s, i)
            parts.append(m.group())  # type: ignore[union-attr]
            i = m.end()  # type: ignore[union-attr]
    if parts is not None:
        words.append(Word("".join(parts), s[start:i], lineno, start + 1, quoted))
    return words, comment, comment_col


def _escape(s: str, i: int, n: int, parts: list[str], in_dquote: bool, fail) -> int:
    """Handle the backslash at ``s[i]``; return the index after the sequence."""
    nxt = s[i + 1] if i + 1 < n else ""
    if nxt == "x":
        hex_digits = s[i + 2 : i + 4]
        if len(hex_digits) != 2 or not (
            hex_digits[0] in _HEX_DIGITS and hex_digits[1] in _HEX_DIGITS
        ):
            raise fail(
                "invalid \\x escape",
                i,
                "\\x must be followed by two hexadecimal digits (e.g. \\x41); "
                "write \\\\x for a literal backslash followed by x",
            )
        parts.append(chr(int(hex_digits, 16)))
        return i + 4
    esc = _ESCAPES.get(nxt)
    if esc is not None:
        parts.append(esc)
        return i + 2
    if nxt == "$" and in_dquote:
        parts.append("$")
        return i + 2
    # not an escape sequence: the backslash is kept as is (e.g. "\1", "\.")
    parts.append("\\")
    return i + 1


def _env_ref(s: str, i: int, n: int, parts: list[str], fail) -> int:
    """Validate the environment reference at ``s[i] == '$'`` (inside double
    quotes), keep it verbatim in ``parts`` and return the index after it."""
    j = i + 1
    brace = -1
    if j < n and s[j] == "{":
        brace = j
        j += 1
    m = _VAR_NAME(s, j)
    if m is None:
        raise fail(
            "invalid environment variable name after '$'",
            j,
            "inside double quotes '$' starts an environment variable; write \\$ "
            "for a literal dollar sign, or use single quotes",
        )
    name = m.group()
    if name[0] == "." and name not in _PSEUDO_VARS:
        raise fail(
            f"unknown pseudo-variable {name!r}",
            j,
            "the only pseudo-variables are .LINE, .FILE and .SECTION; write \\$ "
            "for a literal dollar sign",
        )
    j = m.end()
    if brace >= 0:
        if j < n and s[j] == "[":
            if s[j : j + 3] != "[*]":
                raise fail(
                    "invalid word expansion in environment variable",
                    j,
                    "the only expansion suffix is [*], as in \"${VAR[*]}\"",
                )
            j += 3
        if j < n and s[j] == "-":
            # "${VAR-default}": the default runs up to the next '}', whatever it holds
            end = s.find("}", j)
            if end < 0:
                raise fail(
                    "unmatched '{' in environment variable",
                    brace,
                    "close the reference with '}', as in \"${VAR}\" or \"${VAR-default}\"",
                )
            j = end + 1
        elif j < n and s[j] == "}":
            j += 1
        else:
            raise fail(
                "unmatched '{' in environment variable",
                brace,
                "close the reference with '}', as in \"${VAR}\" or \"${VAR-default}\"",
            )
    parts.append(s[i:j])
    return j


# --------------------------------------------------------------------------
# sections


def lex(text: str, filename: str | None = None) -> list[Section]:
    """Split HAProxy configuration ``text`` into sections, lines and words.

    Lines written before the first section header go to a pseudo-section whose
    ``keyword`` is ``None``; it is present only if it holds at least one line
    or comment.  Empty input gives ``[]``.

    Raises :class:`LexError` (with line, column and hint) for text HAProxy's
    tokenizer rejects: unterminated quotes, invalid ``\\x`` escapes, invalid
    environment references, NUL characters and stray carriage returns.
    """
    if not isinstance(text, str):
        raise TypeError(f"lex() needs str, not {type(text).__name__}; decode the file first")
    # The result is a large acyclic tree of small objects: the cyclic garbage
    # collector would only rescan it over and over (it costs 2-3x the run time).
    gc_was_enabled = gc.isenabled()
    if gc_was_enabled:
        gc.disable()
    try:
        return _lex(text, filename)
    finally:
        if gc_was_enabled:
            gc.enable()


def _lex(text: str, filename: str | None) -> list[Section]:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")

    special = _SPECIAL
    not_dq_simple = _NOT_DQ_SIMPLE
    dq_simple_tokens = _DQ_SIMPLE_TOKENS
    word_cls = Word
    line_cls = Line
    section_keywords = SECTION_KEYWORDS

    pseudo = Section(None, None, [], None, [], [], 1)
    sections = [pseudo]
    cur = pseudo
    cur_lines = pseudo.lines
    cur_comments = pseudo.comments
    # full-line comments since the last body line, as (line, col of '#'):
    # candidates for the next section's leading comments
    pending: list[tuple[int, int]] = []

    for lineno, raw_line in enumerate(text.split("\n"), 1):
        m = special(raw_line)
        if m is None:
            # no quote, escape or comment: plain whitespace-separated words
            parts = raw_line.split()
            if not parts:
                continue
            words = []
            append = words.append
            find = raw_line.find
            pos = 0
            for w in parts:
                pos = find(w, pos)
                append(word_cls(w, w, lineno, pos + 1, False))
                pos += len(w)
            comment = None
        else:
            c = m.group()
            words = None
            if c == "#":
                if "\x00" not in raw_line:
                    # everything before the first '#' is plain text
                    idx = m.start()
                    code = raw_line[:idx]
                    parts = code.split()
                    if not parts:
                        cur_comments.append((lineno, raw_line[idx + 1 :].rstrip()))
                        pending.append((lineno, idx + 1))
                        continue
                    words = []
                    pos = 0
                    find = code.find
                    for w in parts:
                        pos = find(w, pos)
                        words.append(word_cls(w, w, lineno, pos + 1, False))
                        pos += len(w)
                    comment = raw_line[idx + 1 :].strip()
            elif c == '"' and not_dq_simple(raw_line) is None:
                # double quotes without escapes or '$' inside: the value of a
                # word is its raw text without the quotes
                words = []
                comment = None
                for t in dq_simple_tokens(raw_line):
                    tok = t.group()
                    if tok == "#":
                        comment = raw_line[t.start() + 1 :].strip()
                        break
                    if tok == '"':  # unterminated: let the exact tokenizer report it
                        words = None
                        break
                    if '"' in tok:
                        words.append(word_cls(tok.replace('"', ""), tok, lineno, t.start() + 1, True))
                    else:
                        words.append(word_cls(tok, tok, lineno, t.start() + 1, False))
            if words is None:
                words, comment, ccol = _lex_line(raw_line, lineno, filename)
                if not words:
                    if comment is not None:
                        # only trailing whitespace is dropped from full-line comments
                        cur_comments.append((lineno, raw_line[ccol:].rstrip()))
                        pending.append((lineno, ccol))
                    continue

        ln = line_cls(words, lineno, comment)
        first = words[0].text
        if first in section_keywords:
            leading: list[str] = []
            if pending:
                hcol = words[0].col
                expect = lineno - 1
                k = len(pending)
                while k and pending[k - 1][0] == expect and pending[k - 1][1] <= hcol:
                    k -= 1
                    expect -= 1
                moved = len(pending) - k
                if moved:
                    leading = [t for _, t in cur_comments[-moved:]]
                    del cur_comments[-moved:]
                pending = []
            cur = Section(
                first,
                words[1].text if len(words) > 1 else None,
                words[1:],
                ln,
                [],
                [],
                lineno,
                leading,
            )
            sections.append(cur)
            cur_lines = cur.lines
            cur_comments = cur.comments
        else:
            if pending:
                pending = []
            cur_lines.append(ln)

    if not pseudo.lines and not pseudo.comments:
        del sections[0]
    else:
        firsts = [pseudo.lines[0].line] if pseudo.lines else []
        if pseudo.comments:
            firsts.append(pseudo.comments[0][0])
        pseudo.line = min(firsts)
    return sections
