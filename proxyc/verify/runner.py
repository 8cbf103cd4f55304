"""``proxyc verify``: run the compiled config on the real nginx / HAProxy and compare every
answer with the route simulator's prediction.

For one target: make a scratch copy of the IR whose listeners bind free ports on 127.0.0.1 and
whose servers are stub backends on loopback (each answers with its own identity), write it
with the target's writer, start the real proxy, send the generated request set
(``requests.py``), compare each answer with ``routing.route``, then run the balancing checks
(``balance.py``). Every process and stub is stopped on the way out, also on errors and Ctrl-C:
the stubs and the proxy are context managers on one ExitStack.

Traffic only ever goes to 127.0.0.0/8: the original server addresses are never contacted.
"""
from __future__ import annotations

import functools
import http.client
import re
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .. import ir
from ..routing import (
    Decision,
    Request,
    RoutingError,
    describe_action,
    describe_rule,
    route,
)
from .balance import run_balance_checks
from .loopback import listens_to_loopback, servers_to_loopback
from .report import Mismatch, TargetReport, VerifyReport
from .requests import DEFAULT_SOURCE, Probe, frontend_mode, request_set
from .stubs import StubBackends, free_port

TARGETS = ("nginx", "haproxy")
REQUEST_TIMEOUT = 5.0
# Health checks in the scratch copy run this often, so that a stopped server leaves rotation
# (and a backup takes over) within a second; the configured timing itself is not verified.
SCRATCH_CHECK_INTERVAL_MS = 100
SCRATCH_CHECK_TIMEOUT_MS = 5000
# Per target: requests and balancing checks stop being started after this (each check is
# itself bounded), so a run ends well within 30 s.
RUN_BUDGET_SECONDS = 20.0

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    pass


# ====================================================================== answers


@dataclass(frozen=True)
class Answer:
    """What came back: the stub that answered, or a status (and Location, body) from the proxy."""

    stub: str | None = None  # the stub's identity
    status: int | None = None
    location: str | None = None
    body: bytes = b""
    error: str | None = None  # no HTTP answer at all (refused, reset, timeout)


@dataclass(frozen=True)
class Expectation:
    """What the route simulator says a request gets."""

    stubs: frozenset[str] | None  # identities that may answer; None: the proxy answers itself
    status: int | None = None
    location: str | None = None
    body: bytes | None = None  # compared for ``return`` only

    def accepts(self, answer: Answer) -> bool:
        if self.stubs is not None:
            return answer.stub in self.stubs
        if answer.stub is not None or answer.status != self.status:
            return False
        if self.location is not None and answer.location != self.location:
            return False
        return self.body is None or answer.body == self.body


# ====================================================================== the live setup


class LiveProxy:
    """Stubs plus the real proxy for one target, and the means to talk to them.

    Stub identities are short generated names (``u0s1``): config names may hold any character
    and the identity travels in a response header."""

    def __init__(self, cfg: ir.Config, target: str, stubs: StubBackends, ports: dict[tuple[str, int], int],
                 identities: dict[tuple[str, str], str], lossy_spans: set[tuple]):
        self.cfg, self.target, self.stubs = cfg, target, stubs
        self.ports = ports
        self.identities = identities
        self.names = {ident: f"{up}/{srv}" for (up, srv), ident in identities.items()}
        self.lossy_spans = lossy_spans
        self.deadline = time.monotonic() + RUN_BUDGET_SECONDS

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    # -------------------------------------------------------------- talking

    def send(self, probe: Probe) -> Answer:
        port = self.ports[(probe.frontend, probe.port)]
        try:
            if probe.tcp:
                return _tcp_exchange(port, probe)
            return _http_exchange(port, probe)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # ssl.SSLError is an OSError
            # Refused, reset, timed out or garbled: that is the answer this request got.
            return Answer(error=f"{type(exc).__name__}: {exc}")

    def predict(self, probe: Probe) -> Decision:
        request = Request(method=probe.method, url=probe.path, headers=dict([("Host", probe.host), *probe.headers]),
                          src=probe.source, port=probe.port, tls=probe.tls)
        return route(self.cfg, request, frontend=probe.frontend, target=self.target)

    # -------------------------------------------------------------- stubs

    def identity(self, upstream: str, server: str) -> str:
        return self.identities[(upstream, server)]

    def describe(self, answer: Answer, expected: Expectation | None = None) -> str:
        if answer.error is not None:
            return f"no answer ({answer.error})"
        if answer.stub is not None:
            return f"server {self.names.get(answer.stub, answer.stub)}"
        text = f"status {answer.status}"
        if answer.location is not None:
            text += f", Location {answer.location}"
        if expected is not None and expected.body is not None:
            text += f", body {answer.body[:200]!r}"
        return text

    def is_lossy(self, node: ir.Node | None) -> bool:
        """Did the writer report that it could not express this node (a P-code at its span)?"""
        return node is not None and node.span is not None and _span_key(node.span) in self.lossy_spans

    # -------------------------------------------------------------- expectations

    def expectation(self, decision: Decision) -> Expectation:
        if decision.upstream is not None and decision.servers:
            allowed = frozenset(self.identity(decision.upstream.name, s.name) for s in decision.servers)
            return Expectation(stubs=allowed)
        body = None
        action = decision.action
        if action is not None and getattr(action, "type", None) == "return" and action.body:
            body = action.body.encode()  # no body: each server sends its own error page
        return Expectation(stubs=None, status=decision.status, location=decision.location, body=body)

    def describe_expectation(self, expected: Expectation) -> str:
        if expected.stubs is not None:
            names = sorted(self.names[i] for i in expected.stubs)
            return "server " + " or ".join(names)
        if expected.status is None:
            return "the connection closed without an answer"
        text = f"status {expected.status}"
        if expected.location is not None:
            text += f", Location {expected.location}"
        if expected.body is not None:
            text += f", body {expected.body!r}"
        return text


