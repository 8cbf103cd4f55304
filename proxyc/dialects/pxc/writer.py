"""Writes the IR as .pxc source: the DSL's formatter, and how an imported config becomes DSL.

Guarantees, checked by tests/test_pxc_writer.py on every example and on generated IRs:

- ``read(write(cfg)) == cfg`` (IR equality ignores spans and comments);
- ``write(read(write(cfg))) == write(cfg)``, byte for byte;
- injection safety by construction (DESIGN §9): every user string goes through ``quote``, which
  writes a bare word only when the grammar's own WORD terminal reads it back unchanged and it is
  no keyword anywhere in the grammar; anything else is double-quoted with ``\\ \\" \\n \\t \\r \\0``
  escaped. A value can therefore never end a statement, open or close a block, start a comment
  or be taken for a keyword. (The reader unquotes every word before interpreting it, so a
  number-looking string such as ``"200"`` may stay bare: quoting it would not change its meaning.)
  Words of the IR's closed vocabularies (modes, algorithms, timeout names, raw targets and
  contexts) are written bare even where they equal a keyword (``mode http``): the grammar takes
  them where it expects no keyword, and the round-trip tests read back every one of them.
  Keywords are quoted as values wherever they stand, not only where the parser would take them
  as keywords (``frontend "http"``): simple and safe, at the cost of some quotes.

Layout: top-level ``log`` lines, config-level ``raw`` blocks, ``resolvers``, ``defaults``,
frontends, upstreams (IR order within each kind); 4-space indentation; one blank line between
blocks; ACL names padded to a common width within a frontend. Values equal to the IR default are
omitted (``weight 1``, ``balance round_robin``, ``code 302``), except three that name the thing
itself rather than an option: the defaults block's ``mode``, a stats page's ``uri`` and a
nameserver's port.

Comments (``node.comments``) are written as ``# ...`` lines above their statement. The reader
attaches a comment to the next statement that has a node of its own (frontend, listen, acl,
rule, upstream, server, defaults, resolvers, log, top-level raw), so the comments of any other
node (a balance or stats line, a condition, a frontend's raw block) are written above the nearest
such ancestor; written anywhere else they would move on every formatting pass.

What the DSL cannot express is an error diagnostic (P001) at the node's span: ``write`` raises
``ProxycError`` with all of them, ``write_with_diagnostics`` returns them. Examples: a raw text
containing ``\"\"\"`` (the DSL has no escape for its raw delimiter), ending in ``"`` (it would merge
with the delimiter) or in a space or tab (the reader strips those); a frontend ``timeout
connect``; an ``All``/``AnyOf`` with no items. An ``All``/``AnyOf`` of one item is written as that
item: same meaning, no diagnostic.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from ... import ir
from ...diagnostics import Diagnostic, Diagnostics, ProxycError
from ..common import format_address
from .reader import FRONTEND_TIMEOUTS, TIMEOUT_KEYS, UPSTREAM_TIMEOUTS, read, unquote

INDENT = "    "
RAW_DELIMITER = '"""'

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"})

# Nodes the reader attaches comments to, below the top level (see the module docstring).
_COMMENT_ANCHORS = (ir.Listen, ir.Acl, ir.Rule, ir.Server)

# Binding strength of condition operators: a child binding less tightly than its parent
# requires needs parentheses. Matchers and ACL references are atoms.
_OR, _AND, _NOT, _ATOM = 1, 2, 3, 4


# ------------------------------------------------------------------------------ public API

def write(cfg: ir.Config) -> str:
    """Canonical .pxc source for ``cfg``. Raises ProxycError when the DSL cannot express it."""
    text, diags = write_with_diagnostics(cfg)
    if text is None:
        raise ProxycError([d for d in diags if d.severity == "error"])
    return text


def write_with_diagnostics(cfg: ir.Config) -> tuple[str | None, list[Diagnostic]]:
    """Like ``write``, but returns (text, diagnostics); text is None when there are errors."""
    writer = _Writer()
    for node, name in ir.walk.nul_fields(cfg):
        writer.unsupported(node, f"a NUL character in {type(node).__name__}.{name}")
    text = writer.config(cfg)
    diags = writer.diags.sorted()
    return (None if writer.diags.has_errors else text), diags


