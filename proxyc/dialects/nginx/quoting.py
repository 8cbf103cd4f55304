"""Turning values into nginx tokens that cannot end a directive or open a block (DESIGN §9).

Everything the nginx writer emits is a ``Tok``: either a trusted constant written by the writer
itself (``lit``) or a user string passed through ``word`` (contexts where nginx takes the text
literally: location paths, map and geo keys, regexes) or ``text`` (contexts where nginx expands
``$variables``: return bodies, redirect targets, header values). ``Out.directive`` accepts only
``Tok``s, so a user string cannot reach the output without one of these functions.

nginx's tokenizer (ngx_conf_read_token) ends a bare word at whitespace, ``;``, ``{`` or ``}``
and reads a double-quoted string up to the next unescaped ``"``. Inside any token it turns
``\\"``, ``\\'`` and ``\\\\`` into the character and ``\\t``, ``\\r``, ``\\n`` into control
characters; every other backslash is kept as it is. ``quote`` inverts exactly that, and
``unescape`` is that decoding, for the reader (nginx 1.22, ngx_conf_read_token: it decodes bare
and quoted tokens alike).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

DOLLAR_VAR = "pxc_dollar"  # geo $pxc_dollar { default "$"; }: a literal "$" in expanded strings

# Bare words that need no quotes: no quoting-relevant character, and no leading character that
# means something to `location` (=, ~, ^~, @) or starts a comment (#).
_BARE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./:%+,=@*-]*")
# After a backslash these characters are consumed by nginx's tokenizer.
_NGINX_ESCAPED_AFTER_BACKSLASH = frozenset('"\'\\trn')
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_DECODED_AFTER_BACKSLASH = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}
_BACKSLASH_PAIR = re.compile(r"\\(.)", re.DOTALL)


# nginx reads its config through a buffer of NGX_CONF_BUFFER bytes, and a token must fit in it
# from its first byte (after an opening quote) to the byte after the separator that follows it
# (ngx_conf_read_token); longer, and nginx -t fails with "too long parameter".
NGINX_READ_BUFFER = 4096
_SURELY_SHORT = NGINX_READ_BUFFER // 4 - 4  # characters: UTF-8 needs at most 4 bytes for each


class TokenTooLong(ValueError):
    """A token nginx cannot read: longer than its read buffer holds."""

    def __init__(self, size: int):
        self.size = size
        super().__init__(f"a value nginx cannot read: tokens are limited to {NGINX_READ_BUFFER} bytes (nginx's "
                         f"read buffer, which also holds the two bytes after a token); this one is {size} bytes "
                         "as written")


class Tok(str):
    """A string that is safe to place in a directive as one token. Every token the writer emits
    is made here, so this is where one too long for nginx to read is caught (``TokenTooLong``)."""

    __slots__ = ()

    def __new__(cls, text: str) -> Tok:
        if len(text) > _SURELY_SHORT:
            size = len(text.encode())
            opening_quote = 1 if text[:1] in ('"', "'") else 0
            if size - opening_quote + 2 > NGINX_READ_BUFFER:  # + the separator and the byte after it
                raise TokenTooLong(size)
        return super().__new__(cls, text)


def lit(text: str) -> Tok:
    """A token written by the writer itself (keywords, variables, numbers): trusted as is."""
    return Tok(text)


def quote(text: str) -> str:
    """``text`` as one double-quoted nginx token that reads back as exactly ``text``.

    A backslash is doubled only where nginx would otherwise consume it, so PCRE escapes such
    as ``\\/`` stay readable. NUL cannot be represented in a config file at all."""
    if "\0" in text:
        raise ValueError("NUL cannot be written into an nginx config")
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch == "\\":
            # judged on what is written next: a control character is written as "\t" etc.
            following = text[i + 1] if i < last else ""
            consumed = i == last or following in _NGINX_ESCAPED_AFTER_BACKSLASH or following in _CONTROL_ESCAPES
            out.append("\\\\" if consumed else "\\")
        elif ch == '"':
            out.append('\\"')
        else:
            out.append(_CONTROL_ESCAPES.get(ch, ch))
    return '"' + "".join(out) + '"'


def unescape(token: str) -> str:
    """A token as nginx holds it after reading: ``\\"``, ``\\'`` and ``\\\\`` become the character,
    ``\\t``, ``\\r``, ``\\n`` control characters; any other backslash pair is kept as written.

    Pairs are taken left to right, as nginx does. crossplane's lexer has already turned the
    quote character's own escape into the quote (``\\"`` → ``"`` in a double-quoted token);
    that character is not a backslash, so the pairs around it are the ones nginx sees."""
    if "\\" not in token:
        return token
    return _BACKSLASH_PAIR.sub(lambda m: _DECODED_AFTER_BACKSLASH.get(m.group(1), m.group(0)), token)


def word(text: str) -> Tok:
    """A user string in a context where nginx does not expand variables: bare when that is
    unambiguous, quoted otherwise."""
    if _BARE.fullmatch(text):
        return Tok(text)
    return Tok(quote(text))


def expand_safe(text: str) -> str:
    """``text`` with every ``$`` replaced by ``${pxc_dollar}``, for contexts where nginx expands
    variables, so a user's ``$`` stays a literal dollar sign."""
    return text.replace("$", "${" + DOLLAR_VAR + "}")