def _span_key(span) -> tuple:
    return (span.file, span.line, span.col)


def _http_exchange(port: int, probe: Probe) -> Answer:
    from .procs import http_get

    source = probe.source if probe.source != DEFAULT_SOURCE else None
    if probe.tls:
        status, headers, body = _https_get(port, probe, source)
    else:
        status, headers, body = http_get(port, probe.path, host_header=probe.host, method=probe.method,
                                         headers=dict(probe.headers), source_ip=source, timeout=REQUEST_TIMEOUT)
    stub = headers.get("x-stub") if status == 200 else None
    return Answer(stub=stub, status=status, location=headers.get("location"), body=body)


@functools.lru_cache(maxsize=1)
def _client_tls_context() -> ssl.SSLContext:
    """One context per process: building one loads the system CA store (~0.1 s), which
    verification-off requests never use."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _https_get(port: int, probe: Probe, source: str | None) -> tuple[int, dict[str, str], bytes]:
    """``http_get`` over TLS: the scratch certificate is self-signed, so verification is off;
    the connection still only goes to 127.0.0.1."""
    context = _client_tls_context()
    lines = [f"{probe.method} {probe.path} HTTP/1.1", f"Host: {probe.host}", "Connection: close",
             *(f"{k}: {v}" for k, v in probe.headers)]
    raw = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT,
                                   source_address=(source, 0) if source else None)
    with context.wrap_socket(raw, server_hostname="localhost") as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = http.client.HTTPResponse(sock, method=probe.method)
        response.begin()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, body


def _tcp_exchange(port: int, probe: Probe) -> Answer:
    """Connect, read what the stub behind the proxy says (its identity), until it closes."""
    source = probe.source if probe.source != DEFAULT_SOURCE else None
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT,
                                  source_address=(source, 0) if source else None) as sock:
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    identity = data.decode(errors="replace").strip()
    return Answer(stub=identity or None)


# ====================================================================== the scratch copy


def _stub_kind(cfg: ir.Config, upstream: ir.Upstream) -> str:
    """tcp or http: the upstream's own mode, else that of a frontend using it, else the default."""
    if upstream.mode:
        return upstream.mode
    for fe in cfg.frontends:
        actions = [r.action for r in fe.rules] + ([fe.default] if fe.default else [])
        if any(getattr(a, "upstream", None) == upstream.name for a in actions):
            return frontend_mode(cfg, fe)
    return cfg.defaults.mode


def start_stubs(cfg: ir.Config, stubs: StubBackends, report: TargetReport) -> tuple[dict, dict]:
    """One stub per (upstream, server). Returns (identities, ports) keyed by (upstream, server)."""
    identities: dict[tuple[str, str], str] = {}
    ports: dict[tuple[str, str], int] = {}
    for ui, up in enumerate(cfg.upstreams):
        kind = _stub_kind(cfg, up)
        for si, srv in enumerate(up.servers):
            ident = f"u{ui}s{si}"
            key = (up.name, srv.name)
            ports[key] = stubs.add_tcp(ident) if kind == "tcp" else stubs.add(ident)
            identities[key] = ident
            if srv.count:
                report.note(f"{up.name}/{srv.name}: a DNS name for up to {srv.count} servers; "
                            "verified with one stub (run-time resolution is not tested)")
        if up.resolver:
            report.note(f"{up.name}: resolver {up.resolver} is not used on loopback; DNS was not checked")
    return identities, ports


