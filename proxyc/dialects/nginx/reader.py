"""Reads nginx configuration (nginx.conf and the files it includes) into the IR.

    read(text, filename=None, *, path=None) -> (Config | None, diagnostics)
    read_file(path)                         -> (Config | None, diagnostics)
    read_with_report(text, filename=None, *, path=None) -> (Config | None, diagnostics, stats per file)

Routing is translated, not transcribed: nginx picks a server block by name and then a location
by its own precedence; the IR evaluates rules first-match. ``reader_servers`` and
``reader_locations`` write nginx's order out as an equivalent first-match list (DESIGN §2).

Everything read is accounted for (``reader_ledger``): converted into the IR, or reported with a
diagnostic — I001 (warning) for a directive the IR cannot hold, kept as an ``ir.Raw`` nginx
escape hatch where it has a clear place (main, http, stream, a server block that is a frontend
of its own, an upstream), so nginx → IR → nginx keeps it; I002 (info) for an implicit nginx
behaviour approximated (files served where the IR answers 404); I003 for server names nginx
itself ignores. Problems nginx would refuse are E2xx errors: E201 syntax, E202 unreadable file,
E203 invalid UTF-8, E204/E205/E206 include arguments/missing/cycle, E207 invalid directive.

Files given as text are written to a temporary file for crossplane (whose ``parse`` takes a
path), and spans keep the caller's file name. Relative includes are resolved against the
directory of ``path``, as nginx resolves them against its configuration directory. crossplane
gives no columns: every span has ``col`` None.

Not modelled on purpose: requests without a Host header (``server_name ""``), the automatic
301 nginx sends for a prefix location ending in "/" when the URI lacks the slash, nginx's
default ``Host $proxy_host`` upstream header (the IR keeps the client's Host, as HAProxy does).
"""
from __future__ import annotations

import os

from ... import ir
from ...diagnostics import Diagnostic, Diagnostics
from ...ir.walk import parse_nginx_duration
from ...validate import NAME
from ..common import parse_address
from ..provenance import strip
from .logs import STREAM_FORMAT, STREAM_FORMAT_NAME, log_of
from .provenance_dns import DnsChoice, check_dns_choices
from .provenance_names import ResolverSaid, renamed_from, resolver_said, usable_names
from .provenance_route_map import check_route_maps
from .provenance_stream import check_stream_route_maps
from .reader_frontends import FrontendNames, HttpFrontends, upstream_timeouts
from .reader_http import (
    SETTINGS,
    Level,
    ServerBlock,
    ServerReader,
    compare_send_timeout,
    duration_of,
)
from .reader_ledger import FileStats, Ledger, expand_includes
from .reader_payload import Loader, Stmt
from .reader_stream import STREAM_SETTINGS, StreamReader, StreamServer
from .quoting import DOLLAR_VAR
from .reader_upstreams import UPSTREAM_HANDLED, UpstreamNames, UpstreamReader

MAIN_HANDLED = frozenset({"http", "stream", "events", "load_module"})
HTTP_HANDLED = SETTINGS | {"server", "upstream", "resolver", "access_log"}
STREAM_HANDLED = STREAM_SETTINGS | {"server", "upstream", "resolver"}
# Top-level directives that only a main nginx.conf has; a file without any is a fragment.
_MAIN_ONLY = frozenset({"http", "events", "stream", "mail", "worker_processes", "user", "pid", "load_module",
                        "daemon", "env", "worker_rlimit_nofile", "master_process", "pcre_jit", "thread_pool",
                        "timer_resolution", "working_directory", "lock_file", "worker_cpu_affinity",
                        "worker_priority", "worker_shutdown_timeout", "ssl_engine"})
_HTTP_BLOCKS = frozenset({"server", "upstream", "map", "geo", "split_clients", "types"})
_HTTP_DEFAULT_TIMEOUTS = (("proxy_connect_timeout", "connect"), ("proxy_read_timeout", "server"),
                          ("client_body_timeout", "client"), ("client_header_timeout", "http_request"))


# ------------------------------------------------------------------------------ public API


def read(text: str, filename: str | None = None, *, path: str | None = None) -> tuple[ir.Config | None, list[Diagnostic]]:
    """nginx text → (IR or None when it cannot be parsed, diagnostics sorted by place).
    ``path`` is the file the text came from, for includes."""
    cfg, diags, _ = read_with_report(text, filename, path=path)
    return cfg, diags


def read_file(path: str) -> tuple[ir.Config | None, list[Diagnostic]]:
    cfg, diags, _ = read_with_report(None, path, path=path)
    return cfg, diags


