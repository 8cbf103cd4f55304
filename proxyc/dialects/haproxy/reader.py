"""The HAProxy reader: haproxy.cfg text → IR + diagnostics.

``read(text, filename)`` returns ``(Config | None, diagnostics)``; ``read_with_report`` also
returns :class:`ImportStats`, which accounts for every line: converted (into the IR, possibly as
raw HAProxy text) or reported. Nothing is dropped silently and no input raises.

Sections: ``global`` (log targets; everything else is kept raw), ``defaults`` (several, named,
with ``from``: see ``reader_defaults``), ``frontend``, ``backend``, ``listen`` (a frontend and an
upstream of the same name), ``resolvers``; ``userlist`` and every other section are kept raw.
Backends that only answer with a fixed response (what proxyc's writer generates for a rule
that returns, redirects or denies) are folded back into the rules that use them, so that
IR → HAProxy → IR gives the rules back.

Codes: E001 text HAProxy's tokenizer rejects; E201-E210 lines HAProxy would reject (kept raw,
so HAProxy reports them the same way); I001 what the IR cannot represent exactly (info when
kept raw without changing routing or when approximated, warning when it changes what a request
gets or is not imported).
"""
from __future__ import annotations

import gc

from ... import ir
from ...diagnostics import Diagnostic
from .lexer import LexError, Line, Section, Word, lex
from .reader_backend import BackendReader
from .reader_base import ImportStats, ReadContext, comment_texts, raw_text
from .reader_conditional import resolve_conditionals
from .reader_defaults import (
    FRONTEND_TIMEOUTS,
    UPSTREAM_TIMEOUTS,
    DefaultsPlan,
    effective_default_timeout,
)
from .reader_frontend import FrontendReader
from .reader_global import GlobalReader
from .reader_proxy import ProxyPart
from .reader_resolvers import read_resolvers, takes_nameservers_elsewhere
from .writer import REQUIRED_TIMEOUTS

__all__ = ["ImportStats", "read", "read_with_report"]

# listen lines that belong to the backend side (everything else is the frontend's).
BACKEND_SIDE = frozenset({
    "server", "default-server", "server-template", "balance", "hash-type", "cookie", "http-check", "tcp-check",
    "retries", "retry-on", "fullconn", "http-reuse", "use-server", "dispatch", "external-check", "persist",
    "force-persist", "ignore-persist", "hash-balance-factor", "http-send-name-header", "source",
    "load-server-state-from-file", "server-state-file-name", "dynamic-cookie-key", "stick", "stick-table",
})
BACKEND_OPTIONS = frozenset({
    "httpchk", "allbackups", "redispatch", "ssl-hello-chk", "tcp-check", "mysql-check", "pgsql-check",
    "redis-check", "smtpchk", "ldap-check", "spop-check", "external-check", "persist", "abortonclose",
    "checkcache", "http-pretend-keepalive", "srvtcpka", "log-health-checks", "prefer-last-server",
    "tcp-smart-connect", "http-no-delay", "http-use-htx",
})
BACKEND_TIMEOUT_WORDS = frozenset({"connect", "server", "queue", "tunnel", "check", "server-fin"})
KEPT_RAW_SECTIONS_INFO = ("userlist",)


def read(text: str, filename: str | None = None) -> tuple[ir.Config | None, list[Diagnostic]]:
    cfg, diags, _ = read_with_report(text, filename)
    return cfg, diags


def read_with_report(text: str, filename: str | None = None) -> tuple[ir.Config | None, list[Diagnostic], ImportStats]:
    """Like ``read``, plus how every line was accounted for."""
    try:
        sections = lex(text, filename)
    except LexError as exc:
        diag = Diagnostic("E001", exc.message, file=filename, line=exc.line, col=exc.col, hint=exc.hint)
        return None, [diag], ImportStats(total=0, converted=0)
    ctx = ReadContext(text, filename)
    # The IR is a large acyclic tree of small objects: the cyclic garbage collector would only
    # rescan it again and again (as in the lexer, it costs more than the reading itself).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        cfg = ConfigReader(ctx, sections).read()
    finally:
        if gc_was_enabled:
            gc.enable()
    stats = ctx.stats()
    return cfg, ctx.diags.sorted(), stats


