"""IR frontends → ``frontend`` sections, plus the small backends some rules need.

First-match order is the IR's meaning, but HAProxy runs every ``http-request`` action (return,
redirect, deny) before any ``use_backend``, wherever it is written. So:

* the rules *before* the first ``use`` rule are written as ``http-request ... if cond``, the
  idiomatic form, which keeps their order among themselves;
* from the first ``use`` rule on, every rule is a ``use_backend ... if cond`` in order; a
  return/redirect/deny there gets a backend of its own (``pxc:<frontend>:r<N>``, no servers)
  holding only that action, so it cannot win over an earlier ``use``;
* a default that is not a ``use`` is the last ``http-request`` when no rule uses an upstream,
  and otherwise a generated ``default_backend``. No default means no route: HAProxy answers 503.
"""
from __future__ import annotations

import posixpath

from ... import ir
from ..common import format_address
from .provenance import acl_comments, acls_differ, condition_comment
from .writer_backends import raw_lines
from .writer_conditions import ALWAYS, INLINE_ACLS_ABOVE, NEVER, ConditionWriter, Literal, Term, render_guard, simplify
from .writer_context import Context, Section, Unwritable, comment_lines, lines_or_none

REDIRECT_CODES = (301, 302, 303, 307, 308)
# Statuses HAProxy 2.6 has a built-in error page for; only those work with deny_status.
DENY_STATUSES = (200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429,
                 500, 501, 502, 503, 504)
BODYLESS_STATUSES = (204, 304)
HEADER_ACTIONS = {"set": "set-header", "add": "add-header", "delete": "del-header"}
FRONTEND_TIMEOUTS = (("client", "client"), ("http_request", "http-request"))
BACKEND_ONLY_TIMEOUTS = ("connect", "server", "queue", "tunnel", "check")
# HAProxy 2.6's steps towards nginx's normalisation (the HAProxy reader recognises exactly these),
# in nginx's order: decode, merge slashes, then resolve "." and ".." (without path-strip-dot, "/."
# and "/a/./b" would be matched as written; measured with verify against nginx 1.22).
NORMALIZE_STEPS = ("percent-decode-unreserved", "path-merge-slashes", "path-strip-dot", "path-strip-dotdot")

# tune.bufsize (16384) minus tune.maxrewrite (1024): measured, a longer `return ... string`
# body makes HAProxy warn, which -dW makes fatal.
MAX_REPLY_BODY = 15360


