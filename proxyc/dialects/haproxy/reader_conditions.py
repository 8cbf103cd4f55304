"""HAProxy ACLs and rule conditions → IR conditions.

An ACL line is ``acl NAME FETCH[,converter...] [flags] [patterns]``; lines with the same name
are ORed. A rule condition (after ``if``/``unless``) is ACL names and anonymous ``{ ... }`` ACLs,
ANDed when written side by side, ``or``/``||`` between groups, ``!`` in front negating one ACL.
Both follow HAProxy 2.6 (``parse_acl_expr`` and ``parse_acl_cond`` in ``src/acl.c``).

What the IR cannot express raises :class:`Unconvertible`; approximations that keep the line
are returned as notes for the caller to report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeAlias

from ... import ir
from .lexer import Word
from .reader_base import Malformed, ReadContext, Unconvertible

# ------------------------------------------------------------------ the truth constants


class Truth:
    """A condition that is constant (``TRUE``/``FALSE`` predefined ACLs, folded terms)."""

    def __init__(self, value: bool):
        self.value = value

    def __repr__(self) -> str:
        return "ALWAYS" if self.value else "NEVER"


ALWAYS = Truth(True)
NEVER = Truth(False)
Cond: TypeAlias = "ir.Condition | Truth"  # a condition, or a constant one

# ------------------------------------------------------------------ fetch tables

# Derived ACL keywords: the fetch they read and the match method they imply.
PATH_KEYWORDS = {"path": "str", "path_beg": "beg", "path_end": "end", "path_reg": "reg", "path_sub": "sub",
                 "path_dir": "dir", "path_dom": "dom", "path_len": "len"}
URL_KEYWORDS = {"url": "str", "url_beg": "beg", "url_end": "end", "url_reg": "reg", "url_sub": "sub",
                "url_dir": "dir", "url_dom": "dom", "url_len": "len"}
HEADER_KEYWORDS = {"hdr": "str", "req.hdr": "str", "req.fhdr": "str", "fhdr": "str", "hdr_beg": "beg",
                   "hdr_end": "end", "hdr_reg": "reg", "hdr_sub": "sub", "hdr_dir": "dir", "hdr_dom": "dom",
                   "hdr_len": "len"}
# hdr()/req.hdr() split the header at commas and match each value; fhdr reads the whole line.
WHOLE_VALUE_HEADER_FETCHES = ("req.fhdr", "fhdr")
MATCH_METHODS = ("found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg", "beg", "end", "dir", "dom")
# Delimiters of the "dir" and "dom" match methods (pat_match_dir / pat_match_dom).
DIR_DELIMITERS = "/?"
DOM_DELIMITERS = "/?.:"

TEXT_OPS = {"str": "exact", "beg": "prefix", "end": "suffix", "reg": "regex"}
# Host-header converters that drop the port; host_only also lower-cases.
PORT_STRIPPERS = ("host_only", "field(1,:)")

METHOD_ACLS = {"METH_CONNECT": ["CONNECT"], "METH_DELETE": ["DELETE"], "METH_GET": ["GET", "HEAD"],
               "METH_HEAD": ["HEAD"], "METH_OPTIONS": ["OPTIONS"], "METH_POST": ["POST"], "METH_PUT": ["PUT"],
               "METH_TRACE": ["TRACE"]}
# The predefined ACLs with no IR equivalent (HAProxy manual 7.4).
OPAQUE_PREDEFINED = ("HTTP", "HTTP_1.0", "HTTP_1.1", "HTTP_2.0", "HTTP_CONTENT", "HTTP_URL_ABS", "HTTP_URL_SLASH",
                     "HTTP_URL_STAR", "RDP_COOKIE", "REQ_CONTENT", "WAIT_END")
# The prefix of the helper ACLs proxyc's HAProxy writer declares (patterns an anonymous ACL
# cannot hold); they are inlined back where they are used.
WRITER_HELPER_PREFIX = "pxc:"


@dataclass
class Expression:
    """One ACL expression read: its condition and the approximations made on the way."""

    condition: ir.Condition
    notes: list[tuple[Word, str]] = field(default_factory=list)

    def approximate(self, word: Word, message: str) -> None:
        self.notes.append((word, message))


@dataclass
class Fetch:
    name: str
    args: list[str]
    converters: list[str]  # as written, e.g. "lower", "field(1,:)"
    word: Word


# ------------------------------------------------------------------ fetch expressions


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``req.hdr(host),field(1,:)`` → ``["req.hdr(host)", "field(1,:)"]``: commas inside
    parentheses belong to the arguments."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_CALL = re.compile(r"^([A-Za-z0-9_.]+)(?:\((.*)\))?$")


def parse_fetch(word: Word) -> Fetch:
    first, *converters = split_top_level(word.text)
    m = _CALL.match(first)
    if m is None:
        raise Unconvertible(f"cannot read the sample fetch {word.text!r}", word)
    args = split_top_level(m.group(2)) if m.group(2) else []
    return Fetch(m.group(1), args, converters, word)


# ------------------------------------------------------------------ one ACL expression


@dataclass
class _Flags:
    ignore_case: bool = False
    method: str | None = None


def _read_flags(words: list[Word]) -> tuple[_Flags, list[Word]]:
    """The leading flags of an ACL expression; returns them and the patterns after them."""
    flags = _Flags()
    i = 0
    while i < len(words) and words[i].text.startswith("-"):
        word = words[i]
        if word.text == "--":
            i += 1
            break
        if word.text == "-i":
            flags.ignore_case = True
        elif word.text == "-m":
            if i + 1 >= len(words) or words[i + 1].text not in MATCH_METHODS:
                raise Malformed("E201", "-m needs a match method", word,
                                hint="one of: " + ", ".join(MATCH_METHODS))
            flags.method = words[i + 1].text
            i += 1
        elif word.text in ("-f", "-M"):
            raise Unconvertible("ACL patterns loaded from a file (-f) are not supported", word)
        elif word.text == "-u":
            raise Unconvertible("ACL unique ids (-u) are not supported", word)
        elif word.text == "-n":
            pass  # no DNS resolution of IP patterns: proxyc never resolves them anyway
        else:
            raise Malformed("E201", f"{word.text!r} is not a valid ACL flag", word,
                            hint="write -- before a pattern that starts with '-'")
        i += 1
    return flags, words[i:]


def read_expression(words: list[Word], ctx: ReadContext) -> Expression:
    """``FETCH [flags] [patterns]`` (the words after ``acl NAME``, or inside ``{ }``)."""
    if not words:
        raise Malformed("E201", "missing sample fetch in ACL expression")
    fetch = parse_fetch(words[0])
    flags, patterns = _read_flags(words[1:])
    values = [w.text for w in patterns]
    span = ctx.span(fetch.word)
    if fetch.name in PATH_KEYWORDS:
        return _path(fetch, flags, values, PATH_KEYWORDS[fetch.name], span)
    if fetch.name in URL_KEYWORDS:
        expr = _path(fetch, flags, values, URL_KEYWORDS[fetch.name], span)
        expr.approximate(fetch.word, f"{fetch.name} reads the whole URL (with the query string); "
                                     "imported as a path matcher, which ignores the query")
        return expr
    if fetch.name in HEADER_KEYWORDS:
        return _header(fetch, flags, values, HEADER_KEYWORDS[fetch.name], span)
    if fetch.name == "method":
        _only_method(fetch, flags, "str")
        _no_converters(fetch)
        return Expression(ir.MethodMatch(values=_need_values(values, fetch), span=span))
    if fetch.name == "src":
        _only_method(fetch, flags, "ip")
        _no_converters(fetch)
        return Expression(ir.SourceMatch(values=_need_values(values, fetch), span=span))
    if fetch.name == "ssl_fc":
        _only_method(fetch, flags, "bool")
        _no_converters(fetch)
        if values:
            raise Unconvertible("ssl_fc with patterns is not supported", patterns[0])
        return Expression(ir.TlsMatch(span=span))
    raise Unconvertible(f"the sample fetch {fetch.name!r} has no IR equivalent", fetch.word)


def _need_values(values: list[str], fetch: Fetch) -> list[str]:
    if not values:
        raise Unconvertible("an ACL without patterns never matches", fetch.word)
    return values


def _only_method(fetch: Fetch, flags: _Flags, allowed: str) -> None:
    if flags.method not in (None, allowed):
        raise Unconvertible(f"{fetch.name} with -m {flags.method} is not supported", fetch.word)


def _no_converters(fetch: Fetch) -> None:
    if fetch.converters:
        raise Unconvertible(f"the converter {fetch.converters[0]!r} is not supported here", fetch.word)


def _method_of(fetch: Fetch, flags: _Flags, implied: str) -> str:
    """The match method in effect: ``-m``, else the keyword's own one unless a converter
    follows it (the converter's string output is then matched exactly)."""
    if flags.method is not None:
        return flags.method
    return "str" if fetch.converters else implied


def _case_from_lower(fetch: Fetch, converters: list[str], values: list[str], method: str) -> bool:
    """``,lower`` followed by lower-case patterns is a case-insensitive match."""
    if "lower" not in converters:
        return False
    if method != "reg" and any(v != v.lower() for v in values):
        raise Unconvertible("a ',lower' sample compared with upper-case patterns never matches", fetch.word)
    return True


def _delimited_regex(value: str, delimiters: str) -> str:
    """HAProxy's ``dir``/``dom`` match as a regex: the pattern (without delimiters at its ends)
    found between delimiters or the ends of the subject."""
    cls = "[" + re.escape(delimiters) + "]"
    return f"(?:^|{cls}){re.escape(value.strip(delimiters))}(?:{cls}|$)"


def _text_op(method: str, values: list[str], fetch: Fetch, *, allow_contains: bool = False) -> tuple[str, list[str]]:
    """A string match method as an IR op and values (sub/dir/dom become regexes)."""
    if method in TEXT_OPS:
        return TEXT_OPS[method], values
    if method == "sub":
        return ("contains", values) if allow_contains else ("regex", [re.escape(v) for v in values])
    if method == "dir":
        return "regex", [_delimited_regex(v, DIR_DELIMITERS) for v in values]
    if method == "dom":
        return "regex", [_delimited_regex(v, DOM_DELIMITERS) for v in values]
    raise Unconvertible(f"{fetch.name} matched with -m {method} has no IR equivalent", fetch.word)


def _path(fetch: Fetch, flags: _Flags, values: list[str], implied: str, span) -> Expression:
    if fetch.args:
        raise Unconvertible(f"{fetch.name} takes no argument", fetch.word)
    converters = [c for c in fetch.converters if c != "lower"]
    if converters:
        raise Unconvertible(f"the converter {converters[0]!r} is not supported on {fetch.name}", fetch.word)
    method = _method_of(fetch, flags, implied)
    op, patterns = _text_op(method, _need_values(values, fetch), fetch)
    nocase = flags.ignore_case or _case_from_lower(fetch, fetch.converters, values, method)
    return Expression(ir.PathMatch(op=op, values=patterns, ignore_case=nocase, span=span))


def _header(fetch: Fetch, flags: _Flags, values: list[str], implied: str, span) -> Expression:
    if len(fetch.args) != 1 or not fetch.args[0]:
        raise Unconvertible(f"{fetch.name} needs exactly one header name to be imported", fetch.word)
    name = fetch.args[0]
    # The Host header is a host matcher when read the usual way (hdr(host), or any fetch with a
    # port-stripping converter); req.fhdr(host) alone compares the whole value, as a header.
    whole_value = fetch.name in WHOLE_VALUE_HEADER_FETCHES and not set(fetch.converters) & set(PORT_STRIPPERS)
    if name.lower() == "host" and not whole_value:
        return _host(fetch, flags, values, implied, span)
    unknown = [c for c in fetch.converters if c != "lower"]
    if unknown:
        raise Unconvertible(f"the converter {unknown[0]!r} is not supported on {fetch.name}", fetch.word)
    method = _method_of(fetch, flags, implied)
    if method == "found":
        if values:
            raise Unconvertible("-m found takes no pattern", fetch.word)
        return Expression(ir.HeaderMatch(name=name, op="present", span=span))
    op, patterns = _text_op(method, _need_values(values, fetch), fetch, allow_contains=True)
    nocase = flags.ignore_case or _case_from_lower(fetch, fetch.converters, values, method)
    expr = Expression(ir.HeaderMatch(name=name, op=op, values=patterns, ignore_case=nocase, span=span))
    if fetch.name not in WHOLE_VALUE_HEADER_FETCHES:
        expr.approximate(fetch.word, f"{fetch.name}({name}) matches each comma-separated value of the header; "
                                     "the IR matches the whole value (req.fhdr)")
    return expr


def _host(fetch: Fetch, flags: _Flags, values: list[str], implied: str, span) -> Expression:
    unknown = [c for c in fetch.converters if c not in PORT_STRIPPERS and c != "lower"]
    if unknown:
        raise Unconvertible(f"the converter {unknown[0]!r} is not supported on the Host header", fetch.word)
    method = _method_of(fetch, flags, implied)
    if method == "found":
        if values:
            raise Unconvertible("-m found takes no pattern", fetch.word)
        return Expression(ir.HeaderMatch(name=fetch.args[0], op="present", span=span))
    op, patterns = _text_op(method, _need_values(values, fetch), fetch)
    if op in ("exact", "prefix", "suffix"):
        patterns = [p.lower() for p in patterns]  # host names compare case-insensitively
    expr = Expression(ir.HostMatch(op=op, values=patterns, span=span))
    strips_port = any(c in PORT_STRIPPERS for c in fetch.converters)
    if not strips_port and op in ("exact", "suffix", "regex"):
        expr.approximate(fetch.word, f"{fetch.word.text} includes the port (host:8080); the IR host matcher "
                                     "compares the host without it")
    ignores_case = flags.ignore_case or "lower" in fetch.converters or "host_only" in fetch.converters
    if not ignores_case:
        expr.approximate(fetch.word, f"{fetch.word.text} is compared case-sensitively without -i; the IR "
                                     "compares host names case-insensitively")
    return expr


# ------------------------------------------------------------------ the ACLs of a proxy


@dataclass
class AclEntry:
    """Every line of one ACL name: HAProxy ORs them. ``failure`` is set (and the ACL kept as
    raw text) as soon as one line cannot be converted."""

    name: str
    first: Word
    parts: list[ir.Condition] = field(default_factory=list)
    failure: str | None = None
    helper: bool = False  # a helper the writer generated: inlined, not kept as an IR ACL

    @property
    def condition(self) -> ir.Condition | None:
        if self.failure is not None or not self.parts:
            return None
        if len(self.parts) == 1:
            return self.parts[0]
        return ir.AnyOf(items=list(self.parts), span=self.parts[0].span)


class AclTable:
    """The named ACLs of one proxy, in order of first declaration."""

    def __init__(self) -> None:
        self.entries: dict[str, AclEntry] = {}

    def add(self, name_word: Word, condition: ir.Condition | None, failure: str | None = None) -> AclEntry:
        entry = self.entries.get(name_word.text)
        if entry is None:
            entry = AclEntry(name_word.text, name_word, helper=name_word.text.startswith(WRITER_HELPER_PREFIX))
            self.entries[name_word.text] = entry
        if failure is not None:
            entry.failure = entry.failure or failure
        elif condition is not None:
            entry.parts.append(condition)
        return entry

    def ir_acls(self, ctx: ReadContext) -> list[ir.Acl]:
        return [ir.Acl(name=e.name, condition=e.condition, span=ctx.span(e.first))
                for e in self.entries.values() if e.condition is not None and not e.helper]


# ------------------------------------------------------------------ rule conditions


class ConditionReader:
    """Reads rule conditions of one proxy against its ACL table."""

    def __init__(self, ctx: ReadContext, acls: AclTable):
        self.ctx = ctx
        self.acls = acls

    def read(self, keyword: Word, words: list[Word], line_no: int) -> tuple[Cond, list[tuple[Word, str]]]:
        """The condition after ``if``/``unless`` (``keyword``), folded to ALWAYS/NEVER when
        constant. ``line_no`` is where the rule is, for HAProxy's declare-before-use rule."""
        if not words:
            raise Malformed("E202", f"missing condition after {keyword.text!r}", keyword)
        notes: list[tuple[Word, str]] = []
        cond = self._disjunction(words, line_no, notes)
        if keyword.text == "unless":
            cond = negate(cond, self.ctx.span(keyword))
        return cond, notes

    def _disjunction(self, words: list[Word], line_no: int, notes: list[tuple[Word, str]]) -> Cond:
        """Groups of ANDed terms separated by ``or``, as HAProxy's ``parse_acl_cond`` reads them."""
        groups: list[list[Cond]] = [[]]
        negated = False
        i = 0
        while i < len(words):
            word = words[i]
            text = word.text
            while text.startswith("!"):
                negated, text = not negated, text[1:]
            i += 1
            if not text:
                continue  # a lone "!" negates the next ACL
            if text.lower() == "or" or text == "||":
                groups.append([])
                negated = False
                continue
            if text == "{":
                end = next((j for j in range(i, len(words)) if words[j].text == "}"), None)
                if end is None:
                    raise Malformed("E202", "missing closing '}' in condition", word)
                expr = read_expression(words[i:end], self.ctx)
                notes.extend(expr.notes)
                term: Cond = expr.condition
                i = end + 1
            else:
                term = self._named(word, text, line_no)
            groups[-1].append(negate(term, self.ctx.span(word)) if negated else term)
            negated = False
        return any_of([all_of(g) for g in groups])

    def _named(self, word: Word, name: str, line_no: int) -> Cond:
        entry = self.acls.entries.get(name)
        span = self.ctx.span(word)
        if entry is not None:
            if entry.first.line > line_no:
                raise Malformed("E203", f"ACL {name!r} is used before it is declared (line {entry.first.line})",
                                word, hint="HAProxy needs an ACL declared before the rule that uses it")
            if entry.condition is None:
                raise Unconvertible(f"uses ACL {name!r}, which could not be converted", word)
            if entry.helper:
                return entry.condition.model_copy(deep=True)
            return ir.AclRef(name=name, span=span)
        if name == "TRUE":
            return ALWAYS
        if name == "FALSE":
            return NEVER
        if name in METHOD_ACLS:
            return ir.MethodMatch(values=list(METHOD_ACLS[name]), span=span)
        if name == "LOCALHOST":
            return ir.SourceMatch(values=["127.0.0.1/8", "::1"], span=span)
        if name in OPAQUE_PREDEFINED:
            raise Unconvertible(f"the predefined ACL {name} has no IR equivalent", word)
        raise Malformed("E203", f"unknown ACL {name!r}", word, hint="declare it with `acl NAME ...` first")


# ------------------------------------------------------------------ condition algebra


def negate(cond: Cond, span) -> Cond:
    if isinstance(cond, Truth):
        return NEVER if cond.value else ALWAYS
    return ir.Not(item=cond, span=span)


def all_of(terms: list[Cond]) -> Cond:
    if any(t is NEVER for t in terms):
        return NEVER
    kept = [t for t in terms if t is not ALWAYS]
    if not kept:
        return ALWAYS
    return kept[0] if len(kept) == 1 else ir.All(items=kept, span=kept[0].span)


def any_of(terms: list[Cond]) -> Cond:
    if any(t is ALWAYS for t in terms):
        return ALWAYS
    kept = [t for t in terms if t is not NEVER]
    if not kept:
        return NEVER
    return kept[0] if len(kept) == 1 else ir.AnyOf(items=kept, span=kept[0].span)