def read_with_report(text: str | None, filename: str | None = None, *,
                     path: str | None = None) -> tuple[ir.Config | None, list[Diagnostic], dict[str | None, FileStats]]:
    """Like ``read`` (``text`` None: read ``path``), plus what became of every directive, per
    file: converted, reported (by directive name), and any statement nobody accounted for."""
    diags = Diagnostics()
    ledger = Ledger(diags)
    display = filename or path
    base_dir = os.path.dirname(os.path.abspath(path)) if path else None
    loader = Loader(diags, base_dir, os.path.dirname(display) if path and display else None)
    if text is None:
        stmts = loader.load_path(path, display)
    else:
        stmts = loader.load_text(text, display, real=os.path.realpath(path) if path else None)
    cfg = None
    if stmts is not None and not any(d.code in ("E201", "E202") for d in diags):
        reader = _Reader(ledger)
        try:
            cfg = reader.read(stmts, display)
        except Exception as exc:  # noqa: BLE001 -- a reader bug must be a diagnostic, never a traceback
            diags.error(ir.Span(file=display), "E999", f"internal error while reading nginx config: {exc!r}")
            cfg = None
        finally:
            # The reader's parts refer back to it (bound methods), and the CLI runs without the
            # cyclic GC: dropping its state lets reference counting free the statement tree
            # now, before the writer runs, instead of keeping it to the end of the process.
            reader.__dict__.clear()
    return cfg, diags.sorted(), ledger.file_stats(loader.files)


# ------------------------------------------------------------------------------ the reader


