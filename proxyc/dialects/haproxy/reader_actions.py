"""The arguments of HAProxy's terminal actions → IR actions, and header changes → HeaderOps.

``http-request return|redirect|deny``, the older ``redirect`` keyword and
``tcp-request ... reject`` end a request; ``set-header``/``add-header``/``del-header`` change
one. Anything an IR action cannot carry (a cookie set by a redirect, a response header added
by ``return``, a dynamic ``%[...]`` value) raises :class:`Unconvertible`.
"""
from __future__ import annotations

from ... import ir
from .lexer import Word
from .reader_base import Malformed, ReadContext, Unconvertible

REDIRECT_KINDS = ("location", "prefix", "scheme")
REDIRECT_CODES = (301, 302, 303, 307, 308)
HEADER_VERBS = {"set-header": "set", "add-header": "add", "del-header": "delete"}
# return/deny payload keywords that take one argument and that the IR has no place for.
PAYLOAD_SOURCES = ("file", "lf-file", "errorfile", "errorfiles")
# An empty log-format argument cannot be written (HAProxy drops empty words): the empty sample.
EMPTY_LOG_FORMAT = "%[str()]"


def literal_log_format(word: Word) -> str:
    """A log-format argument that holds no sample expression: ``%%`` is a literal ``%``. Any
    other ``%`` starts something evaluated per request, which the IR cannot hold."""
    if word.text == EMPTY_LOG_FORMAT:
        return ""
    text, out, i = word.text, [], 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            if text[i + 1 : i + 2] != "%":
                raise Unconvertible(f"{text!r} is computed per request (log-format); the IR holds fixed values",
                                    word)
            i += 2
            out.append("%")
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class Cursor:
    """The words of a rule after its keyword, read in order the way HAProxy's action parsers
    read them: an argument is taken by position (so a value may well be the word "if"), and
    only where an option could start does ``if``/``unless`` begin the condition."""

    def __init__(self, owner: Word, words: list[Word]):
        self.owner = owner
        self.words = words
        self.i = 0

    def at_condition(self) -> bool:
        """At the end, or at ``if``/``unless`` where an option could start."""
        return self.i >= len(self.words) or self.words[self.i].text in ("if", "unless")

    def take(self, what: str, after: Word | None = None) -> Word:
        if self.i >= len(self.words):
            raise Malformed("E206", f"{(after or self.owner).text!r} needs {what}", after or self.owner)
        word = self.words[self.i]
        self.i += 1
        return word

    def take_int(self, what: str, after: Word, lo: int, hi: int) -> int:
        word = self.take(what, after)
        if not word.text.isdigit() or not lo <= int(word.text) <= hi:
            raise Malformed("E206", f"{what} must be a number from {lo} to {hi}, got {word.text!r}", word)
        return int(word.text)

    def condition(self) -> tuple[Word | None, list[Word]]:
        """The ``if``/``unless`` keyword and the condition's words; nothing else may follow."""
        if self.i >= len(self.words):
            return None, []
        word = self.words[self.i]
        if word.text not in ("if", "unless"):
            raise Malformed("E206", f"unexpected {word.text!r}; expected 'if' or 'unless'", word)
        return word, self.words[self.i + 1:]


def read_redirect(ctx: ReadContext, verb: Word, cursor: Cursor, *, log_format: bool) -> ir.Redirect:
    """``location|prefix|scheme TARGET``, ``code N`` and options, in any order (as HAProxy's
    ``http_parse_redirect_rule`` reads them). Targets are log-format strings in ``http-request
    redirect`` and literal in the older ``redirect`` keyword."""
    target: tuple[str, str] | None = None
    code = 302
    while not cursor.at_condition():
        word = cursor.take("an option")
        if word.text in REDIRECT_KINDS:
            if target is not None:
                raise Malformed("E206", f"a redirect has one target; {word.text!r} is a second one", word)
            value = cursor.take("a target", word)
            target = (word.text, literal_log_format(value) if log_format else value.text)
        elif word.text == "code":
            code = cursor.take_int("a redirect code", word, 100, 999)
            if code not in REDIRECT_CODES:
                raise Malformed("E206", f"redirect code {code} is not one of 301, 302, 303, 307, 308", word)
        elif word.text in ("drop-query", "append-slash", "ignore-empty"):
            raise Unconvertible(f"the redirect option {word.text} has no IR equivalent", word)
        elif word.text in ("set-cookie", "clear-cookie"):
            raise Unconvertible(f"a redirect that sets a cookie ({word.text}) has no IR equivalent", word)
        else:
            raise Malformed("E206", f"unknown redirect option {word.text!r}", word)
    if target is None:
        raise Malformed("E206", "redirect needs location, prefix or scheme", verb)
    kind, value = target
    return ir.Redirect(code=code, span=ctx.span(verb), **{kind: value})


def read_return(ctx: ReadContext, verb: Word, cursor: Cursor) -> ir.Return:
    """``[status N] [content-type T] [string S | lf-string S]``."""
    action = ir.Return(status=200, span=ctx.span(verb))
    while not cursor.at_condition():
        word = cursor.take("an option")
        if word.text == "status":
            action.status = cursor.take_int("a status", word, 100, 599)
        elif word.text == "content-type":
            action.content_type = cursor.take("a content type", word).text
        elif word.text == "string":
            action.body = cursor.take("a body", word).text
        elif word.text == "lf-string":
            action.body = literal_log_format(cursor.take("a body", word))
        elif word.text in PAYLOAD_SOURCES or word.text == "default-errorfiles":
            raise Unconvertible(f"a response body from {word.text} has no IR equivalent", word)
        elif word.text == "hdr":
            raise Unconvertible("response headers on 'return' have no IR equivalent", word)
        else:
            raise Malformed("E206", f"unknown return option {word.text!r}", word)
    return action


def read_deny(ctx: ReadContext, verb: Word, cursor: Cursor) -> ir.Deny:
    """``[deny_status N]``; a custom deny response (payload, headers) has no IR equivalent."""
    action = ir.Deny(span=ctx.span(verb))
    while not cursor.at_condition():
        word = cursor.take("an option")
        if word.text != "deny_status":
            raise Unconvertible(f"the deny option {word.text!r} has no IR equivalent", word)
        action.status = cursor.take_int("a status", word, 100, 599)
    return action


def read_terminal(ctx: ReadContext, verb: Word, cursor: Cursor) -> ir.Return | ir.Redirect | ir.Deny | None:
    """The IR action of ``http-request VERB ...``, or None when VERB is not a terminal one."""
    if verb.text == "return":
        return read_return(ctx, verb, cursor)
    if verb.text == "redirect":
        return read_redirect(ctx, verb, cursor, log_format=True)
    if verb.text == "deny":
        return read_deny(ctx, verb, cursor)
    return None


def read_header_op(ctx: ReadContext, verb: Word, cursor: Cursor) -> ir.HeaderOp:
    """``set-header|add-header NAME VALUE`` or ``del-header NAME``."""
    action = HEADER_VERBS[verb.text]
    name = cursor.take("a header name", verb)
    if action == "delete":
        if not cursor.at_condition():
            raise Unconvertible("del-header with a match method (-m) has no IR equivalent", cursor.take("-m"))
        return ir.HeaderOp(action="delete", name=name.text, span=ctx.span(verb))
    value = cursor.take("a value", name)
    return ir.HeaderOp(action=action, name=name.text, value=literal_log_format(value), span=ctx.span(verb))
