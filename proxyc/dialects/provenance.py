"""Provenance comments: what a target language has no place for, carried as ``# proxyc: ...``.

The nginx and HAProxy writers can express what an IR *does* but not always how it was *said*:
HAProxy has no nested conditions and no ACL that is an ``and``; nginx has no frontend names.
So the writers add comments such as ``# proxyc: acl beta (a and not b) or c`` and the readers
read them back. A comment never changes what the config does (the servers ignore it), and a
reader only believes one after checking it against the directives it annotates: a condition
is taken from a comment only when the reader's own reading of the directive is exactly what the
writer would have written for it. A config without these comments (written by hand, or with
the comments stripped) imports as it always did.

The payload is DSL text (the .pxc grammar), one statement per comment line.
"""
from __future__ import annotations

import re
from functools import cache

from .. import ir
from ..ir.base import NO_COMMENTS

PREFIX = "proxyc:"


def payload(comment: str) -> str | None:
    """The text after ``proxyc:`` in a comment (without its ``#``), or None for other comments."""
    text = comment.strip()
    if not text.startswith(PREFIX):
        return None
    return text[len(PREFIX):].strip()


def comment(text: str) -> str:
    """A provenance comment's text (without the ``#``)."""
    return f"{PREFIX} {text}"


def condition_text(cond: ir.Condition) -> str | None:
    """``cond`` in DSL syntax, or None when the DSL cannot write it (then nothing is carried)."""
    from .pxc.writer import _Writer

    writer = _Writer()
    text = writer.condition(cond)
    return None if writer.diags or "\n" in text or "\r" in text else text


def name_text(name: str) -> str:
    from .pxc.writer import quote

    return quote(name)


def acl_text(acl: ir.Acl) -> str | None:
    cond = condition_text(acl.condition)
    return None if cond is None else f"acl {name_text(acl.name)} {cond}"


def parse_frontend_lines(lines: list[str]) -> ir.Frontend | None:
    """DSL frontend statements (``acl ...``, ``deny if ...``) as a frontend, or None when they
    do not parse: a damaged provenance comment is ignored, never an error of the config."""
    from .pxc.reader import read

    body = "".join(f"    {line}\n" for line in lines)
    try:
        cfg, diags = read(f"frontend provenance {{\n{body}}}\n", "<provenance>")
    except Exception:  # noqa: BLE001 - a comment must never break a read
        return None
    if cfg is None or any(d.severity == "error" for d in diags) or len(cfg.frontends) != 1:
        return None
    return _without_spans(cfg.frontends[0])


def parse_condition(text: str) -> ir.Condition | None:
    fe = parse_frontend_lines([f"deny if {text}"])
    return fe.rules[0].condition if fe is not None and len(fe.rules) == 1 else None


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:~-]*")


def parse_name(text: str) -> str | None:
    """A name written with ``name_text`` (bare or quoted), or None."""
    if _PLAIN_NAME.fullmatch(text) and text not in _keywords():
        return text  # the common case, without a parse
    fe = parse_frontend_lines([f"use {text}"])
    if fe is None or len(fe.rules) != 1 or not isinstance(fe.rules[0].action, ir.UseUpstream):
        return None
    return fe.rules[0].action.upstream


@cache
def _keywords() -> frozenset[str]:
    from .pxc.writer import _lexicon

    return _lexicon()[1]


def _without_spans(node: ir.Frontend) -> ir.Frontend:
    """Spans would point into a made-up text; the caller gives the nodes the comment's place."""
    for item in ir.iter_nodes(node):
        item.span = None
    return node


def name_comment(kind: str, name: str) -> str:
    """``proxyc: <kind> <name>``: the IR name of what the next directive writes, for targets
    whose syntax has no place for it (an nginx server block, an upstream's server line)."""
    return comment(f"{kind} {name_text(name)}")


def take_name(comments: list[str], kind: str) -> tuple[str | None, list[str]]:
    """The name a ``proxyc: <kind> NAME`` comment gives (the last one, if repeated), and the
    comments without the provenance ones (they describe the output, not the IR)."""
    if not comments:  # nearly always: the node shares the IR's empty comments
        return None, NO_COMMENTS
    name, kept = None, []
    for text in comments:
        said = payload(text)
        if said is None:
            kept.append(text)
        elif said.startswith(kind + " "):
            name = parse_name(said[len(kind) + 1:]) or name
    return name, kept


def strip(comments: list[str]) -> list[str]:
    """``comments`` without provenance comments."""
    return [text for text in comments if payload(text) is None]