def _scratch_config(cfg: ir.Config, target: str, server_ports: dict, listen_ports: dict,
                    workdir: Path) -> ir.Config:
    scratch = listens_to_loopback(servers_to_loopback(cfg, server_ports), listen_ports)
    _drop_duplicate_listens(scratch)
    _use_test_certificates(scratch, target, workdir)
    if target == "haproxy":
        _fast_health_checks(scratch)
    return scratch


def _drop_duplicate_listens(cfg: ir.Config) -> None:
    """``listen 80`` and ``listen [::]:80`` both become 127.0.0.1:<port> on loopback; nginx
    refuses a duplicate listen, and one of them is enough to reach the frontend."""
    for fe in cfg.frontends:
        seen: set[int] = set()
        kept = []
        for lst in fe.listens:
            if lst.port not in seen:
                seen.add(lst.port)
                kept.append(lst)
        fe.listens = kept


def _use_test_certificates(cfg: ir.Config, target: str, workdir: Path) -> None:
    """Point every TLS listener at a generated self-signed certificate in the scratch dir
    (nginx: certificate and key files; HAProxy: one PEM holding both)."""
    from ..checkers import make_test_certificate

    if not any(lst.tls for fe in cfg.frontends for lst in fe.listens):
        return
    crt, key, pem = make_test_certificate(workdir / "certs", "site")
    for fe in cfg.frontends:
        for lst in fe.listens:
            if lst.tls is None:
                continue
            if target == "haproxy":
                lst.tls.cert, lst.tls.key = str(pem), None
            else:
                lst.tls.cert, lst.tls.key = str(crt), str(key)


def _fast_health_checks(cfg: ir.Config) -> None:
    for up in cfg.upstreams:
        if not any(s.check for s in up.servers):
            continue
        health = up.health.model_copy() if up.health else ir.HealthCheck()
        health.interval, health.rise, health.fall = SCRATCH_CHECK_INTERVAL_MS, 1, 1
        # A check answered slowly by a held stub (least-connections test) must not fail.
        health.timeout = max(health.timeout or 0, SCRATCH_CHECK_TIMEOUT_MS)
        up.health = health


_WORKER_PROCESSES = re.compile(r"^(\s*)worker_processes\s+[^;]*;", re.MULTILINE)


def single_worker(nginx_text: str) -> str:
    """nginx with one worker: each worker keeps its own round-robin position, so only one gives
    exact counts."""
    from ..checkers import nginx_statements

    main = [w for parents, w, _ in nginx_statements(nginx_text) if not parents]
    if not any(w[0] == "worker_processes" for w in main):
        return "worker_processes 1;\n" + nginx_text
    return _WORKER_PROCESSES.sub(r"\1worker_processes 1;", nginx_text, count=1)


# ====================================================================== one target


def verify_target(cfg: ir.Config, target: str, progress: Progress = _silent) -> TargetReport:
    from ..api import write

    report = TargetReport(target)
    started = time.monotonic()
    try:
        _, original_diags = write(cfg, target)
        lossy = {(d.file, d.line, d.col) for d in original_diags if d.code.startswith("P")}
        for d in original_diags:
            if d.code.startswith("P"):
                report.note(f"{target} writer: {d.location}: {d.severity}[{d.code}]: {d.message}")
        with ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"proxyc-verify-{target}-")))
            stubs = stack.enter_context(StubBackends())
            identities, server_ports = start_stubs(cfg, stubs, report)
            listen_ports = {(fe.name, lst.port): free_port() for fe in cfg.frontends for lst in fe.listens}
            scratch = _scratch_config(cfg, target, server_ports, listen_ports, workdir)
            text, diags = write(scratch, target)
            # P-codes are divergences the writer declared (listed as notes above); the live run
            # still proves everything else. Any other error means there is no usable output.
            errors = [d for d in diags if d.severity == "error" and not d.code.startswith("P")]
            if errors:
                report.error = "the writer reported errors:\n" + "\n".join(str(d) for d in errors)
                return report
            progress(f"{target}: {len(identities)} stub backends, starting {target} on "
                     f"{len(set(listen_ports.values()))} loopback port(s)")
            stack.enter_context(_start_proxy(target, text, workdir, sorted(set(listen_ports.values()))))
            live = LiveProxy(cfg, target, stubs, listen_ports, identities, lossy)
            _check_routing(live, report, progress)
            progress(f"{target}: balancing checks")
            report.checks += run_balance_checks(live, _probes_by_upstream(live, cfg), report.note)
    except RoutingError as exc:
        report.error = f"the route simulator cannot evaluate this config: {exc}"
    except _ProxyFailed as exc:
        report.error = str(exc)
    finally:
        report.seconds = time.monotonic() - started
    progress(f"{target}: {'ok' if report.ok else 'FAILED'} in {report.seconds:.1f} s")
    return report


