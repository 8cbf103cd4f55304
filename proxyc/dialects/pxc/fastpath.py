"""A fast path for large, plain .pxc files (generated configs with thousands of upstreams).

lark's LALR parser runs at roughly 20-55k lines/s in CPython, which makes a 100k-line generated
config take seconds. Such files use a handful of statement shapes (`server`, `acl ... path`,
`use ... if`), one per line. This module recognises exactly those shapes and calls the *same*
builder methods the grammar's rules call, so the meaning still lives in one place (reader.py).

It is deliberately narrow: the moment a file holds anything else — a quote, a `;`, a
parenthesis, a trailing comment, a keyword in a value position, an unusual whitespace
character, a statement shape not listed here — it declines (returns None) and the whole file
goes through lark, which also produces every syntax error. tests/test_pxc_fastpath.py checks
that both paths give identical IRs, spans and diagnostics.
"""
from __future__ import annotations

import re
from lark import Token

_UNUSUAL = re.compile(r"[^\S \t\r\n]|[\"';()]")  # whitespace lark does not ignore, or special characters
_WORDS = re.compile(r"\S+")
# Two lines in three of a generated config: "server NAME ADDRESS [weight N]", read in one match.
_SERVER_LINE = re.compile(r"([ \t]*)server([ \t]+)([^\s{}#]+)([ \t]+)([^\s{}#]+)(?:([ \t]+)weight([ \t]+)([^\s{}#]+))?[ \t\r]*")

_PATH_OPS = {"exact", "prefix", "suffix", "regex"}
# Keywords lark accepts where a value may also stand (derived from the grammar's LALR states;
# tests/test_pxc_fastpath.py checks them against lark on generated lines).
_AFTER_VALUE = frozenset({"and", "or"})
_CONDITION_START = frozenset({"path", "host", "method", "header", "source", "tls", "not"})
_ACTIONS = frozenset({"use", "redirect", "return", "deny"})
_SERVER_FLAGS = {"backup", "down", "check"}
_SERVER_VALUES = {"weight", "max_conns", "slow_start", "cookie", "count"}


class Decline(Exception):
    """The input is not one of the plain shapes; lark must parse it."""


def read_fast(text: str, builder):
    """The IR built through ``builder``, or None when the file is not plain enough."""
    if _UNUSUAL.search(text):
        return None
    try:
        return _Reader(builder).run(text)
    except Decline:
        return None


class _Word(Token):
    """A lark WORD token made and compared at C speed: lark's own constructor and ``__eq__`` are
    Python code, and this path makes hundreds of thousands of them. Only ``line`` and ``column``
    are stored; what lark keeps in its other slots follows from them (a word is on one line)."""

    __slots__ = ()
    __eq__ = str.__eq__
    __hash__ = str.__hash__
    type = "WORD"
    value = property(str.__str__)
    end_line = property(lambda tok: tok.line)
    end_column = property(lambda tok: tok.column + len(tok))
    start_pos = end_pos = None


class _Keyword(Token):
    """A keyword: its type is its upper-cased text, as lark's lexer names keyword terminals."""

    __slots__ = ()
    __eq__ = str.__eq__
    __hash__ = str.__hash__


_new_str = str.__new__


def _word(text: str, line: int, col: int) -> Token:
    tok = _new_str(_Word, text)
    tok.line, tok.column = line, col
    return tok


def _keyword(text: str, line: int, col: int) -> Token:
    tok = str.__new__(_Keyword, text)
    tok.type, tok.value, tok.start_pos = text.upper(), text, None
    tok.line, tok.column, tok.end_line, tok.end_column, tok.end_pos = line, col, line, col + len(text), None
    return tok


