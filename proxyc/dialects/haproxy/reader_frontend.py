"""The frontend side of a ``frontend`` or ``listen`` section → ``ir.Frontend``.

HAProxy evaluates a request in phases, whatever order the lines are written in:
``tcp-request connection`` rules, ``tcp-request content`` rules, ``http-request`` rules, the
older ``redirect`` rules, and only then ``use_backend`` rules and ``default_backend``. The IR's
first-match list is those phases concatenated, each in file order. ``http-request allow``
skips the http-request rules after it, so it becomes a ``not`` guard on them.
"""
from __future__ import annotations

import re

from ... import ir
from .. import provenance
from ..common import parse_address
from .lexer import Line, Word
from .provenance import restore_acls, restore_condition
from .reader_actions import (
    HEADER_VERBS,
    Cursor,
    read_header_op,
    read_redirect,
    read_terminal,
)
from .reader_base import Malformed, ReadContext, Unconvertible
from .reader_conditions import ALWAYS, NEVER, AclTable, ConditionReader, read_expression
from .reader_proxy import ProxyPart, arg
from .writer_frontends import NORMALIZE_STEPS

# Bind address prefixes that only force an address family; any other "proto@" prefix (unix@,
# fd@, quic4@, mptcp@, ...) is a listener the IR cannot describe.
FAMILY_PREFIXES = {"ipv4@": None, "ipv6@": "::"}
_PROTOCOL_PREFIX = re.compile(r"^[A-Za-z0-9_-]+@")
_PORT = re.compile(r"^\d{1,5}$")
FRONTEND_TIMEOUTS = {"client": "client", "http-request": "http_request"}
BACKEND_TIMEOUTS = ("connect", "server", "queue", "tunnel", "check")
STATS_DEFAULT_URI = "/haproxy?stats"  # HAProxy's stats URI when none is given
STATS_MODELLED = ("enable", "uri", "refresh", "auth", "realm")
RULE_PHASES = ("tcp-connection", "tcp-content", "http", "redirect", "switching")


def parse_bind_address(word: Word, text: str) -> tuple[str | None, int]:
    """One address of a ``bind`` line → (address or None for every address, port)."""
    family_any = None
    for prefix, any_address in FAMILY_PREFIXES.items():
        if text.startswith(prefix):
            text, family_any = text[len(prefix):], any_address
    if _PROTOCOL_PREFIX.match(text) or text.startswith("/"):
        raise Unconvertible(f"the listener {word.text!r} is not a plain TCP port; the IR listens on ports only", word)
    if text.startswith("["):
        host, port, problem = parse_address(text)
        if problem or port is None:
            raise Malformed("E207", problem or f"{word.text!r} needs a port", word)
        return host, port
    host, sep, port_text = text.rpartition(":")
    if not sep:
        raise Malformed("E207", f"the bind address {word.text!r} needs a port", word,
                        hint="e.g. :80, *:80, 127.0.0.1:8080 or :::443")
    if "-" in port_text:
        raise Unconvertible(f"the port range {port_text} has no IR equivalent", word)
    if not _PORT.match(port_text) or not 1 <= int(port_text) <= 65535:
        raise Malformed("E207", f"{port_text!r} is not a port", word)
    port = int(port_text)
    if host in ("", "*"):
        return family_any, port
    _, _, problem = parse_address(f"[{host}]" if ":" in host else host)
    if problem:
        raise Malformed("E207", problem, word)
    return host, port