def text(value: str, *, suffix: str = "") -> Tok:
    """A user string in a context where nginx expands variables, followed by a trusted
    ``suffix`` written by the writer (e.g. ``$request_uri``). Always quoted."""
    return Tok(quote(expand_safe(value) + suffix))


# A reference to the dollar variable, as ``expand_safe`` writes it or bare.
_DOLLAR_REFERENCE = re.compile(r"\$(?:\{" + DOLLAR_VAR + r"\}|" + DOLLAR_VAR + r"(?![A-Za-z0-9_]))")


def restore_dollars(value: str) -> str | None:
    """The reader's inverse of ``expand_safe``: ``value`` with each reference to the dollar
    variable turned back into ``$``, when it has one and uses no other variable; else None
    (no literal dollar, or real variables the text depends on)."""
    parts = _DOLLAR_REFERENCE.split(value)
    if len(parts) == 1 or any("$" in part for part in parts):
        return None
    return "$".join(parts)


def needs_dollar(value: str) -> bool:
    return "$" in value


def pcre_escape(value: str) -> str:
    """A PCRE pattern matching ``value`` literally.

    Python's ``re.escape`` targets Python's regex syntax; PCRE's rule is simpler and safer:
    a backslash before any non-alphanumeric ASCII character makes it literal. So every such
    character is escaped, control characters are written as escapes, and everything else
    (letters, digits, non-ASCII bytes) passes through."""
    out = []
    for ch in value:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[ch])
        elif ch.isascii() and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            out.append(f"\\x{{{ord(ch):02x}}}")
        elif ch.isascii():
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def comment_safe(value: str) -> str:
    """Text for a ``#`` comment: a line break would end the comment and start a directive."""
    if value.isprintable():  # the common case, in C: nothing to replace
        return value
    return "".join(ch if ch.isprintable() else "?" for ch in value)


# ------------------------------------------------------------------ validation of user strings

_HEADER_NAME = re.compile(r"[A-Za-z0-9_-]+")
_VARIABLE_KEY = re.compile(r"[A-Za-z0-9_]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# PCRE named groups: (?<name>..), (?'name'..), (?P<name>..). nginx turns each into a variable
# of that name, which could clash with (or overwrite) the writer's own variables.
_NAMED_GROUP = re.compile(r"\(\?(?:P?<[A-Za-z_]|')")


def header_name_problem(name: str) -> str | None:
    if not _HEADER_NAME.fullmatch(name):
        return f"header name {name!r} must consist of letters, digits, '-' and '_'"
    return None


def header_value_problem(value: str) -> str | None:
    bad = next((ch for ch in value if ch in "\r\n\0"), None)
    if bad is not None:
        return f"header value contains {bad!r}, which would split or end the header"
    return None


def body_problem(value: str) -> str | None:
    if "\0" in value:
        return "NUL cannot be written into an nginx config"
    return None


def variable_key_problem(kind: str, name: str) -> str | None:
    """Cookie and query-parameter names become part of an nginx variable name."""
    if not _VARIABLE_KEY.fullmatch(name):
        return f"{kind} name {name!r} must consist of letters, digits and '_' to be an nginx variable"
    return None


def scheme_problem(scheme: str) -> str | None:
    if not _SCHEME.fullmatch(scheme):
        return f"{scheme!r} is not a URL scheme"
    return None


def regex_problem(pattern: str) -> str | None:
    if "\0" in pattern:
        return "NUL cannot be written into an nginx config"
    if _NAMED_GROUP.search(pattern):
        return "named groups in a regex would set nginx variables; use (?:...) instead"
    return None


def raw_block_problem(raw: str) -> str | None:
    """Raw nginx text must be complete statements: balanced braces and nothing unterminated,
    so it can neither close the block it is placed in nor swallow the directive after it."""
    depth, pending = 0, False
    try:
        for token in _structure(raw):
            if token == "{":
                depth, pending = depth + 1, False
            elif token == "}":
                if pending:
                    return "raw nginx text has a directive without ';' before '}'"
                depth -= 1
                if depth < 0:
                    return "raw nginx text closes a block it did not open"
            else:
                pending = token != ";"
    except ValueError as exc:
        return str(exc)
    if depth:
        return "raw nginx text leaves a block open"
    if pending:
        return "raw nginx text ends in a directive without ';'"
    return None


def _structure(raw: str) -> Iterator[str]:
    """``{``, ``}``, ``;`` and ``word`` for each token, as nginx's tokenizer sees them: quotes
    and ``#`` comments count only where a token can start, a backslash escapes one character."""
    i, n, token_start = 0, len(raw), True
    while i < n:
        ch = raw[i]
        if token_start and ch in "\"'":
            i = _closing_quote(raw, i) + 1
            token_start = False
            yield "word"
        elif token_start and ch == "#":
            nl = raw.find("\n", i)
            i = n if nl < 0 else nl
        else:
            if ch in "{};":
                yield ch
            elif not ch.isspace() and token_start:
                yield "word"
            token_start = ch.isspace() or ch in "{};"
            i += 2 if ch == "\\" else 1


def _closing_quote(raw: str, start: int) -> int:
    quote_char, i = raw[start], start + 1
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == quote_char:
            return i
        i += 1
    raise ValueError("raw nginx text has an unclosed quote")
