"""The backend side of a ``backend`` or ``listen`` section → ``ir.Upstream``.

Health checks are per server in HAProxy and per upstream in the IR: the timing of the checked
servers must agree (it does in what proxyc writes, through one ``default-server`` line).
A backend with no servers whose only work is one unconditional ``http-request
return|redirect|deny`` (what proxyc's writer generates for a rule that answers by itself) is a
*fixed action*: the config reader folds it back into the rules that use it.
"""
from __future__ import annotations

from ... import ir
from .lexer import Line, Word
from .reader_actions import Cursor, literal_log_format, read_terminal
from .reader_base import Malformed, ReadContext, Unconvertible
from .reader_proxy import ProxyPart, arg
from .reader_servers import (
    ServerOptions,
    build_server,
    dropped_text,
    read_balance,
    read_options,
    template_count,
    timing_of,
)

# The init-addr the writer gives servers resolved at run time.
from .writer_backends import RESOLVED_INIT_ADDR

BACKEND_TIMEOUTS = {"connect": "connect", "server": "server", "queue": "queue", "tunnel": "tunnel"}
FRONTEND_ONLY_TIMEOUTS = ("client", "http-request")
DEFAULT_CHECK_METHOD = "OPTIONS"  # what "option httpchk" sends without arguments
COOKIE_MEANING = ("insert", "indirect", "nocache")  # what the IR's sticky cookie is written as
PASSIVE_ERRORS = ("layer4", "layer7")
DEFAULT_ERROR_LIMIT = 10  # HAProxy's error-limit when observe is on


