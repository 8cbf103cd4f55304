"""``resolvers`` sections → ``ir.Resolver``.

The IR models the nameservers, ``hold valid``, ``timeout retry`` and ``resolve_retries``. A
resolver has no raw escape hatch (the section would be written twice), so other lines are
reported and not imported. A section without a nameserver the IR can hold (one that takes its
nameservers from ``parse-resolv-conf``) is not a resolver in the IR: the caller keeps it raw.
"""
from __future__ import annotations

from ... import ir
from ..common import parse_address
from .lexer import Line, Section
from .reader_base import Malformed, ReadContext, Unconvertible, comment_texts

DNS_PORT = 53


def takes_nameservers_elsewhere(ctx: ReadContext, section: Section) -> bool:
    """Whether the section's nameservers are none the IR can hold: it reads them from
    /etc/resolv.conf, or names them in ways the IR has no place for."""
    nameservers = [line for line in section.lines if line.words[0].text == "nameserver"]
    for line in nameservers:
        try:
            if len(line.words) == 3:
                _nameserver(ctx, line)
                return False
        except Unconvertible:
            continue
    return bool(nameservers) or any(line.words[0].text == "parse-resolv-conf" for line in section.lines)


def read_resolvers(ctx: ReadContext, section: Section) -> ir.Resolver | None:
    if not section.args:
        ctx.report_lines([section.header, *section.lines], "resolvers without a name; HAProxy rejects it",
                         severity="error", code="E204")
        return None
    ctx.converted(section.header)
    name = section.args[0]
    resolver = ir.Resolver(name=name.text, nameservers=[], span=ctx.span(name),
                           comments=comment_texts(section.leading_comments))
    for line in section.lines:
        try:
            _read_line(ctx, resolver, line)
        except Unconvertible as exc:
            ctx.report_unconvertible(line, exc, "; not imported")
        else:
            ctx.converted(line)
    return resolver


def _read_line(ctx: ReadContext, resolver: ir.Resolver, line: Line) -> None:
    words = [w.text for w in line.words]
    if words[0] == "nameserver":
        if len(words) != 3:
            raise Malformed("E206", "nameserver needs a name and an address", line.words[0])
        resolver.nameservers.append(_nameserver(ctx, line))
    elif words[:2] == ["hold", "valid"] and len(words) == 3:
        resolver.hold_valid = _duration(line, 2)
    elif words[:2] == ["timeout", "retry"] and len(words) == 3:
        resolver.timeout = _duration(line, 2)
    elif words[0] == "resolve_retries" and len(words) == 2:
        if not words[1].isdigit() or int(words[1]) < 1:
            raise Malformed("E206", f"resolve_retries needs a positive number, got {words[1]!r}", line.words[1])
        resolver.retries = int(words[1])
    elif words[0] == "parse-resolv-conf":
        raise Unconvertible("nameservers taken from /etc/resolv.conf are not modelled", line.words[0])
    else:
        subject = " ".join(words[:2]) if words[0] in ("hold", "timeout") else words[0]
        raise Unconvertible(f"{subject!r} in resolvers is not modelled", line.words[0], "info")


def _nameserver(ctx: ReadContext, line: Line) -> ir.Nameserver:
    address = line.words[2]
    text = address.text
    if text.startswith(("tcp@", "tcp4@", "tcp6@")):
        raise Unconvertible("DNS over TCP is not modelled", address)
    for prefix in ("udp@", "udp4@", "udp6@", "ipv4@", "ipv6@"):
        text = text.removeprefix(prefix)
    if text.count(":") > 1 and not text.startswith("["):
        host_part, _, port_part = text.rpartition(":")
        text = f"[{host_part}]:{port_part}"
    host, port, problem = parse_address(text)
    if problem:
        raise Malformed("E206", problem, address)
    return ir.Nameserver(name=line.words[1].text, address=host, port=port or DNS_PORT, span=ctx.span(line.words[1]))


def _duration(line: Line, index: int) -> int:
    word = line.words[index]
    ms = ir.parse_duration(word.text)
    if ms is None:
        raise Malformed("E206", f"{word.text!r} is not a duration", word)
    return ms