class FrontendReader(ProxyPart):
    kind = "frontend"

    def __init__(self, ctx: ReadContext, name_word: Word, defaults: ir.Defaults, comments: list[str]):
        super().__init__(ctx, name_word.text)
        self.fe = ir.Frontend(name=name_word.text, span=ctx.span(name_word), comments=comments)
        self.ir_defaults = defaults
        self.acls = AclTable()
        self.conditions = ConditionReader(ctx, self.acls)
        self.rules: dict[str, list[ir.Rule]] = {phase: [] for phase in RULE_PHASES}
        self.allow_guards: list[ir.Condition] = []
        self.normalize_lines: list[tuple[Line, str]] = []
        self.explicit_mode = False
        self.default_line: Line | None = None
        self.stats_line: Line | None = None
        self.listen_backend: str | None = None  # a listen's own upstream: the default
        # Backends named by raw use_backend/default_backend lines: they must stay backends.
        self.raw_backend_refs: list[str] = []
        self.handlers = {
            "bind": self._bind, "mode": self._mode, "use_backend": self._use_backend,
            "default_backend": self._default_backend, "http-request": self._http_request,
            "http-response": self._http_response, "redirect": self._redirect, "tcp-request": self._tcp_request,
            "stats": self._stats, "option": self._option, "timeout": self._timeout, "log": self._log,
        }

    @property
    def mode(self) -> str:
        return self.fe.mode or self.ir_defaults.mode

    # ------------------------------------------------------------------ ACLs (read first)
    def declare_acls(self, lines: list[Line]) -> None:
        """Read every ``acl`` line before the rules: HAProxy ORs the lines of one name, so one
        line that cannot be converted keeps all lines of that name raw (a partial ACL would
        match less)."""
        lines_by_name: dict[str, list[Line]] = {}
        for line in lines:
            if line.words[0].text == "acl":
                self._read_acl(line, lines_by_name)
        for name, entry in self.acls.entries.items():
            self._settle_acl(name, entry.failure is None, lines_by_name[name])

    def _read_acl(self, line: Line, lines_by_name: dict[str, list[Line]]) -> None:
        if len(line.words) < 3:
            self.keep_raw(line, Malformed("E201", "acl needs a name and a sample fetch", line.words[0]))
            return
        name_word = line.words[1]
        lines_by_name.setdefault(name_word.text, []).append(line)
        try:
            expr = read_expression(line.words[2:], self.ctx)
        except Unconvertible as exc:
            self.acls.add(name_word, None, failure=exc.message)
            self.keep_raw(line, exc)
            return
        self.acls.add(name_word, expr.condition)
        for word, message in expr.notes:
            self.ctx.report(line, message, severity="info", word=word)

    def _settle_acl(self, name: str, converted: bool, lines: list[Line]) -> None:
        for line in lines:
            if converted:
                self.ctx.converted(line)
            elif line.line not in self.raw:
                self.raw.add(self.ctx, line)
                self.ctx.report(line, f"kept as raw HAProxy text with the rest of ACL {name!r}", severity="warning")

    def feed(self, line: Line) -> None:
        if line.words[0].text == "acl":
            return  # read by declare_acls
        super().feed(line)

    # ------------------------------------------------------------------ listeners and mode
    def _bind(self, line: Line) -> None:
        addresses = arg(line, 1)
        if addresses is None:
            raise Malformed("E207", "bind needs an address", line.words[0])
        tls = self._bind_tls(line)
        for text in addresses.text.split(","):
            address, port = parse_bind_address(addresses, text)
            self.fe.listens.append(ir.Listen(address=address, port=port, tls=tls.model_copy() if tls else None,
                                             span=self.ctx.span(addresses)))

    def _bind_tls(self, line: Line) -> ir.Tls | None:
        params = line.words[2:]
        texts = [w.text for w in params]
        if "ssl" not in texts:
            if texts:
                self.ctx.report(line, "bind options not imported: " + " ".join(texts), word=params[0])
            return None
        if "crt" not in texts or texts.index("crt") + 1 >= len(texts):
            raise Unconvertible("TLS without a 'crt' file on the bind line has no IR equivalent", params[0])
        crt_at = texts.index("crt")
        kept = {texts.index("ssl"), crt_at, crt_at + 1}
        dropped = [params[i] for i in range(len(params)) if i not in kept]
        if dropped:
            self.ctx.report(line, "bind options not imported: " + " ".join(w.text for w in dropped), word=dropped[0])
        cert = params[crt_at + 1]
        return ir.Tls(cert=cert.text, key=None, span=self.ctx.span(cert))

    def _mode(self, line: Line) -> None:
        word = arg(line, 1)
        if word is None or word.text not in ("http", "tcp") or len(line.words) > 2:
            raise Unconvertible("only 'mode http' and 'mode tcp' are modelled", word or line.words[0])
        self.fe.mode = word.text
        self.explicit_mode = True

    # ------------------------------------------------------------------ conditions
    def guard(self, line: Line, keyword: Word | None, words: list[Word] | None,
              extra: list[ir.Condition] = ()) -> ir.Condition | None:
        """The rule's condition (None: always), ANDed with ``extra`` guards."""
        terms: list[ir.Condition] = [*extra]
        if keyword is not None:
            cond, notes = self.conditions.read(keyword, words or [], line.line)
            for word, message in notes:
                self.note(word, message)
            if cond is NEVER:
                raise Unconvertible("the condition can never hold", keyword, "info")
            if cond is not ALWAYS:
                terms.append(cond)
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else ir.All(items=terms, span=terms[0].span)

    def _allow_guards(self) -> list[ir.Condition]:
        return [ir.Not(item=g.model_copy(deep=True), span=g.span) for g in self.allow_guards]

    # ------------------------------------------------------------------ backend switching
    def _use_backend(self, line: Line) -> None:
        cursor = Cursor(line.words[0], line.words[1:])
        name = cursor.take("a backend name")
        self._static_backend_name(line, name)
        condition = self.guard(line, *cursor.condition())
        action = ir.UseUpstream(upstream=name.text, span=self.ctx.span(name))
        self.rules["switching"].append(ir.Rule(condition=condition, action=action, span=self.ctx.span(line)))

    def _default_backend(self, line: Line) -> None:
        if len(line.words) != 2:
            raise Malformed("E206", "default_backend needs one backend name", line.words[0])
        name = line.words[1]
        self._static_backend_name(line, name)
        if self.default_line is not None:
            self.note(line.words[0], f"replaces the default_backend of line {self.default_line.line}")
        self.default_line = line
        self.fe.default = ir.UseUpstream(upstream=name.text, span=self.ctx.span(name))

    def _static_backend_name(self, line: Line, word: Word) -> None:
        if "%[" in word.text:
            raise Unconvertible("a backend chosen per request (%[...]) has no IR equivalent", word)

    def keep_raw(self, line: Line, exc: Unconvertible) -> None:
        if line.words[0].text in ("use_backend", "default_backend"):
            self.raw_backend_refs.extend(w.text for w in line.words[1:])
        super().keep_raw(line, exc)

    # ------------------------------------------------------------------ request rules
    def _http_request(self, line: Line) -> None:
        verb = arg(line, 1)
        if verb is None:
            raise Malformed("E206", "http-request needs an action", line.words[0])
        cursor = Cursor(verb, line.words[2:])
        if verb.text == "allow":
            self._allow(line, verb, cursor)
        elif verb.text in HEADER_VERBS:
            op = read_header_op(self.ctx, verb, cursor)
            self._header(line, cursor, op, self.fe.request_headers)
        elif verb.text == "normalize-uri":
            self._normalize(line, cursor)
        else:
            action = read_terminal(self.ctx, verb, cursor)
            if action is None:
                raise Unconvertible(f"http-request {verb.text} is not modelled", verb, "warning")
            condition = self.guard(line, *cursor.condition(), self._allow_guards())
            self.rules["http"].append(ir.Rule(condition=condition, action=action, span=self.ctx.span(line)))

    def _allow(self, line: Line, verb: Word, cursor: Cursor) -> None:
        condition = self.guard(line, *cursor.condition())
        if condition is None:
            raise Unconvertible("an unconditional http-request allow skips every later http-request rule; "
                                "not modelled", verb)
        self.allow_guards.append(condition)

    def _header(self, line: Line, cursor: Cursor, op: ir.HeaderOp, target: list[ir.HeaderOp]) -> None:
        keyword, _ = cursor.condition()
        if keyword is not None:
            raise Unconvertible("a conditional header change has no IR equivalent", keyword)
        if self.allow_guards and target is self.fe.request_headers:
            raise Unconvertible("a header change after 'http-request allow' applies only to some requests",
                                line.words[1])
        target.append(op)

    def _normalize(self, line: Line, cursor: Cursor) -> None:
        step = cursor.take("a normalizer")
        if step.text not in NORMALIZE_STEPS or not cursor.at_condition():
            raise Unconvertible("only the normalize-uri steps " + ", ".join(NORMALIZE_STEPS) + " (without "
                                "options) are modelled", step)
        keyword, _ = cursor.condition()
        if keyword is not None:
            raise Unconvertible("a conditional normalize-uri has no IR equivalent", keyword)
        self.normalize_lines.append((line, step.text))

    def _redirect(self, line: Line) -> None:
        cursor = Cursor(line.words[0], line.words[1:])
        action = read_redirect(self.ctx, line.words[0], cursor, log_format=False)
        condition = self.guard(line, *cursor.condition())
        self.rules["redirect"].append(ir.Rule(condition=condition, action=action, span=self.ctx.span(line)))

    def _tcp_request(self, line: Line) -> None:
        phase, verb = arg(line, 1), arg(line, 2)
        if phase is None or phase.text not in ("connection", "content") or verb is None or verb.text != "reject":
            raise Unconvertible(f"{' '.join(w.text for w in line.words[:3])!r} is not modelled",
                                line.words[0], "warning")
        condition = self.guard(line, *Cursor(verb, line.words[3:]).condition())
        if self.mode == "http":
            self.note(verb, "tcp-request reject closes the connection without an HTTP response; imported as a "
                            "deny (403)")
        rule = ir.Rule(condition=condition, action=ir.Deny(span=self.ctx.span(verb)), span=self.ctx.span(line))
        self.rules["tcp-" + phase.text].append(rule)

    def _http_response(self, line: Line) -> None:
        verb = arg(line, 1)
        if verb is None or verb.text not in HEADER_VERBS:
            raise Unconvertible(f"http-response {verb.text if verb else ''} is not modelled".rstrip(),
                                verb or line.words[0], "warning")
        cursor = Cursor(verb, line.words[2:])
        op = read_header_op(self.ctx, verb, cursor)
        self._header(line, cursor, op, self.fe.response_headers)

    # ------------------------------------------------------------------ stats, options, timeouts
    def _stats(self, line: Line) -> None:
        sub = arg(line, 1)
        if self.fe.stats is None:
            # Any stats keyword turns the stats page on, at HAProxy's default URI.
            self.fe.stats = ir.Stats(uri=STATS_DEFAULT_URI, span=self.ctx.span(line))
            self.stats_line = line
        if sub is None or sub.text not in STATS_MODELLED:
            subject = f"stats {sub.text}" if sub else "stats"
            raise Unconvertible(f"{subject!r} is not modelled", sub or line.words[0], "info")
        value = arg(line, 2)
        if sub.text == "enable":
            return
        if value is None:
            raise Malformed("E206", f"stats {sub.text} needs a value", sub)
        if sub.text == "uri":
            self.fe.stats.uri = value.text
        elif sub.text == "refresh":
            self.fe.stats.refresh = self.duration(value, "stats refresh")
        elif sub.text == "realm":
            self.fe.stats.realm = value.text
        else:
            user, sep, password = value.text.partition(":")
            if not sep:
                raise Malformed("E206", "stats auth takes user:password", value)
            self.fe.stats.users.append(ir.StatsUser(user=user, password=password, span=self.ctx.span(value)))

    def _option(self, line: Line) -> None:
        name = arg(line, 1)
        if name is not None and name.text == "forwardfor":
            self.fe.forwardfor = True
            extra = line.words[2:]
            if extra:
                self.ctx.report(line, "option forwardfor settings not imported: " + " ".join(w.text for w in extra),
                                word=extra[0])
            return
        if name is not None and name.text in ("httplog", "tcplog") and len(line.words) == 2:
            expected = "httplog" if self.mode == "http" else "tcplog"
            if self.ir_defaults.log and name.text == expected:
                return  # what the IR's defaults "log" means for this mode
        self.unmodelled(line)

    def _timeout(self, line: Line) -> None:
        which = arg(line, 1)
        if which is not None and which.text in FRONTEND_TIMEOUTS and len(line.words) == 3:
            setattr(self.fe.timeouts, FRONTEND_TIMEOUTS[which.text], self.duration(line.words[2], "timeout"))
            return
        if which is not None and which.text in BACKEND_TIMEOUTS:
            self.ctx.report(line, f"timeout {which.text} has no effect on a frontend; not imported",
                            severity="info", word=which)
            return
        self.unmodelled(line)

    def _log(self, line: Line) -> None:
        if [w.text for w in line.words] == ["log", "global"] and self.ir_defaults.log:
            return  # the IR's defaults already log every proxy
        self.unmodelled(line)

    # ------------------------------------------------------------------ the result
    def finish(self, comments: list[tuple[int, str]] = ()) -> ir.Frontend:
        """The frontend; ``comments`` are the section's full-line comments (line, text), where
        the writer's provenance comments are."""
        fe = self.fe
        fe.acls = self.acls.ir_acls(self.ctx)
        fe.rules = [rule for phase in RULE_PHASES for rule in self.rules[phase]]
        self._finish_normalize()
        self._strip_stats_guards()
        self._apply_provenance(comments)
        fe.raw = self.raw.to_ir(fe.span)
        return fe

    def _apply_provenance(self, comments: list[tuple[int, str]]) -> None:
        """ACLs and conditions as the writer's ``# proxyc:`` comments say they were written,
        where the ACL and rule lines agree with them (see haproxy/provenance.py)."""
        said = [(line, text) for line, raw in comments if (text := provenance.payload(raw)) is not None]
        if not said:
            return
        declared = {acl.name for acl in self.fe.acls}
        self.fe.acls = restore_acls(self.fe.acls, [text for _, text in said if text.startswith("acl ")])
        above = {line + 1: text[3:] for line, text in said if text.startswith("if ")}
        for rule in self.fe.rules:
            text = above.get(rule.span.line) if rule.span is not None else None
            if text is not None:
                rule.condition = restore_condition(rule.condition, text, self.fe.acls, declared)

    def _strip_stats_guards(self) -> None:
        """The IR serves the stats page before any rule; HAProxy after its http-request rules,
        so the writer guards those with ``!{ path_beg <stats uri> }``. In the IR that guard
        changes nothing: it is taken out. A request rule without it is reported, since HAProxy
        would apply it to the stats page too."""
        stats = self.fe.stats
        if stats is None or "?" in stats.uri:
            return
        request_rules = {id(rule) for rule in self.rules["http"]}
        unguarded = False
        for rule in self.fe.rules:
            rule.condition, guarded = strip_stats_guard(rule.condition, stats.uri)
            unguarded = unguarded or (id(rule) in request_rules and not guarded)
        if unguarded:
            self.ctx.note(self.stats_line, "HAProxy runs http-request rules before the stats page; the IR "
                                           "serves the stats page first")

    def _finish_normalize(self) -> None:
        steps = [step for _, step in self.normalize_lines]
        if not steps:
            return
        if sorted(set(steps), key=NORMALIZE_STEPS.index) == list(NORMALIZE_STEPS):
            self.fe.normalize_uri = True
            return
        for line, step in self.normalize_lines:
            self.raw.add(self.ctx, line)
            self.ctx.report(line, f"normalize-uri {step} without all of " + ", ".join(NORMALIZE_STEPS)
                            + " is not the IR's normalize_uri; kept as raw HAProxy text", severity="warning")


def _is_stats_guard(cond, uri: str) -> bool:
    return (isinstance(cond, ir.Not) and isinstance(cond.item, ir.PathMatch) and cond.item.op == "prefix"
            and cond.item.values == [uri] and not cond.item.ignore_case)


def strip_stats_guard(cond: ir.Condition | None, uri: str) -> tuple[ir.Condition | None, bool]:
    """``cond`` without ``not path prefix <uri>`` conjuncts, and whether every alternative had
    one (the condition then never holds for the stats page)."""
    if cond is None:
        return None, False
    if _is_stats_guard(cond, uri):
        return None, True
    if isinstance(cond, ir.All):
        kept = [item for item in cond.items if not _is_stats_guard(item, uri)]
        if len(kept) == len(cond.items):
            return cond, False
        if not kept:
            return None, True
        return (kept[0] if len(kept) == 1 else ir.All(items=kept, span=cond.span)), True
    if isinstance(cond, ir.AnyOf):
        parts = [strip_stats_guard(item, uri) for item in cond.items]
        guarded = all(g for _, g in parts)
        if any(c is None for c, _ in parts):
            return None, guarded
        return ir.AnyOf(items=[c for c, _ in parts], span=cond.span), guarded
    return cond, False
