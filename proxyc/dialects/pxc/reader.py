"""Reads .pxc source into the IR.

The LALR parser runs with an inline transformer (no parse tree is built): each grammar rule
becomes an IR node as soon as it is reduced. Inline transformers get no ``meta``, so spans come
from the tokens themselves. Values (numbers, durations, addresses, algorithms) are plain words
in the grammar and checked here, where a precise message and a "did you mean" hint are possible.
"""
from __future__ import annotations

import bisect
import threading
from functools import lru_cache

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ... import ir
from ...diagnostics import Diagnostic, Diagnostics, ProxycError, did_you_mean
from ...perf import paused_gc
from ...grammar_file import grammar_text
from ..common import ALGORITHMS, parse_address, parse_listen_address
from .fastpath import read_fast

TIMEOUT_KEYS = ("connect", "client", "server", "http_request", "queue", "tunnel", "check")
FRONTEND_TIMEOUTS = ("client", "http_request")
UPSTREAM_TIMEOUTS = ("connect", "server", "queue", "tunnel", "check")
HASH_KEYS = ("uri", "header", "cookie", "param")
MODES = ("http", "tcp")
RAW_CONTEXTS = {"nginx": ("main", "http", "stream"), "haproxy": ("global", "defaults", "sections")}


def unquote(text: str) -> str:
    first = text[:1]
    if first != "'" and first != '"':
        return str(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        out, i, body = [], 0, text[1:-1]
        escapes = {"n": "\n", "t": "\t", "r": "\r"}  # no \0: no target can hold a NUL
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                out.append(escapes.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)
    return str(text)


class _Builder(Transformer):
    """Grammar rules → IR nodes. One instance serves every parse; ``reset`` sets the file."""

    def reset(self, filename: str | None) -> None:
        self.file = filename
        self.diags = Diagnostics()
        self.comments: list[Token] = []

    # -- helpers --------------------------------------------------------------------------
    def span(self, tok) -> ir.Span | None:
        if isinstance(tok, Token) and tok.line is not None:
            return ir.Span(file=self.file, line=tok.line, col=tok.column)
        if isinstance(tok, ir.Node):
            return tok.span
        return None

    def err(self, tok, code: str, message: str, hint: str | None = None) -> None:
        d = Diagnostic.at(self.span(tok), code, message, severity="error", hint=hint)
        if isinstance(tok, Token) and tok.end_column and tok.line == tok.end_line:
            d.end_col = tok.end_column
        self.diags.add(d)

    def int_(self, tok, what: str, lo: int, hi: int) -> int | None:
        text = unquote(tok)
        if not (text.isascii() and text.isdigit()):
            self.err(tok, "E003", f"{what} must be a number, got {text!r}")
            return None
        value = int(text)
        if not lo <= value <= hi:
            self.err(tok, "E003", f"{what} {value} is out of range ({lo}..{hi})")
            return None
        return value

    def duration(self, tok, what: str) -> int | None:
        text = unquote(tok)
        # A unit is required: "5" could mean 5 ms (HAProxy) or 5 s (nginx).
        ms = ir.parse_duration(text) if text.isascii() and not text.isdigit() else None
        if ms is None:
            hint = f"write it with a unit, e.g. {text}s" if text.isdigit() else "e.g. 500ms, 5s, 1m, 2h"
            self.err(tok, "E004", f"{what} must be a duration, got {text!r}", hint)
        return ms

    def choice(self, tok, what: str, choices) -> str | None:
        text = unquote(tok)
        if text in choices:
            return text
        self.err(tok, "E005", f"unknown {what} {text!r}", did_you_mean(text, choices) or "expected one of: " + ", ".join(choices))
        return None

    @staticmethod
    def words(children) -> list[Token]:
        return [c for c in children if isinstance(c, Token) and c.type == "WORD"]

    # -- conditions -------------------------------------------------------------------------
    def match_op(self, c):
        return c[0]

    def nocase(self, c):
        return True

    def present(self, c):
        return "present"

    def path_match(self, c):
        op = c[0]
        return ir.PathMatch(op=str(op), values=[unquote(w) for w in self.words(c[1:])],
                            ignore_case=True in c, span=self.span(op))

    def host_match(self, c):
        op = c[0]
        if str(op) == "contains":
            self.err(op, "E005", "host matchers take exact, prefix, suffix or regex")
        # Host names compare case-insensitively; a regex is kept as written (\D is not \d).
        values = [unquote(w) if str(op) == "regex" else unquote(w).lower() for w in self.words(c[1:])]
        return ir.HostMatch(op="exact" if str(op) == "contains" else str(op), values=values, span=self.span(op))

    def method_match(self, c):
        return ir.MethodMatch(values=[unquote(w).upper() for w in c], span=self.span(c[0]))

    def header_match(self, c):
        name, rest = c[0], c[1:]
        if rest and rest[0] == "present":
            return ir.HeaderMatch(name=unquote(name), op="present", span=self.span(name))
        return ir.HeaderMatch(name=unquote(name), op=str(rest[0]), values=[unquote(w) for w in self.words(rest[1:])],
                              ignore_case=True in rest, span=self.span(name))

    def source_match(self, c):
        return ir.SourceMatch(values=[unquote(w) for w in c], span=self.span(c[0]))

    def tls_match(self, c):
        return ir.TlsMatch(span=self.span(c[0]))

    def acl_ref(self, c):
        return ir.AclRef(name=unquote(c[0]), span=self.span(c[0]))

    def not_(self, c):
        return ir.Not(item=c[0], span=c[0].span)

    def and_cond(self, c):
        return ir.All(items=list(c), span=c[0].span)

    def or_cond(self, c):
        return ir.AnyOf(items=list(c), span=c[0].span)

    def guard(self, c):
        kw, cond = c
        return ir.Not(item=cond, span=self.span(kw)) if kw == "unless" else cond

    # -- actions and rules ------------------------------------------------------------------
    def use(self, c):
        return ir.UseUpstream(upstream=unquote(c[0]), span=self.span(c[0]))

    def redirect_target(self, c):
        return (str(c[0]), unquote(c[1]), c[0])

    def redirect(self, c):
        kind, target, tok = c[0]
        code = self.int_(c[1], "redirect code", 301, 308) if len(c) > 1 else 302
        return ir.Redirect(code=code or 302, span=self.span(tok), **{kind: target})

    def return_(self, c):
        status = self.int_(c[0], "status", 100, 599) or 200
        body = unquote(c[1]) if len(c) > 1 else ""
        ctype = unquote(c[2]) if len(c) > 2 else "text/plain"
        return ir.Return(status=status, body=body, content_type=ctype, span=self.span(c[0]))

    def deny(self, c):
        status = self.int_(c[1], "status", 100, 599) if len(c) > 1 else 403
        return ir.Deny(status=status or 403, span=self.span(c[0]))

    def rule(self, c):
        action = c[0]
        cond = c[1] if len(c) > 1 else None
        return ir.Rule(condition=cond, action=action, span=action.span)

    def default(self, c):
        target = c[0]
        if isinstance(target, Token):
            target = ir.UseUpstream(upstream=unquote(target), span=self.span(target))
        return ("default", target)

    def acl(self, c):
        return ir.Acl(name=unquote(c[0]), condition=c[1], span=self.span(c[0]))

    # -- frontend statements ----------------------------------------------------------------
    def listen_tls(self, c):
        return ir.Tls(cert=unquote(c[0]), key=unquote(c[1]) if len(c) > 1 else None, span=self.span(c[0]))

    def default_server(self, c):
        return "default_server"

    def listen(self, c):
        tok = c[0]
        address, port, problem = parse_listen_address(unquote(tok))
        if problem:
            self.err(tok, "E006", problem, "e.g. :80, 127.0.0.1:8080 or [::]:443")
        tls = next((x for x in c[1:] if isinstance(x, ir.Tls)), None)
        return ir.Listen(address=address, port=port or 1, tls=tls, default_server="default_server" in c[1:],
                         span=self.span(tok))

    def stats_opt(self, c):
        return (str(c[0]), c[1])

    def stats(self, c):
        stats = ir.Stats()
        for key, tok in c:
            if key == "uri":
                stats.uri = unquote(tok)
            elif key == "refresh":
                stats.refresh = self.duration(tok, "stats refresh")
            elif key == "realm":
                stats.realm = unquote(tok)
            elif key == "auth":
                user, sep, password = unquote(tok).partition(":")
                if not sep:
                    self.err(tok, "E007", "stats auth takes user:password")
                stats.users.append(ir.StatsUser(user=user, password=password, span=self.span(tok)))
        stats.span = self.span(c[0][1]) if c else None
        return stats

    def header(self, c):
        where, action, name = c[0], c[1], c[2]
        value = unquote(c[3]) if len(c) > 3 and isinstance(c[3], Token) and c[3].type == "WORD" else None
        act = self.choice(action, "header action", ("set", "add", "delete"))
        if act in ("set", "add") and value is None:
            self.err(name, "E007", f"{where} {act} needs a value")
        if act == "delete" and value is not None:
            self.err(c[3], "E007", "delete takes no value")
        op = ir.HeaderOp(action=act or "set", name=unquote(name), value=value, span=self.span(where))
        return (str(where), op)

    def forwardfor(self, c):
        return ("forwardfor", c[0])

    def normalize_uri(self, c):
        return ("normalize_uri", c[0])

    def log_requests(self, c):
        return ("log", c[0])

    def mode(self, c):
        return ("mode", self.choice(c[0], "mode", MODES), c[0])

    def timeout(self, c):
        key = self.choice(c[0], "timeout", TIMEOUT_KEYS)
        return ("timeout", key, self.duration(c[1], "timeout"), c[0])

    def raw(self, c):
        target_tok = c[0]
        target = self.choice(target_tok, "raw target", ("nginx", "haproxy"))
        context = None
        if len(c) > 2:
            allowed = RAW_CONTEXTS.get(target or "nginx", ())
            context = self.choice(c[1], f"context for raw {target}", allowed)
        text = str(c[-1])[3:-3]
        # Drop the newline after the opening quotes and the indentation of the closing ones.
        if text.startswith("\n"):
            text = text[1:]
        text = text.rstrip(" \t")
        return ir.Raw(target=target or "nginx", text=text, context=context, span=self.span(target_tok))

    def _apply_timeouts(self, timeouts: ir.Timeouts, stmt, allowed) -> None:
        _, key, value, tok = stmt
        if key is None:
            return
        if key not in allowed:
            self.err(tok, "E008", f"timeout {key} does not belong here", "allowed: " + ", ".join(allowed))
            return
        setattr(timeouts, key, value)

    def frontend(self, c):
        name_tok, stmts = c[0], c[1:]
        fe = ir.Frontend(name=unquote(name_tok), span=self.span(name_tok))
        seen: set[str] = set()
        for s in stmts:
            if isinstance(s, ir.Stats):
                self._once(seen, "stats", s, "frontend")
            elif isinstance(s, tuple) and s[0] == "mode":
                self._once(seen, "mode", s[2], "frontend")
            if isinstance(s, ir.Listen):
                fe.listens.append(s)
            elif isinstance(s, ir.Acl):
                fe.acls.append(s)
            elif isinstance(s, ir.Rule):
                fe.rules.append(s)
            elif isinstance(s, ir.Stats):
                fe.stats = s
            elif isinstance(s, ir.Raw):
                fe.raw.append(s)
            elif s[0] == "default":
                if fe.default is not None:
                    self.err(s[1], "V103", "a frontend has one default")
                fe.default = s[1]
            elif s[0] == "mode":
                fe.mode = s[1]
            elif s[0] == "request_header":
                fe.request_headers.append(s[1])
            elif s[0] == "response_header":
                fe.response_headers.append(s[1])
            elif s[0] == "forwardfor":
                fe.forwardfor = True
            elif s[0] == "normalize_uri":
                fe.normalize_uri = True
            elif s[0] == "timeout":
                self._apply_timeouts(fe.timeouts, s, FRONTEND_TIMEOUTS)
        return fe

    # -- upstreams --------------------------------------------------------------------------
    def balance(self, c):
        words = [unquote(w) for w in c]
        bal = ir.Balance(span=self.span(c[0]))
        algo = self.choice(c[0], "balancing algorithm", ALGORITHMS)
        if algo is None:
            return bal
        bal.algorithm = algo
        rest = c[1:]
        if algo == "hash":
            if not rest:
                self.err(c[0], "E009", "hash needs a key", "hash uri | hash header NAME | hash cookie NAME | hash param NAME")
                return bal
            key = self.choice(rest[0], "hash key", HASH_KEYS)
            bal.key = key
            rest = rest[1:]
            if key in ("header", "cookie", "param"):
                if not rest or str(rest[0]) == "consistent":
                    self.err(c[1], "E009", f"hash {key} needs a name")
                    return bal
                bal.key_name = unquote(rest[0])
                rest = rest[1:]
        elif algo == "random" and rest:
            word = unquote(rest[0])
            bal.choices = 2 if word == "two" else self.int_(rest[0], "random choices", 2, 100)
            rest = rest[1:]
        if algo in ("hash", "source") and rest and str(rest[0]) == "consistent":
            bal.consistent = True  # consistent hashing of the key (source: of the client address)
            rest = rest[1:]
        for extra in rest:
            self.err(extra, "E010", f"unexpected {unquote(extra)!r} after balance {' '.join(words[:1])}")
        return bal

    def server_opt(self, c):
        return (str(c[0]), c[1] if len(c) > 1 else None, c[0])

    def server(self, c):
        name_tok, addr_tok = c[0], c[1]
        host, port, problem = parse_address(unquote(addr_tok))
        if problem:
            self.err(addr_tok, "E006", problem, "e.g. 10.0.0.5:8080, app:8080 or [fd00::5]:80")
        srv = ir.Server(name=unquote(name_tok), host=host or "invalid", port=port, span=self.span(name_tok))
        for key, val, tok in c[2:]:
            if key == "weight":
                srv.weight = self.int_(val, "weight", 0, 256) if val is not None else 1
                if srv.weight is None:
                    srv.weight = 1
            elif key in ("backup", "down", "check"):
                setattr(srv, key, True)
            elif key == "max_conns":
                srv.max_conns = self.int_(val, "max_conns", 1, 1_000_000)
            elif key == "slow_start":
                srv.slow_start = self.duration(val, "slow_start")
            elif key == "cookie":
                srv.cookie = unquote(val)
            elif key == "count":
                srv.count = self.int_(val, "count", 1, 10_000)
        return srv

    def health_opt(self, c):
        return tuple(c)

    def health(self, c):
        hc = ir.HealthCheck(span=self.span(c[0][0]) if c else None)
        for opt in c:
            key = str(opt[0])
            if key == "interval":
                hc.interval = self.duration(opt[1], "check interval")
            elif key == "timeout":
                hc.timeout = self.duration(opt[1], "check timeout")
            elif key in ("rise", "fall"):
                setattr(hc, key, self.int_(opt[1], key, 1, 1000))
            elif key == "http":
                hc.http = hc.http or ir.HttpCheck()
                hc.http.method = unquote(opt[1]).upper()
                hc.http.path = unquote(opt[2])
            elif key == "expect":
                hc.http = hc.http or ir.HttpCheck()
                hc.http.expect_status = self.int_(opt[1], "expected status", 100, 599)
            elif key == "host":
                hc.http = hc.http or ir.HttpCheck()
                hc.http.host = unquote(opt[1])
        return hc

    def passive_opt(self, c):
        return tuple(c)

    def passive(self, c):
        p = ir.Passive(span=self.span(c[0][0]))
        for key, tok in c:
            if key == "max_fails":
                p.max_fails = self.int_(tok, "max_fails", 0, 1000)
            else:
                p.fail_timeout = self.duration(tok, "fail_timeout")
        return p

    def resolver_ref(self, c):
        return ("resolver", unquote(c[0]), c[0])

    def sticky(self, c):
        return ("sticky", unquote(c[0]), c[0])

    def _once(self, seen: set, key: str, node_or_tok, where: str) -> None:
        """A statement that may appear once per block: a second one is an error, not a silent override."""
        if key in seen:
            self.err(node_or_tok, "E011", f"{key} is already set in this {where}", "keep one of them")
        seen.add(key)

    def upstream(self, c):
        name_tok = c[0]
        up = ir.Upstream(name=unquote(name_tok), span=self.span(name_tok))
        seen: set[str] = set()
        for s in c[1:]:
            if isinstance(s, (ir.Balance, ir.HealthCheck, ir.Passive)):
                self._once(seen, {ir.Balance: "balance", ir.HealthCheck: "health", ir.Passive: "passive"}[type(s)],
                           s, "upstream")
            elif isinstance(s, tuple) and s[0] in ("resolver", "sticky", "mode"):
                self._once(seen, s[0], s[2], "upstream")
            if isinstance(s, ir.Balance):
                up.balance = s
            elif isinstance(s, ir.Server):
                up.servers.append(s)
            elif isinstance(s, ir.HealthCheck):
                up.health = s
            elif isinstance(s, ir.Passive):
                up.passive = s
            elif isinstance(s, ir.Raw):
                up.raw.append(s)
            elif s[0] == "resolver":
                up.resolver = s[1]
            elif s[0] == "sticky":
                up.sticky_cookie = s[1]
            elif s[0] == "mode":
                up.mode = s[1]
                seen.add("mode")
            elif s[0] == "timeout":
                self._apply_timeouts(up.timeouts, s, UPSTREAM_TIMEOUTS)
        return up

    # -- top level --------------------------------------------------------------------------
    def nameserver(self, c):
        host, port, problem = parse_address(unquote(c[1]))
        if problem:
            self.err(c[1], "E006", problem)
        return ir.Nameserver(name=unquote(c[0]), address=host or "invalid", port=port or 53, span=self.span(c[0]))

    def resolver_opt(self, c):
        return (str(c[0]), c[1])

    def resolvers(self, c):
        res = ir.Resolver(name=unquote(c[0]), nameservers=[], span=self.span(c[0]))
        for s in c[1:]:
            if isinstance(s, ir.Nameserver):
                res.nameservers.append(s)
            elif s[0] == "hold_valid":
                res.hold_valid = self.duration(s[1], "hold_valid")
            elif s[0] == "timeout":
                res.timeout = self.duration(s[1], "resolver timeout")
            elif s[0] == "retries":
                res.retries = self.int_(s[1], "retries", 1, 100)
        return res

    def log(self, c):
        target = self.choice(c[0], "log target", ("stdout", "stderr", "syslog"))
        args = [unquote(w) for w in c[1:]]
        log = ir.Log(target=target or "stdout", span=self.span(c[0]))
        if target == "syslog":
            if not args:
                self.err(c[0], "E007", "log syslog needs an address", "log syslog 127.0.0.1:514 local0 info")
            else:
                log.address = args.pop(0)
        if args:
            log.facility = args.pop(0)
        if args:
            log.level = args.pop(0)
        return log

    def defaults(self, c):
        d = ir.Defaults(span=self.span(c[0]))
        for s in c:
            if isinstance(s, Token):  # the keyword and braces, kept for the span
                continue
            if s[0] == "mode" and s[1]:
                d.mode = s[1]
            elif s[0] == "timeout":
                self._apply_timeouts(d.timeouts, s, TIMEOUT_KEYS)
            elif s[0] == "forwardfor":
                d.forwardfor = True
            elif s[0] == "log":
                d.log = True
        return d

    def start(self, c):
        cfg = ir.Config()
        seen_defaults = False
        for item in c:
            if isinstance(item, ir.Defaults):
                if seen_defaults:
                    self.diags.error(item.span, "V103", "only one defaults block is allowed")
                cfg.defaults, seen_defaults = item, True
            elif isinstance(item, ir.Frontend):
                cfg.frontends.append(item)
            elif isinstance(item, ir.Upstream):
                cfg.upstreams.append(item)
            elif isinstance(item, ir.Resolver):
                cfg.resolvers.append(item)
            elif isinstance(item, ir.Log):
                cfg.logs.append(item)
            elif isinstance(item, ir.Raw):
                cfg.raw.append(item)
        return cfg


_lock = threading.Lock()
_builder = _Builder()


def _on_comment(tok: Token) -> None:
    _builder.comments.append(tok)


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The DSL's LALR parser, built once per process (its terminals also serve the formatter).

    Building the LALR tables takes longer than linting a small file, so lark caches them in the
    temp directory (keyed by a hash of the grammar and lark's version); where that directory is
    not writable, the tables are simply built every time."""
    options = dict(parser="lalr", transformer=_builder, lexer_callbacks={"COMMENT": _on_comment},
                   maybe_placeholders=False)
    try:
        return Lark(grammar_text(), cache=True, **options)
    except OSError:
        return Lark(grammar_text(), **options)


def read(text: str, filename: str | None = None, *, fast: bool = True) -> tuple[ir.Config | None, list[Diagnostic]]:
    """Parse .pxc text. Returns the IR (None on a syntax error) and every diagnostic found.
    ``fast=False`` forces lark even for plain files (see fastpath.py)."""
    if "\0" in text:  # no target can write it; refuse it before it reaches the IR
        return None, [Diagnostic.at_offset(text, text.index("\0"), filename, "E002", "NUL character in the input")]
    lalr = parser()
    with _lock, paused_gc():
        _builder.reset(filename)
        cfg = read_fast(text, _builder) if fast else None
        if cfg is None:
            _builder.reset(filename)
        try:
            cfg = cfg or lalr.parse(text if text.endswith("\n") else text + "\n")
        except UnexpectedInput as exc:
            return None, [_syntax_error(exc, text, filename, lalr)]
        except (VisitError, ValueError) as exc:  # a bug in a builder method: a diagnostic, not a traceback
            return None, [Diagnostic("E999", f"internal error while reading: {exc}", file=filename, line=1, col=1,
                                     hint="please report this input")]
        diags = list(_builder.diags)
        _attach_comments(cfg, _builder.comments)
    return cfg, diags


def load(text: str, filename: str | None = None) -> ir.Config:
    """Like ``read`` but raises ProxycError on any error."""
    cfg, diags = read(text, filename)
    errors = [d for d in diags if d.severity == "error"]
    if cfg is None or errors:
        raise ProxycError(errors or diags)
    return cfg


# ------------------------------------------------------------------------------ comments

def _commentable(cfg: ir.Config):
    for fe in cfg.frontends:
        yield fe
        yield from fe.listens
        yield from fe.acls
        yield from fe.rules
        yield from (node for node in (fe.default, fe.stats) if node is not None)
    for up in cfg.upstreams:
        yield up
        yield from up.servers
        yield from (node for node in (up.health, up.passive) if node is not None)
        if up.balance.span is not None:
            yield up.balance
    if cfg.defaults.span:
        yield cfg.defaults
    yield from cfg.resolvers
    yield from cfg.logs
    yield from cfg.raw


def _attach_comments(cfg: ir.Config, comments: list[Token]) -> None:
    """A comment belongs to the next statement below it (or the one it trails)."""
    if not comments:
        return
    nodes = sorted((n for n in _commentable(cfg) if n.span), key=lambda n: (n.span.line, n.span.col or 0))
    lines = [n.span.line for n in nodes]
    for tok in comments:
        i = bisect.bisect_left(lines, tok.line)
        if i < len(nodes):
            nodes[i].comments = [*nodes[i].comments, str(tok)[1:].strip()]


# ------------------------------------------------------------------------------ syntax errors

_BLOCK_KEYWORDS = {"frontend", "upstream", "defaults", "resolvers"}


def _syntax_error(exc: UnexpectedInput, text: str, filename: str | None, parser: Lark) -> Diagnostic:
    line, col = getattr(exc, "line", None), getattr(exc, "column", None)
    hint = None
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        msg = f"unexpected character {ch!r}"
        if ch in "\"'":
            hint = "is a closing quote missing?"
    elif isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        msg = "unexpected end of file"
        open_line = _unclosed_brace(text)
        hint = f"is a closing '}}' missing for the block opened on line {open_line}?" if open_line else None
        lines = text.rstrip("\n").split("\n")
        line, col = len(lines), len(lines[-1]) + 1  # just after the last character
    else:
        tok = exc.token
        value = str(tok)
        expected = _keywords_of(exc.expected, parser)
        if tok.type == "_NL":
            msg = "unexpected end of line"
            hint = _expected_hint(exc.expected, parser)
        elif value in _BLOCK_KEYWORDS and "RBRACE" in exc.expected:
            msg = f"unexpected {value!r} inside a block"
            hint = "is a closing '}' missing above?"
        elif tok.type == "WORD" and expected:
            msg = f"unknown keyword {value!r}"
            hint = did_you_mean(value, expected) or "expected one of: " + ", ".join(sorted(expected))
        else:
            msg = f"unexpected {value!r}"
            hint = _expected_hint(exc.expected, parser)
    return Diagnostic("E001", msg, file=filename, line=line, col=col, hint=hint)


def _keywords_of(expected, parser: Lark) -> list[str]:
    by_name = {t.name: t for t in parser.terminals}
    words = []
    for name in expected:
        term = by_name.get(name)
        if term is not None and term.pattern.type == "str" and term.pattern.value.isidentifier():
            words.append(term.pattern.value)
    return words


def _expected_hint(expected, parser: Lark) -> str | None:
    words = _keywords_of(expected, parser)
    if "WORD" in expected:
        words.append("a value")
    if "_NL" in expected:
        words.append("end of line")
    if "RBRACE" in expected:
        words.append("'}'")
    return "expected " + ", ".join(sorted(set(words))) if words else None


def _unclosed_brace(text: str) -> int | None:
    """The line of the last '{' that is never closed (strings and comments skipped roughly)."""
    stack: list[int] = []
    line = 1
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif ch in "\"'":
            if text.startswith('"""', i):
                end = text.find('"""', i + 3)
                end = n if end < 0 else end + 3
                line += text.count("\n", i, end)
                i = end
                continue
            end = text.find(ch, i + 1)
            if end < 0 or "\n" in text[i:end]:
                i += 1
                continue
            i = end
        elif ch == "{":
            stack.append(line)
        elif ch == "}" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None