def format_text(text: str, filename: str | None = None) -> tuple[str | None, list[Diagnostic]]:
    """Read .pxc text and write it back canonically (the ``fmt`` command). None on errors."""
    cfg, diags = read(text, filename)
    if cfg is None or any(d.severity == "error" for d in diags):
        return None, diags
    formatted, write_diags = write_with_diagnostics(cfg)
    return formatted, diags + write_diags


def quote(value: str) -> str:
    """``value`` as one WORD token that the reader turns back into exactly ``value``."""
    word, keywords = _lexicon()
    bare = (
        value not in keywords
        and value.isprintable()  # no invisible or control characters outside quotes
        and word.fullmatch(value) is not None
        and unquote(value) == value  # e.g. 'x' matches WORD but would lose its quotes
    )
    return value if bare else '"' + value.translate(_ESCAPES) + '"'


@lru_cache(maxsize=1)
def _lexicon() -> tuple[re.Pattern[str], frozenset[str]]:
    """The WORD terminal and every grammar string literal that WORD could also match.

    Taken from the compiled grammar, so a keyword added to grammar/proxyc.lark is quoted
    without anyone maintaining a list here. The reader's parser is reused: it is built once per
    process anyway and compiling the grammar a second time would cost as much again."""
    from .reader import parser

    terminals = parser().terminals
    word = re.compile(next(t for t in terminals if t.name == "WORD").pattern.to_regexp())
    keywords = frozenset(
        t.pattern.value for t in terminals if t.pattern.type == "str" and word.fullmatch(t.pattern.value)
    )
    return word, keywords


# ------------------------------------------------------------------------------ helpers

def _children(node: ir.Node) -> Iterator[ir.Node]:
    """Direct child nodes in field order."""
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, ir.Node):
            yield value
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, ir.Node))


def _gathered_comments(node: ir.Node) -> list[str]:
    """The node's comments followed by those of descendants that cannot keep their own."""
    out = list(node.comments)
    for child in _children(node):
        if not isinstance(child, _COMMENT_ANCHORS):
            out += _gathered_comments(child)
    return out


def _comment_lines(comments: list[str], indent: str) -> list[str]:
    """``# text`` lines. A comment holding line breaks becomes several comments (a newline
    inside one would end it and let the rest be read as configuration); each line is stripped
    as the reader strips it, so a second pass writes the same bytes."""
    lines = []
    for comment in comments:
        for part in comment.splitlines() or [""]:
            part = part.strip()
            lines.append(f"{indent}# {part}" if part else f"{indent}#")
    return lines


def _raw_problem(text: str) -> str | None:
    if RAW_DELIMITER in text:
        return f"a raw text containing {RAW_DELIMITER}: the DSL has no escape for its raw delimiter"
    if text.endswith('"'):
        return f'a raw text ending in ": it would merge with the closing {RAW_DELIMITER}'
    if text.endswith((" ", "\t")):
        return "a raw text ending in a space or tab: the reader strips them before the closing delimiter"
    return None


def _needs_defaults_block(cfg: ir.Config, others: bool) -> bool:
    """An all-default defaults block is left out, unless it carries comments or is the only
    statement left to carry the config's own comments (a file of bare comments reads back
    with none)."""
    return cfg.defaults != ir.Defaults() or bool(_gathered_comments(cfg.defaults)) or bool(cfg.comments and not others)