class FrontendWriter:
    def __init__(self, ctx: Context, fe: ir.Frontend):
        self.ctx, self.fe = ctx, fe
        self.mode = ctx.frontend_mode(fe)
        self.name = ctx.name_for(ctx.frontends, fe.name, fe.name, fe, "frontend")
        self.conditions = ConditionWriter(ctx, fe)
        self.declared_acls = self._declared_acls()
        self.leading: list[str] = []  # http-request actions of the rules before the first use
        self.switching: list[str] = []  # use_backend / default_backend, in order
        self.generated: list[Section] = []  # backends holding one action each
        self.stats_uri = self._stats_uri_literal()
        # Set by an unconditional http-request action: HAProxy warns about (and never runs)
        # any http-request rule after it.
        self.answers_everything = False

    def sections(self) -> tuple[Section, list[Section]]:
        """The frontend section and the backends generated for it."""
        self._write_rules()
        section = Section(f"frontend {self.name}", comments=list(self.fe.comments))
        if self.mode != self.ctx.cfg.defaults.mode:
            section.add(f"mode {self.mode}")
        section.add(*self._binds())
        section.add(*self._timeouts())
        section.add(*self._options())
        section.add(*self._stats())
        section.add(*self._acl_provenance())
        section.add(*self.conditions.declarations)
        section.add(*self._normalize_uri())
        section.add(*self.leading)
        section.add(*self._header_ops())
        section.add(*self.switching)
        section.add(*raw_lines(self.ctx, self.fe.raw))
        return section, self.generated

    # ------------------------------------------------------------------ provenance
    def _declared_acls(self) -> set[str]:
        """IR ACLs written as ``acl`` lines (under their own name, or renamed with a P003)."""
        return {name for name in self.conditions.acls if self.conditions.names.lookup(name) is not None}

    def _carries_provenance(self) -> bool:
        """Past INLINE_ACLS_ABOVE ACLs the writer inlines ACLs for load time; comments naming
        them all again would double a file that size, so such a frontend reads back inlined."""
        return len(self.conditions.acls) <= INLINE_ACLS_ABOVE

    def _acl_provenance(self) -> list[str]:
        """The IR's ACLs as comments when the ``acl`` lines cannot say them (an ``and``, a
        ``not``, a reference): HAProxy routes the same without them, the reader reads them back."""
        if not self._carries_provenance():
            return []
        renamed = any(self.conditions.names.lookup(name) not in (None, name) for name in self.conditions.acls)
        if renamed or not acls_differ(self.fe, self.declared_acls):
            return []  # a renamed ACL (P003) could not be matched with its comment
        return comment_lines(acl_comments(self.fe))

    def _condition_provenance(self, cond: ir.Condition | None) -> list[str]:
        """The rule's condition as written, when the DNF guard reads back as another tree."""
        if cond is None or not self._carries_provenance():
            return []
        return comment_lines(condition_comment(cond, self.conditions.acls, self.declared_acls))

    # ------------------------------------------------------------------ listeners and options
    def _binds(self) -> list[str]:
        return [line for listen in self.fe.listens for line in self._bind(listen)]

    @lines_or_none
    def _bind(self, listen: ir.Listen) -> list[str]:
        address = format_address(listen.address, listen.port) if listen.address else f":{listen.port}"
        words = ["bind", self.ctx.word(address, listen, "listen address")]
        if listen.tls is not None:
            words += ["ssl", "crt", self.ctx.word(self._certificate(listen.tls), listen.tls, "certificate")]
        return comment_lines(listen.comments) + [" ".join(words)]

    def _certificate(self, tls: ir.Tls) -> str:
        """HAProxy 2.6 reads the key from the certificate file or from ``<cert>.key``; any
        other key file must be combined with the certificate into one PEM."""
        if tls.key is None or tls.key == tls.cert + ".key":
            return tls.cert
        pem = posixpath.splitext(tls.cert)[0] + ".pem"
        self.ctx.diags.warning(tls.span, "P001",
                               f"HAProxy cannot load the key {tls.key!r} separately from the certificate; "
                               f"combine the key into the PEM {pem!r}",
                               hint=f"cat {tls.cert} {tls.key} > {pem}")
        return pem

    def _timeouts(self) -> list[str]:
        lines = [self.ctx.timeout(hap, value, self.fe.timeouts, self.fe) for key, hap in FRONTEND_TIMEOUTS
                 if (value := getattr(self.fe.timeouts, key)) is not None]
        for key in BACKEND_ONLY_TIMEOUTS:
            if getattr(self.fe.timeouts, key) is not None:
                self.ctx.diags.warning(self.fe.timeouts.span or self.fe.span, "P001",
                                       f"timeout {key} belongs to a backend in HAProxy; ignored on "
                                       f"frontend {self.fe.name!r}")
        return lines

    def _options(self) -> list[str]:
        lines = []
        defaults = self.ctx.cfg.defaults
        if self.ctx.log_requests and self.mode != defaults.mode:
            lines.append("option httplog" if self.mode == "http" else "option tcplog")
        if self.fe.forwardfor or defaults.forwardfor:
            if self.mode == "http":
                lines.append("option forwardfor")
            elif self.fe.forwardfor:
                self.ctx.diags.warning(self.fe.span, "P001",
                                       f"forwardfor on frontend {self.fe.name!r} in tcp mode: ignored")
        return lines

    @lines_or_none
    def _stats(self) -> list[str]:
        stats = self.fe.stats
        if stats is None:
            return []
        if self.mode != "http":
            self.ctx.diags.error(stats.span, "P001", "stats need http mode; not written")
            return []
        lines = ["stats enable", f"stats uri {self.ctx.word(stats.uri, stats, 'stats uri')}"]
        if stats.refresh is not None:
            lines.append(f"stats refresh {self.ctx.duration(stats.refresh, stats, 'stats refresh')}")
        seen = set()
        for user in stats.users:
            if ":" in user.user:
                self.ctx.diags.error(user.span, "P003", f"stats user {user.user!r} contains ':'; not written")
                continue
            if user.user in seen:  # HAProxy would warn and ignore it
                self.ctx.diags.warning(user.span, "P001", f"stats user {user.user!r} is given twice: HAProxy "
                                       "keeps the first password; this one is not written")
                continue
            seen.add(user.user)
            lines.append(f"stats auth {self.ctx.word(f'{user.user}:{user.password}', user, 'stats auth')}")
        if stats.realm is not None:
            lines.append(f"stats realm {self.ctx.header_word(stats.realm, stats, 'stats realm')}")
        return lines

    def _normalize_uri(self) -> list[str]:
        if not self.fe.normalize_uri:
            return []
        if self.mode != "http":
            self.ctx.diags.warning(self.fe.span, "P001", "normalize_uri in tcp mode: ignored")
            return []
        if any(isinstance(node, ir.PathMatch) for node in ir.iter_nodes(self.fe)):  # a path decides a route
            self.ctx.diags.warning(self.fe.span, "P001", "HAProxy normalises less than nginx: only unreserved "
                                   "characters are percent-decoded, so a path with an escaped reserved character "
                                   "(such as %23 or %2F) is matched still escaped where nginx decodes it, and a "
                                   "'..' above the root is kept where nginx answers 400")
        return [f"http-request normalize-uri {step}" for step in NORMALIZE_STEPS]

    # ------------------------------------------------------------------ headers
    def _header_ops(self) -> list[str]:
        request_ops = self.fe.request_headers
        if request_ops and self.answers_everything:
            self.ctx.diags.info(request_ops[0].span, "P001", "request headers are never sent: a rule answers "
                                "every request; not written")
            request_ops = []
        ops = [("http-request", op) for op in request_ops]
        ops += [("http-response", op) for op in self.fe.response_headers]
        if ops and self.mode != "http":
            self.ctx.diags.warning(self.fe.span, "P001", "header changes in tcp mode: ignored")
            return []
        self._report_headers_read_after_change()
        return [line for keyword, op in ops for line in self._header_op(keyword, op)]

    @lines_or_none
    def _header_op(self, keyword: str, op: ir.HeaderOp) -> list[str]:
        words = [keyword, HEADER_ACTIONS[op.action], self.ctx.header_word(op.name, op, f"header name {op.name!r}")]
        if op.action != "delete":
            words.append(self.ctx.log_format_word(op.value or "", op, f"header {op.name!r} value"))
        return [" ".join(words)]

    def _report_headers_read_after_change(self) -> None:
        """``use_backend`` conditions run after every ``http-request set-header``: one that reads
        a header this frontend changes would see the changed value, unlike the IR (and nginx)."""
        changed = {op.name.lower(): op for op in self.fe.request_headers}
        read: set[str] = set()
        for rule in self.fe.rules[self._first_use():]:
            read |= self.conditions.headers_read(rule.condition)
        for name in sorted(read & changed.keys()):
            self.ctx.diags.error(changed[name].span, "P001",
                                 f"HAProxy chooses the backend after changing request header {name!r}, so rules "
                                 "that match it see the new value")

    # ------------------------------------------------------------------ rules
    def _first_use(self) -> int:
        return next((i for i, r in enumerate(self.fe.rules) if isinstance(r.action, ir.UseUpstream)),
                    len(self.fe.rules))

    def _write_rules(self) -> None:
        first_use = self._first_use()
        for index, rule in enumerate(self.fe.rules):
            try:
                self._write_rule(index, rule, leading=index < first_use)
            except Unwritable:
                continue
        self._write_default(no_use_rules=first_use == len(self.fe.rules))

    def _write_rule(self, index: int, rule: ir.Rule, leading: bool) -> None:
        terms = self.conditions.guard(rule.condition)
        if terms == NEVER:
            self.ctx.diags.warning(rule.span, "P001", "this rule's condition can never hold; not written")
            return
        action = rule.action
        provenance = self._condition_provenance(rule.condition)
        if leading and not isinstance(action, ir.UseUpstream):
            self._add_leading(action, terms, rule, provenance)
            return
        guard = _guard(terms)
        if isinstance(action, ir.UseUpstream):
            line = f"use_backend {self.ctx.backend_name(action.upstream)}{guard}"
        else:
            line = f"use_backend {self._action_backend(f'r{index + 1}', action, f'rule {index + 1}')}{guard}"
        self.switching += [*provenance, line]

    def _write_default(self, no_use_rules: bool) -> None:
        action = self.fe.default
        if action is None:
            return  # no route: HAProxy answers 503, as the IR means
        try:
            if isinstance(action, ir.UseUpstream):
                self.switching.append(f"default_backend {self.ctx.backend_name(action.upstream)}")
            elif no_use_rules:
                self._add_leading(action, ALWAYS, action)
            else:
                self.switching.append(f"default_backend {self._action_backend('default', action, 'default')}")
        except Unwritable:
            return

    def _add_leading(self, action: ir.Node, terms: list[Term], node: ir.Node,
                     provenance: list[str] = ()) -> None:
        if self.answers_everything:
            self.ctx.diags.info(node.span, "P001", "never reached: an earlier rule answers every request; "
                                "not written")
            return
        terms = self._after_stats(terms)
        line = self._action_line(action) + _guard(terms)
        self.leading += [*provenance, line]
        self.answers_everything = terms == ALWAYS

    def _action_backend(self, label: str, action: ir.Node, what: str) -> str:
        line = self._action_line(action)
        name = self.ctx.backends.fresh(("generated", self.name, label), f"pxc:{self.name}:{label}")
        section = Section(f"backend {name}", comments=[f"{what} of frontend {self.name}: {action.type}"])
        if self.mode != self.ctx.cfg.defaults.mode:
            section.add(f"mode {self.mode}")
        section.add(line)
        self.generated.append(section)
        return name

    def _stats_uri_literal(self) -> Literal | None:
        """In the IR the stats page answers before any rule; HAProxy serves it after the
        http-request rules, so those rules must not hold for the stats URI."""
        stats = self.fe.stats
        if stats is None or self.mode != "http":
            return None
        try:
            # As any path prefix is written: "--" before a value that looks like a flag, and a
            # named ACL for "}", which would end an anonymous one.
            page = ir.PathMatch(op="prefix", values=[stats.uri], span=stats.span)
            return Literal(self.conditions.atom(page), negated=True)
        except Unwritable:
            return None

    def _after_stats(self, terms: list[Term]) -> list[Term]:
        if self.stats_uri is None:
            return terms
        return simplify([term + (self.stats_uri,) for term in terms])

    # ------------------------------------------------------------------ actions
    def _action_line(self, action: ir.Node) -> str:
        if self.mode == "tcp":
            return self._tcp_action_line(action)
        if isinstance(action, ir.Return):
            return "http-request " + self._return(action)
        if isinstance(action, ir.Redirect):
            return "http-request " + self._redirect(action)
        if isinstance(action, ir.Deny):
            return "http-request " + self._deny(action)
        raise AssertionError(f"not an action line: {action.type}")

    def _tcp_action_line(self, action: ir.Node) -> str:
        if isinstance(action, ir.Deny):
            self.ctx.diags.warning(action.span, "P001",
                                   f"deny in tcp mode closes the connection; status {action.status} is not sent")
            return "tcp-request content reject"
        self.ctx.diags.error(action.span, "P001", f"{action.type} needs http mode; the rule is left out")
        raise Unwritable("http action in tcp mode")

    def _return(self, action: ir.Return) -> str:
        if action.status < 200:
            self.ctx.diags.error(action.span, "P001", f"HAProxy cannot return status {action.status}; "
                                 "the rule is left out")
            raise Unwritable("status")
        line = f"return status {action.status}"
        if action.body and action.status in BODYLESS_STATUSES:
            self.ctx.diags.warning(action.span, "P001", f"a {action.status} response has no body; body not sent")
        elif len(action.body.encode()) > MAX_REPLY_BODY:
            self.ctx.diags.error(action.span, "P003", f"a {len(action.body.encode())}-byte response body does not "
                                 f"fit HAProxy's reply buffer ({MAX_REPLY_BODY} bytes with the default tune.bufsize); "
                                 "the rule is left out", hint="serve large bodies from a backend")
            raise Unwritable("body too large")
        elif action.body:
            line += (f" content-type {self.ctx.header_word(action.content_type, action, 'content type')}"
                     f" string {self.ctx.word(action.body, action, 'response body')}")
        return line

    def _redirect(self, action: ir.Redirect) -> str:
        if action.code not in REDIRECT_CODES:
            self.ctx.diags.error(action.span, "P001", f"HAProxy redirects only with codes "
                                 f"{', '.join(map(str, REDIRECT_CODES))}, not {action.code}; the rule is left out")
            raise Unwritable("redirect code")
        kind, target = next(((k, v) for k in ("location", "scheme", "prefix")
                             if (v := getattr(action, k)) is not None), (None, None))
        if kind is None:
            self.ctx.diags.error(action.span, "P001", "redirect without a target; the rule is left out")
            raise Unwritable("redirect target")
        # In http-request rules all three targets are log-format strings.
        target_word = self.ctx.log_format_word(target, action, "redirect target")
        return f"redirect {kind} {target_word} code {action.code}"

    def _deny(self, action: ir.Deny) -> str:
        if action.status in DENY_STATUSES:
            return f"deny deny_status {action.status}"
        self.ctx.diags.info(action.span, "P001", f"HAProxy has no error page for {action.status}: written as "
                            "'return' with an empty body")
        return self._return(ir.Return(status=action.status, span=action.span))


def _guard(terms: list[Term]) -> str:
    return "" if terms == ALWAYS else " if " + render_guard(terms)
