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


def literal_log_format(word: Word) -> str:
    """A log-format argument that holds no sample expression: ``%%`` is a literal ``%``. Any
    other ``%`` starts something evaluated per request, which the IR cannot hold."""
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


def _int_arg(args: list[Word], i: int, what: str, keyword: Word, lo: int, hi: int) -> int:
    if i >= len(args):
        raise Malformed("E206", f"{keyword.text} needs {what}", keyword)
    word = args[i]
    if not word.text.isdigit() or not lo <= int(word.text) <= hi:
        raise Malformed("E206", f"{what} must be a number from {lo} to {hi}, got {word.text!r}", word)
    return int(word.text)


def _arg(args: list[Word], i: int, keyword: Word) -> Word:
    if i >= len(args):
        raise Malformed("E206", f"{keyword.text!r} needs an argument", keyword)
    return args[i]


def read_redirect(ctx: ReadContext, verb: Word, args: list[Word], *, log_format: bool) -> ir.Redirect:
    """``location|prefix|scheme TARGET [code N] [options]``. Targets are log-format strings
    in ``http-request redirect`` and literal in the older ``redirect`` keyword."""
    if not args or args[0].text not in REDIRECT_KINDS:
        raise Malformed("E206", "redirect needs location, prefix or scheme", args[0] if args else verb)
    kind = args[0].text
    target_word = _arg(args, 1, args[0])
    target = literal_log_format(target_word) if log_format else target_word.text
    code = 302
    i = 2
    while i < len(args):
        word = args[i]
        if word.text == "code":
            code = _int_arg(args, i + 1, "a redirect code", word, 100, 999)
            if code not in REDIRECT_CODES:
                raise Malformed("E206", f"redirect code {code} is not one of 301, 302, 303, 307, 308", args[i + 1])
            i += 2
        elif word.text in ("drop-query", "append-slash", "ignore-empty"):
            raise Unconvertible(f"the redirect option {word.text} has no IR equivalent", word)
        elif word.text in ("set-cookie", "clear-cookie"):
            raise Unconvertible(f"a redirect that sets a cookie ({word.text}) has no IR equivalent", word)
        else:
            raise Malformed("E206", f"unknown redirect option {word.text!r}", word)
    return ir.Redirect(code=code, span=ctx.span(verb), **{kind: target})


def read_return(ctx: ReadContext, verb: Word, args: list[Word]) -> ir.Return:
    """``[status N] [content-type T] [string S | lf-string S]``."""
    action = ir.Return(status=200, span=ctx.span(verb))
    i = 0
    while i < len(args):
        word = args[i]
        if word.text == "status":
            action.status = _int_arg(args, i + 1, "a status", word, 100, 599)
        elif word.text == "content-type":
            action.content_type = _arg(args, i + 1, word).text
        elif word.text == "string":
            action.body = _arg(args, i + 1, word).text
        elif word.text == "lf-string":
            action.body = literal_log_format(_arg(args, i + 1, word))
        elif word.text in PAYLOAD_SOURCES or word.text == "default-errorfiles":
            raise Unconvertible(f"a response body from {word.text} has no IR equivalent", word)
        elif word.text == "hdr":
            raise Unconvertible("response headers on 'return' have no IR equivalent", word)
        else:
            raise Malformed("E206", f"unknown return option {word.text!r}", word)
        i += 2
    return action


def read_deny(ctx: ReadContext, verb: Word, args: list[Word]) -> ir.Deny:
    """``[deny_status N]``; a custom deny response (payload, headers) has no IR equivalent."""
    action = ir.Deny(span=ctx.span(verb))
    i = 0
    while i < len(args):
        word = args[i]
        if word.text == "deny_status":
            action.status = _int_arg(args, i + 1, "a status", word, 100, 599)
            i += 2
        else:
            raise Unconvertible(f"the deny option {word.text!r} has no IR equivalent", word)
    return action


def read_terminal(ctx: ReadContext, verb: Word, args: list[Word]) -> ir.Return | ir.Redirect | ir.Deny | None:
    """The IR action of ``http-request VERB ARGS``, or None when VERB is not a terminal one."""
    if verb.text == "return":
        return read_return(ctx, verb, args)
    if verb.text == "redirect":
        return read_redirect(ctx, verb, args, log_format=True)
    if verb.text == "deny":
        return read_deny(ctx, verb, args)
    return None


def read_header_op(ctx: ReadContext, verb: Word, args: list[Word]) -> ir.HeaderOp:
    """``set-header|add-header NAME VALUE`` or ``del-header NAME``."""
    action = HEADER_VERBS[verb.text]
    name = _arg(args, 0, verb)
    if action == "delete":
        if len(args) > 1:
            raise Unconvertible("del-header with a match method (-m) has no IR equivalent", args[1])
        return ir.HeaderOp(action="delete", name=name.text, span=ctx.span(verb))
    value = _arg(args, 1, verb)
    if len(args) > 2:
        raise Malformed("E206", f"unexpected {args[2].text!r} after the header value", args[2])
    return ir.HeaderOp(action=action, name=name.text, value=literal_log_format(value), span=ctx.span(verb))