class _Writer:
    """Turns one Config into text, recording what the DSL cannot express."""

    def __init__(self) -> None:
        self.diags = Diagnostics()

    def unsupported(self, node: ir.Node, what: str, hint: str | None = None) -> None:
        self.diags.error(node.span, "P001", f"the DSL cannot express {what}", hint)

    # -- the config -----------------------------------------------------------------------
    def config(self, cfg: ir.Config) -> str:
        top: list[tuple[ir.Node, object]] = []
        top += [(log, self.log) for log in cfg.logs]
        top += [(raw, self.top_raw) for raw in cfg.raw]
        top += [(res, self.resolver) for res in cfg.resolvers]
        if _needs_defaults_block(cfg, others=bool(top or cfg.frontends or cfg.upstreams)):
            top.append((cfg.defaults, self.defaults))
        top += [(fe, self.frontend) for fe in cfg.frontends]
        top += [(up, self.upstream) for up in cfg.upstreams]

        chunks: list[list[str]] = []
        for index, (node, render) in enumerate(top):
            # The config's own comments go above the first statement, which the reader gives them to.
            leading = self.comments(cfg, cfg.comments, "") if index == 0 else []
            lines = leading + self.comments(node, _gathered_comments(node), "") + render(node)
            # Consecutive log lines stay together; every other item is a block of its own.
            if chunks and isinstance(node, ir.Log) and isinstance(top[index - 1][0], ir.Log):
                chunks[-1] += lines
            else:
                chunks.append(lines)
        return "\n\n".join("\n".join(chunk) for chunk in chunks) + ("\n" if chunks else "")

    def statements(self, nodes, render, indent: str = INDENT) -> list[str]:
        """Each node as a statement line, preceded by its comments."""
        lines = []
        for node in nodes:
            lines += self.comments(node, _gathered_comments(node), indent)
            lines.append(indent + render(node))
        return lines

    @staticmethod
    def block(head: str, body: list[str]) -> list[str]:
        return [head + " {", *body, "}"]

    def comments(self, node: ir.Node, comments: list[str], indent: str) -> list[str]:
        return _comment_lines(comments, indent)

    # -- top-level statements ---------------------------------------------------------------
    def log(self, log: ir.Log) -> list[str]:
        words = ["log", log.target]
        if log.target == "syslog" and log.address is None:
            self.unsupported(log, "a syslog target without an address", "log syslog 127.0.0.1:514 local0")
        if log.target != "syslog" and log.address is not None:
            self.unsupported(log, f"an address for log target {log.target}")
        if log.address is not None:
            words.append(quote(log.address))
        if log.facility is None and log.level is not None:
            self.unsupported(log, "a log level without a facility: they are positional")
        words += [quote(v) for v in (log.facility, log.level) if v is not None]
        return [" ".join(words)]

    def top_raw(self, raw: ir.Raw) -> list[str]:
        return [self.raw(raw, "")]

    def raw(self, raw: ir.Raw, indent: str) -> str:
        """``raw TARGET [CONTEXT] \"\"\"`` with the text verbatim (never indented: indentation
        would become part of it). The reader drops the newline after the opening delimiter and
        spaces before the closing one, which is what lets the closing one be indented."""
        problem = _raw_problem(raw.text)
        if problem:
            self.unsupported(raw, problem, "move that part into a file the target includes")
        head = " ".join(["raw", raw.target, *([raw.context] if raw.context else [])])
        closing = indent + RAW_DELIMITER if raw.text.endswith("\n") or not raw.text else RAW_DELIMITER
        return f"{indent}{head} {RAW_DELIMITER}\n{raw.text}{closing}"

    def resolver(self, res: ir.Resolver) -> list[str]:
        # Not self.statements: the reader does not attach comments to nameservers, so theirs
        # are written above the resolvers block (see _gathered_comments).
        body = [INDENT + self.nameserver(ns) for ns in res.nameservers]
        if res.hold_valid is not None:
            body.append(f"{INDENT}hold_valid {ir.format_duration(res.hold_valid)}")
        if res.timeout is not None:
            body.append(f"{INDENT}timeout {ir.format_duration(res.timeout)}")
        if res.retries is not None:
            body.append(f"{INDENT}retries {res.retries}")
        return self.block(f"resolvers {quote(res.name)}", body)

    @staticmethod
    def nameserver(ns: ir.Nameserver) -> str:
        return f"nameserver {quote(ns.name)} {quote(format_address(ns.address, ns.port))}"

    def defaults(self, d: ir.Defaults) -> list[str]:
        body = [f"{INDENT}mode {d.mode}"]  # always: it is what a reader of the file looks for
        body += self.timeouts(d.timeouts, TIMEOUT_KEYS, d, "defaults")
        body += [f"{INDENT}forwardfor"] if d.forwardfor else []
        body += [f"{INDENT}log"] if d.log else []
        return self.block("defaults", body)

    def timeouts(self, timeouts: ir.Timeouts, allowed, owner: ir.Node, where: str) -> list[str]:
        lines = []
        for key in TIMEOUT_KEYS:
            value = getattr(timeouts, key)
            if value is None:
                continue
            if key not in allowed:
                self.unsupported(timeouts if timeouts.span else owner, f"timeout {key} in {where}",
                                 "allowed here: " + ", ".join(allowed))
            lines.append(f"{INDENT}timeout {key} {ir.format_duration(value)}")
        return lines

    # -- frontends --------------------------------------------------------------------------
    def frontend(self, fe: ir.Frontend) -> list[str]:
        body = self.statements(fe.listens, self.listen)
        body += [f"{INDENT}mode {fe.mode}"] if fe.mode else []
        body += self.timeouts(fe.timeouts, FRONTEND_TIMEOUTS, fe, "a frontend")
        body += [f"{INDENT}forwardfor"] if fe.forwardfor else []
        body += [f"{INDENT}normalize_uri"] if fe.normalize_uri else []
        body += [INDENT + self.stats(fe.stats)] if fe.stats else []
        body += [INDENT + self.header("request_header", op) for op in fe.request_headers]
        body += [INDENT + self.header("response_header", op) for op in fe.response_headers]
        width = max((len(quote(acl.name)) for acl in fe.acls), default=0)
        body += self.statements(fe.acls, lambda acl: self.acl(acl, width))
        body += self.statements(fe.rules, self.rule)
        if fe.default is not None:
            body.append(INDENT + self.default(fe.default))
        body += [self.raw(raw, INDENT) for raw in fe.raw]
        return self.block(f"frontend {quote(fe.name)}", body)

    @staticmethod
    def listen(listen: ir.Listen) -> str:
        address = f":{listen.port}" if listen.address is None else format_address(listen.address, listen.port)
        words = ["listen", quote(address)]
        if listen.tls is not None:
            words += ["tls", "cert", quote(listen.tls.cert)]
            words += ["key", quote(listen.tls.key)] if listen.tls.key is not None else []
        words += ["default_server"] if listen.default_server else []
        return " ".join(words)

    def stats(self, stats: ir.Stats) -> str:
        words = ["stats", "uri", quote(stats.uri)]  # always: the page's address is its identity
        if stats.refresh is not None:
            words += ["refresh", ir.format_duration(stats.refresh)]
        for user in stats.users:
            if ":" in user.user:
                self.unsupported(user, f"a stats user name containing ':' ({user.user!r}): auth is user:password")
            words += ["auth", quote(f"{user.user}:{user.password}")]
        if stats.realm is not None:
            words += ["realm", quote(stats.realm)]
        return " ".join(words)

    def header(self, keyword: str, op: ir.HeaderOp) -> str:
        if op.action == "delete" and op.value is not None:
            self.unsupported(op, f"a value for {keyword} delete {op.name}")
        if op.action != "delete" and op.value is None:
            self.unsupported(op, f"{keyword} {op.action} {op.name} without a value")
        words = [keyword, op.action, quote(op.name)]
        words += [quote(op.value)] if op.value is not None else []
        return " ".join(words)

    def acl(self, acl: ir.Acl, width: int) -> str:
        return f"acl {quote(acl.name):<{width}} {self.condition(acl.condition)}"

    def rule(self, rule: ir.Rule) -> str:
        action = self.action(rule.action)
        return action if rule.condition is None else f"{action} if {self.condition(rule.condition)}"

    def default(self, action) -> str:
        if isinstance(action, ir.UseUpstream):
            return f"default {quote(action.upstream)}"
        return f"default {self.action(action)}"

    # -- actions ----------------------------------------------------------------------------
    def action(self, action) -> str:
        if isinstance(action, ir.UseUpstream):
            return f"use {quote(action.upstream)}"
        if isinstance(action, ir.Redirect):
            return self.redirect(action)
        if isinstance(action, ir.Return):
            return self.return_(action)
        return "deny" if action.status == 403 else f"deny {action.status}"

    def redirect(self, r: ir.Redirect) -> str:
        targets = [(kind, value) for kind, value in (("location", r.location), ("scheme", r.scheme),
                                                     ("prefix", r.prefix)) if value is not None]
        if len(targets) != 1:
            self.unsupported(r, "a redirect without exactly one of location, scheme or prefix")
        kind, value = targets[0] if targets else ("location", "")
        words = ["redirect", kind, quote(value)]
        words += ["code", str(r.code)] if r.code != 302 else []
        return " ".join(words)

    @staticmethod
    def return_(r: ir.Return) -> str:
        words = ["return", str(r.status)]
        if r.body or r.content_type != "text/plain":
            words.append(quote(r.body))
        if r.content_type != "text/plain":
            words += ["type", quote(r.content_type)]
        return " ".join(words)

    # -- conditions -------------------------------------------------------------------------
    def condition(self, cond, tighter_than: int = 0) -> str:
        """``cond`` with the fewest parentheses that read back as the same tree: a child is
        parenthesised when it binds no tighter than its parent requires (``a and (b and c)``
        keeps its nesting: IR equality sees it)."""
        if isinstance(cond, (ir.All, ir.AnyOf)) and len(cond.items) == 1:
            return self.condition(cond.items[0], tighter_than)
        text, strength = self.condition_text(cond)
        return f"({text})" if strength <= tighter_than else text

    def condition_text(self, cond) -> tuple[str, int]:
        if isinstance(cond, ir.AnyOf):
            return self.combined(cond, " or ", _OR), _OR
        if isinstance(cond, ir.All):
            return self.combined(cond, " and ", _AND), _AND
        if isinstance(cond, ir.Not):
            return "not " + self.condition(cond.item, _NOT - 1), _NOT
        if isinstance(cond, ir.AclRef):
            return quote(cond.name), _ATOM
        return self.matcher(cond), _ATOM

    def combined(self, cond, separator: str, strength: int) -> str:
        if not cond.items:
            self.unsupported(cond, f"an empty {type(cond).__name__} condition")
            return "()"
        return separator.join(self.condition(item, strength) for item in cond.items)

    def matcher(self, m) -> str:
        """A matcher written bare. Its value list is greedy, but every keyword that may follow
        (and, or, if, ...) is quoted when it is a value, so the list ends where it should."""
        if isinstance(m, ir.TlsMatch):
            return "tls"
        if isinstance(m, ir.PathMatch):
            words = ["path", m.op, *(["nocase"] if m.ignore_case else [])]
        elif isinstance(m, ir.HostMatch):
            words = ["host", m.op]
        elif isinstance(m, ir.MethodMatch):
            words = ["method"]
        elif isinstance(m, ir.SourceMatch):
            words = ["source"]
        else:
            return self.header_match(m)
        return " ".join(words + self.values(m))

    def header_match(self, m: ir.HeaderMatch) -> str:
        if m.op == "present":
            if m.values or m.ignore_case:
                self.unsupported(m, f"values or nocase on 'header {m.name} present'")
            return f"header {quote(m.name)} present"
        words = ["header", quote(m.name), m.op, *(["nocase"] if m.ignore_case else [])]
        return " ".join(words + self.values(m))

    def values(self, m) -> list[str]:
        if not m.values:
            self.unsupported(m, f"a {m.type} matcher without values")
        return [quote(v) for v in m.values]

    # -- upstreams --------------------------------------------------------------------------
    def upstream(self, up: ir.Upstream) -> list[str]:
        body = [f"{INDENT}mode {up.mode}"] if up.mode else []
        body += [f"{INDENT}resolver {quote(up.resolver)}"] if up.resolver is not None else []
        balance = self.balance(up.balance)
        body += [f"{INDENT}balance {balance}"] if balance else []
        body += [INDENT + self.health(up.health)] if up.health else []
        body += [INDENT + self.passive(up.passive)] if up.passive else []
        body += [f"{INDENT}sticky cookie {quote(up.sticky_cookie)}"] if up.sticky_cookie is not None else []
        body += self.timeouts(up.timeouts, UPSTREAM_TIMEOUTS, up, "an upstream")
        body += self.statements(up.servers, self.server)
        body += [self.raw(raw, INDENT) for raw in up.raw]
        return self.block(f"upstream {quote(up.name)}", body)

    def balance(self, b: ir.Balance) -> str:
        """The words after ``balance``; empty for plain round robin, the default."""
        words: list[str] = [] if b.algorithm == "round_robin" else [b.algorithm]
        expressed: set[str] = set()
        if b.algorithm == "hash":
            words, expressed = self.hash_words(b)
        elif b.algorithm == "random" and b.choices is not None:
            words.append(str(b.choices))
            expressed = {"choices"}
        elif b.algorithm == "source" and b.consistent:
            words.append("consistent")
            expressed = {"consistent"}
        for field in ("key", "key_name", "consistent", "choices"):
            if field not in expressed and getattr(b, field) != ir.Balance.model_fields[field].default:
                self.unsupported(b, f"{field} = {getattr(b, field)!r} with balance {b.algorithm}")
        return " ".join(words)

    def hash_words(self, b: ir.Balance) -> tuple[list[str], set[str]]:
        if b.key is None:
            self.unsupported(b, "balance hash without a key", "hash uri | hash header NAME | ...")
            return ["hash"], set()
        words, expressed = ["hash", b.key], {"key", "consistent"}
        if b.key != "uri":
            if b.key_name is None:
                self.unsupported(b, f"balance hash {b.key} without a name")
            # "consistent" as a name must be quoted to be told from the flag.
            name = b.key_name or ""
            words.append(f'"{name}"' if name == "consistent" else quote(name))
            expressed.add("key_name")
        words += ["consistent"] if b.consistent else []
        return words, expressed

    @staticmethod
    def health(hc: ir.HealthCheck) -> str:
        words = ["health"]
        if hc.interval is not None:
            words += ["interval", ir.format_duration(hc.interval)]
        words += [part for key in ("rise", "fall") if getattr(hc, key) is not None
                  for part in (key, str(getattr(hc, key)))]
        if hc.timeout is not None:
            words += ["timeout", ir.format_duration(hc.timeout)]
        if hc.http is not None:
            # Always spelled out, so that an HTTP check with every default still reads back.
            words += ["http", quote(hc.http.method), quote(hc.http.path)]
            words += ["expect", str(hc.http.expect_status)] if hc.http.expect_status is not None else []
            words += ["host", quote(hc.http.host)] if hc.http.host is not None else []
        return " ".join(words)

    def passive(self, p: ir.Passive) -> str:
        words = ["passive"]
        words += ["max_fails", str(p.max_fails)] if p.max_fails is not None else []
        words += ["fail_timeout", ir.format_duration(p.fail_timeout)] if p.fail_timeout is not None else []
        if len(words) == 1:
            self.unsupported(p, "passive failure settings with neither max_fails nor fail_timeout")
        return " ".join(words)

    @staticmethod
    def server(srv: ir.Server) -> str:
        words = ["server", quote(srv.name), quote(format_address(srv.host, srv.port))]
        words += ["weight", str(srv.weight)] if srv.weight != 1 else []
        words += [flag for flag in ("backup", "down", "check") if getattr(srv, flag)]
        words += ["max_conns", str(srv.max_conns)] if srv.max_conns is not None else []
        words += ["slow_start", ir.format_duration(srv.slow_start)] if srv.slow_start is not None else []
        words += ["cookie", quote(srv.cookie)] if srv.cookie is not None else []
        words += ["count", str(srv.count)] if srv.count is not None else []
        return " ".join(words)