class BackendReader(ProxyPart):
    kind = "backend"

    def __init__(self, ctx: ReadContext, name_word: Word, defaults: ir.Defaults, comments: list[str]):
        super().__init__(ctx, name_word.text)
        self.name_word = name_word
        self.up = ir.Upstream(name=name_word.text, span=ctx.span(name_word), comments=comments)
        self.ir_defaults = defaults
        self.explicit_mode = False
        self.default_server = ServerOptions()
        self.server_options: list[tuple[ir.Server, ServerOptions, Line]] = []
        self.http_check: ir.HttpCheck | None = None
        self.check_lines: list[Line] = []  # http-check lines, valid only with option httpchk
        self.check_timeout: int | None = None
        self.allbackups = False
        self.fixed: tuple[ir.Return | ir.Redirect | ir.Deny, Line] | None = None
        self.other_lines = 0  # lines that make this more than a fixed-action backend
        self.folded = False  # its fixed action replaced every use: no upstream
        self.handlers = {
            "mode": self._mode, "balance": self._balance, "hash-type": self._hash_type, "server": self._server,
            "default-server": self._default_server, "server-template": self._server_template,
            "option": self._option, "http-check": self._http_check, "cookie": self._cookie,
            "timeout": self._timeout, "http-request": self._http_request, "tcp-request": self._tcp_request,
            "log": self._log,
        }

    def feed(self, line: Line) -> None:
        if line.words[0].text not in ("mode", "http-request", "tcp-request"):
            self.other_lines += 1
        super().feed(line)

    # ------------------------------------------------------------------ simple settings
    def _mode(self, line: Line) -> None:
        word = arg(line, 1)
        if word is None or word.text not in ("http", "tcp") or len(line.words) > 2:
            raise Unconvertible("only 'mode http' and 'mode tcp' are modelled", word or line.words[0])
        self.up.mode = word.text
        self.explicit_mode = True

    def _balance(self, line: Line) -> None:
        consistent = self.up.balance.consistent
        self.up.balance = read_balance(self.ctx, line, self.note)
        self.up.balance.consistent = consistent

    def _hash_type(self, line: Line) -> None:
        kind = arg(line, 1)
        if kind is None or kind.text not in ("map-based", "consistent"):
            raise Malformed("E209", "hash-type needs map-based or consistent", kind or line.words[0])
        self.up.balance.consistent = kind.text == "consistent"
        if len(line.words) > 2:
            self.note(line.words[2], "hash function not imported: " + " ".join(w.text for w in line.words[2:]))

    def _cookie(self, line: Line) -> None:
        name = arg(line, 1)
        if name is None:
            raise Malformed("E206", "cookie needs a name", line.words[0])
        options = [w.text for w in line.words[2:]]
        if "insert" not in options:
            raise Unconvertible("only an inserted cookie ('cookie NAME insert') is modelled", line.words[0])
        if options != list(COOKIE_MEANING):
            self.note(name, f"imported as 'cookie {name.text} {' '.join(COOKIE_MEANING)}' (the IR's sticky cookie), "
                            f"not '{' '.join(options)}'")
        self.up.sticky_cookie = name.text

    def _timeout(self, line: Line) -> None:
        which = arg(line, 1)
        if which is None or len(line.words) != 3:
            self.unmodelled(line)
        if which.text in BACKEND_TIMEOUTS:
            setattr(self.up.timeouts, BACKEND_TIMEOUTS[which.text], self.duration(line.words[2], "timeout"))
        elif which.text == "check":
            self.check_timeout = self.duration(line.words[2], "timeout")
        elif which.text in FRONTEND_ONLY_TIMEOUTS:
            self.ctx.report(line, f"timeout {which.text} has no effect on a backend; not imported",
                            severity="info", word=which)
        else:
            self.unmodelled(line)

    def _log(self, line: Line) -> None:
        if [w.text for w in line.words] == ["log", "global"] and self.ir_defaults.log:
            return
        self.unmodelled(line)

    def _option(self, line: Line) -> None:
        name = arg(line, 1)
        if name is not None and name.text == "allbackups" and len(line.words) == 2:
            self.allbackups = True
        elif name is not None and name.text == "httpchk":
            self._httpchk(line)
        else:
            self.unmodelled(line)

    # ------------------------------------------------------------------ health checks
    def _httpchk(self, line: Line) -> None:
        """``option httpchk [[METHOD] URI [VERSION]]``."""
        args = [w.text for w in line.words[2:]]
        if len(args) > 3 or (len(args) == 3 and ("\r" in args[2] or "\n" in args[2])):
            raise Unconvertible("a check request with extra header lines in the version has no IR "
                                "equivalent; use http-check send", line.words[1])
        if len(args) == 0:
            method, path = DEFAULT_CHECK_METHOD, "/"
        elif len(args) == 1:
            method, path = DEFAULT_CHECK_METHOD, args[0]
        else:
            method, path = args[0], args[1]
        if len(args) == 3:
            self.note(line.words[4], f"the check's HTTP version {args[2]} is not imported")
        self.http_check = ir.HttpCheck(method=method, path=path, span=self.ctx.span(line))

    def _http_check(self, line: Line) -> None:
        verb = arg(line, 1)
        if verb is not None and verb.text == "send":
            self.check_lines.append(line)
        elif verb is not None and verb.text == "expect" and [w.text for w in line.words[2:3]] == ["status"]:
            if len(line.words) != 4 or not line.words[3].text.isdigit():
                raise Unconvertible("only 'http-check expect status N' is modelled", line.words[2])
            self.check_lines.append(line)
        else:
            raise Unconvertible(f"'http-check {verb.text if verb else ''}' is not modelled", verb or line.words[0],
                                "warning")

    def _apply_check_lines(self) -> None:
        """``http-check send/expect`` refine ``option httpchk``, wherever they are written."""
        for line in self.check_lines:
            if self.http_check is None:
                self.raw.add(self.ctx, line)
                self.ctx.report(line, "http-check without 'option httpchk' has no effect; kept as raw HAProxy text")
                continue
            try:
                if line.words[1].text == "send":
                    self._check_send(line)
                else:
                    self.http_check.expect_status = self.integer(line.words[3], "expected status", 100, 599)
            except Unconvertible as exc:
                self.keep_raw(line, exc)

    def _check_send(self, line: Line) -> None:
        words = line.words[2:]
        i = 0
        while i < len(words):
            key, value = words[i], words[i + 1] if i + 1 < len(words) else None
            if value is None:
                raise Malformed("E206", f"http-check send {key.text} needs a value", key)
            if key.text == "meth":
                self.http_check.method = value.text
            elif key.text == "uri":
                self.http_check.path = value.text
            elif key.text == "ver":
                self.ctx.report(line, f"the check's HTTP version {value.text} is not imported", severity="info",
                                word=key)
            elif key.text == "hdr" and value.text.lower() == "host" and i + 2 < len(words):
                self.http_check.host = literal_log_format(words[i + 2])
                i += 1
            else:
                raise Unconvertible(f"http-check send {key.text} {value.text} is not modelled", key)
            i += 2

    # ------------------------------------------------------------------ servers
    def _default_server(self, line: Line) -> None:
        options = read_options(line.words[1:])
        if options.dropped:
            self.ctx.report(line, "default-server options not imported: " + dropped_text(options, line.words),
                            word=options.dropped[0])
        self.default_server = options.over(self.default_server)

    def _server(self, line: Line) -> None:
        if len(line.words) < 3:
            raise Malformed("E208", "server needs a name and an address", line.words[0])
        self._add_server(line, line.words[1], line.words[2], line.words[3:], None)

    def _server_template(self, line: Line) -> None:
        if len(line.words) < 4:
            raise Malformed("E208", "server-template needs a prefix, a number and an address", line.words[0])
        count = template_count(line.words[2])
        self._add_server(line, line.words[1], line.words[3], line.words[4:], count)

    def _add_server(self, line: Line, name: Word, address: Word, option_words: list[Word],
                    count: int | None) -> None:
        own = read_options(option_words)
        options = own.over(self.default_server)
        server = build_server(self.ctx, name, address, options, count)
        if own.dropped:
            self.ctx.report(line, "server options not imported: " + dropped_text(own, line.words), word=own.dropped[0])
        self.up.servers.append(server)
        self.server_options.append((server, options, line))

    # ------------------------------------------------------------------ fixed actions
    def _http_request(self, line: Line) -> None:
        verb = arg(line, 1)
        if verb is None:
            raise Malformed("E206", "http-request needs an action", line.words[0])
        cursor = Cursor(verb, line.words[2:])
        action = read_terminal(self.ctx, verb, cursor)
        keyword, _ = cursor.condition() if action is not None else (None, [])
        self._candidate(line, action if keyword is None else None, f"http-request {verb.text}")

    def _tcp_request(self, line: Line) -> None:
        texts = [w.text for w in line.words]
        action = ir.Deny(span=self.ctx.span(line.words[2])) if texts == ["tcp-request", "content", "reject"] else None
        self._candidate(line, action, " ".join(texts[:3]))

    def _candidate(self, line: Line, action, what: str) -> None:
        if action is None or self.fixed is not None:
            raise Unconvertible(f"{what!r} in a backend is not modelled (the IR's rules belong to frontends)",
                                line.words[1] if len(line.words) > 1 else line.words[0], "warning")
        self.fixed = (action, line)

    @property
    def fixed_action(self) -> ir.Return | ir.Redirect | ir.Deny | None:
        """The action of a fixed-action backend (no servers, nothing but mode and the action)."""
        if self.fixed is None or self.up.servers or self.other_lines or self.raw:
            return None
        return self.fixed[0]

    def keep_fixed_action_raw(self) -> None:
        """The action stays a line of this backend (it is not folded into any rule)."""
        if self.fixed is None:
            return
        _, line = self.fixed
        self.raw.add(self.ctx, line)
        self.ctx.report(line, f"{line.words[0].text} {line.words[1].text} in a backend is not modelled (the IR's "
                              "rules belong to frontends); kept as raw HAProxy text")
        self.fixed = None

    # ------------------------------------------------------------------ the result
    def finish(self) -> ir.Upstream:
        up = self.up
        if self.fixed is not None and self.fixed_action is None:
            self.keep_fixed_action_raw()
        self._apply_check_lines()
        self._gather_server_settings()
        self._canonical_cookies()
        backups = sum(1 for s in up.servers if s.backup)
        if backups > 1 and not self.allbackups:
            self.ctx.note(self.name_word, f"backend {up.name} uses only its first backup server (no "
                                          "'option allbackups'); the IR uses every backup")
        up.raw = self.raw.to_ir(up.span)
        return up

    def _canonical_cookies(self) -> None:
        """With a sticky cookie, a server's cookie value defaults to its name (as the writer
        writes it): the IR leaves that value unset. Without one, HAProxy ignores the values."""
        for server, options, line in self.server_options:
            if self.up.sticky_cookie is None and server.cookie is not None:
                self.ctx.report(line, f"server cookie {server.cookie!r} has no effect without a 'cookie' line in "
                                      "the backend; not imported", severity="info", word=options.values["cookie"].word)
                server.cookie = None
            elif server.cookie == server.name:
                server.cookie = None

    def _gather_server_settings(self) -> None:
        """The upstream-wide settings HAProxy spreads over servers: check timing, passive
        failure detection, resolvers."""
        timings, error_limits, resolvers = [], [], []
        for server, options, line in self.server_options:
            if server.check:
                try:
                    timings.append((timing_of(options), line))
                except Unconvertible as exc:  # e.g. "inter 1000x": HAProxy refuses it too
                    self.ctx.report_unconvertible(line, exc)
            max_fails = self._passive_of(options, line)
            if max_fails is not None:
                error_limits.append((max_fails, line))
            resolver = options.get("resolvers")
            if resolver is not None:
                resolvers.append((resolver, line))
            self._init_addr(options, line)
        self._set_health(timings)
        if error_limits:
            self.up.passive = ir.Passive(max_fails=self._agreed(error_limits, "error-limit"), span=self.up.span)
            self.ctx.note(self.name_word, "'observe ... on-error mark-down' is imported as passive failure "
                                          "detection (nginx's max_fails), an approximation")
        self.up.resolver = self._agreed(resolvers, "resolvers")

    def _passive_of(self, options: ServerOptions, line: Line) -> int | None:
        """``observe layerN error-limit N on-error mark-down`` → N, the IR's max_fails."""
        observe = options.get("observe")
        if observe is None:
            return None
        if observe not in PASSIVE_ERRORS or options.get("on-error") != "mark-down":
            self.ctx.report(line, "only 'observe ... on-error mark-down' is modelled (as passive failure "
                                  "detection); the server's observe settings are not imported",
                            word=options.values["observe"].word)
            return None
        limit = options.values.get("error-limit")
        return int(limit.value) if limit and (limit.value or "").isdigit() else DEFAULT_ERROR_LIMIT

    def _set_health(self, timings) -> None:
        """The timing every checked server uses; with no checked server, the default-server's."""
        timing = self._agreed(timings, "health-check timing") if timings else timing_of(self.default_server)
        interval, rise, fall = timing if timing else (None, None, None)
        if self.http_check is None and interval is None and rise is None and fall is None:
            if self.check_timeout is not None:
                self.up.timeouts.check = self.check_timeout
            return
        self.up.health = ir.HealthCheck(interval=interval, rise=rise, fall=fall, http=self.http_check,
                                        timeout=self.check_timeout, span=self.up.span)

    def _agreed(self, values: list[tuple[object, Line]], what: str):
        """The value every server agrees on; on disagreement the first, reported."""
        if not values:
            return None
        first = values[0][0]
        for value, line in values[1:]:
            if value != first:
                self.ctx.report(line, f"servers of backend {self.up.name} differ in {what}; the IR has one per "
                                      "upstream, so the first server's is imported", severity="warning")
                break
        return first

    def _init_addr(self, options: ServerOptions, line: Line) -> None:
        init_addr = options.values.get("init-addr")
        if init_addr is None or (init_addr.value == RESOLVED_INIT_ADDR and options.get("resolvers")):
            return
        self.ctx.report(line, f"init-addr {init_addr.value} is not imported (proxyc writes init-addr "
                              f"{RESOLVED_INIT_ADDR} for servers resolved at run time)", severity="info",
                        word=init_addr.word)