class _Reader:
    def __init__(self, builder):
        self.b = builder

    # ---- tokens ---------------------------------------------------------------------------
    @staticmethod
    def words(line: str, lineno: int) -> list[Token]:
        words = []
        for match in _WORDS.finditer(line):  # _word inlined: this loop runs once per word of the file
            tok = _new_str(_Word, match.group())
            tok.line, tok.column = lineno, match.start() + 1
            words.append(tok)
        return words

    @staticmethod
    def value(tok: Token, keywords_here: frozenset[str] = frozenset()) -> Token:
        """A word in a value position. ``keywords_here`` are the keywords lark's contextual
        lexer also accepts at this position: it would read such a word as the keyword."""
        if tok in keywords_here:
            raise Decline
        return tok

    @staticmethod
    def keyword(tok: Token) -> Token:
        return _keyword(str(tok), tok.line, tok.column)

    # ---- blocks ---------------------------------------------------------------------------
    def run(self, text: str):
        items = []
        block = None  # (kind, header tokens, statements)
        for lineno, line in enumerate(text.split("\n"), 1):
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                col = line.index("#") + 1
                self.b.comments.append(Token("COMMENT", stripped, None, lineno, col, lineno, col + len(stripped)))
                continue
            if "#" in stripped:
                raise Decline
            if block is not None and block[0] == "upstream":
                server = _SERVER_LINE.fullmatch(line)
                if server is not None:
                    block[2].append(self.server_line(server, lineno))
                    continue
            words = self.words(line, lineno)
            if block is None:
                block = self.open_block(words)
            elif words[0] == "}" and len(words) == 1:
                items.append(self.close_block(block))
                block = None
            elif "{" in stripped or "}" in stripped:  # in no value of a statement line (lark decides)
                raise Decline
            else:
                block[2].append(self.statement(block[0], words))
        if block is not None:
            raise Decline  # unclosed: lark reports it
        return self.b.start(items)

    def open_block(self, words: list[Token]):
        head = words[0]
        if words[-1] != "{":
            raise Decline
        if any("{" in w or "}" in w for w in words[:-1]):
            raise Decline
        if head == "defaults" and len(words) == 2:
            return ("defaults", [self.keyword(head)], [])
        if head in ("frontend", "upstream") and len(words) == 3:
            return (str(head), [self.value(words[1])], [])
        raise Decline

    def close_block(self, block):
        kind, header, stmts = block
        if kind == "defaults":
            return self.b.defaults([*header, *stmts])
        if kind == "frontend":
            return self.b.frontend([*header, *stmts])
        return self.b.upstream([*header, *stmts])

    # ---- statements -----------------------------------------------------------------------
    def statement(self, kind: str, words: list[Token]):
        head, args = words[0], words[1:]
        if head == "mode" and len(args) == 1:
            return self.b.mode([self.value(args[0])])
        if head == "timeout" and len(args) == 2:
            return self.b.timeout([self.value(args[0]), self.value(args[1])])
        if kind == "frontend":
            return self.frontend_statement(head, args)
        if kind == "upstream":
            return self.upstream_statement(head, args)
        raise Decline

    def frontend_statement(self, head: Token, args: list[Token]):
        b = self.b
        if head == "listen" and len(args) in (1, 2):
            children = [self.value(args[0])]
            if len(args) == 2:
                if args[1] != "default_server":
                    raise Decline
                children.append(b.default_server([self.keyword(args[1])]))
            return b.listen(children)
        if head == "acl" and len(args) >= 4 and args[1] == "path" and args[2] in _PATH_OPS:
            name, op, rest = self.value(args[0]), self.keyword(args[2]), args[3:]
            children = [b.match_op([op])]
            if rest[0] == "nocase":
                children.append(b.nocase([self.keyword(rest[0])]))
                rest = rest[1:]
            if not rest:
                raise Decline
            children += [self.value(v, _AFTER_VALUE) for v in rest]
            return b.acl([name, b.path_match(children)])
        if head == "use" and len(args) in (1, 3):
            action = b.use([self.value(args[0])])
            if len(args) == 1:
                return b.rule([action])
            if args[1] != "if":
                raise Decline
            guard = b.guard([self.keyword(args[1]), b.acl_ref([self.value(args[2], _CONDITION_START)])])
            return b.rule([action, guard])
        if head == "default" and len(args) == 1:
            return b.default([self.value(args[0], _ACTIONS)])
        raise Decline

    def server_line(self, m: re.Match, lineno: int):
        """The common server line, as upstream_statement would build it from its words."""
        def word(group: int) -> Token:
            return _word(m.group(group), lineno, m.start(group) + 1)

        children = [word(3), word(5)]
        if m.group(8) is not None:
            children.append(self.b.server_opt(["weight", word(8)]))
        return self.b.server(children)

    def upstream_statement(self, head: Token, args: list[Token]):
        b = self.b
        if head == "balance" and args:
            return b.balance([self.value(a) for a in args])
        if head == "server" and len(args) >= 2:
            children = [self.value(args[0]), self.value(args[1])]
            rest = args[2:]
            while rest:
                key = rest[0]
                # server_opt reads its keyword as text only: the word serves (no keyword token).
                if key in _SERVER_FLAGS:
                    children.append(b.server_opt([key]))
                    rest = rest[1:]
                elif key in _SERVER_VALUES and len(rest) >= 2:
                    children.append(b.server_opt([key, self.value(rest[1])]))
                    rest = rest[2:]
                else:
                    raise Decline
            return b.server(children)
        raise Decline
