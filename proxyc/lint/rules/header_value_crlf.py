from __future__ import annotations

from ... import ir
from ..registry import Rule

_LINE_BREAKS = ("\r", "\n")
# Fields that end up in a header line: a line break there starts a new header (or body).
_HEADER_FIELDS = {
    ir.HeaderOp: ("name", "value"),
    ir.Redirect: ("location", "prefix", "scheme"),
    ir.Return: ("content_type",),
    ir.HttpCheck: ("host", "path", "method"),
}
_WHAT = {ir.HeaderOp: "header", ir.Redirect: "redirect", ir.Return: "return", ir.HttpCheck: "health check"}


class HeaderValueCrlf(Rule):
    """## What it does
    Checks for a carriage return or line feed in text that becomes part of an HTTP header:
    header names and values, redirect targets, a response's content type, and health-check
    request fields.

    ## Why is this bad?
    A line break ends the header line: what follows becomes another header or the start of
    the body (header injection, response splitting). In a config file it can also end the
    directive and let the rest of the value be read as configuration.

    ## Example
    ```
    frontend web {
        listen :80
        response_header set X-Note "a\\r\\nSet-Cookie: admin=1"
        default app
    }
    ```

    ## Use instead
    ```
    frontend web {
        listen :80
        response_header set X-Note "a"
        default app
    }
    ```
    """

    code = "X003"
    name = "header-value-crlf"
    severity = "error"

    def check(self, ctx):
        for node in _header_nodes(ctx):
            for field in _HEADER_FIELDS[type(node)]:
                value = getattr(node, field)
                if isinstance(value, str) and any(ch in value for ch in _LINE_BREAKS):
                    what = _WHAT[type(node)]
                    yield self.finding(node, f"{what} {field} {value!r} contains a line break",
                                       hint="a CR or LF in a header lets the value inject other headers")


def _header_nodes(ctx):
    """The nodes whose text goes into HTTP headers (cheaper than walking the whole tree)."""
    for fe in ctx.config.frontends:
        yield from fe.request_headers
        yield from fe.response_headers
        for action in ctx.actions(fe):
            if isinstance(action, (ir.Redirect, ir.Return)):
                yield action
    for up in ctx.config.upstreams:
        if up.health is not None and up.health.http is not None:
            yield up.health.http
