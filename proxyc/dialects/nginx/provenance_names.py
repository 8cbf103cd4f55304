"""Names nginx has no place for, carried as ``# proxyc:`` comments (see
``proxyc/dialects/provenance.py``): a resolver's name, its nameservers' names and its retries
(nginx's ``resolver`` directive has none of them), an upstream's name when the writer had
to give its ``upstream {}`` group another one, and a DNS server's name and count (nginx uses
every address the name resolves to: the writer's P001).

None of them changes what nginx does, so there is nothing in the directives to check them
against beyond their shape: a name is taken only when the IR can hold it and nobody has it, an
upstream's only when the group's name is the one the writer derives from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ... import ir
from ...validate import NAME
from .. import provenance
from .quoting import comment_safe
from .writer_out import COMMENT_BYTES

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\S+')


@dataclass
class ResolverSaid:
    name: str
    nameservers: list[str] | None  # None: ns1, ns2, ... (the reader's own names)
    retries: int | None


def resolver_comment(name: str, nameservers: list[str], retries: int | None) -> str | None:
    """``proxyc: resolver NAME [nameservers N1 N2 ...] [retries N]``: the nameservers' names
    only when they are not the reader's own (ns1, ns2, ...). None when a comment line cannot
    hold it as it is (a line break or an invisible character would change what it says)."""
    words = ["resolver", provenance.name_text(name)]
    if nameservers != [f"ns{i}" for i in range(1, len(nameservers) + 1)]:
        words += ["nameservers", *map(provenance.name_text, nameservers)]
    if retries is not None:
        words += ["retries", str(retries)]
    text = provenance.comment(" ".join(words))
    return text if comment_safe(text) == text and len(text.encode()) < COMMENT_BYTES - 2 else None


def resolver_said(comments: list[str]) -> ResolverSaid | None:
    """What a ``proxyc: resolver`` comment says, or None (none, or not in that shape)."""
    for text in comments:
        said = provenance.payload(text)
        if said is None or not said.startswith("resolver "):
            continue
        tokens = _TOKEN.findall(said)[1:]
        name = provenance.parse_name(tokens[0]) if tokens else None
        if name is None:
            return None
        nameservers, retries, rest = None, None, tokens[1:]
        while rest:
            if rest[0] == "nameservers":
                names = []
                for token in rest[1:]:
                    if token in ("retries", "nameservers"):
                        break
                    names.append(provenance.parse_name(token))
                if not names or None in names:
                    return None
                nameservers, rest = names, rest[1 + len(names):]
            elif rest[0] == "retries" and len(rest) > 1 and rest[1].isdigit():
                retries, rest = int(rest[1]), rest[2:]
            else:
                return None
        return ResolverSaid(name, nameservers, retries)
    return None


def usable_names(names: list[str] | None, count: int) -> list[str] | None:
    """``names`` when they can name ``count`` nameservers of one resolver: valid, distinct."""
    if names is None or len(names) != count or len(set(names)) != count:
        return None
    return names if all(NAME.fullmatch(name) for name in names) else None


def renamed_from(group: str, comments: list[str]) -> str | None:
    """The IR name a ``proxyc: upstream NAME`` comment gives an ``upstream {}`` group, when the
    writer would have given that upstream exactly this group name (it renames only names nginx
    cannot write as a group: ``pxc_`` and the name in variable characters, a number if taken)."""
    if not comments:
        return None  # nearly every group: no work (a 10,000-upstream file reads as fast as before)
    from .writer_upstreams import UPSTREAM_NAME_CHARS, variable_suffix

    said, _ = provenance.take_name(comments, "upstream")
    if said is None or not NAME.fullmatch(said) or set(said) <= UPSTREAM_NAME_CHARS:
        return None
    base = "pxc_" + variable_suffix(said)
    return said if re.fullmatch(re.escape(base) + r"(?:_[2-9]|_[1-9]\d+)?", group) else None


def server_comments(server: ir.Server, index: int) -> list[str]:
    """Above a server's line or DNS entry: its name when it is not the reader's own (s<index>),
    its count when it has one (``proxyc: count N``; nginx uses every address a name has)."""
    out = [provenance.name_comment("server", server.name)] if server.name != f"s{index}" else []
    if server.count is not None:
        out.append(provenance.comment(f"count {server.count}"))
    return out


def count_said(comments: list[str]) -> int | None:
    """The count a ``proxyc: count N`` comment gives (N a positive number), or None."""
    for text in comments:
        said = (provenance.payload(text) or "").split(" ")
        if len(said) == 2 and said[0] == "count" and said[1].isdigit() and int(said[1]) > 0:
            return int(said[1])
    return None
