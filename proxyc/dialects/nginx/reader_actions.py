"""What one nginx location (or server) does with a request, as IR actions and rules.

nginx runs, per request: the server-level rewrite phase (``rewrite``/``return`` in ``server``),
location selection, the location's rewrite phase (its ``rewrite``/``return``, in order), the
access phase (``allow``/``deny``, first match wins) and the content phase (``proxy_pass``,
``stub_status``, or files). A ``return`` therefore wins over ``deny`` in the same location, and
the first matching ``allow``/``deny`` ends the access check.
"""
from __future__ import annotations

import re

from ... import ir
from .quoting import restore_dollars
from .reader_conditions import Condition, all_of, negate
from .reader_ledger import Ledger
from .reader_payload import Stmt

REDIRECT_CODES = (301, 302, 303, 307, 308)
NGINX_DEFAULT_TYPE = "text/plain"

# Placeholders for content the IR cannot hold; the directive that serves it is reported.
STATIC_STATUS = 404  # files (root, alias, try_files, index)
HANDLER_STATUS = 502  # fastcgi_pass, uwsgi_pass, proxy_pass through variables, ...

# A rewrite regex that matches every URI, and how its captures relate to the original URI.
_MATCH_ALL = ("^", "^.*$", ".*", "^(.*)$", "(.*)", "^(.*)", "^/(.*)$", "^/(.*)", "^/?(.*)$")
_CAPTURE_IS_URI = {"^(.*)$": "$1", "(.*)": "$1", "^(.*)": "$1", "^/(.*)$": "/$1", "^/(.*)": "/$1"}
_URL = re.compile(r"^(https?)://(\$\w+|[^/$?#]+)(.*)$")  # scheme, host (a variable or literal), rest


# ------------------------------------------------------------------------------ redirects


def redirect_target(url: str, code: int, span: ir.Span, server_name: str | None = None, *,
                    rewrite: bool = False) -> ir.Redirect | None:
    """A redirect URL as nginx writes it → an IR redirect, or None when it depends on
    variables the IR cannot express.

    ``https://$host$request_uri`` keeps host and URI: a scheme redirect. ``https://x$request_uri``
    puts a fixed prefix before the original URI. A URL without variables is a fixed location."""
    # In a rewrite, a trailing "?" only stops nginx appending the arguments; `return` is literal.
    text = url.removesuffix("?") if rewrite else url
    if "$" not in text:
        return ir.Redirect(code=code, location=text, span=span)
    for uri in ("$request_uri", "$uri$is_args$args"):
        before = text.removesuffix(uri)
        if before != text and "$" not in before:  # any fixed text before the URI: a prefix ("" is none)
            return ir.Redirect(code=code, prefix=before or "/", span=span)
    m = _URL.match(text)
    if m is None:
        return None
    scheme, host, rest = m.groups()
    if rest not in ("$request_uri", "$uri$is_args$args"):
        return None
    if host in ("$host", "$http_host"):
        return ir.Redirect(code=code, scheme=scheme, span=span)
    if host == "$server_name" and server_name:
        host = server_name
    if "$" in host:
        return None
    return ir.Redirect(code=code, prefix=f"{scheme}://{host}", span=span)


def return_action(stmt: Stmt, ledger: Ledger, *, content_type: str, server_name: str | None) -> ir.models.Action | None:
    """``return code [text]``, ``return code URL``, ``return URL``."""
    args = stmt.args
    if not 1 <= len(args) <= 2:
        ledger.invalid(stmt, 'invalid number of arguments in "return" directive')
        return None
    if len(args) == 1 and not args[0].isdigit():
        code, value = 302, args[0]
        if not value.startswith(("http://", "https://", "$scheme")):
            ledger.invalid(stmt, f'invalid return code "{value}"')
            return None
    elif args[0].isdigit() and 0 <= int(args[0]) <= 999:
        code, value = int(args[0]), (args[1] if len(args) > 1 else None)
    else:
        ledger.invalid(stmt, f'invalid return code "{args[0]}"')
        return None
    literal = stmt.literal(len(args) - 1)  # the text with the writer's "$" read back, if that is all it uses
    if code in REDIRECT_CODES and value is not None:
        if literal is not None:
            ledger.converted(stmt)
            return ir.Redirect(code=code, location=literal, span=stmt.span)
        prefix = _literal_prefix(stmt, value)
        if prefix is not None:
            ledger.converted(stmt)
            return ir.Redirect(code=code, prefix=prefix or "/", span=stmt.span)
        return _redirect_or_report(stmt, ledger, value, code, server_name)
    ledger.converted(stmt)
    if value is None and 400 <= code <= 599 and code != 444:
        return ir.Deny(status=code, span=stmt.span)  # no text: nginx answers with its own error page
    if code == 444:
        ledger.lossy(stmt, "return 444 closes the connection without a response; imported as status 444")
    if literal is not None:
        value = literal
    elif value is not None and "$" in value:
        ledger.lossy(stmt, "the response text uses nginx variables; imported literally")
    return ir.Return(status=code, body=value or "", content_type=content_type, span=stmt.span)


