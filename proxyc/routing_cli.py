"""``proxyc route``: print where one request goes, for any input format."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import click

METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}


def parse_request_args(words: tuple[str, ...]) -> tuple[str, str, str | None, int | None, bool]:
    """``[METHOD] URL`` → (method, path?query, host, port, tls). The URL may be a path or a full
    ``http(s)://host:port/path`` URL."""
    if len(words) == 2 and words[0].upper() in METHODS:
        method, url = words[0].upper(), words[1]
    elif len(words) == 1:
        method, url = "GET", words[0]
    else:
        raise click.UsageError("expected [METHOD] URL")
    if "://" not in url:
        return method, url, None, None, False
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError as exc:
        raise click.UsageError(f"bad URL {url!r}: {exc}") from None
    host = parts.netloc.rsplit("@", 1)[-1]
    return method, path, host, port, tls


def run_route(file, request_words, header_args, src, frontend, tls_flag, fmt, out_format) -> int:
    from .cli import _echo_diagnostics, _fails
    from .loading import load_file
    from .routing import Request, RoutingError, route

    cfg, diags, text, fmt = load_file(file, fmt)
    if cfg is None or _fails(diags, False):
        _echo_diagnostics(diags, {file: text or ""})
        return 2
    method, url, host, port, tls = parse_request_args(tuple(request_words))
    headers = {}
    for raw in header_args:
        name, sep, value = raw.partition(":")
        if not sep:
            raise click.UsageError(f"header {raw!r} must be 'Name: value'")
        headers[name.strip()] = value.strip()
    if host and not any(k.lower() == "host" for k in headers):
        headers["Host"] = host
    if port is None and frontend is None and any(l.port == 80 for fe in cfg.frontends for l in fe.listens):
        port = 80  # a bare path means what curl means: http on port 80
    request = Request(method=method, url=url, headers=headers, src=src, port=port, tls=tls or tls_flag)
    try:
        decision = route(cfg, request, frontend=frontend, target=fmt if fmt in ("nginx", "haproxy") else None)
    except RoutingError as exc:
        click.echo(f"proxyc: {exc}", err=True)
        return 2
    if out_format == "json":
        click.echo(json.dumps(_as_json(decision), indent=2))
    else:
        click.echo(_as_text(decision))
    return 0


def _span_text(span) -> str | None:
    return str(span) if span is not None else None


def _as_json(d) -> dict:
    return {
        "frontend": d.frontend,
        "rule_index": d.rule_index,
        "span": _span_text(d.span),
        "action": d.action.type if d.action is not None else None,
        "upstream": d.upstream.name if d.upstream is not None else None,
        "servers": [
            {"name": s.name, "host": s.host, "port": s.port, "weight": s.weight, "backup": s.backup}
            for s in d.servers
        ],
        "status": d.status,
        "location": d.location,
        "trace": list(d.trace),
    }


def _as_text(d) -> str:
    lines = [f"frontend  {d.frontend}"]
    if d.rule_index is not None:
        lines.append(f"rule      #{d.rule_index + 1} at {_span_text(d.span)}")
    elif d.span is not None:
        lines.append(f"decided   at {_span_text(d.span)}")
    if d.upstream is not None:
        lines.append(f"upstream  {d.upstream.name} ({d.upstream.balance.algorithm})")
        for s in d.servers:
            port = f":{s.port}" if s.port else ""
            marks = " backup" if s.backup else ""
            lines.append(f"  server  {s.name} {s.host}{port} weight {s.weight}{marks}")
    if d.status is not None:
        lines.append(f"status    {d.status}" + (f" -> {d.location}" if d.location else ""))
    return "\n".join(lines)