class ConfigReader:
    def __init__(self, ctx: ReadContext, sections: list[Section]):
        self.ctx = ctx
        self.sections = sections
        self.frontends: list[tuple[FrontendReader, Section]] = []
        self.backends: list[tuple[BackendReader, Section]] = []
        self.proxies: list[tuple[ProxyPart, Section]] = []  # both kinds, in file order
        self.raw: list[ir.Raw] = []
        self.resolvers: list[ir.Resolver] = []
        self.missing_timeouts: dict[str, list[ir.Node]] = {}
        self.raw_resolvers: list[str] = []  # resolvers sections kept as raw text

    def read(self) -> ir.Config:
        for section in self.sections:
            for line in ([section.header] if section.header else []) + section.lines:
                self.ctx.track(line)
        self.sections = resolve_conditionals(self.ctx, self.sections)
        self.plan = DefaultsPlan(self.ctx, self.sections)
        has_log_targets = any(line.words[0].text == "log" for section in self.sections
                              if section.keyword == "global" for line in section.lines)
        defaults, defaults_raw = self.plan.ir_defaults(has_log_targets)
        self.defaults = defaults
        cfg = ir.Config(defaults=defaults)
        if defaults_raw:
            self.raw.append(ir.Raw(target="haproxy", text=raw_text(defaults_raw), context="defaults",
                                   span=defaults.span))
        global_sections = []
        for section in self.sections:
            if section.keyword == "global":
                global_sections.append(section)
            else:
                self._section(section)
        self.plan.account_other_sections()
        self._fold_fixed_actions()
        cfg.frontends, cfg.upstreams = self._proxies()
        cfg.resolvers = self.resolvers
        normalize = any(fe.normalize_uri for fe in cfg.frontends)
        for section in global_sections:
            logs, raw = GlobalReader(self.ctx, normalize).read(section)
            cfg.logs += logs
            self.raw = raw + self.raw
        cfg.raw = self.raw
        return cfg

    # ------------------------------------------------------------------ sections
    def _section(self, section: Section) -> None:
        keyword = section.keyword
        if keyword is None:
            self.ctx.report_lines(section.lines, "lines before the first section; HAProxy rejects them",
                                  severity="error", code="E210")
        elif keyword == "defaults":
            return  # read by the defaults plan
        elif keyword in ("frontend", "backend", "listen"):
            self._proxy(section)
        elif keyword == "resolvers" and section.args and takes_nameservers_elsewhere(self.ctx, section):
            self.raw_resolvers.append(section.args[0].text)
            self._raw_section(section, "resolvers whose nameservers the IR cannot hold (parse-resolv-conf) are "
                                       "kept as raw HAProxy text")
        elif keyword == "resolvers":
            resolver = read_resolvers(self.ctx, section)
            if resolver is not None:
                self.resolvers.append(resolver)
        else:
            self._raw_section(section)

    def _raw_section(self, section: Section, message: str | None = None) -> None:
        last = section.lines[-1].line if section.lines else section.header.line
        text = "\n".join(line.rstrip() for line in self.ctx.source_lines[section.header.line - 1 : last])
        self.raw.append(ir.Raw(target="haproxy", text=text + "\n", context="sections",
                               span=self.ctx.span(section.header)))
        severity = "info" if section.keyword in KEPT_RAW_SECTIONS_INFO else "warning"
        message = message or f"{section.keyword} sections are not modelled; kept as raw HAProxy text"
        self.ctx.report_lines([section.header, *section.lines], message, severity=severity)

    def _proxy(self, section: Section) -> None:
        name = self._proxy_name(section)
        if name is None:
            return
        comments = comment_texts(section.leading_comments)
        if section.keyword == "frontend":
            reader = FrontendReader(self.ctx, name, self.defaults, comments)
            reader.declare_acls(section.lines)
            self._feed_all(reader, section.lines)
            self.frontends.append((reader, section))
            self.proxies.append((reader, section))
        elif section.keyword == "backend":
            reader = BackendReader(self.ctx, name, self.defaults, comments)
            self._feed_all(reader, section.lines)
            self.backends.append((reader, section))
            self.proxies.append((reader, section))
        else:
            self._listen(section, name, comments)

    def _proxy_name(self, section: Section) -> Word | None:
        """The name word of ``frontend|backend|listen NAME [from DEFAULTS]``."""
        header = section.header
        args = section.args
        if not args:
            self.ctx.report_lines([header, *section.lines], f"{section.keyword} without a name; HAProxy rejects it",
                                  severity="error", code="E204")
            return None
        extra = args[3:] if len(args) >= 3 and args[1].text == "from" else args[1:]
        if extra:
            self.ctx.report(header, f"unexpected {extra[0].text!r} in the {section.keyword} header; not imported",
                            severity="warning", word=extra[0])
        else:
            self.ctx.converted(header)
        return args[0]

    def _feed_all(self, reader: ProxyPart, lines: list[Line]) -> None:
        for line in lines:
            reader.feed(line)

    def _listen(self, section: Section, name: Word, comments: list[str]) -> None:
        front = FrontendReader(self.ctx, name, self.defaults, comments)
        back = BackendReader(self.ctx, name, self.defaults, [])
        front_lines = [line for line in section.lines if not _backend_side(line)]
        back_lines = [line for line in section.lines if _backend_side(line)]
        front.declare_acls(front_lines)
        for line in section.lines:
            if line.words[0].text == "mode":
                self._listen_mode(front, back, line)
            else:
                (back if _backend_side(line) else front).feed(line)
        has_bind = any(line.words[0].text == "bind" for line in front_lines)
        if has_bind:
            self.frontends.append((front, section))
            self.proxies.append((front, section))
        else:
            self.ctx.report_lines([line for line in front_lines if line.words[0].text != "mode"],
                                  f"listen {name.text} has no bind line, so its frontend settings have no "
                                  "effect; not imported")
        if back_lines:
            self.backends.append((back, section))
            self.proxies.append((back, section))
            if has_bind:
                front.listen_backend = name.text

    def _listen_mode(self, front: FrontendReader, back: BackendReader, line: Line) -> None:
        front.feed(line)
        if front.explicit_mode:
            back.up.mode, back.explicit_mode = front.fe.mode, True

    # ------------------------------------------------------------------ fixed-action backends
    def _fold_fixed_actions(self) -> None:
        """Fold backends that only answer with one action into the rules that use them."""
        raw_refs = {ref for reader, _ in self.frontends for ref in reader.raw_backend_refs}
        dynamic = any("%[" in ref for ref in raw_refs)
        uses = self._backend_uses()
        for reader, _ in self.backends:
            action = reader.fixed_action
            if action is None:
                continue
            name = reader.up.name
            if dynamic or name in raw_refs or not uses.get(name):
                reader.keep_fixed_action_raw()
                continue
            for holder, attribute in uses[name]:
                setattr(holder, attribute, action.model_copy(deep=True))
            reader.folded = True

    def _backend_uses(self) -> dict[str, list[tuple[object, str]]]:
        uses: dict[str, list[tuple[object, str]]] = {}
        for reader, _ in self.frontends:
            fe = reader.fe
            holders = [(rule, "action") for phase in reader.rules.values() for rule in phase]
            holders.append((fe, "default"))
            for holder, attribute in holders:
                action = getattr(holder, attribute)
                if isinstance(action, ir.UseUpstream):
                    uses.setdefault(action.upstream, []).append((holder, attribute))
        return uses

    # ------------------------------------------------------------------ the proxies
    def _proxies(self) -> tuple[list[ir.Frontend], list[ir.Upstream]]:
        frontends, upstreams = [], []
        for reader, section in self.proxies:
            if isinstance(reader, FrontendReader):
                fe = reader.finish(section.comments)
                if fe.default is None and reader.listen_backend is not None:
                    fe.default = ir.UseUpstream(upstream=reader.listen_backend, span=fe.span)
                self.plan.apply_to_frontend(fe, section, reader.explicit_mode)
                self._missing_timeouts(fe, FRONTEND_TIMEOUTS)
                _normalize(fe, self.defaults, FRONTEND_TIMEOUTS)
                frontends.append(fe)
            elif not reader.folded:
                up = reader.finish()
                self._unresolved(up)
                self.plan.apply_to_upstream(up, section, reader.explicit_mode)
                self._missing_timeouts(up, UPSTREAM_TIMEOUTS)
                _normalize(up, self.defaults, UPSTREAM_TIMEOUTS)
                upstreams.append(up)
        self._report_missing_timeouts()
        return frontends, upstreams

    def _unresolved(self, up: ir.Upstream) -> None:
        """Servers that name a resolvers section kept as raw text cannot refer to it in the IR."""
        if up.resolver in self.raw_resolvers:
            self.ctx.note(up.span, f"the servers of backend {up.name} use resolvers {up.resolver}, which is kept as "
                                   "raw HAProxy text; their 'resolvers' setting is not imported", severity="warning")
            up.resolver = None

    def _missing_timeouts(self, node: ir.Frontend | ir.Upstream, keys: tuple[str, ...]) -> None:
        """Required timeouts set neither on the proxy nor in the defaults that become the IR's
        (a proxy with other defaults was told about its differences already)."""
        for key in keys:
            if key in REQUIRED_TIMEOUTS and getattr(node.timeouts, key) is None \
                    and self.plan.base_values.timeout(key) is None:
                self.missing_timeouts.setdefault(key, []).append(node)

    def _report_missing_timeouts(self) -> None:
        for key, nodes in sorted(self.missing_timeouts.items()):
            names = ", ".join(n.name for n in nodes)
            self.ctx.note(nodes[0].span, f"no timeout {key} for {names}: HAProxy waits forever (and warns); the "
                                         "IR's default of 60s applies")


def _backend_side(line: Line) -> bool:
    """Which side of a ``listen`` a line belongs to (True: the backend)."""
    words = [w.text for w in line.words]
    if words[0] in BACKEND_SIDE:
        return True
    if words[0] == "option" and len(words) > 1:
        return words[1] in BACKEND_OPTIONS
    if words[0] == "timeout" and len(words) > 1:
        return words[1] in BACKEND_TIMEOUT_WORDS
    return False


def _normalize(node: ir.Frontend | ir.Upstream, defaults: ir.Defaults, keys: tuple[str, ...]) -> None:
    """A proxy setting equal to what the IR's defaults already mean is left unset."""
    if node.mode == defaults.mode:
        node.mode = None
    for key in keys:
        if getattr(node.timeouts, key) is not None and getattr(node.timeouts, key) == \
                effective_default_timeout(defaults, key):
            setattr(node.timeouts, key, None)
    if isinstance(node, ir.Frontend) and node.forwardfor and defaults.forwardfor:
        node.forwardfor = False