class _Reader:
    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.cfg = ir.Config()
        self.names = UpstreamNames()
        self.frontend_names = FrontendNames()
        self.upstreams: list[ir.Upstream] = []
        self.http_servers: list[ServerBlock] = []
        self.stream_servers: list[StreamServer] = []
        self.stream_levels: list[Level] = []
        self._http_logs: list[tuple] = []  # http access_log targets a stream one may repeat
        self._resolvers: dict[tuple, tuple[ir.Resolver, Stmt, Level]] = {}
        self._stream_reader = StreamReader(ledger, self.names, self.frontend_names, self._resolver)
        self._server_reader = ServerReader(ledger, self.names, self._resolver)

    def read(self, stmts: list[Stmt], display: str | None) -> ir.Config:
        kind = _fragment_kind(stmts)
        if kind == "main":
            self._main(stmts)
        elif kind == "http":
            self.ledger.note(stmts[0], "no http block: the file is read as the contents of one")
            self._http(stmts)
        elif stmts:
            self.ledger.note(stmts[0], "no server block: the file is read as the body of one (listening on *:80, "
                             "nginx's default)")
            self._http([_implicit_server(stmts, display)])
        self._finish()
        return self.cfg

    # -- main --------------------------------------------------------------------------------
    def _main(self, stmts: list[Stmt]) -> None:
        for stmt in expand_includes(stmts, self.ledger, MAIN_HANDLED, self._raw_keeper("main"),
                                    blocks=frozenset({"http", "stream", "events"})):
            if stmt.name == "http" and stmt.block is not None:
                self.ledger.converted(stmt)
                self._http(stmt.block)
            elif stmt.name == "stream" and stmt.block is not None:
                self.ledger.converted(stmt)
                self._stream(stmt.block)
            elif stmt.name == "events" and not stmt.block:
                self.ledger.converted(stmt)  # the nginx writer writes the same empty block
            elif stmt.name == "events":
                self.ledger.unsupported(stmt, "events (worker tuning) is not imported; the nginx writer "
                                        "writes its own events block", severity="info")
            elif stmt.name == "load_module" and any("stream" in arg for arg in stmt.args):
                self.ledger.converted(stmt)  # implied by stream {}: the writer loads it with one
            else:
                self._raw(stmt, "main")

    # -- http --------------------------------------------------------------------------------
    def _http(self, block: list[Stmt]) -> None:
        level = Level(None, "http")
        items = list(expand_includes(block, self.ledger, HTTP_HANDLED, self._raw_keeper("http", level),
                                     blocks=frozenset({"server", "upstream"})))
        dollar_geo = self._dollar_variable(items)
        route_maps = self._server_reader.route_maps = check_route_maps(items)
        duplicates = []
        for item in items:  # first: names and settings, which hold wherever they are written
            if item.name == "upstream" and item.block is not None and len(item.args) == 1:
                if not self.names.declare("http", item.args[0], renamed_from(item.args[0], item.comments)):
                    duplicates.append(item)
            elif item.name in SETTINGS:
                level.collect(item, self.ledger)
        for item in items:
            if item.name == "resolver":
                self._resolver(item, level)
        dns_choices = self._dns_choices(items, "http", self._server_reader.dns_choices)
        upstream_reader = UpstreamReader(self.ledger, stream=False, resolver=level.resolver_name)
        for item in items:
            if item in duplicates:
                self.ledger.invalid(item, f'duplicate upstream "{item.args[0]}"')
            elif item.name == "upstream":
                self._upstream(item, "http", upstream_reader, mode=None)
            elif item.name == "server" and item.block is not None:
                self.http_servers.append(self._server_reader.read(item, level))
            elif item.name == "access_log":
                self._access_log(item)
            elif self._dns_choice(item, dns_choices):
                pass
            elif route_maps.explains(item):
                for stmt in item.walk():
                    self.ledger.converted(stmt)  # a checked route map: its routing is the frontend's
            elif item.name not in SETTINGS and item.name != "resolver" and item is not dollar_geo:
                self._raw(item, "http")
        self._http_defaults(level)

    def _dollar_variable(self, items: list[Stmt]) -> Stmt | None:
        """The nginx writer's ``geo $pxc_dollar { default "$"; }`` (how it writes a literal "$"
        where nginx expands variables): converted, and every statement below learns that a
        reference to it is a "$" (``Stmt.literal``). Any other geo stays raw nginx text."""
        geo = next((item for item in items if _is_dollar_geo(item)), None)
        if geo is not None:
            for stmt in geo.walk():
                self.ledger.converted(stmt)
            for stmt in _everything_in(items):
                stmt.dollar_defined = True
        return geo

    def _http_defaults(self, level: Level) -> None:
        compare_send_timeout(level, self.ledger)
        for key, field_name in _HTTP_DEFAULT_TIMEOUTS:
            value = duration_of(level.value(key)[0])
            if value is not None:
                setattr(self.cfg.defaults.timeouts, field_name, value)

    def _upstream(self, stmt: Stmt, context: str, reader: UpstreamReader, mode: str | None) -> None:
        if stmt.block is None or len(stmt.args) != 1:
            self.ledger.invalid(stmt, "upstream takes a name and a block")
            return
        name = self.names.explicit(context, stmt.args[0])
        if name != stmt.args[0] and name != renamed_from(stmt.args[0], stmt.comments):
            why = "http and stream share one IR namespace" if NAME.match(stmt.args[0]) else "IR names are plainer"
            self.ledger.lossy(stmt, f"upstream {stmt.args[0]} is named {name} in the IR ({why})", severity="info")
        body = list(expand_includes(stmt.block, self.ledger, UPSTREAM_HANDLED))
        self.upstreams.append(reader.read(stmt, name, body, mode))

    def _access_log(self, stmt: Stmt) -> None:
        """http-level access_log to stdout/stderr/syslog → a global log target; to a file (which
        the IR cannot express) → raw."""
        target = stmt.args[0] if stmt.args else ""
        if target == "off":
            self.ledger.converted(stmt)
            return
        log = log_of(target, stmt.span)
        if log is None:
            self._raw(stmt, "http", f"access_log to {target or '?'} (a file) is not modelled; kept as raw nginx text")
            return
        self.cfg.logs.append(log)
        self._http_logs.append((log.target, log.address, log.facility, log.level))
        self.cfg.defaults.log = True
        extra = [a for a in stmt.args[1:] if a != "combined"]
        if extra:
            self.ledger.lossy(stmt, f"access_log {' '.join(extra)} (format, buffering) is not imported; "
                              "the IR logs in its writer's default format", severity="info")
        else:
            self.ledger.converted(stmt)

    # -- stream ------------------------------------------------------------------------------
    def _stream(self, block: list[Stmt]) -> None:
        level = Level(None, "stream")
        self.stream_levels.append(level)
        items = list(expand_includes(block, self.ledger, STREAM_HANDLED, self._raw_keeper("stream"),
                                     blocks=frozenset({"server", "upstream"})))
        declared = self.names.declared() | {i.args[0] for i in items if i.name == "upstream" and i.args}
        route_maps = self._stream_reader.route_maps = check_stream_route_maps(items, declared)
        duplicates = []
        log_format = next((item for item in items if item.name == "log_format"
                           and item.args == [STREAM_FORMAT_NAME, STREAM_FORMAT] and item.block is None), None)
        for item in items:
            if route_maps.explains(item):
                for stmt in item.walk():
                    self.ledger.converted(stmt)  # a checked route map: its routing is the frontend's
            elif item.name == "upstream" and item.block is not None and len(item.args) == 1:
                if not self.names.declare("stream", item.args[0], renamed_from(item.args[0], item.comments)):
                    duplicates.append(item)
            elif item.name in STREAM_SETTINGS:
                level.collect(item, self.ledger)
            elif item.name == "resolver":
                self._resolver(item, level)
        dns_choices = self._dns_choices(items, "stream", self._stream_reader.dns_choices)
        upstream_reader = UpstreamReader(self.ledger, stream=True, resolver=level.resolver_name)
        for item in items:
            if route_maps.explains(item) or self._dns_choice(item, dns_choices):
                continue
            elif item in duplicates:
                self.ledger.invalid(item, f'duplicate upstream "{item.args[0]}"')
            elif item.name == "upstream":
                self._upstream(item, "stream", upstream_reader, mode="tcp")
            elif item.name == "server" and item.block is not None:
                self.stream_servers.append(self._stream_reader.read_server(item, level))
            elif item is log_format:
                self.ledger.converted(item)
            elif (log_format is not None and item.name == "access_log" and len(item.args) == 2
                  and item.args[1] == STREAM_FORMAT_NAME and self._stream_log(item)):
                pass
            elif item.name not in STREAM_SETTINGS and item.name != "resolver":
                self._raw(item, "stream")

    # -- DNS upstreams (provenance_dns) ------------------------------------------------------
    def _dns_choices(self, items: list[Stmt], context: str, targets: dict[str, ir.Upstream]) -> dict[int, DnsChoice]:
        """The writer's checked split_clients of one http or stream block, each upstream known
        to ``targets`` by what a proxy_pass to it says. Called after the block's upstream
        blocks are declared: theirs are nginx's names, a DNS choice takes what is left."""
        choices = check_dns_choices(items, context)
        for choice in choices.values():
            choice.upstream.name = self.names.reserve(choice.upstream.name)
            targets[choice.target] = choice.upstream
        return choices

    def _dns_choice(self, item: Stmt, choices: dict[int, DnsChoice]) -> bool:
        """A checked split_clients is the upstream it was written from; False for anything else."""
        choice = choices.get(id(item))
        if choice is None:
            return False
        for stmt in item.walk():
            self.ledger.converted(stmt)
        self.upstreams.append(choice.upstream)
        return True

    def _stream_log(self, stmt: Stmt) -> bool:
        """A stream ``access_log`` in the writer's format: a log target of the config (the
        same target as an http access_log is the same one)."""
        log = log_of(stmt.args[0], stmt.span)
        if log is None:
            return False
        said = (log.target, log.address, log.facility, log.level)
        if said in self._http_logs:
            self._http_logs.remove(said)  # http {} has it: one log target, written in both
        else:
            self.cfg.logs.append(log)
        self.cfg.defaults.log = True
        self.ledger.converted(stmt)
        return True

    # -- resolvers ---------------------------------------------------------------------------
    def _resolver(self, stmt: Stmt, level: Level) -> None:
        """One IR resolver per distinct ``resolver`` directive (and name the writer gave it in a
        ``# proxyc: resolver`` comment); the level remembers its name."""
        addresses = [a for a in stmt.args if "=" not in a]
        options = [a for a in stmt.args if "=" in a]
        said = resolver_said(stmt.comments)
        key = (tuple(addresses), tuple(options), said.name if said is not None else None)
        if key not in self._resolvers:
            resolver = self._new_resolver(stmt, addresses, options, said)
            if resolver is None:
                return
            self._resolvers[key] = (resolver, stmt, level)
            self.cfg.resolvers.append(resolver)
        level.resolver_name = self._resolvers[key][0].name
        self.ledger.converted(stmt)

    def _new_resolver(self, stmt: Stmt, addresses: list[str], options: list[str],
                      said: ResolverSaid | None) -> ir.Resolver | None:
        ns_names = usable_names(said.nameservers if said is not None else None, len(addresses))
        nameservers = []
        for i, address in enumerate(addresses, 1):
            host, port, problem = parse_address(address)
            if problem:
                self.ledger.invalid(stmt, problem)
                return None
            name = ns_names[i - 1] if ns_names is not None else f"ns{i}"
            nameservers.append(ir.Nameserver(name=name, address=host, port=port or 53, span=stmt.span))
        if not nameservers:
            self.ledger.invalid(stmt, "resolver needs at least one address")
            return None
        taken = {r.name for r in self.cfg.resolvers}
        if said is not None and NAME.fullmatch(said.name) and said.name not in taken:
            name = said.name
        else:
            name, n = "resolver", 2
            while name in taken:
                name, n = f"resolver_{n}", n + 1
        resolver = ir.Resolver(name=name, nameservers=nameservers, span=stmt.span, comments=strip(stmt.comments),
                               retries=said.retries if said is not None and said.retries else None)
        for option in options:
            key, _, value = option.partition("=")
            if key == "valid" and parse_nginx_duration(value) is not None:
                resolver.hold_valid = parse_nginx_duration(value)
            else:
                self.ledger.lossy(stmt, f"resolver option {option} is not imported", severity="info")
        return resolver

    def _resolver_timeouts(self) -> None:
        for resolver, _, level in self._resolvers.values():
            resolver.timeout = duration_of(level.value("resolver_timeout")[0])

    # -- raw ---------------------------------------------------------------------------------
    def _raw(self, stmt: Stmt, context: str, message: str | None = "") -> None:
        """Keep a directive verbatim for nginx; ``message`` None: already reported elsewhere."""
        self.cfg.raw.append(ir.Raw(target="nginx", text=stmt.text(), context=context, span=stmt.span))
        if message is None:
            self.ledger.covered(stmt)
        else:
            self.ledger.unsupported(stmt, message or f"{stmt.name} is not modelled; kept as raw nginx text")

    def _raw_keeper(self, context: str, level: Level | None = None):
        def keep(stmt: Stmt, message: str | None) -> None:
            self._raw(stmt, context, message)
            if level is not None and stmt.is_unread_include:
                level.unread_includes.append(stmt)
        return keep

    # -- the whole config --------------------------------------------------------------------
    def _finish(self) -> None:
        self.upstreams += self.names.implicit_upstreams
        by_name = {u.name: u for u in self.upstreams}
        http = HttpFrontends(self.ledger, self.frontend_names).build(self.http_servers)
        upstream_timeouts(self.http_servers, by_name, self.ledger)
        tcp_only = bool(self.stream_servers) and not http
        defaults_level = self.stream_levels[0] if tcp_only and len(self.stream_levels) == 1 else None
        stream = self._stream_reader.frontends(self.stream_servers, by_name, defaults_level)
        self.cfg.frontends = http + stream
        self.cfg.upstreams = self.upstreams
        self._resolver_timeouts()
        if tcp_only:
            self._all_tcp(defaults_level)

    def _all_tcp(self, stream_level: Level | None) -> None:
        """Only stream servers: tcp is the defaults' mode rather than every section's, and the
        stream block's timeouts are the defaults' (as http's are in an http config)."""
        self.cfg.defaults.mode = "tcp"
        for node in [*self.cfg.frontends, *self.cfg.upstreams]:
            # Read from stream {}: tcp, now the defaults'; from http {}: http, now its own.
            node.mode = None if node.mode == "tcp" else "http"
        if stream_level is None:
            return
        timeouts = self.cfg.defaults.timeouts
        timeouts.connect = duration_of(stream_level.value("proxy_connect_timeout")[0])
        timeouts.client = timeouts.server = duration_of(stream_level.value("proxy_timeout")[0])