class _ProxyFailed(RuntimeError):
    pass


def _start_proxy(target: str, text: str, workdir: Path, ports: list[int]) -> _Started:
    from .procs import run_haproxy, run_nginx

    if target == "nginx":
        return _Started(run_nginx, single_worker(text), workdir, ports)
    return _Started(run_haproxy, text, workdir, ports)


class _Started:
    """Start the proxy on entry; a start failure becomes a report error, not a traceback."""

    def __init__(self, run, text: str, workdir: Path, ports: list[int]):
        self.run, self.text, self.workdir, self.ports = run, text, workdir, ports
        self.proxy = None

    def __enter__(self):
        from .procs import ProxyStartError

        try:
            self.proxy = self.run(self.text, self.workdir, self.ports).__enter__()
        except (ProxyStartError, ValueError) as exc:  # ValueError: the loopback guard refused it
            raise _ProxyFailed(f"the proxy did not start:\n{exc}") from None
        return self.proxy

    def __exit__(self, *exc) -> None:
        if self.proxy is not None:
            self.proxy.stop()


def _check_routing(live: LiveProxy, report: TargetReport, progress: Progress) -> None:
    requests = request_set(live.cfg)
    for note in requests.notes:
        report.note(note)
    progress(f"{live.target}: sending {len(requests.probes)} requests")
    for index, probe in enumerate(requests.probes):
        if live.out_of_time():
            report.note(f"time budget of {RUN_BUDGET_SECONDS:g} s reached: "
                        f"{len(requests.probes) - index} requests not sent")
            break
        decision = live.predict(probe)
        expected = live.expectation(decision)
        answer = live.send(probe)
        report.requests += 1
        if expected.accepts(answer):
            report.matched += 1
            continue
        report.mismatches.append(Mismatch(
            request=probe.describe(), expected=live.describe_expectation(expected), got=live.describe(answer, expected),
            rule=_deciding_rule(decision), where=str(decision.span) if decision.span else "<unknown>"))
    progress(f"{live.target}: {report.matched}/{report.requests} requests as predicted")


def _deciding_rule(decision: Decision) -> str:
    if decision.kind == "rule":
        return f"rule {decision.rule_index + 1} ({describe_rule(decision.rule)})"
    if decision.kind == "default":
        return f"the default ({describe_action(decision.action)})"
    return {"no_route": "no rule and no default", "stats": "the stats page",
            "invalid": "request validation"}.get(decision.kind, decision.kind)


def _probes_by_upstream(live: LiveProxy, cfg: ir.Config) -> dict[str, Probe]:
    """For each upstream some frontend routes to: the first generated request that reaches it."""
    found: dict[str, Probe] = {}
    for probe in request_set(cfg).probes:
        decision = live.predict(probe)
        if decision.upstream is not None and decision.servers and decision.upstream.name not in found:
            found[decision.upstream.name] = probe
    return {up.name: found[up.name] for up in cfg.upstreams if up.name in found}


# ====================================================================== the public API


def verify_config(cfg: ir.Config, target: str = "both", *, file: str = "<config>",
                  progress: Progress = _silent) -> VerifyReport:
    """Verify ``cfg`` on nginx, HAProxy or both. Raises ``BinaryMissing`` when a server is not
    installed; everything else that goes wrong is in the report."""
    report = VerifyReport(file)
    for name in TARGETS if target == "both" else (target,):
        if name not in TARGETS:
            raise ValueError(f"unknown target {name!r}; expected nginx, haproxy or both")
        report.targets.append(verify_target(cfg, name, progress))
    return report
