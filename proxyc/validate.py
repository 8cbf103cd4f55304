"""Semantic checks that make an IR invalid, whatever the target (codes V1xx).

These are errors, not opinions: an IR that fails them cannot be compiled. Opinions (unused
upstreams, missing health checks, shadowed rules) are lint rules in ``proxyc/lint``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from . import ir
from .dialects.common import PLAIN_IPV4, parse_address
from .diagnostics import Diagnostic, did_you_mean

# Names end up as nginx upstream names, HAProxy backend/server/ACL names and map values.
# \Z, not $: "$" also matches before a final newline, and these guard what writers emit.
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:~-]*\Z")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")  # RFC 9110 token
HTTP_ONLY_MATCHERS = (ir.PathMatch, ir.HostMatch, ir.MethodMatch, ir.HeaderMatch)
# Regex syntax Python's re accepts and PCRE refuses: \u/\U/\N{...} escapes and the a/L/u flags.
_PYTHON_ONLY_REGEX = re.compile(r"(?<!\\)(?:\\\\)*\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|N\{[^}]*\})|\(\?[aiLmsux]*[aLu][aiLmsux]*[:)]")
MAX_CONDITION_DEPTH = 64  # far beyond any real config; keeps every recursive walk safe


def validate(cfg: ir.Config, *, strings: bool = True) -> list[Diagnostic]:
    """Every problem that makes ``cfg`` invalid. ``strings=False`` skips the scan for NUL
    characters, for IRs read from text that was already checked for them."""
    out: list[Diagnostic] = []
    out += _duplicates(cfg.frontends, "frontend")
    out += _duplicates(cfg.upstreams, "upstream")
    out += _duplicates(cfg.resolvers, "resolvers section")
    resolvers = {r.name for r in cfg.resolvers}
    upstreams = {u.name: u for u in cfg.upstreams}
    used_modes: dict[str, set[str]] = {}

    for fe in cfg.frontends:
        mode = fe.mode or cfg.defaults.mode
        out += _check_name(fe, fe.name, "frontend")
        out += _duplicates(fe.acls, f"ACL in frontend {fe.name}")
        acl_names = {a.name for a in fe.acls}
        for acl in fe.acls:
            out += _check_name(acl, acl.name, "ACL")
            out += _check_condition(acl.condition, acl_names, mode)
        for rule in fe.rules:
            if rule.condition is not None:
                out += _check_condition(rule.condition, acl_names, mode)
            out += _check_action(rule.action, upstreams, mode, used_modes)
        if fe.default is not None:
            out += _check_action(fe.default, upstreams, mode, used_modes)
        for op in [*fe.request_headers, *fe.response_headers]:
            out += _check_header(op)
        for listen in fe.listens:
            if listen.address is not None:
                out += _check_host(listen, listen.address)
        out += _check_timeouts(fe, fe.timeouts)
        if mode == "tcp" and (fe.stats or fe.request_headers or fe.response_headers):
            out.append(Diagnostic.at(fe.span, "V105", f"frontend {fe.name} is in tcp mode: stats and headers need http"))

    for up in cfg.upstreams:
        out += _check_name(up, up.name, "upstream")
        out += _duplicates(up.servers, f"server in upstream {up.name}")
        for srv in up.servers:  # the common case (a plain name and address) costs two matches
            if not NAME.fullmatch(srv.name):
                out += _check_name(srv, srv.name, "server")
            if not PLAIN_IPV4.fullmatch(srv.host):
                out += _check_host(srv, srv.host)
        out += _check_timeouts(up, up.timeouts)
        if up.resolver and up.resolver not in resolvers:
            out.append(Diagnostic.at(up.span, "V104", f"unknown resolvers section {up.resolver!r}",
                                     hint=did_you_mean(up.resolver, resolvers)))
        modes = used_modes.get(up.name, set())
        if up.mode:
            modes = modes | {up.mode}
        if len(modes) > 1:
            out.append(Diagnostic.at(up.span, "V106", f"upstream {up.name} is used by both http and tcp frontends"))
    out += _check_timeouts(cfg.defaults, cfg.defaults.timeouts)
    for res in cfg.resolvers:
        if not res.nameservers:
            out.append(Diagnostic.at(res.span, "V115", f"resolvers {res.name} has no nameserver",
                                     hint="nameserver dns 127.0.0.11:53"))
        for ns in res.nameservers:
            out += _check_host(ns, ns.address)
    for log in cfg.logs:
        if log.address is not None:  # written host[:port], IPv6 in brackets
            problem = parse_address(log.address)[2]
            if problem:
                out.append(Diagnostic.at(log.span, "V117", problem))
        for word in (log.facility, log.level):
            if word is not None and not re.fullmatch(r"[a-z0-9]+", word):
                out.append(Diagnostic.at(log.span, "V116", f"log facility/level {word!r} is not a word",
                                         hint="e.g. local0 info"))
    for node, name in ir.walk.nul_fields(cfg) if strings else ():
        out.append(Diagnostic.at(node.span, "V113", f"{type(node).__name__}.{name} contains a NUL character",
                                 hint="no nginx, HAProxy or .pxc file can hold one"))
    return out


def _duplicates(nodes: Iterable, what: str) -> list[Diagnostic]:
    seen: dict[str, object] = {}
    out = []
    for node in nodes:
        first = seen.setdefault(node.name, node)
        if first is not node:
            where = f" (first defined at line {first.span.line})" if first.span else ""
            out.append(Diagnostic.at(node.span, "V103", f"duplicate {what} name {node.name!r}{where}"))
    return out


def _check_name(node: ir.Node, name: str, what: str) -> list[Diagnostic]:
    if NAME.fullmatch(name):  # fullmatch: "$" alone would accept a final newline
        return []
    return [Diagnostic.at(node.span, "V107", f"{what} name {name!r} has characters that are not allowed",
                          hint="use letters, digits and _ . : ~ - (starting with a letter, digit or _)")]


def condition_depth(cond) -> int:
    """Nesting depth of a condition, without recursion (the input may be hostile)."""
    deepest, stack = 0, [(cond, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_CONDITION_DEPTH:
            break
        children = [node.item] if isinstance(node, ir.Not) else getattr(node, "items", None) or []
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_condition(cond, acl_names: set[str], mode: str) -> list[Diagnostic]:
    if condition_depth(cond) > MAX_CONDITION_DEPTH:
        return [Diagnostic.at(cond.span, "V114", f"condition nested more than {MAX_CONDITION_DEPTH} levels deep",
                              hint="name parts of it as ACLs")]
    out = []
    for node in ir.iter_nodes(cond):
        if isinstance(node, ir.AclRef) and node.name not in acl_names:
            out.append(Diagnostic.at(node.span, "V102", f"unknown ACL {node.name!r}",
                                     hint=did_you_mean(node.name, acl_names)))
        elif mode == "tcp" and isinstance(node, HTTP_ONLY_MATCHERS):
            out.append(Diagnostic.at(node.span, "V105", f"{node.type} matcher in a tcp-mode frontend",
                                     hint="tcp frontends can only match source and tls"))
        elif isinstance(node, (ir.PathMatch, ir.HostMatch, ir.HeaderMatch)) and getattr(node, "op", "") == "regex":
            for value in node.values:
                try:
                    re.compile(value)
                except re.error as exc:
                    out.append(Diagnostic.at(node.span, "V108", f"invalid regex {value!r}: {exc}"))
                    continue
                python_only = _PYTHON_ONLY_REGEX.search(value)
                if python_only:
                    out.append(Diagnostic.at(node.span, "V108", f"regex {value!r} uses {python_only.group()!r}, which "
                                             "Python accepts but PCRE (nginx, HAProxy) does not",
                                             hint="write the character itself, or \\x{...}-free ASCII escapes"))
        elif isinstance(node, ir.HeaderMatch) and not HEADER_NAME.match(node.name):
            out.append(Diagnostic.at(node.span, "V109", f"invalid header name {node.name!r}"))
        elif isinstance(node, ir.SourceMatch):
            out += _check_cidrs(node)
    return out


def _check_host(node: ir.Node, host: str) -> list[Diagnostic]:
    """A host name or address as every target can write it (no spaces, quotes, ``$``, ...)."""
    shown = f"[{host}]" if ":" in host else host
    _, _, problem = parse_address(shown)
    if problem:
        return [Diagnostic.at(node.span, "V117", problem)]
    return []


def _check_timeouts(node: ir.Node, timeouts: ir.Timeouts) -> list[Diagnostic]:
    out = []
    for key in type(timeouts).model_fields:
        value = getattr(timeouts, key)
        if key not in ("span", "comments") and value == 0:
            out.append(Diagnostic.at(timeouts.span or node.span, "V118", f"timeout {key} is 0",
                                     hint="HAProxy reads 0 as 'no timeout' and nginx as 'immediately': write a real duration"))
    return out


def _check_cidrs(node: ir.SourceMatch) -> list[Diagnostic]:
    import ipaddress

    out = []
    for value in node.values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            out.append(Diagnostic.at(node.span, "V111", f"{value!r} is not an address or CIDR"))
    return out


def _check_action(action, upstreams: dict, mode: str, used_modes: dict) -> list[Diagnostic]:
    if isinstance(action, ir.UseUpstream):
        if action.upstream not in upstreams:
            return [Diagnostic.at(action.span, "V101", f"unknown upstream {action.upstream!r}",
                                  hint=did_you_mean(action.upstream, upstreams))]
        used_modes.setdefault(action.upstream, set()).add(mode)
        return []
    if mode == "tcp" and not isinstance(action, ir.Deny):
        return [Diagnostic.at(action.span, "V105", f"{action.type} needs an http-mode frontend")]
    if isinstance(action, ir.Redirect):
        targets = [t for t in (action.location, action.scheme, action.prefix) if t is not None]
        if len(targets) != 1:
            return [Diagnostic.at(action.span, "V112", "a redirect needs exactly one of location, scheme or prefix")]
        if action.scheme is not None and action.scheme not in ("http", "https"):
            return [Diagnostic.at(action.span, "V112", f"redirect scheme must be http or https, got {action.scheme!r}")]
    return []


def _check_header(op: ir.HeaderOp) -> list[Diagnostic]:
    out = []
    if not HEADER_NAME.match(op.name):
        out.append(Diagnostic.at(op.span, "V109", f"invalid header name {op.name!r}"))
    if op.value is not None and any(ch in op.value for ch in "\r\n\0"):
        out.append(Diagnostic.at(op.span, "V109", f"header {op.name} value contains a line break or NUL",
                                 hint="a CR or LF in a header value would let it inject other headers"))
    return out