def _fragment_kind(stmts: list[Stmt]) -> str:
    """"main" for an nginx.conf; "http" for a conf.d file of server/upstream blocks; "server"
    for a snippet meant to be included in a server block (locations or bare directives)."""
    top = list(_through_includes(stmts))
    if any(s.name in _MAIN_ONLY for s in top):
        return "main"
    if any(s.name in _HTTP_BLOCKS and s.block is not None for s in top):
        return "http"
    return "server"


def _is_dollar_geo(stmt: Stmt) -> bool:
    body = stmt.block or []
    return (stmt.name == "geo" and stmt.args == ["$" + DOLLAR_VAR] and len(body) == 1
            and body[0].name == "default" and body[0].args == ["$"])


def _everything_in(stmts: list[Stmt]):
    """Every statement in these, their blocks and the files they include."""
    for stmt in stmts:
        for inner in stmt.walk():
            yield inner
            if inner.included:
                yield from _everything_in(inner.included)


def _through_includes(stmts: list[Stmt]):
    """Top-level statements, with those of included files in place of the includes."""
    for stmt in stmts:
        yield stmt
        if stmt.name == "include" and stmt.included:
            yield from _through_includes(stmt.included)


def _implicit_server(stmts: list[Stmt], display: str | None) -> Stmt:
    """A server block around a snippet; it is not a statement of the file, so not counted."""
    source = {"directive": "server", "line": stmts[0].line, "args": [], "block": [s.source for s in stmts]}
    return Stmt(name="server", args=[], file=display, line=stmts[0].line, block=stmts, source=source)
