"""Turning user strings into HAProxy 2.6 config words that mean exactly those strings.

HAProxy's tokenizer (``parse_line()``, manual §2.2) splits on unquoted blanks, starts a comment
at an unquoted ``#``, expands ``$VAR`` inside double quotes and interprets backslash escapes
outside single quotes. Inside single quotes nothing is interpreted at all, so a single-quoted
word is the one form whose meaning never depends on its content. Every user string therefore
goes out bare when it is made only of characters that mean nothing to the tokenizer, and in
single quotes otherwise; the characters single quotes cannot hold (``'`` itself and control
characters) are glued on outside the quotes as backslash escapes (``'it'\\''s'``). The result is
always exactly one word, so no value can end a directive, start a comment or open a section.

Names (proxies, servers, ACLs) cannot be quoted at all: HAProxy accepts only
``[A-Za-z0-9_.:-]`` there. ``NameTable`` maps other names to safe, unique ones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Characters with no meaning to HAProxy's tokenizer, fetch or flag parsers: such a word is
# written bare, which keeps the common case (paths, hosts, addresses) idiomatic.
_BARE = re.compile(r"[A-Za-z0-9_./:@+=,\[\]-]+")
# Escapes HAProxy understands outside quotes; other control characters become \xNN.
_OUTSIDE_QUOTES = {"'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r"['\x00-\x1f\x7f]")

# HAProxy's own rule is [A-Za-z0-9_.:-]; a leading "-" would also read as a flag.
HAPROXY_NAME = re.compile(r"[A-Za-z0-9_.:][A-Za-z0-9_.:-]*")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")

# Characters a header name may have inside a sample fetch argument, ``req.fhdr(<name>)``:
# the RFC 9110 token characters minus those the argument parser or the tokenizer would read
# (``#`` comment, ``$`` variable, ``%`` and ``'`` quoting inside fetch arguments).
_FETCH_HEADER_NAME = re.compile(r"[A-Za-z0-9!&*+.^_`|~-]+")


def quote(value: str) -> str:
    """``value`` as one HAProxy word. NUL cannot be represented (HAProxy strings are C
    strings): callers reject it first with ``has_nul``."""
    if _BARE.fullmatch(value):
        return value
    out: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            out.append("'" + "".join(run) + "'")
            run.clear()

    for ch in value:
        if _NEEDS_ESCAPE.fullmatch(ch):
            close_run()
            out.append(_OUTSIDE_QUOTES.get(ch) or f"\\x{ord(ch):02x}")
        else:
            run.append(ch)
    close_run()
    return "".join(out) or "''"


def escape_log_format(value: str) -> str:
    """Some HAProxy arguments are log-format strings (``set-header`` values, redirect targets,
    ``http-check send hdr``) where ``%`` starts a sample expression: ``%%`` keeps it literal."""
    return value.replace("%", "%%")


def has_nul(value: str) -> bool:
    return "\x00" in value


def has_line_break(value: str) -> bool:
    """CR, LF or NUL: never allowed in a header name or value (they would split the header)."""
    return any(ch in value for ch in "\r\n\x00")


def fetchable_header_name(name: str) -> bool:
    """Can ``name`` be written inside ``req.fhdr(...)`` / ``balance hdr(...)`` as is?"""
    return bool(_FETCH_HEADER_NAME.fullmatch(name))


@dataclass
class NameTable:
    """Maps IR names to HAProxy names, stable and unique within one namespace.

    Names that are already valid keep their spelling; the others get their unsafe characters
    replaced by ``_`` and, on a clash, a ``-2``, ``-3``... suffix. ``reserve`` every IR name
    first, so that neither a renamed name nor a generated one (``fresh``) takes a spelling that
    a later IR name needs.
    """

    reserved_words: frozenset[str] = frozenset()
    _taken: set[str] = field(default_factory=set)  # reserved IR names and every name handed out
    _handed_out: set[str] = field(default_factory=set)
    _by_key: dict[object, str] = field(default_factory=dict)

    def reserve(self, names) -> None:
        self._taken.update(name for name in names if self.is_valid(name))

    def is_valid(self, name: str) -> bool:
        return bool(HAPROXY_NAME.fullmatch(name)) and name not in self.reserved_words

    def assign(self, key: object, name: str) -> str:
        """The HAProxy name for the IR name ``name`` (the first call for ``key`` decides)."""
        if key in self._by_key:
            return self._by_key[key]
        if self.is_valid(name) and name not in self._handed_out:
            chosen = name
        else:
            chosen = self._unused(_safe_spelling(name))
        return self._hand_out(key, chosen)

    def fresh(self, key: object, base: str) -> str:
        """A generated name: ``base`` unless any IR name or earlier name already uses it."""
        return self._hand_out(key, self._unused(_safe_spelling(base)))

    def lookup(self, key: object) -> str | None:
        return self._by_key.get(key)

    def _hand_out(self, key: object, chosen: str) -> str:
        self._taken.add(chosen)
        self._handed_out.add(chosen)
        self._by_key[key] = chosen
        return chosen

    def _unused(self, base: str) -> str:
        if base in self.reserved_words:
            base += "_"
        candidate, n = base, 2
        while candidate in self._taken:
            candidate, n = f"{base}-{n}", n + 1
        return candidate


def _safe_spelling(name: str) -> str:
    spelled = _NAME_UNSAFE.sub("_", name)
    return spelled if HAPROXY_NAME.fullmatch(spelled) else "_" + spelled