def _literal_prefix(stmt: Stmt, value: str) -> str | None:
    """The prefix of ``<prefix>$request_uri`` whose "$" signs the writer spelled with its dollar
    variable (``redirect_target`` takes the ones without any)."""
    before = value.removesuffix("$request_uri")
    if before == value or not stmt.dollar_defined or "$" not in before:
        return None
    return restore_dollars(before)


def _redirect_or_report(stmt: Stmt, ledger: Ledger, url: str, code: int, server_name: str | None):
    redirect = redirect_target(url, code, stmt.span, server_name)
    if redirect is None:
        ledger.unsupported(stmt, f"redirect to {url} uses variables the IR cannot express; "
                           f"imported as a bare {code} without a Location")
        return ir.Return(status=code, span=stmt.span)
    ledger.converted(stmt)
    return redirect


def rewrite_rule(stmt: Stmt, ledger: Ledger, condition: Condition | None,
                 server_name: str | None) -> ir.Rule | None:
    """``rewrite regex replacement [flag]`` that redirects → a rule; internal rewrites are
    reported (they change the URI and restart location selection, which the IR does not model).
    A redirect whose regex matches every URI ends the request like ``return`` (see
    ``rewrite_always_redirects``)."""
    if not 2 <= len(stmt.args) <= 3:
        ledger.invalid(stmt, 'invalid number of arguments in "rewrite" directive')
        return None
    regex, replacement = stmt.args[0], stmt.args[1]
    flag = stmt.args[2] if len(stmt.args) == 3 else None
    if flag not in (None, "last", "break", "redirect", "permanent"):
        ledger.invalid(stmt, f'invalid parameter "{flag}"')
        return None
    absolute = replacement.startswith(("http://", "https://", "$scheme"))
    if flag not in ("redirect", "permanent") and not absolute:
        ledger.unsupported(stmt, "rewrite that changes the URI internally is not imported",
                           hint="only rewrites that redirect (redirect, permanent or an absolute URL) are")
        return None
    code = 301 if flag == "permanent" else 302
    target = _rewrite_target(regex, replacement)
    redirect = redirect_target(target, code, stmt.span, server_name, rewrite=True) if target is not None else None
    if redirect is None:
        ledger.unsupported(stmt, f"rewrite to {replacement} uses captures or variables the IR cannot express")
        return None
    ledger.converted(stmt)
    if redirect.location is not None and not replacement.endswith("?"):
        ledger.lossy(stmt, "nginx appends the query string to this redirect; the IR redirect keeps it off",
                     severity="info")
    matches = None if regex in _MATCH_ALL else ir.PathMatch(op="regex", values=[regex], span=stmt.span)
    return ir.Rule(condition=all_of(condition, matches), action=redirect, span=stmt.span)


def rewrite_always_redirects(stmt: Stmt) -> bool:
    return bool(stmt.args) and stmt.args[0] in _MATCH_ALL


def _rewrite_target(regex: str, replacement: str) -> str | None:
    """The replacement with ``$1`` read as the original URI where the regex makes it one."""
    if not re.search(r"\$\d", replacement):
        return replacement
    capture = _CAPTURE_IS_URI.get(regex)
    if capture is None or not replacement.endswith(capture) or re.search(r"\$\d", replacement[: -len(capture)]):
        return None
    return replacement[: -len(capture)] + "$request_uri"


# ------------------------------------------------------------------------------ access


def access_rules(stmts: list[Stmt], ledger: Ledger, condition: Condition | None) -> tuple[list[ir.Rule], bool]:
    """``allow``/``deny`` in order → deny rules guarded by "not" the allows before them.
    Returns the rules and whether they deny every request (``deny all`` with no allow before:
    the content after it is unreachable)."""
    rules: list[ir.Rule] = []
    allowed: list[str] = []
    for stmt in stmts:
        if stmt.args[0].startswith("unix:"):  # nginx checks the arguments when it collects them
            ledger.unsupported(stmt, f"{stmt.name} {stmt.args[0]} (UNIX-socket clients) is not imported")
            continue
        source = stmt.args[0]
        if stmt.name == "allow":
            if source == "all":
                return rules, False  # every later entry is unreachable
            allowed.append(source)
            continue
        not_allowed = negate(ir.SourceMatch(values=list(allowed), span=stmt.span)) if allowed else None
        matches = None if source == "all" else ir.SourceMatch(values=[source], span=stmt.span)
        rule_condition = all_of(condition, not_allowed, matches)
        rules.append(ir.Rule(condition=rule_condition, action=ir.Deny(status=403, span=stmt.span), span=stmt.span))
        if source == "all":
            return rules, not allowed
    return rules, False


def placeholder(status: int, span: ir.Span | None) -> ir.Return:
    """The action of a route whose content the IR cannot hold (the cause is reported)."""
    return ir.Return(status=status, span=span)
